import numpy as np
import pytest

from onerank import deflation, problems, rank1, schedules

from onerank.rowspace import RowSpace

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


def test_parallel_with_one_worker_is_algorithm_2():
    p = problems.make_problem(20, 30, 80, 3, x_norm="columns", seed=4)
    par = deflation.parallel(p.Y, p.X, 1, 60, seed=7, W_star=p.W_star)
    seq = deflation.deflate(p.Y, p.X, [60], seed=7, tol=None)
    assert np.allclose(par.W_hat, seq.W_hat, rtol=0, atol=1e-12)
    assert np.isclose(par.train_errors[-1], seq.train_errors[-1], rtol=1e-12)


def _stable_instance(rank, seed):
    p = problems.make_problem(20, 30, 80, rank, spectrum=np.arange(rank, 0, -1.0), x_condition=2.0, seed=seed)
    return p, 0.5 / (np.linalg.norm(p.Y, 2) * np.linalg.norm(p.X, 2) ** 2)


def test_parallel_counts_compute_and_converges_to_the_rank_r_fit():
    p, eta = _stable_instance(3, 5)
    par = deflation.parallel(p.Y, p.X, 3, 4000, stagger=2, seed=1, W_star=p.W_star, eta=eta)
    R = np.arange(4001)
    assert np.array_equal(par.steps, sum(np.maximum(0, R - 2 * k) for k in range(3)))
    assert par.recovery_errors[-1] < 1e-6 * np.linalg.norm(p.W_star)       # noiseless, rank 3: W* itself
    assert par.train_errors[0] == pytest.approx(np.linalg.norm(p.Y))       # a = 0 at the start


def test_parallel_perturbation_moves_one_product_and_heals():
    p, eta = _stable_instance(2, 6)
    base = deflation.parallel(p.Y, p.X, 2, 1, seed=2, eta=eta)
    M = np.outer(base.B[:, 0], np.ones(30)) * 1e-2
    kicked = deflation.parallel(p.Y, p.X, 2, 1, seed=2, eta=eta, perturb=(0, 0, M))
    moved = np.outer(kicked.B[:, 0], kicked.A[:, 0]) - np.outer(base.B[:, 0], base.A[:, 0])
    assert np.allclose(moved, M, atol=1e-12)                               # M lies along b_1: moved exactly
    long = deflation.parallel(p.Y, p.X, 2, 3000, seed=2, W_star=p.W_star, eta=eta, perturb=(1500, 0, 10 * M))
    assert long.recovery_errors[-1] < 1e-6 * np.linalg.norm(p.W_star)


def test_parallel_rejects_bad_arguments():
    p = problems.make_problem(10, 12, 40, 2, seed=0)
    with pytest.raises(ValueError, match="r must be"):
        deflation.parallel(p.Y, p.X, 11, 5)
    with pytest.raises(ValueError, match="rounds"):
        deflation.parallel(p.Y, p.X, 2, -1)


def test_parallel_divergence_is_reported():
    p = problems.make_problem(20, 30, 80, 2, seed=0)
    with pytest.raises(FloatingPointError, match="smaller eta"):
        deflation.parallel(p.Y, p.X, 2, 500, eta=5.0)


def test_adaptive_budgets_replay_as_fixed_budgets():
    p, eta = _stable_instance(4, 8)
    res = deflation.deflate_adaptive(p.Y, p.X, 4, 600, share=0.5, eta=eta, seed=3)
    assert res["steps"].sum() <= 600 and np.all(res["steps"] >= 1)
    replay = deflation.deflate(p.Y, p.X, res["steps"], eta=eta, seed=3, tol=None, keep_residuals=False)
    assert np.allclose(replay.W_hat, res["W_hat"], rtol=0, atol=1e-12)
    assert np.allclose(replay.train_errors, res["train_errors"], rtol=1e-12)


def test_adaptive_budgets_split_equally_on_a_flat_spectrum_and_validate():
    p = problems.make_problem(30, 40, 120, 4, spectrum=np.ones(4), x_condition=2.0, seed=2)
    eta = 0.5 / (np.linalg.norm(p.Y, 2) * np.linalg.norm(p.X, 2) ** 2)
    res = deflation.deflate_adaptive(p.Y, p.X, 4, 800, share=1.0, eta=eta, seed=0)
    assert np.all(np.abs(res["steps"] - 200) <= 10)                       # within one chunk of T / r
    with pytest.raises(ValueError, match="stall"):
        deflation.deflate_adaptive(p.Y, p.X, 4, 800, stall=1.5)
    with pytest.raises(ValueError, match="total"):
        deflation.deflate_adaptive(p.Y, p.X, 4, 2, floor=1)


def test_refined_deflation_without_refinement_is_algorithm_2_and_counts_compute():
    p, eta = _stable_instance(3, 9)
    plain = deflation.deflate_refined(p.Y, p.X, [40, 30, 20], eta=eta, seed=4, W_star=p.W_star)
    ref = deflation.deflate(p.Y, p.X, [40, 30, 20], eta=eta, seed=4, tol=None, keep_residuals=False)
    assert np.allclose(plain["W_hat"], ref.W_hat, rtol=0, atol=1e-12) and plain["compute"] == 90
    assert plain["train_error"] == pytest.approx(ref.train_errors[-1], rel=1e-12)
    refined = deflation.deflate_refined(p.Y, p.X, [40, 30, 20], refine=5, eta=eta, seed=4, W_star=p.W_star)
    assert refined["compute"] == 90 + 5 * (1 + 2 + 3)
    assert refined["train_error"] < plain["train_error"]          # joint steps descend the full objective
    with pytest.raises(ValueError, match="refine"):
        deflation.deflate_refined(p.Y, p.X, [1, 1], refine=-1)


@pytest.mark.parametrize("seed", range(6))
def test_backfitting_counts_compute_and_converges_to_eckart_young(seed):
    p, eta = _stable_instance(5, seed)
    budgets = [40, 30, 20]
    plain = deflation.deflate_refined(p.Y, p.X, budgets, method="backfit", eta=eta, seed=seed)
    ref = deflation.deflate(p.Y, p.X, budgets, eta=eta, seed=seed, tol=None, keep_residuals=False)
    assert np.allclose(plain["W_hat"], ref.W_hat, rtol=0, atol=1e-12)
    short = deflation.deflate_refined(p.Y, p.X, budgets, refine=5, method="backfit", inner=3, eta=eta, seed=seed)
    assert short["compute"] == 90 + 5 * 3 * (1 + 2 + 3)
    # (no monotonicity to check against the plain run: refitting early components changes the
    # residual the later ones start from, and the final error can end either side)
    # many sweeps reach the best rank-3 fit in the row space of X (Eckart-Young)
    long = deflation.deflate_refined(p.Y, p.X, budgets, refine=300, method="backfit", inner=2, eta=eta, seed=seed)
    Z, outside_sq = RowSpace(p.X).coordinates(p.Y)
    s = np.linalg.svd(Z, compute_uv=False)
    optimum = np.sqrt(np.sum(s[3:] ** 2) + outside_sq)
    # slack: 300 sweeps of a linearly convergent method; 1% of the starting gap is far above rounding
    assert long["train_error"] - optimum <= 0.01 * (plain["train_error"] - optimum)
    assert long["A"].shape == (p.X.shape[0], 3) and long["B"].shape == (p.Y.shape[0], 3)
    with pytest.raises(ValueError, match="method"):
        deflation.deflate_refined(p.Y, p.X, budgets, method="gauss")


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("side", ["left", "right"])
def test_orthogonal_deflation_keeps_its_constraint(seed, side):
    p, eta = _stable_instance(5, seed)
    budgets = [40, 30, 20, 10]
    plain = deflation.deflate(p.Y, p.X, budgets, eta=eta, seed=seed, tol=None, keep_residuals=False)
    for refit in (False, True):
        out = deflation.deflate_orthogonal(p.Y, p.X, budgets, side=side, refit=refit, eta=eta, seed=seed)
        assert out["compute"] == 100 + refit * (1 + 2 + 3 + 4)
        assert np.allclose(out["B"] @ out["A"].T, out["W_hat"], atol=1e-12)
        # the constrained side's Gram matrix is diagonal; tolerance relative 1e-10: a few
        # Householder projections per step, each exact to a modest multiple of eps
        side_factors = out["B"] if side == "left" else out["A"].T @ p.X        # (m, r) or (r, n)
        G = side_factors.T @ side_factors if side == "left" else side_factors @ side_factors.T
        off = G - np.diag(np.diag(G))
        assert np.abs(off).max() <= 1e-10 * np.diag(G).max()
        # the unconstrained run is far from orthogonal, so the check above can fail
        A_p, B_p = (np.column_stack(f) for f in zip(*plain.components))
        Gp = B_p.T @ B_p if side == "left" else (A_p.T @ p.X) @ (A_p.T @ p.X).T
        assert np.abs(Gp - np.diag(np.diag(Gp))).max() > 1e-6 * np.diag(Gp).max()
    if side == "left":
        # left constraint + exact refit of the right factors is projection deflation: the
        # residual is (I - P) Z, P the projector onto span(b_1, ..., b_4)
        Z, outside_sq = RowSpace(p.X).coordinates(p.Y)
        Q = np.linalg.qr(out["B"])[0]
        R = Z - Q @ (Q.T @ Z)
        assert out["train_error"] == pytest.approx(np.sqrt(np.sum(R * R) + outside_sq), rel=1e-10)
    with pytest.raises(ValueError, match="side"):
        deflation.deflate_orthogonal(p.Y, p.X, [1, 1], side="up")


def test_long_orthogonal_deflation_reaches_algorithm_1():
    # exact deflation satisfies both constraints, so with budgets long enough the
    # constrained runs land on Algorithm 1 (tolerance: gradient descent's remaining error)
    p, eta = _stable_instance(4, 3)
    exact = deflation.deflate(p.Y, p.X, 3, solver="exact")
    for side in ("left", "right"):
        out = deflation.deflate_orthogonal(p.Y, p.X, [4000] * 3, side=side, eta=eta, seed=0)
        assert np.linalg.norm(out["W_hat"] - exact.W_hat) <= 1e-6 * np.linalg.norm(exact.W_hat)
