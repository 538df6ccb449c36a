"""`--baseline FILE` / `--write-baseline FILE`: adopt hplint on an existing
code base without fixing everything first.

A baseline records how many findings carry each fingerprint. Fingerprints
come from `Finding.fingerprint()` (rule code, path, anchor text: the flagged
code and its enclosing definitions), so they survive lines moving and
unrelated edits. Paths are taken relative to the baseline file's directory
before fingerprinting, so the file works from any working directory. Counts
matter: with two identical findings recorded and three present, one is shown.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Dict, List, Tuple

from ..findings import FileResult, Finding

BASELINE_VERSION = 1


class BaselineError(Exception):
    pass


def _relative(path: str, base: Path) -> str:
    try:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(base))
    except ValueError:  # another drive
        rel = os.path.abspath(path)
    return rel.replace(os.sep, "/")


def baseline_fingerprint(finding: Finding, base: Path) -> str:
    return replace(finding, path=_relative(finding.path, base)).fingerprint()


def write_baseline(path: Path, results: List[FileResult]) -> int:
    """Record every finding of `results`; returns how many were recorded."""
    base = Path(path).parent
    entries: Dict[str, dict] = {}
    total = 0
    for r in results:
        for f in r.findings:
            fp = baseline_fingerprint(f, base)
            entry = entries.setdefault(fp, {"fingerprint": fp, "code": f.code,
                                            "path": _relative(f.path, base), "message": f.message, "count": 0})
            entry["count"] += 1
            total += 1
    doc = {
        "version": BASELINE_VERSION,
        "tool": "hplint",
        "findings": sorted(entries.values(), key=lambda e: (e["path"], e["code"], e["fingerprint"])),
    }
    Path(path).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return total


def read_baseline(path: Path) -> Counter:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise BaselineError(f"baseline {path} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("version") != BASELINE_VERSION or not isinstance(doc.get("findings"), list):
        raise BaselineError(f"baseline {path} is not an hplint baseline (version {BASELINE_VERSION})")
    counts: Counter = Counter()
    for entry in doc["findings"]:
        try:
            counts[str(entry["fingerprint"])] += int(entry.get("count", 1))
        except (KeyError, TypeError, ValueError):
            raise BaselineError(f"baseline {path} has a malformed entry: {entry!r}") from None
    return counts


def filter_baseline(results: List[FileResult], path: Path, counts: Counter) -> Tuple[List[FileResult], int]:
    """Results without the findings the baseline accounts for; also how many were hidden."""
    base = Path(path).parent
    budget = Counter(counts)
    hidden = 0
    out = []
    for r in results:
        kept = []
        for f in r.findings:
            fp = baseline_fingerprint(f, base)
            if budget[fp] > 0:
                budget[fp] -= 1
                hidden += 1
            else:
                kept.append(f)
        out.append(replace(r, findings=kept))
    return out, hidden
