"""Which files a run lints.

Directories are walked without following symlinks (no loops); explicitly named
files are always taken, including symlinks to files. `exclude` globs from the
config apply to both, so pre-commit (which passes file names) honours them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, List, Tuple

SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", "build", "dist", "node_modules", "__pycache__",
    ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".eggs", ".hplint",
    ".ipynb_checkpoints",
})
# Notebooks are linted like Python files; YAML/JSON files only when they hold a
# search space (W&B sweep, Hydra sweeper, NNI): the others come back `skipped`.
SUFFIXES = (".py", ".ipynb", ".yaml", ".yml", ".json")


def _big_data_file(path: Path) -> bool:
    """A YAML/JSON file too big to be a sweep file (a dataset, a lock file)."""
    from .sweep_files import MAX_DISCOVERED_BYTES, is_sweep_candidate

    if not is_sweep_candidate(path):
        return False
    try:
        return path.stat().st_size > MAX_DISCOVERED_BYTES
    except OSError:
        return False


def discover(paths: Iterable[Path], config) -> Tuple[List[Path], List[str]]:
    """(files to lint, paths that do not exist)."""
    files: List[Path] = []
    missing: List[str] = []
    seen = set()

    def add(path: Path) -> None:
        key = os.path.abspath(path)
        if key not in seen:
            seen.add(key)
            files.append(path)

    for root in paths:
        root = Path(root)
        if not os.path.lexists(root):
            missing.append(str(root))
            continue
        if not root.is_dir():
            if not config.is_excluded(root):
                add(root)
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            base = Path(dirpath)
            dirnames[:] = sorted(
                d for d in dirnames
                if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
                and not config.is_excluded(base / d)
            )
            for name in sorted(filenames):
                path = base / name
                if name.endswith(".py") or name.lower().endswith(SUFFIXES[1:]) or config.is_extra_included(path):
                    # Regular files only: a FIFO named x.py would block the read.
                    if path.is_file() and not config.is_excluded(path) and not _big_data_file(path):
                        add(path)
    return files, missing
