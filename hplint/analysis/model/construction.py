"""Construction: the layers a model holds, from `__init__`, helper functions
and script bodies (the statements; `construction_exprs` evaluates the
expressions).

Reads `nn.Sequential` (positional, `OrderedDict`, `*layers`), lists built with
literals / `append` / `extend` / `+=` / comprehensions, `add_module`,
`ModuleList`/`ModuleDict`, helper functions and methods that return blocks
(also imported from another project module), helpers defined inside
`__init__`, and project `nn.Module` classes used as sub-modules. Conditions
whose value is unknown are explored both ways; loops run up to two rounds.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

import libcst as cst

from ..constants import UNKNOWN
from ..imports import dotted_name
from ..walk import walk
from .interpreter import MAX_DEPTH, Interpreter, is_self_attr, static_value
from .structure import UNKNOWN_MODULE, Alt, ClassModel, ClassRef, Layer, LayerClass, ModList, PyList, Seq, flatten_items


def _is_mapping(value: Any) -> bool:
    return isinstance(value, PyList) and value.mapping


_FRAME_SERIALS = itertools.count(1)  # construction frames, for Layer.conditions
SPLAT = "**"  # key in a call's keywords: it also passed `**mapping` we cannot read
# Frames of one function running at once (recursive builders). Three let a
# six-way recursion (Inside-Deep-Learning's `moveTo`) spend the file's budget.
_MAX_REENTRY = 2
_MAX_EXCLUSIVE_PAIRS = 10_000  # layers per branch pair tracked as mutually exclusive


class Construction(Interpreter):
    """Runs construction code: frames, statements, branches, loops, calls of
    construction functions. Expressions are `_eval_module`'s (construction_exprs)."""

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._class_models: Dict[Any, Optional[ClassModel]] = {}
        self._class_in_progress: set = set()
        self._built_seqs: List[Tuple[Seq, Any]] = []
        # Model instances built by a script or factory (step 2 of the analysis),
        # with the call in this file that brought a class of another file in.
        self._built_instances: List[Tuple[ClassModel, Optional[cst.CSTNode]]] = []
        # Layers built, in order (for the mutually exclusive pairs of an `if`).
        self._created: List[Layer] = []
        self._loops = 0
        self._active_calls: Dict[int, int] = {}  # id(function) -> its frames now running
        # id(call) -> the class model built with that call's arguments, for calls
        # outside model classes in the analysed file (`model = Net(4, jk=None)`).
        self._instances_at: Dict[int, ClassModel] = {}
        self._entered: set = set()  # id(function) of every function construction ran
        # Sequentials a model holds under a computed name (`setattr(self, name, seq)`),
        # which its forward reaches through `getattr`: each runs on its own.
        self._dynamic_seqs: List[Tuple[Seq, Any]] = []
        self._applied_seqs: set = set()  # id(Seq) of every Sequential the flow ran

    def _eval_module(self, ctx, node: cst.BaseExpression, frame: "Frame", depth: int) -> Any:
        """The module value of a construction expression (construction_exprs)."""
        raise NotImplementedError

    def _class_value(self, ctx, node: cst.BaseExpression) -> Any:
        """The layer or model class a name holds, else UNKNOWN_MODULE (construction_exprs)."""
        raise NotImplementedError

    def _default_value(self, ctx, default: cst.BaseExpression) -> Any:
        """A parameter's default as the builder binds it: a layer or model class
        (`norm_layer=nn.BatchNorm2d`, deit's stems; `block=Bottleneck`), else a constant."""
        if isinstance(default, (cst.Name, cst.Attribute)):
            found = self._class_value(ctx, default)
            if found is not UNKNOWN_MODULE:
                return ("mod", found)
        return ("const", ctx.constants.value(default))

    def _call_function(self, ctx, fn: cst.FunctionDef, args: List[Any], kwargs: Dict[str, Any],
                       self_model: Optional[ClassModel], depth: int, bind_defaults: bool = True,
                       is_method: bool = False, closure: Optional["Frame"] = None,
                       call_known: bool = True) -> Any:
        """Interpret a construction function; returns its (module) return value.
        A nested function sees its `closure` frame's names (and `self`)."""
        if depth > MAX_DEPTH:
            return UNKNOWN_MODULE
        # A function that calls itself on both branches of an unknown `if`
        # (PyG's `glorot(value)` recursing over parameters and buffers) doubles
        # the work per level: past a few nested entries its result is unknown.
        active = self._active_calls.get(id(fn), 0)
        if active >= _MAX_REENTRY:
            return UNKNOWN_MODULE
        self._active_calls[id(fn)] = active + 1
        try:
            return self._enter_function(ctx, fn, args, kwargs, self_model, depth, bind_defaults, is_method,
                                        closure, call_known)
        finally:
            self._active_calls[id(fn)] = active

    def _enter_function(self, ctx, fn: cst.FunctionDef, args: List[Any], kwargs: Dict[str, Any],
                        self_model: Optional[ClassModel], depth: int, bind_defaults: bool,
                        is_method: bool, closure: Optional["Frame"], call_known: bool) -> Any:
        self._entered.add(id(fn))
        consts: Dict[str, Any] = dict(closure.consts) if closure is not None else {}
        defaulted: set = set(closure.defaulted) if closure is not None else set()
        mods: Dict[str, Any] = dict(closure.mods) if closure is not None else {}
        positional = list(fn.params.posonly_params) + list(fn.params.params)
        if is_method or self_model is not None:
            positional = positional[1:]  # `self`
        if closure is not None and self_model is None:
            self_model = closure.self_model  # a nested helper's `self` is its method's
        for i, param in enumerate(positional + list(fn.params.kwonly_params)):
            name = param.name.value
            value: Any = UNKNOWN
            from_default = False
            if i < len(positional) and i < len(args):
                value = args[i]
            elif name in kwargs:
                value = kwargs[name]
            elif param.default is not None and bind_defaults:
                value = self._default_value(ctx, param.default)
                from_default = not call_known
            if from_default:
                defaulted.add(name)
            else:
                defaulted.discard(name)  # also a closure's name this parameter shadows
            bind(consts, mods, name, value)
        frame = Frame(ctx, consts, mods, self_model)
        frame.defaulted = defaulted
        if closure is not None:
            frame.functions.update(closure.functions)
        star = fn.params.star_kwarg
        if star is not None and call_known and SPLAT not in kwargs:
            named = {p.name.value for p in positional + list(fn.params.kwonly_params)}
            frame.star_kwargs[star.name.value] = {k: v for k, v in kwargs.items() if k not in named}
        self._exec_build(ctx, fn.body.body if isinstance(fn.body, cst.IndentedBlock) else [], frame, depth)
        if not frame.returns:
            return UNKNOWN_MODULE
        return frame.returns[0] if len(frame.returns) == 1 else Alt(frame.returns)

    def _exec_build(self, ctx, body: Iterable[cst.CSTNode], frame: "Frame", depth: int) -> None:
        for stmt in body:
            self._tick(ctx, stmt)
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self._build_small(ctx, small, frame, depth)
            elif isinstance(stmt, cst.If):
                self._build_if(ctx, stmt, frame, depth)
            elif isinstance(stmt, (cst.For, cst.While)):
                self._build_loop(ctx, stmt, frame, depth)
            elif isinstance(stmt, cst.With):
                self._exec_build(ctx, stmt.body.body, frame, depth)
            elif isinstance(stmt, cst.Try):
                self._exec_build(ctx, stmt.body.body, frame, depth)
            elif isinstance(stmt, cst.FunctionDef):
                frame.functions[stmt.name.value] = stmt  # a nested helper, run where it is called

    def _build_unpacking(self, ctx, targets: List[cst.BaseExpression], value: cst.BaseExpression,
                         frame: "Frame", depth: int) -> None:
        """`s, p, g, b = stride, (k - 1) // 2, groups, bias` (pycls's conv2d): each
        name gets its element, as the plain assignment binds it. Before, the
        names fell through to the file's index, which read `bias` from another
        call site of the helper (`conv2d(..., bias=True)` in the SE block)."""
        elements = list(value.elements) if isinstance(value, (cst.Tuple, cst.List)) else None
        if elements is not None and any(isinstance(e, cst.StarredElement) for e in elements):
            elements = None
        # The right side is evaluated first (`a, b = b, a`).
        evaluated = [(ctx.constants.value(e.value, frame.consts), self._eval_module(ctx, e.value, frame, depth))
                     for e in elements] if elements is not None else None
        for target in targets:
            if not isinstance(target, (cst.Tuple, cst.List)):
                continue
            names = list(target.elements)
            matched = evaluated is not None and len(evaluated) == len(names) and \
                not any(isinstance(e, cst.StarredElement) for e in names)
            for i, element in enumerate(names):
                if not isinstance(element.value, cst.Name):
                    continue
                name = element.value.value
                frame.consts.pop(name, None)
                frame.mods.pop(name, None)
                if matched and evaluated is not None:
                    const, module = evaluated[i]
                    if const is not UNKNOWN:
                        frame.consts[name] = const
                    if module is not UNKNOWN_MODULE:
                        frame.mods[name] = module

    def _build_small(self, ctx, small: cst.CSTNode, frame: "Frame", depth: int) -> None:
        if isinstance(small, (cst.Assign, cst.AnnAssign)):
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            if small.value is None:
                return
            if any(isinstance(t, (cst.Tuple, cst.List)) for t in targets):
                self._build_unpacking(ctx, targets, small.value, frame, depth)
                return
            value = self._eval_module(ctx, small.value, frame, depth)
            const = ctx.constants.value(small.value, frame.consts)
            if isinstance(small.value, cst.Call) and isinstance(const, dict) and \
                    any(isinstance(item, cst.CSTNode) for item in const.values()):
                # `cfg = NormConfig(norm_type=norm_name or "batch")` (WSmartPlus-Route): a config
                # object whose fields keep this call's arguments, read now with this frame's values
                const = {key: ctx.constants.value(item, frame.consts) if isinstance(item, cst.CSTNode) else item
                         for key, item in const.items()}
            for target in targets:
                if isinstance(target, cst.Name):
                    frame.consts.pop(target.value, None)
                    if const is not UNKNOWN:
                        frame.consts[target.value] = const
                    frame.mods[target.value] = value
                elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name) and \
                        _is_mapping(frame.mods.get(target.value.value)) and value is not UNKNOWN_MODULE:
                    frame.mods[target.value.value].items.append(value)  # `module_dict["bn"] = nn.BatchNorm2d(c)`
                elif is_self_attr(target) and frame.self_model is not None:
                    frame.self_model.attrs[target.attr.value] = value
                    frame.self_model.consts.pop(target.attr.value, None)
                    if const is UNKNOWN:
                        const = static_value(ctx, small.value, frame.consts, frame.self_model.consts)
                    if const is not UNKNOWN:
                        frame.self_model.consts[target.attr.value] = const
        elif isinstance(small, cst.AugAssign):
            if isinstance(small.operator, cst.AddAssign):
                container = self._lookup(small.target, frame)
                addition = flatten_items(self._eval_module(ctx, small.value, frame, depth))
                if isinstance(container, (PyList, ModList)) and addition is not None:
                    container.items.extend(addition)
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            self._eval_module(ctx, small.value, frame, depth)
        elif isinstance(small, cst.Return) and small.value is not None:
            frame.returns.append(self._eval_module(ctx, small.value, frame, depth))

    def _lookup(self, target: cst.BaseExpression, frame: "Frame") -> Any:
        if isinstance(target, cst.Name):
            return frame.mods.get(target.value, UNKNOWN_MODULE)
        if is_self_attr(target) and frame.self_model is not None:
            return frame.self_model.attrs.get(target.attr.value, UNKNOWN_MODULE)
        return UNKNOWN_MODULE

    def _build_if(self, ctx, stmt: cst.If, frame: "Frame", depth: int) -> None:
        test = branch_test(ctx, stmt.test, frame)
        orelse = stmt.orelse
        else_body: List[cst.CSTNode] = []
        if isinstance(orelse, cst.Else):
            else_body = list(orelse.body.body)
        elif isinstance(orelse, cst.If):
            else_body = [orelse]
        if test is not UNKNOWN:
            try:
                chosen = stmt.body.body if test else else_body
            except TypeError:
                chosen = None
            if chosen is not None:
                with under_flag(frame, stmt.test, test):
                    self._exec_build(ctx, chosen, frame, depth)
                return
        # Unknown condition: run both branches from the same state, then join:
        # lists get an alternative of what each branch appended.
        lists = frame.containers()
        before = {id(c): list(c.items) for c in lists}
        attrs_before = dict(frame.self_model.attrs) if frame.self_model is not None else {}
        mods_before = dict(frame.mods)
        consts_before = dict(frame.consts)
        created_before = len(self._created)
        with under_flag(frame, stmt.test, True):
            self._exec_build(ctx, stmt.body.body, frame, depth)
        consts_a = dict(frame.consts)
        frame.consts.clear()
        frame.consts.update(consts_before)
        created_a = len(self._created)
        added_a = {id(c): c.items[len(before[id(c)]):] for c in lists}
        attrs_a = dict(frame.self_model.attrs) if frame.self_model is not None else {}
        mods_a = dict(frame.mods)
        for c in lists:
            c.items[:] = before[id(c)]
        if frame.self_model is not None:
            frame.self_model.attrs.clear()
            frame.self_model.attrs.update(attrs_before)
        frame.mods.clear()
        frame.mods.update(mods_before)
        with under_flag(frame, stmt.test, False):
            self._exec_build(ctx, else_body, frame, depth)
        if not self._loops:
            self._mark_exclusive(self._created[created_before:created_a], self._created[created_a:])
        for c in lists:
            added_b = c.items[len(before[id(c)]):]
            a = added_a[id(c)]
            if a or added_b:
                c.items[:] = before[id(c)] + [Alt([Seq(list(a)), Seq(list(added_b))])]
        if frame.self_model is not None:
            for name, value in attrs_a.items():
                other = frame.self_model.attrs.get(name)
                if other is None:
                    frame.self_model.attrs[name] = value
                elif other is not value:
                    frame.self_model.attrs[name] = Alt([value, other])
        for name, value in mods_a.items():
            other = frame.mods.get(name)
            if other is None:
                frame.mods[name] = value
            elif other is not value:
                frame.mods[name] = Alt([value, other])
        # A constant the two branches leave different is unknown after them
        # (`if dims is None: dims = []` with `dims` unknown: the loop over it may run).
        for name in set(consts_a) | set(frame.consts):
            if name not in consts_a or name not in frame.consts or not _same_constant(consts_a[name], frame.consts[name]):
                frame.consts.pop(name, None)

    def _mark_exclusive(self, branch_a: List[Layer], branch_b: List[Layer]) -> None:
        if len(branch_a) * len(branch_b) > _MAX_EXCLUSIVE_PAIRS:
            return
        for a in branch_a:
            for b in branch_b:
                self._exclusive.add((id(a), id(b)))
                self._exclusive.add((id(b), id(a)))

    def _build_loop(self, ctx, stmt, frame: "Frame", depth: int) -> None:
        self._loops += 1  # an `if` inside a loop may take both branches in one model
        try:
            self._build_loop_rounds(ctx, stmt, frame, depth)
        finally:
            self._loops -= 1

    def _build_loop_rounds(self, ctx, stmt, frame: "Frame", depth: int) -> None:
        rounds = 2
        values: List[Any] = []
        if isinstance(stmt, cst.For):
            seq = ctx.constants.value(stmt.iter, frame.consts)
            if seq is UNKNOWN and isinstance(stmt.iter, cst.Call) and isinstance(stmt.iter.func, cst.Name) \
                    and stmt.iter.func.value == "range":
                bounds = [ctx.constants.value(a.value, frame.consts) for a in stmt.iter.args]
                if bounds and all(isinstance(b, int) and not isinstance(b, bool) for b in bounds) and \
                        (len(bounds) < 3 or bounds[2] != 0):
                    seq = list(range(*bounds[:3])[:3])  # sliced lazily: `range(10**9)` is an epoch loop
            if isinstance(seq, (list, tuple)):
                values = list(seq)[:2]
                rounds = len(values)
        for i in range(rounds):
            if isinstance(stmt, cst.For) and isinstance(stmt.target, cst.Name):
                frame.consts.pop(stmt.target.value, None)
                if i < len(values):
                    frame.consts[stmt.target.value] = values[i]
            self._exec_build(ctx, stmt.body.body, frame, depth)


class Frame:
    """Construction state: constants, module values, the model being built."""

    def __init__(self, ctx, consts: Dict[str, Any], mods: Dict[str, Any], self_model: Optional[ClassModel]):
        self.ctx = ctx
        self.consts = consts
        self.mods = mods
        self.self_model = self_model
        self.returns: List[Any] = []
        self.functions: Dict[str, cst.FunctionDef] = {}  # functions defined in this body
        # Parameters that took their default because no call site is known.
        self.defaulted: set = set()
        self.serial = next(_FRAME_SERIALS)
        # The enclosing ifs: (frame serial, flag name or None when the test is
        # no plain flag, the branch's truth, id of the test).
        self.conditions: List[Tuple[int, Optional[str], bool, int]] = []
        # `**kwargs` parameter -> the extra keywords its call site passed, when
        # that call is known and spells every keyword (no `**other` of its own).
        self.star_kwargs: Dict[str, Dict[str, Any]] = {}

    def containers(self) -> List[Any]:
        found = [v for v in self.mods.values() if isinstance(v, (PyList, ModList, Seq))]
        if self.self_model is not None:
            found += [v for v in self.self_model.attrs.values() if isinstance(v, (ModList, Seq))]
        unique = {id(v): v for v in found}
        return list(unique.values())


@contextmanager
def under_flag(frame: "Frame", test: cst.BaseExpression, value: Any) -> Iterator[None]:
    """While a branch runs (`if batch_norm:`, `if not self.no_bn:`, `x if
    use_bn else y`, `bn if batch_norm is True else None`), its constructions
    carry the test: its flag when it is one, which HPL002's fix may spell
    (`bias=not batch_norm`), else None (no fix may assume the branch)."""
    try:
        truthy = bool(value)
    except Exception:
        yield
        return
    name, negated = _flag_of(test)
    frame.conditions.append((frame.serial, name, (not truthy) if negated else truthy, id(test)))
    try:
        yield
    finally:
        frame.conditions.pop()


_TRUE_TESTS = (cst.Is, cst.Equal)
_FALSE_TESTS = (cst.IsNot, cst.NotEqual)


def _flag_of(test: cst.BaseExpression) -> Tuple[Optional[str], bool]:
    """(flag name, negated) of `flag`, `not flag`, `flag is True`, `flag == False`."""
    negated = False
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test, negated = test.expression, True
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        constant = target.comparator
        if isinstance(constant, cst.Name) and constant.value in ("True", "False") and \
                isinstance(target.operator, _TRUE_TESTS + _FALSE_TESTS):
            is_true = (constant.value == "True") == isinstance(target.operator, _TRUE_TESTS)
            return dotted_name(test.left), negated != (not is_true)
        return None, negated
    return dotted_name(test), negated


def branch_test(ctx, test: cst.BaseExpression, frame: "Frame") -> Any:
    """The value of an `if` / conditional expression's test while building.
    A comparison on a parameter that took its default because no call site is
    known (`elif hidden_mlp == 0:` in a class built on its own or through a
    `**kwargs` factory) is unknown: callers elsewhere pass other values, so
    both branches are built. A call's own arguments decide (`jk=None`)."""
    same_class = _class_identity_test(ctx, test, frame)
    if same_class is not None:
        return same_class
    consts = frame.consts
    if frame.defaulted and any(isinstance(node, cst.Comparison) for node in walk(test)):
        consts = {**consts, **{name: UNKNOWN for name in frame.defaulted}}
    return ctx.constants.value(test, consts)


_IDENTITY_OPS = (cst.Equal, cst.Is, cst.NotEqual, cst.IsNot)


def _class_identity_test(ctx, test: cst.BaseExpression, frame: "Frame") -> Optional[bool]:
    """`norm == nn.BatchNorm2d` / `norm is not nn.BatchNorm2d` where `norm` holds a
    layer class handed in by the call (NASLib's `ConvLayer(..., norm)`): decided,
    so the other branch does not build `norm(self.conv)` as a BatchNorm."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    target = test.comparisons[0]
    if not isinstance(target.operator, _IDENTITY_OPS):
        return None
    left = _held_class(ctx, test.left, frame)
    right = _held_class(ctx, target.comparator, frame)
    if left is None or right is None:
        return None
    same = left == right
    return same if isinstance(target.operator, (cst.Equal, cst.Is)) else not same


def _held_class(ctx, node: cst.BaseExpression, frame: "Frame") -> Optional[str]:
    """The qualified name of the layer class `node` names or holds, else None."""
    if isinstance(node, cst.Name) and node.value in frame.mods:
        held = frame.mods[node.value]
        return held.qualname if isinstance(held, (LayerClass, ClassRef)) else None
    if isinstance(node, (cst.Name, cst.Attribute)):
        qn = ctx.qualified_name(node)
        if qn and (qn.startswith("torch.nn.") or ctx.class_definition(qn) is not None):
            return qn
    return None


def _same_constant(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # values whose == is not a bool
        return False


def bind(consts: Dict[str, Any], mods: Dict[str, Any], name: str, value: Any) -> None:
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "const":
        if value[1] is not UNKNOWN:
            consts[name] = value[1]
    elif isinstance(value, tuple) and len(value) == 2 and value[0] == "mod":
        mods[name] = value[1]
