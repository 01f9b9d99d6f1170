"""Argument checks shared by the library: each raises ValueError naming the argument."""

from __future__ import annotations

import numbers

import numpy as np


def matrix(value, name: str, *, shape: tuple | None = None) -> np.ndarray:
    """Return ``value`` as a finite float64 2-D array, or raise ValueError naming ``name``.

    ``shape`` may hold ints or None (None: any size along that axis).
    """
    arr = np.asarray(value)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got an array of shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if shape is not None:
        for axis, (want, got) in enumerate(zip(shape, arr.shape)):
            if want is not None and want != got:
                raise ValueError(
                    f"{name} must have shape {_shape_str(shape)}, got {arr.shape} "
                    f"(axis {axis} differs)"
                )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def vector(value, name: str, *, size: int | None = None) -> np.ndarray:
    """Return ``value`` as a finite float64 1-D array of length ``size`` (if given)."""
    arr = np.asarray(value)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got an array of shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    if size is not None and arr.shape[0] != size:
        raise ValueError(f"{name} must have length {size}, got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def regression_pair(Y, X) -> tuple[np.ndarray, np.ndarray]:
    """Check Y (m x n) and X (d x n) share their number of columns n."""
    X = matrix(X, "X")
    Y = matrix(Y, "Y")
    if Y.shape[1] != X.shape[1]:
        raise ValueError(
            f"Y (m x n) and X (d x n) must have the same number of columns n; "
            f"got Y {Y.shape} and X {X.shape}"
        )
    return Y, X


def integer(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as int if it is an integer in [minimum, maximum], else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer() and np.isfinite(value):
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


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


def choice(value, name: str, options) -> str:
    """Return ``value`` if it is one of ``options``, else raise listing them."""
    if value not in options:
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


def generator(seed) -> np.random.Generator:
    """``seed`` itself if it is a numpy Generator (draws continue from it), else
    ``numpy.random.default_rng(seed)`` (an int, a SeedSequence or None)."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def step_sizes(eta) -> tuple[float, float]:
    """``(eta_a, eta_b)`` from one positive step size or a pair of them."""
    if np.ndim(eta) == 0:
        e = real(eta, "eta", positive=True)
        return e, e
    if len(eta) != 2:
        raise ValueError(f"eta must be a positive float or a pair (eta_a, eta_b), got {eta!r}")
    return (real(eta[0], "eta[0] (eta_a)", positive=True),
            real(eta[1], "eta[1] (eta_b)", positive=True))


def _shape_str(shape) -> str:
    return "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
