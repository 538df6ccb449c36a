"""Incremental parsing for the editor: re-parse only what an edit touched.

libcst has no incremental mode and parses ~5-8k lines/s here, so a full parse
of a 2,000-line file costs far more than an editor's latency budget. CPython's
own parser is ~10x faster and tells where every top-level statement starts.
The document is cut into chunks at those lines; each chunk is parsed with
libcst once and kept by its text, so after an edit only the changed chunk is
parsed again and the module is reassembled from cached statement nodes.

Unchanged statements keep their node objects across versions, which also lets
source positions (computed per top-level statement) be reused.

Anything unusual (a syntax error, a chunk libcst refuses alone) returns None
and the caller parses the whole text the ordinary way.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import libcst as cst

from ..text_lines import split_lines
from .source import SourceError, check_with_cpython


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
        self._current: Dict[int, Tuple[Any, Any]] = {}
        self._previous: Dict[int, Tuple[Any, Any]] = {}

    def get(self, node: Any) -> Any:
        key = id(node)
        hit = self._current.get(key)
        if hit is None:
            hit = self._previous.get(key)
            if hit is None or hit[0] is not node:
                return None
            self._current[key] = hit
        return hit[1] if hit[0] is node else None

    def put(self, node: Any, value: Any) -> None:
        self._current[id(node)] = (node, value)

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
        module = cst.parse_module(text)
        has_block = any(isinstance(getattr(stmt, "body", None), cst.IndentedBlock) for stmt in module.body)
        return cls(tuple(module.body), module.default_indent if has_block else None,
                   module.default_newline if ("\n" in text or "\r" in text) else None)


class IncrementalParser:
    """One per open document."""

    def __init__(self) -> None:
        self._chunks: Dict[str, List[_Chunk]] = {}
        # id(statement) -> (statement, positions, its line inside its own sub-module);
        # shared with ModuleContext.span so unchanged statements keep their positions.
        self.positions: Dict[int, Tuple[Any, Any, int]] = {}
        # id(statement) -> (statement, its calls, functions, classes, imports): ModuleContext's index.
        self.index: Dict[int, Tuple[Any, ...]] = {}
        self.memo = NodeMemo()

    def parse(self, text: str) -> Optional[Tuple[cst.Module, Dict[int, int]]]:
        checked = check_with_cpython(text)
        if isinstance(checked, SourceError):
            return None  # parse_checked reports it
        body = checked.ast_module.body
        if not body:
            return None
        starts: List[int] = [1]
        previous_end = body[0].end_lineno or body[0].lineno
        for stmt in body[1:]:
            decorators = getattr(stmt, "decorator_list", None) or []
            start = min([stmt.lineno] + [d.lineno for d in decorators])
            if start > previous_end:  # `a = 1; b = 2` stays in one chunk
                starts.append(start)
            previous_end = stmt.end_lineno or stmt.lineno
        lines = split_lines(text, keepends=True)
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
        self.memo.advance()
        live = {id(s) for s in statements}
        self.positions = {k: v for k, v in self.positions.items() if k in live}
        self.index = {k: v for k, v in self.index.items() if k in live}
        module = cst.Module(body=statements, default_indent=indent, default_newline=newline,
                            has_trailing_newline=text.endswith(("\n", "\r")))
        return module, top_lines
