"""`hplint check --fix` / `--diff`: run the fix loop over the files that have
applicable fixes and either write them back or print a unified diff."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from ..findings import FileResult
from .apply import fix_applies
from .files import encode_source, read_source, write_source
from .runner import fix_text

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


@dataclass
class FixRun:
    results: List[FileResult]  # what is left to report, file by file
    fixed: int = 0  # findings whose fixes were applied
    files_changed: int = 0
    diffs: List[str] = field(default_factory=list)


def unified_diff(before: str, after: str, shown: str) -> str:
    a = _LINE.findall(before)
    b = _LINE.findall(after)
    lines = difflib.unified_diff(a, b, f"a/{shown}", f"b/{shown}")
    out = []
    for line in lines:
        out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def run_fixes(linter, results: List[FileResult], paths: Dict[str, Path], *, unsafe: bool,
              write: bool) -> FixRun:
    """Fix every file in `results` (keyed to real paths by `paths`: shown path
    -> Path) that has an applicable fix; write it back when `write`."""
    run = FixRun([])
    for result in results:
        path: Optional[Path] = paths.get(result.path)
        if path is None or not any(fix_applies(f.fix, unsafe) for f in result.findings):
            run.results.append(result)
            continue
        if _fix_data_file(linter, run, result, path, unsafe=unsafe, write=write):
            continue
        source = read_source(path)
        if not hasattr(source, "text"):
            run.results.append(result)
            continue
        first = result if result.source == source.text else None
        outcome = fix_text(linter, source.text, path, result.path, unsafe=unsafe, first=first)
        if outcome.changed:
            try:
                data = encode_source(source, outcome.text)
            except UnicodeEncodeError as exc:
                result.errors.append(f"internal error: fixed {result.path} cannot be written as "
                                     f"{source.encoding} ({exc.reason}); file left unchanged")
                run.results.append(result)
                continue
            if write:
                problem = write_source(source, data)
                if problem is not None:
                    # Reported, and the file's findings stand as they were; the run goes on.
                    result.errors.append(f"cannot fix {result.path}: {problem}; file left unchanged")
                    run.results.append(result)
                    continue
            else:
                run.diffs.append(unified_diff(outcome.original, outcome.text, result.path))
            run.fixed += len(outcome.fixed)
            run.files_changed += 1
        run.results.append(outcome.result)
    return run


def _fix_data_file(linter, run: FixRun, result: FileResult, path: Path, *, unsafe: bool, write: bool) -> bool:
    """Notebooks and sweep files have their own fixers (hplint/notebook.py,
    hplint/sweeps.py); False for every other file."""
    from ..notebook import cell_diff, fix_notebook_text, is_notebook
    from ..sweeps import fix_sweep_text, is_sweep_candidate

    if not (is_notebook(path) or is_sweep_candidate(path)):
        return False
    source = read_source(path)
    if not hasattr(source, "text"):
        run.results.append(result)
        return True
    if is_notebook(path):
        outcome = fix_notebook_text(linter, source.text, path, result.path, unsafe=unsafe)
        diff = cell_diff(outcome, result.path) if outcome.changed else ""
    else:
        outcome = fix_sweep_text(linter, source.text, path, result.path, unsafe=unsafe)
        diff = unified_diff(outcome.original, outcome.text, result.path) if outcome.changed else ""
    if outcome.changed:
        if write:
            path.write_bytes(encode_source(source, outcome.text))
        else:
            run.diffs.append(diff)
        run.fixed += len(outcome.fixed)
        run.files_changed += 1
    run.results.append(outcome.result)
    return True
