"""Code actions: a finding's own fix, "disable for this line", and
`source.fixAll.hplint` (every safe fix of the document at once).

Quick fixes come from the diagnostic's `data` (the edits the analysis
computed, already in LSP units), so they apply to exactly the text the
diagnostic was computed on; diagnostics without `data` (clients that drop it)
are matched to the server's latest analysis by code and range.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional, Sequence

from lsprotocol import types as lsp

from ..findings import FixSafety, Span
from ..suppression import LINE, parse_suppressions
from .analysis import Analysis
from .diagnostics import SOURCE, PositionMap, fix_payload, range_from_json, split_lines

FIX_ALL_KIND = "source.fixAll.hplint"
UNSUPPRESSIBLE = {"HPL000"}
_DISABLE_LIST = re.compile(r"#\s*hplint:\s*disable\s*=\s*[A-Za-z0-9_-]+(?:\s*,\s*[A-Za-z0-9_-]+)*", re.I)


def wanted(kind: str, only: Optional[Sequence[str]]) -> bool:
    """LSP kind filtering: `only=["source"]` admits `source.fixAll.hplint`."""
    if not only:
        return True
    return any(kind == o or kind.startswith(o + ".") for o in only)


def _ours(diagnostics: Iterable[lsp.Diagnostic]) -> List[lsp.Diagnostic]:
    return [d for d in diagnostics if d.source == SOURCE and isinstance(d.code, str)]


def _edit(uri: str, edits: List[lsp.TextEdit]) -> lsp.WorkspaceEdit:
    return lsp.WorkspaceEdit(changes={uri: edits})


def _payload_for(diag: lsp.Diagnostic, analysis: Optional[Analysis], version: Optional[int]) -> Optional[Dict[str, Any]]:
    data = diag.data if isinstance(diag.data, dict) else None
    if data and isinstance(data.get("fix"), dict) and data.get("version", version) == version:
        return data["fix"]  # computed on this very text
    if analysis is None:
        return None
    for finding in analysis.findings:
        if finding.code == diag.code and analysis.positions.range(finding.span) == diag.range:
            return fix_payload(finding, analysis.positions)
    return None


def quick_fixes(uri: str, diagnostics: Sequence[lsp.Diagnostic], analysis: Optional[Analysis],
                version: Optional[int] = None) -> List[lsp.CodeAction]:
    """Fixes never apply edits computed on another version of the text."""
    actions = []
    for diag in _ours(diagnostics):
        payload = _payload_for(diag, analysis, version)
        if not payload:
            continue
        edits = [lsp.TextEdit(range_from_json(e["range"]), e["newText"]) for e in payload["edits"]]
        actions.append(lsp.CodeAction(
            title=payload["title"], kind=lsp.CodeActionKind.QuickFix, diagnostics=[diag],
            edit=_edit(uri, edits), is_preferred=bool(payload.get("safe")),
        ))
    return actions


def disable_line_edit(text: str, line0: int, code: str, positions: PositionMap) -> Optional[lsp.TextEdit]:
    """The edit that adds `code` to line `line0`'s `# hplint: disable=` comment,
    or appends such a comment; None if already disabled or impossible."""
    lines = split_lines(text)
    if not 0 <= line0 < len(lines):
        return None
    line = lines[line0]
    for directive in parse_suppressions(line):
        if directive.kind != LINE:
            continue
        if code in directive.codes:
            return None
        match = _DISABLE_LIST.match(line, directive.span.start_col - 1)
        if match:
            at = positions.position(line0 + 1, match.end() + 1)
            return lsp.TextEdit(lsp.Range(at, at), f",{code}")
    if line.rstrip().endswith("\\"):
        return None  # a comment after a line continuation is a syntax error
    at = positions.line_end(line0 + 1)
    return lsp.TextEdit(lsp.Range(at, lsp.Position(line0, positions.codec.client_num_units(line))),
                        f"  # hplint: disable={code}")


def disable_actions(uri: str, diagnostics: Sequence[lsp.Diagnostic], text: str, positions: PositionMap) -> List[lsp.CodeAction]:
    actions = []
    seen = set()
    for diag in _ours(diagnostics):
        key = (diag.range.start.line, diag.code)
        if diag.code in UNSUPPRESSIBLE or key in seen:
            continue
        seen.add(key)
        edit = disable_line_edit(text, diag.range.start.line, diag.code, positions)
        if edit is None:
            continue
        actions.append(lsp.CodeAction(
            title=f"Disable {diag.code} for this line", kind=lsp.CodeActionKind.QuickFix,
            diagnostics=[diag], edit=_edit(uri, [edit]),
        ))
    return actions


def _overlaps(a: Span, b: Span) -> bool:
    a0, a1 = (a.start_line, a.start_col), (a.end_line, a.end_col)
    b0, b1 = (b.start_line, b.start_col), (b.end_line, b.end_col)
    if a0 == a1 == b0 == b1:
        return True  # two insertions at one point: their order would be a guess
    return a0 < b1 and b0 < a1


def fix_all(uri: str, analysis: Analysis) -> Optional[lsp.CodeAction]:
    """Every safe fix of the document whose edits overlap no earlier one."""
    taken: List[Span] = []
    edits: List[lsp.TextEdit] = []
    count = 0
    for finding in sorted(analysis.findings, key=lambda f: (f.span.start_line, f.span.start_col)):
        fix = finding.fix
        if fix is None or fix.safety != FixSafety.SAFE or not fix.edits:
            continue
        if any(_overlaps(e.span, t) for e in fix.edits for t in taken):
            continue
        taken.extend(e.span for e in fix.edits)
        edits.extend(lsp.TextEdit(analysis.positions.range(e.span), e.new_text) for e in fix.edits)
        count += 1
    if not edits:
        return None
    return lsp.CodeAction(
        title=f"Fix all safe hplint problems ({count})", kind=FIX_ALL_KIND, edit=_edit(uri, edits),
    )


def code_actions(
    uri: str,
    params: lsp.CodeActionParams,
    text: str,
    positions: PositionMap,
    analysis: Optional[Analysis],
    version: Optional[int] = None,
) -> List[lsp.CodeAction]:
    """All actions for a request; `text`/`positions` are the document now,
    `analysis` the latest analysis of that same version (or None)."""
    only = params.context.only
    diagnostics = params.context.diagnostics or []
    actions: List[lsp.CodeAction] = []
    if wanted(lsp.CodeActionKind.QuickFix, only):
        actions.extend(quick_fixes(uri, diagnostics, analysis, version))
        actions.extend(disable_actions(uri, diagnostics, text, positions))
    if analysis is not None and wanted(FIX_ALL_KIND, only):
        action = fix_all(uri, analysis)
        if action is not None:
            actions.append(action)
    return actions
