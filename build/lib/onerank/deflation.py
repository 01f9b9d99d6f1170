"""Sequential rank-1 deflation: Algorithms 1 and 2 of the paper.

For k = 1, ..., r fit a rank-1 pair (a_k, b_k) to the current residual Y_k,

    (a_k, b_k) ~ argmin_{a, b} 1/2 ||Y_k - b a^T X||_F^2,     Y_1 = Y,

then deflate, Y_{k+1} = Y_k - b_k a_k^T X. Algorithm 1 solves every rank-1
problem exactly (:func:`onerank.rank1.exact`); Algorithm 2 runs t_k steps of
gradient descent (:func:`onerank.rank1.gd`). The estimate is
W_hat = sum_k b_k a_k^T.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _validate
from .rank1 import _exact_reduced, _gd_reduced, _initial_point, _step_sizes
from .rowspace import RowSpace

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
    Y, X = _validate.regression_pair(Y, X)
    _validate.choice(solver, "solver", SOLVERS)
    (m, n), d = Y.shape, X.shape[0]
    budgets = _budgets(budgets, solver)
    r = len(budgets)
    if r > min(m, d):
        raise ValueError(f"r (the number of budgets) must be <= min(m, d) = {min(m, d)}, got {r}")
    if init is not None and len(init) != r:
        raise ValueError(f"init must hold one pair (a0, b0) per component (r = {r}), got {len(init)}")
    eta_a, eta_b = _step_sizes(eta)
    tol = 0.0 if tol is None else _validate.real(tol, "tol", nonnegative=True)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    rs = RowSpace(X)
    Z, outside_sq = rs.coordinates(Y)          # Y_k = Z_k Vt + Y (I - P); the second part never changes
    components, exact_components, residuals, traces = [], [], [], []
    train_errors, delta_norms, steps = np.empty(r), np.empty(r), np.zeros(r, dtype=np.int64)
    W_hat = np.zeros((m, d))
    Yk = Y.copy() if keep_residuals else None
    if keep_residuals:
        residuals.append(Yk)
    for k in range(r):
        a_star, b_star = _exact_reduced(Z, rs)
        if solver == "exact":
            a, b = a_star, b_star
        else:
            a0, b0 = _initial_point(None if init is None else init[k], rng, d, m)
            a, b, objectives = _gd_reduced(Z, outside_sq, rs.B, int(budgets[k]), a0, b0, eta_a, eta_b, tol)
            steps[k] = objectives.size - 1
            if trace:
                traces.append(objectives)
        piece = np.outer(b, a)
        delta_norms[k] = np.linalg.norm(piece - np.outer(b_star, a_star))
        W_hat += piece
        Z = Z - np.outer(b, rs.B.T @ a)
        train_errors[k] = np.sqrt(np.sum(Z * Z) + outside_sq)
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


def _budgets(budgets, solver: str) -> np.ndarray:
    if np.ndim(budgets) == 0:
        if solver != "exact":
            raise ValueError(
                "budgets must be a sequence of per-component step counts for solver='gd' "
                f"(an int r is accepted only with solver='exact'), got {budgets!r}"
            )
        r = _validate.integer(budgets, "budgets (r)", minimum=1)
        return np.zeros(r, dtype=np.int64)
    values = list(budgets)
    if len(values) == 0:
        raise ValueError("budgets must hold at least one entry")
    return np.array([_validate.integer(v, f"budgets[{i}]", minimum=0) for i, v in enumerate(values)],
                    dtype=np.int64)


def _problem_and_rank(Y, X, r):
    """Validated (Y, X, r) with 1 <= r <= min(m, d)."""
    Y, X = _validate.regression_pair(Y, X)
    r = _validate.integer(r, "r", minimum=1)
    if r > min(Y.shape[0], X.shape[0]):
        raise ValueError(f"r must be <= min(m, d) = {min(Y.shape[0], X.shape[0])}, got {r}")
    return Y, X, r


@dataclass
class ParallelResult:
    """What a run of :func:`parallel` produced.

    Attributes
    ----------
    A : (d, r) array, B : (m, r) array; W_hat = B A^T = sum_k b_k a_k^T.
    starts : (r,) int array, the round at which each worker started.
    steps : (rounds + 1,) int array, gradient steps spent by all workers together
        after 0, 1, ..., rounds rounds (the compute axis).
    train_errors : (rounds + 1,) array, ||Y - W_hat X||_F after each round.
    recovery_errors : (rounds + 1,) array, ||W_hat - W*||_F (only with W_star, else empty).
    """

    A: np.ndarray
    B: np.ndarray
    starts: np.ndarray
    steps: np.ndarray
    train_errors: np.ndarray
    recovery_errors: np.ndarray

    @property
    def W_hat(self) -> np.ndarray:
        return self.B @ self.A.T


def parallel(Y, X, r: int, rounds: int, *, stagger: int = 1, eta=0.003, seed=None, W_star=None,
             perturb: tuple | None = None) -> ParallelResult:
    """Parallel deflation: r workers run eq. (5) side by side on shifting residuals.

    Worker k (k = 1, ..., r) starts at round (k - 1) * ``stagger`` and, at every round
    from then on, takes one gradient step on

        1/2 || Y - sum_{j<k} b_j a_j^T X - b_k a_k^T X ||_F^2,

    with (a_j, b_j) its predecessors' estimates *at the start of the round* (all active
    workers step at once). Unlike sequential deflation, no component is ever frozen: when
    an early worker improves, the residuals of its successors change and they keep
    adapting. The book's own scheme, prompted by the companion AdaPaD work that only the
    authors' notes mention (not arXiv v1).

    Parameters
    ----------
    Y : (m, n) array, X : (d, n) array, r : number of workers (components).
    rounds : int >= 0. Compute after R rounds: sum_k max(0, R - start_k) steps.
    stagger : int >= 0, rounds between the starts of consecutive workers.
    eta, seed : as in :func:`deflate` (b_k's initial values drawn in turn from ``seed``;
        a_k starts at 0).
    W_star : (m, d) array, optional, to record recovery errors.
    perturb : optional (round, k, matrix (m, d)): after that round, worker k's product
        b_k a_k^T is moved by the matrix (replacing a_k by the least-squares a with
        b_k a^T = b_k a_k^T + matrix projected on b_k), to watch whether the error heals.

    Returns
    -------
    ParallelResult
    """
    Y, X, r = _problem_and_rank(Y, X, r)
    (m, n), d = Y.shape, X.shape[0]
    rounds = _validate.integer(rounds, "rounds", minimum=0)
    stagger = _validate.integer(stagger, "stagger", minimum=0)
    eta_a, eta_b = _step_sizes(eta)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    rs = RowSpace(X)
    Z, outside_sq = rs.coordinates(Y)
    A = np.zeros((d, r))
    F = np.column_stack([_initial_point(None, rng, d, m)[1] for _ in range(r)])
    starts = np.arange(r) * stagger
    spent, train, recovery = [0], [], []

    def record():
        C = rs.B.T @ A
        R = Z - F @ C.T
        train.append(np.sqrt(np.sum(R * R) + outside_sq))
        if W_star is not None:
            recovery.append(np.linalg.norm(F @ A.T - W_star))

    record()
    try:
        with np.errstate(over="raise", invalid="raise"):
            for t in range(rounds):
                active = (starts <= t).astype(float)
                C = rs.B.T @ A                                   # (s, r): a_k^T X in coordinates
                FF, CC = F.T @ F, C.T @ C
                # worker k's residual is Z - sum_{j<k} f_j c_j^T - f_k c_k^T
                ga = Z.T @ F - C @ np.triu(FF, 1) - C * np.diag(FF)      # Rt_k^T f_k, column k
                gb = Z @ C - F @ np.triu(CC, 1) - F * np.diag(CC)        # Rt_k c_k, column k
                A = A + eta_a * (rs.B @ ga) * active
                F = F + eta_b * gb * active
                if perturb is not None and t == perturb[0]:
                    k, M = perturb[1], np.asarray(perturb[2], dtype=float)
                    f = F[:, k]
                    A[:, k] = A[:, k] + M.T @ f / (f @ f)
                spent.append(spent[-1] + int(active.sum()))
                record()
    except FloatingPointError:
        raise FloatingPointError(f"parallel deflation diverged (eta_a={eta_a}, eta_b={eta_b}); "
                                 "use a smaller eta") from None
    return ParallelResult(A=A, B=F, starts=starts, steps=np.array(spent), train_errors=np.array(train),
                          recovery_errors=np.array(recovery))


def deflate_adaptive(Y, X, r: int, total: int, *, stall: float = 0.05, share: float = 0.0, chunk: int = 10,
                     floor: int = 1, eta=0.003, seed=None) -> dict:
    """Algorithm 2 with budgets chosen while it runs, from a fixed total.

    Component k runs eq. (5) in chunks of ``chunk`` steps and moves on once it has
    passed its fast phase: when the training error's decrease per step over the last
    chunk falls below ``stall`` times the largest such decrease seen for this component
    (diminishing returns). Comparing with the component's own peak, rather than with a
    fixed level, keeps the rule from stopping in the slow start of a pair started at
    a = 0. With ``share`` > 0 a component first runs at least ``share`` times its equal
    share of the steps left, ``left / (components left)``, before the test applies.
    A component also stops before it would eat into the ``floor`` steps reserved
    for each later one; unused steps go to the later components, and the last one gets
    all that is left. The rule needs no spectrum and no alpha.

    Parameters
    ----------
    Y, X : as in :func:`deflate`. r : number of components. total : int, the budget T.
    stall : float in (0, 1). share : float >= 0. chunk : int >= 1. floor : int >= 0.
    eta, seed : as in :func:`deflate` (initial points drawn in turn from one generator,
        as there).

    Returns
    -------
    dict with "W_hat" (m, d), "steps" (r,) the steps each component used (summing to at
    most ``total``), "train_errors" (r,).
    """
    Y, X, r = _problem_and_rank(Y, X, r)
    (m, n), d = Y.shape, X.shape[0]
    total = _validate.integer(total, "total", minimum=0)
    floor = _validate.integer(floor, "floor", minimum=0)
    chunk = _validate.integer(chunk, "chunk", minimum=1)
    stall = _validate.real(stall, "stall", positive=True)
    share = _validate.real(share, "share", nonnegative=True)
    if stall >= 1:
        raise ValueError(f"stall must be in (0, 1), got {stall}")
    if total < floor * (r - 1):
        raise ValueError(f"total must be >= floor * (r - 1) = {floor * (r - 1)}, got {total}")
    eta_a, eta_b = _step_sizes(eta)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    rs = RowSpace(X)
    Z, outside_sq = rs.coordinates(Y)
    W_hat = np.zeros((m, d))
    steps, errors, left = np.zeros(r, dtype=np.int64), np.empty(r), total
    for k in range(r):
        cap = left if k == r - 1 else left - floor * (r - k - 1)
        minimum = min(cap, int(np.ceil(share * left / (r - k))))
        a, b = _initial_point(None, rng, d, m)
        used, peak = 0, 0.0
        while used < cap:
            size = min(chunk, cap - used)
            a, b, obj = _gd_reduced(Z, outside_sq, rs.B, size, a, b, eta_a, eta_b, 0.0)
            used += size
            rate = (np.sqrt(2 * obj[0]) - np.sqrt(2 * obj[-1])) / size
            peak = max(peak, rate)
            if used >= minimum and peak > 0 and rate < stall * peak:
                break
        steps[k] = used
        left -= used
        W_hat += np.outer(b, a)
        Z = Z - np.outer(b, rs.B.T @ a)
        errors[k] = np.sqrt(np.sum(Z * Z) + outside_sq)
    return {"W_hat": W_hat, "steps": steps, "train_errors": errors}


def deflate_refined(Y, X, budgets, *, refine: int = 0, method: str = "joint", inner: int = 1, eta=0.003,
                    seed=None, W_star=None) -> dict:
    """Algorithm 2 with re-optimisation of the earlier components after each new one.

    After component k is fitted (``budgets[k]`` steps of eq. (5) on its residual), the
    components 1, ..., k are revisited, by one of two methods:

    - ``"joint"``: ``refine`` joint gradient steps update all of them together on the full
      objective 1/2 ||Y - sum_{j<=k} b_j a_j^T X||_F^2;
    - ``"backfit"``: backfitting, ``refine`` sweeps. In a sweep each component
      j = 1, ..., k in turn runs ``inner`` steps of eq. (5), warm-started at its current
      pair, on its *partial residual* Y - sum_{i != j} b_i a_i^T X (every other component
      removed). With ``inner=1`` this is joint gradient descent in Gauss-Seidel order;
      a large ``inner`` refits each component (almost) exactly, but a single such sweep
      does not reach the best rank-k fit: it is the sweeps that couple the components.

    Either way earlier components are no longer frozen, so their errors can be repaired
    later. With ``refine=0`` it is :func:`deflate`. Compute is counted in
    component-steps: a joint step on k components costs k, a backfitting sweep
    ``inner * k``, so a run costs sum_k budgets[k] + refine * r (r + 1) / 2, times
    ``inner`` for backfitting.

    Returns
    -------
    dict with "W_hat" (m, d) = B A^T, "A" (d, r) the a_k as columns, "B" (m, r) the b_k,
    "compute" (int, component-steps), "train_error" (float) and "recovery_error"
    (float, only with ``W_star``).
    """
    refine = _validate.integer(refine, "refine", minimum=0)
    if method not in ("joint", "backfit"):
        raise ValueError(f"method must be 'joint' or 'backfit', got {method!r}")
    inner = _validate.integer(inner, "inner", minimum=1)
    budgets, eta_a, eta_b, rng, rs, Z, outside_sq = _start(Y, X, budgets, eta, seed)
    (m, d), r = (Z.shape[0], rs.B.shape[0]), len(budgets)
    A, F = np.zeros((d, 0)), np.zeros((m, 0))
    compute = 0
    try:
        with np.errstate(over="raise", invalid="raise"):
            for k in range(r):
                residual = Z - F @ (rs.B.T @ A).T
                a0, b0 = _initial_point(None, rng, d, m)
                a, b, obj = _gd_reduced(residual, outside_sq, rs.B, int(budgets[k]), a0, b0, eta_a, eta_b, 0.0)
                compute += obj.size - 1
                A, F = np.column_stack([A, a]), np.column_stack([F, b])
                if method == "joint":
                    for _ in range(refine):
                        C = rs.B.T @ A
                        R = Z - F @ C.T
                        A, F = A + eta_a * (rs.B @ (R.T @ F)), F + eta_b * (R @ C)
                        compute += k + 1
                else:
                    R = Z - F @ (rs.B.T @ A).T
                    for _ in range(refine):
                        for j in range(k + 1):
                            partial = R + np.outer(F[:, j], rs.B.T @ A[:, j])
                            A[:, j], F[:, j], obj = _gd_reduced(partial, outside_sq, rs.B, inner, A[:, j],
                                                                F[:, j], eta_a, eta_b, 0.0)
                            R = partial - np.outer(F[:, j], rs.B.T @ A[:, j])
                            compute += obj.size - 1
    except FloatingPointError:
        raise FloatingPointError(f"refined deflation diverged (eta_a={eta_a}, eta_b={eta_b}); "
                                 "use a smaller eta") from None
    return _summary(Z, outside_sq, rs, A, F, compute, W_star)


def deflate_orthogonal(Y, X, budgets, *, side: str = "left", refit: bool = False, eta=0.003, seed=None,
                       W_star=None) -> dict:
    """Algorithm 2 with orthogonality constraints between components.

    Component k runs ``budgets[k]`` steps of *projected* gradient descent on eq. (5):

    - ``side="left"``: b_k stays orthogonal to b_1, ..., b_{k-1};
    - ``side="right"``: the fitted rows a_k^T X stay orthogonal to a_j^T X, j < k;
    - ``side=None``: no constraint (plain Algorithm 2, or the refit alone).

    Exact deflation (Algorithm 1) satisfies both constraints, since its components are
    singular pairs of the projected data; gradient descent satisfies neither. With
    ``refit=True`` the factors on the *other* side are re-solved after each component,
    exactly, by least squares given the constrained ones (for ``side="left"``, and for
    ``side=None``: the a_j minimising ||Y - sum_j b_j a_j^T X||_F with the b_j fixed). Left-constrained with
    refit, the next residual is (I - P) Y with P the projector onto span(b_1, ..., b_k):
    this is *projection deflation* (Mackey, 2008). A refit after component k costs k
    component-steps (one product with the data per component).

    Returns
    -------
    dict as :func:`deflate_refined`: "W_hat" (m, d), "A" (d, r), "B" (m, r), "compute",
    "train_error" and "recovery_error" (only with ``W_star``).
    """
    if side not in ("left", "right", None):
        raise ValueError(f"side must be 'left', 'right' or None, got {side!r}")
    budgets, eta_a, eta_b, rng, rs, Z, outside_sq = _start(Y, X, budgets, eta, seed)
    (m, d), r = (Z.shape[0], rs.B.shape[0]), len(budgets)
    A, F = np.zeros((d, 0)), np.zeros((m, 0))
    compute = 0
    try:
        with np.errstate(over="raise", invalid="raise"):
            for k in range(r):
                R0 = Z - F @ (rs.B.T @ A).T
                # an orthonormal basis of what the new factor must avoid (a on the right side: B C)
                basis = rs.B @ (rs.B.T @ A) if side == "right" else F
                Q = np.linalg.qr(basis)[0] if k and side else np.zeros((basis.shape[0], 0))
                a, b = _initial_point(None, rng, d, m)
                if side == "left":
                    b = b - Q @ (Q.T @ b)
                c = rs.B.T @ a
                for _ in range(int(budgets[k])):
                    Rt = R0 - np.outer(b, c)
                    a, b = a + eta_a * (rs.B @ (Rt.T @ b)), b + eta_b * (Rt @ c)
                    if side == "left":
                        b = b - Q @ (Q.T @ b)
                    elif side == "right":
                        a = a - Q @ (Q.T @ a)
                    c = rs.B.T @ a
                    compute += 1
                A, F = np.column_stack([A, a]), np.column_stack([F, b])
                if refit:
                    if side != "right":                      # C = argmin ||Z - F C^T||, then a = U diag(1/s) c
                        C = np.linalg.lstsq(F, Z, rcond=None)[0].T
                        A = (rs.U / rs.s) @ C
                    else:
                        C = rs.B.T @ A
                        F = np.linalg.lstsq(C, Z.T, rcond=None)[0].T
                    compute += k + 1
    except FloatingPointError:
        raise FloatingPointError(f"orthogonal deflation diverged (eta_a={eta_a}, eta_b={eta_b}); "
                                 "use a smaller eta") from None
    return _summary(Z, outside_sq, rs, A, F, compute, W_star)


def _start(Y, X, budgets, eta, seed):
    """Checked inputs and the row-space coordinates shared by the multi-component variants:
    (budgets, eta_a, eta_b, rng, rs, Z, outside_sq)."""
    Y, X = _validate.regression_pair(Y, X)
    (m, n), d = Y.shape, X.shape[0]
    budgets = _budgets(budgets, "gd")
    if len(budgets) > min(m, d):
        raise ValueError(f"r (the number of budgets) must be <= min(m, d) = {min(m, d)}, got {len(budgets)}")
    eta_a, eta_b = _step_sizes(eta)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    rs = RowSpace(X)
    Z, outside_sq = rs.coordinates(Y)
    return budgets, eta_a, eta_b, rng, rs, Z, outside_sq


def _summary(Z, outside_sq, rs, A, F, compute, W_star) -> dict:
    W_hat = F @ A.T
    R = Z - F @ (rs.B.T @ A).T
    out = {"W_hat": W_hat, "A": A, "B": F, "compute": compute,
           "train_error": float(np.sqrt(np.sum(R * R) + outside_sq))}
    if W_star is not None:
        out["recovery_error"] = float(np.linalg.norm(W_hat - W_star))
    return out
