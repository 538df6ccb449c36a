"""libcst's parser without its per-node validation, for text CPython accepted.

libcst validates every node as it is built (`CSTNode.__post_init__` calls
`_validate`), the parser's nodes included. hplint parses only text that
CPython's own parser accepted first (source.check_with_cpython), so that
validation adds nothing, yet it costs ~8% of the parse, and its validators
reject some valid Python: `x = () if 0 else(lambda:())` raises a TypeError
inside `IfExp._validate` (LibCST issue #1061), which made a valid file
unreadable. libcst's own comment on `__post_init__` says validation could
move out of parsing; until it does, the hook below skips it while (and only
while) this thread parses, and nodes built anywhere else (fixes,
`with_changes`) are validated as before.

Installed once, only when the hook is libcst's own and no node class defines
its own `__post_init__` (a libcst release that changed either keeps full
validation: slower, never wrong).
"""

from __future__ import annotations

import threading

import libcst as cst

_parsing = threading.local()


def _validate_unless_parsing(self) -> None:
    if not getattr(_parsing, "active", False):
        self._validate()


def _install() -> bool:
    base = cst.CSTNode
    hook = base.__dict__.get("__post_init__")
    if hook is None or getattr(hook, "__qualname__", "") != "CSTNode.__post_init__":
        return False
    todo, seen = list(base.__subclasses__()), set()
    while todo:
        klass = todo.pop()
        if klass in seen:
            continue
        seen.add(klass)
        if "__post_init__" in klass.__dict__:
            return False
        todo.extend(klass.__subclasses__())
    base.__post_init__ = _validate_unless_parsing  # type: ignore[method-assign]
    return True


INSTALLED = _install()


def parse_module(text: str) -> cst.Module:
    """`libcst.parse_module(text)`, its nodes unvalidated (see the module's doc)."""
    outer = getattr(_parsing, "active", False)
    _parsing.active = True
    try:
        return cst.parse_module(text)
    finally:
        _parsing.active = outer
