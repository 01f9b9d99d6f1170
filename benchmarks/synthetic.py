"""Benchmark: the batched deflation engine against a straightforward eq. (5).

The straightforward implementation forms the m x n residual R = Y - b a^T X at
every step and takes both gradients from it (O((m + d) n) per step), one run
after another, in numpy. Ours is ``onerank.batched.deflate``: exact row-space
coordinates, rank-1 identities, all runs of a setting vectorised. Both run
Algorithm 2 on the same instances, budgets and initial points; the script
checks that the final components agree (max relative difference below 1e-9)
and prints the speed ratio measured in this run.

    python benchmarks/synthetic.py                 # paper setting: 500 x 1000, n = 2500, 5 trials x 3 schedules
    python benchmarks/synthetic.py --setting code  # the authors' code: 100 x 200, n = 500, 3 trials x 3 schedules
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from onerank import batched, config, results, schedules, synthetic


def straightforward(Y, X, budgets, seed, eta=0.003, tol=1e-10):
    """Algorithm 2 exactly as eq. (5) reads: the residual is formed at every step."""
    m, d = Y.shape[0], X.shape[0]
    rng = np.random.default_rng(seed)
    comps = []
    Yk = Y.copy()
    for t_k in budgets:
        a, b = np.zeros(d), rng.standard_normal(m) / np.sqrt(m)
        R = Yk - np.outer(b, a @ X)
        err_prev = np.linalg.norm(R)
        for _ in range(t_k):
            grad_a = -X @ (R.T @ b)
            grad_b = -R @ (X.T @ a)
            a, b = a - eta * grad_a, b - eta * grad_b
            R = Yk - np.outer(b, a @ X)
            err = np.linalg.norm(R)
            if abs(err_prev - err) < tol:
                break
            err_prev = err
        comps.append((a, b))
        Yk = Yk - np.outer(b, a @ X)
    return comps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=sorted(synthetic.SETTINGS), default="paper")
    parser.add_argument("--trials", type=int, default=None, help="default: the setting's number of trials")
    parser.add_argument("--device", default=None, help="torch device for ours (default: onerank.config.device())")
    args = parser.parse_args(argv)
    setting = synthetic.SETTINGS[args.setting]
    trials = args.trials or setting.trials
    device = args.device or config.device()
    probs = [synthetic.problem(setting, trial=t) for t in range(trials)]
    budgets = np.stack([schedules.allocate(setting.T, setting.r, alpha) for alpha in (1.0, 0.0, -1.0)])
    Y = np.stack([p.Y for p in probs])
    X = np.stack([p.X for p in probs])
    m, d, n = probs[0].shape
    run = results.provenance()
    print(f"command: python benchmarks/synthetic.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"machine: {os.cpu_count()} CPU cores, torch {run['torch']} with {run['torch_threads']} threads, "
          f"numpy {run['numpy']}; commit {str(run['commit'])[:10]}")
    print(f"setting {args.setting}: m={m}, d={d}, n={n}, r={setting.r}, T={setting.T}, "
          f"{trials} trials x {len(budgets)} schedules; ours on {device}")

    t0 = time.perf_counter()
    ref = [[straightforward(p.Y, p.X, bud, seed=t) for bud in budgets] for t, p in enumerate(probs)]
    t_ref = time.perf_counter() - t0
    print(f"straightforward eq. (5), numpy, run by run: {t_ref:8.2f} s")

    batched.deflate(Y[:1, :, :n], X[:1], budgets[:1, :1], exact=False, device=device)   # warm-up
    t0 = time.perf_counter()
    ours = batched.deflate(Y, X, budgets, seeds=np.arange(trials), exact=False, device=device)
    t_ours = time.perf_counter() - t0
    print(f"ours (batched.deflate, exact=False):         {t_ours:8.2f} s")
    t0 = time.perf_counter()
    full = batched.deflate(Y, X, budgets, seeds=np.arange(trials), exact=True,
                           W_star=np.stack([p.W_star for p in probs]), device=device)
    t_full = time.perf_counter() - t0
    print(f"ours with exact minimisers, delta_k and recovery errors: {t_full:8.2f} s "
          f"({full.fallbacks} Lanczos fallbacks)")

    worst = 0.0
    for t in range(trials):
        for s in range(len(budgets)):
            for k, (a, b) in enumerate(ref[t][s]):
                for mine, theirs in ((ours.a[t, s, k], a), (ours.b[t, s, k], b)):
                    scale = max(np.abs(theirs).max(), 1e-300)
                    worst = max(worst, float(np.abs(mine - theirs).max() / scale))
    print(f"max relative difference of the final components: {worst:.2e} (must be < 1e-9)")
    print(f"speed ratio straightforward / ours: {t_ref / t_ours:.1f}x "
          f"(with exact minimisers: {t_ref / t_full:.1f}x)")
    if not worst < 1e-9:
        raise SystemExit("the two implementations disagree")


if __name__ == "__main__":
    main()
