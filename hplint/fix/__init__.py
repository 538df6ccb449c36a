"""Applying fixes: `--fix`, `--diff`, and the language server's "fix all".

`apply` turns a file's fix edits into new text (one pass, no overlaps);
`runner` loops apply -> re-lint until nothing more applies and guards the
result (must still parse); `files` reads and writes sources keeping their
encoding, BOM and line endings.

The names below are loaded on first use: `hplint check` imports
`fix.codegen` for any finding with a fix, and must not pay for the file
writers and the fix loop unless it applies fixes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .apply import apply_edits, apply_fixes, fix_applies
    from .files import SourceFile, read_source, write_source
    from .runner import FixOutcome, fix_text

_HOME = {
    "apply_edits": "apply", "apply_fixes": "apply", "fix_applies": "apply",
    "SourceFile": "files", "read_source": "files", "write_source": "files",
    "FixOutcome": "runner", "fix_text": "runner",
}

__all__ = [
    "FixOutcome",
    "SourceFile",
    "apply_edits",
    "apply_fixes",
    "fix_applies",
    "fix_text",
    "read_source",
    "write_source",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
