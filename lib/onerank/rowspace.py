"""The row space of X: the coordinates in which every rank-1 step is cheapest.

Every fitted matrix ``b a^T X`` has its rows in the row space of X. With the
thin SVD ``X = U_x diag(s_x) Vt_x`` (numerical rank ``s``), split any Y as

    Y = Z Vt_x + Y (I - P),     Z = Y Vt_x^T  (m x s),   P = Vt_x^T Vt_x.

The second part is orthogonal to everything the model can fit, so

    ||Y - b a^T X||_F^2 = ||Z - b (a^T US)||_F^2 + ||Y (I - P)||_F^2,   US = U_x diag(s_x)  (d x s).

The rank-1 problem therefore lives in an m x s matrix instead of m x n, exactly
(no Gram matrix X X^T is formed, so no condition number is squared). For r components,
the columns of A (d x r) and F (m x r) holding the a_k and b_k, the same identity gives
the training error ||Y - F A^T X||_F from :meth:`RowSpace.residual` and :func:`train_error`.

Examples
--------
>>> import numpy as np
>>> from onerank.rowspace import RowSpace, train_error
>>> rng = np.random.default_rng(0)
>>> X, Y = rng.standard_normal((3, 20)), rng.standard_normal((4, 20))
>>> A, F = rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
>>> rs = RowSpace(X)
>>> Z, outside_sq = rs.coordinates(Y)
>>> direct = np.linalg.norm(Y - F @ A.T @ X)
>>> bool(np.isclose(train_error(rs.residual(Z, A, F), outside_sq), direct, rtol=1e-12))
True
"""

from __future__ import annotations

import numpy as np

from . import _validate


class RowSpace:
    """Thin SVD of X (d x n) with its numerical rank.

    Attributes
    ----------
    U : (d, s) orthonormal columns spanning the column space of X.
    s : (s,) positive singular values of X, largest first.
    Vt : (s, n) orthonormal rows spanning the row space of X.
    US : (d, s) ``U * s``, so that ``a @ X @ Vt.T == a @ US``.
    rank : int, the number s of singular values above ``tol``.
    tol : float, default ``s_max * max(d, n) * eps`` (numpy's matrix_rank rule).
    """

    def __init__(self, X, *, tol: float | None = None):
        X = _validate.matrix(X, "X")
        if 0 in X.shape:
            raise ValueError(f"X must have at least one row and one column, got shape {X.shape}")
        if tol is not None:
            tol = _validate.real(tol, "tol", nonnegative=True)
        U, s, Vt = np.linalg.svd(X, full_matrices=False)
        if tol is None:
            tol = (s[0] if s.size else 0.0) * max(X.shape) * np.finfo(np.float64).eps
        keep = s > tol
        self.shape = X.shape
        self.tol = float(tol)
        self.U, self.s, self.Vt = U[:, keep], s[keep], Vt[keep]
        self.US = self.U * self.s
        self.rank = int(keep.sum())

    def coordinates(self, Y) -> tuple[np.ndarray, float]:
        """Split Y (m x n) into its row-space coordinates and the rest.

        Returns
        -------
        Z : (m, s) array, ``Y @ Vt.T``.
        outside_sq : float, ``||Y (I - P)||_F^2``, computed from the explicit
            difference ``Y - Z Vt`` so that it is accurate even when tiny.
        """
        Y = _validate.matrix(Y, "Y", shape=(None, self.shape[1]))
        Z = Y @ self.Vt.T
        outside_sq = float(np.sum((Y - Z @ self.Vt) ** 2))
        return Z, outside_sq

    def residual(self, Z, A, F) -> np.ndarray:
        """Coordinates of the residual ``Y - F A^T X`` from those of Y.

        Parameters
        ----------
        Z : (m, s) array, ``coordinates(Y)[0]``.
        A : (d, r) array, the a_k as columns. F : (m, r) array, the b_k as columns.

        Returns
        -------
        (m, s) array, ``Z - F (US^T A)^T``.
        """
        Z = _validate.matrix(Z, "Z", shape=(None, self.rank))
        A = _validate.matrix(A, "A", shape=(self.shape[0], None))
        F = _validate.matrix(F, "F", shape=(Z.shape[0], A.shape[1]))
        return Z - F @ (self.US.T @ A).T

    def project(self, Y) -> np.ndarray:
        """The orthogonal projection ``Y P`` of Y (m x n) onto the row space of X."""
        Z, _ = self.coordinates(Y)
        return Z @ self.Vt


def train_error(R, outside_sq: float) -> float:
    """The training error ||Y - W X||_F from the coordinates R (m, s) of the residual.

    Parameters
    ----------
    R : (m, s) array, e.g. :meth:`RowSpace.residual`.
    outside_sq : float, ``||Y (I - P)||_F^2`` from :meth:`RowSpace.coordinates`.

    Returns
    -------
    float, ``sqrt(||R||_F^2 + outside_sq)``.
    """
    R = _validate.matrix(R, "R")
    outside_sq = _validate.real(outside_sq, "outside_sq", nonnegative=True)
    return _train_error(R, outside_sq)


def _train_error(R, outside_sq: float) -> float:
    """:func:`train_error` without the checks, for the inner loops."""
    return float(np.sqrt(np.sum(R * R) + outside_sq))
