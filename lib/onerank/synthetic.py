"""The synthetic experiments of the paper (Section 5.1, Appendix E), one function per figure.

Two settings are reproduced (see :data:`SETTINGS`): ``code``, the authors' public
scripts (MahiAV/ORAT), and ``paper``, the sizes printed in the paper's text (arXiv v1)
completed by the book's own choices where the paper prints none (n, the budgets, raw
spectra, noise level read as a standard deviation; see :data:`SETTINGS`). The alpha
sweep and the third panel of Fig. 1 (cumulative numerical error) come from the
authors' notes and code, not from arXiv v1. Each experiment function
returns a plain dict of numbers (JSON-ready, arrays as nested lists) and each
``plot_*`` function draws a figure from such a dict, so a figure can be redrawn
from its saved numbers. :func:`write` runs one figure and saves ``<name>.json``,
``.png`` and ``.pdf`` atomically, skipping figures already saved (a sweep
interrupted by a closed Colab tab resumes where it stopped); it backs the
command ``python -m onerank synthetic <figure> --setting code|paper --out DIR``.

All gradient runs go through :func:`onerank.batched.deflate_many` (trials and
schedules vectorised, on the torch device of :func:`onerank.config.device`).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from . import batched, config, problems, results, schedules
from .plotting import panels

#: The colour of each of the paper's three schedules (Section 5.1; their values of alpha
#: are :data:`onerank.schedules.NAMED`) in every figure.
COLOURS = {"more-first": "tab:blue", "equal": "tab:grey", "less-first": "tab:red"}


@dataclass(frozen=True)
class Setting:
    """Sizes and conventions of one reproduction.

    m, d, n, r : W* is m x d of rank r, X is d x n.
    x_norm : "columns" (the authors' code) or "rows" (the paper's Section 2).
    trials : int, independent instances (seeds ``seed + trial``); gradient descent's
        initial points are seeded by the trial as well.
    T : total gradient budget of the schedule figures (Fig. 1, the alpha sweep, Fig. 8),
        split by :func:`onerank.schedules.allocate`.
    T_noise, T_profiles, T_threshold : budgets of the noise sweep and profiles-under-noise
        (Figs. 7, 9), of the noiseless profiles (Fig. 6) and of the threshold figure (Fig. 10).
    eta, tol : step size and early-stop tolerance of eq. (5).
    rescale_profiles : rescale the spectrum to ||S||_2^2 = r in Figs. 5, 6 and 10 (the
        authors' profile and threshold scripts; Appendix E also gives every profile the
        same Frobenius norm); every other figure uses the raw profiles
        (exponential: geomspace(100, 1, r)).
    noise_levels, sparse_levels : Gaussian and sparse kappas of Fig. 7, used as the
        standard deviation of the noise entries (the paper prints N(0, kappa), which
        reads as a variance).
    sparse_trials, sparse_fraction : trials and share of nonzero entries for sparse noise.
    fig8_noise : (kind, kappa) of each panel of Fig. 8.
    fig9_levels : Gaussian kappas of the panels of Fig. 9.
    alphas : number of alphas in the sweep linspace(-2, 2, alphas).
    """

    name: str
    m: int
    d: int
    n: int
    r: int
    x_norm: str
    trials: int
    T: int = 500
    T_noise: int = 1000
    T_profiles: int = 2000
    T_threshold: int = 4000
    eta: float = 0.003
    tol: float = 1e-10
    seed: int = 42
    rescale_profiles: bool = True
    noise_levels: tuple = (0.0, 0.1, 0.5, 1.0, 1.5, 2.0)
    sparse_levels: tuple = (0.0, 0.1, 0.5, 1.0, 1.5, 2.0)
    sparse_trials: int = 10
    sparse_fraction: float = 0.05
    fig8_noise: tuple = (("gaussian", 0.1), ("gaussian", 0.5), ("gaussian", 1.0), ("gaussian", 1.5))
    fig9_levels: tuple = (0.05, 0.1, 0.5, 1.0)
    alphas: int = 121


#: The two reproductions at their full size. ``code``: the values of the authors' scripts.
#: ``paper``: the sizes printed in Appendix E (W* 500 x 1000 of rank 20, 5 trials, the noise
#: levels) and X with unit-norm rows (Section 2's default; Appendix E says only that X is
#: standard Gaussian). The rest is the book's choice: n = 2500 = 2.5 d (the paper never
#: states n; 2.5 is the ratio of the authors' code), the budgets
#: (the paper prints none, but Fig. 10's caption implies runs of at least 10,000 steps),
#: raw spectra (Appendix E normalises the profiles to one Frobenius norm), kappa as a
#: standard deviation, and the number of alphas (the alpha sweep is not in the paper);
#: sized so that the whole set runs in minutes on a 2-core CPU.
SETTINGS = {
    "code": Setting("code", m=100, d=200, n=500, r=20, x_norm="columns", trials=3),
    "paper": Setting("paper", m=500, d=1000, n=2500, r=20, x_norm="rows", trials=5,
                     T_noise=500, T_profiles=500, T_threshold=1000, rescale_profiles=False,
                     noise_levels=(0.0, 0.01, 0.05, 0.1), sparse_levels=(0.0, 1.0, 10.0), sparse_trials=5,
                     fig8_noise=(("gaussian", 0.01), ("gaussian", 0.05), ("gaussian", 0.1),
                                 ("sparse", 1.0), ("sparse", 10.0)),
                     fig9_levels=(0.01, 0.05, 0.1), alphas=21),
}


def setting(name: str, *, scale: str | None = None) -> Setting:
    """The setting ``name`` sized for the run size.

    ``full`` returns it as in :data:`SETTINGS`. ``quick`` keeps the code setting's sizes (it
    runs in seconds) with 41 alphas and 5 sparse trials, and shrinks the paper setting by 5
    in m, d and n (100 x 200, n = 500) with 2 trials (2 sparse trials, 21 alphas).

    Parameters
    ----------
    name : {"code", "paper"}
        The reproduction.
    scale : {"quick", "full"}, optional
        The run size (default :func:`onerank.config.scale`).

    Returns
    -------
    Setting
        The sized setting.
    """
    if name not in SETTINGS:
        raise ValueError(f"setting must be one of {sorted(SETTINGS)}, got {name!r}")
    scale = scale or config.scale()
    s = SETTINGS[name]
    if scale == "full":
        return s
    if name == "code":
        return replace(s, alphas=41, sparse_trials=5)
    return replace(s, m=s.m // 5, d=s.d // 5, n=s.n // 5, trials=2, alphas=21, sparse_trials=2)


def problem(s: Setting, *, trial: int = 0, profile: str = "exponential", noise: str = "none",
            level: float = 0.0, rescale: bool = False) -> problems.Problem:
    """Instance ``trial`` of setting ``s`` (seed ``s.seed + trial``).

    X depends on the seed only, so the profiles and noise levels of one trial share X.

    Parameters
    ----------
    s : Setting
        The sizes and conventions of the reproduction (:func:`setting`).
    trial : int, optional
        The trial number (default 0).
    profile : {"exponential", "uniform", "power"}, optional
        The spectrum of W* (default "exponential").
    noise : {"none", "gaussian", "sparse"}, optional
        The noise kind (default "none"); ignored (no noise) when ``level`` is 0.
    level : float, optional
        The noise standard deviation kappa (default 0).
    rescale : bool, optional
        Scale the spectrum to ||S||_2^2 = r (default False).

    Returns
    -------
    Problem
        W* (m, d), X (d, n), Y (m, n) of the setting's sizes (:func:`onerank.problems.make_problem`).
    """
    return problems.make_problem(
        s.m, s.d, s.n, s.r, profile=profile, noise=noise if level > 0 else "none",
        noise_level=level, x_norm=s.x_norm, seed=s.seed + trial,
        frobenius_norm=np.sqrt(s.r) if rescale else None, sparse_fraction=s.sparse_fraction)


def _run(s: Setting, probs, budgets, *, seeds=None, trace=False, exact=True, progress=False):
    """batched.deflate_many over problems x budgets (schedules); seeds default to the trial numbers."""
    return batched.deflate_many(
        np.stack([p.Y for p in probs]), np.stack([p.X for p in probs]), budgets,
        W_star=np.stack([p.W_star for p in probs]),
        seeds=np.arange(len(probs)) if seeds is None else seeds, eta=s.eta,
        tol=s.tol, exact=exact, trace=trace, progress=progress)


def _budgets(s: Setting, T: int, alphas) -> np.ndarray:
    return np.stack([schedules.allocate(T, s.r, a) for a in alphas])


def _stats(x, axis=0) -> dict:
    x = np.asarray(x, dtype=float)
    return {"mean": np.mean(x, axis=axis).tolist(), "sd": np.std(x, axis=axis).tolist()}


# ============================================================== experiments
def schedule_paths(s: Setting, *, T: int | None = None, profile: str = "exponential",
                   noise: str = "none", level: float = 0.0, rescale: bool = False,
                   trials: int | None = None, names=tuple(schedules.NAMED)) -> dict:
    """Errors along the cumulative gradient steps, per schedule (Figs. 1, 6, 8, 9, 10).

    Parameters
    ----------
    s : Setting
        The sizes and conventions of the reproduction (:func:`setting`).
    T : int, optional
        The total budget of each schedule (default ``s.T``).
    profile, noise, level, rescale : optional
        The problem of each trial, as for :func:`problem`.
    trials : int, optional
        Number of trials (default ``s.trials``).
    names : sequence of str, optional
        Schedules from :data:`onerank.schedules.NAMED` (default all three).

    Returns
    -------
    dict
        Per schedule (under ``"schedules"``), mean and sd over trials of ``recovery_error``
        ||W_t - W*||_F, ``train_error`` ||Y - W_t X||_F and ``cumulative_delta``
        sum_{j<k} ||delta_j|| + ||b a^T - b*_k a*_k^T|| at every step 0..T (lists of length
        T + 1); the ``starts`` of the components, the ``budgets``, the ``final_*`` values per
        trial (lists of length ``trials``); and ``w_norm`` = ||W*||_F, with the setting and
        the arguments.
    """
    spec = dict(profile=profile, noise=noise, level=level, rescale=rescale)
    return _many_paths(s, [spec], T=T, trials=trials, names=names)[0]


def _many_paths(s: Setting, specs: list, *, T=None, trials=None, names=tuple(schedules.NAMED)) -> list:
    """:func:`schedule_paths` for several problem specifications in one batched run."""
    T = T or s.T
    trials = trials or s.trials
    probs = [problem(s, trial=t, **spec) for spec in specs for t in range(trials)]
    budgets = _budgets(s, T, [schedules.NAMED[name] for name in names])
    res = _run(s, probs, budgets, trace=True, seeds=np.tile(np.arange(trials), len(specs)))
    outs = []
    for i, spec in enumerate(specs):
        rows = slice(i * trials, (i + 1) * trials)
        out = {"setting": asdict(s), "T": T, **spec, "trials": trials,
               "w_norm": float(np.linalg.norm(probs[i * trials].W_star)), "schedules": {},
               "fallbacks": res.fallbacks}
        for j, name in enumerate(names):
            tr = {k: res.trace[k][rows, j] for k in ("recovery_error", "train_error", "cumulative_delta")}
            out["schedules"][name] = {
                "alpha": schedules.NAMED[name], "budgets": budgets[j].tolist(),
                "starts": res.trace["starts"][i * trials, j].tolist(),
                **{k: _stats(v) for k, v in tr.items()},
                "final_recovery": res.recovery_errors[rows, j, -1].tolist(),
                "final_train": res.train_errors[rows, j, -1].tolist(),
                "final_cumulative_delta": res.delta_norms[rows, j].sum(axis=1).tolist(),
                "recovery_per_component": _stats(res.recovery_errors[rows, j]),
                "delta_per_component": _stats(res.delta_norms[rows, j]),
                "early_stops": int((res.steps[rows, j] < budgets[j]).sum()),
            }
        outs.append(out)
    return outs


def alpha_sweep(s: Setting, *, progress: bool = False) -> dict:
    """Final recovery error and final cumulative numerical error against alpha.

    The alpha sweep of the authors' notes and code; not in arXiv v1. Noiseless raw
    exponential profile, budget ``s.T``, alpha over linspace(-2, 2, s.alphas), every trial.
    Also returns T_1(alpha), the first component's budget.

    Parameters
    ----------
    s : Setting
        The sizes and conventions of the reproduction (:func:`setting`).
    progress : bool, optional
        Show a progress bar (default False).

    Returns
    -------
    dict
        ``alphas`` and ``T1`` (lists of length ``s.alphas``); mean and sd over trials of
        ``recovery``, ``cumulative_delta`` and their differences from alpha = 0
        (``*_minus_equal``); ``best_alpha_recovery``, ``best_alpha_cumulative_delta``.
    """
    alphas = np.linspace(-2.0, 2.0, s.alphas)
    probs = [problem(s, trial=t) for t in range(s.trials)]
    budgets = _budgets(s, s.T, alphas)
    res = _run(s, probs, budgets, progress=progress)
    rec = res.recovery_errors[:, :, -1]                 # (trials, alphas)
    cum = res.delta_norms.sum(axis=2)
    zero = int(np.argmin(np.abs(alphas)))
    return {"setting": asdict(s), "alphas": alphas.tolist(), "T1": budgets[:, 0].tolist(),
            "recovery": _stats(rec), "cumulative_delta": _stats(cum),
            "recovery_minus_equal": _stats(rec - rec[:, zero:zero + 1]),
            "cumulative_delta_minus_equal": _stats(cum - cum[:, zero:zero + 1]),
            "best_alpha_recovery": float(alphas[np.argmin(rec.mean(0))]),
            "best_alpha_cumulative_delta": float(alphas[np.argmin(cum.mean(0))]),
            "fallbacks": res.fallbacks}


def spectra(s: Setting) -> dict:
    """Singular values of W* and of Y = W* X for each profile (Fig. 5), trial 0, noiseless.

    Parameters
    ----------
    s : Setting
        The sizes and conventions of the reproduction (:func:`setting`).

    Returns
    -------
    dict
        Under ``"profiles"``, per profile, ``W_star`` and ``Y``: lists of the r largest
        singular values.
    """
    out = {"setting": asdict(s), "rescale": s.rescale_profiles, "profiles": {}}
    for prof in problems.PROFILES:
        p = problem(s, profile=prof, rescale=s.rescale_profiles)
        out["profiles"][prof] = {
            "W_star": p.singular_values.tolist(),
            "Y": np.linalg.svd(p.Y, compute_uv=False)[: s.r].tolist(),
        }
    return out


def profiles(s: Setting) -> dict:
    """Fig. 6: :func:`schedule_paths` for every profile, noiseless, budget ``s.T_profiles``.

    Parameters
    ----------
    s : Setting
        The sizes and conventions of the reproduction (:func:`setting`).

    Returns
    -------
    dict
        Under ``"profiles"``, {profile: schedule-paths record}.
    """
    specs = [dict(profile=prof, rescale=s.rescale_profiles) for prof in problems.PROFILES]
    paths = _many_paths(s, specs, T=s.T_profiles)
    return {"setting": asdict(s), "profiles": dict(zip(problems.PROFILES, paths))}


def noise_levels(s: Setting) -> dict:
    """Fig. 7: final recovery and training errors against kappa, per schedule.

    Raw exponential profile, budget ``s.T_noise``; Gaussian noise over ``s.noise_levels`` with
    ``s.trials`` trials and sparse noise over ``s.sparse_levels`` with ``s.sparse_trials``
    trials.

    Parameters
    ----------
    s : Setting
        The sizes and conventions of the reproduction (:func:`setting`).

    Returns
    -------
    dict
        Under ``"kinds"``, per noise kind: ``levels``, ``trials``, ``w_norm`` and, per
        schedule, the mean and sd of the final ``recovery`` and ``train`` errors at each level.
    """
    budgets = _budgets(s, s.T_noise, schedules.NAMED.values())
    out = {"setting": asdict(s), "T": s.T_noise, "kinds": {}}
    for kind, levels, trials in (("gaussian", s.noise_levels, s.trials),
                                 ("sparse", s.sparse_levels, s.sparse_trials)):
        probs = [problem(s, trial=t, noise=kind, level=level) for level in levels for t in range(trials)]
        res = _run(s, probs, budgets, exact=False, seeds=np.tile(np.arange(trials), len(levels)))
        rec = res.recovery_errors[:, :, -1].reshape(len(levels), trials, -1)
        train = res.train_errors[:, :, -1].reshape(len(levels), trials, -1)
        rows = {name: {"recovery": [_stats(rec[i, :, j]) for i in range(len(levels))],
                       "train": [_stats(train[i, :, j]) for i in range(len(levels))]}
                for j, name in enumerate(schedules.NAMED)}
        out["kinds"][kind] = {"levels": list(levels), "trials": trials, "schedules": rows,
                              "w_norm": float(np.linalg.norm(probs[0].W_star))}
    return out


def noisy_paths(s: Setting) -> dict:
    """Fig. 8: the three schedules under each noise of ``s.fig8_noise``, budget ``s.T``.

    Parameters
    ----------
    s : Setting
        The sizes and conventions of the reproduction (:func:`setting`).

    Returns
    -------
    dict
        Under ``"panels"``, one schedule-paths record (:func:`schedule_paths`) per noise.
    """
    specs = [dict(noise=kind, level=level) for kind, level in s.fig8_noise]
    return {"setting": asdict(s), "panels": _many_paths(s, specs)}


def noisy_profiles(s: Setting) -> dict:
    """Fig. 9: every profile under Gaussian noise (each kappa of ``s.fig9_levels``).

    More-first schedule, budget ``s.T_noise``, raw spectra (as the authors' script).

    Parameters
    ----------
    s : Setting
        The sizes and conventions of the reproduction (:func:`setting`).

    Returns
    -------
    dict
        Under ``"panels"``, one dict per kappa: ``level`` and ``profiles``, {profile:
        schedule-paths record}.
    """
    specs = [dict(profile=prof, noise="gaussian", level=level)
             for level in s.fig9_levels for prof in problems.PROFILES]
    paths = iter(_many_paths(s, specs, T=s.T_noise, names=("more-first",)))
    return {"setting": asdict(s), "panels": [
        {"level": level, "profiles": {prof: next(paths) for prof in problems.PROFILES}}
        for level in s.fig9_levels]}


def thresholds(paths: dict, levels=(0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1)) -> dict:
    """Steps each schedule needs to bring ||W_t - W*||_F / ||W*||_F to each level or below.

    Read from the mean recovery-error path of :func:`schedule_paths` (equal total budgets).
    A level never reached within the budget is reported as None ("not reached"), not as T.

    Parameters
    ----------
    paths : dict
        A schedule-paths record (:func:`schedule_paths`).
    levels : sequence of float, optional
        The thresholds on the relative error (default 0.9, 0.8, ..., 0.1).

    Returns
    -------
    dict
        ``levels`` and, under ``"schedules"``, {schedule: list of the first step (int or None)
        for each level}.
    """
    out = {"levels": list(levels), "schedules": {}}
    for name, sch in paths["schedules"].items():
        rel = np.asarray(sch["recovery_error"]["mean"]) / paths["w_norm"]
        first = []
        for lev in levels:
            hit = np.nonzero(rel <= lev)[0]
            first.append(int(hit[0]) if hit.size else None)
        out["schedules"][name] = first
    return out


def threshold_steps(s: Setting) -> dict:
    """Fig. 10: :func:`thresholds` on the power-law profile, noiseless.

    Budget ``s.T_threshold`` for every schedule (the authors' script gives the schedules
    different totals).

    Parameters
    ----------
    s : Setting
        The sizes and conventions of the reproduction (:func:`setting`).

    Returns
    -------
    dict
        ``T``, the schedule-paths record ``paths`` and its ``thresholds``.
    """
    paths = schedule_paths(s, T=s.T_threshold, profile="power", rescale=s.rescale_profiles)
    return {"setting": asdict(s), "T": s.T_threshold, "paths": paths, "thresholds": thresholds(paths)}


def finals(paths: dict, key: str = "final_recovery") -> dict:
    """The reader of a schedule-paths record (:func:`schedule_paths`, live or saved).

    Parameters
    ----------
    paths : dict
        A record with ``"schedules"``: {name: record of that schedule}.
    key : str, optional
        The per-trial final value to read: ``"final_recovery"`` (the default),
        ``"final_train"`` or ``"final_cumulative_delta"``.

    Returns
    -------
    dict of str to ndarray
        {schedule name: (trials,) array}.
    """
    return {name: np.asarray(sch[key]) for name, sch in paths["schedules"].items()}


# ============================================================== figures
def _plt():
    import matplotlib.pyplot as plt
    return plt


def _band(ax, y: dict, x=None, **kw):
    mean, sd = np.asarray(y["mean"]), np.asarray(y["sd"])
    x = np.arange(mean.size) if x is None else np.asarray(x)
    line, = ax.plot(x, mean, **kw)
    ax.fill_between(x, mean - sd, mean + sd, color=line.get_color(), alpha=0.2, lw=0)
    return line


def _paths_panel(ax, paths: dict, key: str = "recovery_error", relative: bool = True, markers=True):
    for name, sch in paths["schedules"].items():
        y = sch[key]
        if relative:
            y = {k: np.asarray(v) / paths["w_norm"] for k, v in y.items()}
        line = _band(ax, y, color=COLOURS[name], label=name)
        if markers:
            st = np.asarray(sch["starts"][1:])
            ax.plot(st, np.asarray(y["mean"])[st], "|", color=line.get_color(), ms=7)
    ax.set_yscale("log")
    ax.set_xlabel("cumulative gradient steps")


def plot_fig1(res: dict):
    """Fig. 1: recovery error, training objective and cumulative numerical error against steps.

    The paper's Fig. 1 has the first two panels; the third is the authors' notes' addition.

    Parameters
    ----------
    res : dict
        A record of :func:`schedule_paths`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig, axes = panels(3)
    keys = [("recovery_error", r"$\|W_t - W^*\|_F\,/\,\|W^*\|_F$", True),
            ("train_error", r"$\|Y - W_t X\|_F$", False),
            ("cumulative_delta", r"$\sum_{j<k}\|\delta_j\| + \|\delta_k^{(t)}\|$", False)]
    for ax, (key, label, rel) in zip(axes, keys):
        _paths_panel(ax, res, key, relative=rel)
        ax.set_ylabel(label)
        ax.axvline(res["schedules"]["more-first"]["budgets"][0], color=COLOURS["more-first"],
                   ls="--", lw=1)
    axes[2].set_yscale("linear")
    axes[0].legend(title="schedule")
    fig.suptitle(f"{res['setting']['name']} setting, exponential profile, no noise, mean $\\pm$ sd "
                 f"over {res['trials']} trials\nticks: component switches; dashed: $t_1$ of "
                 f"more-first", fontsize=9)
    return fig


def plot_alpha(res: dict):
    """The alpha sweep: final errors minus their alpha = 0 values, coloured by T_1(alpha).

    Parameters
    ----------
    res : dict
        A record of :func:`alpha_sweep`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig, axes = panels(2)
    a = np.asarray(res["alphas"])
    for ax, key, label in ((axes[0], "recovery_minus_equal", r"$\Delta\,\|\hat W - W^*\|_F$"),
                           (axes[1], "cumulative_delta_minus_equal", r"$\Delta \sum_k \|\delta_k\|$")):
        mean, sd = np.asarray(res[key]["mean"]), np.asarray(res[key]["sd"])
        ax.fill_between(a, mean - sd, mean + sd, color="0.85", lw=0)
        sc = ax.scatter(a, mean, c=res["T1"], cmap="viridis", s=14, zorder=3)
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xlabel(r"$\alpha$")
        ax.set_ylabel(label + r"  (minus $\alpha = 0$)")
    fig.colorbar(sc, ax=axes, label=r"$T_1(\alpha)$, steps of the first component")
    return fig


def plot_fig5(res: dict):
    """Fig. 5: singular values of W* and of Y for each profile.

    Parameters
    ----------
    res : dict
        A record of :func:`spectra`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig, axes = panels(3)
    for ax, (prof, sv) in zip(axes, res["profiles"].items()):
        ax.semilogy(np.arange(1, len(sv["W_star"]) + 1), sv["W_star"], "o", label=r"$W^*$", ms=4)
        ax.semilogy(np.arange(1, len(sv["Y"]) + 1), sv["Y"], "x", label=r"$Y = W^* X$", ms=4)
        ax.set_title(prof)
        ax.set_xlabel("index $k$")
    axes[0].set_ylabel(r"$\sigma_k$")
    axes[0].legend()
    return fig


def plot_profiles(res: dict):
    """Fig. 6: relative recovery error against steps, one panel per profile.

    Parameters
    ----------
    res : dict
        A record of :func:`profiles`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig, axes = panels(3, sharey=True)
    for ax, (prof, paths) in zip(axes, res["profiles"].items()):
        _paths_panel(ax, paths)
        ax.set_title(f"{prof} (T = {paths['T']})")
    axes[0].set_ylabel(r"$\|W_t - W^*\|_F\,/\,\|W^*\|_F$")
    axes[0].legend(title="schedule")
    return fig


def plot_fig7(res: dict):
    """Fig. 7: final recovery error against the noise level, per schedule, Gaussian and sparse.

    Parameters
    ----------
    res : dict
        A record of :func:`noise_levels`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig, axes = panels(2)
    for ax, (kind, block) in zip(axes, res["kinds"].items()):
        for name, rows in block["schedules"].items():
            y = {k: np.array([row[k] for row in rows["recovery"]]) / block["w_norm"]
                 for k in ("mean", "sd")}
            _band(ax, y, x=block["levels"], color=COLOURS[name], label=name, marker="o", ms=3)
        ax.set_title(f"{kind} noise ({block['trials']} trials)")
        ax.set_xlabel(r"noise level $\kappa$")
    axes[0].set_ylabel(r"final $\|\hat W - W^*\|_F\,/\,\|W^*\|_F$")
    axes[0].legend(title="schedule")
    return fig


def plot_fig8(res: dict):
    """Fig. 8: the three schedules under each noise, one panel per noise.

    Parameters
    ----------
    res : dict
        A record of :func:`noisy_paths`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig, axes = panels(len(res["panels"]), sharey=True)
    for ax, paths in zip(axes, res["panels"]):
        _paths_panel(ax, paths, markers=False)
        ax.set_title(f"{paths['noise']}, $\\kappa$ = {paths['level']}", fontsize=9)
    _label_first(axes, "schedule")
    return fig


def plot_fig9(res: dict):
    """Fig. 9: the three profiles under Gaussian noise (more-first), one panel per kappa.

    Parameters
    ----------
    res : dict
        A record of :func:`noisy_profiles`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig, axes = panels(len(res["panels"]), sharey=True)
    for ax, panel in zip(axes, res["panels"]):
        for prof, paths in panel["profiles"].items():
            y = {k: np.asarray(v) / paths["w_norm"]
                 for k, v in paths["schedules"]["more-first"]["recovery_error"].items()}
            _band(ax, y, label=prof)
        ax.set_yscale("log")
        ax.set_xlabel("cumulative gradient steps")
        ax.set_title(f"gaussian, $\\kappa$ = {panel['level']}", fontsize=9)
    _label_first(axes, "profile")
    return fig


def _label_first(axes, legend_title: str):
    axes[0].set_ylabel(r"$\|W_t - W^*\|_F\,/\,\|W^*\|_F$")
    axes[0].legend(title=legend_title, fontsize=7)


def plot_fig10(res: dict):
    """Fig. 10: steps needed to reach each relative recovery error, per schedule.

    Parameters
    ----------
    res : dict
        A record of :func:`threshold_steps`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    th = res["thresholds"]
    fig, (ax,) = panels(1)
    levels = th["levels"]
    width = 0.8 / len(th["schedules"])
    top = res["T"]
    for j, (name, first) in enumerate(th["schedules"].items()):
        x = np.arange(len(levels)) + (j - 1) * width
        for xi, v in zip(x, first):
            if v is None:
                ax.bar(xi, top, width, color="none", edgecolor=COLOURS[name], hatch="//")
                ax.text(xi, top, "not\nreached", ha="center", va="bottom", fontsize=6)
            else:
                ax.bar(xi, v, width, color=COLOURS[name])
        ax.bar(np.nan, 0, color=COLOURS[name], label=name)
    ax.set_xticks(np.arange(len(levels)), [f"{v:g}" for v in levels])
    ax.set_xlabel(r"threshold on $\|W_t - W^*\|_F\,/\,\|W^*\|_F$")
    ax.set_ylabel(f"steps needed (total budget T = {top})")
    ax.legend(title="schedule")
    return fig


#: figure name -> (experiment, plot). Each experiment takes a Setting and returns a dict.
FIGURES = {
    "fig1": (schedule_paths, plot_fig1),
    "alpha": (alpha_sweep, plot_alpha),
    "fig5": (spectra, plot_fig5),
    "fig6": (profiles, plot_profiles),
    "fig7": (noise_levels, plot_fig7),
    "fig8": (noisy_paths, plot_fig8),
    "fig9": (noisy_profiles, plot_fig9),
    "fig10": (threshold_steps, plot_fig10),
}


# ============================================================== saving
def write(figure: str, setting_name: str, out: str | os.PathLike, *, scale: str = "full",
          force: bool = False) -> dict:
    """Run one figure's experiment and save ``out/<setting>/<figure>.{json,png,pdf}``.

    A figure whose JSON exists already is not recomputed (unless ``force``); its images are
    redrawn from the saved numbers when missing.

    Parameters
    ----------
    figure : str
        A key of :data:`FIGURES` ("fig1", "alpha", "fig5", ..., "fig10").
    setting_name : {"code", "paper"}
        The reproduction (:func:`setting`).
    out : str or path-like
        The output folder.
    scale : {"full", "quick"}, optional
        The run size (default "full").
    force : bool, optional
        Recompute the experiment and redraw the images even if saved (default False).

    Returns
    -------
    dict
        The saved dict, with the provenance under ``"run"``.
    """
    if figure not in FIGURES:
        raise ValueError(f"figure must be one of {sorted(FIGURES)}, got {figure!r}")
    s = setting(setting_name, scale=scale)
    folder = Path(out) / setting_name
    target = folder / f"{figure}.json"
    if target.exists() and not force:
        res = results.read_json(target)
    else:
        start = time.perf_counter()
        res = FIGURES[figure][0](s)
        res["run"] = {**results.provenance(), "scale": scale, "wall_seconds": time.perf_counter() - start,
                      "command": f"python -m onerank synthetic {figure} --setting {setting_name} "
                                 f"--scale {scale} --out {out}"}
        results.atomic_write(target, lambda tmp: Path(tmp).write_text(json.dumps(res, indent=1)))
    plt = _plt()
    for ext in ("png", "pdf"):
        image = folder / f"{figure}.{ext}"
        if force or not image.exists():
            fig = FIGURES[figure][1](res)
            results.atomic_write(image, lambda tmp: fig.savefig(tmp, dpi=150, format=ext))
            plt.close(fig)
    return res
