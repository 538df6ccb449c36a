"""Train/eval mode flow: which models are in eval mode at each call.

A small path-sensitive walk over one function body (or the module body) in
execution order. State per model expression key (`model`, `self.net`):

* `must_eval` — `eval()` / `train(False)` ran on every path to here;
* `may_eval`  — on some path (key -> the call that switched it);
* `must_train` — `train()` ran on every path (a fresh construction counts).

Branches join (must: intersection, may: union), loop bodies run twice so the
next iteration sees what the previous one left, `return`/`raise` end a path.
Calls of helpers defined in the same file (`evaluate(model)`, `self.validate()`)
apply the helper's summary: what its exit state says about its parameters and
`self.*` attributes, and which of them it trains without calling `train()`.
`with torch.no_grad()` / `torch.inference_mode()` / `torch.set_grad_enabled(False)`
bodies are recorded as no-grad regions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Iterator, List, Optional, Set, Tuple

import libcst as cst

from .constants import UNKNOWN
from .grad_mode import SET_GRAD, disables_grad
from .imports import dotted_name
from .model.interpreter import is_self_attr
from .training import TrainingAnalysis, _block, function_params, locate_symbol
from .walk import children, walk

_MAX_DEPTH = 3


@dataclass(frozen=True)
class State:
    must_eval: FrozenSet[str] = frozenset()
    may_eval: Tuple[Tuple[str, Any], ...] = ()  # (key, eval call) pairs
    must_train: FrozenSet[str] = frozenset()
    # Modes set in this body on every path so far (train, eval or unknown): a
    # training step of such a module does not depend on the mode the body was
    # entered with.
    set_here: FrozenSet[str] = frozenset()
    # Modes some path left in train mode or not known (a helper's exit: a key
    # only evaluated or left alone keeps its caller's eval mode).
    may_train: FrozenSet[str] = frozenset()

    def may(self) -> Dict[str, Any]:
        return dict(self.may_eval)

    def evaluated(self, key: str, node) -> "State":
        may = self.may()
        may[key] = node
        return State(self.must_eval | {key}, tuple(may.items()),
                     frozenset(k for k in self.must_train if not _under(k, key)), self.set_here | {key},
                     frozenset(k for k in self.may_train if not _under(k, key)))

    def trained(self, key: str) -> "State":
        may = {k: v for k, v in self.may_eval if not _under(k, key)}
        return State(frozenset(k for k in self.must_eval if not _under(k, key)), tuple(may.items()),
                     self.must_train | {key}, self.set_here | {key}, self.may_train | {key})

    def in_eval(self, key: str) -> bool:
        """`model.eval()` also puts `model.encoder` in eval mode."""
        return any(p in self.must_eval for p in _prefixes(key))

    def in_train(self, key: str) -> bool:
        return any(p in self.must_train for p in _prefixes(key))

    def set_on_every_path(self, key: str) -> bool:
        return any(p in self.set_here for p in _prefixes(key))

    def maybe_eval(self, key: str):
        """The call that may have left `key` (or a module holding it) in eval mode."""
        may = self.may()
        for p in _prefixes(key):
            if p in may:
                return may[p]
        return None

    def snapshot(self, key: str) -> Tuple[bool, Any, bool]:
        """What the state says about exactly `key`, for `restored`."""
        return (key in self.must_eval, self.may().get(key), key in self.must_train)

    def restored(self, key: str, snap: Tuple[bool, Any, bool]) -> "State":
        """`model.train(was_training)` with `was_training = model.training` read
        when the state about `model` was `snap`: back to that (modules under
        `model` follow it, as `train(mode)` sets every submodule)."""
        must_eval, may_node, must_train = snap
        may = {k: v for k, v in self.may_eval if not _under(k, key)}
        if may_node is not None:
            may[key] = may_node
        eval_set = frozenset(k for k in self.must_eval if not _under(k, key)) | ({key} if must_eval else set())
        train_set = frozenset(k for k in self.must_train if not _under(k, key)) | ({key} if must_train else set())
        may_train = frozenset(k for k in self.may_train if not _under(k, key)) | ({key} if must_train else set())
        return State(eval_set, tuple(may.items()), train_set, self.set_here - {key}, may_train)

    def adopted(self, key: str, src: "State") -> "State":
        """This state, but what `src` says of `key` and the modules under it."""
        def mine(k: str) -> bool:
            return not _under(k, key)

        def merged(own: FrozenSet[str], other: FrozenSet[str]) -> FrozenSet[str]:
            return frozenset(k for k in own if mine(k)) | frozenset(k for k in other if not mine(k))

        may = {k: v for k, v in self.may_eval if mine(k)}
        may.update((k, v) for k, v in src.may_eval if not mine(k))
        return State(merged(self.must_eval, src.must_eval), tuple(may.items()),
                     merged(self.must_train, src.must_train), merged(self.set_here, src.set_here),
                     merged(self.may_train, src.may_train))

    def not_a_module(self, key: str) -> "State":
        """`parametric = None`: nothing there runs in either mode, so a path that
        switched it to eval and this one agree it is not in training mode (no
        eval() call is recorded for it)."""
        may = {k: v for k, v in self.may_eval if not _under(k, key)}
        return State(self.must_eval | {key}, tuple(may.items()),
                     frozenset(k for k in self.must_train if not _under(k, key)), self.set_here | {key},
                     frozenset(k for k in self.may_train if not _under(k, key)))

    def unknown(self, key: str, node) -> "State":
        may = self.may()
        may[key] = node
        return State(self.must_eval - {key}, tuple(may.items()), self.must_train - {key}, self.set_here | {key},
                     self.may_train | {key})


def _pairs(target: cst.BaseExpression, value: cst.BaseExpression):
    """(target, value) pairs of an assignment: `netg, netd = G().eval(), D().eval()`
    element by element (pytorch-book's GAN generation), else the whole."""
    if isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (cst.Tuple, cst.List)) and \
            len(target.elements) == len(value.elements) and \
            not any(isinstance(e, cst.StarredElement) for e in (*target.elements, *value.elements)):
        return [(t.value, v.value) for t, v in zip(target.elements, value.elements)]
    return [(target, value)]


def _flag_setters(fn: cst.FunctionDef) -> Dict[int, Tuple[str, bool]]:
    """`self.<attr> = True/False` statements at the top level of `fn`'s body, for
    attributes `fn` assigns nowhere else (rainbow-is-all-you-need's
    `train(): self.is_test = False`, then the loop): id(Assign) -> (attr, value)."""
    counts: Dict[str, int] = {}
    for node in walk(fn.body):
        targets = node.targets if isinstance(node, cst.Assign) else \
            [node] if isinstance(node, (cst.AnnAssign, cst.AugAssign)) else []
        for target in targets:
            expr = target.target
            if isinstance(expr, cst.Attribute) and is_self_attr(expr):
                counts[expr.attr.value] = counts.get(expr.attr.value, 0) + 1
    out: Dict[int, Tuple[str, bool]] = {}
    if not counts:
        return out
    body = fn.body.body if isinstance(fn.body, cst.IndentedBlock) else ()
    for stmt in body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1 and \
                    isinstance(small.value, cst.Name) and small.value.value in ("True", "False"):
                expr = small.targets[0].target
                if isinstance(expr, cst.Attribute) and is_self_attr(expr) and counts.get(expr.attr.value) == 1:
                    out[id(small)] = (expr.attr.value, small.value.value == "True")
    return out


def _after_helper(state: State, call: cst.Call, exit_state: State, outer_of) -> State:
    """The caller's state after `call`, from the helper's exit state: each key
    the helper left in a known or unknown mode, mapped to the caller's
    expression by `outer_of` (None: not the caller's)."""
    for inner_key in sorted(set(exit_state.may()) | set(exit_state.must_train)):
        outer = outer_of(inner_key)
        if outer is None:
            continue
        if inner_key in exit_state.must_eval:
            state = state.evaluated(outer, call)
        elif inner_key in exit_state.must_train:
            state = state.trained(outer)
        elif inner_key not in exit_state.may_train:
            # evaluated on some paths, left alone on the others (`get_patches`
            # runs `eval_patch(pretrained_model)` under a condition)
            state = join(state, state.evaluated(outer, call))
        else:
            state = state.unknown(outer, call)
    return state


def _hands_a_tracked_model(call: cst.Call, state: State) -> bool:
    """Does `call` pass a name whose mode the state knows (a cheap filter
    before another file is asked)?"""
    known = state.must_eval | state.must_train | frozenset(state.may())
    return any(not arg.star and model_key(_strip_mode(arg.value)) in known for arg in call.args)


def _none_check(test: cst.BaseExpression) -> Optional[Tuple[str, bool]]:
    """(model key, on which branch it is not None) for `m is not None`,
    `m is None`, `m`, `not m`; None for any other test."""
    negated = False
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test, negated = test.expression, True
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        if not (isinstance(target.comparator, cst.Name) and target.comparator.value == "None"):
            return None
        if isinstance(target.operator, cst.IsNot):
            present = True
        elif isinstance(target.operator, cst.Is):
            present = False
        else:
            return None
        test = test.left
    else:
        present = True
    key = model_key(test) if isinstance(test, (cst.Name, cst.Attribute)) else None
    return (key, present != negated) if key is not None else None


def _under(key: str, prefix: str) -> bool:
    return key == prefix or key.startswith(prefix + ".")


def _prefixes(key: str) -> List[str]:
    parts = key.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


def join(a: Optional[State], b: Optional[State]) -> Optional[State]:
    if a is None:
        return b
    if b is None:
        return a
    may = a.may()
    for k, v in b.may_eval:
        may.setdefault(k, v)
    return State(a.must_eval & b.must_eval, tuple(may.items()), a.must_train & b.must_train,
                 a.set_here & b.set_here, a.may_train | b.may_train)


def model_key(expr: cst.BaseExpression) -> Optional[str]:
    """`model`, `self.net`; `model.module` (DataParallel) is `model`."""
    name = dotted_name(expr)
    if name is None:
        return None
    if name.endswith(".module"):
        name = name[: -len(".module")]
    return name


@dataclass
class Summary:
    """What calling a helper does to the modes of its parameters / self attributes."""

    params: List[str]
    exit: Optional[State]
    trains: Set[Tuple[str, ...]] = field(default_factory=set)  # models trained without a train() first
    # For each of those: the parameters whose mode the helper set on every path
    # before that step (`policy.train()` at the top, the step's optimizer found as
    # a global name): the caller's argument for one of them is the same model.
    set_first: Dict[Tuple[str, ...], FrozenSet[str]] = field(default_factory=dict)


@dataclass
class Flow:
    """The result of walking one body."""

    states: Dict[int, State] = field(default_factory=dict)  # id(call) -> state before it
    nograd: Set[int] = field(default_factory=set)  # id(call) of calls inside no-grad blocks
    # id(call) -> (the `set_grad_enabled(flag)` around it, how callers pass
    # `flag=False` down to this body: _grad_off_by_callers): a block that turns
    # gradients off only when called that way (minGPT's `_run_epoch(..., train=False)`).
    nograd_when: Dict[int, Tuple[cst.Call, Tuple[Any, ...]]] = field(default_factory=dict)
    exit: Optional[State] = None
    train_calls: Dict[str, List[cst.Call]] = field(default_factory=dict)
    # training events: (names of the model, node, state before, TrainingStep or None for a helper call)
    trainings: List[Tuple[Tuple[str, ...], cst.CSTNode, State, Any]] = field(default_factory=list)


class ModeAnalysis:
    """Per-file cache of mode flows and helper summaries."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.training: TrainingAnalysis = ctx.fact("training", TrainingAnalysis)
        self._flows: Dict[int, Flow] = {}
        self._summaries: Dict[Tuple[int, FrozenSet[Tuple[str, bool]]], Optional[Summary]] = {}
        self._in_progress: Set[int] = set()
        self._reach: Dict[Tuple[int, str], bool] = {}
        self._steps_by_backward = {id(s.backward): s for s in self.training.steps}
        self._methods: Dict[Tuple[int, str], cst.FunctionDef] = {}
        self._eval_built: Dict[int, Dict[str, cst.Call]] = {}
        for d in ctx.functions:
            if d.scope and isinstance(d.scope[-1], cst.ClassDef):
                self._methods[(id(d.scope[-1]), d.name)] = d.node

    # -- public ---------------------------------------------------------------
    def flow(self, fn: Optional[cst.FunctionDef], klass: Optional[cst.ClassDef] = None) -> Flow:
        key = id(fn) if fn is not None else 0
        if key not in self._flows:
            walker = _Walker(self, fn, klass, 0)
            body = _block(fn.body) if fn is not None else list(self.ctx.tree.body)
            result = walker.flow
            entry = State()
            if fn is not None and klass is not None:
                for attr, eval_call in self.built_in_eval(klass).items():
                    entry = entry.evaluated(f"self.{attr}", eval_call)
            result.exit = join(walker.run(body, entry), walker.returned)
            self._flows[key] = result
        return self._flows[key]

    def summary(self, fn: cst.FunctionDef, klass: Optional[cst.ClassDef], depth: int,
                flags: FrozenSet[Tuple[str, bool]] = frozenset()) -> Optional[Summary]:
        """What calling `fn` does; `flags` are the `self.<attr>` booleans known
        at the call (`self.is_test = False` before the loop), which decide the
        helper's `if self.is_test:` branches."""
        key = (id(fn), flags)
        if key in self._summaries:
            return self._summaries[key]
        if id(fn) in self._in_progress or depth > _MAX_DEPTH:
            return None
        self._in_progress.add(id(fn))
        try:
            walker = _Walker(self, fn, klass, depth + 1, dict(flags))
            exit_state = join(walker.run(_block(fn.body), State()), walker.returned)
            params = function_params(fn, klass is not None)
            # Steps that may run in the mode the helper was entered with: where the
            # helper set the mode itself first (`model.train()` at its top), a step
            # left in eval by its own mid-loop validation is reported inside it.
            trains: Set[Tuple[str, ...]] = set()
            set_first: Dict[Tuple[str, ...], FrozenSet[str]] = {}
            for keys, _, state, _ in walker.flow.trainings:
                if any(state.in_train(k) or state.set_on_every_path(k) for k in keys):
                    continue
                trains.add(keys)
                set_first[keys] = set_first.get(keys, frozenset(params)) & frozenset(
                    p for p in params if state.in_train(p) or state.set_on_every_path(p))
            result = Summary(params, exit_state, trains, set_first)
        finally:
            self._in_progress.discard(id(fn))
        self._summaries[key] = result
        return result

    def built_in_eval(self, klass: cst.ClassDef) -> Dict[str, cst.Call]:
        """`self.fan = FAN(path).to(device).eval()`: attributes that every
        assignment in `klass` builds in eval mode and that nothing in it
        switches back (`self.fan.train()`, `self.train()`), in a class that
        runs no training step: a frozen, pretrained helper network, in eval
        mode in every method (attribute -> its `.eval()` call)."""
        key = id(klass)
        if key in self._eval_built:
            return self._eval_built[key]
        methods = [fn for (owner, _), fn in self._methods.items() if owner == key]
        built: Dict[str, cst.Call] = {}
        others: Set[str] = set()
        method_ids = {id(m) for m in methods}
        if not any(id(step.function) in method_ids for step in self.training.steps):
            for method in methods:
                for name, bindings in self.ctx.binder.scope(method).bindings.items():
                    if not name.startswith("self.") or name.count(".") != 1:
                        continue
                    for binding in bindings:
                        eval_call = eval_chain(binding.value) if binding.kind == "assign" and \
                            binding.index is None and binding.value is not None else None
                        if eval_call is None and binding.kind == "assign":
                            # `self.model = AE(); ...; self.model.eval()` (CNNAutoencoderProject's
                            # loader, called from `__init__`): switched later in the same body
                            eval_call = _switched_after(method, name, binding.node)
                        if eval_call is None:
                            others.add(name[5:])
                        else:
                            built.setdefault(name[5:], eval_call)
                for node in walk(method.body):
                    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and \
                            node.func.attr.value == "train":
                        receiver = model_key(node.func.value)
                        if receiver == "self":
                            others.add("")  # the holder itself: every attribute goes back to train mode
                        elif receiver is not None and receiver.startswith("self."):
                            others.add(receiver.split(".")[1])
        result = {} if "" in others else {attr: call for attr, call in built.items() if attr not in others}
        self._eval_built[key] = result
        return result

    def helper_of(self, call: cst.Call, klass: Optional[cst.ClassDef], owner: Any = None):
        """(function, class it is a method of, is_method) for a same-file helper
        call; `owner` (the function the call is in) also finds a helper nested
        in it (`def evaluate(loader): model.eval() ...` inside `main`)."""
        func = call.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
            if klass is None:
                return None
            fn = self._methods.get((id(klass), func.attr.value))
            return (fn, klass, True) if fn is not None else None
        if isinstance(func, cst.Name):
            qn = self.ctx.callee(call)
            if qn == f"{self.ctx.module_name}.{func.value}" or (not self.ctx.module_name and qn == func.value):
                fn = self.ctx.function_named(func.value)
                return (fn, None, False) if fn is not None else None
            if owner is not None:
                _, bindings = self.ctx.binder.lookup(func.value, owner, call)
                defs = [b.node for b in bindings if b.kind == "def"]
                if len(defs) == 1 and len(bindings) == 1 and isinstance(defs[0], cst.FunctionDef):
                    return defs[0], None, False
                if len(bindings) == 1 and bindings[0].kind == "assign" and isinstance(bindings[0].value, cst.Call):
                    closure = self._closure_made_by(bindings[0].value, owner)
                    if closure is not None:
                        return closure, None, False
        return None

    def _closure_made_by(self, factory_call: cst.Call, owner: Any) -> Optional[cst.FunctionDef]:
        """`loop = get_train_val_loop(model, ...)`, a same-file factory that
        returns the function it defines (pytorch-original-transformer's
        `train_val_loop`): that nested function. Its free names are read as
        the caller's names, as a module-level name is: the factory's
        parameters usually take the caller's names."""
        found = self.helper_of(factory_call, None, owner) if isinstance(factory_call.func, cst.Name) else None
        if found is None:
            return None
        factory = found[0]
        nested = {stmt.name.value: stmt for stmt in _block(factory.body) if isinstance(stmt, cst.FunctionDef)}
        returned = [small.value for stmt in _block(factory.body) if isinstance(stmt, cst.SimpleStatementLine)
                    for small in stmt.body if isinstance(small, cst.Return)]
        if len(returned) != 1 or not isinstance(returned[0], cst.Name):
            return None
        return nested.get(returned[0].value)

    def reaches(self, sites, want: str, depth: int = 0) -> bool:
        """Does a body (its call sites) train (`want="train"`) or possibly switch
        a module to eval mode (`want="eval"`), directly or through same-file
        helpers? A cheap filter run before any walk, over the call index only."""
        if want == "train" and not self._steps_by_backward:
            return False  # no step in this file: no body of it trains (most library code)
        for site in sites:
            node = site.node
            if want == "train" and self.step_at(node) is not None:
                return True
            if want == "eval" and _may_switch_to_eval(self.ctx, node):
                return True
        if depth >= _MAX_DEPTH:
            return False
        for site in sites:
            helper = self.helper_of(site.node, site.klass, site.scope[-1] if site.scope else None)
            if helper is None:
                if want == "eval" and self._foreign_may_switch(site.node):
                    return True  # `validate(model, loader)` of the project's utils.py (set 57)
                continue
            key = (id(helper[0]), want)
            if key not in self._reach:
                self._reach[key] = False  # cycles: not reached
                inner = self.training.calls_by_function.get(id(helper[0]), [])
                self._reach[key] = self.reaches(inner, want, depth + 1)
            if self._reach[key]:
                return True
        return False

    def _foreign_may_switch(self, call: cst.Call) -> bool:
        """A call, handed arguments, of another project file's function whose
        body may switch a module to eval mode (read there, as `_foreign_helper_call`
        reads its exit state)."""
        if not call.args:
            return False
        qn = self.ctx.callee(call)
        if not qn or qn.startswith(("torch.", "builtins.", "numpy.")):
            return False
        other, symbol = locate_symbol(self.ctx, qn)
        fn = other.function_named(symbol) if other is not None and other is not self.ctx else None
        if fn is None:
            return False
        key = (id(fn), "foreign-eval")
        if key not in self._reach:
            self._reach[key] = any(isinstance(node, cst.Call) and _may_switch_to_eval(other, node)
                                   for node in walk(fn.body))
        return self._reach[key]

    def step_at(self, backward: cst.CSTNode):
        return self._steps_by_backward.get(id(backward))


class _LoopExits:
    """The states at a loop's `break` and `continue` statements, joined."""

    def __init__(self) -> None:
        self.broken: Optional[State] = None
        self.continued: Optional[State] = None

    def add(self, is_break: bool, state: State) -> None:
        if is_break:
            self.broken = join(self.broken, state)
        else:
            self.continued = join(self.continued, state)

    def take_continued(self) -> Optional[State]:
        state, self.continued = self.continued, None
        return state


class _Walker:
    def __init__(self, analysis: ModeAnalysis, fn, klass, depth: int,
                 flags: Optional[Dict[str, bool]] = None) -> None:
        self.analysis = analysis
        self.ctx = analysis.ctx
        self.fn = fn
        self.klass = klass
        self.depth = depth
        # `self.<attr>` booleans known here: set by the caller, or by this body's one
        # top-level `self.is_test = False` (from there on).
        self.flags: Dict[str, bool] = flags or {}
        self._flag_setters = _flag_setters(fn) if fn is not None and klass is not None else {}
        self.flow = Flow()
        self.nograd = False
        self.nograd_when: Optional[Tuple[cst.Call, Tuple[Any, ...]]] = None  # see Flow.nograd_when
        self.returned: Optional[State] = None  # states at `return` statements, joined
        # `was_training = model.training`: name -> (model key, its state then)
        self.saved: Dict[str, Tuple[str, Tuple[bool, Any, bool]]] = {}
        self.loop_exits: Optional[_LoopExits] = None  # of the innermost loop being walked
        # Whether this body binds a name to another name (`model = critics`): only then
        # may a switch of one be a switch of the other (`_aliases`). Asked at the first switch.
        self._binds_aliases: Optional[bool] = None

    def _saved_mode(self, call: cst.Call, key: str) -> Optional[Tuple[bool, Any, bool]]:
        """The state saved by `was = model.training` when `call` is
        `model.train(was)` / `model.train(mode=was)`."""
        if len(call.args) != 1 or call.args[0].star:
            return None
        arg = call.args[0]
        if arg.keyword is not None and arg.keyword.value != "mode":
            return None
        if isinstance(arg.value, cst.Name) and arg.value.value in self.saved:
            saved_key, snap = self.saved[arg.value.value]
            if saved_key == key:
                return snap
        return None

    def run(self, body: List[cst.CSTNode], state: Optional[State]) -> Optional[State]:
        for stmt in body:
            if state is None:
                return None
            state = self.statement(stmt, state)
        return state

    def statement(self, stmt: cst.CSTNode, state: State) -> Optional[State]:
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            for small in stmt.body:
                if state is None:
                    return None
                state = self.small(small, state)
            return state
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            return state
        if isinstance(stmt, cst.If):
            state = self.expression(stmt.test, state)
            known = self._known_test(stmt.test)
            if known is True:
                return self.run(_block(stmt.body), state)
            if known is False:
                orelse = stmt.orelse
                if isinstance(orelse, cst.If):
                    return self.statement(orelse, state)
                return self.run(_block(orelse.body), state) if isinstance(orelse, cst.Else) else state
            body = self.run(_block(stmt.body), state)
            orelse = stmt.orelse
            if isinstance(orelse, cst.If):
                other = self.statement(orelse, state)
            elif isinstance(orelse, cst.Else):
                other = self.run(_block(orelse.body), state)
            else:
                other = state
            out = join(body, other)
            present = _none_check(stmt.test)
            if out is not None and present is not None:
                # `if encoder is not None: encoder.eval()`: where `encoder` is None no
                # later call of it runs, so its mode is the other branch's
                # (sgrvinod's image-captioning `validate`, its encoder optional)
                key, when = present
                source = body if when else other
                if source is not None:
                    out = out.adopted(key, source)
            # `if was_training: model.train()` restores the saved mode.
            test = stmt.test
            if out is not None and isinstance(test, cst.Name) and test.value in self.saved:
                key, snap = self.saved[test.value]
                if body is not None and body.in_train(key):
                    out = out.restored(key, snap)
            return out
        if isinstance(stmt, (cst.For, cst.While)):
            state = self.expression(stmt.iter if isinstance(stmt, cst.For) else stmt.test, state)
            # The states at `break` leave the loop (after its else block); those
            # at `continue` start the next round, as the end of the body does.
            exits = self.loop_exits
            self.loop_exits = _LoopExits()
            try:
                first = join(self.run(_block(stmt.body), state), self.loop_exits.take_continued())
                second = join(self.run(_block(stmt.body), join(state, first)), self.loop_exits.take_continued())
                out = join(first, second)
                if _is_while_true(stmt):
                    out = None  # it ends only at a break (or a return)
                elif not _runs_at_least_once(stmt):
                    out = join(state, out)
                if stmt.orelse is not None:
                    out = self.run(_block(stmt.orelse.body), out)
                return join(out, self.loop_exits.broken)
            finally:
                self.loop_exits = exits
        if isinstance(stmt, cst.With):
            grad_off = False
            grad_off_when = None
            for item in stmt.items:
                state = self.expression(item.item, state)
                if isinstance(item.item, cst.Call) and disables_grad(self.ctx, item.item):
                    grad_off = True
                elif isinstance(item.item, cst.Call) and self.fn is not None and grad_off_when is None:
                    chain = _grad_off_by_callers(self.ctx, self.fn, item.item)
                    if chain:
                        grad_off_when = (item.item, chain)
            outer, outer_when = self.nograd, self.nograd_when
            self.nograd = outer or grad_off
            self.nograd_when = outer_when or grad_off_when
            try:
                return self.run(_block(stmt.body), state)
            finally:
                self.nograd, self.nograd_when = outer, outer_when
        if isinstance(stmt, cst.Try):
            outer_returned = self.returned
            if stmt.finalbody is not None:
                self.returned = None  # returns inside the try run the finally block first
            body = self.run(_block(stmt.body), state)
            out = body
            for handler in stmt.handlers:
                out = join(out, self.run(_block(handler.body), join(state, body)))
            if stmt.orelse is not None and body is not None:
                out = join(out, self.run(_block(stmt.orelse.body), body))
            if stmt.finalbody is not None:
                inner_returned = self.returned
                self.returned = outer_returned
                if inner_returned is not None:
                    after = self.run(_block(stmt.finalbody.body), inner_returned)
                    self.returned = join(self.returned, after)
                out = self.run(_block(stmt.finalbody.body), out if out is not None else state) \
                    if out is not None or inner_returned is None else None
            return out
        if isinstance(stmt, cst.Match):
            out = None
            for case in stmt.cases:
                out = join(out, self.run(_block(case.body), state))
            return join(out, state)
        return state

    def small(self, small: cst.CSTNode, state: State) -> Optional[State]:
        if isinstance(small, (cst.Return, cst.Raise)):
            value = getattr(small, "value", None) if isinstance(small, cst.Return) else small.exc
            if value is not None:
                state = self.expression(value, state)
            if isinstance(small, cst.Return):
                self.returned = join(self.returned, state)
            return None
        if isinstance(small, (cst.Break, cst.Continue)):
            if self.loop_exits is not None:
                self.loop_exits.add(isinstance(small, cst.Break), state)
            return None
        if isinstance(small, (cst.Assign, cst.AnnAssign)):
            if small.value is None:
                return state
            state = self.expression(small.value, state)
            if id(small) in self._flag_setters:
                attr, value = self._flag_setters[id(small)]
                self.flags[attr] = value
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            saved = _training_flag(small.value)
            for target in targets:
                if isinstance(target, cst.Name):
                    self.saved.pop(target.value, None)
                    if saved is not None:
                        self.saved[target.value] = (saved, state.snapshot(saved))
                        continue
                for element, value in _pairs(target, small.value):
                    key = model_key(element)
                    if key is not None:
                        state = self.assigned(key, value, state)
            return state
        for child in children(small):
            if isinstance(child, cst.BaseExpression):
                state = self.expression(child, state)
        return state

    def _known_test(self, test: cst.BaseExpression) -> Optional[bool]:
        """`self.is_test` / `not self.is_test` / `if train:` (a parameter the
        call passed `True`) with the flag known, else None."""
        if not self.flags:
            return None
        none_test = _none_check(test)
        if none_test is not None and self.flags.get(_NONE_FLAG + none_test[0]):
            return not none_test[1]  # `if opt is not None:` with `opt` None in this call
        negated = False
        while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            test, negated = test.expression, not negated
        if isinstance(test, cst.Name):
            value = self.flags.get(_ARG_FLAG + test.value)
        elif isinstance(test, cst.Attribute) and is_self_attr(test):
            value = self.flags.get(test.attr.value)
        else:
            return None
        return None if value is None else value != negated

    def assigned(self, key: str, value: cst.BaseExpression, state: State) -> State:
        eval_call = eval_chain(value)
        if eval_call is not None:
            return state.evaluated(key, eval_call)
        inner = _strip_moves(value)
        if isinstance(inner, cst.Name) and inner.value == "None":
            return state.not_a_module(key)
        source = model_key(inner) if isinstance(inner, (cst.Name, cst.Attribute)) else None
        if source is not None:
            if source in state.must_eval:
                return state.evaluated(key, state.may().get(source))
            if source in state.may():
                return state.unknown(key, state.may()[source])
            return state.trained(key) if source in state.must_train else _forget(state, key)
        if isinstance(inner, cst.Call):
            if self._returns_evaluated(inner):
                # `model = load_model(path)` whose helper ends `model.eval(); return model`
                # (vision-transformers-cifar10's export script).
                return state.evaluated(key, inner)
            return state.trained(key)  # a fresh module starts in training mode
        return _forget(state, key)

    def _returns_evaluated(self, call: cst.Call) -> bool:
        """A same-file helper whose every `return` hands back one local name,
        in eval mode on every path to the returns."""
        found = self.analysis.helper_of(call, self.klass, self.fn)
        if found is None or found[2]:
            return False
        helper = found[0]
        names = {node.value.value if isinstance(node.value, cst.Name) else None
                 for node in walk(helper.body) if isinstance(node, cst.Return)}
        if len(names) != 1 or None in names:
            return False
        summary = self.analysis.summary(helper, None, self.depth)
        return summary is not None and summary.exit is not None and summary.exit.in_eval(names.pop())

    # -- expressions: calls in evaluation order (arguments before the call) --------
    def expression(self, expr: cst.CSTNode, state: State) -> State:
        for call in _calls_postorder(expr, self.analysis.ctx.memo):
            state = self.call(call, state)
        return state

    def call(self, call: cst.Call, state: State) -> State:
        flow = self.flow
        previous = flow.states.get(id(call))
        flow.states[id(call)] = join(previous, state) if previous is not None else state
        if self.nograd:
            flow.nograd.add(id(call))
        elif self.nograd_when is not None:
            flow.nograd_when[id(call)] = self.nograd_when
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("eval", "train"):
            # `model.to(device).train()`, `model.cuda().eval()`: the chain's model.
            key = model_key(_strip_moves(func.value))
            if key is None:
                return state
            aliases = self._aliases(key, call)
            if func.attr.value == "eval" and not call.args:
                for k in (key, *aliases):
                    state = state.evaluated(k, call)
                return state
            if func.attr.value == "train":
                saved = self._saved_mode(call, key)
                if saved is not None:
                    return state.restored(key, saved)
                mode = train_mode_argument(self.ctx, call)
                for k in (key, *aliases):
                    if mode is True:
                        flow.train_calls.setdefault(k, []).append(call)
                        state = state.trained(k)
                    elif mode is False:
                        state = state.evaluated(k, call)
                    else:
                        state = state.unknown(k, call)
                return state
            return state
        step = self.analysis.step_at(call)
        if step is not None:
            # The optimizer's model and the forward call's may be two names of one module.
            keys = tuple(dict.fromkeys(k for k in (model_key(e) for e in (step.model_expr, step.forward_expr)
                                                   if e is not None) if k is not None))
            if step.tensor_params:
                # `Adam([emb])` through a frozen `self.unet` (imagic, textual inversion):
                # the step trains the tensors; the model it runs through is not trained.
                keys = tuple(k for k in keys if any(_under(t, k) for t in step.tensor_params))
            if keys:
                # The mode that matters is the forward's: an `evaluate(model)` between
                # the loss and its backward (wavenet_vocoder's step) changes nothing.
                at_forward = flow.states.get(id(step.forward_call)) if step.forward_call is not None else None
                flow.trainings.append((keys, call, at_forward if at_forward is not None else state, step))
            return state
        helper = self.analysis.helper_of(call, self.klass, self.fn)
        if helper is None:
            return self._foreign_helper_call(call, state)
        fn, klass, is_method = helper
        flags = dict(self.flags) if is_method and is_self_attr(call.func) else {}
        flags = {k: v for k, v in flags.items() if not k.startswith((_ARG_FLAG, _NONE_FLAG))}  # the caller's own parameters
        flags.update(_literal_flags(self.ctx, call, fn, is_method))
        summary = self.analysis.summary(fn, klass, self.depth, frozenset(flags.items()))
        if summary is None:
            return state
        mapping = self._mapping(call, summary.params, is_method)
        for inner_keys in summary.trains:
            outer = tuple(k for k in (_map_key(i, mapping, summary.params) for i in inner_keys) if k is not None)
            set_first = {mapping.get(p) for p in summary.set_first.get(inner_keys, ())}
            if outer and not set_first.intersection(outer):
                flow.trainings.append((outer, call, state, None))
        exit_state = summary.exit
        if exit_state is None:
            return state
        state = _after_helper(state, call, exit_state, lambda inner: _map_key(inner, mapping, summary.params))
        for inner_key in exit_state.may_train - set(exit_state.may()) - exit_state.must_train:
            # trained on some paths, left alone on the others
            outer = _map_key(inner_key, mapping, summary.params)
            head = inner_key.split(".")[0]
            if outer is None or head not in mapping and not self.ctx.binder.is_module_global(head, fn):
                continue  # the helper's own local, not the caller's model
            state = join(state, state.trained(outer))
        return state

    def _aliases(self, key: str, call: cst.Call) -> Tuple[str, ...]:
        """Other local names of the module `key` names at `call`: `model =
        critics` (then `model.eval()` switches `critics` too: one object), or a
        name bound to `key` itself. Only plain names, each bound once there."""
        if "." in key:
            return ()
        binder = self.ctx.binder
        owner = self.fn
        if self._binds_aliases is None:
            self._binds_aliases = any(
                b.has_value and b.index is None and isinstance(b.value, cst.Name)
                for name, bindings in binder.scope(owner).bindings.items() if "." not in name for b in bindings)
        if not self._binds_aliases:
            return ()
        found = []
        reaching = binder.lookup(key, owner, call)[1]
        if len(reaching) == 1 and reaching[0].has_value and reaching[0].index is None and \
                isinstance(reaching[0].value, cst.Name) and reaching[0].value.value != key:
            found.append(reaching[0].value.value)
        for name in binder.scope(owner).bindings:
            if name == key or "." in name or "[" in name:
                continue
            bound = binder.lookup(name, owner, call)[1]
            if len(bound) == 1 and bound[0].has_value and bound[0].index is None and \
                    isinstance(bound[0].value, cst.Name) and bound[0].value.value == key:
                found.append(name)
        return tuple(dict.fromkeys(found))

    def _foreign_helper_call(self, call: cst.Call, state: State) -> State:
        """`train_model(model=model, ...)` of another project file (stat453's
        helper_train.py, whose epochs end in `model.eval()`): the modes it
        leaves the models it is handed in, read from that file's own summary.
        Its training steps stay that file's business, as before."""
        if not call.args or not _hands_a_tracked_model(call, state):
            return state
        qn = self.ctx.callee(call)
        if not qn or qn.startswith(("torch.", "builtins.", "numpy.")):
            return state
        other, symbol = locate_symbol(self.ctx, qn)
        if other is None or other is self.ctx:
            return state
        fn = other.function_named(symbol)
        if fn is None:
            return state
        summary = other.fact("modes", ModeAnalysis).summary(fn, None, self.depth + 1)
        if summary is None or summary.exit is None:
            return state
        mapping = self._mapping(call, summary.params, False)
        # the caller's models only, not the helper's globals
        return _after_helper(state, call, summary.exit, mapping.get)

    def _mapping(self, call: cst.Call, params: List[str], is_method: bool) -> Dict[str, str]:
        mapping: Dict[str, str] = {}
        positional = 0
        for arg in call.args:
            if arg.star:
                break
            if arg.keyword is None:
                if positional < len(params):
                    key = model_key(_strip_mode(arg.value))
                    if key is not None:
                        mapping[params[positional]] = key
                positional += 1
            elif arg.keyword.value in params:
                key = model_key(_strip_mode(arg.value))
                if key is not None:
                    mapping[arg.keyword.value] = key
        if is_method:
            mapping["self"] = "self"
        return mapping


_MOVES = frozenset({"to", "cuda", "cpu", "float", "half", "double", "bfloat16", "requires_grad_", "to_empty"})


def _switched_after(method: cst.FunctionDef, name: str, bound: cst.CSTNode) -> Optional[cst.Call]:
    """The `name.eval()` statement of `method`'s own body (not under a branch)
    that comes after the statement binding `name`, if any."""
    body = method.body.body if isinstance(method.body, cst.IndentedBlock) else []
    after = False
    for stmt in body:
        if not after:
            after = stmt is bound or any(node is bound for node in walk(stmt))
            continue
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                call = small.value if isinstance(small, cst.Expr) else None
                if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and \
                        call.func.attr.value == "eval" and not call.args and model_key(call.func.value) == name:
                    return call
    return None


def eval_chain(value: cst.BaseExpression) -> Optional[cst.Call]:
    """The `.eval()` call that `value` ends with, past device moves (`FAN().to(d).eval()`)."""
    inner = _strip_moves(value)
    if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute) and inner.func.attr.value == "eval":
        return inner
    return None


def _strip_moves(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`model.to(device).cuda()` -> `model`: device/dtype moves return the module itself."""
    while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value in _MOVES:
        expr = expr.func.value
    return expr


def _training_flag(value: cst.BaseExpression) -> Optional[str]:
    """`model.training` (also `self.net.training`) -> the model key it reads."""
    if isinstance(value, cst.Attribute) and value.attr.value == "training":
        return model_key(value.value)
    return None


def _strip_mode(expr: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value in ("eval", "to", "cuda"):
        return expr.func.value
    return expr


def _map_key(inner: str, mapping: Dict[str, str], params: List[str] = ()) -> Optional[str]:
    head, dot, rest = inner.partition(".")
    if head not in mapping:
        # a module-level name the helper uses directly is the caller's name too
        return inner if head not in params and head != "self" else None
    return mapping[head] + (dot + rest if dot else "")


def _forget(state: State, key: str) -> State:
    may = {k: v for k, v in state.may_eval if k != key}
    return State(state.must_eval - {key}, tuple(may.items()), state.must_train - {key}, state.set_here - {key},
                 state.may_train | {key})


def _may_switch_to_eval(ctx, call: cst.Call) -> bool:
    """`m.eval()`, or `m.train(x)` with an `x` not known to be True: the only
    calls after which a module may be in eval mode (helpers' summaries are
    made of these too), so a body without one never trains in eval mode."""
    func = call.func
    if not isinstance(func, cst.Attribute):
        return False
    if func.attr.value == "eval":
        return True
    return func.attr.value == "train" and train_mode_argument(ctx, call) is not True


# Flags of a helper's parameters, beside those of `self.<attr>`: "arg:train";
# "none:opt" when the call leaves `opt` None.
_ARG_FLAG = "arg:"
_NONE_FLAG = "none:"


def _literal_flags(ctx, call: cst.Call, fn: cst.FunctionDef, is_method: bool) -> Dict[str, bool]:
    """`self.set_mode(train=True)`, `run(model, False)`, or a `train=True`
    default the call leaves: the helper's parameters known to be True or
    False in this call (a parameter the helper rebinds is left unknown)."""
    params = function_params(fn, is_method)
    known: Dict[str, bool] = {}
    nones: Set[str] = set()  # parameters that are None in this call
    passed: Set[str] = set()
    positional = 0
    for arg in call.args:
        if arg.star:
            return {}  # `*args` / `**kwargs`: which parameter gets what is unknown
        if arg.keyword is None:
            name = params[positional] if positional < len(params) else None
            positional += 1
        else:
            name = arg.keyword.value
        if name is None:
            continue
        passed.add(name)
        if isinstance(arg.value, cst.Name) and arg.value.value in ("True", "False"):
            known[name] = arg.value.value == "True"
        elif isinstance(arg.value, cst.Name) and arg.value.value == "None":
            nones.add(name)
    for param in list(fn.params.params) + list(fn.params.kwonly_params):
        default = param.default
        if param.name.value not in passed and isinstance(default, cst.Name) and default.value in ("True", "False"):
            known[param.name.value] = default.value == "True"
        elif param.name.value not in passed and isinstance(default, cst.Name) and default.value == "None":
            # `loss_batch(model, loss_func, xb, yb)` leaving `opt=None` (the PyTorch
            # tutorial's helper, which steps only `if opt is not None`)
            nones.add(param.name.value)
    if known or nones:
        bindings = ctx.binder.scope(fn).bindings

        def kept(name: str) -> bool:
            return all(b.kind in ("param", "star-param") for b in bindings.get(name, ()))
        known = {name: value for name, value in known.items() if kept(name)}
        nones = {name for name in nones if kept(name)}
    flags = {_ARG_FLAG + name: value for name, value in known.items()}
    flags.update((_NONE_FLAG + name, True) for name in nones)
    return flags


def train_mode_argument(ctx, call: cst.Call) -> Any:
    """The mode `<module>.train(...)` sets: True for `train()`, the constant
    given (`train(False)`, `train(mode=flag)` when known), else None."""
    if not call.args:
        return True
    arg = call.args[0]
    value = ctx.constants.value(arg.value)
    if isinstance(value, bool):
        return value
    return None


_MAX_CALLER_CHAIN = 3


def _grad_off_by_callers(ctx, fn: cst.FunctionDef, call: cst.Call) -> Tuple[Any, ...]:
    """For `torch.set_grad_enabled(flag)` with `flag` a parameter of `fn`: how
    some caller in this file passes `flag=False`, directly or through a
    parameter of its own: ((call, name of the flag in the function called), ...)
    from `fn`'s caller outwards; () when none does."""
    if ctx.callee(call) not in SET_GRAD or len(call.args) != 1 or not isinstance(call.args[0].value, cst.Name):
        return ()
    if ctx.constants.value(call.args[0].value) is not UNKNOWN:
        return ()  # a known flag: _disables_grad decided
    return _passes_false(ctx, fn, call.args[0].value.value, 0)


def _passes_false(ctx, fn: cst.FunctionDef, name: str, depth: int) -> Tuple[Any, ...]:
    binder = ctx.binder
    param = next((b for b in binder.scope(fn).bindings.get(name, ()) if b.kind == "param"), None)
    if param is None or depth >= _MAX_CALLER_CHAIN:
        return ()
    for site in binder.callers(fn):
        known, arg = binder.argument_for(site, param)
        if not known or arg is None:
            continue
        if ctx.constants.value(arg, where=(binder.owner_of(site), site.node)) is False:
            return ((site, name),)
        if isinstance(arg, cst.Name) and isinstance(site.function, cst.FunctionDef):
            outer = _passes_false(ctx, site.function, arg.value, depth + 1)
            if outer:
                return ((site, name),) + outer
    return ()


def _is_while_true(loop: cst.CSTNode) -> bool:
    return isinstance(loop, cst.While) and (
        isinstance(loop.test, cst.Name) and loop.test.value == "True" or
        isinstance(loop.test, cst.Integer) and loop.test.value not in ("0",))


def _runs_at_least_once(loop: cst.CSTNode) -> bool:
    """Training and evaluation loops run: `for epoch in range(n)`, `for batch
    in loader`, `while True`. Assuming so keeps a switch made inside the loop
    (a helper's model.eval()) from reading as "maybe not" after it. A
    `while <condition>` may run zero times."""
    if isinstance(loop, cst.For):
        return True
    return isinstance(loop, cst.While) and isinstance(loop.test, cst.Name) and loop.test.value == "True"


def _calls_postorder(expr: cst.CSTNode, memo) -> Iterator[cst.Call]:
    """Calls in an expression, arguments before the call that receives them;
    lambdas and comprehension bodies are skipped (they run later, or not).
    Memoised per node (ctx.memo): the editor keeps unchanged statements' nodes,
    so an unchanged function is not walked again on every keystroke."""
    calls = memo.get(expr)
    if calls is None:
        calls = tuple(_walk_calls_postorder(expr))
        memo.put(expr, calls)
    return iter(calls)


def _walk_calls_postorder(expr: cst.CSTNode) -> List[cst.Call]:
    out: List[cst.Call] = []
    stack: List[Tuple[cst.CSTNode, bool]] = [(expr, False)]
    while stack:
        node, done = stack.pop()
        if done:
            out.append(node)  # type: ignore[arg-type]
            continue
        if isinstance(node, (cst.Lambda, cst.FunctionDef, cst.ClassDef)):
            continue
        if isinstance(node, cst.Call):
            stack.append((node, True))
        kids = list(children(node))
        for kid in reversed(kids):
            stack.append((kid, False))
    return out


# ---------------------------------------------------------------------------
# names that say "evaluation"

EVAL_WORDS = frozenset({
    "eval", "evaluate", "evaluation", "evaluating", "val", "valid", "validate", "validation", "validating",
    "test", "testing", "predict", "prediction", "predictions", "infer", "inference", "inferring",
})


def name_words(name: str) -> List[str]:
    """`evaluateModel` / `run_val_epoch` -> lower-case words."""
    import re

    words: List[str] = []
    for part in name.strip("_").split("_"):
        words.extend(w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", part))
    return words


@functools.lru_cache(maxsize=4096)
def is_eval_name(name: str) -> bool:
    """Asked for every call's name in a file: names repeat, so answers are kept."""
    return any(w in EVAL_WORDS for w in name_words(name))
