import numpy as np
import pytest

from onerank import schedules


def test_authors_example():
    # T = 500, r = 20, alpha = 1: the authors' allocation starts 48, 46 and ends 4, 2
    t = schedules.allocate(500, 20, 1.0)
    assert t.tolist()[:2] == [48, 46] and t.tolist()[-2:] == [4, 2]
    assert schedules.equal(500, 20).tolist() == [25] * 20
    np.testing.assert_array_equal(schedules.less_first(500, 20), t[::-1])


@pytest.mark.parametrize("T,r,floor", [(500, 20, 2), (97, 7, 1), (1000, 3, 5), (40, 20, 2), (13, 1, 0)])
def test_budgets_sum_to_T_and_round_the_shares(T, r, floor):
    for alpha in np.linspace(-3, 3, 61):
        t = schedules.allocate(T, r, alpha, floor)
        assert t.dtype.kind == "i" and t.sum() == T and np.all(t >= floor)
        w = schedules.weights(r, alpha)
        shares = (T - floor * r) * w / w.sum()
        # largest-remainder rounding moves every share by less than one step
        assert np.all(np.abs((t - floor) - shares) < 1)


@pytest.mark.parametrize("T,r", [(500, 20), (300, 7), (1000, 3)])
def test_monotone_in_alpha(T, r):
    alphas = np.linspace(-2, 2, 401)
    first = np.array([schedules.allocate(T, r, a)[0] for a in alphas])
    last = np.array([schedules.allocate(T, r, a)[-1] for a in alphas])
    assert np.all(np.diff(first) >= 0) and np.all(np.diff(last) <= 0)
    assert first[-1] > first[0] and last[-1] < last[0]


def test_decreasing_for_positive_alpha():
    for alpha in (0.25, 1.0, 1.5, 2.0):
        t = schedules.allocate(2000, 10, alpha)
        assert np.all(np.diff(t) <= 0)


@pytest.mark.parametrize(
    "args,match",
    [
        ((30, 20, 1.0), r"T must be >= floor \* r = 2 \* 20 = 40"),
        ((500, 0, 1.0), "r must be >= 1"),
        ((-5, 2, 1.0), "T must be >= 0"),
        ((500.5, 20, 1.0), "T must be an integer"),
        ((500, 20, float("nan")), "alpha must be finite"),
    ],
)
def test_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        schedules.allocate(*args)
