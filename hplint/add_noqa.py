"""`hplint check --add-noqa`: silence every current finding with a comment,
to adopt hplint in a codebase that has many (ruff's `--add-noqa`).

The comments are hplint's own line-level form, on the line the suppression
scanner reads for a finding: its first line (`Finding.line`).

- `  # hplint: disable=HPL001,HPL002` is appended to that line, after any
  comment already there (`# noqa: E501  # hplint: disable=HPL001`); when the
  line already has an `# hplint: disable=` directive, the codes join its list.
- A line whose end is not a place for a comment — it ends inside a
  multi-line string, or continues with a backslash — gets
  `# hplint: disable-next-line=...` on a line of its own just above, at its
  indentation, when the line above ends where a comment may follow; else the
  finding is skipped and said so.
- Notebooks are edited in the cells' sources and spliced back (every other
  byte of the .ipynb kept); sweep files (YAML/JSON) are skipped with a note.
- Files are written with the fix writers: the encoding, BOM and line endings
  are kept, a file changed on disk meanwhile or read-only is left alone.
- `HPL000` (a file hplint could not fully check) cannot be suppressed.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

from .findings import FileResult, Finding
from .suppression import LINE, PARSE_ERROR_CODE, parse_suppressions
from .text_lines import NEWLINE, newline_style, split_lines

_HPLINT_DISABLE = re.compile(r"#\s*hplint:\s*disable\s*=\s*", re.I)
_CODE_LIST = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*(?:(?:\s*,\s*|\s+)(?:[A-Za-z]{1,6}[0-9]{1,5}"
                        r"|[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+)(?![\w-]))*")


@dataclass
class NoqaRun:
    added: int = 0  # directives written (one per line edited)
    files: int = 0
    notes: List[str] = field(default_factory=list)


def _comment_lines(text: str) -> Optional[Tuple[Set[int], Set[int]]]:
    """(lines whose end may take a comment, lines with a comment) of Python
    `text`, or None when it does not tokenize."""
    normal = NEWLINE.sub("\n", text)  # tokenize splits lines at \n only
    ends: Set[int] = set()
    comments: Set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(normal).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.NL):
                ends.add(tok.start[0])
            elif tok.type == tokenize.COMMENT:
                comments.add(tok.start[0])
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    return ends, comments


def _merge_into(line: str, codes: Sequence[str], directive_col: int) -> Optional[str]:
    """`line` with `codes` added to the code list of the `# hplint: disable=`
    directive at 1-based column `directive_col`, or None if it is not one."""
    at = directive_col - 1
    m = _HPLINT_DISABLE.match(line, at)
    if not m:
        return None
    codes_match = _CODE_LIST.match(line, m.end())
    if not codes_match:
        return None
    separator = ", " if ", " in codes_match.group(0) else ","
    end = codes_match.end()
    return line[:end] + "".join(separator + c for c in codes) + line[end:]


def suppress_in_text(text: str, findings: Sequence[Finding], where: str,
                     scan_text: Optional[str] = None) -> Tuple[str, int, List[str]]:
    """`text` (Python, or a notebook cell) with suppression comments for
    `findings` (positions in `text`); also how many directives were added and
    notes on what was skipped. `scan_text`: the same lines as Python for
    tokenizing (a cell with its IPython syntax masked)."""
    by_line: Dict[int, List[str]] = {}
    for f in findings:
        codes = by_line.setdefault(f.line, [])
        if f.code not in codes:
            codes.append(f.code)
    if not by_line:
        return text, 0, []
    scanned = _comment_lines(scan_text if scan_text is not None else text)
    if scanned is None:
        return text, 0, [f"{where}: cannot tokenize it; no comments added"]
    ends, _ = scanned
    existing = {d.line: d for d in parse_suppressions(text) if d.kind == LINE}
    lines = split_lines(text, keepends=True)
    notes: List[str] = []
    added = 0
    for number in sorted(by_line, reverse=True):  # bottom-up: insertions do not move the lines still to do
        codes = sorted(by_line[number])
        if number < 1 or number > len(lines):
            notes.append(f"{where}:{number}: the line is gone; {', '.join(codes)} not suppressed")
            continue
        raw = lines[number - 1]
        body = raw.rstrip("\r\n")
        ending = raw[len(body):]
        if number in ends:
            directive = existing.get(number)
            merged = _merge_into(body, [c for c in codes if c not in directive.codes], directive.span.start_col) \
                if directive is not None else None
            if merged is not None:
                lines[number - 1] = merged + ending
            else:
                lines[number - 1] = body.rstrip(" \t") + f"  # hplint: disable={','.join(codes)}" + ending
            added += 1
        elif number == 1 or number - 1 in ends:
            indent = body[: len(body) - len(body.lstrip(" \t"))]
            newline = newline_style(text)
            lines.insert(number - 1, f"{indent}# hplint: disable-next-line={','.join(codes)}{newline}")
            added += 1
        else:
            notes.append(f"{where}:{number}: the line is inside a string or a continued line, where no "
                         f"comment can go; {', '.join(codes)} not suppressed")
    return "".join(lines), added, notes


def add_noqa(results: Sequence[FileResult], paths: Dict[str, Path]) -> NoqaRun:
    from .fix.files import SourceFile, encode_source, read_source, write_source
    from .notebook import is_notebook
    from .sweeps import is_sweep_candidate

    run = NoqaRun()
    unsuppressable = 0
    for result in results:
        findings = [f for f in result.findings if f.code != PARSE_ERROR_CODE]
        unsuppressable += len(result.findings) - len(findings)
        if not findings:
            continue
        path = paths.get(result.path)
        if path is None:
            run.notes.append(f"{result.path}: not a file on disk; no comments added")
            continue
        if is_sweep_candidate(path):
            run.notes.append(f"{result.path}: comments are not added to sweep files; add "
                             f"`# hplint: disable=CODE` to the YAML lines by hand")
            continue
        source = read_source(path)
        if not isinstance(source, SourceFile):
            run.notes.append(f"{result.path}: cannot read it; no comments added")
            continue
        if result.source is not None and result.source != source.text:
            run.notes.append(f"{result.path}: it changed since it was linted; run hplint again")
            continue
        if is_notebook(path):
            new_text, added, notes = _suppress_notebook(source.text, findings, result.path)
        else:
            new_text, added, notes = suppress_in_text(source.text, findings, result.path)
        run.notes.extend(notes)
        if not added:
            continue
        problem = write_source(source, encode_source(source, new_text))
        if problem is not None:
            run.notes.append(f"cannot add comments to {result.path}: {problem}; file left unchanged")
            continue
        run.added += added
        run.files += 1
    if unsuppressable:
        run.notes.append(f"{unsuppressable} HPL000 finding{'s' if unsuppressable != 1 else ''} "
                         "cannot be suppressed (files hplint could not fully check)")
    return run


def _suppress_notebook(text: str, findings: Sequence[Finding], shown: str) -> Tuple[str, int, List[str]]:
    from .analysis.source import SourceError
    from .notebook import mask_cell, read_notebook, splice_sources

    nb = read_notebook(text)
    if isinstance(nb, SourceError):
        return text, 0, [f"{shown}: not a readable notebook; no comments added"]
    by_cell: Dict[int, List[Finding]] = {}
    for f in findings:
        if f.cell is None or not 0 < f.cell <= len(nb.cells):
            return text, 0, [f"{shown}: a finding names no cell; no comments added"]
        by_cell.setdefault(f.cell, []).append(f)
    sources: Dict[int, str] = {}
    added = 0
    notes: List[str] = []
    for index, cell_findings in sorted(by_cell.items()):
        cell = nb.cell(index)
        masked, _ = mask_cell(cell.source)
        new_source, count, cell_notes = suppress_in_text(cell.source, cell_findings, f"{shown}:cell {index}",
                                                         scan_text=masked)
        notes.extend(cell_notes)
        if count:
            sources[index] = new_source
            added += count
    return (splice_sources(nb, sources) if sources else text), added, notes
