"""Saving experiment results so that long sweeps survive interruption.

Every sweep of the book (synthetic figures, vision and language runs) writes each
finished unit of work as one JSON file through :func:`atomic_write`: the data go to a
temporary file in the same folder, which is then renamed over the target. A reader
therefore sees either the old file or the complete new one, never half a file, and a
sweep that is stopped (a closed Colab tab, a killed job) resumes by skipping the units
whose files exist and hold the run they claim (:func:`check_record`; a broken or foreign
file is reported by path and redone). :func:`provenance` is what each file records about
how it was made, and :func:`run_sweep` is the loop that the vision and language sweeps
share.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _validate, config


def atomic_write(path, write_to) -> None:
    """Call ``write_to(tmp)`` on a temporary path beside ``path``, then rename it to ``path``.

    If ``write_to`` raises, ``path`` keeps its old content (or stays absent) and the
    temporary file is removed. Missing parent folders are created; the file is made
    readable by all (mode 0o644).

    Parameters
    ----------
    path : str or path-like
        The target file.
    write_to : callable
        Called once with the temporary path (a str); writes the content there.

    Returns
    -------
    None
    """
    path = _validate.path(path, "path")
    if not callable(write_to):
        raise TypeError(f"write_to must be a function of the temporary path, got {type(write_to).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write_to(tmp)
        os.chmod(tmp, 0o644)                 # mkstemp makes it private; results are for reading
        with open(tmp, "rb") as f:           # the data on disk before the name points at them
            os.fsync(f.fileno())
        _fsync_folder(path.parent)
        os.replace(tmp, path)
        _fsync_folder(path.parent)           # and the rename itself
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:                          # a system that cannot open folders (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


#: Temporary files of :func:`atomic_write` older than this many seconds are leftovers of a
#: killed write (a write takes milliseconds); :func:`clean_leftovers` removes them.
LEFTOVER_AGE = 60.0


def clean_leftovers(folder, *, min_age: float = LEFTOVER_AGE) -> list[Path]:
    """Remove the temporary files that killed :func:`atomic_write` calls left in ``folder``.

    Those are the hidden files ``.<name>.<random><suffix>`` beside a target; only the ones
    not modified for ``min_age`` seconds are removed, so a write in progress in another
    process is left alone.

    Parameters
    ----------
    folder : str or path-like
        The folder, searched recursively; nothing happens when it does not exist.
    min_age : float, optional
        Age in seconds (default :data:`LEFTOVER_AGE`).

    Returns
    -------
    list of Path
        The files removed.
    """
    folder = _validate.path(folder, "folder")
    min_age = _validate.real(min_age, "min_age", nonnegative=True)
    folder = Path(folder)
    if not folder.is_dir():
        return []
    now, removed = time.time(), []
    for p in sorted(folder.rglob(".*")):
        # mkstemp's name: "." + target name + "." + 8 random characters + target suffix
        m = re.fullmatch(r"\.(.+)\.([a-z0-9_]{8})(\.[^.]*)?", p.name)
        if (m and m.group(1).endswith(m.group(3) or "") and p.is_file()
                and now - p.stat().st_mtime >= min_age):
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def write_json(path, obj: dict) -> None:
    """Save ``obj`` as indented JSON at ``path``, atomically.

    Parameters
    ----------
    path : str or path-like
        The target file.
    obj : dict
        A JSON-serialisable record.

    Returns
    -------
    None
    """
    path = _validate.path(path, "path")
    if not isinstance(obj, dict):
        raise TypeError(f"obj must be a dict (a record), got {type(obj).__name__}")
    try:                                # NaN and inf are not JSON: refused, not written bare
        text = json.dumps(obj, indent=1, allow_nan=False)
    except (ValueError, TypeError) as err:
        raise type(err)(f"obj holds a value JSON cannot store ({err}); record NaN as None and "
                        "arrays as lists") from None
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


#: Renamed fields of saved records: (section, old name, new name). Version 0.2 called the
#: run size "scale"; records written before kept it as "profile".
RENAMED = (("config", "profile", "scale"), ("run", "profile", "scale"))


def migrate(record: dict) -> dict:
    """A saved record with the fields of :data:`RENAMED` under their current names.

    Only a run size ("quick" or "full") moves; any other value under an old name (the
    paper's singular-value profile, say) stays where it is.

    Parameters
    ----------
    record : dict
        A parsed record; changed in place.

    Returns
    -------
    dict
        ``record`` itself.
    """
    if not isinstance(record, dict):
        raise TypeError(f"record must be a dict (a parsed record), got {type(record).__name__}")
    for section, old, new in RENAMED:
        part = record.get(section)
        if isinstance(part, dict) and old in part and new not in part and part[old] in ("quick", "full"):
            part[new] = part.pop(old)
    return record


class BrokenRecord(ValueError):
    """A saved record that cannot be used: not JSON, not a record, or another run's."""


def read_json(path) -> dict:
    """One saved record, parsed and :func:`migrate`-d.

    Parameters
    ----------
    path : str or path-like
        The JSON file.

    Returns
    -------
    dict
        The record.

    Raises
    ------
    BrokenRecord
        (a ValueError) naming ``path`` when the file is not UTF-8 JSON holding an object
        (a truncated or emptied file, say).
    """
    path = _validate.path(path, "path")
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except UnicodeDecodeError as err:
        raise BrokenRecord(f"{path}: not a text file ({err.reason})") from None
    except json.JSONDecodeError as err:
        what = "empty" if not err.doc.strip() else f"not valid JSON ({err.msg} at line {err.lineno})"
        raise BrokenRecord(f"{path}: {what}") from None
    except RecursionError:
        raise BrokenRecord(f"{path}: nested too deeply to be a record") from None
    if not isinstance(record, dict):
        raise BrokenRecord(f"{path}: a record must be a JSON object, got {type(record).__name__}")
    return migrate(record)


def check_record(path, config: dict | None = None) -> dict:
    """A sweep's record, read and checked: parsed, with its three parts, and the run it claims.

    Parameters
    ----------
    path : str or path-like
        The record's JSON file.
    config : dict, optional
        The planned configuration of the run the file should hold: each of its fields must
        be saved with the same value (compared as JSON).

    Returns
    -------
    dict
        The record (:func:`read_json`).

    Raises
    ------
    BrokenRecord
        Naming ``path`` and what is wrong.
    """
    path = _validate.path(path, "path")
    if config is not None and not isinstance(config, dict):
        raise TypeError(f"config must be a dict of planned fields, got {type(config).__name__}")
    record = read_json(path)
    missing = [part for part in ("config", "metrics", "run") if not isinstance(record.get(part), dict)]
    if missing:
        raise BrokenRecord(f"{path}: missing or not an object: {', '.join(missing)}")
    if config:
        planned = json.loads(json.dumps(config))
        other = [k for k in planned if record["config"].get(k, _ABSENT) != planned[k]]
        if other:
            k = other[0]
            raise BrokenRecord(f"{path}: holds another run ({k} = {record['config'].get(k, 'absent')!r}, "
                               f"expected {planned[k]!r})")
    return record


_ABSENT = object()


def saved_like(path, config: dict, keys) -> dict | None:
    """The record saved at ``path``, if there is one made with the settings ``config`` names.

    A sweep uses it to reuse a run it has already made inside another one, instead of
    training the same thing again.

    Parameters
    ----------
    path : str or path-like
        The record's JSON file.
    config : dict
        The settings of the run that wants to reuse it.
    keys : iterable of str
        The config fields that must agree.

    Returns
    -------
    dict or None
        The record (:func:`read_json`), or None when the file is absent or a field differs.
    """
    path = _validate.path(path, "path")
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict, got {type(config).__name__}")
    if isinstance(keys, (str, bytes)) or not hasattr(keys, "__iter__"):
        raise TypeError(f"keys must be a list of config field names, got {keys!r}")
    path = Path(path)
    if not path.exists():
        return None
    try:
        rec = check_record(path)
    except BrokenRecord:                    # not reused; its own run reports and redoes it
        return None
    return rec if all(rec["config"].get(k) == config.get(k) for k in keys) else None


def known_runs(seq_path, joint_path, config: dict, keys, schedule: str) -> dict:
    """What a LoRA sweep's saved ``seq`` and ``joint`` runs hold, for reuse by its alpha runs.

    Parameters
    ----------
    seq_path, joint_path : str or path-like
        The records of the sequential run and of the joint runs of one seed.
    config : dict
        The settings of the run that wants to reuse them (:func:`saved_like`).
    keys : iterable of str
        The config fields that must agree.
    schedule : str
        The metrics field of the sequential schedule ("epochs" or "steps").

    Returns
    -------
    dict
        ``{"seq": {schedule (tuple of int): (accuracy after each component, run name)},
        "joint": {length (int): (accuracy, run name)}}``; a record that is absent or made
        with other settings adds nothing.
    """
    seq, joint = saved_like(seq_path, config, keys), saved_like(joint_path, config, keys)
    out = {"seq": {}, "joint": {}}
    if seq:
        out["seq"][tuple(seq["metrics"][schedule])] = (seq["metrics"]["accuracy"], Path(seq_path).stem)
    if joint:
        out["joint"] = {int(n): (r["accuracy"], Path(joint_path).stem) for n, r in joint["metrics"]["runs"].items()}
    return out


def read_jsons(folder, pattern: str = "*.json") -> dict[str, dict]:
    """The parsed JSON files under ``folder`` that match ``pattern``.

    Searched recursively, sorted by path; hidden files and folders, such as unfinished
    temporary files, are left out.

    Parameters
    ----------
    folder : str or path-like
        The folder to search.
    pattern : str, optional
        A glob pattern for the file names (default ``"*.json"``).

    Returns
    -------
    dict of str to dict
        {relative path without suffix: parsed JSON}; {} when the folder does not exist.
    """
    folder = _validate.path(folder, "folder")
    if not isinstance(pattern, str) or not pattern:
        raise TypeError(f"pattern must be a non-empty glob pattern (str), got {pattern!r}")
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {str(p.relative_to(folder).with_suffix("")): read_json(p)
            for p in sorted(folder.rglob(pattern))
            if not any(part.startswith(".") for part in p.relative_to(folder).parts)}


def read_runs(folder) -> dict[str, dict[str, dict]]:
    """The records of a sweep, grouped by subfolder.

    Reads the ``<folder>/<subfolder>/<run>.json`` files of a sweep (one subfolder per
    dataset or model).

    Parameters
    ----------
    folder : str or path-like
        The sweep's folder.

    Returns
    -------
    dict of str to dict of str to dict
        {subfolder: {run name (file stem): record}}; {} when the folder is absent.
    """
    folder = _validate.path(folder, "folder")
    found: dict[str, dict[str, dict]] = {}
    for key, record in read_jsons(folder).items():
        group, _, stem = key.partition("/")
        if stem:
            found.setdefault(group, {})[stem] = record
    return found


def provenance(device: str | None = None) -> dict:
    """Device, library versions and git commit, for the JSON of a run.

    ``commit`` and ``uncommitted_changes`` describe the checkout when the library was
    imported (the code the process runs), not when the record is saved: a commit made
    while a long sweep runs does not relabel its later records. ``uncommitted_changes``
    is True when tracked files differed from ``commit`` then (the commit alone does not
    reproduce the run). ``torch_threads`` matters too:
    results are bitwise reproducible at a fixed thread count, not across thread counts
    (a different split of a BLAS reduction rounds differently, at the 1e-16 level).

    Parameters
    ----------
    device : str, optional
        The torch device name to record (default :func:`onerank.config.device`).

    Returns
    -------
    dict
        ``device``, ``device_name``, ``torch_threads``, ``onerank``, ``numpy``, ``torch``,
        ``python``, ``commit`` (None outside a git checkout) and ``uncommitted_changes``.
    """
    if device is not None:
        device = config.torch_device(device)
    import torch

    from . import __version__
    commit, changed = _STARTED
    dev = device or config.device()
    name = torch.cuda.get_device_name() if dev.startswith("cuda") else platform.processor() or platform.machine()
    return {"device": dev, "device_name": name, "torch_threads": torch.get_num_threads(),
            "onerank": __version__, "numpy": np.__version__, "torch": torch.__version__,
            "python": platform.python_version(), "commit": commit,
            "uncommitted_changes": changed}


def _git_state() -> tuple[str | None, bool]:
    """(commit, uncommitted changes) of the checkout this library was imported from."""
    here = Path(__file__).parent
    try:
        # --no-optional-locks: reading the status takes no lock on the repository (a
        # sweep running beside a git command in the same checkout never blocks it)
        git = ["git", "--no-optional-locks"]
        commit = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True, cwd=here).stdout.strip()
        changed = subprocess.run(git + ["status", "--porcelain", "--untracked-files=no"], capture_output=True,
                                 text=True, check=True, cwd=here).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None, False
    return commit, bool(changed)


#: The checkout's state when this module was imported: the code a long sweep runs is what
#: was loaded then, whatever is committed while it runs, so every record names that.
_STARTED = _git_state()


def save_run(path, config: dict, metrics: dict, *, wall_seconds: float, command: str,
             device: str | None = None) -> dict:
    """Write one run of a sweep as {"config", "metrics", "run"} JSON at ``path`` (atomically).

    "run" is :func:`provenance` plus the wall time and the command that made it.

    Parameters
    ----------
    path : str or path-like
        The record's JSON file.
    config : dict
        The run's configuration.
    metrics : dict
        What the run measured.
    wall_seconds : float
        The run's wall time.
    command : str
        The command that makes this run.
    device : str, optional
        Passed to :func:`provenance`.

    Returns
    -------
    dict
        The record written.
    """
    path = _validate.path(path, "path")
    for _name, _value in (("config", config), ("metrics", metrics)):
        if not isinstance(_value, dict):
            raise TypeError(f"{_name} must be a dict, got {type(_value).__name__}")
    if not isinstance(command, str):
        raise TypeError(f"command must be a str, got {type(command).__name__}")
    wall_seconds = _validate.real(wall_seconds, "wall_seconds", nonnegative=True)
    record = {"config": config, "metrics": metrics,
              "run": {**provenance(device), "wall_seconds": wall_seconds, "command": command}}
    write_json(path, record)
    return record


def _saved(run) -> bool:
    """Whether ``run``'s record exists and holds it; a broken one is reported (and redone)."""
    if not Path(run.path).exists():
        return False
    try:
        check_record(run.path, run.config)
    except BrokenRecord as err:
        print(f"{err}: it will be redone", flush=True)
        return False
    return True


@dataclass(frozen=True)
class Run:
    """One run of a sweep: where its record goes and what the sweep knows before running it.

    Attributes
    ----------
    path : Path, the record's JSON file.
    config : dict, the record's ``config`` as planned (the run adds what it measures).
    command : str, the command that makes this run alone, saved with the record.
    """

    path: Path
    config: dict
    command: str


def run_sweep(runs, do, *, force: bool = False, progress: bool = True, desc: str = "runs",
              device: str | None = None, about: str = "") -> list[Path]:
    """Plan, skip what is saved, run, save atomically: the loop of every resumable sweep.

    Parameters
    ----------
    runs : sequence of Run
        The runs of the sweep (:class:`Run`), in execution order.
    do : callable
        ``Run -> (config, metrics)``; ``config`` updates the run's planned config (sizes of
        the data it loaded, say), ``metrics`` is what it measured.
    force : bool, optional
        Rerun runs whose files exist (default False).
    progress : bool, optional
        Show a progress bar (:func:`onerank.config.progress`; default True).
    desc : str, optional
        The bar's label (default "runs").
    device : str, optional
        Recorded in each run's provenance.
    about : str, optional
        Said in the summary line printed first (scale, model, device).

    Returns
    -------
    list of Path
        The JSON files written in this call, in order.
    """
    if not callable(do):
        raise TypeError(f"do must be a function of a Run, got {type(do).__name__}")
    if runs is None or isinstance(runs, (str, bytes)) or not hasattr(runs, "__iter__"):
        raise TypeError(f"runs must be a sequence of Run, got {type(runs).__name__}")
    runs = list(runs)
    if not all(isinstance(r, Run) for r in runs):
        raise TypeError("runs must hold onerank.results.Run objects")
    if not isinstance(desc, str) or not isinstance(about, str):
        raise TypeError(f"desc and about must be str, got {desc!r} and {about!r}")
    _validate.flag(force, "force"), _validate.flag(progress, "progress")
    runs = list(runs)
    for folder in sorted({Path(r.path).parent for r in runs}):
        for p in clean_leftovers(folder):
            print(f"removed {p}, left by a write that was killed", flush=True)
    todo = [r for r in runs if force or not _saved(r)]
    print(f"{len(runs)} runs in the sweep, {len(runs) - len(todo)} already saved, {len(todo)} to do"
          + (f" ({about})" if about else ""), flush=True)
    written = []
    for run in config.progress(todo, enabled=progress, desc=desc):
        start = time.perf_counter()
        extra, metrics = do(run)
        save_run(run.path, {**run.config, **extra}, metrics, wall_seconds=time.perf_counter() - start,
                 device=device, command=run.command)
        written.append(Path(run.path))
    return written
