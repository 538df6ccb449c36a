"""Static values of expressions: literals, arithmetic, module constants,
argparse defaults, config dicts, and the few math functions that spell bounds.

`ConstantEvaluator.value(expr)` returns a Python value or `UNKNOWN`. It never
executes user code: it folds a small, explicit set of operations.
"""

from __future__ import annotations

import math
import operator
from typing import Any, Dict, List, Optional, Tuple

import libcst as cst


class _Unknown:
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:  # guard against `if value:` on an unknown
        raise TypeError("UNKNOWN has no truth value; compare with `is UNKNOWN`")


UNKNOWN: Any = _Unknown()

_COMPARE = {
    cst.Equal: operator.eq, cst.NotEqual: operator.ne, cst.LessThan: operator.lt,
    cst.LessThanEqual: operator.le, cst.GreaterThan: operator.gt, cst.GreaterThanEqual: operator.ge,
    cst.Is: lambda a, b: a is b if a is None or b is None or isinstance(a, bool) else a == b,
    cst.IsNot: lambda a, b: a is not b if a is None or b is None or isinstance(a, bool) else a != b,
    cst.In: lambda a, b: a in b, cst.NotIn: lambda a, b: a not in b,
}
_BINARY = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.Divide: operator.truediv,
    cst.FloorDivide: operator.floordiv,
    cst.Modulo: operator.mod,
    cst.Power: operator.pow,
}
# The most items (or characters) a repeated sequence may have and still be evaluated.
MAX_REPEATED_ITEMS = 10_000


def _repeats_too_much(left: Any, right: Any) -> bool:
    """`sequence * n` (either order) whose result would pass MAX_REPEATED_ITEMS."""
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, (str, bytes, list, tuple)) and isinstance(times, int) and not isinstance(times, bool):
            return len(seq) * max(times, 0) > MAX_REPEATED_ITEMS
    return False


_MATH = {
    "math.log": math.log, "numpy.log": math.log, "torch.log": math.log,
    "math.log10": math.log10, "numpy.log10": math.log10,
    "math.log2": math.log2, "numpy.log2": math.log2,
    "math.exp": math.exp, "numpy.exp": math.exp,
    "math.sqrt": math.sqrt, "numpy.sqrt": math.sqrt,
    "math.pow": math.pow, "numpy.power": math.pow,
    "builtins.float": float, "builtins.int": int, "builtins.abs": abs,
    "builtins.min": min, "builtins.max": max, "builtins.round": round,
}
_MATH_CONSTANTS = {"math.pi": math.pi, "math.e": math.e, "numpy.pi": math.pi, "numpy.e": math.e}
# Calls whose keyword arguments become attributes or items, like a dict.
_NAMESPACES = frozenset({"builtins.dict", "dict", "types.SimpleNamespace", "argparse.Namespace",
                         "easydict.EasyDict", "ml_collections.ConfigDict", "addict.Dict"})
_BUILTIN_FUNCS = {"float", "int", "abs", "min", "max", "round", "pow"}
_MAX_DEPTH = 12


def _same(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


def _string_value(node: cst.BaseExpression) -> Optional[str]:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


# `where` of ConstantEvaluator.value: keep the program point of the enclosing evaluation.
_INHERIT: Any = object()


_STR_METHODS = frozenset({"lower", "upper", "strip", "casefold"})


class ConstantEvaluator:
    """Names are looked up in the binder (ctx.binder) at the program point of
    the expression: the call it is an argument of (found through ctx.calls),
    or the binding whose value is being evaluated. A name whose reaching
    bindings disagree, or that a parameter, loop or `with` binds, is UNKNOWN."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self._argparse: Optional[Dict[str, cst.BaseExpression]] = None
        # (scope owner, point) of the expression being evaluated: a call or a Binding.
        self._where: Optional[Tuple[Any, Any]] = None
        self._points: Optional[Dict[int, Any]] = None
        self._binding_values: Dict[int, Any] = {}
        self._classes: Dict[int, Any] = {}  # id(ClassDef) -> _class_fields

    def _point_of(self, node: cst.BaseExpression) -> Optional[Tuple[Any, Any]]:
        """(owner, call) for a call of the file or one of its arguments."""
        if self._points is None:
            points: Dict[int, Any] = {}
            for site in self.ctx.calls:
                points[id(site.node)] = site
                for arg in site.node.args:
                    points[id(arg.value)] = site
            self._points = points
        site = self._points.get(id(node))
        if site is None:
            return None
        return (site.scope[-1] if site.scope else None), site.node

    # -- argparse --------------------------------------------------------
    def argparse_defaults(self) -> Dict[str, cst.BaseExpression]:
        """dest -> default expression, for every `add_argument` in the file."""
        if self._argparse is None:
            found: Dict[str, cst.BaseExpression] = {}
            for site in self.ctx.calls:
                func = site.node.func
                if not isinstance(func, cst.Attribute):
                    continue
                if func.attr.value == "add_argument":
                    dest, default = None, None
                    for arg in site.node.args:
                        if arg.keyword is None:
                            text = _string_value(arg.value)
                            if text and (dest is None or text.startswith("--")):
                                if text.startswith("--") or dest is None:
                                    dest = text.lstrip("-").replace("-", "_")
                        elif arg.keyword.value == "dest":
                            text = _string_value(arg.value)
                            if text:
                                dest = text
                        elif arg.keyword.value == "default":
                            default = arg.value
                    if dest and default is not None:
                        found[dest] = default
                elif func.attr.value == "set_defaults":
                    for arg in site.node.args:
                        if arg.keyword is not None:
                            found[arg.keyword.value] = arg.value
            self._argparse = found
        return self._argparse

    # -- evaluation ---------------------------------------------------------
    def value(self, node: Optional[cst.BaseExpression], env: Optional[Dict[str, Any]] = None, depth: int = 0,
              where: Any = _INHERIT) -> Any:
        """`where`: (scope owner, call or Binding) to look names up at; by default
        the enclosing evaluation's, or at the top the call `node` belongs to (the
        module's end when it belongs to none). None: the module's end."""
        if node is None or depth > _MAX_DEPTH:
            return UNKNOWN
        saved = self._where
        if where is _INHERIT:
            if depth == 0:
                self._where = self._point_of(node)
        else:
            self._where = where
        try:
            return self._value(node, env or {}, depth)
        except Exception:
            # Total by design: whatever the analysed code does (an index out of
            # range, a missing key, an attribute of None), its value is unknown.
            return UNKNOWN
        finally:
            self._where = saved

    def _value(self, node: cst.BaseExpression, env: Dict[str, Any], depth: int) -> Any:
        kind = type(node)
        if kind is cst.Integer or kind is cst.Float:
            return node.evaluated_value
        if kind is cst.SimpleString or kind is cst.ConcatenatedString:
            value = node.evaluated_value
            return value if value is not None else UNKNOWN
        if kind is cst.Name:
            return self._name(node.value, env, depth)
        if kind is cst.UnaryOperation:
            inner = self.value(node.expression, env, depth + 1)
            if inner is UNKNOWN:
                return UNKNOWN
            if isinstance(node.operator, cst.Minus):
                return -inner
            if isinstance(node.operator, cst.Plus):
                return +inner
            if isinstance(node.operator, cst.Not):
                return not inner
            return UNKNOWN
        if kind is cst.BinaryOperation:
            fn = _BINARY.get(type(node.operator))
            if fn is None:
                return UNKNOWN
            left = self.value(node.left, env, depth + 1)
            right = self.value(node.right, env, depth + 1)
            if left is UNKNOWN or right is UNKNOWN:
                return UNKNOWN
            if fn is operator.pow and isinstance(right, (int, float)) and abs(right) > 400:
                return UNKNOWN
            if fn is operator.mul and _repeats_too_much(left, right):
                return UNKNOWN  # `[0] * 10**9`, `"x" * 10**9`: a value nobody needs, gigabytes to build
            return fn(left, right)
        if kind is cst.BooleanOperation:
            left = self.value(node.left, env, depth + 1)
            is_and = isinstance(node.operator, cst.And)
            if left is not UNKNOWN and (not left if is_and else left):
                return left  # `jk is not None and jk != "last"` with jk None: False, whatever the right side
            right = self.value(node.right, env, depth + 1)
            if left is UNKNOWN or right is UNKNOWN:
                return UNKNOWN
            return right
        if kind is cst.Comparison:
            return self._comparison(node, env, depth)
        if kind is cst.Tuple or kind is cst.List:
            items = []
            for element in node.elements:
                if isinstance(element, cst.StarredElement):
                    return UNKNOWN
                item = self.value(element.value, env, depth + 1)
                if item is UNKNOWN:
                    return UNKNOWN
                items.append(item)
            return tuple(items) if kind is cst.Tuple else items
        if kind is cst.Attribute:
            return self._attribute(node, env, depth)
        if kind is cst.Subscript:
            return self._subscript(node, env, depth)
        if kind is cst.Call:
            return self._call(node, env, depth)
        if kind is cst.IfExp:
            test = self.value(node.test, env, depth + 1)
            if test is UNKNOWN:
                return UNKNOWN
            return self.value(node.body if test else node.orelse, env, depth + 1)
        if kind is cst.Dict:
            result = {}
            for element in node.elements:
                if not isinstance(element, cst.DictElement):
                    return UNKNOWN
                key = self.value(element.key, env, depth + 1)
                if key is UNKNOWN:
                    return UNKNOWN
                result[key] = element.value  # values stay lazy: configs mix knowns and unknowns
            return result
        return UNKNOWN

    def _comparison(self, node: cst.Comparison, env: Dict[str, Any], depth: int) -> Any:
        """`a == b`, `mode != "lstm"`, `jk is None`, `x in ("a", "b")`, chained."""
        left = self.value(node.left, env, depth + 1)
        if left is UNKNOWN:
            return UNKNOWN
        for target in node.comparisons:
            compare = _COMPARE.get(type(target.operator))
            right = self.value(target.comparator, env, depth + 1)
            if compare is None or right is UNKNOWN:
                return UNKNOWN
            if isinstance(left, dict) or isinstance(right, dict):
                return UNKNOWN  # config dicts keep lazy values: equality would compare expressions
            if not compare(left, right):
                return False
            left = right
        return True

    def _name(self, name: str, env: Dict[str, Any], depth: int) -> Any:
        if name in env:
            return env[name]
        if name == "True":
            return True
        if name == "False":
            return False
        if name == "None":
            return None
        owner, point = self._where or (None, None)
        _, bindings = self.ctx.binder.lookup(name, owner, point)
        if bindings and not all(b.kind == "import" for b in bindings):
            found = self._agreed(bindings, depth)
            if found is UNKNOWN and env and all(b.has_value and b.index is None and b.owner is owner for b in bindings):
                # `span = max_lr - min_lr` in a function whose parameters `env` gives
                # values: the local is read with them (not cached: it depends on env).
                values = [self.value(b.value, env, depth + 1, where=(b.owner, b)) for b in bindings]
                if values and all(v is not UNKNOWN and _same(v, values[0]) for v in values):
                    return values[0]
            return found
        qualname = self.ctx.imports.resolve_name(name)
        if qualname and self.ctx.project is not None and qualname != f"{self.ctx.module_name}.{name}":
            other, symbol = self.ctx.project.resolve_symbol(qualname, self.ctx.module_name, self.ctx.path)
            if other is not None and other is not self.ctx and "." not in symbol:
                return other.constants.value(cst.Name(symbol), None, depth + 1, where=None)
        return UNKNOWN

    # -- config objects -----------------------------------------------------------
    def _instance(self, ctx, klass: cst.ClassDef, call: Optional[cst.Call]) -> Dict[str, Any]:
        """A config object as a dict of its attributes: the class's field defaults
        (evaluated in its own file), overridden by the constructor call's arguments
        (kept as expressions of this file, evaluated when read)."""
        defaults, positional, init_params = ctx.constants._class_fields(klass)
        fields: Dict[str, Any] = dict(defaults)
        if call is None:
            return fields
        for i, arg in enumerate(call.args):
            if arg.star:
                return {}  # `Config(**overrides)`: any field may change
            if arg.keyword is not None:
                name = init_params.get(arg.keyword.value, arg.keyword.value)
            else:
                name = positional[i] if i < len(positional) else None
            if name is not None:
                fields[name] = arg.value
        return fields

    def _class_fields(self, klass: cst.ClassDef):
        """(field -> default value, positional field order, __init__ parameter ->
        field) of a config class: annotated or plain class attributes
        (`lr: float = 1e-3`, dataclasses' `field(default=...)`) and `__init__`'s
        `self.x = <param or value>`. Cached per class."""
        key = id(klass)
        cached = self._classes.get(key)
        if cached is not None:
            return cached
        defaults: Dict[str, Any] = {}
        positional: List[str] = []
        init_params: Dict[str, str] = {}
        self._classes[key] = (defaults, positional, init_params)  # a field that reads its own class
        body = klass.body.body if isinstance(klass.body, cst.IndentedBlock) else ()
        init = None
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "__init__":
                init = stmt
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                target = small.target if isinstance(small, cst.AnnAssign) else (
                    small.targets[0].target if isinstance(small, cst.Assign) and len(small.targets) == 1 else None)
                if not isinstance(target, cst.Name):
                    continue
                if isinstance(small, cst.AnnAssign):
                    positional.append(target.value)
                value = small.value
                if isinstance(value, cst.Call) and (self.ctx.qualified_name(value.func) or "").endswith("field"):
                    value = next((a.value for a in value.args if a.keyword is not None and a.keyword.value == "default"), None)
                found = self.value(value, None, 0, where=None) if value is not None else UNKNOWN
                if found is not UNKNOWN:
                    defaults[target.value] = found
        if init is not None:
            params = [p for p in (*init.params.posonly_params, *init.params.params)][1:]
            params += list(init.params.kwonly_params)
            by_name = {p.name.value: p for p in params}
            positional[:] = [p.name.value for p in params if p in (*init.params.posonly_params, *init.params.params)]
            for name, bindings in self.ctx.binder.scope(init).bindings.items():
                if not name.startswith("self.") or name.count(".") != 1 or len(bindings) != 1:
                    continue
                field_name, binding = name[5:], bindings[0]
                if not binding.has_value:
                    continue
                if isinstance(binding.value, cst.Name) and binding.value.value in by_name:
                    param = by_name[binding.value.value]
                    init_params[param.name.value] = field_name
                    found = self.value(param.default, None, 0, where=None) if param.default is not None else UNKNOWN
                else:
                    found = self.value(binding.value, None, 0, where=(init, binding))
                if found is not UNKNOWN:
                    defaults[field_name] = found
                else:
                    defaults.pop(field_name, None)
            positional[:] = [init_params.get(p, p) for p in positional]
        return defaults, positional, init_params

    def _agreed(self, bindings, depth: int) -> Any:
        """The value every reaching binding gives, or UNKNOWN when they differ or
        one is not an expression (a parameter, a loop target, unbound)."""
        result: Any = UNKNOWN
        for i, binding in enumerate(bindings):
            value = self._binding_value(binding, depth)
            if value is UNKNOWN or (i and not _same(value, result)):
                return UNKNOWN
            result = value
        return result

    def _from_call_sites(self, binding, depth: int) -> Any:
        """A parameter's value when every call of its function in this file
        passes the same static value (its default where a call omits it):
        `configure_optimizers(self, wd, lr, betas)` called with `(0.1, 1e-3, (0.9, 0.95))`."""
        fn = binding.owner
        if not isinstance(fn, cst.FunctionDef):
            return UNKNOWN
        binder = self.ctx.binder
        sites = binder.callers(fn)
        if not sites:
            return UNKNOWN
        param = binding.node
        enclosing = binder.enclosing(fn)
        result: Any = UNKNOWN
        for i, site in enumerate(sites):
            known, arg = binder.argument_for(site, binding)
            if not known:
                return UNKNOWN
            if arg is not None:
                value = self.value(arg, None, depth + 1, where=(binder.owner_of(site), site.node))
            elif param.default is not None:
                # Defaults are evaluated where the def stands.
                value = self.value(param.default, None, depth + 1, where=(enclosing[-1] if enclosing else None, None))
            else:
                return UNKNOWN
            if value is UNKNOWN or (i and not _same(value, result)):
                return UNKNOWN
            result = value
        return result

    def _binding_value(self, binding, depth: int) -> Any:
        if binding.kind == "param" and isinstance(binding.node, cst.Param) and binding.node.annotation is not None:
            # `def train(cfg: Config)`: the config class's defaults.
            qualname = self.ctx.qualified_name(binding.node.annotation.annotation)
            found = self.ctx.class_definition(qualname) if qualname else None
            if found is not None:
                return found[0].constants._instance(found[0], found[1], None)
        if binding.kind == "param":
            return self._from_call_sites(binding, depth)
        if not binding.has_value:
            return UNKNOWN
        key = id(binding)
        if key in self._binding_values:
            return self._binding_values[key]
        self._binding_values[key] = UNKNOWN  # a binding that reaches itself (a loop) is unknown
        value = self.value(binding.value, None, depth + 1, where=(binding.owner, binding))
        if binding.index is not None:
            value = value[binding.index] if isinstance(value, (tuple, list)) and binding.index < len(value) else UNKNOWN
        self._binding_values[key] = value
        return value

    def _attribute(self, node: cst.Attribute, env: Dict[str, Any], depth: int) -> Any:
        qualname = self.ctx.qualified_name(node)
        if qualname in _MATH_CONSTANTS:
            return _MATH_CONSTANTS[qualname]
        if isinstance(node.value, cst.Name) and node.value.value not in ("self", "cls"):
            base = node.value.value
            attr = node.attr.value
            if base in env:
                # A parameter a caller's value stands for: a config object as a dict.
                container = env[base]
                if isinstance(container, dict) and attr in container:
                    item = container[attr]
                    return self.value(item, None, depth + 1) if isinstance(item, cst.CSTNode) else item
                return UNKNOWN
            if qualname is None:
                # `cfg.lr = 0.1` earlier in the scope: the binder keeps attribute targets.
                owner, point = self._where or (None, None)
                _, bindings = self.ctx.binder.lookup(f"{base}.{attr}", owner, point)
                if bindings:
                    return self._agreed(bindings, depth)
                # `args.lr` with `parser.add_argument("--lr", default=...)`
                default = self.argparse_defaults().get(attr)
                if default is not None:
                    return self.value(default, None, depth + 1)
                # `config.lr` where config is a dict, a SimpleNamespace or a config class instance
                container = self._name(base, env, depth + 1)
                if isinstance(container, dict) and attr in container:
                    item = container[attr]
                    return self.value(item, None, depth + 1) if isinstance(item, cst.CSTNode) else item
            if qualname is not None:
                # `Config.lr`: a class attribute of a config class (this file or the project's)
                owner_name, _, field_name = qualname.rpartition(".")
                found = self.ctx.class_definition(owner_name)
                if found is not None:
                    return found[0].constants._class_fields(found[1])[0].get(field_name, UNKNOWN)
            if qualname is not None and self.ctx.project is not None:
                # `config.LR` where `import config` is a project module
                other, symbol = self.ctx.project.resolve_symbol(qualname, self.ctx.module_name, self.ctx.path)
                if other is not None and other is not self.ctx and symbol and "." not in symbol:
                        return other.constants.value(cst.Name(symbol), None, depth + 1, where=None)
        return UNKNOWN

    def _subscript(self, node: cst.Subscript, env: Dict[str, Any], depth: int) -> Any:
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return UNKNOWN
        key = self.value(node.slice[0].slice.value, env, depth + 1)
        if key is UNKNOWN:
            return self._any_key(node.value, None, env, depth)
        inner = node.value
        if isinstance(inner, cst.Subscript) and len(inner.slice) == 1 and isinstance(inner.slice[0].slice, cst.Index) \
                and self.value(inner.slice[0].slice.value, env, depth + 1) is UNKNOWN:
            # `hyperparams["optimizers"][name]["beta1"]` with `name` a searched choice
            return self._any_key(inner.value, key, env, depth)
        if isinstance(inner, cst.Name) and isinstance(key, str):
            # `cfg = dict(); cfg["batch_size"] = 1` (pytorch_yolov1's voc.py): the
            # binder keeps item targets, as it keeps `cfg.lr = ...`
            owner, point = self._where or (None, None)
            _, bindings = self.ctx.binder.lookup(f"{inner.value}[{key!r}]", owner, point)
            if bindings:
                return self._agreed(bindings, depth)
        container = self.value(node.value, env, depth + 1)
        if isinstance(container, dict):
            item = container.get(key, UNKNOWN)
            return self.value(item, None, depth + 1) if isinstance(item, cst.CSTNode) else item
        if isinstance(container, (list, tuple)) and isinstance(key, int):
            return container[key]
        return UNKNOWN

    def _any_key(self, mapping: cst.BaseExpression, then: Any, env: Dict[str, Any], depth: int) -> Any:
        """`d[k]` (then `[then]` of it) for a key nobody knows: the value when
        every entry of the literal dict `d` agrees on it (animals-10's optimizers
        all search beta1 over (0.8, 0.999)), else UNKNOWN."""
        container = self.value(mapping, env, depth + 1)
        if not isinstance(container, dict) or not container:
            return UNKNOWN
        found: List[Any] = []
        for item in container.values():
            item = self.value(item, None, depth + 1) if isinstance(item, cst.CSTNode) else item
            if then is not None:
                if not isinstance(item, dict) or then not in item:
                    return UNKNOWN
                item = item[then]
                item = self.value(item, None, depth + 1) if isinstance(item, cst.CSTNode) else item
            if item is UNKNOWN or isinstance(item, (dict, cst.CSTNode)) or (found and item != found[0]):
                return UNKNOWN
            found.append(item)
        return found[0]

    def _call(self, node: cst.Call, env: Dict[str, Any], depth: int) -> Any:
        qualname = self.ctx.qualified_name(node.func)
        if qualname is None and isinstance(node.func, cst.Name) and node.func.value in _BUILTIN_FUNCS:
            qualname = f"builtins.{node.func.value}"
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in _STR_METHODS and not node.args:
            # `model_name.lower() == "lstm"`
            text = self.value(node.func.value, env, depth + 1)
            return getattr(text, node.func.attr.value)() if isinstance(text, str) else UNKNOWN
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "get" and len(node.args) >= 1:
            container = self.value(node.func.value, env, depth + 1)
            if isinstance(container, dict):
                key = self.value(node.args[0].value, env, depth + 1)
                if key in container:
                    item = container[key]
                    return self.value(item, None, depth + 1) if isinstance(item, cst.CSTNode) else item
                if len(node.args) >= 2:
                    return self.value(node.args[1].value, env, depth + 1)
            return UNKNOWN
        if qualname in _NAMESPACES or (qualname is None and isinstance(node.func, cst.Name) and node.func.value == "dict"):
            return {arg.keyword.value: arg.value for arg in node.args if arg.keyword is not None}
        if qualname is not None and not qualname.startswith(("torch.", "numpy.", "builtins.")):
            found = self.ctx.class_definition(qualname)
            if found is not None:
                return self._instance(found[0], found[1], node)
        fn = _MATH.get(qualname or "")
        if fn is None:
            return UNKNOWN
        args: List[Any] = []
        for arg in node.args:
            if arg.keyword is not None or arg.star:
                return UNKNOWN
            value = self.value(arg.value, env, depth + 1)
            if value is UNKNOWN or isinstance(value, (str, dict)):
                return UNKNOWN
            args.append(value)
        return fn(*args)

    def number(self, node: Optional[cst.BaseExpression], env: Optional[Dict[str, Any]] = None) -> Optional[float]:
        """The value as a float when it is a real number (not bool), else None."""
        value = self.value(node, env)
        if value is UNKNOWN or isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return value
