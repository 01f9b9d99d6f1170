import json
import os

import numpy as np
import pytest
import torch

from onerank import __main__ as cli
from onerank import data, schedules, vision, vision_records, vision_sweep

TINY = vision_sweep.VisionScale(seeds=1, train_limit={}, pretrain_epochs={"toy": 2}, seq_epochs=(1, 1, 1),
                                joint_epochs=(2,), grid=(1, 2), totals=(3,), alphas=(0.0, 1.0), online_epochs=1,
                                online_max_rank=2, threshold=0.005)


def _toy_loader(name, profile, device, download=True):
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
    expected = [schedules.allocate(3, 3, a, floor=1).tolist() for a in TINY.alphas]
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
    # (and the data folder when $ONERANK_DATA names one: the rerun needs it too)
    from onerank import config
    env = "ONERANK_DATA=<data folder> " if config.data_dir() else ""
    assert command == (f"{env}python -m onerank vision adaptive --scale quick --out {tmp_path} --datasets toy"
                       " --seeds 1 --totals 3")
    assert list(vision_records.load(tmp_path)) == ["toy"] and len(vision_records.load(tmp_path)["toy"]) == 7
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
    command = record["run"]["command"].removeprefix("ONERANK_DATA=<data folder> ")
    assert command.startswith("python -m onerank vision base --scale quick")
    assert 0 <= record["metrics"]["old_accuracy"] <= 1 and record["metrics"]["new_accuracy"] == 0.0


def test_a_dataset_named_but_missing_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("ONERANK_DATA", str(tmp_path))
    monkeypatch.setattr(data, "_torchvision", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    with pytest.raises(FileNotFoundError, match="cifar100"):
        vision_sweep.run(tmp_path / "out", scale="quick", datasets=["cifar100"], progress=False)


def test_every_experiment_has_one_function():
    assert tuple(vision_sweep.EXPERIMENT_RUNS) == vision_sweep.EXPERIMENTS


def _same_records(a, b):
    assert sorted(a) == sorted(b)
    for name in a:
        timed = ("pretrain_seconds",)                    # wall-clock time, the one field that may differ
        assert ({k: v for k, v in a[name]["metrics"].items() if k not in timed}
                == {k: v for k, v in b[name]["metrics"].items() if k not in timed}), name
        assert a[name]["config"] == b[name]["config"], name


def test_the_chapter_live_run_and_the_command_give_identical_records(tiny, tmp_path):
    """The chapters' live cells call vision_sweep.run as below (vision.md: three calls,
    adaptive_budgets.md: one); their records equal the commands', and the readers turn
    both into the same rows."""
    chapter, command = tmp_path / "chapter", tmp_path / "command"
    sweep = dict(scale="quick", device="cpu", download=False, datasets=["mnist"])
    vision_sweep.run(chapter, experiments=["base", "seq", "joint"], **sweep)
    vision_sweep.run(chapter, experiments=["online"], seeds=1, **sweep)
    vision_sweep.run(chapter, experiments=["paths", "alpha"], seeds=1, **sweep)
    vision_sweep.run(chapter, experiments=["adaptive"], **sweep)
    for argv in (["base", "seq", "joint"], ["online", "--seeds", "1"], ["paths", "alpha", "--seeds", "1"],
                 ["adaptive"]):
        assert cli.main(["vision", *argv, "--scale", "quick", "--out", str(command), "--datasets", "mnist"]) == 0
    live, cli_runs = vision_records.load(chapter)["mnist"], vision_records.load(command)["mnist"]
    assert sorted(live) == ["adaptive-T3-s0", "alpha-T3-s0", "base-s0", "joint-s0", "online-s0", "paths-s0",
                            "seq-s0"]
    _same_records(live, cli_runs)
    for reader in (vision_records.adaptive_rows, vision_records.online_rows):
        assert reader(live) == reader(cli_runs)
    rows = vision_records.adaptive_rows(live)
    assert rows[0]["total"] == 3 and sum(rows[0]["split"]) <= 3 and set(rows[0]["family"]) == {0.0, 1.0}
    # the alpha run read its equal split and its joint run from seq-s0 and joint-s0, and that is
    # exact: made alone, in a folder without them, it trains both and gets the same accuracies
    alpha = live["alpha-T3-s0"]["metrics"]
    assert [r.get("from") for r in alpha["schedules"]] == ["seq-s0", "seq-s0"]
    assert alpha["joint"]["from"] == "joint-s0"
    alone = tmp_path / "alone"
    vision_sweep.run(alone, experiments=["alpha"], seeds=1, **sweep)
    trained = vision_records.load(alone)["mnist"]["alpha-T3-s0"]["metrics"]
    assert "from" not in trained["joint"] and not any("from" in r for r in trained["schedules"])
    assert trained["joint"]["accuracy"] == alpha["joint"]["accuracy"]
    assert [r["accuracy"] for r in trained["schedules"]] == [r["accuracy"] for r in alpha["schedules"]]


def test_the_readers_turn_records_into_rows(tiny, tmp_path):
    vision_sweep.run(tmp_path, scale="quick", datasets=["toy"], seeds=2, progress=False, device="cpu",
                     experiments=["base", "seq", "joint", "alpha", "paths", "online"])
    runs = vision_records.load(tmp_path)["toy"]
    base = vision_records.base_rows(runs)
    assert base["seeds"] == [0, 1] and base["old"].shape == (2,) and base["pretrain_epochs"] == 2
    assert base["old"][1] == runs["base-s1"]["metrics"]["old_accuracy"]
    b = vision_records.seq_joint_rows(runs)
    assert b["seq"].shape == (2, 3) and b["epochs"] == [1, 1, 1] and b["same"] == 3
    assert set(b["joint"]) == {2, 3, b["matched"]} and b["joint"][2].shape == (2,)
    assert b["joint"][3][1] == runs["joint-s1"]["metrics"]["runs"]["3"]["accuracy"]
    diff, spread, holds = vision_records.matches(b["seq"][:, -1], b["joint"][3])
    assert diff == pytest.approx(b["seq"][:, -1].mean() - b["joint"][3].mean()) and spread >= 0
    assert holds == (diff >= -spread)
    alpha = vision_records.alpha_rows(runs)
    assert list(alpha) == [3] and alpha[3]["seeds"] == [0, 1]
    assert set(alpha[3]["alphas"]) == {0.0, 1.0} and alpha[3]["alphas"][1.0]["accuracy"].shape == (2,)
    assert vision_records.more_first_wins(alpha[3]) is bool(
        alpha[3]["alphas"][1.0]["accuracy"].mean() > alpha[3]["alphas"][0.0]["accuracy"].mean())
    paths = vision_records.path_rows(runs)
    assert [p["seed"] for p in paths] == [0, 1] and paths[0]["epochs"].shape == (8, 3)
    row = {"epochs": np.array([[1, 1, 1], [3, 1, 1], [1, 3, 3]]),
           "accuracy": np.array([[0.1, 0.2, 0.3], [0.5, 0.6, 0.5], [0.1, 0.5, 0.7]])}
    r_first, r_total = vision_records.path_correlations(row)
    assert r_first == pytest.approx(np.corrcoef([0.1, 0.5, 0.1], [0.3, 0.5, 0.7])[0, 1], abs=1e-12)
    assert r_total == pytest.approx(np.corrcoef([3, 5, 7], [0.3, 0.5, 0.7])[0, 1], abs=1e-12)
    assert [r["seed"] for r in vision_records.online_rows(runs)] == [0, 1]
    assert vision_records.precision_rows(runs) == []                      # no precision runs on cpu
    assert vision_records.base_rows({}) is None and vision_records.seq_joint_rows({}) is None


def _cifar100_standin(root, n_train=300, n_test=200, seed=0):
    """A small CIFAR-100 written in torchvision's on-disk format: ``cifar-100-python/`` with
    the pickled dicts ``train``, ``test`` (rows of 3,072 uint8 in channel-major order, fine
    and coarse labels) and ``meta``, with the string keys the real files have once read as
    torchvision reads them (latin-1). Returns the arrays written."""
    import pickle
    rng = np.random.default_rng(seed)
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    written = {}
    for split, n in (("train", n_train), ("test", n_test)):
        rows = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        fine = np.arange(n) % 100                                   # every class present
        coarse = (fine + 7) % 20                                    # differs from fine: a mix-up shows
        with open(folder / split, "wb") as f:
            pickle.dump({"data": rows, "fine_labels": fine.tolist(), "coarse_labels": coarse.tolist(),
                         "filenames": [f"img{i}.png" for i in range(n)], "batch_label": split}, f)
        written[split] = (rows, fine)
    with open(folder / "meta", "wb") as f:
        pickle.dump({"fine_label_names": [f"fine{i}" for i in range(100)],
                     "coarse_label_names": [f"coarse{i}" for i in range(20)]}, f)
    return written


def test_cifar100_loads_from_torchvision_layout_and_runs(tmp_path, monkeypatch):
    """The CIFAR-100 path a reader with internet gets (torchvision's files), on a stand-in.
    torchvision checks the real files' MD5 sums; the stand-in cannot match them, so that one
    check is replaced by "the file exists", and everything after it runs as on the real files."""
    torchvision = pytest.importorskip("torchvision")
    written = _cifar100_standin(tmp_path)
    import torchvision.datasets.cifar
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda path, md5=None: os.path.isfile(path))
    ds = data.load("cifar100", root=tmp_path, download=False)
    assert ds.classes == 100 and ds.x_train.shape == (300, 3072) and ds.x_test.shape == (200, 3072)
    assert ds.y_train.tolist() == written["train"][1].tolist()           # the fine labels
    mean, std = (np.array(v, np.float32)[:, None] for v in data.DATASETS["cifar100"][2:])
    rows = written["test"][0].reshape(200, 3, 1024).astype(np.float32) / 255
    expect = ((rows - mean) / std).reshape(200, 3072)                   # channel-major, as stored
    np.testing.assert_allclose(ds.x_test.numpy(), expect, rtol=0, atol=1e-6)
    old, new = ds.split()
    assert old == list(range(50)) and new == list(range(50, 100))
    assert set(ds.subset(new).y_train.tolist()) == set(range(50, 100))
    # the sweep's base and sequential runs, on the files as a reader's folder holds them
    monkeypatch.setenv("ONERANK_DATA", str(tmp_path))
    out = tmp_path / "out"
    vision_sweep.run(out, scale="quick", datasets=["cifar100"], experiments=["base", "seq"], seeds=1,
                     progress=False, download=False)
    base = json.loads((out / "cifar100" / "base-s0.json").read_text())
    seq = json.loads((out / "cifar100" / "seq-s0.json").read_text())
    assert base["config"]["train_old"] == 150 and base["config"]["train_new"] == 150
    assert "torchvision CIFAR100" in base["config"]["source"]
    assert base["metrics"]["new_accuracy"] == 0.0                       # the head never saw classes 50-99
    assert len(seq["metrics"]["accuracy"]) == 3


class _NotWeights:
    """A pickled object that is not a tensor: weights_only loading must refuse it."""


def test_a_broken_cached_base_is_trained_again(tmp_path, capsys):
    _, old, _ = _toy_loader("toy", "quick", "cpu")
    model, wall = vision_sweep._base("toy", old, 0, 2, tmp_path, "cpu")
    assert wall is not None                                    # trained and cached
    cache = next((tmp_path / ".cache").glob("*.pt"))
    digest = cache.with_name(cache.name + ".sha256")
    assert digest.read_text().strip() == vision_sweep._sha256(cache)
    again, wall = vision_sweep._base("toy", old, 0, 2, tmp_path, "cpu")
    assert wall is None                                        # loaded from the cache
    for p, q in zip(model.state_dict().values(), again.state_dict().values()):
        assert torch.equal(p, q)
    cache.write_bytes(cache.read_bytes()[:100])                # truncated
    _, wall = vision_sweep._base("toy", old, 0, 2, tmp_path, "cpu")
    assert wall is not None and f"{cache}: cached base model not usable" in capsys.readouterr().out
    torch.save({"w": _NotWeights()}, cache)                    # a pickle with a matching digest
    digest.write_text(vision_sweep._sha256(cache))
    _, wall = vision_sweep._base("toy", old, 0, 2, tmp_path, "cpu")
    assert wall is not None and "not usable" in capsys.readouterr().out
    digest.unlink()                                            # weights without their digest
    _, wall = vision_sweep._base("toy", old, 0, 2, tmp_path, "cpu")
    assert wall is not None and "digest is missing or differs" in capsys.readouterr().out
