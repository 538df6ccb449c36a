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

import ast
from typing import Any, Dict, List, Optional, Tuple

import libcst as cst

from .source import nesting_problem


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


class IncrementalParser:
    """One per open document."""

    def __init__(self) -> None:
        self._chunks: Dict[str, Tuple[cst.BaseStatement, ...]] = {}
        # id(statement) -> (statement, positions, its line inside its own sub-module);
        # shared with ModuleContext.span so unchanged statements keep their positions.
        self.positions: Dict[int, Tuple[Any, Any, int]] = {}
        # id(statement) -> (statement, its calls, functions, classes, imports): ModuleContext's index.
        self.index: Dict[int, Tuple[Any, ...]] = {}

    def parse(self, text: str) -> Optional[Tuple[cst.Module, Dict[int, int]]]:
        if nesting_problem(text) is not None:
            return None  # parse_source reports it
        try:
            body = ast.parse(text).body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
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
        lines = text.splitlines(keepends=True)
        chunks: Dict[str, Tuple[cst.BaseStatement, ...]] = {}
        statements: List[cst.BaseStatement] = []
        for k, start in enumerate(starts):
            end = starts[k + 1] if k + 1 < len(starts) else len(lines) + 1
            chunk = "".join(lines[start - 1:end - 1])
            parsed = self._chunks.get(chunk) or chunks.get(chunk)
            if parsed is None:
                try:
                    parsed = tuple(cst.parse_module(chunk).body)
                except Exception:  # libcst refuses the piece alone: parse the whole text
                    return None
            chunks[chunk] = parsed
            statements.extend(parsed)
        top_lines = statement_lines(statements, body)
        if top_lines is None:
            return None
        self._chunks = chunks  # keep what this version uses, drop the rest
        live = {id(s) for s in statements}
        self.positions = {k: v for k, v in self.positions.items() if k in live}
        self.index = {k: v for k, v in self.index.items() if k in live}
        return cst.Module(body=statements), top_lines
