"""Jupyter notebooks (`.ipynb`, nbformat 4) as "virtual modules".

A notebook's code cells share one global scope (a model defined in cell 2 and
trained in cell 5 is one program), so they are joined, in order, into one
Python module and linted like a file. IPython syntax — line magics
(`%matplotlib inline`), cell magics (`%%time`), shell escapes (`!pip
install`, `x = !ls`), help (`obj?`, `??obj`) — is masked line by line with a
`pass` at the same indentation, so it neither breaks parsing nor shifts any
other line; cells whose magic makes them another language (`%%bash`,
`%%writefile`, `%%html`, ...) are masked whole. Markdown and raw cells are
skipped, and so are notebooks whose kernel is not Python. A cell indented as
a whole (its first line indented) runs dedented, as IPython's leading-indent
clean-up runs it; positions there are shifted back to the cell's columns, and
fixes are not offered in such a cell.

The line map (module line -> (cell, line in cell)) turns every finding back
into a cell-relative position after linting (`map_result`), and the JSON
positions (`jsonpos`) give the line of the `.ipynb` text that holds each code
line, for SARIF and GitHub annotations (`Finding.raw_span`).

Reading uses the standard `json` module's scanners (via `jsonpos`, which also
records offsets) rather than `nbformat`: linting needs only each cell's type
and source, nbformat's schema validation would refuse notebooks Jupyter opens
fine, and writing back must not re-serialise the file. Fixes are applied to
the cells they touch and the new sources are spliced into the original text:
outputs, metadata, execution counts, indentation, key order and the trailing
newline keep every byte.
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from . import jsonpos
from .findings import FileResult, Finding, Fix, RelatedLocation, Span, TextEdit
from .source_text import SourceError

SUFFIX = ".ipynb"

# Cell magics whose body is Python (only the magic line is masked).
PYTHON_CELL_MAGICS = frozenset({
    "time", "timeit", "capture", "prun", "debug", "memit", "mprun", "px", "pypy", "python", "python3",
    "autoreload", "tensorflow_version",
})
# Line magics and shell aliases IPython runs without their `%` (automagic, on by
# default) when a cell is that one line: Colab notebooks' `cd drive/My\ Drive`.
AUTOMAGICS = frozenset({
    "cd", "ls", "pwd", "pip", "conda", "env", "cat", "cp", "mv", "rm", "rmdir", "mkdir", "ll", "less",
    "man", "clear", "alias", "unalias", "load_ext", "reload_ext", "matplotlib", "timeit", "time", "run",
    "bookmark", "dhist", "pushd", "popd", "dirs", "who", "whos", "history", "store", "sx", "system",
})
_ASSIGN_MAGIC = re.compile(r"^\s*[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[!%]")
# "line 12" in a rule message (HPL001's "(line 12)", HPL010's "at line 12"): a module line.
_LINE_REF = re.compile(r"\b(?:(on|at) )?line (\d+)\b")
_HELP = re.compile(r"^\s*(?:\?\??\s*[\w.*\[\]()]+|[\w.*\[\]()]+\s*\?\??)\s*$")


def is_notebook(path) -> bool:
    return str(path).lower().endswith(SUFFIX)


# -- reading -------------------------------------------------------------------
@dataclass
class Cell:
    index: int  # 1-based among all cells, as Jupyter shows them
    cell_type: str
    source: str


@dataclass
class Notebook:
    text: str  # the raw .ipynb text
    cells: List[Cell]
    python: bool = True  # False: another kernel language, nothing is linted
    _raw_lines: Optional[List[int]] = None
    _source_nodes: Optional[List[Optional[jsonpos.Node]]] = None

    @property
    def code_cells(self) -> List[Cell]:
        return [c for c in self.cells if c.cell_type == "code"] if self.python else []

    def cell(self, index: int) -> Cell:
        return self.cells[index - 1]

    def source_node(self, index: int) -> Optional[jsonpos.Node]:
        """The JSON value of cell `index`'s "source", with its offsets in the
        text. Read only when a position in the .ipynb text or a fix asks: a
        notebook is read with `json.loads`, several times faster."""
        if self._source_nodes is None:
            try:
                cells = jsonpos.parse(self.text, opaque=_OPAQUE_KEYS).get("cells") if self.text else None
            except (jsonpos.JSONPosError, RecursionError):
                cells = None  # a notebook built from an editor's cells has no text
            items = cells.items if cells is not None and cells.items is not None else []
            self._source_nodes = [node.get("source") for node in items]
        return self._source_nodes[index - 1] if 0 < index <= len(self._source_nodes) else None

    # raw positions
    def _offset_to_raw(self, offset: int) -> Tuple[int, int]:
        if self._raw_lines is None:
            from .fix.apply import line_starts

            self._raw_lines = line_starts(self.text)
        import bisect

        line = bisect.bisect_right(self._raw_lines, offset)
        return line, offset - self._raw_lines[line - 1] + 1

    def raw_position(self, cell_index: int, line: int, col: int) -> Tuple[int, int]:
        """Where (line, col) of a cell's source sits in the .ipynb text."""
        cell = self.cell(cell_index)
        node = self.source_node(cell_index)
        if node is None:
            return 1, 1
        pieces = node.items if node.items is not None else [node]
        pieces = [p for p in pieces if isinstance(p.value, str)]
        if not pieces:
            return self._offset_to_raw(node.start)
        # the character offset inside the cell source
        starts = _line_offsets(cell.source)
        if line > len(starts):
            target = len(cell.source)
        else:
            target = min(starts[line - 1] + col - 1, len(cell.source))
        consumed = 0
        for piece in pieces:
            length = len(piece.value)
            if target < consumed + length or piece is pieces[-1]:
                offsets = jsonpos.string_offsets(self.text, piece)
                inner = max(0, min(target - consumed, len(offsets) - 1))
                return self._offset_to_raw(offsets[inner])
            consumed += length
        return self._offset_to_raw(node.start)  # pragma: no cover


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> List[str]:
    """Lines with their endings, as Python counts them (\r\n, \r or \n)."""
    return _LINE.findall(text)


def _line_offsets(text: str) -> List[int]:
    starts = [0]
    for m in re.finditer(r"\r\n|\r|\n", text):
        starts.append(m.end())
    return starts


def _source_text(value) -> Optional[str]:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return None


# A cell's outputs, attachments (images, tables) and metadata: read as values
# only; no position inside them is ever needed.
_OPAQUE_KEYS = frozenset({"outputs", "attachments", "metadata"})


def read_notebook(text: str) -> Union[Notebook, SourceError]:
    """The notebook in `text`, or why it is not a valid nbformat 4 notebook.
    An empty file (or only whitespace) is a notebook without cells: VS Code
    opens one as a new notebook, and it has no code to check."""
    if not text.strip():
        return Notebook(text, [])
    try:
        root = json.loads(text)
    except (ValueError, RecursionError):
        return _invalid_json(text)
    if not isinstance(root, dict):
        return SourceError("not a valid notebook: the top level is not a JSON object")
    major = root.get("nbformat")
    if major != 4:
        found = "no nbformat version" if major is None else f"nbformat {major!r}"
        return SourceError(f"not a valid notebook: {found} (hplint reads nbformat 4)")
    raw_cells = root.get("cells")
    if not isinstance(raw_cells, list):
        return SourceError("not a valid notebook: it has no \"cells\" list")
    cells: List[Cell] = []
    for i, raw in enumerate(raw_cells, start=1):
        if not isinstance(raw, dict):
            return _cell_error(text, i, "is not a JSON object")
        kind = raw.get("cell_type")
        if not isinstance(kind, str):
            return _cell_error(text, i, "has no \"cell_type\"")
        language = _cell_language(raw.get("metadata"))
        if kind == "code" and language is not None and language.lower() not in ("python", "python3", "ipython"):
            kind = f"code:{language}"  # VS Code's per-cell language (e.g. sql, bash): not linted
        source = _source_text(raw.get("source"))
        if source is None:
            return _cell_error(text, i, "has no \"source\" string or list of strings")
        cells.append(Cell(i, kind, source))
    metadata = root.get("metadata")
    python = True
    if isinstance(metadata, dict):
        language = None
        info = metadata.get("language_info")
        if isinstance(info, dict) and isinstance(info.get("name"), str):
            language = info["name"]
        spec = metadata.get("kernelspec")
        if language is None and isinstance(spec, dict) and isinstance(spec.get("language"), str):
            language = spec["language"]
        python = language is None or language.lower() in ("python", "python3", "ipython", "ipython3")
    return Notebook(text, cells, python)


def _invalid_json(text: str) -> SourceError:
    """Why `text` is not JSON, where: jsonpos reads it again for the position."""
    try:
        jsonpos.parse(text, opaque=_OPAQUE_KEYS)
    except jsonpos.JSONPosError as exc:
        return SourceError(f"not a valid notebook: invalid JSON: {exc.message}", exc.line, exc.col)
    except RecursionError:
        return SourceError("not a valid notebook: JSON nested too deeply")
    return SourceError("not a valid notebook: invalid JSON")  # pragma: no cover - both read one language


def _cell_error(text: str, index: int, what: str) -> SourceError:
    """`cell N <what>`, at the cell's position in the text."""
    try:
        cells = jsonpos.parse(text, opaque=_OPAQUE_KEYS).get("cells")
        node = cells.items[index - 1] if cells is not None and cells.items is not None else None
    except (jsonpos.JSONPosError, RecursionError):
        node = None
    where = _where(text, node.start) if node is not None else ()
    return SourceError(f"not a valid notebook: cell {index} {what}", *where)


def _cell_language(metadata) -> Optional[str]:
    """The language VS Code records for a cell (`metadata.vscode.languageId`)."""
    vscode = metadata.get("vscode") if isinstance(metadata, dict) else None
    language = vscode.get("languageId") if isinstance(vscode, dict) else None
    return language if isinstance(language, str) else None


def _where(text: str, offset: int) -> Tuple[int, int]:
    # Counts lines from the start: for error messages only (per cell it is quadratic).
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


# -- masking IPython syntax ------------------------------------------------------------
def _scan_line(line: str, depth: int, quote: Optional[str]) -> Tuple[int, Optional[str], bool]:
    """Python's bracket depth and open triple quote after `line`, and whether
    it ends with a backslash continuation."""
    continued = False
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if line.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
            i += 1
            continue
        if ch == "#":
            break
        if ch in "\"'":
            triple = line[i:i + 3]
            if triple in ('"""', "'''"):
                quote = triple
                i += 3
                continue
            quote = ch
            i += 1
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == "\\" and line[i + 1:].strip() == "":
            continued = True
        i += 1
    if quote in ('"', "'"):
        quote = None  # an unterminated one-line string ends with the line
    return depth, quote, continued


def _ends_with_backslash(line: str) -> bool:
    return line.rstrip("\r\n").endswith("\\")


def _is_ipython_line(line: str) -> bool:
    stripped = line.strip()
    if not stripped:
        return False
    if stripped[0] in "%!?":
        return True
    if stripped[0] in "/;," and len(stripped) > 1 and stripped[1].isalpha():  # autocall
        return True
    return bool(_ASSIGN_MAGIC.match(line) or _HELP.match(stripped) and stripped.endswith("?")
                or stripped.startswith("?"))


def _is_automagic_cell(lines: List[str]) -> bool:
    """A one-line cell that IPython reads as a magic without its `%` (`cd
    'Colab Notebooks'`, `pip install timm`): its first word is a line magic and
    the line is not Python (`ls = []` and `cd(path)` stay Python)."""
    code = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if len(code) != 1:
        return False
    line = code[0].strip()
    if line.split(None, 1)[0] not in AUTOMAGICS:
        return False
    try:
        compile(line, "<cell>", "exec", dont_inherit=True, flags=ast.PyCF_ONLY_AST)
    except (SyntaxError, ValueError):
        return True
    return False


def mask_cell(source: str) -> Tuple[str, int]:
    """The cell as plain Python (same number of lines, every Python line
    unchanged) and how many lines were masked."""
    lines = split_lines(source)
    if not lines:
        return source, 0
    first = lines[0].strip()
    masked = 0
    out = list(lines)
    if first.startswith("%%"):
        name = first[2:].split(None, 1)[0] if len(first) > 2 else ""
        if name not in PYTHON_CELL_MAGICS:
            return _pass_cell(source), len(lines)
        out[0] = _pass_line(lines[0])
        masked = 1
    if not masked and _is_automagic_cell(lines):
        return _pass_cell(source), len(lines)
    if not any(_is_ipython_line(line) for line in lines[masked:]):
        return ("".join(out) if masked else source), masked  # plain Python: nothing to scan
    # One pass: a line where a Python statement may start (not inside
    # brackets, a triple-quoted string or after a backslash) that is IPython
    # syntax is masked, with the lines its trailing backslashes continue
    # (`!python demo.py \\` + `--flag x`); the shell text is not scanned as Python.
    depth, quote, continued = 0, None, False
    i = 1 if masked else 0
    while i < len(lines):
        line = lines[i]
        if depth == 0 and quote is None and not continued and _is_ipython_line(line):
            out[i] = _pass_line(line)
            masked += 1
            indent = line[: len(line) - len(line.lstrip())]
            while _ends_with_backslash(lines[i]) and i + 1 < len(lines):
                i += 1
                out[i] = _pass_line(lines[i], indent)  # at the magic's indentation, not its own
                masked += 1
            i += 1
            continue
        depth, quote, continued = _scan_line(line, depth, quote)
        i += 1
    return "".join(out), masked


def _pass_cell(source: str) -> str:
    """A whole cell masked: one unindented `pass` per line."""
    return "".join("pass" + line[len(line.rstrip("\r\n")):] for line in split_lines(source))


def _pass_line(line: str, indent: Optional[str] = None) -> str:
    body = line.rstrip("\r\n")
    ending = line[len(body):]
    if indent is None:
        indent = body[: len(body) - len(body.lstrip())]
    return f"{indent}pass{ending}"


# -- the virtual module ---------------------------------------------------------------
@dataclass
class VirtualModule:
    text: str
    # module line (1-based) -> (cell index, line in cell); index 0 unused
    lines: List[Tuple[int, int]] = field(default_factory=list)
    # cell index -> (first module line, number of lines)
    ranges: Dict[int, Tuple[int, int]] = field(default_factory=dict)
    masked: int = 0
    # module line -> columns IPython's leading-indent clean-up removed from it
    shifts: Dict[int, int] = field(default_factory=dict)
    dedented: frozenset = frozenset()  # cells whose common leading indent was removed


def virtual_module(nb: Notebook, skip: Sequence[int] = ()) -> VirtualModule:
    """The code cells joined; cells in `skip` (that do not parse) become `pass`
    lines, so every cell keeps its module lines whichever cells are skipped."""
    parts: List[str] = []
    lines: List[Tuple[int, int]] = [(0, 0)]
    ranges: Dict[int, Tuple[int, int]] = {}
    masked_total = 0
    shifts: Dict[int, int] = {}
    dedented = set()
    for cell in nb.code_cells:
        cell_shifts: List[int] = []
        if cell.index in skip:
            code = _pass_cell(cell.source)
        else:
            code, cell_shifts = dedent_cell(cell.source)
            code, masked = mask_cell(code)
            masked_total += masked
        count = len(split_lines(code))
        ranges[cell.index] = (len(lines), count)
        if cell_shifts:
            dedented.add(cell.index)
            shifts.update((len(lines) + n, width) for n, width in enumerate(cell_shifts) if width)
        for n in range(1, count + 1):
            lines.append((cell.index, n))
        if code and not code.endswith(("\n", "\r")):
            code += "\n"
        parts.append(code)
    return VirtualModule("".join(parts), lines, ranges, masked_total, shifts, frozenset(dedented))


_LEADING_INDENT = re.compile(r"[ \t]+")


def dedent_cell(source: str) -> Tuple[str, List[int]]:
    """IPython's `leading_indent` clean-up: a cell whose first non-blank line is
    indented runs with that indentation removed from every line that starts
    with it. Returns the text and, per line, how many columns went (empty when
    the cell is not indented)."""
    lines = split_lines(source)
    first = next((line for line in lines if line.strip()), None)
    found = _LEADING_INDENT.match(first) if first is not None else None
    if found is None:
        return source, []
    prefix = found.group(0)
    widths = [len(prefix) if line.startswith(prefix) else 0 for line in lines]
    return "".join(line[w:] for line, w in zip(lines, widths)), widths


class LineMap:
    """Module positions -> cell positions (and raw .ipynb positions)."""

    def __init__(self, nb: Notebook, vm: VirtualModule) -> None:
        self.nb = nb
        self.vm = vm

    def cell_of(self, line: int) -> Tuple[int, int]:
        lines = self.vm.lines
        if 1 <= line < len(lines):
            return lines[line]
        if line >= len(lines) and len(lines) > 1:  # one past the end: after the last code line
            cell, last = lines[-1]
            return cell, last + (line - len(lines) + 1)
        code = self.nb.code_cells
        return (code[0].index if code else 1), 1

    def span(self, span: Span) -> Tuple[int, Span]:
        cell, start = self.cell_of(span.start_line)
        end_cell, end = self.cell_of(span.end_line)
        shifts = self.vm.shifts
        end_col = span.end_col + shifts.get(span.end_line, 0)
        if end_cell != cell:  # a span that runs into the next cell ends with its first cell
            count = self.vm.ranges.get(cell, (0, start))[1]
            end = max(count, start)
            lines = [line.rstrip("\r\n") for line in split_lines(self.nb.cell(cell).source)]
            end_col = (len(lines[end - 1]) + 1) if 0 < end <= len(lines) else 1
        return cell, Span(start, span.start_col + shifts.get(span.start_line, 0), end, end_col)

    def raw(self, cell: int, span: Span) -> Span:
        sl, sc = self.nb.raw_position(cell, span.start_line, span.start_col)
        el, ec = self.nb.raw_position(cell, span.end_line, span.end_col)
        return Span(sl, sc, el, ec)

    def finding(self, f: Finding, shown: str) -> Finding:
        cell, span = self.span(f.span)
        related = tuple(self.related(r, shown) for r in f.related)
        fix = f.fix
        if fix is not None and cell in self.vm.dedented:
            fix = None  # its text is written for the dedented lines, not the cell's own
        if fix is not None:
            edits = []
            for e in fix.edits:
                ecell, espan = self.span(e.span)
                edits.append(TextEdit(espan, e.new_text, ecell))
            fix = replace(fix, edits=tuple(edits))
        message = _LINE_REF.sub(lambda m: ("in " if m.group(1) else "") + self.line_label(int(m.group(2))), f.message)
        return replace(f, span=span, cell=cell, raw_span=self.raw(cell, span), related=related, fix=fix,
                       message=message)

    def line_label(self, line: int) -> str:
        """What rule messages call `line N` of the module, said in cells."""
        cell, in_cell = self.cell_of(line)
        return f"cell {cell}, line {in_cell}"

    def related(self, r: RelatedLocation, shown: str) -> RelatedLocation:
        if r.path != shown:
            return r
        cell, span = self.span(r.span)
        return replace(r, span=span, cell=cell, raw_span=self.raw(cell, span))


# -- linting -----------------------------------------------------------------------------
def error_result(linter, shown: str, error: SourceError, text: Optional[str],
                 path: Optional[Path] = None) -> FileResult:
    return linter.source_error_result(shown, error, text, path)


MAX_BROKEN_CELLS = 20


def lint_virtual(linter, nb: Notebook, path: Path, shown: str) -> Tuple[FileResult, VirtualModule]:
    """Lint the joined code cells; positions are module lines. A cell with a
    syntax error gets HPL000 and the others are linted without it (a notebook
    often carries one half-written cell)."""
    broken: List[int] = []
    errors: List[Finding] = []
    while True:
        vm = virtual_module(nb, broken)
        result = linter.lint_python_text(vm.text, Path(path), shown)
        failed = [f for f in result.findings if f.code == "HPL000"]
        if not failed or len(failed) != len(result.findings) or len(broken) >= MAX_BROKEN_CELLS:
            break
        if not broken:
            alone = _cells_broken_alone(linter, vm, Path(path), shown)
            if alone:
                broken = [cell for cell, _ in alone][:MAX_BROKEN_CELLS]
                errors.extend(finding for _, finding in alone[:MAX_BROKEN_CELLS])
                continue
        cell = LineMap(nb, vm).cell_of(failed[0].span.start_line)[0]
        if cell in broken or cell not in vm.ranges:
            break
        broken.append(cell)
        errors.extend(failed)
    if errors:
        result.findings = sorted(errors + result.findings, key=lambda f: (f.span.start_line, f.span.start_col, f.code))
    return result, vm


def _cells_broken_alone(linter, vm: VirtualModule, path: Path, shown: str) -> List[Tuple[int, Finding]]:
    """The cells that CPython rejects each on its own, as IPython compiles them,
    with their HPL000 at module lines. In the joined module, a cell ending in a
    `def` without a body fails at the first line of the next code cell, which
    is not where the error is."""
    from .analysis.source import check_with_cpython

    lines = split_lines(vm.text)
    out: List[Tuple[int, Finding]] = []
    for cell, (first, count) in vm.ranges.items():
        error = check_with_cpython("".join(lines[first - 1:first - 1 + count]))
        if not isinstance(error, SourceError) or error.limitation:
            continue
        # Lines in the cell -> module lines, in the position and in the message
        # ("... after function definition on line 6"), which LineMap says in cells.
        line = first - 1 + min(max(error.line, 1), max(count, 1))
        message = _shift_line_refs(error.message, first - 1)
        shifted = SourceError(message, line, error.col)
        out.append((cell, linter.source_error_result(shown, shifted, vm.text, path).findings[0]))
    return out


def _shift_line_refs(message: str, offset: int) -> str:
    """`... on line 6` -> `... on line 6 + offset`."""
    return _LINE_REF.sub(lambda m: f"{m.group(1) + ' ' if m.group(1) else ''}line {offset + int(m.group(2))}", message)


def lint_notebook_text(linter, text: str, path: Path, shown: str) -> FileResult:
    nb = read_notebook(text)
    if isinstance(nb, SourceError):
        return error_result(linter, shown, nb, text, path)
    result, vm = lint_virtual(linter, nb, path, shown)
    return map_result(result, nb, vm, shown, text)


def map_result(result: FileResult, nb: Notebook, vm: VirtualModule, shown: str, text: str) -> FileResult:
    lmap = LineMap(nb, vm)
    findings = [lmap.finding(f, shown) for f in result.findings]
    findings.sort(key=lambda f: (f.cell or 0, f.span.start_line, f.span.start_col, f.code))
    return FileResult(result.path, findings, text, list(result.errors))


def probe_view(text: str) -> Optional[Tuple[str, Dict[Tuple[int, int], int]]]:
    """What `hplint probe` ran for this notebook (the joined, masked code cells)
    and (cell, line in cell) -> line of that script; None for a broken notebook.
    Columns are the same in both (masking replaces whole lines)."""
    nb = read_notebook(text)
    if isinstance(nb, SourceError):
        return None
    vm = virtual_module(nb)
    return vm.text, {where: line for line, where in enumerate(vm.lines) if line >= 1}


# -- fixing ----------------------------------------------------------------------------
@dataclass
class NotebookFixOutcome:
    original: str
    text: str
    result: FileResult  # mapped to cells: what is left to report
    fixed: List[Finding] = field(default_factory=list)
    changed_cells: Dict[int, Tuple[str, str]] = field(default_factory=dict)  # cell -> (before, after)

    @property
    def changed(self) -> bool:
        return self.text != self.original


def _cell_edits(fix: Fix, lmap: LineMap, vm: VirtualModule) -> Optional[List[Tuple[int, TextEdit]]]:
    """A fix's module edits as (cell, cell-relative edit), or None when an edit
    does not lie inside one cell."""
    out = []
    for e in fix.edits:
        s = e.span
        cell, start = lmap.cell_of(s.start_line)
        end_cell, end = lmap.cell_of(s.end_line)
        if cell in vm.dedented or end_cell in vm.dedented:
            return None  # written for the dedented lines, not the cell's own
        if s.end_line > s.start_line and end_cell != cell:
            first, count = vm.ranges.get(cell, (0, 0))
            if s.end_line == first + count and s.end_col == 1:  # up to the end of the cell's last line
                end = count + 1
            else:
                return None
        out.append((cell, TextEdit(Span(start, s.start_col, end, s.end_col), e.new_text, cell)))
    return out


def fix_notebook_text(linter, text: str, path: Path, shown: str, *, unsafe: bool = False,
                      max_passes: int = 5) -> NotebookFixOutcome:
    from .analysis.source import parse_source
    from .fix.apply import apply_edits, fix_applies

    nb = read_notebook(text)
    if isinstance(nb, SourceError):
        return NotebookFixOutcome(text, text, error_result(linter, shown, nb, text, path))
    original_sources = {c.index: c.source for c in nb.cells}
    current = text
    result, vm = lint_virtual(linter, nb, path, shown)
    fixed: List[Finding] = []
    errors: List[str] = []
    for _ in range(max_passes):
        lmap = LineMap(nb, vm)
        candidates = sorted((f for f in result.findings if fix_applies(f.fix, unsafe)),
                            key=lambda f: (f.span.start_line, f.span.start_col, f.code))
        mapped = [(f, _cell_edits(f.fix, lmap, vm)) for f in candidates]
        mapped = [(f, edits) for f, edits in mapped if edits is not None]
        if not mapped:
            break
        new_module, applied = apply_edits(vm.text, [f.fix for f, _ in mapped])
        if not applied:
            break
        tree = parse_source(new_module)
        if isinstance(tree, SourceError):
            codes = ", ".join(sorted({mapped[i][0].code for i in applied}))
            errors.append(f"internal error: fixes for {codes} on {shown} produced invalid Python "
                          f"({tree.message}); those fixes were not applied")
            break
        per_cell: Dict[int, List[TextEdit]] = {}
        for i in applied:
            for cell, edit in mapped[i][1]:
                per_cell.setdefault(cell, []).append(edit)
        sources = {}
        for cell, edits in per_cell.items():
            new_source, done = apply_edits(nb.cell(cell).source, [Fix("", tuple(edits))])
            if done:
                sources[cell] = new_source
        if not sources:
            break
        current = splice_sources(nb, sources)
        nb = read_notebook(current)
        if isinstance(nb, SourceError):  # pragma: no cover - splice writes valid JSON
            errors.append(f"internal error: fixing {shown} produced an invalid notebook; left unchanged")
            current = text
            nb = read_notebook(text)
            result, vm = lint_virtual(linter, nb, path, shown)
            fixed = []
            break
        fixed.extend(mapped[i][0] for i in applied)
        result, vm = lint_virtual(linter, nb, path, shown)
    final = map_result(result, nb, vm, shown, current)
    final.errors.extend(errors)
    changed = {c.index: (original_sources.get(c.index, ""), c.source) for c in nb.cells
               if original_sources.get(c.index) != c.source}
    return NotebookFixOutcome(text, current, final, fixed, changed)


def cell_diff(outcome: NotebookFixOutcome, shown: str) -> str:
    """`--diff` for a notebook: one unified diff per changed cell."""
    out: List[str] = []
    for cell in sorted(outcome.changed_cells):
        before, after = outcome.changed_cells[cell]
        a = before.splitlines(keepends=True)
        b = after.splitlines(keepends=True)
        for line in difflib.unified_diff(a, b, f"a/{shown} (cell {cell})", f"b/{shown} (cell {cell})"):
            out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(out)


# -- writing back ----------------------------------------------------------------------
def _ascii_escaped(text: str) -> bool:
    """Whether the file writes non-ASCII characters as \\u escapes."""
    return text.isascii() and "\\u" in text


def _encode_list(nb: Notebook, node: jsonpos.Node, new_source: str) -> str:
    text = nb.text
    ensure_ascii = _ascii_escaped(text)
    items = node.items or []
    reuse: Dict[str, str] = {}
    for item in items:
        if isinstance(item.value, str):
            reuse.setdefault(item.value, text[item.start:item.end])
    lines = new_source.splitlines(keepends=True)
    tokens = [reuse.get(line) or json.dumps(line, ensure_ascii=ensure_ascii) for line in lines]
    if not tokens:
        return "[]"
    if items:
        opening = text[node.start + 1:items[0].start]
        closing = text[items[-1].end:node.end - 1]
        separator = text[items[0].end:items[1].start] if len(items) > 1 else None
    else:
        opening = closing = separator = None
    if separator is None:
        # nbformat's layout: one element per line, one space deeper than the key
        line_start = text.rfind("\n", 0, node.start) + 1
        key_indent = text[line_start:node.start]
        key_indent = key_indent[: len(key_indent) - len(key_indent.lstrip())]
        if opening is None:
            opening = "\n" + key_indent + " "
            closing = "\n" + key_indent
        separator = "," + opening if opening.startswith("\n") else ", "
    return "[" + opening + separator.join(tokens) + closing + "]"


def splice_sources(nb: Notebook, sources: Dict[int, str]) -> str:
    """`nb.text` with the sources of the given cells replaced; every other byte kept."""
    text = nb.text
    pieces: List[Tuple[int, int, str]] = []
    for index, source in sources.items():
        node = nb.source_node(index)
        if node is None:
            continue
        if node.items is not None:
            new = _encode_list(nb, node, source)
        else:
            new = json.dumps(source, ensure_ascii=_ascii_escaped(text))
        pieces.append((node.start, node.end, new))
    for start, end, new in sorted(pieces, reverse=True):
        text = text[:start] + new + text[end:]
    return text


# -- the probe ---------------------------------------------------------------------------
@dataclass
class ProbeScript:
    """A notebook's code cells written out as one script for `hplint probe`."""

    path: Path  # the generated script (next to the notebook, so imports resolve alike)
    notebook: Path
    lmap: LineMap
    note: str  # what was skipped, for the user

    def remove(self) -> None:
        try:
            self.path.unlink()
        except OSError:
            pass

    def map_text(self, text: str) -> str:
        """Positions in the generated script, said in cells of the notebook."""
        if not isinstance(text, str) or self.path.name not in text:
            return text
        names = sorted({str(self.path), os.path.relpath(self.path), self.path.name}, key=len, reverse=True)
        pattern = re.compile("(?:" + "|".join(re.escape(n) for n in names) + r')(?:", line |:)(\d+)')
        return pattern.sub(lambda m: f"{self.notebook.name}:{self.lmap.line_label(int(m.group(1)))}", text)

    def map_report(self, report: dict, shown: str) -> dict:
        """The probe report with the notebook's cells instead of the script's lines."""
        script = str(self.path)
        for finding in report.get("findings", []):
            if finding.get("abs_path") == script:
                cell, line = self.lmap.cell_of(int(finding.get("line", 1)))
                finding.update(path=shown, abs_path=str(self.notebook.resolve()), cell=cell, line=line)
                if isinstance(finding.get("message"), str):  # the static message speaks of script lines
                    finding["message"] = _LINE_REF.sub(
                        lambda m: ("in " if m.group(1) else "") + self.lmap.line_label(int(m.group(2))),
                        finding["message"])
            for key in ("message", "summary"):
                finding[key] = self.map_text(finding.get(key))
        for key in ("error", "traceback", "output_tail"):
            if isinstance(report.get(key), str):
                report[key] = self.map_text(report[key])
        report["script"] = shown
        report["abs_script"] = str(self.notebook.resolve())
        report["notebook_note"] = self.note
        return report


def write_probe_script(path: Path) -> Union[ProbeScript, SourceError]:
    """Write the notebook's code cells, in order and with IPython syntax
    masked, as a hidden script next to it."""
    from .analysis.source import decode_source

    data = Path(path).read_bytes()
    text = decode_source(data)
    if isinstance(text, SourceError):
        return text
    nb = read_notebook(text)
    if isinstance(nb, SourceError):
        return nb
    vm = virtual_module(nb)
    masked_cells = sorted({vm.lines[i][0] for i, line in enumerate(vm.text.splitlines(), start=1)
                           if line.strip() == "pass" and split_lines(nb.cell(vm.lines[i][0]).source)[
                               vm.lines[i][1] - 1].strip() != "pass"})
    note = (f"{vm.masked} IPython magic/shell line{'s' if vm.masked != 1 else ''} skipped "
            f"(cell{'s' if len(masked_cells) != 1 else ''} {', '.join(map(str, masked_cells))})"
            if vm.masked else "")
    script = Path(path).resolve().parent / f".{Path(path).stem}.hplint-probe.py"
    script.write_text(vm.text, encoding="utf-8")
    return ProbeScript(script, Path(path), LineMap(nb, vm), note)
