"""Incremental parsing for the editor: re-parse only what an edit touched.

libcst has no incremental mode and parses ~5-8k lines/s here, so a full parse
of a 2,000-line file costs far more than an editor's latency budget. CPython's
own parser is ~10x faster and tells where every top-level statement starts.
The document is cut into chunks at those lines; each chunk is parsed with
libcst once and kept by its text, so after an edit only the changed chunk is
parsed again and the module is reassembled from cached statement nodes.

Unchanged statements keep their node objects across versions, which also lets
source positions (computed per top-level statement) be reused.

CPython's parse of a whole 2,000-line file is itself ~25% of an edit, so
after the first version only the edited region is given to CPython: the
chunks from the one holding the last unchanged line before the edit to the
one holding the first changed line's end. Region boundaries are top-level
statement starts at column 0, where the tokenizer holds no state (no open
bracket, string or continuation), and `ast.parse` checks syntax only (no
symbol table, no `__future__` placement), so the region parses alone exactly
when the file does; if the region does not parse alone, the whole text is
checked, as on the first version.

Anything unusual (a syntax error, a chunk libcst refuses alone) returns None
and the caller parses the whole text the ordinary way.
"""

from __future__ import annotations

import bisect
from typing import Any, Dict, List, Optional, Tuple

import libcst as cst

from ..text_lines import split_lines
from .cst_parse import parse_module
from .source import SourceError, check_with_cpython


class _Stmt:
    """What chunking needs of one of CPython's top-level statements (lines are 1-based)."""

    __slots__ = ("lineno", "end_lineno", "first")

    def __init__(self, lineno: int, end_lineno: int, first: int) -> None:
        self.lineno = lineno  # the statement's own line (`def`, not its decorators)
        self.end_lineno = end_lineno
        self.first = first  # its first line, decorators included

    @classmethod
    def of(cls, stmt: Any, offset: int = 0) -> "_Stmt":
        decorators = getattr(stmt, "decorator_list", None) or []
        end = stmt.end_lineno or stmt.lineno
        return cls(stmt.lineno + offset, end + offset, min([stmt.lineno] + [d.lineno for d in decorators]) + offset)

    def moved(self, delta: int) -> "_Stmt":
        return _Stmt(self.lineno + delta, self.end_lineno + delta, self.first + delta)


def _common_lines(old: List[str], new: List[str]) -> Tuple[int, int]:
    """(lines equal at the start, lines equal at the end, not overlapping the first)."""
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    return prefix, suffix


def statement_lines(cst_body, ast_body) -> Optional[Dict[int, int]]:
    """id(libcst top-level statement) -> its line, from CPython's statements.

    `a = 1; b = 2` is one libcst statement but two `ast` ones; both parsers
    place a decorated definition at its `def`/`class` line."""
    lines: Dict[int, int] = {}
    i = 0
    for stmt in cst_body:
        if i >= len(ast_body):
            return None
        lines[id(stmt)] = ast_body[i].lineno
        i += len(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else 1
    return lines if i == len(ast_body) else None


class NodeMemo:
    """Results computed from a node (say, the calls in an expression), kept
    across an editor's versions of one document while the node is still in it.

    libcst nodes are immutable, and unchanged statements keep their node
    objects, so a result keyed by node identity stays right. Entries live for
    one generation: a version's lookups copy what they hit from the previous
    version, and `advance()` drops the rest, so the memo never holds more than
    the nodes of the last version linted (nodes cannot be weakly referenced)."""

    def __init__(self) -> None:
        self._current: Dict[Any, Tuple[Any, Any]] = {}
        self._previous: Dict[Any, Tuple[Any, Any]] = {}

    def get(self, node: Any, kind: Any = None) -> Any:
        """The value put for `node` (under `kind`, when one node keys several
        results), or None."""
        key = id(node) if kind is None else (id(node), kind)
        hit = self._current.get(key)
        if hit is None:
            hit = self._previous.get(key)
            if hit is None or hit[0] is not node:
                return None
            self._current[key] = hit
        return hit[1] if hit[0] is node else None

    def put(self, node: Any, value: Any, kind: Any = None) -> None:
        self._current[id(node) if kind is None else (id(node), kind)] = (node, value)

    def advance(self) -> None:
        self._previous, self._current = self._current, {}

    def __len__(self) -> int:
        return len(self._current) + len(self._previous)


class _Chunk:
    """One top-level chunk parsed alone, with the settings libcst inferred for it."""

    __slots__ = ("statements", "indent", "newline")

    def __init__(self, statements: Tuple[cst.BaseStatement, ...], indent: Optional[str],
                 newline: Optional[str]) -> None:
        self.statements = statements
        # What libcst inferred, or None where the chunk gave it nothing to infer
        # from (no indented block; no line break) and any module default renders it.
        self.indent = indent
        self.newline = newline

    @classmethod
    def parse(cls, text: str) -> "_Chunk":
        module = parse_module(text)
        has_block = any(isinstance(getattr(stmt, "body", None), cst.IndentedBlock) for stmt in module.body)
        return cls(tuple(module.body), module.default_indent if has_block else None,
                   module.default_newline if ("\n" in text or "\r" in text) else None)


class IncrementalParser:
    """One per open document."""

    def __init__(self) -> None:
        self._chunks: Dict[str, List[_Chunk]] = {}
        # id(statement) -> (statement, positions, its line inside its own sub-module
        # [, id of the top-level statement holding it, for a nested line]);
        # shared with ModuleContext.span so unchanged statements keep their positions.
        self.positions: Dict[int, Tuple[Any, ...]] = {}
        # id(statement) -> (statement, its calls, functions, classes, imports): ModuleContext's index.
        self.index: Dict[int, Tuple[Any, ...]] = {}
        self.memo = NodeMemo()
        # The last version parsed: its lines, CPython's top-level statements, chunk starts.
        self._lines: List[str] = []
        self._body: List[_Stmt] = []
        self._starts: List[int] = []
        self.region_checks = 0  # versions whose syntax was checked on the edited region only

    def _statements(self, text: str, lines: List[str]) -> Optional[List[_Stmt]]:
        """CPython's top-level statements of `text`, or None if it is not
        valid (or libcst could not survive it)."""
        body = self._statements_by_region(lines)
        if body is not None:
            self.region_checks += 1
            return body
        checked = check_with_cpython(text)
        if isinstance(checked, SourceError):
            return None  # parse_checked reports it
        return [_Stmt.of(stmt) for stmt in checked.ast_module.body]

    def _statements_by_region(self, lines: List[str]) -> Optional[List[_Stmt]]:
        """The statements, checking only the edited region against the last
        version; None when that cannot be done (then the whole text is checked)."""
        old, starts = self._lines, self._starts
        if not starts or not old:
            return None
        prefix, suffix = _common_lines(old, lines)
        if prefix == len(old) == len(lines):
            return list(self._body)  # the same lines
        # Old chunks a..b are re-checked: from the one holding the last unchanged line
        # before the edit (inserted lines may continue it) to the one holding the last changed line.
        a = max(bisect.bisect_right(starts, max(prefix, 1)) - 1, 0)
        b = max(bisect.bisect_right(starts, max(len(old) - suffix, 1)) - 1, a)
        start = starts[a]
        old_end = starts[b + 1] if b + 1 < len(starts) else len(old) + 1  # exclusive
        delta = len(lines) - len(old)
        end = old_end + delta
        if start > prefix + 1 or old_end <= len(old) - suffix or end < start:
            return None  # the boundaries are not both on unchanged lines
        region = "".join(lines[start - 1:end - 1])
        checked = check_with_cpython(region)
        if isinstance(checked, SourceError):
            return None  # the whole text decides (and says where the error is)
        before = [s for s in self._body if s.lineno < start]
        after = [s.moved(delta) for s in self._body if s.lineno >= old_end]
        return before + [_Stmt.of(stmt, start - 1) for stmt in checked.ast_module.body] + after

    def parse(self, text: str) -> Optional[Tuple[cst.Module, Dict[int, int]]]:
        lines = split_lines(text, keepends=True)
        body = self._statements(text, lines)
        if not body:
            return None
        starts: List[int] = [1]
        previous_end = body[0].end_lineno
        for stmt in body[1:]:
            if stmt.first > previous_end:  # `a = 1; b = 2` stays in one chunk
                starts.append(stmt.first)
            previous_end = stmt.end_lineno
        # Chunks of the previous version, by text; a text may occur more than
        # once (identical statements), and each occurrence needs its own nodes:
        # findings, positions and caches are keyed by node identity.
        reusable = {chunk_text: list(parsed) for chunk_text, parsed in self._chunks.items()}
        chunks: Dict[str, List[_Chunk]] = {}
        statements: List[cst.BaseStatement] = []
        indents, newlines = set(), set()
        for k, start in enumerate(starts):
            end = starts[k + 1] if k + 1 < len(starts) else len(lines) + 1
            chunk_text = "".join(lines[start - 1:end - 1])
            candidates = reusable.get(chunk_text)
            parsed = candidates.pop(0) if candidates else None
            if parsed is None:
                try:
                    parsed = _Chunk.parse(chunk_text)
                except Exception:  # libcst refuses the piece alone: parse the whole text
                    return None
            chunks.setdefault(chunk_text, []).append(parsed)
            statements.extend(parsed.statements)
            if parsed.indent is not None:
                indents.add(parsed.indent)
            if parsed.newline is not None:
                newlines.add(parsed.newline)
        if len(indents) > 1 or len(newlines) > 1:
            # Statements indented differently (or mixed newlines): one module
            # default cannot render them all, so the whole text is parsed instead.
            return None
        indent = indents.pop() if indents else "    "
        newline = newlines.pop() if newlines else "\n"
        top_lines = statement_lines(statements, body)
        if top_lines is None:
            return None
        self._chunks = chunks  # keep what this version uses, drop the rest
        self._lines, self._body, self._starts = lines, body, starts
        self.memo.advance()
        live = {id(s) for s in statements}
        # Positions of lines nested in a compound statement name it last (module.span).
        self.positions = {k: v for k, v in self.positions.items() if k in live or (len(v) > 3 and v[3] in live)}
        self.index = {k: v for k, v in self.index.items() if k in live}
        module = cst.Module(body=statements, default_indent=indent, default_newline=newline,
                            has_trailing_newline=text.endswith(("\n", "\r")))
        return module, top_lines
