"""Source text for a replacement node, indented as it will stand in the file.

`Module.code_for_node` renders a node outside its blocks: continuation lines
inside brackets (libcst's `ParenthesizedWhitespace(indent=True)`) lose the
enclosing block's indentation, so a multi-line call fixed inside a method
would come back dedented. Here the enclosing indentation is recovered by
re-rendering the *original* node with candidate indents (the leading
whitespace of its line and the lines above) until it reproduces the file's
text exactly, and the replacement is rendered with that indent. Single-line
nodes need none of this. Uses libcst's `CodegenState` (internal API, stable
since libcst 0.3) because the public API has no way to pass an indent.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst
from libcst._nodes.internal import CodegenState

from ..findings import Span
from .apply import line_starts, to_offset

_MAX_LOOKBACK = 200


def render(module: cst.Module, node: cst.CSTNode, indent: str = "") -> str:
    state = CodegenState(default_indent=module.default_indent, default_newline=module.default_newline)
    if indent:
        state.indent_tokens.append(indent)
    node._codegen(state)
    return "".join(state.tokens)


def _enclosing_indent(module: cst.Module, original: cst.CSTNode, text: str, span: Span) -> Optional[str]:
    starts = line_starts(text)
    start = to_offset(text, starts, span.start_line, span.start_col)
    end = to_offset(text, starts, span.end_line, span.end_col)
    if start is None or end is None:
        return None
    current = text[start:end]
    seen = set()
    for line_no in range(span.start_line, max(0, span.start_line - _MAX_LOOKBACK), -1):
        line_end = starts[line_no] if line_no < len(starts) else len(text)
        line = text[starts[line_no - 1]:line_end]
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if indent in seen:
            continue
        seen.add(indent)
        if render(module, original, indent) == current:
            return indent
    return None


def replacement_code(module: cst.Module, original: cst.CSTNode, replacement: cst.CSTNode,
                     text: str, span: Span) -> str:
    """The code for `replacement`, to be written over `original` at `span`."""
    if span.start_line == span.end_line:
        return render(module, replacement)
    indent = _enclosing_indent(module, original, text, span)
    return render(module, replacement, indent or "")
