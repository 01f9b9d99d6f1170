"""The language probe (authors' notes and code; not in arXiv v1) as a resumable sweep:
every run one JSON file.

``python -m onerank language all --scale full --model distilbert --out results/language``
writes, under ``<out>/<model>/``, for each head variant (``frozen``: the authors' random,
untrained head; ``trainable``) and seed:

==================================  =========================================================
``seq-{head}-s{seed}.json``         sequential rank-1 LoRA, ``steps`` per component: dev
                                    accuracy after each component and the LoRA FLOPs spent
``joint-{head}-s{seed}.json``       joint rank-3 LoRA at the FLOPs of the sequential run after
                                    each component (every pair, not a chosen one), and at
                                    its steps where the scale's ``same_steps`` is set
``alpha-{head}-T{T}-s{seed}.json``  the alpha-family schedules over T components' worth of
                                    steps (T times one component's), and joint at as many
                                    where ``same_steps`` is set
==================================  =========================================================

Files are written atomically (:mod:`onerank.results`) and runs already saved are skipped.
Runs already saved are also not repeated inside another: the alpha family's equal split
is the ``seq`` schedule, and its joint reference at T = 3 is the ``joint`` run at the
same steps, so an alpha run reads those results from the seq and joint records of its
model, head and seed, where they were made with the same settings, and marks the rows
it read with ``"from": <run name>``. The full scale is the authors' setting (all 67,349 sentences, learning rate 2e-5,
one epoch per component); the quick scale is the chapter's CPU size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _validate, config, language, results, schedules

@dataclass(frozen=True)
class LanguageScale:
    """The sizes of one run size (scale) of the language sweep.

    Attributes
    ----------
    model : str
        The default model, a key of :data:`onerank.language.MODELS`.
    train : int or None
        Training sentences drawn with each run's seed; None: all of them.
    dev : int or None
        Validation sentences, one draw with seed 0 shared by every run; None: all 872.
    seeds : int
        Seeds 0, ..., seeds - 1.
    heads : tuple of str
        The head variants, "frozen" (the authors') and "trainable".
    lr : float
        AdamW's learning rate.
    component_epochs : float
        Epochs of training per rank-1 component (:func:`budget`).
    totals : tuple of int
        Budgets of the alpha runs, in components' worth of steps.
    alphas : tuple of float
        The alpha family's exponents.
    same_steps : bool
        Also train joint rank 3 for as many steps as each sequential schedule (besides
        the FLOPs-matched counts).
    """

    model: str
    train: int | None
    dev: int | None
    seeds: int
    heads: tuple
    lr: float
    component_epochs: float
    totals: tuple
    alphas: tuple
    same_steps: bool


#: The two run sizes. The full scale is the authors' setting; the quick scale is the
#: chapter's CPU size: 2,000 training sentences, 16 steps (1/4 of an epoch) per component,
#: and half of the validation set (436 sentences), whose evaluations are most of its cost.
SCALES = {
    "quick": LanguageScale(model="minilm", train=2000, dev=436, seeds=2, heads=("frozen", "trainable"),
                           lr=3e-2, component_epochs=0.25, totals=(3,), alphas=(-1.0, 0.0, 1.0),
                           same_steps=False),
    "full": LanguageScale(model="distilbert", train=None, dev=None, seeds=3, heads=("frozen", "trainable"),
                          lr=2e-5, component_epochs=1.0, totals=(3, 6), alphas=(-1.0, 0.0, 0.25, 0.5, 1.0, 2.0),
                          same_steps=True),
}
EXPERIMENTS = ("seq", "joint", "alpha")


def matched_joint_steps(model, name: str, tokens_per_step: float, steps) -> list[int]:
    """Steps of joint rank-3 LoRA matching the sequential schedule's FLOPs after each component.

    For each k, the steps whose LoRA FLOPs (:func:`onerank.language.flops`) come closest to
    those of the first k + 1 components of ``steps``.

    Parameters
    ----------
    model : nn.Module
        The model, for the shapes of its adapted projections.
    name : str
        Its key in :data:`onerank.language.MODELS`.
    tokens_per_step : float
        Mean real tokens per batch.
    steps : sequence of int
        Steps of each rank-1 component of the sequential schedule.

    Returns
    -------
    list of int
        One entry per component of ``steps``, each at least 1.
    """
    per_step = language.flops(model, name, tokens_per_step, 1, ranks=3)
    return [max(1, round(language.flops(model, name, tokens_per_step, list(steps[:k + 1])) / per_step))
            for k in range(len(steps))]


def plan(scale: str, experiments, heads, seeds) -> list[tuple[str, str, int, int | None]]:
    """The runs of a sweep in execution order: (experiment, head, seed, total).

    Runs follow the order of ``experiments``, then of ``heads``, then of ``seeds``.

    Parameters
    ----------
    scale : str
        A key of :data:`SCALES`.
    experiments : sequence of str
        Experiments, among :data:`EXPERIMENTS`.
    heads : sequence of str
        Head variants, "frozen" or "trainable".
    seeds : iterable of int
        The seeds.

    Returns
    -------
    list of (str, str, int, int or None)
        ``(experiment, head, seed, total)``: ``total`` is the alpha runs' budget in
        components (one run per entry of the scale's ``totals``), None for the other runs.
    """
    for _name, _value in (("experiments", experiments), ("heads", heads), ("seeds", seeds)):
        if isinstance(_value, (str, bytes)) or not hasattr(_value, "__iter__"):
            raise TypeError(f"{_name} must be a list, got {_value!r}")
    for _h in heads:
        _validate.choice(_h, "heads", ("frozen", "trainable"))
    for _s in seeds:
        _validate.seed(_s, "seeds")
    _validate.choice(scale, "scale", SCALES)
    runs = []
    for exp in experiments:
        for head in heads:
            for seed in seeds:
                runs += ([(exp, head, seed, T) for T in SCALES[scale].totals] if exp == "alpha"
                         else [(exp, head, seed, None)])
    return runs


def run_file(model: str, exp: str, head: str, seed: int, total: int | None = None) -> str:
    """Relative path of a run's JSON (see the module docstring).

    Parameters
    ----------
    model : str
        Model key, the subfolder.
    exp : str
        Experiment, among :data:`EXPERIMENTS`.
    head : str
        Head variant.
    seed : int
        The run's seed.
    total : int or None, optional
        The alpha runs' total (None, the default, for the others).

    Returns
    -------
    str
        ``"<model>/<exp>-<head>-s<seed>.json"``, with ``-T<total>`` before ``-s`` when
        ``total`` is given.
    """
    _validate.choice(exp, "exp", EXPERIMENTS)
    _validate.choice(head, "head", ("frozen", "trainable"))
    if not isinstance(model, str) or not model:
        raise TypeError(f"model must be a model name (str), got {model!r}")
    seed = _validate.seed(seed)
    if total is not None:
        total = _validate.integer(total, "total", minimum=1)
    return f"{model}/{exp}-{head}" + (f"-T{total}" if total is not None else "") + f"-s{seed}.json"


def setup(name: str, device: str | None = None):
    """The model and the encoded SST-2 of the probe, as the sweep and the chapter use them.

    Parameters
    ----------
    name : str
        A key of :data:`onerank.language.MODELS`.
    device : str or None, optional
        Torch device; None (the default) means :func:`onerank.config.device`.

    Returns
    -------
    base : nn.Module
        The pretrained model with its classification head (drawn from seed 0), on
        ``device``.
    tokenizer : transformers tokenizer
        Its tokenizer.
    train, dev : onerank.language.Encoded
        On ``device``: all training sentences and the validation sentences.
    """
    device = config.torch_device(device)
    base, tokenizer = language.load_model(name, seed=0, device=device)
    data = language.encoded_sst2(name, tokenizer)
    return base, tokenizer, data["train"].to(device), data["dev"].to(device)


def budget(train, scale: str) -> tuple[int, int, float]:
    """Step counts of a training set at the scale's ``component_epochs``.

    Parameters
    ----------
    train : onerank.language.Encoded
        The training sentences (N of them).
    scale : str
        A key of :data:`SCALES`.

    Returns
    -------
    epoch : int
        Steps per epoch at batch 32, ``ceil(N / 32)``.
    per_component : int
        Steps per component, ``component_epochs * epoch`` rounded, at least 1.
    tokens_per_step : float
        Mean real tokens per step: the set's tokens divided by ``epoch``.
    """
    _validate.choice(scale, "scale", SCALES)
    epoch = language.steps_per_epoch(len(train))
    return epoch, max(1, round(SCALES[scale].component_epochs * epoch)), train.tokens / epoch


def _seq(base, name, train, dev, per_component, tps, T, p, common, known) -> dict:
    steps = [per_component] * 3
    res = language.sequential(base, name, train, dev, steps, **common)
    return {"steps": steps, "accuracy": res["accuracy"],
            "flops": [language.flops(base, name, tps, steps[:k + 1]) for k in range(3)]}


def _joint(base, name, train, dev, per_component, tps, T, p, common, known) -> dict:
    steps = [per_component] * 3
    matched = matched_joint_steps(base, name, tps, steps)
    runs = {str(t): {"accuracy": language.joint(base, name, train, dev, 3, t, **common)["accuracy"],
                     "flops": language.flops(base, name, tps, t, ranks=3)}
            for t in sorted({*matched, *([sum(steps)] if p.same_steps else [])})}
    return {"matched_steps": matched, "same_steps": sum(steps) if p.same_steps else None, "runs": runs}


def alpha_family(base, name: str, train, dev, total: int, alphas, tokens_per_step: float, *,
                 known: dict | None = None, **common) -> list[dict]:
    """Sequential rank-1 LoRA with the alpha-family split of ``total`` steps, per alpha.

    Each split is :func:`onerank.schedules.allocate` ``(total, 3, alpha, floor=0)``,
    trained by :func:`onerank.language.sequential`.

    Parameters
    ----------
    base, name, train, dev
        As for :func:`onerank.language.sequential`.
    total : int
        Optimiser steps over three components (a component may get none).
    alphas : sequence of float
        The exponents of the family.
    tokens_per_step : float
        Mean real tokens per step, for the FLOPs.
    known : dict or None, optional
        ``{split (tuple of int): (accuracy after each component, run name)}``: results of
        identical runs already made (the sweep's ``seq`` run has the equal split); a
        split found there is not trained again, and its row says ``"from": run name``.
    **common
        Keywords of :func:`onerank.language.sequential`: ``head``, ``lr``, ``seed``.

    Returns
    -------
    list of dict
        ``{"alpha", "steps", "accuracy" and "flops" (after each component; the FLOPs are
        cumulative)}`` per alpha; alphas that give the same split share one run.
    """
    done, rows = dict(known or {}), []
    for a in alphas:
        split = tuple(int(x) for x in schedules.allocate(total, 3, a, floor=0))
        if split not in done:
            done[split] = (language.sequential(base, name, train, dev, split, **common)["accuracy"], None)
        acc, source = done[split]
        rows.append({"alpha": a, "steps": list(split), "accuracy": acc,
                     "flops": [language.flops(base, name, tokens_per_step, list(split[:k + 1]))
                               for k in range(len(split))], **({"from": source} if source else {})})
    return rows


def _alpha(base, name, train, dev, per_component, tps, T, p, common, known) -> dict:
    total = T * per_component
    rows = alpha_family(base, name, train, dev, total, p.alphas, tps, known=known["seq"], **common)
    out = {"total_steps": total, "schedules": rows}
    if p.same_steps:                             # joint rank 3 for as many steps
        out["joint"] = {"steps": total, "flops": language.flops(base, name, tps, total, ranks=3)}
        if total in known["joint"]:
            out["joint"]["accuracy"], out["joint"]["from"] = known["joint"][total]
        else:
            out["joint"]["accuracy"] = language.joint(base, name, train, dev, 3, total, **common)["accuracy"]
    return out


#: The config fields that make two runs of one model, head and seed the same run.
_DEFINING = ("model", "head", "seed", "scale", "train_sentences", "dev_sentences", "steps_per_component",
             "lr", "amp")


def _known(out: Path, cfg: dict) -> dict:
    """Results of this (model, head, seed)'s saved seq and joint runs, where they were made
    with the same settings: ``{"seq": {split: (accuracy, run)}, "joint": {steps: (accuracy,
    run)}}``. The alpha runs reuse them instead of training the same runs again."""
    seq, joint = (out / run_file(cfg["model"], exp, cfg["head"], cfg["seed"]) for exp in ("seq", "joint"))
    return results.known_runs(seq, joint, cfg, _DEFINING, "steps")


#: experiment -> the function that makes its metrics (see the module docstring).
EXPERIMENT_RUNS = {"seq": _seq, "joint": _joint, "alpha": _alpha}


def run(out, *, scale: str = "full", model: str | None = None, experiments=None, heads=None, seeds=None,
        force: bool = False, progress: bool = True, device: str | None = None) -> list[Path]:
    """Run (or resume) the sweep; returns the JSON files written in this call.

    The model and the data are loaded only when some run is still to do. Each run trains
    on ``SCALES[scale].train`` sentences drawn with its seed (all of them when None), is
    tested on ``SCALES[scale].dev`` validation sentences (one seed-0 draw for every run), and
    first draws the head of the loaded model again from its seed
    (:func:`onerank.language.reset_head`).

    Parameters
    ----------
    out : str or Path
        Folder of the results (``results/language`` for a recorded run).
    scale : str, optional
        "quick" or "full" (:data:`SCALES`). Default is "full".
    model : str or None, optional
        A key of :data:`onerank.language.MODELS`. Default the scale's.
    experiments : sequence of str or None, optional
        Subset of :data:`EXPERIMENTS`. Default all.
    heads : sequence of str or None, optional
        Subset of ("frozen", "trainable"). Default the scale's.
    seeds : int or None, optional
        The number of seeds, >= 1: seeds 0, ..., seeds - 1. Default the scale's.
    force : bool, optional
        Rerun runs whose files exist. Default is False.
    progress : bool, optional
        Show a progress bar over the runs. Default is True.
    device : str or None, optional
        Torch device; None (the default) means :func:`onerank.config.device`.

    Returns
    -------
    list of Path
        The JSON files written in this call, in execution order (runs already saved are
        skipped).

    Raises
    ------
    ValueError
        If ``scale``, ``model``, ``experiments``, ``heads`` or ``seeds`` is not one allowed
        above.
    """
    _validate.flag(force, "force"), _validate.flag(progress, "progress")
    out = _validate.path(out, "out")
    _validate.choice(scale, "scale", SCALES)
    if heads is not None and (isinstance(heads, str) or not hasattr(heads, "__iter__")):
        raise TypeError(f"heads must be a list of heads, got {heads!r}")
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {sorted(SCALES)}, got {scale!r}")
    p = SCALES[scale]
    name = model or p.model
    if name not in language.MODELS:
        raise ValueError(f"model must be one of {sorted(language.MODELS)}, got {name!r}")
    experiments = list(EXPERIMENTS if experiments is None else experiments)
    bad = [e for e in experiments if e not in EXPERIMENTS]
    if bad:
        raise ValueError(f"experiments must be among {EXPERIMENTS}, got {bad}")
    heads = list(heads or p.heads)
    if any(h not in ("frozen", "trainable") for h in heads):
        raise ValueError(f"heads must be among ('frozen', 'trainable'), got {heads}")
    if seeds is not None:
        seeds = _validate.integer(seeds, "seeds", minimum=1)
    seeds = range(seeds if seeds is not None else p.seeds)
    out, device = Path(out), config.torch_device(device)
    runs = [results.Run(out / run_file(name, exp, head, seed, T),
                        {"model": name, "source": language.MODELS[name]["source"], "experiment": exp,
                         "head": head, "seed": seed, "scale": scale, **({"total_components": T} if T else {})},
                        f"python -m onerank language {exp} --scale {scale} --model {name} --out {out}"
                        f" --heads {head} --seeds {seed + 1}")
            for exp, head, seed, T in plan(scale, experiments, heads, seeds)]
    loaded = {}                                     # the model is loaded only if a run is to do

    def do(run):
        if not loaded:
            loaded["base"], _, loaded["train"], loaded["dev"] = setup(name, device)
        base, dev = loaded["base"], loaded["dev"].subset(p.dev, seed=0)
        cfg = run.config
        train = loaded["train"].subset(p.train, seed=cfg["seed"])
        epoch, per_component, tps = budget(train, scale)
        language.reset_head(base, name, cfg["seed"])
        common = dict(head=cfg["head"], lr=p.lr, seed=cfg["seed"])
        share = float(dev.labels.float().mean())
        sizes = {"train_sentences": len(train), "train_pool": len(loaded["train"]),
                 "dev_sentences": len(dev), "dev_majority": max(share, 1 - share),
                 "parameters": sum(t.numel() for t in base.parameters()),
                 "lora_projections": len(language.target_names(base, name)), "steps_per_epoch": epoch,
                 "steps_per_component": per_component, "lr": p.lr, "batch": 32, "weight_decay": 0.01,
                 "max_length": 128, "amp": device.startswith("cuda"), "tokens_per_step": tps}
        known = _known(out, {**cfg, **sizes}) if cfg["experiment"] == "alpha" else None
        metrics = EXPERIMENT_RUNS[cfg["experiment"]](base, name, train, dev, per_component, tps,
                                                     cfg.get("total_components"), p, common, known)
        return sizes, metrics

    return results.run_sweep(runs, do, force=force, progress=progress, desc="language runs", device=device,
                             about=f"scale {scale}, model {name}, device {device}")


# ------------------------------------------------------------------ readers
# One reader per experiment: records (live, from the chapter's temporary folder, or
# recorded, from results/language) -> the rows the chapter prints and plots.

def _records(runs: dict, exp: str, head: str) -> list[dict]:
    recs = [r for r in runs.values() if r["config"]["experiment"] == exp and r["config"]["head"] == head]
    return sorted(recs, key=lambda r: (r["config"].get("total_components") or 0, r["config"]["seed"]))


def pair_rows(runs: dict, head: str = "frozen") -> dict | None:
    """The reader of the ``seq`` and ``joint`` records of one head, over the seeds with both.

    Parameters
    ----------
    runs : dict
        {run name: record} of one model (a value of :func:`load`).
    head : {"frozen", "trainable"}, optional
        The head variant. Default is "frozen".

    Returns
    -------
    dict or None
        ``{"seeds", "steps" (the sequential schedule), "seq" (S, 3) accuracy after each
        component, "seq_flops" (3,) cumulative LoRA FLOPs, "matched" (3,) joint steps of
        matched FLOPs, "joint" (S, 3) joint accuracy at those steps, "same" (S,) joint
        accuracy at the sequential run's steps, or None where not run}``; None when no seed
        has both records.
    """
    _validate.choice(head, "head", ("frozen", "trainable"))
    if not isinstance(runs, dict) or not all(isinstance(v, dict) for v in runs.values()):
        raise TypeError(f"runs must be a dict of run name to record (from load), got {type(runs).__name__}")
    joints = {r["config"]["seed"]: r["metrics"] for r in _records(runs, "joint", head)}
    seqs = [r for r in _records(runs, "seq", head) if r["config"]["seed"] in joints]
    if not seqs:
        return None
    js = [joints[r["config"]["seed"]] for r in seqs]
    matched, same = js[0]["matched_steps"], js[0]["same_steps"]
    return {"seeds": [r["config"]["seed"] for r in seqs], "steps": seqs[0]["metrics"]["steps"],
            "seq": np.array([r["metrics"]["accuracy"] for r in seqs]),
            "seq_flops": np.array(seqs[0]["metrics"]["flops"]), "matched": matched,
            "joint": np.array([[m["runs"][str(t)]["accuracy"] for t in matched] for m in js]),
            "same": None if same is None else np.array([m["runs"][str(same)]["accuracy"] for m in js])}


def alpha_rows(runs: dict, head: str = "frozen") -> dict[int, dict]:
    """The reader of the ``alpha`` records of one head: per budget, every alpha over the seeds.

    Parameters
    ----------
    runs : dict
        {run name: record} of one model (a value of :func:`load`).
    head : {"frozen", "trainable"}, optional
        The head variant. Default is "frozen".

    Returns
    -------
    dict
        ``{T (components' worth of steps): {"seeds", "total_steps", "alphas": {alpha:
        {"steps", "accuracy" (S, 3) after each component, "flops" (3,) cumulative}},
        "joint" ((S,) accuracy of joint rank 3 at the total steps, or None where not run)}}``,
        budgets ascending.
    """
    _validate.choice(head, "head", ("frozen", "trainable"))
    if not isinstance(runs, dict) or not all(isinstance(v, dict) for v in runs.values()):
        raise TypeError(f"runs must be a dict of run name to record (from load), got {type(runs).__name__}")
    table = {}
    for rec in _records(runs, "alpha", head):
        m, T = rec["metrics"], rec["config"]["total_components"]
        row = table.setdefault(T, {"seeds": [], "total_steps": m["total_steps"], "alphas": {}, "joint": []})
        row["seeds"].append(rec["config"]["seed"])
        row["joint"].append(m["joint"]["accuracy"] if "joint" in m else None)
        for sch in m["schedules"]:
            entry = row["alphas"].setdefault(sch["alpha"], {"steps": sch["steps"], "accuracy": [],
                                                            "flops": np.array(sch["flops"])})
            entry["accuracy"].append(sch["accuracy"])
    for row in table.values():
        row["joint"] = None if None in row["joint"] else np.array(row["joint"])
        for entry in row["alphas"].values():
            entry["accuracy"] = np.array(entry["accuracy"])
    return dict(sorted(table.items()))


def load(out) -> dict[str, dict[str, dict]]:
    """The saved runs of a results folder, by model (:func:`onerank.results.read_runs`).

    Parameters
    ----------
    out : str or Path
        The sweep's folder.

    Returns
    -------
    dict
        ``{model: {run name: record}}``; {} when the folder is absent.
    """
    out = _validate.path(out, "out")
    return results.read_runs(out)
