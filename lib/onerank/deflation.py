"""Sequential rank-1 deflation: Algorithms 1 and 2 of the paper.

For k = 1, ..., r fit a rank-1 pair (a_k, b_k) to the current residual Y_k,

    (a_k, b_k) ~ argmin_{a, b} 1/2 ||Y_k - b a^T X||_F^2,     Y_1 = Y,

then deflate, Y_{k+1} = Y_k - b_k a_k^T X. Algorithm 1 solves every rank-1
problem exactly (:func:`onerank.rank1.exact`); Algorithm 2 runs t_k steps of
gradient descent (:func:`onerank.rank1.gd`). The estimate is
W_hat = sum_k b_k a_k^T.

The book's own variants of Algorithm 2 (parallel, adaptive, refined and orthogonal
deflation) are in :mod:`onerank.variants`; :func:`onerank.batched.deflate_many` runs
Algorithm 2 for many problems and schedules at once.

Examples
--------
Algorithm 1 recovers a noiseless rank-2 map exactly:

>>> import numpy as np
>>> from onerank import deflation, problems
>>> p = problems.make_problem(6, 8, 30, 2, seed=0)
>>> res = deflation.deflate(p.Y, p.X, 2, solver="exact")
>>> bool(np.linalg.norm(res.W_hat - p.W_star) < 1e-10 * np.linalg.norm(p.W_star))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _validate
from .rank1 import exact_reduced, gd_reduced, initial_point
from .rowspace import RowSpace, _train_error

SOLVERS = ("gd", "exact")


@dataclass
class DeflationResult:
    """What a run of :func:`deflate` produced (r components, Y is m x n, X is d x n).

    Attributes
    ----------
    components : list of r pairs (a_k (d,), b_k (m,)), the fitted factors.
    exact_components : list of r pairs (a*_k, b*_k), the exact minimisers of
        the rank-1 problem for the same residual Y_k (``rank1.exact(Y_k, X)``).
    W_hat : (m, d) array, sum_k b_k a_k^T.
    residuals : list of r + 1 arrays (m, n): Y_1 = Y, ..., Y_{r+1}
        (empty when ``keep_residuals=False``).
    train_errors : (r,) array, ||Y - sum_{j<=k} b_j a_j^T X||_F = ||Y_{k+1}||_F.
    initial_error : float, ||Y||_F.
    delta_norms : (r,) array, ||b_k a_k^T - b*_k a*_k^T||_F, the numerical error
        of step k (Definition 1): how far the fitted rank-1 matrix is from the
        exact minimiser for the residual the step actually saw.
    budgets : (r,) int array (zeros for the exact solver).
    steps : (r,) int array, gradient steps actually run (early stopping may end
        a component before its budget; zeros for the exact solver).
    objective_traces : list of r arrays of 1/2 ||Y_k - b a^T X||_F^2 along the
        iterations of each component (only for solver="gd" with trace=True).
    solver : "gd" or "exact".
    """

    components: list
    exact_components: list
    W_hat: np.ndarray
    residuals: list
    train_errors: np.ndarray
    initial_error: float
    delta_norms: np.ndarray
    budgets: np.ndarray
    steps: np.ndarray
    solver: str
    objective_traces: list = field(default_factory=list)

    @property
    def r(self) -> int:
        """Number of components."""
        return len(self.components)

    def recovery_errors(self, W_star) -> np.ndarray:
        """||sum_{j<=k} b_j a_j^T - W*||_F for k = 0, 1, ..., r: an (r+1,) array
        whose entry 0 is ||W*||_F (no component yet) and entry k the error after k components."""
        W_star = _validate.matrix(W_star, "W_star", shape=self.W_hat.shape)
        partial = np.cumsum([np.outer(b, a) for a, b in self.components], axis=0)
        return np.concatenate([[np.linalg.norm(W_star)], np.linalg.norm(partial - W_star, axis=(1, 2))])

    def error_path(self) -> tuple[np.ndarray, np.ndarray]:
        """Training error ||Y - W X||_F along all gradient steps, components joined.

        Needs a run with ``solver="gd", trace=True``. Each component starts
        where the previous one ended (a = 0 adds nothing), so its first trace
        entry repeats the previous last one and is dropped.

        Returns
        -------
        errors : (sum(steps) + 1,) array, the error after 0, 1, ... cumulative steps.
        starts : (r,) int array, the cumulative step at which component k starts.
        """
        if len(self.objective_traces) != self.r:
            raise ValueError("error_path needs a run of deflate(..., solver='gd', trace=True)")
        parts = [self.objective_traces[0]] + [tr[1:] for tr in self.objective_traces[1:]]
        errors = np.sqrt(2.0 * np.concatenate(parts))
        starts = np.concatenate([[0], np.cumsum(self.steps)[:-1]])
        return errors, starts


def deflate(Y, X, budgets, *, solver: str = "gd", keep_residuals: bool = True,
            eta=0.003, seed=None, tol: float | None = 1e-10, trace: bool = False,
            init: list | None = None) -> DeflationResult:
    """Run sequential rank-1 deflation (Algorithm 1 or 2).

    Parameters
    ----------
    Y : (m, n) array, X : (d, n) array.
    budgets : sequence of r ints >= 0 (gradient steps per component, e.g. from
        :func:`onerank.schedules.allocate`), or, for ``solver="exact"`` only,
        the int r. Requires 1 <= r <= min(m, d).
    solver : "gd" (Algorithm 2) or "exact" (Algorithm 1; budgets only give r).
    keep_residuals : store every Y_k (r + 1 arrays of m x n) in the result.
    eta, tol, trace : passed to the gradient subroutine (see :func:`onerank.rank1.gd`).
    seed : int, Generator or None. One generator draws b_k's initial value for
        k = 1, ..., r in turn, so a seed fixes the whole run.
    init : optional list of r pairs (a0, b0) replacing the random initial points.

    Returns
    -------
    DeflationResult
    """
    _validate.flag(keep_residuals, "keep_residuals"), _validate.flag(trace, "trace")
    Y, X = _validate.regression_pair(Y, X)
    _validate.choice(solver, "solver", SOLVERS)
    (m, n), d = Y.shape, X.shape[0]
    budgets = budgets_array(budgets, solver)
    r = len(budgets)
    if r > min(m, d):
        raise ValueError(f"r (the number of budgets) must be <= min(m, d) = {min(m, d)}, got {r}")
    if init is not None and len(init) != r:
        raise ValueError(f"init must hold one pair (a0, b0) per component (r = {r}), got {len(init)}")
    eta_a, eta_b = _validate.step_sizes(eta)
    tol = 0.0 if tol is None else _validate.real(tol, "tol", nonnegative=True)
    rng = _validate.generator(seed)

    rs = RowSpace(X)
    Z, outside_sq = rs.coordinates(Y)          # Y_k = Z_k Vt + Y (I - P); the second part never changes
    components, exact_components, residuals, traces = [], [], [], []
    train_errors, delta_norms, steps = np.empty(r), np.empty(r), np.zeros(r, dtype=np.int64)
    W_hat = np.zeros((m, d))
    Yk = Y.copy() if keep_residuals else None
    if keep_residuals:
        residuals.append(Yk)
    for k in range(r):
        a_star, b_star = exact_reduced(Z, rs)
        if solver == "exact":
            a, b = a_star, b_star
        else:
            a0, b0 = initial_point(None if init is None else init[k], rng, d, m)
            a, b, objectives = gd_reduced(Z, outside_sq, rs.US, int(budgets[k]), a0, b0, eta_a, eta_b, tol)
            steps[k] = objectives.size - 1
            if trace:
                traces.append(objectives)
        piece = np.outer(b, a)
        delta_norms[k] = np.linalg.norm(piece - np.outer(b_star, a_star))
        W_hat += piece
        Z = Z - np.outer(b, rs.US.T @ a)
        train_errors[k] = _train_error(Z, outside_sq)
        components.append((a, b))
        exact_components.append((a_star, b_star))
        if keep_residuals:
            Yk = Yk - np.outer(b, a @ X)
            residuals.append(Yk)
    return DeflationResult(
        components=components, exact_components=exact_components, W_hat=W_hat,
        residuals=residuals, train_errors=train_errors, initial_error=float(np.linalg.norm(Y)),
        delta_norms=delta_norms, budgets=np.asarray(budgets, dtype=np.int64), steps=steps,
        solver=solver, objective_traces=traces,
    )


def budgets_array(budgets, solver: str = "gd") -> np.ndarray:
    """Checked per-component budgets: an (r,) int array of steps >= 0.

    Parameters
    ----------
    budgets : sequence of r ints >= 0, or, with ``solver="exact"``, the int r.
    solver : "gd" or "exact".

    Returns
    -------
    (r,) int64 array (zeros for the exact solver given r).
    """
    _validate.choice(solver, "solver", ("gd", "exact"))
    if np.ndim(budgets) == 0:
        if solver != "exact":
            raise ValueError(
                "budgets must be a sequence of per-component step counts for solver='gd' "
                f"(an int r is accepted only with solver='exact'), got {budgets!r}"
            )
        r = _validate.integer(budgets, "budgets (r)", minimum=1, maximum=2**20)
        return np.zeros(r, dtype=np.int64)
    values = list(budgets)
    if len(values) == 0:
        raise ValueError("budgets must hold at least one entry")
    return np.array([_validate.integer(v, f"budgets[{i}]", minimum=0) for i, v in enumerate(values)],
                    dtype=np.int64)

