"""The paper's statements as printed in arXiv v1, evaluated exactly as printed.

Each function evaluates one formula of Vandchali, Liao and Kyrillidis,
arXiv:2505.22602v1 {cite}`vandchali2025onerank`, with the printed indices and
constants; the docstring names the place (section, equation, line of
``paper-arxiv-v1.txt``) and every convention the printed text leaves open. The
book's corrected and sharper forms live in :mod:`onerank.theory`; the
computations that set the two side by side are in :mod:`onerank.paper`.

Notation of the paper (Section 3):

    sigma_1* >= sigma_2* >= ...   singular values of Y
    T_k* = min{ min_{j>k} |sigma_k* - sigma_j*|, sigma_k* }          (theory.gaps)
    delta_k = b_k a_k^T - bbar_k abar_k^T                             (Definition 1)
    delta_0 := 0

The paper never defines delta_0, although its sums start at k' = 0; Y_1 = Y_1*
and Lemma 5's b_0 = Q_1 (= 0 here) make every k' = 0 term vanish, so the
functions below take it as 0.

The printed products come in two forms, chosen by ``gap``:

    "outer": prod_{j=k'+1}^{k} (2 + 6 sigma_j* / T_k*)   eqs. (8), (10), (26), E(k) of Thms 1-2
    "inner": prod_{j=k'+1}^{k} (2 + 6 sigma_j* / T_j*)   eqs. (11), (12), E(k) of Thm 4

Only "inner" follows from the proof (Lemma 5 unrolls Q_{k+1} = a_k Q_k + b_k
into products of a_j, the factor of step j).
"""

from __future__ import annotations

import numpy as np

from . import _validate
from .theory import PAPER_CONSTANT, gaps

GAPS = ("outer", "inner")


def _errors(delta_norms, r):
    dn = _validate.vector(delta_norms, "delta_norms")
    if dn.size < r:
        raise ValueError(f"delta_norms must hold at least r = {r} values, got {dn.size}")
    if np.any(dn < 0):
        raise ValueError("delta_norms must be nonnegative")
    return dn[:r]


def _rank(r, s):
    return _validate.integer(r, "r", minimum=1, maximum=s.size)


def _inner_sum(s, T, dn, upto, gap_of, gap):
    """sum_{k'=1}^{upto} ||delta_k'|| prod_{j=k'+1}^{upto} (2 + 6 s_j / T_g), g = gap_of or j."""
    total = 0.0
    for kp in range(1, upto + 1):
        if dn[kp - 1] == 0:                  # a zero error contributes nothing, whatever the factors
            continue
        js = np.arange(kp + 1, upto + 1)
        Tg = T[gap_of - 1] if gap == "outer" else T[js - 1]
        with np.errstate(divide="ignore"):
            factors = 2.0 + PAPER_CONSTANT * s[js - 1] / Tg
        total += dn[kp - 1] * float(np.prod(factors))
    return total


def _sums_inputs(sigma, sigma_max_X, delta_norms, r, gap):
    """Validated (sigma, sigma_max_X, delta_norms[:r], r, gaps) for the printed sums."""
    s = _validate.spectrum(sigma, "sigma")
    r = _rank(r, s)
    sx = _validate.real(sigma_max_X, "sigma_max_X", nonnegative=True)
    dn = _errors(delta_norms, r)
    _validate.choice(gap, "gap", GAPS)
    return s, sx, dn, r, gaps(s)


def cascade_terms(sigma, sigma_max_X, delta_norms, r, *, gap="outer") -> np.ndarray:
    """The summands S_k of the printed double sums, k = 1..r.

    S_k = sigma_max(X) sum_{k'=0}^{k} ||delta_k'||_F prod_{j=k'+1}^{k} (2 + 6 sigma_j* / T_g*),
    g = k for ``gap="outer"``, g = j for ``gap="inner"``.

    Parameters
    ----------
    sigma : (p,) array_like
        Singular values of Y, non-increasing (zeros included).
    sigma_max_X : float
        sigma_max(X), >= 0.
    delta_norms : (>= r,) array_like
        The ||delta_k||_F of Definition 1, nonnegative; only the first r are used.
    r : int
        Number of components, 1 <= r <= p.
    gap : {"outer", "inner"}, optional
        Which gap sits in the product (module docstring; default "outer").

    Returns
    -------
    S : (r,) ndarray
        S_1, ..., S_r; inf where a factor divides by a zero gap.
    """
    s, sx, dn, r, T = _sums_inputs(sigma, sigma_max_X, delta_norms, r, gap)
    return np.array([sx * _inner_sum(s, T, dn, k, k, gap) for k in range(1, r + 1)])


def hypothesis(sigma, sigma_max_X, delta_norms, r, *, gap="outer") -> np.ndarray:
    """The printed hypothesis E(k) < 1/2 min_{j>k} |sigma_k* - sigma_j*|, for k = 1..r.

    E(k) = sigma_max(X) sum_{k'=0}^{k-1} ||delta_k'|| prod_{j=k'+1}^{k-1} (2 + 6 sigma_j*/T_g*)
    with g = k (``"outer"``: Theorems 1 and 2, P-L169 and P-L191) or g = j (``"inner"``:
    Theorem 4, P-L574). The printed statements do not say "for every k"; the proof needs it
    at every k <= r (eq. (33)), which is how it is read here.

    Parameters
    ----------
    sigma : (p,) array_like
        Singular values of Y, non-increasing (zeros included).
    sigma_max_X : float
        sigma_max(X), >= 0.
    delta_norms : (>= r,) array_like
        The ||delta_k||_F of Definition 1, nonnegative; only the first r are used.
    r : int
        Number of components, 1 <= r <= p.
    gap : {"outer", "inner"}, optional
        Which gap sits in the product of E(k) (default "outer").

    Returns
    -------
    holds : (r,) bool ndarray
        Whether the hypothesis holds at each k. For k = p (no j > k) the right side is +inf.
    """
    s, sx, dn, r, T = _sums_inputs(sigma, sigma_max_X, delta_norms, r, gap)
    E = np.array([sx * _inner_sum(s, T, dn, k - 1, k, gap) for k in range(1, r + 1)])
    half = np.array([0.5 * (s[k - 1] - s[k]) if k < s.size else np.inf for k in range(1, r + 1)])
    return E < half


def theorem1_bound(sigma, sigma_max_X, delta_norms, r) -> float:
    """Eq. (8) (Theorem 1, P-L173): sum_{k=r+1}^{p} sigma_k* + sum_{k=1}^{r} S_k(outer).

    The l1 tail and T_k* (outer index) inside the product, as printed; S_k from
    :func:`cascade_terms`.

    Parameters
    ----------
    sigma : (p,) array_like
        Singular values of Y, non-increasing (zeros included).
    sigma_max_X : float
        sigma_max(X).
    delta_norms : (>= r,) array_like
        The ||delta_k||_F of Definition 1.
    r : int
        Number of components, 1 <= r <= p.

    Returns
    -------
    float
        The printed bound on ||Y - sum_{k<=r} b_k a_k^T X||_F.
    """
    s = _validate.spectrum(sigma, "sigma")
    return float(np.sum(s[_rank(r, s):])) + float(np.sum(cascade_terms(s, sigma_max_X, delta_norms, r)))


def theorem4_bound(sigma, sigma_max_X, delta_norms, r, r_prime) -> float:
    """Eq. (26) (Theorem 4, P-L578), for r <= r' <= r*.

    A bound on ||Y^(r') - sum_{k<=r} b_k a_k^T X||_F, with Y^(r') the rank-r' truncated SVD of Y:

    sum_{k=r+1}^{r'} sigma_k* + sum_{k=1}^{r} S_k(outer).

    Parameters
    ----------
    sigma : (p,) array_like
        Singular values of Y, non-increasing (zeros included).
    sigma_max_X : float
        sigma_max(X).
    delta_norms : (>= r,) array_like
        The ||delta_k||_F of Definition 1.
    r : int
        Number of components, 1 <= r <= p.
    r_prime : int
        The rank r' of the truncated SVD, r <= r' <= p.

    Returns
    -------
    float
        The printed bound.
    """
    s = _validate.spectrum(sigma, "sigma")
    r = _rank(r, s)
    r_prime = _validate.integer(r_prime, "r_prime", minimum=r, maximum=s.size)
    return float(np.sum(s[r:r_prime])) + float(np.sum(cascade_terms(s, sigma_max_X, delta_norms, r)))


def theorem2_component_bounds(sigma, sigma_max_X, sigma_min_X, delta_norms, r) -> np.ndarray:
    """Eq. (10) (Theorem 2, P-L195), for k = 1..r.

    ||b_k* a_k*^T - b_k a_k^T||_F <= kappa(X) sum_{k'=0}^{k} ... with T_k* (outer index).
    kappa(X) = sigma_max / sigma_min, so the bound is S_k(outer) / sigma_min(X).

    Parameters
    ----------
    sigma : (p,) array_like
        Singular values of Y, non-increasing (zeros included).
    sigma_max_X : float
        sigma_max(X).
    sigma_min_X : float
        sigma_min(X), > 0.
    delta_norms : (>= r,) array_like
        The ||delta_k||_F of Definition 1.
    r : int
        Number of components, 1 <= r <= p.

    Returns
    -------
    (r,) ndarray
        The printed bound for each component k = 1..r.
    """
    smin = _validate.real(sigma_min_X, "sigma_min_X", positive=True)
    return cascade_terms(sigma, sigma_max_X, delta_norms, r) / smin


def theorem2_total_bound(sigma, sigma_max_X, sigma_min_X, delta_norms, r, r_star) -> float:
    """Eq. (11) (Theorem 2, P-L199), the printed bound on ||W* - sum_k b_k a_k^T||_F.

    sum_{k=r+1}^{r*} sigma_k* / sigma_min(X) + kappa(X) sum_{k=1}^{r} sum_{k'=1}^{k} ... (T_j*),
    that is, the tail divided by sigma_min(X) plus the sum of S_k(inner) divided by sigma_min(X).

    Parameters
    ----------
    sigma : (p,) array_like
        Singular values of Y, non-increasing (zeros included).
    sigma_max_X : float
        sigma_max(X).
    sigma_min_X : float
        sigma_min(X), > 0.
    delta_norms : (>= r,) array_like
        The ||delta_k||_F of Definition 1.
    r : int
        Number of components, 1 <= r <= p.
    r_star : int
        r* = rank W*, 1 <= r* <= p (the tail is empty when r* <= r).

    Returns
    -------
    float
        The printed bound.
    """
    s = _validate.spectrum(sigma, "sigma")
    r = _rank(r, s)
    r_star = _validate.integer(r_star, "r_star", minimum=1, maximum=s.size)
    smin = _validate.real(sigma_min_X, "sigma_min_X", positive=True)
    terms = cascade_terms(s, sigma_max_X, delta_norms, r, gap="inner")
    return float(np.sum(s[r:r_star])) / smin + float(np.sum(terms)) / smin


def theorem3_terms(sigma_W, sigma_Y, sigma_max_X, sigma_min_X, delta_norms, r, *,
                   noise_std, n, gamma) -> dict:
    """The pieces of eq. (12) (Theorem 3, P-L209), each as printed.

    ||W* - sum_k b_k a_k^T||_F
        <= kappa(X) ( sum_{k=r+1}^{r*} sigma_r(W*) + cascade )
           + O( eps sqrt(n log 1/gamma) / sigma_min(X) (r + sqrt(min{r*, r} / T*_min)) )

    Parameters
    ----------
    sigma_W : (r*,) array_like
        Positive singular values of W*, non-increasing (r* = its length).
    sigma_Y : (p,) array_like
        Singular values of the noisy Y; sigma_j* and T_j* of the product and
        T*_min = min_{k<=r} T_k* are read from it (Theorem 3's T_k* is printed with a garbled
        sigma_{j_k}, P-L207; the gaps of Y are the reading used here).
    sigma_max_X : float
        sigma_max(X), > 0.
    sigma_min_X : float
        sigma_min(X), > 0.
    delta_norms : (>= r,) array_like
        The ||delta_k||_F.
    r : int
        Number of components, 1 <= r <= p.
    noise_std : float
        eps, the standard deviation of the label noise (Section 4: E_ij ~ N(0, eps^2)), >= 0.
    n : int
        Number of samples, >= 1.
    gamma : float
        Failure probability, in (0, 1).

    Returns
    -------
    dict of float
        ``bias_printed`` = kappa sum_{k=r+1}^{r*} sigma_r(W*) (the printed first term; 0 when
        r > r*), ``bias_sigma_k`` = kappa sum_{k=r+1}^{r*} sigma_k(W*) (what C.3's first display
        gives with sigma_k), ``cascade`` = kappa(X) sum_k sum_k' ... (T_j*), ``deterministic`` =
        bias_printed + cascade, ``shape`` = the expression inside O(.), its hidden constant
        taken as 1, and ``T_min``.
    """
    sW = _validate.spectrum(sigma_W, "sigma_W")
    if np.any(sW == 0):
        raise ValueError("sigma_W must hold the r* positive singular values of W*")
    sY = _validate.spectrum(sigma_Y, "sigma_Y")
    r = _rank(r, sY)
    sx = _validate.real(sigma_max_X, "sigma_max_X", positive=True)
    smin = _validate.real(sigma_min_X, "sigma_min_X", positive=True)
    eps = _validate.real(noise_std, "noise_std", nonnegative=True)
    n = _validate.integer(n, "n", minimum=1)
    gamma = _validate.real(gamma, "gamma", positive=True)
    if gamma >= 1:
        raise ValueError(f"gamma must be in (0, 1), got {gamma}")
    r_star = sW.size
    kappa = sx / smin
    sigma_r = sW[r - 1] if r <= r_star else 0.0
    bias_printed = kappa * max(r_star - r, 0) * sigma_r
    bias_sigma_k = kappa * float(np.sum(sW[r:]))
    cascade = float(np.sum(cascade_terms(sY, sx, delta_norms, r, gap="inner"))) / smin
    T_min = float(np.min(gaps(sY)[:r]))
    with np.errstate(divide="ignore"):
        shape = eps * np.sqrt(n * np.log(1 / gamma)) / smin * (r + np.sqrt(min(r_star, r) / T_min))
    return dict(bias_printed=bias_printed, bias_sigma_k=bias_sigma_k, cascade=cascade,
                deterministic=bias_printed + cascade, shape=float(shape), T_min=T_min)


def lemma3_gap(sigma_k_star, sigma_Yk, k, *, reading="wedin") -> float:
    """T_k of Lemma 3 (P-L428), printed as min{ min_{j>k} |sigma_k* - sigma_{j_k}^*|, sigma_k* }.

    sigma_{j_k} is the j-th singular value of the actual residual Y_k (Section 3, P-L157); the
    printed index is garbled. Two readings:

    ``"wedin"``: j >= 2 in Y_k's own indexing, the gap Wedin's theorem needs in the proof
        (P-L550-552): min{ min_{j>=2} |sigma_k* - sigma_j(Y_k)|, sigma_k* }.
    ``"literal"``: j > k in Y_k's own indexing, as the symbols read.

    When no such j exists the gap is sigma_k*.

    Parameters
    ----------
    sigma_k_star : float
        The k-th singular value of Y (the top one of Y_k*), >= 0.
    sigma_Yk : (q,) array_like
        Singular values of Y_k, non-increasing.
    k : int
        The step, >= 1.
    reading : {"wedin", "literal"}, optional
        The reading of the garbled index (default "wedin").

    Returns
    -------
    float
        T_k.
    """
    s = _validate.real(sigma_k_star, "sigma_k_star", nonnegative=True)
    sk = _validate.spectrum(sigma_Yk, "sigma_Yk")
    k = _validate.integer(k, "k", minimum=1)
    _validate.choice(reading, "reading", ("wedin", "literal"))
    start = 1 if reading == "wedin" else k
    rest = np.abs(s - sk[start:])
    return float(min(rest.min(), s)) if rest.size else s


def lemma3_bound(sigma_k_star, T_k, deviation_fro) -> float:
    """Eq. (18) (Lemma 3, P-L430): (3 sigma_k* / T_k + 1) ||Y_k* - Y_k||_F.

    Parameters
    ----------
    sigma_k_star : float or ndarray
        sigma_k*, the k-th singular value of Y.
    T_k : float or ndarray
        The perturbed gap of :func:`lemma3_gap`.
    deviation_fro : float or ndarray
        ||Y_k* - Y_k||_F.

    Returns
    -------
    float or ndarray
        The right side of (18), elementwise for arrays.
    """
    return (3.0 * sigma_k_star / T_k + 1.0) * deviation_fro


def recursion_bound(sigma_k_star, T_k, deviation_fro, delta_X) -> float:
    """Eq. (19) (P-L434): (3 sigma_k* / T_k + 2) ||Y_k* - Y_k||_F + ||delta_k X||_F.

    Parameters
    ----------
    sigma_k_star : float or ndarray
        sigma_k*, the k-th singular value of Y.
    T_k : float or ndarray
        The perturbed gap of :func:`lemma3_gap`.
    deviation_fro : float or ndarray
        ||Y_k* - Y_k||_F.
    delta_X : float or ndarray
        ||delta_k X||_F.

    Returns
    -------
    float or ndarray
        The right side of (19), elementwise for arrays.
    """
    return (3.0 * sigma_k_star / T_k + 2.0) * deviation_fro + delta_X


def lemma4_shape(noise_std, n, delta, m_hat, r, T_min) -> float:
    """The expression inside O(.) of Lemma 4 (P-L652), hidden constant taken as 1.

    eps sqrt(n log 1/delta) (m_hat + sqrt(min{r, m_hat} / T*_min)); r = rank Y* there.

    Parameters
    ----------
    noise_std : float
        eps, the standard deviation of the noise entries.
    n : int
        Number of samples.
    delta : float
        Failure probability, in (0, 1).
    m_hat : int
        The rank m_hat of the truncations compared.
    r : int
        rank Y*.
    T_min : float
        T*_min.

    Returns
    -------
    float
        The expression.
    """
    return noise_std * np.sqrt(n * np.log(1 / delta)) * (m_hat + np.sqrt(min(r, m_hat) / T_min))


def _svd(A):
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return U, s, Vt.T


def lemma4_wedin_step(Y_clean, Y, k) -> dict:
    """The first display of Lemma 4's proof (P-L690), both sides, with its corrected form.

    In Lemma 4's notation Y* = Y_clean has SVD with hats and Y = Y* + E has (u_k*, v_k*).

    Printed:   uhat_k^T u_k* + vhat_k^T v_k* <= 2 - (2 / T_k*) (||E^T u_k*||^2 + ||E v_k*||^2)
    Corrected: uhat_k^T u_k* + vhat_k^T v_k* >= 2 - (||E^T u_k*||^2 + ||E v_k*||^2) / delta_k^2

    (Wedin, Theorem 6, for the k-th pair, then cos >= cos^2), with
    delta_k = min{ min_{j != k} |sigma_k(Y) - sigma_j(Y*)|, sigma_k(Y) } and
    T_k* = min{ min_{j != k} |sigma_k(Y) - sigma_j(Y)|, sigma_k(Y) } (the two-sided gap that
    C.2 asks of the noisy values, P-L688). Each vector's sign is chosen so that its product
    is nonnegative (the paper's convention, P-L159-161).

    Parameters
    ----------
    Y_clean : (m, n) array_like
        Y*, the noiseless labels.
    Y : (m, n) array_like
        The noisy labels Y* + E.
    k : int
        The index of the pair, 1 <= k <= min(m, n).

    Returns
    -------
    dict of float
        ``lhs``, ``printed_rhs``, ``corrected_rhs``, ``T`` (T_k*), ``delta`` (delta_k).
    """
    Ys = _validate.matrix(Y_clean, "Y_clean")
    Y = _validate.matrix(Y, "Y", shape=Ys.shape)
    k = _validate.integer(k, "k", minimum=1, maximum=min(Y.shape))
    E = Y - Ys
    U, s, V = _svd(Y)
    Uh, sh, Vh = _svd(Ys)
    u, v = U[:, k - 1], V[:, k - 1]
    lhs = abs(Uh[:, k - 1] @ u) + abs(Vh[:, k - 1] @ v)
    energy = float(np.sum((E.T @ u) ** 2) + np.sum((E @ v) ** 2))
    others = np.delete(np.arange(s.size), k - 1)
    T = min(float(np.min(np.abs(s[k - 1] - s[others]))) if others.size else np.inf, s[k - 1])
    delta = min(float(np.min(np.abs(s[k - 1] - sh[others]))) if others.size else np.inf, s[k - 1])
    return dict(lhs=float(lhs), printed_rhs=2.0 - 2.0 / T * energy,
                corrected_rhs=2.0 - energy / delta**2, T=T, delta=delta)


def wedin_frobenius(M, M_tilde, r) -> dict:
    """Theorem 6 as printed (P-L804-810), the Frobenius-sum form, both sides.

    ||sin Theta(U~_1, U_1)||_F^2 + ||sin Theta(V~_1, V_1)||_F^2
        <= (||U_1^T Delta||_F^2 + ||Delta V_1||_F^2) / delta^2,

    Delta = M~ - M, U_1, V_1 (U~_1, V~_1) the top-r singular vectors of M (M~), and
    delta = min{ min_{i<=r<j} |sigma_i - sigma~_j|, min_{i<=r} sigma_i } (j up to min(m, n); the
    values past min(m, n) are zeros, already covered by the second term).

    Parameters
    ----------
    M : (m, n) array_like
        The unperturbed matrix.
    M_tilde : (m, n) array_like
        The perturbed matrix M~.
    r : int
        The dimension of the subspaces, 1 <= r <= min(m, n).

    Returns
    -------
    dict of float
        ``lhs``, ``rhs`` (inf when delta = 0), ``delta``.
    """
    M = _validate.matrix(M, "M")
    Mt = _validate.matrix(M_tilde, "M_tilde", shape=M.shape)
    r = _validate.integer(r, "r", minimum=1, maximum=min(M.shape))
    U, s, V = _svd(M)
    Ut, st, Vt = _svd(Mt)
    D = Mt - M
    sin2 = (r - np.sum((U[:, :r].T @ Ut[:, :r]) ** 2)) + (r - np.sum((V[:, :r].T @ Vt[:, :r]) ** 2))
    rest = st[r:]
    cross = float(np.min(np.abs(s[:r, None] - rest[None, :]))) if rest.size else np.inf
    delta = min(cross, float(s[r - 1]))
    num = np.sum((U[:, :r].T @ D) ** 2) + np.sum((D @ V[:, :r]) ** 2)
    return dict(lhs=float(max(sin2, 0.0)), rhs=float(num / delta**2) if delta > 0 else np.inf, delta=delta)
