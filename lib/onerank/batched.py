"""Many runs of Algorithm 2 at once, fast: deflation vectorised over problems and schedules.

:func:`onerank.deflation.deflate` runs one problem with one schedule and keeps
every intermediate; it is the readable reference. :func:`deflate_many` here runs
P problems x S schedules together on a torch device (cuda, mps or cpu) and
returns the same numbers (a test checks agreement to 1e-9) at a fraction of
the cost. Four ideas make it fast.

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
   rank-1 minimiser of each new residual (for delta_k) comes from the Gram
   matrix of the smaller side, by an eigendecomposition up to GRAM_UP_TO and by
   Lanczos above (checked by its residual, an eigendecomposition the fallback).
   Without a trace nothing needs it during the run: all of them are computed
   after it, every run and component at once, by Lanczos on Z_k applied as in 4
   below and started from the run's own b_k, which gradient descent has already
   turned towards the top singular vector (about 16 to 24 steps).
4. *One matrix for all runs of a problem.* Problems given with the same X, Y
   and W* (the same problem from other initial points) are one group, and every
   run of a group (its problems times the schedules) works with the group's Z.
   Run i on component k needs Z_k = Z - sum_{j<k} b_j a~_j^T only through
   Z_k a~ = Z a~ - sum_j b_j (a~_j . a~) and Z_k^T b, so one tick of all the
   runs of a group is one matrix-matrix product with Z in each direction plus
   rank-k corrections; the deflated Z_k is formed only for an exact minimiser
   of a traced run (or a Lanczos fallback).
   A Z of low numerical rank (a noiseless Y = W* X) is kept as the factors of
   its SVD, truncated at rounding level, which makes each product cost
   rank * (m + q) instead of m * q.
"""

from __future__ import annotations

import hashlib
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
#: Memory for the Lanczos bases when the exact minimisers of many runs are computed together.
EXACT_BLOCK_BYTES = 2**27


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
    max_runs : int >= 1, optional, at most this many runs advance together (default: no
        limit on runs; the groups held at once fit in about 512 MiB of m x q matrices).
        Results do not depend on it beyond rounding.
    progress : bool, show a tqdm bar over the steps.

    Returns
    -------
    BatchResult
    """
    for _name, _value in (("exact", exact), ("trace", trace), ("progress", progress)):
        _validate.flag(_value, _name)
    import torch

    Y = _validate.real_array(Y, "Y")
    if Y.ndim == 2:
        Y = Y[None]
    if Y.ndim != 3:
        raise ValueError(f"Y must have shape (P, m, n) or (m, n), got {Y.shape}")
    P, m, n = Y.shape
    X = _validate.real_array(X, "X")
    if X.ndim == 2:
        X = X[None]
    if X.ndim == 3 and X.shape[2] != n:
        raise ValueError(f"Y (P, m, n) and X (P, d, n) must have the same number of columns n; "
                         f"got Y {Y.shape} and X {X.shape}")
    if X.ndim != 3 or X.shape[0] not in (1, P):
        raise ValueError(f"X must have shape (P, d, n) = ({P}, d, {n}) or (d, {n}), got {X.shape}")
    d = X.shape[1]
    if 0 in (P, m, n, d):
        raise ValueError(f"Y and X must not be empty: got Y {Y.shape} and X {X.shape}")
    _validate.finite(Y, "Y"), _validate.finite(X, "X")
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
        W_star = _validate.real_array(W_star, "W_star")
        if W_star.ndim == 2:
            W_star = W_star[None]
        if W_star.shape[1:] != (m, d) or W_star.shape[0] not in (1, P):
            raise ValueError(f"W_star must have shape (P, m, d) = ({P}, {m}, {d}) or ({m}, {d}), got {W_star.shape}")
    seeds = np.broadcast_to(np.asarray(seeds), (P,)) if np.ndim(seeds) == 0 else np.asarray(seeds)
    if seeds.shape != (P,):
        raise ValueError(f"seeds must be an int or {P} ints (one per problem), got shape {seeds.shape}")
    if not (np.issubdtype(seeds.dtype, np.integer) and np.all(seeds >= 0)):
        raise ValueError(f"seeds must be ints >= 0 (one per problem), got {seeds.tolist()!r}")
    if W_star is not None and not np.all(np.isfinite(W_star)):
        raise ValueError("W_star must be finite")
    if max_runs is not None and (isinstance(max_runs, bool) or not isinstance(max_runs, (int, np.integer))
                                 or max_runs < 1):
        raise ValueError(f"max_runs must be an int >= 1 or None, got {max_runs!r}")
    eta_a, eta_b = _validate.step_sizes(eta)
    tol = 0.0 if tol is None else _validate.real(tol, "tol", nonnegative=True)
    device = config.torch_device(device)
    dtype = torch.float32 if str(device).startswith("mps") else torch.float64
    dev = torch.device(device)

    # ---- groups: problems with the same X, Y (and W*) are one problem run from several
    # initial points; they share their coordinates, computed once per group
    xkey = [_digest(X[min(i, X.shape[0] - 1)]) for i in range(P)]
    xfirst, gfirst = {}, {}
    which_x = np.array([xfirst.setdefault(k, len(xfirst)) for k in xkey])
    group = np.array([gfirst.setdefault(
        (xkey[i], _digest(Y[i]), b"" if W_star is None else _digest(W_star[min(i, W_star.shape[0] - 1)])),
        len(gfirst)) for i in range(P)])
    reps = np.unique(group, return_index=True)[1]                 # first problem of each group
    x_reps = np.unique(which_x, return_index=True)[1]
    Xt = torch.as_tensor(X[[min(i, X.shape[0] - 1) for i in x_reps]], device=dev, dtype=dtype)
    gx = torch.as_tensor(which_x[reps], device=dev)                # group -> its X in Xt
    Yt = torch.as_tensor(Y[reps], device=dev, dtype=dtype)
    U, s, Zg, outside = _coordinates(Xt, Yt, gx)
    del Yt
    Gg = Wout = None
    if W_star is not None:
        Wt = torch.as_tensor(W_star[[min(i, W_star.shape[0] - 1) for i in reps]], device=dev, dtype=dtype)
        Ux = U[gx]
        Gg = -(Wt @ Ux)                                             # (W_0 - W*) U with W_0 = 0
        Wout = ((Wt + Gg @ Ux.transpose(1, 2)) ** 2).sum((1, 2))   # ||W* (I - U U^T)||^2
        w_norm = torch.linalg.norm(Wt, dim=(1, 2)).cpu().numpy()[group]
        del Wt, Ux
    b0 = np.stack([_draws(int(sd), r, m) for sd in seeds])        # (P, r, m)

    q = s.shape[1]
    copies = 3 if W_star is not None else 2                         # Z, Z^T (and G^T) per group
    per_chunk = max(1, int(512 * 2**20 // (8 * m * q * copies)))    # groups held at once
    L = int(budgets.sum(axis=1).max())
    _validate.fits(P * S * (r * (m + d) + (3 * (L + 1) if trace else 0)),
                   f"the outputs of P={P} problems x S={S} schedules (r={r}, m={m}, d={d}"
                   + (f", traces of {L + 1} steps, the largest total of budgets)" if trace else ")"))
    out = _Outputs(P, S, r, m, d, L, exact, W_star is not None, trace)
    fallbacks = 0
    bar = None
    if progress:
        bar = config.progress(total=P * S * (L + 1), desc="gradient steps", unit="step", unit_scale=True)
    for pieces in _chunks(group, S, max_runs, per_chunk):
        # pieces: one list of run numbers (p * S + schedule) per slot; every run of a slot
        # belongs to the slot's group. Slots are padded to one width with idle runs.
        width = max(len(pc) for pc in pieces)
        idx = np.full((len(pieces), width), -1)
        for c, pc in enumerate(pieces):
            idx[c, : len(pc)] = pc
        idx = idx.ravel()
        real = idx >= 0
        runs_p = np.where(real, idx // S, 0)
        runs_s = np.where(real, idx % S, 0)
        slot_group = torch.as_tensor(group[[pc[0] // S for pc in pieces]], device=dev)
        pr = gx[slot_group]                                          # slot -> its X
        s_run = s[pr].repeat_interleave(width, 0)
        chunk = _Chunk(
            Z=Zg[slot_group], G0=None if Gg is None else Gg[slot_group], width=width,
            s2=s_run ** 2, s_inv=1.0 / s_run, outside=outside[slot_group].repeat_interleave(width),
            wout=None if Wout is None else Wout[slot_group].repeat_interleave(width),
            budgets=torch.as_tensor(np.where(real[:, None], budgets[runs_s], 0), device=dev),
            b0=torch.as_tensor(np.where(real[:, None, None], b0[runs_p], 0.0), device=dev, dtype=dtype),
            idle=torch.as_tensor(~real, device=dev),
            eta_a=eta_a, eta_b=eta_b, tol=tol, exact=exact, trace=trace, L=L, bar=bar,
        )
        chunk.run()
        fallbacks += chunk.fallbacks
        keep = torch.as_tensor(np.nonzero(real)[0], device=dev)
        U_run = U[pr].repeat_interleave(width, 0)[keep]
        a_full = (chunk.A[keep] * chunk.s_inv[keep, None, :]) @ U_run.transpose(1, 2)   # a = U diag(1/s) a~
        out.store(runs_p[real], runs_s[real], chunk, keep, a_full)
    if bar is not None:
        bar.close()
    rec = None
    if W_star is not None:
        rec = out.recovery
        rec[:, :, 0] = w_norm[:, None]
    return BatchResult(
        a=out.a, b=out.b, budgets=budgets.astype(np.int64), steps=out.steps,
        train_errors=out.train, initial_errors=np.linalg.norm(Y, axis=(1, 2)),
        delta_norms=out.delta if exact else None, recovery_errors=rec,
        trace=out.trace_dict() if trace else None, device=str(dev), fallbacks=fallbacks,
    )


def _digest(a: np.ndarray) -> bytes:
    """A fingerprint of an array's values (to find problems that share X, Y and W*)."""
    a = np.ascontiguousarray(a)
    return hashlib.blake2b(a.view(np.uint8).reshape(-1), digest_size=20).digest() + repr(a.shape).encode()


def _chunks(group, S, max_runs, per_chunk):
    """Split the runs (p * S + schedule) into chunks of slots: each slot holds runs of one group
    (at most ``max_runs`` runs per chunk, at most ``per_chunk`` slots). Yields lists of slots."""
    slots = []
    for g in np.unique(group):
        runs = [p * S + j for p in np.nonzero(group == g)[0] for j in range(S)]
        step = len(runs) if max_runs is None else max_runs
        slots += [runs[i:i + step] for i in range(0, len(runs), step)]
    chunk, size = [], 0
    for sl in slots:
        if chunk and (len(chunk) >= per_chunk or (max_runs is not None and size + len(sl) > max_runs)):
            yield chunk
            chunk, size = [], 0
        chunk.append(sl)
        size += len(sl)
    if chunk:
        yield chunk


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


class _Shared:
    """One matrix per slot, M (C, k1, k2), kept dense or, when every M[c] has low
    numerical rank, as factors M = L R (L (C, k1, rho), R (C, rho, k2)).

    A noiseless Y = W* X gives Z = Y V of rank r (and G_0 = -W* U has the rank of W*):
    then a product with Z costs rho (k1 + k2) instead of k1 k2 per vector and reads a few
    hundred kilobytes instead of the whole matrix. The factors come from an SVD that drops
    only singular values below ``10 max(k1, k2) eps sigma_1`` (rounding level), so the
    products agree with the dense ones to rounding.
    """

    def __init__(self, M, factors=None):
        self.M, self.factors = M, factors
        self.dense = factors is None
        self.shape = M.shape if M is not None else (factors[0].shape[0], factors[0].shape[1],
                                                   factors[1].shape[2])

    @classmethod
    def of(cls, M):
        """Factored when that pays (rank rho with rho (k1 + k2) <= k1 k2 / 2), else dense."""
        import torch
        C, k1, k2 = M.shape
        keep = int(k1 * k2 // (2 * (k1 + k2)))
        small = min(k1, k2)
        if keep < 1 or keep >= small:
            return cls(M)
        gram = M @ M.transpose(1, 2) if k1 <= k2 else M.transpose(1, 2) @ M
        lam = torch.linalg.eigvalsh(gram).flip(1)               # cheap test first: a clearly
        if bool((lam[:, keep] > 1e-10 * lam[:, 0]).any()):      # full spectrum stays dense
            return cls(M)
        U, S, Vh = torch.linalg.svd(M, full_matrices=False)
        eps = torch.finfo(M.dtype).eps
        rho = int((S > 10 * max(k1, k2) * eps * S[:, :1]).sum(1).max())
        if rho > keep:
            return cls(M)
        rho = max(rho, 1)
        return cls(None, ((U[:, :, :rho] * S[:, None, :rho]).contiguous(), Vh[:, :rho].contiguous()))

    def t(self):
        """The transposed matrices, in the same form (contiguous)."""
        if self.dense:
            return _Shared(self.M.transpose(1, 2).contiguous())
        L, R = self.factors
        return _Shared(None, (R.transpose(1, 2).contiguous(), L.transpose(1, 2).contiguous()))

    def rows(self, V):
        """Row vectors times their slot's matrix: V (C * p, ..., k1), the rows of slot c in the
        c-th block of p, -> (C * p, ..., k2)."""
        import torch
        Vs = V.reshape(self.shape[0], -1, V.shape[-1])
        if self.dense:
            out = torch.bmm(Vs, self.M)
        else:
            out = torch.bmm(torch.bmm(Vs, self.factors[0]), self.factors[1])
        return out.reshape(*V.shape[:-1], out.shape[-1])

    def sub(self, c0, c1):
        """Slots c0..c1-1, in the same form."""
        if self.dense:
            return _Shared(self.M[c0:c1])
        L, R = self.factors
        return _Shared(None, (L[c0:c1], R[c0:c1]))

    def matrices(self, idx):
        """The dense matrices of slots ``idx`` (formed from the factors if need be)."""
        if self.dense:
            return self.M[idx]
        return self.factors[0][idx] @ self.factors[1][idx]


class _Chunk:
    """The state of R runs advancing together (one torch tensor per quantity, runs first).

    The runs sit in C slots of ``width`` runs each; the runs of a slot solve one problem
    (from their own initial points and schedules), so they share its coordinates Z (m x q)
    and, for the recovery error, G_0 = -W* U. A run never copies them: its residual is
    Z_k = Z - sum_{j<k} b_j a~_j^T, applied as Z v minus the low-rank correction, so one
    step of all the runs of a slot is one matrix-matrix product with Z in each direction.
    ``idle`` runs pad the slots to one width; they are finished from the start.
    """

    def __init__(self, *, Z, G0, width, s2, s_inv, outside, wout, budgets, b0, idle, eta_a, eta_b,
                 tol, exact, trace, L, bar):
        import torch
        self.torch = torch
        C, m, q = Z.shape
        R = C * width
        r = budgets.shape[1]
        kw = dict(device=Z.device, dtype=Z.dtype)
        self.C, self.width, self.m, self.q = C, width, m, q
        # Z and its transpose are both kept contiguous: rows of vectors times a contiguous
        # matrix (b^T Z, a~^T Z^T) is the fast layout for the shared product; low-rank ones
        # (noiseless problems) as factors
        self.Z = _Shared.of(Z)
        self.Zt = self.Z.t()
        self.G0t = None if G0 is None else _Shared.of(G0).t()   # (-W* U)^T
        self.slot = torch.arange(R, device=Z.device) // width
        self.s2, self.s_inv, self.outside, self.wout = s2, s_inv, outside, wout
        self.budgets, self.b0, self.r = budgets, b0, r
        self.eta_a, self.eta_b, self.tol, self.exact, self.trace, self.L, self.bar = \
            eta_a, eta_b, tol, exact, trace, L, bar
        # without a trace, the exact minimisers are needed only for delta_k: all of them are
        # computed together after the run (_exact_after), not one component at a time
        self.defer = exact and not trace
        self.A = torch.zeros(R, r, q, **kw)
        self.B = torch.zeros(R, r, m, **kw)
        self.kmax = 0                                   # components stored so far (largest k)
        self.steps = torch.zeros(R, r, dtype=torch.long, device=Z.device)
        self.train = torch.zeros(R, r, **kw)
        self.delta = torch.zeros(R, r, **kw)
        self.rec = torch.zeros(R, r + 1, **kw)
        self.zz = (Z * Z).sum((1, 2))[self.slot]        # ||Z_k||^2 of each run (dense: exact)
        self.recovery = G0 is not None                  # track ||W - W*|| (W_star was given)
        self.gg = None if G0 is None else (G0 * G0).sum((1, 2))[self.slot]
        self.k = torch.zeros(R, dtype=torch.long, device=Z.device)
        self.t = torch.zeros(R, dtype=torch.long, device=Z.device)
        self.at = torch.zeros(R, q, **kw)
        self.b = b0[:, 0].clone()
        # Z^T b_k(0) of every run and component (the initial b's are drawn before the run)
        self.P0 = self.Z.rows(b0)                      # (R, r, q)
        self.err_prev = torch.zeros(R, **kw)
        self.done = idle.clone()
        self.k[idle] = r
        self.budget = budgets[:, 0].clone()             # budget of each run's current component
        self.cum = torch.zeros(R, **kw)                 # sum of ||delta_j|| over finished components
        self.bs = torch.zeros(R, m, **kw)               # exact minimiser of the current component,
        self.as_ = torch.zeros(R, q, **kw)              # in the same coordinates as (b, a~)
        self.fallbacks = 0
        self.starts = torch.zeros(R, r, dtype=torch.long, device=Z.device)
        # residuals formed explicitly (deflation, exact minimisers) in blocks of this many runs
        self.block = max(1, int(2**24 // (m * q)))
        if trace:
            self.tr = {name: torch.full((R, L + 1), float("nan"), **kw)
                       for name in ("train_error", "recovery_error", "cumulative_delta")}

    # ---------------------------------------------------------------- pieces
    def _shared(self, V, Mt):
        """Row i of V (R x k1) times the matrix of its slot, Mt[slot] (k1 x k2): (R, k2)."""
        return Mt.rows(V)

    def _correction(self, V, Left, Right):
        """sum_j Right_j (Left_j . v) for each run's stored components: (R, k2)."""
        k = self.kmax
        if k == 0:
            return 0.0
        c = self.torch.einsum("rkq,rq->rk", Left[:, :k], V)             # (R, k)
        return self.torch.bmm(c.unsqueeze(1), Right[:, :k]).squeeze(1)

    def _evaluate(self):
        """Z_k a~, Z_k^T b and the training error ||Z_k - b a~^T||^2 + outside, for every run."""
        at, b = self.at, self.b
        qv = self._shared(at, self.Zt) - self._correction(at, self.A, self.B)   # Z_k a~
        pv = self._shared(b, self.Z) - self._correction(b, self.B, self.A)      # Z_k^T b
        f2 = self.zz - 2 * (b * qv).sum(1) + (b * b).sum(1) * (at * at).sum(1) + self.outside
        return qv, pv, self.torch.sqrt(self.torch.clamp(f2, min=0))

    def _delta_now(self, J):
        """||b a^T - b* a*^T||_F for the current iterates of runs J, an index tensor or a slice
        (a = U diag(1/s) a~)."""
        torch = self.torch
        b, bs = self.b[J], self.bs[J]
        x, xs = self.at[J] * self.s_inv[J], self.as_[J] * self.s_inv[J]
        d2 = ((b * b).sum(1) * (x * x).sum(1) - 2 * (b * bs).sum(1) * (x * xs).sum(1)
              + (bs * bs).sum(1) * (xs * xs).sum(1))
        return torch.sqrt(torch.clamp(d2, min=0))

    def _recovery_now(self):
        """||W_k + b a^T - W*||_F for the current iterates of every run."""
        torch = self.torch
        b, x = self.b, self.at * self.s_inv
        # (W_k - W*) U x = -W* U x + sum_j b_j (x_j . x), x_j = a~_j / s
        gx = self._shared(x, self.G0t) + self._correction(x * self.s_inv, self.A, self.B)
        r2 = self.gg + 2 * (b * gx).sum(1) + (b * b).sum(1) * (x * x).sum(1) + self.wout
        return torch.sqrt(torch.clamp(r2, min=0))

    def _deflated(self, J):
        """The residuals Z_k = Z[slot] - sum_{j<k} b_j a~_j^T of runs J, formed explicitly, in
        blocks: yields (rows of J, (len, m, q))."""
        for i in range(0, J.numel(), self.block):
            Jb = J[i:i + self.block]
            yield Jb, self.Z.matrices(self.slot[Jb]) - self.B[Jb].transpose(1, 2) @ self.A[Jb]

    def _exact_pairs(self, J, Zk):
        sigma, u, w, bad = _top_pair(Zk, Zk.transpose(1, 2).contiguous())
        self.fallbacks += bad
        root = self.torch.sqrt(sigma).unsqueeze(1)
        self.bs[J], self.as_[J] = root * u, root * w

    def _finish(self, J, tau, err):
        """Runs J end their current component at step tau (their training error ``err``):
        store it, deflate, begin the next."""
        torch = self.torch
        kJ = self.k[J]
        at, b = self.at[J], self.b[J]
        if self.recovery:           # ||W_k + b a^T - W*||^2 - ||W*(I - UU^T)||^2 = ||G_{k+1}||^2
            self.gg[J] = torch.clamp(self._recovery_now()[J] ** 2 - self.wout[J], min=0)
            self.rec[J, kJ + 1] = torch.sqrt(self.gg[J] + self.wout[J])
        self.A[J, kJ], self.B[J, kJ], self.steps[J, kJ] = at, b, self.t[J]
        self.kmax = max(self.kmax, int(kJ.max()) + 1)
        if self.exact and not self.defer:
            dl = self._delta_now(J)
            self.delta[J, kJ] = dl
            self.cum[J] += dl
        # deflation: ||Z_{k+1}||^2 = ||Z_k - b a~^T||^2 is the training error just computed
        self.zz[J] = torch.clamp(err ** 2 - self.outside[J], min=0)
        self.train[J, kJ] = err
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
            if self.exact and not self.defer:   # the exact minimiser of Z_{k+1}, formed once
                for Cb, Zk in self._deflated(C):
                    self._exact_pairs(Cb, Zk)
        return C

    # ---------------------------------------------------------------- the clock
    def run(self):
        torch = self.torch
        if self.exact and not self.defer:               # the first residual is the slot's Z:
            Z = self.Z.matrices(slice(None))
            sigma, u, w, bad = _top_pair(Z, Z.transpose(1, 2).contiguous())   # one pair per slot
            self.fallbacks += bad
            root = torch.sqrt(sigma).unsqueeze(1)
            self.bs, self.as_ = (root * u)[self.slot], (root * w)[self.slot]
        for tau in range(self.L + 1):
            qv, pv, err = self._evaluate()
            fin = ~self.done & ((self.t >= self.budget)
                                | ((self.t > 0) & ((self.err_prev - err).abs() < self.tol)))
            while bool(fin.any()):
                J = fin.nonzero().squeeze(1)
                C = self._finish(J, tau, err[J])
                fin = torch.zeros_like(fin)
                if C.numel():   # a~ = 0: Z_k a~ = 0, Z_k^T b(0) from the product made at the start
                    qv[C] = 0.0
                    b = self.b[C]
                    pv[C] = self.P0[C, self.k[C]] - self.torch.einsum(
                        "rk,rkq->rq", self.torch.einsum("rkm,rm->rk", self.B[C], b), self.A[C])
                    err[C] = self.torch.sqrt(self.zz[C] + self.outside[C])
                    fin[C] = self.t[C] >= self.budget[C]
            active = ~self.done
            if not bool(active.any()):
                break
            if self.trace:
                now = {"train_error": err}
                if self.exact:
                    now["cumulative_delta"] = self.cum + self._delta_now(slice(None))
                if self.recovery:
                    now["recovery_error"] = self._recovery_now()
                for name, value in now.items():
                    self.tr[name][:, tau] = torch.where(active, value, self.tr[name][:, tau])
            mask = active.to(self.at.dtype).unsqueeze(1)
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
        if self.defer:
            self._exact_after()

    def _exact_after(self):
        """The exact minimiser of every run's residual Z_k (k < r) and delta_k, after the run.

        All runs and components at once, by Lanczos (:func:`_lanczos`) on the Gram matrix of
        the smaller side of Z_k = Z - sum_{j<k} b_j a~_j^T, applied as products with the slot's
        shared Z minus the rank-k correction (Z_k is never formed). Each starts from the
        run's own b_k (a~_k when q < m), which gradient descent has turned towards the top
        singular vector, so few steps are needed. Pairs that fail the residual test are
        recomputed from the explicit Z_k (counted in ``fallbacks``).
        """
        torch = self.torch
        m, q, r, W = self.m, self.q, self.r, self.width
        on_m = m <= q                                   # K = S - sum_j P_j Q_j^T, k1 <= k2
        S, St = (self.Z, self.Zt) if on_m else (self.Zt, self.Z)
        P, Qf = (self.B, self.A) if on_m else (self.A, self.B)
        k1, k2 = min(m, q), max(m, q)
        kw = dict(device=P.device, dtype=P.dtype)
        before = torch.tril(torch.ones(r, r, **kw), diagonal=-1)     # [k, j] = 1 if j < k
        gen = torch.Generator(device=P.device).manual_seed(0)
        rows_per_block = max(1, int(EXACT_BLOCK_BYTES // (16 * k1 * min(LANCZOS_STEPS, k1))))
        cb = max(1, rows_per_block // (W * r))          # whole slots per block, or
        kb = max(1, min(r, rows_per_block // W))        # components per block within one
        for c0 in range(0, self.C, cb):
            c1 = min(self.C, c0 + cb)
            runs = slice(c0 * W, c1 * W)
            Sb, Stb, Pb, Qb = S.sub(c0, c1), St.sub(c0, c1), P[runs], Qf[runs]
            Rb = Pb.shape[0]
            for k0 in range(0, r, kb if c1 - c0 == 1 else r):
                ks = slice(k0, min(r, k0 + (kb if c1 - c0 == 1 else r)))
                mask = before[ks]                       # (kc, r)
                kc = mask.shape[0]

                def fwd(v):                             # v^T K_k, rows (Rb * kc, k1) -> k2
                    V = v.reshape(Rb, kc, k1)
                    c = torch.bmm(V, Pb.transpose(1, 2)) * mask
                    return (Sb.rows(V) - torch.bmm(c, Qb)).reshape(Rb * kc, k2)

                def back(x):                            # x^T K_k^T, rows -> k1
                    X = x.reshape(Rb, kc, k2)
                    c = torch.bmm(X, Qb.transpose(1, 2)) * mask
                    return (Stb.rows(X) - torch.bmm(c, Pb)).reshape(Rb * kc, k1)

                v0 = Pb[:, ks].reshape(Rb * kc, k1)
                v0 = v0 / torch.linalg.norm(v0, dim=1, keepdim=True).clamp(min=1e-300)
                v0 = v0 + 1e-2 / k1 ** 0.5 * torch.randn(v0.shape, generator=gen, **kw)
                sigma, u, x, bad = _lanczos(fwd, back, v0, gen)
                nbad = int(bad.sum())
                if nbad:                                # explicit Z_k for these: eigendecomposition
                    i, kk = bad.nonzero().squeeze(1).div(kc, rounding_mode="floor"), \
                        bad.nonzero().squeeze(1) % kc
                    Pm = Pb[i] * mask[kk].unsqueeze(2)
                    Kmat = Sb.matrices(i // W) - Pm.transpose(1, 2) @ Qb[i]
                    sigma[bad], u[bad], x[bad] = _gram_top(Kmat, Kmat.transpose(1, 2).contiguous(),
                                                           False)
                    self.fallbacks += nbad
                root = torch.sqrt(sigma).unsqueeze(1)
                bs, xs = (root * u, root * x) if on_m else (root * x, root * u)
                bs, xs = bs.reshape(Rb, kc, m), xs.reshape(Rb, kc, q) * self.s_inv[runs, None]
                b, xa = self.B[runs, ks], self.A[runs, ks] * self.s_inv[runs, None]
                d2 = ((b * b).sum(2) * (xa * xa).sum(2) - 2 * (b * bs).sum(2) * (xa * xs).sum(2)
                      + (bs * bs).sum(2) * (xs * xs).sum(2))
                self.delta[runs, ks] = torch.sqrt(torch.clamp(d2, min=0))


def _top_pair(Z, Zt):
    """Top singular triplet of each Z[j] (J x m x q): sigma (J,), u (J, m), w (J, q), fallbacks.

    Small sizes: eigendecomposition of the smaller Gram matrix. Otherwise Lanczos with full
    reorthogonalisation on it (:func:`_lanczos`), then a residual test
    (||M u - theta u|| <= LANCZOS_TOL * theta, M = Z Z^T or Z^T Z); runs that fail it (tiny or
    zero gaps, Z = 0) get a full eigendecomposition.
    """
    import torch
    J, m, q = Z.shape
    A, At = (Zt, Z) if m > q else (Z, Zt)              # A (J, k1, k2), k1 <= k2, both contiguous
    k1 = A.shape[1]
    if k1 <= GRAM_UP_TO:
        return _gram_top(A, At, m > q) + (0,)
    gen = torch.Generator(device=Z.device).manual_seed(0)
    v = torch.randn(J, k1, generator=gen, device=Z.device, dtype=Z.dtype)
    fwd = lambda v: torch.bmm(v.unsqueeze(1), A).squeeze(1)      # noqa: E731  v^T A
    back = lambda x: torch.bmm(x.unsqueeze(1), At).squeeze(1)    # noqa: E731  x^T A^T
    sigma, u, x, bad = _lanczos(fwd, back, v, gen)
    nbad = int(bad.sum())
    if nbad:
        sb, ub, xb = _gram_top(A[bad], At[bad], False)
        sigma[bad], u[bad], x[bad] = sb, ub, xb
    if m > q:                                           # A = Z^T: u is Z's right vector
        return sigma, x, u, nbad
    return sigma, u, x, nbad


def _lanczos(fwd, back, v, gen, steps=None):
    """Top eigenpair of M = A A^T for J matrices A (k1 x k2) given only as products, by
    Lanczos with full reorthogonalisation from the start vectors v (J, k1).

    ``fwd(v)`` returns the rows v^T A (J, k2), ``back(x)`` the rows x^T A^T (J, k1). Stops
    early when every Ritz pair has converged (checked every 8 steps). Returns sigma (J,),
    u (J, k1), x = A^T u / sigma (J, k2), and bad (J,) bool: the pairs that fail the residual
    test ||M u - theta u|| <= LANCZOS_TOL * theta (the caller falls back on them).
    """
    import torch
    J, k1 = v.shape
    K = min(steps or LANCZOS_STEPS, k1)
    v = v / torch.linalg.norm(v, dim=1, keepdim=True).clamp(min=1e-300)
    # the basis step-major, (K, J, k1): projections onto it are elementwise products and
    # sums over whole contiguous blocks (a batched bmm of J tiny matrix-vector products
    # costs far more in overhead)
    Q = torch.zeros(K, J, k1, device=v.device, dtype=v.dtype)
    MQ = torch.zeros_like(Q)
    used = K
    for j in range(K):
        Q[j] = v
        w = back(fwd(v))                                    # A A^T v, as row vectors
        MQ[j] = w
        Qj = Q[: j + 1]
        for _ in range(2):                                  # classical Gram-Schmidt, twice
            w = w - (Qj * (Qj * w).sum(2, keepdim=True)).sum(0)
        nrm = torch.linalg.norm(w, dim=1, keepdim=True)
        lost = nrm.squeeze(1) <= 1e-10 * torch.linalg.norm(MQ[j], dim=1).clamp(min=1e-300)
        if bool(lost.any()):                                # invariant subspace found: restart there
            fresh = torch.randn(int(lost.sum()), k1, generator=gen, device=v.device, dtype=v.dtype)
            Ql = Qj[:, lost]
            for _ in range(2):
                fresh = fresh - (Ql * (Ql * fresh).sum(2, keepdim=True)).sum(0)
            w[lost] = fresh
            nrm = torch.linalg.norm(w, dim=1, keepdim=True)
        v = w / nrm.clamp(min=1e-300)
        if (j + 1) % 8 == 0 and 8 < j + 1 < K:         # converged already? (a cheap estimate:
            Tj = torch.einsum("inc,jnc->nij", Qj, MQ[: j + 1])    # the new direction's weight)
            th, Yj = torch.linalg.eigh(0.5 * (Tj + Tj.transpose(1, 2)))
            if bool((nrm.squeeze(1) * Yj[:, -1, -1].abs() <= 0.1 * LANCZOS_TOL * th[:, -1]).all()):
                used = j + 1
                break
    Q, MQ = Q[:used], MQ[:used]
    T = torch.einsum("inc,jnc->nij", Q, MQ)
    theta, Yv = torch.linalg.eigh(0.5 * (T + T.transpose(1, 2)))
    u = torch.einsum("jnc,nj->nc", Q, Yv[:, :, -1])
    u = u / torch.linalg.norm(u, dim=1, keepdim=True).clamp(min=1e-300)
    Atu = fwd(u)
    th = (Atu * Atu).sum(1)
    res = torch.linalg.norm(back(Atu) - th.unsqueeze(1) * u, dim=1)
    sigma = torch.sqrt(th)
    x = Atu / sigma.clamp(min=1e-300).unsqueeze(1)
    bad = ~(res <= LANCZOS_TOL * th)
    return sigma, u, x, bad


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

    def store(self, p, s, chunk, keep, a_full):
        cpu = lambda t: t.detach().cpu().numpy().astype(np.float64)   # noqa: E731
        self.a[p, s] = cpu(a_full)
        self.b[p, s] = cpu(chunk.B[keep])
        self.steps[p, s] = chunk.steps[keep].cpu().numpy()
        self.train[p, s] = cpu(chunk.train[keep])
        if self.exact:
            self.delta[p, s] = cpu(chunk.delta[keep])
        if self.recovery is not None:
            self.recovery[p, s] = cpu(chunk.rec[keep])
        if self.trace:
            for name in self.tr:
                if name == "starts":
                    self.tr[name][p, s] = chunk.starts[keep].cpu().numpy()
                else:
                    self.tr[name][p, s] = cpu(chunk.tr[name][keep])

    def trace_dict(self):
        return self.tr
