import json

import pytest
import torch

from onerank import __main__ as cli
from onerank import data, schedules, vision, vision_sweep

TINY = dict(seeds=1, train_limit={}, pretrain_epochs={"toy": 2}, seq_epochs=(1, 1, 1), joint_epochs=(2,),
            grid=(1, 2), totals=(3,), alphas=(0.0, 1.0), online_epochs=1, online_max_rank=2, threshold=0.005)


def _toy_loader(name, profile, device):
    g = torch.Generator().manual_seed(0)
    centres = 3 * torch.randn(4, 12, generator=g)
    y = torch.randint(0, 4, (400,), generator=g)
    x = centres[y] + torch.randn(400, 12, generator=g)
    ds = data.Dataset(name, 4, x[:300], y[:300], x[300:], y[300:], source="toy")
    old, new = ds.split()
    return ds, ds.subset(old), ds.subset(new)


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setitem(vision_sweep.SCALES, "quick", TINY)
    monkeypatch.setattr(vision_sweep, "_load", _toy_loader)


def test_sweep_writes_one_json_per_run_and_resumes(tiny, tmp_path, monkeypatch):
    written = vision_sweep.run(tmp_path, scale="quick", datasets=["toy"], progress=False, device="cpu")
    names = sorted(p.name for p in (tmp_path / "toy").iterdir())
    assert names == ["adaptive-T3-s0.json", "alpha-T3-s0.json", "base-s0.json", "joint-s0.json", "online-s0.json",
                     "paths-s0.json", "seq-s0.json"]                  # no precision run: float32 on cpu
    assert len(written) == 7
    for path in written:
        record = json.loads(path.read_text())
        assert set(record) == {"config", "metrics", "run"}
        assert {"device", "commit", "torch", "wall_seconds", "command", "uncommitted_changes"} <= set(record["run"])
        assert record["config"]["dataset"] == "toy" and record["config"]["seed"] == 0
    seq = json.loads((tmp_path / "toy" / "seq-s0.json").read_text())["metrics"]
    assert seq["epochs"] == [1, 1, 1] and len(seq["accuracy"]) == 3 and 0 <= seq["old_accuracy"] <= 1
    joint = json.loads((tmp_path / "toy" / "joint-s0.json").read_text())["metrics"]
    assert set(joint["runs"]) == {"2", "3", str(joint["matched_epochs"])}    # authors', same epochs, matched
    paths = json.loads((tmp_path / "toy" / "paths-s0.json").read_text())["metrics"]["paths"]
    assert len(paths) == 8 and all(len(p["accuracy"]) == 3 for p in paths)
    alpha = json.loads((tmp_path / "toy" / "alpha-T3-s0.json").read_text())["metrics"]
    expected = [schedules.allocate(3, 3, a, floor=1).tolist() for a in TINY["alphas"]]
    assert [r["epochs"] for r in alpha["schedules"]] == expected == [[1, 1, 1], [1, 1, 1]]
    assert alpha["schedules"][0]["accuracy"] == alpha["schedules"][1]["accuracy"]   # one shared run
    assert alpha["joint"]["epochs"] == 3
    adaptive = json.loads((tmp_path / "toy" / "adaptive-T3-s0.json").read_text())["metrics"]
    assert adaptive["adaptive"]["epochs"] == [1, 1, 1] and len(adaptive["adaptive"]["accuracy"]) == 3
    assert [r["epochs"] for r in adaptive["schedules"]] == expected
    n_new = _toy_loader("toy", "quick", "cpu")[2].x_train.shape[0]
    assert adaptive["train_samples"] == n_new - round(0.1 * n_new)                # 10% held out
    # the recorded command names everything that selects this run: dataset, seeds, total
    command = json.loads((tmp_path / "toy" / "adaptive-T3-s0.json").read_text())["run"]["command"]
    assert command == f"python -m onerank vision adaptive --scale quick --out {tmp_path} --datasets toy --seeds 1 --totals 3"
    assert list(vision_sweep.load(tmp_path)) == ["toy"] and len(vision_sweep.load(tmp_path)["toy"]) == 7
    # resume: nothing is recomputed (training would fail), a deleted run is redone alone
    def fail(*args, **kwargs):
        raise AssertionError("a saved run was recomputed")
    monkeypatch.setattr(vision, "sequential", fail)
    monkeypatch.setattr(vision, "joint", fail)
    assert vision_sweep.run(tmp_path, scale="quick", datasets=["toy"], progress=False, device="cpu") == []
    (tmp_path / "toy" / "base-s0.json").unlink()
    again = vision_sweep.run(tmp_path, scale="quick", datasets=["toy"], progress=False, device="cpu")
    assert [p.name for p in again] == ["base-s0.json"]
    assert not [p for p in (tmp_path / "toy").iterdir() if p.name.startswith(".")]   # no temporary files


def test_sweep_rejects_bad_arguments(tiny, tmp_path):
    with pytest.raises(ValueError, match="scale"):
        vision_sweep.run(tmp_path, scale="paper")
    with pytest.raises(ValueError, match="experiments"):
        vision_sweep.run(tmp_path, scale="quick", experiments=["fig2"])
    with pytest.raises(ValueError, match="seeds"):
        vision_sweep.run(tmp_path, scale="quick", seeds=0)
    with pytest.raises(ValueError, match="totals"):
        vision_sweep.run(tmp_path, scale="quick", totals=[2])
    assert [r[3] for r in vision_sweep.plan("quick", ["toy"], ["adaptive"], range(1), [4, 5])] == [
        {"total": 4}, {"total": 5}]


def test_cli_runs_the_sweep(tiny, tmp_path):
    assert cli.main(["vision", "base", "--scale", "quick", "--out", str(tmp_path), "--datasets", "mnist"]) == 0
    record = json.loads((tmp_path / "mnist" / "base-s0.json").read_text())
    assert record["run"]["command"].startswith("python -m onerank vision base --scale quick")
    assert 0 <= record["metrics"]["old_accuracy"] <= 1 and record["metrics"]["new_accuracy"] == 0.0


def test_a_dataset_named_but_missing_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("ONERANK_DATA", str(tmp_path))
    monkeypatch.setattr(data, "_torchvision", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    with pytest.raises(FileNotFoundError, match="cifar100"):
        vision_sweep.run(tmp_path / "out", scale="quick", datasets=["cifar100"], progress=False)


def test_every_experiment_has_one_function():
    assert tuple(vision_sweep.EXPERIMENT_RUNS) == vision_sweep.EXPERIMENTS


def test_the_chapter_live_run_and_the_command_give_identical_records(tiny, tmp_path):
    """The adaptive-budgets chapter's live cell calls vision_sweep.run as below; its
    records equal the command's, and one reader turns both into the chapter's rows."""
    chapter, command = tmp_path / "chapter", tmp_path / "command"
    vision_sweep.run(chapter, scale="quick", datasets=["mnist"], experiments=["adaptive"], device="cpu")
    assert cli.main(["vision", "adaptive", "--scale", "quick", "--out", str(command), "--datasets", "mnist"]) == 0
    live, cli_runs = vision_sweep.load(chapter)["mnist"], vision_sweep.load(command)["mnist"]
    assert sorted(live) == sorted(cli_runs) == ["adaptive-T3-s0"]
    for name in live:
        assert live[name]["metrics"] == cli_runs[name]["metrics"]
        assert live[name]["config"] == cli_runs[name]["config"]
    rows = vision_sweep.adaptive_rows(live)
    assert rows == vision_sweep.adaptive_rows(cli_runs)
    assert rows[0]["total"] == 3 and sum(rows[0]["split"]) <= 3 and set(rows[0]["family"]) == {0.0, 1.0}
