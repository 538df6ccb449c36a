"""Classes picked from a registry dict at run time.

`model_dict = {"lstm": LSTMTagger, "mlp": MLPTagger}` and then
`model_dict[kind](**cfg)` (POS-Tagging's `get_model`), `cls = MODELS[name];
cls(...)` or `MODELS.get(name)(...)`: the callee is the class a constant key
names, else any class of the dict, as either branch of a factory may run. The
dict is a literal (or `dict(a=A, ...)`) bound once in this module or in a
project module it is imported from; a dict filled in by decorators or
assignments elsewhere is not read (its members are not known here).
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import libcst as cst

from .binder import Owner
from .constants import UNKNOWN

# More members than this: a plugin table, not a choice among a project's models.
_MAX_MEMBERS = 32


def registry_candidates(ctx, call: cst.Call, owner: Owner) -> Tuple[str, ...]:
    """The qualified names `call`'s callee may be when it is taken from a
    registry dict, directly or through a name bound to the taken member."""
    func = call.func
    picked = _picked(ctx, func, owner, call)
    if picked is not None:
        return picked
    if not isinstance(func, cst.Name):
        return ()
    found: List[str] = []
    for binding in ctx.binder.lookup(func.value, owner, call)[1]:
        if not binding.has_value or binding.index is not None:
            return ()
        names = _picked(ctx, binding.value, binding.owner, binding.value)
        if not names:
            return ()  # bound to something else too: unknown
        found.extend(names)
    return tuple(dict.fromkeys(found))


def _picked(ctx, expr: cst.BaseExpression, owner: Owner, at: object) -> Optional[Tuple[str, ...]]:
    """`D[key]` or `D.get(key)` with `D` a registry: the classes it may give;
    None when `expr` is no such pick."""
    if isinstance(expr, cst.Subscript) and len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index):
        table, key = expr.value, expr.slice[0].slice.value
    elif isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "get" and \
            1 <= len(expr.args) <= 2 and not any(arg.star or arg.keyword is not None for arg in expr.args):
        table, key = expr.func.value, expr.args[0].value
    else:
        return None
    members = _members(ctx, table, owner, at)
    if not members:
        return None
    wanted = ctx.constants.value(key)
    if wanted is not UNKNOWN and any(name == wanted for name, _ in members):
        return tuple(qn for name, qn in members if name == wanted)
    return tuple(dict.fromkeys(qn for _, qn in members))


def _members(ctx, table: cst.BaseExpression, owner: Owner, at: object) -> List[Tuple[object, str]]:
    """(key, qualified name of the value) of the registry `table` names: a
    literal bound to it in this module, or the one of the project module it is
    imported from. Empty when it is not one, or when any value is not a name."""
    if not isinstance(table, cst.Name):
        return []
    bindings = ctx.binder.lookup(table.value, owner, at)[1]
    if len(bindings) == 1 and bindings[0].has_value and bindings[0].index is None:
        return _literal_members(ctx, bindings[0].value)
    if len(bindings) == 1 and bindings[0].kind == "import" and ctx.project is not None:
        qn = ctx.qualified_name(table)
        other, symbol = ctx.project.resolve_symbol(qn, ctx.module_name, ctx.path) if qn else (None, None)
        if other is None or not symbol or "." in symbol:
            return []
        defined = other.binder.scope(None).reaching(symbol)
        if len(defined) == 1 and defined[0].has_value and defined[0].index is None:
            return _literal_members(other, defined[0].value)
    return []


def dict_literal_entries(ctx, value: cst.BaseExpression) -> List[Tuple[object, cst.BaseExpression]]:
    """(key's constant value, value expression) of a `{...}` or `dict(k=v)`
    literal whose every entry is known; empty for anything else (`**other`)."""
    if isinstance(value, cst.Dict):
        if not all(isinstance(element, cst.DictElement) for element in value.elements):
            return []  # `**other`: members not all known
        return [(ctx.constants.value(element.key), element.value) for element in value.elements
                if isinstance(element, cst.DictElement)]
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "dict" and \
            ctx.imports.resolve_name("dict") in (None, "builtins.dict") and \
            all(arg.keyword is not None and not arg.star for arg in value.args):
        return [(arg.keyword.value, arg.value) for arg in value.args if arg.keyword is not None]
    return []


def _literal_members(ctx, value: cst.BaseExpression) -> List[Tuple[object, str]]:
    pairs = dict_literal_entries(ctx, value)
    if not pairs or len(pairs) > _MAX_MEMBERS:
        return []
    members: List[Tuple[object, str]] = []
    for key, member in pairs:
        qn = ctx.qualified_name(member) if isinstance(member, (cst.Name, cst.Attribute)) else None
        if qn is None:
            return []
        members.append((key, qn))
    return members
