"""The human format: one line per finding, editor-clickable `path:line:col:`
prefixes, and a one-line summary that says what `--fix` would do."""

from __future__ import annotations

from typing import List

from ..findings import FileResult, Finding, FixSafety, Severity
from . import fix_counts, severity_counts, sorted_findings

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_CYAN = "\x1b[36m"
_SEVERITY_COLOUR = {
    Severity.ERROR: "\x1b[31m",  # red
    Severity.WARNING: "\x1b[33m",  # yellow
    Severity.INFO: "\x1b[34m",  # blue
}


def _paint(text: str, *styles: str, color: bool) -> str:
    return "".join(styles) + text + _RESET if color else text


def _place(path: str, cell) -> str:
    """`path`, or `path:cell N` for a position inside a notebook cell."""
    return path if cell is None else f"{path}:cell {cell}"


def format_finding(f: Finding, *, color: bool = False) -> List[str]:
    """The finding's line and its related-location lines."""
    where = f"{_place(f.path, f.cell)}:{f.span.start_line}:{f.span.start_col}:"
    code = _paint(f.code, _BOLD, _SEVERITY_COLOUR[f.severity], color=color)
    line = f"{_paint(where, _BOLD, color=color)} {code} [{f.name}] {f.message}"
    if f.fix is not None:
        marker = "[*]" if f.fix.safety == FixSafety.SAFE else "[*unsafe]"
        line += " " + _paint(marker, _CYAN, color=color)
    if f.probe_note:
        line += f" ({f.probe_note})"
    lines = [line]
    for rel in f.related:
        note = f"{_place(rel.path, rel.cell)}:{rel.span.start_line}:{rel.span.start_col}: note: {rel.message}"
        lines.append("    " + _paint(note, _DIM, color=color))
    return lines


def _plural(n: int, word: str, plural: str) -> str:
    return f"{n} {word if n == 1 else plural}"


def summary_line(findings: List[Finding]) -> str:
    if not findings:
        return "All checks passed."
    counts = severity_counts(findings)
    parts = [
        _plural(counts[Severity.ERROR], "error", "errors"),
        _plural(counts[Severity.WARNING], "warning", "warnings"),
        _plural(counts[Severity.INFO], "info", "info"),
    ]
    parts = [p for p, s in zip(parts, (Severity.ERROR, Severity.WARNING, Severity.INFO)) if counts[s]]
    text = f"Found {_plural(len(findings), 'finding', 'findings')} ({', '.join(parts)})"
    safe, unsafe = fix_counts(findings)
    if safe and unsafe:
        text += f"; {safe} fixable with --fix ({unsafe} more with --unsafe-fixes)"
    elif safe:
        text += f"; {safe} fixable with --fix"
    elif unsafe:
        text += f"; {unsafe} fixable with --unsafe-fixes"
    return text + "."


def render_text(results: List[FileResult], *, color: bool = False) -> str:
    findings = sorted_findings(results)
    lines: List[str] = []
    for f in findings:
        lines.extend(format_finding(f, color=color))
    if lines:
        lines.append("")
    lines.append(summary_line(findings))
    return "\n".join(lines) + "\n"
