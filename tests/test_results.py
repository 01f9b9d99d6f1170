"""Saved records: old field names are migrated on read, so every recorded run still loads."""
import json
from pathlib import Path

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
