"""Helpers shared by the training-loop rules (HPL005/006/008/009/010)."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ..analysis.walk import walk


def where(layer, ctx) -> str:
    """`line 12` in the same file, `models.py:12` in another one."""
    line = layer.ctx.span(layer.node).start_line
    return f"line {line}" if layer.ctx is ctx else f"{layer.ctx.path.name}:{line}"


def line_of(ctx, node) -> int:
    return ctx.span(node).start_line


def contains(outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
    return any(node is inner for node in walk(outer))


def first_statement(block) -> Optional[cst.CSTNode]:
    """The first statement of a block, after a docstring."""
    body = getattr(block, "body", None)
    if not isinstance(body, (list, tuple)) or not body:
        return None
    stmts = list(body)
    first = stmts[0]
    if len(stmts) > 1 and isinstance(first, cst.SimpleStatementLine) and len(first.body) == 1 and \
            isinstance(first.body[0], cst.Expr) and isinstance(first.body[0].value, (cst.SimpleString, cst.ConcatenatedString)):
        return stmts[1]
    return first


def clip_function(ctx) -> Optional[str]:
    """How this file can spell `torch.nn.utils.clip_grad_norm_`, or None."""
    names = ctx.imports.names
    for local, qn in names.items():
        if qn in ("torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad.clip_grad_norm_"):
            return local
    if names.get("torch") == "torch":
        return "torch.nn.utils.clip_grad_norm_"
    for local, qn in names.items():
        if qn == "torch.nn":
            return f"{local}.utils.clip_grad_norm_"
    return None
