"""Probe reports kept on disk so that `hplint check` and the editor server can
say which findings a probe confirmed on the very same file contents.

Layout: `<project root>/.hplint/probe/<sha256 of the file text>.json`, one per
analysed file, holding that file's verdicts and the whole probe report. Reading
them (`ProbeVerdicts.annotate`) is one named step after linting, called by the
command line and the server; the linter itself never reads them. It must stay
cheap and torch-free: the directory lookup is cached per folder, so a project
without `.hplint/probe` costs one stat per folder, and the file text is hashed
only when the folder exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ..state_dir import STATE_DIR, state_folder

STORE_DIR = (STATE_DIR, "probe")
VERSION = 1

DIR_TTL_S = 10.0  # a long-running server notices a probe run made meanwhile


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def project_root_for(script: Path) -> Path:
    """Where a probe of `script` saves its report: the configuration's root when
    the project has an hplint configuration, else the script's folder."""
    from ..config_resolver import Resolver

    found = Resolver().config_file_for(script)
    return found.parent.resolve() if found is not None else Path(script).resolve().parent


def save(root: Path, report: Dict[str, Any], texts: Dict[str, str]) -> Path:
    """Write one entry per analysed file; returns the script's entry."""
    folder = state_folder(root, *STORE_DIR[1:])
    script_entry = None
    for path, text in texts.items():
        verdicts = [f for f in report.get("findings", []) if f.get("abs_path") == path]
        entry = {"version": VERSION, "file": path, "sha256": content_hash(text),
                 "findings": [{"code": f["code"], "line": f["line"], "column": f["column"],
                               "verdict": f["verdict"], "summary": f["summary"]} for f in verdicts],
                 "report": report}
        target = folder / f"{entry['sha256']}.json"
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(entry, indent=1, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, target)
        if path == report.get("abs_script"):
            script_entry = target
    return script_entry or folder


class ProbeVerdicts:
    """Reads saved probe verdicts for findings. One per `hplint check` run or
    language server (no module-level state); the lookups are cached so that a
    project without `.hplint/probe` costs one stat per folder, and file texts
    are hashed only where that folder exists."""

    def __init__(self) -> None:
        # folder -> (when looked up, the .hplint/probe folder governing it or None)
        self._folders: Dict[str, Tuple[float, Optional[str]]] = {}
        self._entries: Dict[str, Tuple[float, Optional[dict]]] = {}  # entry file -> (mtime, data)

    def folder_for(self, path: Path) -> Optional[str]:
        return self._store_folder(os.path.dirname(os.path.abspath(path)))

    def _store_folder(self, directory: str) -> Optional[str]:
        now = time.monotonic()
        hit = self._folders.get(directory)
        if hit is not None and now - hit[0] < DIR_TTL_S:
            return hit[1]
        candidate = os.path.join(directory, *STORE_DIR)
        if os.path.isdir(candidate):
            found: Optional[str] = candidate
        else:
            parent = os.path.dirname(directory)
            found = self._store_folder(parent) if parent and parent != directory else None
        self._folders[directory] = (now, found)
        return found

    def _entry(self, folder: str, text: str) -> Optional[dict]:
        path = os.path.join(folder, content_hash(text) + ".json")
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            return None
        hit = self._entries.get(path)
        if hit is not None and hit[0] == mtime:
            return hit[1]
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        self._entries[path] = (mtime, data)
        return data

    def annotate(self, path: Path, text: Optional[str], findings: List, position=None) -> List:
        """Set `probe_note` on findings a probe confirmed on this exact file text.
        `position(finding)` gives the (line, column) the probe saw, when the
        finding is reported elsewhere (a notebook's cells vs its joined script)."""
        if not findings or text is None:
            return findings
        folder = self.folder_for(path)
        if folder is None:
            return findings
        entry = self._entry(folder, text)
        if not entry:
            return findings
        notes = {(f["code"], f["line"], f["column"]): f["summary"]
                 for f in entry.get("findings", []) if f.get("verdict") == "confirmed"}
        if not notes:
            return findings
        out = []
        for f in findings:
            line, col = position(f) if position is not None else (f.span.start_line, f.span.start_col)
            note = notes.get((f.code, line, col))
            out.append(replace(f, probe_note=f"confirmed by probe: {note}") if note else f)
        return out

    def clear(self) -> None:
        self._folders.clear()
        self._entries.clear()
