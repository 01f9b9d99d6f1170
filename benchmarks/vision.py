"""Benchmark: our in-memory training loop against a torchvision-style DataLoader loop.

Both train the same MLP (784 -> 512 -> 512 -> 10) for one epoch on the same MNIST
images with Adam, batch 64. The DataLoader loop is what a tutorial writes: a
TensorDataset on the host, shuffled batches collated and copied to the device each
step. Ours (``onerank.vision.train``) keeps the data on the device and slices batches
out of a random permutation. The script also times the arithmetic alone (the same
number of forward/backward/step calls on one fixed batch): no loop can beat the
DataLoader loop by more than the ratio of the DataLoader time to that floor. It prints
seconds per epoch and their ratios, measured in this run.

Second, the sequential-LoRA epoch with and without the frozen work skipped
(``vision.train(..., skip_frozen=False)`` against the default, see
``vision.frozen_forward``), per dataset shape: MNIST's 784 inputs and CIFAR's 3,072
(the CIFAR-10 subset where present, else random images of that shape), on a model with
one frozen rank-1 component and one being trained, as the second step of a sequential run.
Each time is one component of ``--epochs`` epochs (the first layer's frozen output is
built once per component, and its cost is counted), per epoch, the best of
``--repeats`` components, alternating the two loops.

    ONERANK_DATA=../shared/data python benchmarks/vision.py [--samples 30000]
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from onerank import config, data, lora, vision, vision_sweep


def _sync(device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def _adam(model, device):
    """Adam as ``vision.train`` builds it (fused on cpu and cuda), so the loops differ only
    in how they feed the batches."""
    return torch.optim.Adam(model.parameters(), lr=1e-3, fused=torch.device(device).type in ("cpu", "cuda") or None)


def dataloader_epoch(model, x_cpu, y_cpu, device, batch=64, workers=0):
    opt = _adam(model, device)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x_cpu, y_cpu), batch_size=batch, shuffle=True, num_workers=workers,
                        pin_memory=str(device).startswith("cuda"))
    for xb, yb in loader:
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
        loss = loss_fn(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def arithmetic_only(model, x, y, steps, batch=64):
    opt = _adam(model, x.device)
    loss_fn = nn.CrossEntropyLoss()
    xb, yb = x[:batch], y[:batch]
    for _ in range(steps):
        loss = loss_fn(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30000, help="training images per epoch")
    parser.add_argument("--device", default=None)
    parser.add_argument("--epochs", type=int, default=5, help="epochs of each timed component")
    parser.add_argument("--repeats", type=int, default=3, help="components timed per loop (the best is kept)")
    args = parser.parse_args(argv)
    device = torch.device(args.device or config.device())
    mnist = data.load("mnist")
    x_cpu, y_cpu = mnist.x_train[: args.samples].contiguous(), mnist.y_train[: args.samples].contiguous()
    x, y = x_cpu.to(device), y_cpu.to(device)
    print(f"MNIST, {x.shape[0]} images, batch 64, device {device}, {os.cpu_count()} CPU cores, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads)")

    def timed(fn):
        model = vision.mlp(784, 10, seed=0).to(device)
        _sync(device)
        start = time.perf_counter()
        fn(model)
        _sync(device)
        return time.perf_counter() - start

    timed(lambda m: vision.train(m, m.parameters(), x[:640], y[:640], epochs=1))          # warm-up
    t_ours = timed(lambda m: vision.train(m, m.parameters(), x, y, epochs=1))
    t_loader = timed(lambda m: dataloader_epoch(m, x_cpu, y_cpu, device))
    print(f"our loop (device tensors, index slices): {t_ours:7.2f} s per epoch")
    print(f"DataLoader loop (host tensors, collate):  {t_loader:7.2f} s per epoch")
    print(f"ratio DataLoader / ours: {t_loader / t_ours:.1f}x")
    steps = (x.shape[0] + 63) // 64
    t_arith = timed(lambda m: arithmetic_only(m, x, y, steps))
    print(f"arithmetic alone (same steps, one fixed batch): {t_arith:7.2f} s; "
          f"ours / arithmetic: {t_ours / t_arith:.2f}x, DataLoader / arithmetic: {t_loader / t_arith:.2f}x")
    print(f"upper limit of any loop's gain over the DataLoader loop: {t_loader / t_arith:.2f}x "
          f"(its overhead is {t_loader - t_arith:.2f} s of {t_loader:.2f} s)")
    print(f"\nsequential LoRA, second component (one frozen), {args.epochs} epochs, seconds per "
          f"epoch, best of {args.repeats}:")
    shapes = {"MNIST (784 inputs)": mnist.x_train[: args.samples]}
    try:
        shapes["CIFAR-10 subset (3,072 inputs)"] = data.load("cifar10", download=False).x_train
    except (FileNotFoundError, ValueError):
        g = torch.Generator().manual_seed(0)
        shapes["random images of CIFAR's shape (3,072 inputs)"] = torch.rand(4000, 3072, generator=g)
    for label, xs in shapes.items():
        plain, cached = frozen_work_epochs(xs.to(device), device, args.epochs, args.repeats)
        print(f"  {label}, {xs.shape[0]} images: plain loop {plain:6.3f} s, frozen work skipped "
              f"{cached:6.3f} s, ratio {plain / cached:.2f}x; the dense products allow at most "
              f"{dense_ratio(xs.shape[1]):.2f}x")


def dense_ratio(features, hidden=vision_sweep.HIDDEN, classes=10):
    """The largest speed-up skipping the frozen work can give, counted in dense products.

    Per image, a training step of the plain loop runs the first layer's base product
    (features x hidden), the second layer forward and back to its input (2 hidden x hidden:
    the first layer's trainable pair needs that gradient) and the head likewise (2 hidden x
    classes). Skipping the frozen work removes the first product only; the rank-1 parts,
    O(features + hidden) each, are the same in both loops and left out. With no per-step
    overhead at all, the ratio of the two counts is the best any exact skipping can do.
    """
    rest = 2 * hidden * hidden + 2 * hidden * classes
    return (features * hidden + rest) / rest


def frozen_work_epochs(x, device, epochs, repeats):
    """Best seconds per epoch of the plain and of the cached sequential-LoRA loop on x, over
    ``repeats`` components of ``epochs`` epochs each."""
    y = torch.randint(0, 10, (x.shape[0],), generator=torch.Generator().manual_seed(0)).to(device)
    runs = {}
    for skip in (False, True):
        model = vision.mlp(x.shape[1], 10, seed=0).to(device)
        layers = lora.apply(model, vision.LORA_LAYERS)
        vision.train(model, lora.add_component(layers, seed=0), x, y, epochs=1, skip_frozen=skip)
        lora.freeze_component(layers)
        runs[skip] = (model, lora.add_component(layers, seed=1))
    best = {False: float("inf"), True: float("inf")}
    for _ in range(repeats):
        for skip, (model, params) in runs.items():
            _sync(device)
            start = time.perf_counter()
            vision.train(model, params, x, y, epochs=epochs, skip_frozen=skip)
            _sync(device)
            best[skip] = min(best[skip], (time.perf_counter() - start) / epochs)
    return best[False], best[True]


if __name__ == "__main__":
    main()
