"""Hover: the rule document (catalogue Markdown) for a diagnostic under the
cursor, or for a rule code/name inside a suppression comment
(`# hplint: disable=HPL001`, `# noqa: HPL001`)."""

from __future__ import annotations

import re
from typing import Dict, List, Optional

from lsprotocol import types as lsp

from ..catalogue import RuleDoc
from ..config import resolve_selector
from ..suppression import parse_suppressions
from .analysis import Analysis
from .diagnostics import PositionMap, split_lines

_TOKEN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


def rule_markdown(doc: RuleDoc) -> str:
    return f"{doc.body.strip()}\n\n[{doc.code} documentation]({doc.url})"


def _lookup(token: str, catalogue: Dict[str, RuleDoc]) -> Optional[RuleDoc]:
    codes = resolve_selector(token, catalogue)
    if len(codes) == 1 and (token.upper() in catalogue or "-" in token):  # a full code or a name, not a prefix
        return catalogue[next(iter(codes))]
    return None


def suppression_hover(text: str, line0: int, col: int, positions: PositionMap,
                      catalogue: Dict[str, RuleDoc]) -> Optional[lsp.Hover]:
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
            return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, rule_markdown(doc)), rng)
    return None


def diagnostic_hover(analysis: Analysis, position: lsp.Position, catalogue: Dict[str, RuleDoc]) -> Optional[lsp.Hover]:
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
        parts.append(f"**{doc.code}**: {diag.message}\n\n{rule_markdown(doc)}")
        rng = rng or diag.range
    if not parts:
        return None
    return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, "\n\n---\n\n".join(parts)), rng)


def hover(text: str, position: lsp.Position, positions: PositionMap, analysis: Optional[Analysis],
          catalogue: Dict[str, RuleDoc]) -> Optional[lsp.Hover]:
    _, col = positions.to_codepoints(position)
    found = suppression_hover(text, position.line, col, positions, catalogue)
    if found is None and analysis is not None:
        found = diagnostic_hover(analysis, position, catalogue)
    return found
