"""The book's structure: every chapter has its Colab notebook, in sync, behind the right button."""
import json
import sys
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
import colab  # noqa: E402  (the book's own Sphinx extension and notebook generator)

CHAPTERS = colab.chapters()


def test_every_toc_entry_is_a_chapter_notebook():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    assert "chapters" not in toc, "the book is in captioned parts; chapters go inside them"
    captions = [part["caption"] for part in toc["parts"]]
    assert captions == ["The paper's theory", "The paper's experiments", "Beyond the paper", "Reproducibility"]
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    assert CHAPTERS, "no chapters found"
    for name in files:
        assert (ROOT / f"{name}.md").is_file(), f"{name}.md listed in _toc.yml does not exist"
    # all listed MyST notebooks are chapters with notebooks (the bibliography page and the
    # opening page of the part beyond the paper are plain Markdown)
    assert set(CHAPTERS) >= {name for name in files if name not in ("book/bibliography", "book/beyond")}
    assert "book/beyond" not in CHAPTERS


@pytest.mark.parametrize("docname", CHAPTERS)
def test_chapters_are_short(docname):
    """One idea a chapter: none is much longer than 500 lines of source (550 at most)."""
    lines = (ROOT / f"{docname}.md").read_text().count("\n")
    assert lines <= 550, f"{docname}.md has {lines} lines"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_notebook_exists_and_matches_the_chapter(docname):
    path = ROOT / colab.notebook_path(docname)
    assert path.is_file(), f"{path} missing: run python _ext/colab.py write"
    nb = json.loads(path.read_text())
    chapter = jupytext.read(ROOT / f"{docname}.md")
    code_nb = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    code_md = [c.source for c in chapter.cells if c.cell_type == "code"]
    assert code_nb[1:] == code_md, "the notebook's code differs from the chapter's: run python _ext/colab.py write"
    text_nb = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert text_nb == [c.source for c in chapter.cells if c.cell_type == "markdown"]
    # the install cell runs in Colab only, and the chapter itself does not contain it
    first = code_nb[0]
    assert 'if "google.colab" in sys.modules or os.environ.get("ONERANK_INSTALL"):' in first
    assert "install -q" in first and "onerank[colab] @ git+" in first
    assert "google.colab" not in (ROOT / f"{docname}.md").read_text()
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")


def test_generated_notebooks_are_current():
    assert colab.problems() == []


@pytest.mark.parametrize("docname", CHAPTERS)
def test_colab_button_points_at_the_notebook(docname):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    url, branch = config["repository"]["url"].rstrip("/"), config["repository"]["branch"]
    org_repo = url.split("github.com/")[1]
    expected = f"https://colab.research.google.com/github/{org_repo}/blob/{branch}/notebooks/{Path(docname).name}.ipynb"
    assert colab.colab_url(docname) == expected
    assert (ROOT / expected.split(f"/blob/{branch}/")[1]).is_file()
    assert f"git+{url}@{branch}" in colab.install_source()


def test_button_rewrite_in_page_context():
    docname = CHAPTERS[-1]
    context = {"header_buttons": [{"type": "group", "buttons": [
        {"type": "link", "text": "Colab", "url": "https://colab.research.google.com/github/x/y/blob/main/book/z.md"},
        {"type": "link", "text": "Binder", "url": "b"}]}]}
    colab._fix_colab_button(None, docname, None, context, None)
    assert context["header_buttons"][0]["buttons"][0]["url"] == colab.colab_url(docname)
    other = {"header_buttons": [{"type": "group", "buttons": [{"type": "link", "text": "Colab", "url": "u"}]}]}
    colab._fix_colab_button(None, "book/bibliography", None, other, None)
    assert other["header_buttons"][0]["buttons"] == []           # no notebook, no Colab button


COLUMN = 88   # characters of code that fit the page column of the built book (sphinx-book-theme)


@pytest.mark.parametrize("docname", CHAPTERS)
def test_code_cells_fit_the_page_column(docname):
    nb = jupytext.read(ROOT / f"{docname}.md")
    long = [(i, line) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for line in cell.source.splitlines() if len(line) > COLUMN]
    assert not long, f"{len(long)} code lines over {COLUMN} characters, e.g. cell {long[0][0]}: {long[0][1]!r}"
