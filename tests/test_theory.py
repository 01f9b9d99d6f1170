"""Each formula of onerank.theory against a direct, slow evaluation written from the math."""
from fractions import Fraction

import numpy as np
import pytest

from onerank import deflation, problems, schedules, theory


def random_spectrum(rng, p=8):
    s = np.sort(rng.uniform(0.1, 10, p))[::-1]
    if rng.random() < 0.3:
        s[2] = s[1]                      # a repeated value: zero gap
    return s


def slow_gap(s, j):
    others = [abs(s[j] - s[i]) for i in range(j + 1, len(s))]
    return min(others + [s[j]])


@pytest.mark.parametrize("seed", range(50))
def test_gaps_and_factors(seed):
    rng = np.random.default_rng(seed)
    s = random_spectrum(rng)
    T = theory.gaps(s)
    for j in range(len(s)):
        assert T[j] == pytest.approx(slow_gap(s, j), abs=0)
        rho = 2 + 6 * s[j] / T[j] if T[j] > 0 else np.inf
        assert theory.amplification_factors(s)[j] == pytest.approx(rho)


@pytest.mark.parametrize("seed", range(50))
def test_unroll_equals_recurrence_exactly_in_rationals(seed):
    rng = np.random.default_rng(seed)
    r = int(rng.integers(1, 9))
    a = np.array([Fraction(int(x), int(y)) for x, y in rng.integers(1, 50, (r, 2))], dtype=object)
    b = np.array([Fraction(int(x), int(y)) for x, y in rng.integers(0, 50, (r, 2)) + [0, 1]], dtype=object)
    Q = theory.recurrence(a, b)
    assert list(Q) == list(theory.unroll(a, b))        # exact equality, no tolerance
    # and each entry from the definition Q_{k+1} = a_k Q_k + b_k
    q = Fraction(0)
    for k in range(r):
        q = a[k] * q + b[k]
        assert Q[k + 1] == q


def slow_double_sum(s, sx, dn, r, product_gap):
    T = [slow_gap(s, j) for j in range(len(s))]
    total = 0.0
    for k in range(1, r + 1):
        for kp in range(1, k + 1):
            prod = 1.0
            for j in range(kp + 1, k + 1):
                prod *= 2 + 6 * s[j - 1] / T[(k if product_gap == "outer" else j) - 1]
            total += sx * dn[kp - 1] * prod
    return total


@pytest.mark.parametrize("seed", range(40))
def test_theorem1_variants_against_the_formulas(seed):
    rng = np.random.default_rng(seed)
    s = np.sort(rng.uniform(0.5, 10, 10))[::-1]
    r = int(rng.integers(1, 9))
    dn, sx = rng.uniform(0, 0.1, r), rng.uniform(0.5, 2)
    tail2, tail1 = np.sqrt(np.sum(s[r:] ** 2)), np.sum(s[r:])
    T = [slow_gap(s, j) for j in range(10)]
    rho = [2 + 6 * s[j] / T[j] for j in range(10)]
    corrected = theory.theorem1_bound(s, sx, dn, r)
    assert corrected == pytest.approx(tail2 + slow_double_sum(s, sx, dn, r, "inner"), rel=1e-12)
    assert theory.theorem1_bound(s, sx, dn, r, tail="l1") == pytest.approx(tail1 + corrected - tail2, rel=1e-12)
    assert theory.theorem1_bound(s, sx, dn, r, variant="paper") == pytest.approx(
        tail2 + slow_double_sum(s, sx, dn, r, "outer"), rel=1e-12)
    sharp = tail2 + sum(sx * dn[kp - 1] * np.prod([rho[j - 1] for j in range(kp + 1, r + 1)])
                        for kp in range(1, r + 1))
    assert theory.theorem1_bound(s, sx, dn, r, variant="sharp") == pytest.approx(sharp, rel=1e-12)
    notes = tail2 + sum(np.prod(rho[: k - 1]) * dn[k - 1] for k in range(1, r + 1))
    assert theory.theorem1_bound(s, sx, dn, r, variant="notes") == pytest.approx(notes, rel=1e-12)
    assert sharp <= corrected + 1e-12                 # the double sum contains the sharp term


def test_hypothesis_margins():
    s = np.array([10.0, 7.0, 6.5, 1.0])
    h = theory.theorem1_hypothesis(s, 1.0, [0.1, 0.05, 0.0], 3)
    np.testing.assert_allclose(h.half_gaps, [1.5, 0.25, 2.75])
    Q2 = 0.1
    Q3 = (2 + 6 * 7 / 0.5) * Q2 + 0.05
    np.testing.assert_allclose(h.cumulative, [0.0, Q2, Q3])
    assert h.holds.tolist() == [True, True, False] and not h.all


def test_zero_errors_give_the_tail_even_with_zero_gaps():
    s = np.array([5.0, 5.0, 2.0, 1.0])
    for variant in theory.VARIANTS:
        assert theory.theorem1_bound(s, 1.0, np.zeros(3), 3, variant=variant) == pytest.approx(1.0)


def test_step_bound_formula():
    assert theory.step_bound(0.1, 10.0, 1.0) == pytest.approx(0.1 * (1 + np.sqrt(2) * 10 / 0.9))
    assert np.isinf(theory.step_bound(1.0, 10.0, 1.0))


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: theory.gaps([1.0, 2.0]), "sorted non-increasingly"),
        (lambda: theory.gaps([1.0, -1.0]), "nonnegative"),
        (lambda: theory.theorem1_bound([3.0, 2.0, 1.0], 1.0, [0.1], 2), "at least r = 2"),
        (lambda: theory.theorem1_bound([3.0, 2.0, 1.0], 1.0, [0.1, 0.1], 4), "r must be <= 3"),
        (lambda: theory.theorem1_bound([3.0, 2.0, 1.0], 1.0, [0.1, 0.1], 2, variant="x"), "variant must be one of"),
        (lambda: theory.theorem1_bound([3.0, 2.0, 1.0], -1.0, [0.1, 0.1], 2), "sigma_max_X must be >= 0"),
        (lambda: theory.theorem1_bound([3.0, 2.0, 1.0], 1.0, [0.1, -0.1], 2), "delta_norms must be nonnegative"),
        (lambda: theory.unroll([1.0, 2.0], [1.0]), "same nonzero length"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_measure_against_direct_computation():
    from onerank import deflation, problems

    p = problems.make_problem(10, 14, 30, 4, noise="gaussian", noise_level=0.1, seed=3)
    res = deflation.deflate(p.Y, p.X, [40, 30, 20], seed=0)
    m = theory.measure(res, p.Y, p.X)
    P = np.linalg.pinv(p.X) @ p.X
    U, s, Vt = np.linalg.svd(p.Y @ P)
    ideal = p.Y @ P
    for k in range(3):
        D = res.residuals[k] @ P - ideal
        assert m.deviation_fro[k] == pytest.approx(np.linalg.norm(D), abs=1e-10)
        assert m.deviation_spec[k] == pytest.approx(np.linalg.norm(D, 2), abs=1e-10)
        a_s, b_s = res.exact_components[k]
        piece = s[k] * np.outer(U[:, k], Vt[k])
        assert m.step_change[k] == pytest.approx(np.linalg.norm(np.outer(b_s, a_s @ p.X) - piece), abs=1e-9)
        a, b = res.components[k]
        assert m.delta_X[k] == pytest.approx(np.linalg.norm((np.outer(b, a) - np.outer(b_s, a_s)) @ p.X), rel=1e-9)
        ideal = ideal - piece
    assert m.outside == pytest.approx(np.linalg.norm(p.Y - p.Y @ P), rel=1e-9)
    assert m.sigma_max_X == pytest.approx(np.linalg.norm(p.X, 2), rel=1e-12)
    np.testing.assert_allclose(m.sigma[:10], s[:10], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_theorem2_bound_against_the_formula(seed):
    rng = np.random.default_rng(seed)
    s = np.sort(rng.uniform(0.5, 10, 8))[::-1]
    r = int(rng.integers(1, 7))
    dn, sx, smin = rng.uniform(0, 0.1, r), rng.uniform(1, 3), rng.uniform(0.1, 1)
    T = [slow_gap(s, j) for j in range(8)]
    rho = [2 + 6 * s[j] / T[j] for j in range(8)]
    Q = [0.0]
    for k in range(r):
        Q.append(rho[k] * Q[-1] + sx * dn[k])
    comp = theory.theorem2_bound(s, sx, smin, dn, r, form="component")
    for k in range(r):
        expected = dn[k] + ((1 + 6 * s[k] / T[k]) * Q[k] / smin if Q[k] > 0 else 0.0)
        assert comp[k] == pytest.approx(expected, rel=1e-12)
    total = theory.theorem2_bound(s, sx, smin, dn, r, form="total")
    assert total == pytest.approx((np.sqrt(np.sum(s[r:] ** 2)) + Q[r]) / smin, rel=1e-12)
    with pytest.raises(ValueError, match="sigma_min_X must be > 0"):
        theory.theorem2_bound(s, sx, 0.0, dn, r)


def test_gaussian_singular_values_shape_and_seed():
    a = theory.gaussian_singular_values(5, 3, 7, seed=2, batch=3)
    b = theory.gaussian_singular_values(5, 3, 7, seed=2, batch=3)
    assert a.shape == (7, 3) and np.array_equal(a, b) and np.all(np.diff(a, axis=1) <= 0)
    rng = np.random.default_rng(2)
    direct = np.concatenate([np.linalg.svd(rng.standard_normal((k, 5, 3)), compute_uv=False) for k in (3, 3, 1)])
    np.testing.assert_array_equal(a, direct)


def test_theorem3_bound_formula():
    s = np.array([10.0, 5.0, 2.0, 0.5, 0.0])
    got = theory.theorem3_bound(0.3, s, 0.8, 2)
    assert got == pytest.approx((2 * np.sqrt(4) * (0.3 + 2.0) + np.sqrt(2.0**2 + 0.5**2)) / 0.8)
    assert theory.theorem3_bound(0.3, s, 0.8, 5) == pytest.approx(2 * np.sqrt(10) * 0.3 / 0.8)
    with pytest.raises(ValueError, match="sigma_min_X must be > 0"):
        theory.theorem3_bound(0.3, s, 0.0, 2)


def test_sin_theta_and_clusters():
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((8, 8)))[0]
    assert theory.sin_theta(Q[:, :3], Q[:, :2] @ rng.standard_normal((2, 2))) < 1e-12    # inside
    assert theory.sin_theta(Q[:, :3], Q[:, 3:5]) == pytest.approx(1.0)                  # orthogonal
    t = 0.3
    tilted = np.cos(t) * Q[:, :1] + np.sin(t) * Q[:, 5:6]
    assert theory.sin_theta(Q[:, :1], tilted) == pytest.approx(np.sin(t))
    assert [g.tolist() for g in theory.clusters([3, 3, 3, 1.5, 1.5, 1])] == [[0, 1, 2], [3, 4], [5]]
    assert theory.wedin_bound(0.1, 2.0, 1.5) == pytest.approx(0.2)
    assert theory.wedin_bound(0.1, 1.0, 1.0) == np.inf


def test_wedin_bound_holds_on_random_perturbations():
    rng = np.random.default_rng(1)
    worst = 0.0
    for _ in range(200):
        U = np.linalg.qr(rng.standard_normal((12, 12)))[0]
        V = np.linalg.qr(rng.standard_normal((9, 9)))[0]
        s = np.sort(rng.uniform(0.1, 3, 9))[::-1]
        A = U[:, :9] * s @ V.T
        E = rng.standard_normal((12, 9)) * 10 ** rng.uniform(-4, -0.5)
        c = int(rng.integers(1, 8))
        Uh, sh, _ = np.linalg.svd(A + E)
        bound = theory.wedin_bound(np.linalg.norm(E, 2), sh[c - 1], s[c])
        if np.isfinite(bound):
            worst = max(worst, theory.sin_theta(U[:, :c], Uh[:, :c]) / bound)
    assert 0 < worst <= 1 + 1e-9


def test_deflation_with_errors_exact_steps_and_a_pass_through_error():
    rng = np.random.default_rng(3)
    U = np.linalg.qr(rng.standard_normal((7, 7)))[0]
    V = np.linalg.qr(rng.standard_normal((6, 6)))[0]
    s = np.array([3.0, 2.0, 1.5, 1.0, 0, 0])
    Y = U[:, :6] * s @ V.T
    zero = [(np.zeros(7), np.zeros(6))] * 3
    assert np.all(theory.deflation_with_errors(Y, zero)["deviations"] < 1e-12)
    # an error that only moves b_1 along u_4 (a direction kept to the end): no later step sees it
    out = theory.deflation_with_errors(Y, [(1e-3 * U[:, 3], np.zeros(6))] + zero[:2])
    assert out["deviations"] == pytest.approx([out["delta_norms"][0]] * 3, rel=1e-6)
    with pytest.raises(ValueError, match="errors"):
        theory.deflation_with_errors(Y, [(np.zeros(6), np.zeros(6))])


def test_bound_report_holds_every_form_of_one_run():
    p = problems.make_problem(20, 30, 60, 6, profile="exponential", x_norm="rows", seed=3)
    exact = deflation.deflate(p.Y, p.X, 4, solver="exact")
    rep = theory.bound_report(p, exact, 4)
    assert set(theory.VARIANTS) | {"l1", "actual", "tail", "hyp", "Q", "Q_sharp", "Q_dX", "r"} <= set(rep)
    # exact steps: delta = 0, so every form equals the tail, which the error then attains
    assert rep["actual"] == pytest.approx(rep["tail"], rel=1e-10)
    assert rep["corrected"] == pytest.approx(rep["tail"], rel=1e-12) and rep["l1"] >= rep["corrected"]
    gd = deflation.deflate(p.Y, p.X, [50] * 4, seed=0)
    rep = theory.bound_report(p, gd, 4)
    assert rep["Q"].shape == (4,) and rep["actual"] <= rep["corrected"] * (1 + 1e-12) or not rep["hyp"]


def _additive_slow(tau, eps, tops=None, nxt=None, outside=0.0, caps=None):
    """additive_bound's formula, term by term."""
    if tops is None:
        total = tau
        for e in eps:
            total += e
        return (total**2 + outside**2) ** 0.5
    total = tau**2
    for k, (e, t, n) in enumerate(zip(eps, tops, nxt)):
        c = 1.0 if t <= e else min(1.0, e / (t - e))
        step = e * e + 2.0 * c * e * n
        if caps is not None and caps[k] < step:
            step = caps[k]
        total += step
    return (total + outside**2) ** 0.5


def test_additive_bound_matches_its_formula():
    rng = np.random.default_rng(0)
    for _ in range(200):
        r = int(rng.integers(1, 8))
        eps, tops, nxt = rng.exponential(size=r), rng.exponential(2.0, size=r), rng.exponential(size=r)
        tau, out = float(rng.exponential()), float(rng.exponential())
        assert theory.additive_bound(tau, eps, outside=out) == pytest.approx(
            _additive_slow(tau, eps, outside=out), rel=1e-12)
        assert theory.additive_bound(tau, eps, tops=tops, tail_tops=nxt, outside=out) == pytest.approx(
            _additive_slow(tau, eps, tops, nxt, out), rel=1e-12)
        caps = rng.exponential(size=r)
        caps[-1] = np.inf
        assert theory.additive_bound(tau, eps, tops=tops, tail_tops=nxt, caps=caps,
                                     outside=out) == pytest.approx(
            _additive_slow(tau, eps, tops, nxt, out, caps), rel=1e-12)
    with pytest.raises(ValueError, match="together"):
        theory.additive_bound(1.0, [0.1], tops=[1.0])
    with pytest.raises(ValueError, match="step_errors must be >= 0"):
        theory.additive_bound(1.0, [-0.1])
    with pytest.raises(ValueError, match="caps needs tops"):
        theory.additive_bound(1.0, [0.1], caps=[1.0])
    with pytest.raises(ValueError, match="caps must be"):
        theory.additive_bound(1.0, [0.1], tops=[1.0], tail_tops=[0.5], caps=[-1.0])


@pytest.mark.parametrize("profile", ["exponential", "power", "uniform"])
def test_additive_bound_holds_along_runs(profile):
    # a theorem with no hypothesis: it must hold on every run, to rounding (1e-12 relative:
    # the norms and SVDs behind both sides are float64)
    for seed in range(12):
        p = problems.make_problem(10, 12, 30, 5, seed=seed, profile=profile, noise="gaussian",
                                  noise_level=0.3, frobenius_norm=3.0)
        rng = np.random.default_rng(seed)
        budgets = schedules.allocate(int(rng.integers(5, 120)), 5, float(rng.uniform(-2, 2)), floor=0)
        res = deflation.deflate(p.Y, p.X, budgets, seed=seed, eta=0.05)
        rep = theory.bound_report(p, res, 5)
        assert rep["actual"] <= rep["additive_min"] * (1 + 1e-12)
        assert rep["additive_min"] <= rep["additive_sq"]
        assert rep["actual"] <= rep["additive"] * (1 + 1e-12) <= rep["additive_sigma"] * (1 + 1e-12)


def test_additive_caps_are_the_two_smallest_values_still_to_fit():
    spectra = [np.array([5.0, 4.0, 3.0, 2.0]), np.array([4.0, 3.0, 2.0]), np.array([3.0, 1.0])]
    # r = 3: step 1 has 3 steps left (sigma_2, sigma_3), step 2 has 2 (sigma_1, sigma_2)
    np.testing.assert_array_equal(theory.additive_caps(spectra, 3), [16.0 + 9.0, 16.0 + 9.0, np.inf])
    # values past a residual's last count as 0
    np.testing.assert_array_equal(theory.additive_caps([np.array([2.0])] * 3, 3), [0.0, 4.0, np.inf])
    with pytest.raises(ValueError, match="r"):
        theory.additive_caps(spectra, 4)
