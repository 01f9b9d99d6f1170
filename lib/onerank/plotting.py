"""Figures sized for the book's page.

The book's page column is about 720 pixels wide in a 1280-pixel window, and matplotlib
draws at 100 dots per inch, so a figure wider than :data:`PAGE_WIDTH` inches is shrunk
to fit and its lettering with it: an 11-inch row of three panels is shown at about
0.65 of its size, its 10-point labels at about 6.5 points. :func:`panels` lays out
``n`` panels at the page's width, at most three to a row, so that every figure of the
book is shown at (nearly) its drawn size.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["PAGE_WIDTH", "ROW_HEIGHT", "panels"]

#: Width in inches of a figure of two or more panels: the page column at 100 dpi.
PAGE_WIDTH = 7.2
#: Height in inches of one row of panels, by the number of panels in the row.
ROW_HEIGHT = {1: 3.6, 2: 3.1, 3: 2.8}


def panels(n: int = 1, *, ncols: int | None = None, height: float | None = None, **subplot_kw):
    """A figure of ``n`` panels laid out in rows at the page's width.

    Parameters
    ----------
    n : int
        Number of panels, at least 1.
    ncols : int, optional
        Panels to a row, 1 to 3; ``min(n, 3)`` by default.
    height : float, optional
        Height of one row in inches; :data:`ROW_HEIGHT` of ``ncols`` by default.
    **subplot_kw
        Passed to :func:`matplotlib.pyplot.subplots` (``sharey=True``, say).
        ``constrained_layout`` is on unless given.

    Returns
    -------
    fig : matplotlib.figure.Figure
        Of width 6.4 inches for one panel, :data:`PAGE_WIDTH` otherwise.
    axes : numpy.ndarray of Axes, shape (n,)
        The panels, row by row; the unused places of the last row are removed.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer number of panels, got {n!r}")
    ncols = min(int(n), 3) if ncols is None else ncols
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or not 1 <= ncols <= 3:
        raise ValueError(f"ncols must be an integer from 1 to 3, got {ncols!r}")
    if height is not None and not (np.isfinite(height) and height > 0):
        raise ValueError(f"height must be a positive number of inches, got {height!r}")
    import matplotlib.pyplot as plt

    nrows = math.ceil(n / ncols)
    width = 6.4 if ncols == 1 else PAGE_WIDTH
    row = ROW_HEIGHT[ncols] if height is None else float(height)
    subplot_kw.setdefault("constrained_layout", True)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, row * nrows), squeeze=False,
                             **subplot_kw)
    axes = axes.ravel()
    for ax in axes[n:]:
        ax.remove()
    return fig, axes[:n]
