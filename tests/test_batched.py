import numpy as np
import pytest

from onerank import batched, deflation, problems, schedules

from helpers import small_problem

# Both engines run float64 and make the same iterates in exact arithmetic; what separates
# them is rounding (observed ~1e-13), so 1e-9 relative leaves room without hiding a bug.
RTOL = 1e-9


def _rel(x, y):
    return np.abs(x - y).max() / max(np.abs(y).max(), 1e-300)


def _agree(res, p_index, s_index, ref, W_star=None):
    for k, (a, b) in enumerate(ref.components):
        assert _rel(res.a[p_index, s_index, k], a) < RTOL
        assert _rel(res.b[p_index, s_index, k], b) < RTOL
    np.testing.assert_array_equal(res.steps[p_index, s_index], ref.steps)
    assert _rel(res.train_errors[p_index, s_index], ref.train_errors) < RTOL
    if res.delta_norms is not None:
        assert _rel(res.delta_norms[p_index, s_index], ref.delta_norms) < RTOL
    if W_star is not None:
        assert _rel(res.recovery_errors[p_index, s_index], ref.recovery_errors(W_star)) < RTOL


@pytest.mark.parametrize("profile", ["exponential", "power", "uniform"])
@pytest.mark.parametrize("noise", ["none", "gaussian", "sparse"])
def test_agrees_with_the_reference_deflation(profile, noise):
    probs = [small_problem(seed=s, profile=profile, noise=noise, noise_level=0.3, rank=6,
                           frobenius_norm=3.0) for s in range(3)]
    budgets = np.stack([schedules.allocate(60, 5, a) for a in (2.0, 0.5, 0.0, -1.0)])
    seeds = [11, 12, 13]
    res = batched.deflate_many(np.stack([p.Y for p in probs]), np.stack([p.X for p in probs]), budgets,
                          W_star=np.stack([p.W_star for p in probs]), seeds=seeds, eta=0.05,
                          trace=True, device="cpu")
    assert res.a.shape == (3, 4, 5, 15) and res.b.shape == (3, 4, 5, 12)
    for i, p in enumerate(probs):
        for j, bud in enumerate(budgets):
            ref = deflation.deflate(p.Y, p.X, bud, seed=seeds[i], eta=0.05, trace=True)
            _agree(res, i, j, ref, p.W_star)
            errors, starts = ref.error_path()
            assert _rel(res.trace["train_error"][i, j, : errors.size], errors) < RTOL
            np.testing.assert_array_equal(res.trace["starts"][i, j], starts)


def test_trace_matches_the_per_component_values():
    p = small_problem(seed=4, rank=5, frobenius_norm=3.0)
    bud = schedules.allocate(40, 4, 1.0)
    res = batched.deflate_many(p.Y, p.X, bud, W_star=p.W_star, seeds=2, eta=0.05, trace=True, device="cpu")
    tr, st = res.trace, res.trace["starts"][0, 0]
    ends = np.append(st[1:], 40)
    # at each switch, the traced errors equal those stored for the finished component
    assert _rel(tr["recovery_error"][0, 0, ends], res.recovery_errors[0, 0, 1:]) < RTOL
    assert _rel(tr["train_error"][0, 0, ends], res.train_errors[0, 0]) < RTOL
    # the numerical-error proxy: sum_{j<k} ||delta_j|| + ||delta_k^(t)||; at a switch the new
    # component starts at a = 0, so ||delta_{k+1}^(0)|| = ||b*_{k+1} a*_{k+1}^T|| is added at once
    ref = deflation.deflate(p.Y, p.X, bud, seed=2, eta=0.05)
    cum = np.cumsum(res.delta_norms[0, 0])
    start_delta = [np.linalg.norm(b) * np.linalg.norm(a) for a, b in ref.exact_components[1:]] + [0.0]
    assert _rel(tr["cumulative_delta"][0, 0, ends], cum + np.array(start_delta)) < RTOL
    assert tr["recovery_error"][0, 0, 0] == pytest.approx(np.linalg.norm(p.W_star), rel=1e-12)
    assert np.isfinite(tr["train_error"]).all()


def test_zero_budgets_early_stops_and_shared_X():
    probs = [small_problem(seed=s, frobenius_norm=3.0) for s in range(2)]
    X = probs[0].X                       # the same seed draws the same X only by accident: share it
    Y = np.stack([p.W_star @ X + 0.01 * np.random.default_rng(s).standard_normal(p.Y.shape)
                  for s, p in enumerate(probs)])
    budgets = np.array([[0, 7, 0, 30], [3, 0, 40, 2]])
    res = batched.deflate_many(Y, X, budgets, seeds=5, eta=0.05, tol=1e-3, device="cpu")
    assert np.any(res.steps < budgets)   # the large tolerance ends some components early
    for i in range(2):
        for j in range(2):
            _agree(res, i, j, deflation.deflate(Y[i], X, budgets[j], seed=5, eta=0.05, tol=1e-3))


def test_more_features_than_samples():
    # d > n: X (d x n) has full column rank n, the row space is all of R^n
    p = problems.make_problem(10, 30, 20, 4, seed=3, x_norm="none", frobenius_norm=1.0)
    bud = schedules.equal(40, 4)
    res = batched.deflate_many(p.Y, p.X, bud, W_star=p.W_star, seeds=1, eta=0.01, device="cpu")
    _agree(res, 0, 0, deflation.deflate(p.Y, p.X, bud, seed=1, eta=0.01), p.W_star)


@pytest.mark.parametrize("seed", range(5))
def test_lanczos_top_pair(seed):
    import torch
    rng = np.random.default_rng(seed)
    m, q = 300, 400                       # above GRAM_UP_TO: the Lanczos path
    assert min(m, q) > batched.GRAM_UP_TO
    mats = []
    for j in range(3):
        s = np.sort(rng.uniform(0.1, 1.0, m))[::-1] * (5.0 if j == 0 else 1.0)
        s[0] *= 1.2                       # a top gap of at least 20%: Lanczos converges
        U = problems.random_orthonormal(m, m, rng)
        V = problems.random_orthonormal(q, m, rng)
        mats.append((U * s) @ V.T)
    Z = torch.as_tensor(np.stack(mats))
    sigma, u, w, bad = batched._top_pair(Z, Z.transpose(1, 2).contiguous())
    assert bad == 0
    for j, A in enumerate(mats):
        Uf, sf, Vf = np.linalg.svd(A)
        assert sigma[j].item() == pytest.approx(sf[0], rel=1e-12)
        top = np.outer(u[j].numpy(), w[j].numpy())
        assert np.abs(top - np.outer(Uf[:, 0], Vf[0])).max() < 1e-9


def test_lanczos_falls_back_on_a_repeated_top_value():
    import torch
    rng = np.random.default_rng(0)
    s = np.linspace(1.0, 0.1, 300)
    s[:3] = 2.0                           # top singular value of multiplicity 3: no unique pair
    A = (problems.random_orthonormal(300, 300, rng) * s) @ problems.random_orthonormal(350, 300, rng).T
    Z = torch.as_tensor(A[None])
    sigma, u, w, bad = batched._top_pair(Z, Z.transpose(1, 2).contiguous())
    assert sigma[0].item() == pytest.approx(2.0, rel=1e-12)
    # whatever pair it returns lies in the top singular subspace: A^T u = sigma w
    np.testing.assert_allclose(A.T @ u[0].numpy(), 2.0 * w[0].numpy(), atol=1e-10)


def test_bad_input_is_named():
    p = small_problem()
    bud = schedules.equal(20, 4)
    with pytest.raises(ValueError, match="Y must have shape"):
        batched.deflate_many(p.Y[0], p.X, bud)
    with pytest.raises(ValueError, match="same number of columns n"):
        batched.deflate_many(p.Y, p.X[:, :-1], bud)
    with pytest.raises(ValueError, match="budgets"):
        batched.deflate_many(p.Y, p.X, [3, -1, 2])
    with pytest.raises(ValueError, match="budgets"):
        batched.deflate_many(p.Y, p.X, [1.5, 2.0])
    with pytest.raises(ValueError, match="r .* must be <="):
        batched.deflate_many(p.Y, p.X, np.ones(13, dtype=int))
    with pytest.raises(ValueError, match="W_star must have shape"):
        batched.deflate_many(p.Y, p.X, bud, W_star=p.W_star.T)
    with pytest.raises(ValueError, match="seeds must be"):
        batched.deflate_many(np.stack([p.Y, p.Y]), p.X, bud, seeds=[1, 2, 3])
    with pytest.raises(ValueError, match="seeds must be ints"):       # not truncated to 2
        batched.deflate_many(p.Y, p.X, bud, seeds=2.7)
    with pytest.raises(ValueError, match="seeds must be ints"):
        batched.deflate_many(p.Y, p.X, bud, seeds=-1)
    W = p.W_star.copy()
    W[0, 0] = np.nan
    with pytest.raises(ValueError, match="W_star must be finite"):
        batched.deflate_many(p.Y, p.X, bud, W_star=W)
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="max_runs"):
            batched.deflate_many(p.Y, p.X, bud, max_runs=bad)
    X = p.X.copy()
    X[1] = X[0]                           # rank-deficient X
    with pytest.raises(ValueError, match="full rank"):
        batched.deflate_many(p.Y, X, bud)


def test_divergence_is_reported():
    p = small_problem(frobenius_norm=50.0)
    with pytest.raises(FloatingPointError, match="smaller eta"):
        batched.deflate_many(p.Y, p.X, schedules.equal(200, 4), eta=5.0, device="cpu")


def test_runs_of_one_problem_share_it_and_agree():
    # the same problem three times with other initial points (the authors' protocol), one
    # other problem, schedules of different totals: grouped runs, with and without chunks
    p = small_problem(seed=7, rank=5, frobenius_norm=3.0)
    q = small_problem(seed=8, rank=5, frobenius_norm=3.0)
    Y = np.stack([p.Y, p.Y, q.Y, p.Y])
    X = np.stack([p.X, p.X, q.X, p.X])
    W = np.stack([p.W_star, p.W_star, q.W_star, p.W_star])
    budgets = np.stack([schedules.allocate(T, 4, a) for T in (20, 50) for a in (1.0, -1.0)])
    seeds = [0, 1, 2, 3]
    whole = batched.deflate_many(Y, X, budgets, W_star=W, seeds=seeds, eta=0.05, trace=True, device="cpu")
    split = batched.deflate_many(Y, X, budgets, W_star=W, seeds=seeds, eta=0.05, trace=True,
                                 device="cpu", max_runs=3)
    for i in range(4):
        for j, bud in enumerate(budgets):
            ref = deflation.deflate(Y[i], X[i], bud, seed=seeds[i], eta=0.05, trace=True)
            _agree(whole, i, j, ref, W[i])
            _agree(split, i, j, ref, W[i])
            errors, _ = ref.error_path()
            assert _rel(whole.trace["train_error"][i, j, : errors.size], errors) < RTOL
            # a run that ends early carries its last value to the end of the trace
            assert np.all(whole.trace["train_error"][i, j, errors.size - 1:] ==
                          whole.trace["train_error"][i, j, errors.size - 1])


@pytest.mark.parametrize("m, d, n", [(1, 5, 8), (6, 1, 8), (6, 5, 1), (1, 1, 3)])
def test_size_one_shapes_agree_with_the_reference(m, d, n):
    rng = np.random.default_rng(m * 100 + d * 10 + n)
    Y, X = rng.standard_normal((m, n)), rng.standard_normal((d, n))
    r = min(m, d, n) if n < min(m, d) else min(m, d)
    budgets = np.stack([np.full(r, 30), np.zeros(r, dtype=int)])
    res = batched.deflate_many(Y, X, budgets, seeds=4, eta=0.02, device="cpu")
    for j, bud in enumerate(budgets):
        _agree(res, 0, j, deflation.deflate(Y, X, bud, seed=4, eta=0.02))


def test_low_rank_problems_run_on_factors_and_agree():
    import torch
    # noiseless Y = W* X of rank 3: Z = Y V has rank 3 and is kept as factors
    probs = [problems.make_problem(30, 40, 60, 3, seed=s, profile=prof, frobenius_norm=3.0)
             for s, prof in enumerate(("exponential", "power"))]
    Z = torch.as_tensor(probs[0].Y @ np.linalg.svd(probs[0].X, full_matrices=False)[2].T)[None]
    shared = batched._Shared.of(Z)
    assert not shared.dense and shared.factors[0].shape[2] == 3
    assert batched._Shared.of(torch.randn(2, 30, 40, dtype=torch.float64)).dense   # full rank
    dense = shared.matrices(slice(None))
    assert float((dense - Z).abs().max() / Z.abs().max()) < 1e-13
    budgets = np.stack([schedules.allocate(80, 3, a) for a in (1.0, 0.0, -1.0)])
    res = batched.deflate_many(np.stack([p.Y for p in probs]), np.stack([p.X for p in probs]), budgets,
                               W_star=np.stack([p.W_star for p in probs]), seeds=[3, 4], eta=0.05,
                               trace=True, device="cpu")
    for i, p in enumerate(probs):
        for j, bud in enumerate(budgets):
            ref = deflation.deflate(p.Y, p.X, bud, seed=3 + i, eta=0.05, trace=True)
            _agree(res, i, j, ref, p.W_star)
            errors, _ = ref.error_path()
            assert _rel(res.trace["train_error"][i, j, : errors.size], errors) < RTOL


@pytest.mark.parametrize("m, d, n", [(12, 15, 40), (30, 8, 40)])    # m <= q and m > q
@pytest.mark.parametrize("noise", ["none", "gaussian"])              # Z factored and dense
def test_exact_minimisers_after_the_run_agree(m, d, n, noise, monkeypatch):
    # without a trace the exact minimisers come after the run, by Lanczos on the shared Z
    # minus each run's correction, warm started from its own b_k; with a trace, one
    # component at a time from the explicit Z_k. Both must give the reference's delta_k.
    probs = [problems.make_problem(m, d, n, 5, seed=s, noise=noise, noise_level=0.1,
                                   frobenius_norm=3.0) for s in range(2)]
    Y, X = np.stack([p.Y for p in probs]), np.stack([p.X for p in probs])
    budgets = np.stack([schedules.allocate(60, 5, a) for a in (1.5, 0.0, -1.0)])
    run = lambda **kw: batched.deflate_many(Y, X, budgets, seeds=[3, 4], eta=0.02,   # noqa: E731
                                            device="cpu", **kw)
    online, after = run(trace=True), run()
    assert _rel(after.delta_norms, online.delta_norms) < RTOL
    for i, p in enumerate(probs):
        for j, bud in enumerate(budgets):
            ref = deflation.deflate(p.Y, p.X, bud, seed=3 + i, eta=0.02)
            assert _rel(after.delta_norms[i, j], ref.delta_norms) < RTOL
    monkeypatch.setattr(batched, "EXACT_BLOCK_BYTES", 1)      # one component per block
    assert _rel(run().delta_norms, online.delta_norms) < RTOL
    monkeypatch.setattr(batched, "LANCZOS_TOL", -1.0)         # every pair refused: the fallback
    fb = run()
    assert fb.fallbacks == budgets.size * len(probs)
    assert _rel(fb.delta_norms, online.delta_norms) < RTOL


def test_a_rerun_is_bitwise_identical():
    # README: bitwise reproducible at a fixed thread count (the run's torch_threads)
    p = small_problem(seed=9, rank=5, frobenius_norm=3.0)
    budgets = np.stack([schedules.allocate(40, 4, a) for a in (1.0, -1.0)])
    runs = [batched.deflate_many(p.Y, p.X, budgets, W_star=p.W_star, seeds=3, eta=0.05, device="cpu")
            for _ in range(2)]
    for name in ("a", "b", "train_errors", "delta_norms", "recovery_errors"):
        np.testing.assert_array_equal(getattr(runs[0], name), getattr(runs[1], name))
