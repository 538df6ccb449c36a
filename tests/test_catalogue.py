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


# -- the catalogue is the one registry: every copy is generated or checked ----
def test_readme_rules_table_is_the_generated_one():
    """`python -m hplint.catalogue --write-readme README.md` rewrites it."""
    from pathlib import Path

    from hplint.catalogue import README_TABLE_END, README_TABLE_START, readme_table

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index(README_TABLE_START) + len(README_TABLE_START):readme.index(README_TABLE_END)]
    assert block.strip() == readme_table(meta_codes=tuple(META_CODES)).strip(), (
        "README.md's rules table differs from rules/*.md: run `python -m hplint.catalogue --write-readme README.md`")


def test_readme_table_follows_the_front_matter(tmp_path):
    from hplint.catalogue import main, readme_table

    docs = dict(CATALOGUE)
    docs["HPL009"] = parse_rule_doc(CATALOGUE["HPL009"].path.read_text(encoding="utf-8")
                                    .replace('severity = "warning"', 'severity = "error"', 1))
    table = readme_table(docs)
    assert "| HPL009 | batch-size-too-small-for-batchnorm | error | — |" in table
    assert "| HPL008 | dropout-active-at-eval | error | safe / unsafe |" in table  # fix-summary
    assert table.splitlines()[-2:] == ["| HPL000 | unreadable-file | error | — |",
                                       "| HPL100 | unused-suppression | info | — |"]
    readme = tmp_path / "README.md"
    from hplint.catalogue import README_TABLE_END, README_TABLE_START

    readme.write_text(f"# x\n\n{README_TABLE_START}\n| stale |\n{README_TABLE_END}\nafter\n", encoding="utf-8")
    assert main(["--write-readme", str(readme)]) == 0
    text = readme.read_text(encoding="utf-8")
    assert "| stale |" not in text and "| HPL010 | train-mode-not-restored | warning | unsafe |" in text
    assert text.endswith(f"{README_TABLE_END}\nafter\n")


def test_probed_codes_come_from_the_front_matter_and_each_has_a_verdict():
    from hplint.catalogue import probed_codes
    from hplint.probe.targets import PROBED_CODES
    from hplint.probe.verdicts import VERDICTS

    assert PROBED_CODES == probed_codes() == {c for c, d in CATALOGUE.items() if d.probe}
    assert PROBED_CODES, "no rule document says `probe = true`"
    assert set(VERDICTS) == set(PROBED_CODES), "a probed rule without a verdict function, or the reverse"
    assert not PROBED_CODES & set(META_CODES)


def _template_fields(template):
    import string

    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def test_message_templates_get_exactly_the_fields_the_rules_report(tmp_path, monkeypatch):
    """Every `{field}` of a rule's message template is supplied by each of its
    reports, and no report passes a field the template does not use. Runs every
    rule over the catalogue's bad examples and the example projects."""
    from pathlib import Path

    from hplint.catalogue import RuleDoc

    passed = {}
    real = RuleDoc.format_message

    def recording(self, **fields):
        passed.setdefault(self.code, []).append(set(fields))
        return real(self, **fields)

    monkeypatch.setattr(RuleDoc, "format_message", recording)
    root = Path(__file__).resolve().parent.parent
    paths = []
    for code, doc in CATALOGUE.items():
        path = tmp_path / f"{code.lower()}_example.py"
        path.write_text(doc.bad_example, encoding="utf-8")
        paths.append(path)
    for pattern in ("*.py", "*.ipynb", "*.yaml", "*.yml", "*.json"):
        paths += sorted((root / "examples").rglob(pattern))
    paths += sorted((root / "tests" / "data" / "fix").glob("*.py"))
    linter = Linter(Config())
    internal = [f for p in paths for f in linter.lint_file(p).findings
                if f.code == "HPL000" and "internal error" in f.message]
    assert not internal, internal  # a KeyError in format_message would be an internal error
    for code, doc in CATALOGUE.items():
        if code in META_CODES:  # built by the engine and the suppression scanner from one `{reason}`
            assert _template_fields(doc.message) == {"reason"}
            continue
        assert code in passed, f"{code}: no report in the bad examples or examples/"
        wanted = _template_fields(doc.message)
        for fields in passed[code]:
            assert fields == wanted, (code, "missing", wanted - fields, "unused", fields - wanted)


_OPTION_BULLET = re.compile(r"^- `(?P<name>[a-z0-9-]+)` \((?P<kind>[^,]+),(?: (?P<choices>[^)]*?),)? default `(?P<default>[^`]*)`\)", re.M)


def _kind_of(option) -> str:
    default = option.default
    if option.items == "pair":
        return "array of pairs"
    if option.items is not None:
        return f"array of {option.items}s"
    if isinstance(default, bool):
        return "boolean"
    if isinstance(default, int):
        return "integer"
    if isinstance(default, float):
        return "number"
    return "string"


def test_options_prose_matches_the_declared_schema():
    """Each rule document's Options bullets state the type and default its
    front matter declares (the front matter is the source; the prose is checked)."""
    from hplint._toml import tomllib

    for doc in CATALOGUE.values():
        declared = {o.name: o for o in doc.options}
        bullets = {m.group("name"): m for m in _OPTION_BULLET.finditer(doc.sections.get("options", ""))}
        assert set(bullets) == set(declared), (doc.code, sorted(bullets), sorted(declared))
        for name, bullet in bullets.items():
            option = declared[name]
            stated = tomllib.loads(f"v = {bullet.group('default')}")["v"]
            assert stated == option.default, (doc.code, name, stated, option.default)
            assert bullet.group("kind") == _kind_of(option), (doc.code, name, bullet.group("kind"))
            if option.choices:
                assert all(f'"{c}"' in (bullet.group("choices") or "") for c in option.choices), (doc.code, name)
