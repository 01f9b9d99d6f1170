"""The rank-1 subproblem of the paper, eq. (1):

    minimise  f(a, b) = 1/2 ||Y - b a^T X||_F^2   over a in R^d, b in R^m,

with Y (m x n) and X (d x n). :func:`exact` solves it in closed form (the paper's
Lemma 1, stated there for noiseless Y = W* X, extended here to Y with rows outside
the row space of X); :func:`gd` runs the paper's example subroutine, gradient
descent, eq. (5). Numbering follows arXiv v1.
"""

from __future__ import annotations

import numpy as np

from . import _validate
from .rowspace import RowSpace


# --------------------------------------------------------------------------- exact
def exact(Y, X) -> tuple[np.ndarray, np.ndarray]:
    """Exact minimiser of 1/2 ||Y - b a^T X||_F^2 over rank-1 ``b a^T``.

    The fitted matrix ``b a^T X`` can only have rows in the row space of X, so
    the minimiser is the top singular pair of the *projection* ``Y P`` of Y on
    that row space (Eckart-Young applied to ``Y P``), not of Y itself; the two
    coincide when the rows of Y already lie there (e.g. noiseless Y = W* X).

    Parameters
    ----------
    Y : (m, n) array
    X : (d, n) array, of any rank (full row rank or not).

    Returns
    -------
    a : (d,) array, the minimum-norm choice (a lies in the column space of X).
    b : (m,) array.
        Scaled so that ``b a^T X = sigma_1 u_1 v_1^T`` with
        ``||b|| = ||a^T X|| = sqrt(sigma_1)``, where (sigma_1, u_1, v_1) is the
        top singular triplet of ``Y P``. The product ``b a^T`` is unique when the
        top singular value of ``Y P`` is simple; signs and the split of scale
        between a and b are conventions. If ``Y P = 0`` both are zero.
    """
    Y, X = _validate.regression_pair(Y, X)
    rs = RowSpace(X)
    Z, _ = rs.coordinates(Y)
    return _exact_reduced(Z, rs)


def _exact_reduced(Z: np.ndarray, rs: RowSpace) -> tuple[np.ndarray, np.ndarray]:
    """Exact rank-1 minimiser from row-space coordinates Z (m x s)."""
    m, d = Z.shape[0], rs.U.shape[0]
    if rs.rank == 0 or not np.any(Z):
        return np.zeros(d), np.zeros(m)
    u, sig, wt = np.linalg.svd(Z, full_matrices=False)
    root = np.sqrt(sig[0])
    b = root * u[:, 0]
    # a^T X = root * v^T with v = Vt^T w  <=>  a^T B = root * w^T  <=>  a = U diag(1/s) w * root
    a = rs.U @ (wt[0] / rs.s) * root
    return a, b


# --------------------------------------------------------------------------- gradient descent
def gd(
    Y,
    X,
    steps: int,
    *,
    eta=0.003,
    init: tuple | None = None,
    seed=None,
    tol: float | None = 1e-10,
    trace: bool = False,
):
    """Gradient descent on the rank-1 subproblem, eq. (5) of the paper.

    With ``R = Y - b a^T X`` the two gradients are
    ``grad_a = -X R^T b`` and ``grad_b = -R X^T a``. Both are evaluated at the
    current (a, b) before either is updated (a simultaneous step):

        a <- a - eta_a * grad_a,    b <- b - eta_b * grad_b.

    The iteration runs in the exact row-space coordinates of X (see
    :mod:`onerank.rowspace`), which gives the same iterates at a cost per step
    of O((m + d) s) instead of O((m + d) n).

    Parameters
    ----------
    Y : (m, n) array
    X : (d, n) array
    steps : int >= 0, the budget t: at most this many updates.
    eta : float > 0 or pair (eta_a, eta_b). Default 0.003 for both (the authors' code).
    init : pair (a0 (d,), b0 (m,)), optional. Default: a0 = 0 and
        b0 ~ N(0, I/m) drawn from ``seed`` (the authors' code).
    seed : int, numpy Generator or None, used only when ``init`` is None.
    tol : float >= 0 or None. Stop early once an update changes the training
        error ||Y - b a^T X||_F (not squared, as the authors' code) by less than
        ``tol``. None or 0: run all ``steps``.
    trace : bool. Also return the objective f = 1/2 ||Y - b a^T X||_F^2 after
        0, 1, ..., t updates.

    Returns
    -------
    a : (d,) array, b : (m,) array
    objectives : (t + 1,) array, only if ``trace`` is True; ``t <= steps`` is
        the number of updates actually made.

    Raises
    ------
    FloatingPointError if the iterates overflow (step size too large).
    """
    Y, X = _validate.regression_pair(Y, X)
    m, d = Y.shape[0], X.shape[0]
    steps = _validate.integer(steps, "steps", minimum=0)
    rs = RowSpace(X)
    Z, outside_sq = rs.coordinates(Y)
    a0, b0 = _initial_point(init, seed, d, m)
    eta_a, eta_b = _step_sizes(eta)
    tol = 0.0 if tol is None else _validate.real(tol, "tol", nonnegative=True)
    a, b, objectives = _gd_reduced(Z, outside_sq, rs.B, steps, a0, b0, eta_a, eta_b, tol)
    if trace:
        return a, b, objectives
    return a, b


def _initial_point(init, seed, d: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    if init is not None:
        try:
            a0, b0 = init
        except (TypeError, ValueError):
            raise ValueError("init must be a pair (a0, b0) with a0 of shape (d,) and b0 of shape (m,)") from None
        return (_validate.vector(a0, "init[0] (a0)", size=d).copy(),
                _validate.vector(b0, "init[1] (b0)", size=m).copy())
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return np.zeros(d), rng.standard_normal(m) / np.sqrt(m)


def _step_sizes(eta) -> tuple[float, float]:
    if np.ndim(eta) == 0:
        e = _validate.real(eta, "eta", positive=True)
        return e, e
    if len(eta) != 2:
        raise ValueError(f"eta must be a positive float or a pair (eta_a, eta_b), got {eta!r}")
    return (_validate.real(eta[0], "eta[0] (eta_a)", positive=True),
            _validate.real(eta[1], "eta[1] (eta_b)", positive=True))


def _gd_reduced(Z, outside_sq, B, steps, a, b, eta_a, eta_b, tol):
    """Gradient descent in row-space coordinates.

    Z (m x s), B (d x s). With c = B^T a the reduced residual is Rt = Z - b c^T and

        grad_a = -B Rt^T b,     grad_b = -Rt c,     ||Y - b a^T X||_F^2 = ||Rt||_F^2 + outside_sq.

    Rt is formed explicitly each step (rather than expanding ||Rt||^2 through
    inner products) so that the training error, which the early stop compares
    to ``tol``, is accurate to float64 rounding even when it is small.
    Returns (a, b, objectives) with objectives[t] = 1/2 ||Y - b_t a_t^T X||_F^2.
    """
    objectives = np.empty(steps + 1)
    c = B.T @ a
    Rt = Z - np.outer(b, c)
    err_prev = np.sqrt(np.sum(Rt * Rt) + outside_sq)
    objectives[0] = 0.5 * err_prev**2
    t = 0
    with np.errstate(over="raise", invalid="raise"):
        try:
            while t < steps:
                grad_a = -(B @ (Rt.T @ b))
                grad_b = -(Rt @ c)
                a = a - eta_a * grad_a
                b = b - eta_b * grad_b
                c = B.T @ a
                Rt = Z - np.outer(b, c)
                err = np.sqrt(np.sum(Rt * Rt) + outside_sq)
                t += 1
                objectives[t] = 0.5 * err**2
                if abs(err_prev - err) < tol:
                    break
                err_prev = err
        except FloatingPointError:
            raise FloatingPointError(
                f"gradient descent diverged at step {t + 1} (eta_a={eta_a}, eta_b={eta_b}); "
                "use a smaller eta"
            ) from None
    return a, b, objectives[: t + 1]
