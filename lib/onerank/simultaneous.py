"""The simultaneous baseline: factorised gradient descent on eq. (4) of the paper.

The paper (arXiv v1; "P-L" numbers are lines of ``paper-arxiv-v1.txt``) writes the
rank-r problem (3) in factorised form, eq. (4) (P-L91),

    minimise  f(A, B) = 1/2 ||Y - B A X||_F^2   over A in R^{r x d}, B in R^{m x r},

with Y (m x n) and X (d x n), and names the solver it sets against its own sequential
one (P-L93-95): factorised gradient descent, "a low-rank solver that *updates all r
rank-1 components simultaneously*",

    A_{t+1} = A_t - eta_A grad_A f(A_t, B_t),     B_{t+1} = B_t - eta_B grad_B f(A_t, B_t).

P-L97 grants that solving (3)-(4) this way when r is known "is more efficient and could be
preferable in terms of accuracy"; the paper itself gives no initial point, step size or
cost count for it. :func:`factorised_gd` is that solver, set up so that it can be compared
fairly with Algorithm 2 (:mod:`onerank.deflation`):

* *The same start.* A(0) = 0 and column k of B(0) is b_k(0), drawn exactly as the
  sequential run draws it: ``rng = numpy.random.default_rng(seed)`` then
  ``rank1.initial_point(None, rng, 0, m)[1]`` for k = 0, ..., r-1 in turn (as
  ``batched._draws`` and ``deflation.deflate`` do). So both start from the same b's, and
  for r = 1 the run *is* :func:`onerank.rank1.gd` (a test checks it).
* *The same step.* With R = Y - B A X the gradients are grad_A = -B^T R X^T and
  grad_B = -R X^T A^T, both taken at the current (A, B):

      A <- A + eta_A B^T R X^T,     B <- B + eta_B R X^T A^T.

* *The same coordinates.* As in :mod:`onerank.batched` (its module docstring, point 1)
  and :mod:`onerank.rowspace`, the iteration runs in exact reduced coordinates. With the
  thin SVD X = U diag(s) V^T (q = rank X, = min(d, n) for X of full rank), put
  Z = Y V (m x q) and At = A U diag(s) (r x q). Since A(0) = 0 and every update of A is a
  multiple of X^T on the right, the rows of A stay in the column space of U, so
  A = At diag(1/s) U^T, B A X = B At V^T and R X^T = (Z - B At) diag(s) U^T. The step becomes

      At <- At + eta_A (B^T Z - (B^T B) At) diag(s^2),
      B  <- B  + eta_B (Z At^T - B (At At^T)),

  and ||Y - B A X||_F^2 = ||Z - B At||_F^2 + ||Y (I - V V^T)||_F^2. These are the same
  iterates as the direct formula in exact arithmetic (a test checks agreement to 1e-9);
  the m x n residual is never formed, and no m x q one either except when an error is
  recorded.

The cost of a step is counted by :func:`simultaneous_step_flops` and that of one rank-1
step of Algorithm 2, in the same coordinates, by :func:`sequential_step_flops`;
:func:`equal_compute_steps` converts a sequential budget T into the number of
simultaneous steps of the same cost.

Examples
--------
>>> import numpy as np
>>> from onerank import problems, simultaneous
>>> p = problems.make_problem(6, 8, 30, 2, seed=0)
>>> res = simultaneous.factorised_gd(p.Y, p.X, 2, 4000, W_star=p.W_star, record_every=2000)
>>> res.iterations.tolist()
[0, 2000, 4000]
>>> bool(res.recovery_error[-1] < 1e-4 * np.linalg.norm(p.W_star))
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate
from .rank1 import initial_point
from .rowspace import RowSpace, _train_error


@dataclass
class SimultaneousResult:
    """What a run of :func:`factorised_gd` produced (Y is m x n, X is d x n, rank r).

    Attributes
    ----------
    A : (r, d) array, the fitted left factor (its rows in the column space of X).
    B : (m, r) array, the fitted right factor. The estimate is W_hat = B A (m x d).
    steps : int, the number of simultaneous gradient steps made.
    iterations : (L,) int array, the iterations at which errors were recorded:
        0, record_every, 2 record_every, ..., and always the last one, ``steps``.
    train_error : (L,) array, ||Y - B A X||_F at those iterations (not squared).
    recovery_error : (L,) array or None, ||B A - W*||_F at those iterations; None
        without ``W_star``.
    flops : int, floating-point operations of one step,
        ``simultaneous_step_flops(m, q, r)`` with q = rank X (recording errors is extra).
    """

    A: np.ndarray
    B: np.ndarray
    steps: int
    iterations: np.ndarray
    train_error: np.ndarray
    recovery_error: np.ndarray | None
    flops: int

    @property
    def r(self) -> int:
        """Number of components."""
        return self.A.shape[0]

    @property
    def W_hat(self) -> np.ndarray:
        """(m, d) array, the estimate B A."""
        return self.B @ self.A


def factorised_gd(Y, X, r: int, steps: int, *, eta=0.003, seed=0, W_star=None,
                  record_every: int = 1) -> SimultaneousResult:
    """Factorised gradient descent on eq. (4): all r components updated at once.

    Each step takes both gradients of f(A, B) = 1/2 ||Y - B A X||_F^2 at the current
    (A, B) and then updates both factors (P-L95):

        A <- A + eta_A B^T R X^T,     B <- B + eta_B R X^T A^T,     R = Y - B A X,

    computed in the reduced coordinates of the module docstring (the same iterates in
    exact arithmetic). There is no early stop: exactly ``steps`` updates are made.

    Parameters
    ----------
    Y : (m, n) array, the labels.
    X : (d, n) array, the inputs (any rank; q = rank X below).
    r : int, the rank of the factorisation, 1 <= r <= min(m, d).
    steps : int >= 0, the number of simultaneous updates.
    eta : float > 0 or pair (eta_A, eta_B). Default 0.003 for both (as ``rank1.gd``).
    seed : int, numpy Generator or None. A(0) = 0 (r, d); column k of B(0) (m, r) is
        b_k(0) ~ N(0, I/m), drawn for k = 0, ..., r-1 in turn from
        ``numpy.random.default_rng(seed)`` (a Generator's draws continue) exactly as
        Algorithm 2 draws its b_k(0) (``rank1.initial_point``).
    W_star : (m, d) array, optional; gives the recovery errors ||B A - W*||_F.
    record_every : int >= 1, record the errors every this many iterations (and at the
        last one). Each record costs about 2 m q r + 3 m q extra flops.

    Returns
    -------
    SimultaneousResult

    Raises
    ------
    ValueError if an argument has the wrong shape, type or range (the message names it).
    FloatingPointError if the iterates become non-finite (the step size is too large).
    """
    Y, X = _validate.regression_pair(Y, X)
    m, d = Y.shape[0], X.shape[0]
    r = _validate.integer(r, "r (the rank)", minimum=1, maximum=min(m, d))
    steps = _validate.integer(steps, "steps", minimum=0)
    record_every = _validate.integer(record_every, "record_every", minimum=1)
    eta_a, eta_b = _validate.step_sizes(eta)
    if W_star is not None:
        W_star = _validate.matrix(W_star, "W_star (m x d)", shape=(m, d))
    rng = _validate.generator(seed)

    rs = RowSpace(X)
    q = rs.rank
    Z, outside_sq = rs.coordinates(Y)
    s2 = eta_a * rs.s**2                      # eta_A s^2, once: the column scaling of the A step
    B = np.stack([initial_point(None, rng, 0, m)[1] for _ in range(r)], axis=1)   # (m, r)
    At = np.zeros((r, q))
    if W_star is not None:
        WU = W_star @ rs.U                                      # (m, q)
        w_out = float(np.sum((W_star - WU @ rs.U.T) ** 2))     # ||W* (I - U U^T)||_F^2

    iterations = np.unique(np.r_[np.arange(0, steps + 1, record_every), steps])
    train = np.empty(iterations.size)
    recovery = None if W_star is None else np.empty(iterations.size)

    def record(i):
        # B A X = (B At) V^T and B A = (B At) diag(1/s) U^T: one m x q product serves both
        BAt = B @ At
        train[i] = _train_error(Z - BAt, outside_sq)
        if recovery is not None:
            # rows of B A lie in span U: ||B A - W*||^2 = ||B At/s - W* U||^2 + ||W*(I - UU^T)||^2
            recovery[i] = np.sqrt(np.sum((BAt / rs.s - WU) ** 2) + w_out)

    t = 0
    nxt = 0
    with np.errstate(over="raise", invalid="raise"):
        try:
            while True:
                if t == iterations[nxt]:
                    record(nxt)
                    nxt += 1
                if t == steps:
                    break
                GB = B.T @ B                                    # (r, r)
                GA = At @ At.T                                  # (r, r)
                if not (np.all(np.isfinite(GB)) and np.all(np.isfinite(GA))):
                    raise FloatingPointError
                step_a = (B.T @ Z - GB @ At) * s2               # (r, q)
                step_b = eta_b * (Z @ At.T - B @ GA)            # (m, r)
                At = At + step_a
                B = B + step_b
                t += 1
            if not (np.all(np.isfinite(At)) and np.all(np.isfinite(B))):
                raise FloatingPointError
        except FloatingPointError:
            raise FloatingPointError(
                "factorised gradient descent diverged: the iterates overflowed to inf/NaN "
                f"within the first {min(t + 1, steps)} of {steps} steps "
                f"(eta_A={eta_a}, eta_B={eta_b}); use a smaller eta"
            ) from None

    A = (At / rs.s) @ rs.U.T                                    # (r, d)
    return SimultaneousResult(
        A=A, B=B, steps=steps, iterations=iterations.astype(np.int64), train_error=train,
        recovery_error=recovery, flops=simultaneous_step_flops(m, q, r),
    )


# --------------------------------------------------------------------------- cost counts
def sequential_step_flops(m: int, q: int) -> int:
    """Floating-point operations of one rank-1 gradient step of Algorithm 2 (eq. (5)).

    Counted in the reduced coordinates of :mod:`onerank.batched` (Z is m x q, a~ = diag(s)
    U^T a has q entries, b has m), the same coordinates as
    :func:`simultaneous_step_flops`, so the ratio of the two is fair. One multiply-add is
    two flops, so a product of a p x k by a k x l matrix costs 2 p k l. The step

        a~ <- a~ + (eta_a s^2) * (Z^T b - ||b||^2 a~),     b <- b + eta_b (Z a~ - ||a~||^2 b)

    costs

    * Z^T b and Z a~, two matrix-vector products with an m x q matrix: 2 m q each;
    * ||b||^2 and ||a~||^2: 2 m + 2 q;
    * the a~ update, with eta_a s^2 formed once per run: scale a~ by ||b||^2 and
      subtract (2 q), multiply by eta_a s^2 (q), add (q): 4 q;
    * the b update: scale and subtract (2 m), multiply by eta_b (m), add (m): 4 m.

    Total ``4 m q + 6 m + 6 q``. Left out, as shared by or negligible in both methods:
    the one-off SVD of X and forming Z = Y V, the training-error records, and the r
    deflations Z_{k+1} = Z_k - b_k a~_k^T (2 m q each, once per component, not per step).

    Parameters
    ----------
    m : int >= 1, the number of outputs (rows of Y).
    q : int >= 1, rank X (= min(d, n) for X of full rank).

    Returns
    -------
    int
    """
    m = _validate.integer(m, "m", minimum=1)
    q = _validate.integer(q, "q", minimum=1)
    return 4 * m * q + 6 * m + 6 * q


def simultaneous_step_flops(m: int, q: int, r: int) -> int:
    """Floating-point operations of one step of :func:`factorised_gd` (rank r).

    Counted in the same reduced coordinates, and with the same convention (a p x k times
    k x l product costs 2 p k l), as :func:`sequential_step_flops`, so their ratio is fair.
    The step

        At <- At + (B^T Z - (B^T B) At) * (eta_A s^2),    B <- B + eta_B (Z At^T - B (At At^T))

    with Z (m x q), At (r x q), B (m x r) costs

    * B^T Z (r x q) and Z At^T (m x r): 2 m q r each, 4 m q r;
    * the Gram matrices B^T B and At At^T (r x r): 2 m r^2 + 2 q r^2;
    * the two small products (B^T B) At (r x q) and B (At At^T) (m x r): 2 q r^2 + 2 m r^2;
    * the lower-order terms: the two subtractions (q r + m r), the column scaling by
      eta_A s^2 (formed once per run; q r) and by eta_B (m r), the two additions
      (q r + m r): 3 (m + q) r.

    Total ``4 m q r + 4 (m + q) r^2 + 3 (m + q) r``. Symmetry of the Gram matrices (which
    would halve their cost) is not used, as the code does not use it. Left out, as for the
    sequential count: the one-off SVD of X and forming Z, shared by both methods, and the
    error records. For r = 1 this is ``4 m q + 7 (m + q)``, the sequential count up to
    lower-order terms; for r << min(m, q) it grows linearly in r, 4 m q per component.

    Parameters
    ----------
    m : int >= 1, the number of outputs. q : int >= 1, rank X. r : int >= 1, the rank.

    Returns
    -------
    int
    """
    m = _validate.integer(m, "m", minimum=1)
    q = _validate.integer(q, "q", minimum=1)
    r = _validate.integer(r, "r", minimum=1)
    return 4 * m * q * r + 4 * (m + q) * r * r + 3 * (m + q) * r


def equal_compute_steps(T: int, r: int, m: int, d: int, n: int) -> int:
    """Simultaneous steps that cost no more than T sequential rank-1 steps.

    With q = min(d, n) (X of full rank), the number is

        floor(T * sequential_step_flops(m, q) / simultaneous_step_flops(m, q, r)),

    computed in integers (exact). T is the total budget of Algorithm 2, the sum
    t_1 + ... + t_r over its r components; the r deflations and the one-off SVD of X are
    left out of both sides (see :func:`sequential_step_flops`). For r << min(m, q) the
    ratio of the two counts is about r, so the answer is about T / r: the simultaneous
    run gets as many steps as one component of an even schedule.

    Parameters
    ----------
    T : int >= 0, the sequential budget (total gradient steps over all components).
    r : int, the rank of the simultaneous run, 1 <= r <= min(m, d).
    m, d, n : int >= 1, the sizes: Y is m x n, X is d x n.

    Returns
    -------
    int >= 0, non-decreasing in T.
    """
    T = _validate.integer(T, "T", minimum=0)
    m = _validate.integer(m, "m", minimum=1)
    d = _validate.integer(d, "d", minimum=1)
    n = _validate.integer(n, "n", minimum=1)
    r = _validate.integer(r, "r (the rank)", minimum=1, maximum=min(m, d))
    q = min(d, n)
    return (T * sequential_step_flops(m, q)) // simultaneous_step_flops(m, q, r)
