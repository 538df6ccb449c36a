"""The binder: which values each name may hold, per scope and per program point.

One binder per module (`ctx.binder`), queried by every analysis instead of a
private assignment index. It follows Python's scoping (module, class,
function; a lambda or comprehension is read as part of the function holding
it) and its control flow closely enough for a linter:

- every binding form: `=` (also chained and unpacked), annotated and augmented
  assignment, walrus, `for` targets, `with ... as`, `except ... as`, `match`
  captures, imports, `def`/`class`, parameters (with their defaults), `del`;
  attribute and string-subscript targets are bindings too (`self.model`,
  `cfg.lr`, `cfg["lr"]`), keyed by their dotted spelling;
- branches: `if`/`elif`/`else`, `try`/`except`/`else`/`finally`, `match`,
  loops (their bodies may run zero or more times: bodies are interpreted
  twice, so a value bound late in a loop reaches a use early in the next
  iteration). A name bound differently on two branches keeps both values.

What reaches a call is recorded as the binder walks (a copy-on-write map of
name -> bindings), so `reaching(name, owner, call)` is a lookup. Scopes are
built lazily, the first time something asks about them, so a file whose
functions no rule looks into costs nothing here.

Modelled on pyright's binder + code-flow engine and libcst's scope provider,
without metadata providers (they cost ~8x a parse): the walk is hand-written
over walk.child_fields like the rest of analysis/.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple, Union

import libcst as cst

from .walk import NODE_TYPES, NON_NODE_TYPES, child_fields, is_node

Owner = Union[cst.FunctionDef, cst.ClassDef, None]  # None: the module

# Kinds of binding whose `value` is the expression the name then holds.
VALUE_KINDS = frozenset({"assign", "annotated", "walrus"})


@dataclass(frozen=True, eq=False)
class Binding:
    name: str  # "lr", "self.model", "cfg.lr", "cfg['lr']"
    kind: str  # assign annotated augmented walrus for with except match import def class param star-param delete
    value: Optional[cst.BaseExpression] = field(repr=False)  # the bound expression (a literal tuple's element when unpacked)
    index: Optional[int]  # position in an unpacked target when `value` is the whole right-hand side
    node: cst.CSTNode = field(repr=False)  # the statement, parameter or expression that binds
    conditional: bool  # inside a branch, loop or handler of its scope
    owner: Owner = field(default=None, repr=False)  # the scope it binds in

    @property
    def has_value(self) -> bool:
        return self.kind in VALUE_KINDS and self.value is not None


# A name that may still be unbound on some path (bound on one branch only).
UNBOUND: Binding = Binding("", "unbound", None, None, cst.Pass(), True)

State = Dict[str, Tuple[Binding, ...]]


class ScopeBindings:
    """The bindings of one scope and what reaches each of its calls."""

    def __init__(self, owner: Owner) -> None:
        self.owner = owner
        self.bindings: Dict[str, List[Binding]] = {}  # every binding, in source order
        self.at_point: Dict[int, State] = {}  # id(call) or id(Binding) -> names reaching it
        self.end: State = {}  # names reaching the end of the scope
        self.declared_global: Set[str] = set()
        self.declared_nonlocal: Set[str] = set()
        self._index: Optional[Dict[str, List[Tuple[cst.BaseExpression, Optional[int]]]]] = None
        self._targets: Optional[Dict[int, str]] = None

    def binds(self, name: str) -> bool:
        return name in self.bindings and name not in self.declared_global and name not in self.declared_nonlocal

    def assignment_index(self) -> Dict[str, List[Tuple[cst.BaseExpression, Optional[int]]]]:
        """name -> [(value, index in an unpacked target or None)] for every
        value-carrying binding, in source order (branches and loops included)."""
        if self._index is None:
            index: Dict[str, List[Tuple[cst.BaseExpression, Optional[int]]]] = {}
            for name, bindings in self.bindings.items():
                entries = [(b.value, b.index) for b in bindings if b.has_value]
                if entries:
                    index[name] = entries  # type: ignore[assignment]
            self._index = index
        return self._index

    def target_of(self, value: cst.CSTNode) -> Optional[str]:
        """The (first) name an expression is assigned to in this scope: `opt = Adam(...)` -> "opt"."""
        if self._targets is None:
            targets: Dict[int, str] = {}
            for name, bindings in self.bindings.items():
                for b in bindings:
                    if b.has_value and b.index is None:
                        targets.setdefault(id(b.value), name)
            self._targets = targets
        return self._targets.get(id(value))

    def values(self, name: str) -> List[Binding]:
        """Every binding of `name` with a value, in source order (any program point)."""
        return [b for b in self.bindings.get(name, ()) if b.has_value]

    def reaching(self, name: str, at: object = None) -> Tuple[Binding, ...]:
        """The bindings of `name` that may reach `at` (a call in this scope, or
        one of its Bindings: what that binding's value sees), or the end of the
        scope; UNBOUND among them when a path binds nothing."""
        state = self.at_point.get(id(at), self.end) if at is not None else self.end
        found = state.get(name)
        if found is None or found == (UNBOUND,):
            # Nothing bound yet on any path: the code would raise NameError here, so
            # it is not meant to run in this order (a search space at the top of a
            # file, its bounds below): read what the scope binds by its end.
            found = self.end.get(name) or ((UNBOUND,) if name in self.bindings else ())
        return found


class _Walker:
    """Interprets one scope's statements in order, recording bindings and, at
    every call, the state (copy-on-write: a state once recorded is never changed)."""

    def __init__(self, scope: ScopeBindings) -> None:
        self.scope = scope
        self.state: State = {}
        self.shared = False
        self.depth = 0  # > 0 inside a branch, loop or handler
        self.replay = False  # second pass over a loop body: record no new bindings
        self.loops = 0  # loops around the current statement
        self._made: Dict[Tuple[int, str, Optional[int]], Binding] = {}

    # -- state --------------------------------------------------------------
    def _own(self) -> None:
        if self.shared:
            self.state = dict(self.state)
            self.shared = False

    def snapshot(self) -> State:
        self.shared = True
        return self.state

    def restore(self, state: State) -> None:
        self.state = state
        self.shared = True

    @staticmethod
    def join(*states: State) -> State:
        if len(states) == 1:
            return states[0]
        names: Dict[str, None] = {}
        for state in states:
            names.update(dict.fromkeys(state))
        out: State = {}
        for name in names:
            merged: Dict[int, Binding] = {}
            for state in states:
                for binding in state.get(name, (UNBOUND,)):
                    merged.setdefault(id(binding), binding)
            out[name] = tuple(merged.values())
        return out

    def bind(self, name: str, kind: str, value: Optional[cst.BaseExpression], node: cst.CSTNode,
             index: Optional[int] = None, keep_previous: bool = False) -> None:
        key = (id(node), name, index)
        binding = self._made.get(key)
        if binding is None:
            binding = Binding(name, kind, value, index, node, self.depth > 0, self.scope.owner)
            self._made[key] = binding
        self.scope.at_point[id(binding)] = self.snapshot()  # what its own value sees
        if not self.replay and binding not in self.scope.bindings.get(name, ()):
            self.scope.bindings.setdefault(name, []).append(binding)
        self._own()
        previous = tuple(b for b in self.state.get(name, ()) if b is not UNBOUND) if keep_previous else ()
        self.state[name] = previous + (binding,) if binding not in previous else previous

    def unbind(self, name: str) -> None:
        self._own()
        self.state[name] = (UNBOUND,)

    # -- targets ------------------------------------------------------------
    def bind_target(self, target: cst.BaseExpression, kind: str, value: Optional[cst.BaseExpression],
                    node: cst.CSTNode) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            elements = target.elements
            literal = isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(elements) \
                and not any(isinstance(e, cst.StarredElement) for e in (*elements, *value.elements))
            for i, element in enumerate(elements):
                inner = element.value
                if isinstance(element, cst.StarredElement):
                    self.bind_target(inner, kind, None, node)
                elif literal:
                    self.bind_target(inner, kind, value.elements[i].value, node)  # type: ignore[union-attr]
                else:
                    name = target_name(inner)
                    if name is not None:
                        self.bind(name, kind, value, node, index=i)
                    else:
                        self.bind_target(inner, kind, None, node)
            return
        name = target_name(target)
        if name is not None:
            self.bind(name, kind, value, node)

    # -- expressions --------------------------------------------------------
    def expression(self, node: Optional[cst.CSTNode]) -> None:
        """Record the state at each call and bind walrus targets, in evaluation order."""
        if node is None:
            return
        stack: List[object] = [node]
        at_point = self.scope.at_point
        while stack:
            current = stack.pop()
            if type(current) is _AfterWalrus:
                walrus = current.node
                self.bind_target(walrus.target, "walrus", walrus.value, walrus)
                continue
            kind = type(current)
            if kind is cst.Call:
                at_point[id(current)] = self.snapshot()
            elif kind is cst.NamedExpr:
                stack.append(_AfterWalrus(current))  # type: ignore[arg-type]
                stack.append(current.value)  # type: ignore[attr-defined]
                continue
            kids: List[cst.CSTNode] = []
            for name in child_fields(kind):  # type: ignore[arg-type]
                value = getattr(current, name)
                value_type = type(value)
                if value_type is tuple or value_type is list:
                    kids.extend(value)
                elif value_type in NODE_TYPES or (value_type not in NON_NODE_TYPES and is_node(value)):
                    kids.append(value)
            kids.reverse()
            stack.extend(kids)

    # -- statements ---------------------------------------------------------
    def block(self, body) -> None:
        for stmt in statements_of(body):
            self.statement(stmt)

    def branch(self, body) -> State:
        """Run `body` from the current state, inside a branch; return its end state."""
        self.depth += 1
        self.block(body)
        self.depth -= 1
        return self.snapshot()

    def statement(self, stmt: cst.CSTNode) -> None:
        kind = type(stmt)
        if kind is cst.SimpleStatementLine or kind is cst.SimpleStatementSuite:
            for small in stmt.body:  # type: ignore[attr-defined]
                self.small(small)
        elif kind is cst.If:
            self.expression(stmt.test)  # type: ignore[attr-defined]
            start = self.snapshot()
            taken = self.branch(stmt.body)  # type: ignore[attr-defined]
            self.restore(start)
            orelse = stmt.orelse  # type: ignore[attr-defined]
            if orelse is None:
                other = start
            elif isinstance(orelse, cst.If):
                self.depth += 1
                self.statement(orelse)
                self.depth -= 1
                other = self.snapshot()
            else:
                other = self.branch(orelse.body)
            self.restore(self.join(taken, other))
        elif kind is cst.For or kind is cst.While:
            self.loop(stmt)
        elif kind is cst.Try or kind is cst.TryStar:
            self.try_statement(stmt)
        elif kind is cst.With:
            for item in stmt.items:  # type: ignore[attr-defined]
                self.expression(item.item)
                if item.asname is not None:
                    self.bind_target(item.asname.name, "with", item.item, stmt)
            self.block(stmt.body)  # type: ignore[attr-defined]
        elif kind is cst.Match:
            self.match(stmt)  # type: ignore[arg-type]
        elif kind is cst.FunctionDef:
            for decorator in stmt.decorators:  # type: ignore[attr-defined]
                self.expression(decorator.decorator)
            params = stmt.params  # type: ignore[attr-defined]
            for param in (*params.posonly_params, *params.params, *params.kwonly_params):
                self.expression(param.default)
            self.bind(stmt.name.value, "def", None, stmt)  # type: ignore[attr-defined]
        elif kind is cst.ClassDef:
            for decorator in stmt.decorators:  # type: ignore[attr-defined]
                self.expression(decorator.decorator)
            for arg in stmt.bases:  # type: ignore[attr-defined]
                self.expression(arg.value)
            self.bind(stmt.name.value, "class", None, stmt)  # type: ignore[attr-defined]

    def small(self, small: cst.CSTNode) -> None:
        kind = type(small)
        if kind is cst.Assign:
            self.expression(small.value)  # type: ignore[attr-defined]
            for target in small.targets:  # type: ignore[attr-defined]
                self.expression_in_target(target.target)
                self.bind_target(target.target, "assign", small.value, small)  # type: ignore[attr-defined]
        elif kind is cst.AnnAssign:
            if small.value is not None:  # type: ignore[attr-defined]
                self.expression(small.value)  # type: ignore[attr-defined]
                self.bind_target(small.target, "annotated", small.value, small)  # type: ignore[attr-defined]
        elif kind is cst.AugAssign:
            self.expression(small.value)  # type: ignore[attr-defined]
            name = target_name(small.target)  # type: ignore[attr-defined]
            if name is not None:
                self.bind(name, "augmented", small.value, small, keep_previous=True)  # type: ignore[attr-defined]
        elif kind is cst.Import:
            for alias in small.names:  # type: ignore[attr-defined]
                if alias.asname is not None:
                    name = target_name(alias.asname.name)
                else:
                    name = _first_name(alias.name)
                if name:
                    self.bind(name, "import", None, small)
        elif kind is cst.ImportFrom:
            if not isinstance(small.names, cst.ImportStar):  # type: ignore[attr-defined]
                for alias in small.names:  # type: ignore[attr-defined]
                    target = alias.asname.name if alias.asname is not None else alias.name
                    name = target_name(target)
                    if name:
                        self.bind(name, "import", None, small)
        elif kind is cst.Global:
            self.scope.declared_global.update(n.name.value for n in small.names)  # type: ignore[attr-defined]
        elif kind is cst.Nonlocal:
            self.scope.declared_nonlocal.update(n.name.value for n in small.names)  # type: ignore[attr-defined]
        elif kind is cst.Del:
            self.delete(small.target)  # type: ignore[attr-defined]
        else:  # Expr, Raise, Assert, Pass, Break, Continue, TypeAlias
            for name in child_fields(kind):
                value = getattr(small, name)
                if isinstance(value, cst.CSTNode):
                    self.expression(value)

    def expression_in_target(self, target: cst.BaseExpression) -> None:
        """Calls inside a target (`d[key()] = v`, `get().x = v`) run too."""
        if isinstance(target, (cst.Attribute, cst.Subscript)):
            self.expression(target)

    def delete(self, target: cst.BaseExpression) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.delete(element.value)
            return
        name = target_name(target)
        if name is not None:
            self.unbind(name)

    def loop(self, stmt) -> None:
        is_for = isinstance(stmt, cst.For)
        self.expression(stmt.iter if is_for else stmt.test)
        before = self.snapshot()
        outer_replay = self.replay
        self.depth += 1
        ends = [before]
        self.loops += 1
        # The second pass lets late bindings reach early uses; past three nested
        # loops one pass (passes double per level).
        for replay in (False, True) if self.loops <= 3 else (False,):
            self.replay = outer_replay or replay
            if is_for:
                self.bind_target(stmt.target, "for", stmt.iter, stmt)
            else:
                self.expression(stmt.test)
            self.block(stmt.body)
            ends.append(self.snapshot())
            self.restore(self.join(before, self.snapshot()))
        self.replay = outer_replay
        self.loops -= 1
        self.depth -= 1
        self.restore(self.join(*ends))
        if stmt.orelse is not None:
            self.block(stmt.orelse.body)

    def try_statement(self, stmt) -> None:
        before = self.snapshot()
        self.block(stmt.body)
        after_body = self.snapshot()
        ends: List[State] = []
        for handler in stmt.handlers:
            self.restore(self.join(before, after_body))  # the exception may come at any point
            self.expression(handler.type)
            self.depth += 1
            if handler.name is not None:
                self.bind_target(handler.name.name, "except", handler.type, handler)
            self.block(handler.body)
            self.depth -= 1
            ends.append(self.snapshot())
        self.restore(after_body)
        if stmt.orelse is not None:
            ends.append(self.branch(stmt.orelse.body))
        else:
            ends.append(after_body)
        self.restore(self.join(*ends))
        if stmt.finalbody is not None:
            self.block(stmt.finalbody.body)

    def match(self, stmt: cst.Match) -> None:
        self.expression(stmt.subject)
        start = self.snapshot()
        ends = [start]
        for case in stmt.cases:
            self.restore(start)
            self.depth += 1
            for name_node in _capture_names(case.pattern):
                self.bind(name_node.value, "match", stmt.subject, case)
            self.expression(case.guard)
            self.block(case.body)
            self.depth -= 1
            ends.append(self.snapshot())
        self.restore(self.join(*ends))


class _AfterWalrus:
    __slots__ = ("node",)

    def __init__(self, node: cst.NamedExpr) -> None:
        self.node = node


class Binder:
    """Per-module bindings; `ctx.binder`. Scopes are built on first use."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self._scopes: Dict[int, ScopeBindings] = {}
        self._enclosing: Optional[Dict[int, Tuple[cst.CSTNode, ...]]] = None
        self._callers: Dict[int, List] = {}
        self._by_callee: Optional[Dict[str, List]] = None

    def scope(self, owner: Owner) -> ScopeBindings:
        key = id(owner) if owner is not None else 0
        found = self._scopes.get(key)
        if found is None:
            # A function's or class's bindings depend on its own nodes only: an
            # editor session reuses them while the definition is unchanged (the
            # memo keeps results of the last version, keyed by node identity).
            memo = self.ctx.memo if owner is not None else None
            remembered = memo.get(owner) if memo is not None else None
            found = remembered if isinstance(remembered, ScopeBindings) else self._build(owner)
            if memo is not None and remembered is None:
                memo.put(owner, found)
            self._scopes[key] = found
        return found

    def _build(self, owner: Owner) -> ScopeBindings:
        scope = ScopeBindings(owner)
        walker = _Walker(scope)
        if owner is None:
            walker.block(self.ctx.tree.body)
        elif isinstance(owner, cst.ClassDef):
            walker.block(owner.body)
        else:
            params = owner.params
            positional = (*params.posonly_params, *params.params)
            for i, param in enumerate(positional):
                walker.bind(param.name.value, "param", param.default, param, index=i)
            for param in params.kwonly_params:
                walker.bind(param.name.value, "param", param.default, param)
            for star in (params.star_arg, params.star_kwarg):
                if isinstance(star, cst.Param):
                    walker.bind(star.name.value, "star-param", None, star)
            walker.block(owner.body)
        scope.end = walker.snapshot()
        return scope

    # -- enclosing scopes ------------------------------------------------------
    def enclosing(self, owner: Owner) -> Tuple[cst.CSTNode, ...]:
        """The ClassDef/FunctionDef nodes around `owner`, outermost first."""
        if owner is None:
            return ()
        if self._enclosing is None:
            self._enclosing = {id(d.node): d.scope for d in (*self.ctx.functions, *self.ctx.classes)}
        return self._enclosing.get(id(owner), ())

    def owner_of(self, site) -> Owner:
        """The scope a CallSite runs in: its innermost function or class body."""
        return site.scope[-1] if site.scope else None

    # -- call sites ------------------------------------------------------------------
    def callers(self, fn: cst.FunctionDef) -> List:
        """The calls of `fn` in this file (CallSites), by name resolution: `f(...)`
        where `f` is bound to this def; for a method, `self.m(...)` inside its
        class and `obj.m(...)` where `obj = Class(...)` reaches the call; for
        `__init__`, the class's constructor calls. A bound-method call passes
        `self` implicitly: its first argument is the second parameter."""
        found = self._callers.get(id(fn))
        if found is not None:
            return found
        found = []
        outer = self.enclosing(fn)
        klass = outer[-1] if outer and isinstance(outer[-1], cst.ClassDef) else None
        ctx = self.ctx
        name = fn.name.value
        if klass is None:
            for site in self._calls_named(name):
                if isinstance(site.node.func, cst.Name) and any(
                        b.kind == "def" and b.node is fn for b in self.lookup(name, self.owner_of(site), site.node)[1]):
                    found.append(site)
        else:
            qualname = f"{ctx.module_name}.{klass.name.value}" if ctx.module_name else klass.name.value
            top_level = len(outer) == 1
            if name == "__call__" and top_level:
                # `rule = ExactMode(); rule(model, x)`: an instance called as a function.
                for site in ctx.calls:
                    func = site.node.func
                    if isinstance(func, cst.Name) and any(
                            isinstance(b.value, cst.Call) and ctx.callee(b.value) == qualname
                            for b in self.values_at(func.value, self.owner_of(site), site.node)):
                        found.append(site)
            for site in self._calls_named(klass.name.value if name == "__init__" else name):
                func = site.node.func
                if name == "__init__":
                    if top_level and ctx.callee(site.node) == qualname:
                        found.append(site)
                elif isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
                    receiver = func.value.value
                    if receiver == "self":
                        if klass in site.scope:
                            found.append(site)
                    elif top_level and any(isinstance(b.value, cst.Call) and ctx.callee(b.value) == qualname
                                           for b in self.values_at(receiver, self.owner_of(site), site.node)):
                        found.append(site)
        self._callers[id(fn)] = found
        return found

    def argument_for(self, site, binding: Binding) -> Tuple[bool, Optional[cst.BaseExpression]]:
        """What a call of the parameter's function passes for it: (known, expression).
        known is False after `*args`/`**kwargs` (any slot may be filled); the
        expression is None when the call leaves the parameter to its default."""
        call = site.node
        if any(arg.star for arg in call.args):
            return False, None
        index = binding.index
        outer = self.enclosing(binding.owner)
        if index is not None and outer and isinstance(outer[-1], cst.ClassDef) and \
                (isinstance(call.func, cst.Attribute) or
                 binding.owner.name.value in ("__init__", "__call__")):  # type: ignore[union-attr]
            index -= 1  # `obj.method(a)` / `Class(a)` / `obj(a)`: `self` is not among the arguments
        position = 0
        for arg in call.args:
            if arg.keyword is None:
                if index is not None and position == index:
                    return True, arg.value
                position += 1
            elif arg.keyword.value == binding.name:
                return True, arg.value
        return True, None

    def _calls_named(self, name: str) -> List:
        """Calls whose callee's last name is `name` (`f(...)`, `x.f(...)`)."""
        if self._by_callee is None:
            index: Dict[str, List] = {}
            for site in self.ctx.calls:
                func = site.node.func
                last = func.value if isinstance(func, cst.Name) else func.attr.value if isinstance(func, cst.Attribute) else None
                if last is not None:
                    index.setdefault(last, []).append(site)
            self._by_callee = index
        return self._by_callee.get(name, [])

    # -- queries -------------------------------------------------------------------
    def lookup(self, name: str, owner: Owner, at: object = None) -> Tuple[Owner, Tuple[Binding, ...]]:
        """Python's name resolution from `owner` at `at`: the scope that binds
        `name` (local, then enclosing functions, then the module; class bodies
        are skipped from inside their methods) and the bindings that may reach.
        An empty tuple: the file never binds it (a builtin, or unknown)."""
        local = self.scope(owner)
        if name in local.declared_global:
            return None, self.scope(None).reaching(name)
        if local.binds(name):
            return owner, local.reaching(name, at)
        for outer in reversed(self.enclosing(owner)):
            if isinstance(outer, cst.ClassDef):
                continue
            scope = self.scope(outer)  # type: ignore[arg-type]
            if scope.binds(name):
                return outer, scope.reaching(name)  # type: ignore[return-value]
        if owner is None:
            return None, ()
        module = self.scope(None)
        return None, module.reaching(name) if module.binds(name) else ()

    def is_module_global(self, name: str, owner: Owner) -> bool:
        """`name` inside `owner` is the module's own binding (not a local, not a builtin)."""
        scope, bindings = self.lookup(name, owner)
        return scope is None and bool(bindings)

    def values_at(self, name: str, owner: Owner, at: object = None) -> List[Binding]:
        """The value-carrying bindings of `name` that may reach `at` (see lookup)."""
        return [b for b in self.lookup(name, owner, at)[1] if b.has_value]


def statements_of(body) -> Tuple[cst.CSTNode, ...]:
    if body is None:
        return ()
    if isinstance(body, (list, tuple)):
        return tuple(body)
    if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite, cst.Module)):
        return tuple(body.body)
    inner = getattr(body, "body", None)
    if isinstance(inner, (cst.IndentedBlock, cst.SimpleStatementSuite)):
        return tuple(inner.body)
    return ()


def target_name(node: cst.CSTNode) -> Optional[str]:
    """`x` -> "x", `self.model` -> "self.model", `cfg["lr"]` -> "cfg['lr']"; else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = target_name(node.value)
        return f"{base}.{node.attr.value}" if base is not None else None
    if isinstance(node, cst.Subscript) and len(node.slice) == 1:
        index = node.slice[0].slice
        if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
            key = index.value.evaluated_value
            base = target_name(node.value)
            if isinstance(key, str) and base is not None:
                return f"{base}[{key!r}]"
    return None


def _first_name(node: cst.CSTNode) -> Optional[str]:
    while isinstance(node, cst.Attribute):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


def _capture_names(pattern: cst.CSTNode) -> List[cst.Name]:
    """The names a `case` pattern binds (MatchAs/MatchStar/MatchMapping rest)."""
    found: List[cst.Name] = []
    stack = [pattern]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.MatchAs) and isinstance(node.name, cst.Name):
            found.append(node.name)
        elif isinstance(node, cst.MatchStar) and isinstance(node.name, cst.Name):
            found.append(node.name)
        elif isinstance(node, cst.MatchMapping) and isinstance(node.rest, cst.Name):
            found.append(node.rest)
        for name in child_fields(type(node)):
            value = getattr(node, name)
            if type(value) is tuple or type(value) is list:
                stack.extend(v for v in value if isinstance(v, cst.CSTNode))
            elif isinstance(value, cst.CSTNode):
                stack.append(value)
    return found
