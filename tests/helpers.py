"""Small helpers shared by rule tests.

Write the code under test with `# <- HPLxxx` markers on the lines where a
finding must start; `expected_lines` reads them back, so a test states both
what is flagged and exactly where.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from hplint import fix
from hplint.config import Config
from hplint.engine import Linter
from hplint.findings import Finding, Fix, TextEdit

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


def apply_edits(text: str, edits: Sequence[TextEdit]) -> str:
    """Apply a finding's fix edits with the production code (`hplint.fix.apply_edits`,
    what `--fix` and the language server use); all of them must apply."""
    edits = tuple(edits)
    if not edits:
        return text
    new_text, applied = fix.apply_edits(text, [Fix("under test", edits)])
    assert applied == [0], f"the edits overlap or fall outside the text: {edits}"
    return new_text
