import numpy as np
import pytest

from onerank import problems

from helpers import small_problem


@pytest.mark.parametrize("profile", problems.PROFILES)
def test_w_star_has_the_requested_spectrum(profile):
    p = small_problem(profile=profile, m=30, d=40, n=60, rank=6)
    s = np.linalg.svd(p.W_star, compute_uv=False)
    # float64 rounding of U diag(s) V^T: relative error a few eps
    np.testing.assert_allclose(s[:6], problems.singular_values(profile, 6), rtol=1e-12)
    assert s[6] < 1e-12 * s[0]


def test_named_profiles():
    np.testing.assert_array_equal(problems.singular_values("uniform", 3), [10, 10, 10])
    e = problems.singular_values("exponential", 20)
    assert e[0] == 100 and np.isclose(e[-1], 1) and np.allclose(e[1:] / e[:-1], e[1] / e[0])
    np.testing.assert_allclose(problems.singular_values("power", 4), 100 / np.arange(1, 5) ** 2)


def test_frobenius_rescaling():
    s = problems.singular_values("power", 20, frobenius_norm=np.sqrt(20))
    assert np.isclose(np.sum(s**2), 20)  # the authors' ||S||_2^2 = r


@pytest.mark.parametrize("x_norm,axis", [("rows", 1), ("columns", 0)])
def test_x_normalisation(x_norm, axis):
    p = small_problem(x_norm=x_norm)
    np.testing.assert_allclose(np.linalg.norm(p.X, axis=axis), 1.0, rtol=1e-14)


def test_noise_models():
    clean = small_problem(noise="none")
    assert not np.any(clean.noise) and np.array_equal(clean.Y, clean.Y_clean)
    g = small_problem(noise="gaussian", noise_level=0.5, m=60, n=200)
    # sample std of 12000 N(0, 0.25) entries: within 5% (about 6 standard errors)
    assert abs(g.noise.std() - 0.5) < 0.025
    sp = small_problem(noise="sparse", noise_level=2.0, sparse_fraction=0.05, m=40, n=50)
    assert np.count_nonzero(sp.noise) == round(0.05 * 40 * 50)
    np.testing.assert_allclose(sp.Y, sp.Y_clean + sp.noise)


def test_seeding_is_reproducible():
    a, b, c = small_problem(seed=3), small_problem(seed=3), small_problem(seed=4)
    assert np.array_equal(a.Y, b.Y) and not np.array_equal(a.Y, c.Y)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(rank=20), "rank must be <= 12"),
        (dict(profile="linear"), "profile must be one of"),
        (dict(noise="laplace"), "noise must be one of"),
        (dict(x_norm="both"), "x_norm must be one of"),
        (dict(noise_level=-1.0), "noise_level must be >= 0"),
        (dict(sparse_fraction=1.5), "sparse_fraction must be in"),
        (dict(m=2.5), "m must be an integer"),
        (dict(frobenius_norm=0.0), "frobenius_norm must be > 0"),
    ],
)
def test_bad_arguments_name_themselves(kwargs, match):
    with pytest.raises(ValueError, match=match):
        small_problem(**kwargs)


@pytest.mark.parametrize("cond", [1.0, 10.0, 1e4])
def test_conditioned_design(cond):
    p = small_problem(d=15, n=40, x_condition=cond)
    s = np.linalg.svd(p.X, compute_uv=False)
    assert s[0] / s[-1] == pytest.approx(cond, rel=1e-9)
    assert np.sum(s**2) == pytest.approx(15)
    with pytest.raises(ValueError, match="x_condition must be >= 1"):
        small_problem(x_condition=0.5)
    with pytest.raises(ValueError, match="needs d <= n"):
        small_problem(d=50, n=40, x_condition=2.0)
