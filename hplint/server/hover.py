"""Hover: a short card for the rule of a diagnostic under the cursor, or of a
rule code/name inside a suppression comment (`# hplint: disable=HPL001`,
`# noqa: HPL001`): the rule's code, name and summary line, the diagnostic's
message and its fix, and links to the full document. The full document is one
click away ("Explain rule" in VS Code, `hplint rule CODE` anywhere), not
pasted into the hover.

With the `explainCommand` setting (the VS Code extension sends
`hplint.explainRule`) the message is left out (VS Code shows the diagnostic's
message right above the hover) and "Explain rule" is a command link."""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional
from urllib.parse import quote

from lsprotocol import types as lsp

from ..catalogue import RuleDoc
from ..config import resolve_selector
from ..suppression import parse_suppressions
from .analysis import Analysis
from .diagnostics import PositionMap, split_lines

_TOKEN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


def rule_markdown(doc: RuleDoc, explain_command: Optional[str] = None) -> str:
    """`**HPL002** bias-before-batchnorm: summary`, then the links."""
    links = []
    if explain_command:
        args = quote(json.dumps([doc.code]))
        links.append(f"[Explain rule](command:{explain_command}?{args} \"Show the rule's documentation\")")
    else:
        links.append(f"`hplint rule {doc.code}`")
    if doc.url:
        links.append(f"[documentation]({doc.url})")
    return f"**{doc.code}** `{doc.name}`: {doc.summary}\n\n{' · '.join(links)}"


def _fix_line(diag: lsp.Diagnostic) -> Optional[str]:
    data: Any = diag.data
    fix = data.get("fix") if isinstance(data, dict) else None
    if not isinstance(fix, dict) or not fix.get("title"):
        return None
    safety = "safe fix" if fix.get("safe") else "unsafe fix"
    return f"Fix ({safety}, Quick Fix / `--fix`): {fix['title']}"


def _lookup(token: str, catalogue: Dict[str, RuleDoc]) -> Optional[RuleDoc]:
    codes = resolve_selector(token, catalogue)
    if len(codes) == 1 and (token.upper() in catalogue or "-" in token):  # a full code or a name, not a prefix
        return catalogue[next(iter(codes))]
    return None


def suppression_hover(text: str, line0: int, col: int, positions: PositionMap,
                      catalogue: Dict[str, RuleDoc], explain_command: Optional[str] = None) -> Optional[lsp.Hover]:
    """`col` is the 1-based code-point column of the cursor on line `line0`."""
    lines = split_lines(text)
    if not 0 <= line0 < len(lines):
        return None
    line = lines[line0]
    for directive in parse_suppressions(line):
        start, end = directive.span.start_col - 1, directive.span.end_col - 1
        for match in _TOKEN.finditer(line, start, end):
            if not match.start() + 1 <= col <= match.end() + 1:
                continue
            doc = _lookup(match.group(), catalogue)
            if doc is None:
                return None
            rng = lsp.Range(positions.position(line0 + 1, match.start() + 1),
                            positions.position(line0 + 1, match.end() + 1))
            return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, rule_markdown(doc, explain_command)), rng)
    return None


def diagnostic_hover(analysis: Analysis, position: lsp.Position, catalogue: Dict[str, RuleDoc],
                     explain_command: Optional[str] = None) -> Optional[lsp.Hover]:
    here = (position.line, position.character)
    parts: List[str] = []
    shown = set()
    rng: Optional[lsp.Range] = None
    for diag in analysis.diagnostics:
        start = (diag.range.start.line, diag.range.start.character)
        end = (diag.range.end.line, diag.range.end.character)
        if not start <= here <= end or diag.code in shown:
            continue
        doc = catalogue.get(str(diag.code))
        if doc is None:
            continue
        shown.add(diag.code)
        lines = [] if explain_command else [diag.message]
        fix = _fix_line(diag)
        if fix:
            lines.append(fix)
        lines.append(rule_markdown(doc, explain_command))
        parts.append("\n\n".join(lines))
        rng = rng or diag.range
    if not parts:
        return None
    return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, "\n\n---\n\n".join(parts)), rng)


def hover(text: str, position: lsp.Position, positions: PositionMap, analysis: Optional[Analysis],
          catalogue: Dict[str, RuleDoc], explain_command: Optional[str] = None) -> Optional[lsp.Hover]:
    _, col = positions.to_codepoints(position)
    found = suppression_hover(text, position.line, col, positions, catalogue, explain_command)
    if found is None and analysis is not None:
        found = diagnostic_hover(analysis, position, catalogue, explain_command)
    return found
