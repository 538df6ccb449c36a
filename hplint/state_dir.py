"""The folders hplint keeps its own state in (`.hplint/probe`, `.hplint/cache`).

Every writer creates them through `state_folder`, so the folder that holds
them always carries a `.gitignore` of `*`: nothing hplint writes is ever
committed by accident, and no user has to list it in their own ignores.
"""

from __future__ import annotations

import os
from pathlib import Path

STATE_DIR = ".hplint"
_GITIGNORE = "# Created by hplint: its caches and probe reports are not for version control.\n*\n"


def private_folder(folder: Path) -> Path:
    """Create `folder` (and its parents) with a `.gitignore` of `*` in it,
    unless one is there already. Raises OSError when it cannot be written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        tmp = folder / f".gitignore.{os.getpid()}.tmp"
        tmp.write_text(_GITIGNORE, encoding="utf-8")
        os.replace(tmp, ignore)  # concurrent runs: each writes whole, the last one wins
    return folder


def state_folder(root: Path, *parts: str) -> Path:
    """`<root>/.hplint/<parts...>`, created, with `.hplint/.gitignore`."""
    folder = private_folder(Path(root) / STATE_DIR).joinpath(*parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
