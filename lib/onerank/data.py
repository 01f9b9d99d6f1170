"""Image datasets for the LoRA chapters: MNIST, CIFAR-10 and CIFAR-100 as in-memory tensors.

:func:`load` looks, in order, in the folder ``root`` (default: ``$ONERANK_DATA``) for

1. ``<name>.npz`` or ``<name>-subset.npz`` with arrays x_train, y_train, x_test, y_test
   (images as uint8, N x H x W or N x H x W x C);
2. torchvision's layout: ``MNIST/raw/``, ``cifar-10-batches-py/``, ``cifar-100-python/``;

and otherwise downloads through torchvision (which checks the archives' MD5 sums) into
``root`` or ``~/.cache/onerank``, where the internet is reachable (Colab). Images are
scaled to [0, 1], normalised per channel with the usual dataset statistics (the
authors' transforms) and flattened: x is (N, C*H*W) float32, y is (N,) int64.

The class split of the paper: the first half of the classes is "old" (pretraining),
the second half "new" (adaptation) (:meth:`Dataset.split`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from . import _validate, config

#: name -> (classes, torchvision folder, per-channel mean, per-channel std)
DATASETS = {
    "mnist": (10, "MNIST", (0.1307,), (0.3081,)),
    "cifar10": (10, "cifar-10-batches-py", (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": (100, "cifar-100-python", (0.5071, 0.4867, 0.4408), (0.2675, 0.2565, 0.2761)),
}


@dataclass
class Dataset:
    """One dataset in memory (torch tensors).

    Attributes
    ----------
    name : str; classes : int, the number of classes C.
    x_train : (N, D) float32, y_train : (N,) int64; x_test, y_test likewise.
    source : str, where it was read from.
    """

    name: str
    classes: int
    x_train: object
    y_train: object
    x_test: object
    y_test: object
    source: str

    @property
    def features(self) -> int:
        return int(self.x_train.shape[1])

    def split(self) -> tuple[list[int], list[int]]:
        """(old, new): the first and the second half of the classes."""
        half = self.classes // 2
        return list(range(half)), list(range(half, self.classes))

    def subset(self, classes, *, train_limit: int | None = None, seed: int = 0) -> "Dataset":
        """Only the rows whose label is in ``classes`` (labels unchanged); optionally at most
        ``train_limit`` training rows, a seeded random choice."""
        if train_limit is not None:
            train_limit = _validate.integer(train_limit, "train_limit", minimum=0)
        if isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
            raise TypeError(f"classes must be a list of class labels, got {classes!r}")
        classes = _validate.counts(classes, "classes", minimum=0, what="class labels")
        for c in classes:
            if c >= self.classes:
                raise ValueError(f"classes must be labels in [0, {self.classes}), got {c}")
        import torch
        classes = torch.as_tensor(list(classes))
        keep_tr = torch.isin(self.y_train, classes.to(self.y_train.device)).nonzero().squeeze(1)
        keep_te = torch.isin(self.y_test, classes.to(self.y_test.device)).nonzero().squeeze(1)
        if train_limit is not None and keep_tr.numel() > train_limit:
            g = _validate.torch_generator(seed)
            keep_tr = keep_tr[torch.randperm(keep_tr.numel(), generator=g)[:train_limit].to(keep_tr.device)]
            keep_tr = keep_tr.sort().values
        return replace(self, x_train=self.x_train[keep_tr], y_train=self.y_train[keep_tr],
                       x_test=self.x_test[keep_te], y_test=self.y_test[keep_te])

    def to(self, device) -> "Dataset":
        """The same data moved to ``device`` once (batches are then index slices on it)."""
        device = config.torch_device(device)
        return replace(self, x_train=self.x_train.to(device), y_train=self.y_train.to(device),
                       x_test=self.x_test.to(device), y_test=self.y_test.to(device))


def load(name: str, *, root=None, download: bool = True) -> Dataset:
    """Load dataset ``name`` ("mnist", "cifar10" or "cifar100"); see the module docstring.

    Parameters
    ----------
    name : {"mnist", "cifar10", "cifar100"}
        The dataset.
    root : str or path-like, optional
        The folder to look in (default :func:`onerank.config.data_dir`, i.e.
        ``$ONERANK_DATA``), and to download into.
    download : bool, optional
        Download through torchvision when the data are not on disk (default True).

    Returns
    -------
    Dataset
        x_train (N, C*H*W) float32 and y_train (N,) int64 tensors, x_test and y_test likewise.

    Raises
    ------
    FileNotFoundError
        Saying where it looked and how to supply the data, when it is neither on disk nor
        downloadable.
    ValueError
        If ``name`` is not one of the three datasets.
    """
    if root is not None:
        root = _validate.path(root, "root")
    _validate.flag(download, "download")
    if name not in DATASETS:
        raise ValueError(f"name must be one of {sorted(DATASETS)}, got {name!r}")
    root = Path(root) if root is not None else config.data_dir()
    classes, folder, _, _ = DATASETS[name]
    looked = []
    if root is not None:
        for candidate in (root / f"{name}.npz", root / f"{name}-subset.npz"):
            looked.append(str(candidate))
            if candidate.is_file():
                with np.load(candidate) as z:
                    arrays = [z[k] for k in ("x_train", "y_train", "x_test", "y_test")]
                return _tensors(name, *arrays, source=shown(candidate))
        looked.append(str(root / folder))
        if (root / folder).is_dir():
            return _torchvision(name, root, download=False)
    if download:
        target = root if root is not None else Path.home() / ".cache" / "onerank"
        try:
            return _torchvision(name, target, download=True)
        except Exception as err:                                    # offline: say what to do
            looked.append(f"download into {target} ({type(err).__name__}: {err})")
    raise FileNotFoundError(
        f"{name} not found; looked for: {'; '.join(looked) or 'nothing (ONERANK_DATA is unset)'}. "
        f"Set ONERANK_DATA to a folder holding {name}.npz (x_train, y_train, x_test, y_test) "
        f"or torchvision's {folder}/ layout, or run where torchvision can download it.")


def _torchvision(name: str, root: Path, *, download: bool) -> Dataset:
    import torchvision
    cls = {"mnist": torchvision.datasets.MNIST, "cifar10": torchvision.datasets.CIFAR10,
           "cifar100": torchvision.datasets.CIFAR100}[name]
    train = cls(str(root), train=True, download=download)
    test = cls(str(root), train=False, download=download)
    arrays = [np.asarray(train.data), np.asarray(train.targets), np.asarray(test.data), np.asarray(test.targets)]
    return _tensors(name, *arrays, source=f"torchvision {cls.__name__} in {shown(root)}")


def shown(path) -> str:
    """``path`` as records and chapters print it: under ``$ONERANK_DATA``, relative to it.

    A record made with the data folder in ``$ONERANK_DATA`` then names the file the same
    way on every machine (``$ONERANK_DATA/mnist.npz``), not by this machine's folders.

    Parameters
    ----------
    path : str or path-like
        A file or folder the data were read from.

    Returns
    -------
    str
        ``"$ONERANK_DATA"`` or ``"$ONERANK_DATA/<relative path>"`` when ``path`` lies in
        the folder :func:`onerank.config.data_dir` names, else ``str(path)``.
    """
    path = Path(_validate.path(path, "path"))
    folder = config.data_dir()
    if folder is not None:
        try:
            rel = path.resolve().relative_to(folder.resolve())
        except ValueError:
            return str(path)
        return f"${config.DATA_VARIABLE}" + ("" if rel == Path(".") else f"/{rel.as_posix()}")
    return str(path)


def _tensors(name, x_train, y_train, x_test, y_test, *, source) -> Dataset:
    import torch
    classes, _, mean, std = DATASETS[name]
    mean, std = np.asarray(mean, np.float32), np.asarray(std, np.float32)

    def images(x, what):
        x = np.asarray(x)
        if x.ndim == 3:
            x = x[..., None]                                        # N x H x W -> N x H x W x 1
        if x.ndim != 4 or x.shape[-1] != mean.size:
            raise ValueError(f"{what} of {name} must be N x H x W (x {mean.size}) images, got {x.shape}")
        x = (x.astype(np.float32) / 255.0 - mean) / std
        return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2).reshape(len(x), -1)))

    def labels(y, what):
        y = np.asarray(y).astype(np.int64).ravel()
        if y.size and (y.min() < 0 or y.max() >= classes):
            raise ValueError(f"{what} of {name} must lie in 0..{classes - 1}")
        return torch.from_numpy(y)

    return Dataset(name=name, classes=classes, x_train=images(x_train, "x_train"),
                   y_train=labels(y_train, "y_train"), x_test=images(x_test, "x_test"),
                   y_test=labels(y_test, "y_test"), source=source)
