"""Turning bytes into a libcst module, or into a precise reason why not."""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass
from typing import Optional, Union

import libcst as cst


@dataclass(frozen=True)
class SourceError:
    """Why a file could not be analysed, and where (1-based)."""

    message: str
    line: int = 1
    col: int = 1


def decode_source(data: bytes) -> Union[str, SourceError]:
    """Decode like the interpreter does: a BOM or PEP 263 coding line, else UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        # Raised for undecodable bytes in the first two lines as well as for a
        # bad coding line; decoding as UTF-8 below tells which, with a position.
        encoding = "utf-8"
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            pass
        else:
            return SourceError(f"cannot decode file: {exc.msg if hasattr(exc, 'msg') else exc}")
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            line = data.count(b"\n", 0, exc.start) + 1
            col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            return SourceError(
                f"cannot decode file as {encoding}: byte 0x{data[exc.start]:02x} is not valid ({exc.reason})",
                line,
                col,
            )
        return SourceError(f"cannot decode file: unknown encoding {encoding!r}")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


# Deeper expressions than this are refused before parsing: libcst's recursive
# parser spends minutes (or overflows the C stack) on machine-generated nesting.
MAX_NESTING = 200
_SUSPICIOUS_LINE = 2000


def nesting_problem(text: str) -> Optional[SourceError]:
    """Cheap guard: only files with very long lines are checked with `ast`."""
    if not text or max(map(len, text.splitlines()), default=0) < _SUSPICIOUS_LINE:
        return None
    import ast

    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        return SourceError(f"syntax error: {exc.msg}", exc.lineno or 1, (exc.offset or 1))
    except (RecursionError, MemoryError, ValueError) as exc:
        return SourceError(f"file is nested too deeply to analyse ({type(exc).__name__})")
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            line = getattr(node, "lineno", 1)
            return SourceError(
                f"expression nested more than {MAX_NESTING} levels deep; hplint does not analyse such files",
                line, getattr(node, "col_offset", 0) + 1,
            )
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return None


def parse_source(text: str) -> Union[cst.Module, SourceError]:
    problem = nesting_problem(text)
    if problem is not None:
        return problem
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        # CPython's own parser names the position and reason users know from
        # tracebacks ("'(' was never closed"); libcst's native parser reports
        # the token after the error. Ask CPython only when libcst failed.
        cpython = _cpython_syntax_error(text)
        if cpython is not None:
            return cpython
        reason = str(exc.message).strip().splitlines()[0] if exc.message else "invalid syntax"
        return SourceError(f"syntax error: {reason}", max(exc.raw_line, 1), exc.raw_column + 1)
    except RecursionError:
        return SourceError("file is nested too deeply to analyse")
    except Exception as exc:  # libcst raises a few non-ParserSyntaxError errors on odd input
        return SourceError(f"cannot parse file: {type(exc).__name__}: {exc}")


def _cpython_syntax_error(text: str) -> Optional[SourceError]:
    import ast
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except SyntaxError as exc:
        return SourceError(f"syntax error: {exc.msg}", exc.lineno or 1, exc.offset or 1)
    except (RecursionError, MemoryError, ValueError):
        return None
    return None
