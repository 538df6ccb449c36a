"""Positions of call expressions read from CPython's `ast`, which the linter
already has for the file, instead of libcst's PositionProvider.

Why: nine in ten findings sit on a call (`nn.Linear(...)`, `optim.Adam(...)`),
and the PositionProvider re-generates the code of the statement holding it,
token by token, to learn where anything is: a quarter of a batch run on a
corpus with a finding every 30 lines. CPython's tree carries every call's
range already.

How a libcst call is matched to CPython's: by its source text. Among the calls
of the same top-level statement, the one whose source text is the libcst
node's code (whitespace runs collapsed on both sides) is that node, provided
there is exactly one such call. A
call whose text repeats in its statement (`nn.ReLU()` twice in a
`Sequential`), a call with parentheses of its own (`(f(x))`), a statement
CPython's tree does not line up with: None, and the caller takes libcst's way.
So a position from here is never a guess.
"""

from __future__ import annotations

import ast
from typing import Callable, Dict, List, Optional, Tuple

import libcst as cst

from ..findings import Span

Range = Tuple[int, int, int, int]  # CPython's lineno, col_offset, end_lineno, end_col_offset (UTF-8 bytes)


class CallPositions:
    """Call positions for one file, a table per top-level statement."""

    def __init__(self, line_text: Callable[[int], str]) -> None:
        self._line_text = line_text
        self._tables: Dict[int, Tuple[cst.CSTNode, Dict[str, List[Range]]]] = {}

    def span(self, top: cst.CSTNode, statement: Optional[ast.AST], call: cst.Call, code: str) -> Optional[Span]:
        """The span of `call`, a node inside the libcst statement `top` whose
        CPython counterpart is `statement`; `code` is the call's source text."""
        if statement is None or call.lpar:
            return None
        if isinstance(top, cst.SimpleStatementLine) and len(top.body) > 1:
            return None  # `a = f(); b = g()`: CPython has one statement per part
        table = self._tables.get(id(top))
        if table is None or table[0] is not top:
            table = (top, self._calls_by_text(statement))
            self._tables[id(top)] = table
        found = table[1].get(_normal(code))
        if found is None or len(found) != 1:
            return None
        line, col, end_line, end_col = found[0]
        return Span(line, self._column(line, col) + 1, end_line, self._column(end_line, end_col) + 1)

    def _calls_by_text(self, statement: ast.AST) -> Dict[str, List[Range]]:
        table: Dict[str, List[Range]] = {}
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and node.end_lineno is not None and node.end_col_offset is not None:
                where = (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)
                text = self._text(where)
                if text is not None:
                    table.setdefault(_normal(text), []).append(where)
        return table

    def _text(self, where: Range) -> Optional[str]:
        line, col, end_line, end_col = where
        first = self._line_text(line)
        if not first:
            return None
        if line == end_line:
            return _bytes_slice(first, col, end_col)
        parts = [_bytes_slice(first, col, None)]
        for number in range(line + 1, end_line):
            parts.append(self._line_text(number))
        parts.append(_bytes_slice(self._line_text(end_line), 0, end_col))
        return "\n".join(parts)

    def _column(self, line: int, byte_col: int) -> int:
        text = self._line_text(line)
        if text.isascii():
            return byte_col
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", "replace"))


def _normal(code: str) -> str:
    """Text compared with whitespace runs collapsed: libcst renders a node
    outside its block, so a call spanning lines comes back dedented (and with
    the module's newline); its own CPython counterpart still compares equal,
    and two calls that differ only in spacing make the text ambiguous."""
    return " ".join(code.split())


def _bytes_slice(text: str, start: int, end: Optional[int]) -> str:
    if text.isascii():
        return text[start:end]
    return text.encode("utf-8")[start:end].decode("utf-8", "replace")
