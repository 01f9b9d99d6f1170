"""Run the book's chapters (MyST Markdown notebooks) under nbval.

nbval collects ``.ipynb`` files only. For every ``book/*.md`` that is a jupytext
notebook, this hook hands nbval the notebook that jupytext reads from the
Markdown source, so ``pytest --nbval-lax`` executes each chapter in place
(kernel working directory ``book/``, as in the book build) and a failing
``assert`` in any cell fails the suite. No converted copy is written to disk.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import jupytext
import nbval.plugin
from nbval.plugin import IPyNbFile

sys.path.insert(0, str(Path(__file__).parent / "_ext"))
import colab  # noqa: E402  (the book's notebook helpers: which Markdown files are notebooks)

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
