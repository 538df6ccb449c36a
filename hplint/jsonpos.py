"""A JSON reader that remembers where every value is in the text.

The standard `json` module gives values only; notebooks need the offsets of
each cell's `source` (to write back only the cells a fix changed, leaving
every other byte alone) and of every source line (so SARIF and GitHub
annotations point at the line of the `.ipynb` file that holds that code).
Strings and numbers are decoded by the `json` module's own scanners, so the
values are exactly what `json.loads` returns.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from json.decoder import scanstring
from typing import Any, Dict, List, Optional, Tuple

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
# What `json.loads` accepts, NaN and the infinities included (a notebook read
# by `json.loads` must also be readable here, for its positions).
_LITERALS = {"true": True, "false": False, "null": None,
             "NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


class JSONPosError(ValueError):
    def __init__(self, message: str, offset: int, text: str) -> None:
        self.message = message
        self.offset = offset
        self.line = text.count("\n", 0, offset) + 1
        self.col = offset - (text.rfind("\n", 0, offset) + 1) + 1
        super().__init__(f"{message} (line {self.line}, column {self.col})")


@dataclass
class Node:
    """A JSON value and its extent [start, end) in the text."""

    value: Any
    start: int
    end: int
    items: Optional[List["Node"]] = None  # arrays
    members: Optional[Dict[str, "Node"]] = None  # objects: key -> value node
    key_starts: Dict[str, int] = field(default_factory=dict)  # objects: key -> offset of its quote

    def get(self, key: str) -> Optional["Node"]:
        return self.members.get(key) if self.members is not None else None


_DECODER = json.JSONDecoder()


def parse(text: str, opaque: frozenset = frozenset()) -> Node:
    """The value of `text` with positions. Under an object key in `opaque`
    (a notebook cell's "outputs") only the value and its extent are kept:
    it is decoded by the json module's C scanner, and its parts have no
    nodes of their own (outputs hold most of a notebook's bytes)."""
    node, end = _value(text, _skip(text, 0), opaque)
    end = _skip(text, end)
    if end != len(text):
        raise JSONPosError("extra data after the JSON value", end, text)
    return node


def _skip(text: str, index: int) -> int:
    return _WS.match(text, index).end()


def _value(text: str, i: int, opaque: frozenset) -> Tuple[Node, int]:
    if i >= len(text):
        raise JSONPosError("expecting a value", i, text)
    ch = text[i]
    if ch == '"':
        try:
            value, end = scanstring(text, i + 1, True)
        except json.JSONDecodeError as exc:
            raise JSONPosError(exc.msg, exc.pos, text) from None
        return Node(value, i, end), end
    if ch == "{":
        return _object(text, i, opaque)
    if ch == "[":
        return _array(text, i, opaque)
    for word, value in _LITERALS.items():
        if text.startswith(word, i):
            return Node(value, i, i + len(word)), i + len(word)
    m = _NUMBER.match(text, i)
    if m:
        return Node(json.loads(m.group(0)), i, m.end()), m.end()
    raise JSONPosError("expecting a value", i, text)


def _object(text: str, start: int, opaque: frozenset) -> Tuple[Node, int]:
    members: Dict[str, Node] = {}
    key_starts: Dict[str, int] = {}
    i = _skip(text, start + 1)
    if text.startswith("}", i):
        return Node({}, start, i + 1, members=members), i + 1
    while True:
        if not text.startswith('"', i):
            raise JSONPosError("expecting a property name in double quotes", i, text)
        key_node, i = _value(text, i, opaque)
        i = _skip(text, i)
        if not text.startswith(":", i):
            raise JSONPosError("expecting ':' delimiter", i, text)
        i = _skip(text, i + 1)
        value, i = _opaque(text, i) if key_node.value in opaque else _value(text, i, opaque)
        members[key_node.value] = value
        key_starts[key_node.value] = key_node.start
        i = _skip(text, i)
        if text.startswith(",", i):
            i = _skip(text, i + 1)
            continue
        if text.startswith("}", i):
            node = Node({k: v.value for k, v in members.items()}, start, i + 1, members=members,
                        key_starts=key_starts)
            return node, i + 1
        raise JSONPosError("expecting ',' delimiter", i, text)


def _opaque(text: str, i: int) -> Tuple[Node, int]:
    try:
        value, end = _DECODER.raw_decode(text, i)
    except json.JSONDecodeError as exc:
        raise JSONPosError(exc.msg, exc.pos, text) from None
    return Node(value, i, end), end


def _array(text: str, start: int, opaque: frozenset) -> Tuple[Node, int]:
    items: List[Node] = []
    i = _skip(text, start + 1)
    if text.startswith("]", i):
        return Node([], start, i + 1, items=items), i + 1
    while True:
        item, i = _value(text, i, opaque)
        items.append(item)
        i = _skip(text, i)
        if text.startswith(",", i):
            i = _skip(text, i + 1)
            continue
        if text.startswith("]", i):
            return Node([n.value for n in items], start, i + 1, items=items), i + 1
        raise JSONPosError("expecting ',' delimiter", i, text)


def string_offsets(text: str, node: Node) -> List[int]:
    """For a string node: the text offset of each decoded character, plus one
    past the last (the closing quote). Escapes map to their backslash."""
    out: List[int] = []
    i, end = node.start + 1, node.end - 1
    while i < end:
        out.append(i)
        if text[i] == "\\":
            if text[i + 1] == "u":
                code = int(text[i + 2:i + 6], 16)
                if 0xD800 <= code < 0xDC00 and text.startswith("\\u", i + 6):
                    i += 12  # a surrogate pair is one code point
                else:
                    i += 6
            else:
                i += 2
        else:
            i += 1
    out.append(end)
    return out
