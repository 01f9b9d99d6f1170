"""The allocation rules of onerank.allocation: the exact-residual curves against a direct
slow evaluation and against the engine, the split against brute force, the costs against
the bounds they come from."""
import itertools

import numpy as np
import pytest

from onerank import allocation, batched, problems, rank1, schedules, synthetic, theory
from onerank.rowspace import RowSpace


def _problem(seed=0, m=6, d=5, n=9, rank=4):
    return problems.make_problem(m, d, n, rank, seed=seed, x_norm="columns", frobenius_norm=3.0)


@pytest.mark.parametrize("seed", range(4))
def test_curves_agree_with_gradient_descent_on_the_exact_residuals(seed):
    p = _problem(seed)
    r, steps, eta = 4, 60, 0.05
    cur = allocation.step_curves(p.Y, p.X, r, steps, eta=eta, tol=1e-10, seed=seed, device="cpu")
    U, S, Vt = np.linalg.svd(RowSpace(p.X).project(p.Y), full_matrices=False)
    rng = np.random.default_rng(seed)
    b0 = [rng.standard_normal(p.Y.shape[0]) / np.sqrt(p.Y.shape[0]) for _ in range(r)]
    for k in range(r):
        Yk = p.Y - (U[:, :k] * S[:k]) @ Vt[:k]          # Algorithm 1's residual
        ab, bb = rank1.exact(Yk, p.X)
        for t in (0, 1, 7, steps):
            a, b = rank1.gd(Yk, p.X, t, eta=eta, init=(np.zeros(p.X.shape[0]), b0[k]), tol=1e-10)
            D = np.outer(b, a) - np.outer(bb, ab)
            # float64 rounding along t steps, in two orders of arithmetic
            np.testing.assert_allclose(cur["delta"][k, t], np.linalg.norm(D), rtol=1e-9, atol=1e-13)
            np.testing.assert_allclose(cur["eps"][k, t], np.linalg.norm(D @ p.X), rtol=1e-9,
                                       atol=1e-13)
    np.testing.assert_allclose(cur["sigma"][:r], S[:r], rtol=1e-12)


def test_the_first_curve_is_the_engines_first_step():
    p = _problem(1)
    cur = allocation.step_curves(p.Y, p.X, 3, 40, eta=0.05, seed=7, device="cpu")
    budgets = np.array([[t, 2, 2] for t in (0, 3, 17, 40)])
    res = batched.deflate_many(p.Y, p.X, budgets, seeds=7, eta=0.05, device="cpu")
    np.testing.assert_allclose(res.delta_norms[0, :, 0], cur["delta"][0, budgets[:, 0]], rtol=1e-9,
                               atol=1e-13)


def test_curves_stop_where_the_early_stop_stops():
    p = _problem(2)
    cur = allocation.step_curves(p.Y, p.X, 2, 3000, eta=0.1, tol=1e-6, seed=0, device="cpu")
    assert np.all(cur["stopped"] < 3000)
    for k, t in enumerate(cur["stopped"]):
        assert np.all(cur["eps"][k, t:] == cur["eps"][k, t])
    b0 = np.random.default_rng(0).standard_normal(p.Y.shape[0]) / np.sqrt(p.Y.shape[0])
    _, _, obj = rank1.gd(p.Y, p.X, 3000, eta=0.1, tol=1e-6, trace=True,
                         init=(np.zeros(p.X.shape[0]), b0))
    assert len(obj) - 1 == cur["stopped"][0]         # as many updates as rank1.gd makes


@pytest.mark.parametrize("seed", range(20))
def test_split_is_the_brute_force_optimum(seed):
    g = np.random.default_rng(seed)
    r, T, floor = int(g.integers(1, 5)), int(g.integers(8, 14)), int(g.integers(0, 3))
    C = g.random((r, T - floor * (r - 1) + 1 + int(g.integers(0, 3))))
    t = allocation.split(C, T, floor)
    assert t.sum() == T and np.all(t >= floor) and t.dtype.kind == "i"
    best = min(sum(C[k, c[k]] for k in range(r))
               for c in itertools.product(range(floor, T + 1), repeat=r) if sum(c) == T)
    # continuous random costs: the optimum is unique, and its value is reached exactly
    assert sum(C[k, t[k]] for k in range(r)) == best


def test_split_gives_ties_to_the_earlier_components():
    assert allocation.split(np.zeros((3, 11)), 10, 2).tolist() == [6, 2, 2]


@pytest.mark.parametrize("variant", ["sharp", "corrected", "paper"])
def test_weights_reproduce_theorem1(variant):
    g = np.random.default_rng(3)
    for _ in range(10):
        sv = np.sort(g.random(7) * 5)[::-1]
        r, dn = int(g.integers(1, 7)), g.random(7) * 0.1
        w = allocation.weights(sv, 1.7, r, variant)
        base = theory.theorem1_bound(sv, 1.7, np.zeros(r), r, variant=variant)
        bound = theory.theorem1_bound(sv, 1.7, dn, r, variant=variant)
        np.testing.assert_allclose(base + w @ dn[:r], bound, rtol=1e-12)


def test_additive_costs_sum_to_part_two():
    """Summed at any budgets, the additive costs are part 2 of thm-errors-add squared minus
    the tail squared, evaluated on the exact residuals (tops sigma_k, next sigma_{r+1})."""
    p = problems.make_problem(6, 5, 9, 5, seed=4, x_norm="columns", noise="gaussian",
                              noise_level=0.1, frobenius_norm=3.0)
    r = 3
    cur = allocation.step_curves(p.Y, p.X, r, 30, eta=0.05, seed=0, device="cpu")
    C = allocation.costs(cur, "additive")
    sig = cur["sigma"]
    tau = theory.tail(sig, r)
    for t in ([2, 2, 2], [30, 0, 5], [0, 0, 0]):
        eps = cur["eps"][np.arange(r), t]
        part2 = theory.additive_bound(tau, eps, tops=sig[:r], tail_tops=[sig[r]] * r)
        np.testing.assert_allclose(C[np.arange(r), t].sum(), part2**2 - tau**2, rtol=1e-10)


def test_rules_budgets_are_schedules():
    s = synthetic.setting("code", scale="quick")
    import dataclasses
    tiny = dataclasses.replace(s, m=8, d=10, n=20, r=4, trials=2, T=40, alphas=5)
    res = synthetic.allocation_rules(tiny, totals=[40, 12])
    for run in res["runs"]:
        for rule in res["rules"]:
            for t in run["rule_budgets"][rule]:
                assert sum(t) == run["T"] and min(t) >= 2
        assert np.shape(run["alpha_train"]) == (2, 5)


def test_bad_input_is_named():
    p = _problem()
    with pytest.raises(ValueError, match="r must"):
        allocation.step_curves(p.Y, p.X, 9, 5)
    with pytest.raises(ValueError, match="steps"):
        allocation.step_curves(p.Y, p.X, 2, -1)
    with pytest.raises(ValueError, match="costs must cover"):
        allocation.split(np.zeros((2, 5)), 10)
    with pytest.raises(ValueError, match="T"):
        allocation.split(np.zeros((3, 20)), 5)
    with pytest.raises(ValueError, match="costs"):
        allocation.split(np.full((2, 20), np.nan), 10)
    with pytest.raises(TypeError, match="curves"):
        allocation.costs({"eps": 1}, "additive")
    with pytest.raises(ValueError, match="bound"):
        allocation.costs(allocation.step_curves(p.Y, p.X, 2, 3), "tight")
    with pytest.raises(ValueError, match="rules"):
        synthetic.allocation_rules(synthetic.setting("code", scale="quick"), rules="additive")


def test_several_seeds_are_the_single_seed_curves_stacked():
    p = _problem(3)
    both = allocation.step_curves(p.Y, p.X, 3, 25, eta=0.05, seed=[4, 9], device="cpu")
    assert both["eps"].shape == (2, 3, 26) and both["stopped"].shape == (2, 3)
    for i, sd in enumerate((4, 9)):
        one = allocation.step_curves(p.Y, p.X, 3, 25, eta=0.05, seed=sd, device="cpu")
        np.testing.assert_allclose(both["eps"][i], one["eps"], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(both["delta"][i], one["delta"], rtol=1e-12, atol=1e-15)
        assert np.array_equal(both["stopped"][i], one["stopped"])
    C = allocation.costs(both, "paper")
    assert C.shape == (2, 3, 26)
