import json

import numpy as np
import pytest

from onerank import __main__ as cli
from onerank import results, schedules, synthetic

TINY = synthetic.Setting("tiny", m=12, d=16, n=30, r=4, x_norm="columns", trials=2, T=40,
                         T_noise=40, T_profiles=40, T_threshold=60, noise_levels=(0.0, 0.5), sparse_levels=(1.0,),
                         sparse_trials=2, fig8_noise=(("gaussian", 0.2), ("sparse", 1.0)),
                         fig9_levels=(0.1,), alphas=5, rescale_profiles=True)


def test_settings_and_profiles():
    assert synthetic.setting("paper", scale="full") == synthetic.SETTINGS["paper"]
    quick = synthetic.setting("paper", scale="quick")
    assert (quick.m, quick.d, quick.n, quick.trials) == (100, 200, 500, 2)
    code = synthetic.setting("code", scale="quick")
    assert (code.m, code.d, code.n, code.T, code.trials) == (100, 200, 500, 500, 3)
    with pytest.raises(ValueError, match="setting must be one of"):
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
