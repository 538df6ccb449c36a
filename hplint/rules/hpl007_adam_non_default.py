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
tests/test_hpl007.py checks that the two agree. Which calls build an Adam and
whether they train a GAN (analysis/optimizers.py), and which arguments a search
feeds (analysis/search_feeds.py), are analysis facts this rule queries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

import libcst as cst

from ..analysis.optimizers import (
    TORCH_EPS,
    OptimizerSpec,
    adam_optimizer,
    trains_agent,
    trains_architecture,
    trains_gan,
)
from ..analysis.search_feeds import SearchFeeds
from ..findings import FixSafety, Severity
from ..numbers import readable
from .base import FixSpec, Report, Rule


@dataclass(frozen=True)
class Recipe:
    name: str
    source: str
    betas: Optional[Tuple[float, float]] = None
    eps: Optional[float] = None
    only: Optional[str] = None  # a key of CONTEXTS: accepted only where the optimizer trains that

    @property
    def kind(self) -> str:
        return CONTEXTS[self.only][0] if self.only else ""

    @property
    def context(self) -> str:
        return CONTEXTS[self.only][1] if self.only else ""


# Recipe contexts: (the recipe's kind, what the optimizer must train), as messages say them.
CONTEXTS = {
    "GAN": ("a GAN", "a GAN"),
    "RL": ("an RL", "a reinforcement-learning agent"),
    "NAS": ("an architecture-search", "architecture weights (DARTS alphas)"),
}


# Published values, each with its source (rules/HPL007.md lists the same table).
RECIPES: Tuple[Recipe, ...] = (
    Recipe("DCGAN", "Radford et al. 2015; also pix2pix, CycleGAN", betas=(0.5, 0.999), only="GAN"),
    Recipe("WGAN-GP", "Gulrajani et al. 2017, Algorithm 1", betas=(0.0, 0.9), only="GAN"),
    Recipe("WGAN-GP reference code", "Gulrajani et al. 2017, igul222/improved_wgan_training", betas=(0.5, 0.9), only="GAN"),
    Recipe("StyleGAN", "Karras et al. 2019, 2020", betas=(0.0, 0.99), only="GAN"),
    Recipe("BigGAN", "Brock et al. 2019", betas=(0.0, 0.999), only="GAN"),
    Recipe("HiFi-GAN", "Kong et al. 2020", betas=(0.8, 0.99), only="GAN"),
    Recipe("DARTS architecture weights", "Liu, Simonyan, Yang 2019", betas=(0.5, 0.999), only="NAS"),
    Recipe("Transformer", "Vaswani et al. 2017; RoBERTa, Liu et al. 2019", betas=(0.9, 0.98)),
    Recipe("GPT-3 / nanoGPT / LLaMA", "Brown et al. 2020; Touvron et al. 2023", betas=(0.9, 0.95)),
    Recipe("Instant-NGP / TensoRF", "Mueller et al. 2022; Chen et al. 2022", betas=(0.9, 0.99)),
    Recipe("Transformer", "Vaswani et al. 2017", eps=1e-9),
    Recipe("BERT / RoBERTa", "Devlin et al. 2019; Liu et al. 2019", eps=1e-6),
    Recipe("PPO / LLaMA 2", "OpenAI baselines ppo2; Touvron et al. 2023", eps=1e-5),
    Recipe("Instant-NGP", "Mueller et al. 2022", eps=1e-15),
    Recipe("SAC-Discrete", "Christodoulou 2019, the author's code; CleanRL sac_atari", eps=1e-4, only="RL"),
    Recipe("Rainbow DQN", "Hessel et al. 2018", eps=1.5e-4),
    Recipe("C51 / Dopamine", "Bellemare et al. 2017 (0.01/32)", eps=0.01 / 32),
    Recipe("Keras / TensorFlow default", "a port of Keras code keeps it", eps=1e-7),
)

MODES = ("recipes", "strict")



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


def _lazy_regularisation_base(ctx, expr: cst.BaseExpression) -> Optional[Tuple[float, float]]:
    """`(0 ** r, 0.99 ** r)` with one exponent `r` for both (StyleGAN2's
    `r = reg_every / (reg_every + 1)`, Karras et al. 2020, appendix B: the
    momentum corrected for an optimizer stepped less often) -> `(0.0, 0.99)`."""
    if not isinstance(expr, (cst.Tuple, cst.List)) or len(expr.elements) != 2:
        return None
    powers = [e.value for e in expr.elements]
    if not all(isinstance(p, cst.BinaryOperation) and isinstance(p.operator, cst.Power) for p in powers):
        return None
    if ctx.code(powers[0].right) != ctx.code(powers[1].right):  # type: ignore[attr-defined]
        return None
    return _as_betas([ctx.constants.value(p.left) for p in powers])  # type: ignore[attr-defined]


def _fmt(value: float) -> str:
    return readable(value)


def betas_recipes(betas: Sequence[float]) -> List[Recipe]:
    return [r for r in RECIPES if r.betas is not None and _same_betas(betas, r.betas)]


def eps_recipes(eps: float) -> List[Recipe]:
    return [r for r in RECIPES if r.eps is not None and _close(eps, r.eps)]


@dataclass
class _Change:
    """One hyperparameter of a call that differs from the default."""

    name: str  # "betas" or "eps"
    arg: cst.Arg
    shown: str  # `betas=(0.5, 0.999)`
    value: Any = None
    # The betas before StyleGAN2's lazy-regularisation correction, when written
    # `(b1 ** ratio, b2 ** ratio)`: the recipe is looked up with these.
    base_betas: Optional[Tuple[float, float]] = None
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
        search: Optional[SearchFeeds] = None
        for site in ctx.calls:
            found = adam_optimizer(ctx, site.node)
            if found is None:
                continue
            optimizer, spec = found
            if search is None:
                search = ctx.fact("search_feeds", SearchFeeds)
            changes = self._changes(ctx, site, spec, search)
            if not changes:
                continue
            for change in changes:
                recipes: List[Recipe] = []
                if change.name == "betas" and change.value is not None:
                    looked_up = change.base_betas or change.value
                    change.accepted = any(_same_betas(change.value, ok) or _same_betas(looked_up, ok)
                                          for ok in accepted_betas)
                    recipes = betas_recipes(looked_up)
                elif change.name == "eps" and change.value is not None:
                    change.accepted = any(_close(change.value, ok) for ok in accepted_eps)
                    recipes = eps_recipes(change.value)
                    change.extreme = change.value < low or change.value > high
                # (0.5, 0.999) is DCGAN's and DARTS's: the recipe whose context holds, else the first
                holding = [r for r in recipes if _context_holds(ctx, site, r)]
                change.recipe = (holding or recipes)[0] if recipes else None
                change.recipe_applies = bool(holding)
            searched = [c for c in changes if c.searched]
            flagged = [c for c in changes if c.searched or not (
                c.accepted or (not strict and c.recipe is not None and c.recipe_applies))]
            if not flagged:
                continue
            yield self._report(ctx, site, optimizer, spec, changes, flagged, searched, strict)

    def _changes(self, ctx, site, spec: OptimizerSpec, search: SearchFeeds) -> List[_Change]:
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
                                           f"{_source(ctx, arg)}", value,
                                           base_betas=_lazy_regularisation_base(ctx, arg.value)))
            else:
                value = ctx.constants.number(arg.value)
                if searched:
                    changes.append(_Change("eps", arg, "searched eps", value, searched=searched))
                elif value is not None and not _close(value, spec.eps) and not _close(value, TORCH_EPS):
                    # Kingma & Ba's 1e-8 is never a change, also where the library's default differs:
                    # HF scripts pass `eps=1e-8` (TrainingArguments' adam_epsilon) to transformers.AdamW.
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
                    text += (f" (the {change.recipe.name} recipe, {source}: {change.recipe.kind} recipe, but this"
                             f" optimizer does not train {change.recipe.context})")
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
            unlisted = [c for c in flagged if c.recipe is None]
            if len(unlisted) == len(changes):
                known = "; hplint's recipe table does not list it"
            elif unlisted:  # `betas=(0.8, 0.999) and eps=1e-7 (Keras)`: say which value is not a recipe
                known = "; hplint's recipe table does not list " + " or ".join(c.shown for c in unlisted)
            else:
                known = ""
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


def _context_holds(ctx, site, recipe: Recipe) -> bool:
    if recipe.only == "GAN":
        return trains_gan(ctx, site)
    if recipe.only == "RL":
        return trains_agent(ctx)
    if recipe.only == "NAS":
        return trains_architecture(site)
    return True


def _source(ctx, arg: cst.Arg) -> str:
    if isinstance(arg.value, (cst.Integer, cst.Float, cst.Tuple, cst.List, cst.UnaryOperation, cst.BinaryOperation)):
        return ""
    return f" (from `{ctx.code(arg.value)}`)"


