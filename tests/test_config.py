import pytest

from onerank import config


def test_scale_default_and_values(monkeypatch):
    monkeypatch.delenv("ONERANK_SCALE", raising=False)
    monkeypatch.delenv("ONERANK_PROFILE", raising=False)
    assert config.scale() == "quick" and config.pick(1, 2) == 1
    monkeypatch.setenv("ONERANK_SCALE", "full")
    assert config.scale() == "full" and config.pick(1, 2) == 2
    monkeypatch.setenv("ONERANK_SCALE", "fast")
    with pytest.raises(ValueError, match="ONERANK_SCALE must be one of"):
        config.scale()


def test_the_old_variable_is_an_alias(monkeypatch):
    monkeypatch.delenv("ONERANK_SCALE", raising=False)
    monkeypatch.setenv("ONERANK_PROFILE", "full")
    assert config.scale() == "full"
    monkeypatch.setenv("ONERANK_SCALE", "full")                 # both, agreeing
    assert config.scale() == "full"
    monkeypatch.setenv("ONERANK_SCALE", "quick")                # both, disagreeing: no silent choice
    with pytest.raises(ValueError, match="disagree"):
        config.scale()
    monkeypatch.setenv("ONERANK_SCALE", "")
    monkeypatch.setenv("ONERANK_PROFILE", "fast")
    with pytest.raises(ValueError, match="ONERANK_PROFILE must be one of"):
        config.scale()


def test_default_scale_yields_to_the_environment(monkeypatch):
    for name in ("ONERANK_SCALE", "ONERANK_PROFILE"):
        # set, then delete: monkeypatch records the value to restore only for a variable that
        # exists, and default_scale writes os.environ itself (a bare delenv of an unset
        # variable left ONERANK_SCALE=full behind for the chapters' kernels)
        monkeypatch.setenv(name, "quick")
        monkeypatch.delenv(name)
    assert config.default_scale("full") == "full" and config.scale() == "full"
    monkeypatch.setenv("ONERANK_SCALE", "quick")                 # chosen before Jupyter started
    assert config.default_scale("full") == "quick"
    monkeypatch.delenv("ONERANK_SCALE")
    monkeypatch.setenv("ONERANK_PROFILE", "full")                # the old name alone still works
    assert config.default_scale("quick") == "full"
    with pytest.raises(ValueError, match="value must be one of"):
        config.default_scale("big")


def test_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("ONERANK_DATA", raising=False)
    assert config.data_dir() is None
    monkeypatch.setenv("ONERANK_DATA", str(tmp_path))
    assert config.data_dir() == tmp_path
    monkeypatch.setenv("ONERANK_DATA", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="is not a folder"):
        config.data_dir()


def test_device(monkeypatch):
    monkeypatch.setenv("ONERANK_DEVICE", "cuda:1")
    assert config.device() == "cuda:1"
    monkeypatch.delenv("ONERANK_DEVICE")
    torch = pytest.importorskip("torch")
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available() else "cpu")
    assert config.device() == expected
