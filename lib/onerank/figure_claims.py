"""Verdicts on the paper's printed figure claims, computed from the recorded runs.

One function per printed claim of Sections 5.1-5.2 and Appendices E-F of arXiv:2505.22602v1
(Figs. 1-13 and the base accuracies). Each reads the JSON records under ``results/`` (the
synthetic figures of ``python -m onerank synthetic`` and the vision sweep of ``python -m
onerank vision``; the command and commit of every record are inside it, under ``run``) and
returns a dict with

verdict : "holds", "fails", "partly" (some panels / datasets hold) or "no data".
detail : one line with the numbers that decide it (mean ± sd over the recorded trials or
    seeds; sd is the population sd, as in the records' own summaries).
data : what was read: record, setting, number of trials or seeds.
files : the record paths read, relative to the repository root.

A verdict is about the recorded setting, which may differ from the printed one (smaller
budgets, a CIFAR-10 subset, raw instead of normalised spectra, ...): ``data`` says which.
Nothing here raises on missing or malformed records; those give "no data". Only the
standard library is used, so the whole module runs in a fraction of a second.
"""

from __future__ import annotations

import functools
import json
import math
import os
from pathlib import Path

from . import results, schedules, vision_records

#: The repository's results folder (``results/`` next to ``lib/``).
RESULTS = Path(__file__).resolve().parents[2] / "results"
SCHEDULES = tuple(schedules.NAMED)                      # more-first, equal, less-first
PROFILES = ("power", "exponential", "uniform")          # printed order, best first
DATASETS = (("mnist", "MNIST"), ("cifar10", "CIFAR-10"), ("cifar100", "CIFAR-100"))


def results_root(root=None) -> Path:
    """The results folder: ``root`` if given, else :data:`RESULTS`.

    Parameters
    ----------
    root : str or path-like, optional
        A results folder.

    Returns
    -------
    Path
        ``Path(root)``, or :data:`RESULTS` when ``root`` is None.
    """
    if root is None:
        return RESULTS
    if isinstance(root, bytes) or not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a folder path (str or path-like), got {type(root).__name__}")
    return Path(root)


def _load(root, rel):
    try:
        return results.read_json(results_root(root) / rel)
    except (OSError, ValueError):
        return None


def _rel(rel) -> str:
    return f"results/{rel}"


def _out(verdict, detail, data, files, **extra):
    return {"verdict": verdict, "detail": detail, "data": data, "files": list(files), **extra}


def _guard(fn):
    """Turn a malformed record (missing key, wrong type) into "no data" instead of raising."""
    @functools.wraps(fn)
    def wrapper(root=None):
        results_root(root)                  # a bad root is the caller's error, not a record's
        try:
            return fn(root)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError) as e:
            return _out("no data", f"record malformed ({type(e).__name__}: {e})", "recorded", [])
    return wrapper


def _ms(xs):
    xs = [float(x) for x in xs]
    m = sum(xs) / len(xs)
    return m, math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs))


def _f(x):
    return f"{x:.3g}"


def _pct(x):
    return f"{100 * x:.1f}%"


def _combine(verdicts):
    """holds / fails if all the decided parts agree, partly if mixed, no data if none decided."""
    v = [x for x in verdicts if x != "no data"]
    if not v:
        return "no data"
    return v[0] if all(x == v[0] for x in v) and v[0] in ("holds", "fails") else "partly"


def _chain(items):
    """items: [(label, mean, sd)] in the printed order, best (lowest) first.
    Returns (holds, "a m ± s < b m ± s > c m ± s: chain fails")."""
    text, ok = f"{items[0][0]} {_f(items[0][1])} ± {items[0][2]:.2g}", True
    for (_, a, _), (lb, b, sb) in zip(items, items[1:]):
        ok &= a < b
        text += f" {'<' if a < b else '>' if a > b else '='} {lb} {_f(b)} ± {sb:.2g}"
    return ok, f"{text}: chain {'holds' if ok else 'fails'}"


def _synth(root, fig):
    rel = f"synthetic/paper/{fig}.json"
    return _load(root, rel), _rel(rel)


def _setting_words(s):
    """The conventions of a recorded setting, in words."""
    if s.get("frobenius"):
        spectra = f"profiles normalised to ||W*||_F = {s['frobenius']:.4g}"
    else:
        spectra = "spectra rescaled to ||S||_2^2 = r" if s.get("rescale_profiles") else "raw spectra"
    x = {"none": "standard Gaussian X", "rows": "X with unit rows", "columns": "X with unit columns"}
    words = [spectra, x.get(s.get("x_norm"), f"X {s.get('x_norm')}")]
    if s.get("noise_reading"):
        words.append("kappa a variance" if s["noise_reading"] == "variance" else "kappa a standard deviation")
    if s.get("protocol") == "authors":
        words.append("one instance, trials vary the initial point")
    return ", ".join(words)


def _synth_label(rec, path, T=None):
    """T: the budget to name (None: the record's own; False: none, for the spectra)."""
    s = rec["setting"]
    spectra = _setting_words(s)
    T = rec.get("T", s["T"]) if T is None else T
    budget = "" if T is False else f"T = {T}, "
    return (f"recorded, {path}: book's '{s['name']}' setting ({s['m']}x{s['d']}, n = {s['n']}, "
            f"{budget}{s['trials']} trials, {spectra})")


def _missing(path):
    return _out("no data", f"nothing recorded: {path} is missing", "recorded: none", [])


def _final(paths, schedule, key="final_recovery", relative=True):
    vals = paths["schedules"][schedule][key]
    return _ms([v / paths["w_norm"] if relative else v for v in vals])


@_guard
def fig1(root=None):
    """Section 5.1 / Fig. 1: more-first < equal < less-first at the end of the budget.

    On the W* reconstruction error (relative to ||W*||_F) and on the training error
    ||Y - W X||_F. One chain per panel over the recorded trials' final errors; "partly" if
    one panel holds.

    Parameters
    ----------
    root : str or path-like, optional
        The results folder (default :data:`RESULTS`).

    Returns
    -------
    dict
        ``verdict``, ``detail``, ``data``, ``files`` (see the module docstring).
    """
    rec, path = _synth(root, "fig1")
    if rec is None:
        return _missing(path)
    parts, verdicts = [], []
    for panel, key, rel in (("reconstruction", "final_recovery", True), ("training", "final_train", False)):
        ok, text = _chain([(s, *_final(rec, s, key, rel)) for s in SCHEDULES])
        verdicts.append("holds" if ok else "fails")
        parts.append(f"{panel}: {text}")
    return _out(_combine(verdicts), " | ".join(parts), _synth_label(rec, path), [path])


@_guard
def fig5(root=None):
    """Appendix E / Fig. 5: the profiles are normalised to the same Frobenius norm.

    ||W*||_F = sqrt(sum sigma_i^2) from the recorded spectra; "holds" if equal to 1e-6
    (relative), "fails" (the recorded run departs from the printed setting) otherwise.

    Parameters
    ----------
    root : str or path-like, optional
        The results folder (default :data:`RESULTS`).

    Returns
    -------
    dict
        ``verdict``, ``detail``, ``data``, ``files`` (see the module docstring).
    """
    rec, path = _synth(root, "fig5")
    if rec is None:
        return _missing(path)
    norms = {p: math.sqrt(sum(x * x for x in sv["W_star"])) for p, sv in rec["profiles"].items()}
    equal = max(norms.values()) <= min(norms.values()) * (1 + 1e-6)
    detail = (", ".join(f"{p} {_f(v)}" for p, v in norms.items()) + f": ||W*||_F "
              f"{'equal' if equal else 'differ'} (record's rescale flag: {rec.get('rescale')})")
    return _out("holds" if equal else "fails", detail, _synth_label(rec, path, T=False), [path])


@_guard
def fig6(root=None):
    """Appendix E / Fig. 6: power-law best, then exponential, uniform worst (noiseless).

    Chain power < exponential < uniform on the final errors, both relative to each profile's
    ||W*||_F (the recorded profiles have different norms), for every recorded schedule and
    for the reconstruction and training panels; "partly" if only some hold.

    Parameters
    ----------
    root : str or path-like, optional
        The results folder (default :data:`RESULTS`).

    Returns
    -------
    dict
        ``verdict``, ``detail``, ``data``, ``files`` (see the module docstring).
    """
    rec, path = _synth(root, "fig6")
    if rec is None:
        return _missing(path)
    pr, parts, verdicts = rec["profiles"], [], []
    for panel, key in (("reconstruction", "final_recovery"), ("training", "final_train")):
        for s in pr["power"]["schedules"]:
            ok, text = _chain([(p, *_final(pr[p], s, key)) for p in PROFILES])
            verdicts.append("holds" if ok else "fails")
            parts.append(f"{panel}, {s}: {text}")
    return _out(_combine(verdicts), " | ".join(parts), _synth_label(rec, path, pr["power"]["T"]), [path])


@_guard
def fig7(root=None):
    """Appendix E / Fig. 7: the final reconstruction error grows with kappa, Gaussian and sparse.

    For each noise kind and schedule, the mean final error must increase strictly from one
    recorded kappa to the next; "partly" if only some (kind, schedule) pairs do.

    Parameters
    ----------
    root : str or path-like, optional
        The results folder (default :data:`RESULTS`).

    Returns
    -------
    dict
        ``verdict``, ``detail``, ``data``, ``files`` (see the module docstring).
    """
    rec, path = _synth(root, "fig7")
    if rec is None:
        return _missing(path)
    parts, verdicts = [], []
    for kind, block in rec["kinds"].items():
        for s, rows in block["schedules"].items():
            m = [(row["mean"] / block["w_norm"], row["sd"] / block["w_norm"]) for row in rows["recovery"]]
            ok = all(a[0] < b[0] for a, b in zip(m, m[1:]))
            verdicts.append("holds" if ok else "fails")
            parts.append(f"{kind} {s}: "
                         + ", ".join(f"{k:g}: {_f(v)} ± {d:.2g}" for k, (v, d) in zip(block["levels"], m))
                         + f" ({'grows' if ok else 'not increasing'})")
    label = _synth_label(rec, path) + "; kappas " + "; ".join(
        f"{k}: {b['levels']} ({b['trials']} trials)" for k, b in rec["kinds"].items())
    return _out(_combine(verdicts), " | ".join(parts), label, [path])


@_guard
def fig8(root=None):
    """Appendix E / Fig. 8: more-first < equal < less-first at every recorded noise level.

    On the final relative reconstruction error; "partly" if only some panels hold.

    Parameters
    ----------
    root : str or path-like, optional
        The results folder (default :data:`RESULTS`).

    Returns
    -------
    dict
        ``verdict``, ``detail``, ``data``, ``files`` (see the module docstring).
    """
    rec, path = _synth(root, "fig8")
    if rec is None:
        return _missing(path)
    parts, verdicts = [], []
    for p in rec["panels"]:
        ok, text = _chain([(s, *_final(p, s)) for s in SCHEDULES])
        verdicts.append("holds" if ok else "fails")
        parts.append(f"{p['noise']} {p['level']:g}: {text}")
    return _out(_combine(verdicts), " | ".join(parts), _synth_label(rec, path), [path])


@_guard
def fig9(root=None):
    """Appendix E / Fig. 9: with more-first, power < exponential < uniform at every Gaussian kappa.

    On the final reconstruction error relative to each ||W*||_F, at every recorded Gaussian
    kappa.

    Parameters
    ----------
    root : str or path-like, optional
        The results folder (default :data:`RESULTS`).

    Returns
    -------
    dict
        ``verdict``, ``detail``, ``data``, ``files`` (see the module docstring).
    """
    rec, path = _synth(root, "fig9")
    if rec is None:
        return _missing(path)
    parts, verdicts = [], []
    for panel in rec["panels"]:
        ok, text = _chain([(p, *_final(panel["profiles"][p], "more-first")) for p in PROFILES])
        verdicts.append("holds" if ok else "fails")
        parts.append(f"gaussian {panel['level']:g}: {text}")
    return _out(_combine(verdicts), " | ".join(parts), _synth_label(rec, path), [path])


@_guard
def fig10(root=None):
    """Appendix E / Fig. 10: more-first reaches the thresholds first; less-first misses the first.

    (i) more-first needs the fewest steps to reach each threshold on ||W_t - W*||_F / ||W*||_F
    (ties allowed; levels no schedule reaches are left out); (ii) less-first does not reach
    the first recorded threshold (the caption's subplot (a): not within 10,000 steps; the
    detail names the recorded budget). "holds" if both, "partly" if one.

    Parameters
    ----------
    root : str or path-like, optional
        The results folder (default :data:`RESULTS`).

    Returns
    -------
    dict
        ``verdict``, ``detail``, ``data``, ``files`` (see the module docstring).
    """
    rec, path = _synth(root, "fig10")
    if rec is None:
        return _missing(path)
    th = rec["thresholds"]
    steps = {s: [math.inf if v is None else v for v in th["schedules"][s]] for s in SCHEDULES}
    fmt = lambda v: "-" if v == math.inf else str(v)
    reached = [i for i in range(len(th["levels"])) if min(steps[s][i] for s in SCHEDULES) < math.inf]
    others = [min(steps[s][i] for s in SCHEDULES[1:]) for i in reached]
    best = sum(steps["more-first"][i] <= o for i, o in zip(reached, others))
    strict = sum(steps["more-first"][i] < o for i, o in zip(reached, others))
    first = steps["less-first"][0]
    v1 = "holds" if best == len(reached) and reached else "fails"
    v2 = "holds" if first == math.inf else "fails"
    table = ", ".join(f"{lev:g}: " + "/".join(fmt(steps[s][i]) for s in SCHEDULES)
                      for i, lev in enumerate(th["levels"]))
    detail = (f"steps more/equal/less-first {table}; more-first fewest at {best}/{len(reached)} reached "
              f"levels (strictly at {strict}): {v1}; less-first "
              + (f"reaches the first threshold {th['levels'][0]:g} at step {fmt(first)}" if first < math.inf
                 else f"never reaches the first threshold {th['levels'][0]:g}")
              + f" within the recorded budget T = {rec['T']} (caption: 10,000): {v2}")
    return _out(_combine([v1, v2]), detail, _synth_label(rec, path), [path])


# ------------------------------------------------------------------ the budget sweep
def _sweep_final(sp, schedule, key, i):
    """Mean and sd over trials of one spec's final error at total number i (recovery relative)."""
    vals = sp["schedules"][schedule][key][i]
    return _ms([v / sp["w_norm"] if key == "recovery" else v for v in vals])


def _spec(rec, profile="exponential", noise="none", level=0.0):
    for sp in rec["specs"]:
        if sp["profile"] == profile and sp["noise"] == noise and float(sp["level"]) == float(level):
            return sp
    raise KeyError(f"no run of {profile}, {noise} {level:g} in the sweep")


def _per_total(totals, decide):
    """[(T, verdict, detail)] of ``decide(i) -> (verdict, detail)`` at every total."""
    return [(T, *decide(i)) for i, T in enumerate(totals)]


def _over_totals(rows, **fields):
    """A row of verdicts per total: ``fields``, ``per_total``, the combined ``verdict`` and
    the totals where it ``holds_at``."""
    return {**fields, "per_total": rows, "verdict": _combine([v for _, v, _ in rows]),
            "holds_at": [T for T, v, _ in rows if v == "holds"]}


def _claim_row(claim, printed, rows, data):
    return _over_totals(rows, claim=claim, printed=printed, data=data)


def sweep_claims(rec, path="live run"):
    """Verdicts of the printed claims of Figs. 1 and 6-9 at every total of a budget sweep.

    Parameters
    ----------
    rec : dict
        A record of :func:`onerank.synthetic.budget_sweep` (live or saved).
    path : str, optional
        Where the record came from, for the ``data`` field (default "live run").

    Returns
    -------
    list of dict
        One row per claim and panel: ``claim``, ``printed`` (the printed statement, in
        brief), ``per_total`` (a list of (T, verdict, detail)), ``verdict`` over all totals
        ("holds", "fails", "partly"), ``holds_at`` (the totals where it holds) and ``data``.
    """
    if not isinstance(rec, dict):
        raise TypeError(f"rec must be a record (a dict), got {type(rec).__name__}")
    s = rec["setting"]
    label = (f"{path}: '{s['name']}' setting ({s['m']}x{s['d']}, n = {s['n']}, {s['trials']} trials, "
             f"{_setting_words(s)})")
    out = []
    quiet = _spec(rec)
    for panel, key in (("reconstruction", "recovery"), ("training", "train")):
        out.append(_claim_row(
            f"Fig. 1, {panel}", "more-first < equal < less-first",
            _per_total(quiet["budgets"], lambda i, key=key: _verdict_chain(
                [(n, *_sweep_final(quiet, n, key, i)) for n in SCHEDULES])), label))
    prof = {p: _spec(rec, p) for p in PROFILES}
    for panel, key in (("reconstruction", "recovery"), ("training", "train")):
        def decide(i, key=key):
            parts = [_verdict_chain([(p, *_sweep_final(prof[p], n, key, i)) for p in PROFILES], prefix=n)
                     for n in SCHEDULES]
            return _combine([v for v, _ in parts]), "; ".join(t for _, t in parts)
        out.append(_claim_row(f"Fig. 6, {panel}", "power < exponential < uniform (no noise)",
                              _per_total(prof["power"]["budgets"], decide), label))
    if not rec.get("budgets_noise"):
        return out
    noise_T = rec["budgets_noise"]
    i_of = {T: i for i, T in enumerate(quiet["budgets"])}
    for kind, levels in (("Gaussian", s["noise_levels"]), ("sparse", s["sparse_levels"])):
        runs = [quiet if k == 0 else _spec(rec, noise=kind.lower(), level=k) for k in levels]

        def decide(i, runs=runs, levels=levels):
            T = noise_T[i]
            parts, verdicts = [], []
            for n in SCHEDULES:
                m = [_sweep_final(sp, n, "recovery", i_of[T] if sp is quiet else i) for sp in runs]
                ok = all(a[0] < b[0] for a, b in zip(m, m[1:]))
                verdicts.append("holds" if ok else "fails")
                parts.append(f"{n}: " + ", ".join(f"{k:g}: {_f(v)} ± {d:.2g}" for k, (v, d) in zip(levels, m)))
            return _combine(verdicts), "; ".join(parts)
        out.append(_claim_row(f"Fig. 7, {kind}", "the reconstruction error grows with kappa",
                              _per_total(noise_T, decide), label))

    def fig8(i):
        parts = [_verdict_chain([(n, *_sweep_final(_spec(rec, noise=k, level=lv), n, "recovery", i))
                                 for n in SCHEDULES], prefix=f"{k} {lv:g}") for k, lv in s["fig8_noise"]]
        return _combine([v for v, _ in parts]), "; ".join(t for _, t in parts)
    out.append(_claim_row("Fig. 8", "more-first < equal < less-first at every noise level",
                          _per_total(noise_T, fig8), label))

    def fig9(i):
        parts = [_verdict_chain([(p, *_sweep_final(_spec(rec, p, "gaussian", lv), "more-first", "recovery", i))
                                 for p in PROFILES], prefix=f"gaussian {lv:g}") for lv in s["fig9_levels"]]
        return _combine([v for v, _ in parts]), "; ".join(t for _, t in parts)
    out.append(_claim_row("Fig. 9", "with more-first, power < exponential < uniform at every kappa",
                          _per_total(noise_T, fig9), label))
    return out


def _verdict_chain(items, prefix=None):
    ok, text = _chain(items)
    return ("holds" if ok else "fails"), (f"{prefix}: {text}" if prefix else text)


def budget_claims(root=None):
    """:func:`sweep_claims` of the recorded paper-setting sweep (``synthetic/paper/budgets.json``).

    Parameters
    ----------
    root : str or path-like, optional
        The results folder (default :data:`RESULTS`).

    Returns
    -------
    list of dict
        The rows of :func:`sweep_claims`, or [] when nothing is recorded.
    """
    rec, path = _synth(root, "budgets")
    return [] if rec is None else sweep_claims(rec, path)


def variant_claims(rec):
    """Figs. 1 and 8's schedule order under each variant reading, at every total.

    Parameters
    ----------
    rec : dict
        A record of :func:`onerank.synthetic.variants`.

    Returns
    -------
    list of dict
        One row per variant and problem: ``variant``, ``problem``, ``per_total``
        ((T, verdict, detail) of more-first < equal < less-first on the final
        reconstruction error), ``verdict`` and ``holds_at``.
    """
    out = []
    for var in rec["variants"]:
        for sp in var["specs"]:
            name = "no noise" if sp["noise"] == "none" else f"{sp['noise']} {sp['level']:g}"
            rows = _per_total(sp["budgets"], lambda i, sp=sp: _verdict_chain(
                [(n, *_sweep_final(sp, n, "recovery", i)) for n in SCHEDULES]))
            out.append(_over_totals(rows, variant=var["label"], problem=name))
    return out


def simultaneous_claims(rec):
    """Eq. (4) against Algorithm 2 at equal compute, per profile and sequential total.

    P-L97 grants that solving the rank-r problem directly "is more efficient and could be
    preferable in terms of accuracy". At each total T of the sequential sweep, the
    simultaneous run's mean relative recovery error at its last recorded iteration within
    the same flops is set against the best of the three schedules; "holds" where the
    simultaneous one is lower.

    Parameters
    ----------
    rec : dict
        A record of :func:`onerank.synthetic.simultaneous_baseline`.

    Returns
    -------
    list of dict
        One row per profile: ``profile``, ``per_total`` ((T, verdict, detail)),
        ``verdict`` and ``holds_at``.
    """
    if not isinstance(rec, dict):
        raise TypeError(f"rec must be a record (a dict), got {type(rec).__name__}")
    missing = [k for k in ("sequential", "profiles", "flops_sequential_step") if k not in rec]
    if missing or not isinstance(rec["profiles"], dict):
        raise ValueError("rec must be a record of onerank.synthetic.simultaneous_baseline "
                         f"(missing or malformed: {missing or ['profiles']})")
    seq = {sp["profile"]: sp for sp in rec["sequential"]}
    out = []
    for prof, sim in rec["profiles"].items():
        sp = seq[prof]

        def decide(i, sim=sim, sp=sp):
            budget = sp["budgets"][i] * rec["flops_sequential_step"]
            j = max(k for k, f in enumerate(sim["flops"]) if f <= budget)
            s_mean, s_sd = _ms([r[j] / sim["w_norm"] for r in sim["recovery"]])
            best = min(sp["schedules"], key=lambda n: _sweep_final(sp, n, "recovery", i)[0])
            q_mean, q_sd = _sweep_final(sp, best, "recovery", i)
            v = "holds" if s_mean < q_mean else "fails"
            return v, (f"eq. (4) after {sim['iterations'][j]} steps {_f(s_mean)} ± {s_sd:.2g} vs best "
                       f"sequential ({best}) {_f(q_mean)} ± {q_sd:.2g}")
        rows = _per_total(sp["budgets"], decide)
        out.append(_over_totals(rows, profile=prof))
    return out


# ------------------------------------------------------------------ vision records
def _runs(root, ds, exp):
    """[(path, record)] of ``vision/<ds>/<exp>-s<seed>.json``, by seed."""
    folder = results_root(root) / "vision" / ds
    found = []
    for p in folder.glob(f"{exp}-s*.json") if folder.is_dir() else []:
        rec, seed = _load(root, f"vision/{ds}/{p.name}"), p.stem.rpartition("-s")[2]
        if rec is not None and seed.isdigit():
            found.append((int(seed), _rel(f"vision/{ds}/{p.name}"), rec))
    return [(path, rec) for _, path, rec in sorted(found)]


def _rows(runs):
    """{run name: record} of one dataset's records, for the readers of :mod:`onerank.vision_records`."""
    return {Path(path).stem: rec for recs in runs.values() for path, rec in recs}


def _ds_label(ds, name, runs):
    cfg = runs[0][1]["config"]
    if "subset" in str(cfg.get("source", "")):
        n = cfg.get("train_old", 0) + cfg.get("train_new", 0)
        name = f"{name} subset ({n:,} training images)"
    elif cfg.get("scale") == "quick":
        n = cfg.get("train_old", 0) + cfg.get("train_new", 0)
        name = f"{name} ({n:,} training images, quick scale)"
    elif ds == "mnist":
        name = "full MNIST"
    return f"{name}, {len(runs)} seed{'s' * (len(runs) != 1)}"


def _vision(root, exps, per_dataset, optional=()):
    """``per_dataset(ds, label, {exp: runs})`` -> (verdict, text) on every dataset with records of
    all ``exps`` (``optional`` ones are read too, where present)."""
    verdicts, parts, labels, files = [], [], [], []
    for ds, name in DATASETS:
        runs = {e: _runs(root, ds, e) for e in (*exps, *optional)}
        if not all(runs[e] for e in exps):
            parts.append(f"{name}: nothing recorded ({', '.join(e for e in exps if not runs[e])}-*.json)")
            continue
        label = _ds_label(ds, name, runs[exps[0]])
        v, text = per_dataset(ds, label.rsplit(",", 1)[0], runs)
        verdicts.append(v)
        parts.append(text)
        labels.append(label)
        files += [p for e in runs for p, _ in runs[e]]
    return _combine(verdicts), " | ".join(parts), "recorded, " + "; ".join(labels or ["none"]), files


@_guard
def baselines(root=None):
    """Section 5.2: base accuracy on the old classes ~98% (MNIST), ~40% (CIFAR-10), ~20% (CIFAR-100).

    Mean over seeds of ``base-*.json`` old-class accuracy; holds within 3 points (MNIST) or
    10 points (CIFAR) of the printed value.

    Parameters
    ----------
    root : str or path-like, optional
        The results folder (default :data:`RESULTS`).

    Returns
    -------
    dict
        ``verdict``, ``detail``, ``data``, ``files`` (see the module docstring).
    """
    printed = {"mnist": (0.98, 0.03), "cifar10": (0.40, 0.10), "cifar100": (0.20, 0.10)}

    def one(ds, label, runs):
        target, tol = printed[ds]
        m, s = _ms(vision_records.base_rows(_rows(runs))["old"])
        v = "holds" if abs(m - target) <= tol else "fails"
        return v, (f"{label}: {_pct(m)} ± {_pct(s)} vs printed ~{_pct(target)} "
                   f"(tolerance {100 * tol:g} points): {v}")
    return _out(*_vision(root, ("base",), one))


@_guard
def fig2(root=None):
    """Section 5.2 / Fig. 2: sequential rank-1 x3 is "at least comparable" to joint rank-3 LoRA.

    On new-class test accuracy, with the sd over runs at most ~1.5%. "At least comparable":
    mean final seq accuracy >= mean joint accuracy - 1 pooled sd, for every recorded joint
    epoch count from the FLOPs-matched one up (fewer epochs give joint less compute than the
    sequential run; Figs. 3 and 11 use them); sd claim: every seq (per component) and joint
    sd <= 0.015.

    Parameters
    ----------
    root : str or path-like, optional
        The results folder (default :data:`RESULTS`).

    Returns
    -------
    dict
        ``verdict``, ``detail``, ``data``, ``files`` (see the module docstring).
    """
    sds = []

    def one(ds, label, runs):
        b = vision_records.seq_joint_rows(_rows(runs))
        ms, ss = _ms(b["seq"][:, -1])
        sds.extend((_ms(c)[1], f"{label} seq rank-{k + 1}") for k, c in enumerate(b["seq"].T))
        vs, texts = [], []
        for e, acc in b["joint"].items():
            if e < b["matched"]:
                continue                    # fewer LoRA FLOPs than the sequential run: not the claim
            mj, sj = _ms(acc)
            sds.append((sj, f"{label} joint {e} epochs"))
            pooled = math.sqrt((ss ** 2 + sj ** 2) / 2)
            vs.append("holds" if ms >= mj - pooled else "fails")
            word = "comparable" if vs[-1] == "holds" else "below"
            texts.append(f"joint {e} ep {_pct(mj)} ± {_pct(sj)} ({word})")
        return _combine(vs), f"{label}: seq {_pct(ms)} ± {_pct(ss)} vs " + ", ".join(texts)

    v, detail, data, files = _vision(root, ("seq", "joint"), one)
    if v == "no data":
        return _out(v, detail, data, files)
    worst, where = max(sds)
    vsd = "holds" if worst <= 0.015 else "fails"
    detail += f" | rule: seq >= joint - 1 pooled sd | max sd {_pct(worst)} ({where}) vs printed ~1.5%: {vsd}"
    return _out(_combine([v, vsd]), detail, data, files)


@_guard
def fig3_efficiency(root=None):
    """Section 5.2 / Fig. 3 and Appendix F / Fig. 11: efficiency = test accuracy per training epoch.

    Every sequential architecture (rank 1, 2 and 3: the epoch prefixes of the seq and paths
    records) against standard LoRA (the joint record, rank 3, at each of its epoch counts),
    seed means, compared at equal total epochs; the four rules are
    :func:`onerank.vision_records.efficiency_verdicts`: Section 5.2's "comparable
    efficiency" and "slight loss of accuracy", Appendix F's "consistently higher
    efficiency", and both sections' "more total training for comparable accuracy". The
    overall verdict combines the four; ``verdicts`` has each.

    Parameters
    ----------
    root : str or path-like, optional
        The results folder (default :data:`RESULTS`).

    Returns
    -------
    dict
        ``verdict``, ``detail``, ``data``, ``files`` (see the module docstring), and ``verdicts``,
        {"section 5.2": ..., "section 5.2 slight loss": ..., "appendix F": ..., "more training":
        ...}.
    """
    names = {"comparable": "section 5.2", "slight_loss": "section 5.2 slight loss", "higher": "appendix F",
             "more_training": "more training"}
    per = {k: [] for k in names}

    def one(ds, label, runs):
        rows = vision_records.efficiency_rows(_rows(runs))
        v = vision_records.efficiency_verdicts(rows)
        for k in names:
            per[k].append(v[k]["verdict"])
        n_seq = len(rows["seeds"]["paths"])
        return _combine([v[k]["verdict"] for k in names]), " | ".join(
            [f"{label}: {len(rows['sequential'])} sequential architectures (epoch paths of {n_seq} seed"
             f"{'s' * (n_seq != 1)}), standard LoRA at {sorted(rows['joint'])} epochs"]
            + [f"{label}, {names[k]}: {v[k]['verdict']}, {v[k]['detail']}" for k in names])

    v, detail, data, files = _vision(root, ("seq", "joint"), one, optional=("paths",))
    return _out(v, detail + " | rules: onerank.vision_records.efficiency_verdicts", data, files,
                verdicts={names[k]: _combine(per[k]) for k in names})


@_guard
def baseline_quality(root=None):
    """Appendix F, "Impact of baseline model quality" (P-L913-917).

    "Even with the relatively poor CIFAR100 baseline, sequential LoRA successfully adapts
    to new classes, albeit with lower absolute performance compared to the better-initialized
    MNIST case." Per dataset with base and seq records: it adapts when the final mean
    new-class accuracy minus two seed sds exceeds chance over the new classes (one in
    their number; the base model scores 0 there). "Lower than MNIST": every other dataset's
    final mean is below MNIST's. The poor base of the paper is CIFAR-100's; where only a
    better base is recorded, the data line says so.

    Parameters
    ----------
    root : str or path-like, optional
        The results folder (default :data:`RESULTS`).

    Returns
    -------
    dict
        ``verdict``, ``detail``, ``data``, ``files`` (see the module docstring), and ``verdicts``,
        {"adapts": ..., "lower than MNIST": ...}.
    """
    finals, adapts = {}, []

    def one(ds, label, runs):
        rows = _rows(runs)
        base, b = vision_records.base_rows(rows), vision_records.seq_joint_rows(rows)
        n_new = {"mnist": 5, "cifar10": 5, "cifar100": 50}[ds]
        m, s = _ms(b["seq"][:, -1])
        finals[ds] = m
        ok = m - 2 * s > 1 / n_new and float(base["new"].max()) == 0.0
        adapts.append("holds" if ok else "fails")
        return adapts[-1], (f"{label}: base {_pct(_ms(base['old'])[0])} on the old classes, 0 on the new;"
                            f" after 3 rank-1 components {_pct(m)} ± {_pct(s)} on the new (chance"
                            f" {_pct(1 / n_new)}): {adapts[-1]}")

    v, detail, data, files = _vision(root, ("base", "seq", "joint"), one)
    if "mnist" in finals and len(finals) > 1:
        lower = all(f < finals["mnist"] for ds, f in finals.items() if ds != "mnist")
        vl = "holds" if lower else "fails"
    else:
        vl = "no data"
    poor = "" if "cifar100" in finals else " (the paper's poor base, CIFAR-100, is not recorded)"
    return _out(_combine([v, vl]) if vl != "no data" else v,
                detail + f" | lower than MNIST: {vl}{poor}", data + poor, files,
                verdicts={"adapts": v, "lower than MNIST": vl})


def _path_means(runs):
    """{path (tuple): seed-mean final accuracy} over a dataset's paths records."""
    finals = {}
    for row in vision_records.path_rows(_rows(runs)):
        for e, a in zip(row["epochs"].tolist(), row["accuracy"].tolist()):
            finals.setdefault(tuple(e), []).append(a[-1])
    return {c: sum(a) / len(a) for c, a in finals.items()}


@_guard
def fig12_first_component(root=None):
    """Appendix F, "Error propagation analysis" (P-L919-921).

    Two printed claims on the epoch paths (seed means):

    - "when the first component is poorly trained (1 epoch), the final performance of
      rank-3 models is substantially lower than when the first component receives
      adequate training (5-10 epochs), even when later components are well-trained":
      every path 1 -> b -> c against e -> b -> c with e in {5, 10} (the grid's), the same
      later components; holds if the 1-epoch first ends lower in >= 80% of the pairs and
      by >= 1 point on average, also on the pairs with b = c = the grid's largest.
    - "most pronounced for MNIST ... less dramatic but still observable for CIFAR100": the
      effect, the mean gap above, is largest on MNIST among the recorded datasets.

    Parameters
    ----------
    root : str or path-like, optional
        The results folder (default :data:`RESULTS`).

    Returns
    -------
    dict
        ``verdict``, ``detail``, ``data``, ``files`` (see the module docstring), and ``verdicts``,
        {"poor first component": ..., "most pronounced for MNIST": ..., "less dramatic for
        CIFAR-100": ...}.
    """
    effect, first = {}, []

    def one(ds, label, runs):
        mean = _path_means(runs)
        grid = sorted({c[0] for c in mean})
        good = [e for e in (5, 10) if e in grid]
        top = grid[-1]
        pairs = [(mean[(1, b, c)], mean[(e, b, c)], (b, c) == (top, top))
                 for (a, b, c) in mean if a == 1 for e in good if (e, b, c) in mean]
        if not pairs:
            raise ValueError("no 1-epoch and 5/10-epoch first components with the same later ones")
        gaps = [g - p for p, g, _ in pairs]
        late = [g - p for p, g, well in pairs if well]
        share = sum(d > 0 for d in gaps) / len(gaps)
        effect[ds] = sum(gaps) / len(gaps)
        ok = share >= 0.8 and effect[ds] >= 0.01 and late and min(late) > 0
        first.append("holds" if ok else "fails")
        return first[-1], (f"{label}: first component 5-10 epochs minus 1 epoch, same later ones: mean "
                           f"{100 * effect[ds]:+.1f} points, positive in {share:.0%} of {len(gaps)} pairs; "
                           f"with later components at {top} epochs: "
                           + ", ".join(f"{100 * d:+.1f}" for d in late) + f" points: {first[-1]}")

    v, detail, data, files = _vision(root, ("paths",), one)
    if "mnist" in effect and len(effect) > 1:
        vm = "holds" if effect["mnist"] == max(effect.values()) else "fails"
    else:
        vm = "no data"
    vc = ("holds" if 0 < effect["cifar100"] < effect.get("mnist", math.inf) else "fails") \
        if "cifar100" in effect else "no data"
    detail += (f" | most pronounced for MNIST: {vm}; less dramatic for CIFAR-100: {vc}"
               + ("" if "cifar100" in effect else " (no CIFAR-100 paths recorded)"))
    return _out(_combine([x for x in (v, vm, vc) if x != "no data"]) if v != "no data" else v, detail, data,
                files, verdicts={"poor first component": v, "most pronounced for MNIST": vm,
                                 "less dramatic for CIFAR-100": vc})


@_guard
def fig4_paths(root=None):
    """Section 5.2 / Fig. 4 and Appendix F / Fig. 12: a good first component gives a better model.

    A good first component implies (almost always) a better final model. On seed-averaged
    paths: (a) mean final accuracy grouped by first-component epochs is non-decreasing in
    those epochs; (b) among pairs of paths with different first-component epochs, the one
    with more ends better in >= 80% of pairs. holds if both, partly if one. Also reports
    Appendix F's gap, final accuracy of 10->1->1 minus 1->10->10 (printed: MNIST, as large
    as 5-7 points), per seed where recorded.

    Parameters
    ----------
    root : str or path-like, optional
        The results folder (default :data:`RESULTS`).

    Returns
    -------
    dict
        ``verdict``, ``detail``, ``data``, ``files`` (see the module docstring), ``verdicts``,
        {"figure 4/12": verdict, "appendix F MNIST gap": verdict}, and ``gaps``, {dataset:
        [(seed, final accuracy of 10->1->1 minus that of 1->10->10)]} where both were
        recorded.
    """
    gaps = {}

    def one(ds, label, runs):
        finals = {}
        for row in vision_records.path_rows(_rows(runs)):
            acc = {tuple(e): a[-1] for e, a in zip(row["epochs"].tolist(), row["accuracy"].tolist())}
            for c, a in acc.items():
                finals.setdefault(c, []).append(a)
            if (10, 1, 1) in acc and (1, 10, 10) in acc:
                gaps.setdefault(ds, []).append((row["seed"], acc[(10, 1, 1)] - acc[(1, 10, 10)]))
        mean = {c: sum(a) / len(a) for c, a in finals.items()}
        groups = {e: _ms([a for c, a in mean.items() if c[0] == e])[0] for e in sorted({c[0] for c in mean})}
        g = list(groups.values())
        mono = all(a <= b for a, b in zip(g, g[1:]))
        pairs = [(a, b) for a in mean for b in mean if a[0] < b[0]]
        share = sum(mean[b] > mean[a] for a, b in pairs) / len(pairs)
        v = _combine(["holds" if mono else "fails", "holds" if share >= 0.8 else "fails"])
        gap = "10->1->1 minus 1->10->10 not recorded"
        if ds in gaps:
            d = [x for _, x in gaps[ds]]
            sign = "10->1->1 ends better" if min(d) > 0 else "1->10->10 ends better" if max(d) < 0 else "mixed"
            gap = ("10->1->1 minus 1->10->10 " + ", ".join(f"s{k} {100 * x:+.1f}" for k, x in gaps[ds])
                   + f" points ({sign})")
        return v, (f"{label}: mean final accuracy by first-component epochs "
                   + ", ".join(f"{e}: {_pct(a)}" for e, a in groups.items())
                   + f" ({'non-decreasing' if mono else 'not monotone'}); more first epochs ends better in "
                   f"{share:.0%} of {len(pairs)} pairs; {gap}")

    v, detail, data, files = _vision(root, ("paths",), one)
    if "mnist" in gaps:
        big = max(d for _, d in gaps["mnist"])
        vgap = "holds" if big >= 0.05 else "fails"
        note = f"largest MNIST gap {100 * big:+.1f} points vs printed 5-7: {vgap}"
    else:
        vgap, note = "no data", "no data (no MNIST 10->1->1 / 1->10->10 paths recorded)"
    return _out(v, detail + f" | rule: non-decreasing and >= 80% of pairs | App. F MNIST gap: {note}",
                data, files, verdicts={"figure 4/12": v, "appendix F MNIST gap": vgap}, gaps=gaps)


@_guard
def fig13_spread(root=None):
    """Appendix F / Fig. 13: spread of accuracy after r = 1, 2, 3 components.

    Over the recorded epoch allocations (paths records, seed-averaged). Descriptive: the
    figure makes no ordering claim, so "holds" only says the spread was computed from the
    records.

    Parameters
    ----------
    root : str or path-like, optional
        The results folder (default :data:`RESULTS`).

    Returns
    -------
    dict
        ``verdict``, ``detail``, ``data``, ``files`` (see the module docstring).
    """
    def one(ds, label, runs):
        texts, acc = [], vision_records.architectures(_rows(runs))
        for r in (1, 2, 3):
            vals = [float(a.mean()) for c, a in acc.items() if len(c) == r]
            if vals:
                s = _ms(vals)[1]
                texts.append(f"rank-{r} min {_pct(min(vals))} max {_pct(max(vals))} sd {_pct(s)} "
                             f"({len(vals)} allocations)")
        return ("holds" if texts else "no data"), f"{label} (descriptive): " + "; ".join(texts)
    return _out(*_vision(root, ("paths",), one))


def report(claim: dict, width: int = 88) -> str:
    """One verdict as the chapters print it: the verdict, each part of the detail, the data.

    Parameters
    ----------
    claim : dict
        A value returned by one of this module's claim functions.
    width : int, optional
        Lines are wrapped at this width (default 88, the book's code column).

    Returns
    -------
    str
        ``verdict: ...`` (with the sub-verdicts, where the claim has several), then the
        detail's ``|``-separated parts, one per indented paragraph, then ``data: ...``.
    """
    import textwrap

    if not isinstance(claim, dict) or not {"verdict", "detail", "data"} <= set(claim):
        raise TypeError("claim must be a dict returned by a figure_claims function (verdict, detail, data)")
    head = f"verdict: {claim['verdict']}"
    if claim.get("verdicts"):
        head += " (" + "; ".join(f"{k}: {v}" for k, v in claim["verdicts"].items()) + ")"
    out = textwrap.wrap(head, width, subsequent_indent="  ")
    for part in claim["detail"].split(" | "):
        out += textwrap.wrap(part, width, initial_indent="  ", subsequent_indent="    ")
    out += textwrap.wrap(f"data: {claim['data']}", width, subsequent_indent="  ")
    return "\n".join(out)


ALL = {"fig1": fig1, "fig2": fig2, "fig3": fig3_efficiency, "fig4": fig4_paths, "fig5": fig5,
       "fig6": fig6, "fig7": fig7, "fig8": fig8, "fig9": fig9, "fig10": fig10,
       "fig11": fig3_efficiency, "fig12": fig4_paths, "fig13": fig13_spread, "baselines": baselines,
       "baseline_quality": baseline_quality, "fig12_first": fig12_first_component}
