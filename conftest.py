"""Run the book's chapters (MyST Markdown notebooks) under nbval.

nbval collects ``.ipynb`` files only. For every ``book/*.md`` that is a jupytext
notebook, this hook hands nbval the notebook that jupytext reads from the
Markdown source, so ``pytest --nbval-lax`` executes each chapter in place
(kernel working directory ``book/``, as in the book build) and a failing
``assert`` in any cell fails the suite. No converted copy is written to disk.

A chapter whose cells all pass is stored, with its outputs, in the book build's
execution cache (``_ext/execution_cache.py``), so the build renders this run
instead of executing the chapter again; the seconds each chapter took are
written to ``_build/chapter_times.json``. Progress bars are off in these runs
(:func:`execution_cache.quiet_kernels`).

Shared machines run at different speeds from one hour to the next (the CI runner of
this project has run the same chapters up to 1.6 times slower). So that the time
budget judges the code and not the machine's load, a fixed workload, the yardstick
(:func:`yardstick`), is timed before every chapter and at the end, and
``_build/chapter_speed.json`` holds, per chapter, the mean of the yardsticks on either
side of it. ``.ci/run`` divides each chapter's seconds by its yardstick and multiplies by
the yardstick's seconds on the reference machine (:data:`YARDSTICK_REFERENCE`), a ratio
measured in one run.
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import jupytext
import numpy as np
import nbval.plugin
import pytest
from nbval.plugin import IPyNbCell, IPyNbFile

sys.path.insert(0, str(Path(__file__).parent / "_ext"))
import colab  # noqa: E402  (the book's notebook helpers: which Markdown files are notebooks)
import execution_cache  # noqa: E402  (where the book build looks for executed chapters)

execution_cache.quiet_kernels()

BOOK_DIR = "book"


class MystNotebook(IPyNbFile):
    """An nbval notebook whose cells come from a jupytext MyST Markdown file."""

    def collect(self):
        with _read_through_jupytext():
            yield from super().collect()


class _JupytextReader:
    """Stands in for the ``nbformat`` module inside nbval while it reads a chapter."""

    def __init__(self, nbformat_module):
        self._nbformat = nbformat_module

    def read(self, path, as_version=4):
        return jupytext.read(path, as_version=as_version)

    def __getattr__(self, name):
        return getattr(self._nbformat, name)


@contextmanager
def _read_through_jupytext():
    real = nbval.plugin.nbformat
    nbval.plugin.nbformat = _JupytextReader(real)
    try:
        yield
    finally:
        nbval.plugin.nbformat = real


def pytest_collect_file(file_path, parent):
    option = parent.config.option
    if (option.nbval or option.nbval_lax) and file_path.parent.name == BOOK_DIR and colab.is_notebook(file_path):
        return MystNotebook.from_parent(parent, path=file_path)
    return None


_CHAPTERS: dict = {}      # MystNotebook -> {"cells": code cells, "passed": n, "seconds": s}
_YARDSTICKS: list = []    # (chapter or None at the end, yardstick seconds before it)

#: The yardstick's seconds on the reference machine: the 2-core development machine of
#: the 15-minute budget: the median of five runs of ``python conftest.py`` there while
#: idle (0.253 to 0.269 s, on 2026-12-01).
YARDSTICK_REFERENCE = 0.262


def yardstick() -> float:
    """Seconds of a fixed CPU workload like the chapters': dense products (BLAS, as in
    numpy and torch) and a Python loop (the interpreter), median of three timings."""
    a = np.random.default_rng(0).standard_normal((500, 500))
    times = []
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(60):
            b = a @ a
        total = 0.0
        for i in range(600_000):
            total += i * 0.5
        times.append(time.perf_counter() - start)
    assert b.shape == (500, 500) and total > 0
    return float(np.median(times))


def pytest_runtest_setup(item):
    if isinstance(item, IPyNbCell) and isinstance(item.parent, MystNotebook):
        if not _YARDSTICKS or _YARDSTICKS[-1][0] is not item.parent:
            _YARDSTICKS.append((item.parent, yardstick()))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not isinstance(item, IPyNbCell) or not isinstance(item.parent, MystNotebook):
        return
    record = _CHAPTERS.setdefault(item.parent, {"cells": 0, "passed": 0, "seconds": 0.0})
    record["seconds"] += report.duration
    if report.passed:
        record["passed"] += 1
        outputs = list(item.test_outputs or [])
        if _quiet(item.cell.source):
            # a trailing ';' hides the cell's value in a notebook; nbval's kernel still sends it
            outputs = [out for out in outputs if out.get("output_type") != "execute_result"]
        item.cell.outputs = outputs
        item.cell.execution_count = record["passed"]


def _quiet(source: str) -> bool:
    """Does the cell end with ';' (IPython then shows no value), a trailing comment aside?"""
    lines = [line.split("#")[0].rstrip() for line in source.splitlines()]
    lines = [line for line in lines if line]
    return bool(lines) and lines[-1].endswith(";")


def pytest_collection_finish(session):
    for item in session.items:
        if isinstance(item, IPyNbCell) and isinstance(item.parent, MystNotebook):
            _CHAPTERS.setdefault(item.parent, {"cells": 0, "passed": 0, "seconds": 0.0})["cells"] += 1


def pytest_sessionfinish(session):
    if not _CHAPTERS:
        return
    times = {}
    for chapter, record in _CHAPTERS.items():
        path = Path(str(chapter.fspath))
        if record["cells"] and record["passed"] == record["cells"]:      # every cell ran and passed
            times[path.stem] = round(record["seconds"], 1)
            execution_cache.store(chapter.nb, path, record["seconds"])
    out = execution_cache.ROOT / "_build" / "chapter_times.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(out.read_text()) if out.exists() else {}
    out.write_text(json.dumps({**previous, **times}, indent=1, sort_keys=True) + "\n")
    # each chapter's yardstick: the mean of the one before it and the next one
    marks = _YARDSTICKS + [(None, yardstick())]
    around = {Path(str(chapter.fspath)).stem: (before + after) / 2
              for (chapter, before), (_, after) in zip(marks, marks[1:])}
    speed = execution_cache.ROOT / "_build" / "chapter_speed.json"
    previous = json.loads(speed.read_text())["chapters"] if speed.exists() else {}
    speed.write_text(json.dumps({"reference_seconds": YARDSTICK_REFERENCE,
                                 "chapters": {**previous, **{k: round(v, 4) for k, v in around.items()
                                                             if k in times}}},
                                indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    print(f"yardstick: {yardstick():.4f} s")
