"""Sequential rank-1 LoRA on an image classifier: the paper's vision experiments (Section 5.2).

The model is the MLP of the paper and the authors' code, in -> 512 -> 512 -> C with ReLU,
whose head keeps all C classes. It is pretrained on the old classes (the first half),
then adapted to the new ones with LoRA on all three linear layers, either one rank-1
component at a time (:func:`sequential`) or as one jointly trained rank-r pair
(:func:`joint`). The training protocol (Adam, learning rate 1e-3, batch 64, a fresh
optimiser per component) is the authors' code's: the paper prints no optimiser,
learning rate or batch size, only "(stochastic) gradient descent on (14)".

Training keeps the whole dataset on the device and takes each batch as an index slice
of a random permutation: no DataLoader, no per-batch copies from the host
(``benchmarks/vision.py`` measures what this saves).
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math

import torch
from torch import nn

from . import _validate, config, lora
from .training import autocast, check_budget, mean_over_batches

#: The names of the three linear layers of :func:`mlp`, all adapted by LoRA.
LORA_LAYERS = ("0", "2", "4")


def _check_xy(model, x, y, names=("x", "y"), model_name: str = "model") -> None:
    """Inputs and labels a classifier can be run on, checked before any work: x a
    floating (N, D) tensor with D the model's input width, y an int64 (N,) tensor of
    labels in [0, outputs)."""
    nx, ny = names
    if not isinstance(model, nn.Module):
        raise TypeError(f"{model_name} must be a torch nn.Module, got {type(model).__name__}")
    if not torch.is_tensor(x) or x.ndim != 2 or not torch.is_floating_point(x):
        raise ValueError(f"{nx} must be a floating (N, D) torch tensor, got "
                         f"{type(x).__name__} {tuple(getattr(x, 'shape', ()))} {getattr(x, 'dtype', '')}")
    if torch.is_tensor(y) and y.ndim == 1 and y.shape[0] != x.shape[0]:
        raise ValueError(f"{nx} and {ny} must have the same number of rows, got {x.shape[0]} and {y.shape[0]}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{nx} contains NaN or inf")
    if not torch.is_tensor(y) or y.shape != (x.shape[0],) or y.dtype != torch.int64:
        raise ValueError(f"{ny} must be an int64 ({x.shape[0]},) tensor of labels, got "
                         f"{type(y).__name__} {tuple(getattr(y, 'shape', ()))} {getattr(y, 'dtype', '')}")
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{model_name} has no linear layer: not a classifier of this library")
    if linears[0].in_features != x.shape[1]:
        raise ValueError(f"{nx} has {x.shape[1]} features, {model_name} takes {linears[0].in_features}")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= linears[-1].out_features):
        raise ValueError(f"{ny} holds labels outside [0, {linears[-1].out_features}) "
                         f"({model_name}'s outputs)")


def _check_data(model, ds, name: str, model_name: str = "base") -> None:
    """A Dataset (``onerank.data.Dataset``) the model can train and be tested on."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"{model_name} must be a torch nn.Module, got {type(model).__name__}")
    for part in ("x_train", "y_train", "x_test", "y_test"):
        if not hasattr(ds, part):
            raise TypeError(f"{name} must be an onerank.data.Dataset, got {type(ds).__name__}")
    if not torch.is_tensor(ds.x_train) or ds.x_train.shape[0] == 0:
        raise ValueError(f"{name} has no training rows (or x_train is not a tensor)")
    _check_xy(model, ds.x_train, ds.y_train, (f"{name}.x_train", f"{name}.y_train"), model_name)
    _check_xy(model, ds.x_test, ds.y_test, (f"{name}.x_test", f"{name}.y_test"), model_name)


def mlp(in_features: int, classes: int, hidden: int = 512, *, seed: int = 0) -> nn.Sequential:
    """Build the paper's MLP: in -> hidden -> hidden -> classes, ReLU between, seeded.

    The linear layers sit at the indices "0", "2" and "4" of the returned ``nn.Sequential``
    (:data:`LORA_LAYERS`, the layers LoRA adapts). Their PyTorch default initialisation is
    drawn right after ``torch.manual_seed(seed)``, so the call reseeds torch's global generator.

    Parameters
    ----------
    in_features : int
        Input width D (the pixels of a flattened image).
    classes : int
        Output width C, one logit per class.
    hidden : int, optional
        Width of both hidden layers. Default is 512.
    seed : int, optional
        Passed to ``torch.manual_seed`` before the layers are built. Default is 0.

    Returns
    -------
    model : nn.Sequential
        Linear, ReLU, Linear, ReLU, Linear, on the CPU; maps a (B, in_features) batch to
        (B, classes) logits.
    """
    for arg, value in (("in_features", in_features), ("classes", classes), ("hidden", hidden)):
        _validate.integer(value, arg, minimum=1, maximum=2**31 - 1)
    torch.manual_seed(_validate.seed(seed))
    return nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, classes))


def train(model: nn.Module, params, x, y, *, epochs: int, batch: int = 64, lr: float = 1e-3,
          seed: int = 0, amp: bool | None = None, stop=None, skip_frozen: bool = True) -> list[float]:
    """Train with Adam on cross-entropy over (x, y) for ``epochs`` passes in shuffled batches.

    A fresh Adam optimiser is built on ``params``, as the authors do for every component
    (PyTorch's fused implementation on cpu and cuda: the same update in one kernel, not one
    per tensor). Each epoch draws a permutation of the N rows from a CPU generator seeded
    with ``seed`` and takes every batch as an index slice of it on ``x``'s device (the last
    batch of an epoch may be shorter). Under mixed precision the parameters and the optimiser state stay
    float32, and the logits are cast to float32 before the loss.

    Parameters
    ----------
    model : nn.Module
        The network; it is put in train mode.
    params : iterable of tensors
        The tensors to optimise, at least one (e.g. the trainable LoRA pair of every layer).
    x : (N, D) tensor on the model's device
        Training inputs.
    y : (N,) int64 tensor on the model's device
        Class labels of the rows of ``x``.
    epochs : int
        Number of passes over the data, >= 0 (the most, when ``stop`` is given).
    batch : int, optional
        Batch size, >= 1. Default is 64.
    lr : float, optional
        Adam's learning rate. Default is 1e-3.
    seed : int, optional
        Seed of the generator that shuffles the rows. Default is 0.
    amp : bool or None, optional
        Mixed precision, see :func:`onerank.training.autocast`.
    stop : callable or None, optional
        Called after every epoch with the list of epoch losses so far; training ends early
        when it returns True (the optimiser keeps its state until then). The model is put
        back in train mode after each call, so ``stop`` may evaluate it.
    skip_frozen : bool, optional
        When ``model`` is the LoRA-adapted :func:`mlp` and ``params`` are its trainable
        pairs, skip the work that the frozen parts repeat (:func:`frozen_forward`): the
        first layer's frozen output is computed once for all rows, and each layer's frozen
        components are merged into its weight. The arithmetic is the same up to float
        rounding. Default is True; False runs the plain module forward (a reference for
        tests and ``benchmarks/vision.py``).

    Returns
    -------
    losses : list of float
        The mean training loss of each epoch run (batch losses weighted by batch size,
        taken as the weights moved): ``epochs`` entries, or fewer when ``stop`` ended training.

    Raises
    ------
    ValueError
        If ``epochs`` is not an integer >= 0, ``batch`` not an integer >= 1, or ``params``
        is empty (:func:`onerank.training.check_budget`).
    """
    _validate.flag(skip_frozen, "skip_frozen")
    _check_xy(model, x, y)
    if x.shape[0] == 0:
        raise ValueError("x has no rows: nothing to train on")
    _validate.real(lr, "lr", positive=True)
    params = check_budget(epochs, params, name="epochs", batch=batch)
    opt = torch.optim.Adam(params, lr=lr, fused=x.device.type in ("cpu", "cuda") or None)
    loss_fn = nn.CrossEntropyLoss()
    gen = _validate.torch_generator(seed)
    n = x.shape[0]
    losses = []
    forward = (frozen_forward(model, params, x, amp=amp) if skip_frozen and epochs > 0 else None) \
        or (lambda idx: model(x[idx]))
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen).to(x.device)
        total = torch.zeros((), device=x.device)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            with autocast(x.device, amp):
                loss = loss_fn(forward(idx).float(), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach() * idx.numel()
        losses.append(float(total) / n)
        if stop is not None and stop(losses):
            break
        model.train()
    return losses


def frozen_forward(model: nn.Module, params, x, *, amp: bool | None = None):
    """The logits of rows of ``x`` through the LoRA-adapted :func:`mlp`, frozen work done once.

    In sequential LoRA the base weights and every finished component are frozen, so the
    first layer's frozen output ``W_1 x + c_1 + sum_k b_k (a_k^T x)`` is the same for an
    image in every epoch. It is computed here once for all N rows (one (N, D) x (D, H)
    product), and a batch then costs only the trainable pair of layer 1,
    ``s (x A) B^T``, plus layers 2 and 3, whose frozen components are merged into their
    weights (``W + sum_k b_k a_k^T``, one product instead of one per component). The
    result equals ``model(x[idx])`` up to float rounding; gradients reach the same
    trainable pairs.

    Parameters
    ----------
    model : nn.Module
        The model being trained.
    params : list of tensors
        The tensors being trained.
    x : (N, D) tensor on the model's device
        All training inputs.
    amp : bool or None, optional
        Mixed precision, see :func:`onerank.training.autocast`; the first layer's frozen
        output is computed under it, as the plain forward would.

    Returns
    -------
    callable or None
        ``forward(idx)``: the (B, C) logits of the rows ``idx`` (an index tensor on ``x``'s
        device). None when ``model`` is not the adapted MLP (:data:`LORA_LAYERS` wrapped by
        :class:`onerank.lora.LoRALinear`, ReLU between) or ``params`` holds anything but
        its trainable pairs; the caller then runs the plain forward.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch nn.Module, got {type(model).__name__}")
    if not torch.is_tensor(x) or x.ndim != 2:
        raise ValueError(f"x must be an (N, D) torch tensor, got {type(x).__name__}")
    if isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
        raise TypeError(f"params must be an iterable of parameters, got {type(params).__name__}")
    if not (isinstance(model, nn.Sequential) and len(model) == 5
            and all(isinstance(model[i], lora.LoRALinear) for i in (0, 2, 4))
            and all(isinstance(model[i], nn.ReLU) for i in (1, 3))):
        return None
    layers = [model[0], model[2], model[4]]
    pairs = {id(t) for layer in layers for t in (layer.A, layer.B) if t is not None}
    frozen = [t for layer in layers for t in (*layer.base.parameters(), *layer.frozen_a, *layer.frozen_b)]
    if any(id(t) not in pairs for t in params) or any(t.requires_grad for t in frozen):
        return None
    first, second, third = layers
    with torch.no_grad():
        merged = []
        for layer in (second, third):
            w = layer.base.weight
            for a, b in zip(layer.frozen_a, layer.frozen_b):
                w = w + b @ a.T
            merged.append((w, layer.base.bias))
        with autocast(x.device, amp):
            h0 = first.base(x)
            for a, b in zip(first.frozen_a, first.frozen_b):
                h0 = h0 + (x @ a) @ b.T

    def pair(layer, h):
        return 0 if layer.A is None else layer.scaling * ((h @ layer.A) @ layer.B.T)

    def forward(idx):
        xb = x[idx]
        h = torch.relu(h0[idx] + pair(first, xb))
        (w2, c2), (w3, c3) = merged
        h = torch.relu(nn.functional.linear(h, w2, c2) + pair(second, h))
        return nn.functional.linear(h, w3, c3) + pair(third, h)

    return forward


def _slices(n: int, batch: int):
    return [slice(start, start + batch) for start in range(0, n, batch)]


def loss(model: nn.Module, x, y, *, batch: int = 8192, amp: bool | None = None) -> float:
    """Mean cross-entropy of the model on (x, y), over all classes.

    Evaluated in eval mode, without gradients, ``batch`` rows per forward pass
    (:func:`onerank.training.mean_over_batches`); the logits are cast to float32.

    Parameters
    ----------
    model : nn.Module
        The classifier, with one logit per class.
    x : (N, D) tensor on the model's device
        Inputs.
    y : (N,) int64 tensor on the model's device
        Class labels.
    batch : int, optional
        Rows per forward pass; it sets memory use, not the quantity computed. Default is 8192.
    amp : bool or None, optional
        Mixed precision, see :func:`onerank.training.autocast`.

    Returns
    -------
    float
        The loss summed over the N rows, divided by N (0.0 when N is 0).
    """
    batch = _validate.integer(batch, "batch", minimum=1)
    _check_xy(model, x, y)
    def summed(s):
        return nn.functional.cross_entropy(model(x[s]).float(), y[s], reduction="sum")

    return mean_over_batches(model, _slices(x.shape[0], batch), summed, count=x.shape[0], device=x.device,
                             amp=amp)


def accuracy(model: nn.Module, x, y, *, batch: int = 8192, amp: bool | None = None) -> float:
    """Share of rows of x whose arg-max prediction (over all classes) equals y.

    Evaluated in eval mode, without gradients, ``batch`` rows per forward pass
    (:func:`onerank.training.mean_over_batches`).

    Parameters
    ----------
    model : nn.Module
        The classifier, with one logit per class.
    x : (N, D) tensor on the model's device
        Inputs.
    y : (N,) int64 tensor on the model's device
        Class labels.
    batch : int, optional
        Rows per forward pass. Default is 8192.
    amp : bool or None, optional
        Mixed precision, see :func:`onerank.training.autocast`.

    Returns
    -------
    float
        The accuracy, in [0, 1] (0.0 when N is 0).
    """
    batch = _validate.integer(batch, "batch", minimum=1)
    _check_xy(model, x, y)

    def correct(s):
        return (model(x[s]).argmax(1) == y[s]).sum()

    return mean_over_batches(model, _slices(x.shape[0], batch), correct, count=x.shape[0], device=x.device,
                             amp=amp)


def pretrain(old, *, epochs: int = 10, batch: int = 64, lr: float = 1e-3, seed: int = 0,
             hidden: int = 512, classes: int | None = None, amp: bool | None = None) -> nn.Sequential:
    """The base model: :func:`mlp` trained on the old classes.

    The model is built on the device of ``old``'s data and trained by :func:`train` on every
    parameter.

    Parameters
    ----------
    old : onerank.data.Dataset
        The old-class subset, already on its device; ``x_train`` (N, D) and ``y_train`` (N,)
        are trained on.
    epochs : int, optional
        Training epochs. Default is 10.
    batch : int, optional
        Batch size. Default is 64.
    lr : float, optional
        Adam's learning rate. Default is 1e-3.
    seed : int, optional
        Seeds the initialisation (:func:`mlp`) and the shuffling. Default is 0.
    hidden : int, optional
        Width of the hidden layers. Default is 512.
    classes : int or None, optional
        Width of the head; None (the default) means ``old.classes``, so the head keeps all
        the classes of the dataset, new ones included.
    amp : bool or None, optional
        Mixed precision, see :func:`onerank.training.autocast`.

    Returns
    -------
    model : nn.Sequential
        The pretrained model, on ``old``'s device.
    """
    epochs = _validate.integer(epochs, "epochs", minimum=0)
    _training_args(batch, lr, seed)
    for part in ("x_train", "y_train"):
        if not hasattr(old, part):
            raise TypeError(f"old must be an onerank.data.Dataset, got {type(old).__name__}")
    if old.x_train.shape[0] == 0:
        raise ValueError("old has no training rows")
    model = mlp(old.features, classes or old.classes, hidden, seed=seed).to(old.x_train.device)
    train(model, model.parameters(), old.x_train, old.y_train, epochs=epochs, batch=batch, lr=lr, seed=seed,
          amp=amp)
    return model


def _training_args(batch, lr, seed) -> None:
    """The checks every training entry point makes before any work."""
    _validate.integer(batch, "batch", minimum=1)
    _validate.real(lr, "lr", positive=True)
    _validate.seed(seed)


def sequential(base: nn.Module, new, epochs, *, batch: int = 64, lr: float = 1e-3, seed: int = 0,
               init_std: float = 0.01, scaling: float = 1.0, amp: bool | None = None) -> dict:
    """Sequential rank-1 LoRA: component k trains for ``epochs[k]`` epochs, then is frozen.

    ``base`` is left untouched: a deep copy has its three linear layers
    (:data:`LORA_LAYERS`) wrapped by :func:`onerank.lora.apply`. For each component a
    rank-1 pair is added to every layer, trained by :func:`train` with a fresh Adam
    (``seed * 1000 + k`` draws A and shuffles the batches), and frozen; the test accuracy on
    the new classes is then measured.

    Parameters
    ----------
    base : nn.Module
        The pretrained model (:func:`pretrain`); not modified.
    new : onerank.data.Dataset
        The new-class subset, on the model's device: ``x_train`` (N, D) and ``y_train``
        (N,) are trained on, ``x_test`` and ``y_test`` give the accuracy.
    epochs : sequence of int
        Epochs of each component, each >= 0; its length r is the number of components.
    batch : int, optional
        Batch size. Default is 64.
    lr : float, optional
        Adam's learning rate. Default is 1e-3.
    seed : int, optional
        Base of the per-component seeds. Default is 0.
    init_std : float, optional
        Standard deviation of A's entries (:class:`onerank.lora.LoRALinear`). Default is 0.01.
    scaling : float, optional
        The factor s of the trainable pair. Default is 1.
    amp : bool or None, optional
        Mixed precision, see :func:`onerank.training.autocast`.

    Returns
    -------
    result : dict
        ``"accuracy"``: list of r floats, the test accuracy on the new classes after each
        component; ``"epochs"``: the schedule, a list of r ints; ``"model"``: the adapted
        copy, with r frozen rank-1 components per layer.

    Raises
    ------
    ValueError
        If ``epochs`` is empty or has a negative entry.
    """
    _check_data(base, new, "new")
    epochs = _validate.counts(epochs, "epochs")
    _training_args(batch, lr, seed)
    model = copy.deepcopy(base)
    layers = lora.apply(model, LORA_LAYERS, init_std=init_std, scaling=scaling)
    accs = []
    for k, e in enumerate(epochs):
        _component(model, layers, new.x_train, new.y_train, e, seed * 1000 + k, batch=batch, lr=lr, amp=amp)
        accs.append(accuracy(model, new.x_test, new.y_test, amp=amp))
    return {"accuracy": accs, "epochs": epochs, "model": model}


def _component(model, layers, x, y, epochs: int, seed: int, *, batch: int, lr: float,
               amp: bool | None = None) -> None:
    """One step of sequential LoRA: add a rank-1 pair to every layer, train it (fresh Adam,
    seeded by ``seed``, which also draws A), freeze it."""
    params = lora.add_component(layers, rank=1, seed=seed)
    train(model, params, x, y, epochs=epochs, batch=batch, lr=lr, seed=seed, amp=amp)
    lora.freeze_component(layers)


def joint(base: nn.Module, new, rank: int, epochs: int, *, batch: int = 64, lr: float = 1e-3,
          seed: int = 0, init_std: float = 0.01, scaling: float = 1.0, amp: bool | None = None,
          at=()) -> dict:
    """Jointly trained rank-``rank`` LoRA for ``epochs`` epochs; accuracy on the new classes.

    A deep copy of ``base`` gets one rank-``rank`` pair in each of its three linear layers
    (:data:`LORA_LAYERS`), trained by :func:`train` with a fresh Adam; ``seed * 1000`` draws
    A and shuffles the batches. The pair is left trainable (not frozen). The run's first e
    epochs are the whole run for e epochs (the same seeds, no schedule), so the counts
    ``at`` are read off this one run instead of being trained again.

    Parameters
    ----------
    base : nn.Module
        The pretrained model (:func:`pretrain`); not modified.
    new : onerank.data.Dataset
        The new-class subset, on the model's device (trained on ``x_train``, ``y_train``;
        tested on ``x_test``, ``y_test``).
    rank : int
        Rank of the pair, >= 1.
    epochs : int
        Training epochs, >= 0.
    batch : int, optional
        Batch size. Default is 64.
    lr : float, optional
        Adam's learning rate. Default is 1e-3.
    seed : int, optional
        Seed (times 1000) of A and of the shuffling. Default is 0.
    init_std : float, optional
        Standard deviation of A's entries. Default is 0.01.
    scaling : float, optional
        The factor s of the pair. Default is 1.
    amp : bool or None, optional
        Mixed precision, see :func:`onerank.training.autocast`.
    at : sequence of int, optional
        Smaller epoch counts, each in [1, epochs], at which the model is also copied and
        tested. Default none.

    Returns
    -------
    result : dict
        ``"accuracy"``: float, the test accuracy on the new classes at the end; ``"rank"``
        and ``"epochs"``: the arguments; ``"model"``: the adapted copy; ``"at"``: {e:
        {"accuracy", "model"}} for every e of ``at``, what :func:`joint` for e epochs returns.

    Raises
    ------
    ValueError
        If ``rank`` is not an int >= 1, ``epochs`` not an integer >= 0, or an entry of
        ``at`` not in [1, epochs].
    """
    _check_data(base, new, "new")
    rank = _validate.integer(rank, "rank", minimum=1)
    epochs = _validate.integer(epochs, "epochs", minimum=0)
    _training_args(batch, lr, seed)
    at = sorted(set(_validate.counts(at, "at", minimum=1, what="epoch counts"))) if len(at) else []
    if at and not (1 <= at[0] and at[-1] <= epochs):
        raise ValueError(f"at must list epoch counts in [1, epochs={epochs}], got {at}")
    model = copy.deepcopy(base)
    layers = lora.apply(model, LORA_LAYERS, init_std=init_std, scaling=scaling)
    params = lora.add_component(layers, rank=rank, seed=seed * 1000)
    copies = {}

    def take(losses):
        if len(losses) in at:
            copies[len(losses)] = copy.deepcopy(model)
        return False

    train(model, params, new.x_train, new.y_train, epochs=epochs, batch=batch, lr=lr, seed=seed * 1000,
          amp=amp, stop=take if at else None)
    return {"accuracy": accuracy(model, new.x_test, new.y_test, amp=amp), "rank": rank, "epochs": epochs,
            "model": model, "at": {e: {"accuracy": accuracy(m, new.x_test, new.y_test, amp=amp), "model": m}
                                   for e, m in copies.items()}}


#: The LoRA FLOPs count, shared with the language experiments (see :func:`onerank.lora.training_flops`).
lora_flops = lora.training_flops


def sequential_many(base: nn.Module, new, schedules, *, batch: int = 64, lr: float = 1e-3, seed: int = 0,
                    amp: bool | None = None, progress: bool = False) -> dict:
    """:func:`sequential` for many schedules at once, each shared stretch trained once.

    Component k of every schedule is seeded with ``seed * 1000 + k``, so two schedules
    that agree on their first k components have the same model after them, and a
    component's first e epochs are the same whatever its length (Adam has no schedule).
    The schedules therefore form a tree: each distinct prefix (e_1, ..., e_k) is a node,
    and a node trains its next component once, for the most epochs any child asks for; a
    copy taken after e epochs (frozen, then tested) is the child e. The accuracies equal
    :func:`sequential`'s for each schedule alone, bit for bit.

    Parameters
    ----------
    base : nn.Module
        The pretrained model (:func:`pretrain`); not modified.
    new : onerank.data.Dataset
        The new-class subset, on the model's device.
    schedules : iterable of sequences of int
        The schedules, epochs per component, each entry >= 0; they may differ in length.
    batch, lr, amp
        As for :func:`sequential`.
    seed : int, optional
        Base of the per-component seeds. Default is 0.
    progress : bool, optional
        Show a progress bar over the tested models (:func:`onerank.config.progress`).
        Default is False.

    Returns
    -------
    dict
        {schedule (tuple of int): list of the test accuracies on the new classes after each
        of its components}, in the order given (a repeated schedule appears once).

    Raises
    ------
    ValueError
        If there is no schedule, or one is empty or has a negative entry.
    """
    _check_data(base, new, "new")
    wanted = [tuple(_validate.counts(sch, f"schedules[{i}]")) for i, sch in enumerate(schedules)]
    _training_args(batch, lr, seed)
    if not wanted or any(not sch or min(sch) < 0 for sch in wanted):
        raise ValueError(f"schedules must be non-empty lists of epochs >= 0, got {wanted}")
    nodes = {prefix for sch in wanted for prefix in (sch[:k + 1] for k in range(len(sch)))}
    root = copy.deepcopy(base)
    names = list(lora.apply(root, LORA_LAYERS))

    def lora_layers(model):
        return {name: model.get_submodule(name) for name in names}

    bar = config.progress(total=len(nodes), enabled=progress, desc="components")
    frontier, done = {(): (root, [])}, {}
    for k in range(max(len(sch) for sch in wanted)):
        nxt = {}
        for prefix, (model, accs) in frontier.items():
            epochs = sorted({node[-1] for node in nodes if len(node) == k + 1 and node[:k] == prefix})
            if model is None:
                continue
            work, children = copy.deepcopy(model), {}

            def take(count, work=work, children=children, epochs=epochs):
                if count in epochs:                  # child e: the first e epochs, frozen
                    children[count] = copy.deepcopy(work)
                    lora.freeze_component(lora_layers(children[count]))
                return False

            params = lora.add_component(lora_layers(work), rank=1, seed=seed * 1000 + k)
            take(0)
            train(work, params, new.x_train, new.y_train, epochs=epochs[-1], batch=batch, lr=lr,
                  seed=seed * 1000 + k, amp=amp, stop=lambda losses, take=take: take(len(losses)))
            for e in epochs:
                child, node = children[e], prefix + (e,)
                acc = accs + [accuracy(child, new.x_test, new.y_test, amp=amp)]
                leaf = not any(len(other) > k + 1 and other[:k + 1] == node for other in nodes)
                nxt[node] = (None if leaf else child, acc)   # a leaf's model is not needed again
                bar.update()
        frontier = nxt
        done.update({node: accs for node, (_, accs) in nxt.items()})
    bar.close()
    return {sch: done[sch] for sch in wanted}


def epoch_paths(base: nn.Module, new, grid, *, components: int = 3, batch: int = 64, lr: float = 1e-3,
                seed: int = 0, amp: bool | None = None, progress: bool = False) -> dict:
    """Every epoch path (e_1, ..., e_components) over ``grid`` (the paper's alpha -> beta -> gamma).

    The G^components paths (G = len(grid)) are trained by :func:`sequential_many`, which
    trains each shared prefix once and reads a component's shorter runs off its longest:
    1 + G + ... + G^(components - 1) components of ``max(grid)`` epochs, and
    G + G^2 + ... + G^components models tested.

    Parameters
    ----------
    base, new
        As for :func:`sequential_many`.
    grid : sequence of int
        The epoch counts each component may get, each >= 1.
    components : int, optional
        Length of the paths. Default is 3.
    batch, lr, seed, amp, progress
        As for :func:`sequential_many`.

    Returns
    -------
    paths : dict
        {path: accuracies}: the G^components paths, each a tuple of ``components`` ints, to
        the list of test accuracies on the new classes after each of its components.

    Raises
    ------
    ValueError
        If ``grid`` is empty or has an entry < 1.
    """
    components = _validate.integer(components, "components", minimum=1)
    _check_data(base, new, "new")
    grid = _validate.counts(grid, "grid", minimum=1, what="epoch counts")
    return sequential_many(base, new, itertools.product(grid, repeat=components), batch=batch, lr=lr,
                           seed=seed, amp=amp, progress=progress)


def online_rank(base: nn.Module, new, *, epochs: int = 2, threshold: float = 0.005, max_rank: int = 8,
                validation: float = 0.1, batch: int = 64, lr: float = 1e-3, seed: int = 0,
                amp: bool | None = None) -> dict:
    """Choose the number of rank-1 components while training.

    Training stops once a component raises the validation accuracy by less than
    ``threshold``. A seeded share ``validation`` of the new-class training images is held
    out (:func:`holdout`); the first gain is measured against the base model. Components of
    ``epochs`` epochs each are added, at most ``max_rank``; the last one is kept even when
    its gain is small (it has been paid for).

    Parameters
    ----------
    base : nn.Module
        The pretrained model (:func:`pretrain`); not modified.
    new : onerank.data.Dataset
        The new-class subset, on the model's device.
    epochs : int, optional
        Epochs of every component, >= 1. Default is 2.
    threshold : float, optional
        Smallest gain in validation accuracy that lets another component follow.
        Default is 0.005.
    max_rank : int, optional
        Most components, >= 1. Default is 8.
    validation : float, optional
        Share of the training images held out, in (0, 1). Default is 0.1.
    batch : int, optional
        Batch size. Default is 64.
    lr : float, optional
        Adam's learning rate. Default is 1e-3.
    seed : int, optional
        Seeds the held-out split and (times 1000, plus k) component k. Default is 0.
    amp : bool or None, optional
        Mixed precision, see :func:`onerank.training.autocast`.

    Returns
    -------
    result : dict
        ``"rank"``: int, the components kept; ``"validation"``: list of floats, the
        validation accuracy after each component; ``"test"``: list of floats, the test
        accuracy after each; ``"epochs"``: int, the total epochs; ``"train_samples"``: int,
        the images trained on (those not held out).

    Raises
    ------
    ValueError
        If ``max_rank`` or ``epochs`` is < 1, or ``validation`` is not in (0, 1).
    """
    threshold = _validate.real(threshold, "threshold")
    validation = _validate.real(validation, "validation", positive=True)
    _check_data(base, new, "new")
    max_rank = _validate.integer(max_rank, "max_rank", minimum=1)
    epochs = _validate.integer(epochs, "epochs", minimum=1)
    _training_args(batch, lr, seed)
    fit, x_val, y_val = holdout(new, validation, seed=seed)
    x_tr, y_tr = fit.x_train, fit.y_train
    model = copy.deepcopy(base)
    layers = lora.apply(model, LORA_LAYERS)
    val, test = [], []
    previous = accuracy(model, x_val, y_val, amp=amp)
    for k in range(max_rank):
        _component(model, layers, x_tr, y_tr, epochs, seed * 1000 + k, batch=batch, lr=lr, amp=amp)
        val.append(accuracy(model, x_val, y_val, amp=amp))
        test.append(accuracy(model, new.x_test, new.y_test, amp=amp))
        if val[-1] - previous < threshold:
            break
        previous = val[-1]
    return {"rank": len(val), "validation": val, "test": test, "epochs": epochs * len(val),
            "train_samples": int(x_tr.shape[0])}


def holdout(new, validation: float = 0.1, *, seed: int = 0):
    """Split off a seeded share ``validation`` of the training images of ``new``.

    The held-out rows are the first V = max(1, round(validation * N)) of a permutation
    drawn from a CPU generator seeded with ``seed``.

    Parameters
    ----------
    new : onerank.data.Dataset
        The data to split; ``x_train`` is (N, D).
    validation : float, optional
        Share held out, in (0, 1). Default is 0.1.
    seed : int, optional
        Seed of the permutation. Default is 0.

    Returns
    -------
    fit : onerank.data.Dataset
        ``new`` with only the N - V remaining training images (its test set unchanged).
    x_val : (V, D) tensor on ``new``'s device
        The held-out images.
    y_val : (V,) tensor on ``new``'s device
        Their labels.

    Raises
    ------
    ValueError
        If ``validation`` is not in (0, 1).
    """
    for part in ("x_train", "y_train"):
        if not hasattr(new, part):
            raise TypeError(f"new must be an onerank.data.Dataset, got {type(new).__name__}")
    if not torch.is_tensor(new.x_train) or new.x_train.shape[0] < 2:
        raise ValueError("new.x_train must be a torch tensor with at least 2 rows (one to train, one to hold out)")
    validation = _validate.real(validation, "validation", positive=True)
    if validation >= 1:
        raise ValueError(f"validation must be in (0, 1), got {validation}")
    if not 0 < validation < 1:
        raise ValueError(f"validation must be in (0, 1), got {validation}")
    n = new.x_train.shape[0]
    order = torch.randperm(n, generator=_validate.torch_generator(seed)).to(new.x_train.device)
    hold = max(1, int(round(validation * n)))
    val_idx, tr_idx = order[:hold], order[hold:]
    fit = dataclasses.replace(new, x_train=new.x_train[tr_idx], y_train=new.y_train[tr_idx])
    return fit, new.x_train[val_idx], new.y_train[val_idx]


def sequential_adaptive(base: nn.Module, new, total: int, components: int, *, stall: float = 0.05,
                        share: float = 1.0, floor: int = 1, validation: float = 0.1, batch: int = 64,
                        lr: float = 1e-3, seed: int = 0, amp: bool | None = None) -> dict:
    """Sequential rank-1 LoRA with epoch budgets chosen while it trains, from ``total`` epochs.

    This is the rule of :func:`onerank.variants.adaptive`, on epochs. A seeded share
    ``validation`` of the training images is held out (:func:`holdout`); the rest is
    trained on. Component k first trains ``ceil(share * left / (components - k))`` epochs
    (``left``: epochs not yet spent), then continues one epoch at a time, and stops once the
    decrease of the held-out loss over the last epoch falls below ``stall`` times the
    largest per-epoch decrease it has shown (or the loss rose). It stops before it would eat
    into the ``floor`` epochs reserved for each later component; the last component gets all
    that is left. Adam keeps its state within a component.

    Parameters
    ----------
    base : nn.Module
        The pretrained model (:func:`pretrain`); not modified.
    new : onerank.data.Dataset
        The new-class subset, on the model's device.
    total : int
        The epoch budget, >= max(1, floor * (components - 1)).
    components : int
        Number of rank-1 components, >= 1.
    stall : float, optional
        The stopping ratio, in (0, 1). Default is 0.05.
    share : float, optional
        Factor, >= 0, of the equal share of the epochs left that a component trains before
        the rule applies. Default is 1.
    floor : int, optional
        Epochs, >= 0, reserved for each later component. Default is 1.
    validation : float, optional
        Share of the training images held out, in (0, 1). Default is 0.1.
    batch : int, optional
        Batch size. Default is 64.
    lr : float, optional
        Adam's learning rate. Default is 1e-3.
    seed : int, optional
        Seeds the held-out split and (times 1000, plus k) component k. Default is 0.
    amp : bool or None, optional
        Mixed precision, see :func:`onerank.training.autocast`.

    Returns
    -------
    result : dict
        ``"epochs"``: list of ``components`` ints, the epochs used per component (summing to
        ``total``); ``"accuracy"``: list of floats, the test accuracy on the new classes
        after each component; ``"validation_loss"``: one list per component, the held-out
        loss before and after each of its epochs (for the last component, which runs to the
        end without the rule, only before and after all of them); ``"train_samples"``: int,
        the images trained on; ``"model"``: the adapted copy.

    Raises
    ------
    ValueError
        If ``components`` < 1, ``floor`` < 0, ``total`` is below its minimum, ``stall`` is
        not in (0, 1), ``share`` < 0 or ``validation`` is not in (0, 1).
    """
    validation = _validate.real(validation, "validation", positive=True)
    _check_data(base, new, "new")
    components = _validate.integer(components, "components", minimum=1)
    floor = _validate.integer(floor, "floor", minimum=0)
    total = _validate.integer(total, "total", minimum=max(1, floor * (components - 1)))
    _training_args(batch, lr, seed)
    stall = _validate.real(stall, "stall", positive=True)
    if stall >= 1:
        raise ValueError(f"stall must be in (0, 1), got {stall}")
    share = _validate.real(share, "share", nonnegative=True)
    fit, x_val, y_val = holdout(new, validation, seed=seed)
    model = copy.deepcopy(base)
    layers = lora.apply(model, LORA_LAYERS)
    used, accs, curves, left = [], [], [], total
    for k in range(components):
        cap = left if k == components - 1 else left - floor * (components - k - 1)
        minimum = min(cap, math.ceil(share * left / (components - k)))
        curve = [loss(model, x_val, y_val, amp=amp)]
        peak = [0.0]

        def stop(losses, curve=curve, peak=peak, minimum=minimum, cap=cap):
            curve.append(loss(model, x_val, y_val, amp=amp))
            rate = curve[-2] - curve[-1]
            peak[0] = max(peak[0], rate)
            return len(losses) >= cap or (len(losses) >= minimum and rate < stall * peak[0])

        params = lora.add_component(layers, rank=1, seed=seed * 1000 + k)
        epochs = len(train(model, params, fit.x_train, fit.y_train, epochs=cap, batch=batch, lr=lr,
                           seed=seed * 1000 + k, amp=amp, stop=stop if k < components - 1 else None))
        lora.freeze_component(layers)
        if k == components - 1:
            curve.append(loss(model, x_val, y_val, amp=amp))
        used.append(epochs)
        left -= epochs
        curves.append(curve)
        accs.append(accuracy(model, new.x_test, new.y_test, amp=amp))
    return {"epochs": used, "accuracy": accs, "validation_loss": curves, "train_samples": int(fit.x_train.shape[0]),
            "model": model}
