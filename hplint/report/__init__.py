"""Rendering lint results for people (full, concise), programs (json),
code-scanning services (sarif), GitHub Actions annotations (github) and
reviewdog (rdjson).

Every renderer takes the same input and returns the whole report as one
string; the caller writes it (as UTF-8) where it belongs. Findings are always
reported in (path, line, column, code) order, whatever order rules produced
them in, so output is reproducible.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Dict, Iterable, List, Optional

from ..catalogue import RuleDoc
from ..findings import FileResult, Finding, FixSafety, Severity

FORMATS = ("full", "concise", "json", "sarif", "github", "rdjson")
#: The formats for people: colour, wrapping, progress and notes are theirs only.
HUMAN_FORMATS = ("full", "concise")
#: Older names still accepted: `text` was the human format before `full`/`concise`.
ALIASES = {"text": "full"}

# A file name that is not valid UTF-8 reaches Python as lone surrogates
# (PEP 383). JSON reports escape them ("\\udcff"), which keeps the report
# valid UTF-8 and lets a reader recover the exact name with os.fsencode.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def dump_json(doc: object) -> str:
    """A JSON report: indented, non-ASCII text as is, lone surrogates escaped."""
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text) + "\n"


def render(
    fmt: str,
    results: List[FileResult],
    *,
    catalogue: Optional[Dict[str, RuleDoc]] = None,
    root: Path,
    color: bool = False,
    tool_version: str = "0.1.0",
    width: Optional[int] = None,
    summary: bool = True,
) -> str:
    """The report for `results` in format `fmt` (one of FORMATS, or an alias).
    `color`, `width` (wrap to a terminal's columns) and `summary` (the closing
    "Found ..." line) apply to the human formats only."""
    fmt = ALIASES.get(fmt, fmt)
    if fmt == "full":
        from .text import render_full

        return render_full(results, color=color, width=width, summary=summary)
    if fmt == "concise":
        from .text import render_text

        return render_text(results, color=color, summary=summary)
    if fmt in ("json", "sarif", "rdjson"):
        if catalogue is None:
            from ..catalogue import load_catalogue

            catalogue = load_catalogue()
        if fmt == "rdjson":
            from .rdjson import render_rdjson

            return render_rdjson(results, catalogue=catalogue)
        if fmt == "json":
            from .json_format import render_json

            return render_json(results, catalogue=catalogue, tool_version=tool_version)
        from .sarif import render_sarif

        return render_sarif(results, catalogue=catalogue, root=root, tool_version=tool_version)
    if fmt == "github":
        from .github import render_github

        return render_github(results)
    raise ValueError(f"unknown output format {fmt!r} (expected one of: {', '.join(FORMATS)})")


def sort_key(f: Finding):
    return (f.path, f.cell or 0, f.span.start_line, f.span.start_col, f.code, f.message)


def sorted_findings(results: Iterable[FileResult]) -> List[Finding]:
    return sorted((f for r in results for f in r.findings), key=sort_key)


def severity_counts(findings: Iterable[Finding]) -> Dict[Severity, int]:
    counts = {s: 0 for s in Severity}
    for f in findings:
        counts[f.severity] += 1
    return counts


def fix_counts(findings: Iterable[Finding]):
    """(safe, unsafe): how many findings carry a safe / an unsafe fix."""
    safe = unsafe = 0
    for f in findings:
        if f.fix is None:
            continue
        if f.fix.safety == FixSafety.SAFE:
            safe += 1
        else:
            unsafe += 1
    return safe, unsafe


def relative_posix(path: str, root: Path) -> Optional[str]:
    """`path` relative to `root` with `/` separators, or None when outside it."""
    p = os.path.abspath(path)
    r = os.path.abspath(root)
    try:
        rel = os.path.relpath(p, r)
    except ValueError:  # another drive
        return None
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return None
    return rel.replace(os.sep, "/")
