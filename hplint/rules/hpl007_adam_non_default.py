"""HPL007 adam-non-default-hyperparameters: Adam-family betas/eps changed from the defaults."""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import libcst as cst

from ..findings import FixSafety, Severity
from .base import FixSpec, Report, Rule

_TORCH_DEFAULTS = ((0.9, 0.999), 1e-8)
# qualified name -> (positional index of betas, of eps, default betas, default eps)
OPTIMIZERS = {
    f"torch.optim.{name}": (2, 3) + _TORCH_DEFAULTS
    for name in ("Adam", "AdamW", "NAdam", "RAdam", "Adamax")
}
# Hugging Face's own AdamW: eps defaults to 1e-6, not torch's 1e-8.
for _qn in ("transformers.AdamW", "transformers.optimization.AdamW"):
    OPTIMIZERS[_qn] = (2, 3, (0.9, 0.999), 1e-6)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0)


def _as_betas(value: Any) -> Optional[Sequence[float]]:
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
    ):
        return tuple(float(v) for v in value)
    return None


def _fmt(value: float) -> str:
    return f"{value:g}"


def _remove_arg_fix(call: cst.Call, arg: cst.Arg, what: str) -> Optional[FixSpec]:
    if arg.keyword is None:
        return None  # dropping a positional argument would shift the others
    args = [a for a in call.args if a is not arg]
    if args and call.args[-1] is arg:
        # The new last argument inherits the removed one's comma (and with it
        # a multi-line call's newline before `)`).
        args[-1] = args[-1].with_changes(comma=arg.comma)
    return FixSpec(f"Remove {what} (use the defaults)", call, call.with_changes(args=args), FixSafety.UNSAFE)


class AdamNonDefaultHyperparameters(Rule):
    code = "HPL007"

    def check(self, ctx):
        accepted_betas = [tuple(float(v) for v in b) for b in ctx.option(self.code, "accepted-betas") or []]
        accepted_eps = [float(e) for e in ctx.option(self.code, "accepted-eps") or []]
        low = float(ctx.option(self.code, "warn-eps-below") or 0.0)
        high = float(ctx.option(self.code, "warn-eps-above") or math.inf)
        for site in ctx.calls:
            qn = ctx.callee(site.node)
            spec = OPTIMIZERS.get(qn or "")
            if spec is None:
                continue
            betas_slot, eps_slot, default_betas, default_eps = spec
            optimizer = qn.rsplit(".", 1)[-1]
            for i, arg in enumerate(site.node.args):
                if arg.star:
                    continue
                name = arg.keyword.value if arg.keyword is not None else (
                    "betas" if i == betas_slot else "eps" if i == eps_slot else None)
                if name == "betas":
                    yield from self._betas(ctx, site, arg, optimizer, default_betas, accepted_betas)
                elif name == "eps":
                    yield from self._eps(ctx, site, arg, optimizer, default_eps, accepted_eps, low, high)

    def _source(self, ctx, arg: cst.Arg) -> str:
        if isinstance(arg.value, (cst.Integer, cst.Float, cst.Tuple, cst.List, cst.UnaryOperation, cst.BinaryOperation)):
            return ""
        return f" (from `{ctx.code(arg.value)}`)"

    def _betas(self, ctx, site, arg, optimizer, default, accepted):
        betas = _as_betas(ctx.constants.value(arg.value))
        if betas is None:
            return
        if all(_close(a, b) for a, b in zip(betas, default)):
            return
        if any(all(_close(a, b) for a, b in zip(betas, ok)) for ok in accepted):
            return
        yield Report(
            arg.value,
            {
                "optimizer": optimizer,
                "what": f"betas=({_fmt(betas[0])}, {_fmt(betas[1])}){self._source(ctx, arg)}",
                "default": f"({_fmt(default[0])}, {_fmt(default[1])})",
                "option": "accepted-betas",
            },
            fix=_remove_arg_fix(site.node, arg, "betas"),
            scope=site.scope,
        )

    def _eps(self, ctx, site, arg, optimizer, default, accepted, low, high):
        eps = ctx.constants.number(arg.value)
        if eps is None or _close(eps, default) or any(_close(eps, ok) for ok in accepted):
            return
        extreme = eps < low or eps > high
        what = f"eps={_fmt(eps)}{self._source(ctx, arg)}"
        if extreme:
            what += (" — far from the default: too small an eps lets tiny second moments blow up the"
                     " step (worse under mixed precision), too large turns Adam into SGD with momentum")
        yield Report(
            arg.value,
            {"optimizer": optimizer, "what": what, "default": _fmt(default), "option": "accepted-eps"},
            fix=_remove_arg_fix(site.node, arg, "eps"),
            severity=Severity.WARNING if extreme else None,
            scope=site.scope,
        )
