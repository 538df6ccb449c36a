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
from ..analysis.arguments import call_argument
from ..analysis.eval_dropout import EvalDropoutAnalysis, FunctionalDropout, UnswitchedEval, forward_switch
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
        if found.built is not None:
            return self._built_in_place(ctx, found)
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

    def _built_in_place(self, ctx, found: FunctionalDropout) -> Report:
        """`nn.Dropout(p)(x)` in a method: a new module each call, never a
        submodule, so `model.eval()` does not reach it."""
        built, self_name = found.built, found.self_name
        assert built is not None
        where_ = f"`{found.klass.name.value}.{found.fn.name.value}`"
        return Report(
            found.site.node,
            {
                "what": f"`{ctx.code(found.site.node)}` in {where_} builds a new `{ctx.code(built.func)}` on every call; "
                        f"it is not a submodule, so `eval()` never reaches it and it stays active in eval mode",
                "consequence": _CONSEQUENCE["dropout"],
                "fix": f"Build it once in `__init__` and call that, or use "
                       f"`{found.twin}(..., training={self_name}.training)` from torch.nn.functional.",
            },
            fix=_twin_fix(ctx, found),
            scope=found.site.scope,
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
        advice = f"Call `{mkey}.eval()` before evaluating and `{mkey}.train()` before training resumes."
        fix = _eval_fix(found)
        switch = forward_switch(found.ref)
        if switch is not None:
            # WaveRNN's Tacotron calls `self.train()` in its own forward: `eval()` would be undone.
            line = switch.ctx.span(switch.train_call).start_line
            at = f"`{switch.ctx.code(switch.train_call)}`, " + \
                (f"line {line}" if switch.ctx is ctx else f"{switch.ctx.path.name}:{line}")
            owner = found.ref.class_model.name
            if switch.flag is not None:
                advice = (f"`{owner}.forward` sets its own mode ({at}), so `{mkey}.eval()` would be undone: "
                          f"call it with `{switch.flag}={switch.flag_value}` to evaluate.")
            else:
                advice = (f"`{owner}.forward` switches to training mode itself ({at}), so `{mkey}.eval()` would be "
                          f"undone: leave the mode to its callers, then call `{mkey}.eval()` before evaluating.")
            fix = None
        return Report(
            site.node,
            {
                "what": what,
                "consequence": _CONSEQUENCE[layer.category],
                "fix": advice,
            },
            related=[(layer.ctx, layer.node, f"the {L.short_name(layer.kind)}")] +
                    ([(found.through_ctx or ctx, found.through.node, f"where `{ctx.code(site.node.func)}` runs the model")]
                     if found.through is not None else []),
            fix=fix,
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


_EQUAL = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))


def _twin_fix(ctx, found: FunctionalDropout) -> Optional[FixSpec]:
    """`nn.Dropout(self.p)(h)` -> `nn.functional.dropout(h, p=self.p,
    training=self.training)`, spelled with the same alias of torch.nn; no fix
    for other spellings (`Dropout(p)(x)` after `from torch.nn import Dropout`)."""
    call, built = found.site.node, found.built
    assert built is not None
    module = built.func.value if isinstance(built.func, cst.Attribute) else None
    if module is None or ctx.qualified_name(module) != "torch.nn":
        return None
    if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
        return None
    if any(arg.star for arg in built.args):
        return None
    keywords = [("p", call_argument(built, 0, "p")),
                ("training", cst.Attribute(cst.Name(found.self_name), cst.Name("training"))),
                ("inplace", call_argument(built, 1, "inplace"))]
    args = [cst.Arg(call.args[0].value)] + [cst.Arg(value, keyword=cst.Name(name), equal=_EQUAL)
                                            for name, value in keywords if value is not None]
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    args = [arg.with_changes(comma=comma) for arg in args[:-1]] + args[-1:]
    func = cst.Attribute(cst.Attribute(module, cst.Name("functional")), cst.Name(found.twin))
    return FixSpec(f"Use {found.twin}(..., training={found.self_name}.training)", call,
                   cst.Call(func=func, args=args), FixSafety.SAFE)
