"""The Examples sections of the library's docstrings run, as scipy's do."""
import doctest

import pytest

from onerank import deflation, rowspace, schedules, variants


@pytest.mark.parametrize("module", [deflation, rowspace, schedules, variants], ids=lambda m: m.__name__)
def test_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0, f"{module.__name__} has no examples"
    assert result.failed == 0
