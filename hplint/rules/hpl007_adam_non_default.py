"""HPL007 adam-non-default-hyperparameters: Adam-family betas/eps changed from the defaults.

Measured on public repositories, nearly every non-default betas/eps is a
published recipe (DCGAN's beta1=0.5, the Transformer's (0.9, 0.98) with eps
1e-9, GPT's (0.9, 0.95), PPO's eps 1e-5, ...). So by default (`mode =
"recipes"`) values from the recipe table below are accepted — the GAN recipes
only where the optimizer trains a GAN — and a call is reported once, naming
every changed hyperparameter. Betas or eps that a hyperparameter search
samples are reported as a warning whatever their values: search budget spent
on Adam's least important hyperparameters. `mode = "strict"` reports every
non-default value (recipes are named in the message).

The recipe table is documented, with sources, in rules/HPL007.md;
tests/test_hpl007.py checks that the two agree.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import libcst as cst

from ..analysis.modes import name_words
from ..analysis.search_space import SearchSpaceAnalysis
from ..analysis.walk import walk
from ..findings import FixSafety, Severity
from ..numbers import readable
from .base import FixSpec, Report, Rule

TORCH_BETAS = (0.9, 0.999)
TORCH_EPS = 1e-8


@dataclass(frozen=True)
class OptimizerSpec:
    betas_slot: Optional[int]  # positional index of betas (None: keyword only)
    eps_slot: Optional[int]
    betas: Tuple[float, float] = TORCH_BETAS
    eps: float = TORCH_EPS


OPTIMIZERS: Dict[str, OptimizerSpec] = {}
# torch: (params, lr, betas, eps, ...)
for _mod, _name in (("adam", "Adam"), ("adamw", "AdamW"), ("nadam", "NAdam"), ("radam", "RAdam"),
                    ("adamax", "Adamax"), ("sparse_adam", "SparseAdam")):
    OPTIMIZERS[f"torch.optim.{_name}"] = OPTIMIZERS[f"torch.optim.{_mod}.{_name}"] = OptimizerSpec(2, 3)
# apex / DeepSpeed: (params, lr, bias_correction, betas, eps, ...)
for _qn in ("apex.optimizers.FusedAdam", "apex.optimizers.fused_adam.FusedAdam",
            "deepspeed.ops.adam.FusedAdam", "deepspeed.ops.adam.fused_adam.FusedAdam",
            "deepspeed.ops.adam.DeepSpeedCPUAdam", "deepspeed.ops.adam.cpu_adam.DeepSpeedCPUAdam"):
    OPTIMIZERS[_qn] = OptimizerSpec(3, 4)
# bitsandbytes: (params, lr, betas, eps, ...)
for _name in ("Adam", "AdamW", "Adam8bit", "AdamW8bit", "Adam32bit", "AdamW32bit", "PagedAdam",
              "PagedAdamW", "PagedAdam8bit", "PagedAdamW8bit", "PagedAdam32bit", "PagedAdamW32bit"):
    OPTIMIZERS[f"bitsandbytes.optim.{_name}"] = OptimizerSpec(2, 3)
# Hugging Face's own AdamW: eps defaults to 1e-6, not torch's 1e-8.
for _qn in ("transformers.AdamW", "transformers.optimization.AdamW"):
    OPTIMIZERS[_qn] = OptimizerSpec(2, 3, TORCH_BETAS, 1e-6)
# timm's factory: betas/eps are keywords passed on to the optimizer `opt=` names.
TIMM_FACTORIES = frozenset({"timm.optim.create_optimizer_v2", "timm.optim.optim_factory.create_optimizer_v2",
                            "timm.optim._optim_factory.create_optimizer_v2"})
TIMM_ADAM = frozenset({"adam", "adamw", "nadam", "nadamw", "radam", "adamax", "adamp",
                       "fusedadam", "fusedadamw"})


@dataclass(frozen=True)
class Recipe:
    name: str
    source: str
    betas: Optional[Tuple[float, float]] = None
    eps: Optional[float] = None
    gan: bool = False  # accepted only where the optimizer trains a GAN


# Published values, each with its source (rules/HPL007.md lists the same table).
RECIPES: Tuple[Recipe, ...] = (
    Recipe("DCGAN", "Radford et al. 2015; also pix2pix, CycleGAN", betas=(0.5, 0.999), gan=True),
    Recipe("WGAN-GP", "Gulrajani et al. 2017, Algorithm 1", betas=(0.0, 0.9), gan=True),
    Recipe("WGAN-GP reference code", "Gulrajani et al. 2017, igul222/improved_wgan_training", betas=(0.5, 0.9), gan=True),
    Recipe("StyleGAN", "Karras et al. 2019, 2020", betas=(0.0, 0.99), gan=True),
    Recipe("BigGAN", "Brock et al. 2019", betas=(0.0, 0.999), gan=True),
    Recipe("HiFi-GAN", "Kong et al. 2020", betas=(0.8, 0.99), gan=True),
    Recipe("Transformer", "Vaswani et al. 2017; RoBERTa, Liu et al. 2019", betas=(0.9, 0.98)),
    Recipe("GPT-3 / nanoGPT / LLaMA", "Brown et al. 2020; Touvron et al. 2023", betas=(0.9, 0.95)),
    Recipe("Instant-NGP / TensoRF", "Mueller et al. 2022; Chen et al. 2022", betas=(0.9, 0.99)),
    Recipe("Transformer", "Vaswani et al. 2017", eps=1e-9),
    Recipe("BERT / RoBERTa", "Devlin et al. 2019; Liu et al. 2019", eps=1e-6),
    Recipe("PPO / LLaMA 2", "OpenAI baselines ppo2; Touvron et al. 2023", eps=1e-5),
    Recipe("Instant-NGP", "Mueller et al. 2022", eps=1e-15),
    Recipe("Rainbow DQN", "Hessel et al. 2018", eps=1.5e-4),
    Recipe("C51 / Dopamine", "Bellemare et al. 2017 (0.01/32)", eps=0.01 / 32),
    Recipe("Keras / TensorFlow default", "a port of Keras code keeps it", eps=1e-7),
)

MODES = ("recipes", "strict")

# Optuna's trial methods, and library functions that sample a search space.
_SEARCH_METHODS = frozenset({"suggest_float", "suggest_uniform", "suggest_loguniform",
                             "suggest_discrete_uniform", "suggest_categorical", "suggest_int"})
_SEARCH_PACKAGES = ("ray.tune.", "flaml.tune.", "hyperopt.", "skopt.", "optuna.", "ConfigSpace.", "nevergrad.")
_SEARCH_FUNCTIONS = frozenset({
    "uniform", "quniform", "loguniform", "qloguniform", "choice", "grid_search", "randn", "qrandn",
    "sample_from", "normal", "qnormal", "lognormal", "Real", "Categorical", "Integer",
    "FloatDistribution", "UniformDistribution", "LogUniformDistribution", "CategoricalDistribution",
    "UniformFloatHyperparameter", "CategoricalHyperparameter", "Float", "Scalar", "Choice",
})
_GAN_WORDS = frozenset({"gan", "generator", "generators", "discriminator", "discriminators", "critic",
                        "gen", "disc", "dis", "netg", "netd", "g", "d"})
_GAN_CLASS_WORDS = frozenset({"gan", "generator", "discriminator", "critic"})
_NOT_GAN = frozenset({"organ", "morgan", "logan", "slogan", "vegan", "hogan", "reagan", "megan", "teagan",
                      "pagan"})


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12 if b == 0 else 0.0)


def _same_betas(a: Sequence[float], b: Sequence[float]) -> bool:
    return all(_close(x, y) for x, y in zip(a, b))


def _as_betas(value: Any) -> Optional[Tuple[float, float]]:
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
    ):
        return (float(value[0]), float(value[1]))
    return None


def _fmt(value: float) -> str:
    return readable(value)


def betas_recipe(betas: Sequence[float]) -> Optional[Recipe]:
    return next((r for r in RECIPES if r.betas is not None and _same_betas(betas, r.betas)), None)


def eps_recipe(eps: float) -> Optional[Recipe]:
    return next((r for r in RECIPES if r.eps is not None and _close(eps, r.eps)), None)


@dataclass
class _Change:
    """One hyperparameter of a call that differs from the default."""

    name: str  # "betas" or "eps"
    arg: cst.Arg
    shown: str  # `betas=(0.5, 0.999)`
    value: Any = None
    recipe: Optional[Recipe] = None
    recipe_applies: bool = False  # the recipe's context holds (GAN recipes: a GAN)
    accepted: bool = False  # listed in accepted-betas / accepted-eps
    searched: str = ""  # how a search space feeds it
    extreme: bool = False


def _remove_args_fix(call: cst.Call, args_to_remove: List[cst.Arg]) -> Optional[FixSpec]:
    if not args_to_remove or any(a.keyword is None for a in args_to_remove):
        return None  # dropping a positional argument would shift the others
    drop = {id(a) for a in args_to_remove}
    args = [a for a in call.args if id(a) not in drop]
    if args and id(call.args[-1]) in drop:
        # The new last argument inherits the removed last one's comma (and with
        # it a multi-line call's newline before `)`).
        args[-1] = args[-1].with_changes(comma=call.args[-1].comma)
    what = " and ".join(a.keyword.value for a in args_to_remove if a.keyword is not None)
    return FixSpec(f"Remove {what} (use the defaults)", call, call.with_changes(args=args), FixSafety.UNSAFE)


class AdamNonDefaultHyperparameters(Rule):
    code = "HPL007"

    def check(self, ctx):
        mode = str(ctx.option(self.code, "mode")).lower()
        strict = mode == "strict"
        accepted_betas = [tuple(float(v) for v in b) for b in ctx.option(self.code, "accepted-betas") or []]
        accepted_eps = [float(e) for e in ctx.option(self.code, "accepted-eps") or []]
        low = float(ctx.option(self.code, "warn-eps-below"))
        high = float(ctx.option(self.code, "warn-eps-above"))
        search: Optional[_SearchIndex] = None
        for site in ctx.calls:
            found = self._optimizer(ctx, site.node)
            if found is None:
                continue
            optimizer, spec = found
            if search is None:
                search = _SearchIndex(ctx)
            changes = self._changes(ctx, site, spec, search)
            if not changes:
                continue
            for change in changes:
                if change.name == "betas" and change.value is not None:
                    change.accepted = any(_same_betas(change.value, ok) for ok in accepted_betas)
                    change.recipe = betas_recipe(change.value)
                elif change.name == "eps" and change.value is not None:
                    change.accepted = any(_close(change.value, ok) for ok in accepted_eps)
                    change.recipe = eps_recipe(change.value)
                    change.extreme = change.value < low or change.value > high
                if change.recipe is not None:
                    change.recipe_applies = not change.recipe.gan or _trains_gan(ctx, site)
            searched = [c for c in changes if c.searched]
            flagged = [c for c in changes if c.searched or not (
                c.accepted or (not strict and c.recipe is not None and c.recipe_applies))]
            if not flagged:
                continue
            yield self._report(ctx, site, optimizer, spec, changes, flagged, searched, strict)

    # -- which calls ---------------------------------------------------------------
    def _optimizer(self, ctx, call: cst.Call) -> Optional[Tuple[str, OptimizerSpec]]:
        qn = ctx.callee(call) or ""
        spec = OPTIMIZERS.get(qn)
        if spec is not None:
            return qn.rsplit(".", 1)[-1], spec
        if qn in TIMM_FACTORIES:
            opt = None
            for i, arg in enumerate(call.args):
                if (arg.keyword is not None and arg.keyword.value == "opt") or (arg.keyword is None and not arg.star and i == 1):
                    opt = ctx.constants.value(arg.value)
            if isinstance(opt, str):
                name = opt.lower().split("_")[-1]
                if name in TIMM_ADAM:
                    return f"create_optimizer_v2(opt={opt!r})", OptimizerSpec(None, None)
        return None

    def _changes(self, ctx, site, spec: OptimizerSpec, search: "_SearchIndex") -> List[_Change]:
        changes: List[_Change] = []
        position: Optional[int] = 0
        for arg in site.node.args:
            if arg.star:
                position = None  # after `*args` the positional slots are unknown; keywords still count
                continue
            if arg.keyword is not None:
                name = arg.keyword.value
            elif position is None:
                continue
            else:
                name = "betas" if position == spec.betas_slot else "eps" if position == spec.eps_slot else None
                position += 1
            if name not in ("betas", "eps"):
                continue
            searched = search.feeding(arg.value, site)
            if name == "betas":
                value = _as_betas(ctx.constants.value(arg.value))
                if searched:
                    changes.append(_Change("betas", arg, "searched betas", value, searched=searched))
                elif value is not None and not _same_betas(value, spec.betas):
                    changes.append(_Change("betas", arg, f"betas=({_fmt(value[0])}, {_fmt(value[1])})"
                                           f"{_source(ctx, arg)}", value))
            else:
                value = ctx.constants.number(arg.value)
                if searched:
                    changes.append(_Change("eps", arg, "searched eps", value, searched=searched))
                elif value is not None and not _close(value, spec.eps):
                    changes.append(_Change("eps", arg, f"eps={_fmt(value)}{_source(ctx, arg)}", value))
        return changes

    # -- the report ------------------------------------------------------------------
    def _report(self, ctx, site, optimizer, spec, changes, flagged, searched, strict) -> Report:
        parts = []
        for change in changes:
            text = change.shown
            if change.searched:
                text += f" ({change.searched})"
            elif change.recipe is not None:
                source = change.recipe.source.split(";")[0]
                if change.recipe_applies:
                    text += f" (the {change.recipe.name} recipe, {source})"
                else:
                    text += (f" (the {change.recipe.name} recipe, {source}: a GAN recipe, but this optimizer"
                             f" does not train a GAN)")
            parts.append(text)
        what = " and ".join(parts)
        defaults = f"betas=({_fmt(spec.betas[0])}, {_fmt(spec.betas[1])}), eps={_fmt(spec.eps)}"
        extreme = [c for c in flagged if c.extreme]
        if searched:
            advice = (f"Adam's betas and eps are among the least important hyperparameters, so search budget "
                      f"spent on them is taken from the learning rate and the ones that matter. Fix them "
                      f"(the defaults are {defaults}, or a published recipe) and search the learning rate instead.")
        else:
            options = sorted({"accepted-betas" if c.name == "betas" else "accepted-eps" for c in flagged})
            option = "`/`".join(options)
            known = "; hplint's recipe table does not list it" if all(
                c.recipe is None for c in flagged) else ""
            if strict and not known:
                known = " (mode = \"strict\" reports recipes too)"
            advice = (f"the defaults are {defaults}{known}. Adam's betas and eps rarely need tuning: if this is "
                      f"intended, list the value in `{option}` under [tool.hplint.rules.HPL007] or add "
                      f"`# hplint: disable=HPL007`.")
        if extreme:
            advice += (" The eps is far from the default: too small an eps lets tiny second moments blow up "
                       "the step (worse under mixed precision), too large turns Adam into SGD with momentum.")
        severity = Severity.WARNING if searched or extreme else None
        removable = [c.arg for c in changes]
        return Report(
            flagged[0].arg.value,
            {"optimizer": optimizer, "what": what, "advice": advice},
            fix=_remove_args_fix(site.node, removable),
            severity=severity,
            scope=site.scope,
        )


def _source(ctx, arg: cst.Arg) -> str:
    if isinstance(arg.value, (cst.Integer, cst.Float, cst.Tuple, cst.List, cst.UnaryOperation, cst.BinaryOperation)):
        return ""
    return f" (from `{ctx.code(arg.value)}`)"


# ---------------------------------------------------------------------------
# context: does this optimizer train a GAN?


def _trains_gan(ctx, site) -> bool:
    """The optimizer's parameters name a generator/discriminator/critic (`netG`,
    `generator.parameters()`, `D_A`), or the file is about a GAN: another
    optimizer there trains one, it defines or imports a Generator/Discriminator/
    Critic class, or its path names a GAN (`dcgan.py`, `wgan_gp/train.py`)."""
    return _params_name_gan(site.node) or ctx.fact("hpl007_gan_file", _GanFile).value


def _params_name_gan(call: cst.Call) -> bool:
    params = call.args[0].value if call.args and call.args[0].keyword is None else next(
        (a.value for a in call.args if a.keyword is not None and a.keyword.value in ("params", "model_params")),
        None)
    if params is not None:
        for node in walk(params):
            if isinstance(node, cst.Name) and any(w in _GAN_WORDS for w in name_words(node.value)):
                return True
    return False


class _GanFile:
    def __init__(self, ctx) -> None:
        self.value = self._compute(ctx)

    @staticmethod
    def _compute(ctx) -> bool:
        # Another optimizer of the file trains a generator or discriminator: the
        # encoder of a BicycleGAN or MUNIT trains with the same recipe.
        for site in ctx.calls:
            if (ctx.callee(site.node) or "") in OPTIMIZERS and _params_name_gan(site.node):
                return True
        for definition in ctx.classes:
            if any(w in _GAN_CLASS_WORDS for w in name_words(definition.name)):
                return True
        for local in ctx.imports.names:
            if any(w in _GAN_CLASS_WORDS for w in name_words(local)):
                return True
        path = getattr(ctx, "path", None)
        if path is None:
            return False
        parts = [path.parent.name, path.stem]  # `dcgan/train.py`, `wgan_gp.py`; not the whole path
        return any(_is_gan_token(t) for part in parts for t in re.split(r"[^a-z0-9]+", part.lower()))


def _is_gan_token(token: str) -> bool:
    """`gan`, `dcgan`, `wgan`, `stylegan2`, `cyclegan`; not `organ`, `morgan`, `slogan`."""
    token = token.rstrip("0123456789")
    if token.endswith("s"):
        token = token[:-1]
    return token.endswith("gan") and len(token) <= 12 and token not in _NOT_GAN


# ---------------------------------------------------------------------------
# search spaces feeding betas / eps


def is_search_call(ctx, call: cst.Call) -> bool:
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in _SEARCH_METHODS:
        return True
    qn = ctx.callee(call) or ""
    return qn.startswith(_SEARCH_PACKAGES) and qn.rsplit(".", 1)[-1] in _SEARCH_FUNCTIONS


class _SearchIndex:
    """Names that a search space binds in this file, for `feeding`."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self._keys: Optional[Dict[str, Any]] = None  # dict key / suggest name / label -> distribution
        self._locals: Dict[int, Dict[str, cst.Call]] = {}

    def _bound_keys(self) -> Dict[str, Any]:
        if self._keys is None:
            keys: Dict[str, Any] = {}
            if any(is_search_call(self.ctx, s.node) for s in self.ctx.calls):
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
        call = _first_search_call(ctx, expr)
        if call is not None:
            return f"sampled by `{ctx.code(call.func)}`"
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
