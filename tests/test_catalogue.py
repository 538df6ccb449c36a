"""The rule catalogue is the single source of truth: every document is
complete, every rule has one, and its examples behave as documented."""

import re

import pytest

from hplint.catalogue import CatalogueError, load_catalogue, parse_rule_doc
from hplint.config import Config
from hplint.engine import Linter
from hplint.rules import META_CODES, all_rules

CATALOGUE = load_catalogue()
SECTIONS = ["what it does", "why is this bad", "example", "use instead", "options", "fix safety", "references"]
_FLAGGED = re.compile(r"<-\s*flagged")


def test_every_rule_has_a_document_and_every_document_a_rule():
    assert set(all_rules()) | set(META_CODES) == set(CATALOGUE)


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_document_is_complete(code):
    doc = CATALOGUE[code]
    assert re.fullmatch(r"HPL\d{3}", doc.code)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", doc.name)
    assert doc.summary and doc.message
    assert doc.fix in ("safe", "unsafe", "none")
    for section in SECTIONS:
        assert doc.sections.get(section, "").strip(), f"{code} lacks '## {section}'"
    assert doc.bad_example.strip() and doc.good_example.strip()


def test_names_are_unique():
    names = [d.name for d in CATALOGUE.values()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_bad_example_flagged_exactly_where_marked(tmp_path, code):
    doc = CATALOGUE[code]
    path = tmp_path / "example.py"
    path.write_text(doc.bad_example, encoding="utf-8")
    findings = Linter(Config()).lint_file(path).findings
    marked = [i for i, line in enumerate(doc.bad_example.splitlines(), 1) if _FLAGGED.search(line)]
    assert marked, f"{code}: mark the flagged lines of the example with '# <- flagged'"
    assert sorted({f.line for f in findings if f.code == code}) == marked, findings


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_good_example_is_clean(tmp_path, code):
    doc = CATALOGUE[code]
    path = tmp_path / "example.py"
    path.write_text(doc.good_example, encoding="utf-8")
    assert Linter(Config()).lint_file(path).findings == []


def test_options_documented_in_prose():
    for doc in CATALOGUE.values():
        for option in doc.options:
            assert option.name in doc.sections["options"], (doc.code, option.name)


def test_bad_front_matter_is_reported_with_the_file():
    with pytest.raises(CatalogueError, match="x.md: missing"):
        parse_rule_doc("# no front matter", path=__import__("pathlib").Path("x.md"))
    with pytest.raises(CatalogueError, match="lacks 'severity'"):
        parse_rule_doc('+++\ncode = "HPL999"\nname = "x-y"\nmessage = "m"\n+++\n')
