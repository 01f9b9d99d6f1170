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
import math

import torch
from torch import nn

from . import _validate, config, lora
from .training import autocast, check_budget, mean_over_batches

#: The names of the three linear layers of :func:`mlp`, all adapted by LoRA.
LORA_LAYERS = ("0", "2", "4")


def mlp(in_features: int, classes: int, hidden: int = 512, *, seed: int = 0) -> nn.Sequential:
    """in -> hidden -> hidden -> classes, ReLU between, seeded initialisation."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, classes))


def train(model: nn.Module, params, x, y, *, epochs: int, batch: int = 64, lr: float = 1e-3,
          seed: int = 0, amp: bool | None = None, stop=None) -> list[float]:
    """Adam on cross-entropy over (x, y) for ``epochs`` passes in shuffled batches.

    ``params`` are the tensors to optimise (a fresh Adam, as the authors do per component).
    x (N, D) and y (N,) should already be on the model's device. ``amp``: see
    :func:`onerank.training.autocast` (parameters and optimiser state stay float32). ``stop``: optional
    callable, called after every epoch with the list of epoch losses so far; training
    ends early when it returns True (the optimiser keeps its state until then). Returns
    the mean loss of each epoch.
    """
    params = check_budget(epochs, params, name="epochs", batch=batch)
    opt = torch.optim.Adam(params, lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    n = x.shape[0]
    losses = []
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen).to(x.device)
        total = torch.zeros((), device=x.device)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            with autocast(x.device, amp):
                loss = loss_fn(model(x[idx]).float(), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach() * idx.numel()
        losses.append(float(total) / n)
        if stop is not None and stop(losses):
            break
        model.train()
    return losses


def _slices(n: int, batch: int):
    return [slice(start, start + batch) for start in range(0, n, batch)]


def loss(model: nn.Module, x, y, *, batch: int = 8192, amp: bool | None = None) -> float:
    """Mean cross-entropy of the model on (x, y) (all classes)."""
    def summed(s):
        return nn.functional.cross_entropy(model(x[s]).float(), y[s], reduction="sum")

    return mean_over_batches(model, _slices(x.shape[0], batch), summed, count=x.shape[0], device=x.device,
                             amp=amp)


def accuracy(model: nn.Module, x, y, *, batch: int = 8192, amp: bool | None = None) -> float:
    """Share of rows of x whose arg-max prediction (over all classes) equals y."""
    def correct(s):
        return (model(x[s]).argmax(1) == y[s]).sum()

    return mean_over_batches(model, _slices(x.shape[0], batch), correct, count=x.shape[0], device=x.device,
                             amp=amp)


def pretrain(old, *, epochs: int = 10, batch: int = 64, lr: float = 1e-3, seed: int = 0,
             hidden: int = 512, classes: int | None = None, amp: bool | None = None) -> nn.Sequential:
    """The base model: :func:`mlp` trained on the old classes (``old``: a data.Dataset subset
    already on its device). ``classes`` defaults to ``old.classes`` (the head keeps them all)."""
    model = mlp(old.features, classes or old.classes, hidden, seed=seed).to(old.x_train.device)
    train(model, model.parameters(), old.x_train, old.y_train, epochs=epochs, batch=batch, lr=lr, seed=seed,
          amp=amp)
    return model


def sequential(base: nn.Module, new, epochs, *, batch: int = 64, lr: float = 1e-3, seed: int = 0,
               init_std: float = 0.01, scaling: float = 1.0, amp: bool | None = None) -> dict:
    """Sequential rank-1 LoRA: component k trains for ``epochs[k]`` epochs, then is frozen.

    ``base`` is left untouched (a copy is adapted). Returns {"accuracy": test accuracy on the
    new classes after each component, "epochs": the schedule, "model": the adapted copy}.
    """
    epochs = [int(e) for e in epochs]
    if not epochs or min(epochs) < 0:
        raise ValueError(f"epochs must list one int >= 0 per component, got {epochs}")
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
          seed: int = 0, init_std: float = 0.01, scaling: float = 1.0, amp: bool | None = None) -> dict:
    """Jointly trained rank-``rank`` LoRA for ``epochs`` epochs; accuracy on the new classes."""
    model = copy.deepcopy(base)
    layers = lora.apply(model, LORA_LAYERS, init_std=init_std, scaling=scaling)
    params = lora.add_component(layers, rank=rank, seed=seed * 1000)
    train(model, params, new.x_train, new.y_train, epochs=epochs, batch=batch, lr=lr, seed=seed * 1000,
          amp=amp)
    return {"accuracy": accuracy(model, new.x_test, new.y_test, amp=amp), "rank": rank, "epochs": epochs,
            "model": model}


#: The LoRA FLOPs count, shared with the language experiments (see :func:`onerank.lora.training_flops`).
lora_flops = lora.training_flops


def epoch_paths(base: nn.Module, new, grid, *, components: int = 3, batch: int = 64, lr: float = 1e-3,
                seed: int = 0, amp: bool | None = None, progress: bool = False) -> dict:
    """Every epoch path (e_1, ..., e_components) over ``grid`` (the paper's alpha -> beta -> gamma).

    The paths form a tree, and each prefix is trained once: the model after
    (e_1, ..., e_k) is copied for every choice of e_{k+1}. Returns {path tuple: accuracies
    on the new classes after each component}.
    """
    grid = [int(e) for e in grid]
    if not grid or min(grid) < 1:
        raise ValueError(f"grid must list epoch counts >= 1, got {grid}")
    root = copy.deepcopy(base)
    layers = lora.apply(root, LORA_LAYERS)
    frontier = [((), root, [])]
    total = sum(len(grid) ** (k + 1) for k in range(components))
    bar = config.progress(total=total, enabled=progress, desc="epoch paths")
    for k in range(components):
        nxt = []
        for path, model, accs in frontier:
            for e in grid:
                child = copy.deepcopy(model)
                child_layers = {name: child.get_submodule(name) for name in layers}
                _component(child, child_layers, new.x_train, new.y_train, e, seed * 1000 + k,
                           batch=batch, lr=lr, amp=amp)
                nxt.append((path + (e,), child, accs + [accuracy(child, new.x_test, new.y_test, amp=amp)]))
                bar.update()
        frontier = nxt
    bar.close()
    return {path: accs for path, _, accs in frontier}


def online_rank(base: nn.Module, new, *, epochs: int = 2, threshold: float = 0.005, max_rank: int = 8,
                validation: float = 0.1, batch: int = 64, lr: float = 1e-3, seed: int = 0,
                amp: bool | None = None) -> dict:
    """Choose the number of rank-1 components while training: stop once a component raises
    the validation accuracy by less than ``threshold``.

    A seeded share ``validation`` of the new-class training images is held out. Components
    of ``epochs`` epochs each are added, at most ``max_rank``; the last one is kept even when
    its gain is small (it has been paid for). Returns {"rank": components kept,
    "validation": validation accuracy after each component, "test": test accuracy after
    each, "epochs": total epochs, "train_samples": images trained on (the rest)}.
    """
    if max_rank < 1 or epochs < 1:
        raise ValueError(f"max_rank and epochs must be >= 1, got {max_rank}, {epochs}")
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
    """Split off a seeded share ``validation`` of the training images of ``new`` (a data.Dataset).

    Returns (fit, x_val, y_val): ``fit`` is ``new`` with only the remaining training
    images (its test set unchanged), x_val (V, D) and y_val (V,) the held-out ones.
    """
    if not 0 < validation < 1:
        raise ValueError(f"validation must be in (0, 1), got {validation}")
    n = new.x_train.shape[0]
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).to(new.x_train.device)
    hold = max(1, int(round(validation * n)))
    val_idx, tr_idx = order[:hold], order[hold:]
    fit = dataclasses.replace(new, x_train=new.x_train[tr_idx], y_train=new.y_train[tr_idx])
    return fit, new.x_train[val_idx], new.y_train[val_idx]


def sequential_adaptive(base: nn.Module, new, total: int, components: int, *, stall: float = 0.05,
                        share: float = 1.0, floor: int = 1, validation: float = 0.1, batch: int = 64,
                        lr: float = 1e-3, seed: int = 0, amp: bool | None = None) -> dict:
    """Sequential rank-1 LoRA with epoch budgets chosen while it trains, from a total of
    ``total`` epochs: the rule of :func:`onerank.variants.adaptive`, on epochs.

    A seeded share ``validation`` of the training images is held out (:func:`holdout`);
    the rest is trained on. Component k first trains ``ceil(share * left / (components - k))``
    epochs (``left``: epochs not yet spent), then continues one epoch at a time, and stops
    once the decrease of the held-out loss over the last epoch falls below ``stall``
    times the largest per-epoch decrease it has shown (or the loss rose). It stops before
    it would eat into the ``floor`` epochs reserved for each later component; the last
    component gets all that is left. Adam keeps its state within a component.

    Returns {"epochs": epochs used per component (summing to ``total``), "accuracy": test
    accuracy on the new classes after each component, "validation_loss": per component,
    the held-out loss before and after each of its epochs (for the last component, which
    runs to the end without the rule, only before and after all of them), "train_samples":
    images trained on, "model": the adapted copy}.
    """
    components = _validate.integer(components, "components", minimum=1)
    floor = _validate.integer(floor, "floor", minimum=0)
    total = _validate.integer(total, "total", minimum=max(1, floor * (components - 1)))
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
