"""The records of the vision sweep, read: one reader per experiment.

:func:`onerank.vision_sweep.run` writes one JSON record per run (its module docstring lists
them). The functions here turn the records of one dataset, live (a chapter's temporary
folder) or recorded (``results/vision``), into the rows that the chapters print and plot
and that :mod:`onerank.figure_claims` judges the printed claims on. They need only numpy
(and matplotlib to plot), so that reading results does not need torch.

=========================  ============================================================
:func:`load`               every record of a results folder, by dataset
:func:`base_rows`          (a) the base models
:func:`seq_joint_rows`     (b) sequential rank-1 against joint rank-3 LoRA
:func:`path_rows`          (c, d) the epoch paths
:func:`architectures`      (c) every sequential architecture: the runs' epoch prefixes
:func:`efficiency_rows`    (c) those and standard LoRA at several epochs (Figs. 3, 11)
:func:`plot_efficiency`    (c) the two panels of that comparison
:func:`alpha_rows`         (e) the alpha family at fixed epoch totals
:func:`online_rows`        (f) the online choice of the rank
:func:`adaptive_rows`      budgets set while training, against the alpha family
:func:`precision_rows`     mixed precision against float32
=========================  ============================================================

with the verdict rules shared by the live and the recorded chapters: :func:`matches`,
:func:`more_first_wins`, :func:`path_correlations` and :func:`efficiency_verdicts`.
"""

from __future__ import annotations

import numpy as np

from . import results


def _records(runs: dict, exp: str) -> list[dict]:
    """The records of one experiment, by seed (and total, for alpha and adaptive)."""
    recs = [r for r in runs.values() if r["config"]["experiment"] == exp]
    return sorted(recs, key=lambda r: (r["config"].get("total", 0), r["config"]["seed"]))


def base_rows(runs: dict) -> dict | None:
    """The reader of the ``base`` records (a).

    Parameters
    ----------
    runs : dict
        {run name: record} of one dataset (a value of :func:`load`).

    Returns
    -------
    dict or None
        ``{"seeds" (S,), "old" (S,) and "new" (S,) accuracies of the base models,
        "pretrain_epochs", "train_old" (images)}``, arrays over the seeds; None without
        base records.
    """
    recs = _records(runs, "base")
    if not recs:
        return None
    return {"seeds": [r["config"]["seed"] for r in recs],
            "old": np.array([r["metrics"]["old_accuracy"] for r in recs]),
            "new": np.array([r["metrics"]["new_accuracy"] for r in recs]),
            "pretrain_epochs": recs[0]["config"]["pretrain_epochs"],
            "train_old": recs[0]["config"]["train_old"]}


def seq_joint_rows(runs: dict) -> dict | None:
    """The reader of the ``seq`` and ``joint`` records (b), over the seeds that have both.

    Parameters
    ----------
    runs : dict
        {run name: record} of one dataset (a value of :func:`load`).

    Returns
    -------
    dict or None
        ``{"seeds", "epochs" (the sequential schedule), "seq" (S, 3) accuracy after each
        component, "old_accuracy" (S,) on the old classes after adaptation, "seq_flops",
        "joint" ({epochs E: (S,) accuracy of joint rank 3}), "joint_flops" ({E: FLOPs}),
        "matched" and "same" (the E of matched FLOPs and of the same epochs)}``; None
        when no seed has both records.
    """
    joints = {r["config"]["seed"]: r for r in _records(runs, "joint")}
    seqs = [r for r in _records(runs, "seq") if r["config"]["seed"] in joints]
    if not seqs:
        return None
    js = [joints[r["config"]["seed"]]["metrics"] for r in seqs]
    keys = sorted(set.intersection(*(set(m["runs"]) for m in js)), key=int)   # counts every seed has
    return {"seeds": [r["config"]["seed"] for r in seqs], "epochs": seqs[0]["metrics"]["epochs"],
            "seq": np.array([r["metrics"]["accuracy"] for r in seqs]),
            "old_accuracy": np.array([r["metrics"]["old_accuracy"] for r in seqs]),
            "seq_flops": seqs[0]["metrics"]["flops"],
            "joint": {int(e): np.array([m["runs"][e]["accuracy"] for m in js]) for e in keys},
            "joint_flops": {int(e): js[0]["runs"][e]["flops"] for e in keys},
            "matched": js[0]["matched_epochs"], "same": js[0]["same_epochs"]}


def online_rows(runs: dict) -> list[dict]:
    """The reader of the ``online`` records (f): one row per seed.

    Parameters
    ----------
    runs : dict
        {run name: record} of one dataset (a value of :func:`load`).

    Returns
    -------
    list of dict
        ``{"seed", "rank" (chosen), "epochs" (spent), "validation" and "test" (accuracy
        after each component), "threshold"}``, by seed.
    """
    return [{"seed": r["config"]["seed"], **{k: r["metrics"][k] for k in
                                             ("rank", "epochs", "validation", "test", "threshold")}}
            for r in _records(runs, "online")]


def alpha_rows(runs: dict) -> dict[int, dict]:
    """The reader of the ``alpha`` records (e): per epoch total, every alpha over the seeds.

    Parameters
    ----------
    runs : dict
        {run name: record} of one dataset (a value of :func:`load`).

    Returns
    -------
    dict
        ``{T: {"seeds", "alphas": {alpha: {"epochs", "accuracy" (S,) final accuracy,
        "flops"}}, "joint": {"accuracy" (S,), "flops"}}}``, totals ascending.
    """
    table = {}
    for rec in _records(runs, "alpha"):
        m = rec["metrics"]
        row = table.setdefault(m["total"], {"seeds": [], "alphas": {},
                                            "joint": {"accuracy": [], "flops": m["joint"]["flops"]}})
        row["seeds"].append(rec["config"]["seed"])
        row["joint"]["accuracy"].append(m["joint"]["accuracy"])
        for sch in m["schedules"]:
            entry = row["alphas"].setdefault(sch["alpha"], {"epochs": sch["epochs"], "accuracy": [],
                                                            "flops": sch.get("flops")})
            entry["accuracy"].append(sch["accuracy"][-1])
    for row in table.values():
        row["joint"]["accuracy"] = np.array(row["joint"]["accuracy"])
        for entry in row["alphas"].values():
            entry["accuracy"] = np.array(entry["accuracy"])
    return dict(sorted(table.items()))


def path_rows(runs: dict) -> list[dict]:
    """The reader of the ``paths`` records (c, d): one row per seed.

    Parameters
    ----------
    runs : dict
        {run name: record} of one dataset (a value of :func:`load`).

    Returns
    -------
    list of dict
        ``{"seed", "grid", "epochs" (P, 3) epochs of each component of each path,
        "accuracy" (P, 3) accuracy after each component}``, by seed.
    """
    return [{"seed": r["config"]["seed"], "grid": r["metrics"]["grid"],
             "epochs": np.array([p["epochs"] for p in r["metrics"]["paths"]]),
             "accuracy": np.array([p["accuracy"] for p in r["metrics"]["paths"]])}
            for r in _records(runs, "paths")]


def efficiency_rows(runs: dict) -> dict | None:
    """The reader behind Figs. 3 and 11: every sequential architecture and standard LoRA.

    A sequential architecture is an epoch prefix of a recorded sequential run: rank 1 after
    its first component, rank 2 after two, rank 3 after three (the ``seq`` run and every
    epoch path, so rank 2 covers grid x grid and rank 3 grid x grid x grid). Standard LoRA
    is the ``joint`` record, rank 3 trained together, at each of its epoch counts.

    Parameters
    ----------
    runs : dict
        {run name: record} of one dataset (a value of :func:`load`).

    Returns
    -------
    dict or None
        ``{"sequential": {epochs (tuple of int): (S_c,) accuracy per seed}, "joint":
        {epochs E: (S,) accuracy per seed}, "seeds": {"paths": [...], "joint": [...]}}``;
        accuracy on the new classes, S_c the seeds that recorded that prefix. None when the
        dataset has no joint record or no sequential one.
    """
    b = seq_joint_rows(runs)
    if b is None:
        return None
    return {"sequential": architectures(runs), "joint": b["joint"],
            "seeds": {"paths": [row["seed"] for row in path_rows(runs)], "joint": b["seeds"]}}


def architectures(runs: dict) -> dict:
    """Every sequential architecture recorded: the epoch prefixes of the seq and paths runs.

    Parameters
    ----------
    runs : dict
        {run name: record} of one dataset (a value of :func:`load`).

    Returns
    -------
    dict
        ``{epochs (tuple of int, one per component): (S_c,) accuracy on the new classes
        after the last of them, one per seed that recorded it}``, sorted; a prefix shared by
        several paths of one seed counts once for that seed.
    """
    b = seq_joint_rows(runs)
    per_seed = [([b["epochs"]], [acc]) for acc in b["seq"].tolist()] if b else []
    per_seed += [(row["epochs"].tolist(), row["accuracy"].tolist()) for row in path_rows(runs)]
    configs = {}
    for schedules, accuracies in per_seed:
        seen = {}                                        # one value per prefix and seed
        for epochs, acc in zip(schedules, accuracies):
            for r in range(1, len(epochs) + 1):
                seen[tuple(int(e) for e in epochs[:r])] = acc[r - 1]
        for c, a in seen.items():
            configs.setdefault(c, []).append(a)
    return {c: np.array(a) for c, a in sorted(configs.items())}


def efficiency_verdicts(rows: dict, *, tolerance: float | None = None) -> dict:
    """The printed claims of Figs. 3 and 11, judged on :func:`efficiency_rows`.

    Efficiency is the paper's: test accuracy per training epoch (Section 5.2), with the
    total epochs of all components for a sequential architecture. Seed means throughout.
    An architecture is compared with standard LoRA at the *same total epochs* (the
    figures' horizontal axis), where both were recorded.

    - ``comparable`` (Section 5.2, "comparable parameter efficiency"): at each shared
      total E, the mean efficiency of the sequential architectures with E epochs lies within
      a factor 0.8-1.25 of standard LoRA's. "holds" at every E, "fails" at none.
    - ``higher`` (Appendix F, "consistently higher parameter efficiency"): the share of
      those architectures more efficient than standard LoRA at their E; "holds" at >= 90%,
      "fails" below 50%.
    - ``slight_loss`` (Section 5.2, "with a slight loss of accuracy"): the best sequential
      accuracy within standard LoRA's range of epochs, against standard LoRA's best; a loss
      of 0-2 points "holds", a gain or a larger loss "fails".
    - ``more_training`` (both, "require more total training for comparable accuracy"): for
      each recorded E, the fewest total epochs of an architecture whose accuracy is
      comparable, no more than ``tolerance`` below standard LoRA's at E; "holds" if that is
      more than E at every E, "fails" if at none.

    Parameters
    ----------
    rows : dict
        A value of :func:`efficiency_rows`.
    tolerance : float, optional
        What "comparable accuracy" allows below standard LoRA's, in accuracy. Default: the
        standard deviation of standard LoRA's accuracy over the seeds at that E, the rule
        of :func:`matches`.

    Returns
    -------
    dict
        ``{claim: {"verdict", "detail"}}`` for the four claims above, and ``"table"``:
        ``{E: (standard LoRA accuracy, its efficiency, [(architecture, accuracy,
        efficiency) with total E])}``.
    """
    if not isinstance(rows, dict) or not {"sequential", "joint"} <= set(rows):
        raise TypeError("rows must be a dict of efficiency_rows (with 'sequential' and 'joint')")
    if tolerance is not None:
        tolerance = float(tolerance)
        if not 0 <= tolerance < 1:
            raise ValueError(f"tolerance must lie in [0, 1), got {tolerance}")
    seq = {c: float(a.mean()) for c, a in rows["sequential"].items()}
    joint = {int(e): float(a.mean()) for e, a in rows["joint"].items()}
    table = {e: (a, a / e, [(c, s, s / sum(c)) for c, s in seq.items() if sum(c) == e])
             for e, a in joint.items()}
    shared = {e: t for e, t in table.items() if t[2]}

    def tally(ok, n):
        return "holds" if ok == n else "fails" if ok == 0 else "partly"

    ratios = {e: (np.mean([x[2] for x in t[2]]) / t[1] if t[1] > 0 else np.inf) for e, t in shared.items()}
    ok = sum(0.8 <= r <= 1.25 for r in ratios.values())
    comparable = {"verdict": tally(ok, len(ratios)) if ratios else "no data",
                  "detail": "sequential / standard efficiency at equal epochs: "
                  + ", ".join(f"E={e} {r:.2f}x" if np.isfinite(r) else f"E={e} (standard LoRA at 0%)"
                              for e, r in ratios.items())
                  + f"; within 0.8-1.25x at {ok} of {len(ratios)}"}
    pairs = [(x[2] > t[1]) for t in shared.values() for x in t[2]]
    share = sum(pairs) / len(pairs) if pairs else float("nan")
    higher = {"verdict": ("holds" if share >= 0.9 else "fails" if share < 0.5 else "partly") if pairs
              else "no data",
              "detail": f"{sum(pairs)} of {len(pairs)} sequential architectures ({share:.0%}) more"
                        " efficient than standard LoRA with the same total epochs"}
    top = max(joint)
    inside = {c: s for c, s in seq.items() if sum(c) <= top}
    best_c = max(inside, key=inside.get)
    best_e = max(joint, key=joint.get)
    loss = joint[best_e] - inside[best_c]
    slight = {"verdict": "holds" if 0 <= loss <= 0.02 else "fails",
              "detail": f"best standard LoRA {100 * joint[best_e]:.1f}% ({best_e} epochs), best sequential"
                        f" within {top} epochs {100 * inside[best_c]:.1f}% ({'->'.join(map(str, best_c))}):"
                        f" loss {100 * loss:+.1f} points (slight: 0 to 2)"}
    need = {}
    for e, a in joint.items():
        tol = float(rows["joint"][e].std()) if tolerance is None else tolerance
        reach = [sum(c) for c, s in seq.items() if s >= a - tol]
        need[e] = min(reach) if reach else None
    more = sum(n is None or n > e for e, n in need.items())
    within = "one seed sd" if tolerance is None else f"{100 * tolerance:g} points"
    training = {"verdict": tally(more, len(need)),
                "detail": f"fewest sequential epochs to come within {within} of standard LoRA's"
                          " accuracy at E: " + ", ".join(
                              f"E={e}: {'none recorded' if n is None else n}" for e, n in need.items())
                          + f"; more than E at {more} of {len(need)}"}
    return {"comparable": comparable, "higher": higher, "slight_loss": slight, "more_training": training,
            "table": table}


#: Colour and label of each architecture family in :func:`plot_efficiency`.
FAMILIES = {1: ("tab:blue", "Rank-1"), 2: ("tab:green", "Rank-2"), 3: ("tab:purple", "Rank-3"),
            "joint": ("black", "standard LoRA (r = 3)")}


def plot_efficiency(axes, rows: dict, *, title: str = "") -> None:
    """Figs. 3 and 11 redrawn: efficiency and accuracy against total epochs, per family.

    Left: accuracy per epoch against total epochs (log scale), bubble area proportional to
    the relative efficiency (the paper's marker size: efficiency over the largest one).
    Right: the accuracy itself, where "a slight loss of accuracy" and "more total training"
    can be read. Seed means; standard LoRA as black squares joined by a line. A point of
    zero accuracy (a component not yet past its start-up) is drawn on the right only.

    Parameters
    ----------
    axes : sequence of two matplotlib Axes
        The efficiency panel and the accuracy panel.
    rows : dict
        A value of :func:`efficiency_rows`.
    title : str, optional
        Put before each panel's title (the dataset's name).

    Returns
    -------
    None
        The two panels are drawn on.
    """
    if len(axes) != 2:
        raise ValueError(f"axes must be two Axes (efficiency, accuracy), got {len(axes)}")
    if not isinstance(rows, dict) or not {"sequential", "joint"} <= set(rows):
        raise TypeError("rows must be a dict of efficiency_rows (with 'sequential' and 'joint')")
    seq = {c: float(a.mean()) for c, a in rows["sequential"].items()}
    joint = {int(e): float(a.mean()) for e, a in sorted(rows["joint"].items())}
    top = max([s / sum(c) for c, s in seq.items()] + [a / e for e, a in joint.items()])
    ax_eff, ax_acc = axes
    for r in (1, 2, 3):
        colour, label = FAMILIES[r]
        cs = [c for c in seq if len(c) == r]
        x = np.array([sum(c) for c in cs], dtype=float)
        y = np.array([seq[c] for c in cs])
        on = y > 0                                       # the log axis cannot show a zero
        ax_eff.scatter(x[on], (y / x)[on], s=400 * (y / x)[on] / top, color=colour, alpha=0.45, label=label)
        ax_acc.scatter(x, y, s=14, color=colour, alpha=0.6, label=label)
    colour, label = FAMILIES["joint"]
    e = np.array(list(joint), dtype=float)
    a = np.array(list(joint.values()))
    on = a > 0
    ax_eff.scatter(e[on], (a / e)[on], s=400 * (a / e)[on] / top, color=colour, marker="s", alpha=0.7,
                   label=label)
    ax_eff.plot(e[on], (a / e)[on], color=colour, lw=0.8)
    ax_acc.plot(e, a, "s-", color=colour, ms=5, label=label)
    ax_eff.set_yscale("log")
    ax_eff.set_ylabel("accuracy per epoch")
    ax_acc.set_ylabel("accuracy on the new classes")
    for ax, what in ((ax_eff, "efficiency"), (ax_acc, "accuracy")):
        ax.set_xlabel("total training epochs")
        ax.set_title(f"{title}: {what}" if title else what, fontsize=10)
    ax_acc.legend(fontsize=7, loc="lower right")


def precision_rows(runs: dict) -> list[dict]:
    """The reader of the ``precision`` records against ``seq``: one row per seed with both.

    Parameters
    ----------
    runs : dict
        {run name: record} of one dataset (a value of :func:`load`).

    Returns
    -------
    list of dict
        ``{"seed", "amp" and "fp32" (final accuracy with and without mixed precision)}``.
    """
    amp = {r["config"]["seed"]: r["metrics"]["accuracy"][-1] for r in _records(runs, "seq")}
    return [{"seed": r["config"]["seed"], "amp": amp[r["config"]["seed"]],
             "fp32": r["metrics"]["accuracy"][-1]}
            for r in _records(runs, "precision") if r["config"]["seed"] in amp]


def matches(seq_final, joint) -> tuple[float, float, bool]:
    """The verdict of "sequential matches joint": within one combined sd over seeds.

    Parameters
    ----------
    seq_final : array_like, shape (S,)
        Final accuracy of the sequential runs, per seed.
    joint : array_like, shape (S',)
        Accuracy of the joint runs, per seed.

    Returns
    -------
    diff : float
        Mean sequential minus mean joint.
    spread : float
        ``hypot(sd(seq_final), sd(joint))``, the combined seed spread.
    holds : bool
        ``diff >= -spread``: sequential is no more than the spread below joint.
    """
    seq_final, joint = np.asarray(seq_final, float), np.asarray(joint, float)
    diff = float(seq_final.mean() - joint.mean())
    spread = float(np.hypot(seq_final.std(), joint.std()))
    return diff, spread, bool(diff >= -spread)


def more_first_wins(row: dict) -> bool:
    """Does some alpha > 0 beat the equal split (alpha = 0) in mean final accuracy?

    Parameters
    ----------
    row : dict
        One total of :func:`alpha_rows`; it must hold alpha = 0 and some alpha > 0.

    Returns
    -------
    bool
    """
    mean = {a: e["accuracy"].mean() for a, e in row["alphas"].items()}
    return bool(max(mean[a] for a in mean if a > 0) > mean[0.0])


def path_correlations(row: dict) -> tuple[float, float]:
    """Correlations of the final accuracy of the epoch paths of one seed (:func:`path_rows`).

    Parameters
    ----------
    row : dict
        One row of :func:`path_rows`.

    Returns
    -------
    with_first : float
        Pearson correlation of the final accuracy with the accuracy after component 1.
    with_total : float
        Pearson correlation of the final accuracy with the total epochs of the path.
    """
    final = row["accuracy"][:, -1]
    return (float(np.corrcoef(row["accuracy"][:, 0], final)[0, 1]),
            float(np.corrcoef(row["epochs"].sum(1), final)[0, 1]))


def adaptive_rows(runs: dict) -> list[dict]:
    """The reader of the ``adaptive`` records: one row per (seed, total), live or recorded.

    Parameters
    ----------
    runs : dict
        {run name: record} of one dataset (a value of :func:`load`); only the names that
        start with ``adaptive-`` are read.

    Returns
    -------
    list of dict
        ``{"seed", "total", "adaptive" (final accuracy of the rule), "split" (its epochs per
        component), "family" ({alpha: final accuracy})}``, sorted by run name.
    """
    return [{"seed": rec["config"]["seed"], "total": rec["metrics"]["total"],
             "adaptive": rec["metrics"]["adaptive"]["accuracy"][-1],
             "split": rec["metrics"]["adaptive"]["epochs"],
             "family": {sch["alpha"]: sch["accuracy"][-1] for sch in rec["metrics"]["schedules"]}}
            for name, rec in sorted(runs.items()) if name.startswith("adaptive-")]


def load(out) -> dict[str, dict[str, dict]]:
    """The saved runs of a results folder, by dataset (:func:`onerank.results.read_runs`).

    Parameters
    ----------
    out : str or Path
        The sweep's folder.

    Returns
    -------
    dict
        ``{dataset: {run name: record}}``; {} when the folder is absent.
    """
    return results.read_runs(out)
