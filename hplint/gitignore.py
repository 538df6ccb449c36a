"""What `.gitignore`, `.ignore` and `.git/info/exclude` ignore, for the
directories discovery walks (git's semantics, through the `pathspec` library).

Inside a git repository (a directory holding `.git`) the ignore files from
the repository's top down to a path's directory apply, and the repository's
`.git/info/exclude`; outside one, those from the walked directory down. A
deeper file's patterns win over a shallower one's, and within a file the last
matching pattern wins, so `!keep.py` re-includes what `*.py` above ignored.
In one directory `.ignore` wins over `.gitignore` (as in ripgrep and ruff).
A directory git ignores is not entered, so nothing below it can be
re-included (git's rule too).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

if TYPE_CHECKING:
    import pathspec  # imported when a directory is walked: `hplint check one.py` never needs it

log = logging.getLogger("hplint")

IGNORE_FILES = (".gitignore", ".ignore")  # later wins


def _read_lines(path: Path) -> List[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _compile(lines: List[str], where: str) -> Optional[pathspec.GitIgnoreSpec]:
    if not any(line.strip() and not line.lstrip().startswith("#") for line in lines):
        return None
    import pathspec

    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except ValueError:  # a malformed pattern: keep the others (git skips it too)
        good = []
        for line in lines:
            try:
                pathspec.GitIgnoreSpec.from_lines([line])
                good.append(line)
            except ValueError:
                log.debug("%s: ignoring the malformed pattern %r", where, line)
        return pathspec.GitIgnoreSpec.from_lines(good) if good else None


class IgnoreFiles:
    """Answers `ignored(path)` for one run; each ignore file is read once."""

    def __init__(self) -> None:
        self._specs: Dict[Path, Optional[pathspec.GitIgnoreSpec]] = {}
        self._tops: Dict[Path, Optional[Path]] = {}
        self._chains: Dict[Tuple[str, str], List[Tuple[str, pathspec.GitIgnoreSpec]]] = {}

    def repository_top(self, directory: Path) -> Optional[Path]:
        """The nearest directory at or above `directory` that holds `.git`."""
        if directory not in self._tops:
            found = None
            for candidate in (directory, *directory.parents):
                if os.path.lexists(candidate / ".git"):
                    found = candidate
                    break
            self._tops[directory] = found
        return self._tops[directory]

    def _spec(self, directory: Path, top: bool) -> Optional[pathspec.GitIgnoreSpec]:
        key = directory
        if key not in self._specs:
            lines: List[str] = []
            if top and (directory / ".git").is_dir():
                lines += _read_lines(directory / ".git" / "info" / "exclude")
            for name in IGNORE_FILES:
                lines += _read_lines(directory / name)
            self._specs[key] = _compile(lines, str(directory))
        return self._specs[key]

    def ignored(self, path: Path, walk_root: Path, is_dir: Optional[bool] = None) -> bool:
        """Whether git would ignore `path` (a file or directory found walking
        `walk_root`; `is_dir` when the walker already knows which)."""
        full = os.path.abspath(path)
        directory = os.path.dirname(full)
        specs = self._chain(directory, os.path.abspath(walk_root))
        if not specs:
            return False
        if is_dir is None:
            is_dir = os.path.isdir(full)
        for base, spec in specs:  # deepest first: the first file with a matching pattern decides
            rel = full[len(base):].lstrip(os.sep).replace(os.sep, "/") + ("/" if is_dir else "")
            verdict = spec.check_file(rel).include
            if verdict is not None:
                return bool(verdict)
        return False

    def _chain(self, directory: str, walk_root: str) -> List[Tuple[str, pathspec.GitIgnoreSpec]]:
        """The ignore specs that apply in `directory`, deepest first (cached)."""
        key = (directory, walk_root)
        cached = self._chains.get(key)
        if cached is None:
            here = Path(directory)
            top = self.repository_top(here) or Path(walk_root)
            chain = [here, *(p for p in here.parents if p == top or top in p.parents)]
            cached = []
            if top in chain:
                for d in chain:
                    spec = self._spec(d, top=d == top)
                    if spec is not None:
                        cached.append((str(d), spec))
            self._chains[key] = cached
        return cached
