"""Budgets chosen by a bound: each step's error as a function of its own budget, and the
split of a total budget that minimises what a bound charges for those errors.

The book's own construction (chapter "Budgets from a bound"), not the paper's: arXiv v1 compares
three fixed schedules, and the authors' notes and code the alpha family
(:mod:`onerank.schedules`); neither derives a schedule from a bound.

A bound of the form ``tail + sum_k cost_k(eps_k)`` (Theorem 1, whose terms are linear in
the step errors ||delta_k||_F, or the square of part 2 of the book's theorem
``thm-errors-add``, whose terms are eps_k^2 plus a cross term) turns into a rule once
each step's error is known as a function of its budget t_k. :func:`step_curves`
predicts those functions on the residuals of *exact* deflation (Algorithm 1), where
step k's problem does not depend on the budgets of the steps before it; to first order
in the errors, the book's theorem says that is all that matters. :func:`split` then
minimises the separable sum exactly, by dynamic programming over integer budgets.
"""

from __future__ import annotations

import numpy as np

from . import _validate, batched, config, theory
from .rowspace import RowSpace

#: The bounds :func:`costs` can turn into a rule: the book's part 2 (squared excess) and
#: the forms of Theorem 1 (:func:`onerank.theory.theorem1_bound`).
BOUNDS = ("additive", "sharp", "corrected", "paper")


def step_curves(Y, X, r: int, steps: int, *, eta=0.003, tol: float | None = 1e-10, seed=0,
                device: str | None = None) -> dict:
    """Each step's error against its own budget, on the residuals of exact deflation.

    For k = 1..r, eq. (5) is run on the rank-1 problem of the exact residual
    ``Y_k* = Y - sum_{j<k} sigma_j u_j v_j^T`` (the SVD of YP, P the projection onto the
    row space of X; Algorithm 1's residuals), from a = 0 and b_k(0), the k-th draw of
    ``numpy.random.default_rng(seed)`` by the rule of :func:`onerank.rank1.initial_point`:
    the initial point component k of ``deflation.deflate(Y, X, budgets, seed=seed)`` starts
    from. The early stop on the change of the training error is that of
    :func:`onerank.rank1.gd`: after it the iterate, and so the curve, stays where it is.
    The r problems (for every seed) advance together, in row-space coordinates, on a
    torch device; the exact residuals are shared by the seeds.

    Parameters
    ----------
    Y : (m, n) array, the labels.
    X : (d, n) array.
    r : int, 1 <= r <= rank(YP), the number of components.
    steps : int >= 0, the longest budget of the curves.
    eta : float > 0 or pair (eta_a, eta_b), the step sizes of eq. (5) (default 0.003).
    tol : float >= 0 or None, the early stop (default 1e-10, as :func:`onerank.rank1.gd`).
    seed : int >= 0 or sequence of S such ints, the initial points' seeds.
    device : torch device name, optional (default :func:`onerank.config.device`).

    Returns
    -------
    dict
        ``eps`` : (r, steps + 1) array ((S, r, steps + 1) for S seeds),
        ||(b a^T - bbar_k abar_k^T) X||_F after t updates, t = 0..steps, with
        (abar_k, bbar_k) the exact minimiser of Y_k* (Lemma 1);
        ``delta`` : same shape, ||b a^T - bbar_k abar_k^T||_F (Definition 1);
        ``sigma`` : singular values of YP, so that sigma_1(Y_k* P) = ``sigma[k - 1]`` and
        sigma_{r-k+2}(Y_k* P) = ``sigma[r]`` (0 when rank(YP) = r);
        ``sigma_max_X`` : float; ``stopped`` : (r,) ((S, r)) int, the number of updates
        after which the early stop ended each component (``steps`` if it never did).
    """
    import torch

    Y, X = _validate.regression_pair(Y, X)
    m = Y.shape[0]
    r = _validate.integer(r, "r", minimum=1, maximum=min(Y.shape[0], X.shape[0]))
    steps = _validate.integer(steps, "steps", minimum=0, maximum=2**31)
    one = np.ndim(seed) == 0
    if not one and (isinstance(seed, (str, bytes)) or len(seed) == 0):
        raise ValueError(f"seed must be an int >= 0 or a non-empty sequence of them, got {seed!r}")
    seeds = [_validate.seed(sd, "seed") for sd in ([seed] if one else list(seed))]
    eta_a, eta_b = _validate.step_sizes(eta)
    tol = 0.0 if tol is None else _validate.real(tol, "tol", nonnegative=True)
    dev = torch.device(config.torch_device(device))
    S = len(seeds)
    _validate.fits(r * (2 * m * min(X.shape) + 2 * S * (steps + 1)),
                   f"{r} exact residuals of shape ({m}, {min(X.shape)}) and their curves over "
                   f"{steps + 1} budgets for {S} seeds")
    rs = RowSpace(X)
    Z, outside = rs.coordinates(Y)
    U, sig, Wt = np.linalg.svd(Z, full_matrices=False)
    rank = int(np.sum(sig > sig[0] * max(Z.shape) * np.finfo(float).eps)) if sig.size else 0
    if r > rank:
        raise ValueError(f"r must be <= rank(YP) = {rank} (the exact minimisers of later "
                         f"steps are not defined), got {r}")
    # exact residual k in coordinates: Z minus its top k-1 terms, that is its top term
    # S_k = sigma_k u_k w_k^T plus the rest Rest_k (columns orthogonal to u_k, rows to w_k)
    rest = np.stack([(U[:, k + 1:] * sig[k + 1:]) @ Wt[k + 1:] for k in range(r)])
    rest_sq = np.array([np.sum(sig[k + 1:] ** 2) for k in range(r)])
    b0 = [batched._draws(sd, r, m) for sd in seeds]                  # the engine's draws
    dtype = torch.float32 if dev.type == "mps" else torch.float64
    t_ = lambda a: torch.as_tensor(np.ascontiguousarray(a), device=dev, dtype=dtype)  # noqa: E731
    # iterates are held (r, S, .): one batched product per component, shared by the seeds
    rest, rest_sq, b = t_(rest), t_(rest_sq)[:, None], t_(np.array(b0).transpose(1, 0, 2))
    rest_t = rest.transpose(1, 2).contiguous()                        # row-vector products, fast
    u, w, top = t_(U[:, :r].T)[:, None], t_(Wt[:r])[:, None], t_(sig[:r])[:, None]
    s2, s_inv = t_(rs.s ** 2), t_(1.0 / rs.s)
    w_inv = w * s_inv
    c = torch.zeros(r, S, rs.rank, device=dev, dtype=dtype)           # c = US^T a, a = 0
    eps = torch.empty(r, S, steps + 1, device=dev, dtype=dtype)
    delta = torch.empty_like(eps)
    live = torch.ones(r, S, dtype=torch.bool, device=dev)
    stopped = torch.full((r, S), steps, dtype=torch.int64, device=dev)
    dot = lambda x, y: (x * y).sum(-1)                                 # noqa: E731

    def measure(b, c):
        """eps, delta and the training error of (b, c), from the four mutually orthogonal
        pieces of D = b c^T - S_k (no cancellation), and the products with Rest_k."""
        beta, gamma = dot(u, b), dot(w, c)                            # (r, S)
        bp, cp = b - beta[..., None] * u, c - gamma[..., None] * w
        head = beta * gamma - top
        nb, nc = dot(bp, bp), dot(cp, cp)
        e2 = head**2 + beta**2 * nc + gamma**2 * nb + nb * nc
        cpi = cp * s_inv
        left = head[..., None] * w_inv + beta[..., None] * cpi
        right = gamma[..., None] * w_inv + cpi
        d2 = dot(left, left) + nb * dot(right, right)
        Rc = c @ rest_t                                               # Rest_k c, (r, S, m)
        Rb = b @ rest                                                 # Rest_k^T b, (r, S, q)
        err = torch.sqrt(torch.clamp(e2 + rest_sq - 2 * dot(bp, Rc) + outside, min=0.0))
        return torch.sqrt(e2), torch.sqrt(d2), err, beta, gamma, Rc, Rb

    e, dl, err_prev, beta, gamma, Rc, Rb = measure(b, c)
    eps[..., 0], delta[..., 0] = e, dl
    bar = config.progress(total=steps, desc="exact-residual curves", unit="step",
                          enabled=steps * S >= 4000)
    for t in range(1, steps + 1):
        # Rt = Z_k - b c^T with Z_k = S_k + Rest_k: Rt^T b and Rt c without forming Rt
        grad_c = s2 * (top[..., None] * beta[..., None] * w + Rb - dot(b, b)[..., None] * c)
        grad_b = top[..., None] * gamma[..., None] * u + Rc - dot(c, c)[..., None] * b
        keep = live[..., None]
        c = torch.where(keep, c + eta_a * grad_c, c)
        b = torch.where(keep, b + eta_b * grad_b, b)
        e, dl, err, beta, gamma, Rc, Rb = measure(b, c)
        eps[..., t], delta[..., t] = e, dl
        done = live & (torch.abs(err_prev - err) < tol)
        stopped = torch.where(done, torch.full_like(stopped, t), stopped)
        live = live & ~done
        err_prev = torch.where(live, err, err_prev)
        bar.update(1)
        if not bool(live.any()):
            eps[..., t + 1:] = eps[..., t:t + 1]
            delta[..., t + 1:] = delta[..., t:t + 1]
            bar.update(steps - t)
            break
    bar.close()
    if not (bool(torch.isfinite(eps).all()) and bool(torch.isfinite(delta).all())):
        raise FloatingPointError("gradient descent overflowed on an exact residual; "
                                 "use a smaller step size eta")
    out = {"eps": eps.transpose(0, 1).cpu().numpy().astype(np.float64),
           "delta": delta.transpose(0, 1).cpu().numpy().astype(np.float64),
           "stopped": stopped.T.cpu().numpy()}
    if one:
        out = {k: v[0] for k, v in out.items()}
    return {**out, "sigma": sig, "sigma_max_X": float(rs.s[0])}


def costs(curves: dict, bound: str = "additive") -> np.ndarray:
    """What ``bound`` charges step k for each budget, from :func:`step_curves`.

    Parameters
    ----------
    curves : dict, the output of :func:`step_curves` (``eps``, ``delta``, ``sigma``,
        ``sigma_max_X``), for one seed or several.
    bound : {"additive", "sharp", "corrected", "paper"}, optional
        "additive" (default): the book's part 2, cost eps^2 + 2 c eps sigma_{r+1}(YP)
        with c = min(1, eps / (sigma_k - eps)) (1 when eps >= sigma_k); their sum is the
        predicted square of the bound minus the tail's square. The others: the forms of
        Theorem 1 (:func:`onerank.theory.theorem1_bound`), linear in the step errors,
        cost w_k ||delta_k||_F with w_k the bound's coefficient of ||delta_k||_F.

    Returns
    -------
    (r, L + 1) array ((S, r, L + 1) for S seeds), the cost of giving step k t = 0..L
    updates.
    """
    if not isinstance(curves, dict) or not {"eps", "delta", "sigma", "sigma_max_X"} <= set(curves):
        raise TypeError("curves must be the dict of onerank.allocation.step_curves "
                        "(keys eps, delta, sigma, sigma_max_X)")
    _validate.choice(bound, "bound", BOUNDS)
    eps, dl = np.asarray(curves["eps"], float), np.asarray(curves["delta"], float)
    sig = np.asarray(curves["sigma"], float)
    if eps.ndim not in (2, 3) or dl.shape != eps.shape:
        raise ValueError(f"curves['eps'] and curves['delta'] must be (r, L + 1) or "
                         f"(S, r, L + 1) arrays of one shape, got {eps.shape} and {dl.shape}")
    r = eps.shape[-2]
    if sig.ndim != 1 or sig.size < r:
        raise ValueError(f"curves['sigma'] must hold at least r = {r} singular values, "
                         f"got shape {sig.shape}")
    if bound == "additive":
        nxt = sig[r] if sig.size > r else 0.0
        top = sig[:r, None]
        with np.errstate(divide="ignore"):
            c = np.where(eps < top, np.minimum(1.0, eps / (top - eps)), 1.0)
        return eps**2 + 2 * c * eps * nxt
    return weights(sig, curves["sigma_max_X"], r, bound)[:, None] * dl


def weights(sigma_Y, sigma_max_X: float, r: int, variant: str = "paper") -> np.ndarray:
    """The coefficient of each ||delta_k||_F in a form of Theorem 1 (linear in them).

    Parameters
    ----------
    sigma_Y : (p,) array_like, the singular values of Y (of YP), non-increasing.
    sigma_max_X : float, the largest singular value of X.
    r : int, 1 <= r <= p.
    variant : {"sharp", "corrected", "paper"}, the form (default "paper": eq. (8)).

    Returns
    -------
    (r,) array, w with ``theorem1_bound(..., delta) = tail + w @ delta[:r]``.
    """
    _validate.choice(variant, "variant", BOUNDS[1:])
    base = theory.theorem1_bound(sigma_Y, sigma_max_X, np.zeros(r), r, variant=variant)
    return np.array([theory.theorem1_bound(sigma_Y, sigma_max_X, np.eye(r)[k], r,
                                           variant=variant) - base for k in range(r)])


def split(costs, T: int, floor: int = 2) -> np.ndarray:
    """Integer budgets t_1..t_r >= floor, summing to T, that minimise sum_k costs[k, t_k].

    Exact, by dynamic programming over the components (a min-plus convolution per
    component, O(r T^2) operations and O(r T) memory). Ties go to the split whose first
    component gets the most (then the second, and so on).

    Parameters
    ----------
    costs : (r, L + 1) array, the cost of giving component k t = 0..L steps, finite,
        with L >= T - floor (r - 1) (no component can be given more).
    T : int >= floor * r, the total.
    floor : int >= 0, the least any component gets (default 2, as
        :func:`onerank.schedules.allocate`).

    Returns
    -------
    (r,) int64 array.
    """
    C = _validate.real_array(costs, "costs")
    if C.ndim != 2 or C.shape[0] < 1:
        raise ValueError(f"costs must be an (r, L + 1) array, got shape {C.shape}")
    _validate.finite(C, "costs")
    r, width = C.shape
    floor = _validate.integer(floor, "floor", minimum=0)
    T = _validate.integer(T, "T", minimum=0, maximum=2**31)
    if T < floor * r:
        raise ValueError(f"T must be >= floor * r = {floor} * {r} = {floor * r}, got T={T}")
    most = T - floor * (r - 1)
    if width < most + 1:
        raise ValueError(f"costs must cover budgets up to T - floor (r - 1) = {most}, "
                         f"got L = {width - 1}")
    _validate.fits(r * (T + 1), f"the choices of {r} components over {T + 1} totals")
    inf = np.inf
    best = np.full(T + 1, inf)
    best[floor: most + 1] = C[0, floor: most + 1]          # component 1 alone uses t steps
    choice = np.zeros((r, T + 1), dtype=np.int64)
    choice[0] = np.arange(T + 1)
    for k in range(1, r):
        new = np.full(T + 1, inf)
        pick = np.zeros(T + 1, dtype=np.int64)
        for u in range(floor, most + 1):                   # component k+1 gets u steps
            cand = np.full(T + 1, inf)
            cand[u:] = best[: T + 1 - u] + C[k, u]
            better = cand < new                            # strict: earlier components keep ties
            new[better], pick[better] = cand[better], u
        best, choice[k] = new, pick
    t = np.zeros(r, dtype=np.int64)
    left = T
    for k in range(r - 1, -1, -1):
        t[k] = choice[k, left] if k else left
        left -= t[k]
    return t
