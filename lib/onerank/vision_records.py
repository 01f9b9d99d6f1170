"""The records of the vision sweep, read: one reader per experiment.

:func:`onerank.vision_sweep.run` writes one JSON record per run (its module docstring lists
them). The functions here turn the records of one dataset, live (a chapter's temporary
folder) or recorded (``results/vision``), into the rows that the chapters print and plot
and that :mod:`onerank.figure_claims` judges the printed claims on. They need only numpy,
so that reading results does not need torch.

=====================  ============================================================
:func:`load`           every record of a results folder, by dataset
:func:`base_rows`      (a) the base models
:func:`seq_joint_rows` (b) sequential rank-1 against joint rank-3 LoRA
:func:`path_rows`      (c, d) the epoch paths
:func:`alpha_rows`     (e) the alpha family at fixed epoch totals
:func:`online_rows`    (f) the online choice of the rank
:func:`adaptive_rows`  budgets set while training, against the alpha family
:func:`precision_rows` mixed precision against float32
=====================  ============================================================

with three verdict rules shared by the live and the recorded chapters: :func:`matches`,
:func:`more_first_wins` and :func:`path_correlations`.
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
    keys = sorted(js[0]["runs"], key=int)
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
