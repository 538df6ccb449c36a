"""GitHub Actions workflow commands: each finding becomes an annotation on the
pull request's diff, with no upload step. Escaping follows the runner's rules
(data: `%`, CR, LF; properties additionally `:` and `,`)."""

from __future__ import annotations

from typing import List

from ..findings import FileResult, Finding, Severity
from . import sorted_findings

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_command(f: Finding) -> str:
    props = [
        ("file", f.path.replace("\\", "/")),
        ("line", str(f.file_span.start_line)),
        ("col", str(f.file_span.start_col)),
        ("endLine", str(f.file_span.end_line)),
        ("endColumn", str(f.file_span.end_col)),
        ("title", f"{f.code} {f.name}"),
    ]
    message = f.message if f.cell is None else f"cell {f.cell}, line {f.span.start_line}: {f.message}"
    for r in f.related:
        where = r.path if r.cell is None else f"{r.path}:cell {r.cell}"
        message += f"\n{where}:{r.span.start_line}:{r.span.start_col}: note: {r.message}"
    rendered = ",".join(f"{k}={escape_property(v)}" for k, v in props)
    return f"::{COMMANDS[f.severity]} {rendered}::{escape_data(message)}"


def render_github(results: List[FileResult]) -> str:
    lines = [format_command(f) for f in sorted_findings(results)]
    return "".join(line + "\n" for line in lines)
