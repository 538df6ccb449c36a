"""How hplint shows a path: kept apart from the engine so that code which only
names files (the result cache, the command line) need not import it."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path


def display_path(path: Path) -> str:
    """Paths as users typed them: relative to the working directory when inside it."""
    return _display(os.fspath(path), os.getcwd())


@lru_cache(maxsize=65536)
def _display(path: str, cwd: str) -> str:
    try:
        rel = os.path.relpath(path, cwd)
    except ValueError:  # another drive on Windows
        return path
    return path if rel.startswith("..") else rel
