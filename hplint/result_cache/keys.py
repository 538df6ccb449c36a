"""What a cached result is keyed on, and checking that key against the disk.

An entry is found by the digest of (hplint build, the file's settings, the
file's absolute path, the path it is shown as, the working directory) and is
valid only while the disk still says what it said when the file was linted:

- the file's own bytes (sha256: content, not mtime, decides);
- the bytes of every project file its analysis read, transitively (editing
  `model.py` re-lints the `train.py` that imports from it);
- every look-up its analysis made: import candidates that were absent (a
  module that appears later re-lints its importers), `__init__.py` files
  and project markers that shaped module names and search roots, and the
  module files of a package imported by a run-time name (`import_module`).

The hplint build is its version plus the size and mtime of each of its own
source files and rule documents, so an edited rule or catalogue entry never
serves results of the old one. `DiskState` memoises hashes and look-ups for
one run: a file shared by many importers is read once.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from .. import __version__
from ..analysis.lookups import EXISTS, FILE, LISTING, module_files
from .store import FORMAT

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_PACKAGE = Path(__file__).resolve().parent.parent
_build: Optional[str] = None


def build_id() -> str:
    """hplint's version and the state of its own code and rule documents."""
    global _build
    if _build is None:
        from ..catalogue import catalogue_dir

        digest = hashlib.sha256(f"{__version__}\0{FORMAT}".encode())
        for top in (_PACKAGE, catalogue_dir()):
            for folder, dirs, names in os.walk(top):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                for name in sorted(names):
                    if name.endswith((".py", ".md")):
                        st = os.stat(os.path.join(folder, name))
                        digest.update(f"{folder}/{name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode(
                            "utf-8", "surrogateescape"))
        _build = digest.hexdigest()
    return _build


def entry_name(settings: str, path: Path, shown: str) -> str:
    """The entry's file name: every part of the key that is not the disk."""
    key = "\0".join((build_id(), settings, os.path.abspath(path), shown, os.getcwd()))
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def file_digest(path: str) -> Optional[str]:
    """sha256 of a regular file's bytes; None for anything else (gone,
    unreadable, a directory, a FIFO that would block the read)."""
    try:
        fd = os.open(path, os.O_RDONLY | _NONBLOCK)  # opening a FIFO must not wait for a writer
    except OSError:
        return None
    try:
        with open(fd, "rb", closefd=True) as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None


class DiskState:
    """Hashes and look-ups of one run, each made at most once."""

    def __init__(self) -> None:
        self._hashes: Dict[str, Optional[str]] = {}
        self._probes: Dict[Tuple[str, str], object] = {}

    def hash_of(self, path: str) -> Optional[str]:
        """sha256 of the file's bytes; None when it cannot be read."""
        if path not in self._hashes:
            self._hashes[path] = file_digest(path)
        return self._hashes[path]

    def probe(self, kind: str, path: str) -> object:
        key = (kind, path)
        if key not in self._probes:
            if kind == FILE:
                self._probes[key] = os.path.isfile(path)
            elif kind == EXISTS:
                self._probes[key] = os.path.exists(path)
            elif kind == LISTING:
                self._probes[key] = module_files(path)
            else:
                raise ValueError(f"unknown look-up kind {kind!r}")
        return self._probes[key]

    def still_valid(self, files: Iterable[Sequence], probes: Iterable[Sequence]) -> bool:
        """Whether every recorded file hash and look-up still holds."""
        for path, sha in files:
            if self.hash_of(path) != sha:
                return False
        for kind, path, outcome in probes:
            if self.probe(kind, path) != outcome:
                return False
        return True

    def record(self, files: List[str], probes: List[Tuple[str, str, object]]) -> Tuple[list, list]:
        """The JSON form of a result's dependencies, with hashes as this run saw them."""
        return [[p, self.hash_of(p)] for p in files], [[k, p, o] for k, p, o in probes]
