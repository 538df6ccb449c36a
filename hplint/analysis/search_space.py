"""Hyperparameter distributions in a file, each bound to the name it feeds.

`ctx.fact("search_space", SearchSpaceAnalysis).distributions` lists every
recognised distribution — Optuna, Ray Tune, Hyperopt, scikit-optimize,
scipy.stats, ConfigSpace, W&B sweep dicts, `random`/NumPy/torch sampling and
linear or geometric grids — with its scale (linear or log), its bounds as the
value that reaches the hyperparameter (after `1 - x`, `lo + (hi-lo)*x`, ...),
and the names it is bound to: the suggest name or label, a dict key, the
assigned variable, the keyword it flows into (`lr=`, `betas=(b1, ...)`), also
through one local variable. A value that ends up as an exponent (`10 ** x`,
`np.exp(x)`, `np.power(10, x)`) is log scale, whatever sampled it.

Library calls are recognised through the import table; only Optuna's
`suggest_*` methods (the receiver is a `trial` parameter) and tensor methods
(`uniform_`) are matched by method name. Work happens only in the scopes that
hold a candidate call, so files without search spaces pay one pass over
`ctx.calls`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

import libcst as cst

from .arguments import call_argument as _arg
from .constants import UNKNOWN
from .module import CallSite
from .testing_code import is_test_file, is_test_function
from .walk import children, walk

LINEAR = "linear"
LOG = "log"
UNKNOWN_SCALE = "unknown"

# -- the vocabulary ------------------------------------------------------------
# Last path component of a call that may be a distribution: a cheap first filter.
_CANDIDATE_NAMES = frozenset({
    "suggest_float", "suggest_uniform", "suggest_discrete_uniform", "suggest_loguniform",
    "FloatDistribution", "UniformDistribution", "LogUniformDistribution", "DiscreteUniformDistribution",
    "uniform", "quniform", "loguniform", "qloguniform", "reciprocal", "Real",
    "UniformFloatHyperparameter", "Float", "uniform_", "Uniform",
    "rand", "random", "random_sample", "ranf", "sample",
    "linspace", "logspace", "geomspace", "dict", "finrange", "BayesianOptimization",
    "double", "V1beta1ParameterSpec", "partial", "arange", "array",
})
_OPTUNA_METHODS = {  # method -> (scale, has a step)
    "suggest_float": (None, False), "suggest_uniform": (LINEAR, False),
    "suggest_discrete_uniform": (LINEAR, True), "suggest_loguniform": (LOG, False),
}
_OPTUNA_CLASSES = {
    "FloatDistribution": None, "UniformDistribution": LINEAR,
    "DiscreteUniformDistribution": LINEAR, "LogUniformDistribution": LOG,
}
_TUNE_FUNCS = {"uniform": LINEAR, "quniform": LINEAR, "loguniform": LOG, "qloguniform": LOG}
_TUNE_PACKAGES = ("ray.tune", "flaml.tune")
# Syne Tune (awslabs/syne-tune) spells its domains like Ray Tune's, plus grids.
_SYNE_TUNE_PACKAGES = ("syne_tune.config_space", "syne_tune")
_SYNE_TUNE_GRIDS = {"finrange": LINEAR, "logfinrange": LOG}
_HYPEROPT_FUNCS = {"uniform": LINEAR, "quniform": LINEAR, "loguniform": LOG, "qloguniform": LOG}
_SCIPY_FUNCS = {"uniform": LINEAR, "loguniform": LOG, "reciprocal": LOG}
_UNIFORM_FUNCS = {"random.uniform", "numpy.random.uniform", "numpy.random.mtrand.uniform"}
_UNIT_FUNCS = {  # U[0, 1] sources that a linear map turns into U[lo, hi]
    "random.random", "numpy.random.rand", "numpy.random.random", "numpy.random.random_sample",
    "numpy.random.ranf", "numpy.random.sample", "torch.rand",
}
_TORCH_UNIFORM = {"torch.distributions.Uniform", "torch.distributions.uniform.Uniform"}
_GRIDS = {"numpy.linspace": LINEAR, "torch.linspace": LINEAR, "numpy.logspace": LOG,
          "numpy.geomspace": LOG, "torch.logspace": LOG}
# `np.arange(0.0005, 0.05, 0.001)` and `np.array(range(1, 100, 2)) / 1000`:
# evenly stepped grids (torch.arange is left out: it is position indices in models)
_ARRAYS_OF = frozenset({"numpy.array", "numpy.asarray"})
RNG_CONSTRUCTORS = frozenset({
    "numpy.random.default_rng", "numpy.random.RandomState", "numpy.random.Generator",
    "numpy.random.mtrand.RandomState", "random.Random",
})
# What a value passing through keeps: its distribution, scale and bounds.
_TRANSPARENT_CALLS = frozenset({
    "builtins.float", "builtins.round", "builtins.list", "builtins.tuple", "builtins.sorted",
    "numpy.array", "numpy.asarray", "numpy.round", "numpy.around", "torch.tensor",
    "torch.as_tensor", "ray.tune.sample_from", "flaml.tune.sample_from",
    # a grid handed to Ray Tune is searched value by value, as written
    "ray.tune.grid_search", "flaml.tune.grid_search",
})
_TRANSPARENT_BUILTINS = {"float", "round", "list", "tuple", "sorted"}
_TRANSPARENT_METHODS = frozenset({
    "item", "tolist", "rvs", "sample", "astype", "float", "double", "clone", "to",
    "numpy", "cpu", "round",
})
_EXP_CALLS = frozenset({"numpy.exp", "numpy.exp2", "math.exp", "torch.exp", "numpy.expm1", "math.expm1"})
_POW_CALLS = frozenset({"numpy.power", "numpy.float_power", "math.pow", "torch.pow", "builtins.pow"})
_EXP_METHODS = frozenset({"exp", "exp_", "exp2"})
_WANDB_SCALES = {
    "uniform": LINEAR, "q_uniform": LINEAR,
    "log_uniform_values": LOG, "q_log_uniform_values": LOG,
    "log_uniform": LOG, "q_log_uniform": LOG,
}
_NNI_SCALES = {"uniform": LINEAR, "quniform": LINEAR, "loguniform": LOG, "qloguniform": LOG}
# Kubeflow Katib's Python SDK (`katib.search.double`, `V1beta1ParameterSpec`) and
# the Kubeflow SDK's optimizer, which re-exports the same search helpers.
_KATIB_PACKAGES = ("kubeflow.katib", "kubeflow.optimizer", "kubeflow_katib_api")


_NUMBER = r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*"
_ORION_PRIOR = re.compile(r"\s*(?:orion\s*~\s*)?(uniform|loguniform)\(" + _NUMBER + "," + _NUMBER + r"(?:,[^)]*)?\)\s*$")


@dataclass(frozen=True)
class Binding:
    """A name a distribution feeds: `name` is classified, `shown` is quoted to users."""

    name: str
    how: str  # "suggest name", "label", "dict key", "variable", "keyword", "attribute", "loop variable"
    node: cst.CSTNode
    shown: str = ""

    @property
    def display(self) -> str:
        return self.shown or self.name


@dataclass
class Distribution:
    node: cst.CSTNode  # the call (or W&B dict) that defines it
    library: str  # optuna, ray, hyperopt, skopt, scipy, configspace, wandb, random, numpy, torch
    kind: str  # recogniser key, e.g. "optuna.suggest_float", "ray.uniform", "numpy.linspace"
    spelling: str  # how the source writes it, for messages ("" until `spelling()` asks)
    scale: str  # LINEAR, LOG or UNKNOWN_SCALE, after following the value to its use
    low: Optional[float]  # bounds of the value that reaches the hyperparameter
    high: Optional[float]
    bindings: List[Binding] = field(default_factory=list)
    scope: Tuple[cst.CSTNode, ...] = ()
    transformed: bool = False  # a linear map (`1 - x`, `lo + (hi-lo)*x`) sits between call and use
    wrapped: bool = False  # the call is the receiver of a method (`.item()`): edits need parentheses
    grid_count: Optional[float] = None
    step: bool = False  # quantised (q=, step=): no log spelling keeps the step in Optuna
    # For a call of a search helper (`suggest(trial, "lr", 1e-5, 0.1)`): the
    # helper's own search call, which no edit at this call may rewrite.
    through: Optional[cst.CSTNode] = None
    # `trial.suggest_uniform("beta1", *b1_range)`: the bounds come from the
    # splatted sequence, so no edit of this call's arguments is offered.
    splatted: bool = False
    # `partial(uniform, 0.85, 1.0)`: the library's call is never written out,
    # so no rename of it is offered either.
    partial: bool = False

    @property
    def is_grid(self) -> bool:
        return self.kind.endswith(("space", "range"))  # also finrange, numpy.arange, builtins.range


class _Scope:
    """Parents and name uses of one function (or the module or a class body),
    nested definitions excluded. Built only for scopes that hold a candidate;
    what names hold comes from the binder (ctx.binder)."""

    def __init__(self, root: cst.CSTNode, binder) -> None:
        self.root = root
        self.binder = binder
        self.parent: Dict[int, cst.CSTNode] = {}
        self.names: Dict[str, List[cst.Name]] = {}
        self._env: Optional[Dict[str, Any]] = None
        parent = self.parent
        stack = [root]
        while stack:
            node = stack.pop()
            for child in children(node):
                parent[id(child)] = node
                kind = type(child)
                if kind is cst.Name:
                    self.names.setdefault(child.value, []).append(child)
                elif kind is cst.FunctionDef or kind is cst.ClassDef:
                    continue
                stack.append(child)

    def env(self, constants) -> Dict[str, Any]:
        """The defaults of parameters the function never rebinds
        (`def objective(trial, lr_max=0.1)`): a search's bounds are read as if
        the function were called with its defaults. Locals are the binder's."""
        if self._env is None:
            env: Dict[str, Any] = {}
            if isinstance(self.root, cst.FunctionDef):
                bindings = self.binder.scope(self.root).bindings
                params = self.root.params
                for param in (*params.params, *params.kwonly_params, *params.posonly_params):
                    name = param.name.value
                    if param.default is not None and len(bindings.get(name, ())) == 1:
                        value = constants.value(param.default)
                        if value is not UNKNOWN:
                            env[name] = value
            self._env = env
        return self._env


def _tensor_noise(call: cst.Call) -> bool:
    """`torch.rand(shape, device=x.device)` / `torch.rand(x.size(0), 1)` is noise
    for a computation (DRAGAN's perturbation, a mixing coefficient), not the draw
    of a hyperparameter: a hyperparameter is not put on a device, nor shaped like
    a batch. (`torch.rand_like` is never a unit source for the same reason.)
    `torch.FloatTensor(batch, 1, 1, 1).uniform_(0, 1)` (WGAN-GP's `eta`) and
    `torch.rand(n, 1)`: a tensor of several dimensions is per-sample noise too."""
    if sum(1 for arg in call.args if arg.keyword is None and arg.star == "") > 1:
        return True
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "device":
            return True
        for node in walk(arg.value):
            if isinstance(node, cst.Attribute) and node.attr.value in ("size", "shape", "device"):
                return True
    return False


def _unsigned(node: cst.BaseExpression) -> cst.BaseExpression:
    return node.expression if isinstance(node, cst.UnaryOperation) else node


def _has_star(call: cst.Call) -> bool:
    return any(arg.star for arg in call.args)


def _string(node: Optional[cst.BaseExpression]) -> Optional[str]:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


_COMPUTATION_METHODS = frozenset({"forward", "backward"})


def _moved_to_a_device(ctx, fn: cst.FunctionDef, draw: cst.Call) -> bool:
    """`beta = torch.rand(1)` then `beta = beta.cuda()` in the same function:
    a tensor for the computation (a hyperparameter is never put on a GPU)."""
    name = ctx.binder.scope(fn).target_of(draw)
    return name is not None and any(
        isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in ("cuda", "to")
        and isinstance(node.func.value, cst.Name) and node.func.value.value == name
        for node in walk(fn.body))


class SearchSpaceAnalysis:
    """Every hyperparameter distribution in one file (see the module docstring)."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self._scopes: Dict[int, _Scope] = {}
        self._rng_names: Optional[set] = None
        self._called_in_forward: Optional[set] = None
        self._distributions: List[Distribution] = []
        self._across_files = False  # calls of other files' search helpers, added on first read
        self.drawn_in: Dict[int, List[Any]] = {}  # id(function) -> its recognised search sites
        imported = ctx.imports.names
        test_file = is_test_file(ctx.path)
        for site in ctx.calls:
            func = site.node.func
            if isinstance(func, cst.Attribute):
                last = func.attr.value
            elif isinstance(func, cst.Name):
                last = func.value
                if last not in _CANDIDATE_NAMES and last in imported:  # `from ray.tune import quniform as q`
                    last = imported[last].rsplit(".", 1)[-1]
            else:
                continue
            if last not in _CANDIDATE_NAMES:
                continue
            if test_file and site.function is not None and is_test_function(site.function, site.klass, test_file):
                continue  # a search space as the fixture of a test of the searcher
            if last == "BayesianOptimization":
                self._distributions.extend(self._bayes_opt_bounds(site))
                continue
            found = self._recognise(site)
            if found is not None:
                self._follow(found, site.scope)
                self._distributions.append(found)
                fn = site.function
                if fn is not None:
                    self.drawn_in.setdefault(id(fn), []).append(site)
        # Project functions that forward their parameters into a search (this
        # file's only: another file's helpers are asked for in `distributions`).
        from .search_helpers import SearchHelpers  # it builds on this module's classes

        self.helpers = SearchHelpers(self)
        self._distributions.extend(self.helpers.local_calls())
        # W&B sweep dicts are literals keyed by the string "distribution": a
        # text check keeps the walk they need off every other file.
        if '"distribution"' in ctx.text or "'distribution'" in ctx.text or (
                ("parameters" in ctx.text) and ("'min'" in ctx.text or '"min"' in ctx.text)) or \
                '"_type"' in ctx.text or "'_type'" in ctx.text:
            self._distributions.extend(self._wandb_dicts())
        # Orion's priors are strings (`space={"lr": "uniform(1e-5, 0.1)"}`), read
        # only in files that import orion.
        if "uniform(" in ctx.text and any(q.startswith("orion") for q in imported.values()):
            self._distributions.extend(self._orion_priors())

    @property
    def distributions(self) -> List[Distribution]:
        if not self._across_files:
            # Lazily, so that building this fact never builds another file's
            # in full: that one's helpers are its own local facts (no cycles).
            self._across_files = True
            self._distributions.extend(self.helpers.other_files_calls())
        return self._distributions

    # -- recognising calls ---------------------------------------------------
    def _recognise(self, site, env: Optional[Dict[str, Any]] = None,
                   callee: Optional[str] = None) -> Optional[Distribution]:
        """The distribution `site` draws. `env` gives values to the enclosing
        function's parameters and `callee` names the class a parameter holds,
        when a caller of a search helper asks (search_helpers.py)."""
        call = site.node
        if (callee or self.ctx.callee(call)) == "functools.partial":
            # `field(default_factory=partial(uniform, 0.85, 1.0))` (BSRT's Syne
            # Tune spaces): the call the partial makes, bound where it is written
            return self._partial_recognised(site, env)
        if _has_star(call):
            expanded = self._splat_expanded(site, env)
            if expanded is None:
                return None
            found = self._recognise(CallSite(expanded, site.scope), env, callee or self.ctx.callee(call))
            if found is not None:
                found.node, found.splatted = call, True
            return found
        ctx = self.ctx
        func = call.func
        qn = callee or ctx.callee(call) or ""
        last = func.attr.value if isinstance(func, cst.Attribute) else qn.rsplit(".", 1)[-1] if qn else func.value
        spelling = ""  # filled from the source only for a reported distribution
        number = self._number_fn(site, env)
        if last in _OPTUNA_METHODS and isinstance(func, cst.Attribute):
            return self._optuna_method(call, last, spelling, number, env)
        if qn.startswith("optuna.") and last in _OPTUNA_CLASSES:
            scale = _OPTUNA_CLASSES[last] or self._flag_scale(_arg(call, 2, "log"), LINEAR, env)
            step = last == "DiscreteUniformDistribution" or _arg(call, 3, "step") is not None
            return Distribution(call, "optuna", f"optuna.{last}", spelling, scale,
                                number(_arg(call, 0, "low")), number(_arg(call, 1, "high")), step=step)
        head = qn.rsplit(".", 1)[0] if "." in qn else ""
        if head in _SYNE_TUNE_PACKAGES:
            return self._syne_tune(call, last, spelling, number)
        if last in _TUNE_FUNCS and head in _TUNE_PACKAGES or (head.startswith("ray.tune.") and last in _TUNE_FUNCS):
            return Distribution(call, "ray", f"ray.{last}", spelling, _TUNE_FUNCS[last],
                                number(_arg(call, 0, "lower")), number(_arg(call, 1, "upper")),
                                step=last.startswith("q"))
        if last in _HYPEROPT_FUNCS and qn.startswith("hyperopt."):
            found = Distribution(call, "hyperopt", f"hyperopt.{last}", spelling, _HYPEROPT_FUNCS[last],
                                 number(_arg(call, 1, "low")), number(_arg(call, 2, "high")),
                                 step=last.startswith("q"))
            self._label(found, _arg(call, 0, "label"), "label", env)
            return found
        if last == "Real" and qn.startswith("skopt."):
            prior_arg = _arg(call, 2, "prior")
            prior = "uniform" if prior_arg is None else ctx.constants.value(prior_arg, env)
            scale = LINEAR if prior == "uniform" else LOG if prior == "log-uniform" else UNKNOWN_SCALE
            found = Distribution(call, "skopt", "skopt.Real", spelling, scale,
                                 number(_arg(call, 0, "low")), number(_arg(call, 1, "high")))
            self._label(found, _arg(call, 5, "name"), "name", env)
            return found
        if last in _SCIPY_FUNCS and qn.startswith("scipy.stats"):
            if last == "uniform":
                loc = _arg(call, 0, "loc")
                scale_arg = _arg(call, 1, "scale")
                lo = 0.0 if loc is None else number(loc)
                width = 1.0 if scale_arg is None else number(scale_arg)
                hi = lo + width if lo is not None and width is not None else None
                return Distribution(call, "scipy", "scipy.uniform", spelling, LINEAR, lo, hi)
            return Distribution(call, "scipy", f"scipy.{last}", spelling, LOG,
                                number(_arg(call, 0, "a")), number(_arg(call, 1, "b")))
        if qn.startswith("ConfigSpace.") and last in ("UniformFloatHyperparameter", "Float"):
            return self._configspace(call, last, spelling, number, env)
        if qn in _UNIFORM_FUNCS:
            lo = _arg(call, 0, "low" if qn.startswith("numpy") else "a")
            hi = _arg(call, 1, "high" if qn.startswith("numpy") else "b")
            return Distribution(call, "numpy" if qn.startswith("numpy") else "random", "uniform", spelling, LINEAR,
                                0.0 if lo is None else number(lo), 1.0 if hi is None else number(hi))
        if qn in _UNIT_FUNCS:
            if _tensor_noise(call) or (qn.startswith("torch.") and self._in_model_computation(site)):
                return None
            return Distribution(call, qn.split(".")[0], "unit", spelling, LINEAR, 0.0, 1.0)
        if qn in _TORCH_UNIFORM:
            return Distribution(call, "torch", "uniform", spelling, LINEAR,
                                number(_arg(call, 0, "low")), number(_arg(call, 1, "high")))
        if qn in _GRIDS:
            count = number(_arg(call, 2, "num" if qn.startswith("numpy") else "steps"))
            lo, hi = number(_arg(call, 0, "start")), number(_arg(call, 1, "stop" if qn.startswith("numpy") else "end"))
            return Distribution(call, qn.split(".")[0], qn, spelling, _GRIDS[qn], lo, hi, grid_count=count)
        if qn == "numpy.arange":
            return self._stepped_grid(call, "numpy.arange", number)
        if qn in _ARRAYS_OF and call.args and isinstance(call.args[0].value, cst.Call) and \
                isinstance(call.args[0].value.func, cst.Name) and call.args[0].value.func.value == "range" and \
                "range" not in self.ctx.imports.names:
            return self._stepped_grid(call.args[0].value, "builtins.range", number, node=call)
        if last == "uniform_" and isinstance(func, cst.Attribute) and not qn.startswith("torch.nn.init"):
            if isinstance(func.value, cst.Call) and _tensor_noise(func.value):
                return None
            lo, hi = _arg(call, 0, "from"), _arg(call, 1, "to")
            return Distribution(call, "torch", "uniform_", "Tensor.uniform_", LINEAR,
                                0.0 if lo is None else number(lo), 1.0 if hi is None else number(hi))
        if last in ("uniform", "random") and isinstance(func, cst.Attribute) and not qn and (
                self.is_rng(func.value) or self._sampler_argument(func.value, site.scope)):
            if last == "random":
                return Distribution(call, "numpy", "unit", spelling, LINEAR, 0.0, 1.0)
            lo, hi = _arg(call, 0, "low"), _arg(call, 1, "high")
            return Distribution(call, "numpy", "uniform", spelling, LINEAR,
                                0.0 if lo is None else number(lo), 1.0 if hi is None else number(hi))
        if qn.startswith(_KATIB_PACKAGES) and last in ("double", "V1beta1ParameterSpec"):
            return self._katib(call, last, number, env)
        if last == "dict" and isinstance(func, cst.Name) and not qn:
            fields = {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}
            return self._wandb(call, fields, number)
        return None

    def _bayes_opt_bounds(self, site) -> Iterator[Distribution]:
        """`BayesianOptimization(f, pbounds={"learning_rate": (0.0, 0.1), ...})`
        (fmfn/BayesianOptimization): every bound is searched on a linear scale,
        its random start points and its Gaussian process alike. The dict is
        written in the call or bound to a name the call reads."""
        call = site.node
        if not (self.ctx.callee(call) or "").startswith("bayes_opt."):
            return
        bounds = _arg(call, 1, "pbounds")
        if type(bounds) is cst.Name:
            values = self.ctx.binder.values_at(bounds.value, site.function, call)
            bounds = values[0].value if len(values) == 1 else None
        if type(bounds) is not cst.Dict:
            return
        number = self._number_fn(site)
        for element in bounds.elements:
            key = _string(element.key) if isinstance(element, cst.DictElement) else None
            pair = element.value if key else None
            if type(pair) not in (cst.Tuple, cst.List) or len(pair.elements) != 2:
                continue
            low, high = (number(e.value) for e in pair.elements)
            found = Distribution(pair, "bayes_opt", "bayes_opt.pbounds", "BayesianOptimization pbounds", LINEAR,
                                 low, high, bindings=[Binding(key, "dict key", element.key)], scope=tuple(site.scope))
            yield found

    def _katib(self, call, last, number, env) -> Optional[Distribution]:
        """`katib.search.double(min=1e-4, max=0.1)` (uniform, as the SDK's
        docstring says) and `V1beta1ParameterSpec(name="lr", parameter_type="double",
        feasible_space=V1beta1FeasibleSpace(min="0.01", max="0.3"))`, whose bounds
        are strings as in the Experiment YAML. A `distribution` (Katib >= 0.17)
        sets the scale; one this file cannot read leaves it unknown."""
        def bound(node):
            text = _string(node)
            if text is not None:
                try:
                    return float(text)
                except ValueError:
                    return None
            return number(node)

        space = call
        if last == "V1beta1ParameterSpec":
            if self.ctx.constants.value(_arg(call, 99, "parameter_type"), env) != "double":
                return None
            space = _arg(call, 99, "feasible_space")
            if type(space) is not cst.Call or not (self.ctx.callee(space) or "").endswith("V1beta1FeasibleSpace"):
                return None
        low, high = _arg(space, 0 if space is call else 99, "min"), _arg(space, 1 if space is call else 99, "max")
        if low is None or high is None:
            return None
        scale = LINEAR
        distribution = _arg(space, 99, "distribution")
        if distribution is not None:
            spelled = _string(distribution)
            if spelled is None and type(distribution) is cst.Attribute:
                spelled = distribution.attr.value
            spelled = (spelled or "").lower().replace("_", "")
            scale = LOG if spelled.startswith("log") else LINEAR if spelled == "uniform" else UNKNOWN_SCALE
        kind = "katib.search.double" if space is call else "katib.V1beta1FeasibleSpace"
        spelling = ("katib.search.double(min, max), which Katib samples uniformly" if space is call
                    else "feasible_space min/max without a distribution, which Katib samples uniformly")
        if distribution is not None:
            spelling = f"distribution {self.ctx.code(distribution)}"
        found = Distribution(call, "katib", kind, spelling, scale, bound(low), bound(high))
        if last == "V1beta1ParameterSpec":
            self._label(found, _arg(call, 0, "name"), "name", env)
        return found

    def _syne_tune(self, call, last, spelling, number) -> Optional[Distribution]:
        lo, hi = number(_arg(call, 0, "lower")), number(_arg(call, 1, "upper"))
        if last in ("uniform", "loguniform"):
            return Distribution(call, "syne_tune", f"syne_tune.{last}", spelling, _TUNE_FUNCS[last], lo, hi)
        if last in _SYNE_TUNE_GRIDS:
            return Distribution(call, "syne_tune", f"syne_tune.{last}", spelling, _SYNE_TUNE_GRIDS[last], lo, hi,
                                grid_count=number(_arg(call, 2, "size")))
        return None

    def _stepped_grid(self, call: cst.Call, kind: str, number, node=None) -> Optional[Distribution]:
        """`arange(start, stop, step)` / `range(...)`: the values from start in
        steps below stop; None when a bound is not known."""
        if any(arg.keyword is not None or arg.star for arg in call.args) or not 1 <= len(call.args) <= 3:
            return None
        values = [number(arg.value) for arg in call.args]
        if any(v is None for v in values):
            return None
        start, stop, step = (0.0, values[0], 1.0) if len(values) == 1 else \
            (values[0], values[1], values[2] if len(values) == 3 else 1.0)
        if step <= 0 or stop <= start:
            return None
        count = math.ceil((stop - start) / step)
        if count < 2:
            return None
        spelling = f"{self.ctx.code(node.func)}(range(...))" if node is not None else ""
        return Distribution(node or call, "numpy", kind, spelling, LINEAR, start, start + step * (count - 1),
                            grid_count=count)

    def _partial_recognised(self, site, env: Optional[Dict[str, Any]]) -> Optional[Distribution]:
        call = site.node
        if not call.args or call.args[0].keyword is not None or call.args[0].star:
            return None
        inner = call.args[0].value
        inner_qn = self.ctx.qualified_name(inner) if isinstance(inner, (cst.Name, cst.Attribute)) else None
        if not inner_qn or inner_qn == "functools.partial":
            return None
        found = self._recognise(CallSite(cst.Call(func=inner, args=call.args[1:]), site.scope), env, inner_qn)
        if found is not None:
            found.node, found.partial = call, True
            found.spelling = f"partial({self.ctx.code(inner)}, ...)"
        return found

    def _splat_expanded(self, site, env: Optional[Dict[str, Any]]) -> Optional[cst.Call]:
        """The call with one `*bounds` argument written out, when `bounds`
        is a known sequence of numbers (animals-10's `*b1_range`, a tuple
        read from a config dict); None otherwise."""
        call = site.node
        stars = [arg for arg in call.args if arg.star]
        if len(stars) != 1 or stars[0].star != "*":
            return None
        constants = self.ctx.constants
        value = constants.value(stars[0].value, env)
        if value is UNKNOWN and site.scope:
            value = constants.value(stars[0].value, {**self._scope_for(site.scope).env(constants), **(env or {})})
        if not isinstance(value, (tuple, list)) or not 1 <= len(value) <= 4:
            return None
        items = [constants.value(v) if isinstance(v, cst.CSTNode) else v for v in value]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
            return None
        args: List[cst.Arg] = []
        for arg in call.args:
            if arg is stars[0]:
                args += [cst.Arg(cst.parse_expression(repr(v))) for v in items]
            else:
                args.append(arg)
        return call.with_changes(args=args)

    def _number_fn(self, site, env: Optional[Dict[str, Any]] = None):
        """A bound's value: module-level knowledge first, then the enclosing
        function's parameter defaults and locals (built only when needed).
        `env`, when given, holds what a caller passes for the parameters."""
        constants = self.ctx.constants

        def number(node: Optional[cst.BaseExpression]) -> Optional[float]:
            if node is None:
                return None
            value = constants.number(node, env)
            if value is None and site.scope:
                if env:
                    return constants.number(node, {**self._scope_for(site.scope).env(constants), **env})
                value = constants.number(node, self._scope_for(site.scope).env(constants))
            return value

        return number

    def _flag_scale(self, node: Optional[cst.BaseExpression], default: str,
                    env: Optional[Dict[str, Any]] = None) -> str:
        if node is None:
            return default
        value = self.ctx.constants.value(node, env)
        if value is True:
            return LOG
        if value is False:
            return LINEAR
        return UNKNOWN_SCALE

    def _label(self, found: Distribution, node: Optional[cst.BaseExpression], how: str,
               env: Optional[Dict[str, Any]] = None) -> None:
        text = _string(node)
        if text is None and env and node is not None:
            value = self.ctx.constants.value(node, env)  # a helper's `name` parameter
            text = value if isinstance(value, str) else None
        if text:
            found.bindings.append(Binding(text, how, node))

    def _optuna_method(self, call, method, spelling, number, env) -> Distribution:
        scale, step = _OPTUNA_METHODS[method]
        if scale is None:  # suggest_float(name, low, high, *, step=None, log=False)
            scale = self._flag_scale(_arg(call, 99, "log"), LINEAR, env)
            step_arg = _arg(call, 99, "step")
            step = step_arg is not None and not (isinstance(step_arg, cst.Name) and step_arg.value == "None")
        found = Distribution(call, "optuna", f"optuna.{method}", spelling, scale,
                             number(_arg(call, 1, "low")), number(_arg(call, 2, "high")), step=step)
        self._label(found, _arg(call, 0, "name"), "suggest name", env)
        return found

    def _configspace(self, call, last, spelling, number, env) -> Distribution:
        scale = self._flag_scale(_arg(call, 99, "log"), LINEAR, env)
        if last == "Float":
            bounds = self.ctx.constants.value(_arg(call, 1, "bounds"), env)
            lo = hi = None
            if isinstance(bounds, (tuple, list)) and len(bounds) == 2:
                lo, hi = (float(b) if isinstance(b, (int, float)) and not isinstance(b, bool) else None for b in bounds)
            distribution = _arg(call, 99, "distribution")
            if distribution is not None and not (
                isinstance(distribution, cst.Call) and (self.ctx.callee(distribution) or "").endswith(".Uniform")
            ):
                scale = UNKNOWN_SCALE
        else:
            lo, hi = number(_arg(call, 1, "lower")), number(_arg(call, 2, "upper"))
            # Positional `log` sits at 4 or 5 depending on the ConfigSpace version.
            for index in (4, 5):
                flag = _arg(call, index, "")
                if isinstance(flag, cst.Name) and flag.value == "True":
                    scale = LOG
        found = Distribution(call, "configspace", f"configspace.{last}", spelling, scale, lo, hi)
        self._label(found, _arg(call, 0, "name"), "name", env)
        return found

    def _wandb(self, node, fields: Dict[str, cst.BaseExpression], number) -> Optional[Distribution]:
        if "distribution" not in fields:
            return self._wandb_implicit(node, fields, number)
        kind = _string(fields.get("distribution"))
        if kind not in _WANDB_SCALES or "min" not in fields or "max" not in fields:
            return None
        return Distribution(node, "wandb", f"wandb.{kind}", f'"distribution": "{kind}"', _WANDB_SCALES[kind],
                            number(fields["min"]), number(fields["max"]), step=kind.startswith("q_"))

    @staticmethod
    def _wandb_implicit(node, fields: Dict[str, cst.BaseExpression], number) -> Optional[Distribution]:
        """`{"min": 1e-4, "max": 0.1}` in a sweep's `parameters`: W&B samples it
        uniformly (int_uniform when both bounds are integers: not a rate)."""
        if "min" not in fields or "max" not in fields or "values" in fields or "value" in fields:
            return None
        low, high = fields["min"], fields["max"]
        if isinstance(_unsigned(low), cst.Integer) and isinstance(_unsigned(high), cst.Integer):
            return None
        return Distribution(node, "wandb", "wandb.uniform", '"min"/"max" with no "distribution", which W&B samples uniformly',
                            LINEAR, number(low), number(high))

    @staticmethod
    def _nni(node, fields: Dict[str, cst.BaseExpression], number) -> Optional[Distribution]:
        """`{"_type": "uniform", "_value": [0.0001, 0.1]}` in a Python search
        space (nni's quick-start `main.py`), as in its JSON/YAML files."""
        kind = _string(fields["_type"])
        bounds = fields["_value"]
        if kind not in _NNI_SCALES or not isinstance(bounds, (cst.List, cst.Tuple)) or len(bounds.elements) < 2:
            return None
        low, high = (number(e.value) for e in bounds.elements[:2])
        return Distribution(node, "nni", f"nni.{kind}", f'"_type": "{kind}"', _NNI_SCALES[kind], low, high,
                            step=kind.startswith("q"))

    def _wandb_dicts(self) -> Iterator[Distribution]:
        """Literal `{"distribution": "uniform", "min": .., "max": ..}` dicts, bound
        to the key they sit under (`"parameters": {"lr": {...}}`)."""
        constants = self.ctx.constants
        swept: Set[int] = set()  # the dicts directly under a `"parameters"` key
        for node in walk(self.ctx.tree):
            if type(node) is not cst.DictElement or type(node.value) is not cst.Dict:
                continue
            if _string(node.key) == "parameters":
                swept.update(id(e.value) for e in node.value.elements if isinstance(e, cst.DictElement))
            fields: Dict[str, cst.BaseExpression] = {}
            for element in node.value.elements:
                if isinstance(element, cst.DictElement):
                    key = _string(element.key)
                    if key:
                        fields[key] = element.value
            if "_type" in fields and "_value" in fields:
                found = self._nni(node.value, fields, constants.number)  # NNI's search-space spelling
            elif "distribution" not in fields and id(node.value) not in swept:
                continue
            else:
                found = self._wandb(node.value, fields, constants.number)
            if found is None:
                continue
            self._label(found, node.key, "dict key")
            yield found

    def _orion_priors(self) -> Iterator[Distribution]:
        """Epistimio/orion's search space: a dict whose values are prior strings,
        `{"learning_rate": "uniform(1e-5, 0.1)", "momentum": "uniform(0, 0.9)"}`
        (also `"orion~uniform(...)"`), handed to `build_experiment(space=...)`.
        `uniform` is linear, `loguniform` log; a `discrete=True` prior is an
        integer search and is left out."""
        for node in walk(self.ctx.tree):
            if type(node) is not cst.DictElement or type(node.value) is not cst.SimpleString:
                continue
            key = _string(node.key)
            text = node.value.evaluated_value
            if not key or not isinstance(text, str):
                continue
            match = _ORION_PRIOR.match(text)
            if match is None or "discrete=True" in text.replace(" ", ""):
                continue
            kind, low, high = match.group(1), float(match.group(2)), float(match.group(3))
            found = Distribution(node.value, "orion", f"orion.{kind}", f'the Orion prior "{text}"',
                                 LOG if kind == "loguniform" else LINEAR, low, high)
            found.bindings.append(Binding(key, "dict key", node.key))
            yield found

    def _in_model_computation(self, site) -> bool:
        """A torch draw inside a module's (or autograd Function's) `forward` /
        `backward`, or in a function this file's forwards call: shake-shake's
        `alpha, beta = torch.rand(1), torch.rand(1)` mix branches at every step,
        a tensor of the computation, not a hyperparameter drawn for a search."""
        fn = site.function
        if fn is None:
            return False
        if fn.name.value in _COMPUTATION_METHODS or _moved_to_a_device(self.ctx, fn, site.node):
            return True
        if self._called_in_forward is None:
            self._called_in_forward = {
                other.node.func.value for other in self.ctx.calls
                if other.function is not None and other.function.name.value in _COMPUTATION_METHODS
                and isinstance(other.node.func, cst.Name)}
        return fn.name.value in self._called_in_forward

    def is_rng(self, receiver: cst.BaseExpression) -> bool:
        """`np.random.default_rng(0).uniform`, or `rng.uniform` / `self.rng.uniform`
        where that name is assigned a NumPy or `random` generator in this file."""
        if isinstance(receiver, cst.Call):
            return self.ctx.callee(receiver) in RNG_CONSTRUCTORS
        name = receiver.attr.value if isinstance(receiver, cst.Attribute) else receiver.value if isinstance(receiver, cst.Name) else None
        if name is None:
            return False
        if self._rng_names is None:
            self._rng_names = set()
            for site in self.ctx.calls_to(RNG_CONSTRUCTORS):
                scope = self._scope_for(site.scope)
                parent = scope.parent.get(id(site.node))
                if isinstance(parent, cst.Assign):
                    for target in parent.targets:
                        t = target.target
                        if isinstance(t, cst.Name):
                            self._rng_names.add(t.value)
                        elif isinstance(t, cst.Attribute):
                            self._rng_names.add(t.attr.value)
        return name in self._rng_names

    def _sampler_argument(self, receiver: cst.BaseExpression, scope_nodes) -> bool:
        """`r` in DomainBed's registry, `_hparam('ema', 0.95, lambda r: r.uniform(0.9, 0.99))`:
        the parameter of a lambda passed to a function of this file that calls
        it with a generator (`random_val_fn(np.random.RandomState(seed))`)."""
        if not isinstance(receiver, cst.Name):
            return False
        scope = self._scope_for(scope_nodes)
        lam = scope.parent.get(id(receiver))
        while lam is not None and not isinstance(lam, cst.Lambda):
            lam = scope.parent.get(id(lam))
        if lam is None or not any(p.name.value == receiver.value for p in lam.params.params):
            return False
        arg = scope.parent.get(id(lam))
        call = scope.parent.get(id(arg)) if isinstance(arg, cst.Arg) else None
        if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Name) or arg.star:
            return False
        owner = scope_nodes[-1] if scope_nodes else None
        _, bindings = self.ctx.binder.lookup(call.func.value, owner, call)
        fn = next((b.node for b in bindings if b.kind == "def"), None)
        if not isinstance(fn, cst.FunctionDef):
            return False
        if arg.keyword is not None:
            param = arg.keyword.value
        else:
            index = [a for a in call.args if a.keyword is None].index(arg)
            params = (*fn.params.posonly_params, *fn.params.params)
            if index >= len(params):
                return False
            param = params[index].name.value
        return any(isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == param
                   and node.args and self.is_rng(node.args[0].value) for node in walk(fn.body))

    # -- following the value to the hyperparameter --------------------------------
    def _scope_for(self, scope) -> _Scope:
        root = scope[-1] if scope else self.ctx.tree
        found = self._scopes.get(id(root))
        if found is None:
            found = self._scopes[id(root)] = _Scope(root, self.ctx.binder)
        return found

    def _follow(self, found: Distribution, scope_nodes) -> None:
        found.scope = tuple(scope_nodes)
        scope = self._scope_for(scope_nodes)
        env = scope.env(self.ctx.constants)
        top, parent, affine, status, wrapped = self._climb(found.node, scope, env)
        found.wrapped = wrapped
        if status == "log":
            found.scale = LOG
            return
        if status == "opaque":
            found.scale = UNKNOWN_SCALE
            return
        if affine != (0.0, 1.0):
            found.transformed = True
            found.low, found.high = _apply(affine, found.low, found.high)
        for binding, variable in self._bind(top, parent, scope):
            found.bindings.append(binding)
            if variable is not None and self._used_as_exponent(variable, binding.node, scope, env, found):
                found.scale = LOG
                return

    def _climb(self, node, scope: _Scope, env):
        """Walk up from a distribution through value-preserving wrappers and linear
        maps. Returns (top, its parent, (a, b) with value = a + b*x, status, wrapped)."""
        a, b = 0.0, 1.0
        wrapped = False
        current = node
        constants = self.ctx.constants
        # Names are looked up where the draw is (`span = hi - lo` a line above it).
        where = (scope.root if isinstance(scope.root, cst.FunctionDef) else None, node) \
            if isinstance(node, cst.Call) else None

        def number(expr, env):
            if where is None:
                return constants.number(expr, env)
            value = constants.value(expr, env, where=where)
            return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        while True:
            parent = scope.parent.get(id(current))
            kind = type(parent)
            if kind is cst.BinaryOperation:
                op = type(parent.operator)
                if op is cst.Power:
                    return current, parent, (a, b), ("log" if parent.right is current else "opaque"), wrapped
                other = parent.right if parent.left is current else parent.left
                k = number(other, env)
                if k is None:
                    return current, parent, (a, b), "opaque", wrapped
                if op is cst.Add:
                    a += k
                elif op is cst.Subtract:
                    if parent.left is current:
                        a -= k
                    else:
                        a, b = k - a, -b
                elif op is cst.Multiply:
                    a, b = a * k, b * k
                elif op is cst.Divide and parent.left is current and k != 0:
                    a, b = a / k, b / k
                else:
                    return current, parent, (a, b), "opaque", wrapped
                current = parent
            elif kind is cst.UnaryOperation:
                if isinstance(parent.operator, cst.Minus):
                    a, b = -a, -b
                elif not isinstance(parent.operator, cst.Plus):
                    return current, parent, (a, b), "opaque", wrapped
                current = parent
            elif kind is cst.Arg:
                call = scope.parent.get(id(parent))
                if not isinstance(call, cst.Call) or call.func is current:
                    return current, parent, (a, b), "ok", wrapped
                qn = self.ctx.callee(call)
                if qn is None and isinstance(call.func, cst.Name) and call.func.value in ("float", "round", "list", "tuple", "sorted", "pow"):
                    qn = f"builtins.{call.func.value}"
                first = call.args and call.args[0] is parent
                if qn in _EXP_CALLS and first:
                    return current, parent, (a, b), "log", wrapped
                if qn in _POW_CALLS and len(call.args) > 1 and call.args[1] is parent:
                    return current, parent, (a, b), "log", wrapped
                if qn in _TRANSPARENT_CALLS and first or \
                        qn == "dataclasses.field" and parent.keyword is not None and \
                        parent.keyword.value in ("default", "default_factory"):
                    current = call  # `field(default_factory=...)`: the field's value
                    continue
                return current, parent, (a, b), "ok", wrapped
            elif kind is cst.Attribute and parent.value is current:
                grand = scope.parent.get(id(parent))
                if not (isinstance(grand, cst.Call) and grand.func is parent):
                    return current, parent, (a, b), "opaque", wrapped
                if parent.attr.value in _EXP_METHODS:
                    return current, parent, (a, b), "log", wrapped
                if parent.attr.value not in _TRANSPARENT_METHODS:
                    return current, parent, (a, b), "opaque", wrapped
                wrapped = True
                current = grand
            elif kind is cst.Lambda:
                current = parent
            else:
                return current, parent, (a, b), "ok", wrapped

    def _bind(self, top, parent, scope: _Scope) -> Iterator[Tuple[Binding, Optional[str]]]:
        """(binding, variable name when it is a local to follow) for the context
        `top` sits in."""
        kind = type(parent)
        if kind is cst.Arg:
            call = scope.parent.get(id(parent))
            if isinstance(top, cst.Lambda) and isinstance(call, cst.Call):
                # A sampler handed to a registry with its name: `_hparam('ema', 0.95, lambda r: ...)`.
                named = next((a for a in call.args if a is not parent and _string(a.value)), None)
                if named is not None:
                    yield Binding(_string(named.value), "name", named.value), None
                    return
            if parent.keyword is not None:
                yield Binding(parent.keyword.value, "keyword", parent), None
                return
            qn = self.ctx.callee(call) if isinstance(call, cst.Call) else None
            if qn and qn.startswith("torch.optim.") and len(call.args) > 1 and call.args[1] is parent:
                yield Binding("lr", "keyword", parent), None
        elif kind is cst.DictElement and parent.value is top:
            key = _string(parent.key)
            if key:
                yield Binding(key, "dict key", parent.key), None
        elif kind is cst.Assign:
            for target in parent.targets:
                yield from self._target(target.target, "variable")
        elif kind is cst.AnnAssign and parent.value is top:
            yield from self._target(parent.target, "variable")
        elif (kind is cst.For or kind is cst.CompFor) and parent.iter is top:
            yield from self._target(parent.target, "loop variable")
        elif kind is cst.Element:
            container = scope.parent.get(id(parent))
            if not isinstance(container, (cst.Tuple, cst.List)):
                return
            index = next((i for i, e in enumerate(container.elements) if e is parent), -1)
            holder = scope.parent.get(id(container))
            if isinstance(holder, cst.Arg) and holder.keyword is not None:
                name = holder.keyword.value
                yield Binding(name, "keyword", holder, f"{name}[{index}]"), None
            elif isinstance(holder, cst.Assign):
                for target in holder.targets:
                    t = target.target
                    if isinstance(t, (cst.Tuple, cst.List)) and len(t.elements) == len(container.elements):
                        yield from self._target(t.elements[index].value, "variable")
            elif isinstance(holder, cst.DictElement) and holder.value is container:
                key = _string(holder.key)
                if key:
                    yield Binding(key, "dict key", holder.key, f"{key}[{index}]"), None

    def _target(self, target, how) -> Iterator[Tuple[Binding, Optional[str]]]:
        if isinstance(target, cst.Name):
            yield Binding(target.value, how, target), target.value
        elif isinstance(target, cst.Attribute):
            yield Binding(target.attr.value, "attribute", target), None
        elif isinstance(target, cst.Subscript) and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
            key = _string(target.slice[0].slice.value)
            if key:
                yield Binding(key, "dict key", target), None

    def _used_as_exponent(self, variable: str, defined_at, scope: _Scope, env, found: Distribution) -> bool:
        """Follow a local variable to its uses: an exponent makes the sample log
        scale; a keyword, dict key or attribute adds the name it feeds."""
        for use in scope.names.get(variable, ()):
            if use is defined_at:
                continue
            parent = scope.parent.get(id(use))
            if isinstance(parent, (cst.AssignTarget, cst.Param)) or (
                isinstance(parent, cst.Attribute) and parent.attr is use
            ) or (isinstance(parent, cst.Arg) and parent.keyword is use) or (
                isinstance(parent, (cst.For, cst.CompFor)) and parent.target is use
            ):
                continue
            top, use_parent, affine, status, _ = self._climb(use, scope, env)
            if status == "log":
                return True
            if status != "ok":
                continue
            for binding, _ in self._bind(top, use_parent, scope):
                if binding.name != variable:
                    found.bindings.append(Binding(binding.name, binding.how, binding.node, binding.shown))
        return False


def spelling(ctx, dist: Distribution) -> str:
    """How the source spells the distribution (`trial.suggest_float`), for messages."""
    if not dist.spelling and isinstance(dist.node, cst.Call):
        dist.spelling = ctx.code(dist.node.func)
    return f"{dist.spelling}, mapped linearly" if dist.transformed else dist.spelling


def _apply(affine: Tuple[float, float], lo: Optional[float], hi: Optional[float]):
    if lo is None or hi is None:
        return None, None
    a, b = affine
    x, y = a + b * lo, a + b * hi
    return (x, y) if x <= y else (y, x)


def top_decade_share(lo: float, hi: float) -> float:
    """Share of U[lo, hi] samples in [hi/10, hi] (HPL003)."""
    return (hi - max(lo, hi / 10)) / (hi - lo)


def near_one_shares(lo: float, hi: float, u_low: Optional[float] = None) -> Tuple[float, float]:
    """For β ~ U[lo, hi]: (share whose 1-β lies in the decade nearest 1-hi,
    i.e. β >= 1 - 10(1-hi); share whose 1-β lies in the decade nearest 1-lo,
    i.e. β <= 1 - (1-lo)/10) (HPL004). A range that reaches β = 1 passes the
    smallest 1-β it is measured against as `u_low` (default 1 - hi)."""
    width = hi - lo
    u_low = 1 - hi if u_low is None else u_low
    near = (hi - max(lo, 1 - 10 * u_low)) / width
    far = (min(hi, 1 - (1 - lo) / 10) - lo) / width
    return near, far


def decades(lo: float, hi: float) -> float:
    return math.inf if lo <= 0 else math.log10(hi / lo)

