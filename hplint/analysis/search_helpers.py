"""Calls of search helpers: project functions that forward their parameters
into a hyperparameter search.

    def suggest(trial, name, low, high):
        return trial.suggest_float(name, low, high)

    lr = suggest(trial, "lr", 1e-5, 1e-1)        # a linear search of the lr

Auto-PyTorch spells its search spaces this way, two helpers deep and with the
distribution class itself a parameter: `add_hyperparameter(cs, beta1,
UniformFloatHyperparameter)` calls `get_hyperparameter(hp, hp_type)`, whose
`if hp_type == UniformFloatHyperparameter:` branch builds
`UniformFloatHyperparameter(hp.hyperparameter, lower=hp.value_range[0], ...)`
from a `HyperparameterSearchSpace` NamedTuple.

A helper is a function whose search call reads its parameters: a recognised
distribution, a call of a parameter (the class a caller hands in), or a call
of another helper of the same file. Each call of a helper becomes one
distribution at that call, with the bounds, name and scale it passes; the
draw is followed from there only when the helper returns it. Helpers of the
same file are found by their callers (methods and nested functions too);
those of other project files by the callee's qualified name (module-level
functions, one file away: a helper's own facts never reach further, so
building them never needs another file's, and no cycle can form).
"""

from __future__ import annotations

import weakref
from typing import Any, Dict, Iterator, List, Optional, Tuple

import libcst as cst

from .search_space import LOG, UNKNOWN_SCALE, Binding, Distribution, _apply
from .walk import walk

# Callees that are no project helper (a cheap filter before resolving one).
_NOT_HELPERS = ("torch.", "numpy.", "builtins.", "math.", "random.", "os.", "optuna.", "ray.", "hyperopt.",
                "skopt.", "scipy.", "ConfigSpace.", "syne_tune.", "flaml.", "wandb.", "nni.", "typing.",
                "collections.", "argparse.", "logging.", "json.", "pandas.", "sklearn.", "transformers.")
# Where a distribution class that a caller hands to a helper comes from.
SEARCH_CLASS_PACKAGES = ("ConfigSpace.", "optuna.", "ray.tune.", "hyperopt.", "skopt.", "scipy.stats",
                         "syne_tune.", "flaml.tune.")
_SEARCH_PACKAGE_ROOTS = frozenset(p.split(".")[0] for p in SEARCH_CLASS_PACKAGES)
_MAX_DEPTH = 4  # helpers calling helpers
_ROUNDS = 4  # of the same-file fixpoint: a helper found makes its callers candidates


class _Site:
    """One search call in a helper: `class_param` names the parameter it calls
    (`hp_type(...)`), `helper` the same-file helper it calls, else both None."""

    __slots__ = ("site", "class_param", "helper")

    def __init__(self, site, class_param: Optional[str], helper: Optional[cst.FunctionDef]) -> None:
        self.site = site
        self.class_param = class_param
        self.helper = helper


class SearchHelpers:
    """The search helpers of one file and the calls of them (see the module docstring)."""

    def __init__(self, analysis) -> None:
        # A proxy: the analysis owns this object, and a strong reference back
        # would be a cycle that keeps the file's context alive after release.
        self.analysis = weakref.proxy(analysis)
        self.ctx = analysis.ctx
        self._calls: Dict[int, cst.FunctionDef] = {}  # id(call) -> the same-file helper it calls
        self._sites: Dict[int, List[_Site]] = {}
        self._callers: List[Tuple[Any, cst.FunctionDef]] = []
        self._param_calls = self._calls_of_parameters()
        if analysis.drawn_in or self._param_calls:
            self._find_same_file_calls()

    # -- which functions are helpers -------------------------------------------------
    def _calls_of_parameters(self) -> Dict[int, List[Any]]:
        """`hp_type(...)` where hp_type is a parameter, in files that import a
        search library (the class a caller hands in must come from one)."""
        found: Dict[int, List[Any]] = {}
        imported = self.ctx.imports.names.values()
        if not any(q.split(".", 1)[0] in _SEARCH_PACKAGE_ROOTS for q in imported):
            return found
        for site in self.ctx.calls:
            func = site.node.func
            fn = site.function
            if type(func) is cst.Name and fn is not None and func.value in _parameter_names(fn):
                found.setdefault(id(fn), []).append(site)
        return found

    def _find_same_file_calls(self) -> None:
        functions: Dict[int, cst.FunctionDef] = {}
        for sites in self.analysis.drawn_in.values():
            functions[id(sites[0].function)] = sites[0].function
        for sites in self._param_calls.values():
            functions[id(sites[0].function)] = sites[0].function
        for _ in range(_ROUNDS):
            self._sites.clear()
            grown = False
            for fn in list(functions.values()):
                if not self.sites(fn):
                    continue
                for caller in self.ctx.binder.callers(fn):
                    if id(caller.node) in self._calls:
                        continue
                    self._calls[id(caller.node)] = fn
                    self._callers.append((caller, fn))
                    grown = True
                    outer = caller.function
                    if outer is not None:
                        functions.setdefault(id(outer), outer)
            if not grown:
                break
        self._sites.clear()

    def sites(self, fn: cst.FunctionDef) -> List[_Site]:
        """fn's search calls that read its parameters (empty: fn is no helper)."""
        key = id(fn)
        found = self._sites.get(key)
        if found is None:
            params = _plain_params(self.ctx, fn)
            found = []
            if params:
                for site in self.analysis.drawn_in.get(key, ()):
                    if _reads(site.node, params):
                        found.append(_Site(site, None, None))
                for site in self._param_calls.get(key, ()):
                    if site.node.func.value in params:
                        found.append(_Site(site, site.node.func.value, None))
                for caller, helper in self._callers:
                    if caller.function is fn and _reads(caller.node, params):
                        found.append(_Site(caller, None, helper))
            self._sites[key] = found
        return found

    # -- the calls ------------------------------------------------------------------
    def local_calls(self) -> Iterator[Distribution]:
        for caller, fn in self._callers:
            yield from self._reported(caller, self, fn)

    def other_files_calls(self) -> Iterator[Distribution]:
        ctx = self.ctx
        local = f"{ctx.module_name}."
        for caller in ctx.calls:
            func = caller.node.func
            if type(func) is not cst.Name and type(func) is not cst.Attribute:
                continue
            qn = ctx.callee(caller.node)
            if not qn or qn.startswith(_NOT_HELPERS) or qn.startswith(local):
                continue
            found = ctx.function_definition(qn)
            if found is None or found[0] is ctx:
                continue
            from .search_space import SearchSpaceAnalysis

            helpers = found[0].fact("search_space", SearchSpaceAnalysis).helpers
            if helpers.sites(found[1]):
                yield from self._reported(caller, helpers, found[1])

    def _reported(self, caller, helpers: "SearchHelpers", fn) -> Iterator[Distribution]:
        """The distributions a call of a helper draws, followed from the call
        when the helper returns the draw."""
        analysis = self.analysis
        for found, returned in self._drawn(caller, helpers, fn, {}, {}, 0):
            if returned and found.scale != UNKNOWN_SCALE:
                analysis._follow(found, caller.scope)
            else:
                found.scope = tuple(caller.scope)
            yield found

    def _drawn(self, caller, helpers: "SearchHelpers", fn, env_in: Dict[str, Any], classes_in: Dict[str, str],
               depth: int) -> Iterator[Tuple[Distribution, bool]]:
        """(distribution at `caller`, whether fn returns it) for each search call
        of `fn`, with fn's parameters bound to what `caller` passes. `env_in` and
        `classes_in` hold the values and classes of the caller's own parameters
        when the caller is itself inside a helper being evaluated."""
        if depth > _MAX_DEPTH:
            return
        ctx = self.ctx
        constants = ctx.constants
        outer_env = {**self.analysis._scope_for(caller.scope).env(constants), **env_in}
        env: Dict[str, Any] = {}
        classes: Dict[str, str] = {}
        for name, binding in _plain_params(helpers.ctx, fn).items():
            known, expr = helpers.ctx.binder.argument_for(caller, binding)
            if not known:
                return  # `helper(*args)`: any parameter may be anything
            if expr is None:
                continue  # the helper's default, which its own file knows
            held = classes_in.get(expr.value) if type(expr) is cst.Name else None
            qualname = held or ctx.qualified_name(expr)
            if qualname:
                classes[name] = qualname
            env[name] = _evaluated(constants, constants.value(expr, outer_env), outer_env)
        for inner in helpers.sites(fn):
            if not any(n in env or n in classes for n in _names_read(inner.site.node)):
                continue  # the helper's defaults alone: its own search call is the finding
            if not helpers._branch_allows(inner.site, fn, classes):
                continue
            if inner.helper is not None:
                drawn = [(d, r) for d, r in helpers._drawn(inner.site, helpers, inner.helper, env, classes, depth + 1)]
            else:
                callee = classes.get(inner.class_param) if inner.class_param else None
                if inner.class_param and not (callee or "").startswith(SEARCH_CLASS_PACKAGES):
                    continue
                found = helpers.analysis._recognise(inner.site, env, callee)
                if found is None:
                    continue
                found.spelling = callee.rsplit(".", 1)[-1] if callee else helpers.ctx.code(found.node.func)
                drawn = [(found, True)]
            for found, reaches in drawn:
                yield self._at_call(caller, helpers, inner.site, found, env, reaches)

    def _at_call(self, caller, helpers: "SearchHelpers", inner_site, found: Distribution, env, reaches: bool):
        """`found`, drawn at inner_site inside the helper, as a distribution at
        `caller`: the helper's own arithmetic on the draw applied, and whether
        it returns the draw."""
        analysis = helpers.analysis
        scope = analysis._scope_for(inner_site.scope)
        _, parent, affine, status, _ = analysis._climb(
            inner_site.node, scope, {**scope.env(helpers.ctx.constants), **env})
        low, high, scale, transformed = found.low, found.high, found.scale, found.transformed
        if status == "log":
            scale = LOG
        elif status == "opaque":
            scale = UNKNOWN_SCALE
        elif affine != (0.0, 1.0):
            transformed = True
            low, high = _apply(affine, low, high)
        returned = reaches and (type(parent) is cst.Return or (
            type(parent) is cst.Assign and len(parent.targets) == 1 and type(parent.targets[0].target) is cst.Name
            and _returns_name(inner_site.function, parent.targets[0].target.value)))
        drawn_by = found.spelling.split(", which calls ")[-1]
        outer = Distribution(caller.node, found.library, found.kind,
                             f"{self.ctx.code(caller.node.func)}, which calls {drawn_by}", scale, low, high,
                             bindings=[Binding(b.name, b.how, caller.node, b.shown) for b in found.bindings],
                             transformed=transformed, grid_count=found.grid_count, step=found.step,
                             through=found.through or found.node)
        return outer, returned

    def _branch_allows(self, site, fn, classes: Dict[str, str]) -> bool:
        """False when `site` sits in a branch that tests a class parameter
        against another class than the caller's (`if hp_type ==
        CategoricalHyperparameter:` for a UniformFloatHyperparameter)."""
        if not classes:
            return True
        parents = self.analysis._scope_for(site.scope).parent
        node = site.node
        while node is not fn:
            parent = parents.get(id(node))
            if parent is None:
                return True
            if type(parent) is cst.If and node is not parent.test:
                verdict = self._class_test(parent.test, classes)
                if verdict is not None:
                    if parent.orelse is node:  # an else / elif: the test failed
                        verdict = not verdict
                    if not verdict:
                        return False
            node = parent
        return True

    def _class_test(self, test, classes: Dict[str, str]) -> Optional[bool]:
        """`param == Class` / `param is Class` (or `!=`, `is not`) under the
        caller's classes; None for any other test."""
        if type(test) is not cst.Comparison or len(test.comparisons) != 1:
            return None
        target = test.comparisons[0]
        op = type(target.operator)
        sides = (test.left, target.comparator)
        for mine, other in (sides, sides[::-1]):
            if type(mine) is cst.Name and mine.value in classes:
                qualname = self.ctx.qualified_name(other)
                if qualname is None:
                    return None
                same = qualname == classes[mine.value]
                if op in (cst.Equal, cst.Is):
                    return same
                if op in (cst.NotEqual, cst.IsNot):
                    return not same
        return None


def _parameter_names(fn: cst.FunctionDef) -> Tuple[str, ...]:
    params = fn.params
    return tuple(p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params))


def _plain_params(ctx, fn: cst.FunctionDef) -> Dict[str, Any]:
    """fn's parameters that its body never rebinds, with their bindings."""
    names = _parameter_names(fn)
    if not names:
        return {}
    bindings = ctx.binder.scope(fn).bindings
    found = {}
    for name in names:
        bound = bindings.get(name, ())
        if len(bound) == 1 and bound[0].kind == "param":
            found[name] = bound[0]
    return found


def _names_read(call: cst.Call) -> set:
    found = {n.value for arg in call.args for n in walk(arg.value) if type(n) is cst.Name}
    if type(call.func) is cst.Name:
        found.add(call.func.value)
    return found


def _reads(call: cst.Call, params: Dict[str, Any]) -> bool:
    return not _names_read(call).isdisjoint(params)


def _evaluated(constants, value: Any, env: Dict[str, Any]) -> Any:
    """A value to hand to another scope (or file): a config object's fields
    that are still expressions of this one are evaluated here."""
    if isinstance(value, dict):
        return {k: constants.value(v, env) if isinstance(v, cst.CSTNode) else v for k, v in value.items()}
    return value


def _returns_name(fn: Optional[cst.FunctionDef], name: str) -> bool:
    if fn is None:
        return False
    return any(type(node) is cst.Return and type(node.value) is cst.Name and node.value.value == name
               for node in walk(fn.body))
