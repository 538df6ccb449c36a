"""Modules imported by a name known only at run time.

`x = import_module("models." + args.model)` then `model = x.Model(config)`
(Chinese-Text-Classification-Pytorch and its many copies): the model is one
of the modules of the project's `models` package. When the constant evaluator
knows the whole name (an argparse default, a constant), it is that module;
when only a package prefix is constant, it is any module of that package, as
two branches of a factory are either model. The package is listed on disk,
never imported.
"""

from __future__ import annotations

from typing import Callable, List, Optional, Tuple

import libcst as cst

from .binder import Owner
from .constants import UNKNOWN

IMPORT_MODULE = "importlib.import_module"
# More candidates than this: a plugin folder, not a choice among models.
_MAX_CANDIDATES = 32


def callee_candidates(ctx, call: cst.Call, owner: Owner) -> Tuple[str, ...]:
    """The qualified names `call`'s callee may be when it is an attribute of a
    run-time import: `x.Model(...)`, `import_module(...).Model(...)`,
    `getattr(import_module(...), "Model")(...)` and a name bound to that getattr."""
    func = call.func
    if isinstance(func, cst.Attribute):
        return tuple(f"{module}.{func.attr.value}" for module in modules_of(ctx, func.value, owner, call))
    if isinstance(func, cst.Call):
        return _getattr_candidates(ctx, func, owner) or ()
    if isinstance(func, cst.Name):
        return _through_bindings(ctx, func, owner, call, lambda value, scope: _getattr_candidates(ctx, value, scope))
    return ()


def modules_of(ctx, expr: cst.BaseExpression, owner: Owner, at: object = None) -> Tuple[str, ...]:
    """The project modules `expr` may be: an `import_module(...)` call, or a
    name every binding of which (reaching `at`) is one."""
    if isinstance(expr, cst.Call):
        return _imported_by(ctx, expr) or ()
    if isinstance(expr, cst.Name):
        return _through_bindings(ctx, expr, owner, at, lambda value, scope: _imported_by(ctx, value))
    return ()


def _through_bindings(ctx, name: cst.Name, owner: Owner, at: object,
                      read: Callable[[cst.Call, Owner], Optional[Tuple[str, ...]]]) -> Tuple[str, ...]:
    """What `read` gives for every call `name` may be bound to at `at`, together;
    nothing when a binding is no such call (bound to something else too:
    unknown). A binding `read` finds empty adds nothing (`try:
    import_module("app.models." + n) except ImportError: ...`)."""
    found: List[str] = []
    for binding in ctx.binder.lookup(name.value, owner, at)[1]:
        if not binding.has_value or binding.index is not None or not isinstance(binding.value, cst.Call):
            return ()
        names = read(binding.value, binding.owner)
        if names is None:
            return ()
        found.extend(names)
    return tuple(dict.fromkeys(found))


def _getattr_candidates(ctx, call: cst.Call, owner: Owner) -> Optional[Tuple[str, ...]]:
    """`getattr(module, "Model")` with `module` a run-time import; None for another call.
    With the member's name unknown too (`getattr(import_module(f"models.{name}"),
    args.model)`, indonesian-review-rating-prediction): any top-level class of
    those modules."""
    parts = ctx.member_lookup(call) if isinstance(call.func, cst.Name) else None
    if parts is None:
        return None
    member = ctx.member_named(call)
    if member is not None:
        return tuple(f"{module}.{member[1]}" for module in modules_of(ctx, member[0], owner, call)) or None
    if ctx.project is None:
        return None
    found: List[str] = []
    for module in modules_of(ctx, parts[0], owner, call):
        other = ctx.project.context_for_module(module, ctx.module_name, ctx.path)
        if other is not None:
            found.extend(f"{module}.{d.node.name.value}" for d in other.classes
                         if not d.scope and not d.node.name.value.startswith("_"))
    return tuple(found) if found and len(found) <= _MAX_CANDIDATES else None


def _imported_by(ctx, call: cst.Call) -> Optional[Tuple[str, ...]]:
    """The modules `import_module(name)` may import (absolute names only):
    empty when the package is not the project's; None when `call` is no
    such import or its name is not understood."""
    if ctx.callee(call) != IMPORT_MODULE or len(call.args) != 1 or call.args[0].star or \
            (call.args[0].keyword is not None and call.args[0].keyword.value != "name"):
        return None
    name_expr = call.args[0].value
    whole = ctx.constants.value(name_expr)
    if isinstance(whole, str):
        return (whole,) if _dotted(whole) else None
    package = _package_prefix(ctx, name_expr)
    if package is None or ctx.project is None or not ctx.path:
        return None
    modules = ctx.project.package_modules(package, ctx.path)
    return modules if len(modules) <= _MAX_CANDIDATES else None


def _package_prefix(ctx, expr: cst.BaseExpression) -> Optional[str]:
    """`"models." + name` or `f"models.{name}"` with `name` unknown: "models"."""
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        prefix = ctx.constants.value(expr.left)
    elif isinstance(expr, cst.FormattedString) and len(expr.parts) == 2 and \
            isinstance(expr.parts[0], cst.FormattedStringText) and \
            isinstance(expr.parts[1], cst.FormattedStringExpression):
        prefix = expr.parts[0].value
    else:
        return None
    if prefix is UNKNOWN or not isinstance(prefix, str) or not prefix.endswith("."):
        return None
    package = prefix[:-1]
    return package if _dotted(package) else None


def _dotted(name: str) -> bool:
    return bool(name) and all(part.isidentifier() for part in name.split("."))
