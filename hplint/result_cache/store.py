"""The cache folder on disk: one small JSON entry per (source file, settings,
hplint build), named by the digest of that key.

- Where: `cache-dir` from `[tool.hplint]`, else `<config root>/.hplint/cache`
  (`.hplint/` gets a `.gitignore` of `*`). The folder holds a `CACHEDIR.TAG`,
  so backup tools skip it and `hplint clean` removes only a folder hplint made.
- Concurrent runs: an entry is written whole to a temporary file in the same
  folder and moved over the old one with `os.replace`, so a reader sees the
  old entry or the new one, never half of one. Two runs writing the same
  entry write the same thing.
- Damage: an entry that does not parse, or carries another format or key, is
  a miss and is written again after linting.
- An unwritable folder: `writable` turns false after the first failure, the
  run lints everything normally, and the caller warns once.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional

from ..state_dir import STATE_DIR, private_folder, state_folder

FORMAT = 1
TAG_NAME = "CACHEDIR.TAG"
_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
        "# This file is a cache directory tag created by hplint (https://bford.info/cachedir/).\n")


def cache_folder(config) -> Path:
    """Where `config`'s results are cached (not created)."""
    return Path(config.cache_dir) if config.cache_dir is not None else Path(config.root) / STATE_DIR / "cache"


class CacheStore:
    def __init__(self, folder: Path, default_place: bool = True) -> None:
        self.folder = Path(folder)
        self._default_place = default_place  # under .hplint/, whose .gitignore covers it
        self._ready = False
        self.writable = True
        self.problem: Optional[str] = None  # why it is not writable

    def _entry_path(self, name: str) -> str:
        return os.path.join(self.folder, name + ".json")

    def read(self, name: str) -> Optional[Dict[str, Any]]:
        """The entry called `name`, or None (absent, unreadable, not our format)."""
        try:
            with open(self._entry_path(name), "rb") as handle:
                data = json.loads(handle.read())
        except (OSError, ValueError):  # absent, truncated, not JSON, not UTF-8
            return None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return None
        return data

    def write(self, name: str, entry: Dict[str, Any]) -> bool:
        if not self.writable:
            return False
        try:
            self._prepare()
            handle, temp = tempfile.mkstemp(prefix=f".{name[:16]}.", suffix=".tmp", dir=self.folder)
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(json.dumps({"format": FORMAT, **entry}, separators=(",", ":")).encode("ascii"))
                os.replace(temp, self._entry_path(name))
            except BaseException:
                try:
                    os.unlink(temp)
                except OSError:
                    pass
                raise
        except OSError as exc:
            self.writable = False
            self.problem = f"{exc.strerror or exc}"
            return False
        return True

    def _prepare(self) -> None:
        if self._ready:
            return
        if self._default_place:
            root = self.folder.parent.parent
            state_folder(root, self.folder.name)
        else:
            private_folder(self.folder)
        tag = self.folder / TAG_NAME
        if not tag.exists():
            tag.write_text(_TAG, encoding="ascii")
        self._ready = True


def open_store(config) -> CacheStore:
    folder = cache_folder(config)
    return CacheStore(folder, default_place=config.cache_dir is None)


def clear_cache(config) -> Optional[str]:
    """Remove `config`'s cache folder. None when done (or there was none),
    else why not: a folder without hplint's CACHEDIR.TAG is never removed."""
    folder = cache_folder(config)
    if not folder.exists():
        return None
    if not (folder / TAG_NAME).is_file():
        return f"{folder} is not an hplint cache (it has no {TAG_NAME}); not removing it"
    try:
        shutil.rmtree(folder)
    except OSError as exc:
        return f"cannot remove {folder}: {exc.strerror or exc}"
    return None
