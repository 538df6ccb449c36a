"""Where to report a finding about an edge of the model graph.

An edge can join layers from different files (a block helper imported from
`layers.py`, a sub-model class from `models.py`). Each file reports only what
it is responsible for, so linting a whole project gives each problem once:
the layer's own construction when it is in this file, else the call in this
file that brought the layer in (the helper call, the sub-model instantiation).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Tuple

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


def group_by_location(edges: Iterable[Any], ctx) -> List[List[Tuple[Any, cst.CSTNode, Any]]]:
    """The edges this file reports, one group per reported node (a layer that
    feeds several BatchNorms, DenseNet's concatenations, is one finding), each
    BatchNorm once: [(ctx of the node, node, edge), ...] per group, in order."""
    located = [(where, edge) for edge in edges for where in [primary_location(edge, ctx)] if where is not None]
    # A pair of another file's layers that several calls of this file bring in
    # (MUNIT's `Dec1 = Decoder(...)`, `Dec2 = Decoder(...)`) is one defect: it is
    # reported once, at the first of those calls.
    first: Dict[Tuple[int, int], Tuple[int, int]] = {}
    for (_, node), edge in located:
        if node is edge.src.entry:
            key, at = (id(edge.src.node), id(edge.dst.node)), _position(ctx, node)
            first[key] = min(first.get(key, at), at)
    groups: Dict[int, List[Tuple[Any, cst.CSTNode, Any]]] = {}
    for (node_ctx, node), edge in located:
        if node is edge.src.entry and _position(ctx, node) != first[(id(edge.src.node), id(edge.dst.node))]:
            continue
        group = groups.setdefault(id(node), [])
        if all(other.dst.node is not edge.dst.node for _, _, other in group):
            group.append((node_ctx, node, edge))  # not the same pair along another transparent path
    return list(groups.values())


def _position(ctx, node: cst.CSTNode) -> Tuple[int, int]:
    span = ctx.span(node)
    return span.start_line, span.start_col


def more_batchnorms(count: int) -> str:
    """`, and 2 more BatchNorms` after the first BatchNorm's location."""
    return f", and {count} more BatchNorm{'s' if count > 1 else ''}" if count else ""
