"""FileResult <-> plain JSON values, exactly: every field a report, a fix or a
baseline reads (findings with their fixes, related locations, notebook cells
and raw spans, anchors, severities) comes back equal. The file's text
(`source`) is not kept: results come back without it, as they do from the
process pool, and the steps that need a text read the file.

`decode_result` raises `ValueError` on anything it did not write, so a damaged
cache entry is a miss and never a wrong result.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..findings import FileResult, Finding, Fix, FixSafety, RelatedLocation, Severity, Span, TextEdit


def _span(span: Optional[Span]) -> Optional[List[int]]:
    return None if span is None else [span.start_line, span.start_col, span.end_line, span.end_col]


def _unspan(value: Any) -> Span:
    if not isinstance(value, list) or len(value) != 4 or not all(type(v) is int for v in value):
        raise ValueError(f"not a span: {value!r}")
    return Span(*value)


def _maybe_span(value: Any) -> Optional[Span]:
    return None if value is None else _unspan(value)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"not a string: {value!r}")
    return value


def _opt_int(value: Any) -> Optional[int]:
    if value is not None and type(value) is not int:
        raise ValueError(f"not an integer: {value!r}")
    return value


def _opt_str(value: Any) -> Optional[str]:
    return None if value is None else _str(value)


def encode_finding(f: Finding) -> Dict[str, Any]:
    out: Dict[str, Any] = {
        "code": f.code, "name": f.name, "severity": int(f.severity), "message": f.message,
        "path": f.path, "span": _span(f.span), "anchor": f.anchor,
    }
    if f.fix is not None:
        out["fix"] = {"description": f.fix.description, "safety": f.fix.safety.value,
                      "edits": [[_span(e.span), e.new_text, e.cell] for e in f.fix.edits]}
    if f.related:
        out["related"] = [[r.path, _span(r.span), r.message, r.cell, _span(r.raw_span)] for r in f.related]
    for key in ("probe_note", "cell"):
        if getattr(f, key) is not None:
            out[key] = getattr(f, key)
    if f.raw_span is not None:
        out["raw_span"] = _span(f.raw_span)
    return out


def decode_finding(data: Dict[str, Any]) -> Finding:
    fix = None
    if "fix" in data:
        spec = data["fix"]
        fix = Fix(_str(spec["description"]),
                  tuple(TextEdit(_unspan(span), _str(text), _opt_int(cell)) for span, text, cell in spec["edits"]),
                  FixSafety(spec["safety"]))
    related = tuple(RelatedLocation(_str(path), _unspan(span), _str(message), _opt_int(cell), _maybe_span(raw))
                    for path, span, message, cell, raw in data.get("related", ()))
    severity = data["severity"]
    if type(severity) is not int:
        raise ValueError(f"not a severity: {severity!r}")
    return Finding(
        code=_str(data["code"]), name=_str(data["name"]), severity=Severity(severity),
        message=_str(data["message"]), path=_str(data["path"]), span=_unspan(data["span"]), fix=fix,
        related=related, anchor=_str(data["anchor"]), probe_note=_opt_str(data.get("probe_note")),
        cell=_opt_int(data.get("cell")), raw_span=_maybe_span(data.get("raw_span")),
    )


def encode_result(result: FileResult) -> Dict[str, Any]:
    return {"path": result.path, "findings": [encode_finding(f) for f in result.findings],
            "errors": list(result.errors), "skipped": result.skipped}


def decode_result(data: Any) -> FileResult:
    """The result `encode_result` wrote; ValueError for anything else."""
    try:
        skipped = data["skipped"]
        if not isinstance(skipped, bool):
            raise ValueError(f"not a boolean: {skipped!r}")
        return FileResult(_str(data["path"]), [decode_finding(f) for f in data["findings"]], None,
                          [_str(e) for e in data["errors"]], skipped)
    except (KeyError, TypeError, AttributeError) as exc:  # a foreign or damaged shape
        raise ValueError(f"not a cached result: {type(exc).__name__}: {exc}") from None
