"""Lines as Python counts them.

CPython, libcst, the tokenizer and LSP end a line at \\r\\n, \\r or \\n only.
`str.splitlines` also splits at \\f, \\v, \\x1c-\\x1e, \\x85 and \\u2028/9, so a
form feed or a Unicode line separator inside a file would shift every line
after it. Everything in hplint that numbers lines uses these helpers.
"""

from __future__ import annotations

import re
from typing import List

NEWLINE = re.compile(r"\r\n|\r|\n")


def newline_style(text: str) -> str:
    """The first line ending in `text` ("\\n" when it has none)."""
    m = NEWLINE.search(text)
    return m.group(0) if m else "\n"


def line_starts(text: str) -> List[int]:
    """Offset of the first character of every line (line 1 at index 0); a
    trailing line break does not start another line."""
    return [0] + [m.end() for m in NEWLINE.finditer(text) if m.end() < len(text)]


def split_lines(text: str, keepends: bool = False) -> List[str]:
    """The lines of `text`, like `str.splitlines` but with Python's line breaks."""
    if not keepends:
        lines = NEWLINE.split(text)
        return lines[:-1] if lines and lines[-1] == "" else lines
    out: List[str] = []
    start = 0
    for m in NEWLINE.finditer(text):
        out.append(text[start:m.end()])
        start = m.end()
    if start < len(text):
        out.append(text[start:])
    return out
