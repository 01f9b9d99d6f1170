"""Command line of the book's long experiments; each resumes where an interrupted run stopped.

Installed as the console script ``onerank`` (the same as ``python -m onerank``).

``onerank synthetic <figure ...|all> --setting code|code-instances|paper --out DIR``
    Writes each figure of the synthetic experiments as PNG, PDF and JSON (its numbers
    and how they were made) under ``DIR/<setting>/``; several figures run in one process
    and share their runs. ``all`` adds the budget sweep, the variants and the eq. (4)
    baseline where the setting has a sweep (the paper setting).
``onerank vision <experiment ...|all> --scale full --out DIR``
    Runs the image experiments (:mod:`onerank.vision_sweep`), one JSON per run under
    ``DIR/<dataset>/``.
``onerank bounds --scale full --out DIR``
    Runs the cascade sweep of the "Errors add" chapter (:data:`onerank.theory.CASCADE_SWEEP`)
    and saves every bound of every run as ``DIR/cascade_sweep.json``.
``onerank language <experiment ...|all> --scale full --model distilbert --out DIR``
    Runs the SST-2 probe (:mod:`onerank.language_sweep`), one JSON per run under
    ``DIR/<model>/``.

Results already saved are skipped; ``--force`` recomputes them. Every sweep shows a
progress line with the time elapsed and an estimate of the time left.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from . import synthetic


SCALE_HELP = "the run size: full (default) or quick (the chapters' size); --profile is its old name"


def _sweep(name: str):
    """The sweep module of a command, imported only when needed (it imports torch, 3 s)."""
    return importlib.import_module(f".{name}_sweep", __package__)


def _experiments(name: str, command: str | None) -> list:
    """The experiments of sweep ``name``; placeholders when another command runs."""
    if command not in (None, name):
        return ["all"]
    return list(_sweep(name).EXPERIMENTS) + ["all"]


def _epilog(command: str | None) -> str:
    if command is not None:
        return "'onerank COMMAND --help' gives each command's options."
    return ("experiments:\n"
            f"  synthetic: {', '.join(sorted(synthetic.FIGURES))}, all\n"
            f"  vision:    {', '.join(_experiments('vision', None)[:-1])}, all\n"
            f"  language:  {', '.join(_experiments('language', None)[:-1])}, all\n"
            "  bounds:    the cascade sweep of the Errors add chapter (no experiment names)\n"
            "'onerank COMMAND --help' gives each command's options.")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # The synthetic experiments need no torch: import a sweep's module only for its command.
    command = argv[0] if argv and argv[0] in ("synthetic", "vision", "language", "bounds") else None
    parser = argparse.ArgumentParser(prog="onerank", description=__doc__.splitlines()[0], epilog=_epilog(command),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    syn = sub.add_parser("synthetic", help="the synthetic experiments (Section 5.1, Appendix E)")
    syn.add_argument("figures", nargs="+", choices=sorted(synthetic.FIGURES) + ["all"])
    syn.add_argument("--setting", choices=sorted(synthetic.SETTINGS), required=True)
    syn.add_argument("--out", required=True, help="output folder")
    syn.add_argument("--scale", "--profile", dest="scale", choices=("quick", "full"), default="full",
                     help="full (default): the setting's real size; quick: the chapters' size; "
                          "--profile is its old name")
    syn.add_argument("--force", action="store_true", help="recompute figures already saved")
    vis = sub.add_parser("vision", help="the image experiments (Section 5.2), resumable")
    vis.add_argument("experiments", nargs="+", choices=_experiments("vision", command))
    vis.add_argument("--out", required=True, help="output folder (results/vision for the recorded run)")
    vis.add_argument("--scale", "--profile", dest="scale", choices=("quick", "full"), default="full",
                     help=SCALE_HELP)
    vis.add_argument("--datasets", nargs="+", choices=("mnist", "cifar10", "cifar100"),
                     help="default: every dataset that can be loaded")
    vis.add_argument("--seeds", type=int, default=None, help="number of seeds (default: the scale's)")
    vis.add_argument("--totals", type=int, nargs="+", default=None,
                     help="epoch totals of the alpha and adaptive runs (default: the scale's)")
    vis.add_argument("--force", action="store_true", help="rerun runs already saved")
    lang = sub.add_parser("language", help="the SST-2 probe (authors' notes and code), resumable")
    lang.add_argument("experiments", nargs="+", choices=_experiments("language", command))
    lang.add_argument("--out", required=True, help="output folder (results/language for the recorded run)")
    lang.add_argument("--scale", "--profile", dest="scale", choices=("quick", "full"), default="full",
                      help=SCALE_HELP)
    lang.add_argument("--model", choices=("distilbert", "minilm"), default=None,
                      help="default: the scale's (full: distilbert, needs a download; minilm works offline)")
    lang.add_argument("--heads", nargs="+", choices=("frozen", "trainable"), default=None)
    lang.add_argument("--seeds", type=int, default=None, help="number of seeds (default: the scale's)")
    lang.add_argument("--force", action="store_true", help="rerun runs already saved")
    bnd = sub.add_parser("bounds", help="the cascade sweep of the Errors add chapter (the book's own)")
    bnd.add_argument("--out", required=True, help="output folder (results/bounds for the recorded run)")
    bnd.add_argument("--scale", choices=("quick", "full"), default="full", help=SCALE_HELP)
    bnd.add_argument("--force", action="store_true", help="recompute a record already saved")
    args = parser.parse_args(argv)
    if args.command == "bounds":
        return _bounds(args)
    if args.command == "language":
        start = time.perf_counter()
        exps = None if "all" in args.experiments else args.experiments
        written = _sweep("language").run(args.out, scale=args.scale, model=args.model, experiments=exps,
                                     heads=args.heads, seeds=args.seeds, force=args.force)
        print(f"{len(written)} runs written to {args.out} in {time.perf_counter() - start:.1f} s")
        return 0
    if args.command == "vision":
        start = time.perf_counter()
        exps = None if "all" in args.experiments else args.experiments
        written = _sweep("vision").run(args.out, scale=args.scale, datasets=args.datasets, experiments=exps,
                                   seeds=args.seeds, totals=args.totals, force=args.force)
        print(f"{len(written)} runs written to {args.out} in {time.perf_counter() - start:.1f} s")
        return 0
    from .config import progress

    if "all" in args.figures:
        sweep = bool(synthetic.setting(args.setting, scale=args.scale).budgets)
        figures = [f for f in synthetic.FIGURES if sweep or f not in synthetic.SWEEP_FIGURES]
    else:
        figures = list(dict.fromkeys(args.figures))
    total = time.perf_counter()
    for fig in (bar := progress(figures, desc="synthetic figures", unit="figure")):
        bar.set_postfix_str(fig)
        start = time.perf_counter()
        synthetic.write(fig, args.setting, args.out, scale=args.scale, force=args.force)
        bar.write(f"{fig}: {time.perf_counter() - start:.1f} s -> {args.out}/{args.setting}/{fig}.{{json,png,pdf}}")
    print(f"total {time.perf_counter() - total:.1f} s")
    return 0


def _bounds(args) -> int:
    """``onerank bounds``: the cascade sweep, saved with its provenance (skipped if saved)."""
    from pathlib import Path

    from . import results, theory

    target = Path(args.out) / "cascade_sweep.json"
    if target.exists() and not args.force:
        try:
            saved = results.read_json(target)
            if saved.get("scale") == args.scale and "runs" in saved and "run" in saved:
                print(f"{target}: saved already ({len(saved['runs'])} runs); --force recomputes it")
                return 0
            print(f"{target}: a record of another run size or a broken one; recomputing it")
        except (OSError, ValueError) as err:
            print(f"{target}: broken record ({err}); recomputing it")
    start = time.perf_counter()
    rec = theory.cascade_record(args.scale)
    rec["run"] = {**results.provenance(device="cpu"), "scale": args.scale,
                  "wall_seconds": time.perf_counter() - start,
                  "command": f"python -m onerank bounds --scale {args.scale} --out {args.out}"}
    results.write_json(target, rec)
    print(f"{len(rec['runs'])} runs -> {target} in {rec['run']['wall_seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
