"""The machine format: a versioned JSON document that scripts and editors can
rely on. Fields are only ever added within a version; renaming or removing one
bumps `version`. Kept in step with docs/json-output.md.

Schema (version 1)::

    {
      "version": 1,
      "tool": {"name": "hplint", "version": "0.1.0"},
      "findings": [
        {
          "code": "HPL001",                      # rule code
          "name": "dropout-before-batchnorm",    # rule name
          "severity": "error" | "warning" | "info",
          "message": "...",
          "path": "src/model.py",                # as hplint was given it
          "cell": 3,                             # notebooks only: 1-based cell; start/end are in it
          "start": {"line": 12, "column": 9},    # 1-based; columns count code points
          "end": {"line": 12, "column": 24},     # exclusive
          "fix": null | {
            "description": "...",
            "safety": "safe" | "unsafe",
            "edits": [{"start": {...}, "end": {...}, "content": "..."}]
          },
          "related": [{"path": "...", "start": {...}, "end": {...}, "message": "..."}],
          "url": "https://.../rules/HPL001.md" | null,  # null: rule not in the catalogue
          "fingerprint": "32 hex digits",       # stable across runs and line moves
          "probe": null | "what the runtime probe observed"
        }
      ],
      "summary": {
        "error": 0, "warning": 0, "info": 0,  # findings per severity
        "fixable": 0,                         # findings with a fix, safe or unsafe
        "files": 0                            # files checked (with or without findings)
      }
    }

Findings are sorted by path, line, column, code. The output is UTF-8 JSON
with non-ASCII characters left unescaped.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from ..catalogue import RuleDoc
from ..findings import FileResult, Finding, Severity, Span
from . import dump_json, fix_counts, severity_counts, sorted_findings

SCHEMA_VERSION = 1


def _pos(line: int, col: int) -> Dict[str, int]:
    return {"line": line, "column": col}


def _range(span: Span) -> Dict[str, Any]:
    return {"start": _pos(span.start_line, span.start_col), "end": _pos(span.end_line, span.end_col)}


def _cell(cell: Optional[int]) -> Dict[str, int]:
    """Notebooks only: `"cell": N`, and start/end are relative to that cell."""
    return {} if cell is None else {"cell": cell}


def finding_to_json(f: Finding, catalogue: Mapping[str, RuleDoc]) -> Dict[str, Any]:
    doc = catalogue.get(f.code)
    fix: Optional[Dict[str, Any]] = None
    if f.fix is not None:
        fix = {
            "description": f.fix.description,
            "safety": f.fix.safety.value,
            "edits": [dict(_range(e.span), content=e.new_text, **_cell(e.cell)) for e in f.fix.edits],
        }
    return {
        "code": f.code,
        "name": f.name,
        "severity": str(f.severity),
        "message": f.message,
        "path": f.path,
        **_cell(f.cell),
        **_range(f.span),
        "fix": fix,
        "related": [
            {"path": r.path, **_cell(r.cell), **_range(r.span), "message": r.message} for r in f.related
        ],
        "url": doc.url if doc is not None else None,
        "fingerprint": f.fingerprint(),
        "probe": f.probe_note,
    }


def report_to_json(
    results: List[FileResult], *, catalogue: Mapping[str, RuleDoc], tool_version: str
) -> Dict[str, Any]:
    findings = sorted_findings(results)
    counts = severity_counts(findings)
    safe, unsafe = fix_counts(findings)
    return {
        "version": SCHEMA_VERSION,
        "tool": {"name": "hplint", "version": tool_version},
        "findings": [finding_to_json(f, catalogue) for f in findings],
        "summary": {
            "error": counts[Severity.ERROR],
            "warning": counts[Severity.WARNING],
            "info": counts[Severity.INFO],
            "fixable": safe + unsafe,
            "files": len(results),
        },
    }


def render_json(
    results: List[FileResult], *, catalogue: Mapping[str, RuleDoc], tool_version: str = "0.1.0"
) -> str:
    doc = report_to_json(results, catalogue=catalogue, tool_version=tool_version)
    return dump_json(doc)
