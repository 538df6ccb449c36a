"""Small helpers shared by rule tests.

Write the code under test with `# <- HPLxxx` markers on the lines where a
finding must start; `expected_lines` reads them back, so a test states both
what is flagged and exactly where.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Dict, List, Optional

from hplint.config import Config
from hplint.engine import Linter
from hplint.findings import Finding

_MARKER = re.compile(r"#\s*<-\s*(HPL\d{3})")


def dedent(code: str) -> str:
    return textwrap.dedent(code).lstrip("\n")


def lint_files(tmp_path: Path, files: Dict[str, str], target: str, select: Optional[List[str]] = None,
               config: Optional[Config] = None) -> List[Finding]:
    """Write a small project under tmp_path and lint one of its files."""
    for name, code in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(code), encoding="utf-8")
    cfg = config or Config()
    if select:
        cfg = cfg.with_overrides(select=select)
    return Linter(cfg).lint_file(tmp_path / target).findings


def lint_code(tmp_path: Path, code: str, select: Optional[List[str]] = None) -> List[Finding]:
    return lint_files(tmp_path, {"snippet.py": code}, "snippet.py", select)


def expected_lines(code: str, rule: str) -> List[int]:
    return [i for i, line in enumerate(dedent(code).splitlines(), start=1)
            if (m := _MARKER.search(line)) and m.group(1) == rule]


def lines_of(findings: List[Finding], rule: str) -> List[int]:
    return sorted(f.line for f in findings if f.code == rule)


def apply_edits(text: str, edits) -> str:
    """Apply TextEdits (1-based line/col, end exclusive) to text."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, col: int) -> int:
        if line - 1 >= len(lines):
            return len(text)
        return starts[line - 1] + col - 1

    out = text
    for edit in sorted(edits, key=lambda e: (e.span.start_line, e.span.start_col), reverse=True):
        a = offset(edit.span.start_line, edit.span.start_col)
        b = offset(edit.span.end_line, edit.span.end_col)
        out = out[:a] + edit.new_text + out[b:]
    return out
