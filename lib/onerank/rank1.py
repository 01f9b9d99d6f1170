"""The rank-1 subproblem of the paper, eq. (1):

    minimise  f(a, b) = 1/2 ||Y - b a^T X||_F^2   over a in R^d, b in R^m,

with Y (m x n) and X (d x n). :func:`exact` solves it in closed form (the paper's
Lemma 1, stated there for noiseless Y = W* X, extended here to Y with rows outside
the row space of X); :func:`gd` runs the paper's example subroutine, gradient
descent, eq. (5). Numbering follows arXiv v1.

Both are written once, in the row-space coordinates of :mod:`onerank.rowspace`:
:func:`exact_reduced` and :func:`gd_reduced` are the kernels that Algorithms 1 and 2
(:mod:`onerank.deflation`) and the book's variants (:mod:`onerank.variants`) call on
each residual; :func:`initial_point` is the authors' starting point.
"""

from __future__ import annotations

import numpy as np

from . import _validate
from .rowspace import RowSpace, _train_error


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
    return exact_reduced(Z, rs)


def exact_reduced(Z: np.ndarray, rs: RowSpace) -> tuple[np.ndarray, np.ndarray]:
    """:func:`exact` from the row-space coordinates of Y.

    Parameters
    ----------
    Z : (m, s) array, ``rs.coordinates(Y)[0]``.
    rs : RowSpace of X (d x n).

    Returns
    -------
    a : (d,) array, b : (m,) array, as :func:`exact` returns them.
    """
    if not isinstance(rs, RowSpace):
        raise TypeError(f"rs must be a RowSpace of X, got {type(rs).__name__}")
    Z = _validate.matrix(Z, "Z", shape=(None, rs.rank))
    m, d = Z.shape[0], rs.U.shape[0]
    if rs.rank == 0 or not np.any(Z):
        return np.zeros(d), np.zeros(m)
    u, sig, wt = np.linalg.svd(Z, full_matrices=False)
    root = np.sqrt(sig[0])
    b = root * u[:, 0]
    # a^T X = root * v^T with v = Vt^T w  <=>  a^T US = root * w^T  <=>  a = U diag(1/s) w * root
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
    _validate.flag(trace, "trace")
    Y, X = _validate.regression_pair(Y, X)
    m, d = Y.shape[0], X.shape[0]
    steps = _validate.integer(steps, "steps", minimum=0)
    rs = RowSpace(X)
    Z, outside_sq = rs.coordinates(Y)
    a0, b0 = initial_point(init, seed, d, m)
    eta_a, eta_b = _validate.step_sizes(eta)
    tol = 0.0 if tol is None else _validate.real(tol, "tol", nonnegative=True)
    a, b, objectives = gd_reduced(Z, outside_sq, rs.US, steps, a0, b0, eta_a, eta_b, tol)
    if trace:
        return a, b, objectives
    return a, b


def initial_point(init, seed, d: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The starting pair of eq. (5): ``init`` checked and copied, or the authors' choice.

    Parameters
    ----------
    init : pair (a0 (d,), b0 (m,)) or None.
    seed : int, numpy Generator or None. With ``init`` None, b0 ~ N(0, I/m) is drawn
        from it (a Generator's draws continue) and a0 = 0.
    d, m : int, the sizes of a and b.

    Returns
    -------
    a0 : (d,) array, b0 : (m,) array.
    """
    d = _validate.integer(d, "d", minimum=0)          # 0: only b is drawn (a = 0 needs no draw)
    m = _validate.integer(m, "m", minimum=1)
    if init is not None:
        try:
            a0, b0 = init
        except (TypeError, ValueError):
            raise ValueError("init must be a pair (a0, b0) with a0 of shape (d,) and b0 of shape (m,)") from None
        return (_validate.vector(a0, "init[0] (a0)", size=d).copy(),
                _validate.vector(b0, "init[1] (b0)", size=m).copy())
    rng = _validate.generator(seed)
    return np.zeros(d), rng.standard_normal(m) / np.sqrt(m)


def gd_reduced(Z, outside_sq, US, steps: int, a, b, eta_a: float, eta_b: float, tol: float = 0.0,
               project=None):
    """Eq. (5) in row-space coordinates: the kernel of :func:`gd` and of every solver.

    With c = US^T a the reduced residual is Rt = Z - b c^T and

        grad_a = -US Rt^T b,     grad_b = -Rt c,     ||Y - b a^T X||_F^2 = ||Rt||_F^2 + outside_sq.

    Rt is formed explicitly each step (rather than expanding ||Rt||^2 through
    inner products) so that the training error, which the early stop compares
    to ``tol``, is accurate to float64 rounding even when it is small. The inputs are
    those :func:`gd` has checked; this function does not check them again.

    Parameters
    ----------
    Z : (m, s) array, the coordinates of the residual the pair is fitted to.
    outside_sq : float, its squared part outside the row space of X.
    US : (d, s) array, :attr:`RowSpace.US` of X.
    steps : int >= 0, the budget. a : (d,) array, b : (m,) array, the starting pair.
    eta_a, eta_b : float > 0, the step sizes.
    tol : float >= 0. Stop once an update changes ||Y - b a^T X||_F by less; 0 runs
        every step.
    project : callable ``(a, b) -> (a, b)``, optional, applied after every update
        (projected gradient descent, as in :func:`onerank.variants.orthogonal`).

    Returns
    -------
    a : (d,) array, b : (m,) array
    objectives : (t + 1,) array, ``1/2 ||Y - b a^T X||_F^2`` after 0, 1, ..., t updates,
        t <= steps the number made.

    Raises
    ------
    FloatingPointError if the iterates overflow.
    """
    steps = _validate.integer(steps, "steps", minimum=0)
    eta_a = _validate.real(eta_a, "eta_a", positive=True)
    eta_b = _validate.real(eta_b, "eta_b", positive=True)
    tol = _validate.real(tol, "tol", nonnegative=True)
    outside_sq = _validate.real(outside_sq, "outside_sq", nonnegative=True)
    a = _validate.vector(a, "a", size=US.shape[0])
    b = _validate.vector(b, "b", size=Z.shape[0])
    if project is not None and not callable(project):
        raise TypeError(f"project must be a function or None, got {type(project).__name__}")
    _validate.fits(steps + 1, f"{steps} gradient steps (their objectives)")
    objectives = np.empty(steps + 1)
    c = US.T @ a
    Rt = Z - np.outer(b, c)
    err_prev = _train_error(Rt, outside_sq)
    objectives[0] = 0.5 * err_prev**2
    t = 0
    with np.errstate(over="raise", invalid="raise"):
        try:
            while t < steps:
                grad_a = -(US @ (Rt.T @ b))
                grad_b = -(Rt @ c)
                a = a - eta_a * grad_a
                b = b - eta_b * grad_b
                if project is not None:
                    a, b = project(a, b)
                c = US.T @ a
                Rt = Z - np.outer(b, c)
                err = _train_error(Rt, outside_sq)
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
