"""The synthetic experiments of the paper (Section 5.1, Appendix E), one function per figure.

Two settings are reproduced (see :data:`SETTINGS`): ``code``, the authors' public
scripts (MahiAV/ORAT), with their protocol (one instance, trials that differ only in the
initial point; ``code-instances`` is the variant with a new instance per trial), and
``paper``, Appendix E of the paper's text (arXiv v1) as printed, completed by the book's
own choices where the paper prints nothing (n, the budgets, the common Frobenius norm,
the step size; see :data:`SETTINGS`). The paper setting adds a budget sweep
(:func:`budget_sweep`), its readings of the ambiguous prints (:func:`variants`) and the
simultaneous baseline of eq. (4) (:func:`simultaneous_baseline`). The alpha
sweep and the third panel of Fig. 1 (cumulative numerical error) come from the
authors' notes and code, not from arXiv v1; :func:`allocation_rules` (budgets chosen
by a bound, against the alpha family) is the book's own. Each experiment function
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

from . import _validate, allocation, batched, config, problems, results, schedules
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
    protocol : "instances" (trial t draws its own instance, seed ``seed + t``) or
        "authors" (the authors' scripts: one instance from ``seed``; the trials differ only
        in the initial b, drawn from a generator seeded with the trial number).
    noise_reading : "sd" (kappa is the standard deviation of a noise entry) or "variance"
        (the printed N(0, kappa): the standard deviation is sqrt(kappa)).
    frobenius : float or None, every profile's spectrum scaled to this ||W*||_F in every
        figure (Appendix E's normalisation); None keeps the raw spectra.
    budgets, budgets_noise : totals T of the budget sweep (:func:`budget_sweep`) for the
        noiseless and the noisy problems; empty: no sweep.
    n_alt : the second number of samples of :func:`variants` (None: no such variant).

    The step size is ``eta`` for unit-norm rows or columns of X. For a standard Gaussian
    X (``x_norm = "none"``) the runs use ``eta / n`` (:func:`step_size`): eq. (5) on
    (Y, X) with ``eta / n`` makes exactly the iterates of eq. (5) on (Y / sqrt(n),
    X / sqrt(n)) with ``eta``, and X / sqrt(n) has rows of norm about 1.
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
    protocol: str = "instances"
    noise_reading: str = "sd"
    frobenius: float | None = None
    budgets: tuple = ()
    budgets_noise: tuple = ()
    n_alt: int | None = None

    def __post_init__(self):
        """Every field checked when a setting is made (``dataclasses.replace`` included)."""
        v = _validate
        for f in ("m", "d", "n", "r", "trials", "T", "T_noise", "T_profiles", "T_threshold",
                  "sparse_trials", "alphas"):
            v.integer(getattr(self, f), f, minimum=1, maximum=2**40)
        if self.r > min(self.m, self.d):
            raise ValueError(f"r must be <= min(m, d) = {min(self.m, self.d)}, got {self.r}")
        v.real(self.eta, "eta", positive=True)
        v.real(self.tol, "tol", nonnegative=True)
        v.seed(self.seed, "seed")
        v.flag(self.rescale_profiles, "rescale_profiles")
        v.choice(self.x_norm, "x_norm", ("rows", "columns", "none"))
        v.choice(self.protocol, "protocol", ("authors", "instances"))
        v.choice(self.noise_reading, "noise_reading", ("sd", "variance"))
        sf = v.real(self.sparse_fraction, "sparse_fraction", positive=True)
        if sf > 1:
            raise ValueError(f"sparse_fraction must be in (0, 1], got {sf}")
        if self.frobenius is not None:
            v.real(self.frobenius, "frobenius", positive=True)
        if self.n_alt is not None:
            v.integer(self.n_alt, "n_alt", minimum=1)
        for f in ("noise_levels", "sparse_levels", "fig9_levels"):
            for x in getattr(self, f):
                v.real(x, f, nonnegative=True)
        for f in ("budgets", "budgets_noise"):
            if getattr(self, f):
                v.counts(getattr(self, f), f, minimum=1, what="totals")


#: ||W*||_F of the raw exponential profile of rank 20 (100 down to 1, geometric): the
#: common norm of the paper setting's profiles. Appendix E normalises the three profiles to
#: one Frobenius norm without printing which; this choice leaves the exponential instances
#: (Figs. 1, 7, 8) exactly as printed.
EXPONENTIAL_NORM = float(np.linalg.norm(np.geomspace(100.0, 1.0, 20)))

#: The reproductions at their full size.
#:
#: ``code``: the values of the authors' scripts and their protocol (one instance from seed
#: 42, trials that differ only in the initial point). ``code-instances``: the same with a
#: new instance per trial (the book's earlier protocol; its means are for a different
#: experiment).
#:
#: ``paper``: Appendix E as printed: W* 500 x 1000 of rank 20, 5 trials, the three
#: profiles normalised to one Frobenius norm (:data:`EXPONENTIAL_NORM`), X standard
#: Gaussian (Appendix E; Section 2's default, unit-norm rows, is a variant), noise
#: N(0, kappa) read as printed, kappa a variance (the standard-deviation reading is a
#: variant), Gaussian kappa in {0.01, 0.05, 0.1} and 5% sparse kappa in {1, 10}. The rest
#: is the book's choice: n = 2500 (the ratio 2.5 of the authors' code; n = 5000 is a
#: variant), the step size (see :class:`Setting`), the number of alphas (the alpha sweep
#: is not in the paper) and the budgets: the paper prints none, so the figures use
#: T = 2000 (10,000 for Fig. 10, whose caption implies at least that), and the budget
#: sweep runs T from 500 to 20,000.
SETTINGS = {
    "code": Setting("code", m=100, d=200, n=500, r=20, x_norm="columns", trials=3,
                    protocol="authors"),
    "code-instances": Setting("code-instances", m=100, d=200, n=500, r=20, x_norm="columns",
                              trials=3),
    "paper": Setting("paper", m=500, d=1000, n=2500, r=20, x_norm="none", trials=5, T=2000,
                     T_noise=2000, T_profiles=2000, T_threshold=10000, rescale_profiles=False,
                     noise_levels=(0.0, 0.01, 0.05, 0.1), sparse_levels=(0.0, 1.0, 10.0),
                     sparse_trials=5,
                     fig8_noise=(("gaussian", 0.01), ("gaussian", 0.05), ("gaussian", 0.1),
                                 ("sparse", 1.0), ("sparse", 10.0)),
                     fig9_levels=(0.01, 0.05, 0.1), alphas=21, noise_reading="variance",
                     frobenius=EXPONENTIAL_NORM,
                     budgets=(500, 1000, 2000, 5000, 10000, 20000),
                     budgets_noise=(500, 2000, 10000), n_alt=5000),
}


def setting(name: str, *, scale: str | None = None) -> Setting:
    """The setting ``name`` sized for the run size.

    ``full`` returns it as in :data:`SETTINGS`. ``quick`` keeps the code settings' sizes
    (they run in seconds) with 41 alphas and 5 sparse trials, and shrinks the paper setting
    by 5 in m, d and n (100 x 200, n = 500) with 2 trials (2 sparse trials), budgets
    divided by 4 (figures at T = 500, Fig. 10 at 2500, the sweep over 125 to 5000 steps).

    Parameters
    ----------
    name : {"code", "code-instances", "paper"}
        The reproduction.
    scale : {"quick", "full"}, optional
        The run size (default :func:`onerank.config.scale`).

    Returns
    -------
    Setting
        The sized setting.
    """
    _validate.choice(name, "name (the setting)", SETTINGS)
    scale = config.scale() if scale is None else scale
    if scale not in ("quick", "full"):
        raise ValueError(f"scale must be 'quick' or 'full', got {scale!r}")
    s = SETTINGS[name]
    if scale == "full":
        return s
    if name != "paper":
        return replace(s, alphas=41, sparse_trials=5)
    q = lambda T: max(1, T // 4)                                    # noqa: E731
    return replace(s, m=s.m // 5, d=s.d // 5, n=s.n // 5, trials=2, sparse_trials=2,
                   T=q(s.T), T_noise=q(s.T_noise), T_profiles=q(s.T_profiles),
                   T_threshold=q(s.T_threshold), budgets=tuple(q(T) for T in s.budgets),
                   budgets_noise=tuple(q(T) for T in s.budgets_noise),
                   n_alt=None if s.n_alt is None else s.n_alt // 5)


def _check_setting(s) -> None:
    if not isinstance(s, Setting):
        raise TypeError(f"s must be a Setting (onerank.synthetic.setting), got {type(s).__name__}")


def step_size(s: Setting) -> float:
    """The step size of eq. (5) in setting ``s``: ``s.eta``, divided by n for a standard
    Gaussian X (``x_norm = "none"``; see :class:`Setting`).

    Parameters
    ----------
    s : Setting
        The reproduction.

    Returns
    -------
    float
        eta_a = eta_b.
    """
    _check_setting(s)
    return s.eta / s.n if s.x_norm == "none" else s.eta


def noise_sd(s: Setting, level: float) -> float:
    """The standard deviation of a noise entry for the printed level kappa = ``level``:
    ``level`` itself, or sqrt(level) when ``s.noise_reading == "variance"``.

    Parameters
    ----------
    s : Setting
        The reproduction.
    level : float
        kappa, >= 0.

    Returns
    -------
    float
        The standard deviation.
    """
    _check_setting(s)
    level = _validate.real(level, "level", nonnegative=True)
    return float(np.sqrt(level)) if s.noise_reading == "variance" else float(level)


def problem(s: Setting, *, trial: int = 0, profile: str = "exponential", noise: str = "none",
            level: float = 0.0, rescale: bool = False) -> problems.Problem:
    """Instance ``trial`` of setting ``s``.

    Seed ``s.seed + trial``, or ``s.seed`` for every trial under the authors' protocol
    (``s.protocol == "authors"``, where trials differ only in the initial point). X depends
    on the seed only, so the profiles and noise levels of one trial share X.

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
        The printed noise level kappa (default 0); the standard deviation of an entry is
        :func:`noise_sd`.
    rescale : bool, optional
        Scale the spectrum to ||S||_2^2 = r (default False); ``s.frobenius``, when set,
        scales every spectrum to that norm instead.

    Returns
    -------
    Problem
        W* (m, d), X (d, n), Y (m, n) of the setting's sizes (:func:`onerank.problems.make_problem`).
    """
    _check_setting(s)
    _validate.flag(rescale, "rescale")
    _validate.choice(noise, "noise", ("none", "gaussian", "sparse"))
    trial = _validate.integer(trial, "trial", minimum=0, maximum=2**31)
    level = _validate.real(level, "level", nonnegative=True)
    norm = s.frobenius if s.frobenius is not None else (np.sqrt(s.r) if rescale else None)
    seed = s.seed if s.protocol == "authors" else s.seed + trial
    return problems.make_problem(
        s.m, s.d, s.n, s.r, profile=profile, noise=noise if level > 0 else "none",
        noise_level=noise_sd(s, level), x_norm=s.x_norm, seed=seed,
        frobenius_norm=norm, sparse_fraction=s.sparse_fraction)


def _run(s: Setting, probs, budgets, *, seeds=None, trace=False, exact=True, progress=False):
    """batched.deflate_many over problems x budgets (schedules); seeds default to the trial numbers."""
    return batched.deflate_many(
        np.stack([p.Y for p in probs]), np.stack([p.X for p in probs]), budgets,
        W_star=np.stack([p.W_star for p in probs]),
        seeds=np.arange(len(probs)) if seeds is None else seeds, eta=step_size(s),
        tol=s.tol, exact=exact, trace=trace, progress=progress)


def _budgets(s: Setting, T: int, alphas) -> np.ndarray:
    return np.stack([schedules.allocate(T, s.r, a) for a in alphas])


def _stats(x, axis=0) -> dict:
    x = np.asarray(x, dtype=float)
    return {"mean": np.mean(x, axis=axis).tolist(), "sd": np.std(x, axis=axis).tolist()}


# ============================================================== experiments
def schedule_paths(s: Setting, *, T: int | None = None, profile: str = "exponential",
                   noise: str = "none", level: float = 0.0, rescale: bool = False,
                   trials: int | None = None, names=tuple(schedules.NAMED),
                   exact: bool = True) -> dict:
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
    exact : bool, optional
        Also compute the exact minimisers, for ``cumulative_delta`` (default True).

    Returns
    -------
    dict
        Per schedule (under ``"schedules"``), mean and sd over trials of ``recovery_error``
        ||W_t - W*||_F, ``train_error`` ||Y - W_t X||_F and ``cumulative_delta``
        sum_{j<k} ||delta_j|| + ||b a^T - b*_k a*_k^T|| at every step 0..T (lists of length
        T + 1; ``cumulative_delta`` only with ``exact``); the ``starts`` of the components, the ``budgets``, the ``final_*`` values per
        trial (lists of length ``trials``); and ``w_norm`` = ||W*||_F, with the setting and
        the arguments.
    """
    _check_setting(s)
    _validate.flag(exact, "exact")
    spec = dict(profile=profile, noise=noise, level=level, rescale=rescale)
    return _many_paths(s, [spec], T=T, trials=trials, names=names, exact=exact)[0]


def _many_paths(s: Setting, specs: list, *, T=None, trials=None, names=tuple(schedules.NAMED),
                exact=False) -> list:
    """:func:`schedule_paths` for several problem specifications in one batched run."""
    T = s.T if T is None else _validate.integer(T, "T", minimum=1)
    trials = s.trials if trials is None else _validate.integer(trials, "trials", minimum=1)
    if not names or any(name not in schedules.NAMED for name in names):
        raise ValueError(f"names must be schedules among {sorted(schedules.NAMED)}, got {names!r}")
    _validate.fits(trials * len(specs) * s.m * (s.n + s.d), f"{trials} trials of the setting")
    probs = [problem(s, trial=t, **spec) for spec in specs for t in range(trials)]
    budgets = _budgets(s, T, [schedules.NAMED[name] for name in names])
    res = _run(s, probs, budgets, trace=True, exact=exact, seeds=np.tile(np.arange(trials), len(specs)))
    outs = []
    for i, spec in enumerate(specs):
        rows = slice(i * trials, (i + 1) * trials)
        out = {"setting": asdict(s), "T": T, **spec, "trials": trials,
               "w_norm": float(np.linalg.norm(probs[i * trials].W_star)), "schedules": {},
               "fallbacks": res.fallbacks}
        for j, name in enumerate(names):
            tr = {k: res.trace[k][rows, j] for k in ("recovery_error", "train_error", "cumulative_delta")
                  if k in res.trace}
            out["schedules"][name] = {
                "alpha": schedules.NAMED[name], "budgets": budgets[j].tolist(),
                "starts": res.trace["starts"][i * trials, j].tolist(),
                **{k: _stats(v) for k, v in tr.items()},
                "final_recovery": res.recovery_errors[rows, j, -1].tolist(),
                "final_train": res.train_errors[rows, j, -1].tolist(),
                "recovery_per_component": _stats(res.recovery_errors[rows, j]),
                "early_stops": int((res.steps[rows, j] < budgets[j]).sum()),
            }
            if exact:
                out["schedules"][name].update(
                    final_cumulative_delta=res.delta_norms[rows, j].sum(axis=1).tolist(),
                    delta_per_component=_stats(res.delta_norms[rows, j]))
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
    _check_setting(s)
    _validate.flag(progress, "progress")
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


#: The bounds whose allocation rules :func:`allocation_rules` measures (the book's part 2
#: and two forms of Theorem 1; see :mod:`onerank.allocation`).
RULES = ("additive", "paper", "corrected")


def allocation_rules(s: Setting, *, totals=None, rules=RULES, draws: int = 3,
                     progress: bool = False) -> dict:
    """The budgets a bound chooses, run, beside the whole alpha family.

    The book's own experiment (chapter "Budgets from a bound"), not the paper's or the authors'
    notes'. Noiseless raw exponential profile (the alpha sweep's problem), every trial.
    For each trial, :func:`onerank.allocation.step_curves` predicts every step's error as
    a function of its budget on the exact residuals; each rule splits the total T by
    :func:`onerank.allocation.split` so as to minimise what its bound charges
    (:func:`onerank.allocation.costs`). Two predictions are used: from the initial points
    the run itself uses ("informed"), and averaged over ``draws`` other initial points
    ("blind": the expected charge, with no knowledge of the run's draws). Algorithm 2 is
    then run with those budgets and with every alpha of linspace(-2, 2, s.alphas).

    Parameters
    ----------
    s : Setting
        The sizes and conventions of the reproduction (:func:`setting`).
    totals : sequence of ints, optional
        The totals T (default: ``s.T``, the figures' total, and ``4 s.T``).
    rules : sequence of str, optional
        Bounds of :data:`onerank.allocation.BOUNDS` (default :data:`RULES`).
    draws : int >= 1, optional
        Initial points the blind prediction averages over (default 3); seeds
        ``2**20 + trial * draws + j``, never a run's.
    progress : bool, optional
        Show progress bars (default False).

    Returns
    -------
    dict
        ``setting``, ``alphas``, ``rules``, ``draws``, ``trials``, ``totals`` and ``runs``:
        per total, ``T``, ``alpha_train`` and ``alpha_recovery`` (trials x alphas final
        errors); for the informed rules ``rule_train``, ``rule_recovery`` (per rule, one
        final error per trial), ``rule_budgets`` (per rule, trials x r) and
        ``rule_predicted`` (the bound's predicted cost sum at those budgets), and the
        same four for the blind rules (``blind_*``); ``curve_stop`` (trials x r, the step
        at which each informed curve stopped).
    """
    _check_setting(s)
    _validate.flag(progress, "progress")
    draws = _validate.integer(draws, "draws", minimum=1, maximum=2**10)
    totals = [s.T, 4 * s.T] if totals is None else _validate.counts(
        totals, "totals", minimum=2 * s.r, what="totals")
    if isinstance(rules, str) or not rules:
        raise ValueError(f"rules must be a non-empty sequence of names from "
                         f"{allocation.BOUNDS}, got {rules!r}")
    for rule in rules:
        _validate.choice(rule, "rules", allocation.BOUNDS)
    alphas = np.linspace(-2.0, 2.0, s.alphas)
    family = {T: _budgets(s, T, alphas) for T in totals}
    longest = max(totals) - 2 * (s.r - 1)
    fields = [f"{kind}_{k}" for kind in ("rule", "blind")
              for k in ("train", "recovery", "budgets", "predicted")]
    runs = [{"T": T, "alpha_train": [], "alpha_recovery": [],
             **{f: {rule: [] for rule in rules} for f in fields}} for T in totals]
    stops = []
    A = len(alphas)
    for trial in config.progress(range(s.trials), enabled=progress, desc="trials"):
        p = problem(s, trial=trial)
        seeds = [trial] + [2**20 + trial * draws + j for j in range(draws)]
        curves = allocation.step_curves(p.Y, p.X, s.r, longest, eta=step_size(s), tol=s.tol,
                                        seed=seeds)
        stops.append(curves["stopped"][0].tolist())
        charged = {}
        for rule in rules:
            c = allocation.costs(curves, rule)
            charged[rule] = {"rule": c[0], "blind": c[1:].mean(0)}
        for run, T in zip(runs, totals):
            chosen = [(kind, rule, allocation.split(charged[rule][kind], T))
                      for kind in ("rule", "blind") for rule in rules]
            res = _run(s, [p], np.concatenate([family[T], np.stack([t for *_, t in chosen])]),
                       seeds=[trial], exact=False)
            train, rec = res.train_errors[0, :, -1], res.recovery_errors[0, :, -1]
            run["alpha_train"].append(train[:A].tolist())
            run["alpha_recovery"].append(rec[:A].tolist())
            for i, (kind, rule, t) in enumerate(chosen):
                run[f"{kind}_train"][rule].append(float(train[A + i]))
                run[f"{kind}_recovery"][rule].append(float(rec[A + i]))
                run[f"{kind}_budgets"][rule].append(t.tolist())
                run[f"{kind}_predicted"][rule].append(
                    float(charged[rule][kind][np.arange(s.r), t].sum()))
    return {"setting": asdict(s), "alphas": alphas.tolist(), "rules": list(rules),
            "draws": draws, "trials": s.trials, "totals": list(totals), "runs": runs,
            "curve_stop": stops}


def allocation_summary(res: dict) -> list:
    """The rows of the allocation tables: per total and error, the family against the rules.

    Parameters
    ----------
    res : dict
        A record of :func:`allocation_rules` (live or read back from JSON).

    Returns
    -------
    list of dict
        One row per total T and per final error (``key``: "train" or "recovery"), with
        ``setting``, ``T``, ``key``; ``best`` and ``alpha``, the alpha family's lowest mean
        over the trials and where it is reached; ``equal``, the mean at alpha = 0; and, per
        ``(kind, rule)`` with kind "rule" (informed) or "blind", the rule's mean.
    """
    if not isinstance(res, dict) or not {"alphas", "runs", "rules", "setting"} <= set(res):
        raise TypeError("res must be a record of onerank.synthetic.allocation_rules")
    a = np.asarray(res["alphas"])
    rows = []
    for run in res["runs"]:
        for key in ("train", "recovery"):
            mean = np.asarray(run[f"alpha_{key}"], dtype=float).mean(0)   # over the trials
            i = int(np.argmin(mean))
            row = {"setting": res["setting"]["name"], "T": run["T"], "key": key,
                   "best": float(mean[i]), "alpha": float(a[i]),
                   "equal": float(mean[int(np.argmin(np.abs(a)))])}
            for kind in ("rule", "blind"):
                for rule in res["rules"]:
                    row[kind, rule] = float(np.mean(run[f"{kind}_{key}"][rule]))
            rows.append(row)
    return rows


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
    _check_setting(s)
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
    _check_setting(s)
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
    _check_setting(s)
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
    _check_setting(s)
    specs = [dict(noise=kind, level=level) for kind, level in s.fig8_noise]
    return {"setting": asdict(s), "panels": _many_paths(s, specs)}


def noisy_profiles(s: Setting) -> dict:
    """Fig. 9: every profile under Gaussian noise (each kappa of ``s.fig9_levels``).

    More-first schedule, budget ``s.T_noise``, the spectra of :func:`problem` (raw in the
    code settings, as the authors' script; normalised in the paper setting).

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
    _check_setting(s)
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
    _check_paths(paths)
    if isinstance(levels, (str, bytes)) or not hasattr(levels, "__iter__"):
        raise TypeError(f"levels must be a list of relative errors, got {levels!r}")
    levels = [_validate.real(v, "levels", positive=True) for v in levels]
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
    _check_setting(s)
    paths = schedule_paths(s, T=s.T_threshold, profile="power", rescale=s.rescale_profiles,
                           exact=False)
    return {"setting": asdict(s), "T": s.T_threshold, "paths": paths, "thresholds": thresholds(paths)}


def _spec_key(spec: dict) -> tuple:
    return (spec.get("profile", "exponential"), spec.get("noise", "none"), float(spec.get("level", 0.0)))


_FINALS = {}         # (setting, specs, totals, names, trials) -> records, within one process


def _finals(s: Setting, specs: list, totals, names, *, trials: int, progress=False) -> list:
    """Final recovery and training errors of every spec x total x schedule (no trace).

    One batched run per total: the runs of one problem (its schedules) share its
    coordinates. Returns one record per spec: ``budgets``, ``trials``, ``w_norm`` and, per
    schedule, ``recovery`` and ``train``: lists (one per total) of per-trial lists.
    """
    key = repr((asdict(s), specs, tuple(totals), tuple(names), trials))
    if key in _FINALS:                  # the budget sweep and the eq. (4) baseline share runs
        return list(_FINALS[key])
    probs = [problem(s, trial=t, **spec) for spec in specs for t in range(trials)]
    seeds = np.tile(np.arange(trials), len(specs))
    rec = np.zeros((len(probs), len(totals), len(names)))
    train = np.zeros_like(rec)
    # one batched run per total: a run that has finished would still cost its share of
    # every later step, so totals far apart are not run on one clock
    for i_T, T in enumerate(totals):
        budgets = np.stack([schedules.allocate(T, s.r, schedules.NAMED[name]) for name in names])
        res = _run(s, probs, budgets, exact=False, seeds=seeds, progress=progress)
        rec[:, i_T] = res.recovery_errors[:, :, -1]
        train[:, i_T] = res.train_errors[:, :, -1]
    out = []
    for i, spec in enumerate(specs):
        rows = slice(i * trials, (i + 1) * trials)
        rec_i, train_i = rec[rows], train[rows]
        out.append({"profile": spec.get("profile", "exponential"), "noise": spec.get("noise", "none"),
                    "level": float(spec.get("level", 0.0)), "budgets": list(totals), "trials": trials,
                    "w_norm": float(np.linalg.norm(probs[i * trials].W_star)),
                    "schedules": {name: {"recovery": rec_i[:, :, j].T.tolist(),
                                         "train": train_i[:, :, j].T.tolist()}
                                  for j, name in enumerate(names)}})
    _FINALS[key] = out
    return list(out)


def budget_sweep(s: Setting, *, progress: bool = False) -> dict:
    """Final errors of the runs behind every printed claim, over a sweep of total budgets.

    The paper prints no budget for Figs. 1 and 6-9, so each claim is tested at every total
    T of ``s.budgets`` (noiseless problems: the three profiles, Figs. 1, 6) and of
    ``s.budgets_noise`` (the noisy problems of Figs. 7-9: the exponential profile under
    every noise of ``s.fig8_noise`` and every level of ``s.noise_levels`` and
    ``s.sparse_levels``, all three schedules; the uniform and power profiles under the
    Gaussian levels of ``s.fig9_levels``, more-first only, as Fig. 9). Every total is
    split by the three schedules of :data:`onerank.schedules.NAMED`.

    Parameters
    ----------
    s : Setting
        The reproduction (:func:`setting`), with non-empty ``budgets``.
    progress : bool, optional
        Show progress bars (default False).

    Returns
    -------
    dict
        ``budgets``, ``budgets_noise`` and ``specs``: one record per problem specification
        (``profile``, ``noise``, ``level``, ``trials``, ``w_norm``, the ``budgets`` it ran
        and, per schedule, ``recovery`` and ``train``: per total, the final errors of every
        trial).
    """
    _check_setting(s)
    if not s.budgets:
        raise ValueError(f"setting {s.name!r} has no budget sweep (empty budgets)")
    names = tuple(schedules.NAMED)
    quiet = [dict(profile=p) for p in problems.PROFILES]
    noisy, seen = [], {_spec_key(q) for q in quiet}
    for kind, level in list(s.fig8_noise) + [("gaussian", k) for k in s.noise_levels] + \
            [("sparse", k) for k in s.sparse_levels]:
        spec = dict(noise=kind, level=level)
        if level > 0 and _spec_key(spec) not in seen:
            seen.add(_spec_key(spec))
            noisy.append(spec)
    fig9 = [dict(profile=p, noise="gaussian", level=k) for k in s.fig9_levels
            for p in problems.PROFILES if p != "exponential"]
    specs = _finals(s, quiet, s.budgets, names, trials=s.trials, progress=progress)
    if s.budgets_noise:
        specs += _finals(s, noisy, s.budgets_noise, names, trials=s.trials, progress=progress)
        specs += _finals(s, fig9, s.budgets_noise, ("more-first",), trials=s.trials, progress=progress)
    return {"setting": asdict(s), "budgets": list(s.budgets), "budgets_noise": list(s.budgets_noise),
            "specs": specs}


def variants(s: Setting, *, progress: bool = False) -> dict:
    """The headline claims under the other readings of the printed setting.

    Each variant changes one thing in ``s``: X with unit-norm rows (Section 2's default)
    instead of standard Gaussian (or back), kappa read as a standard deviation instead of
    a variance (or back), and n = ``s.n_alt`` instead of ``s.n``. Each runs the
    exponential profile without noise (Fig. 1), with the largest Gaussian and the largest
    sparse level (Figs. 7, 8), over the totals ``s.budgets_noise``, all three schedules.

    Parameters
    ----------
    s : Setting
        The reproduction (:func:`setting`), with non-empty ``budgets_noise``.
    progress : bool, optional
        Show progress bars (default False).

    Returns
    -------
    dict
        ``variants``: one dict per variant with its ``label``, the changed ``field`` and
        ``value``, and ``specs`` as in :func:`budget_sweep`.
    """
    _check_setting(s)
    if not s.budgets_noise:
        raise ValueError(f"setting {s.name!r} has no budget sweep (empty budgets_noise)")
    gauss = max(k for k in s.noise_levels) if s.noise_levels else 0.0
    sparse = max(k for k in s.sparse_levels) if s.sparse_levels else 0.0
    specs = [dict()] + [dict(noise=kind, level=k) for kind, k in (("gaussian", gauss), ("sparse", sparse))
                         if k > 0]
    x_other = "rows" if s.x_norm == "none" else "none"
    reading = "sd" if s.noise_reading == "variance" else "variance"
    out = []
    for label, field, value in (
            (f"X {'unit-norm rows' if x_other == 'rows' else 'standard Gaussian'}", "x_norm", x_other),
            (f"kappa read as {'standard deviation' if reading == 'sd' else 'variance'}",
             "noise_reading", reading),
            (f"n = {s.n_alt}", "n", s.n_alt)):
        if value is None:
            continue
        v = replace(s, **{field: value})
        run = specs if field != "n" else specs[:1] + specs[1:2]
        if field == "noise_reading":
            run = specs[1:]
        out.append({"label": label, "field": field, "value": value,
                    "specs": _finals(v, run, s.budgets_noise, tuple(schedules.NAMED), trials=s.trials,
                                     progress=progress)})
    return {"setting": asdict(s), "budgets": list(s.budgets_noise), "variants": out}


def simultaneous_baseline(s: Setting, *, progress: bool = False) -> dict:
    """Eq. (4): all r components by simultaneous factorised gradient descent, against Algorithm 2.

    The three noiseless profiles, every trial, the same initial b's as the sequential runs
    (:func:`onerank.simultaneous.factorised_gd`). The simultaneous run is given the
    compute of the largest sequential total of ``s.budgets``, counted in flops
    (:func:`onerank.simultaneous.equal_compute_steps`), and its errors are recorded along
    the way, so any smaller sequential total can be compared at equal compute. The
    sequential finals come from :func:`budget_sweep` (same problems and seeds).

    Parameters
    ----------
    s : Setting
        The reproduction (:func:`setting`), with non-empty ``budgets``.
    progress : bool, optional
        Show a progress bar (default False).

    Returns
    -------
    dict
        ``flops_sequential_step``, ``flops_simultaneous_step``; per profile under
        ``"profiles"``: ``iterations`` (recorded), ``flops`` (of each recorded iteration),
        ``recovery`` and ``train`` (per trial, per recorded iteration), ``w_norm``; and
        ``sequential``: the budget-sweep record of the same profiles.
    """
    _check_setting(s)
    from . import simultaneous

    if not s.budgets:
        raise ValueError(f"setting {s.name!r} has no budget sweep (empty budgets)")
    q = min(s.d, s.n)
    T_max = max(s.budgets)
    steps = simultaneous.equal_compute_steps(T_max, s.r, s.m, s.d, s.n)
    every = max(1, steps // 200)
    seq = _finals(s, [dict(profile=p) for p in problems.PROFILES], s.budgets, tuple(schedules.NAMED),
                  trials=s.trials, progress=progress)
    out = {"setting": asdict(s), "steps": steps, "T_max": T_max,
           "flops_sequential_step": simultaneous.sequential_step_flops(s.m, q),
           "flops_simultaneous_step": simultaneous.simultaneous_step_flops(s.m, q, s.r),
           "profiles": {}, "sequential": seq}
    bar = config.progress(total=len(problems.PROFILES) * s.trials, desc="eq. (4) runs", enabled=progress)
    for prof in problems.PROFILES:
        rec, train, its = [], [], None
        for t in range(s.trials):
            p = problem(s, trial=t, profile=prof)
            res = simultaneous.factorised_gd(p.Y, p.X, s.r, steps, eta=step_size(s), seed=t,
                                             W_star=p.W_star, record_every=every)
            rec.append(res.recovery_error.tolist())
            train.append(res.train_error.tolist())
            its = res.iterations.tolist()
            bar.update()
        out["profiles"][prof] = {"iterations": its,
                                 "flops": [i * out["flops_simultaneous_step"] for i in its],
                                 "recovery": rec, "train": train,
                                 "w_norm": float(np.linalg.norm(p.W_star))}
    bar.close()
    return out


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
    _check_paths(paths)
    _validate.choice(key, "key", ("final_recovery", "final_train", "final_cumulative_delta"))
    return {name: np.asarray(sch[key]) for name, sch in paths["schedules"].items()}


def _check_paths(paths) -> None:
    if not isinstance(paths, dict) or not isinstance(paths.get("schedules"), dict):
        raise TypeError("paths must be a schedule-paths record (a dict with a 'schedules' dict), "
                        f"got {type(paths).__name__}")


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


def plot_allocation(res: dict, key: str = "recovery"):
    """The budgets a bound chooses against the alpha family: one panel per total.

    Parameters
    ----------
    res : dict
        A record of :func:`allocation_rules`.
    key : {"recovery", "train"}, optional
        The final error shown (default "recovery").

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    _validate.choice(key, "key", ("recovery", "train"))
    fig, axes = panels(len(res["runs"]), height=2.8)
    axes = np.atleast_1d(axes)
    a = np.asarray(res["alphas"])
    styles = {"additive": ("tab:green", "-"), "paper": ("tab:red", "--"),
              "corrected": ("tab:purple", ":"), "sharp": ("tab:brown", "-.")}
    labels = {"additive": "book's part 2", "paper": "Theorem 1, eq. (8)",
              "corrected": "Theorem 1, corrected", "sharp": "Theorem 1, sharp"}
    for ax, run in zip(axes, res["runs"]):
        y = np.asarray(run[f"alpha_{key}"])
        ax.fill_between(a, y.min(0), y.max(0), color="0.88", lw=0)
        ax.plot(a, y.mean(0), "k.-", ms=3, lw=0.8, label=r"$\alpha$ family")
        for rule in res["rules"]:
            colour, ls = styles.get(rule, ("tab:grey", "-"))
            ax.axhline(np.mean(run[f"rule_{key}"][rule]), color=colour, ls=ls, lw=1.4,
                       label=labels.get(rule, rule))
        ax.set_yscale("log")
        ax.set(xlabel=r"$\alpha$", title=f"T = {run['T']}")
    axes[0].set_ylabel(r"final $\|\hat W - W^*\|_F$" if key == "recovery"
                       else "final training error")
    axes[0].legend(fontsize=7)
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


def _spec_label(sp: dict) -> str:
    return "no noise" if sp["noise"] == "none" else f"{sp['noise']} {sp['level']:g}"


def _rel_stats(sp: dict, name: str, key: str = "recovery") -> tuple:
    """Mean and sd over trials, per total, of a spec's final error (recovery relative to ||W*||)."""
    v = np.asarray(sp["schedules"][name][key], dtype=float)
    if key == "recovery":
        v = v / sp["w_norm"]
    return v.mean(axis=1), v.std(axis=1)


def _budget_axis(ax, budgets):
    """A log axis of total budgets, ticked at the budgets themselves."""
    from matplotlib.ticker import NullFormatter
    ax.set_xscale("log")
    ax.set_xticks(budgets, [f"{T:g}" if T < 1000 else f"{T / 1000:g}k" for T in budgets], fontsize=7)
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("total budget $T$")


def plot_budgets(res: dict):
    """The budget sweep: final relative recovery error against the total budget T.

    Left: the three schedules, exponential profile, no noise (Fig. 1's claim). Middle: the
    three profiles with more-first (Figs. 6 and 9's claim, noiseless). Right: more-first
    over less-first under each noise of the sweep (Fig. 8's claim holds where below 1).

    Parameters
    ----------
    res : dict
        A record of :func:`budget_sweep`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig, axes = panels(3)
    specs = {(sp["profile"], sp["noise"], sp["level"]): sp for sp in res["specs"]}
    quiet = specs[("exponential", "none", 0.0)]
    T = quiet["budgets"]
    for name in quiet["schedules"]:
        mean, sd = _rel_stats(quiet, name)
        _band(axes[0], {"mean": mean, "sd": sd}, x=T, color=COLOURS[name], label=name, marker="o", ms=3)
    axes[0].set_title("exponential, no noise", fontsize=9)
    axes[0].legend(title="schedule", fontsize=7)
    for prof in ("power", "exponential", "uniform"):
        sp = specs[(prof, "none", 0.0)]
        mean, sd = _rel_stats(sp, "more-first")
        _band(axes[1], {"mean": mean, "sd": sd}, x=sp["budgets"], label=prof, marker="o", ms=3)
    axes[1].set_title("more-first, no noise", fontsize=9)
    axes[1].legend(title="profile", fontsize=7)
    for sp in res["specs"]:
        if sp["profile"] != "exponential" or sp["noise"] == "none" or "less-first" not in sp["schedules"]:
            continue
        more = np.asarray(sp["schedules"]["more-first"]["recovery"]).mean(axis=1)
        less = np.asarray(sp["schedules"]["less-first"]["recovery"]).mean(axis=1)
        axes[2].plot(sp["budgets"], more / less, marker="o", ms=3, label=_spec_label(sp))
    axes[2].axhline(1.0, color="k", lw=0.8)
    axes[2].set_title("exponential under noise", fontsize=9)
    axes[2].set_ylabel("more-first / less-first")
    axes[2].legend(title="noise", fontsize=6)
    for ax in axes:
        _budget_axis(ax, res["budgets"])
    for ax in axes[:2]:
        ax.set_yscale("log")
    axes[0].set_ylabel(r"final $\|\hat W - W^*\|_F\,/\,\|W^*\|_F$")
    return fig


def plot_variants(res: dict):
    """The headline claims under each reading: more-first over less-first (and over equal)
    against T, one panel per variant.

    Parameters
    ----------
    res : dict
        A record of :func:`variants`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig, axes = panels(len(res["variants"]), sharey=True)
    colours = {"none": "k", "gaussian": "tab:green", "sparse": "tab:purple"}
    for ax, var in zip(np.atleast_1d(axes), res["variants"]):
        for sp in var["specs"]:
            sch = sp["schedules"]
            more = np.asarray(sch["more-first"]["recovery"]).mean(axis=1)
            for other, ls in (("less-first", "-"), ("equal", ":")):
                ax.plot(sp["budgets"], more / np.asarray(sch[other]["recovery"]).mean(axis=1),
                        ls=ls, marker="o", ms=3, color=colours[sp["noise"]],
                        label=_spec_label(sp) if other == "less-first" else None)
        ax.axhline(1.0, color="k", lw=0.8)
        _budget_axis(ax, res["budgets"])
        ax.set_title(var["label"], fontsize=9)
        ax.legend(fontsize=6)
    np.atleast_1d(axes)[0].set_ylabel("more-first / less-first (solid)\nmore-first / equal (dotted)")
    return fig


def plot_simultaneous(res: dict):
    """Eq. (4) against Algorithm 2 at equal compute: final relative recovery error against
    flops, one panel per profile (simultaneous: a curve; sequential: one point per total
    and schedule).

    Parameters
    ----------
    res : dict
        A record of :func:`simultaneous_baseline`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig, axes = panels(3, sharey=True)
    seq = {sp["profile"]: sp for sp in res["sequential"]}
    for ax, (prof, sim) in zip(axes, res["profiles"].items()):
        rec = np.asarray(sim["recovery"]) / sim["w_norm"]
        _band(ax, {"mean": rec.mean(0), "sd": rec.std(0)}, x=sim["flops"], color="k",
              label="simultaneous, eq. (4)")
        sp = seq[prof]
        flops = np.asarray(sp["budgets"]) * res["flops_sequential_step"]
        for name in sp["schedules"]:
            mean, sd = _rel_stats(sp, name)
            ax.errorbar(flops, mean, yerr=sd, color=COLOURS[name], marker="o", ms=3, lw=0.8,
                        label=f"sequential, {name}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("flops")
        ax.set_title(prof, fontsize=9)
    axes[0].set_ylabel(r"$\|\hat W - W^*\|_F\,/\,\|W^*\|_F$")
    axes[0].legend(fontsize=6)
    return fig


#: figure name -> (experiment, plot). Each experiment takes a Setting and returns a dict.
FIGURES = {
    "fig1": (schedule_paths, plot_fig1),
    "alpha": (alpha_sweep, plot_alpha),
    "allocation": (allocation_rules, plot_allocation),
    "fig5": (spectra, plot_fig5),
    "fig6": (profiles, plot_profiles),
    "fig7": (noise_levels, plot_fig7),
    "fig8": (noisy_paths, plot_fig8),
    "fig9": (noisy_profiles, plot_fig9),
    "fig10": (threshold_steps, plot_fig10),
    "budgets": (budget_sweep, plot_budgets),
    "variants": (variants, plot_variants),
    "simultaneous": (simultaneous_baseline, plot_simultaneous),
}

#: The figures that need a budget sweep (``Setting.budgets``); ``all`` skips them elsewhere.
SWEEP_FIGURES = ("budgets", "variants", "simultaneous")


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
    _validate.flag(force, "force")
    _validate.choice(figure, "figure", FIGURES)
    _validate.choice(setting_name, "setting_name", SETTINGS)
    out = _validate.path(out, "out")
    s = setting(setting_name, scale=scale)
    folder = Path(out) / setting_name
    target = folder / f"{figure}.json"
    for p in results.clean_leftovers(folder):
        print(f"removed {p}, left by a write that was killed")
    res = None
    if target.exists() and not force:
        try:                                # a truncated or foreign file is redone, not trusted
            res = results.read_json(target)
            if not isinstance(res, dict) or not {"setting", "run"} <= set(res) \
                    or res["setting"].get("name") != setting_name:
                raise ValueError("not a record of this figure and setting")
        except (OSError, ValueError, AttributeError, TypeError, KeyError) as err:
            print(f"{target}: broken record ({type(err).__name__}: {err}); recomputing it")
            res = None
    if res is None:
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
