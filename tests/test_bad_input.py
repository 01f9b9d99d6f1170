"""Malformed input, drawn argument by argument: every public function answers with a
ValueError or TypeError whose message names the argument, before any expensive work.
Valid edge shapes, drawn the same way, agree with the reference implementation.

Each case below is one function with a valid call and, per argument, a strategy of values
that are wrong for it (wrong type, wrong shape, NaN or inf, out of range). Hypothesis draws
the argument and the value; the call must raise, and the message must contain the
argument's name.
"""
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import torch

from onerank import (_validate, allocation, batched, config, data, deflation, lora, problems, rank1, results,
                     schedules, selection, simultaneous, synthetic, theory, vision)

RNG = np.random.default_rng(0)
Y, X = RNG.standard_normal((4, 6)), RNG.standard_normal((3, 6))

# ---- values wrong for an argument of a given kind
TEXT = st.text(max_size=4)
NON_FINITE = st.sampled_from([float("nan"), float("inf"), -float("inf")])
NOT_INTEGRAL = st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: not float(v).is_integer())
NOT_A_NUMBER = st.one_of(TEXT, st.none(), st.lists(st.integers(), max_size=1), st.just(object()))


def bad_int(minimum, maximum=None):
    """Values wrong for an integer argument in [minimum, maximum]."""
    wrong = [st.integers(max_value=minimum - 1), NOT_INTEGRAL, NON_FINITE, NOT_A_NUMBER, st.booleans()]
    if maximum is not None:
        wrong.append(st.integers(min_value=maximum + 1, max_value=maximum + 2**70))
    return st.one_of(*wrong)


def bad_real(positive=False, nonnegative=False, none_ok=False):
    """Values wrong for a finite real argument (optionally > 0 or >= 0; None allowed or not)."""
    wrong = [NON_FINITE, NOT_A_NUMBER.filter(lambda v: not (none_ok and v is None)), st.booleans()]
    if positive:
        wrong.append(st.floats(max_value=0.0, allow_nan=False, allow_infinity=False))
    elif nonnegative:
        wrong.append(st.floats(max_value=-1e-300, allow_nan=False, allow_infinity=False))
    return st.one_of(*wrong)


def bad_matrix(shape):
    """Values wrong for a finite float matrix of ``shape``."""
    m, n = shape                    # n: the samples, shared by Y and X
    wrong_shape = st.one_of(st.tuples(st.integers(0, 7), st.integers(0, 7).filter(lambda c: c != n)),
                            st.just((0, n))).map(lambda s: np.ones(s))
    poisoned = st.tuples(st.integers(0, m - 1), st.integers(0, n - 1), NON_FINITE).map(
        lambda t: _poison(np.ones(shape), t))
    return st.one_of(wrong_shape, poisoned, st.just(np.ones(m * n)), st.just(np.ones((1, m, n))),
                     st.just(np.full(shape, "a")), TEXT, st.none())


def _poison(a, t):
    a[t[0], t[1]] = t[2]
    return a


def bad_choice(options):
    return st.one_of(TEXT.filter(lambda s: s not in options), st.none(), st.integers())


def bad_seed():
    return st.one_of(st.integers(max_value=-1), NOT_INTEGRAL, NON_FINITE, TEXT, st.lists(st.floats(), max_size=1))


def bad_vector(n, nonnegative=False, longer_ok=False, any_length=False):
    """Values wrong for a finite 1-D array of length n (or >= n, or any length)."""
    lengths = st.integers(0, 6).filter(lambda k: not any_length and (k < n if longer_ok else k != n))
    wrong = [lengths.map(lambda k: np.ones(k)), st.just(np.ones((n, 1))),
             st.tuples(st.integers(0, n - 1), NON_FINITE).map(lambda t: _poison(np.ones((1, n)), (0,) + t)[0]),
             TEXT]
    if nonnegative:
        wrong.append(st.just(-np.ones(n)))
    return st.one_of(*wrong)


_g = torch.Generator().manual_seed(0)
MODEL = vision.mlp(12, 4, 8)
XT, YT = torch.randn(60, 12, generator=_g), torch.randint(0, 4, (60,), generator=_g)
NEW = data.Dataset("toy", 4, XT[:40], YT[:40], XT[40:], YT[40:], source="toy")
BAD_COUNTS = st.one_of(st.just([]), st.just([1, -1]), st.just([2.7, 1]), st.just([True]), st.just("12"),
                       st.just(3), st.just([None]))


# ---- the cases: (name, function, valid keyword arguments, {argument: wrong values})
CASES = [
    ("schedules.allocate", schedules.allocate, dict(T=20, r=4, alpha=1.0, floor=2),
     dict(T=bad_int(8, 2**52), r=bad_int(1, 2**20), alpha=bad_real(), floor=bad_int(0, 5))),
    ("schedules.weights", schedules.weights, dict(r=4, alpha=0.5), dict(r=bad_int(1), alpha=bad_real())),
    ("theory.tail", theory.tail, dict(sigma_Y=np.array([3.0, 2.0, 1.0]), r=1, kind="l2"),
     dict(sigma_Y=st.one_of(bad_vector(3, nonnegative=True, any_length=True),
                            st.just(np.array([1.0, 2.0, 3.0])),
                            st.just(np.array([]))),
          r=bad_int(0), kind=bad_choice(("l1", "l2")))),
    ("theory.theorem1_bound", theory.theorem1_bound,
     dict(sigma_Y=np.array([3.0, 2.0, 1.0]), sigma_max_X=1.0, delta_norms=np.array([0.01, 0.01]), r=2),
     dict(sigma_max_X=bad_real(nonnegative=True), delta_norms=bad_vector(2, nonnegative=True, longer_ok=True),
          r=bad_int(1, 3))),
    ("deflation.deflate", deflation.deflate, dict(Y=Y, X=X, budgets=[5, 5], seed=0, eta=0.01, tol=1e-8),
     dict(Y=bad_matrix((4, 6)), X=bad_matrix((3, 6)),
          budgets=st.one_of(st.just([5, -1]), st.just([2.5, 3]), st.just([5] * 4), st.just([[5, 5]]), TEXT),
          seed=bad_seed(), eta=bad_real(positive=True), tol=bad_real(nonnegative=True, none_ok=True))),
    ("rank1.gd", rank1.gd, dict(Y=Y, X=X, steps=5, eta=0.01, seed=0),
     dict(Y=bad_matrix((4, 6)), X=bad_matrix((3, 6)), steps=bad_int(0), eta=bad_real(positive=True),
          seed=bad_seed())),
    ("problems.make_problem", problems.make_problem, dict(m=4, d=5, n=6, rank=2, noise="gaussian",
                                                          noise_level=0.1, seed=0),
     dict(m=st.one_of(bad_int(2), st.just(10**10)), d=bad_int(2), n=st.one_of(bad_int(1), st.just(10**10)),
          rank=bad_int(1, 4),
          profile=bad_choice(("exponential", "power", "uniform")),
          noise=bad_choice(("none", "gaussian", "sparse")), noise_level=bad_real(nonnegative=True),
          x_norm=bad_choice(("rows", "columns", "none")), seed=bad_seed(),
          frobenius_norm=bad_real(positive=True, none_ok=True))),
    ("selection.noise_threshold", selection.noise_threshold, dict(m=4, d=5, kappa=0.1, confidence=0.95),
     dict(m=bad_int(1), d=bad_int(1), kappa=bad_real(nonnegative=True),
          confidence=st.one_of(st.floats(min_value=1.0), st.floats(max_value=0.0), NON_FINITE, TEXT))),
    ("simultaneous.factorised_gd", simultaneous.factorised_gd, dict(Y=Y, X=X, r=2, steps=3, eta=0.01, seed=0),
     dict(Y=bad_matrix((4, 6)), X=bad_matrix((3, 6)), r=bad_int(1, 3), steps=bad_int(0),
          eta=bad_real(positive=True), seed=bad_seed(), record_every=bad_int(1))),
    ("batched.deflate_many", batched.deflate_many,
     dict(Y=Y, X=X, budgets=[4, 4], seeds=0, eta=0.01, device="cpu", max_runs=2),
     dict(Y=st.one_of(bad_matrix((4, 6)).filter(lambda v: np.ndim(v) != 3)), X=bad_matrix((3, 6)),
          budgets=st.one_of(st.just([4, -1]), st.just([2.5, 3]), st.just([4] * 4), TEXT),
          seeds=bad_seed(), eta=bad_real(positive=True), max_runs=bad_int(1).filter(lambda v: v is not None),
          device=st.one_of(st.sampled_from(["gpu", "cuda:x", "tpu", ""]), st.integers()))),
    ("vision.mlp", vision.mlp, dict(in_features=12, classes=4, hidden=8, seed=0),
     dict(in_features=bad_int(1, 2**31 - 1), classes=bad_int(1, 2**31 - 1), hidden=bad_int(1, 2**31 - 1),
          seed=bad_seed())),
    ("vision.accuracy", vision.accuracy, dict(model=MODEL, x=XT, y=YT, batch=16),
     dict(batch=bad_int(1), x=st.just(XT[:, :, None]), y=st.just(YT[:5]))),
    ("vision.sequential", vision.sequential, dict(base=MODEL, new=NEW, epochs=[1, 0], batch=16, seed=0),
     dict(epochs=BAD_COUNTS, batch=bad_int(1), seed=bad_seed())),
    ("batched.deflate_many (absurd trace)", batched.deflate_many,
     dict(Y=Y, X=X, budgets=[4, 4], seeds=0, eta=0.01, device="cpu", trace=True),
     dict(budgets=st.just([10**12, 1]))),
    ("theory.deflation_with_errors", theory.deflation_with_errors,
     dict(Y=np.diag([3.0, 2.0, 1.0]), errors=[(np.zeros(3), np.zeros(3))]),
     dict(Y=st.one_of(                     # NaN once hung inside LAPACK: refused before any SVD
         st.tuples(st.integers(0, 2), st.integers(0, 2), NON_FINITE).map(lambda t: _poison(np.eye(3), t)),
         st.just(np.ones(9)), st.just(np.full((3, 3), "a")), TEXT, st.none()),
          errors=st.one_of(st.just(None), st.just(3), st.just([(np.zeros(2), np.zeros(3))]),
                           st.just([(np.full(3, np.nan), np.zeros(3))]), st.just([np.zeros(3)])))),
    ("Dataset.subset", NEW.subset, dict(classes=[0, 1], train_limit=10, seed=0),
     dict(classes=st.one_of(st.just([9]), st.just([-1]), st.just("01"), st.just(3), st.just([1.5])),
          train_limit=bad_int(0).filter(lambda v: v is not None), seed=bad_seed())),
    ("vision.holdout", vision.holdout, dict(new=NEW, validation=0.2, seed=0),
     dict(new=st.sampled_from([None, 3, "x"]),
          validation=st.one_of(st.floats(min_value=1.0), st.floats(max_value=0.0), NON_FINITE, TEXT),
          seed=bad_seed())),
    ("results.write_json", results.write_json, dict(path="/tmp/onerank-bad-input.json", obj={"a": 1}),
     dict(path=st.sampled_from([None, 3, b"x"]),
          obj=st.one_of(st.just({"a": float("nan")}), st.just([1]), st.just({"a": np.ones(2)})))),
    ("lora.training_flops", lora.training_flops, dict(shapes=[(4, 8), (8, 3)], samples=10, epochs=[1, 2]),
     dict(shapes=st.one_of(st.just(None), st.just([(4,)]), st.just([(0, 3)])), samples=bad_real(nonnegative=True),
          epochs=BAD_COUNTS.filter(lambda v: not isinstance(v, int)),
          ranks=st.one_of(st.just([1]), st.just([0, 1]), st.just("1")))),
    ("synthetic.setting", synthetic.setting, dict(name="code", scale="quick"),
     dict(name=bad_choice(tuple(synthetic.SETTINGS)),
          scale=bad_choice(("quick", "full")).filter(lambda v: v is not None))),
    ("allocation.split", allocation.split, dict(costs=np.zeros((3, 10)), T=10, floor=2),
     dict(costs=st.one_of(st.just(np.zeros((3, 4))), st.just(np.full((3, 10), np.nan)),
                          st.just(np.zeros(10)), TEXT, st.none()),
          T=bad_int(6, 2**31), floor=bad_int(0, 3))),
    ("allocation.step_curves", allocation.step_curves,
     dict(Y=Y, X=X, r=2, steps=3, eta=0.01, tol=1e-10, seed=0, device="cpu"),
     dict(Y=bad_matrix((4, 6)), X=bad_matrix((3, 6)), r=bad_int(1, 3), steps=bad_int(0, 2**31),
          eta=bad_real(positive=True), tol=bad_real(nonnegative=True, none_ok=True),
          seed=st.one_of(st.integers(max_value=-1), NOT_INTEGRAL, NON_FINITE, TEXT,   # or a list
                         st.sampled_from([[], [1.5], [-1], [0, "a"]])),
          device=st.sampled_from(["gpu", "cuda:x", "tpu", ""]))),
    ("_validate.seed", _validate.seed, dict(value=3), dict(value=bad_seed())),
    ("config.torch_device", config.torch_device, dict(value="cpu"),
     dict(value=st.one_of(st.sampled_from(["gpu", "cuda:x", "tpu", "xla", "cpu:cpu"]), st.integers(),
                          st.floats()))),
]

# the name the message must contain, where it differs from the argument's
SAID_AS = {("_validate.seed", "value"): "seed", ("config.torch_device", "value"): "device",
           ("vision.accuracy", "y"): "y", ("vision.accuracy", "x"): "x"}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bad_input_is_refused_by_name(case, data):
    label, func, valid, wrong = case
    arg = data.draw(st.sampled_from(sorted(wrong)), label="argument")
    value = data.draw(wrong[arg], label="value")
    with pytest.raises((ValueError, TypeError)) as err:
        func(**{**valid, arg: value})
    said = SAID_AS.get((label, arg), arg)
    assert re.search(rf"(?<![A-Za-z_]){re.escape(said)}(?![A-Za-z_])", str(err.value)), \
        f"{label}({arg}={value!r}): the message does not name {said!r}: {err.value}"


def test_every_case_has_a_valid_call():
    for label, func, valid, _ in CASES:
        func(**valid)


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 4), d=st.integers(1, 4), n=st.integers(1, 5), data=st.data())
def test_edge_shapes_agree_with_the_reference(m, d, n, data):
    # every small shape, size-1 sides included, budgets with zeros, r up to min(m, d)
    # (or min(m, n) rows of the row space when n < d): the batched engine against
    # deflation.deflate, to float64 rounding (1e-9 relative, as tests/test_batched.py)
    rng = np.random.default_rng(m * 100 + d * 10 + n)
    Yr, Xr = rng.standard_normal((m, n)), rng.standard_normal((d, n))
    r = data.draw(st.integers(1, min(m, d, n) if n < min(m, d) else min(m, d)), label="r")
    budgets = np.array(data.draw(st.lists(st.integers(0, 6), min_size=r, max_size=r), label="budgets"))
    res = batched.deflate_many(Yr, Xr, budgets, seeds=1, eta=0.02, device="cpu")
    ref = deflation.deflate(Yr, Xr, budgets, seed=1, eta=0.02)
    for k, (a, b) in enumerate(ref.components):
        scale = max(np.abs(a).max() * np.abs(b).max(), 1e-300)
        assert np.abs(np.outer(res.b[0, 0, k], res.a[0, 0, k]) - np.outer(b, a)).max() <= 1e-9 * scale + 1e-300
    np.testing.assert_array_equal(res.steps[0, 0], ref.steps)
    np.testing.assert_allclose(res.train_errors[0, 0], ref.train_errors, rtol=1e-9, atol=1e-12)
