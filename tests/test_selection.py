import numpy as np
import pytest

from onerank import problems, selection


def test_noise_level_is_consistent():
    estimates = [selection.noise_level(p.Y, p.X) for p in
                 (problems.make_problem(20, 30, 150, 5, noise="gaussian", noise_level=0.2, seed=s) for s in range(30))]
    # chi-squared with 20 * 120 degrees of freedom: relative sd 1/sqrt(4800) ~ 1.4%
    assert abs(np.mean(estimates) / 0.2 - 1) < 0.01 and np.std(estimates) / 0.2 < 0.03


def test_noise_level_needs_room_outside_the_row_space():
    p = problems.make_problem(10, 30, 20, 3, noise="gaussian", noise_level=0.1, seed=0)   # d > n: P = I
    with pytest.raises(ValueError, match="n > rank"):
        selection.noise_level(p.Y, p.X)


def test_threshold_formula():
    tau = selection.noise_threshold(30, 40, 0.5, confidence=0.95)
    assert tau == pytest.approx(0.5 * (np.sqrt(30) + np.sqrt(40) + np.sqrt(2 * np.log(20))))
    with pytest.raises(ValueError, match="confidence must be in"):
        selection.noise_threshold(30, 40, 0.5, confidence=1.0)


@pytest.mark.parametrize("seed", range(10))
def test_clear_cases(seed):
    # strong signal, small noise: all r* components and no more
    p = problems.make_problem(30, 40, 200, 6, profile="uniform", noise="gaussian", noise_level=1e-3, seed=seed)
    chosen = selection.select_rank(p.Y, p.X)
    assert chosen.rank == 6 and chosen.sigmas[-1] <= chosen.threshold < chosen.sigmas[-2]
    # the selected sigmas are the singular values of Y P, in order
    P = np.linalg.pinv(p.X) @ p.X
    np.testing.assert_allclose(chosen.sigmas, np.linalg.svd(p.Y @ P, compute_uv=False)[:7], rtol=1e-10)
    # noise far above the signal: nothing
    q = problems.make_problem(30, 40, 200, 6, profile="uniform", noise="gaussian", noise_level=100.0, seed=seed)
    assert selection.select_rank(q.Y, q.X).rank == 0
    assert selection.select_rank(p.Y, p.X, max_rank=3).rank == 3
