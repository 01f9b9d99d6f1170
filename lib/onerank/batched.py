"""Many runs of Algorithm 2 at once, fast: deflation vectorised over problems and schedules.

:func:`onerank.deflation.deflate` runs one problem with one schedule and keeps
every intermediate; it is the readable reference. :func:`deflate_many` here runs
P problems x S schedules together on a torch device (cuda, mps or cpu) and
returns the same numbers (a test checks agreement to 1e-9) at a fraction of
the cost. Three ideas make it fast.

1. *Exact reduced coordinates.* With the thin SVD X = U diag(s) V^T (full rank
   q = min(d, n)), write Z = Y V (m x q) and iterate on a~ = diag(s) U^T a
   instead of a. Eq. (5) becomes

       a~ <- a~ + eta_a s^2 * (Z^T b - ||b||^2 a~),     b <- b + eta_b (Z a~ - ||a~||^2 b),

   two matrix-vector products with an m x q matrix per step, and the same
   iterates as eq. (5) in exact arithmetic. The m x n residual is never formed.
2. *Rank-1 identities.* The training error, the recovery error ||W - W*||_F and
   the numerical error ||b a^T - b* a*^T||_F of the current iterate are inner
   products of vectors already at hand (plus one more product for the
   recovery error when a trace is asked for).
3. *A global clock.* Every run makes one gradient step per tick whatever
   component it is on, so schedules that share a total T share the loop and no
   run waits for another; a run that finishes a component (budget spent or
   early stop) deflates and starts the next one on the same tick. The exact
   rank-1 minimiser of each new residual comes from a few dozen Lanczos steps
   on Z Z^T (checked by its residual, with a full eigendecomposition of Z Z^T as
   the fallback) instead of an SVD.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate, config
from .rank1 import initial_point

#: Lanczos steps used for an exact rank-1 minimiser before its residual is checked.
LANCZOS_STEPS = 48
#: Largest kappa(X)^2 for which the row space is read from X X^T instead of an SVD.
GRAM_CONDITION = 1e4
#: Up to this size of the smaller side of Z, the top pair comes from an eigendecomposition
#: of the small Gram matrix, cheaper there than Lanczos (and than an SVD).
GRAM_UP_TO = 256
#: Accept a Lanczos top eigenpair (theta, u) of Z Z^T when ||Z Z^T u - theta u|| <= LANCZOS_TOL * theta.
LANCZOS_TOL = 1e-12


@dataclass
class BatchResult:
    """What :func:`deflate_many` produced for P problems x S schedules (r components).

    Attributes
    ----------
    a : (P, S, r, d) array, the fitted a_k of every run.
    b : (P, S, r, m) array, the fitted b_k.
    budgets : (S, r) int array, the schedules.
    steps : (P, S, r) int array, gradient steps actually made (early stopping may end a component early).
    train_errors : (P, S, r) array, ||Y - sum_{j<=k} b_j a_j^T X||_F.
    initial_errors : (P,) array, ||Y||_F.
    delta_norms : (P, S, r) array or None, ||b_k a_k^T - b*_k a*_k^T||_F with (a*_k, b*_k)
        the exact minimiser for the residual step k saw (Definition 1); None when ``exact=False``.
    recovery_errors : (P, S, r + 1) array or None, ||sum_{j<=k} b_j a_j^T - W*||_F for
        k = 0..r (entry 0 is ||W*||_F); None without ``W_star``.
    trace : dict or None (``trace=True``): arrays (P, S, L + 1) over the global step
        count 0..L (L the largest total budget), each run's last value carried to the end:
        ``train_error``, ``recovery_error`` (with ``W_star``), ``cumulative_delta``
        (sum_{j<k} ||delta_j|| + ||b a^T - b*_k a*_k^T|| for the iterate of component k;
        with ``exact``); and ``starts`` (P, S, r) int, the step at which component k began.
    device : str, the torch device that ran it.
    fallbacks : int, exact minimisers for which Lanczos did not meet its residual
        test and a full eigendecomposition of the Gram matrix was used (clusters of equal
        singular values do this).
    """

    a: np.ndarray
    b: np.ndarray
    budgets: np.ndarray
    steps: np.ndarray
    train_errors: np.ndarray
    initial_errors: np.ndarray
    delta_norms: np.ndarray | None
    recovery_errors: np.ndarray | None
    trace: dict | None
    device: str
    fallbacks: int

    @property
    def r(self) -> int:
        """Number of components."""
        return self.budgets.shape[1]


def deflate_many(Y, X, budgets, *, W_star=None, seeds=0, eta=0.003, tol: float | None = 1e-10,
            exact: bool = True, trace: bool = False, device: str | None = None,
            max_runs: int | None = None, progress: bool = False) -> BatchResult:
    """Algorithm 2 for every problem with every schedule.

    Parameters
    ----------
    Y : (P, m, n) or (m, n) array, the labels of P problems.
    X : (P, d, n) or (d, n) array (one X shared by all problems), each of full rank min(d, n).
    budgets : (S, r) or (r,) ints >= 0, S schedules of gradient steps per component.
    W_star : (P, m, d) or (m, d) array, optional; gives the recovery errors.
    seeds : int or P ints. Problem p draws b_k's initial value, b_k(0) ~ N(0, I/m), for
        k = 1..r from ``numpy.random.default_rng(seeds[p])`` in turn (a = 0), exactly as
        ``deflation.deflate(Y[p], X[p], budgets[s], seed=seeds[p])``; all schedules of a
        problem share these draws. An int seeds every problem alike.
    eta : float > 0 or pair (eta_a, eta_b). Default 0.003 (the authors' code).
    tol : float >= 0 or None, the early stop on the change of the training error (as
        ``rank1.gd``).
    exact : bool, also compute the exact minimisers and the numerical errors delta_k.
    trace : bool, also record errors at every step (see :class:`BatchResult`).
    device : torch device name; default :func:`onerank.config.device`. Computation is in
        float64 (float32 on mps, which has no float64).
    max_runs : int, optional, at most this many runs in memory at once (default: as many as
        fit in about 512 MiB of m x q working matrices).
    progress : bool, show a tqdm bar over the steps.

    Returns
    -------
    BatchResult
    """
    import torch

    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim == 2:
        Y = Y[None]
    if Y.ndim != 3:
        raise ValueError(f"Y must have shape (P, m, n) or (m, n), got {Y.shape}")
    P, m, n = Y.shape
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 2:
        X = X[None]
    if X.ndim != 3 or X.shape[2] != n or X.shape[0] not in (1, P):
        raise ValueError(f"X must have shape (P, d, n) = ({P}, d, {n}) or (d, {n}), got {X.shape}")
    d = X.shape[1]
    if not (np.all(np.isfinite(Y)) and np.all(np.isfinite(X))):
        raise ValueError("Y and X must be finite")
    budgets = np.asarray(budgets)
    if budgets.ndim == 1:
        budgets = budgets[None]
    if budgets.ndim != 2 or budgets.shape[1] < 1 or not np.issubdtype(budgets.dtype, np.integer) \
            or np.any(budgets < 0):
        raise ValueError(f"budgets must be an (S, r) or (r,) array of ints >= 0, got {budgets!r}")
    S, r = budgets.shape
    if r > min(m, d):
        raise ValueError(f"r (columns of budgets) must be <= min(m, d) = {min(m, d)}, got {r}")
    if W_star is not None:
        W_star = np.asarray(W_star, dtype=np.float64)
        if W_star.ndim == 2:
            W_star = W_star[None]
        if W_star.shape[1:] != (m, d) or W_star.shape[0] not in (1, P):
            raise ValueError(f"W_star must have shape (P, m, d) = ({P}, {m}, {d}) or ({m}, {d}), got {W_star.shape}")
    seeds = np.broadcast_to(np.asarray(seeds), (P,)) if np.ndim(seeds) == 0 else np.asarray(seeds)
    if seeds.shape != (P,):
        raise ValueError(f"seeds must be an int or {P} ints (one per problem), got shape {seeds.shape}")
    eta_a, eta_b = _validate.step_sizes(eta)
    tol = 0.0 if tol is None else _validate.real(tol, "tol", nonnegative=True)
    device = device or config.device()
    dtype = torch.float32 if str(device).startswith("mps") else torch.float64
    dev = torch.device(device)

    # ---- per problem: row space of X, coordinates of Y and W*, initial points
    # problems that share an X (same values) share its row space: it is computed once
    first = {}
    which = np.array([first.setdefault(X[min(i, X.shape[0] - 1)].tobytes(), len(first)) for i in range(P)])
    unique = [min(i, X.shape[0] - 1) for i in np.unique(which, return_index=True)[1]]
    Xt = torch.as_tensor(X[unique], device=dev, dtype=dtype)
    xmap = torch.as_tensor(which, device=dev)                      # problem -> its X in Xt
    Yt = torch.as_tensor(Y, device=dev, dtype=dtype)
    U, s, Zp, outside = _coordinates(Xt, Yt, xmap)
    del Yt
    Gp = Wout = None
    if W_star is not None:
        Wt = torch.as_tensor(W_star, device=dev, dtype=dtype).expand(P, m, d)
        Ux = U[xmap]
        Gp = -(Wt @ Ux)                                             # (W_0 - W*) U with W_0 = 0
        Wout = ((Wt + Gp @ Ux.transpose(1, 2)) ** 2).sum((1, 2))   # ||W* (I - U U^T)||^2
        w_norm = torch.linalg.norm(Wt, dim=(1, 2))
        del Wt, Ux
    b0 = np.stack([_draws(int(sd), r, m) for sd in seeds])        # (P, r, m)

    q = s.shape[1]
    runs = P * S
    if max_runs is None:
        copies = 3 if W_star is not None else 2                     # Z, Z^T and ((W - W*) U)^T
        max_runs = max(1, int(512 * 2**20 // (8 * m * q * copies)))
    L = int(budgets.sum(axis=1).max())
    out = _Outputs(P, S, r, m, d, L, exact, W_star is not None, trace)
    fallbacks = 0
    bar = None
    if progress:
        bar = config.progress(total=runs * (L + 1), desc="gradient steps", unit="step", unit_scale=True)
    for start in range(0, runs, max_runs):
        idx = np.arange(start, min(runs, start + max_runs))
        p_idx = torch.as_tensor(idx // S, device=dev)
        s_idx = idx % S
        pr = xmap[p_idx]
        chunk = _Chunk(
            Z=Zp[p_idx].clone(), s2=s[pr] ** 2, s_inv=1.0 / s[pr], outside=outside[p_idx],
            G=None if Gp is None else Gp[p_idx].clone(), wout=None if Wout is None else Wout[p_idx],
            budgets=torch.as_tensor(budgets[s_idx], device=dev),
            b0=torch.as_tensor(b0[idx // S], device=dev, dtype=dtype),
            eta_a=eta_a, eta_b=eta_b, tol=tol, exact=exact, trace=trace, L=L, bar=bar,
        )
        chunk.run()
        fallbacks += chunk.fallbacks
        a_full = (chunk.A * chunk.s_inv[:, None, :]) @ U[pr].transpose(1, 2)   # a = U diag(1/s) a~
        out.store(idx // S, s_idx, chunk, a_full)
    if bar is not None:
        bar.close()
    rec = None
    if W_star is not None:
        rec = out.recovery
        rec[:, :, 0] = w_norm.cpu().numpy()[:, None]
    return BatchResult(
        a=out.a, b=out.b, budgets=budgets.astype(np.int64), steps=out.steps,
        train_errors=out.train, initial_errors=np.linalg.norm(Y, axis=(1, 2)),
        delta_norms=out.delta if exact else None, recovery_errors=rec,
        trace=out.trace_dict() if trace else None, device=str(dev), fallbacks=fallbacks,
    )


def _coordinates(X, Y, px):
    """Row space of each X[p] (d x n, full rank q = min(d, n)) and the coordinates of Y[i] in it.

    Returns U (Px, d, q), s (Px, q): X = U diag(s) V^T; Z (P, m, q) = Y[i] V of X[px[i]];
    outside (P,) = ||Y[i] (I - V V^T)||_F^2.

    When d <= n and X is well conditioned (kappa(X)^2 <= GRAM_CONDITION), U and s come from
    the eigendecomposition of the d x d Gram matrix X X^T and Z = (Y X^T) U diag(1/s), several
    times cheaper than an SVD of a wide X, accurate to about eps * kappa(X)^2; then outside is
    ||Y||^2 - ||Z||^2, accurate to about eps ||Y||_F^2 (it only shifts the training error by a
    constant). Otherwise everything comes from an SVD of X.
    """
    import torch
    P, d, n = X.shape
    eps = torch.finfo(X.dtype).eps
    if d <= n:
        lam, U = torch.linalg.eigh(X @ X.transpose(1, 2))
        lam, U = lam.flip(1), U.flip(2)
        if bool((lam[:, -1] > 0).all()) and bool((lam[:, 0] <= GRAM_CONDITION * lam[:, -1]).all()):
            s = torch.sqrt(lam)
            Z = ((Y @ X[px].transpose(1, 2)) @ U[px]) / s[px].unsqueeze(1)
            outside = torch.clamp((Y * Y).sum((1, 2)) - (Z * Z).sum((1, 2)), min=0.0)
            return U, s, Z, outside
    U, s, Vh = torch.linalg.svd(X, full_matrices=False)
    if bool((s <= s[:, :1] * max(d, n) * eps).any()):
        raise ValueError("X must have full rank min(d, n) in every problem; use "
                         "onerank.deflation.deflate for rank-deficient X")
    Z = Y @ Vh[px].transpose(1, 2)
    outside = ((Y - Z @ Vh[px]) ** 2).sum((1, 2))
    return U, s, Z, outside


def _draws(seed: int, r: int, m: int) -> np.ndarray:
    """b_k(0) for k = 1..r, drawn in turn from default_rng(seed) by the rule of
    rank1.gd (a_k(0) = 0 needs no draw), as deflation.deflate does."""
    rng = np.random.default_rng(seed)
    return np.stack([initial_point(None, rng, 0, m)[1] for _ in range(r)])


class _Chunk:
    """The state of R runs advancing together (one torch tensor per quantity, runs first)."""

    def __init__(self, *, Z, s2, s_inv, outside, G, wout, budgets, b0, eta_a, eta_b, tol,
                 exact, trace, L, bar):
        import torch
        self.torch = torch
        R, m, q = Z.shape
        r = budgets.shape[1]
        kw = dict(device=Z.device, dtype=Z.dtype)
        # Z and its transpose are both kept contiguous: a product of a row vector with a
        # contiguous matrix (b^T Z, a~^T Z^T) is several times faster than bmm with a column.
        self.Z, self.Zt = Z, Z.transpose(1, 2).contiguous()
        self.s2, self.s_inv, self.outside, self.wout = s2, s_inv, outside, wout
        self.Gt = None if G is None else G.transpose(1, 2).contiguous()   # ((W_k - W*) U)^T
        self.budgets, self.b0, self.r = budgets, b0, r
        self.eta_a, self.eta_b, self.tol, self.exact, self.trace, self.L, self.bar = \
            eta_a, eta_b, tol, exact, trace, L, bar
        self.A = torch.zeros(R, r, q, **kw)
        self.B = torch.zeros(R, r, m, **kw)
        self.steps = torch.zeros(R, r, dtype=torch.long, device=Z.device)
        self.train = torch.zeros(R, r, **kw)
        self.delta = torch.zeros(R, r, **kw)
        self.rec = torch.zeros(R, r + 1, **kw)
        self.zz = (Z * Z).sum((1, 2))
        self.gg = None if G is None else (G * G).sum((1, 2))
        self.recovery = G is not None                   # track ||W - W*|| (W_star was given)
        self.k = torch.zeros(R, dtype=torch.long, device=Z.device)
        self.t = torch.zeros(R, dtype=torch.long, device=Z.device)
        self.at = torch.zeros(R, q, **kw)
        self.b = b0[:, 0].clone()
        self.err_prev = torch.zeros(R, **kw)
        self.done = torch.zeros(R, dtype=torch.bool, device=Z.device)
        self.budget = budgets[:, 0].clone()             # budget of each run's current component
        self.cum = torch.zeros(R, **kw)                 # sum of ||delta_j|| over finished components
        self.bs = torch.zeros(R, m, **kw)               # exact minimiser of the current component,
        self.as_ = torch.zeros(R, q, **kw)              # in the same coordinates as (b, a~)
        self.fallbacks = 0
        self.starts = torch.zeros(R, r, dtype=torch.long, device=Z.device)
        if trace:
            self.tr = {name: torch.full((R, L + 1), float("nan"), **kw)
                       for name in ("train_error", "recovery_error", "cumulative_delta")}

    # ---------------------------------------------------------------- pieces
    def _evaluate(self, J=None):
        """Z a~, Z^T b and the training error ||Z - b a~^T||^2 + outside, for runs J (None: all)."""
        torch = self.torch
        if J is None:
            Z, Zt, at, b, zz, out = self.Z, self.Zt, self.at, self.b, self.zz, self.outside
        else:
            Z, Zt, at, b, zz, out = self.Z[J], self.Zt[J], self.at[J], self.b[J], self.zz[J], self.outside[J]
        qv = torch.bmm(at.unsqueeze(1), Zt).squeeze(1)        # Z a~
        pv = torch.bmm(b.unsqueeze(1), Z).squeeze(1)          # Z^T b
        f2 = zz - 2 * (b * qv).sum(1) + (b * b).sum(1) * (at * at).sum(1) + out
        return qv, pv, torch.sqrt(torch.clamp(f2, min=0))

    def _delta_now(self, J):
        """||b a^T - b* a*^T||_F for the current iterates of runs J, an index tensor or a slice
        (a = U diag(1/s) a~)."""
        torch = self.torch
        b, bs = self.b[J], self.bs[J]
        x, xs = self.at[J] * self.s_inv[J], self.as_[J] * self.s_inv[J]
        d2 = ((b * b).sum(1) * (x * x).sum(1) - 2 * (b * bs).sum(1) * (x * xs).sum(1)
              + (bs * bs).sum(1) * (xs * xs).sum(1))
        return torch.sqrt(torch.clamp(d2, min=0))

    def _recovery_now(self, J):
        """||W_k + b a^T - W*||_F for the current iterates of runs J (index tensor or slice)."""
        torch = self.torch
        b, x = self.b[J], self.at[J] * self.s_inv[J]
        gx = torch.bmm(x.unsqueeze(1), self.Gt[J]).squeeze(1)
        r2 = self.gg[J] + 2 * (b * gx).sum(1) + (b * b).sum(1) * (x * x).sum(1) + self.wout[J]
        return torch.sqrt(torch.clamp(r2, min=0))

    def _exact_pair(self, J):
        sigma, u, w, bad = _top_pair(self.Z[J], self.Zt[J])
        self.fallbacks += bad
        root = self.torch.sqrt(sigma).unsqueeze(1)
        self.bs[J], self.as_[J] = root * u, root * w

    def _finish(self, J, tau):
        """Runs J end their current component at step tau: store it, deflate, begin the next."""
        torch = self.torch
        kJ = self.k[J]
        at, b = self.at[J], self.b[J]
        self.A[J, kJ], self.B[J, kJ], self.steps[J, kJ] = at, b, self.t[J]
        if self.exact:
            dl = self._delta_now(J)
            self.delta[J, kJ] = dl
            self.cum[J] += dl
        self.Z.index_add_(0, J, b.unsqueeze(2) * at.unsqueeze(1), alpha=-1)     # deflate, in place,
        self.Zt.index_add_(0, J, at.unsqueeze(2) * b.unsqueeze(1), alpha=-1)    # in both layouts
        self.zz[J] = torch.linalg.vector_norm(self.Z[J], dim=(1, 2)) ** 2
        self.train[J, kJ] = torch.sqrt(self.zz[J] + self.outside[J])
        if self.recovery:
            self.Gt.index_add_(0, J, (at * self.s_inv[J]).unsqueeze(2) * b.unsqueeze(1))
            self.gg[J] = torch.linalg.vector_norm(self.Gt[J], dim=(1, 2)) ** 2
            self.rec[J, kJ + 1] = torch.sqrt(self.gg[J] + self.wout[J])
        self.k[J] += 1
        self.t[J] = 0
        self.at[J] = 0.0
        ended = self.k[J] >= self.r
        if self.trace and bool(ended.any()):
            E = J[ended]
            last = self.k[E] - 1
            self.tr["train_error"][E, tau:] = self.train[E, last].unsqueeze(1)
            self.tr["cumulative_delta"][E, tau:] = self.cum[E].unsqueeze(1)
            if self.recovery:
                self.tr["recovery_error"][E, tau:] = self.rec[E, last + 1].unsqueeze(1)
        self.done[J[ended]] = True
        C = J[~ended]
        if C.numel():
            kC = self.k[C]
            self.budget[C] = self.budgets[C, kC]
            self.b[C] = self.b0[C, kC]
            self.starts[C, kC] = tau
            if self.exact:
                self._exact_pair(C)

    # ---------------------------------------------------------------- the clock
    def run(self):
        torch = self.torch
        R = self.Z.shape[0]
        if self.exact:
            self._exact_pair(torch.arange(R, device=self.Z.device))
        for tau in range(self.L + 1):
            qv, pv, err = self._evaluate()
            fin = ~self.done & ((self.t >= self.budget)
                                | ((self.t > 0) & ((self.err_prev - err).abs() < self.tol)))
            while bool(fin.any()):
                J = fin.nonzero().squeeze(1)
                self._finish(J, tau)
                alive = J[~self.done[J]]
                fin = torch.zeros_like(fin)
                if alive.numel():
                    qv[alive], pv[alive], err[alive] = self._evaluate(alive)
                    fin[alive] = self.t[alive] >= self.budget[alive]
            active = ~self.done
            if not bool(active.any()):
                break
            if self.trace:                                  # all runs at once (a slice is a view,
                every = slice(None)                         # an index list would copy G)
                now = {"train_error": err}
                if self.exact:
                    now["cumulative_delta"] = self.cum + self._delta_now(every)
                if self.recovery:
                    now["recovery_error"] = self._recovery_now(every)
                for name, value in now.items():
                    self.tr[name][:, tau] = torch.where(active, value, self.tr[name][:, tau])
            mask = active.to(self.Z.dtype).unsqueeze(1)
            bb = (self.b * self.b).sum(1, keepdim=True)
            aa = (self.at * self.at).sum(1, keepdim=True)
            self.at = self.at + (self.eta_a * mask) * self.s2 * (pv - bb * self.at)
            self.b = self.b + (self.eta_b * mask) * (qv - aa * self.b)
            self.t += active.long()
            self.err_prev = torch.where(active, err, self.err_prev)
            if tau % 16 == 15 and not bool(torch.isfinite(err).all()):
                raise FloatingPointError(
                    f"gradient descent diverged at global step {tau + 1} "
                    f"(eta_a={self.eta_a}, eta_b={self.eta_b}); use a smaller eta")
            if self.bar is not None:
                self.bar.update(int(active.sum()))
        if not bool(torch.isfinite(self.train).all()):
            raise FloatingPointError(f"gradient descent diverged (eta_a={self.eta_a}, eta_b={self.eta_b}); "
                                     "use a smaller eta")
        if not bool(self.done.all()):
            raise RuntimeError("internal error: runs left unfinished after their budgets")


def _top_pair(Z, Zt):
    """Top singular triplet of each Z[j] (J x m x q): sigma (J,), u (J, m), w (J, q), fallbacks.

    Small sizes: eigendecomposition of the smaller Gram matrix. Otherwise Lanczos with full
    reorthogonalisation on it, then a residual test
    (||M u - theta u|| <= LANCZOS_TOL * theta, M = Z Z^T or Z^T Z); runs that fail it (tiny or
    zero gaps, Z = 0) get a full SVD.
    """
    import torch
    J, m, q = Z.shape
    A, At = (Zt, Z) if m > q else (Z, Zt)              # A (J, k1, k2), k1 <= k2, both contiguous
    k1 = A.shape[1]
    if k1 <= GRAM_UP_TO:
        return _gram_top(A, At, m > q) + (0,)
    K = LANCZOS_STEPS
    gen = torch.Generator(device=Z.device).manual_seed(0)
    v = torch.randn(J, k1, generator=gen, device=Z.device, dtype=Z.dtype)
    v = v / torch.linalg.norm(v, dim=1, keepdim=True)
    Q = torch.zeros(J, k1, K, device=Z.device, dtype=Z.dtype)
    MQ = torch.zeros_like(Q)
    for j in range(K):
        Q[:, :, j] = v
        w = torch.bmm(torch.bmm(v.unsqueeze(1), A), At).squeeze(1)     # A A^T v, as row vectors
        MQ[:, :, j] = w
        Qj = Q[:, :, : j + 1]
        for _ in range(2):                                  # classical Gram-Schmidt, twice
            w = w - torch.bmm(Qj, torch.bmm(Qj.transpose(1, 2), w.unsqueeze(2))).squeeze(2)
        nrm = torch.linalg.norm(w, dim=1, keepdim=True)
        lost = nrm.squeeze(1) <= 1e-10 * torch.linalg.norm(MQ[:, :, j], dim=1).clamp(min=1e-300)
        if bool(lost.any()):                                # invariant subspace found: restart there
            fresh = torch.randn(int(lost.sum()), k1, generator=gen, device=Z.device, dtype=Z.dtype)
            for _ in range(2):
                fresh = fresh - torch.bmm(Qj[lost], torch.bmm(Qj[lost].transpose(1, 2),
                                                             fresh.unsqueeze(2))).squeeze(2)
            w[lost] = fresh
            nrm = torch.linalg.norm(w, dim=1, keepdim=True)
        v = w / nrm
        if (j + 1) % 8 == 0 and j + 1 < K:             # converged already? (a cheap estimate:
            Tj = Q[:, :, : j + 1].transpose(1, 2) @ MQ[:, :, : j + 1]   # the new direction's weight)
            th, Yj = torch.linalg.eigh(0.5 * (Tj + Tj.transpose(1, 2)))
            if bool((nrm.squeeze(1) * Yj[:, -1, -1].abs() <= 0.1 * LANCZOS_TOL * th[:, -1]).all()):
                Q, MQ = Q[:, :, : j + 1], MQ[:, :, : j + 1]
                break
    T = Q.transpose(1, 2) @ MQ
    theta, Yv = torch.linalg.eigh(0.5 * (T + T.transpose(1, 2)))
    u = torch.bmm(Q, Yv[:, :, -1:]).squeeze(2)
    u = u / torch.linalg.norm(u, dim=1, keepdim=True)
    Atu = torch.bmm(u.unsqueeze(1), A).squeeze(1)
    th = (Atu * Atu).sum(1)
    res = torch.linalg.norm(torch.bmm(Atu.unsqueeze(1), At).squeeze(1) - th.unsqueeze(1) * u, dim=1)
    sigma = torch.sqrt(th)
    x = Atu / sigma.clamp(min=1e-300).unsqueeze(1)
    bad = ~(res <= LANCZOS_TOL * th)
    nbad = int(bad.sum())
    if nbad:
        sb, ub, xb = _gram_top(A[bad], At[bad], False)
        sigma, x, u = sigma.clone(), x.clone(), u.clone()
        sigma[bad], u[bad], x[bad] = sb, ub, xb
    if m > q:                                           # A = Z^T: u is Z's right vector
        return sigma, x, u, nbad
    return sigma, u, x, nbad


def _gram_top(A, At, transposed):
    """Top singular triplet of each A (J x k1 x k2, k1 <= k2) from an eigendecomposition of the
    k1 x k1 Gram matrix A A^T. Its top eigenvector is as accurate as A's top singular vector:
    an error eps ||A A^T|| over the gap sigma_1^2 - sigma_2^2 is at most eps sigma_1 / (sigma_1 - sigma_2).
    Returns (sigma, left, right) of Z, where Z = A^T when ``transposed``."""
    import torch
    lam, vec = torch.linalg.eigh(A @ At)
    u = vec[:, :, -1]
    Atu = torch.bmm(u.unsqueeze(1), A).squeeze(1)
    sigma = torch.linalg.norm(Atu, dim=1)
    x = Atu / sigma.clamp(min=1e-300).unsqueeze(1)
    return (sigma, x, u) if transposed else (sigma, u, x)


class _Outputs:
    """numpy arrays (P, S, ...) filled chunk by chunk."""

    def __init__(self, P, S, r, m, d, L, exact, recovery, trace):
        self.a = np.zeros((P, S, r, d))
        self.b = np.zeros((P, S, r, m))
        self.steps = np.zeros((P, S, r), dtype=np.int64)
        self.train = np.zeros((P, S, r))
        self.delta = np.zeros((P, S, r)) if exact else None
        self.recovery = np.zeros((P, S, r + 1)) if recovery else None
        self.exact, self.trace = exact, trace
        if trace:
            self.tr = {"train_error": np.zeros((P, S, L + 1))}
            if exact:
                self.tr["cumulative_delta"] = np.zeros((P, S, L + 1))
            if recovery:
                self.tr["recovery_error"] = np.zeros((P, S, L + 1))
            self.tr["starts"] = np.zeros((P, S, r), dtype=np.int64)

    def store(self, p, s, chunk, a_full):
        cpu = lambda t: t.detach().cpu().numpy().astype(np.float64)   # noqa: E731
        self.a[p, s] = cpu(a_full)
        self.b[p, s] = cpu(chunk.B)
        self.steps[p, s] = chunk.steps.cpu().numpy()
        self.train[p, s] = cpu(chunk.train)
        if self.exact:
            self.delta[p, s] = cpu(chunk.delta)
        if self.recovery is not None:
            self.recovery[p, s] = cpu(chunk.rec)
        if self.trace:
            for name in self.tr:
                if name == "starts":
                    self.tr[name][p, s] = chunk.starts.cpu().numpy()
                else:
                    self.tr[name][p, s] = cpu(chunk.tr[name])

    def trace_dict(self):
        return self.tr
