"""The editor's incremental parse gives exactly the findings of a full parse,
and re-parses only what an edit changed."""

from pathlib import Path

import pytest

from hplint.analysis.incremental import IncrementalParser
from hplint.config import Config
from hplint.engine import Linter

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").rglob("*.py"))


def _key(findings):
    return [(f.code, f.span, f.message, tuple((r.path, r.span) for r in f.related),
             f.fix.edits if f.fix else None) for f in findings]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_same_findings_as_full_parse_across_edits(tmp_path, example):
    text = example.read_text()
    target = tmp_path / example.name
    target.write_text(text)
    editor = Linter(Config(), incremental=True)
    versions = [
        text,
        "# a comment on top\n\n" + text,             # every statement moves down
        text.replace("0.5", "0.25", 1),             # one statement changes
        text + "\n\nx = 1; y = 2\n@property\ndef f(self):\n    return 1\n",
        text.replace("(", "((", 1),                  # a syntax error...
        text,                                        # ...and back
    ]
    for version in versions:
        got = editor.lint_text(version, target, "doc.py")
        want = Linter(Config()).lint_text(version, target, "doc.py")
        assert _key(got.findings) == _key(want.findings)


def test_unchanged_statements_are_reused():
    parser = IncrementalParser()
    text = "import torch\n\n\ndef a():\n    return 1\n\n\ndef b():\n    return 2\n"
    first, _ = parser.parse(text)
    second, lines = parser.parse(text.replace("return 2", "return 3"))
    assert first.body[0] is second.body[0] and first.body[1] is second.body[1]
    assert first.body[2] is not second.body[2]
    assert sorted(lines.values()) == [1, 4, 8]


def test_semicolons_and_decorators_keep_statement_lines():
    parser = IncrementalParser()
    module, lines = parser.parse("a = 1; b = 2\n# note\n@dec\n@dec2\nclass C:\n    pass\n")
    assert [lines[id(s)] for s in module.body] == [1, 5]


def test_syntax_error_falls_back():
    assert IncrementalParser().parse("def f(:\n") is None


def test_dependency_parsed_once_per_run(tmp_path, monkeypatch):
    """A module parsed for another file's analysis is not parsed again when linted."""
    import libcst

    import hplint.analysis.source as source

    (tmp_path / "models.py").write_text(
        "import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.bn = nn.BatchNorm1d(4)\n        self.fc = nn.Linear(4, 8)\n"
        "        self.bn2 = nn.BatchNorm1d(8)\n"
        "    def forward(self, x):\n        return self.bn2(self.fc(self.bn(x)))\n")
    (tmp_path / "train.py").write_text(
        "import torch.nn as nn\nfrom models import Net\nmodel = nn.Sequential(nn.Dropout(0.5), Net())\n")
    parsed = []
    real = libcst.parse_module
    monkeypatch.setattr(source.cst, "parse_module", lambda text, *a, **k: parsed.append(text) or real(text, *a, **k))
    linter = Linter(Config())
    train = linter.lint_file(tmp_path / "train.py")
    models = linter.lint_file(tmp_path / "models.py")
    assert len(parsed) == 2  # train.py, and models.py once
    assert [f.code for f in train.findings] == ["HPL001"]
    assert [f.code for f in models.findings] == ["HPL002"]


def test_deeply_nested_dependency_is_not_parsed(tmp_path):
    """The nesting guard sits in parse_checked, so cross-file lookups get it too."""
    from hplint.analysis.project import ProjectIndex

    (tmp_path / "generated.py").write_text("x = " + " + ".join(["1"] * 5000) + "\n")
    assert ProjectIndex([tmp_path]).context_for_module("generated") is None
    editor = Linter(Config(), incremental=True)
    [finding] = editor.lint_text((tmp_path / "generated.py").read_text(), tmp_path / "generated.py").findings
    assert finding.code == "HPL000" and "nested" in finding.message


def test_identical_statements_each_get_their_findings(tmp_path):
    # Two copies of one statement must stay two nodes: findings, positions and
    # the per-statement caches are keyed by node identity.
    stmt = "f = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))\n"
    text = "import torch.nn as nn\n" + stmt + stmt + "x = 1\n" + stmt
    editor = Linter(Config(), incremental=True)
    for version in (text, text.replace("x = 1", "x = 2")):  # second pass reuses cached chunks
        got = editor.lint_text(version, tmp_path / "m.py", "m.py")
        assert [f.span.start_line for f in got.findings if f.code == "HPL002"] == [2, 3, 5]
        want = Linter(Config()).lint_text(version, tmp_path / "m.py", "m.py")
        assert _key(got.findings) == _key(want.findings)


def test_two_space_and_crlf_documents_reassemble_exactly():
    text = "import torch\r\nclass A:\r\n  def f(self):\r\n    return 1\r\n\r\nx = 1\r\n"
    module, _ = IncrementalParser().parse(text)
    # Blank lines between chunks are not part of any statement; the rest is exact.
    assert module.code == text.replace("\r\n\r\n", "\r\n")


def test_statements_indented_differently_fall_back_to_a_full_parse():
    text = "def a():\n  return 1\n\n\ndef b():\n    return 2\n"
    assert IncrementalParser().parse(text) is None


# -- syntax checked on the edited region only ------------------------------------------
REGION_BASE = (
    '"""Doc."""\nimport torch\n\n\n@dec\ndef a(x):\n    return (x +\n            1)\n\n\n'
    "class B:\n    def f(self):\n        pass\n\n\nx = 1; y = 2\nz = [\n    1,\n]\n# trailing comment\n"
)
REGION_EDITS = [
    lambda t: t.replace("return (x +", "return (x -"),                    # inside a multi-line statement
    lambda t: t.replace("        pass\n", "        pass\n    def g(self):\n        return 2\n"),  # grows a class
    lambda t: t.replace("\n\nx = 1", "\n    extra = 3\n\nx = 1"),        # continues the chunk above
    lambda t: t.replace("@dec\n", ""),                                   # a decorator removed
    lambda t: t.replace("def a(x):", "@more\ndef a(x):"),                # and added
    lambda t: t.replace("x = 1; y = 2", "x = 1\ny = 2"),                 # one chunk becomes two
    lambda t: t.replace("z = [\n", "z = (\n"),                          # unbalanced: a syntax error
    lambda t: t.replace("class B:\n", ""),                                # an indentation error
    lambda t: t.replace("import torch\n", "import torch\nw = (\n"),       # a bracket left open before other chunks
    lambda t: t + "q = 4\n",                                             # appended
    lambda t: "from __future__ import annotations\n" + t,               # prepended
    lambda t: t.replace("# trailing comment\n", ""),                    # the last lines removed
]


def _fresh(text):
    parsed = IncrementalParser().parse(text)
    return None if parsed is None else (parsed[0].code, sorted(parsed[1].values()))


@pytest.mark.parametrize("edit", range(len(REGION_EDITS)))
def test_region_check_gives_what_a_whole_check_gives(edit):
    parser = IncrementalParser()
    assert parser.parse(REGION_BASE) is not None
    text = REGION_EDITS[edit](REGION_BASE)
    assert text != REGION_BASE
    parsed = parser.parse(text)
    got = None if parsed is None else (parsed[0].code, sorted(parsed[1].values()))
    assert got == _fresh(text)
    again = parser.parse(REGION_BASE)  # and back
    assert again is not None and (again[0].code, sorted(again[1].values())) == _fresh(REGION_BASE)


def test_region_check_is_used_for_ordinary_edits_and_on_random_line_edits():
    import random

    rng = random.Random(7)
    base = REGION_BASE * 3
    lines = base.splitlines(keepends=True)
    parser = IncrementalParser()
    parser.parse(base)
    pieces = ["pass\n", "    pass\n", "x = (\n", ")\n", "@d\n", "def h():\n", "\n", "# c\n", "y = 1\n", "else:\n"]
    for _ in range(150):
        edited = list(lines)
        k = rng.randrange(len(edited) + 1)
        action = rng.randrange(3)
        if action == 0 and edited:
            del edited[min(k, len(edited) - 1)]
        elif action == 1:
            edited.insert(k, rng.choice(pieces))
        elif edited:
            edited[min(k, len(edited) - 1)] = rng.choice(pieces)
        text = "".join(edited)
        parsed = parser.parse(text)
        assert (None if parsed is None else (parsed[0].code, sorted(parsed[1].values()))) == _fresh(text), text
        if parsed is not None:
            lines = edited  # go on from the valid versions
    assert parser.region_checks > 20


def test_region_check_on_the_bench_file_edit():
    parser = IncrementalParser()
    text = "import torch\n\nEDIT_ME = 0\n" + "".join(f"\n\ndef f{i}(x):\n    return x + {i}\n" for i in range(50))
    parser.parse(text)
    before = parser.region_checks
    edited = text.replace("EDIT_ME = 0", "EDIT_ME = 1")
    module, lines = parser.parse(edited)
    assert parser.region_checks == before + 1
    assert (module.code, sorted(lines.values())) == _fresh(edited)


_NESTED = """import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
        self.head = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8))

    def forward(self, x):
        return self.head(self.body(x).mean((2, 3)))

EDIT_ME = 0
"""


def _places(findings):
    return [(f.code, f.line, f.col, str(f.related)) for f in findings]


def test_positions_of_lines_inside_a_class_survive_edits_and_follow_moves(tmp_path):
    """An editor session keeps the positions of a line nested in a compound
    statement while that statement is unchanged, relative to the statement: an
    edit elsewhere reuses them, lines inserted above move them."""
    path = tmp_path / "m.py"
    session = Linter(Config(select=("HPL002",)), incremental=True)
    first = session.lint_text(_NESTED, path).findings
    positions = session._parsers[str(path)].positions
    nested = {k: v for k, v in positions.items() if len(v) > 3}
    assert len(first) == 2 and len(nested) == 2
    session.lint_text(_NESTED.replace("EDIT_ME = 0", "EDIT_ME = 1"), path)
    kept = session._parsers[str(path)].positions
    assert all(kept.get(k) is v for k, v in nested.items())  # reused, not recomputed
    for text in ("# a comment\n\n" + _NESTED, "\n" * 5 + _NESTED.replace("EDIT_ME = 0", "EDIT_ME = 2")):
        again = session.lint_text(text, path).findings
        fresh = Linter(Config(select=("HPL002",))).lint_text(text, path).findings
        assert _places(again) == _places(fresh) and again[0].line > first[0].line
