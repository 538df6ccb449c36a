"""Construction expressions: what a call, a list, a conditional or a subscript
in construction code evaluates to — a layer (with its bias and size), a
Sequential, a ModuleList, a list of blocks, a project helper's return value,
a project model class built with the call's arguments.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import libcst as cst

from .. import layers as L
from ..arguments import call_argument
from ..constants import UNKNOWN
from ..registries import dict_literal_entries
from .construction import SPLAT, Construction, Frame, branch_test, under_flag
from .interpreter import MAX_DEPTH, is_self_attr, static_value
from .structure import (
    SIZE_SLOT,
    UNKNOWN_MODULE,
    Alt,
    ClassModel,
    ClassRef,
    Instance,
    Layer,
    LayerClass,
    ModList,
    Opaque,
    PyList,
    Seq,
    flatten_items,
    methods_of,
)


class ConstructionExprs(Construction):
    """Construction with its expressions, and the model classes it builds."""

    # -- classes -----------------------------------------------------------
    def _is_module_class(self, ctx, node: cst.ClassDef, depth: int = 0) -> bool:
        for qn in ctx.base_qualnames(node):
            if qn is None:
                continue
            if qn in L.MODULE_BASES:
                return True
            found = ctx.class_definition(qn) if depth < 4 else None
            if found is not None and self._is_module_class(found[0], found[1], depth + 1):
                return True
        return False

    def _class_model(self, ctx, node: cst.ClassDef, args: Optional[List[Any]] = None,
                     kwargs: Optional[Dict[str, Any]] = None, depth: int = 0) -> Optional[ClassModel]:
        # A class from another file is built once per call site of this file: its
        # layers carry that call as `entry`, where findings about them are reported.
        entry = (id(self._entry), self._entry_round) if ctx is not self.ctx and self._entry is not None else None
        key = (id(node), _freeze(args), _freeze(kwargs), entry)
        if key in self._class_models:
            return self._class_models[key]
        if key in self._class_in_progress or depth > MAX_DEPTH:
            return None
        if not self._is_module_class(ctx, node):
            self._class_models[key] = None
            return None
        self._class_in_progress.add(key)
        try:
            model = ClassModel(node.name.value, node, ctx)
            model.methods.update(methods_of(node))
            for qn in ctx.base_qualnames(node):
                if qn == L.SEQUENTIAL:
                    model.sequential_items = []
                resolved = ctx.class_definition(qn) if qn else None
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

    # -- expressions ------------------------------------------------------------

    def _eval_module(self, ctx, node: cst.BaseExpression, frame: "Frame", depth: int) -> Any:
        kind = type(node)
        if kind is cst.Call:
            return self._build_call(ctx, node, frame, depth)
        if kind is cst.Name:
            found = frame.mods.get(node.value, UNKNOWN_MODULE)
            return found if found is not UNKNOWN_MODULE else self._class_value(ctx, node)
        if kind is cst.Attribute:
            if is_self_attr(node) and frame.self_model is not None:
                return frame.self_model.attrs.get(node.attr.value, UNKNOWN_MODULE)
            if node.attr.value == "features" and isinstance(node.value, (cst.Call, cst.Name)):
                # `vgg19_bn(pretrained=True).features` (a captioning encoder): the
                # convolutional trunk keeps the model's BatchNorm, not its dropout head
                whole = self._eval_module(ctx, node.value, frame, depth)
                if isinstance(whole, Opaque):
                    return Opaque([layer for layer in whole.layers if layer.category == L.BATCHNORM])
            return self._class_value(ctx, node)
        if kind is cst.List or kind is cst.Tuple:
            items: List[Any] = []
            for element in node.elements:
                value = self._eval_module(ctx, element.value, frame, depth)
                if isinstance(element, cst.StarredElement):
                    items.extend(flatten_items(value) or [])
                else:
                    items.append(value)
            return PyList(items)
        if kind is cst.ListComp or kind is cst.GeneratorExp:
            element = self._eval_module(ctx, node.elt, frame, depth)
            # Two representatives: enough to see what one repetition feeds the next.
            # Built twice when it is a call, as the loop builds a block per round
            # (a block of another file then meets itself as two calls, see Layer.entry_round).
            second = self._eval_module(ctx, node.elt, frame, depth) \
                if element is not UNKNOWN_MODULE and type(node.elt) is cst.Call else element
            return PyList([element, second]) if element is not UNKNOWN_MODULE else PyList([])
        if kind is cst.BinaryOperation:
            left = self._eval_module(ctx, node.left, frame, depth)
            right = self._eval_module(ctx, node.right, frame, depth)
            if isinstance(node.operator, cst.Add):
                a, b = flatten_items(left), flatten_items(right)
                if a is not None and b is not None:
                    return PyList(a + b)
            if isinstance(node.operator, cst.Multiply):
                items = flatten_items(left) or flatten_items(right)
                if items is not None:
                    return PyList(items + items)
            return UNKNOWN_MODULE
        if kind is cst.IfExp:
            test = branch_test(ctx, node.test, frame)
            with under_flag(frame, node.test, True):
                body = self._eval_module(ctx, node.body, frame, depth)
            with under_flag(frame, node.test, False):
                orelse = self._eval_module(ctx, node.orelse, frame, depth)
            if test is UNKNOWN:
                return Alt([body, orelse])
            try:
                chosen = node.body if test else node.orelse
            except TypeError:
                return Alt([body, orelse])
            with under_flag(frame, node.test, test):
                return self._eval_module(ctx, chosen, frame, depth)
        if kind is cst.Subscript:
            container = self._eval_module(ctx, node.value, frame, depth)
            if isinstance(container, PyList) and container.items and len(node.slice) == 1 and \
                    isinstance(node.slice[0].slice, cst.Slice) and all(isinstance(i, Opaque) for i in container.items):
                return container  # `list(resnet.children())[:-1]`: the trunk, as above
            if isinstance(container, (PyList, ModList, Seq)) and container.items:
                return Alt(list(container.items))
            if isinstance(container, Opaque) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Slice):
                return container  # `.features[:-1]`: most of the trunk, its BatchNorm with it
            if container is UNKNOWN_MODULE:
                return self._class_in_a_table(ctx, node, frame)
            return UNKNOWN_MODULE
        return UNKNOWN_MODULE

    def _class_in_a_table(self, ctx, node: cst.Subscript, frame: "Frame") -> Any:
        """`SUPPORTED["lstm"]` / `RNNS[rnn_type]` with `SUPPORTED = {"lstm": nn.LSTM,
        "gru": nn.GRU}` at the top of the module (CTC_pytorch): the class a
        constant key names, else any of them."""
        table = node.value
        if not isinstance(table, cst.Name) or len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return UNKNOWN_MODULE
        values = ctx.module_assignments.get(table.value) or []
        if len(values) != 1 or frame.mods.get(table.value, UNKNOWN_MODULE) is not UNKNOWN_MODULE:
            return UNKNOWN_MODULE
        entries = dict_literal_entries(ctx, values[0])  # none for `**others`: not every class is known
        if not entries:
            return UNKNOWN_MODULE
        key = ctx.constants.value(node.slice[0].slice.value, frame.consts)
        picked = [value for name, value in entries if key is not UNKNOWN and name == key] or \
            [value for _, value in entries]
        classes = [self._class_value(ctx, value) for value in picked]
        if any(c is UNKNOWN_MODULE for c in classes):
            return UNKNOWN_MODULE
        return classes[0] if len(classes) == 1 else Alt(classes)

    def _build_call(self, ctx, call: cst.Call, frame: "Frame", depth: int) -> Any:
        qn = ctx.callee(call)
        if qn is None and isinstance(call.func, cst.Call):
            qn = _member_by_static_name(ctx, call.func, frame)  # `getattr(nn, self.cell)(...)`
        if not call.args and qn in _EMPTY_MAPPINGS:
            return PyList([], mapping=True)  # filled by `d["conv"] = nn.Conv2d(...)`, in order
        category = L.module_category(qn)
        if category == L.DROPOUT:
            category = L.built_category(category, _known_rate(ctx, call, frame))
        if category is not None:
            return self._make_layer(ctx, call, qn, category, frame)
        if qn == L.SEQUENTIAL:
            seq = Seq(self._sequential_items(ctx, call.args, frame, depth))
            self._built_seqs.append((seq, ctx))
            return seq
        if category is None and (qn is None or not qn.startswith("torch.")):
            # `self.rnn = self.rnn_cell(...)` with `self.rnn_cell = nn.LSTM if lstm else nn.GRU`
            chosen = self._eval_module(ctx, call.func, frame, depth) \
                if isinstance(call.func, (cst.Name, cst.Attribute, cst.Subscript)) else None
            options = chosen.options if isinstance(chosen, Alt) else [chosen]
            classes = [o for o in options if isinstance(o, LayerClass)]
            if classes and len(classes) == len(options):
                layers = [self._make_layer(ctx, call, o.qualname, o.category, frame) for o in classes]
                return layers[0] if len(layers) == 1 else Alt(layers)
            models = [o for o in options if isinstance(o, ClassRef)]
            if models and len(models) == len(options):
                # `block(self.in_planes, planes)` with `block` a model class of the project
                built = [self._call_project(ctx, call, o.qualname, frame, depth) for o in models]
                return built[0] if len(built) == 1 else Alt(built)
        if qn in (L.MODULE_LIST, L.MODULE_DICT):
            items: List[Any] = []
            if call.args:
                value = self._container_value(ctx, call.args[0].value, frame, depth)
                items = flatten_items(value) or []
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
                        target.items.extend(flatten_items(value) or [])
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
                if frame.self_model is not None and frame.self_model.bases:
                    # The base's __init__ again, with what this class passes it: the
                    # base was built on its own first, from its defaults (opacus's
                    # DPLSTM passes dropout=0 to DPRNNBase, which builds no Dropout).
                    for base in frame.self_model.bases:
                        found = base.method("__init__")
                        if found is not None:
                            args, kwargs = self._call_args(ctx, call, frame, depth)
                            self._call_function(found[0].ctx, found[1], args, kwargs, frame.self_model,
                                                depth + 1, is_method=True)
                            break
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
        if isinstance(func, cst.Name) and func.value == "setattr" and len(call.args) == 3 and \
                frame.self_model is not None and isinstance(call.args[0].value, cst.Name) and \
                call.args[0].value.value == "self":
            # pix2pixHD's `setattr(self, 'model' + str(n), nn.Sequential(*layers))`, read
            # back by `getattr(self, ...)`: the model holds it; its layers run in order.
            name = ctx.constants.value(call.args[1].value, frame.consts)
            value = self._eval_module(ctx, call.args[2].value, frame, depth)
            key = name if isinstance(name, str) else f"<setattr at line {ctx.span(call).start_line}>"
            frame.self_model.attrs[key] = value
            if isinstance(value, Seq):
                self._dynamic_seqs.append((value, ctx))
            return UNKNOWN_MODULE
        if isinstance(func, cst.Name) and func.value in frame.functions:
            # A block helper defined inside `__init__` (PyTorch-GAN's
            # `def discriminator_block(...)`): run it with the enclosing
            # frame's names visible, as the closure sees them.
            args, kwargs = self._call_args(ctx, call, frame, depth)
            return self._call_function(ctx, frame.functions[func.value], args, kwargs, None, depth + 1,
                                       closure=frame)
        if (qn in ("copy.deepcopy", "copy.copy") or qn in L.SAME_MODULE_WRAPPERS) and call.args:
            return self._eval_module(ctx, call.args[0].value, frame, depth)
        if isinstance(func, cst.Name) and func.value in ("list", "tuple"):
            # `layers = list()` is `[]` (pytorch-fm); `list(blocks)` copies.
            return self._eval_module(ctx, call.args[0].value, frame, depth) if call.args else PyList([])
        if isinstance(func, cst.Attribute) and func.attr.value == "children" and not call.args and \
                not is_self_attr(func.value):
            # `nn.Sequential(*list(resnet.children())[:-1])` (image captioning
            # encoders): the trunk of a torchvision model, its BatchNorm with it
            whole = self._eval_module(ctx, func.value, frame, depth)
            if isinstance(whole, Opaque):
                return PyList([Opaque([layer for layer in whole.layers if layer.category == L.BATCHNORM])])
        if qn is None or qn.startswith(("torch.", "builtins.", "numpy.")):
            return UNKNOWN_MODULE
        library = L.library_model_layers(qn)
        if library:
            return Opaque([Layer(kind, category, call, ctx, None, self._entry, conditions=tuple(frame.conditions),
                                 frame=frame.serial, entry_round=self._entry_round) for kind, category in library])
        return self._call_project(ctx, call, qn, frame, depth)

    def _call_project(self, ctx, call: cst.Call, qn: str, frame: "Frame", depth: int) -> Any:
        """A helper function or model class defined in this file or the project."""
        target_ctx, symbol = ctx, None
        local = f"{ctx.module_name}."
        if qn.startswith(local) and "." not in qn[len(local):]:
            symbol = qn[len(local):]
        elif ctx.project is not None:
            target_ctx, symbol = ctx.project.resolve_symbol(qn, ctx.module_name, ctx.path)
        # `Generator._block(c_in, c_out)` in `__init__` (DCGAN-Anime-Faces): a
        # static method called through its class is a plain helper
        static = _static_method(target_ctx, symbol) if target_ctx is not None and symbol else None
        if target_ctx is None or not symbol or "." in symbol and static is None:
            return UNKNOWN_MODULE
        args, kwargs = self._call_args(ctx, call, frame, depth)
        outer_entry, outer_round = self._entry, self._entry_round
        if target_ctx is not self.ctx and self._entry is None:
            self._entry = call
            self._entry_rounds += 1
            self._entry_round = self._entry_rounds
        try:
            fn = static or target_ctx.function_named(symbol)
            if fn is not None:
                return self._call_function(target_ctx, fn, args, kwargs, None, depth + 1)
            klass = target_ctx.class_named(symbol)
            if klass is not None:
                model = self._class_model(target_ctx, klass, args, kwargs, depth + 1)
                if model is not None and frame.self_model is None and (args or kwargs) and \
                        all(m is not model for m, _ in self._built_instances):
                    self._built_instances.append((model, self._entry))
                if model is not None and ctx is self.ctx and frame.self_model is None:
                    # `model = GraphSAGE(4, 8)` in this file: built with what the call
                    # passes (branches on `jk=None` left out), for the training facts.
                    self._instances_at.setdefault(id(call), model)
                return Instance(model, call) if model is not None else UNKNOWN_MODULE
        finally:
            self._entry, self._entry_round = outer_entry, outer_round
        return UNKNOWN_MODULE

    def _class_value(self, ctx, node: cst.BaseExpression) -> Any:
        """What a name that is not a module value holds: a torch layer class, or a
        model class of the project (`block=Bottleneck`)."""
        found = _layer_class(ctx, node)
        if found is UNKNOWN_MODULE:
            found = _class_ref(ctx, node)
            if isinstance(found, ClassRef):
                resolved = ctx.class_definition(found.qualname)
                if resolved is None or not self._is_module_class(resolved[0], resolved[1]):
                    return UNKNOWN_MODULE
        return found

    def _call_args(self, ctx, call: cst.Call, frame: "Frame", depth: int):
        args: List[Any] = []
        kwargs: Dict[str, Any] = {}
        for arg in call.args:
            if arg.star == "**":
                passed = frame.star_kwargs.get(arg.value.value) if isinstance(arg.value, cst.Name) else None
                if passed is None:
                    kwargs[SPLAT] = UNKNOWN  # keywords nobody can list
                else:
                    kwargs.update(passed)  # `**kwargs` handed on from a known call
                continue
            if arg.star:
                continue
            const = ctx.constants.value(arg.value, frame.consts)
            value: Any
            held = frame.mods.get(arg.value.value) if isinstance(arg.value, cst.Name) else None
            if isinstance(held, (PyList, ModList, Seq)):
                # `layers = []; self._add_layer(layers, ...)`: the list itself, which the
                # helper appends to, not its (empty) constant value
                value = ("mod", held)
            elif const is not UNKNOWN:
                value = ("const", const)
            else:
                module = self._eval_module(ctx, arg.value, frame, depth)
                value = ("mod", module) if module is not UNKNOWN_MODULE else UNKNOWN
            if arg.keyword is None:
                args.append(value)
            else:
                kwargs[arg.keyword.value] = value
        return args, kwargs

    def _container_value(self, ctx, node: cst.BaseExpression, frame: "Frame", depth: int) -> Any:
        if isinstance(node, cst.Dict):
            return PyList([self._eval_module(ctx, e.value, frame, depth)
                           for e in node.elements if isinstance(e, cst.DictElement)])
        if isinstance(node, cst.Name) and isinstance(frame.mods.get(node.value), PyList):
            return frame.mods[node.value]  # `d = OrderedDict(); d["conv"] = ...; nn.Sequential(d)`
        if isinstance(node, cst.Call) and (ctx.callee(node) or "").endswith("OrderedDict") and node.args:
            inner = node.args[0].value
            if isinstance(inner, (cst.List, cst.Tuple)):
                items = []
                for element in inner.elements:
                    pair = element.value
                    if isinstance(pair, cst.Tuple) and len(pair.elements) == 2:
                        items.append(self._eval_module(ctx, pair.elements[1].value, frame, depth))
                return PyList(items)
            # `OrderedDict(layers)` with `layers` built by appending `(name, block)`
            # pairs in a loop (CTC_pytorch's stacked RNN blocks), or a comprehension of pairs
            pairs = self._eval_module(ctx, inner, frame, depth)
            if isinstance(pairs, PyList) and not pairs.mapping:
                return PyList([pair.items[1] if isinstance(pair, PyList) and len(pair.items) == 2 else UNKNOWN_MODULE
                               for pair in pairs.items])
        return self._eval_module(ctx, node, frame, depth)

    def _sequential_items(self, ctx, args, frame: "Frame", depth: int) -> List[Any]:
        items: List[Any] = []
        for arg in args:
            if arg.keyword is not None:
                continue
            if arg.star == "*":
                items.extend(flatten_items(self._eval_module(ctx, arg.value, frame, depth)) or [UNKNOWN_MODULE])
            elif len(args) == 1 and (isinstance(arg.value, cst.Dict) or (
                    isinstance(arg.value, cst.Call) and (ctx.callee(arg.value) or "").endswith("OrderedDict")) or (
                    isinstance(arg.value, cst.Name) and isinstance(frame.mods.get(arg.value.value), PyList))):
                items.extend(flatten_items(self._container_value(ctx, arg.value, frame, depth)) or [])
            else:
                items.append(self._eval_module(ctx, arg.value, frame, depth))
        return items

    def _make_layer(self, ctx, call: cst.Call, qn: str, category: str, frame: "Frame") -> Layer:
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
                value = static_value(ctx, expr, frame.consts, frame.self_model.consts if frame.self_model else {})
                if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                    size = value
        layer = Layer(qn, category, call, ctx, bias, self._entry, size=size, bias_default=bias_default,
                      conditions=tuple(frame.conditions), frame=frame.serial, entry_round=self._entry_round)
        self._created.append(layer)
        return layer


def _known_rate(ctx, call: cst.Call, frame: "Frame") -> Any:
    """A dropout layer's rate `p` when it is certain: written, or the value a
    known call gives a parameter (`Tagger(vocab, p_drop=0.0)`); UNKNOWN for a
    default an unknown caller may override (the class as any caller builds it)."""
    expr = call_argument(call, 0, "p")
    if expr is None:
        return UNKNOWN  # the default rate, 0.5
    if isinstance(expr, cst.Name) and expr.value in frame.defaulted:
        return UNKNOWN
    return ctx.constants.value(expr, frame.consts)


def _bias_in_splat(splat: cst.BaseExpression, frame: "Frame", bias: Optional[bool]) -> Optional[bool]:
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


_EMPTY_MAPPINGS = frozenset({"collections.OrderedDict"})  # `dict()` has no qualified name here


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


def _class_ref(ctx, node: cst.BaseExpression) -> Any:
    """A model class of the project named by `node` (CapWords, as classes are
    named: other names are not resolved), else UNKNOWN_MODULE."""
    last = node.attr.value if isinstance(node, cst.Attribute) else getattr(node, "value", "")
    if not last[:1].isupper():
        return UNKNOWN_MODULE
    qn = ctx.qualified_name(node)
    if not qn or qn.startswith(("torch.", "builtins.", "numpy.")):
        return UNKNOWN_MODULE
    return ClassRef(qn) if ctx.class_definition(qn) is not None else UNKNOWN_MODULE


def _member_by_static_name(ctx, inner: cst.Call, frame: "Frame") -> Optional[str]:
    """`getattr(nn, self.cell)` with `self.cell = config.cell` set earlier in
    `__init__` from an argparse default (cs3602_nlp_project): the member the
    interpreter's own values name, where the module-wide constants do not."""
    parts = ctx.member_lookup(inner)
    owner = ctx.qualified_name(parts[0]) if parts is not None else None
    if owner is None:
        return None
    name = static_value(ctx, parts[1], frame.consts, frame.self_model.consts if frame.self_model else {})
    return f"{owner}.{name}" if isinstance(name, str) and name.isidentifier() else None


def _layer_class(ctx, node: cst.BaseExpression) -> Any:
    """`nn.LSTM` named but not called: a LayerClass, else UNKNOWN_MODULE. A
    module-level alias bound once (lightweight-gan's `norm_class =
    nn.BatchNorm2d`) is the class it names."""
    qn = ctx.qualified_name(node)
    category = L.module_category(qn) if qn else None
    if category is None and isinstance(node, cst.Name):
        bindings = ctx.binder.scope(None).values(node.value)
        if len(bindings) == 1 and bindings[0].kind == "assign" and bindings[0].index is None and \
                isinstance(bindings[0].value, cst.Attribute):
            qn = ctx.qualified_name(bindings[0].value)
            category = L.module_category(qn) if qn else None
    return LayerClass(qn, category) if category is not None else UNKNOWN_MODULE


def _static_method(ctx, symbol: str) -> Optional[cst.FunctionDef]:
    """`Class.method` of a module-level class of `ctx` when it is a `@staticmethod`."""
    class_name, _, method = symbol.partition(".")
    if not method or "." in method:
        return None
    klass = ctx.class_named(class_name)
    fn = methods_of(klass).get(method) if klass is not None else None
    if fn is None or not any(isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod"
                             for d in fn.decorators):
        return None
    return fn
