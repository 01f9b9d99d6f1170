import numpy as np
import pytest

from onerank import rank1

from helpers import small_problem

EPS = np.finfo(np.float64).eps
SEEDS = range(40)


def top_pair_product(M):
    """sigma_1 u_1 v_1^T of M, and the relative gap (sigma_1 - sigma_2) / sigma_1."""
    U, s, Vt = np.linalg.svd(M, full_matrices=False)
    return s[0] * np.outer(U[:, 0], Vt[0]), s[0], (s[0] - s[1]) / s[0]


def svd_tolerance(sigma1, rel_gap, dims):
    # backward-stable SVD: a perturbation of size ~ dims * eps * sigma1 moves the top
    # singular vectors by ~ that / gap (Wedin), so the rank-1 product by ~ dims * eps * sigma1 / rel_gap
    return 10 * dims * EPS * sigma1 / rel_gap


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("profile", ["exponential", "power", "uniform"])
def test_exact_is_top_singular_pair_of_noiseless_Y(seed, profile):
    p = small_problem(seed=seed, profile=profile)
    a, b = rank1.exact(p.Y, p.X)
    target, s1, gap = top_pair_product(p.Y)
    err = np.linalg.norm(np.outer(b, a @ p.X) - target)
    assert err <= svd_tolerance(s1, gap, max(p.Y.shape))
    # balanced scaling: ||b|| = ||a^T X|| = sqrt(sigma_1)
    assert np.isclose(np.linalg.norm(b), np.sqrt(s1)) and np.isclose(np.linalg.norm(a @ p.X), np.sqrt(s1))


@pytest.mark.parametrize("seed", SEEDS)
def test_exact_with_label_noise_fits_the_row_space_projection(seed):
    # n > d and Gaussian noise: Y has a part outside the row space of X
    p = small_problem(seed=seed, noise="gaussian", noise_level=0.5)
    a, b = rank1.exact(p.Y, p.X)
    fit = np.outer(b, a @ p.X)
    P = np.linalg.pinv(p.X) @ p.X                     # projector on the row space of X
    target, s1, gap = top_pair_product(p.Y @ P)
    assert np.linalg.norm(fit - target) <= svd_tolerance(s1, gap, max(p.Y.shape))
    naive, _, _ = top_pair_product(p.Y)               # Lemma 1 as printed
    assert np.linalg.norm(fit - naive) > 1e-3 * np.linalg.norm(naive)


@pytest.mark.parametrize("seed", range(20))
def test_exact_when_X_is_rank_deficient(seed):
    # d > n: X has full column rank only; a is the minimum-norm choice in col(X)
    p = small_problem(seed=seed, d=30, n=20, noise="gaussian", noise_level=0.1)
    a, b = rank1.exact(p.Y, p.X)
    R = p.Y - np.outer(b, a @ p.X)
    # first-order optimality: both gradients of 1/2||Y - b a^T X||^2 vanish (relative to their scale)
    scale = np.linalg.norm(p.Y) * np.linalg.norm(p.X) * (np.linalg.norm(a) + np.linalg.norm(b))
    assert np.linalg.norm(p.X @ R.T @ b) <= 1e3 * EPS * scale
    assert np.linalg.norm(R @ p.X.T @ a) <= 1e3 * EPS * scale
    # a lies in the column space of X (minimum norm)
    Q = np.linalg.svd(p.X, full_matrices=False)[0]
    assert np.linalg.norm(a - Q @ (Q.T @ a)) <= 1e3 * EPS * np.linalg.norm(a)
    target, s1, gap = top_pair_product(p.Y @ np.linalg.pinv(p.X) @ p.X)
    assert np.linalg.norm(np.outer(b, a @ p.X) - target) <= svd_tolerance(s1, gap, 30)


@pytest.mark.parametrize("seed", range(20))
def test_exact_beats_random_rank1_candidates(seed, k=50):
    p = small_problem(seed=seed, noise="sparse", noise_level=3.0)
    a, b = rank1.exact(p.Y, p.X)
    best = np.linalg.norm(p.Y - np.outer(b, a @ p.X))
    rng = np.random.default_rng(seed)
    for _ in range(k):
        # perturb the optimum: every nearby rank-1 candidate must be worse
        a2 = a + 0.05 * rng.standard_normal(a.shape) * np.linalg.norm(a)
        b2 = b + 0.05 * rng.standard_normal(b.shape) * np.linalg.norm(b)
        assert np.linalg.norm(p.Y - np.outer(b2, a2 @ p.X)) >= best


def test_exact_of_zero_is_zero():
    p = small_problem()
    a, b = rank1.exact(np.zeros_like(p.Y), p.X)
    assert not np.any(a) and not np.any(b)


def full_gd_step(Y, X, a, b, eta):
    """One step of eq. (5) in the original coordinates (both gradients first)."""
    R = Y - np.outer(b, a @ X)
    grad_a, grad_b = -X @ R.T @ b, -R @ X.T @ a
    return a - eta * grad_a, b - eta * grad_b


@pytest.mark.parametrize("seed", range(10))
def test_gd_matches_eq5_in_original_coordinates(seed):
    p = small_problem(seed=seed, noise="gaussian", noise_level=0.3)
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(p.X.shape[0]) * 0.1, rng.standard_normal(p.Y.shape[0])
    a_ref, b_ref = a.copy(), b.copy()
    for _ in range(5):
        a_ref, b_ref = full_gd_step(p.Y, p.X, a_ref, b_ref, 1e-3)
    a5, b5 = rank1.gd(p.Y, p.X, 5, eta=1e-3, init=(a, b), tol=None)
    # same arithmetic in other coordinates: agreement to float64 rounding
    np.testing.assert_allclose(a5, a_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b5, b_ref, rtol=1e-10, atol=1e-12)


def test_gd_defaults_follow_the_authors():
    p = small_problem()
    a, b, obj = rank1.gd(p.Y, p.X, 0, seed=7, trace=True)
    assert not np.any(a)                                      # a starts at 0
    b_expected = np.random.default_rng(7).standard_normal(p.Y.shape[0]) / np.sqrt(p.Y.shape[0])
    np.testing.assert_array_equal(b, b_expected)              # b ~ N(0, I/m)
    assert obj.shape == (1,) and np.isclose(obj[0], 0.5 * np.linalg.norm(p.Y) ** 2)


@pytest.mark.parametrize("seed", range(10))
def test_gd_decreases_the_objective_and_reaches_the_minimum(seed):
    # rows of X normalised (sigma(X) near 1) and sigma_1(W*) = 10: the curvature of the
    # objective along the path stays below 1/eta = 100, so every step must decrease it
    p = small_problem(seed=seed, profile="uniform", x_norm="rows", noise="gaussian", noise_level=0.1)
    a, b, obj = rank1.gd(p.Y, p.X, 20000, eta=1e-2, seed=seed, tol=1e-13, trace=True)
    assert np.all(np.diff(obj) <= 1e-12 * obj[0])
    a_star, b_star = rank1.exact(p.Y, p.X)
    f_star = 0.5 * np.linalg.norm(p.Y - np.outer(b_star, a_star @ p.X)) ** 2
    assert obj[-1] >= f_star - 1e-9 * obj[0]                  # the exact minimiser is a lower bound
    assert obj[-1] - f_star <= 1e-6 * obj[0]                  # and gd gets there


def test_gd_early_stop_and_full_budget():
    p = small_problem()
    _, _, loose = rank1.gd(p.Y, p.X, 500, seed=0, tol=1e-2, trace=True)
    _, _, full = rank1.gd(p.Y, p.X, 500, seed=0, tol=None, trace=True)
    assert loose.size < 501 and full.size == 501
    errs = np.sqrt(2 * loose)
    assert abs(errs[-1] - errs[-2]) < 1e-2 and np.all(np.abs(np.diff(errs[:-1])) >= 1e-2)


def test_gd_divergence_is_reported():
    p = small_problem()
    with pytest.raises(FloatingPointError, match="smaller eta"):
        rank1.gd(p.Y, p.X, 500, eta=10.0, seed=0)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda Y, X: rank1.exact(Y[:, :-1], X), r"same number of columns n"),
        (lambda Y, X: rank1.exact(Y[0], X), r"Y must be a 2-D array"),
        (lambda Y, X: rank1.exact(np.where(Y > 0, np.nan, Y), X), r"Y contains NaN or inf"),
        (lambda Y, X: rank1.exact(Y, np.where(X > 0, np.inf, X)), r"X contains NaN or inf"),
        (lambda Y, X: rank1.gd(Y, X, -1), r"steps must be >= 0"),
        (lambda Y, X: rank1.gd(Y, X, 2.5), r"steps must be an integer"),
        (lambda Y, X: rank1.gd(Y, X, 5, eta=-1.0), r"eta must be > 0"),
        (lambda Y, X: rank1.gd(Y, X, 5, eta=(1e-3,)), r"eta must be a positive float or a pair"),
        (lambda Y, X: rank1.gd(Y, X, 5, init=(np.zeros(3), np.zeros(12))), r"init\[0\] \(a0\) must have length 15"),
        (lambda Y, X: rank1.gd(Y, X, 5, tol=-1.0), r"tol must be >= 0"),
    ],
)
def test_bad_input_is_named(call, match):
    p = small_problem()
    with pytest.raises(ValueError, match=match):
        call(p.Y, p.X)
