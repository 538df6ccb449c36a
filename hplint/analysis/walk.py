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


# libcst's node classes are ABCs: `isinstance(value, cst.CSTNode)` runs
# ABCMeta.__instancecheck__, a Python-level call, for every field of every node
# walked (~5M calls on the pinned corpus). A set lookup on the value's type is
# a C-level hash; the set fills as types are met.
NODE_TYPES: set = set()
NON_NODE_TYPES: set = {type(None), str, bool, int}


def is_node(value: object) -> bool:
    """`isinstance(value, cst.CSTNode)`, without the ABC machinery on repeat types."""
    kind = type(value)
    if kind in NODE_TYPES:
        return True
    if kind in NON_NODE_TYPES:
        return False
    found = issubclass(kind, cst.CSTNode)
    (NODE_TYPES if found else NON_NODE_TYPES).add(kind)
    return found


def child_fields(node_type: Type[cst.CSTNode]) -> Tuple[str, ...]:
    """Names of the fields of `node_type` that can hold child nodes."""
    return _FIELDS.get(node_type) or _fields(node_type)


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The semantic child nodes of `node`, in source order."""
    for name in _fields(type(node)):
        value = getattr(node, name)
        kind = type(value)
        if kind in NODE_TYPES:
            yield value
        elif kind is tuple or kind is list:
            for item in value:
                if type(item) in NODE_TYPES or is_node(item):
                    yield item
        elif kind not in NON_NODE_TYPES and is_node(value):
            yield value


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
