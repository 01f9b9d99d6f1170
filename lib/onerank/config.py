"""Run-time settings read from the environment, in one place.

``ONERANK_PROFILE``
    ``quick`` (default): sizes a 2-core laptop or CI runs in minutes.
    ``full``: full size (the printed sizes where the paper states them), meant for a GPU machine.
``ONERANK_DATA``
    A folder holding datasets for the image and language chapters
    (torchvision's layout, e.g. ``$ONERANK_DATA/MNIST/raw``). Unset: the
    chapters download through torchvision where the internet is there.
"""

from __future__ import annotations

import os
from pathlib import Path

PROFILES = ("quick", "full")
PROFILE_VARIABLE = "ONERANK_PROFILE"
DATA_VARIABLE = "ONERANK_DATA"


def profile() -> str:
    """The active profile, ``"quick"`` or ``"full"``, from ``$ONERANK_PROFILE``.

    An unset or empty variable means ``"quick"``; any other value than the two
    profiles raises ValueError, so a typo never silently runs the wrong scale.
    """
    value = os.environ.get(PROFILE_VARIABLE, "").strip().lower() or "quick"
    if value not in PROFILES:
        raise ValueError(
            f"{PROFILE_VARIABLE} must be one of {PROFILES}, got {os.environ[PROFILE_VARIABLE]!r}"
        )
    return value


def pick(quick, full):
    """Return ``quick`` or ``full`` according to :func:`profile`.

    Chapters size their experiments with it, e.g. ``seeds = pick(20, 200)``.
    """
    return full if profile() == "full" else quick


def data_dir() -> Path | None:
    """The dataset folder named by ``$ONERANK_DATA``, or None when unset.

    Raises ValueError if the variable names a folder that does not exist.
    """
    value = os.environ.get(DATA_VARIABLE, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ValueError(f"{DATA_VARIABLE}={value!r} is not a folder")
    return path


DEVICE_VARIABLE = "ONERANK_DEVICE"


def device() -> str:
    """The torch device name experiments run on: ``$ONERANK_DEVICE`` if set, else
    ``"cuda"`` when a CUDA GPU is visible (e.g. a Colab GPU runtime), else ``"mps"``
    on Apple silicon, else ``"cpu"`` (also when torch is not installed).
    """
    value = os.environ.get(DEVICE_VARIABLE, "").strip()
    if value:
        return value
    try:
        import torch
    except ImportError:
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def progress(iterable=None, *, enabled: bool = True, **kwargs):
    """A tqdm progress bar (``tqdm.auto``: a widget in Jupyter and Colab, text elsewhere).

    ``enabled=False`` turns it off; otherwise tqdm's own defaults apply, so the
    environment variable ``TQDM_DISABLE=1`` (set by the book build and the test run)
    turns every bar off. ``kwargs`` go to tqdm (``desc``, ``total``, ``unit``, ...).
    """
    from tqdm.auto import tqdm

    if not enabled:
        kwargs["disable"] = True
    return tqdm(iterable, **kwargs)
