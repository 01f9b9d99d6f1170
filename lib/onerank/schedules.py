"""Budgets of gradient steps per component: the alpha family of schedules.

The family comes from the authors' notes and code (MahiAV/ORAT), not from the
paper: arXiv v1 names three schedules only (equal, more first, less first;
Section 5.1 and Appendix E) and prints no formula for them. The book encodes
those three as alpha = 0, +1 and -1 of this family.

With x_k = 1 - 2(k-1)/(r-1) running from +1 (first component) to -1 (last),
component k receives a share of the budget proportional to

    w_k(alpha) = max(1 + alpha * x_k, 1e-9).

alpha > 0 front-loads the compute ("more first"), alpha = 0 splits it equally,
alpha < 0 back-loads it ("less first"). :func:`allocate` follows the rule of the
authors' code: every component first gets ``floor`` steps, the remaining
``T - floor * r`` steps are split in proportion to w_k, and the fractional
parts are resolved by largest-remainder rounding so that the integers sum to T
exactly.
"""

from __future__ import annotations

import numpy as np

from . import _validate

WEIGHT_FLOOR = 1e-9

#: The paper's three named schedules (Section 5.1), as the book's values of alpha.
NAMED = {"more-first": 1.0, "equal": 0.0, "less-first": -1.0}


def positions(r: int) -> np.ndarray:
    """The positions x_k = 1 - 2(k-1)/(r-1) of the components, k = 1..r.

    They run from +1 (first component) to -1 (last); x_1 = 0 when r = 1.

    Parameters
    ----------
    r : int
        Number of components, >= 1.

    Returns
    -------
    x : (r,) ndarray
        x_1, ..., x_r.
    """
    r = _validate.integer(r, "r", minimum=1, maximum=2**20)
    if r == 1:
        return np.zeros(1)
    return 1.0 - 2.0 * np.arange(r) / (r - 1)


def weights(r: int, alpha: float) -> np.ndarray:
    """The unnormalised shares w_k = max(1 + alpha x_k, 1e-9) of the budget.

    Parameters
    ----------
    r : int
        Number of components, >= 1.
    alpha : float
        The tilt (see the module docstring).

    Returns
    -------
    w : (r,) ndarray
        w_1, ..., w_r, each >= 1e-9 (``WEIGHT_FLOOR``).
    """
    alpha = _validate.real(alpha, "alpha")
    return np.maximum(1.0 + alpha * positions(r), WEIGHT_FLOOR)


def allocate(T: int, r: int, alpha: float, floor: int = 2) -> np.ndarray:
    """Integer budgets t_1, ..., t_r of the alpha family, summing to T.

    Parameters
    ----------
    T : int
        Total number of gradient steps, T >= floor * r.
    r : int
        Number of components, >= 1.
    alpha : float
        The tilt (see the module docstring).
    floor : int, optional
        Steps every component receives before the split, >= 0 (default 2).

    Returns
    -------
    t : (r,) int64 ndarray
        Each entry >= floor, summing to T.

    Examples
    --------
    >>> allocate(500, 20, 1.0)[[0, 1, -2, -1]].tolist()
    [48, 46, 4, 2]
    """
    # the split is computed in float64: beyond 2**52 steps its shares would lose whole steps
    T = _validate.integer(T, "T", minimum=0, maximum=2**52)
    r = _validate.integer(r, "r", minimum=1, maximum=2**20)
    floor = _validate.integer(floor, "floor", minimum=0)
    if T < floor * r:
        raise ValueError(f"T must be >= floor * r = {floor} * {r} = {floor * r}, got T={T}")
    w = weights(r, alpha)
    extra = T - floor * r
    shares = extra * w / w.sum()
    base = np.floor(shares).astype(np.int64)
    left = extra - int(base.sum())
    # largest remainders first; ties go to the earlier component (stable sort)
    order = np.argsort(-(shares - base), kind="stable")
    base[order[:left]] += 1
    return base + floor


def equal(T: int, r: int, floor: int = 2) -> np.ndarray:
    """The equal schedule, alpha = 0: the budget split evenly (up to rounding).

    Parameters
    ----------
    T : int
        Total number of gradient steps, T >= floor * r.
    r : int
        Number of components, >= 1.
    floor : int, optional
        Steps every component receives before the split (default 2).

    Returns
    -------
    t : (r,) int64 ndarray
        The budgets, summing to T (:func:`allocate`).
    """
    return allocate(T, r, NAMED["equal"], floor)


def more_first(T: int, r: int, floor: int = 2) -> np.ndarray:
    """The more-first schedule, alpha = +1: decreasing budgets, the first component gets the most.

    Parameters
    ----------
    T : int
        Total number of gradient steps, T >= floor * r.
    r : int
        Number of components, >= 1.
    floor : int, optional
        Steps every component receives before the split (default 2).

    Returns
    -------
    t : (r,) int64 ndarray
        The budgets, summing to T (:func:`allocate`).
    """
    return allocate(T, r, NAMED["more-first"], floor)


def less_first(T: int, r: int, floor: int = 2) -> np.ndarray:
    """The less-first schedule, alpha = -1: increasing budgets, the last component gets the most.

    Parameters
    ----------
    T : int
        Total number of gradient steps, T >= floor * r.
    r : int
        Number of components, >= 1.
    floor : int, optional
        Steps every component receives before the split (default 2).

    Returns
    -------
    t : (r,) int64 ndarray
        The budgets, summing to T (:func:`allocate`).
    """
    return allocate(T, r, NAMED["less-first"], floor)
