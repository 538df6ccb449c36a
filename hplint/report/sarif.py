"""SARIF 2.1.0, the format code-scanning services ingest (GitHub code scanning,
Azure DevOps, IDE SARIF viewers).

One run; `tool.driver.rules` describes every catalogue rule so viewers can
show help without fetching anything. Paths are made relative to the project
root and anchored at `%SRCROOT%`, so the log is portable between checkouts.
Columns are Unicode code points (`columnKind`), as everywhere in hplint.
`partialFingerprints["hplint/v1"]` is `Finding.fingerprint()`, which ignores
line numbers, so alerts survive edits above them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Mapping
from urllib.parse import quote

from ..catalogue import RuleDoc, project_url
from ..findings import FileResult, Finding, Severity, Span
from . import dump_json, relative_posix, sorted_findings

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "hplint/v1"

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def camel_case(name: str) -> str:
    """`dropout-before-batchnorm` -> `DropoutBeforeBatchnorm` (SARIF rule names)."""
    return "".join(part[:1].upper() + part[1:] for part in name.replace("_", "-").split("-") if part)


def _region(span: Span) -> Dict[str, int]:
    return {
        "startLine": span.start_line,
        "startColumn": span.start_col,
        "endLine": span.end_line,
        "endColumn": span.end_col,
    }


def _artifact(path: str, root: Path) -> Dict[str, str]:
    rel = relative_posix(path, root)
    if rel is not None:
        # Percent-encoded bytes: also right for a name that is not valid UTF-8.
        return {"uri": quote(os.fsencode(rel), safe="/"), "uriBaseId": SRCROOT}
    return {"uri": Path(os.path.abspath(path)).as_uri()}


def _physical(path: str, span: Span, root: Path) -> Dict[str, Any]:
    return {"artifactLocation": _artifact(path, root), "region": _region(span)}


def _rule_descriptor(doc: RuleDoc) -> Dict[str, Any]:
    summary = doc.summary or doc.name
    what = doc.sections.get("what it does", "").strip()
    why = doc.sections.get("why is this bad", "").strip()
    full = "\n\n".join(p for p in (what, why) if p) or summary
    tags = ["pytorch"]
    if doc.fix in ("safe", "unsafe"):
        tags.append("autofix")
    rule: Dict[str, Any] = {
        "id": doc.code,
        "name": camel_case(doc.name),
        "shortDescription": {"text": summary},
        "fullDescription": {"text": full},
        "help": {"text": f"{full}\n\n{doc.url}" if doc.url else full, "markdown": doc.body.strip() or summary},
        "defaultConfiguration": {"level": LEVELS[doc.severity]},
        "properties": {"tags": tags, "fix": doc.fix},
    }
    if doc.url:  # only a link that exists (see catalogue.project_url)
        rule["helpUri"] = doc.url
    return rule


def _fallback_descriptor(f: Finding) -> Dict[str, Any]:
    """For a code the catalogue lacks, so that every ruleIndex is valid."""
    return {
        "id": f.code,
        "name": camel_case(f.name),
        "shortDescription": {"text": f.name},
        "defaultConfiguration": {"level": LEVELS[f.severity]},
    }


def _in_cell(message: str, cell, span: Span) -> str:
    """Notebook positions point at the .ipynb JSON line; the message says the cell."""
    return message if cell is None else f"{message} (cell {cell}, line {span.start_line})"


def _result(f: Finding, index: int, root: Path) -> Dict[str, Any]:
    out: Dict[str, Any] = {
        "ruleId": f.code,
        "ruleIndex": index,
        "level": LEVELS[f.severity],
        "message": {"text": _in_cell(f.message, f.cell, f.span)},
        "locations": [{"physicalLocation": _physical(f.path, f.file_span, root)}],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint()},
    }
    if f.related:
        out["relatedLocations"] = [
            {
                "id": i,
                "physicalLocation": _physical(r.path, r.file_span, root),
                "message": {"text": _in_cell(r.message, r.cell, r.span)},
            }
            for i, r in enumerate(f.related, start=1)
        ]
    if f.fix is not None and f.cell is None:  # notebook edits are cell text, not file text
        out["fixes"] = [
            {
                "description": {"text": f.fix.description},
                "artifactChanges": [
                    {
                        "artifactLocation": _artifact(f.path, root),
                        "replacements": [
                            {
                                "deletedRegion": _region(e.span),
                                "insertedContent": {"text": e.new_text},
                            }
                            for e in f.fix.edits
                        ],
                    }
                ],
            }
        ]
        out["properties"] = {"fixSafety": f.fix.safety.value}
    if f.probe_note:  # set only for findings a saved probe run confirmed on this file text
        summary = f.probe_note.split(":", 1)[-1].strip()
        out.setdefault("properties", {}).update(probe=f.probe_note, probeVerdict="confirmed", probeSummary=summary)
        out["message"]["text"] += f" (confirmed by a probe run: {summary})"
    return out


def _root_uri(root: Path) -> str:
    uri = Path(os.path.abspath(root)).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def report_to_sarif(
    results: List[FileResult],
    *,
    catalogue: Mapping[str, RuleDoc],
    root: Path,
    tool_version: str = "0.1.0",
) -> Dict[str, Any]:
    findings = sorted_findings(results)
    rules = [_rule_descriptor(catalogue[code]) for code in sorted(catalogue)]
    index = {r["id"]: i for i, r in enumerate(rules)}
    for f in findings:
        if f.code not in index:
            index[f.code] = len(rules)
            rules.append(_fallback_descriptor(f))
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "hplint",
                        "version": tool_version,
                        "semanticVersion": tool_version,
                        **({"informationUri": homepage} if (homepage := project_url("Homepage")) else {}),
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": _root_uri(root)}},
                "columnKind": "unicodeCodePoints",
                "results": [_result(f, index[f.code], root) for f in findings],
            }
        ],
    }


def render_sarif(
    results: List[FileResult],
    *,
    catalogue: Mapping[str, RuleDoc],
    root: Path,
    tool_version: str = "0.1.0",
) -> str:
    doc = report_to_sarif(results, catalogue=catalogue, root=root, tool_version=tool_version)
    return dump_json(doc)
