"""onerank.simultaneous: factorised gradient descent on eq. (4), and its cost counts."""
import ast
import doctest
from pathlib import Path

import numpy as np
import pytest

from onerank import batched, problems, rank1, simultaneous
from onerank.simultaneous import (
    equal_compute_steps,
    factorised_gd,
    sequential_step_flops,
    simultaneous_step_flops,
)

# (m, d, n, r): d > n, d < n, d = n, m = 1, and r = min(m, d) (the largest rank allowed)
SHAPES = [
    (6, 12, 8, 3),    # d > n: X has a null space on the left, q = n
    (5, 4, 12, 2),    # d < n: Y has a part outside the row space of X
    (1, 7, 10, 1),    # m = 1 (then r = 1 = min(m, d))
    (4, 6, 9, 4),     # r = min(m, d) = m
    (9, 5, 5, 5),     # d = n, r = min(m, d) = d
    (12, 12, 12, 6),  # the largest sizes
]
SEEDS = [0, 1, 2]
# the two computations agree to rounding (eps times a modest growth over 50 steps);
# 1e-9 leaves six orders of magnitude of margin and would still catch a wrong term
RTOL = 1e-9


def random_instance(m, d, n, seed):
    """Y with i.i.d. N(0, 1) entries (no low-rank structure, so every term of the step matters),
    X with i.i.d. N(0, 1/n) entries (singular values about 1 +- sqrt(d/n)), and a W*."""
    rng = np.random.default_rng(1000 + seed)
    X = rng.standard_normal((d, n)) / np.sqrt(n)
    Y = rng.standard_normal((m, n))
    W_star = rng.standard_normal((m, d))
    return Y, X, W_star


def stable_eta(Y, X):
    """A step well inside the stable range: the curvature of f near its minimisers is
    about ||Y||_2 ||X||_2^2 (||B||^2 and ||A X||^2 both grow to about ||Y||_2 at balance)."""
    return 0.1 / (np.linalg.norm(Y, 2) * np.linalg.norm(X, 2) ** 2)


def direct(Y, X, r, steps, eta_a, eta_b, seed, W_star=None):
    """Eq. (4)'s factorised gradient descent in the original coordinates, R formed every step.

    Returns A (r, d), B (m, r) and the errors ||Y - B A X||_F and ||B A - W*||_F after
    0, 1, ..., steps updates.
    """
    m, d = Y.shape[0], X.shape[0]
    rng = np.random.default_rng(seed)
    B = np.stack([rank1.initial_point(None, rng, 0, m)[1] for _ in range(r)], axis=1)
    A = np.zeros((r, d))
    train, recovery = [], []
    for t in range(steps + 1):
        R = Y - B @ A @ X
        train.append(np.linalg.norm(R))
        if W_star is not None:
            recovery.append(np.linalg.norm(B @ A - W_star))
        if t == steps:
            break
        # grad_A f = -B^T R X^T, grad_B f = -R X^T A^T, both at the current (A, B)
        A, B = A + eta_a * (B.T @ R @ X.T), B + eta_b * (R @ X.T @ A.T)
    return A, B, np.array(train), np.array(recovery)


def rel(x, y):
    return np.linalg.norm(x - y) / np.linalg.norm(y)


# --------------------------------------------------------------------------- the iterates
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "m{}-d{}-n{}-r{}".format(*s))
def test_reduced_coordinates_give_the_direct_iterates(shape, seed):
    m, d, n, r = shape
    Y, X, W_star = random_instance(m, d, n, seed)
    eta = stable_eta(Y, X)
    steps = 50
    res = factorised_gd(Y, X, r, steps, eta=eta, seed=seed, W_star=W_star)
    A, B, train, recovery = direct(Y, X, r, steps, eta, eta, seed, W_star)
    assert res.A.shape == (r, d) and res.B.shape == (m, r) and res.steps == steps
    # the test is not vacuous: both factors moved well away from their start
    B0 = batched._draws(seed, r, m).T
    assert rel(B, B0) > 1e-2 and np.linalg.norm(A) > 1e-2 * np.linalg.norm(B)
    assert rel(res.A, A) < RTOL
    assert rel(res.B, B) < RTOL
    np.testing.assert_array_equal(res.iterations, np.arange(steps + 1))
    np.testing.assert_allclose(res.train_error, train, rtol=RTOL)
    np.testing.assert_allclose(res.recovery_error, recovery, rtol=RTOL)
    assert res.flops == simultaneous_step_flops(m, min(d, n), r)


@pytest.mark.parametrize("seed", SEEDS)
def test_two_step_sizes_and_rank_deficient_X(seed):
    # X of rank 3 < min(d, n): q = rank X, and the rows of A stay in the column space of X
    rng = np.random.default_rng(seed)
    m, d, n, r = 5, 7, 10, 3
    X = rng.standard_normal((d, 3)) @ rng.standard_normal((3, n)) / np.sqrt(n)
    Y = rng.standard_normal((m, n))
    eta = stable_eta(Y, X)
    eta_a, eta_b = 0.5 * eta, 1.5 * eta
    res = factorised_gd(Y, X, r, 40, eta=(eta_a, eta_b), seed=seed)
    A, B, train, _ = direct(Y, X, r, 40, eta_a, eta_b, seed)
    assert rel(res.A, A) < RTOL and rel(res.B, B) < RTOL
    np.testing.assert_allclose(res.train_error, train, rtol=RTOL)
    assert res.recovery_error is None
    assert res.flops == simultaneous_step_flops(m, 3, r)


@pytest.mark.parametrize("seed", SEEDS)
def test_start_is_the_sequential_draws(seed):
    # A(0) = 0 and B(0)'s columns are the b_k(0) that Algorithm 2 draws, in the same order
    m, d, n, r = 6, 5, 9, 4
    Y, X, _ = random_instance(m, d, n, seed)
    res = factorised_gd(Y, X, r, 0, seed=seed)
    np.testing.assert_array_equal(res.A, np.zeros((r, d)))
    np.testing.assert_array_equal(res.B, batched._draws(seed, r, m).T)
    np.testing.assert_allclose(res.train_error, [np.linalg.norm(Y)], rtol=1e-12)
    np.testing.assert_array_equal(res.iterations, [0])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(6, 12, 8), (5, 4, 12), (1, 7, 10)])
def test_rank_one_is_rank1_gd(shape, seed):
    m, d, n = shape
    Y, X, _ = random_instance(m, d, n, seed)
    eta = stable_eta(Y, X)
    steps = 60
    res = factorised_gd(Y, X, 1, steps, eta=eta, seed=seed)
    a, b, objectives = rank1.gd(Y, X, steps, eta=eta, seed=seed, tol=None, trace=True)
    assert objectives.size == steps + 1          # tol=None: no early stop
    # same start, same step, same coordinates: equal up to rounding (see RTOL)
    assert rel(res.A[0], a) < RTOL and rel(res.B[:, 0], b) < RTOL
    np.testing.assert_allclose(0.5 * res.train_error**2, objectives, rtol=RTOL)


def test_record_every_keeps_the_last_iteration():
    Y, X, W_star = random_instance(4, 6, 9, 0)
    eta = stable_eta(Y, X)
    full = factorised_gd(Y, X, 2, 23, eta=eta, W_star=W_star)
    sparse = factorised_gd(Y, X, 2, 23, eta=eta, W_star=W_star, record_every=5)
    np.testing.assert_array_equal(sparse.iterations, [0, 5, 10, 15, 20, 23])
    # recording does not change the iterates, and the recorded values are the same numbers
    np.testing.assert_array_equal(sparse.A, full.A)
    np.testing.assert_array_equal(sparse.B, full.B)
    np.testing.assert_array_equal(sparse.train_error, full.train_error[sparse.iterations])
    np.testing.assert_array_equal(sparse.recovery_error, full.recovery_error[sparse.iterations])
    np.testing.assert_allclose(sparse.W_hat, sparse.B @ sparse.A)
    assert sparse.r == 2


# --------------------------------------------------------------------------- convergence
@pytest.mark.parametrize("seed", SEEDS)
def test_noiseless_low_rank_problem_is_fitted(seed):
    # Y = W* X with rank W* = 3 = r, n > d so X has full row rank and W* is identifiable.
    # Equal singular values (1, 1, 1) and eta = 0.1 make the linear rate fast: 2000 steps
    # bring the relative error to about 1e-15 in trial runs. The threshold 1e-8 sits well
    # above float64 rounding (~1e-15) and far below the start (1), so it shows convergence
    # to a global minimiser without depending on the last digits.
    p = problems.make_problem(8, 10, 30, 3, profile="uniform", frobenius_norm=np.sqrt(3),
                              seed=seed)
    res = factorised_gd(p.Y, p.X, 3, 2000, eta=0.1, seed=seed, W_star=p.W_star,
                        record_every=100)
    y_norm = np.linalg.norm(p.Y)
    assert res.train_error[0] == pytest.approx(y_norm, rel=1e-12)
    assert res.train_error[-1] < 1e-8 * y_norm
    assert res.recovery_error[-1] < 1e-6 * np.linalg.norm(p.W_star)
    # gradient descent with a small step decreases the objective at every recorded point
    assert np.all(np.diff(res.train_error) <= 1e-12 * y_norm)


def test_divergence_raises_floating_point_error():
    Y, X, _ = random_instance(5, 6, 9, 0)
    with pytest.raises(FloatingPointError, match="smaller eta"):
        factorised_gd(Y, X, 2, 500, eta=1e3)


# --------------------------------------------------------------------------- argument checks
def _bad_calls():
    Y, X, W = random_instance(4, 6, 9, 0)
    bad_Y = Y.copy()
    bad_Y[1, 2] = np.nan
    return [
        (dict(Y=Y[0]), "Y"),                        # 1-D labels
        (dict(X=X[:, :-1]), "number of columns n"),  # n differs
        (dict(X=X[0]), "X"),
        (dict(Y=bad_Y), "Y contains NaN"),
        (dict(r=0), "r"),
        (dict(r=5), r"r \(the rank\) must be <= 4"),  # min(m, d) = 4
        (dict(r=1.5), "r"),
        (dict(steps=-1), "steps must be >= 0"),
        (dict(record_every=0), "record_every must be >= 1"),
        (dict(eta=-0.1), "eta"),
        (dict(eta=(0.1, 0.0)), "eta"),
        (dict(W_star=W[:, :-1]), r"W_star \(m x d\) must have shape \(4, 6\)"),
        (dict(W_star=W * np.inf), "W_star"),
    ]


@pytest.mark.parametrize("case", range(len(_bad_calls())))
def test_bad_inputs_name_the_argument(case):
    Y, X, _ = random_instance(4, 6, 9, 0)
    kw, message = _bad_calls()[case]
    args = dict(Y=Y, X=X, r=2, steps=3)
    args.update(kw)
    with pytest.raises((ValueError, TypeError), match=message):
        factorised_gd(**args)


def test_flop_arguments_are_checked():
    with pytest.raises(ValueError, match="T must be >= 0"):
        equal_compute_steps(-1, 2, 10, 10, 10)
    with pytest.raises(ValueError, match="r"):
        equal_compute_steps(10, 11, 10, 20, 20)
    with pytest.raises(ValueError, match="q"):
        simultaneous_step_flops(10, 0, 1)


# --------------------------------------------------------------------------- cost counts
def test_flop_counts_by_hand():
    # m = 2, q = 3: sequential 4*6 + 6*2 + 6*3 = 54; simultaneous r = 1: 24 + 4*5 + 3*5 = 59,
    # r = 2: 48 + 4*5*4 + 3*5*2 = 158
    assert sequential_step_flops(2, 3) == 54
    assert simultaneous_step_flops(2, 3, 1) == 59
    assert simultaneous_step_flops(2, 3, 2) == 158


@pytest.mark.parametrize("m, q", [(1, 1), (1, 50), (10, 10), (100, 30), (1000, 1000)])
def test_rank_one_simultaneous_step_costs_a_sequential_step(m, q):
    # the same matrix-vector products; only lower-order terms differ (7 (m + q) vs 6 (m + q))
    ratio = simultaneous_step_flops(m, q, 1) / sequential_step_flops(m, q)
    assert 1.0 <= ratio <= 1.25


def test_simultaneous_cost_is_linear_in_r_for_small_r():
    m, q = 2000, 1000
    one = simultaneous_step_flops(m, q, 1)
    for r in range(1, 21):
        # the r^2 terms are 4 (m + q) r^2 against 4 m q r: relative size r (m + q) / (m q) <= 3%
        assert simultaneous_step_flops(m, q, r) / (r * one) == pytest.approx(1.0, abs=0.03)
    # and superlinear once r is comparable to min(m, q)
    assert simultaneous_step_flops(m, q, q) > 1.5 * q * one


def test_equal_compute_steps():
    m, d, n, r = 500, 400, 1000, 5
    counts = [equal_compute_steps(T, r, m, d, n) for T in range(0, 5001, 37)]
    assert counts[0] == 0
    assert all(x <= y for x, y in zip(counts, counts[1:]))     # monotone in T
    q = min(d, n)
    for T in (1, 99, 1000, 12345):
        k = equal_compute_steps(T, r, m, d, n)
        # the definition: k steps cost no more than T sequential ones, k + 1 steps more
        assert k * simultaneous_step_flops(m, q, r) <= T * sequential_step_flops(m, q)
        assert (k + 1) * simultaneous_step_flops(m, q, r) > T * sequential_step_flops(m, q)
    # about T / r for r << min(m, q) (the r^2 terms add about r (m + q) / (m q) = 2.3%)
    assert equal_compute_steps(10000, r, m, d, n) == pytest.approx(10000 / r, rel=0.03)
    # r = 1: one step for one step, less the lower-order terms (never more)
    assert 0.99 * 10000 <= equal_compute_steps(10000, 1, m, d, n) <= 10000


# --------------------------------------------------------------------------- documentation
def test_module_examples_run():
    result = doctest.testmod(simultaneous, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_public_functions_document_parameters_and_returns():
    # the rule tests/test_doctests.py applies to every module, for this one
    tree = ast.parse(Path(simultaneous.__file__).read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            doc = ast.get_docstring(node) or ""
            assert "Parameters\n" in doc and "Returns\n" in doc, node.name
