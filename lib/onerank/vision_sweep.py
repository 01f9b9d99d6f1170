"""The vision experiments as a resumable sweep: every run one JSON file.

``python -m onerank vision all --scale full --out results/vision`` reruns the image
experiments of the paper's Section 5.2, with the protocol of the authors' code, for every
dataset it can load and writes, per dataset,

=========================  ====================================================================
``base-s{seed}.json``      (a) the pretrained base model: accuracy on the old and new classes
``seq-s{seed}.json``       (b) sequential rank-1 LoRA: new- and old-class accuracy per component
``joint-s{seed}.json``     (b, c) joint rank-3 LoRA at several epoch counts (the grid's, the
                           authors' 10, the FLOPs-matched count, the sequential run's total)
``online-s{seed}.json``    (f) the online choice of the rank
``alpha-T{T}-s{seed}.json`` (e) the alpha-family schedules (and joint LoRA) at T total epochs
``adaptive-T{T}-s{seed}.json`` budgets set while training (:func:`onerank.vision.sequential_adaptive`)
                           against the alpha family at T total epochs, both trained on the
                           same 90% of the images (the rule reads its held-out 10%)
``paths-s{seed}.json``     (c, d) every epoch path over the grid, accuracy after each component
``seq-fp32-s{seed}.json``  the mixed-precision check: (b) again in float32, on devices where
                           bfloat16 autocast is on (cuda); compare with ``seq-s{seed}``
=========================  ====================================================================

Each file holds the run's configuration, its metrics, the device, library versions, git
commit and wall time (:func:`onerank.results.provenance`); :mod:`onerank.vision_records`
reads them back, one reader per experiment. An alpha run does not train
again what a saved run of the same dataset, seed and settings already holds (the
alpha family's equal split at the ``seq`` total is the ``seq`` run; joint rank 3 at a
total in the ``joint`` record is that run): it reads the result and marks it
``"from": <run name>``. Files are written atomically
and a run whose file exists is skipped, so an interrupted sweep (a closed Colab tab)
resumes where it stopped. Pretrained bases are cached as
``.cache/<dataset>-base-s{seed}-e{epochs}-n{images}.pt``
under the output folder (weights are not results: the folder is git-ignored). Runs go
cheapest first (a, b, f, e, then the epoch-path trees), so a sweep cut short still
fills the main figures.
"""

from __future__ import annotations

import hashlib
import inspect
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from . import _validate, config, data, results, schedules, vision

#: Width of the MLP's hidden layers, and pretraining epochs where a scale names none.
HIDDEN = 512
PRETRAIN_EPOCHS = 10


@dataclass(frozen=True)
class VisionScale:
    """The sizes and schedules of one run size (scale) of the vision sweep.

    Attributes
    ----------
    seeds : int
        Seeds 0, ..., seeds - 1; each has its own pretrained base model.
    train_limit : dict
        {dataset: (old, new)} training images per split; a dataset not named uses all.
    pretrain_epochs : dict
        {dataset: epochs} of pretraining; a dataset not named gets :data:`PRETRAIN_EPOCHS`.
    seq_epochs : tuple of int
        Epochs of each component of the sequential run (b).
    joint_epochs : tuple of int
        Extra epoch counts of joint rank 3 (b), besides the matched and same counts: the
        standard-LoRA points of the efficiency comparison (c), the grid's counts (one run,
        read at each count, so they cost no training beyond the longest).
    grid : tuple of int
        Epochs per component of the epoch paths (c, d): every path over grid x grid x grid.
    totals : tuple of int
        Epoch totals of the alpha and adaptive runs (e).
    alphas : tuple of float
        The alpha family's exponents.
    online_epochs, online_max_rank : int
        Epochs per component and largest rank of the online rule (f).
    threshold : float
        The online rule's smallest validation gain.
    """

    seeds: int
    train_limit: dict
    pretrain_epochs: dict
    seq_epochs: tuple
    joint_epochs: tuple
    grid: tuple
    totals: tuple
    alphas: tuple
    online_epochs: int
    online_max_rank: int
    threshold: float


#: The two run sizes. The full scale is the authors' code's protocol at full size: every
#: training image of the files found (the recorded CIFAR-10 runs read a 4,000-image subset);
#: quick is the chapter's CPU size.
SCALES = {
    "quick": VisionScale(seeds=3, train_limit={"mnist": (12000, 6000)}, pretrain_epochs={"mnist": 3},
                         seq_epochs=(2, 2, 2), joint_epochs=(1, 3, 5), grid=(1, 3, 5), totals=(6, 12),
                         alphas=(-1.0, 0.0, 1.0, 2.0), online_epochs=2, online_max_rank=6, threshold=0.005),
    "full": VisionScale(seeds=5, train_limit={}, pretrain_epochs={}, seq_epochs=(6, 6, 6),
                        joint_epochs=(1, 3, 5, 10),
                        grid=(1, 3, 5, 10), totals=(6, 12, 18, 24, 30, 60),
                        alphas=(-1.0, -0.5, 0.0, 0.5, 1.0, 2.0), online_epochs=2, online_max_rank=10,
                        threshold=0.005),
}
EXPERIMENTS = ("base", "seq", "joint", "online", "alpha", "adaptive", "paths", "precision")


def shapes(features: int, classes: int) -> list[tuple[int, int]]:
    """(in, out) of the three adapted layers of :func:`onerank.vision.mlp`.

    Parameters
    ----------
    features : int
        Input width D of the model.
    classes : int
        Width C of its head.

    Returns
    -------
    list of (int, int)
        ``[(features, HIDDEN), (HIDDEN, HIDDEN), (HIDDEN, classes)]``.
    """
    features = _validate.integer(features, "features", minimum=1)
    classes = _validate.integer(classes, "classes", minimum=1)
    return [(features, HIDDEN), (HIDDEN, HIDDEN), (HIDDEN, classes)]


def matched_joint_epochs(features: int, classes: int, samples: int, seq_epochs) -> int:
    """Epochs of joint rank-3 LoRA whose LoRA FLOPs come closest to the sequential schedule's.

    Both counts are :func:`onerank.vision.lora_flops` on the layers of :func:`shapes`; the
    number of samples is the same on both sides.

    Parameters
    ----------
    features : int
        Input width D of the model.
    classes : int
        Width C of its head.
    samples : int
        Training images per epoch.
    seq_epochs : sequence of int
        Epochs of each rank-1 component of the sequential schedule.

    Returns
    -------
    int
        The FLOPs ratio (sequential over one joint rank-3 epoch), rounded, at least 1.
    """
    samples = _validate.integer(samples, "samples", minimum=1)
    seq_epochs = _validate.counts(seq_epochs, "seq_epochs", minimum=0)
    sh = shapes(features, classes)
    return max(1, round(vision.lora_flops(sh, samples, list(seq_epochs))
                        / vision.lora_flops(sh, samples, 1, ranks=3)))


def _load(name: str, scale: str, device: str, download: bool = True):
    ds = data.load(name, download=download)
    old, new = ds.split()
    lim_old, lim_new = SCALES[scale].train_limit.get(name, (None, None))
    return ds, ds.subset(old, train_limit=lim_old).to(device), ds.subset(new, train_limit=lim_new).to(device)


def _base(name, old, seed, epochs, out: Path, device):
    """The pretrained base for (dataset, seed), from the cache or trained and cached.

    The cache holds the weights (loaded with ``weights_only=True``: tensors only, nothing
    executed) and, beside them, their SHA-256 digest; weights that fail to load, whose
    digest is missing or differs, or that do not fit the model are reported by path and
    the base is trained again.
    """
    cache = out / ".cache" / f"{name}-base-s{seed}-e{epochs}-n{old.x_train.shape[0]}.pt"
    digest = cache.with_name(cache.name + ".sha256")
    model = vision.mlp(old.features, old.classes, HIDDEN, seed=seed).to(device)
    if cache.exists():
        try:
            if not digest.exists() or digest.read_text().strip() != _sha256(cache):
                raise ValueError("its digest is missing or differs")
            model.load_state_dict(torch.load(cache, map_location=device, weights_only=True))
            return model, None
        except Exception as err:                        # noqa: BLE001 (any broken cache: retrain)
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            print(f"{cache}: cached base model not usable ({reason}); training it again", flush=True)
    start = time.perf_counter()
    model = vision.pretrain(old, epochs=epochs, seed=seed, hidden=HIDDEN, classes=old.classes)
    wall = time.perf_counter() - start
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    results.atomic_write(cache, lambda tmp: torch.save(state, tmp))
    results.atomic_write(digest, lambda tmp: Path(tmp).write_text(_sha256(cache) + "\n"))
    return model, wall


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def plan(scale: str, names, experiments, seeds, totals=None) -> list[tuple[str, str, int, dict]]:
    """The runs of a sweep in execution order: (dataset, experiment, seed, parameters).

    Experiments run in the order of :data:`EXPERIMENTS` (whatever the order of
    ``experiments``), then by dataset and by seed; the alpha and adaptive experiments get
    one run per epoch total.

    Parameters
    ----------
    scale : str
        A key of :data:`SCALES`.
    names : sequence of str
        Dataset names.
    experiments : collection of str
        The experiments to plan, among :data:`EXPERIMENTS`.
    seeds : iterable of int
        The seeds.
    totals : sequence of int or None, optional
        The epoch totals of the alpha and adaptive runs; None (the default) means the
        scale's.

    Returns
    -------
    list of (str, str, int, dict)
        ``(dataset, experiment, seed, parameters)``; ``parameters`` is ``{"total": T}`` for
        the alpha and adaptive runs, ``{}`` otherwise.
    """
    for _name, _value in (("names", names), ("experiments", experiments), ("seeds", seeds)):
        if isinstance(_value, (str, bytes)) or not hasattr(_value, "__iter__"):
            raise TypeError(f"{_name} must be a list, got {_value!r}")
    if totals is not None:
        totals = _validate.counts(totals, "totals", minimum=3)
    _validate.choice(scale, "scale", SCALES)
    p = SCALES[scale]
    totals = p.totals if totals is None else totals
    order = [e for e in EXPERIMENTS if e in experiments]
    runs = []
    for exp in order:
        for name in names:
            for seed in seeds:
                if exp in ("alpha", "adaptive"):
                    runs += [(name, exp, seed, {"total": T}) for T in totals]
                else:
                    runs.append((name, exp, seed, {}))
    return runs


def run_file(name: str, exp: str, seed: int, params: dict) -> str:
    """Relative path of a run's JSON (see the module docstring).

    Parameters
    ----------
    name : str
        Dataset name, the subfolder.
    exp : str
        Experiment, among :data:`EXPERIMENTS`.
    seed : int
        The run's seed.
    params : dict
        The run's parameters (:func:`plan`); ``"total"`` is read for the alpha and adaptive
        runs.

    Returns
    -------
    str
        ``"<name>/<exp>-s<seed>.json"``, ``"<name>/<exp>-T<total>-s<seed>.json"`` for the
        alpha and adaptive runs, ``"<name>/seq-fp32-s<seed>.json"`` for the precision run.
    """
    _validate.choice(exp, "exp", EXPERIMENTS)
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a dataset name (str), got {name!r}")
    seed = _validate.seed(seed)
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict, got {type(params).__name__}")
    if exp in ("alpha", "adaptive"):
        return f"{name}/{exp}-T{params['total']}-s{seed}.json"
    if exp == "precision":
        return f"{name}/seq-fp32-s{seed}.json"
    return f"{name}/{exp}-s{seed}.json"


def run(out, *, scale: str = "full", datasets=None, experiments=None, seeds=None, totals=None,
        force: bool = False, progress: bool = True, device: str | None = None,
        download: bool = True) -> list[Path]:
    """Run (or resume) the sweep; returns the JSON files written in this call.

    The precision experiment is dropped, with a printed note, on devices where mixed
    precision is off by default (all but cuda), since its runs would repeat ``seq``.

    Parameters
    ----------
    out : str or Path
        Folder of the results (``results/vision`` for the recorded run).
    scale : str, optional
        "quick" or "full" (:data:`SCALES`). Default is "full".
    datasets : sequence of str or None, optional
        Names to run. Default: those of mnist, cifar10, cifar100 that load (the others are
        skipped with a printed note); a dataset named explicitly that cannot be loaded
        raises FileNotFoundError.
    experiments : sequence of str or None, optional
        Subset of :data:`EXPERIMENTS`. Default all.
    seeds : int or None, optional
        The number of seeds, >= 1: seeds 0, ..., seeds - 1. Default the scale's.
    totals : sequence of int or None, optional
        Epoch totals of the alpha and adaptive runs, each an integer >= 3. Default the
        scale's.
    force : bool, optional
        Rerun runs whose files exist. Default is False.
    progress : bool, optional
        Show a progress bar over the runs. Default is True.
    device : str or None, optional
        Torch device; None (the default) means :func:`onerank.config.device`.
    download : bool, optional
        Download a dataset through torchvision when it is not on disk (default True;
        :func:`onerank.data.load`). The chapters pass False at the quick scale, so that
        an offline machine does not wait on a download that cannot succeed.

    Returns
    -------
    list of Path
        The JSON files written in this call, in execution order (runs already saved are
        skipped).

    Raises
    ------
    ValueError
        If ``scale``, ``experiments``, ``seeds`` or ``totals`` is not one allowed above.
    FileNotFoundError
        If a dataset named in ``datasets`` cannot be loaded.
    """
    for _name, _value in (("download", download), ("force", force), ("progress", progress)):
        _validate.flag(_value, _name)
    if isinstance(datasets, str) or isinstance(experiments, str):
        raise TypeError("datasets and experiments must be lists of names, not one string")
    out = _validate.path(out, "out")
    for _name, _value in (("datasets", datasets), ("experiments", experiments)):
        if _value is not None and not hasattr(_value, "__iter__"):
            raise TypeError(f"{_name} must be a list of names, got {_value!r}")
    for _ds in datasets or ():
        if not isinstance(_ds, str):
            raise TypeError(f"datasets must be a list of dataset names, got {datasets!r}")
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {sorted(SCALES)}, got {scale!r}")
    experiments = list(EXPERIMENTS if experiments is None else experiments)
    bad = [e for e in experiments if e not in EXPERIMENTS]
    if bad:
        raise ValueError(f"experiments must be among {EXPERIMENTS}, got {bad}")
    if seeds is not None:
        seeds = _validate.integer(seeds, "seeds", minimum=1)
    if totals is not None:
        totals = _validate.counts(totals, "totals", minimum=3, what="one epoch for each of 3 components")
    p = SCALES[scale]
    seeds = range(seeds if seeds is not None else p.seeds)
    out = Path(out)
    device = config.torch_device(device)
    amp_default = torch.device(device).type == "cuda"
    if "precision" in experiments and not amp_default:
        experiments.remove("precision")             # nothing to compare: the default is float32 here
        print(f"precision: skipped, mixed precision is off on {device} (runs are float32 already)")
    loaded = {}
    for name in datasets or ("mnist", "cifar10", "cifar100"):
        try:
            loaded[name] = _load(name, scale, device, download=download)
        except FileNotFoundError as err:
            if datasets:
                raise
            # the reason's first clause, without the folders searched (they name this machine)
            print(f"{name}: skipped, {str(err).split(';')[0]} (see onerank.data.load)")
    planned = plan(scale, list(loaded), experiments, seeds, totals)
    runs = []
    # the data folder, when one is named, belongs to the command: without it the rerun
    # would download (or not find) the files
    env = f"{config.DATA_VARIABLE}=<data folder> " if config.data_dir() else ""
    for name, exp, seed, params in planned:
        command = (f"{env}python -m onerank vision {exp} --scale {scale} --out {out} --datasets {name}"
                   f" --seeds {seed + 1}" + (f" --totals {params['total']}" if "total" in params else ""))
        cfg = {"dataset": name, "experiment": exp, "seed": seed, "scale": scale, **params}
        runs.append(results.Run(out / run_file(name, exp, seed, params), cfg, command))
    bases = {}

    def do(run):
        cfg = run.config
        name, exp, seed = cfg["dataset"], cfg["experiment"], cfg["seed"]
        ds, old, new = loaded[name]
        epochs = p.pretrain_epochs.get(name, PRETRAIN_EPOCHS)
        if (name, seed) not in bases:
            bases[(name, seed)] = _base(name, old, seed, epochs, out, device)
        base, base_wall = bases[(name, seed)]
        params = {"total": cfg["total"]} if "total" in cfg else {}
        sizes = {"source": ds.source, "train_old": old.x_train.shape[0], "train_new": new.x_train.shape[0],
                 "test_new": new.x_test.shape[0], "pretrain_epochs": epochs,
                 "amp": False if exp == "precision" else amp_default}
        if exp == "alpha":
            params["known"] = _known(out, {**cfg, **sizes})
        metrics = EXPERIMENT_RUNS[exp](base, old, new, seed, params, p, base_wall)
        return sizes, metrics

    return results.run_sweep(runs, do, force=force, progress=progress, desc="vision runs", device=device,
                             about=f"scale {scale}, device {device}")


def alpha_family(base, new, total: int, alphas, *, seed: int = 0, flops_shapes=None,
                 known: dict | None = None) -> list[dict]:
    """Sequential rank-1 LoRA with the alpha-family split of ``total`` epochs, per alpha.

    Each split is :func:`onerank.schedules.allocate` ``(total, 3, alpha, floor=1)``, so
    every component gets at least one epoch; the splits are trained together by
    :func:`onerank.vision.sequential_many` (the same accuracies as
    :func:`onerank.vision.sequential` for each, with their shared first components trained
    once).

    Parameters
    ----------
    base : nn.Module
        The pretrained model (not modified).
    new : onerank.data.Dataset
        The new-class data, on its device.
    total : int
        Epochs over three components, >= 3.
    alphas : sequence of float
        The exponents of the family.
    seed : int, optional
        Seed of the sequential runs. Default is 0.
    flops_shapes : list of (int, int) or None, optional
        (in, out) shapes of the adapted layers (:func:`shapes`); when given, each row also
        holds its LoRA FLOPs.
    known : dict or None, optional
        ``{split (tuple of int): (accuracy after each component, run name)}``: results of
        identical runs already made (the sweep's ``seq`` run of the same base and seed); a
        split found there is not trained again, and its row says ``"from": run name``.

    Returns
    -------
    list of dict
        One row per alpha, ``{"alpha", "epochs", "accuracy" (after each component)[,
        "flops"]}``; alphas that give the same split share one run.
    """
    if isinstance(alphas, (str, bytes)) or not hasattr(alphas, "__iter__"):
        raise TypeError(f"alphas must be a list of numbers, got {alphas!r}")
    alphas = [_validate.real(a, "alphas") for a in alphas]
    total = _validate.integer(total, "total", minimum=3)
    splits = {a: tuple(int(e) for e in schedules.allocate(total, 3, a, floor=1)) for a in alphas}
    done, rows = dict(known or {}), []
    todo = [ep for ep in dict.fromkeys(splits.values()) if ep not in done]
    if todo:
        done.update({ep: (acc, None) for ep, acc in vision.sequential_many(base, new, todo, seed=seed).items()})
    for a, ep in splits.items():
        row = {"alpha": a, "epochs": list(ep), "accuracy": done[ep][0],
               **({"from": done[ep][1]} if done[ep][1] else {})}
        if flops_shapes is not None:
            row["flops"] = vision.lora_flops(flops_shapes, new.x_train.shape[0], ep)
        rows.append(row)
    return rows


def _base_run(base, old, new, seed, params, p, base_wall) -> dict:
    return {"old_accuracy": vision.accuracy(base, old.x_test, old.y_test),
            "new_accuracy": vision.accuracy(base, new.x_test, new.y_test), "pretrain_seconds": base_wall}


def _seq_run(base, old, new, seed, params, p, base_wall, *, amp=None) -> dict:
    sh = shapes(old.features, old.classes)
    res = vision.sequential(base, new, p.seq_epochs, seed=seed, amp=amp)
    return {"epochs": res["epochs"], "accuracy": res["accuracy"],
            "old_accuracy": vision.accuracy(res["model"], old.x_test, old.y_test),
            "flops": vision.lora_flops(sh, new.x_train.shape[0], res["epochs"])}


def _precision_run(*args) -> dict:
    return _seq_run(*args, amp=False)


def _joint_run(base, old, new, seed, params, p, base_wall) -> dict:
    sh, n = shapes(old.features, old.classes), new.x_train.shape[0]
    matched = matched_joint_epochs(old.features, old.classes, n, p.seq_epochs)
    counts = sorted({*p.joint_epochs, sum(p.seq_epochs), matched})
    res = vision.joint(base, new, 3, counts[-1], seed=seed, at=counts[:-1])   # one run, read at each count
    runs = {}
    for e, r in {**res["at"], counts[-1]: res}.items():
        runs[str(e)] = {"accuracy": r["accuracy"], "flops": vision.lora_flops(sh, n, e, ranks=3),
                        "old_accuracy": vision.accuracy(r["model"], old.x_test, old.y_test)}
    return {"rank": 3, "runs": runs, "matched_epochs": matched, "same_epochs": sum(p.seq_epochs)}


def _online_run(base, old, new, seed, params, p, base_wall) -> dict:
    res = vision.online_rank(base, new, epochs=p.online_epochs, threshold=p.threshold,
                             max_rank=p.online_max_rank, seed=seed)
    return {**res, "threshold": p.threshold,
            "flops": vision.lora_flops(shapes(old.features, old.classes), res["train_samples"],
                                       [p.online_epochs] * res["rank"])}


def _alpha_run(base, old, new, seed, params, p, base_wall) -> dict:
    T, sh = params["total"], shapes(old.features, old.classes)
    known = params.get("known") or {"seq": {}, "joint": {}}
    family = alpha_family(base, new, T, p.alphas, seed=seed, flops_shapes=sh, known=known["seq"])
    joint = {"epochs": T, "flops": vision.lora_flops(sh, new.x_train.shape[0], T, ranks=3)}
    if T in known["joint"]:
        joint["accuracy"], joint["from"] = known["joint"][T]
    else:
        joint["accuracy"] = vision.joint(base, new, 3, T, seed=seed)["accuracy"]
    return {"total": T, "schedules": family, "joint": joint}


#: The config fields that make two runs of one dataset and seed start from the same base
#: model and data.
_DEFINING = ("dataset", "seed", "scale", "source", "train_old", "train_new", "test_new", "pretrain_epochs",
             "amp")


def _known(out: Path, cfg: dict) -> dict:
    """Results of this (dataset, seed)'s saved seq and joint runs, where they were made with
    the same settings: ``{"seq": {epochs: (accuracy, run)}, "joint": {epochs: (accuracy,
    run)}}``. The alpha runs reuse them instead of training the same runs again."""
    seq, joint = (out / run_file(cfg["dataset"], exp, cfg["seed"], {}) for exp in ("seq", "joint"))
    return results.known_runs(seq, joint, cfg, _DEFINING, "epochs")


def _adaptive_run(base, old, new, seed, params, p, base_wall) -> dict:
    T = params["total"]
    res = vision.sequential_adaptive(base, new, T, 3, seed=seed)
    fit = vision.holdout(new, 0.1, seed=seed)[0]
    rule = inspect.signature(vision.sequential_adaptive).parameters
    return {"total": T, "train_samples": res["train_samples"], "stall": rule["stall"].default,
            "share": rule["share"].default,
            "adaptive": {"epochs": res["epochs"], "accuracy": res["accuracy"],
                         "validation_loss": res["validation_loss"]},
            "schedules": alpha_family(base, fit, T, p.alphas, seed=seed)}


def _paths_run(base, old, new, seed, params, p, base_wall) -> dict:
    paths = vision.epoch_paths(base, new, p.grid, seed=seed, progress=True)
    return {"grid": list(p.grid), "paths": [{"epochs": list(k), "accuracy": v} for k, v in paths.items()]}


#: experiment -> the function that makes its metrics (see the module docstring).
EXPERIMENT_RUNS = {"base": _base_run, "seq": _seq_run, "joint": _joint_run, "online": _online_run,
                   "alpha": _alpha_run, "adaptive": _adaptive_run, "paths": _paths_run,
                   "precision": _precision_run}
