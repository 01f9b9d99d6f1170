"""Choosing the number of components online, from the noise scale.

With Gaussian label noise E (i.i.d. N(0, kappa^2) entries) and X of full row
rank d < n, the exact rank-1 steps fit the singular triplets of Y P (P the
projector on the row space of X). The noise part E P has the singular values of
an m x d Gaussian matrix, and the standard tail bound for Gaussian matrices
(Vershynin 2012, Corollary 5.35; the form of the paper's Lemma 6 used here)

    P( sigma_max(G) >= sqrt(m) + sqrt(d) + t ) <= exp(-t^2 / 2),   G m x d, N(0, 1)

says that no component made of noise alone has a singular value above
tau = kappa (sqrt(m) + sqrt(d) + sqrt(2 log(1 / gamma))), except with probability
gamma. :func:`select_rank` adds components while the top singular value of the
projected residual exceeds tau; kappa, if unknown, is estimated from the part of
Y outside the row space of X, which is pure noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate
from .rowspace import RowSpace


def noise_level(Y, X) -> float:
    """Estimate the noise scale kappa from ||Y (I - P)||_F^2 / (m (n - rank X)).

    Y (I - P) = E (I - P) whatever W* is, and ||E (I - P)||_F^2 / kappa^2 is chi-squared with
    m (n - rank X) degrees of freedom, so the estimate has relative standard deviation about
    1 / sqrt(2 m (n - rank X)).

    Parameters
    ----------
    Y : (m, n) array_like
        The labels.
    X : (d, n) array_like
        The inputs, one sample per column.

    Returns
    -------
    kappa : float
        The estimate, sqrt(||Y (I - P)||_F^2 / (m (n - rank X))).

    Raises
    ------
    ValueError
        When X has no room outside its row space (rank X = n).
    """
    Y, X = _validate.regression_pair(Y, X)
    rs = RowSpace(X)
    dof = Y.shape[0] * (X.shape[1] - rs.rank)
    if dof == 0:
        raise ValueError("noise_level needs n > rank(X): Y has no part outside the row space of X")
    _, outside_sq = rs.coordinates(Y)
    return float(np.sqrt(outside_sq / dof))


def noise_threshold(m: int, d: int, kappa: float, confidence: float = 0.95) -> float:
    """The noise threshold tau = kappa (sqrt(m) + sqrt(d) + sqrt(2 log(1 / (1 - confidence)))).

    No component made of noise alone has a singular value above tau, except with
    probability 1 - confidence (module docstring).

    Parameters
    ----------
    m : int
        Number of rows of the noise matrix, >= 1.
    d : int
        Its number of columns (the rank of X in :func:`select_rank`), >= 1.
    kappa : float
        The standard deviation of the noise entries, >= 0.
    confidence : float, optional
        In (0, 1) (default 0.95).

    Returns
    -------
    tau : float
        The threshold.
    """
    m = _validate.integer(m, "m", minimum=1)
    d = _validate.integer(d, "d", minimum=1)
    kappa = _validate.real(kappa, "kappa", nonnegative=True)
    confidence = _validate.real(confidence, "confidence")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return kappa * (np.sqrt(m) + np.sqrt(d) + np.sqrt(2 * np.log(1 / (1 - confidence))))


@dataclass(frozen=True)
class RankSelection:
    """rank: components kept; sigmas: top singular value of the projected residual
    before each step examined (the last one is the first at or below the threshold,
    unless max_rank stopped the search); threshold, kappa: the values used."""

    rank: int
    sigmas: np.ndarray
    threshold: float
    kappa: float


def select_rank(Y, X, *, kappa: float | None = None, confidence: float = 0.95,
                max_rank: int | None = None) -> RankSelection:
    """Add exact rank-1 components while they explain more than noise could.

    Step k looks at sigma_1 of the projected residual Y_k P (the decrease of the squared
    training error that the exact step k would bring is its square) and stops at the first k
    with sigma_1 <= tau (:func:`noise_threshold`, with kappa from :func:`noise_level` when
    not given). With probability at least ``confidence`` it never keeps a component beyond
    rank(W*) (Weyl: those singular values of Y P are at most ||E P||_2 <= tau).

    Parameters
    ----------
    Y : (m, n) array_like
        The labels.
    X : (d, n) array_like
        The inputs, one sample per column.
    kappa : float, optional
        The noise standard deviation; estimated by :func:`noise_level` when None.
    confidence : float, optional
        The confidence of the threshold, in (0, 1) (default 0.95).
    max_rank : int, optional
        The largest rank examined, 0 <= max_rank <= min(m, rank X) (default min(m, rank X)).

    Returns
    -------
    RankSelection
        The rank kept, the singular values examined, the threshold and the kappa used.
    """
    Y, X = _validate.regression_pair(Y, X)
    rs = RowSpace(X)
    m = Y.shape[0]
    limit = min(m, rs.rank) if max_rank is None else _validate.integer(max_rank, "max_rank", minimum=0,
                                                                         maximum=min(m, rs.rank))
    if kappa is None:
        kappa = noise_level(Y, X)
    tau = noise_threshold(m, rs.rank, kappa, confidence)
    Z, _ = rs.coordinates(Y)
    # exact step k removes the top triplet of the residual, so the residual before step k has
    # top singular value sigma_k(Y P): the online sequence is the singular values of Z in order
    S = np.linalg.svd(Z, compute_uv=False)
    below = np.flatnonzero(S[:limit] <= tau)
    rank = int(below[0]) if below.size else limit
    return RankSelection(rank=rank, sigmas=S[:min(rank + 1, limit)].copy(), threshold=float(tau),
                         kappa=float(kappa))
