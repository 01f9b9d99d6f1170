"""Argument checks shared by the library: each raises ValueError naming the argument."""

from __future__ import annotations

import numbers
import os

import numpy as np


def real_array(value, name: str) -> np.ndarray:
    """``value`` as a float64 array of real numbers (any shape), or ValueError naming ``name``;
    finiteness is checked by :func:`finite`."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as err:              # ragged nested lists, say
        raise ValueError(f"{name} must be an array of real numbers ({err})") from None
    if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.floating)
                                     or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def finite(arr: np.ndarray, name: str) -> np.ndarray:
    """``arr`` if every entry is finite, else ValueError naming ``name``: the library's one
    finiteness check."""
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def matrix(value, name: str, *, shape: tuple | None = None) -> np.ndarray:
    """Return ``value`` as a finite float64 2-D array, or raise ValueError naming ``name``.

    ``shape`` may hold ints or None (None: any size along that axis).
    """
    arr = real_array(value, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got an array of shape {arr.shape}")
    if shape is not None:
        for axis, (want, got) in enumerate(zip(shape, arr.shape)):
            if want is not None and want != got:
                raise ValueError(
                    f"{name} must have shape {_shape_str(shape)}, got {arr.shape} "
                    f"(axis {axis} differs)"
                )
    return finite(arr, name)


def vector(value, name: str, *, size: int | None = None) -> np.ndarray:
    """Return ``value`` as a finite float64 1-D array of length ``size`` (if given)."""
    arr = real_array(value, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got an array of shape {arr.shape}")
    if size is not None and arr.shape[0] != size:
        raise ValueError(f"{name} must have length {size}, got {arr.shape[0]}")
    return finite(arr, name)


def regression_pair(Y, X) -> tuple[np.ndarray, np.ndarray]:
    """Check Y (m x n) and X (d x n) share their number of columns n."""
    X = matrix(X, "X")
    Y = matrix(Y, "Y")
    for name, arr in (("Y", Y), ("X", X)):
        if 0 in arr.shape:
            raise ValueError(f"{name} must have at least one row and one column, got shape {arr.shape}")
    if Y.shape[1] != X.shape[1]:
        raise ValueError(
            f"Y (m x n) and X (d x n) must have the same number of columns n; "
            f"got Y {Y.shape} and X {X.shape}"
        )
    return Y, X


def integer(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as int if it is an integer in [minimum, maximum], else raise."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and np.isfinite(value) and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def counts(values, name: str, *, minimum: int = 0, what: str = "one per component") -> list[int]:
    """A nonempty sequence of integers >= ``minimum`` (epochs or steps per component) as a
    list of int; a non-integer entry (2.7) is refused, never truncated."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must list integers >= {minimum} ({what}), got {values!r}")
    out = list(values)
    if not out:
        raise ValueError(f"{name} must list integers >= {minimum} ({what}), got an empty list")
    try:
        return [integer(v, f"{name}[{i}]", minimum=minimum) for i, v in enumerate(out)]
    except ValueError as err:
        raise ValueError(f"{name} must list integers >= {minimum} ({what}): {err}") from None


def real(value, name: str, *, positive: bool = False, nonnegative: bool = False) -> float:
    """Return ``value`` as a finite float, optionally > 0 or >= 0, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if nonnegative and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def path(value, name: str):
    """``value`` as a ``pathlib.Path`` if it is a str or path-like, else TypeError naming
    ``name``."""
    from pathlib import Path
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a file or folder path (str or path-like), got "
                        f"{type(value).__name__}")
    return Path(value)


def flag(value, name: str, *, none: bool = False):
    """``value`` if it is a bool (Python or numpy), or None when ``none``; else ValueError.

    A string such as "False" or "no", or a number such as 2, is refused: it would be
    read as True."""
    if value is None and none:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"{name} must be True or False{' (or None)' if none else ''}, got {value!r}")


def choice(value, name: str, options) -> str:
    """Return ``value`` if it is one of ``options``, else raise listing them."""
    try:
        known = value in options
    except TypeError:                                   # an unhashable value: a list, say
        known = False
    if not known:
        raise ValueError(f"{name} must be one of {sorted(options)}, got {value!r}")
    return value


def spectrum(sigma, name: str = "sigma") -> np.ndarray:
    """Return ``sigma`` as a nonempty, nonnegative, non-increasing float64 1-D array."""
    s = vector(sigma, name)
    if s.size == 0:
        raise ValueError(f"{name} must hold at least one singular value")
    if np.any(s < 0):
        raise ValueError(f"{name} must be nonnegative")
    if np.any(np.diff(s) > 0):
        raise ValueError(f"{name} must be sorted non-increasingly (singular values, largest first)")
    return s


def seed(value, name: str = "seed", *, none: bool = False, generators: bool = False):
    """The library's one reading of a seed.

    An integer >= 0 (Python or numpy; a float equal to an integer, such as 3.0, is read as
    that integer, anything else, such as 2.7, is refused rather than truncated); None when
    ``none``; a numpy Generator or SeedSequence when ``generators``. Raises ValueError
    naming ``name`` otherwise.
    """
    if value is None and none:
        return None
    if generators and isinstance(value, (np.random.Generator, np.random.SeedSequence)):
        return value
    try:
        return integer(value, name, minimum=0, maximum=2**63 - 1)
    except ValueError:
        kinds = "an integer >= 0" + (", None" if none else "") + \
            (", a numpy Generator or SeedSequence" if generators else "")
        raise ValueError(f"{name} must be {kinds}, got {value!r}") from None


def generator(value, name: str = "seed") -> np.random.Generator:
    """``value`` itself if it is a numpy Generator (draws continue from it), else
    ``numpy.random.default_rng(value)`` (an int >= 0, a SeedSequence or None; :func:`seed`)."""
    value = seed(value, name, none=True, generators=True)
    return value if isinstance(value, np.random.Generator) else np.random.default_rng(value)


def torch_generator(value, name: str = "seed"):
    """A CPU ``torch.Generator`` seeded with ``value`` (an int >= 0, :func:`seed`)."""
    import torch
    return torch.Generator().manual_seed(seed(value, name))


def step_sizes(eta) -> tuple[float, float]:
    """``(eta_a, eta_b)`` from one positive step size or a pair of them."""
    if np.ndim(eta) == 0:
        e = real(eta, "eta", positive=True)
        return e, e
    if len(eta) != 2:
        raise ValueError(f"eta must be a positive float or a pair (eta_a, eta_b), got {eta!r}")
    return (real(eta[0], "eta[0] (eta_a)", positive=True),
            real(eta[1], "eta[1] (eta_b)", positive=True))


def _memory_bytes() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):       # no sysconf (Windows): no check
        return None


def fits(entries: int, what: str, *, itemsize: int = 8) -> None:
    """Refuse, before allocating, an array of ``entries`` numbers that cannot fit in half of
    this machine's memory (an absurd size would otherwise end in a MemoryError, or in
    minutes of swapping); ``what`` names the sizes that make it."""
    need, have = int(entries) * itemsize, _memory_bytes()
    if have is not None and need > have // 2:
        raise ValueError(f"{what} needs {need / 2**30:.3g} GiB for one array, more than half of "
                         f"this machine's {have / 2**30:.3g} GiB")


def _shape_str(shape) -> str:
    return "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
