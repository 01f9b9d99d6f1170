"""The book's variants of Algorithm 2 (onerank.variants): each reduces to Algorithm 2 where it
should, counts its compute, keeps its constraint, and rejects bad arguments."""
import numpy as np
import pytest

from onerank import deflation, problems, variants
from onerank.rowspace import RowSpace

def test_parallel_with_one_worker_is_algorithm_2():
    p = problems.make_problem(20, 30, 80, 3, x_norm="columns", seed=4)
    par = variants.parallel(p.Y, p.X, 1, 60, seed=7, W_star=p.W_star)
    seq = deflation.deflate(p.Y, p.X, [60], seed=7, tol=None)
    assert np.allclose(par.W_hat, seq.W_hat, rtol=0, atol=1e-12)
    assert np.isclose(par.train_error, seq.train_errors[-1], rtol=1e-12)


def _stable_instance(rank, seed):
    p = problems.make_problem(20, 30, 80, rank, spectrum=np.arange(rank, 0, -1.0), x_condition=2.0, seed=seed)
    return p, 0.5 / (np.linalg.norm(p.Y, 2) * np.linalg.norm(p.X, 2) ** 2)


def test_parallel_counts_compute_and_converges_to_the_rank_r_fit():
    p, eta = _stable_instance(3, 5)
    par = variants.parallel(p.Y, p.X, 3, 4000, stagger=2, seed=1, W_star=p.W_star, eta=eta)
    R = np.arange(4001)
    assert np.array_equal(par.path["compute"], sum(np.maximum(0, R - 2 * k) for k in range(3)))
    assert par.recovery_error < 1e-6 * np.linalg.norm(p.W_star)       # noiseless, rank 3: W* itself
    assert par.path["train_error"][0] == pytest.approx(np.linalg.norm(p.Y))       # a = 0 at the start


def test_parallel_perturbation_moves_one_product_and_heals():
    p, eta = _stable_instance(2, 6)
    base = variants.parallel(p.Y, p.X, 2, 1, seed=2, eta=eta)
    M = np.outer(base.B[:, 0], np.ones(30)) * 1e-2
    kicked = variants.parallel(p.Y, p.X, 2, 1, seed=2, eta=eta, perturb=(0, 0, M))
    moved = np.outer(kicked.B[:, 0], kicked.A[:, 0]) - np.outer(base.B[:, 0], base.A[:, 0])
    assert np.allclose(moved, M, atol=1e-12)                               # M lies along b_1: moved exactly
    long = variants.parallel(p.Y, p.X, 2, 3000, seed=2, W_star=p.W_star, eta=eta, perturb=(1500, 0, 10 * M))
    assert long.recovery_error < 1e-6 * np.linalg.norm(p.W_star)


def test_parallel_rejects_bad_arguments():
    p = problems.make_problem(10, 12, 40, 2, seed=0)
    with pytest.raises(ValueError, match="r must be"):
        variants.parallel(p.Y, p.X, 11, 5)
    with pytest.raises(ValueError, match="rounds"):
        variants.parallel(p.Y, p.X, 2, -1)


def test_parallel_divergence_is_reported():
    p = problems.make_problem(20, 30, 80, 2, seed=0)
    with pytest.raises(FloatingPointError, match="smaller eta"):
        variants.parallel(p.Y, p.X, 2, 500, eta=5.0)


def test_adaptive_budgets_replay_as_fixed_budgets():
    p, eta = _stable_instance(4, 8)
    res = variants.adaptive(p.Y, p.X, 4, 600, share=0.5, eta=eta, seed=3)
    assert res.steps.sum() <= 600 and np.all(res.steps >= 1)
    replay = deflation.deflate(p.Y, p.X, res.steps, eta=eta, seed=3, tol=None, keep_residuals=False)
    assert np.allclose(replay.W_hat, res.W_hat, rtol=0, atol=1e-12)
    assert np.allclose(replay.train_errors, res.path["train_error"][1:], rtol=1e-12)


def test_adaptive_budgets_split_equally_on_a_flat_spectrum_and_validate():
    p = problems.make_problem(30, 40, 120, 4, spectrum=np.ones(4), x_condition=2.0, seed=2)
    eta = 0.5 / (np.linalg.norm(p.Y, 2) * np.linalg.norm(p.X, 2) ** 2)
    res = variants.adaptive(p.Y, p.X, 4, 800, share=1.0, eta=eta, seed=0)
    assert np.all(np.abs(res.steps - 200) <= 10)                       # within one chunk of T / r
    with pytest.raises(ValueError, match="stall"):
        variants.adaptive(p.Y, p.X, 4, 800, stall=1.5)
    with pytest.raises(ValueError, match="total"):
        variants.adaptive(p.Y, p.X, 4, 2, floor=1)


def test_refined_deflation_without_refinement_is_algorithm_2_and_counts_compute():
    p, eta = _stable_instance(3, 9)
    plain = variants.refined(p.Y, p.X, [40, 30, 20], eta=eta, seed=4, W_star=p.W_star)
    ref = deflation.deflate(p.Y, p.X, [40, 30, 20], eta=eta, seed=4, tol=None, keep_residuals=False)
    assert np.allclose(plain.W_hat, ref.W_hat, rtol=0, atol=1e-12) and plain.compute == 90
    assert plain.train_error == pytest.approx(ref.train_errors[-1], rel=1e-12)
    refined = variants.refined(p.Y, p.X, [40, 30, 20], refine=5, eta=eta, seed=4, W_star=p.W_star)
    assert refined.compute == 90 + 5 * (1 + 2 + 3)
    assert refined.train_error < plain.train_error          # joint steps descend the full objective
    with pytest.raises(ValueError, match="refine"):
        variants.refined(p.Y, p.X, [1, 1], refine=-1)


@pytest.mark.parametrize("seed", range(6))
def test_backfitting_counts_compute_and_converges_to_eckart_young(seed):
    p, eta = _stable_instance(5, seed)
    budgets = [40, 30, 20]
    plain = variants.refined(p.Y, p.X, budgets, method="backfit", eta=eta, seed=seed)
    ref = deflation.deflate(p.Y, p.X, budgets, eta=eta, seed=seed, tol=None, keep_residuals=False)
    assert np.allclose(plain.W_hat, ref.W_hat, rtol=0, atol=1e-12)
    short = variants.refined(p.Y, p.X, budgets, refine=5, method="backfit", inner=3, eta=eta, seed=seed)
    assert short.compute == 90 + 5 * 3 * (1 + 2 + 3)
    # (no monotonicity to check against the plain run: refitting early components changes the
    # residual the later ones start from, and the final error can end either side)
    # many sweeps reach the best rank-3 fit in the row space of X (Eckart-Young)
    long = variants.refined(p.Y, p.X, budgets, refine=300, method="backfit", inner=2, eta=eta, seed=seed)
    Z, outside_sq = RowSpace(p.X).coordinates(p.Y)
    s = np.linalg.svd(Z, compute_uv=False)
    optimum = np.sqrt(np.sum(s[3:] ** 2) + outside_sq)
    # slack: 300 sweeps of a linearly convergent method; 1% of the starting gap is far above rounding
    assert long.train_error - optimum <= 0.01 * (plain.train_error - optimum)
    assert long.A.shape == (p.X.shape[0], 3) and long.B.shape == (p.Y.shape[0], 3)
    with pytest.raises(ValueError, match="method"):
        variants.refined(p.Y, p.X, budgets, method="gauss")


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("side", ["left", "right"])
def test_orthogonal_deflation_keeps_its_constraint(seed, side):
    p, eta = _stable_instance(5, seed)
    budgets = [40, 30, 20, 10]
    plain = deflation.deflate(p.Y, p.X, budgets, eta=eta, seed=seed, tol=None, keep_residuals=False)
    for refit in (False, True):
        out = variants.orthogonal(p.Y, p.X, budgets, side=side, refit=refit, eta=eta, seed=seed)
        assert out.compute == 100 + refit * (1 + 2 + 3 + 4)
        assert np.allclose(out.B @ out.A.T, out.W_hat, atol=1e-12)
        # the constrained side's Gram matrix is diagonal; tolerance relative 1e-10: a few
        # Householder projections per step, each exact to a modest multiple of eps
        side_factors = out.B if side == "left" else out.A.T @ p.X        # (m, r) or (r, n)
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
        Q = np.linalg.qr(out.B)[0]
        R = Z - Q @ (Q.T @ Z)
        assert out.train_error == pytest.approx(np.sqrt(np.sum(R * R) + outside_sq), rel=1e-10)
    with pytest.raises(ValueError, match="side"):
        variants.orthogonal(p.Y, p.X, [1, 1], side="up")


def test_long_orthogonal_deflation_reaches_algorithm_1():
    # exact deflation satisfies both constraints, so with budgets long enough the
    # constrained runs land on Algorithm 1 (tolerance: gradient descent's remaining error)
    p, eta = _stable_instance(4, 3)
    exact = deflation.deflate(p.Y, p.X, 3, solver="exact")
    for side in ("left", "right"):
        out = variants.orthogonal(p.Y, p.X, [4000] * 3, side=side, eta=eta, seed=0)
        assert np.linalg.norm(out.W_hat - exact.W_hat) <= 1e-6 * np.linalg.norm(exact.W_hat)


def test_every_variant_records_its_path_and_one_result_type():
    p, eta = _stable_instance(3, 2)
    runs = {
        "parallel": variants.parallel(p.Y, p.X, 3, 50, eta=eta, seed=1, W_star=p.W_star),
        "adaptive": variants.adaptive(p.Y, p.X, 3, 120, eta=eta, seed=1, W_star=p.W_star),
        "refined": variants.refined(p.Y, p.X, [30, 20, 10], refine=2, eta=eta, seed=1, W_star=p.W_star),
        "orthogonal": variants.orthogonal(p.Y, p.X, [30, 20, 10], refit=True, eta=eta, seed=1, W_star=p.W_star),
    }
    for name, res in runs.items():
        assert isinstance(res, variants.VariantResult), name
        assert res.A.shape == (30, 3) and res.B.shape == (20, 3) and res.steps.shape == (3,)
        path = res.path
        assert path["compute"].shape == path["train_error"].shape == path["recovery_error"].shape
        assert path["compute"][0] == 0 and path["compute"][-1] == res.compute
        assert np.all(np.diff(path["compute"]) >= 0)
        # the path's last entries are the final errors, computed directly here (float64 rounding)
        assert res.train_error == pytest.approx(np.linalg.norm(p.Y - res.W_hat @ p.X), rel=1e-10)
        assert res.recovery_error == pytest.approx(np.linalg.norm(res.W_hat - p.W_star), rel=1e-12)
        assert path["train_error"][-1] == res.train_error
        assert path["train_error"][0] == pytest.approx(np.linalg.norm(p.Y), rel=1e-12)   # nothing fitted yet
    assert len(runs["parallel"].path["compute"]) == 51                     # one checkpoint per round
    assert [len(res.path["compute"]) for name, res in runs.items() if name != "parallel"] == [4, 4, 4]
    assert np.array_equal(runs["refined"].starts, [0, 30 + 2 * 1, 30 + 2 * 1 + 20 + 2 * 2])
    assert runs["adaptive"].recovery_error is not None
    assert variants.refined(p.Y, p.X, [5, 5], eta=eta).recovery_error is None


def test_compute_splits_spend_at_most_the_total():
    for compute, r, stagger in [(0, 3, 1), (1, 3, 1), (17, 4, 2), (600, 6, 1), (5, 1, 0)]:
        R = variants.parallel_rounds(compute, r, stagger)
        spent = lambda rounds: int(np.sum(np.maximum(0, rounds - stagger * np.arange(r))))  # noqa: E731
        assert spent(R) >= compute and (R == 0 or spent(R - 1) < compute)
    p, eta = _stable_instance(4, 1)
    for total in (40, 97, 300):
        for method, inner in (("joint", 1), ("backfit", 3)):
            for share in (0.0, 0.25, 0.5):
                budgets, refine = variants.refined_split(total, 4, share, method=method, inner=inner)
                out = variants.refined(p.Y, p.X, budgets, refine=refine, method=method, inner=inner, eta=eta)
                assert out.compute <= total and len(set(budgets)) == 1
                assert total - out.compute < 4 + 10 * inner                     # rounding only
        for refit in (False, True):
            budgets = variants.orthogonal_split(total, 4, refit)
            assert variants.orthogonal(p.Y, p.X, budgets, refit=refit, eta=eta).compute <= total
    with pytest.raises(ValueError, match="share"):
        variants.refined_split(10, 2, 1.5)
    with pytest.raises(ValueError, match="compute"):
        variants.parallel_rounds(-1, 2)


def test_variants_reject_a_misshapen_w_star():
    p = problems.make_problem(10, 12, 40, 2, seed=0)
    for run in (lambda: variants.parallel(p.Y, p.X, 2, 3, W_star=p.W_star.T),
                lambda: variants.adaptive(p.Y, p.X, 2, 10, W_star=p.W_star[:, :-1]),
                lambda: variants.refined(p.Y, p.X, [1, 1], W_star=p.W_star.T),
                lambda: variants.orthogonal(p.Y, p.X, [1, 1], W_star=p.W_star[1:])):
        with pytest.raises(ValueError, match="W_star must have shape"):
            run()
