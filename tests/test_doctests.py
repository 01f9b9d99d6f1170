"""The Examples sections of the library's docstrings run, as scipy's do."""
import doctest

import pytest

from onerank import deflation, rowspace, schedules, simultaneous, variants


@pytest.mark.parametrize("module", [deflation, rowspace, schedules, simultaneous, variants],
                         ids=lambda m: m.__name__)
def test_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0, f"{module.__name__} has no examples"
    assert result.failed == 0


def test_every_public_function_documents_its_parameters_and_returns():
    """numpydoc, as scipy.linalg: each public function of the library has Parameters (when
    it takes any) and Returns sections."""
    import ast
    from pathlib import Path

    missing = []
    for path in sorted((Path(deflation.__file__).parent).glob("*.py")):
        if path.name.startswith("_"):
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                doc = ast.get_docstring(node) or ""
                takes = node.args.args or node.args.kwonlyargs or node.args.vararg
                if (takes and "Parameters\n" not in doc) or "Returns\n" not in doc:
                    missing.append(f"{path.stem}.{node.name}")
    assert missing == [], f"{len(missing)} public functions without Parameters/Returns: {missing}"
