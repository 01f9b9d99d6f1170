"""onerank: sequential rank-1 learning, after Vandchali, Liao and Kyrillidis,
"One Rank at a Time: Cascading Error Dynamics in Sequential Learning" (TMLR, arXiv:2505.22602).

The paper (arXiv v1; numbering as printed)
-----------------------------------------
problems       synthetic instances Y = W* X + E (``make_problem``), the singular-value ``PROFILES``
rank1          the rank-1 subproblem: ``exact`` (Lemma 1), ``gd`` (eq. (5)), and their kernels in
               row-space coordinates (``exact_reduced``, ``gd_reduced``, ``initial_point``)
deflation      Algorithms 1 and 2 (``deflate``), one run, every intermediate kept
schedules      budgets of gradient steps (``allocate``, the alpha family, ``NAMED``)
theory         the cascade bounds in the book's forms: ``gaps``, ``unroll``, ``theorem1_bound``, ``measure``
printed        the paper's formulas exactly as printed, for the errata checks
paper          every numbered item of v1, its place in the book and its check (``ITEMS``, ``ERRATA``)
figure_claims  the printed figure claims, judged from the recorded results

Beyond the paper (the book's own)
---------------------------------
variants       parallel, adaptive, refined and orthogonal deflation (one ``VariantResult``)
selection      choosing the rank online: ``noise_level``, ``noise_threshold``, ``select_rank``
allocation     budgets chosen by a bound: ``step_curves`` (each step's error against its budget),
               ``costs``, ``split`` (the exact minimising split)

Engines
-------
rowspace       the exact row-space coordinates every solver works in (``RowSpace``, ``train_error``)
batched        Algorithm 2 for many problems x schedules at once, on torch (``deflate_many``)
simultaneous   the simultaneous baseline: factorised gradient descent on eq. (4) (``factorised_gd``)

LoRA experiments
----------------
lora           LoRA for nn.Linear, one rank at a time (``apply``, ``add_component``, ``freeze_component``)
data           MNIST, CIFAR-10, CIFAR-100 as in-memory tensors, with the old/new class split (``load``)
vision         the MLP of the vision experiments: ``pretrain``, ``sequential``, ``joint``, ``lora_flops``
language       sequential LoRA on a pretrained transformer for SST-2: ``sequential``, ``joint``, ``flops``
training       what both share: ``autocast``, ``check_budget``, ``mean_over_batches``

Sweeps and records (``onerank`` on the command line)
----------------------------------------------------
synthetic      the paper's synthetic experiments, one function per figure (``onerank synthetic``)
vision_sweep   the vision experiments as a resumable sweep (``onerank vision``)
vision_records  its records read back, one reader per experiment (``seq_joint_rows``, ...)
language_sweep  the language probe as a resumable sweep (``onerank language``)
results        atomic JSON writes, run provenance and the resumable loop of the sweeps (``run_sweep``)

Settings and figures
--------------------
config         the run size (``ONERANK_SCALE``), the data folder (``ONERANK_DATA``), the device
plotting       figures at the page's width (``panels``)
"""

from . import (allocation, batched, config, deflation, problems, rank1, rowspace, schedules, selection,
               simultaneous, synthetic, theory, variants)

__all__ = ["allocation", "batched", "config", "deflation", "problems", "rank1", "rowspace", "schedules", "selection",
           "simultaneous", "synthetic", "theory", "variants"]
__version__ = "0.2.0"
