"""Run-time settings read from the environment, in one place.

``ONERANK_SCALE``
    The run size. ``quick`` (default): sizes a 2-core laptop or CI runs in minutes.
    ``full``: full size (the printed sizes where the paper states them), meant for a GPU
    machine. ``ONERANK_PROFILE``, its name before version 0.2, is still read when
    ``ONERANK_SCALE`` is unset (the word "profile" now means only the paper's
    singular-value profiles, :data:`onerank.problems.PROFILES`).
``ONERANK_DATA``
    A folder holding datasets for the image and language chapters
    (torchvision's layout, e.g. ``$ONERANK_DATA/MNIST/raw``). Unset: the
    chapters download through torchvision where the internet is there.
"""

from __future__ import annotations

import os
from pathlib import Path

SCALES = ("quick", "full")
SCALE_VARIABLE = "ONERANK_SCALE"
#: The run size's variable before version 0.2, read when ``ONERANK_SCALE`` is unset.
OLD_SCALE_VARIABLE = "ONERANK_PROFILE"
DATA_VARIABLE = "ONERANK_DATA"


def scale() -> str:
    """The run size, ``"quick"`` or ``"full"``, from ``$ONERANK_SCALE``.

    ``$ONERANK_PROFILE`` (the old name) is read when ``ONERANK_SCALE`` is unset or empty;
    both unset or empty means ``"quick"``. Values are read case-insensitively.

    Returns
    -------
    str
        ``"quick"`` or ``"full"``.

    Raises
    ------
    ValueError
        For any other value, or the two variables set to different sizes, so a typo never
        silently runs the wrong size.
    """
    values = {name: os.environ.get(name, "").strip().lower() for name in (SCALE_VARIABLE, OLD_SCALE_VARIABLE)}
    for name, value in values.items():
        if value and value not in SCALES:
            raise ValueError(f"{name} must be one of {SCALES}, got {os.environ[name]!r}")
    new, old = values[SCALE_VARIABLE], values[OLD_SCALE_VARIABLE]
    if new and old and new != old:
        raise ValueError(f"{SCALE_VARIABLE}={new!r} and its old name {OLD_SCALE_VARIABLE}={old!r} disagree; "
                         f"unset {OLD_SCALE_VARIABLE}")
    return new or old or "quick"


def default_scale(value: str) -> str:
    """Choose the run size unless the environment already has: the switch of every chapter.

    Sets ``$ONERANK_SCALE`` to ``value`` when neither it nor its old name
    ``$ONERANK_PROFILE`` is set, so a size chosen before Jupyter started wins.

    Parameters
    ----------
    value : {"quick", "full"}
        The run size to choose.

    Returns
    -------
    str
        The run size now in force (:func:`scale`).
    """
    if value not in SCALES:
        raise ValueError(f"value must be one of {SCALES}, got {value!r}")
    if not any(os.environ.get(name, "").strip() for name in (SCALE_VARIABLE, OLD_SCALE_VARIABLE)):
        os.environ[SCALE_VARIABLE] = value
    return scale()


def pick(quick, full):
    """Return ``quick`` or ``full`` according to :func:`scale`.

    Chapters size their experiments with it, e.g. ``seeds = pick(20, 200)``.

    Parameters
    ----------
    quick : object
        The value for the quick run size.
    full : object
        The value for the full run size.

    Returns
    -------
    object
        ``full`` when :func:`scale` is ``"full"``, else ``quick``.
    """
    return full if scale() == "full" else quick


def data_dir() -> Path | None:
    """The dataset folder named by ``$ONERANK_DATA``, or None when unset.

    Returns
    -------
    Path or None
        The folder (``~`` expanded), or None when the variable is unset or empty.

    Raises
    ------
    ValueError
        If the variable names a folder that does not exist.
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
    """The torch device name experiments run on.

    ``$ONERANK_DEVICE`` if set, else ``"cuda"`` when a CUDA GPU is visible (e.g. a Colab GPU
    runtime), else ``"mps"`` on Apple silicon, else ``"cpu"`` (also when torch is not
    installed).

    Returns
    -------
    str
        The device name.
    """
    value = os.environ.get(DEVICE_VARIABLE, "").strip()
    if value:
        try:
            import torch
            torch.device(value)
        except ImportError:
            pass
        except RuntimeError:
            raise ValueError(f"{DEVICE_VARIABLE} must name a torch device such as 'cpu' or 'cuda', "
                             f"got {value!r}") from None
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


def torch_device(value=None, name: str = "device") -> str:
    """The library's one reading of a device argument: ``value`` checked, or :func:`device`.

    Parameters
    ----------
    value : str or torch.device, optional
        A torch device name ("cpu", "cuda", "cuda:1", "mps"); None means :func:`device`.
    name : str, optional
        The argument's name, for the message (default "device").

    Returns
    -------
    str
        The device name.

    Raises
    ------
    ValueError
        Naming ``name``, for a name torch does not know or a device this machine lacks.
    TypeError
        For a value that is neither a string nor a torch.device.
    """
    import torch
    if value is None:
        value = device()
    if not isinstance(value, (str, torch.device)):
        raise TypeError(f"{name} must be a torch device name such as 'cpu' or 'cuda', got {value!r}")
    try:
        dev = torch.device(value)
    except RuntimeError:
        raise ValueError(f"{name} must be a torch device name such as 'cpu', 'cuda' or 'mps', "
                         f"got {str(value)!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name} is {str(value)!r}, but no CUDA GPU is visible here")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"{name} is {str(value)!r}, but only {torch.cuda.device_count()} GPUs are visible")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"{name} is {str(value)!r}, but MPS is not available here")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"{name} must be a cpu, cuda or mps device, got {str(value)!r}")
    return str(value)


def progress(iterable=None, *, enabled: bool = True, **kwargs):
    """A tqdm progress bar (``tqdm.auto``: a widget in Jupyter and Colab, text elsewhere).

    ``enabled=False`` turns it off; otherwise tqdm's own defaults apply, so the environment
    variable ``TQDM_DISABLE=1`` (set by the book build and the test run) turns every bar off.

    Parameters
    ----------
    iterable : iterable, optional
        What to iterate over.
    enabled : bool, optional
        False turns the bar off (default True).
    **kwargs
        Passed to tqdm (``desc``, ``total``, ``unit``, ...).

    Returns
    -------
    tqdm.auto.tqdm
        The bar, iterable like ``iterable``.
    """
    if not isinstance(enabled, bool):
        raise ValueError(f"enabled must be True or False, got {enabled!r}")
    from tqdm.auto import tqdm

    if not enabled:
        kwargs["disable"] = True
    return tqdm(iterable, **kwargs)
