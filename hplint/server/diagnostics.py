"""Findings -> LSP diagnostics, at the edge where positions change units.

hplint's spans are 1-based lines and 1-based code-point columns, end
exclusive; LSP wants 0-based lines and columns in the negotiated position
encoding (UTF-16 unless the client offered another one). pygls's
`PositionCodec` counts the code units; this module only walks our spans
through it, against the exact text that was analysed.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional, Sequence

from lsprotocol import types as lsp
from pygls.uris import from_fs_path
from pygls.workspace.position_codec import PositionCodec

from ..catalogue import RuleDoc
from ..findings import Finding, FixSafety, Severity, Span
from ..text_lines import NEWLINE

SOURCE = "hplint"

_SEVERITY = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.INFO: lsp.DiagnosticSeverity.Information,
}


def split_lines(text: str) -> List[str]:
    return NEWLINE.split(text)  # LSP's line breaks are Python's


class PositionMap:
    """1-based code-point positions of one text -> LSP positions."""

    def __init__(self, text: str, codec: Optional[PositionCodec] = None) -> None:
        self.lines = split_lines(text)
        self.codec = codec or PositionCodec()

    def position(self, line: int, col: int) -> lsp.Position:
        index = line - 1
        if index < 0:
            return lsp.Position(0, 0)
        if index >= len(self.lines):  # an insertion after the last line
            last = len(self.lines) - 1
            return lsp.Position(last, self.codec.client_num_units(self.lines[last]))
        text = self.lines[index]
        if text.isascii():  # one code unit per character in UTF-8, UTF-16 and UTF-32 (most lines)
            return lsp.Position(index, min(max(col - 1, 0), len(text)))
        return lsp.Position(index, self.codec.client_num_units(text[: max(col - 1, 0)]))

    def range(self, span: Span) -> lsp.Range:
        return lsp.Range(self.position(span.start_line, span.start_col), self.position(span.end_line, span.end_col))

    def to_codepoints(self, position: lsp.Position) -> tuple:
        """(1-based line, 1-based code-point column) of an LSP position."""
        if position.line >= len(self.lines):
            return len(self.lines) + 1, 1
        text = self.lines[position.line]
        units = 0
        for i, ch in enumerate(text):
            if units >= position.character:
                return position.line + 1, i + 1
            units += self.codec.client_num_units(ch)
        return position.line + 1, len(text) + 1

    def line_end(self, line: int) -> lsp.Position:
        """The end of a 1-based line's text (before any trailing blanks)."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return lsp.Position(line - 1, self.codec.client_num_units(text.rstrip()))


def range_json(r: lsp.Range) -> Dict[str, Any]:
    return {"start": {"line": r.start.line, "character": r.start.character},
            "end": {"line": r.end.line, "character": r.end.character}}


def range_from_json(data: Any) -> lsp.Range:
    return lsp.Range(lsp.Position(int(data["start"]["line"]), int(data["start"]["character"])),
                     lsp.Position(int(data["end"]["line"]), int(data["end"]["character"])))


def path_uri(path: str) -> str:
    return from_fs_path(os.path.abspath(path)) or path


def fix_payload(finding: Finding, positions: PositionMap) -> Optional[Dict[str, Any]]:
    """What a code action needs to apply the finding's fix, in LSP units."""
    fix = finding.fix
    if fix is None or not fix.edits:
        return None
    return {
        "title": f"{fix.description} ({finding.code})",
        "safe": fix.safety == FixSafety.SAFE,
        "edits": [{"range": range_json(positions.range(e.span)), "newText": e.new_text} for e in fix.edits],
    }


def to_diagnostic(
    finding: Finding,
    positions: PositionMap,
    catalogue: Dict[str, RuleDoc],
    other_file: Callable[[str], Optional[PositionMap]] = lambda path: None,
) -> lsp.Diagnostic:
    """One LSP diagnostic. `other_file(path)` maps positions in another file
    (a related location in `models.py`); if None, columns stay in code points."""
    rng = positions.range(finding.span)
    if rng.start == rng.end and finding.code == "HPL000":
        # A zero-width range is invisible in most editors: cover one character.
        line_len = positions.codec.client_num_units(positions.lines[rng.start.line]) if rng.start.line < len(positions.lines) else 0
        if rng.start.character < line_len:
            rng = lsp.Range(rng.start, lsp.Position(rng.start.line, rng.start.character + 1))
    doc = catalogue.get(finding.code)
    related = []
    for rel in finding.related:
        same = os.path.abspath(rel.path) == os.path.abspath(finding.path)
        pmap = positions if same else other_file(rel.path)
        rel_range = pmap.range(rel.span) if pmap else lsp.Range(
            lsp.Position(rel.span.start_line - 1, rel.span.start_col - 1),
            lsp.Position(rel.span.end_line - 1, rel.span.end_col - 1))
        related.append(lsp.DiagnosticRelatedInformation(lsp.Location(path_uri(rel.path), rel_range), rel.message))
    data: Dict[str, Any] = {"code": finding.code}
    payload = fix_payload(finding, positions)
    if payload:
        data["fix"] = payload
    return lsp.Diagnostic(
        range=rng,
        message=finding.message,
        severity=_SEVERITY.get(finding.severity, lsp.DiagnosticSeverity.Warning),
        code=finding.code,
        code_description=lsp.CodeDescription(href=doc.url) if doc and doc.url else None,
        source=SOURCE,
        related_information=related or None,
        tags=[lsp.DiagnosticTag.Unnecessary] if finding.code == "HPL100" else None,
        data=data,
    )


def to_diagnostics(
    findings: Sequence[Finding],
    positions: PositionMap,
    catalogue: Dict[str, RuleDoc],
    other_file: Callable[[str], Optional[PositionMap]] = lambda path: None,
) -> List[lsp.Diagnostic]:
    return [to_diagnostic(f, positions, catalogue, other_file) for f in findings]
