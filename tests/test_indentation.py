"""Positions and fixes do not depend on how a file is indented.

Every example is re-indented with 2 spaces, with tabs, and with a different
indentation per top-level statement; each finding must point at the same
code, and applying every fix must give the same program as fixing the
4-space original (compared as ASTs, so indentation itself does not count).
The editor's incremental parser is held to the same standard.
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path
from typing import Callable, List

import pytest

from hplint.config import Config
from hplint.engine import Linter
from hplint.fix.apply import apply_fixes, line_starts

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").rglob("*.py"))


def _string_continuation_lines(text: str) -> set:
    """Lines that lie inside a multi-line string: re-indenting them would change the program."""
    inside = set()
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
            inside.update(range(tok.start[0] + 1, tok.end[0] + 1))
    return inside


def reindent(text: str, unit_for_line: Callable[[int], str]) -> str:
    """Replace each leading 4-space unit with `unit_for_line(top_level_index)`."""
    skip = _string_continuation_lines(text)
    out: List[str] = []
    top = -1
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        stripped = line.lstrip(" ")
        depth, rest = divmod(len(line) - len(stripped), 4)
        if number not in skip and depth == 0 and rest == 0 and stripped.strip() and not stripped.startswith("#"):
            top += 1
        if number in skip or not stripped.strip():
            out.append(line)
        else:
            out.append(unit_for_line(max(top, 0)) * depth + " " * rest + stripped)
    return "".join(out)


STYLES = {
    "2-spaces": lambda top: "  ",
    "tabs": lambda top: "\t",
    # Each top-level statement indented its own way, as in files pasted together.
    "mixed": lambda top: ("  ", "\t", "   ", "    ")[top % 4],
}


def _under(text: str, finding) -> str:
    starts = line_starts(text)
    s = finding.span
    start = starts[s.start_line - 1] + s.start_col - 1
    end = starts[s.end_line - 1] + s.end_col - 1
    return " ".join(text[start:end].split())


def _fix_all(text: str, findings, linter: Linter, path: Path) -> str:
    for _ in range(10):
        new, applied = apply_fixes(text, findings, unsafe=True)
        if not applied:
            return text
        text = new
        findings = linter.lint_text(text, path, "doc.py").findings
    return text


def _program(text: str) -> str:
    return ast.dump(ast.parse(text))


@pytest.mark.parametrize("style", sorted(STYLES))
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("incremental", [False, True], ids=["cli", "editor"])
def test_findings_and_fixes_follow_the_code(tmp_path, example, style, incremental):
    original = example.read_text()
    changed = reindent(original, STYLES[style])
    assert _program(changed) == _program(original)  # the test's own premise
    path = tmp_path / example.name
    reference = Linter(Config()).lint_text(original, path, "doc.py").findings
    linter = Linter(Config(), incremental=incremental)
    linter.lint_text(original, path, "doc.py")  # an editor session saw the file before
    findings = linter.lint_text(changed, path, "doc.py").findings

    assert [(f.code, f.span.start_line) for f in findings] == [(f.code, f.span.start_line) for f in reference]
    for got, want in zip(findings, reference):
        assert _under(changed, got) == _under(original, want), got
        for got_rel, want_rel in zip(got.related, want.related):
            assert got_rel.span.start_line == want_rel.span.start_line
        if got.fix is not None:
            fixed_one, applied = apply_fixes(changed, [got], unsafe=True)
            want_one, _ = apply_fixes(original, [want], unsafe=True)
            assert applied and _program(fixed_one) == _program(want_one), got.code

    fixed = _fix_all(changed, findings, Linter(Config()), path)
    want_fixed = _fix_all(original, reference, Linter(Config()), path)
    assert _program(fixed) == _program(want_fixed)


def test_two_space_column_is_the_code_column(tmp_path):
    code = (
        "import torch.nn as nn\n"
        "class Net(nn.Module):\n"
        "  def __init__(self):\n"
        "    super().__init__()\n"
        "    self.f = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))\n"
        "  def forward(self, x):\n"
        "    return self.f(x)\n"
    )
    (finding,) = Linter(Config().with_overrides(select=["HPL002"])).lint_text(code, tmp_path / "m.py").findings
    assert (finding.span.start_line, finding.span.start_col) == (5, code.splitlines()[4].index("nn.Conv2d") + 1)
    fixed, _ = apply_fixes(code, [finding], unsafe=False)
    assert "nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8)" in fixed
