"""How hplint shows a path: kept apart from the engine so that code which only
names files (the result cache, the command line) need not import it."""

from __future__ import annotations

import os
from pathlib import Path


def display_path(path: Path) -> str:
    """Paths as users typed them: relative to the working directory when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel
