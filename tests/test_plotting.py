"""Figures at the page's width: onerank.plotting.panels and the sizes the book draws at."""
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from onerank import plotting  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("n, ncols, shape", [(1, None, (1, 1)), (2, None, (1, 2)), (3, None, (1, 3)),
                                             (4, None, (2, 3)), (4, 2, (2, 2)), (5, 2, (3, 2))])
def test_panels_lays_out_rows_at_the_page_width(n, ncols, shape):
    fig, axes = plotting.panels(n, ncols=ncols)
    try:
        assert axes.shape == (n,)
        assert len(fig.axes) == n                        # unused places of the last row removed
        width, height = fig.get_size_inches()
        assert width == (6.4 if shape[1] == 1 else plotting.PAGE_WIDTH)
        assert height == pytest.approx(plotting.ROW_HEIGHT[shape[1]] * shape[0])
        rows = {ax.get_subplotspec().rowspan.start for ax in axes}
        assert len(rows) == shape[0]
    finally:
        plt.close(fig)


def test_panels_passes_subplot_options_and_height():
    fig, axes = plotting.panels(3, sharey=True, height=2.0)
    try:
        assert fig.get_size_inches()[1] == 2.0
        axes[0].set_ylim(0, 7)
        assert axes[2].get_ylim() == (0, 7)
    finally:
        plt.close(fig)


@pytest.mark.parametrize("kw, word", [({"n": 0}, "n must"), ({"n": 2.0}, "n must"), ({"n": True}, "n must"),
                                      ({"n": 2, "ncols": 4}, "ncols must"),
                                      ({"n": 2, "height": -1.0}, "height must")])
def test_panels_rejects_bad_arguments(kw, word):
    with pytest.raises(ValueError, match=word):
        plotting.panels(**kw)


FIGSIZE = re.compile(r"figsize=\(\s*([0-9.]+)")


def test_no_figure_is_drawn_wider_than_the_page():
    """A literal figsize wider than the page column is shrunk in the page, lettering and all."""
    files = sorted((ROOT / "book").glob("*.md")) + sorted((ROOT / "lib" / "onerank").glob("*.py"))
    wide = [(f.name, w) for f in files for w in FIGSIZE.findall(f.read_text())
            if float(w) > plotting.PAGE_WIDTH]
    assert not wide, f"figures wider than {plotting.PAGE_WIDTH} in: {wide}"
