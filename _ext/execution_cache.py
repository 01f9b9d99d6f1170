"""One execution per chapter: the test run's notebooks are the book build's outputs.

The test suite executes every chapter under nbval (``conftest.py``). When a
chapter passes, its executed notebook is stored in a jupyter-cache at
:func:`cache_path`; the book build (``execute_notebooks: cache`` in
``_config.yml``) finds it there and renders those outputs instead of running
the chapter a second time. A chapter the test run did not execute, or whose
code changed since, is executed by the build as before.

The cache is keyed by what a chapter's outputs depend on besides its own code
(which jupyter-cache hashes itself): the run size (``ONERANK_SCALE``, or
its old name ``ONERANK_PROFILE``), the data folder, the library's source files and the
recorded results. Changing any of them selects a fresh cache, so a build never
shows numbers computed by an older library.

As a Sphinx extension it points myst-nb at that cache and quiets the kernels
(:func:`quiet_kernels`): a rendered page shows results, not progress bars.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEY_SOURCES = ("lib/onerank", "results")


def _run_size() -> str:
    value = os.environ.get("ONERANK_SCALE") or os.environ.get("ONERANK_PROFILE") or "quick"
    return value.strip().lower() or "quick"


def key() -> str:
    """A short digest of everything besides chapter code that chapter outputs depend on."""
    digest = hashlib.sha256()
    digest.update(f"{_run_size()}\0{os.environ.get('ONERANK_DATA', '')}\0".encode())
    for folder in KEY_SOURCES:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and ".cache" not in path.parts:
                digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def cache_path(build_dir: Path | None = None) -> Path:
    """The jupyter-cache folder for the current key, inside ``_build``."""
    return Path(build_dir or ROOT / "_build") / f".jupyter_cache-{_run_size()}-{key()}"


def store(notebook, source: Path, seconds: float) -> None:
    """Put an executed notebook into the cache under its source path."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(cache_path()))
    cache.cache_notebook_bundle(CacheBundleIn(notebook, str(source), data={"execution_seconds": seconds}),
                                check_validity=False, overwrite=True)


def quiet_kernels() -> None:
    """For the kernels this process starts (they inherit its environment): no progress
    bars (``TQDM_DISABLE=1``), and no warning that Jupyter widgets are missing, which
    ``tqdm.auto`` prints where ipywidgets is not installed and which says nothing about
    a static page (``PYTHONWARNINGS``). Colab, which has widgets, still shows bars."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    quiet = "ignore:IProgress not found"
    current = os.environ.get("PYTHONWARNINGS", "")
    if quiet not in current:
        os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [current, quiet]))


def _configure(app, config):
    quiet_kernels()
    if not config.nb_execution_cache_path:
        config.nb_execution_cache_path = str(cache_path(Path(app.outdir).parent))


def setup(app):
    app.connect("config-inited", _configure)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
