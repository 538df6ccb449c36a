"""HPL005 rnn-without-grad-clipping: a recurrent model trained without gradient clipping."""

from __future__ import annotations

import libcst as cst

from ..analysis import layers as L
from ..analysis.training import TrainingAnalysis
from ..findings import FixSafety
from ._training import clip_function, line_of, where
from .base import FixSpec, Report, Rule


class RnnWithoutGradClipping(Rule):
    code = "HPL005"

    def check(self, ctx):
        analysis = ctx.fact("training", TrainingAnalysis)
        max_norm = float(ctx.option(self.code, "max-norm"))
        for step in analysis.steps:
            if step.clipping is not None or step.model is None:
                continue
            rnn = step.model.first(L.RNN)
            if rnn is None:
                continue
            yield Report(
                step.step,
                {
                    "model": step.model.name,
                    "layer": L.short_name(rnn.kind),
                    "where": where(rnn, ctx),
                    "backward": ctx.code(step.backward),
                    "backward_line": line_of(ctx, step.backward),
                    "step": ctx.code(step.step),
                    "max_norm": repr(max_norm),
                },
                related=[(rnn.ctx, rnn.node, f"the recurrent {L.short_name(rnn.kind)}"),
                         (ctx, step.backward, "the backward pass")],
                fix=self._fix(ctx, step, max_norm),
                scope=step.scope,
            )

    def _fix(self, ctx, step, max_norm):
        clip = clip_function(ctx)
        if clip is None or step.model_expr is None:
            return None
        model = ctx.code(step.model_expr)
        text = f"{clip}({model}.parameters(), max_norm={max_norm!r})"
        func = step.step.func
        scaler = func.value if isinstance(func, cst.Attribute) else None
        if step.optimizer is not None and scaler is not None and step.step.args and \
                step.step.args[0].value is step.optimizer and \
                not any(isinstance(s.node.func, cst.Attribute) and s.node.func.attr.value == "unscale_" for s in step.between):
            # AMP: gradients must be unscaled before they are clipped.
            line = ctx.line_text(ctx.span(step.step).start_line)
            indent = line[: len(line) - len(line.lstrip())]
            text = f"{ctx.code(scaler)}.unscale_({ctx.code(step.optimizer)})\n{indent}{text}"
        return FixSpec(f"Clip gradients to max_norm={max_norm:g} before the optimizer step", step.step,
                       safety=FixSafety.UNSAFE, insert_before_line=text)
