"""The language probe (authors' notes and code; not in arXiv v1) as a resumable sweep:
every run one JSON file.

``python -m onerank language all --scale full --model distilbert --out results/language``
writes, under ``<out>/<model>/``, for each head variant (``frozen``: the authors' random,
untrained head; ``trainable``) and seed:

==============================  =============================================================
``seq-{head}-s{seed}.json``     sequential rank-1 LoRA, ``steps`` per component: dev accuracy
                                after each component and the LoRA FLOPs spent up to it
``joint-{head}-s{seed}.json``   joint rank-3 LoRA at the FLOPs of the sequential run after
                                each component (every pair, not a chosen one), and at its steps
``alpha-{head}-T{T}-s{seed}``   the alpha-family schedules at T total steps, and joint at T
==============================  =============================================================

Files are written atomically (:mod:`onerank.results`) and runs already saved are skipped.
The full scale is the authors' setting (all 67,349 sentences, learning rate 2e-5,
one epoch per component); the quick scale is the chapter's CPU size.
"""

from __future__ import annotations

import time
from pathlib import Path


from . import config, language, results, schedules

SCALES = {
    "quick": dict(model="minilm", train=2000, seeds=2, heads=("frozen", "trainable"), lr=1e-2,
                  component_epochs=0.5, totals=(3,), alphas=(-1.0, 0.0, 1.0, 2.0)),
    "full": dict(model="distilbert", train=None, seeds=3, heads=("frozen", "trainable"), lr=2e-5,
                 component_epochs=1.0, totals=(3, 6), alphas=(-1.0, 0.0, 0.25, 0.5, 1.0, 2.0)),
}
EXPERIMENTS = ("seq", "joint", "alpha")


def matched_joint_steps(model, name: str, tokens_per_step: float, steps) -> list[int]:
    """Steps of joint rank-3 LoRA whose LoRA FLOPs come closest to those of the sequential
    schedule ``steps`` after each of its components."""
    per_step = language.flops(model, name, tokens_per_step, 1, ranks=3)
    return [max(1, round(language.flops(model, name, tokens_per_step, list(steps[:k + 1])) / per_step))
            for k in range(len(steps))]


def run(out, *, scale: str = "full", model: str | None = None, experiments=None, heads=None, seeds=None,
        force: bool = False, progress: bool = True, device: str | None = None) -> list[Path]:
    """Run (or resume) the sweep; returns the JSON files written in this call."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {sorted(SCALES)}, got {scale!r}")
    p = dict(SCALES[scale])
    name = model or p["model"]
    if name not in language.MODELS:
        raise ValueError(f"model must be one of {sorted(language.MODELS)}, got {name!r}")
    experiments = list(EXPERIMENTS if experiments is None else experiments)
    bad = [e for e in experiments if e not in EXPERIMENTS]
    if bad:
        raise ValueError(f"experiments must be among {EXPERIMENTS}, got {bad}")
    heads = list(heads or p["heads"])
    if any(h not in ("frozen", "trainable") for h in heads):
        raise ValueError(f"heads must be among ('frozen', 'trainable'), got {heads}")
    if seeds is not None and int(seeds) < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    seeds = range(int(seeds) if seeds is not None else p["seeds"])
    out, device = Path(out), device or config.device()
    folder = out / name

    units = []
    for exp in experiments:
        for head in heads:
            for seed in seeds:
                if exp == "alpha":
                    units += [(exp, head, seed, T, folder / f"alpha-{head}-T{T}-s{seed}.json") for T in p["totals"]]
                else:
                    units.append((exp, head, seed, None, folder / f"{exp}-{head}-s{seed}.json"))
    todo = [u for u in units if force or not u[-1].exists()]
    print(f"{len(units)} runs in the sweep, {len(units) - len(todo)} already saved, {len(todo)} to do "
          f"(scale {scale}, model {name}, device {device})", flush=True)
    if not todo:
        return []
    base, tokenizer = language.load_model(name, seed=0, device=device)
    data = language.encoded_sst2(name, tokenizer)
    train_all, dev = data["train"].to(device), data["dev"].to(device)
    written = []
    for exp, head, seed, T, target in config.progress(todo, enabled=progress, desc="language runs"):
        train = train_all.subset(p["train"], seed=seed)
        epoch = language.steps_per_epoch(len(train))
        per_component = max(1, round(p["component_epochs"] * epoch))
        tps = train.tokens / epoch                                  # mean real tokens per step
        language.reset_head(base, name, seed)
        common = dict(head=head, lr=p["lr"], seed=seed)
        start = time.perf_counter()
        if exp == "seq":
            steps = [per_component] * 3
            res = language.sequential(base, name, train, dev, steps, **common)
            metrics = {"steps": steps, "accuracy": res["accuracy"],
                       "flops": [language.flops(base, name, tps, steps[:k + 1]) for k in range(3)]}
        elif exp == "joint":
            steps = [per_component] * 3
            matched = matched_joint_steps(base, name, tps, steps)
            counts = sorted({*matched, sum(steps)})
            metrics = {"matched_steps": matched, "same_steps": sum(steps),
                       "runs": {str(t): {"accuracy": language.joint(base, name, train, dev, 3, t, **common)["accuracy"],
                                         "flops": language.flops(base, name, tps, t, ranks=3)} for t in counts}}
        else:
            total = T * per_component
            done, rows = {}, []
            for a in p["alphas"]:
                split = tuple(int(x) for x in schedules.allocate(total, 3, a, floor=0))
                if split not in done:
                    done[split] = language.sequential(base, name, train, dev, split, **common)["accuracy"]
                rows.append({"alpha": a, "steps": list(split), "accuracy": done[split],
                             "flops": language.flops(base, name, tps, list(split))})
            metrics = {"total_steps": total, "schedules": rows,
                       "joint": {"steps": total, "accuracy": language.joint(base, name, train, dev, 3, total,
                                                                            **common)["accuracy"],
                                 "flops": language.flops(base, name, tps, total, ranks=3)}}
        cfg = {"model": name, "source": language.MODELS[name]["source"], "experiment": exp, "head": head,
               "seed": seed, "scale": scale, "train_sentences": len(train), "dev_sentences": len(dev),
               "steps_per_epoch": epoch, "steps_per_component": per_component, "lr": p["lr"], "batch": 32,
               "weight_decay": 0.01, "max_length": 128, "amp": device.startswith("cuda"),
               "tokens_per_step": tps, **({"total_components": T} if T else {})}
        results.save_run(target, cfg, metrics, wall_seconds=time.perf_counter() - start, device=device,
                         command=f"python -m onerank language {exp} --scale {scale} --model {name} --out {out}"
                                 f" --heads {head} --seeds {seed + 1}")
        written.append(target)
    return written


def load(out) -> dict[str, dict[str, dict]]:
    """{model: {run name: record}} of a results folder (:func:`onerank.results.read_runs`)."""
    return results.read_runs(out)
