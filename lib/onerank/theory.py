"""The book's forms of the paper's cascade bounds, as functions.

The paper's Lemma 3 (eq. 18) and recursion (19) become :func:`step_bound` and the
factors rho_j; its Lemma 5 is :func:`unroll`; its deviation bound (32) is
:func:`cascade`; its Theorem 1 (eq. 8) is :func:`theorem1_bound`. Numbering follows
arXiv:2505.22602v1. The formulas exactly as printed are in :mod:`onerank.printed`.

Notation (the book's chapter "The cascade theorem"): sigma_1 >= sigma_2 >= ...
are the singular values of Y (for noisy labels: of Y P, P the projector on the
row space of X); delta_k is the per-step numerical error of Definition 1
(``DeflationResult.delta_norms``); sigma_max(X) is the largest singular value of X.

    T_j    = min( min_{i > j} |sigma_j - sigma_i|, sigma_j )             (gaps)
    rho_j  = 2 + c * sigma_j / T_j,   c = 6 in the paper                 (amplification_factors)
    Q_1    = 0,  Q_{k+1} = rho_k Q_k + sigma_max(X) ||delta_k||_F        (recurrence, Lemma 5)
    Q_{k+1} = sigma_max(X) sum_{k'=1}^{k} ||delta_k'||_F prod_{j=k'+1}^{k} rho_j   (unroll)

The book's deviation bound (the paper's eq. (32)): if Q_k < T_k / 2 for every k <= r, then
||Y_k - Y_k^*||_F <= Q_k for k <= r + 1, where Y_k^* are the residuals of exact
deflation. Theorem 1 follows: ||Y - W_hat X||_F <= (sum_{k>r} sigma_k^2)^{1/2} + Q_{r+1}.

The book's own bound without gap factors (chapter "Errors add") is :func:`additive_bound`:
with eps_k = ||delta_k X||_F, ||(Y - W_hat X) P||_F <= tail + sum_k eps_k always, and
||(Y - W_hat X) P||_F^2 <= tail^2 + sum_k (eps_k^2 + 2 c_k eps_k sigma_{r-k+2}(Y_k P)) with
c_k = min(1, eps_k / (sigma_1(Y_k P) - eps_k)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate

PAPER_CONSTANT = 6.0
SHARP_CONSTANT = 2.0 * np.sqrt(2.0)
VARIANTS = ("sharp", "corrected", "paper", "notes")
TAILS = ("l2", "l1")


def gaps(sigma) -> np.ndarray:
    """The gaps T_j = min(min_{i > j} |sigma_j - sigma_i|, sigma_j), for every j.

    For sorted values min_{i>j} |sigma_j - sigma_i| = sigma_j - sigma_{j+1}; for the last
    index no i > j exists and T_p = sigma_p (as if sigma_{p+1} = 0). A repeated singular
    value gives T_j = 0.

    Parameters
    ----------
    sigma : (p,) array_like
        Non-increasing and nonnegative: all singular values of Y, zeros included where Y
        is rank-deficient.

    Returns
    -------
    T : (p,) ndarray
        T_1, ..., T_p.
    """
    s = _validate.spectrum(sigma)
    nxt = np.append(s[1:], 0.0)
    return np.minimum(s - nxt, s)


def amplification_factors(sigma, constant: float = PAPER_CONSTANT) -> np.ndarray:
    """The amplification factors rho_j = 2 + constant * sigma_j / T_j, for every j.

    rho_j is inf where T_j = 0 (and sigma_j > 0); where sigma_j = 0 the ratio is taken as 0,
    so rho_j = 2. ``constant=6`` is the paper's factor; ``SHARP_CONSTANT = 2 sqrt(2)`` is what
    the book's derivation of Lemma 3 gives.

    Parameters
    ----------
    sigma : (p,) array_like
        Singular values, non-increasing and nonnegative (as for :func:`gaps`).
    constant : float, optional
        The factor c of rho_j = 2 + c sigma_j / T_j (default ``PAPER_CONSTANT`` = 6).

    Returns
    -------
    rho : (p,) ndarray
        rho_1, ..., rho_p.
    """
    s = _validate.spectrum(sigma)
    constant = _validate.real(constant, "constant", nonnegative=True)
    T = gaps(s)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(s == 0, 0.0, s / T)
    return 2.0 + constant * ratio


def recurrence(a, b) -> np.ndarray:
    """The recurrence Q_1 = 0, Q_{k+1} = a_k Q_k + b_k for k = 1..r.

    Works with any numbers supporting + and * (floats, or fractions.Fraction in object
    arrays for exact arithmetic). A product 0 * inf is taken as 0: nothing accumulated
    means nothing to amplify.

    Parameters
    ----------
    a : (r,) array_like
        The factors a_1, ..., a_r.
    b : (r,) array_like
        The increments b_1, ..., b_r.

    Returns
    -------
    Q : (r + 1,) ndarray
        [Q_1, ..., Q_{r+1}]; of dtype object when ``a`` is an object array, else float64.
    """
    a, b = _pair(a, b)
    Q = [0 * b[0]]
    for ak, bk in zip(a, b):
        # 0 * inf is taken as 0: nothing accumulated means nothing to amplify
        Q.append((ak * Q[-1] if Q[-1] != 0 else 0 * bk) + bk)
    return np.array(Q, dtype=a.dtype if a.dtype == object else np.float64)


def unroll(a, b) -> np.ndarray:
    """Lemma 5's closed form of :func:`recurrence`.

    Q_{k+1} = sum_{k'=1}^{k} b_k' prod_{j=k'+1}^{k} a_j, with Q_1 = 0. A zero b_k' contributes
    nothing, whatever the factors.

    Parameters
    ----------
    a : (r,) array_like
        The factors a_1, ..., a_r.
    b : (r,) array_like
        The increments b_1, ..., b_r.

    Returns
    -------
    Q : (r + 1,) ndarray
        [Q_1, ..., Q_{r+1}]; of dtype object when ``a`` is an object array, else float64.
    """
    a, b = _pair(a, b)
    r = len(a)
    Q = [0 * b[0]]
    for k in range(1, r + 1):            # Q_{k+1}, 1-based k
        total = 0 * b[0]
        for kp in range(1, k + 1):
            if b[kp - 1] == 0:           # a zero error contributes nothing, whatever the factors
                continue
            prod = 1 + 0 * b[0]
            for j in range(kp + 1, k + 1):
                prod = prod * a[j - 1]
            total = total + b[kp - 1] * prod
        Q.append(total)
    return np.array(Q, dtype=a.dtype if a.dtype == object else np.float64)


def _pair(a, b):
    out = []
    for name, x in (("a", a), ("b", b)):
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError) as err:
            raise ValueError(f"{name} must be a 1-D array of numbers ({err})") from None
        if arr.dtype != object:                         # object: exact Fractions, left as they are
            arr = _validate.real_array(arr, name)
            if np.any(np.isnan(arr)) or (name == "b" and not np.all(np.isfinite(arr))):
                raise ValueError(f"{name} contains NaN" + (" or inf" if name == "b" else "")
                                 + " (a factor may be inf, an increment may not)")
            if np.any(arr < 0):
                raise ValueError(f"{name} must be nonnegative")
        out.append(arr)
    a, b = out
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape or a.size == 0:
        raise ValueError(f"a and b must be 1-D arrays of the same nonzero length, got {a.shape} and {b.shape}")
    return a, b


def _inputs(sigma_Y, sigma_max_X, delta_norms, r):
    s = _validate.spectrum(sigma_Y, "sigma_Y")
    r = _validate.integer(r, "r", minimum=1, maximum=s.size)
    sx = _validate.real(sigma_max_X, "sigma_max_X", nonnegative=True)
    dn = _validate.vector(delta_norms, "delta_norms")
    if dn.size < r:
        raise ValueError(f"delta_norms must hold at least r = {r} values, got {dn.size}")
    if np.any(dn < 0):
        raise ValueError("delta_norms must be nonnegative")
    return s, sx, dn[:r], r


def cascade(sigma_Y, sigma_max_X, delta_norms, r, *, constant: float = PAPER_CONSTANT) -> np.ndarray:
    """The cumulative-error bounds Q_1 = 0, ..., Q_{r+1} of the deviation bound.

    The paper's eq. (32), with T_j: the :func:`recurrence` with a_k = rho_k
    (:func:`amplification_factors`) and b_k = sigma_max(X) ||delta_k||_F.

    Parameters
    ----------
    sigma_Y : (p,) array_like
        All singular values of Y, non-increasing and nonnegative.
    sigma_max_X : float
        sigma_max(X), the largest singular value of X (>= 0).
    delta_norms : (>= r,) array_like
        The ||delta_k||_F of Definition 1 (W-space), nonnegative; only the first r are used.
    r : int
        Number of components, 1 <= r <= p.
    constant : float, optional
        The factor c of rho_j = 2 + c sigma_j / T_j (default ``PAPER_CONSTANT`` = 6).

    Returns
    -------
    Q : (r + 1,) ndarray
        [Q_1, ..., Q_{r+1}].
    """
    s, sx, dn, r = _inputs(sigma_Y, sigma_max_X, delta_norms, r)
    rho = amplification_factors(s, constant)[:r]
    return recurrence(rho, sx * dn)


def tail(sigma_Y, r, kind: str = "l2") -> float:
    """Best rank-r training error, from the singular values of Y.

    (sum_{k>r} sigma_k^2)^{1/2} for ``kind="l2"``, sum_{k>r} sigma_k for ``kind="l1"``.

    Parameters
    ----------
    sigma_Y : (p,) array_like
        All singular values of Y, non-increasing and nonnegative.
    r : int
        Number of components.
    kind : {"l2", "l1"}, optional
        Which tail (default "l2").

    Returns
    -------
    float
        The tail.
    """
    return _tail(_validate.spectrum(sigma_Y, "sigma_Y"), r, kind)


def _tail(s: np.ndarray, r: int, kind: str, name: str = "kind") -> float:
    _validate.choice(kind, name, TAILS)
    r = _validate.integer(r, "r", minimum=0)
    rest = s[r:]
    return float(np.sqrt(np.sum(rest**2)) if kind == "l2" else np.sum(rest))


def theorem1_bound(sigma_Y, sigma_max_X, delta_norms, r, *, tail: str = "l2",
                   variant: str = "corrected") -> float:
    """Upper bound on the training error ||Y - sum_{k<=r} b_k a_k^T X||_F.

    The forms of ``variant``:

    "sharp"
        tail + Q_{r+1}, what the book's deviation bound gives directly;
    "corrected"
        tail + sigma_max(X) sum_{k=1}^{r} sum_{k'=1}^{k} ||delta_k'|| prod_{j=k'+1}^{k} rho_j
        (= tail + sum_k Q_{k+1}: the paper's double sum with its typos fixed);
    "paper"
        the same double sum with T_k (outer index) in place of T_j inside the product, as in
        the paper's eq. (8); with ``tail="l1"`` this is eq. (8) as printed
        (``onerank.printed.theorem1_bound``); a k'=0 term with delta_0 = 0 adds nothing;
    "notes"
        tail + sum_{k=1}^{r} (prod_{j<k} rho_j) ||delta_k||_F, the form of the authors' notes
        (no sigma_max(X); early factors multiply late errors).

    All use rho_j = 2 + 6 sigma_j / T_j with T_j from :func:`gaps`.

    Parameters
    ----------
    sigma_Y : (p,) array_like
        All singular values of Y, non-increasing.
    sigma_max_X : float
        The largest singular value of X.
    delta_norms : (>= r,) array_like
        The ||delta_k||_F of Definition 1 (W-space); only the first r are used.
    r : int
        Number of components, 1 <= r <= p.
    tail : {"l2", "l1"}, optional
        "l2" -> (sum_{k>r} sigma_k^2)^{1/2} (default); "l1" -> sum_{k>r} sigma_k (valid, looser).
    variant : {"corrected", "sharp", "paper", "notes"}, optional
        The form of the cascade term (above; default "corrected").

    Returns
    -------
    float
        The bound.
    """
    s, sx, dn, r = _inputs(sigma_Y, sigma_max_X, delta_norms, r)
    _validate.choice(variant, "variant", VARIANTS)
    base = _tail(s, r, tail, "tail")
    rho = amplification_factors(s)[:r]
    if variant == "sharp":
        return base + float(recurrence(rho, sx * dn)[-1])
    if variant == "corrected":
        return base + float(np.sum(recurrence(rho, sx * dn)[1:]))
    if variant == "paper":
        T = gaps(s)[:r]
        total = 0.0
        for k in range(1, r + 1):
            with np.errstate(divide="ignore", invalid="ignore"):
                factors = 2.0 + PAPER_CONSTANT * s[:r] / T[k - 1]   # T_k in place of T_j
            for kp in range(1, k + 1):
                if dn[kp - 1] > 0:
                    total += sx * dn[kp - 1] * np.prod(factors[kp:k])
        return base + float(total)
    # "notes"
    prefix = np.concatenate([[1.0], np.cumprod(rho)[:-1]])          # prod_{j<k} rho_j
    with np.errstate(invalid="ignore"):
        terms = np.where(dn > 0, prefix * dn, 0.0)
    return base + float(np.sum(terms))


@dataclass(frozen=True)
class Hypothesis:
    """Theorem 1's hypothesis, step by step.

    cumulative : (r,) Q_k for k = 1..r (the bound E(k) on ||Y_k - Y_k^*||).
    half_gaps : (r,) T_k / 2 with T_k from :func:`gaps`, sigma_k - sigma_{k+1} (sigma_{p+1} = 0);
        the printed Theorem 1's T'_k = min_{j>k} |sigma_k - sigma_j| differs only at k = p
        (see :func:`onerank.printed.hypothesis`).
    margins : (r,) half_gaps - cumulative (positive where the hypothesis holds).
    holds : (r,) bool, cumulative < half_gaps.
    all : bool, holds for every k <= r.
    """

    cumulative: np.ndarray
    half_gaps: np.ndarray
    margins: np.ndarray
    holds: np.ndarray
    all: bool


def theorem1_hypothesis(sigma_Y, sigma_max_X, delta_norms, r) -> Hypothesis:
    """Check Theorem 1's hypothesis E(k) = Q_k < 1/2 min_{j>k} |sigma_k - sigma_j| for k = 1..r.

    The half gaps are computed as T_k / 2 with T_k from :func:`gaps`, and Q_k from
    :func:`cascade`.

    Parameters
    ----------
    sigma_Y : (p,) array_like
        All singular values of Y, non-increasing.
    sigma_max_X : float
        The largest singular value of X.
    delta_norms : (>= r,) array_like
        The ||delta_k||_F of Definition 1; only the first r are used.
    r : int
        Number of components, 1 <= r <= p.

    Returns
    -------
    Hypothesis
        The (r,) arrays ``cumulative``, ``half_gaps``, ``margins``, ``holds`` and the bool
        ``all`` (see :class:`Hypothesis`).
    """
    s, sx, dn, r = _inputs(sigma_Y, sigma_max_X, delta_norms, r)
    Q = cascade(s, sx, dn, r)[:r]
    half = 0.5 * gaps(s)[:r]
    holds = Q < half
    return Hypothesis(cumulative=Q, half_gaps=half, margins=half - Q, holds=holds, all=bool(np.all(holds)))


def step_bound(E_norm, sigma_k, gap_k) -> np.ndarray:
    """The book's form of the paper's Lemma 3 (eq. 18), the change of one exact rank-1 step.

    ||[Y_k]_1 - [Y_k^*]_1||_F <= ||E||_2 (1 + sqrt(2) sigma_k / (T_k - ||E||_2)).

    Vectorised over arrays of equal (or broadcastable) shape; inf where the hypothesis
    ||E||_2 < T_k fails.

    Parameters
    ----------
    E_norm : float or array_like
        ||E||_2, the spectral norm of the deviation Y_k - Y_k^*.
    sigma_k : float or array_like
        sigma_k, the top singular value of Y_k^*.
    gap_k : float or array_like
        T_k (:func:`gaps`).

    Returns
    -------
    bound : ndarray
        The bound, of the broadcast shape of the three inputs (0-d for scalars).
    """
    arrays = []
    for name, x in (("E_norm", E_norm), ("sigma_k", sigma_k), ("gap_k", gap_k)):
        arr = _validate.finite(_validate.real_array(x, name), name)
        if np.any(arr < 0):
            raise ValueError(f"{name} must be nonnegative")
        arrays.append(arr)
    try:
        E, s, T = np.broadcast_arrays(*arrays)
    except ValueError:
        raise ValueError("E_norm, sigma_k and gap_k must broadcast to one shape, got "
                         f"{[a.shape for a in arrays]}") from None
    with np.errstate(divide="ignore", invalid="ignore"):
        value = E * (1.0 + np.sqrt(2.0) * s / (T - E))
    return np.where(E < T, value, np.inf)


@dataclass(frozen=True)
class CascadeMeasurement:
    """What actually happened along one run of deflation, against exact deflation.

    With P the projector on the row space of X, sigma_i, u_i, v_i the SVD of Y P,
    Y_k^* = Y P - sum_{i<k} sigma_i u_i v_i^T (the residuals of Algorithm 1 on Y P)
    and Y_k the run's residuals, for k = 1..r (+1 where noted):

    sigma : (p,) singular values of Y P.
    gaps : (p,) T_j of :func:`gaps`.
    deviation_fro, deviation_spec : (r+1,) ||(Y_k - Y_k^*) P||_F and ||.||_2 ("E_k"; E_1 = 0).
    step_change : (r,) ||[Y_k P]_1 - [Y_k^* ]_1||_F, the exact rank-1 fit of the actual
        residual against the ideal one (the left side of the paper's Lemma 3, eq. (18)).
    delta_norms : (r,) ||delta_k||_F (W-space), delta_X : (r,) ||delta_k X||_F.
    sigma_max_X : float.
    outside : float, ||Y (I - P)||_F, the part of Y no map of X can fit.
    train_errors : (r,) ||Y - sum_{j<=k} b_j a_j^T X||_F.
    residual_sigma : list of r arrays, the singular values of Y_k P (the actual residual
        the step k saw), k = 1..r.
    """

    sigma: np.ndarray
    gaps: np.ndarray
    deviation_fro: np.ndarray
    deviation_spec: np.ndarray
    step_change: np.ndarray
    delta_norms: np.ndarray
    delta_X: np.ndarray
    sigma_max_X: float
    outside: float
    train_errors: np.ndarray
    residual_sigma: list


def measure(result, Y, X) -> CascadeMeasurement:
    """Compare a :class:`~onerank.deflation.DeflationResult` with exact deflation of Y P.

    All quantities are computed in the row-space coordinates of X, where Y P = Z Vt and
    norms are those of the m x s coordinate matrices (s = rank X).

    Parameters
    ----------
    result : DeflationResult
        A run of r components of ``deflate(Y, X, ..., keep_residuals=True)``.
    Y : (m, n) array_like
        The labels of the run.
    X : (d, n) array_like
        The inputs of the run.

    Returns
    -------
    CascadeMeasurement
        The measured quantities, with the shapes given in :class:`CascadeMeasurement`.
    """
    from .rowspace import RowSpace

    from .deflation import DeflationResult
    if not isinstance(result, DeflationResult):
        raise TypeError(f"result must be a DeflationResult (from onerank.deflation.deflate), got "
                        f"{type(result).__name__}")
    Y, X = _validate.regression_pair(Y, X)
    r = result.r
    if not result.residuals:
        raise ValueError("measure needs a run of deflate(..., keep_residuals=True)")
    rs = RowSpace(X)
    Z, outside_sq = rs.coordinates(Y)
    Uz, sz, Wt = np.linalg.svd(Z, full_matrices=False)
    p = min(Y.shape[0], Y.shape[1])
    sigma = np.concatenate([sz, np.zeros(max(p - sz.size, 0))])
    ideal = Z.copy()
    dev_f, dev_2, change = np.zeros(r + 1), np.zeros(r + 1), np.zeros(r)
    delta_X = np.zeros(r)
    residual_sigma = []
    for k in range(r + 1):
        Zk = result.residuals[k] @ rs.Vt.T
        D = Zk - ideal
        dev_f[k], dev_2[k] = np.linalg.norm(D), (np.linalg.norm(D, 2) if D.size else 0.0)
        if k == r:
            break
        residual_sigma.append(np.linalg.svd(Zk, compute_uv=False))
        a_s, b_s = result.exact_components[k]
        ideal_piece = sz[k] * np.outer(Uz[:, k], Wt[k]) if k < sz.size else np.zeros_like(Z)
        change[k] = np.linalg.norm(np.outer(b_s, rs.US.T @ a_s) - ideal_piece)
        a, b = result.components[k]
        delta_X[k] = np.linalg.norm(np.outer(b, a @ X) - np.outer(b_s, a_s @ X))
        ideal = ideal - ideal_piece
    return CascadeMeasurement(
        sigma=sigma, gaps=gaps(sigma), deviation_fro=dev_f, deviation_spec=dev_2, step_change=change,
        delta_norms=np.asarray(result.delta_norms, float).copy(), delta_X=delta_X,
        sigma_max_X=float(rs.s[0]) if rs.rank else 0.0, outside=float(np.sqrt(outside_sq)),
        train_errors=np.asarray(result.train_errors, float).copy(), residual_sigma=residual_sigma,
    )


def theorem2_bound(sigma_Y, sigma_max_X, sigma_min_X, delta_norms, r, *, form: str = "total"):
    """Recovery of W* from noiseless labels (the book's form of the paper's Theorem 2).

    With Y = W* X, X of full row rank (sigma_min(X) > 0), W_k^o = sigma_k u_k v_k^T X^+ the
    components of exact deflation (they sum to W* over k <= rank W*), rho_j and Q_k as in
    :func:`cascade`, and under the hypothesis of Theorem 1:

    form="component": ||b_k a_k^T - W_k^o||_F <= ||delta_k||_F + (1 + 6 sigma_k / T_k) Q_k / sigma_min(X)
    form="total":     ||W_hat - W*||_F <= ((sum_{k>r} sigma_k^2)^{1/2} + Q_{r+1}) / sigma_min(X)

    Q_k carries a factor sigma_max(X), so the error terms scale with
    kappa(X) = sigma_max / sigma_min. In the component form, the factor of a Q_k = 0 is
    taken as 0 (also where T_k = 0).

    Parameters
    ----------
    sigma_Y : (p,) array_like
        All singular values of Y, non-increasing.
    sigma_max_X : float
        The largest singular value of X.
    sigma_min_X : float
        The smallest singular value of X, > 0.
    delta_norms : (>= r,) array_like
        The ||delta_k||_F of Definition 1; only the first r are used.
    r : int
        Number of components, 1 <= r <= p.
    form : {"total", "component"}, optional
        Which bound (default "total").

    Returns
    -------
    float or (r,) ndarray
        The bound on ||W_hat - W*||_F for ``form="total"``; the bounds for k = 1..r for
        ``form="component"``.
    """
    s, sx, dn, r = _inputs(sigma_Y, sigma_max_X, delta_norms, r)
    smin = _validate.real(sigma_min_X, "sigma_min_X", positive=True)
    if form not in ("component", "total"):
        raise ValueError(f"form must be 'component' or 'total', got {form!r}")
    Q = cascade(s, sx, dn, r)
    if form == "total":
        return (_tail(s, r, "l2") + float(Q[-1])) / smin
    T = gaps(s)[:r]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(Q[:r] > 0, 1.0 + PAPER_CONSTANT * s[:r] / T, 0.0)
    return dn + factor * Q[:r] / smin


def gaussian_singular_values(m: int, n: int, trials: int, *, seed=0, batch: int = 2000) -> np.ndarray:
    """Singular values of ``trials`` independent m x n standard Gaussian matrices.

    Vectorised: one batched SVD per ``batch`` matrices. Used for Monte Carlo checks of the
    Gaussian tail bounds (the paper's Lemma 6).

    Parameters
    ----------
    m, n : int
        The shape of each matrix, >= 1.
    trials : int
        The number of matrices, >= 1.
    seed : int, Generator or None, optional
        Seeds ``numpy.random.default_rng``; a Generator is drawn from directly (default 0).
    batch : int, optional
        Matrices per batched SVD (default 2000).

    Returns
    -------
    s : (trials, min(m, n)) ndarray
        One row per matrix, each row non-increasing.
    """
    m = _validate.integer(m, "m", minimum=1)
    n = _validate.integer(n, "n", minimum=1)
    trials = _validate.integer(trials, "trials", minimum=1)
    batch = _validate.integer(batch, "batch", minimum=1)
    _validate.fits(min(batch, trials) * m * n, f"gaussian_singular_values with m={m}, n={n}, "
                   f"batch={min(batch, trials)}")
    rng = _validate.generator(seed)
    out = [np.linalg.svd(rng.standard_normal((min(batch, trials - i), m, n)), compute_uv=False)
           for i in range(0, trials, batch)]
    return np.concatenate(out)


def theorem3_bound(E_P_norm, sigma_WX, sigma_min_X, r) -> float:
    """Recovery from noisy labels with exact steps (the book's form of the paper's Theorem 3).

    With Y = W* X + E, P the projector on the row space of X (full row rank), and sigma_WX
    the singular values of W* X (non-increasing, zeros included):

    ||W_hat_r - W*||_F <= [ 2 sqrt(2r) (||E P||_2 + sigma_{r+1}(W* X))
                            + (sum_{k>r} sigma_k(W* X)^2)^{1/2} ] / sigma_min(X)

    The first term is the variance (it grows with r and with the noise), the second the
    bias (it falls with r); for r >= rank W* only the variance remains. sigma_{r+1}(W* X)
    is taken as 0 when r = p.

    Parameters
    ----------
    E_P_norm : float
        ||E P||_2, >= 0.
    sigma_WX : (p,) array_like
        The singular values of W* X, non-increasing, zeros included.
    sigma_min_X : float
        sigma_min(X), > 0.
    r : int
        Number of components, 1 <= r <= p.

    Returns
    -------
    float
        The bound.
    """
    s = _validate.spectrum(sigma_WX, "sigma_WX")
    r = _validate.integer(r, "r", minimum=1, maximum=s.size)
    e = _validate.real(E_P_norm, "E_P_norm", nonnegative=True)
    smin = _validate.real(sigma_min_X, "sigma_min_X", positive=True)
    nxt = s[r] if r < s.size else 0.0
    return (2.0 * np.sqrt(2.0 * r) * (e + nxt) + _tail(s, r, "l2")) / smin


# ------------------------------------------------------------------ clusters (repeated singular values)
def sin_theta(U, U_hat) -> float:
    """||sin Theta||_2 between the column spaces of U and U_hat.

    The spectral norm of (I - Q Q^T) Q_hat, with Q, Q_hat orthonormal bases (QR) of the two
    spaces. It is 0 when span(U_hat) lies inside span(U) and 1 when some direction of
    span(U_hat) is orthogonal to span(U).

    Parameters
    ----------
    U : (p, c) array_like
        A basis of the first space.
    U_hat : (p, c') array_like
        A basis of the second space.

    Returns
    -------
    float
        ||sin Theta||_2, in [0, 1].
    """
    U = _validate.matrix(U, "U")
    U_hat = _validate.matrix(U_hat, "U_hat")
    if 0 in U.shape or 0 in U_hat.shape:
        raise ValueError(f"U and U_hat must have at least one column, got {U.shape} and {U_hat.shape}")
    if U.ndim != 2 or U_hat.ndim != 2 or U.shape[0] != U_hat.shape[0]:
        raise ValueError(f"U and U_hat must be matrices with the same number of rows, got {U.shape}, {U_hat.shape}")
    Q = np.linalg.qr(U)[0]
    Q_hat = np.linalg.qr(U_hat)[0]
    return float(np.linalg.norm(Q_hat - Q @ (Q.T @ Q_hat), 2))


def clusters(sigma, rtol: float = 1e-9) -> list[np.ndarray]:
    """Group the indices of a descending spectrum into clusters of (numerically) equal values.

    Indices i and i+1 share a cluster when sigma_i - sigma_{i+1} <= rtol * sigma_1.

    Parameters
    ----------
    sigma : (p,) array_like
        Singular values, non-increasing and nonnegative.
    rtol : float, optional
        Tolerance relative to sigma_1 (default 1e-9).

    Returns
    -------
    list of 1-D int ndarray
        The clusters, in order; together they hold the indices 0..p-1 (0-based).
    """
    s = _validate.spectrum(sigma)
    rtol = _validate.real(rtol, "rtol", nonnegative=True)
    if s.size == 0:
        return []
    cut = np.flatnonzero(np.abs(np.diff(s)) > rtol * max(s[0], np.finfo(float).tiny)) + 1
    return np.split(np.arange(s.size), cut)


def wedin_bound(E_norm: float, sigma_hat_c: float, sigma_next: float) -> float:
    """Wedin's sin Theta bound for the top-c singular subspaces of A and A_hat = A + E.

    ||sin Theta||_2 <= ||E||_2 / delta with delta = sigma_c(A_hat) - sigma_{c+1}(A) > 0
    {cite}`wedin1972perturbation`; inf when delta <= 0 (no bound: the split at c is not
    determined, e.g. inside a cluster of equal singular values).

    Parameters
    ----------
    E_norm : float
        ||E||_2.
    sigma_hat_c : float
        sigma_c(A_hat), the c-th singular value of the perturbed matrix.
    sigma_next : float
        sigma_{c+1}(A), the (c+1)-th singular value of the unperturbed matrix.

    Returns
    -------
    float
        The bound, or inf.
    """
    E_norm = _validate.real(E_norm, "E_norm", nonnegative=True)
    sigma_hat_c = _validate.real(sigma_hat_c, "sigma_hat_c", nonnegative=True)
    sigma_next = _validate.real(sigma_next, "sigma_next", nonnegative=True)
    delta = sigma_hat_c - sigma_next
    return float(E_norm / delta) if delta > 0 else float("inf")


# ------------------------------------------------------------------ tightness of the cascade
def deflation_with_errors(Y, errors) -> dict:
    """Exact deflation of Y (X = I) in which step k makes the numerical error of a rank-1 step.

    Step k's pair is (b*_k + x_k, a*_k + y_k) instead of the exact (b*_k, a*_k) of the current
    residual (scaled so ||b*_k|| = ||a*_k|| = sqrt(sigma_1) of that residual); the exact
    deflation of Y runs alongside for comparison.

    Parameters
    ----------
    Y : (m, n) array_like
        The matrix to deflate.
    errors : list of r pairs (x_k, y_k)
        x_k : (m,) and y_k : (n,) arrays, the errors of step k; zeros for an exact step.

    Returns
    -------
    dict
        ``"deviations"`` : (r,) ndarray, ||Y_{k+1} - Y*_{k+1}||_F against exact deflation;
        ``"delta_norms"`` : (r,) ndarray, ||b_k a_k^T - b*_k a*_k^T||_F, the error of step k
        (Definition 1); ``"train_errors"`` : (r,) ndarray, ||Y_{k+1}||_F;
        ``"residual_sigma"`` : list of r arrays, the singular values of the residual Y_k
        that step k saw.
    """
    Y = _validate.matrix(Y, "Y")                        # finite: NaN would hang the SVD
    if 0 in Y.shape:
        raise ValueError(f"Y must have at least one row and one column, got shape {Y.shape}")
    if isinstance(errors, (str, bytes)) or not hasattr(errors, "__iter__"):
        raise TypeError(f"errors must be a list of pairs (x_k, y_k), got {type(errors).__name__}")
    checked = []                                        # every pair checked before any SVD
    for k, pair in enumerate(errors):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"errors[{k}] must be a pair (x_k, y_k), got {pair!r}")
        checked.append((_validate.vector(pair[0], f"errors[{k}][0] (x_k)", size=Y.shape[0]),
                        _validate.vector(pair[1], f"errors[{k}][1] (y_k)", size=Y.shape[1])))
    R, R_exact = Y.copy(), Y.copy()
    deviations, deltas, train, sigmas = [], [], [], []
    for x, y in checked:
        u, s, vt = np.linalg.svd(R)
        sigmas.append(s)
        b, a = np.sqrt(s[0]) * u[:, 0], np.sqrt(s[0]) * vt[0]
        piece = np.outer(b + x, a + y)
        deltas.append(np.linalg.norm(piece - np.outer(b, a)))
        R = R - piece
        train.append(np.linalg.norm(R))
        ue, se, vte = np.linalg.svd(R_exact)
        R_exact = R_exact - se[0] * np.outer(ue[:, 0], vte[0])
        deviations.append(np.linalg.norm(R - R_exact))
    return {"deviations": np.array(deviations), "delta_norms": np.array(deltas),
            "train_errors": np.array(train), "residual_sigma": sigmas}


def additive_bound(tail_r, step_errors, *, tops=None, tail_tops=None, caps=None,
                   outside=0.0) -> float:
    """The book's bound on the training error from the per-step errors: no gap factors.

    With eps_k = ||delta_k X||_F (step k's rank-1 piece against the exact minimiser of
    its own residual, Definition 1, in label space) and tau = tail_r, the best rank-r
    error of Y P:

    - linear form (``tops`` and ``tail_tops`` None): ``tau + sum_k eps_k``;
    - quadrature form: ``(tau^2 + sum_k [eps_k^2 + 2 c_k eps_k tail_tops[k]])^{1/2}`` with
      ``c_k = min(1, eps_k / (tops[k] - eps_k))`` (1 when ``tops[k] <= eps_k``), where
      ``tops[k]`` is sigma_1(Y_k P) and ``tail_tops[k]`` is sigma_{r-k+2}(Y_k P) (1-based
      k), the largest singular value that stays in the rank-r tail of the residual step k
      saw;
    - capped quadrature form (``caps`` given, with ``tops`` and ``tail_tops``): each
      increment ``eps_k^2 + 2 c_k eps_k tail_tops[k]`` replaced by its minimum with
      ``caps[k]``, where ``caps[k]`` is sigma_{r-k}(Y_k P)^2 + sigma_{r-k+1}(Y_k P)^2 for
      k < r (what a step that removes nothing useful can cost at most) and inf for k = r.

    All bound ||(Y - W_hat X) P||_F; the part outside the row space is added in
    quadrature: the returned value is ``(form^2 + outside^2)^{1/2}``, a bound on
    ||Y - W_hat X||_F.

    Parameters
    ----------
    tail_r : float
        (sum_{i>r} sigma_i(Y P)^2)^{1/2}, >= 0 (:func:`tail`).
    step_errors : (r,) array_like
        eps_k >= 0.
    tops, tail_tops : (r,) array_like, optional
        sigma_1(Y_k P) and sigma_{r-k+2}(Y_k P) of the actual residuals, >= 0; both or
        neither.
    caps : (r,) array_like, optional
        The caps of the capped form, >= 0 (inf allowed); only with ``tops``.
    outside : float, optional
        ||Y (I - P)||_F (default 0).

    Returns
    -------
    float
        The bound.
    """
    tau = _validate.real(tail_r, "tail_r", nonnegative=True)
    eps = _validate.vector(step_errors, "step_errors")
    if np.any(eps < 0):
        raise ValueError("step_errors must be >= 0")
    out = _validate.real(outside, "outside", nonnegative=True)
    if (tops is None) != (tail_tops is None):
        raise ValueError("tops and tail_tops must be given together (or neither)")
    if caps is not None and tops is None:
        raise ValueError("caps needs tops and tail_tops (the capped form is a quadrature form)")
    if tops is None:
        form = tau + float(eps.sum())
        return float(np.hypot(form, out))
    top = _validate.vector(tops, "tops", size=eps.size)
    nxt = _validate.vector(tail_tops, "tail_tops", size=eps.size)
    if np.any(top < 0) or np.any(nxt < 0):
        raise ValueError("tops and tail_tops must be >= 0")
    room = top - eps
    c = np.ones_like(eps)
    ok = room > 0
    c[ok] = np.minimum(1.0, eps[ok] / room[ok])
    step = eps**2 + 2.0 * c * eps * nxt
    if caps is not None:
        cap = np.asarray(caps, dtype=float)
        if cap.shape != eps.shape or np.any(np.isnan(cap)) or np.any(cap < 0):
            raise ValueError(f"caps must be {eps.size} numbers >= 0 (inf allowed), got {caps!r}")
        step = np.minimum(step, cap)
    form2 = tau**2 + float(np.sum(step))
    return float(np.sqrt(form2 + out**2))


def additive_inputs(m: CascadeMeasurement, r: int) -> dict:
    """The arguments of :func:`additive_bound` measured along a run.

    Parameters
    ----------
    m : CascadeMeasurement
        :func:`measure` of a run with at least ``r`` components.
    r : int
        The number of components, 1 <= r <= the run's.

    Returns
    -------
    dict
        ``tail_r``, ``step_errors`` ((r,) eps_k = ||delta_k X||_F), ``tops`` and
        ``tail_tops`` ((r,) sigma_1(Y_k P) and sigma_{r-k+2}(Y_k P)), ``outside``.
    """
    r = _validate.integer(r, "r", minimum=1, maximum=len(m.delta_X))
    sig = [np.concatenate([s, [0.0]]) for s in m.residual_sigma[:r]]
    return dict(tail_r=tail(m.sigma, r), step_errors=m.delta_X[:r].copy(),
                tops=np.array([s[0] for s in sig]),
                tail_tops=np.array([s[min(r - k, s.size - 1)] for k, s in enumerate(sig)]),
                outside=float(m.outside))


def additive_caps(residual_sigma, r: int) -> np.ndarray:
    """The ``caps`` of :func:`additive_bound` from the residuals' singular values.

    Parameters
    ----------
    residual_sigma : sequence of at least r 1-d arrays
        The singular values of Y_k P for k = 1..r, each non-increasing
        (``CascadeMeasurement.residual_sigma``, or ``residual_sigma`` of
        :func:`deflation_with_errors`).
    r : int
        The number of components, >= 1.

    Returns
    -------
    (r,) array
        sigma_{r-k}(Y_k P)^2 + sigma_{r-k+1}(Y_k P)^2 for k = 1..r-1 (singular values past
        the residual's last count as 0), inf for k = r.
    """
    r = _validate.integer(r, "r", minimum=1, maximum=len(residual_sigma))
    caps = np.full(r, np.inf)
    for k in range(r - 1):                          # 0-based: j = r - k steps left, j >= 2
        sv = np.concatenate([np.asarray(residual_sigma[k], dtype=float), np.zeros(r)])
        j = r - k
        caps[k] = sv[j - 2] ** 2 + sv[j - 1] ** 2
    return caps


#: The sizes of the cascade sweep behind the "Errors add" chapter's looseness table, per
#: run size: full is the cascade chapter's full sweep.
CASCADE_SWEEP = {"quick": {"per_step": [10, 100, 1000], "seeds": 2},
                 "full": {"per_step": [10, 30, 100, 300, 1000, 3000, 10000], "seeds": 10}}


def cascade_record(scale: str) -> dict:
    """The sweep :data:`CASCADE_SWEEP` of run size ``scale``, as a JSON-ready record.

    Parameters
    ----------
    scale : {"quick", "full"}
        The run size.

    Returns
    -------
    dict
        ``scale``, ``per_step``, ``seeds`` and ``runs``: the :func:`cascade_sweep` runs with
        arrays as lists and NaN (a bound whose hypothesis fails) as None.
    """
    _validate.choice(scale, "scale", CASCADE_SWEEP)
    size = CASCADE_SWEEP[scale]

    def plain(v):
        if isinstance(v, np.ndarray):
            return [plain(x) for x in v.tolist()]
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        if isinstance(v, (float, np.floating)):
            return None if not np.isfinite(v) else float(v)
        if isinstance(v, np.integer):
            return int(v)
        return v

    runs = cascade_sweep(size["per_step"], size["seeds"])
    return {"scale": scale, **size, "runs": [{k: plain(v) for k, v in run.items()} for run in runs]}


def cascade_sweep(per_step, seeds: int, *, ranks=(2, 4, 6), alphas=(-1.0, 0.0, 1.0),
                  progress: bool = True) -> list[dict]:
    """The cascade chapter's sweep: Algorithm 2 on seeded problems, every bound per run.

    For each singular-value profile, number of components r, steps per component t,
    schedule alpha and seed: a 20 x 30 problem of rank 6 with n = 60 and rows of X
    normalised (:func:`onerank.problems.make_problem`), deflated by gradient descent with
    the budget ``allocate(t * r, r, alpha)``, and :func:`bound_report` of the run.

    Parameters
    ----------
    per_step : sequence of int
        Gradient steps per component (t), each >= 1.
    seeds : int
        Seeds 0..seeds-1 per setting, >= 1.
    ranks, alphas : sequences, optional
        The numbers of components (each in 1..6) and the schedules' alphas.
    progress : bool, optional
        Show a progress bar over the profiles (default True).

    Returns
    -------
    list of dict
        One :func:`bound_report` per run, with ``profile``, ``t``, ``alpha`` and ``seed``.
    """
    from . import config, problems
    per_step = _validate.counts(per_step, "per_step", minimum=1, what="steps per component")
    seeds = _validate.integer(seeds, "seeds", minimum=1)
    ranks = _validate.counts(ranks, "ranks", minimum=1, what="numbers of components")
    if max(ranks) > 6:
        raise ValueError(f"ranks must be <= 6 (the problems have rank 6), got {ranks}")
    runs = []
    for profile in config.progress(problems.PROFILES, enabled=progress, desc="spectra"):
        for r in ranks:
            for t in per_step:
                for alpha in alphas:
                    for seed in range(seeds):
                        p, res = cascade_run(profile, r, t, alpha, seed)
                        runs.append(dict(profile=profile, t=t, alpha=alpha, seed=seed,
                                         **bound_report(p, res, r)))
    return runs


def cascade_run(profile: str, r: int, t: int, alpha: float, seed: int):
    """One run of :func:`cascade_sweep`: (problem, DeflationResult).

    Parameters
    ----------
    profile : {"exponential", "power", "uniform"}
        The singular-value profile of W* (rank 6).
    r : int
        Components, 1..6.
    t : int
        Gradient steps per component, >= 1 (the total t * r is split by ``allocate``).
    alpha : float
        The schedule's alpha (:func:`onerank.schedules.allocate`).
    seed : int
        Seeds the problem and the initial points.

    Returns
    -------
    tuple
        (:class:`onerank.problems.Problem`, :class:`onerank.deflation.DeflationResult`).
    """
    from . import deflation, problems, schedules
    r = _validate.integer(r, "r", minimum=1, maximum=6)
    t = _validate.integer(t, "t", minimum=1)
    p = problems.make_problem(20, 30, 60, 6, profile=profile, x_norm="rows", seed=seed)
    return p, deflation.deflate(p.Y, p.X, schedules.allocate(t * r, r, alpha), seed=seed)


def bound_report(problem, result, r: int) -> dict:
    """Every form of the cascade bound, and what it bounds, for one deflation run.

    Parameters
    ----------
    problem : onerank.problems.Problem
        The instance: Y (m, n) and X (d, n).
    result : onerank.deflation.DeflationResult
        A run of :func:`onerank.deflation.deflate` on it with at least ``r`` components.
    r : int
        The number of components the bound is taken at, >= 1.

    Returns
    -------
    dict
        ``"actual"`` (training error after r components), ``"tail"`` (:func:`tail`),
        ``"hyp"`` (whether :func:`theorem1_hypothesis` holds for every k),
        ``"deviation"`` ((r,) the norms of E_k), ``"Q"`` and ``"Q_sharp"`` ((r,)
        :func:`cascade` with the paper's and the sharp constant), ``"Q_dX"`` (the sharp
        recursion driven by the measured delta_k X), ``"min_rel_gap"`` (smallest
        T_k / sigma_k over k <= r), ``"r"``, one entry per variant of :data:`VARIANTS`
        (:func:`theorem1_bound`), ``"l1"`` (the corrected form with the l1 tail), and the
        book's bounds without gap factors (:func:`additive_bound`, on the whole training
        error): ``"additive"`` (linear form), ``"additive_sq"`` (quadrature form),
        ``"additive_min"`` (quadrature form with its increments capped, :func:`additive_caps`),
        ``"additive_sigma"`` (linear form with sigma_max(X) ||delta_k||_F for eps_k) and
        ``"additive_apriori"`` ((tail^2 + 5 sum eps_k^2)^{1/2}, outside added, where every
        eps_k <= sigma_1(Y_k P) / 2; NaN where that hypothesis fails).
    """
    if not hasattr(problem, "Y") or not hasattr(problem, "X"):
        raise TypeError(f"problem must be an onerank.problems.Problem, got {type(problem).__name__}")
    m = measure(result, problem.Y, problem.X)
    s, sx, dn = m.sigma, m.sigma_max_X, m.delta_norms
    out = dict(actual=result.train_errors[-1], tail=tail(s, r),
               hyp=theorem1_hypothesis(s, sx, dn, r).all, deviation=m.deviation_fro,
               Q=cascade(s, sx, dn, r), Q_sharp=cascade(s, sx, dn, r, constant=SHARP_CONSTANT),
               Q_dX=recurrence(amplification_factors(s, SHARP_CONSTANT)[:r], m.delta_X),
               min_rel_gap=np.min(m.gaps[:r] / m.sigma[:r]), r=r)
    for variant in VARIANTS:
        out[variant] = theorem1_bound(s, sx, dn, r, variant=variant)
    out["l1"] = theorem1_bound(s, sx, dn, r, variant="corrected", tail="l1")
    inputs = additive_inputs(m, r)
    out["additive_sq"] = additive_bound(**inputs)
    out["additive_min"] = additive_bound(**inputs, caps=additive_caps(m.residual_sigma, r))
    lin = {k: v for k, v in inputs.items() if k not in ("tops", "tail_tops")}
    out["additive"] = additive_bound(**lin)
    out["additive_sigma"] = additive_bound(**{**lin, "step_errors": sx * dn[:r]})
    eps, tops = inputs["step_errors"], inputs["tops"]
    out["additive_apriori"] = (float(np.hypot(np.sqrt(inputs["tail_r"] ** 2 + 5 * np.sum(eps**2)),
                                              inputs["outside"]))
                               if np.all(eps <= tops / 2) else float("nan"))
    out["outside"] = float(m.outside)
    return out
