"""HPL008 dropout-active-at-eval: evaluation that runs a model still in training
mode, and functional dropout hard-wired on inside a module.

What counts as evaluation code, which model calls there may run in training
mode, and which functional dropout calls stay active are facts of
`hplint.analysis.eval_dropout`; this rule words the reports and the fixes.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ..analysis import layers as L
from ..analysis.eval_dropout import EvalDropoutAnalysis, FunctionalDropout, UnswitchedEval
from ..findings import FixSafety
from ._call_args import append_keyword
from ._training import line_of, where
from .base import FixSpec, Report, Rule

_CONSEQUENCE = {
    "dropout": "dropout randomly zeroes activations at inference, so predictions are noisy and metrics wrong",
    "batchnorm": "BatchNorm normalises with batch statistics and overwrites its running statistics during evaluation",
}


class DropoutActiveAtEval(Rule):
    code = "HPL008"

    def check(self, ctx):
        facts = ctx.fact("eval_dropout", EvalDropoutAnalysis)
        for found in facts.functional:
            yield self._functional(ctx, found)
        for found in facts.evaluation:
            yield self._evaluation(ctx, found)

    # -- (b) functional dropout ---------------------------------------------------
    def _functional(self, ctx, found: FunctionalDropout) -> Report:
        site, keyword, self_name = found.site, found.keyword, found.self_name
        name = ctx.code(site.node.func)
        how = "its `training` argument defaults to True" if found.arg is None else f"`{keyword}` is hard-wired to True"
        return Report(
            site.node,
            {
                "what": f"`{name}(...)` in `{found.klass.name.value}.{found.fn.name.value}` stays active in eval mode ({how})",
                "consequence": _CONSEQUENCE["dropout"],
                "fix": f"Pass `{keyword}={self_name}.training`.",
            },
            fix=_training_flag_fix(site.node, found.slot, keyword, found.arg, self_name),
            scope=site.scope,
        )

    # -- (a) evaluation code --------------------------------------------------------
    def _evaluation(self, ctx, found: UnswitchedEval) -> Report:
        site, mkey, layer = found.site, found.mkey, found.layer
        if found.trains_before:
            last = found.trains_before[-1]
            detail = f"`{ctx.code(last)}` on line {line_of(ctx, last)} switched it back to training mode"
        else:
            detail = f"no `{mkey}.eval()` runs before it on every path"
        what = (f"`{ctx.code(site.node.func)}(...)` runs {found.ref.name_holding(layer)} (holds {L.short_name(layer.kind)}, "
                f"{where(layer, ctx)}) in evaluation code ({found.why}) while it may be in training mode: {detail}")
        return Report(
            site.node,
            {
                "what": what,
                "consequence": _CONSEQUENCE[layer.category],
                "fix": f"Call `{mkey}.eval()` before evaluating and `{mkey}.train()` before training resumes.",
            },
            related=[(layer.ctx, layer.node, f"the {L.short_name(layer.kind)}")] +
                    ([(found.through_ctx or ctx, found.through.node, f"where `{ctx.code(site.node.func)}` runs the model")]
                     if found.through is not None else []),
            fix=_eval_fix(found),
            scope=site.scope,
        )


def _eval_fix(found: UnswitchedEval) -> Optional[FixSpec]:
    mkey = found.mkey
    if found.eval_at is None:
        return None
    if found.whole:
        return FixSpec(f"Call {mkey}.eval() before evaluating", found.eval_at, safety=FixSafety.UNSAFE,
                       insert_before_line=f"{mkey}.eval()")
    resumes = found.resumes_training
    return FixSpec(f"Call {mkey}.eval() before the no-grad block" + (" and train() after it" if resumes else ""),
                   found.eval_at, safety=FixSafety.UNSAFE, insert_before_line=f"{mkey}.eval()",
                   insert_after_line=f"{mkey}.train()" if resumes else None)


def _training_flag_fix(call: cst.Call, slot: int, keyword: str, arg, self_name: str) -> FixSpec:
    flag = cst.Attribute(cst.Name(self_name), cst.Name("training"))
    args = list(call.args)
    if arg is not None:
        args = [a.with_changes(value=flag) if a.value is arg else a for a in args]
    else:
        args = append_keyword(args, keyword, flag)
    return FixSpec(f"Pass {keyword}={self_name}.training", call, call.with_changes(args=args), FixSafety.SAFE)
