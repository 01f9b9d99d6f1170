"""Serve MathJax from the built site instead of a CDN.

MathJax 3 comes from the PyPI package ``django-static-mathjax`` (it installs a
plain ``mathjax`` package holding MathJax's ``es5`` build; no Django needed).
This extension points Sphinx's ``mathjax_path`` at ``_static/mathjax/tex-mml-chtml.js``
and, once the HTML is written, copies the parts of ``es5`` that the CommonHTML
output loads at run time (the combined script, TeX extensions, fonts, menu and
accessibility components) into ``_static/mathjax``. The site then renders math
with no network access.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ENTRY = "tex-mml-chtml.js"
PARTS = (ENTRY, "input", "output/chtml", "ui", "a11y", "adaptors", "sre")


def es5_folder() -> Path:
    try:
        import mathjax  # from django-static-mathjax
    except ImportError as error:  # pragma: no cover - a clear message for a missing install
        raise RuntimeError(
            "offline MathJax needs the package django-static-mathjax (pip install -r requirements.txt)"
        ) from error
    folder = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (folder / ENTRY).is_file():
        raise RuntimeError(f"MathJax's {ENTRY} not found under {folder}")
    return folder


def _configure(app, config):
    es5_folder()                                  # fail early, before any page is built
    config.mathjax_path = f"mathjax/{ENTRY}"      # relative paths are relative to _static


def _copy(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    source, target = es5_folder(), Path(app.outdir) / "_static" / "mathjax"
    for part in PARTS:
        src, dst = source / part, target / part
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        elif src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def setup(app):
    app.connect("config-inited", _configure)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
