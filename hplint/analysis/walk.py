"""A fast walk over a libcst tree.

libcst's own visitor machinery rebuilds every node's children and costs about
as much as parsing; hplint only reads the tree, so it walks the dataclass fields
that can hold nodes (skipping whitespace and punctuation), which is ~10x cheaper.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Iterator, Tuple, Type

import libcst as cst

_NOISE_PREFIXES = (
    "whitespace", "lpar", "rpar", "comma", "semicolon", "colon", "equal", "dot",
    "lbrace", "rbrace", "lbracket", "rbracket", "header", "footer", "leading_lines",
    "lines_after", "operator", "newline", "trailing_whitespace", "first_line",
    "empty_lines", "indent", "encoding", "default_newline", "default_indent",
    "has_trailing_newline", "asynchronous", "star",
)
_FIELDS: Dict[type, Tuple[str, ...]] = {}


# Field types that never hold a node worth visiting: plain values and bare names
# (a `Name` has no children; rules read `node.name`/`node.attr` directly).
_LEAF_TYPES = (str, bool, int, cst.Name)


def _fields(node_type: Type[cst.CSTNode]) -> Tuple[str, ...]:
    names = _FIELDS.get(node_type)
    if names is None:
        names = tuple(
            f.name for f in dataclasses.fields(node_type)
            if not f.name.startswith(_NOISE_PREFIXES)
            and not (isinstance(f.type, type) and issubclass(f.type, _LEAF_TYPES))
        )
        _FIELDS[node_type] = names
    return names


def child_fields(node_type: Type[cst.CSTNode]) -> Tuple[str, ...]:
    """Names of the fields of `node_type` that can hold child nodes."""
    return _FIELDS.get(node_type) or _fields(node_type)


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The semantic child nodes of `node`, in source order."""
    for name in _fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif type(value) is tuple or type(value) is list:
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node below (and including) `node`, parents before children."""
    stack = [node]
    pop = stack.pop
    push = stack.extend
    while stack:
        current = pop()
        yield current
        kids = list(children(current))
        kids.reverse()
        push(kids)


def contains(outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
    """Is `inner` (by identity) `outer` or a node below it?"""
    return any(node is inner for node in walk(outer))
