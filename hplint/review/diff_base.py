"""`--diff-base REF`: keep only findings on lines added or changed since REF.

The changed lines come from `git diff --unified=0 REF -- PATHS` (REF against
the working tree, so uncommitted edits count) plus untracked files, which are
new in full. A finding counts when its own line or the line of one of its
related locations changed: a new BatchNorm after an old Dropout is news.
A parse error (HPL000) counts when its file changed at all.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set

from ..findings import FileResult, Finding

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


class DiffBaseError(Exception):
    """git is missing, this is not a repository, or REF is unknown."""


@dataclass
class ChangedLines:
    """Per file (absolute real path): the changed line numbers, or None for a
    file that is new in full."""

    files: Dict[str, Optional[Set[int]]] = field(default_factory=dict)

    def touches(self, path: str, line: int) -> bool:
        key = _key(path)
        if key not in self.files:
            return False
        lines = self.files[key]
        return lines is None or line in lines

    def file_changed(self, path: str) -> bool:
        return _key(path) in self.files


def _key(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-c", "core.quotePath=false", *args], cwd=cwd,
                              capture_output=True, text=True, encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise DiffBaseError("--diff-base needs git, which was not found on PATH") from None


def _unquote(path: str) -> str:
    if path.startswith('"') and path.endswith('"'):  # git C-quotes names with odd characters
        return path[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape").encode(
            "latin-1").decode("utf-8", "replace")
    return path


def parse_unified_zero(diff: str, top: Path) -> Dict[str, Set[int]]:
    """Added/changed new-side line numbers per file from `git diff -U0` output."""
    out: Dict[str, Set[int]] = {}
    current: Optional[Set[int]] = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            name = _unquote(line[4:].rstrip("\t"))
            if name == "/dev/null":
                current = None  # deleted file: nothing to report on
                continue
            name = name[2:] if name.startswith("b/") else name
            current = out.setdefault(_key(str(top / name)), set())
        elif line.startswith("@@") and current is not None:
            m = _HUNK.match(line)
            if m:
                start, count = int(m.group(1)), int(m.group(2) if m.group(2) is not None else 1)
                current.update(range(start, start + count))
    return out


def changed_lines(ref: str, paths: Iterable[Path], cwd: Optional[Path] = None) -> ChangedLines:
    cwd = Path(cwd or Path.cwd())
    top_proc = _git(["rev-parse", "--show-toplevel"], cwd)
    if top_proc.returncode != 0:
        raise DiffBaseError(f"--diff-base needs a git repository, but {cwd} is not in one")
    top = Path(top_proc.stdout.strip())
    verify = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], cwd)
    if verify.returncode != 0:
        raise DiffBaseError(
            f"unknown revision {ref}: fetch it first (e.g. actions/checkout fetch-depth: 0, "
            f"or `git fetch origin {ref}`)")
    specs = [os.path.abspath(p) for p in paths] or [str(top)]
    diff = _git(["diff", "--unified=0", "--no-color", "--no-ext-diff", verify.stdout.strip(), "--", *specs], cwd)
    if diff.returncode != 0:
        raise DiffBaseError(f"git diff against {ref} failed: {diff.stderr.strip()}")
    files: Dict[str, Optional[Set[int]]] = dict(parse_unified_zero(diff.stdout, top))
    untracked = _git(["ls-files", "--others", "--exclude-standard", "--full-name", "--", *specs], cwd)
    if untracked.returncode == 0:
        for name in untracked.stdout.splitlines():
            if name:
                files[_key(str(top / _unquote(name)))] = None
    return ChangedLines(files)


def finding_is_new(finding: Finding, changed: ChangedLines) -> bool:
    if finding.code == "HPL000":
        return changed.file_changed(finding.path)
    span = finding.file_span  # notebooks: the .ipynb line git diffs
    if any(changed.touches(finding.path, line) for line in range(span.start_line, span.end_line + 1)):
        return True
    return any(
        changed.touches(r.path, line)
        for r in finding.related
        for line in range(r.file_span.start_line, r.file_span.end_line + 1)
    )


def filter_results(results: List[FileResult], changed: ChangedLines) -> List[FileResult]:
    return [replace(r, findings=[f for f in r.findings if finding_is_new(f, changed)]) for r in results]
