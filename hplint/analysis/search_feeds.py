"""Which expressions a hyperparameter search feeds: `betas=(b1, 0.999)` where
`b1 = trial.suggest_float(...)`, `eps=config["eps"]` where the config is a
search space (`"eps": tune.loguniform(...)`), a search call written in place.
Reads the search-space fact for distributions and the dict literals of
categorical and grid searches, which are no distributions there.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import libcst as cst

from .search_space import SearchSpaceAnalysis
from .walk import walk

# Optuna's trial methods, and library functions that sample a search space.
_SEARCH_METHODS = frozenset({"suggest_float", "suggest_uniform", "suggest_loguniform",
                             "suggest_discrete_uniform", "suggest_categorical", "suggest_int"})
_SEARCH_PACKAGES = ("ray.tune.", "flaml.tune.", "hyperopt.", "skopt.", "optuna.", "ConfigSpace.", "nevergrad.", "syne_tune.")
# Random search written by hand: a random draw is a sampled hyperparameter when it feeds one.
_RANDOM_FUNCTIONS = frozenset({"random.choice", "random.uniform", "numpy.random.choice", "numpy.random.uniform"})
_RNG_METHODS = frozenset({"choice", "uniform"})
_SEARCH_FUNCTIONS = frozenset({
    "uniform", "quniform", "loguniform", "qloguniform", "choice", "grid_search", "randn", "qrandn",
    "sample_from", "normal", "qnormal", "lognormal", "Real", "Categorical", "Integer",
    "FloatDistribution", "UniformDistribution", "LogUniformDistribution", "CategoricalDistribution",
    "UniformFloatHyperparameter", "CategoricalHyperparameter", "Float", "Scalar", "Choice",
})


def is_search_call(ctx, call: cst.Call) -> bool:
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in _SEARCH_METHODS:
        return True
    qn = ctx.callee(call) or ""
    if qn in _RANDOM_FUNCTIONS:
        return True
    if isinstance(func, cst.Attribute) and func.attr.value in _RNG_METHODS and _is_generator(ctx, func.value):
        return True  # DomainBed's hparams registry: `r.choice([0., 0.5])` with `r = np.random.RandomState(seed)`
    return qn.startswith(_SEARCH_PACKAGES) and qn.rsplit(".", 1)[-1] in _SEARCH_FUNCTIONS


def _is_generator(ctx, receiver: cst.BaseExpression) -> bool:
    """A NumPy / `random` generator, as the search-space fact recognises one."""
    return ctx.fact("search_space", SearchSpaceAnalysis).is_rng(receiver)


class SearchFeeds:
    """`ctx.fact("search_feeds", SearchFeeds)`: names that a search space binds in
    this file, and `feeding`: how one of them feeds an expression."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self._keys: Optional[Dict[str, Any]] = None  # dict key / suggest name / label -> distribution
        self._locals: Dict[int, Dict[str, cst.Call]] = {}
        # Every way a search feeds an expression goes through a search call of
        # this file; most files have none, and then nothing below needs a walk.
        self.searches = any(is_search_call(ctx, s.node) for s in ctx.calls) or any(
            d.through is not None for d in ctx.fact("search_space", SearchSpaceAnalysis).distributions)

    def _bound_keys(self) -> Dict[str, Any]:
        if self._keys is None:
            keys: Dict[str, Any] = {}
            if self.searches:
                for dist in self.ctx.fact("search_space", SearchSpaceAnalysis).distributions:
                    for binding in dist.bindings:
                        if binding.how in ("dict key", "suggest name", "label", "name", "variable"):
                            keys.setdefault(binding.name, (binding.how, dist))
                # Categorical and grid searches (`"beta2": tune.choice([0.98, 0.999])`)
                # are no distributions of the search-space fact: read the dict literals.
                for node in walk(self.ctx.tree):
                    if isinstance(node, cst.DictElement) and isinstance(node.key, cst.SimpleString) and \
                            isinstance(node.key.evaluated_value, str) and isinstance(node.value, cst.Call) and \
                            is_search_call(self.ctx, node.value):
                        keys.setdefault(node.key.evaluated_value, ("dict key", node.value))
            self._keys = keys
        return self._keys

    def _local_searches(self, fn) -> Dict[str, cst.Call]:
        """Locals of a function assigned a search call (`b1 = trial.suggest_float(...)`)."""
        key = id(fn) if fn is not None else 0
        if key not in self._locals:
            found: Dict[str, cst.Call] = {}
            for name, values in self.ctx.binder.scope(fn).assignment_index().items():
                for value, _ in values:
                    call = _first_search_call(self.ctx, value)
                    if call is not None:
                        found[name] = call
            self._locals[key] = found
        return self._locals[key]

    def feeding(self, expr: cst.BaseExpression, site) -> str:
        """How a search space feeds `expr`, or "" when none does."""
        ctx = self.ctx
        if not self.searches:
            return ""
        call = _first_search_call(ctx, expr)
        if call is not None:
            return f"sampled by `{ctx.code(call.func)}`"
        found = self._feeding(expr, site)
        if found:
            return found
        # `betas=hp["betas"]` with `hp = {"betas": (p["beta_1"], p["beta_2"])}` and `p` a
        # helper's dict of trial.suggest_float calls (higher-order-damping-in-ml, set 56)
        source = self._source_of(expr, site, 0)
        return self._feeding(source, site) if source is not expr else ""

    def _source_of(self, expr: cst.BaseExpression, site, depth: int) -> cst.BaseExpression:
        """The expression a local name, or a literal dict's entry read by a
        constant key, stands for (the one binding that reaches `site`)."""
        if depth > 3:
            return expr
        key = None
        table = expr
        if isinstance(expr, cst.Subscript) and len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index) \
                and isinstance(expr.slice[0].slice.value, cst.SimpleString):
            key = expr.slice[0].slice.value.evaluated_value
            table = expr.value
        if not isinstance(table, cst.Name):
            return expr
        reaching = self.ctx.binder.lookup(table.value, site.function, site.node)[1]
        if len(reaching) != 1 or not reaching[0].has_value or reaching[0].index is not None:
            return expr
        value = reaching[0].value
        if key is None:
            return self._source_of(value, site, depth + 1)
        if isinstance(value, cst.Dict):
            for element in value.elements:
                if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString) and \
                        element.key.evaluated_value == key:
                    return self._source_of(element.value, site, depth + 1)
        return expr

    def _feeding(self, expr: cst.BaseExpression, site) -> str:
        ctx = self.ctx
        names = set()
        keys = set()
        for node in walk(expr):
            if isinstance(node, cst.Name):
                names.add(node.value)
            elif isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str):
                keys.add(node.evaluated_value)
            elif isinstance(node, cst.Attribute):
                keys.add(node.attr.value)
        local = self._local_searches(site.function)
        for name in sorted(names):
            if name in local:
                return f"`{name}` is sampled by `{ctx.code(local[name].func)}`"
        bound = self._bound_keys()
        for key in sorted(keys | names):
            if key in bound:
                how, dist = bound[key]
                if how == "variable" and key not in names:
                    continue
                if how == "variable" and dist.scope and site.function is not None and dist.scope[-1] is not site.function:
                    continue
                call = dist if isinstance(dist, cst.Call) else dist.node
                spelling = ctx.code(call.func) if isinstance(call, cst.Call) else "a sweep"
                return f"`{key}` is sampled by `{spelling}`"
        return ""


def _first_search_call(ctx, expr: cst.CSTNode) -> Optional[cst.Call]:
    for node in walk(expr):
        if isinstance(node, cst.Call) and is_search_call(ctx, node):
            return node
    return None
