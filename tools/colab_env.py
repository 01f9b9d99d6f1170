"""Run the Colab notebooks the way Colab runs them, on this machine.

    python3 tools/colab_env.py imports [--env DIR]   # cheap, in CI: install and import
    python3 tools/colab_env.py run [--env DIR]       # every notebooks/*.ipynb, end to end

Both make a fresh virtual environment that holds nothing but what is named here, then
install the library exactly as each notebook's first cell does (``_ext/colab.py``:
``pip install 'onerank[colab] @ <source>'``), with this checkout as the source.

``imports`` installs the library with the extras that stand for Colab's own packages
(``vision``, ``language``) and checks that every module a chapter imports can be
imported there: a dependency the chapters need but the package does not declare fails.

``run`` installs ``tools/colab-requirements.txt`` (Colab's packages, pinned to one Colab
release), sets ``ONERANK_INSTALL`` so that each notebook's first cell installs the
library from the checkout, and executes every notebook under nbval. Datasets come from
``$ONERANK_DATA`` when set (``../shared/data`` beside the checkout otherwise), as in CI.
"""

from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CPU_TORCH = ("torch==2.13.0+cpu", "torchvision==0.28.0")


def chapter_imports() -> list[str]:
    """Top-level modules imported by the code cells of the chapters (book/*.md)."""
    import jupytext  # the project's environment has it; ``run`` needs only the standard library

    names = set()
    for page in sorted((ROOT / "book").glob("*.md")):
        nb = jupytext.read(page)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Import):
                    names |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names.add(node.module.split(".")[0])
    return sorted(names)


def make_env(folder: Path) -> Path:
    venv.create(folder, with_pip=True, clear=True)
    return folder / "bin" / "python"


def pip(python: Path, *args: str) -> None:
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args], check=True)


def imports(python: Path) -> int:
    sys.path.insert(0, str(ROOT / "_ext"))
    import colab

    # torch's CPU build keeps this cheap (no CUDA libraries); the import check needs no GPU
    pip(python, *CPU_TORCH, colab.install_target(ROOT.as_uri()).replace("onerank[colab]", "onerank[colab,vision,language]"),
        "ipython")
    modules = chapter_imports()
    code = ("import importlib, sys\n"
            f"bad = []\nfor name in {modules!r}:\n"
            "    try:\n        importlib.import_module(name)\n"
            "    except Exception as error:\n        bad.append(f'{name}: {error}')\n"
            "print('\\n'.join(bad) or 'all imported'); sys.exit(1 if bad else 0)")
    print(f"importing the {len(modules)} modules the chapters import: {', '.join(modules)}")
    return subprocess.run([str(python), "-c", code]).returncode


def run(python: Path) -> int:
    pip(python, "-r", str(ROOT / "tools" / "colab-requirements.txt"))
    env = dict(os.environ, ONERANK_INSTALL=ROOT.as_uri(), ONERANK_SCALE=os.environ.get("ONERANK_SCALE", "quick"),
               TQDM_DISABLE="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
    shared = ROOT.parent / "shared" / "data"
    if "ONERANK_DATA" not in env and shared.is_dir():
        env["ONERANK_DATA"] = str(shared)
    cmd = [str(python), "-m", "pytest", "-q", "-c", os.devnull, "-p", "no:cacheprovider", "--noconftest", "--nbval-lax",
           "--nbval-current-env", "--nbval-cell-timeout=1800", "--rootdir", str(ROOT / "notebooks"),
           *sorted(str(p) for p in (ROOT / "notebooks").glob("*.ipynb"))]
    return subprocess.run(cmd, env=env, cwd=ROOT / "notebooks").returncode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("imports", "run"))
    parser.add_argument("--env", help="folder of the fresh environment (default: a temporary one)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        python = make_env(Path(args.env or tmp))
        status = (imports if args.mode == "imports" else run)(python)
    print(f"colab_env {args.mode}: {'passed' if status == 0 else 'FAILED'} in {time.perf_counter() - start:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
