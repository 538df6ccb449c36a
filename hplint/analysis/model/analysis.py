"""ModelAnalysis: the model facts of one file (`ctx.models`) — its model
classes, the layers they hold, and the edges between layers — and the driver
that runs construction, then forward flow, over the file.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

import libcst as cst

from .. import layers as L
from .construction import Frame
from .construction_exprs import ConstructionExprs
from .flow import ForwardFlow
from .interpreter import Budget
from .structure import EMPTY, ClassModel, Edge, Seq, methods_of


class ModelAnalysis(ConstructionExprs, ForwardFlow):
    """Model facts for one file: classes, layers, and the edges between them."""

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._done = False

    # -- public API ------------------------------------------------------
    def analyse(self) -> "ModelAnalysis":
        if self._done:
            return self
        self._done = True
        try:
            self._analyse_file()
        except (Budget, RecursionError) as stop:
            self._note_stop(stop)
        return self

    def _note_stop(self, stop: BaseException) -> None:
        """The analysis ended early: say so on the file (reported as an HPL000
        warning), so that a run never looks clean when its models went unchecked."""
        why = (f"it ran past its budget of {self._budget:,} statements (recursive helpers or generated code)"
               if isinstance(stop, Budget) else "it recursed too deeply")
        self.ctx.note_limit(
            self.stopped_at if isinstance(stop, Budget) else None,
            f"hplint stopped analysing this file's models here: {why}. Findings that need its layers "
            f"(HPL001, HPL002, HPL005, HPL008, HPL009) may be missing from this file.")

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
        return any(id(edge.dst.node) not in others
                   for others in self._escapes.get((id(edge.src.node), edge.src.frame), ()))

    # Class models are also built on demand, after the file's statement budget
    # may be spent: then a class is unknown (None), as it is for the rules.
    def class_model(self, name: str) -> Optional[ClassModel]:
        node = self.ctx.class_named(name)
        if node is None:
            return None
        try:
            return self._class_model(self.ctx, node)
        except (Budget, RecursionError) as stop:
            self._note_stop(stop)
            return None

    def model_classes(self) -> List[ClassModel]:
        out = []
        for definition in self.ctx.classes:
            if not definition.scope:
                try:
                    model = self._class_model(self.ctx, definition.node)
                except (Budget, RecursionError) as stop:
                    self._note_stop(stop)
                    break  # the budget is spent: the rest are unknown too
                if model is not None:
                    out.append(model)
        return out

    def instance_at(self, call: cst.Call) -> Optional[ClassModel]:
        """The model that `call` (a construction outside model classes in this
        file, `GraphSAGE(4, 8)`) builds with its own arguments, when the
        analysis ran it; else None (the class's generic model applies)."""
        self.analyse()
        return self._instances_at.get(id(call))

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
        self._built_seqs = []
        for model in self.model_classes():
            self._run_model_forward(model)
        # A Sequential built during construction that no forward ran (handed to a
        # helper: `replace_module(self.model, "head", nn.Sequential(...))`, or
        # registered with `setattr` and read back with `getattr`) still runs its
        # layers in order.
        for seq, seq_ctx in self._dynamic_seqs + self._built_seqs:
            if id(seq) not in self._applied_seqs:
                self._apply(seq, EMPTY, None, seq_ctx, 0)
        self._dynamic_seqs = []
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
                self._exec_build(ctx, ctx.tree.body, Frame(ctx, {}, {}, None), 0)
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
        # 3. builder methods that nothing above ran (Auto-PyTorch's
        #    `build_backbone(in_features)`, called by a framework base class).
        self._run_unreached_builders()

    def _run_unreached_builders(self) -> None:
        """A method that builds an `nn.Sequential`, in a class whose construction
        never called it: run it on a scratch copy of its class's model (the
        cached model other files may read stays as construction left it), and
        each Sequential it built runs its layers in order."""
        ctx = self.ctx
        methods: Dict[int, Any] = {}
        for site in ctx.calls:
            fn, klass = site.function, site.klass
            if fn is None or klass is None or len(site.scope) != 2 or site.scope[0] is not klass or \
                    id(fn) in self._entered or ctx.callee(site.node) != L.SEQUENTIAL:
                continue
            methods.setdefault(id(fn), (fn, klass))
        for fn, klass in methods.values():
            if id(fn) in self._entered:
                continue  # run meanwhile, by a builder that calls it
            model = self._class_model(ctx, klass)
            scratch = ClassModel(klass.name.value, klass, ctx, attrs=dict(model.attrs) if model else {},
                                 bases=list(model.bases) if model else _scratch_bases(ctx, klass),
                                 consts=dict(model.consts) if model else {})
            scratch.methods = methods_of(klass)
            self._built_seqs = []
            self._call_function(ctx, fn, [], {}, scratch, 0, bind_defaults=True, is_method=True, call_known=False)
            for seq, seq_ctx in self._built_seqs:
                self._apply(seq, EMPTY, None, seq_ctx, 0)
            self._built_seqs = []

    def _instantiates_model(self, call: cst.Call) -> bool:
        """A call with arguments to a model class of the project."""
        if not call.args:
            return False  # built without arguments in step 1 already
        qn = self.ctx.callee(call)
        if qn is None or qn.startswith(("torch.", "builtins.", "numpy.")):
            return False
        found = self.ctx.class_definition(qn)
        return found is not None and self._is_module_class(found[0], found[1])

    def _run_model_forward(self, model: ClassModel) -> None:
        found = model.method("forward")
        if found is not None:
            owner, fn = found
            self._call_method(model, owner.ctx, fn, [EMPTY], 0)
        elif model.sequential_items is not None:
            self._apply(Seq(model.sequential_items), EMPTY, None, model.ctx, 0)
        else:
            # No forward here or in a base (a container whose caller runs its parts):
            # each Sequential it holds still runs its layers in order.
            for value in list(model.attrs.values()):
                if isinstance(value, Seq):
                    self._apply(value, EMPTY, None, model.ctx, 0)


def _scratch_bases(ctx, klass: cst.ClassDef, depth: int = 0) -> List[ClassModel]:
    """The project base classes of a class that is not a module (a framework
    component: Auto-PyTorch's `MLPEncoder(MLPBackbone)` inherits the
    `_build_backbone` that calls its own `_add_layer`), with their methods, so
    that a builder method finds what it calls on `self`."""
    bases: List[ClassModel] = []
    if depth > 4:
        return bases
    for qn in ctx.base_qualnames(klass):
        found = ctx.class_definition(qn) if qn else None
        if found is None:
            continue
        base_ctx, node = found
        base = ClassModel(node.name.value, node, base_ctx, bases=_scratch_bases(base_ctx, node, depth + 1))
        base.methods = methods_of(node)
        bases.append(base)
    return bases
