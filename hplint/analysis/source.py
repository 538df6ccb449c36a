"""Turning bytes into a libcst module, or into a precise reason why not."""

from __future__ import annotations

import bisect
import sys
from dataclasses import dataclass
from typing import Any, Iterator, List, NamedTuple, Optional, Tuple, Union

import libcst as cst

# SourceError and decode_source live in hplint.source_text (no libcst there);
# importing them from here keeps working.
from ..source_text import SourceError, decode_source  # noqa: F401
from ..text_lines import NEWLINE, line_starts, split_lines
from .cst_parse import parse_module

# CPython's parser runs first on every file: it is ~8x faster than libcst, its
# verdict on what is valid Python is the one users know, and it tells where
# the top-level statements start (positions) and what libcst cannot survive.
# libcst's native parser overflows the C stack (a segfault, not an exception)
# on long flat chains such as a 10,000-term `and`, and needs time quadratic in
# the depth of `a + a + ...` or `a.b.c...` chains spread over many lines.
MAX_CHAIN_DEPTH = 1000
MAX_OPERANDS = 3000
# Statements smaller than this cannot hold such an expression; only larger
# ones are walked node by node, so the check costs next to nothing.
_SMALL_STATEMENT_LINES = 200
_SMALL_STATEMENT_CHARS = 4000
# The newest syntax libcst reads (PEP 695 type parameters, PEP 701 f-strings):
# on an older Python, a file CPython rejects may still be valid there.
_NEWEST_SYNTAX = (3, 14)


@dataclass(frozen=True)
class CheckedSource:
    """A text CPython accepts and libcst can safely parse, with CPython's tree."""

    ast_module: Any


def check_with_cpython(text: str) -> Union[CheckedSource, SourceError]:
    """CPython's verdict on `text`, then the limits libcst needs."""
    import ast
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for "\d" and friends
            tree = ast.parse(text)
    except (SyntaxError, ValueError) as exc:  # ValueError: null bytes, on some versions
        nul = text.find("\0")
        if nul >= 0 and "null bytes" in str(exc):
            starts = line_starts(text)
            line = bisect.bisect_right(starts, nul)
            return SourceError("syntax error: source code cannot contain null bytes", line, nul - starts[line - 1] + 1)
        if isinstance(exc, ValueError):
            return SourceError(f"syntax error: {exc}")
        return SourceError(f"syntax error: {exc.msg}", exc.lineno or 1, exc.offset or 1,
                           # Indentation rules are the same in every Python 3: an
                           # IndentationError is never syntax of a newer version (and
                           # libcst's laxer tokenizer would read such a file differently).
                           maybe_newer_syntax="nested" not in (exc.msg or "") and not isinstance(exc, IndentationError))
    except (RecursionError, MemoryError):
        return SourceError("expression nested too deeply: Python itself cannot compile this file "
                           "(RecursionError during parsing)")
    problem = _too_complex_for_libcst(tree, text)
    return problem or CheckedSource(tree)


def every_statement(module: Any) -> Iterator[Any]:
    """Every statement of CPython's tree, nested ones included (last first)."""
    import ast

    statements = list(module.body)
    while statements:
        stmt = statements.pop()
        for field_name in ("body", "orelse", "finalbody", "handlers", "cases"):
            inner = getattr(stmt, field_name, None)
            if isinstance(inner, list):
                statements.extend(s for s in inner if isinstance(s, ast.AST))
        yield stmt


def _too_complex_for_libcst(tree: Any, text: str) -> Optional[SourceError]:

    line_lengths: Optional[List[int]] = None
    for stmt in every_statement(tree):
        lines = (stmt.end_lineno or stmt.lineno) - stmt.lineno + 1 if hasattr(stmt, "lineno") else 1
        if lines <= _SMALL_STATEMENT_LINES:
            if line_lengths is None:
                line_lengths = [len(line) for line in split_lines(text)]
            first = getattr(stmt, "lineno", 1) - 1
            if sum(line_lengths[first:first + lines]) <= _SMALL_STATEMENT_CHARS:
                continue
        problem = _expression_problem(stmt)
        if problem is not None:
            return problem
    return None


def _expression_problem(stmt: Any) -> Optional[SourceError]:
    """Walk one large statement's expressions (not its nested statements)."""
    import ast

    nested_statement_fields = ("body", "orelse", "finalbody", "handlers", "cases")
    # Nested statements are checked on their own (match_case exists from 3.10).
    statement_kinds = (ast.stmt, ast.excepthandler) + ((ast.match_case,) if hasattr(ast, "match_case") else ())
    stack: List[Tuple[Any, int]] = []
    for name, value in ast.iter_fields(stmt):
        if name in nested_statement_fields and isinstance(value, list) and value and isinstance(value[0], statement_kinds):
            continue
        for child in (value if isinstance(value, list) else [value]):
            if isinstance(child, ast.AST):
                stack.append((child, 1))
    while stack:
        node, depth = stack.pop()
        if depth > MAX_CHAIN_DEPTH:
            return SourceError(
                f"expression nested more than {MAX_CHAIN_DEPTH} levels deep; hplint does not analyse such "
                "files (its parser, libcst, would take minutes or crash)",
                getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1, limitation=True)
        operands = getattr(node, "values", None) if isinstance(node, ast.BoolOp) else (
            getattr(node, "comparators", None) if isinstance(node, ast.Compare) else None)
        if operands is not None and len(operands) > MAX_OPERANDS:
            return SourceError(
                f"expression with more than {MAX_OPERANDS} operands in one chain; hplint does not analyse "
                "such files (its parser, libcst, would crash)",
                node.lineno, node.col_offset + 1, limitation=True)
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1))
    return None


class Parsed(NamedTuple):
    """A text's libcst tree, CPython's (None for syntax newer than this
    Python), and the lines of the data literals left out of libcst's tree."""

    tree: cst.Module
    ast_module: Any
    elided: Tuple[Tuple[int, int], ...] = ()


def parse_checked(text: str) -> Union[Parsed, SourceError]:
    """libcst's tree of `text` and CPython's, or why there is none."""
    checked = check_with_cpython(text)
    if isinstance(checked, SourceError):
        if checked.maybe_newer_syntax and sys.version_info < _NEWEST_SYNTAX:
            # Syntax of a newer Python than this one: libcst's grammar knows it.
            # CPython's tree is missing, so positions take the slower exact path.
            newer = _parse_with_libcst(text)
            if not isinstance(newer, SourceError):
                return Parsed(newer, None)
        return checked
    literals = data_literals(checked.ast_module, text)
    tree = _parse_with_libcst(elide(text, literals) if literals else text)
    if isinstance(tree, SourceError):
        return tree
    return Parsed(tree, checked.ast_module, tuple((first, last) for first, last, _, _ in literals))


# A literal of constants this large is data, not training code: a tuning table
# (torch/sparse/_triton_ops_meta.py: one 480 KB dict of tuples of numbers, whose
# libcst tree took 640 MB and 6 s to build), a vocabulary, embedded weights.
# libcst is given an empty literal of the same lines in its place, so every
# position outside it is unchanged; no rule reads numbers from such a table.
DATA_LITERAL_CHARS = 64 * 1024


def data_literals(module: Any, text: str) -> List[Tuple[int, int, int, int]]:
    """(first line, last line, start offset, end offset) of every bracketed
    literal of constants of at least DATA_LITERAL_CHARS that is the value of a
    statement (`TABLE = {...}`, `x: T = [...]`, a bare literal, `return (...)`)."""
    import ast

    line_lengths: Optional[List[int]] = None
    starts: Optional[List[int]] = None
    found = []
    for stmt in every_statement(module):
        value = getattr(stmt, "value", None) if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.Expr,
                                                                   ast.Return)) else None
        if not isinstance(value, (ast.Dict, ast.List, ast.Tuple, ast.Set)) or value.end_lineno is None or \
                value.end_col_offset is None:
            continue
        if line_lengths is None:
            lines = split_lines(text, keepends=True)
            line_lengths, starts = [len(line) for line in lines], line_starts(text)
        assert starts is not None
        if sum(line_lengths[value.lineno - 1:value.end_lineno]) < DATA_LITERAL_CHARS:
            continue
        start = starts[value.lineno - 1] + _char_column(text, starts[value.lineno - 1], value.col_offset)
        end = starts[value.end_lineno - 1] + _char_column(text, starts[value.end_lineno - 1], value.end_col_offset)
        if end - start >= DATA_LITERAL_CHARS and _constants_only(value) and \
                text[start] + text[end - 1] in ("{}", "[]", "()"):
            found.append((value.lineno, value.end_lineno, start, end))
    return sorted(found)


def _char_column(text: str, line_start: int, byte_column: int) -> int:
    """CPython's UTF-8 byte column on the line starting at `line_start`, in characters."""
    head = text[line_start:line_start + byte_column]
    if head.isascii():
        return byte_column
    return len(text[line_start:line_start + byte_column * 4].encode("utf-8")[:byte_column]
               .decode("utf-8", errors="ignore"))


def _constants_only(node: Any) -> bool:
    import ast

    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Constant):
            continue
        if isinstance(n, (ast.Tuple, ast.List, ast.Set)):
            stack.extend(n.elts)
        elif isinstance(n, ast.Dict) and None not in n.keys:  # `**spread` is code
            stack.extend(n.keys)
            stack.extend(n.values)
        elif isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)):
            stack.append(n.operand)
        elif isinstance(n, (ast.Name, ast.Attribute)) and _dotted(n):
            continue  # `torch.int8`, `inf`: a value named, nothing run
        else:
            return False
    return True


def _dotted(node: Any) -> bool:
    import ast

    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def elide(text: str, literals: List[Tuple[int, int, int, int]]) -> str:
    """`text` with each literal emptied: its brackets kept, its line breaks
    kept, and its closing bracket in the same column."""
    out, at = [], 0
    for _, _, start, end in literals:
        inner = text[start + 1:end - 1]
        breaks = "".join(m.group(0) for m in NEWLINE.finditer(inner))
        last = max(inner.rfind("\n"), inner.rfind("\r"))
        out += [text[at:start + 1], breaks, " " * (len(inner) - last - 1), text[end - 1]]
        at = end
    out.append(text[at:])
    return "".join(out)


def _mixed_indentation_line(text: str) -> Optional[int]:
    """The first line whose indentation holds both tabs and spaces, or None."""
    for number, line in enumerate(text.splitlines(), 1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if " " in indent and "\t" in indent and line.strip():
            return number
    return None


def parse_source(text: str) -> Union[cst.Module, SourceError]:
    parsed = parse_checked(text)
    return parsed if isinstance(parsed, SourceError) else parsed.tree


def _parse_with_libcst(text: str) -> Union[cst.Module, SourceError]:
    try:
        return parse_module(text)
    except cst.ParserSyntaxError as exc:
        # CPython accepted the text, so this is a limit of libcst's parser
        # (e.g. a backslash continuation before CRLF), not the user's mistake.
        if "\\\r\n" in text:
            # A backslash continuation before CRLF at the end of the file. Line
            # breaks do not move columns: the LF spelling (with a final line)
            # has nodes at the same positions; edits keep the file's newlines.
            try:
                return parse_module(text.replace("\r\n", "\n") + "\n")
            except Exception:
                pass
        reason = str(exc.message).strip().splitlines()[0] if exc.message else "invalid syntax"
        mixed = _mixed_indentation_line(text) if "dedent" in reason or "indent" in reason else None
        if mixed is not None:
            return SourceError(
                f"hplint cannot analyse this file: it is valid Python, but line {mixed} is indented with tabs "
                f"and spaces mixed, which hplint's parser (libcst) does not follow (LibCST issue #829); "
                f"indent with spaces only", mixed, 1, limitation=True)
        return SourceError(
            f"hplint cannot analyse this file: it is valid Python, but hplint's parser (libcst) rejects it "
            f"({reason})", max(exc.raw_line, 1), exc.raw_column + 1, limitation=True)
    except RecursionError:
        return SourceError("hplint cannot analyse this file: it is nested too deeply for hplint's parser (libcst)",
                           limitation=True)
    except Exception as exc:  # libcst raises a few non-ParserSyntaxError errors on odd input
        return SourceError(f"hplint cannot analyse this file: {type(exc).__name__}: {exc}", limitation=True)
