"""The browser check's output rules, and the console script."""

import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import check_site  # noqa: E402


def page(*cells: str) -> str:
    return "<html><body>" + "".join(cells) + "</body></html>"


def cell(output: str, tags: str = "", stream: str = "stream") -> str:
    return (f'<div class="cell{tags} docutils container"><div class="cell_input">x = 1</div>'
            f'<div class="cell_output docutils container"><div class="output {stream} highlight-myst-ansi">'
            f"<pre>{output}</pre></div></div></div>")


def test_clean_page_has_no_output_problems():
    assert check_site.output_problems(page(cell("profile: quick\n45 checks in 11.4 s"))) == []


@pytest.mark.parametrize("planted, what", [
    (cell("oops", stream="stderr"), "stderr box"),
    (cell("/x/y.py:21: TqdmWarning: IProgress not found"), "warning"),
    (cell("data: /work/shared/data/mnist.npz"), "path of the build machine"),
    (cell("loaded from /root/.venv/lib/python3.11/site-packages/x"), "path of the build machine"),
])
def test_planted_problem_is_found(planted, what):
    problems = check_site.output_problems(page(cell("fine"), planted))
    assert problems and what in problems[0] and problems[0].startswith("cell 2")


def test_stderr_on_purpose_is_allowed():
    shown = cell("DeprecationWarning: shown to the reader", tags=" tag_stderr-on-purpose", stream="stderr")
    assert check_site.output_problems(page(shown)) == []


def test_console_script_is_declared_and_lists_the_experiments(capsys):
    from onerank import __main__ as cli

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["onerank"] == "onerank.__main__:main"
    with pytest.raises(SystemExit) as stop:
        cli.main(["--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: onerank")
    for name in ("fig10", "adaptive", "paths", "joint"):
        assert name in out


def test_the_module_map_lists_every_module():
    """The package docstring and README's layout table name every public module of the tree."""
    import onerank

    modules = sorted(p.stem for p in (ROOT / "lib" / "onerank").glob("*.py") if not p.stem.startswith("_"))
    doc_names = {line.split()[0] for line in onerank.__doc__.splitlines() if line[:1].isalpha() and "  " in line}
    readme_row = next(line for line in (ROOT / "README.md").read_text().splitlines()
                      if line.startswith("| `lib/onerank/` |"))
    assert set(modules) - doc_names == set(), "modules missing from onerank's docstring"
    assert doc_names - set(modules) == set(), "onerank's docstring names modules that do not exist"
    assert [m for m in modules if f"`{m}`" not in readme_row] == [], "modules missing from README's layout"
