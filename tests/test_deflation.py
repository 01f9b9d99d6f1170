import numpy as np
import pytest

from onerank import deflation, problems, rank1, schedules


from helpers import small_problem

EPS = np.finfo(np.float64).eps


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("profile", ["exponential", "power", "uniform"])
def test_algorithm1_is_the_truncated_svd(seed, profile):
    # rank(W*) = 6 and r = 4 < 6: component k must be sigma_k u_k v_k^T of Y
    p = small_problem(seed=seed, profile=profile, rank=6)
    r = 4
    res = deflation.deflate(p.Y, p.X, r, solver="exact")
    U, s, Vt = np.linalg.svd(p.Y, full_matrices=False)
    for k, (a, b) in enumerate(res.components):
        rel_gap = min(s[k] - s[k + 1], s[k - 1] - s[k] if k else np.inf) / s[0]
        # float64 SVD error ~ dims * eps * sigma_1, amplified by 1 / relative gap (Wedin),
        # accumulated over at most r deflations
        tol = 10 * r * max(p.Y.shape) * EPS * s[0] / rel_gap
        assert np.linalg.norm(np.outer(b, a @ p.X) - s[k] * np.outer(U[:, k], Vt[k])) <= tol
    np.testing.assert_allclose(res.train_errors, np.sqrt(np.cumsum(s[::-1] ** 2)[::-1][1 : r + 1]),
                               rtol=1e-9, atol=1e-12 * s[0])
    assert np.all(res.delta_norms == 0) and np.all(res.steps == 0)


def test_result_bookkeeping():
    p = small_problem(noise="gaussian", noise_level=0.2)
    budgets = schedules.more_first(60, 4)
    res = deflation.deflate(p.Y, p.X, budgets, seed=1, trace=True)
    assert res.r == 4 and len(res.residuals) == 5 and len(res.objective_traces) == 4
    np.testing.assert_array_equal(res.residuals[0], p.Y)
    W = sum(np.outer(b, a) for a, b in res.components)
    np.testing.assert_allclose(res.W_hat, W, rtol=1e-13, atol=1e-13)
    for k, (a, b) in enumerate(res.components):
        # Y_{k+1} = Y_k - b_k a_k^T X, and the training error is its norm
        np.testing.assert_allclose(res.residuals[k + 1], res.residuals[k] - np.outer(b, a @ p.X), atol=1e-12)
        assert np.isclose(res.train_errors[k], np.linalg.norm(res.residuals[k + 1]), rtol=1e-12)
        # delta_k compares with the exact minimiser for the residual step k saw
        a_s, b_s = rank1.exact(res.residuals[k], p.X)
        assert np.isclose(res.delta_norms[k], np.linalg.norm(np.outer(b, a) - np.outer(b_s, a_s)), rtol=1e-8)
        assert res.steps[k] <= budgets[k] and res.objective_traces[k].size == res.steps[k] + 1
    np.testing.assert_allclose(res.residuals[-1], p.Y - res.W_hat @ p.X, atol=1e-11)


def test_gd_components_equal_rank1_gd_on_the_residual():
    p = small_problem(seed=5)
    res = deflation.deflate(p.Y, p.X, [30, 20, 10], seed=np.random.default_rng(9))
    rng = np.random.default_rng(9)
    for k, (a, b) in enumerate(res.components):
        a_ref, b_ref = rank1.gd(res.residuals[k], p.X, [30, 20, 10][k], seed=rng)
        np.testing.assert_allclose(a, a_ref, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b, b_ref, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_more_steps_mean_smaller_numerical_error(seed):
    p = small_problem(seed=seed, profile="power", x_norm="rows")
    small = deflation.deflate(p.Y, p.X, [5] * 3, eta=1e-3, seed=seed, tol=None)
    large = deflation.deflate(p.Y, p.X, [5000] * 3, eta=1e-3, seed=seed, tol=None)
    assert large.delta_norms[0] < 1e-3 * small.delta_norms[0]
    assert large.train_errors[-1] <= small.train_errors[-1]


def test_keep_residuals_off():
    p = small_problem()
    res = deflation.deflate(p.Y, p.X, 3, solver="exact", keep_residuals=False)
    assert res.residuals == [] and res.train_errors.shape == (3,)


@pytest.mark.parametrize(
    "budgets,kwargs,match",
    [
        (13, dict(solver="exact"), r"r \(the number of budgets\) must be <= min\(m, d\) = 12"),
        ([10] * 13, {}, r"must be <= min\(m, d\) = 12"),
        (3, {}, r"budgets must be a sequence of per-component step counts for solver='gd'"),
        ([10, -1], {}, r"budgets\[1\] must be >= 0"),
        ([10, 2.5], {}, r"budgets\[1\] must be an integer"),
        ([], {}, r"budgets must hold at least one entry"),
        ([10], dict(solver="power"), r"solver must be one of"),
        ([10, 10], dict(init=[(0, 0)]), r"init must hold one pair"),
    ],
)
def test_bad_input_is_named(budgets, kwargs, match):
    p = small_problem()
    with pytest.raises(ValueError, match=match):
        deflation.deflate(p.Y, p.X, budgets, **kwargs)


def test_error_path_joins_the_traces():
    p = small_problem(seed=2)
    budgets = [7, 5, 3]
    res = deflation.deflate(p.Y, p.X, budgets, seed=0, tol=None, trace=True)
    errors, starts = res.error_path()
    assert errors.shape == (sum(budgets) + 1,) and starts.tolist() == [0, 7, 12]
    assert np.isclose(errors[0], np.linalg.norm(p.Y))
    # the error at the end of component k is the training error after k components
    np.testing.assert_allclose(errors[np.cumsum(budgets)], res.train_errors, rtol=1e-12)
    with pytest.raises(ValueError, match="trace=True"):
        deflation.deflate(p.Y, p.X, budgets, seed=0).error_path()


def test_recovery_errors():
    p = small_problem(seed=4)
    res = deflation.deflate(p.Y, p.X, [20, 20, 20], seed=0)
    errors = res.recovery_errors(p.W_star)
    W = np.zeros_like(p.W_star)
    expected = [np.linalg.norm(p.W_star)]
    for a, b in res.components:
        W = W + np.outer(b, a)
        expected.append(np.linalg.norm(W - p.W_star))
    np.testing.assert_allclose(errors, expected, rtol=1e-12)
    with pytest.raises(ValueError, match="W_star must have shape"):
        res.recovery_errors(p.W_star[:, :-1])
