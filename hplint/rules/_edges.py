"""Where to report a finding about an edge of the model graph.

An edge can join layers from different files (a block helper imported from
`layers.py`, a sub-model class from `models.py`). Each file reports only what
it is responsible for, so linting a whole project gives each problem once:
the layer's own construction when it is in this file, else the call in this
file that brought the layer in (the helper call, the sub-model instantiation).
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import libcst as cst


def primary_location(edge, ctx) -> Optional[Tuple[Any, cst.CSTNode]]:
    src, dst = edge.src, edge.dst
    if src.entry is None:
        # Built in this file (or, for a foreign layer, reported by its own file).
        return (ctx, src.node) if src.ctx is ctx else None
    if dst.entry is src.entry and (src.entry_round == dst.entry_round or src.functional or dst.functional):
        return None  # both inside one call of a foreign helper/class: its own file reports it
    # Another call of it (a loop stacking a foreign block): only this file sees the two meet.
    return ctx, src.entry


def describe_location(layer, ctx) -> str:
    """`line 12` in the same file, `models.py:12` in another one."""
    line = layer.ctx.span(layer.node).start_line
    if layer.ctx is ctx:
        return f"line {line}"
    return f"{layer.ctx.path.name}:{line}"
