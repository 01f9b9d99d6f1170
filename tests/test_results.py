"""Saved records: old field names are migrated on read, so every recorded run still loads."""
import json
import os
import time
from pathlib import Path

import pytest

from onerank import results, vision_records, vision_sweep

ROOT = Path(__file__).resolve().parent.parent


def test_migrate_moves_the_run_size_only():
    old = {"config": {"profile": "full", "seed": 0}, "run": {"profile": "quick"}, "metrics": {"profile": "power"}}
    new = results.migrate(json.loads(json.dumps(old)))
    assert new["config"] == {"scale": "full", "seed": 0} and new["run"] == {"scale": "quick"}
    assert new["metrics"] == {"profile": "power"}                    # not a run size: left alone
    sv = results.migrate({"config": {"profile": "exponential"}})     # a singular-value profile stays
    assert sv == {"config": {"profile": "exponential"}}
    both = results.migrate({"config": {"profile": "quick", "scale": "full"}})
    assert both["config"] == {"profile": "quick", "scale": "full"}   # never overwrites a current field


def test_recorded_runs_load_under_the_current_names():
    vision = vision_records.load(ROOT / "results" / "vision")
    records = [rec for runs in vision.values() for rec in runs.values()]
    assert records, "the repository's recorded vision runs are missing"
    assert all(rec["config"]["scale"] == "full" and "profile" not in rec["config"] for rec in records)
    synthetic = results.read_jsons(ROOT / "results" / "synthetic" / "paper")
    assert synthetic and all(rec["run"]["scale"] == "full" for rec in synthetic.values())


def test_known_runs_reads_only_records_made_with_the_same_settings(tmp_path):
    cfg = {"dataset": "toy", "seed": 0, "scale": "quick", "train_new": 10}
    seq, joint = tmp_path / "seq-s0.json", tmp_path / "joint-s0.json"
    assert results.known_runs(seq, joint, cfg, cfg, "epochs") == {"seq": {}, "joint": {}}   # nothing saved
    results.save_run(seq, cfg, {"epochs": [2, 2, 2], "accuracy": [0.1, 0.2, 0.3]}, wall_seconds=1.0, command="c")
    results.save_run(joint, {**cfg, "train_new": 11}, {"runs": {"6": {"accuracy": 0.4}}}, wall_seconds=1.0,
                     command="c")
    known = results.known_runs(seq, joint, cfg, ("dataset", "seed", "scale", "train_new"), "epochs")
    assert known == {"seq": {(2, 2, 2): ([0.1, 0.2, 0.3], "seq-s0")}, "joint": {}}      # joint: other data
    assert results.saved_like(joint, cfg, ("dataset", "seed")) is not None
    assert results.saved_like(joint, cfg, ("train_new",)) is None


def test_a_broken_record_is_named_by_its_path(tmp_path):
    good = tmp_path / "good.json"
    results.save_run(good, {"seed": 0}, {"accuracy": 0.5}, wall_seconds=1.0, command="c")
    text = good.read_text()
    cases = {"truncated": text[: len(text) // 2], "empty": "", "list": "[1, 2]"}
    for name, content in cases.items():
        (tmp_path / f"{name}.json").write_text(content)
        with pytest.raises(results.BrokenRecord, match=f"{name}.json"):
            results.read_json(tmp_path / f"{name}.json")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="binary.json: not a text file"):
        results.read_json(tmp_path / "binary.json")
    (tmp_path / "partial.json").write_text(json.dumps({"config": {"seed": 0}}))
    with pytest.raises(ValueError, match="partial.json: missing or not an object: metrics, run"):
        results.check_record(tmp_path / "partial.json")
    with pytest.raises(ValueError, match=r"good.json: holds another run \(seed = 0, expected 1\)"):
        results.check_record(good, {"seed": 1})
    assert results.check_record(good, {"seed": 0})["metrics"] == {"accuracy": 0.5}
    with pytest.raises(ValueError, match="binary.json: not a text file"):   # readers name it too
        results.read_jsons(tmp_path)


def test_a_sweep_redoes_broken_and_foreign_records_and_cleans_leftovers(tmp_path, capsys):
    runs = [results.Run(tmp_path / f"run{i}.json", {"seed": i, "grid": (1, 2)}, f"cmd {i}") for i in range(5)]
    done = []

    def do(run):
        done.append(run.config["seed"])
        return {"n": 3}, {"value": run.config["seed"] * 10}

    assert len(results.run_sweep(runs, do, progress=False)) == 5
    assert results.run_sweep(runs, do, progress=False) == [] and done == [0, 1, 2, 3, 4]  # all reused
    text = runs[0].path.read_text()
    runs[0].path.write_text(text[:40])                            # killed mid-write by hand
    runs[1].path.write_text("")
    results.save_run(runs[2].path, {"seed": 7, "grid": [1, 2]}, {}, wall_seconds=0.0, command="x")
    old = tmp_path / ".run3.json.ab12cd34.json"                   # atomic_write's leftovers
    fresh = tmp_path / ".run4.json.zz99yy88.json"
    old.write_text("{"), fresh.write_text("{")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    (tmp_path / ".keep").write_text("")                           # not a leftover
    capsys.readouterr()
    again = results.run_sweep(runs, do, progress=False)
    out = capsys.readouterr().out
    assert [p.name for p in again] == ["run0.json", "run1.json", "run2.json"]
    assert f"{runs[0].path}: not valid JSON" in out and f"{runs[1].path}: empty" in out
    assert f"{runs[2].path}: holds another run (seed = 7, expected 2)" in out
    assert f"removed {old}" in out and not old.exists() and fresh.exists()
    assert (tmp_path / ".keep").exists()
    assert all(results.check_record(r.path, r.config) for r in runs)


def test_atomic_write_syncs_the_file_and_its_folder(tmp_path, monkeypatch):
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    results.write_json(tmp_path / "a.json", {"x": 1})
    assert len(synced) == 3                                      # file, folder before and after
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 1}
