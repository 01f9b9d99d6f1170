import json
from dataclasses import replace

import numpy as np
import pytest

from onerank import __main__ as cli
from onerank import results, schedules, synthetic

TINY = synthetic.Setting("tiny", m=12, d=16, n=30, r=4, x_norm="columns", trials=2, T=40,
                         T_noise=40, T_profiles=40, T_threshold=60, noise_levels=(0.0, 0.5), sparse_levels=(1.0,),
                         sparse_trials=2, fig8_noise=(("gaussian", 0.2), ("sparse", 1.0)),
                         fig9_levels=(0.1,), alphas=5, rescale_profiles=True,
                         budgets=(20, 40), budgets_noise=(20, 40), n_alt=40)


def test_settings_and_profiles():
    assert synthetic.setting("paper", scale="full") == synthetic.SETTINGS["paper"]
    quick = synthetic.setting("paper", scale="quick")
    assert (quick.m, quick.d, quick.n, quick.trials) == (100, 200, 500, 2)
    assert quick.budgets == tuple(T // 4 for T in synthetic.SETTINGS["paper"].budgets)
    code = synthetic.setting("code", scale="quick")
    assert (code.m, code.d, code.n, code.T, code.trials) == (100, 200, 500, 500, 3)
    with pytest.raises(ValueError, match=r"name \(the setting\) must be one of"):
        synthetic.setting("papers")


def test_schedule_paths_are_consistent():
    res = synthetic.schedule_paths(TINY)
    assert list(res["schedules"]) == list(schedules.NAMED)
    for sch in res["schedules"].values():
        assert sum(sch["budgets"]) == TINY.T
        rec = np.asarray(sch["recovery_error"]["mean"])
        assert rec.shape == (TINY.T + 1,)
        assert rec[0] == pytest.approx(res["w_norm"], rel=1e-12)        # W_0 = 0
        assert rec[-1] == pytest.approx(np.mean(sch["final_recovery"]), rel=1e-9)
        # the mean training error never increases much: each step of GD at this eta descends
        train = np.asarray(sch["train_error"]["mean"])
        assert train[-1] < train[0]
    json.dumps(res)                                   # JSON-ready


def test_thresholds_reports_not_reached():
    paths = {"w_norm": 2.0, "schedules": {
        "a": {"recovery_error": {"mean": [2.0, 1.5, 0.9, 0.5]}},
        "b": {"recovery_error": {"mean": [2.0, 1.9, 1.8, 1.7]}}}}
    out = synthetic.thresholds(paths, levels=(0.9, 0.5, 0.25))
    assert out["schedules"]["a"] == [1, 2, 3]
    assert out["schedules"]["b"] == [2, None, None]


@pytest.mark.parametrize("name", sorted(synthetic.FIGURES))
def test_every_figure_runs_and_plots(name):
    import matplotlib.pyplot as plt
    res = synthetic.FIGURES[name][0](TINY)
    fig = synthetic.FIGURES[name][1](json.loads(json.dumps(res)))   # plots from saved numbers
    assert fig.axes
    plt.close(fig)


def test_command_writes_and_resumes(tmp_path, monkeypatch, capsys):
    assert cli.main(["synthetic", "fig5", "--setting", "code", "--scale", "quick",
                     "--out", str(tmp_path)]) == 0
    folder = tmp_path / "code"
    assert sorted(f.name for f in folder.iterdir()) == ["fig5.json", "fig5.pdf", "fig5.png"]
    saved = json.loads((folder / "fig5.json").read_text())
    assert saved["run"]["command"].startswith("python -m onerank synthetic fig5 --setting code")
    assert {"device", "commit", "torch", "wall_seconds"} <= set(saved["run"])
    # a second run must not recompute: make the experiment fail if it is called
    (folder / "fig5.png").unlink()
    monkeypatch.setitem(synthetic.FIGURES, "fig5", (lambda s: 1 / 0, synthetic.FIGURES["fig5"][1]))
    cli.main(["synthetic", "fig5", "--setting", "code", "--scale", "quick", "--out", str(tmp_path)])
    assert (folder / "fig5.png").exists()             # the missing image is redrawn from the JSON
    assert not [f for f in folder.iterdir() if f.name.startswith(".")]   # no temporary files left


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "x.json"
    target.write_text("old")

    def fail(tmp):
        with open(tmp, "w") as fh:
            fh.write("half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        results.atomic_write(target, fail)
    assert target.read_text() == "old" and [f.name for f in tmp_path.iterdir()] == ["x.json"]


def test_the_paper_setting_as_printed():
    s = synthetic.setting("paper", scale="quick")
    assert s.x_norm == "none" and s.noise_reading == "variance"
    # every profile has the one Frobenius norm, that of the raw exponential profile
    norms = [np.linalg.norm(synthetic.problem(s, profile=p).W_star) for p in ("uniform", "exponential", "power")]
    np.testing.assert_allclose(norms, synthetic.EXPONENTIAL_NORM, rtol=1e-12)
    raw = synthetic.problem(synthetic.setting("code-instances"), profile="exponential")
    assert np.linalg.norm(raw.singular_values) == pytest.approx(synthetic.EXPONENTIAL_NORM, rel=1e-12)
    # kappa is a variance: the noise standard deviation is sqrt(kappa)
    assert synthetic.noise_sd(s, 0.04) == pytest.approx(0.2)
    p = synthetic.problem(s, noise="gaussian", level=0.04)
    assert np.std(p.noise) == pytest.approx(0.2, rel=0.02)         # 50,000 entries: 1% sd
    assert synthetic.step_size(s) == pytest.approx(s.eta / s.n)
    assert synthetic.step_size(synthetic.setting("code")) == s.eta


def test_the_authors_protocol_varies_only_the_initial_point():
    s = synthetic.setting("code")
    a, b = synthetic.problem(s, trial=0), synthetic.problem(s, trial=2)
    np.testing.assert_array_equal(a.Y, b.Y)
    np.testing.assert_array_equal(a.X, b.X)
    c = synthetic.problem(synthetic.setting("code-instances"), trial=2)
    assert not np.array_equal(a.X, c.X)
    res = synthetic.schedule_paths(replace(TINY, protocol="authors"), exact=False)
    finals = synthetic.finals(res)["equal"]
    assert finals.std() > 0                        # the initial points differ


def test_budget_sweep_variants_and_baseline_records():
    sweep = synthetic.budget_sweep(TINY)
    keys = {(sp["profile"], sp["noise"], sp["level"]) for sp in sweep["specs"]}
    assert {("exponential", "none", 0.0), ("uniform", "none", 0.0), ("power", "none", 0.0),
            ("exponential", "gaussian", 0.2), ("exponential", "sparse", 1.0),
            ("uniform", "gaussian", 0.1), ("power", "gaussian", 0.1)} <= keys
    quiet = [sp for sp in sweep["specs"] if sp["noise"] == "none"][0]
    rec = np.asarray(quiet["schedules"]["equal"]["recovery"])
    assert rec.shape == (len(TINY.budgets), TINY.trials)
    # the sweep's run at T equals the figure's run at the same T (same problems and seeds)
    paths = synthetic.schedule_paths(replace(TINY, T=40), profile=quiet["profile"], exact=False)
    np.testing.assert_allclose(rec[1], paths["schedules"]["equal"]["final_recovery"], rtol=1e-9)
    var = synthetic.variants(TINY)
    assert [v["field"] for v in var["variants"]] == ["x_norm", "noise_reading", "n"]
    base = synthetic.simultaneous_baseline(TINY)
    assert base["steps"] >= 1 and set(base["profiles"]) == {"uniform", "exponential", "power"}
    with pytest.raises(ValueError, match="no budget sweep"):
        synthetic.budget_sweep(replace(TINY, budgets=()))


def test_command_takes_several_figures(tmp_path):
    assert cli.main(["synthetic", "fig5", "fig1", "--setting", "code", "--scale", "quick",
                     "--out", str(tmp_path)]) == 0
    assert {f.name for f in (tmp_path / "code").iterdir()} >= {"fig1.json", "fig5.json", "fig1.png"}


def test_bad_budgets_are_named():
    for bad in (0, -5, 2.5):
        with pytest.raises(ValueError, match="T must be"):
            synthetic.schedule_paths(TINY, T=bad)
    with pytest.raises(ValueError, match="trials must be"):
        synthetic.schedule_paths(TINY, trials=0)
    with pytest.raises(ValueError, match="scale must be"):
        synthetic.setting("code", scale="big")


@pytest.mark.parametrize("content", ["", '{"setting": {"name": "code"', "[1, 2]",
                                     '{"setting": {"name": "paper"}, "run": {}}'])
def test_a_broken_record_is_redone(tmp_path, capsys, content):
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "fig5.json").write_text(content)          # truncated, foreign or another setting's
    res = synthetic.write("fig5", "code", tmp_path, scale="quick")
    assert res["setting"]["name"] == "code" and "run" in res
    out = capsys.readouterr().out
    assert "broken record" in out and str(folder / "fig5.json") in out       # named by path
    assert json.loads((folder / "fig5.json").read_text())["setting"]["name"] == "code"


def test_bounds_command_writes_resumes_and_redoes_a_broken_record(tmp_path, monkeypatch, capsys):
    from onerank import theory
    monkeypatch.setitem(theory.CASCADE_SWEEP, "quick", {"per_step": [5], "seeds": 1})
    assert cli.main(["bounds", "--scale", "quick", "--out", str(tmp_path)]) == 0
    target = tmp_path / "cascade_sweep.json"
    rec = json.loads(target.read_text())
    assert len(rec["runs"]) == 3 * 3 * 3                  # profiles x ranks x alphas
    assert rec["run"]["command"] == f"python -m onerank bounds --scale quick --out {tmp_path}"
    assert all(r["actual"] <= r["additive_sq"] * (1 + 1e-12) for r in rec["runs"])
    capsys.readouterr()
    cli.main(["bounds", "--scale", "quick", "--out", str(tmp_path)])
    assert "saved already" in capsys.readouterr().out
    target.write_text(target.read_text()[:100])           # a write killed half way
    cli.main(["bounds", "--scale", "quick", "--out", str(tmp_path)])
    assert "broken record" in capsys.readouterr().out
    assert len(json.loads(target.read_text())["runs"]) == 27
