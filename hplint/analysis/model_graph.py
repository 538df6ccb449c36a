"""Model structure: which layers a model holds and which layer feeds which.

A small abstract interpreter reads the ways people write models:

* construction (`__init__`, helper functions, script bodies): `nn.Sequential`
  (positional, `OrderedDict`, `*layers`), lists built with literals / `append`
  / `extend` / `+=` / comprehensions, `add_module`, `ModuleList`/`ModuleDict`,
  helper functions and methods that return blocks (also imported from another
  project module), project `nn.Module` classes used as sub-modules;
* data flow (`forward`): `x = self.drop(x); x = self.bn(x)`, nested calls,
  functional ops, tensor methods, local variables, branches, loops over
  `ModuleList`s, `self.bns[i](self.drops[i](x))`, calls of other methods.

A tensor value is a set of (producer layer, categories passed through since,
reshapes applied since). Applying a layer to it records an `Edge` from every
producer; transparent ops (reshapes, identity, activations, pooling) extend
"passed through" instead of becoming producers, so each rule decides which of
them break "directly". Reshapes are kept as `(op, dims)` with the dims that are
known statically (`x.view(N, 128, 4, 4)` -> `("view", (None, 128, 4, 4))`), and
layers know their feature count where it is static (`Layer.size`): HPL002 needs
both to tell a reshape that keeps one bias value per channel from one that
spreads a Linear's features over spatial positions.
Conditions whose value is unknown are explored both ways; arithmetic between
tensors and unknown calls end a chain (hplint prefers silence to guessing).
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Iterable, Iterator, List, Optional, Tuple

import libcst as cst

from . import layers as L
from .arguments import call_argument
from .constants import UNKNOWN
from .imports import dotted_name

_MAX_DEPTH = 8

# Where each layer's feature count is: (positional index, keyword). Affine
# layers: the output features/channels; BatchNorm: num_features.
SIZE_SLOT: Dict[str, Tuple[int, str]] = {L.NN + "Linear": (1, "out_features"), L.NN + "LazyLinear": (0, "out_features"),
                                         L.NN + "Bilinear": (2, "out_features")}
for _d in ("1d", "2d", "3d"):
    SIZE_SLOT[L.NN + "Conv" + _d] = SIZE_SLOT[L.NN + "ConvTranspose" + _d] = (1, "out_channels")
    SIZE_SLOT[L.NN + "LazyConv" + _d] = SIZE_SLOT[L.NN + "LazyConvTranspose" + _d] = (0, "out_channels")
    SIZE_SLOT[L.NN + "BatchNorm" + _d] = (0, "num_features")
SIZE_SLOT[L.NN + "SyncBatchNorm"] = (0, "num_features")
LINEAR_LAYERS = frozenset({L.NN + "Linear", L.NN + "LazyLinear", L.NN + "Bilinear"})
_STATEMENT_BUDGET = 50_000  # per file, plus two per line: pathological inputs end analysis, not the run
_FRAME_SERIALS = itertools.count(1)  # construction frames, for Layer.conditions
_SPLAT = "**"  # key in a call's keywords: it also passed `**mapping` we cannot read
_MAX_EXCLUSIVE_PAIRS = 10_000  # layers per branch pair tracked as mutually exclusive


# ---------------------------------------------------------------------------
# abstract values


@dataclass(eq=False)
class Layer:
    """One constructed layer (or functional op) and where it came from."""

    kind: str  # canonical qualified name, e.g. torch.nn.Dropout
    category: str
    node: cst.Call  # the construction (or functional) call
    ctx: Any  # ModuleContext of the file that holds `node`
    bias: Optional[bool] = None  # affine layers: True / False / None when unknown
    entry: Optional[cst.CSTNode] = None  # call in the analysed file that brought it in
    functional: bool = False
    size: Optional[int] = None  # out_features / out_channels / num_features when static
    # `bias=bias` where `bias` took its default because the class was built
    # without a call site (`def __init__(..., bias=True)` built on its own):
    # a guess that the real call sites override.
    bias_default: bool = False
    # The flags a construction ran under, as (frame serial, flag, value): the
    # BatchNorm of `if batch_norm: layers += [nn.BatchNorm2d(v)]` carries
    # (f, "batch_norm", True); the conv built before it in frame f does not.
    conditions: Tuple[Tuple[int, str, bool], ...] = ()
    frame: int = 0  # serial of the construction frame


@dataclass(eq=False)
class Seq:
    items: List[Any]


@dataclass(eq=False)
class Alt:
    """One of several alternatives (a branch whose condition is unknown)."""

    options: List[Any]


@dataclass(eq=False)
class PyList:
    items: List[Any]


@dataclass(eq=False)
class ModList:
    """nn.ModuleList / ModuleDict: holds modules, is not callable itself."""

    items: List[Any]


@dataclass(eq=False)
class Instance:
    model: "ClassModel"
    node: Optional[cst.CSTNode] = None


class _UnknownModule:
    def __repr__(self) -> str:
        return "UNKNOWN_MODULE"


UNKNOWN_MODULE = _UnknownModule()


@dataclass(frozen=True)
class Tensor:
    """A tensor on the data path: the producers that may have made it."""

    sources: FrozenSet[Tuple[Any, FrozenSet[str], Tuple[Any, ...]]] = frozenset()


EMPTY = Tensor()
_NONE: FrozenSet[str] = frozenset()


@dataclass
class Edge:
    src: Layer
    dst: Layer
    through: FrozenSet[str]  # transparent categories between them
    site: Optional[cst.CSTNode]  # where in forward() they were connected
    site_ctx: Any = None
    # Reshapes on each path from src to dst that passes through `through`:
    # (op, static dims) in order, e.g. (("view", (None, 128, 4, 4)),).
    reshape_paths: List[Tuple[Tuple[str, Tuple[Optional[int], ...]], ...]] = field(default_factory=list)
    # (bias_default, bias) of each build of the source layer that reached dst.
    biases: List[Tuple[bool, Optional[bool]]] = field(default_factory=list)

    def source_bias(self) -> Optional[bool]:
        """The source layer's bias over every build that reached dst: True when
        some build has one. A bias that only a parameter's default gave, in a
        class built without a call site, counts only when no call site built
        the layer (`DepthWiseConv2d(..., bias=True)` that every caller builds
        with `bias=False`)."""
        real = [bias for default, bias in self.biases if not default] or [bias for _, bias in self.biases]
        if any(bias is True for bias in real):
            return True
        return False if real and all(bias is False for bias in real) else None


@dataclass(eq=False)
class ClassModel:
    name: str
    node: cst.ClassDef
    ctx: Any
    attrs: Dict[str, Any] = field(default_factory=dict)
    sequential_items: Optional[List[Any]] = None  # for nn.Sequential subclasses
    methods: Dict[str, cst.FunctionDef] = field(default_factory=dict)
    bases: List["ClassModel"] = field(default_factory=list)
    consts: Dict[str, Any] = field(default_factory=dict)  # `self.init_size = 8` and other static attributes

    def method(self, name: str) -> Optional[Tuple["ClassModel", cst.FunctionDef]]:
        if name in self.methods:
            return self, self.methods[name]
        for base in self.bases:
            found = base.method(name)
            if found:
                return found
        return None

    def all_layers(self) -> List[Layer]:
        out: List[Layer] = []
        seen: set = set()
        stack: List[Any] = list(self.attrs.values())
        if self.sequential_items:
            stack.extend(self.sequential_items)
        while stack:
            value = stack.pop()
            if id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, Layer):
                out.append(value)
            elif isinstance(value, (Seq, PyList, ModList)):
                stack.extend(value.items)
            elif isinstance(value, Alt):
                stack.extend(value.options)
            elif isinstance(value, Instance):
                stack.extend(value.model.attrs.values())
                if value.model.sequential_items:
                    stack.extend(value.model.sequential_items)
        return out

    def categories(self) -> FrozenSet[str]:
        return frozenset(layer.category for layer in self.all_layers())


def layers_in(values: Iterable[Any]) -> List[Layer]:
    """Every layer inside abstract module values (a Seq, an Instance, a single
    Layer...): what a model built from them holds. Used by the training-loop
    analysis for sub-modules such as `model.encoder`."""
    holder = ClassModel("", None, None, attrs={str(i): v for i, v in enumerate(values)})
    return holder.all_layers()


def _flatten_items(value: Any) -> Optional[List[Any]]:
    """Items a value contributes when splatted (`*layers`) or extended."""
    if isinstance(value, (PyList, Seq, ModList)):
        return list(value.items)
    if isinstance(value, Alt):
        return [Alt([Seq(_flatten_items(o) or [o]) for o in value.options])]
    return None


# ---------------------------------------------------------------------------
# the interpreter


class _Budget(Exception):
    pass


class ModelAnalysis:
    """Model facts for one file: classes, layers, and the edges between them."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.edges: List[Edge] = []
        self._edge_keys: Dict[Tuple[int, int, FrozenSet[str]], Edge] = {}
        self._class_models: Dict[Any, Optional[ClassModel]] = {}
        self._class_in_progress: set = set()
        self._statements = 0
        self._budget = _STATEMENT_BUDGET + 2 * ctx.text.count("\n")
        self._entry: Optional[cst.CSTNode] = None
        self._built_seqs: List[Tuple[Seq, Any]] = []
        # Model instances built by a script or factory (step 2), with the call
        # in this file that brought a class of another file in.
        self._built_instances: List[Tuple[ClassModel, Optional[cst.CSTNode]]] = []
        self._done = False
        # Layers built in __init__, in order; and pairs (id, id) of layers from
        # the two branches of one `if` whose condition is unknown (outside any
        # loop): they never exist in the same model, so no edge joins them
        # (`if use_bn: fc = Linear(bias=False); bn = BN(..)` / `else: fc = Linear()`).
        self._created: List[Layer] = []
        self._exclusive: set = set()
        self._loops = 0
        # id(affine layer node) -> for each place its raw output leaves the data
        # path (a gate `p * x`, a returned tuple), the ids of every producer of
        # the value that left: a BatchNorm among them means it was the
        # BatchNorm's output that left, not the raw layer's.
        self._escapes: Dict[int, List[FrozenSet[int]]] = {}

    # -- public API ------------------------------------------------------
    def analyse(self) -> "ModelAnalysis":
        if self._done:
            return self
        self._done = True
        try:
            self._analyse_file()
        except (_Budget, RecursionError):
            pass
        return self

    def edges_between(self, src_category: str, dst_category: str, allowed: Iterable[str]) -> List[Edge]:
        self.analyse()
        allowed = frozenset(allowed)
        return [
            e for e in self.edges
            if e.src.category == src_category and e.dst.category == dst_category and e.through <= allowed
        ]

    def output_escapes(self, edge: Edge) -> bool:
        """Does the output of `edge.src` also leave by a path that skips
        `edge.dst`? `p = sigmoid(bn(x)); return p * x` (a BatchNorm gate, the
        Dice activation) or `emb = fc(x); return head(emb), emb` keep the raw
        output, bias included."""
        self.analyse()
        return any(id(edge.dst.node) not in others for others in self._escapes.get(id(edge.src.node), ()))

    def _escape(self, value: Any) -> None:
        if not isinstance(value, Tensor) or not value.sources:
            return
        producers = frozenset(id(p.node) for p, _, _ in value.sources)
        for producer, _, _ in value.sources:
            if producer.category == L.AFFINE:
                seen = self._escapes.setdefault(id(producer.node), [])
                if producers not in seen and len(seen) < 16:
                    seen.append(producers)

    def class_model(self, name: str) -> Optional[ClassModel]:
        node = self.ctx.class_named(name)
        return self._class_model(self.ctx, node) if node is not None else None

    def model_classes(self) -> List[ClassModel]:
        out = []
        for definition in self.ctx.classes:
            if not definition.scope:
                model = self._class_model(self.ctx, definition.node)
                if model is not None:
                    out.append(model)
        return out

    def resolve_class(self, qualname: str) -> Optional[ClassModel]:
        """A model class by qualified name, in this file or another project file."""
        local = f"{self.ctx.module_name}."
        if qualname.startswith(local) and "." not in qualname[len(local):]:
            return self.class_model(qualname[len(local):])
        if self.ctx.project is None:
            return None
        other, symbol = self.ctx.project.resolve_symbol(qualname, self.ctx.module_name, self.ctx.path)
        if other is None or not symbol or "." in symbol:
            return None
        return other.models.class_model(symbol)

    # -- driving -----------------------------------------------------------
    def _analyse_file(self) -> None:
        ctx = self.ctx
        # 1. every nn.Module class: build it, then run its forward.
        for model in self.model_classes():
            self._run_model_forward(model)
        # 2. Sequentials built outside model classes (scripts, helpers), and
        #    model classes instantiated there with arguments (factories such
        #    as `def vgg11_bn(): return VGG(make_layers(cfg, batch_norm=True))`):
        #    those instances run their forward with what the call passed.
        pending_scopes: Dict[int, Any] = {}
        for site in ctx.calls:
            if any(isinstance(n, cst.ClassDef) for n in site.scope):
                continue
            if ctx.callee(site.node) != L.SEQUENTIAL and not self._instantiates_model(site.node):
                continue
            fn = site.function
            pending_scopes.setdefault(id(fn) if fn is not None else 0, fn)
        for fn in pending_scopes.values():
            self._built_seqs = []
            self._built_instances = []
            if fn is None:
                self._exec_build(ctx, ctx.tree.body, _Frame(ctx, {}, {}, None), 0)
            else:
                self._call_function(ctx, fn, [], {}, None, 0, bind_defaults=True, call_known=False)
            for seq, seq_ctx in self._built_seqs:
                self._apply(seq, EMPTY, None, seq_ctx, 0)
            for model, entry in self._built_instances:
                outer, self._entry = self._entry, entry
                try:
                    self._run_model_forward(model)
                finally:
                    self._entry = outer
        self._built_seqs = []
        self._built_instances = []

    def _instantiates_model(self, call: cst.Call) -> bool:
        """A call with arguments to a model class of the project."""
        if not call.args:
            return False  # built without arguments in step 1 already
        qn = self.ctx.callee(call)
        if qn is None or qn.startswith(("torch.", "builtins.", "numpy.")):
            return False
        found = self._resolve_class_node(self.ctx, qn)
        return found is not None and self._is_module_class(found[0], found[1])

    def _run_model_forward(self, model: ClassModel) -> None:
        found = model.method("forward")
        if found is not None:
            owner, fn = found
            self._call_method(model, owner.ctx, fn, [EMPTY], 0)
        elif model.sequential_items is not None:
            self._apply(Seq(model.sequential_items), EMPTY, None, model.ctx, 0)

    def _tick(self) -> None:
        self._statements += 1
        if self._statements > self._budget:
            raise _Budget()

    # -- classes -----------------------------------------------------------
    def _is_module_class(self, ctx, node: cst.ClassDef, depth: int = 0) -> bool:
        for base in node.bases:
            qn = ctx.qualified_name(base.value)
            if qn is None:
                continue
            if qn in L.MODULE_BASES:
                return True
            if depth < 4 and self._resolve_class_node(ctx, qn) is not None:
                other_ctx, other_node = self._resolve_class_node(ctx, qn)
                if self._is_module_class(other_ctx, other_node, depth + 1):
                    return True
        return False

    def _resolve_class_node(self, ctx, qualname: str):
        local = f"{ctx.module_name}."
        if qualname.startswith(local) and "." not in qualname[len(local):]:
            node = ctx.class_named(qualname[len(local):])
            return (ctx, node) if node is not None else None
        if ctx.project is None or qualname.startswith(("torch.", "builtins.")):
            return None
        other, symbol = ctx.project.resolve_symbol(qualname, ctx.module_name, ctx.path)
        if other is None or not symbol or "." in symbol:
            return None
        node = other.class_named(symbol)
        return (other, node) if node is not None else None

    def _class_model(self, ctx, node: cst.ClassDef, args: Optional[List[Any]] = None,
                     kwargs: Optional[Dict[str, Any]] = None, depth: int = 0) -> Optional[ClassModel]:
        # A class from another file is built once per call site of this file: its
        # layers carry that call as `entry`, where findings about them are reported.
        entry = id(self._entry) if ctx is not self.ctx and self._entry is not None else None
        key = (id(node), _freeze(args), _freeze(kwargs), entry)
        if key in self._class_models:
            return self._class_models[key]
        if key in self._class_in_progress or depth > _MAX_DEPTH:
            return None
        if not self._is_module_class(ctx, node):
            self._class_models[key] = None
            return None
        self._class_in_progress.add(key)
        try:
            model = ClassModel(node.name.value, node, ctx)
            for stmt in node.body.body:
                if isinstance(stmt, cst.FunctionDef):
                    model.methods[stmt.name.value] = stmt
            for base in node.bases:
                qn = ctx.qualified_name(base.value)
                if qn == L.SEQUENTIAL:
                    model.sequential_items = []
                resolved = self._resolve_class_node(ctx, qn) if qn else None
                if resolved is not None:
                    base_model = self._class_model(resolved[0], resolved[1], None, None, depth + 1)
                    if base_model is not None:
                        model.bases.append(base_model)
                        model.attrs.update(base_model.attrs)
                        model.consts.update(base_model.consts)
                        if base_model.sequential_items is not None:
                            model.sequential_items = list(base_model.sequential_items)
            init = model.methods.get("__init__")
            if init is not None:
                frame_self = model
                self._call_function(ctx, init, args or [], kwargs or {}, frame_self, depth + 1,
                                    bind_defaults=True, is_method=True, call_known=args is not None)
            self._class_models[key] = model
            return model
        finally:
            self._class_in_progress.discard(key)

    # -- construction -----------------------------------------------------------
    def _call_function(self, ctx, fn: cst.FunctionDef, args: List[Any], kwargs: Dict[str, Any],
                       self_model: Optional[ClassModel], depth: int, bind_defaults: bool = True,
                       is_method: bool = False, closure: Optional["_Frame"] = None,
                       call_known: bool = True) -> Any:
        """Interpret a construction function; returns its (module) return value.
        A nested function sees its `closure` frame's names (and `self`)."""
        if depth > _MAX_DEPTH:
            return UNKNOWN_MODULE
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
                value = ("const", ctx.constants.value(param.default))
                from_default = not call_known
            if from_default:
                defaulted.add(name)
            else:
                defaulted.discard(name)  # also a closure's name this parameter shadows
            _bind(consts, mods, name, value)
        frame = _Frame(ctx, consts, mods, self_model)
        frame.defaulted = defaulted
        if closure is not None:
            frame.functions.update(closure.functions)
        star = fn.params.star_kwarg
        if star is not None and call_known and _SPLAT not in kwargs:
            named = {p.name.value for p in positional + list(fn.params.kwonly_params)}
            frame.star_kwargs[star.name.value] = {k: v for k, v in kwargs.items() if k not in named}
        self._exec_build(ctx, fn.body.body if isinstance(fn.body, cst.IndentedBlock) else [], frame, depth)
        if not frame.returns:
            return UNKNOWN_MODULE
        return frame.returns[0] if len(frame.returns) == 1 else Alt(frame.returns)

    def _exec_build(self, ctx, body: Iterable[cst.CSTNode], frame: "_Frame", depth: int) -> None:
        for stmt in body:
            self._tick()
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

    def _build_small(self, ctx, small: cst.CSTNode, frame: "_Frame", depth: int) -> None:
        if isinstance(small, (cst.Assign, cst.AnnAssign)):
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            if small.value is None:
                return
            value = self._eval_module(ctx, small.value, frame, depth)
            const = ctx.constants.value(small.value, frame.consts)
            for target in targets:
                if isinstance(target, cst.Name):
                    frame.consts.pop(target.value, None)
                    if const is not UNKNOWN:
                        frame.consts[target.value] = const
                    frame.mods[target.value] = value
                elif _is_self_attr(target) and frame.self_model is not None:
                    frame.self_model.attrs[target.attr.value] = value
                    frame.self_model.consts.pop(target.attr.value, None)
                    if const is UNKNOWN:
                        const = _static(ctx, small.value, frame.consts, frame.self_model.consts)
                    if const is not UNKNOWN:
                        frame.self_model.consts[target.attr.value] = const
        elif isinstance(small, cst.AugAssign):
            if isinstance(small.operator, cst.AddAssign):
                container = self._lookup(small.target, frame)
                addition = _flatten_items(self._eval_module(ctx, small.value, frame, depth))
                if isinstance(container, (PyList, ModList)) and addition is not None:
                    container.items.extend(addition)
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            self._eval_module(ctx, small.value, frame, depth)
        elif isinstance(small, cst.Return) and small.value is not None:
            frame.returns.append(self._eval_module(ctx, small.value, frame, depth))

    def _lookup(self, target: cst.BaseExpression, frame: "_Frame") -> Any:
        if isinstance(target, cst.Name):
            return frame.mods.get(target.value, UNKNOWN_MODULE)
        if _is_self_attr(target) and frame.self_model is not None:
            return frame.self_model.attrs.get(target.attr.value, UNKNOWN_MODULE)
        return UNKNOWN_MODULE

    def _build_if(self, ctx, stmt: cst.If, frame: "_Frame", depth: int) -> None:
        test = ctx.constants.value(stmt.test, frame.consts)
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
                with _under_flag(frame, stmt.test, test):
                    self._exec_build(ctx, chosen, frame, depth)
                return
        # Unknown condition: run both branches from the same state, then join:
        # lists get an alternative of what each branch appended.
        lists = frame.containers()
        before = {id(c): list(c.items) for c in lists}
        attrs_before = dict(frame.self_model.attrs) if frame.self_model is not None else {}
        mods_before = dict(frame.mods)
        created_before = len(self._created)
        self._exec_build(ctx, stmt.body.body, frame, depth)
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

    def _mark_exclusive(self, branch_a: List[Layer], branch_b: List[Layer]) -> None:
        if len(branch_a) * len(branch_b) > _MAX_EXCLUSIVE_PAIRS:
            return
        for a in branch_a:
            for b in branch_b:
                self._exclusive.add((id(a), id(b)))
                self._exclusive.add((id(b), id(a)))

    def _build_loop(self, ctx, stmt, frame: "_Frame", depth: int) -> None:
        self._loops += 1  # an `if` inside a loop may take both branches in one model
        try:
            self._build_loop_rounds(ctx, stmt, frame, depth)
        finally:
            self._loops -= 1

    def _build_loop_rounds(self, ctx, stmt, frame: "_Frame", depth: int) -> None:
        rounds = 2
        values: List[Any] = []
        if isinstance(stmt, cst.For):
            seq = ctx.constants.value(stmt.iter, frame.consts)
            if seq is UNKNOWN and isinstance(stmt.iter, cst.Call) and isinstance(stmt.iter.func, cst.Name) \
                    and stmt.iter.func.value == "range":
                bounds = [ctx.constants.value(a.value, frame.consts) for a in stmt.iter.args]
                if bounds and all(isinstance(b, int) and not isinstance(b, bool) for b in bounds):
                    seq = list(range(*bounds[:3]))[:3]
            if isinstance(seq, (list, tuple)):
                values = list(seq)[:2]
                rounds = len(values)
        for i in range(rounds):
            if isinstance(stmt, cst.For) and isinstance(stmt.target, cst.Name):
                frame.consts.pop(stmt.target.value, None)
                if i < len(values):
                    frame.consts[stmt.target.value] = values[i]
            self._exec_build(ctx, stmt.body.body, frame, depth)

    def _eval_module(self, ctx, node: cst.BaseExpression, frame: "_Frame", depth: int) -> Any:
        kind = type(node)
        if kind is cst.Call:
            return self._build_call(ctx, node, frame, depth)
        if kind is cst.Name:
            return frame.mods.get(node.value, UNKNOWN_MODULE)
        if kind is cst.Attribute:
            if _is_self_attr(node) and frame.self_model is not None:
                return frame.self_model.attrs.get(node.attr.value, UNKNOWN_MODULE)
            return UNKNOWN_MODULE
        if kind is cst.List or kind is cst.Tuple:
            items: List[Any] = []
            for element in node.elements:
                value = self._eval_module(ctx, element.value, frame, depth)
                if isinstance(element, cst.StarredElement):
                    items.extend(_flatten_items(value) or [])
                else:
                    items.append(value)
            return PyList(items)
        if kind is cst.ListComp or kind is cst.GeneratorExp:
            element = self._eval_module(ctx, node.elt, frame, depth)
            # Two representatives: enough to see what one repetition feeds the next.
            return PyList([element, element]) if element is not UNKNOWN_MODULE else PyList([])
        if kind is cst.BinaryOperation:
            left = self._eval_module(ctx, node.left, frame, depth)
            right = self._eval_module(ctx, node.right, frame, depth)
            if isinstance(node.operator, cst.Add):
                a, b = _flatten_items(left), _flatten_items(right)
                if a is not None and b is not None:
                    return PyList(a + b)
            if isinstance(node.operator, cst.Multiply):
                items = _flatten_items(left) or _flatten_items(right)
                if items is not None:
                    return PyList(items + items)
            return UNKNOWN_MODULE
        if kind is cst.IfExp:
            test = ctx.constants.value(node.test, frame.consts)
            body = self._eval_module(ctx, node.body, frame, depth)
            orelse = self._eval_module(ctx, node.orelse, frame, depth)
            if test is UNKNOWN:
                return Alt([body, orelse])
            try:
                chosen = node.body if test else node.orelse
            except TypeError:
                return Alt([body, orelse])
            with _under_flag(frame, node.test, test):
                return self._eval_module(ctx, chosen, frame, depth)
        if kind is cst.Subscript:
            container = self._eval_module(ctx, node.value, frame, depth)
            if isinstance(container, (PyList, ModList, Seq)) and container.items:
                return Alt(list(container.items))
            return UNKNOWN_MODULE
        return UNKNOWN_MODULE

    def _build_call(self, ctx, call: cst.Call, frame: "_Frame", depth: int) -> Any:
        qn = ctx.callee(call)
        category = L.module_category(qn)
        if category is not None:
            return self._make_layer(ctx, call, qn, category, frame)
        if qn == L.SEQUENTIAL:
            seq = Seq(self._sequential_items(ctx, call.args, frame, depth))
            self._built_seqs.append((seq, ctx))
            return seq
        if qn in (L.MODULE_LIST, L.MODULE_DICT):
            items: List[Any] = []
            if call.args:
                value = self._container_value(ctx, call.args[0].value, frame, depth)
                items = _flatten_items(value) or []
            return ModList(items)
        func = call.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            receiver = func.value
            # list / ModuleList mutation
            if method in ("append", "extend", "insert", "add_module", "register_module") or \
                    (method == "__setitem__"):
                target = self._eval_module(ctx, receiver, frame, depth) if not (
                    isinstance(receiver, cst.Name) and receiver.value == "self") else None
                if method in ("add_module", "register_module") and isinstance(receiver, cst.Name) \
                        and receiver.value == "self" and len(call.args) >= 2 and frame.self_model is not None:
                    name = ctx.constants.value(call.args[0].value, frame.consts)
                    if isinstance(name, str):
                        frame.self_model.attrs[name] = self._eval_module(ctx, call.args[1].value, frame, depth)
                    return UNKNOWN_MODULE
                if method in ("add_module", "register_module") and isinstance(target, (Seq, ModList)) \
                        and len(call.args) >= 2:
                    target.items.append(self._eval_module(ctx, call.args[1].value, frame, depth))
                    return UNKNOWN_MODULE
                if isinstance(target, (PyList, ModList, Seq)) and call.args:
                    value = self._eval_module(ctx, call.args[-1].value, frame, depth)
                    if method == "extend":
                        target.items.extend(_flatten_items(value) or [])
                    elif method == "insert":
                        index = ctx.constants.value(call.args[0].value, frame.consts)
                        if index == 0:
                            target.items.insert(0, value)
                        else:
                            target.items.append(value)
                    else:
                        target.items.append(value)
                return UNKNOWN_MODULE
            if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Name) \
                    and receiver.func.value == "super" and method == "__init__":
                if frame.self_model is not None and frame.self_model.sequential_items is not None:
                    frame.self_model.sequential_items = self._sequential_items(ctx, call.args, frame, depth)
                return UNKNOWN_MODULE
            if method in ("to", "cuda", "cpu", "float", "half", "double", "train", "eval", "requires_grad_"):
                return self._eval_module(ctx, receiver, frame, depth)
            if isinstance(receiver, cst.Name) and receiver.value == "self" and frame.self_model is not None:
                found = frame.self_model.method(method)
                if found is not None:
                    args, kwargs = self._call_args(ctx, call, frame, depth)
                    return self._call_function(found[0].ctx, found[1], args, kwargs, frame.self_model,
                                               depth + 1, is_method=True)
                return UNKNOWN_MODULE
        if isinstance(func, cst.Name) and func.value in frame.functions:
            # A block helper defined inside `__init__` (PyTorch-GAN's
            # `def discriminator_block(...)`): run it with the enclosing
            # frame's names visible, as the closure sees them.
            args, kwargs = self._call_args(ctx, call, frame, depth)
            return self._call_function(ctx, frame.functions[func.value], args, kwargs, None, depth + 1,
                                       closure=frame)
        if qn in ("copy.deepcopy", "copy.copy") and call.args:
            return self._eval_module(ctx, call.args[0].value, frame, depth)
        if isinstance(func, cst.Name) and func.value in ("list", "tuple"):
            # `layers = list()` is `[]` (pytorch-fm); `list(blocks)` copies.
            return self._eval_module(ctx, call.args[0].value, frame, depth) if call.args else PyList([])
        if qn is None or qn.startswith(("torch.", "builtins.", "numpy.")):
            return UNKNOWN_MODULE
        return self._call_project(ctx, call, qn, frame, depth)

    def _call_project(self, ctx, call: cst.Call, qn: str, frame: "_Frame", depth: int) -> Any:
        """A helper function or model class defined in this file or the project."""
        target_ctx, symbol = ctx, None
        local = f"{ctx.module_name}."
        if qn.startswith(local) and "." not in qn[len(local):]:
            symbol = qn[len(local):]
        elif ctx.project is not None:
            target_ctx, symbol = ctx.project.resolve_symbol(qn, ctx.module_name, ctx.path)
        if target_ctx is None or not symbol or "." in symbol:
            return UNKNOWN_MODULE
        args, kwargs = self._call_args(ctx, call, frame, depth)
        outer_entry = self._entry
        if target_ctx is not self.ctx and self._entry is None:
            self._entry = call
        try:
            fn = target_ctx.function_named(symbol)
            if fn is not None:
                return self._call_function(target_ctx, fn, args, kwargs, None, depth + 1)
            klass = target_ctx.class_named(symbol)
            if klass is not None:
                model = self._class_model(target_ctx, klass, args, kwargs, depth + 1)
                if model is not None and frame.self_model is None and (args or kwargs) and \
                        all(m is not model for m, _ in self._built_instances):
                    self._built_instances.append((model, self._entry))
                return Instance(model, call) if model is not None else UNKNOWN_MODULE
        finally:
            self._entry = outer_entry
        return UNKNOWN_MODULE

    def _call_args(self, ctx, call: cst.Call, frame: "_Frame", depth: int):
        args: List[Any] = []
        kwargs: Dict[str, Any] = {}
        for arg in call.args:
            if arg.star == "**":
                passed = frame.star_kwargs.get(arg.value.value) if isinstance(arg.value, cst.Name) else None
                if passed is None:
                    kwargs[_SPLAT] = UNKNOWN  # keywords nobody can list
                else:
                    kwargs.update(passed)  # `**kwargs` handed on from a known call
                continue
            if arg.star:
                continue
            const = ctx.constants.value(arg.value, frame.consts)
            value: Any
            if const is not UNKNOWN:
                value = ("const", const)
            else:
                module = self._eval_module(ctx, arg.value, frame, depth)
                value = ("mod", module) if module is not UNKNOWN_MODULE else UNKNOWN
            if arg.keyword is None:
                args.append(value)
            else:
                kwargs[arg.keyword.value] = value
        return args, kwargs

    def _container_value(self, ctx, node: cst.BaseExpression, frame: "_Frame", depth: int) -> Any:
        if isinstance(node, cst.Dict):
            return PyList([self._eval_module(ctx, e.value, frame, depth)
                           for e in node.elements if isinstance(e, cst.DictElement)])
        if isinstance(node, cst.Call) and (ctx.callee(node) or "").endswith("OrderedDict") and node.args:
            inner = node.args[0].value
            if isinstance(inner, (cst.List, cst.Tuple)):
                items = []
                for element in inner.elements:
                    pair = element.value
                    if isinstance(pair, cst.Tuple) and len(pair.elements) == 2:
                        items.append(self._eval_module(ctx, pair.elements[1].value, frame, depth))
                return PyList(items)
        return self._eval_module(ctx, node, frame, depth)

    def _sequential_items(self, ctx, args, frame: "_Frame", depth: int) -> List[Any]:
        items: List[Any] = []
        for arg in args:
            if arg.keyword is not None:
                continue
            if arg.star == "*":
                items.extend(_flatten_items(self._eval_module(ctx, arg.value, frame, depth)) or [UNKNOWN_MODULE])
            elif len(args) == 1 and isinstance(arg.value, (cst.Call, cst.Dict)) and \
                    (isinstance(arg.value, cst.Dict) or (ctx.callee(arg.value) or "").endswith("OrderedDict")):
                items.extend(_flatten_items(self._container_value(ctx, arg.value, frame, depth)) or [])
            else:
                items.append(self._eval_module(ctx, arg.value, frame, depth))
        return items

    def _make_layer(self, ctx, call: cst.Call, qn: str, category: str, frame: "_Frame") -> Layer:
        bias: Optional[bool] = None
        bias_default = False
        if category == L.AFFINE:
            bias = True
            slot = L.BIAS_SLOT.get(qn, -1)
            for i, arg in enumerate(call.args):
                is_bias = (arg.keyword is not None and arg.keyword.value == "bias") or \
                          (arg.keyword is None and not arg.star and i == slot)
                if arg.star == "**":
                    bias = _bias_in_splat(arg.value, frame, bias)
                if is_bias:
                    value = ctx.constants.value(arg.value, frame.consts)
                    bias = None if value is UNKNOWN else bool(value) if value is not None else None
                    bias_default = isinstance(arg.value, cst.Name) and arg.value.value in frame.defaulted
        size = None
        size_slot = SIZE_SLOT.get(qn)
        if size_slot is not None:
            expr = call_argument(call, size_slot[0], size_slot[1])
            if expr is not None:
                value = _static(ctx, expr, frame.consts, frame.self_model.consts if frame.self_model else {})
                if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                    size = value
        layer = Layer(qn, category, call, ctx, bias, self._entry, size=size, bias_default=bias_default,
                      conditions=tuple(frame.conditions), frame=frame.serial)
        self._created.append(layer)
        return layer

    # -- data flow (forward) ------------------------------------------------------------
    def _call_method(self, model: ClassModel, ctx, fn: cst.FunctionDef, inputs: List[Tensor], depth: int) -> Any:
        if depth > _MAX_DEPTH:
            return EMPTY
        env: Dict[str, Any] = {}
        params = list(fn.params.posonly_params) + list(fn.params.params)
        for i, param in enumerate(params[1:]):
            env[param.name.value] = inputs[i] if i < len(inputs) else EMPTY
        flow = _Flow(ctx, model, env)
        self._exec_flow(flow, fn.body.body if isinstance(fn.body, cst.IndentedBlock) else [], depth)
        if not flow.returns:
            return EMPTY
        return _union(flow.returns)

    def _exec_flow(self, flow: "_Flow", body: Iterable[cst.CSTNode], depth: int) -> None:
        for stmt in body:
            self._tick()
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Assign, cst.AnnAssign)):
                        if small.value is None:
                            continue
                        value = self._flow_expr(flow, small.value, depth)
                        targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                        for target in targets:
                            _assign(flow.env, target, value)
                    elif isinstance(small, cst.AugAssign):
                        self._flow_expr(flow, small.value, depth)
                        if isinstance(small.target, cst.Name):
                            flow.env[small.target.value] = EMPTY
                    elif isinstance(small, cst.Expr):
                        self._flow_expr(flow, small.value, depth)
                    elif isinstance(small, cst.Return) and small.value is not None:
                        if isinstance(small.value, (cst.Tuple, cst.List)):
                            returned: Any = EMPTY
                            for element in small.value.elements:  # unpacked by the caller: unknown use
                                self._escape(self._flow_expr(flow, element.value, depth))
                        else:
                            # A plain return flows on: every class's forward is also run on
                            # its own, and a block's output feeds its caller's layers.
                            returned = self._flow_expr(flow, small.value, depth)
                        flow.returns.append(returned)
            elif isinstance(stmt, cst.If):
                self._flow_expr(flow, stmt.test, depth)
                before = dict(flow.env)
                self._exec_flow(flow, stmt.body.body, depth)
                after_body = flow.env
                flow.env = dict(before)
                orelse = stmt.orelse
                if isinstance(orelse, cst.Else):
                    self._exec_flow(flow, orelse.body.body, depth)
                elif isinstance(orelse, cst.If):
                    self._exec_flow(flow, [orelse], depth)
                flow.env = _join(after_body, flow.env)
            elif isinstance(stmt, cst.For):
                self._flow_for(flow, stmt, depth)
            elif isinstance(stmt, cst.While):
                before = dict(flow.env)
                for _ in range(2):
                    self._exec_flow(flow, stmt.body.body, depth)
                flow.env = _join(before, flow.env)
            elif isinstance(stmt, cst.With):
                self._exec_flow(flow, stmt.body.body, depth)
            elif isinstance(stmt, cst.Try):
                self._exec_flow(flow, stmt.body.body, depth)

    def _flow_for(self, flow: "_Flow", stmt: cst.For, depth: int) -> None:
        before = dict(flow.env)
        iterable = stmt.iter
        unpack_enumerate = False
        if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name) and \
                iterable.func.value == "enumerate" and iterable.args:
            iterable = iterable.args[0].value
            unpack_enumerate = True
        container = self._flow_expr(flow, iterable, depth)
        target = stmt.target
        if unpack_enumerate and isinstance(target, cst.Tuple) and len(target.elements) == 2:
            target = target.elements[1].value
        if isinstance(container, (ModList, Seq, PyList)) and isinstance(target, cst.Name):
            # `for layer in self.layers: x = layer(x)`: the layers in order.
            for item in list(container.items)[:16]:
                flow.env[target.value] = item
                self._exec_flow(flow, stmt.body.body, depth)
        else:
            for _ in range(2):
                self._exec_flow(flow, stmt.body.body, depth)
        flow.env = _join(before, flow.env)

    def _flow_expr(self, flow: "_Flow", node: cst.BaseExpression, depth: int) -> Any:
        kind = type(node)
        if kind is cst.Name:
            return flow.env.get(node.value, EMPTY)
        if kind is cst.Attribute:
            if _is_self_attr(node):
                if node.attr.value in flow.model.attrs:
                    return flow.model.attrs[node.attr.value]
                return UNKNOWN_MODULE
            return EMPTY
        if kind is cst.Call:
            return self._flow_call(flow, node, depth)
        if kind is cst.Subscript:
            container = self._flow_expr(flow, node.value, depth)
            for element in node.slice:
                if isinstance(element.slice, cst.Index):
                    self._flow_expr(flow, element.slice.value, depth)
            if isinstance(container, (ModList, Seq, PyList)) and container.items:
                return Alt(list(container.items))
            return EMPTY
        if kind is cst.IfExp:
            return _union([self._flow_expr(flow, node.body, depth), self._flow_expr(flow, node.orelse, depth)])
        if kind is cst.Tuple or kind is cst.List:
            for element in node.elements:
                self._flow_expr(flow, element.value, depth)
            return EMPTY
        if kind is cst.BinaryOperation:
            # The operands leave the tracked data path (`p * x`, `x + pos`).
            self._escape(self._flow_expr(flow, node.left, depth))
            self._escape(self._flow_expr(flow, node.right, depth))
            return EMPTY
        if kind is cst.UnaryOperation:
            self._flow_expr(flow, node.expression, depth)
            return EMPTY
        return EMPTY

    def _flow_argument(self, flow: "_Flow", expr: cst.BaseExpression, depth: int) -> Any:
        """An argument of a call. `self.bn(shortcut + residual)` hands the
        layer every operand; the same sum assigned or returned also flows on
        elsewhere (a pre-activation block's output feeds the next block's
        BatchNorm *and* its identity shortcut), so only a sum written as the
        argument itself keeps its producers. A channel concatenation keeps
        them wherever it is (`x = torch.cat([p1, p2], 1); self.bn(x)`, nasnet):
        each channel still comes from one producer."""
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Add, cst.Subtract)):
            left = self._flow_argument(flow, expr.left, depth)
            right = self._flow_argument(flow, expr.right, depth)
            return _union([_pass_through(t, L.SUM) for t in (left, right) if isinstance(t, Tensor)] or [EMPTY])
        if isinstance(expr, cst.Call) and expr.args and flow.ctx.callee(expr) in _CONCATENATE:
            return self._flow_concat(flow, expr, depth)
        return self._flow_expr(flow, expr, depth)

    def _flow_concat(self, flow: "_Flow", call: cst.Call, depth: int) -> Any:
        """`torch.cat([a, b], 1)`: each part keeps its channels (dim 1) or its
        samples (dim 0); along any other dim channels mix positions, so the
        result has no producer a rule could reason about."""
        dim_arg = call_argument(call, 1, "dim")
        dim = 0 if dim_arg is None else flow.ctx.constants.value(dim_arg)
        parts = call.args[0].value
        for arg in call.args[1:]:
            self._flow_expr(flow, arg.value, depth)  # layers called there still connect
        if not isinstance(parts, (cst.List, cst.Tuple)):
            self._flow_expr(flow, parts, depth)
            return EMPTY
        tensors = [self._flow_expr(flow, element.value, depth) for element in parts.elements]
        if dim not in (0, 1) or any(isinstance(e, cst.StarredElement) for e in parts.elements):
            return EMPTY
        return _union([_pass_through(t, L.CONCAT) for t in tensors if isinstance(t, Tensor)] or [EMPTY])

    def _flow_call(self, flow: "_Flow", call: cst.Call, depth: int) -> Any:
        ctx = flow.ctx
        func = call.func
        if call.args and ctx.callee(call) in _CONCATENATE:
            return self._flow_concat(flow, call, depth)  # evaluates its parts itself, once
        first: Tensor = EMPTY
        evaluated = []
        for arg in call.args:
            value = self._flow_argument(flow, arg.value, depth)
            evaluated.append((arg, value))
        positional = [v for a, v in evaluated if a.keyword is None and not a.star]
        named = {a.keyword.value: v for a, v in evaluated if a.keyword is not None}
        if positional and isinstance(positional[0], Tensor):
            first = positional[0]
        elif "input" in named and isinstance(named["input"], Tensor):
            first = named["input"]
        qn = ctx.callee(call)
        category = L.function_category(qn)
        if category is not None:
            op = Layer(qn, category, call, ctx, None, self._entry, functional=True)
            return self._apply(op, first, call, ctx, depth)
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if _is_self_attr(func):
                if method in flow.model.attrs:
                    return self._apply(flow.model.attrs[method], first, call, ctx, depth)
                found = flow.model.method(method)
                if found is not None:
                    inputs = [v if isinstance(v, Tensor) else EMPTY for v in positional]
                    return self._call_method(flow.model, found[0].ctx, found[1], inputs, depth + 1)
                return EMPTY
            receiver = self._flow_expr(flow, func.value, depth)
            if isinstance(receiver, Tensor):
                mcat = L.TENSOR_METHODS.get(method)
                if mcat is not None:
                    op = (method, self._dims(flow, call.args)) if mcat == L.RESHAPE else None
                    return _pass_through(receiver, mcat, op)
                return EMPTY
            if method in ("forward", "__call__"):
                return self._apply(receiver, first, call, ctx, depth)
            return EMPTY
        callee = self._flow_expr(flow, func, depth) if isinstance(func, cst.Name) else UNKNOWN_MODULE
        if not isinstance(callee, Tensor) and callee is not UNKNOWN_MODULE:
            return self._apply(callee, first, call, ctx, depth)
        if isinstance(func, cst.Subscript):
            module = self._flow_expr(flow, func, depth)
            return self._apply(module, first, call, ctx, depth)
        if isinstance(func, cst.Call):
            module = self._flow_expr(flow, func, depth)
            return self._apply(module, first, call, ctx, depth)
        return EMPTY

    def _apply(self, module: Any, tensor: Tensor, site: Optional[cst.CSTNode], site_ctx, depth: int) -> Tensor:
        if not isinstance(tensor, Tensor):
            tensor = EMPTY
        if isinstance(module, Layer):
            if module.category in L.TRANSPARENT:
                op = None
                if module.category == L.RESHAPE:
                    name = L.short_name(module.kind).lower()
                    dims: Tuple[Optional[int], ...] = ()
                    if module.functional and name == "reshape" and len(module.node.args) > 1:
                        dims = self._dims(None, module.node.args[1:], module.ctx)
                    op = (name, dims)
                return _pass_through(tensor, module.category, op)
            for producer, through, reshapes in tensor.sources:
                self._record(producer, module, through, reshapes, site, site_ctx)
            return Tensor(frozenset({(module, _NONE, ())}))
        if isinstance(module, Seq):
            for item in module.items:
                tensor = self._apply(item, tensor, site, site_ctx, depth)
            return tensor
        if isinstance(module, Alt):
            return _union([self._apply(o, tensor, site, site_ctx, depth) for o in module.options])
        if isinstance(module, Instance):
            model = module.model
            found = model.method("forward")
            if found is not None:
                result = self._call_method(model, found[0].ctx, found[1], [tensor], depth + 1)
                return result if isinstance(result, Tensor) else EMPTY
            if model.sequential_items is not None:
                return self._apply(Seq(model.sequential_items), tensor, site, site_ctx, depth)
        return EMPTY

    def _record(self, src: Layer, dst: Layer, through: FrozenSet[str], reshapes, site, site_ctx) -> None:
        if (id(src), id(dst)) in self._exclusive:
            return  # built on two branches of one `if`: never in the same model
        key = (id(src.node), id(dst.node), through)
        edge = self._edge_keys.get(key)
        if edge is not None:
            if (src.bias_default, src.bias) not in edge.biases:
                edge.biases.append((src.bias_default, src.bias))
            if src.bias is True and not src.bias_default and (edge.src.bias is not True or edge.src.bias_default):
                # The class built on its own did not know its `**kwargs`; a call
                # site that passes no `bias` shows the layer keeps it.
                edge.src = src
            if reshapes not in edge.reshape_paths and len(edge.reshape_paths) < 16:
                edge.reshape_paths.append(reshapes)
            return
        edge = self._edge_keys[key] = Edge(src, dst, through, site, site_ctx, [reshapes],
                                           [(src.bias_default, src.bias)])
        self.edges.append(edge)

    def _dims(self, flow: Optional["_Flow"], args, ctx=None) -> Tuple[Optional[int], ...]:
        """Static dims of `x.view(a, b, ...)` / `x.view((a, b))` / `torch.reshape(x, (a, b))`;
        None for a dim that is not static (`x.size(0)`, `args.batch`)."""
        if ctx is None:
            assert flow is not None, "a reshape is read in a forward flow or with its file's context"
            ctx = flow.ctx
        self_consts = flow.model.consts if flow is not None else {}
        exprs: List[cst.BaseExpression] = []
        for arg in args:
            if arg.star or arg.keyword is not None:
                return ()
            exprs.append(arg.value)
        if len(exprs) == 1 and isinstance(exprs[0], (cst.Tuple, cst.List)):
            exprs = [e.value for e in exprs[0].elements]
        out: List[Optional[int]] = []
        for expr in exprs:
            value = _static(ctx, expr, {}, self_consts)
            out.append(value if isinstance(value, int) and not isinstance(value, bool) else None)
        return tuple(out)


# ---------------------------------------------------------------------------
# helpers


class _Frame:
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
        self.conditions: List[Tuple[int, str, bool]] = []  # known flags of the enclosing ifs
        # `**kwargs` parameter -> the extra keywords its call site passed, when
        # that call is known and spells every keyword (no `**other` of its own).
        self.star_kwargs: Dict[str, Dict[str, Any]] = {}

    def containers(self) -> List[Any]:
        found = [v for v in self.mods.values() if isinstance(v, (PyList, ModList, Seq))]
        if self.self_model is not None:
            found += [v for v in self.self_model.attrs.values() if isinstance(v, (ModList, Seq))]
        unique = {id(v): v for v in found}
        return list(unique.values())


class _Flow:
    def __init__(self, ctx, model: ClassModel, env: Dict[str, Any]):
        self.ctx = ctx
        self.model = model
        self.env = env
        self.returns: List[Any] = []


@contextmanager
def _under_flag(frame: "_Frame", test: cst.BaseExpression, value: Any) -> Iterator[None]:
    """While a branch chosen by a known flag runs (`if batch_norm:`,
    `if not self.no_bn:`, `x if use_bn else y`), its constructions carry the flag."""
    negated = isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)
    name = dotted_name(test.expression if negated else test)
    try:
        truthy = bool(value)
    except Exception:
        name = None
    if name is None:
        yield
        return
    frame.conditions.append((frame.serial, name, (not truthy) if negated else truthy))
    try:
        yield
    finally:
        frame.conditions.pop()


def _bias_in_splat(splat: cst.BaseExpression, frame: "_Frame", bias: Optional[bool]) -> Optional[bool]:
    """`nn.Conv2d(cin, cout, k, **kwargs)`: the bias the call site's keywords
    give (`BasicConv2d(3, 24, 3, padding=1)` passes none: the default, True),
    or None when the keywords are not known."""
    passed = frame.star_kwargs.get(splat.value) if isinstance(splat, cst.Name) else None
    if passed is None:
        return None
    if "bias" not in passed:
        return bias
    value = passed["bias"]
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "const" and value[1] is not UNKNOWN:
        return None if value[1] is None else bool(value[1])
    return None


def _bind(consts: Dict[str, Any], mods: Dict[str, Any], name: str, value: Any) -> None:
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "const":
        if value[1] is not UNKNOWN:
            consts[name] = value[1]
    elif isinstance(value, tuple) and len(value) == 2 and value[0] == "mod":
        mods[name] = value[1]


def _freeze(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    try:
        hash(value)
        return value
    except TypeError:
        return id(value)


def _is_self_attr(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self"


_CONCATENATE = frozenset({"torch.cat", "torch.concat", "torch.concatenate"})


def _pass_through(tensor: Tensor, category: str, op: Optional[Tuple[str, Tuple]] = None) -> Tensor:
    extra = (op,) if op is not None else ()
    return Tensor(frozenset((p, through | {category}, reshapes + extra) for p, through, reshapes in tensor.sources))


_BINARY_OPS = {
    cst.Add: lambda a, b: a + b, cst.Subtract: lambda a, b: a - b, cst.Multiply: lambda a, b: a * b,
    cst.FloorDivide: lambda a, b: a // b, cst.Power: lambda a, b: a ** b if abs(b) < 64 else UNKNOWN,
}


def _static(ctx, expr: cst.BaseExpression, consts: Dict[str, Any], self_consts: Dict[str, Any], depth: int = 0) -> Any:
    """`ctx.constants.value`, plus the model's own static attributes (`self.init_size`)."""
    if depth > 8:
        return UNKNOWN
    if _is_self_attr(expr):
        return self_consts.get(expr.attr.value, UNKNOWN)
    if isinstance(expr, cst.BinaryOperation) and type(expr.operator) in _BINARY_OPS:
        left = _static(ctx, expr.left, consts, self_consts, depth + 1)
        right = _static(ctx, expr.right, consts, self_consts, depth + 1)
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        try:
            return _BINARY_OPS[type(expr.operator)](left, right)
        except (TypeError, ArithmeticError, ValueError):
            return UNKNOWN
    return ctx.constants.value(expr, consts)


def _union(values: List[Any]) -> Any:
    tensors = [v for v in values if isinstance(v, Tensor)]
    if not tensors:
        return values[0] if values else EMPTY
    merged: set = set()
    for t in tensors:
        merged |= t.sources
    return Tensor(frozenset(merged))


def _join(a: Dict[str, Any], b: Dict[str, Any]) -> Dict[str, Any]:
    out = dict(a)
    for name, value in b.items():
        if name in out and out[name] is not value:
            if isinstance(out[name], Tensor) and isinstance(value, Tensor):
                out[name] = Tensor(out[name].sources | value.sources)
            else:
                out[name] = Alt([out[name], value])
        else:
            out[name] = value
    return out


def _assign(env: Dict[str, Any], target: cst.BaseExpression, value: Any) -> None:
    if isinstance(target, cst.Name):
        env[target.value] = value
    elif isinstance(target, (cst.Tuple, cst.List)):
        # `out, hidden = self.rnn(x)`: every name may carry the result's flow.
        for element in target.elements:
            _assign(env, element.value, value if isinstance(value, Tensor) else EMPTY)

