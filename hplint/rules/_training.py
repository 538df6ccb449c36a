"""Helpers shared by the training-loop rules (HPL005/006/008/009/010)."""

from __future__ import annotations

from typing import Optional


def where(layer, ctx) -> str:
    """`line 12` in the same file, `models.py:12` in another one."""
    line = layer.ctx.span(layer.node).start_line
    return f"line {line}" if layer.ctx is ctx else f"{layer.ctx.path.name}:{line}"


def line_of(ctx, node) -> int:
    return ctx.span(node).start_line


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
