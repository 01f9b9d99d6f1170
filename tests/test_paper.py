"""The item page's data: every row's book reference resolves and names a check that exists."""

import re
from pathlib import Path

import pytest

from onerank import paper, printed

BOOK = Path(__file__).resolve().parents[1] / "book"
ROLE = re.compile(r"\{(?:prf:ref|ref|eq|numref)\}`(?:[^<`]*<)?([^>`]+)>?`")


def book_labels() -> set:
    """Every target the chapters define: (label)= anchors, :label: of directives, $$ (label)
    equation labels and figure names."""
    labels = set()
    for page in BOOK.glob("*.md"):
        text = page.read_text()
        labels |= set(re.findall(r"^\(([\w-]+)\)=", text, re.M))
        labels |= set(re.findall(r"^:label: ([\w-]+)", text, re.M))
        labels |= set(re.findall(r"^\$\$ \(([\w-]+)\)", text, re.M))
        labels |= set(re.findall(r"^    name: ([\w-]+)", text, re.M))
    return labels


def test_every_item_reference_resolves():
    labels = book_labels()
    missing = []
    for row in list(paper.ITEMS) + list(paper.ERRATA):
        for field in ("book", "statement", "why", "printed", "corrected"):
            for target in ROLE.findall(getattr(row, field, "") or ""):
                if target not in labels:
                    missing.append((getattr(row, "item", getattr(row, "place", "")), target))
    assert not missing


def test_every_row_names_an_existing_check_and_valid_form():
    for row in paper.ITEMS:
        assert row.check in paper.CHECKS, row.item
        assert row.form in paper.FORMS, row.item
        assert row.source == "arXiv v1"
    for row in paper.ERRATA:
        assert row.check in paper.CHECKS, row.printed
        assert row.kind in paper.ERRATUM_KINDS


def test_items_cover_every_numbered_item_of_arxiv_v1():
    names = " ".join(row.item for row in paper.ITEMS)
    for kind, count in (("Lemma", 6), ("Theorem", 7), ("Fig.", 13), ("Algorithm", 2)):
        for i in range(1, count + 1):
            assert re.search(rf"{re.escape(kind)} {i}\b", names), f"{kind} {i}"
    numbered = set()
    for row in paper.ITEMS:
        for a, b in re.findall(r"\((\d+)\)(?:-\((\d+)\))?", row.item):
            numbered |= set(range(int(a), int(b or a) + 1))
    assert numbered == set(range(1, 36)), sorted(set(range(1, 36)) - numbered)
    assert any("Remark 1" in row.item for row in paper.ITEMS)
    assert any("Footnote 3" in row.item for row in paper.ITEMS)


def test_verdict_rejects_unknown_status():
    with pytest.raises(ValueError, match="status must be one of"):
        paper.Verdict("fine", "")


def test_printed_double_sum_against_a_direct_evaluation():
    import numpy as np

    rng = np.random.default_rng(3)
    for _ in range(50):
        p = int(rng.integers(2, 8))
        s = np.sort(rng.uniform(0.1, 10, p))[::-1]
        r = int(rng.integers(1, p + 1))
        dn = rng.uniform(0, 1, r)
        sx = float(rng.uniform(0.5, 3))
        T = [min(min([s[k] - s[j] for j in range(k + 1, p)], default=np.inf), s[k]) for k in range(p)]
        for gap in ("outer", "inner"):
            direct = 0.0
            for k in range(1, r + 1):
                for kp in range(1, k + 1):
                    prod = 1.0
                    for j in range(kp + 1, k + 1):
                        prod *= 2 + 6 * s[j - 1] / (T[k - 1] if gap == "outer" else T[j - 1])
                    direct += sx * dn[kp - 1] * prod
            got = printed.cascade_terms(s, sx, dn, r, gap=gap).sum()
            assert got == pytest.approx(direct, rel=1e-12)
        assert printed.theorem1_bound(s, sx, dn, r) == pytest.approx(
            s[r:].sum() + printed.cascade_terms(s, sx, dn, r).sum(), rel=1e-12)


def test_printed_wedin_step_sign_and_scaling():
    """The printed C.2 step depends on the units of Y; the corrected one does not."""
    from onerank import problems

    p = problems.make_problem(8, 10, 40, 3, noise="gaussian", noise_level=0.01, seed=0, frobenius_norm=3.0)
    a = printed.lemma4_wedin_step(p.Y_clean, p.Y, 1)
    b = printed.lemma4_wedin_step(10 * p.Y_clean, 10 * p.Y, 1)
    assert a["lhs"] == pytest.approx(b["lhs"], rel=1e-9)
    assert a["corrected_rhs"] == pytest.approx(b["corrected_rhs"], rel=1e-9)
    assert (2 - b["printed_rhs"]) == pytest.approx(10 * (2 - a["printed_rhs"]), rel=1e-9)
    assert a["lhs"] >= a["corrected_rhs"]


def test_lemma3_gap_readings():
    assert printed.lemma3_gap(5.0, [5.1, 4.0, 1.0], 1) == pytest.approx(1.0)      # j >= 2: |5 - 4|
    assert printed.lemma3_gap(5.0, [5.1, 4.0, 1.0], 2, reading="literal") == pytest.approx(4.0)  # j > 2: |5 - 1|
    with pytest.raises(ValueError, match="reading must be one of"):
        printed.lemma3_gap(5.0, [5.1, 4.0], 1, reading="other")
