"""onerank: sequential rank-1 learning, after Vandchali, Liao and Kyrillidis,
"One Rank at a Time: Cascading Error Dynamics in Sequential Learning" (TMLR, arXiv:2505.22602).

Modules
-------
problems   synthetic instances Y = W* X + E (``make_problem``)
rank1      the rank-1 subproblem: ``exact`` (Lemma 1) and ``gd`` (eq. 5)
deflation  Algorithms 1 and 2 (``deflate``), one run, every intermediate kept
batched    Algorithm 2 for many problems x schedules at once, fast, on torch (``deflate``)
schedules  budgets of gradient steps (``allocate``, the alpha family)
theory     the cascade bounds: ``gaps``, ``unroll``, ``theorem1_bound``, ``measure``
selection  choosing the rank online: ``noise_level``, ``noise_threshold``, ``select_rank``
synthetic  the paper's synthetic experiments, one function per figure (``python -m onerank synthetic``)
lora       LoRA for nn.Linear, one rank at a time (``apply``, ``add_component``, ``freeze_component``)
data       MNIST, CIFAR-10, CIFAR-100 as in-memory tensors, with the old/new class split (``load``)
vision     the MLP of the vision experiments: ``pretrain``, ``sequential``, ``joint``, ``lora_flops``
vision_sweep  the vision experiments as a resumable sweep (``python -m onerank vision``)
language   sequential LoRA on a pretrained transformer for SST-2: ``sequential``, ``joint``, ``flops``
language_sweep  the language probe as a resumable sweep (``python -m onerank language``)
results    atomic JSON writes and run provenance, shared by the sweeps
rowspace   the exact row-space coordinates every solver works in
config     the run profile (``ONERANK_PROFILE``) and the data folder (``ONERANK_DATA``)
"""

from . import (batched, config, deflation, problems, rank1, rowspace, schedules, selection,
               synthetic, theory)

__all__ = ["batched", "config", "deflation", "problems", "rank1", "rowspace", "schedules", "selection",
           "synthetic", "theory"]
__version__ = "0.1.0"
