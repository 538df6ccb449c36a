"""Rewrites of a linear-scale distribution into the same library's log spelling
(HPL003, safe when the lower bound is positive) and of a near-1 β into
`1 - 10**r` (HPL004, unsafe). Each builder edits only the distribution call
(or the W&B `"distribution"` string) and returns None when the file gives no
way to spell the rewrite (a needed name is not imported, a step would be lost).
"""

from __future__ import annotations

import math
from typing import Optional

import libcst as cst

from ..analysis.arguments import call_argument as _arg
from ..analysis.search_space import Distribution
from ..findings import FixSafety
from .base import FixSpec

_NO_SPACE = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))

# What each HPL003 message recommends, by recogniser kind.
LOG_ADVICE = {
    "optuna.suggest_float": "Add `log=True`.",
    "optuna.suggest_uniform": "Use `suggest_float(name, low, high, log=True)`.",
    "optuna.suggest_discrete_uniform": "Use `suggest_float(name, low, high, log=True)` (a log scale takes no step).",
    "optuna.FloatDistribution": "Add `log=True`.",
    "optuna.UniformDistribution": "Use `FloatDistribution(low, high, log=True)`.",
    "optuna.DiscreteUniformDistribution": "Use `FloatDistribution(low, high, log=True)`.",
    "ray.uniform": "Use `tune.loguniform`.",
    "ray.quniform": "Use `tune.qloguniform`.",
    "syne_tune.uniform": "Use `loguniform(lower, upper)` from `syne_tune.config_space`.",
    "syne_tune.finrange": "Use `logfinrange(lower, upper, size)` from `syne_tune.config_space`.",
    "hyperopt.uniform": "Use `hp.loguniform(label, np.log(low), np.log(high))` (its bounds are exponents).",
    "hyperopt.quniform": "Use `hp.qloguniform(label, np.log(low), np.log(high), q)`.",
    "skopt.Real": 'Use `prior="log-uniform"`.',
    "scipy.uniform": "Use `scipy.stats.loguniform(low, high)`.",
    "configspace.UniformFloatHyperparameter": "Add `log=True`.",
    "configspace.Float": "Add `log=True`.",
    "wandb.uniform": 'Use `"distribution": "log_uniform_values"`.',
    "wandb.q_uniform": 'Use `"distribution": "q_log_uniform_values"`.',
    "wandb.int_uniform": 'Use `"distribution": "q_log_uniform_values"` with `"q": 1`.',
    "wandb.values": "Use log-spaced values (each a constant factor above the last, e.g. 1e-4, 1e-3, 1e-2).",
    "hydra.interval": "Use `tag(log, interval(low, high))`.",
    "hydra.range": "Use `tag(log, range(low, high))`.",
    "hydra.float": "Add `log: true`.",
    "hydra.choice": "Use log-spaced values (each a constant factor above the last, e.g. 1e-4, 1e-3, 1e-2).",
    "nni.uniform": 'Use `"_type": "loguniform"`.',
    "nni.quniform": 'Use `"_type": "qloguniform"`.',
    "nni.choice": "Use log-spaced values (each a constant factor above the last, e.g. 1e-4, 1e-3, 1e-2).",
    "katib.search.double": 'Search the exponent instead (`katib.search.double(min=log10(low), max=log10(high))`) and use `10 ** value` in the trial.',
    "katib.V1beta1FeasibleSpace": 'Add `distribution="logUniform"` (Katib >= 0.17) to the `V1beta1FeasibleSpace`.',
    "orion.uniform": 'Use the prior `"loguniform(low, high)"`.',
    "bayes_opt.pbounds": "Bound the exponent instead (`'log_lr': (log10(low), log10(high))`) and use `10 ** log_lr`.",
    "numpy.linspace": "Use `np.geomspace(low, high, n)`.",
    "numpy.arange": "Use `np.geomspace(low, high, n)`.",
    "builtins.range": "Use `np.geomspace(low, high, n)`.",
    "torch.linspace": "Use `torch.logspace(log10(low), log10(high), steps)`.",
}
DEFAULT_ADVICE = "Sample the exponent instead: `10 ** uniform(log10(low), log10(high))`."


def advice(dist: Distribution) -> str:
    if dist.low is not None and dist.low <= 0:
        return "Sample it log-uniformly from a positive lower bound (a log scale cannot start at 0)."
    return LOG_ADVICE.get(dist.kind, DEFAULT_ADVICE)


def _number_text(value: float) -> str:
    """A float as source text, without the noise of `1 - 0.999`."""
    value = float(f"{value:.12g}")
    return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _local_name(ctx, qualnames) -> Optional[str]:
    """The local name this file binds to one of `qualnames` (first match wins)."""
    for wanted in qualnames:
        for local, qualname in ctx.imports.names.items():
            if qualname == wanted:
                return local
    return None


def _renamed(ctx, call: cst.Call, new_last: str) -> Optional[cst.BaseExpression]:
    """`tune.uniform` -> `tune.loguniform`; a bare imported name only when the
    new one is imported too."""
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.with_changes(attr=cst.Name(new_last))
    qualname = ctx.callee(call)
    if not qualname:
        return None
    local = _local_name(ctx, [qualname.rsplit(".", 1)[0] + "." + new_last])
    return cst.Name(local) if local else None


def _set_arg(call: cst.Call, index: int, keyword: str, value: cst.BaseExpression) -> cst.Call:
    """Replace the argument at `index`/`keyword`, or append `keyword=value`."""
    args = list(call.args)
    position = 0
    for i, arg in enumerate(args):
        if arg.keyword is None:
            if position == index:
                args[i] = arg.with_changes(value=value)
                return call.with_changes(args=args)
            position += 1
        elif arg.keyword.value == keyword:
            args[i] = arg.with_changes(value=value)
            return call.with_changes(args=args)
    if args and args[-1].comma is cst.MaybeSentinel.DEFAULT:
        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    args.append(cst.Arg(keyword=cst.Name(keyword), value=value, equal=_NO_SPACE))
    return call.with_changes(args=args)


def _exponent(ctx, value: float, node: cst.BaseExpression) -> Optional[str]:
    """log10 of a bound as source: an integer literal when exact, else `math.log10(...)`."""
    exponent = math.log10(value)
    if abs(exponent - round(exponent)) < 1e-9:
        return str(int(round(exponent)))
    module = _local_name(ctx, ["math", "numpy"])
    return f"{module}.log10({ctx.code(node)})" if module else None


def _exponent_bounds(ctx, dist: Distribution, call: cst.Call, low, high) -> Optional[cst.Call]:
    """The call with both bounds replaced by their base-10 exponents."""
    lo_node, hi_node = _arg(call, *low), _arg(call, *high)
    if lo_node is None or hi_node is None:
        return None
    lo_text, hi_text = _exponent(ctx, dist.low, lo_node), _exponent(ctx, dist.high, hi_node)
    if not (lo_text and hi_text):
        return None
    return _set_arg(_set_arg(call, *low, cst.parse_expression(lo_text)), *high, cst.parse_expression(hi_text))


def _parens(dist: Distribution, text: str) -> str:
    return f"({text})" if dist.wrapped else text


def log_fix(ctx, dist: Distribution) -> Optional[FixSpec]:
    """HPL003's safe rewrite to the same library's log-uniform spelling."""
    if dist.through is not None:
        return None  # a search helper's call: the scale is the helper's to change
    if dist.splatted or dist.partial:
        return None  # `*bounds` / `partial(...)`: no written call spells the bounds
    if dist.transformed or dist.low is None or dist.high is None or dist.low <= 0:
        return None
    call = dist.node
    kind = dist.kind
    true = cst.Name("True")
    new: Optional[cst.CSTNode] = None
    node: cst.CSTNode = call
    if kind in ("optuna.suggest_float", "optuna.FloatDistribution") and not dist.step:
        new = _set_arg(call, 99, "log", true)
    elif kind == "optuna.suggest_uniform":
        new = _set_arg(call.with_changes(func=call.func.with_changes(attr=cst.Name("suggest_float"))), 99, "log", true)
    elif kind == "optuna.UniformDistribution":
        func = _renamed(ctx, call, "LogUniformDistribution")
        new = call.with_changes(func=func) if func is not None else None
    elif kind in ("ray.uniform", "ray.quniform"):
        func = _renamed(ctx, call, kind.replace("ray.", "").replace("uniform", "loguniform"))
        new = call.with_changes(func=func) if func is not None else None
    elif kind in ("syne_tune.uniform", "syne_tune.finrange"):
        func = _renamed(ctx, call, "loguniform" if kind == "syne_tune.uniform" else "logfinrange")
        new = call.with_changes(func=func) if func is not None else None
    elif kind in ("hyperopt.uniform", "hyperopt.quniform"):
        func = _renamed(ctx, call, kind.replace("hyperopt.", "").replace("uniform", "loguniform"))
        log = _local_name(ctx, ["numpy", "math"])
        log = f"{log}.log" if log else _local_name(ctx, ["numpy.log", "math.log"])
        if func is not None and log:
            new = call.with_changes(func=func)
            for index, keyword in ((1, "low"), (2, "high")):
                bound = _arg(call, index, keyword)
                new = _set_arg(new, index, keyword, cst.parse_expression(f"{log}({ctx.code(bound)})"))
    elif kind == "skopt.Real":
        new = _set_arg(call, 2, "prior", cst.SimpleString('"log-uniform"'))
    elif kind == "scipy.uniform":
        func = _renamed(ctx, call, "loguniform")
        loc, scale = _arg(call, 0, "loc"), _arg(call, 1, "scale")
        if func is not None and loc is not None and scale is not None:
            if isinstance(loc, (cst.Integer, cst.Float)) and isinstance(scale, (cst.Integer, cst.Float)):
                high = _number_text(dist.high)
            elif isinstance(scale, (cst.Name, cst.Attribute, cst.Integer, cst.Float)):
                high = f"{ctx.code(loc)} + {ctx.code(scale)}"
            else:
                high = f"{ctx.code(loc)} + ({ctx.code(scale)})"
            new = cst.parse_expression(f"{ctx.code(func)}({ctx.code(loc)}, {high})")
    elif kind.startswith("configspace."):
        new = _set_arg(call, 99, "log", true)
    elif kind in ("wandb.uniform", "wandb.q_uniform"):
        node, new = _wandb_fix(dist)
    elif kind in ("nni.uniform", "nni.quniform") and isinstance(call, cst.Dict):
        node, new = _nni_fix(call, "qloguniform" if kind == "nni.quniform" else "loguniform")
    elif kind == "orion.uniform" and isinstance(call, cst.SimpleString):
        new = _orion_fix(call)
    elif kind == "numpy.linspace":
        func = _renamed(ctx, call, "geomspace")
        new = call.with_changes(func=func) if func is not None else None
    elif kind == "torch.linspace" and isinstance(call.func, cst.Attribute):
        new = _exponent_bounds(ctx, dist, call, (0, "start"), (1, "end"))
        if new is not None:
            new = new.with_changes(func=call.func.with_changes(attr=cst.Name("logspace")))
    elif kind == "uniform" and dist.library in ("random", "numpy"):
        keywords = ((0, "a"), (1, "b")) if dist.library == "random" else ((0, "low"), (1, "high"))
        new = _exponent_bounds(ctx, dist, call, *keywords)
        if new is not None:
            new = cst.parse_expression(_parens(dist, f"10 ** {ctx.code(new)}"))
    if new is None:
        return None
    return FixSpec("Sample on a log scale", node, new, FixSafety.SAFE)


def _orion_fix(prior: cst.SimpleString) -> Optional[cst.SimpleString]:
    """`"uniform(1e-5, 0.1)"` -> `"loguniform(1e-5, 0.1)"`: one word of the
    string, the bounds and any options as written."""
    source = prior.value
    if source.count("uniform(") != 1 or "loguniform(" in source:
        return None
    return prior.with_changes(value=source.replace("uniform(", "loguniform(", 1))


def _nni_fix(space: cst.Dict, target: str):
    """`"_type": "uniform"` -> `"_type": "loguniform"` (the bounds stay values)."""
    for element in space.elements:
        if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString) and \
                element.key.evaluated_value == "_type" and isinstance(element.value, cst.SimpleString):
            old = element.value
            return old, cst.SimpleString(f"{old.prefix}{old.quote}{target}{old.quote}")
    return space, None


def _wandb_fix(dist: Distribution):
    target = {"wandb.uniform": "log_uniform_values", "wandb.q_uniform": "q_log_uniform_values"}[dist.kind]
    container = dist.node
    items = container.elements if isinstance(container, cst.Dict) else container.args
    for item in items:
        key = getattr(item, "key", None) or getattr(item, "keyword", None)
        name = key.value if isinstance(key, cst.Name) else getattr(key, "evaluated_value", None)
        if name == "distribution" and isinstance(item.value, cst.SimpleString):
            quote = item.value.quote
            return item.value, cst.SimpleString(f"{item.value.prefix}{quote}{target}{quote}")
    if isinstance(container, cst.Dict) and container.elements:
        # `{"min": .., "max": ..}` with no distribution: add one, in the dict's own quotes.
        first = container.elements[0]
        quote = getattr(getattr(first, "key", None), "quote", '"')
        added = cst.DictElement(cst.SimpleString(f"{quote}distribution{quote}"),
                                cst.SimpleString(f"{quote}{target}{quote}"),
                                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return container, container.with_changes(elements=[added, *container.elements])
    return container, None


def one_minus_fix(ctx, dist: Distribution) -> Optional[FixSpec]:
    """HPL004's unsafe rewrite: sample 1-β on a log scale, β = 1 - 10**r."""
    if dist.through is not None:
        return None  # a search helper's call: the scale is the helper's to change
    if dist.splatted or dist.partial:
        return None  # `*bounds` / `partial(...)`: no written call spells the bounds
    if dist.transformed or dist.low is None or dist.high is None or not (0 <= dist.low < dist.high < 1):
        return None
    call = dist.node
    low, high = 1 - dist.high, 1 - dist.low  # bounds of 1-β
    text = None
    if dist.kind in ("optuna.suggest_float", "optuna.suggest_uniform") and not dist.step:
        name = _arg(call, 0, "name")
        if name is not None:
            receiver = ctx.code(call.func.value)
            text = (f"1 - {receiver}.suggest_float({ctx.code(name)}, {_number_text(low)}, "
                    f"{_number_text(high)}, log=True)")
    elif dist.kind == "uniform" and dist.library in ("random", "numpy") and len(call.args) == 2 and not any(a.keyword for a in call.args):
        r_low, r_high = math.log10(low), math.log10(high)
        if abs(r_low - round(r_low)) < 1e-9 and abs(r_high - round(r_high)) < 1e-9:
            text = f"1 - 10 ** {ctx.code(call.func)}({int(round(r_low))}, {int(round(r_high))})"
    if text is None:
        return None
    return FixSpec("Sample 1 - beta on a log scale", call, cst.parse_expression(_parens(dist, text)), FixSafety.UNSAFE)
