"""Synthetic low-rank regression problems Y = W* X + E.

Shapes follow the paper: W* is m x d, X is d x n (one sample per column),
Y is m x n.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _validate

PROFILES = ("uniform", "exponential", "power")
NOISES = ("none", "gaussian", "sparse")
X_NORMS = ("rows", "columns", "none")


def singular_values(profile: str, rank: int, *, frobenius_norm: float | None = None) -> np.ndarray:
    """Singular values of W* for a named profile, largest first.

    Parameters
    ----------
    profile : {"uniform", "exponential", "power"}
        ``uniform``: all equal to 10. ``exponential``: geometric from 100 down to 1
        (``geomspace(100, 1, rank)``; a single value is 100). ``power``: ``100 / k**2`` for
        k = 1..rank.
    rank : int
        The number of values, >= 1.
    frobenius_norm : float, optional
        If given (> 0), the values are rescaled so that their Euclidean norm (the Frobenius
        norm of W*) equals it.

    Returns
    -------
    s : (rank,) float64 ndarray
        The values, non-increasing.
    """
    _validate.choice(profile, "profile", PROFILES)
    rank = _validate.integer(rank, "rank", minimum=1)
    _validate.fits(rank, f"singular_values with rank={rank}")
    k = np.arange(1, rank + 1, dtype=np.float64)
    if profile == "uniform":
        s = np.full(rank, 10.0)
    elif profile == "exponential":
        s = np.geomspace(100.0, 1.0, rank) if rank > 1 else np.array([100.0])
    else:
        s = 100.0 / k**2
    if frobenius_norm is not None:
        target = _validate.real(frobenius_norm, "frobenius_norm", positive=True)
        s = s * (target / np.linalg.norm(s))
    return s


def random_orthonormal(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """A matrix with orthonormal columns, Haar-distributed.

    The Q factor of the QR decomposition of a rows x cols Gaussian matrix, with the signs of
    R's diagonal absorbed.

    Parameters
    ----------
    rows : int
        Number of rows.
    cols : int
        Number of columns, <= rows.
    rng : numpy.random.Generator
        The source of the Gaussian draws.

    Returns
    -------
    Q : (rows, cols) ndarray
        Orthonormal columns: Q^T Q = I.
    """
    rows = _validate.integer(rows, "rows", minimum=1)
    cols = _validate.integer(cols, "cols", minimum=1)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator (numpy.random.default_rng), got {type(rng).__name__}")
    if cols > rows:
        raise ValueError(f"cols must be <= rows for orthonormal columns, got {rows} x {cols}")
    _validate.fits(rows * cols, f"random_orthonormal({rows}, {cols})")
    g = rng.standard_normal((rows, cols))
    q, r = np.linalg.qr(g)
    return q * np.sign(np.diag(r))


def _conditioned_design(d: int, n: int, condition, rng: np.random.Generator) -> np.ndarray:
    """X = U diag(s) V^T, s geometric from 1 to 1/condition, ||X||_F^2 = d (d <= n)."""
    cond = _validate.real(condition, "x_condition")
    if cond < 1:
        raise ValueError(f"x_condition must be >= 1, got {cond}")
    if d > n:
        raise ValueError(f"x_condition needs d <= n (X of full row rank), got d={d}, n={n}")
    s = np.geomspace(1.0, 1.0 / cond, d) if d > 1 else np.ones(1)
    s *= np.sqrt(d) / np.linalg.norm(s)
    return (random_orthonormal(d, d, rng) * s) @ random_orthonormal(n, d, rng).T


@dataclass(frozen=True)
class Problem:
    """One instance of the regression problem.

    Attributes
    ----------
    X : (d, n) array, the inputs, one sample per column.
    W_star : (m, d) array of rank ``rank``: ``U diag(singular_values) V^T``.
    Y : (m, n) array, ``Y_clean + noise``.
    Y_clean : (m, n) array, ``W_star @ X``.
    noise : (m, n) array, the label noise E (zeros when ``settings['noise'] == 'none'``).
    U : (m, rank), V : (d, rank), orthonormal columns; singular_values : (rank,).
    settings : dict of the arguments that made the instance.
    """

    X: np.ndarray
    W_star: np.ndarray
    Y: np.ndarray
    Y_clean: np.ndarray
    noise: np.ndarray
    U: np.ndarray
    V: np.ndarray
    singular_values: np.ndarray
    settings: dict = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(m, d, n)."""
        return (self.W_star.shape[0], self.W_star.shape[1], self.X.shape[1])


def make_problem(
    m: int,
    d: int,
    n: int,
    rank: int,
    *,
    profile: str = "exponential",
    noise: str = "none",
    noise_level: float = 0.0,
    x_norm: str = "rows",
    seed: int | None = 0,
    frobenius_norm: float | None = None,
    sparse_fraction: float = 0.05,
    spectrum: np.ndarray | None = None,
    x_condition: float | None = None,
) -> Problem:
    """Draw a seeded instance of Y = W* X + E.

    Parameters
    ----------
    m, d, n : int
        W* is m x d, X is d x n, Y is m x n.
    rank : int
        rank W*, 1 <= rank <= min(m, d).
    profile : {"uniform", "exponential", "power"}, optional
        Singular values of W*, see :func:`singular_values` (default "exponential").
    noise : {"none", "gaussian", "sparse"}, optional
        ``gaussian``: every entry of E is N(0, noise_level**2). ``sparse``: a random
        ``sparse_fraction`` of the entries (exactly ``round(sparse_fraction * m * n)`` of
        them) is N(0, noise_level**2), the rest zero. Default "none".
    noise_level : float, optional
        The standard deviation kappa of the nonzero noise entries, >= 0 (default 0).
    x_norm : {"rows", "columns", "none"}, optional
        X has i.i.d. N(0, 1) entries, then each row (the paper, Section 2; the default) or
        each column (the authors' code) is scaled to unit Euclidean norm, or nothing is done.
    seed : int or None, optional
        Seeds ``numpy.random.default_rng`` (default 0). Draw order: U, V, X, noise.
    frobenius_norm : float, optional
        Rescale the spectrum to this Frobenius norm, > 0 (e.g. ``sqrt(rank)`` gives the
        authors' ``||S||_2^2 = r``).
    sparse_fraction : float, optional
        In (0, 1] (default 0.05).
    spectrum : (rank,) array_like, optional
        Explicit singular values (overrides ``profile``); must be positive. They are sorted
        non-increasingly.
    x_condition : float, optional
        Draw X with a prescribed condition number (>= 1) instead: X = U_x diag(s_x) V_x^T with
        Haar U_x, V_x and s_x geometric from 1 down to 1 / x_condition, scaled so that
        ||X||_F^2 = d (as for unit rows). ``x_norm`` is then ignored. Needs d <= n.

    Returns
    -------
    Problem
        X (d, n), W_star (m, d), Y, Y_clean and noise (m, n), U (m, rank), V (d, rank),
        singular_values (rank,), and the settings.
    """
    m = _validate.integer(m, "m", minimum=1)
    d = _validate.integer(d, "d", minimum=1)
    n = _validate.integer(n, "n", minimum=1)
    rank = _validate.integer(rank, "rank", minimum=1, maximum=min(m, d))
    _validate.fits(max(m, d) * n + m * d, f"a problem with m={m}, d={d}, n={n}")
    _validate.choice(noise, "noise", NOISES)
    _validate.choice(x_norm, "x_norm", X_NORMS)
    noise_level = _validate.real(noise_level, "noise_level", nonnegative=True)
    sparse_fraction = _validate.real(sparse_fraction, "sparse_fraction", positive=True)
    if sparse_fraction > 1:
        raise ValueError(f"sparse_fraction must be in (0, 1], got {sparse_fraction}")
    if spectrum is None:
        s = singular_values(profile, rank, frobenius_norm=frobenius_norm)
    else:
        s = _validate.vector(spectrum, "spectrum", size=rank)
        if np.any(s <= 0):
            raise ValueError("spectrum must be positive")
        s = np.sort(s)[::-1]
        if frobenius_norm is not None:
            s = s * (_validate.real(frobenius_norm, "frobenius_norm", positive=True) / np.linalg.norm(s))

    rng = _validate.generator(seed)
    U = random_orthonormal(m, rank, rng)
    V = random_orthonormal(d, rank, rng)
    W_star = (U * s) @ V.T
    if x_condition is not None:
        X = _conditioned_design(d, n, x_condition, rng)
    else:
        X = rng.standard_normal((d, n))
        if x_norm == "rows":
            X /= np.linalg.norm(X, axis=1, keepdims=True)
        elif x_norm == "columns":
            X /= np.linalg.norm(X, axis=0, keepdims=True)
    Y_clean = W_star @ X
    E = np.zeros((m, n))
    if noise == "gaussian":
        E = noise_level * rng.standard_normal((m, n))
    elif noise == "sparse":
        count = int(round(sparse_fraction * m * n))
        where = rng.choice(m * n, size=count, replace=False)
        E.flat[where] = noise_level * rng.standard_normal(count)
    settings = dict(
        m=m, d=d, n=n, rank=rank, profile=profile if spectrum is None else "custom",
        noise=noise, noise_level=noise_level, x_norm=x_norm, seed=seed,
        frobenius_norm=frobenius_norm, sparse_fraction=sparse_fraction, x_condition=x_condition,
    )
    return Problem(X=X, W_star=W_star, Y=Y_clean + E, Y_clean=Y_clean, noise=E,
                   U=U, V=V, singular_values=s, settings=settings)
