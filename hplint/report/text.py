"""The human formats, in ruff's two shapes.

`concise`: one line per finding with an editor-clickable `path:line:col:`
prefix. `full` (the default): that line, then the source line the finding is
on with `^^^` under its range, its related locations and the fix's `help:`.
Both end with a one-line summary that says what `--fix` would do.

Source lines are shown as a terminal draws them: tabs expanded to the next
multiple of 4 columns, East Asian wide characters two columns, combining
marks none, control characters as their visible pictures, so the carets sit
under the range whatever the line holds. A notebook finding shows its cell's
line; a range past the end of the text is clamped to its last line; a range
over several lines is underlined to the end of its first line, with how many
lines it goes on for.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ..findings import FileResult, Finding, FixSafety, Severity
from ..text_lines import split_lines
from . import fix_counts, severity_counts, sorted_findings

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_CYAN = "\x1b[36m"
_BLUE = "\x1b[34m"
TAB_WIDTH = 4
_SEVERITY_COLOUR = {
    Severity.ERROR: "\x1b[31m",  # red
    Severity.WARNING: "\x1b[33m",  # yellow
    Severity.INFO: "\x1b[34m",  # blue
}


def _paint(text: str, *styles: str, color: bool) -> str:
    return "".join(styles) + text + _RESET if color else text


def _place(path: str, cell) -> str:
    """`path`, or `path:cell N` for a position inside a notebook cell."""
    return path if cell is None else f"{path}:cell {cell}"


def _marker(f: Finding) -> str:
    if f.fix is None:
        return ""
    return "[*]" if f.fix.safety == FixSafety.SAFE else "[*unsafe]"


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    """`text` with control characters (a message quoting source) as their
    pictures, a tab as a space."""
    if _CONTROL.search(text) is None:
        return text  # the usual case, without a Python-level loop per character
    return "".join(" " if c == "\t" else _visible(c) for c in text)


def text_width(text: str) -> int:
    return sum(char_width(c) for c in text)


def _wrap(text: str, width: int, indent: str = "    ") -> List[str]:
    """`text` broken at spaces into lines of at most `width` terminal columns
    (wide characters count two), continuation lines indented; a word longer
    than a line is never split (a path stays clickable)."""
    words = text.split(" ")
    lines: List[str] = []
    current, used = words[0], text_width(words[0])
    for word in words[1:]:
        size = text_width(word)
        if used + 1 + size > width and current.strip():
            lines.append(current)
            current, used = indent + word, len(indent) + size
        else:
            current += " " + word
            used += 1 + size
    lines.append(current)
    return lines


def header(f: Finding, *, color: bool = False, width: Optional[int] = None) -> List[str]:
    """`path:line:col: CODE [name] message [*] (probe note)`, wrapped to
    `width` columns (continuation lines indented) when given."""
    where = f"{_place(f.path, f.cell)}:{f.span.start_line}:{f.span.start_col}:"
    marker = _marker(f)
    plain = f"{where} {f.code} [{f.name}] {_printable(f.message)}" + (f" {marker}" if marker else "")
    if f.probe_note:
        plain += f" ({_printable(f.probe_note)})"
    lines = _wrap(plain, max(width, 20)) if width is not None else [plain]
    if not color:
        return lines
    text = "\n".join(lines)
    # where, the code and the marker are whole words: wrapping never splits them
    code_at = text.index(f.code, len(where))
    pieces = [_paint(where, _BOLD, color=True), text[len(where):code_at],
              _paint(f.code, _BOLD, _SEVERITY_COLOUR[f.severity], color=True)]
    rest = text[code_at + len(f.code):]
    if marker:
        at = rest.rindex(marker)
        rest = rest[:at] + _paint(marker, _CYAN, color=True) + rest[at + len(marker):]
    return "".join(pieces + [rest]).split("\n")


def format_finding(f: Finding, *, color: bool = False) -> List[str]:
    """The finding's line and its related-location lines (the concise format)."""
    lines = header(f, color=color)
    for rel in f.related:
        note = f"{_place(rel.path, rel.cell)}:{rel.span.start_line}:{rel.span.start_col}: note: {rel.message}"
        lines.append("    " + _paint(note, _DIM, color=color))
    return lines


def _plural(n: int, word: str, plural: str) -> str:
    return f"{n} {word if n == 1 else plural}"


def summary_line(findings: List[Finding]) -> str:
    if not findings:
        return "All checks passed."
    counts = severity_counts(findings)
    parts = [
        _plural(counts[Severity.ERROR], "error", "errors"),
        _plural(counts[Severity.WARNING], "warning", "warnings"),
        _plural(counts[Severity.INFO], "info", "info"),
    ]
    parts = [p for p, s in zip(parts, (Severity.ERROR, Severity.WARNING, Severity.INFO)) if counts[s]]
    text = f"Found {_plural(len(findings), 'finding', 'findings')} ({', '.join(parts)})"
    safe, unsafe = fix_counts(findings)
    if safe and unsafe:
        text += f"; {safe} fixable with --fix ({unsafe} more with --unsafe-fixes)"
    elif safe:
        text += f"; {safe} fixable with --fix"
    elif unsafe:
        text += f"; {unsafe} fixable with --unsafe-fixes"
    return text + "."


def render_text(results: List[FileResult], *, color: bool = False, summary: bool = True) -> str:
    """The concise format (without the summary line: only the findings)."""
    findings = sorted_findings(results)
    lines: List[str] = []
    for f in findings:
        lines.extend(format_finding(f, color=color))
    if lines and summary:
        lines.append("")
    if summary:
        lines.append(summary_line(findings))
    return "".join(f"{line}\n" for line in lines)


# ----------------------------------------------------------------- full


def char_width(ch: str) -> int:
    """Columns a terminal gives one (non-tab) character."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _visible(ch: str) -> str:
    """A control character as its picture (␛ for ESC): source text never
    drives the terminal."""
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    if 0x80 <= code < 0xA0:
        return "\ufffd"
    return ch


def display_line(line: str) -> Tuple[str, List[int]]:
    """`line` as shown (tabs expanded, controls visible) and, for each code
    point index 0..len(line), the display column it starts at."""
    if line.isascii() and _CONTROL.search(line) is None:  # the usual line: one column a character
        return line, list(range(len(line) + 1))
    out: List[str] = []
    columns: List[int] = []
    col = 0
    for ch in line:
        columns.append(col)
        if ch == "\t":
            step = TAB_WIDTH - col % TAB_WIDTH
            out.append(" " * step)
            col += step
            continue
        shown = _visible(ch)
        out.append(shown)
        col += char_width(shown)
    columns.append(col)
    return "".join(out), columns


class SourceLines:
    """The lines a finding points into: its file's (as linted, or read back
    from disk when the worker did not keep the text), or its notebook cell's."""

    def __init__(self) -> None:
        self._texts: Dict[str, Optional[str]] = {}
        self._cells: Dict[Tuple[str, int], Optional[List[str]]] = {}
        self._lines: Dict[str, Optional[List[str]]] = {}
        self._notebooks: Dict[str, list] = {}  # path -> its cells

    def _text(self, result: FileResult) -> Optional[str]:
        if result.path not in self._texts:
            text = result.source
            if text is None:  # a worker or the result cache kept no text: read it again
                from ..source_text import decode_file

                try:
                    decoded = decode_file(result.path, Path(result.path).read_bytes())
                except OSError:
                    decoded = None
                text = decoded if isinstance(decoded, str) else None
            self._texts[result.path] = text
        return self._texts[result.path]

    def lines(self, result: FileResult, f: Finding) -> Optional[List[str]]:
        text = self._text(result)
        if text is None:
            return None
        if f.cell is None:
            if result.path not in self._lines:
                self._lines[result.path] = split_lines(text)
            return self._lines[result.path]
        key = (result.path, f.cell)
        if key not in self._cells:
            if result.path not in self._notebooks:
                from ..notebook import read_notebook

                self._notebooks[result.path] = getattr(read_notebook(text), "cells", [])
            cells = self._notebooks[result.path]
            self._cells[key] = split_lines(cells[f.cell - 1].source) if 0 < f.cell <= len(cells) else None
        return self._cells[key]


def snippet(f: Finding, lines: Optional[List[str]], *, color: bool = False) -> List[str]:
    """The numbered source line under the header, `^^^` under the range."""
    if not lines:
        return []
    span = f.span
    number = min(max(span.start_line, 1), len(lines))
    line = lines[number - 1]
    clamped = number != span.start_line
    start = len(line) if clamped else min(max(span.start_col, 1) - 1, len(line))
    if span.end_line > span.start_line or clamped:
        end = len(line)
    else:
        end = min(max(span.end_col - 1, start), len(line))
    shown, columns = display_line(line)
    carets = "^" * max(1, columns[end] - columns[start])
    gutter = " " * len(str(number))
    bar = _paint("|", _BOLD, _BLUE, color=color)
    label = f.code
    more = span.end_line - span.start_line
    if more > 0 and not clamped:
        label += f" (and {more} more line{'s' if more != 1 else ''})"
    underline = " " * columns[start] + _paint(carets, _BOLD, _SEVERITY_COLOUR[f.severity], color=color)
    return [
        f"{gutter} {bar}",
        f"{_paint(str(number), _BOLD, _BLUE, color=color)} {bar} {shown}".rstrip(),
        f"{gutter} {bar} {underline} {_paint(label, _SEVERITY_COLOUR[f.severity], color=color)}",
        f"{gutter} {bar}",
    ]


def format_full(f: Finding, lines: Optional[List[str]], *, color: bool = False,
                width: Optional[int] = None) -> List[str]:
    """One finding in the full format: header, snippet, notes, help."""
    out = header(f, color=color, width=width)
    shown = snippet(f, lines, color=color)
    out.extend(shown)
    # `=` lines up under the snippet's `|` (or two spaces in when there is none)
    indent = " " * (len(shown[0]) - len(shown[0].lstrip(" ")) if shown else 2)
    equals = _paint("=", _BOLD, _BLUE, color=color)
    for rel in f.related:
        where = f"{_place(rel.path, rel.cell)}:{rel.span.start_line}:{rel.span.start_col}"
        out.append(f"{indent}{equals} {_paint('note', _BOLD, color=color)}: {where}: {rel.message}")
    if f.fix is not None and f.fix.description:
        out.append(f"{indent}{equals} {_paint('help', _BOLD, _CYAN, color=color)}: {f.fix.description}")
    return out


def render_full(results: List[FileResult], *, color: bool = False, width: Optional[int] = None,
                summary: bool = True) -> str:
    """The full format: each finding with its source line, then the summary.
    `width`: wrap long header lines to this many columns (a terminal's)."""
    by_path = {r.path: r for r in results}
    sources = SourceLines()
    blocks: List[str] = []
    findings = sorted_findings(results)
    for f in findings:
        result = by_path.get(f.path)
        lines = sources.lines(result, f) if result is not None else None
        blocks.append("".join(f"{line}\n" for line in format_full(f, lines, color=color, width=width)))
    out = "\n".join(blocks)
    if summary:
        out += ("\n" if blocks else "") + summary_line(findings) + "\n"
    return out
