import pytest

from onerank import config


def test_profile_default_and_values(monkeypatch):
    monkeypatch.delenv("ONERANK_PROFILE", raising=False)
    assert config.profile() == "quick" and config.pick(1, 2) == 1
    monkeypatch.setenv("ONERANK_PROFILE", "full")
    assert config.profile() == "full" and config.pick(1, 2) == 2
    monkeypatch.setenv("ONERANK_PROFILE", "fast")
    with pytest.raises(ValueError, match="ONERANK_PROFILE must be one of"):
        config.profile()


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
