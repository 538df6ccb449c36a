"""Applying fixes: `--fix`, `--diff`, and the language server's "fix all".

`apply` turns a file's fix edits into new text (one pass, no overlaps);
`runner` loops apply -> re-lint until nothing more applies and guards the
result (must still parse); `files` reads and writes sources keeping their
encoding, BOM and line endings.
"""

from .apply import apply_edits, apply_fixes, fix_applies
from .files import SourceFile, read_source, write_source
from .runner import FixOutcome, fix_text

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
