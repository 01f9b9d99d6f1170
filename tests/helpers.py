import numpy as np

from onerank import problems


def small_problem(seed=0, **kw):
    """A seeded 12 x 15 x 40 instance of rank 4 (cheap enough to sweep many seeds)."""
    args = dict(m=12, d=15, n=40, rank=4, profile="exponential", seed=seed)
    args.update(kw)
    return problems.make_problem(**args)
