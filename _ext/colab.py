"""Colab notebooks for the chapters, and the Colab launch button that opens them.

Every chapter is a MyST Markdown notebook in ``book/``. Colab opens ``.ipynb``
files only, so ``notebooks/<chapter>.ipynb`` holds, for each chapter listed in
``_toc.yml``, the notebook jupytext reads from its source, preceded by one cell
that installs the ``onerank`` library from the repository when (and only when)
it runs in Colab. The book build and nbval run the Markdown sources, which do
not contain that cell.

Command line (from the repository root)::

    python _ext/colab.py write    # regenerate notebooks/ after editing a chapter
    python _ext/colab.py check    # exit 1 if a notebook is missing or stale

As a Sphinx extension it rewrites the Colab launch button of sphinx-book-theme
(which would otherwise point at the ``.md`` source) to the chapter's notebook.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = "notebooks"
COLAB = "https://colab.research.google.com"
PREAMBLE_TAG = "colab-install"


def _yaml(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def repository() -> tuple[str, str, str]:
    """(org, repo, branch) of the GitHub repository named in _config.yml."""
    repo = _yaml("_config.yml")["repository"]
    parts = repo["url"].rstrip("/").split("/")
    if len(parts) < 2 or "github.com" not in repo["url"]:
        raise ValueError(f"_config.yml repository.url must be a GitHub URL, got {repo['url']!r}")
    return parts[-2], parts[-1], repo.get("branch", "main")


def chapters() -> list[str]:
    """Docnames (e.g. ``book/intro``) of the chapters in _toc.yml that are notebooks."""
    toc = _yaml("_toc.yml")
    names = [toc["root"]] + [entry["file"] for entry in toc.get("chapters", [])]
    for part in toc.get("parts", []):
        names += [entry["file"] for entry in part.get("chapters", [])]
    return [name for name in names if is_notebook(ROOT / f"{name}.md")]


def is_notebook(path: Path) -> bool:
    """Whether a Markdown file is a jupytext MyST notebook (front matter with jupytext and kernelspec)."""
    if path.suffix != ".md" or not path.is_file():
        return False
    head = path.read_text(encoding="utf-8")[:2000]
    return head.startswith("---") and "jupytext:" in head and "kernelspec:" in head


def notebook_path(docname: str) -> Path:
    """notebooks/<stem>.ipynb for a chapter docname, relative to the repository root."""
    return Path(NOTEBOOK_DIR) / f"{Path(docname).name}.ipynb"


def colab_url(docname: str) -> str:
    org, repo, branch = repository()
    return f"{COLAB}/github/{org}/{repo}/blob/{branch}/{notebook_path(docname).as_posix()}"


def install_target(source: str | None = None) -> str:
    """What the first cell installs: the library with its ``colab`` extra (the packages a
    chapter needs beyond Colab's own), from the repository or from ``source``."""
    if source is None:
        org, repo, branch = repository()
        source = f"git+https://github.com/{org}/{repo}@{branch}"
    return f"onerank[colab] @ {source}"


INSTALL_VARIABLE = "ONERANK_INSTALL"


def install_source() -> str:
    """The first cell of every Colab notebook. In Colab it installs ``install_target()``;
    elsewhere it does nothing unless ``$ONERANK_INSTALL`` names a source to install from
    (``tools/colab_env.py`` and the weekly workflow set it to the checkout)."""
    return (
        "# Installs the book's library, onerank, in Google Colab (or from $ONERANK_INSTALL).\n"
        "# (The book build and the test suite skip this cell: it is not in the chapter's source.)\n"
        "import os, sys\n"
        f"if \"google.colab\" in sys.modules or os.environ.get(\"{INSTALL_VARIABLE}\"):\n"
        f"    target = \"{install_target()}\"\n"
        f"    if os.environ.get(\"{INSTALL_VARIABLE}\"):\n"
        f"        target = \"onerank[colab] @ \" + os.environ[\"{INSTALL_VARIABLE}\"]\n"
        "    get_ipython().run_line_magic(\"pip\", f\"install -q '{target}'\")"
    )


def build_notebook(docname: str) -> nbformat.NotebookNode:
    """The Colab notebook of a chapter: the install cell, then the chapter's cells."""
    nb = jupytext.read(ROOT / f"{docname}.md")
    preamble = nbformat.v4.new_code_cell(install_source(), metadata={"tags": [PREAMBLE_TAG]})
    nb.cells = [preamble] + [cell for cell in nb.cells]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"          # deterministic ids: regenerating changes nothing
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("jupytext", None)
    nb.metadata["colab"] = {"provenance": []}
    nb.metadata["accelerator"] = "GPU"
    nb.nbformat, nb.nbformat_minor = 4, 5
    nbformat.validate(nb)
    return nb


def _text(nb) -> str:
    return nbformat.writes(nb, version=4) + "\n"


def problems() -> list[str]:
    """What is missing or stale in notebooks/, one message per chapter (empty: all good)."""
    out = []
    for docname in chapters():
        path = ROOT / notebook_path(docname)
        if not path.is_file():
            out.append(f"{path.relative_to(ROOT)} is missing (run: python _ext/colab.py write)")
        elif path.read_text(encoding="utf-8") != _text(build_notebook(docname)):
            out.append(f"{path.relative_to(ROOT)} differs from {docname}.md (run: python _ext/colab.py write)")
    return out


def write() -> list[Path]:
    (ROOT / NOTEBOOK_DIR).mkdir(exist_ok=True)
    written = []
    for docname in chapters():
        path = ROOT / notebook_path(docname)
        path.write_text(_text(build_notebook(docname)), encoding="utf-8")
        written.append(path)
    return written


# ----------------------------------------------------------------------------- Sphinx
def _fix_colab_button(app, pagename, templatename, context, doctree):
    buttons = context.get("header_buttons") or []
    is_chapter = pagename in set(chapters())

    def walk(items):
        kept = []
        for item in items:
            if item.get("text") == "Colab":
                if not is_chapter:
                    continue
                item = dict(item, url=colab_url(pagename))
            if "buttons" in item:
                item = dict(item, buttons=walk(item["buttons"]))
            kept.append(item)
        return kept

    context["header_buttons"] = walk(buttons)


def setup(app):
    # after sphinx-book-theme's own handler (default priority 500) has added the buttons
    app.connect("html-page-context", _fix_colab_button, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "write":
        for path in write():
            print("wrote", path.relative_to(ROOT))
    elif command == "check":
        found = problems()
        print("\n".join(found) or "notebooks/ is up to date")
        sys.exit(1 if found else 0)
    else:
        sys.exit("usage: python _ext/colab.py [write|check]")
