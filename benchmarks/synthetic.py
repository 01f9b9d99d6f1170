"""Benchmark: the synthetic experiments' engine against straightforward loops, ratios in one run.

Three measurements, each checked for agreement before its ratio is printed.

1. *Three schedules of one paper-setting problem* (500 x 1000, n = 2500, T = 2000, no
   trace): a straightforward eq. (5) in numpy, one run at a time, the m x n residual
   formed at every step, against ``onerank.batched.deflate_many`` (exact row-space
   coordinates, the three runs sharing one matrix product per step). Also the same engine
   fed one run at a time, to show what the sharing itself buys.
2. *The code setting's Figure 1 and its 121-point alpha sweep* (100 x 200, n = 500,
   T = 500, 3 trials of the authors' protocol, the cumulative numerical error tracked):
   a loop of the authors' kind (numpy, run by run, the residual formed at every step, the
   recovery error of every step for Fig. 1, an SVD of each residual for the exact
   minimiser) against ``synthetic.schedule_paths`` + ``synthetic.alpha_sweep``.
3. *The command line for both figures*, one process, from start-up to the saved files.

    python benchmarks/synthetic.py            # all three (about 4 minutes on 2 cores)
    python benchmarks/synthetic.py --skip-cli
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from onerank import batched, config, results, schedules, synthetic


def straightforward(Y, X, budgets, seed, eta=0.003, tol=1e-10, W_star=None, exact=False):
    """Algorithm 2 exactly as eq. (5) reads: the residual is formed at every step.

    With ``W_star`` the recovery error of every step is recorded; with ``exact`` the exact
    rank-1 minimiser of each residual comes from an SVD and ||delta_k|| is recorded.
    Returns (components, recovery errors per step, delta norms).
    """
    m, d = Y.shape[0], X.shape[0]
    rng = np.random.default_rng(seed)
    comps, path, deltas = [], [], []
    Yk = Y.copy()
    W = np.zeros((m, d))
    for t_k in budgets:
        a, b = np.zeros(d), rng.standard_normal(m) / np.sqrt(m)
        if exact:                       # the exact minimiser: top pair of the residual
            Uy, sy, Vy = np.linalg.svd(Yk, full_matrices=False)
            star = np.linalg.lstsq(X.T, sy[0] * Vy[0], rcond=None)[0]
            b_star = Uy[:, 0]
        R = Yk - np.outer(b, a @ X)
        err_prev = np.linalg.norm(R)
        for _ in range(t_k):
            grad_a = -X @ (R.T @ b)
            grad_b = -R @ (X.T @ a)
            a, b = a - eta * grad_a, b - eta * grad_b
            R = Yk - np.outer(b, a @ X)
            if W_star is not None:
                path.append(np.linalg.norm(W + np.outer(b, a) - W_star))
            err = np.linalg.norm(R)
            if abs(err_prev - err) < tol:
                break
            err_prev = err
        if exact:
            deltas.append(np.linalg.norm(np.outer(b, a) - np.outer(b_star, star)))
        comps.append((a, b))
        W += np.outer(b, a)
        Yk = Yk - np.outer(b, a @ X)
    return comps, path, deltas


def _worst(ours_a, ours_b, ref):
    worst = 0.0
    for k, (a, b) in enumerate(ref):
        for mine, theirs in ((ours_a[k], a), (ours_b[k], b)):
            worst = max(worst, float(np.abs(mine - theirs).max() / max(np.abs(theirs).max(), 1e-300)))
    return worst


def paper_three_schedules(device):
    s = synthetic.setting("paper", scale="full")
    p = synthetic.problem(s, trial=0)
    budgets = np.stack([schedules.allocate(2000, s.r, schedules.NAMED[n]) for n in schedules.NAMED])
    eta = synthetic.step_size(s)
    print(f"\n1. paper setting, one problem, 3 schedules, T = 2000: m={s.m}, d={s.d}, n={s.n}, "
          f"r={s.r}, X {s.x_norm}, eta={eta:.3g}")
    t0 = time.perf_counter()
    ref = [straightforward(p.Y, p.X, bud, seed=0, eta=eta)[0] for bud in budgets]
    t_ref = time.perf_counter() - t0
    print(f"   straightforward eq. (5), numpy, run by run:      {t_ref:8.2f} s")
    batched.deflate_many(p.Y, p.X, budgets[:, :2] // 10, eta=eta, exact=False, device=device)  # warm-up
    t0 = time.perf_counter()
    ours = batched.deflate_many(p.Y, p.X, budgets, seeds=0, eta=eta, exact=False, device=device)
    t_ours = time.perf_counter() - t0
    print(f"   ours, the three runs sharing Z:                  {t_ours:8.2f} s")
    t0 = time.perf_counter()
    for bud in budgets:
        batched.deflate_many(p.Y, p.X, bud, seeds=0, eta=eta, exact=False, device=device)
    t_one = time.perf_counter() - t0
    print(f"   ours, one run at a time:                         {t_one:8.2f} s")
    worst = max(_worst(ours.a[0, j], ours.b[0, j], ref[j]) for j in range(len(budgets)))
    print(f"   max relative difference of the components: {worst:.1e} (must be < 1e-9)")
    print(f"   ratio straightforward / ours: {t_ref / t_ours:.1f}x (aim: 30x); "
          f"sharing alone: {t_one / t_ours:.2f}x")
    return worst


def code_fig1_alpha():
    s = synthetic.setting("code", scale="full")
    p = synthetic.problem(s, trial=0)                       # the authors' protocol: one instance
    alphas = np.linspace(-2.0, 2.0, s.alphas)
    print(f"\n2. code setting, Fig. 1 (3 schedules) + alpha sweep ({s.alphas} alphas), "
          f"{s.trials} trials, T = {s.T}, numerical error tracked")
    t0 = time.perf_counter()
    ref_fig1 = {}
    for t in range(s.trials):
        for name, alpha in schedules.NAMED.items():
            bud = schedules.allocate(s.T, s.r, alpha)
            ref_fig1[t, name] = straightforward(p.Y, p.X, bud, seed=t, W_star=p.W_star, exact=True)
    ref_alpha = {}
    for t in range(s.trials):
        for i, alpha in enumerate(alphas):
            bud = schedules.allocate(s.T, s.r, alpha)
            ref_alpha[t, i] = straightforward(p.Y, p.X, bud, seed=t, W_star=None, exact=True)
    t_ref = time.perf_counter() - t0
    print(f"   a loop of the authors' kind (numpy, run by run):  {t_ref:8.2f} s")
    t0 = time.perf_counter()
    fig1 = synthetic.schedule_paths(s)
    alpha = synthetic.alpha_sweep(s)
    t_ours = time.perf_counter() - t0
    print(f"   ours (schedule_paths + alpha_sweep):             {t_ours:8.2f} s")
    # agreement: the final recovery errors and the cumulative numerical errors
    worst = 0.0
    for j, name in enumerate(schedules.NAMED):
        for t in range(s.trials):
            comps, path, deltas = ref_fig1[t, name]
            W = sum(np.outer(b, a) for a, b in comps)
            mine = fig1["schedules"][name]["final_recovery"][t]
            worst = max(worst, abs(mine - np.linalg.norm(W - p.W_star)) / np.linalg.norm(p.W_star))
            worst = max(worst, abs(fig1["schedules"][name]["final_cumulative_delta"][t] - sum(deltas))
                        / max(sum(deltas), 1e-300))
    cum = np.array([[sum(ref_alpha[t, i][2]) for i in range(len(alphas))] for t in range(s.trials)])
    worst = max(worst, float(np.abs(np.asarray(alpha["cumulative_delta"]["mean"]) - cum.mean(0)).max()
                             / cum.mean(0).max()))
    print(f"   max relative difference (final errors, sum of ||delta_k||): {worst:.1e} (must be < 1e-9)")
    print(f"   ratio: {t_ref / t_ours:.1f}x (aim: 50x)")
    return worst


def command_line():
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "onerank", "synthetic", "fig1", "alpha", "--setting", "code",
               "--out", out]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "TQDM_DISABLE": "1"})
        wall = time.perf_counter() - t0
        made = sorted(os.listdir(os.path.join(out, "code")))
    print(f"\n3. python -m onerank synthetic fig1 alpha --setting code: {wall:.1f} s end to end "
          f"(aim: under 3.5 s), wrote {', '.join(made)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="torch device (default: onerank.config.device())")
    parser.add_argument("--skip-cli", action="store_true", help="leave out the command-line timing")
    args = parser.parse_args(argv)
    device = args.device or config.device()
    run = results.provenance()
    print(f"command: python benchmarks/synthetic.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"machine: {os.cpu_count()} CPU cores, torch {run['torch']} with {run['torch_threads']} threads, "
          f"numpy {run['numpy']}; commit {str(run['commit'])[:10]}; ours on {device}")
    worst = max(paper_three_schedules(device), code_fig1_alpha())
    if not args.skip_cli:
        command_line()
    if not worst < 1e-9:
        raise SystemExit("the implementations disagree")


if __name__ == "__main__":
    main()
