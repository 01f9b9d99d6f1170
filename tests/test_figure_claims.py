"""onerank.figure_claims: verdicts on the printed figure claims, from recorded runs."""

import json
from pathlib import Path

import pytest

from onerank import figure_claims as fc

REPO = Path(__file__).resolve().parents[1]
VERDICTS = {"holds", "fails", "partly", "no data"}
FUNCTIONS = sorted(set(fc.ALL.values()), key=lambda f: f.__name__)
SETTING = {"name": "tiny", "m": 5, "d": 10, "n": 20, "r": 2, "T": 40, "trials": 2, "rescale_profiles": False}


def _write(root: Path, rel: str, obj: dict) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def _fig1(eq, less, more=(1.0, 1.2)):
    """A fig1 record with the given final errors per trial (W* norm 10)."""
    return {"setting": SETTING, "T": 40, "w_norm": 10.0, "trials": 2, "schedules": {
        name: {"final_recovery": list(v), "final_train": list(v)}
        for name, v in (("more-first", more), ("equal", eq), ("less-first", less))}}


def _vision(root, ds, seq, joint, base=None):
    """seq / joint: final accuracies per seed, in records shaped like the sweep's; a joint
    entry is one accuracy (at 10 epochs) or {epochs: accuracy}."""
    cfg = {"dataset": ds, "source": "torchvision MNIST", "train_old": 10, "train_new": 10}
    for s, (a, j) in enumerate(zip(seq, joint)):
        _write(root, f"vision/{ds}/seq-s{s}.json", {"config": {**cfg, "experiment": "seq", "seed": s}, "metrics": {
            "epochs": [6, 6, 6], "accuracy": [a - 0.02, a - 0.01, a], "old_accuracy": 0.5, "flops": 1.0}})
        j = j if isinstance(j, dict) else {10: j}
        _write(root, f"vision/{ds}/joint-s{s}.json", {"config": {**cfg, "experiment": "joint", "seed": s},
                                                      "metrics": {"rank": 3, "runs": {str(e): {"accuracy": x, "flops": 1.0}
                                                                                      for e, x in j.items()},
                                                                  "matched_epochs": min(j), "same_epochs": 18}})
        if base is not None:
            _write(root, f"vision/{ds}/base-s{s}.json", {
                "config": {**cfg, "experiment": "base", "seed": s, "pretrain_epochs": 10},
                "metrics": {"old_accuracy": base[s], "new_accuracy": 0.0}})


def test_default_root_is_the_repositorys_results_folder():
    assert fc.results_root() == REPO / "results"
    assert fc.results_root("elsewhere") == Path("elsewhere")


def test_all_names_every_figure():
    assert set(fc.ALL) == {f"fig{k}" for k in range(1, 14)} | {"baselines", "baseline_quality", "fig12_first"}
    assert fc.ALL["fig11"] is fc.fig3_efficiency and fc.ALL["fig12"] is fc.fig4_paths


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
def test_real_results_give_a_verdict(fn):
    out = fn()
    assert {"verdict", "detail", "data", "files"} <= set(out)
    assert out["verdict"] in VERDICTS
    assert isinstance(out["detail"], str) and "\n" not in out["detail"]
    assert all((REPO / f).is_file() for f in out["files"])
    for v in out.get("verdicts", {}).values():
        assert v in VERDICTS


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
def test_empty_folder_gives_no_data(fn, tmp_path):
    out = fn(tmp_path)
    assert out["verdict"] == "no data" and out["files"] == []
    assert "nothing recorded" in out["detail"] or "missing" in out["detail"]


def test_malformed_record_gives_no_data(tmp_path):
    _write(tmp_path, "synthetic/paper/fig1.json", {"setting": {}})
    (tmp_path / "synthetic/paper/fig8.json").write_text("{not json")
    assert fc.fig1(tmp_path)["verdict"] == "no data"
    assert fc.fig8(tmp_path)["verdict"] == "no data"


@pytest.mark.parametrize("eq,less,verdict", [((2.0, 2.2), (3.0, 3.4), "holds"),
                                             ((4.0, 4.2), (3.0, 3.4), "fails")])
def test_fig1_chain(tmp_path, eq, less, verdict):
    _write(tmp_path, "synthetic/paper/fig1.json", _fig1(eq, less))
    out = fc.fig1(tmp_path)
    assert out["verdict"] == verdict
    assert f"chain {verdict}" in out["detail"]
    # numbers come from the record: relative reconstruction means 0.11 < 0.21 (or 0.41)
    assert "more-first 0.11 ± 0.01" in out["detail"]
    assert out["files"] == ["results/synthetic/paper/fig1.json"]


def test_fig5_frobenius_norms(tmp_path):
    rec = {"setting": SETTING, "rescale": True, "profiles": {
        "uniform": {"W_star": [5.0, 5.0]}, "power": {"W_star": [7.0, 1.0]}}}
    _write(tmp_path, "synthetic/paper/fig5.json", rec)
    assert fc.fig5(tmp_path)["verdict"] == "holds"        # both norms sqrt(50)
    rec["profiles"]["power"]["W_star"] = [7.0, 2.0]
    _write(tmp_path, "synthetic/paper/fig5.json", rec)
    assert fc.fig5(tmp_path)["verdict"] == "fails"


@pytest.mark.parametrize("first,verdict", [(None, "holds"), (30, "partly")])
def test_fig10_thresholds(tmp_path, first, verdict):
    _write(tmp_path, "synthetic/paper/fig10.json", {"setting": SETTING, "T": 40, "thresholds": {
        "levels": [0.5, 0.1], "schedules": {"more-first": [3, 9], "equal": [5, None],
                                            "less-first": [first, None]}}})
    out = fc.fig10(tmp_path)
    assert out["verdict"] == verdict and "T = 40" in out["detail"]


@pytest.mark.parametrize("seq,verdict", [((0.90, 0.91), "holds"), ((0.70, 0.80), "fails")])
def test_fig2_at_least_comparable(tmp_path, seq, verdict):
    _vision(tmp_path, "mnist", seq, (0.90, 0.91))
    out = fc.fig2(tmp_path)
    assert out["verdict"] == verdict        # holds: sd 0.5%; fails: 75% ± 5% (sd over 1.5%)
    assert "full MNIST, 2 seeds" in out["data"] and "CIFAR-100: nothing recorded" in out["detail"]
    assert len(out["files"]) == 4


def test_fig3_verdicts_and_baselines(tmp_path):
    joint = {6: 0.85, 12: 0.95, 18: 0.99}
    _vision(tmp_path, "mnist", (0.90, 0.90), (joint, joint), base=(0.97, 0.99))
    out = fc.fig3_efficiency(tmp_path)
    # seq 0.88 at 6 epochs, 0.89 at 12, 0.90 at 18 against joint 0.85, 0.95, 0.99: efficiency
    # ratios 1.04, 0.94, 0.91 (comparable), higher at 6 only (1 of 3); best seq 9 points below
    # the best joint (not slight); joint's accuracy reached at 6 epochs, never at 12 or 18
    assert out["verdicts"] == {"section 5.2": "holds", "section 5.2 slight loss": "fails", "appendix F": "fails",
                               "more training": "partly"}
    assert "1 of 3 sequential architectures (33%)" in out["detail"] and "E=6: 6, E=12: none" in out["detail"]
    assert "loss +9.0 points" in out["detail"]
    assert fc.baselines(tmp_path)["verdict"] == "holds"    # 98.0% vs ~98%
    _vision(tmp_path, "mnist", (0.90, 0.90), (0.90, 0.90), base=(0.80, 0.82))
    assert fc.baselines(tmp_path)["verdict"] == "fails"


def test_baseline_quality(tmp_path):
    _vision(tmp_path, "mnist", (0.90, 0.92), (0.9, 0.9), base=(0.98, 0.98))
    out = fc.baseline_quality(tmp_path)
    assert out["verdicts"] == {"adapts": "holds", "lower than MNIST": "no data"}   # one dataset only
    assert "CIFAR-100, is not recorded" in out["data"]
    _vision(tmp_path, "cifar10", (0.50, 0.60), (0.5, 0.5), base=(0.4, 0.4))
    out = fc.baseline_quality(tmp_path)
    assert out["verdicts"] == {"adapts": "holds", "lower than MNIST": "holds"}
    _vision(tmp_path, "cifar10", (0.20, 0.26), (0.5, 0.5), base=(0.4, 0.4))  # 23% +- 3%: not above 20%
    out = fc.baseline_quality(tmp_path)
    assert out["verdicts"]["adapts"] == "partly" and out["verdict"] == "partly"


def _paths(root, ds, final):
    """Paths over the grid (1, 5) whose final accuracy is final(path), 1 seed."""
    paths = [{"epochs": [a, b, c], "accuracy": [0.5, 0.6, final((a, b, c))]}
             for a in (1, 5) for b in (1, 5) for c in (1, 5)]
    _write(root, f"vision/{ds}/paths-s0.json", {
        "config": {"dataset": ds, "experiment": "paths", "seed": 0, "source": "x", "train_old": 5,
                   "train_new": 5}, "metrics": {"grid": [1, 5], "paths": paths}})


def test_fig12_first_component(tmp_path):
    _paths(tmp_path, "mnist", lambda p: 0.8 + 0.01 * p[0])       # 5 first: +4 points, every pair
    out = fc.fig12_first_component(tmp_path)
    assert out["verdicts"] == {"poor first component": "holds", "most pronounced for MNIST": "no data",
                               "less dramatic for CIFAR-100": "no data"}
    assert "+4.0 points, positive in 100% of 4 pairs" in out["detail"]
    _paths(tmp_path, "cifar10", lambda p: 0.5 + 0.02 * p[0] - 0.001 * p[1])   # a larger effect
    out = fc.fig12_first_component(tmp_path)
    assert out["verdicts"]["most pronounced for MNIST"] == "fails" and out["verdict"] == "partly"
    _paths(tmp_path, "mnist", lambda p: 0.8 + 0.001 * p[1])        # first component irrelevant
    assert fc.fig12_first_component(tmp_path)["verdicts"]["poor first component"] == "partly"


def test_fig4_paths_rule(tmp_path):
    paths = [{"epochs": [a, b, c], "accuracy": [0.1 * a, 0.1 * a + 0.01 * b, 0.1 * a + 0.01 * (b + c)]}
             for a in (1, 3) for b in (1, 3) for c in (1, 3)]
    _write(tmp_path, "vision/cifar10/paths-s0.json", {
        "config": {"dataset": "cifar10", "experiment": "paths", "seed": 0, "source": "x/cifar10-subset.npz",
                   "train_old": 5, "train_new": 5}, "metrics": {"grid": [1, 3], "paths": paths}})
    out = fc.fig4_paths(tmp_path)
    assert out["verdict"] == "holds" and "100% of 16 pairs" in out["detail"]
    assert "CIFAR-10 subset (10 training images), 1 seed" in out["data"]
    spread = fc.fig13_spread(tmp_path)
    assert spread["verdict"] == "holds" and "rank-1 min 10.0% max 30.0%" in spread["detail"]


def test_fig4_paths_gaps(tmp_path):
    # 10->1->1 minus 1->10->10, per seed, returned as numbers and printed in the detail
    for seed, (good, late) in enumerate([(0.5, 0.6), (0.7, 0.4)]):
        paths = [{"epochs": [1, 10, 10], "accuracy": [0.2, 0.4, late]},
                 {"epochs": [10, 1, 1], "accuracy": [0.3, 0.4, good]}]
        _write(tmp_path, f"vision/mnist/paths-s{seed}.json", {
            "config": {"dataset": "mnist", "experiment": "paths", "seed": seed, "source": "x/mnist.npz",
                       "train_old": 5, "train_new": 5}, "metrics": {"grid": [1, 10], "paths": paths}})
    out = fc.fig4_paths(tmp_path)
    assert [s for s, _ in out["gaps"]["mnist"]] == [0, 1]
    assert [round(g, 12) for _, g in out["gaps"]["mnist"]] == [-0.1, 0.3]
    assert "s0 -10.0, s1 +30.0 points (mixed)" in out["detail"]


def _sweep_spec(profile, finals, noise="none", level=0.0, budgets=(10, 100)):
    """finals: {schedule: [per total: [per trial]]} (W* norm 10)."""
    return {"profile": profile, "noise": noise, "level": level, "budgets": list(budgets), "trials": 2,
            "w_norm": 10.0, "schedules": {n: {"recovery": v, "train": v} for n, v in finals.items()}}


def test_sweep_claims_give_a_verdict_per_total():
    # more-first best at T = 10, less-first best at T = 100: Fig. 1 holds at 10 only;
    # the profiles keep the printed order at both totals
    order = {"more-first": [[1, 1], [3, 3]], "equal": [[2, 2], [2, 2]], "less-first": [[3, 3], [1, 1]]}
    scaled = lambda f: {n: [[x * f for x in row] for row in v] for n, v in order.items()}  # noqa: E731
    rec = {"setting": {**SETTING, "noise_levels": (0.0,), "sparse_levels": (0.0,), "fig8_noise": (),
                       "fig9_levels": ()},
           "budgets": [10, 100], "budgets_noise": [],
           "specs": [_sweep_spec("exponential", scaled(2)), _sweep_spec("power", scaled(1)),
                     _sweep_spec("uniform", scaled(3))]}
    rows = {r["claim"]: r for r in fc.sweep_claims(rec)}
    assert rows["Fig. 1, reconstruction"]["holds_at"] == [10]
    assert [v for _, v, _ in rows["Fig. 1, reconstruction"]["per_total"]] == ["holds", "fails"]
    assert rows["Fig. 1, reconstruction"]["verdict"] == "partly"
    assert rows["Fig. 6, training"]["holds_at"] == [10, 100] and rows["Fig. 6, training"]["verdict"] == "holds"
    assert "0.2 ± 0" in rows["Fig. 1, reconstruction"]["per_total"][0][2]      # 2 / ||W*|| = 0.2


def test_simultaneous_claims_compare_at_equal_flops():
    seq = [_sweep_spec(p, {"more-first": [[0.5, 0.5], [0.2, 0.2]]}) for p in ("uniform",)]
    sim = {"iterations": [0, 1, 2], "flops": [0, 10, 20], "recovery": [[10, 3, 1], [10, 3, 1]],
           "w_norm": 10.0}
    rec = {"flops_sequential_step": 1, "sequential": seq, "profiles": {"uniform": sim}}
    (row,) = fc.simultaneous_claims(rec)
    # T = 10 -> 10 flops -> iteration 1 (0.3 > 0.05); T = 100 -> iteration 2 (0.1 > 0.02)
    assert [v for _, v, _ in row["per_total"]] == ["fails", "fails"]
    sim["recovery"] = [[10, 0.1, 0.01], [10, 0.1, 0.01]]
    assert fc.simultaneous_claims(rec)[0]["holds_at"] == [10, 100]


def test_architectures_are_the_runs_prefixes_once_per_seed(tmp_path):
    from onerank import vision_records
    _vision(tmp_path, "mnist", (0.90, 0.80), ({6: 0.5}, {6: 0.6}))
    _paths(tmp_path, "mnist", lambda p: 0.7)
    runs = vision_records.load(tmp_path / "vision")["mnist"]
    arch = vision_records.architectures(runs)
    # seq (6, 6, 6) in two seeds; paths over (1, 5) in seed 0: 2 + 4 + 8 prefixes
    assert len(arch) == 3 + 2 + 4 + 8
    assert arch[(6, 6, 6)].tolist() == [0.90, 0.80] and arch[(6,)].tolist() == [0.88, 0.78]
    assert arch[(1, 5)].tolist() == [0.6]                 # shared by two paths, counted once
    rows = vision_records.efficiency_rows(runs)
    assert rows["seeds"] == {"paths": [0], "joint": [0, 1]} and rows["joint"][6].tolist() == [0.5, 0.6]
    with pytest.raises(TypeError, match="rows must be a dict of efficiency_rows"):
        vision_records.efficiency_verdicts({"joint": {}})
    with pytest.raises(ValueError, match="tolerance must lie in"):
        vision_records.efficiency_verdicts(rows, tolerance=1.5)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2)
    vision_records.plot_efficiency(axes, rows, title="mnist")
    assert axes[0].get_yscale() == "log" and len(axes[1].collections) == 3   # three families
    with pytest.raises(ValueError, match="axes must be two"):
        vision_records.plot_efficiency(axes[:1], rows)
    plt.close(fig)


def test_report_prints_every_part():
    claim = {"verdict": "partly", "verdicts": {"a": "holds", "b": "fails"}, "detail": "x: 1 | y: 2",
             "data": "recorded"}
    assert fc.report(claim).splitlines() == ["verdict: partly (a: holds; b: fails)", "  x: 1", "  y: 2",
                                             "data: recorded"]
    with pytest.raises(TypeError, match="claim must be a dict"):
        fc.report("holds")
