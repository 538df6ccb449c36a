"""`--statistics`: how many findings each rule produced, instead of the list.
Text is a table (count, code, name, whether a fix applies); with
`--output-format json` it is a JSON array of the same fields."""

from __future__ import annotations

import json
from typing import Dict, List

from ..findings import FileResult, FixSafety
from . import sorted_findings


def statistics(results: List[FileResult], unsafe: bool = False) -> List[Dict]:
    """Rows sorted by count (descending), then code. `fixable`: at least one of
    the rule's findings has a fix that `--fix` would apply (counting unsafe
    fixes when `unsafe`)."""
    rows: Dict[str, Dict] = {}
    for f in sorted_findings(results):
        row = rows.setdefault(f.code, {"code": f.code, "name": f.name, "count": 0, "fixable": False})
        row["count"] += 1
        if f.fix is not None and f.fix.edits and (unsafe or f.fix.safety == FixSafety.SAFE):
            row["fixable"] = True
    return sorted(rows.values(), key=lambda r: (-r["count"], r["code"]))


def render_statistics(results: List[FileResult], fmt: str = "text", unsafe: bool = False) -> str:
    rows = statistics(results, unsafe)
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    if not rows:
        return "All checks passed.\n"
    width = max(len(str(r["count"])) for r in rows)
    name_width = max(len(r["name"]) for r in rows)
    lines = [
        f"{r['count']:>{width}}  {r['code']}  {r['name']:<{name_width}}  {'[*]' if r['fixable'] else '   '}".rstrip()
        for r in rows
    ]
    return "\n".join(lines) + "\n"
