"""reviewdog's Diagnostic Format (rdjson), for `reviewdog -f=rdjson`: review
comments on pull requests, with fixes as suggested changes.

Schema: reviewdog/reviewdog proto/rdf/jsonschema/DiagnosticResult.json
(vendored for the tests in tests/data/). Lines are 1-based; **columns are
1-based UTF-8 byte offsets** there (hplint's are code points), so each column
is converted with the line's text. Ranges are end-exclusive, as in hplint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

from ..catalogue import RuleDoc, project_url
from ..findings import FileResult, Finding, Severity, Span
from . import dump_json, sorted_findings


def _source() -> Dict[str, str]:
    homepage = project_url("Homepage")
    return {"name": "hplint", "url": homepage} if homepage else {"name": "hplint"}
SEVERITIES = {Severity.ERROR: "ERROR", Severity.WARNING: "WARNING", Severity.INFO: "INFO"}


class _Lines:
    """Source lines per path, read once and only when a line is not ASCII-safe."""

    def __init__(self, results: List[FileResult]) -> None:
        self._texts: Dict[str, Optional[List[str]]] = {
            r.path: _split(r.source) for r in results if r.source is not None}

    def line(self, path: str, number: int) -> Optional[str]:
        if path not in self._texts:
            self._texts[path] = _read(path)
        lines = self._texts[path]
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]

    def byte_col(self, path: str, line: int, col: int) -> int:
        text = self.line(path, line)
        if text is None:
            return col
        return len(text[: col - 1].encode("utf-8")) + 1 + max(0, col - 1 - len(text))


def _split(text: Optional[str]) -> Optional[List[str]]:
    if text is None:
        return None
    from ..fix.apply import line_starts

    starts = line_starts(text) + [len(text)]
    return [text[starts[i]:starts[i + 1]].rstrip("\r\n") for i in range(len(starts) - 1)]


def _read(path: str) -> Optional[List[str]]:
    from ..source_text import decode_file

    try:
        text = decode_file(path, Path(path).read_bytes())
    except OSError:
        return None
    return _split(text) if isinstance(text, str) else None


def _range(lines: _Lines, path: str, span: Span) -> Dict[str, Any]:
    return {
        "start": {"line": span.start_line, "column": lines.byte_col(path, span.start_line, span.start_col)},
        "end": {"line": span.end_line, "column": lines.byte_col(path, span.end_line, span.end_col)},
    }


def _diagnostic(f: Finding, lines: _Lines, catalogue: Mapping[str, RuleDoc]) -> Dict[str, Any]:
    path = f.path.replace("\\", "/")
    doc = catalogue.get(f.code)
    code: Dict[str, str] = {"value": f.code}
    if doc is not None and doc.url:
        code["url"] = doc.url
    out: Dict[str, Any] = {
        "message": f"[{f.name}] {f.message}" + ("" if f.cell is None else f" (cell {f.cell}, line {f.span.start_line})"),
        "location": {"path": path, "range": _range(lines, f.path, f.file_span)},
        "severity": SEVERITIES[f.severity],
        "code": code,
    }
    if f.fix is not None and f.fix.edits and f.cell is None:  # notebook edits are cell text
        out["suggestions"] = [
            {"range": _range(lines, f.path, e.span), "text": e.new_text} for e in f.fix.edits
        ]
    if f.related:
        out["related_locations"] = [
            {"message": r.message,
             "location": {"path": r.path.replace("\\", "/"), "range": _range(lines, r.path, r.file_span)}}
            for r in f.related
        ]
    return out


def report_to_rdjson(results: List[FileResult], *, catalogue: Mapping[str, RuleDoc]) -> Dict[str, Any]:
    lines = _Lines(results)
    return {
        "source": _source(),
        "diagnostics": [_diagnostic(f, lines, catalogue) for f in sorted_findings(results)],
    }


def render_rdjson(results: List[FileResult], *, catalogue: Mapping[str, RuleDoc]) -> str:
    return dump_json(report_to_rdjson(results, catalogue=catalogue))
