"""LoRA for ``nn.Linear`` layers, built for learning one rank at a time.

A :class:`LoRALinear` wraps a frozen linear layer ``y = x W^T + c`` (W is out x in)
and adds low-rank corrections:

    y = x W^T + c + sum_k (x a_k) b_k^T + s (x A) B^T

- ``(a_k, b_k)``, a_k (in x r_k) and b_k (out x r_k): the *frozen components* learnt
  earlier, one stack per layer;
- ``(A, B)``, A (in x r) and B (out x r): the one *trainable* pair, present between
  :meth:`LoRALinear.add_component` and :meth:`LoRALinear.freeze_component`;
- ``s``: the scaling, 1 by default (the authors' code has no alpha / r factor; peft
  and the LoRA paper use s = alpha / r).

Sequential rank-1 LoRA is then: add a rank-1 pair to every adapted layer, train it,
freeze it, add the next. Joint rank-r LoRA is one rank-r pair. The weight update of
a layer is ``delta_weight() = sum_k b_k a_k^T + s B A^T`` (out x in), and
:meth:`LoRALinear.merge` folds it into a plain ``nn.Linear``.

Defaults follow the authors' code (MahiAV/ORAT): A ~ 0.01 N(0, 1), B = 0, so a new
pair starts with no effect on the output and only B gets a gradient at the first step.
"""

from __future__ import annotations

import torch
from torch import nn

from . import _validate


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` with a stack of frozen low-rank components and one trainable pair.

    Parameters
    ----------
    base : nn.Linear, the layer to adapt; its weight and bias are frozen (requires_grad False).
    init_std : float > 0, A's entries are drawn from N(0, init_std^2) (default 0.01).
    scaling : float, the factor s of the trainable pair (default 1).
    """

    def __init__(self, base: nn.Linear, *, init_std: float = 0.01, scaling: float = 1.0):
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise ValueError(f"base must be an nn.Linear, got {type(base).__name__}")
        init_std = _validate.real(init_std, "init_std", positive=True)
        scaling = _validate.real(scaling, "scaling")
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.init_std, self.scaling = float(init_std), float(scaling)
        self.frozen_a = nn.ParameterList()
        self.frozen_b = nn.ParameterList()
        self.A: nn.Parameter | None = None
        self.B: nn.Parameter | None = None

    @property
    def in_features(self) -> int:
        return self.base.in_features

    @property
    def out_features(self) -> int:
        return self.base.out_features

    @property
    def ranks(self) -> list[int]:
        """Ranks of the frozen components, oldest first."""
        return [a.shape[1] for a in self.frozen_a]

    def add_component(self, rank: int = 1, *, generator: torch.Generator | None = None) -> None:
        """Start a new trainable pair: A (in x rank) ~ N(0, init_std^2), B (out x rank) = 0."""
        rank = _validate.integer(rank, "rank", minimum=1)
        _validate.fits(rank * (self.base.in_features + self.base.out_features), f"a component of rank {rank}", itemsize=4)
        if self.A is not None:
            raise RuntimeError("the current trainable pair must be frozen (freeze_component) "
                               "before a new one is added")
        if not (isinstance(rank, int) and rank >= 1):
            raise ValueError(f"rank must be an int >= 1, got {rank!r}")
        w = self.base.weight
        A = torch.randn(self.in_features, rank, generator=generator, device="cpu", dtype=w.dtype)
        self.A = nn.Parameter((self.init_std * A).to(w.device))
        self.B = nn.Parameter(torch.zeros(self.out_features, rank, device=w.device, dtype=w.dtype))

    def freeze_component(self) -> None:
        """Move the trainable pair, scaling included, onto the frozen stack."""
        if self.A is None:
            raise RuntimeError("there is no trainable pair to freeze (add_component first)")
        self.frozen_a.append(nn.Parameter(self.A.detach().clone(), requires_grad=False))
        self.frozen_b.append(nn.Parameter(self.scaling * self.B.detach().clone(), requires_grad=False))
        self.A = self.B = None

    def delta_weight(self) -> torch.Tensor:
        """The weight update sum_k b_k a_k^T + s B A^T, an (out, in) tensor."""
        w = self.base.weight
        delta = torch.zeros_like(w)
        for a, b in zip(self.frozen_a, self.frozen_b):
            delta = delta + b @ a.T
        if self.A is not None:
            delta = delta + self.scaling * (self.B @ self.A.T)
        return delta

    def merge(self) -> nn.Linear:
        """A plain ``nn.Linear`` with weight W + delta_weight() and the same bias."""
        out = nn.Linear(self.in_features, self.out_features, bias=self.base.bias is not None,
                        device=self.base.weight.device, dtype=self.base.weight.dtype)
        with torch.no_grad():
            out.weight.copy_(self.base.weight + self.delta_weight())
            if self.base.bias is not None:
                out.bias.copy_(self.base.bias)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.base(x)
        for a, b in zip(self.frozen_a, self.frozen_b):
            y = y + (x @ a) @ b.T
        if self.A is not None:
            y = y + self.scaling * ((x @ self.A) @ self.B.T)
        return y


def _check_layers(layers) -> None:
    if not isinstance(layers, dict) or not layers or not all(isinstance(v, LoRALinear)
                                                             for v in layers.values()):
        raise TypeError("layers must be a nonempty dict of LoRALinear layers (from apply), got "
                        f"{type(layers).__name__}")


def apply(model: nn.Module, names, **options) -> dict[str, LoRALinear]:
    """Replace the ``nn.Linear`` submodules ``names`` of ``model`` by :class:`LoRALinear` wrappers.

    Every other parameter of the model is frozen too. The model is changed in place.

    Parameters
    ----------
    model : nn.Module
        The model to adapt.
    names : iterable of str
        Dotted names of ``nn.Linear`` submodules of ``model`` (at least one).
    **options
        Keyword arguments of :class:`LoRALinear` (``init_std``, ``scaling``).

    Returns
    -------
    dict of str to LoRALinear
        {name: layer}, in the order given.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch nn.Module, got {type(model).__name__}")
    if isinstance(names, (str, bytes)) or not hasattr(names, "__iter__"):
        raise TypeError(f"names must be a list of module names, got {names!r}")
    names = list(names)
    if not names:
        raise ValueError("names must list at least one nn.Linear submodule")
    for p in model.parameters():
        p.requires_grad_(False)
    layers = {}
    for name in names:
        try:
            module = model.get_submodule(name)
        except AttributeError:
            raise ValueError(f"model has no submodule {name!r}") from None
        if not isinstance(module, nn.Linear):
            raise ValueError(f"submodule {name!r} must be an nn.Linear, got {type(module).__name__}")
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        layers[name] = LoRALinear(module, **options)
        setattr(parent, child, layers[name])
    return layers


def add_component(layers: dict, rank: int = 1, *, seed: int | None = None) -> list[nn.Parameter]:
    """Add a trainable pair of ``rank`` to every layer.

    Parameters
    ----------
    layers : dict of str to LoRALinear
        The layers, e.g. from :func:`apply`.
    rank : int, optional
        The rank of each new pair, >= 1 (default 1).
    seed : int, optional
        Seeds one ``torch.Generator`` that draws the A of every layer in turn; None uses
        torch's global generator.

    Returns
    -------
    list of nn.Parameter
        The new trainable parameters, A and B of each layer in turn (2 per layer).
    """
    _check_layers(layers)
    gen = None if seed is None else _validate.torch_generator(seed)
    params = []
    for layer in layers.values():
        layer.add_component(rank, generator=gen)
        params += [layer.A, layer.B]
    return params


def freeze_component(layers: dict) -> None:
    """Freeze the trainable pair of every layer.

    Parameters
    ----------
    layers : dict of str to LoRALinear
        The layers, e.g. from :func:`apply`.

    Returns
    -------
    None
    """
    _check_layers(layers)
    for layer in layers.values():
        layer.freeze_component()


def training_flops(shapes, samples: int, epochs, ranks=None) -> float:
    """Training FLOPs spent in the LoRA branches, by a documented count.

    For a layer with ``in`` inputs and ``out`` outputs, a rank-r branch costs 2 r (in + out)
    FLOPs per sample forward (x A, then (x A) B^T). Training it costs 3 times that (forward,
    and a backward pass producing the gradients of A, B and of the input). A frozen branch
    still runs forward and passes gradients back to its input: 2 times its forward cost.

    Parameters
    ----------
    shapes : list of (int, int)
        (in, out) of the adapted layers.
    samples : int
        Training samples per epoch (per step, if ``epochs`` counts steps; for a transformer
        a sample is a token, since the branch runs once per token).
    epochs : int or sequence of int
        Epochs (or steps) of each component (sequential) or a single int (one joint pair).
    ranks : int or sequence of int, optional
        Rank of each component (default 1 each); for a single int ``epochs``, the joint rank.

    Returns
    -------
    float
        The FLOPs.
    """
    if isinstance(shapes, (str, bytes)) or not hasattr(shapes, "__iter__"):
        raise TypeError(f"shapes must be a list of (in, out) pairs, got {shapes!r}")
    shapes = list(shapes)
    if not shapes or any(not hasattr(sh, "__len__") or len(sh) != 2 for sh in shapes):
        raise ValueError(f"shapes must be a nonempty list of (in, out) pairs, got {shapes!r}")
    for i, o in shapes:
        _validate.integer(i, "shapes (in)", minimum=1), _validate.integer(o, "shapes (out)", minimum=1)
    samples = _validate.real(samples, "samples", nonnegative=True)   # tokens per step: a mean
    per_rank = sum(2 * (i + o) for i, o in shapes)                 # forward FLOPs of rank 1, per sample
    if not hasattr(epochs, "__iter__"):
        epochs = _validate.integer(epochs, "epochs", minimum=0)
        rank = 1 if ranks is None else _validate.integer(ranks, "ranks", minimum=1)
        return 3.0 * per_rank * rank * samples * epochs
    epochs = _validate.counts(epochs, "epochs", minimum=0)
    ranks = ([1] * len(epochs) if ranks is None
             else _validate.counts(ranks, "ranks", minimum=1, what="one rank per component"))
    if len(ranks) != len(epochs):
        raise ValueError(f"ranks must have one entry per component ({len(epochs)}), got {len(ranks)}")
    total = 0.0
    for k, e in enumerate(epochs):
        frozen = sum(ranks[:k])
        total += (3.0 * ranks[k] + 2.0 * frozen) * per_rank * samples * e
    return total
