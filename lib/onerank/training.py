"""What the image and the text LoRA experiments share: mixed precision, checks, evaluation.

:mod:`onerank.vision` and :mod:`onerank.language` train different models on different
data, but every forward pass of both runs under :func:`autocast`, both ``train``
functions check their budget and parameters with :func:`check_budget`, and both
evaluate in batches with :func:`mean_over_batches`, without gradients and with dropout
off.
"""

from __future__ import annotations

import torch

from . import _validate, config

__all__ = ["autocast", "check_budget", "mean_over_batches"]


def autocast(device, amp: bool | None = None):
    """The mixed-precision context of every forward pass of the LoRA experiments.

    Parameters
    ----------
    device : torch.device or str, where the pass runs.
    amp : bool or None. True: bfloat16 autocast; False: off; None (the default
        everywhere): on for cuda devices only. bfloat16 keeps float32's exponent range,
        so no loss scaling is needed.

    Returns
    -------
    torch.autocast context manager.
    """
    amp = _validate.flag(amp, "amp", none=True)
    device = config.torch_device(device)
    kind = torch.device(device).type
    enabled = kind == "cuda" if amp is None else bool(amp)
    return torch.autocast(kind, dtype=torch.bfloat16, enabled=enabled)


def check_budget(budget, params, *, name: str, batch: int) -> list:
    """Check a training budget and what it trains, before any work; return the parameters.

    Parameters
    ----------
    budget : int >= 0, epochs or optimiser steps (``name`` says which).
    params : iterable of tensors, at least one.
    name : str, the budget's argument name, for the message.
    batch : int >= 1.

    Returns
    -------
    list of the parameters.
    """
    _validate.integer(budget, name, minimum=0)
    _validate.integer(batch, "batch", minimum=1)
    params = list(params)
    if not params:
        raise ValueError("params is empty: nothing to train")
    return params


@torch.no_grad()
def mean_over_batches(model: torch.nn.Module, parts, statistic, *, count: int, device,
                      amp: bool | None = None) -> float:
    """``sum(statistic(part) for part in parts) / count``, in eval mode, without gradients.

    Parameters
    ----------
    model : the module evaluated; put in eval mode (dropout off).
    parts : iterable of batch selectors (slices or index tensors) handed to ``statistic``.
    statistic : callable ``part -> number`` (a tensor of one element or a float), the
        batch's sum of the quantity averaged: correct predictions, summed losses.
    count : int, the number of samples the parts cover (0 gives 0).
    device, amp : the forward passes run under :func:`autocast` ``(device, amp)``.

    Returns
    -------
    float, the mean over the samples.
    """
    model.eval()
    total = 0.0
    for part in parts:
        with autocast(device, amp):
            total += float(statistic(part))
    return total / max(1, count)
