"""Forward data flow: which layer feeds which ("A feeds B" edges).

Interprets `forward` (and the methods it calls): `x = self.drop(x); x =
self.bn(x)`, nested calls, functional ops, tensor methods, local variables,
branches, loops over `ModuleList`s, `self.bns[i](self.drops[i](x))`.

A tensor value is a set of (producer layer, categories passed through since,
reshapes applied since). Applying a layer to it records an `Edge` from every
producer; transparent ops (reshapes, identity, activations, pooling) extend
"passed through" instead of becoming producers, so each rule decides which of
them break "directly". Reshapes are kept as `(op, dims)` with the dims that are
known statically (`x.view(N, 128, 4, 4)` -> `("view", (None, 128, 4, 4))`).
Arithmetic between tensors and unknown calls end a chain (hplint prefers
silence to guessing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Tuple

import libcst as cst

from .. import layers as L
from ..arguments import call_argument
from .interpreter import MAX_DEPTH, Interpreter, is_self_attr, static_value
from .structure import EMPTY, UNKNOWN_MODULE, Alt, ClassModel, Edge, Instance, Layer, ModList, PyList, Seq, Tensor

_NONE: FrozenSet[str] = frozenset()


@dataclass(frozen=True)
class TensorParts:
    """A Python list or tuple of tensors on the data path: `outs = [p(x) for p
    in self.paths]`, `feats = [a]; feats.append(b)`, later joined by
    `torch.cat(outs, 1)` (zamaex96/ML-LSTM's inception block) or unpacked."""

    parts: Tuple[Tensor, ...] = ()


class ForwardFlow(Interpreter):
    """Runs forward methods on abstract tensors and records the edges."""

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.edges: List[Edge] = []
        self._edge_keys: Dict[Tuple[int, int, FrozenSet[str], int, int], Edge] = {}
        # (id(affine layer node), its construction frame) -> for each place its raw
        # output leaves the data path (a gate `p * x`, a returned tuple), the ids
        # of every producer of the value that left: a BatchNorm among them means
        # it was the BatchNorm's output that left, not the raw layer's. Per
        # construction: a block built without BatchNorm elsewhere in the file
        # (MUST-AI-Lab's VGGBlock(use_bn=False)) says nothing of its BN instance.
        self._escapes: Dict[Tuple[int, int], List[FrozenSet[int]]] = {}

    def _escape(self, value: Any) -> None:
        # A list of tensors handed back or used in arithmetic says nothing:
        # lists of activations kept for plots (pre_activation.append(x)) are
        # side outputs, as they were before lists were tracked.
        if not isinstance(value, Tensor) or not value.sources:
            return
        producers = frozenset(id(p.node) for p, _, _ in value.sources)
        for producer, _, _ in value.sources:
            if producer.category == L.AFFINE:
                seen = self._escapes.setdefault((id(producer.node), producer.frame), [])
                if producers not in seen and len(seen) < 16:
                    seen.append(producers)

    # -- data flow (forward) ------------------------------------------------------------
    def _call_method(self, model: ClassModel, ctx, fn: cst.FunctionDef, inputs: List[Tensor], depth: int) -> Any:
        if depth > MAX_DEPTH:
            return EMPTY
        env: Dict[str, Any] = {}
        params = list(fn.params.posonly_params) + list(fn.params.params)
        for i, param in enumerate(params[1:]):
            env[param.name.value] = inputs[i] if i < len(inputs) else EMPTY
        flow = _FlowState(ctx, model, env)
        self._exec_flow(flow, fn.body.body if isinstance(fn.body, cst.IndentedBlock) else [], depth)
        if not flow.returns:
            return EMPTY
        return _union(flow.returns)

    def _exec_flow(self, flow: "_FlowState", body: Iterable[cst.CSTNode], depth: int) -> None:
        for stmt in body:
            self._tick(flow.ctx, stmt)
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
                            if isinstance(returned, TensorParts):
                                returned = EMPTY  # a list handed back: its use is unknown
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
                if _tests_training_mode(stmt.test):
                    # `if self.training: out = self.bn_out(out)`: in eval mode the
                    # other branch's value leaves instead, raw output and bias included
                    for name, value in after_body.items():
                        if flow.env.get(name) is not value:
                            self._escape(value)
                            self._escape(flow.env.get(name))
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

    def _flow_for(self, flow: "_FlowState", stmt: cst.For, depth: int) -> None:
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

    def _flow_expr(self, flow: "_FlowState", node: cst.BaseExpression, depth: int) -> Any:
        kind = type(node)
        if kind is cst.Name:
            return flow.env.get(node.value, EMPTY)
        if kind is cst.Attribute:
            if is_self_attr(node):
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
            # An item of the list, or of one of several lists: `self.conv_blocks[i][j]`
            # indexes one of PointNet++'s per-scale ModuleLists kept in a ModuleList.
            lists = container.options if isinstance(container, Alt) else [container]
            if all(isinstance(option, (ModList, Seq, PyList)) for option in lists):
                items = [item for option in lists for item in option.items]
                if items:
                    return Alt(items)
            return EMPTY
        if kind is cst.IfExp:
            return _union([self._flow_expr(flow, node.body, depth), self._flow_expr(flow, node.orelse, depth)])
        if kind is cst.Tuple or kind is cst.List:
            parts: List[Tensor] = []
            for element in node.elements:
                value = self._flow_expr(flow, element.value, depth)
                if isinstance(element, cst.StarredElement):
                    parts.extend(value.parts if isinstance(value, TensorParts) else [EMPTY])
                else:
                    parts.append(value if isinstance(value, Tensor) else EMPTY)
            return TensorParts(tuple(parts))
        if kind is cst.ListComp:
            return self._flow_list_comp(flow, node, depth)
        if kind is cst.BinaryOperation:
            left = self._flow_expr(flow, node.left, depth)
            right = self._flow_expr(flow, node.right, depth)
            if isinstance(node.operator, cst.Add) and isinstance(left, TensorParts) and \
                    isinstance(right, TensorParts):
                return TensorParts(left.parts + right.parts)  # `first + [self.pool_path(x)]`
            # The operands leave the tracked data path (`p * x`, `x + pos`).
            self._escape(left)
            self._escape(right)
            return EMPTY
        if kind is cst.UnaryOperation:
            self._flow_expr(flow, node.expression, depth)
            return EMPTY
        return EMPTY

    def _flow_list_comp(self, flow: "_FlowState", node: cst.ListComp, depth: int) -> Any:
        """`[path(x) for path in self.paths]`: the element once per layer of
        the container, as a `for` loop runs it; once on its own otherwise.
        The comprehension's names stay inside it."""
        outer = flow.env
        flow.env = dict(outer)
        try:
            comp = node.for_in
            container = self._flow_expr(flow, comp.iter, depth)
            items: List[Any] = [EMPTY]
            if comp.inner_for_in is None and isinstance(comp.target, cst.Name) and \
                    isinstance(container, (ModList, Seq, PyList)) and container.items:
                items = list(container.items)[:16]
            parts: List[Tensor] = []
            for item in items:
                if isinstance(comp.target, cst.Name):
                    flow.env[comp.target.value] = item
                for condition in comp.ifs:
                    self._flow_expr(flow, condition.test, depth)
                value = self._flow_expr(flow, node.elt, depth)
                parts.append(value if isinstance(value, Tensor) else EMPTY)
            return TensorParts(tuple(parts))
        finally:
            flow.env = outer

    def _flow_argument(self, flow: "_FlowState", expr: cst.BaseExpression, depth: int) -> Any:
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

    def _flow_concat(self, flow: "_FlowState", call: cst.Call, depth: int) -> Any:
        """`torch.cat([a, b], 1)`: each part keeps its channels (dim 1) or its
        samples (dim 0); along any other dim channels mix positions, so the
        result has no producer a rule could reason about."""
        dim_arg = call_argument(call, 1, "dim")
        dim = 0 if dim_arg is None else flow.ctx.constants.value(dim_arg)
        parts = call.args[0].value
        for arg in call.args[1:]:
            self._flow_expr(flow, arg.value, depth)  # layers called there still connect
        # `[a, b]` written there, or a list built before (`torch.cat(outs, 1)`)
        value = self._flow_expr(flow, parts, depth)
        if dim not in (0, 1) or not isinstance(value, TensorParts):
            return EMPTY
        return _union([_pass_through(t, L.CONCAT) for t in value.parts] or [EMPTY])

    def _flow_call(self, flow: "_FlowState", call: cst.Call, depth: int) -> Any:
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
            if is_self_attr(func):
                if method in flow.model.attrs:
                    return self._apply(flow.model.attrs[method], first, call, ctx, depth)
                found = flow.model.method(method)
                if found is not None:
                    inputs = [v if isinstance(v, Tensor) else EMPTY for v in positional]
                    return self._call_method(flow.model, found[0].ctx, found[1], inputs, depth + 1)
                return EMPTY
            receiver = self._flow_expr(flow, func.value, depth)
            if isinstance(receiver, TensorParts) and isinstance(func.value, cst.Name) and \
                    method in ("append", "extend") and len(positional) == 1:
                added = positional[0]
                if method == "append":
                    extra = (added if isinstance(added, Tensor) else EMPTY,)
                else:
                    extra = added.parts if isinstance(added, TensorParts) else (EMPTY,)
                flow.env[func.value.value] = TensorParts(receiver.parts + extra)
                return EMPTY
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
            self._applied_seqs.add(id(module))
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
        # One edge per call of this file that brought a foreign layer in: two
        # calls of the same block (powerful-gnns' `MLP(...)` on the two branches
        # of an `if`) are two places to report, and keeping whichever came first
        # made the finding depend on the iteration order of a set.
        key = (id(src.node), id(dst.node), through, id(src.entry), id(dst.entry))
        edge = self._edge_keys.get(key)
        if edge is not None:
            if (src.bias_default, src.bias) not in edge.biases:
                edge.biases.append((src.bias_default, src.bias))
            if src.bias is True and not src.bias_default and (edge.src.bias is not True or edge.src.bias_default):
                # The class built on its own did not know its `**kwargs`; a call
                # site that passes no `bias` shows the layer keeps it. The pair is
                # kept from one build: mixing builds joined two calls of a foreign
                # block that never meet (pytorch-semseg's conv2DBatchNormRelu).
                edge.src, edge.dst = src, dst
            if reshapes not in edge.reshape_paths and len(edge.reshape_paths) < 16:
                edge.reshape_paths.append(reshapes)
            return
        edge = self._edge_keys[key] = Edge(src, dst, through, site, site_ctx, [reshapes],
                                           [(src.bias_default, src.bias)])
        self.edges.append(edge)

    def _dims(self, flow: Optional["_FlowState"], args, ctx=None) -> Tuple[Optional[int], ...]:
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
            value = static_value(ctx, expr, {}, self_consts)
            out.append(value if isinstance(value, int) and not isinstance(value, bool) else None)
        return tuple(out)


class _FlowState:
    def __init__(self, ctx, model: ClassModel, env: Dict[str, Any]):
        self.ctx = ctx
        self.model = model
        self.env = env
        self.returns: List[Any] = []


_CONCATENATE = frozenset({"torch.cat", "torch.concat", "torch.concatenate"})


def _pass_through(tensor: Tensor, category: str, op: Optional[Tuple[str, Tuple]] = None) -> Tensor:
    extra = (op,) if op is not None else ()
    return Tensor(frozenset((p, through | {category}, reshapes + extra) for p, through, reshapes in tensor.sources))


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
            elif isinstance(out[name], TensorParts) and isinstance(value, TensorParts):
                # a list grown in a loop or a branch: every part it may hold
                known = out[name].parts
                out[name] = TensorParts(known + tuple(p for p in value.parts if p not in known))
            else:
                out[name] = Alt([out[name], value])
        else:
            out[name] = value
    return out


def _assign(env: Dict[str, Any], target: cst.BaseExpression, value: Any) -> None:
    if isinstance(target, cst.Name):
        env[target.value] = value
    elif isinstance(target, (cst.Tuple, cst.List)):
        if isinstance(value, TensorParts) and len(value.parts) == len(target.elements) and \
                not any(isinstance(e, cst.StarredElement) for e in target.elements):
            # `left, right = self.a(x), self.b(x)`: one part each
            for element, part in zip(target.elements, value.parts):
                _assign(env, element.value, part)
            return
        # `out, hidden = self.rnn(x)`: every name may carry the result's flow.
        for element in target.elements:
            _assign(env, element.value, value if isinstance(value, Tensor) else EMPTY)


def _tests_training_mode(test: cst.BaseExpression) -> bool:
    """`if self.training:` / `if not self.training:`: both branches run, at different times."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test = test.expression
    return isinstance(test, cst.Attribute) and test.attr.value == "training" and \
        isinstance(test.value, cst.Name) and test.value.value == "self"
