"""The book's own variants of Algorithm 2: none of them is in arXiv v1.

Each keeps eq. (5) as its step (:func:`onerank.rank1.gd_reduced`, in the row-space
coordinates of :mod:`onerank.rowspace`) and changes what Algorithm 2 fixes:

- :func:`parallel` starts every component early and never freezes one (prompted by the
  AdaPaD work that only the authors' notes mention);
- :func:`adaptive` chooses the budgets while it runs, from a total;
- :func:`refined` revisits the earlier components after each new one (joint steps or
  backfitting sweeps);
- :func:`orthogonal` constrains each new factor against the earlier ones.

All four return a :class:`VariantResult`, whose ``compute`` counts component-steps
(one gradient step on one component), the unit in which the book compares them with
Algorithm 2 at equal cost. :func:`parallel_rounds`, :func:`refined_split` and
:func:`orthogonal_split` turn such a total into each variant's arguments.

Examples
--------
With one worker, parallel deflation is Algorithm 2 for one component:

>>> import numpy as np
>>> from onerank import deflation, problems, variants
>>> p = problems.make_problem(10, 12, 40, 2, seed=0)
>>> par = variants.parallel(p.Y, p.X, 1, 30, seed=1)
>>> seq = deflation.deflate(p.Y, p.X, [30], seed=1, tol=None)
>>> bool(np.allclose(par.W_hat, seq.W_hat, rtol=0, atol=1e-12)), par.compute
(True, 30)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _validate
from .deflation import budgets_array
from .rank1 import gd_reduced, initial_point
from .rowspace import RowSpace, _train_error

__all__ = ["VariantResult", "parallel", "adaptive", "refined", "orthogonal", "parallel_rounds",
           "refined_split", "orthogonal_split"]


@dataclass
class VariantResult:
    """What a run of a variant produced (r components, Y is m x n, X is d x n).

    Attributes
    ----------
    A : (d, r) array, the a_k as columns. B : (m, r) array, the b_k as columns.
    compute : int, component-steps spent in all (gradient steps on one component each;
        a refit of k components counts k).
    steps : (r,) int array, the gradient steps of each component's own fit (for
        :func:`parallel`, the rounds it was active).
    starts : (r,) int array, when each component began: its round for :func:`parallel`,
        the compute spent before it for the others.
    train_error : float, ||Y - W_hat X||_F at the end.
    recovery_error : float or None, ||W_hat - W*||_F at the end (None without W_star).
    path : dict of arrays along the run, one entry per checkpoint (every round for
        :func:`parallel`; the start and the end of each component for the others):
        ``"compute"`` (int), ``"train_error"`` and, with W_star, ``"recovery_error"``.
    """

    A: np.ndarray
    B: np.ndarray
    compute: int
    steps: np.ndarray
    starts: np.ndarray
    train_error: float
    recovery_error: float | None
    path: dict = field(default_factory=dict)

    @property
    def W_hat(self) -> np.ndarray:
        """(m, d) array, ``B A^T = sum_k b_k a_k^T``."""
        return self.B @ self.A.T


class _Path:
    """Checkpoints of a run: compute, training error and (with W_star) recovery error."""

    def __init__(self, rs, Z, outside_sq, W_star):
        self.rs, self.Z, self.outside_sq, self.W_star = rs, Z, outside_sq, W_star
        self.compute, self.train, self.recovery = [], [], []

    def record(self, compute, A, F):
        self.compute.append(int(compute))
        self.train.append(_train_error(self.rs.residual(self.Z, A, F), self.outside_sq))
        if self.W_star is not None:
            self.recovery.append(float(np.linalg.norm(F @ A.T - self.W_star)))

    def result(self, A, F, steps, starts) -> VariantResult:
        path = {"compute": np.array(self.compute), "train_error": np.array(self.train)}
        if self.W_star is not None:
            path["recovery_error"] = np.array(self.recovery)
        return VariantResult(A=A, B=F, compute=self.compute[-1], steps=np.asarray(steps, dtype=np.int64),
                             starts=np.asarray(starts, dtype=np.int64), train_error=self.train[-1],
                             recovery_error=self.recovery[-1] if self.W_star is not None else None,
                             path=path)


def _setup(Y, X, r, eta, seed, W_star):
    """Checked inputs and the shared coordinates: (Y, X, r, eta_a, eta_b, rng, rs, Z, path)."""
    Y, X = _validate.regression_pair(Y, X)
    r = _validate.integer(r, "r", minimum=1)
    if r > min(Y.shape[0], X.shape[0]):
        raise ValueError(f"r must be <= min(m, d) = {min(Y.shape[0], X.shape[0])}, got {r}")
    if W_star is not None:
        W_star = _validate.matrix(W_star, "W_star", shape=(Y.shape[0], X.shape[0]))
    eta_a, eta_b = _validate.step_sizes(eta)
    rng = _validate.generator(seed)
    rs = RowSpace(X)
    Z, outside_sq = rs.coordinates(Y)
    return Y, X, r, eta_a, eta_b, rng, rs, Z, _Path(rs, Z, outside_sq, W_star)


def _start(Y, X, budgets, eta, seed, W_star):
    """:func:`_setup` for the variants run on per-component budgets, with no component yet:
    (budgets, eta_a, eta_b, rng, rs, Z, path, A (d, 0), F (m, 0)), the start recorded."""
    budgets = budgets_array(budgets)
    Y, X, r, eta_a, eta_b, rng, rs, Z, path = _setup(Y, X, len(budgets), eta, seed, W_star)
    A, F = np.zeros((X.shape[0], 0)), np.zeros((Y.shape[0], 0))
    path.record(0, A, F)
    return budgets, eta_a, eta_b, rng, rs, Z, path, A, F


def _diverged(name, eta_a, eta_b):
    return FloatingPointError(f"{name} diverged (eta_a={eta_a}, eta_b={eta_b}); use a smaller eta")


# ============================================================== parallel deflation
def parallel(Y, X, r: int, rounds: int, *, stagger: int = 1, eta=0.003, seed=None, W_star=None,
             perturb: tuple | None = None) -> VariantResult:
    """Parallel deflation: r workers run eq. (5) side by side on shifting residuals.

    Worker k (k = 1, ..., r) starts at round (k - 1) * ``stagger`` and, at every round
    from then on, takes one gradient step on

        1/2 || Y - sum_{j<k} b_j a_j^T X - b_k a_k^T X ||_F^2,

    with (a_j, b_j) its predecessors' estimates *at the start of the round* (all active
    workers step at once). Unlike sequential deflation, no component is ever frozen: when
    an early worker improves, the residuals of its successors change and they keep
    adapting.

    Parameters
    ----------
    Y : (m, n) array. X : (d, n) array. r : int, 1 <= r <= min(m, d), the workers.
    rounds : int >= 0. Compute after R rounds: sum_k max(0, R - start_k) steps.
    stagger : int >= 0, rounds between the starts of consecutive workers.
    eta, seed : as in :func:`onerank.deflation.deflate` (b_k's initial values drawn in
        turn from ``seed``; a_k starts at 0).
    W_star : (m, d) array, optional, to record recovery errors.
    perturb : optional (round, k, matrix (m, d)): after that round, worker k's product
        b_k a_k^T is moved by the matrix (replacing a_k by the least-squares a with
        b_k a^T = b_k a_k^T + matrix projected on b_k), to watch whether the error heals.

    Returns
    -------
    VariantResult, its path one checkpoint per round (rounds + 1 entries).
    """
    Y, X, r, eta_a, eta_b, rng, rs, Z, path = _setup(Y, X, r, eta, seed, W_star)
    (m, n), d = Y.shape, X.shape[0]
    rounds = _validate.integer(rounds, "rounds", minimum=0)
    stagger = _validate.integer(stagger, "stagger", minimum=0)
    if perturb is not None:
        if not isinstance(perturb, (tuple, list)) or len(perturb) != 3:
            raise TypeError(f"perturb must be (round, k, matrix (m, d)) or None, got {perturb!r}")
        perturb = (_validate.integer(perturb[0], "perturb[0] (round)", minimum=0),
                   _validate.integer(perturb[1], "perturb[1] (k)", minimum=0, maximum=r - 1),
                   _validate.matrix(perturb[2], "perturb[2] (matrix)", shape=(m, d)))
    A = np.zeros((d, r))
    F = np.column_stack([initial_point(None, rng, d, m)[1] for _ in range(r)])
    starts = np.arange(r) * stagger
    spent = 0
    path.record(spent, A, F)
    try:
        with np.errstate(over="raise", invalid="raise"):
            for t in range(rounds):
                active = (starts <= t).astype(float)
                C = rs.US.T @ A                                   # (s, r): a_k^T X in coordinates
                FF, CC = F.T @ F, C.T @ C
                # worker k's residual is Z - sum_{j<k} f_j c_j^T - f_k c_k^T
                ga = Z.T @ F - C @ np.triu(FF, 1) - C * np.diag(FF)      # Rt_k^T f_k, column k
                gb = Z @ C - F @ np.triu(CC, 1) - F * np.diag(CC)        # Rt_k c_k, column k
                A = A + eta_a * (rs.US @ ga) * active
                F = F + eta_b * gb * active
                if perturb is not None and t == perturb[0]:
                    k, M = perturb[1], np.asarray(perturb[2], dtype=float)
                    f = F[:, k]
                    A[:, k] = A[:, k] + M.T @ f / (f @ f)
                spent += int(active.sum())
                path.record(spent, A, F)
    except FloatingPointError:
        raise _diverged("parallel deflation", eta_a, eta_b) from None
    return path.result(A, F, np.maximum(0, rounds - starts), starts)


def parallel_rounds(compute: int, r: int, stagger: int = 1) -> int:
    """The fewest rounds after which :func:`parallel` has spent at least ``compute``.

    Parameters
    ----------
    compute : int >= 0, component-steps. r : int >= 1, workers. stagger : int >= 0.

    Returns
    -------
    int, the smallest R with ``sum_k max(0, R - k * stagger) >= compute``.
    """
    compute = _validate.integer(compute, "compute", minimum=0)
    r = _validate.integer(r, "r", minimum=1, maximum=2**20)
    stagger = _validate.integer(stagger, "stagger", minimum=0)
    starts = np.arange(r) * stagger
    R = 0
    while np.maximum(0, R - starts).sum() < compute:
        R += 1
    return R


# ============================================================== budgets chosen online
def adaptive(Y, X, r: int, total: int, *, stall: float = 0.05, share: float = 0.0, chunk: int = 10,
             floor: int = 1, eta=0.003, seed=None, W_star=None) -> VariantResult:
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
    Y : (m, n) array. X : (d, n) array. r : int, the components. total : int, the budget T.
    stall : float in (0, 1). share : float >= 0. chunk : int >= 1. floor : int >= 0.
    eta, seed : as in :func:`onerank.deflation.deflate` (initial points drawn in turn
        from one generator, as there). W_star : (m, d) array, optional.

    Returns
    -------
    VariantResult; ``steps`` (r,) the budgets chosen (summing to at most ``total``),
    replayed exactly by ``deflate(Y, X, steps, seed=seed, tol=None)``.
    """
    Y, X, r, eta_a, eta_b, rng, rs, Z, path = _setup(Y, X, r, eta, seed, W_star)
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
    A, F = np.zeros((d, r)), np.zeros((m, r))
    steps, left = np.zeros(r, dtype=np.int64), total
    path.record(0, A, F)
    R = Z
    for k in range(r):
        cap = left if k == r - 1 else left - floor * (r - k - 1)
        minimum = min(cap, int(np.ceil(share * left / (r - k))))
        a, b = initial_point(None, rng, d, m)
        used, peak = 0, 0.0
        while used < cap:
            size = min(chunk, cap - used)
            a, b, obj = gd_reduced(R, path.outside_sq, rs.US, size, a, b, eta_a, eta_b, 0.0)
            used += size
            rate = (np.sqrt(2 * obj[0]) - np.sqrt(2 * obj[-1])) / size
            peak = max(peak, rate)
            if used >= minimum and peak > 0 and rate < stall * peak:
                break
        steps[k] = used
        left -= used
        A[:, k], F[:, k] = a, b
        R = R - np.outer(b, rs.US.T @ a)
        path.record(total - left, A, F)
    return path.result(A, F, steps, np.concatenate([[0], np.cumsum(steps)[:-1]]))


# ============================================================== re-optimisation
def refined(Y, X, budgets, *, refine: int = 0, method: str = "joint", inner: int = 1, eta=0.003,
            seed=None, W_star=None) -> VariantResult:
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
    later. With ``refine=0`` it is Algorithm 2. Compute is counted in component-steps:
    a joint step on k components costs k, a backfitting sweep ``inner * k``, so a run
    costs sum_k budgets[k] + refine * r (r + 1) / 2, times ``inner`` for backfitting.

    Parameters
    ----------
    Y : (m, n) array. X : (d, n) array. budgets : sequence of r ints >= 0.
    refine : int >= 0. method : "joint" or "backfit". inner : int >= 1.
    eta, seed : as in :func:`onerank.deflation.deflate`. W_star : (m, d) array, optional.

    Returns
    -------
    VariantResult, its path one checkpoint before the first component and one after
    each component's fit and re-optimisation.
    """
    refine = _validate.integer(refine, "refine", minimum=0)
    _validate.choice(method, "method", ("joint", "backfit"))
    inner = _validate.integer(inner, "inner", minimum=1)
    budgets, eta_a, eta_b, rng, rs, Z, path, A, F = _start(Y, X, budgets, eta, seed, W_star)
    m, d, r, outside_sq = F.shape[0], A.shape[0], len(budgets), path.outside_sq
    compute, starts = 0, []
    try:
        with np.errstate(over="raise", invalid="raise"):
            for k in range(r):
                starts.append(compute)
                a0, b0 = initial_point(None, rng, d, m)
                a, b, obj = gd_reduced(rs.residual(Z, A, F), outside_sq, rs.US, int(budgets[k]), a0, b0,
                                       eta_a, eta_b, 0.0)
                compute += obj.size - 1
                A, F = np.column_stack([A, a]), np.column_stack([F, b])
                if method == "joint":
                    for _ in range(refine):
                        C = rs.US.T @ A
                        R = Z - F @ C.T
                        A, F = A + eta_a * (rs.US @ (R.T @ F)), F + eta_b * (R @ C)
                        compute += k + 1
                else:
                    R = rs.residual(Z, A, F)
                    for _ in range(refine):
                        for j in range(k + 1):
                            partial = R + np.outer(F[:, j], rs.US.T @ A[:, j])
                            A[:, j], F[:, j], obj = gd_reduced(partial, outside_sq, rs.US, inner, A[:, j],
                                                               F[:, j], eta_a, eta_b, 0.0)
                            R = partial - np.outer(F[:, j], rs.US.T @ A[:, j])
                            compute += obj.size - 1
                path.record(compute, A, F)
    except FloatingPointError:
        raise _diverged("refined deflation", eta_a, eta_b) from None
    return path.result(A, F, budgets, starts)


def refined_split(total: int, r: int, share: float, *, method: str = "joint",
                  inner: int = 1) -> tuple[list, int]:
    """Arguments of :func:`refined` that spend ``share`` of ``total`` on re-optimisation.

    A joint step or backfitting sweep after every component costs r (r + 1) / 2
    component-steps over the run (times ``inner`` for backfitting); the steps left are
    split equally between the components' own fits, rounded down.

    Parameters
    ----------
    total : int >= 0, component-steps. r : int >= 1. share : float in [0, 1].
    method : "joint" or "backfit". inner : int >= 1.

    Returns
    -------
    budgets : list of r ints. refine : int. Together they cost at most ``total``.
    """
    total = _validate.integer(total, "total", minimum=0)
    r = _validate.integer(r, "r", minimum=1)
    share = _validate.real(share, "share", nonnegative=True)
    if share > 1:
        raise ValueError(f"share must be in [0, 1], got {share}")
    _validate.choice(method, "method", ("joint", "backfit"))
    inner = _validate.integer(inner, "inner", minimum=1)
    unit = r * (r + 1) // 2 * (inner if method == "backfit" else 1)
    refine = int(share * total / unit)
    return [(total - refine * unit) // r] * r, refine


# ============================================================== orthogonality constraints
def orthogonal(Y, X, budgets, *, side: str | None = "left", refit: bool = False, eta=0.003, seed=None,
               W_star=None) -> VariantResult:
    """Algorithm 2 with orthogonality constraints between components.

    Component k runs ``budgets[k]`` steps of *projected* gradient descent on eq. (5):

    - ``side="left"``: b_k stays orthogonal to b_1, ..., b_{k-1};
    - ``side="right"``: the fitted rows a_k^T X stay orthogonal to a_j^T X, j < k;
    - ``side=None``: no constraint (plain Algorithm 2, or the refit alone).

    Exact deflation (Algorithm 1) satisfies both constraints, since its components are
    singular pairs of the projected data; gradient descent satisfies neither. With
    ``refit=True`` the factors on the *other* side are re-solved after each component,
    exactly, by least squares given the constrained ones (for ``side="left"``, and for
    ``side=None``: the a_j minimising ||Y - sum_j b_j a_j^T X||_F with the b_j fixed).
    Left-constrained with refit, the next residual is (I - P) Y with P the projector onto
    span(b_1, ..., b_k): this is *projection deflation* (Mackey, 2008). A refit after
    component k costs k component-steps (one product with the data per component).

    Parameters
    ----------
    Y : (m, n) array. X : (d, n) array. budgets : sequence of r ints >= 0.
    side : "left", "right" or None. refit : bool.
    eta, seed : as in :func:`onerank.deflation.deflate`. W_star : (m, d) array, optional.

    Returns
    -------
    VariantResult, its path as :func:`refined`'s.
    """
    _validate.flag(refit, "refit")
    if side not in ("left", "right", None):
        raise ValueError(f"side must be 'left', 'right' or None, got {side!r}")
    budgets, eta_a, eta_b, rng, rs, Z, path, A, F = _start(Y, X, budgets, eta, seed, W_star)
    m, d, r = F.shape[0], A.shape[0], len(budgets)
    compute, starts = 0, []
    try:
        with np.errstate(over="raise", invalid="raise"):
            for k in range(r):
                starts.append(compute)
                # an orthonormal basis of what the new factor must avoid (a on the right side: US C)
                basis = rs.US @ (rs.US.T @ A) if side == "right" else F
                Q = np.linalg.qr(basis)[0] if k and side else np.zeros((basis.shape[0], 0))
                a, b = initial_point(None, rng, d, m)
                if side == "left":
                    b = b - Q @ (Q.T @ b)
                    project = lambda a, b: (a, b - Q @ (Q.T @ b))  # noqa: E731
                elif side == "right":
                    project = lambda a, b: (a - Q @ (Q.T @ a), b)  # noqa: E731
                else:
                    project = None
                a, b, obj = gd_reduced(rs.residual(Z, A, F), path.outside_sq, rs.US, int(budgets[k]), a, b,
                                       eta_a, eta_b, 0.0, project=project)
                compute += obj.size - 1
                A, F = np.column_stack([A, a]), np.column_stack([F, b])
                if refit:
                    if side != "right":                      # C = argmin ||Z - F C^T||, then a = U diag(1/s) c
                        C = np.linalg.lstsq(F, Z, rcond=None)[0].T
                        A = (rs.U / rs.s) @ C
                    else:
                        C = rs.US.T @ A
                        F = np.linalg.lstsq(C, Z.T, rcond=None)[0].T
                    compute += k + 1
                path.record(compute, A, F)
    except FloatingPointError:
        raise _diverged("orthogonal deflation", eta_a, eta_b) from None
    return path.result(A, F, budgets, starts)


def orthogonal_split(total: int, r: int, refit: bool) -> list:
    """Equal budgets for :func:`orthogonal` costing at most ``total`` component-steps,
    the refits' r (r + 1) / 2 included (rounded down).

    Parameters
    ----------
    total : int >= 0. r : int >= 1. refit : bool.

    Returns
    -------
    list of r ints.
    """
    _validate.flag(refit, "refit")
    total = _validate.integer(total, "total", minimum=0)
    r = _validate.integer(r, "r", minimum=1, maximum=2**20)
    return [(total - r * (r + 1) // 2 * bool(refit)) // r] * r
