"""HPL005 rnn-without-grad-clipping: a recurrent model trained without gradient clipping."""

from __future__ import annotations

from typing import List

import libcst as cst

from ..analysis import layers as L
from ..analysis.hf_trainer import HfTrainerAnalysis
from ..analysis.imports import dotted_name
from ..analysis.training import TrainingAnalysis, helper_steps, inherited_steps, lightning_fits
from ..findings import FixSafety
from ._call_args import set_keyword
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
                    "model": step.model.name_holding(rnn),
                    "layer": L.short_name(rnn.kind),
                    "where": where(rnn, ctx),
                    "backward": ctx.code(step.backward),
                    "backward_where": f"line {line_of(ctx, step.backward)}",
                    "step": ctx.code(step.step),
                    "clip": _clip_call(ctx, step, max_norm),
                },
                related=[(rnn.ctx, rnn.node, f"the recurrent {L.short_name(rnn.kind)}"),
                         (ctx, step.backward, "the backward pass")],
                fix=self._fix(ctx, step, max_norm),
                scope=step.scope,
            )
        yield from self._inherited(ctx, max_norm)
        yield from self._helpers(ctx, max_norm)
        yield from self._hf_trainer(ctx, max_norm)
        yield from self._lightning(ctx, max_norm)

    def _lightning(self, ctx, max_norm):
        """`pl.Trainer(max_epochs=3).fit(Tagger(), loader)`: with automatic
        optimisation Lightning runs backward and step; it clips only with
        `gradient_clip_val`. Reported at the fit call, with an unsafe fix that
        passes `gradient_clip_val` to the Trainer."""
        for fit in lightning_fits(ctx):
            rnn = fit.model.first(L.RNN)
            if rnn is None:
                continue
            # `gradient_clip_val=0` / `None` gets the bound; otherwise it is added.
            args = set_keyword(list(fit.trainer.args), "gradient_clip_val", cst.Float(repr(max_norm)))
            fix = FixSpec(f"Pass gradient_clip_val={max_norm:g} to the Trainer", fit.trainer,
                          fit.trainer.with_changes(args=args), FixSafety.UNSAFE)
            yield Report(
                fit.fit,
                {
                    "model": fit.model.name_holding(rnn),
                    "layer": L.short_name(rnn.kind),
                    "where": where(rnn, ctx),
                    "backward": "loss.backward()",
                    "backward_where": "inside Trainer.fit, which clips only with gradient_clip_val",
                    "step": "optimizer.step()",
                    "clip": f"pass `gradient_clip_val={max_norm!r}` to the Trainer",
                },
                related=[(rnn.ctx, rnn.node, f"the recurrent {L.short_name(rnn.kind)}")],
                fix=fix,
                scope=fit.scope,
            )

    def _hf_trainer(self, ctx, max_norm):
        """`Trainer(model=Net(), args=TrainingArguments(max_grad_norm=0))`: reported
        at the Trainer construction when the model is recurrent."""
        for trainer in ctx.fact("hf_trainers", HfTrainerAnalysis).trainers:
            site, qn, model = trainer.site, trainer.qualname, trainer.model
            rnn = model.first(L.RNN)
            if rnn is None:
                continue
            yield Report(
                site.node,
                {
                    "model": model.name_holding(rnn),
                    "layer": L.short_name(rnn.kind),
                    "where": where(rnn, ctx),
                    "backward": "accelerator.backward(loss)",
                    "backward_where": f"inside {qn}, with max_grad_norm off",
                    "step": "optimizer.step()",
                    "clip": f"set `max_grad_norm={max_norm!r}` in the TrainingArguments",
                },
                related=[(rnn.ctx, rnn.node, f"the recurrent {L.short_name(rnn.kind)}")],
                scope=site.scope,
            )

    def _helpers(self, ctx, max_norm):
        """`d2l.train(train_iter, net, loss, optimizer, 5)`: a helper of another
        file trains the model it is handed without clipping. Reported at this
        call, where the recurrent model is known; the helper's own file cannot
        see it. No fix: the clip belongs in the helper."""
        for found in helper_steps(ctx):
            step, step_ctx = found.step, found.step_ctx
            if step.clipping is not None or step.framework_clipped or step.closure is not None:
                continue
            if step.model is not None and step.model.first(L.RNN) is not None:
                continue  # the helper's own file sees a recurrent model: reported there
            rnn = found.model.first(L.RNN)
            if rnn is None or step.function is None:
                continue
            helper = step.function.name.value
            yield Report(
                found.call.node,
                {
                    "model": found.model.name_holding(rnn),
                    "layer": L.short_name(rnn.kind),
                    "where": where(rnn, ctx),
                    "backward": step_ctx.code(step.backward),
                    "backward_where": f"{step_ctx.path.name}:{line_of(step_ctx, step.backward)}",
                    "step": step_ctx.code(step.step),
                    "clip": f"`torch.nn.utils.clip_grad_norm_({found.parameter}.parameters(), max_norm={max_norm!r})`"
                            f" in `{helper}`",
                },
                related=[(rnn.ctx, rnn.node, f"the recurrent {L.short_name(rnn.kind)}"),
                         (step_ctx, step.backward, f"the backward pass in {helper}")],
                scope=found.call.scope,
            )

    def _inherited(self, ctx, max_norm):
        """`class DIEN(BaseModel)` holds a GRU; `BaseModel.fit` trains `self`
        without clipping. Reported in the subclass's file: at the step when
        the base class is in this file, else at the recurrent layer (or the
        class) here, with the step as a related location."""
        for inherited in inherited_steps(ctx):
            step, step_ctx, subclass = inherited.step, inherited.step_ctx, inherited.subclass
            if step.clipping is not None or step.framework_clipped:
                continue
            rnns = [layer for layer in subclass.all_layers() if layer.category == L.RNN and not layer.functional]
            if not rnns:
                continue
            rnn = min(rnns, key=lambda layer: (str(layer.ctx.path), layer.ctx.span(layer.node).start_line))
            base_has_rnn = step.model is not None and step.model.first(L.RNN) is not None
            if base_has_rnn:
                continue  # the base class's own file reports it
            node: cst.CSTNode
            if step_ctx is ctx:
                node, backward_where = step.step, f"line {line_of(ctx, step.backward)}"
            else:
                node = rnn.node if rnn.ctx is ctx else subclass.node.name
                backward_where = f"{step_ctx.path.name}:{line_of(step_ctx, step.backward)}"
            base_name = step.klass.name.value if step.klass is not None else "the base class"
            related = [(rnn.ctx, rnn.node, f"the recurrent {L.short_name(rnn.kind)}"),
                       (step_ctx, step.backward, f"the backward pass in {base_name}")]
            yield Report(
                node,
                {
                    "model": subclass.name,
                    "layer": L.short_name(rnn.kind),
                    "where": where(rnn, ctx),
                    "backward": step_ctx.code(step.backward),
                    "backward_where": backward_where,
                    "step": step_ctx.code(step.step),
                    "clip": _clip_call(step_ctx, step, max_norm),
                },
                related=[r for r in related if r[0] is not ctx or r[1] is not node],
                scope=step.scope if step_ctx is ctx else (subclass.node,),
            )

    def _fix(self, ctx, step, max_norm):
        clip = clip_function(ctx)
        if clip is None or step.model_expr is None:
            return None
        if ctx.callee(step.backward) == "torch.distributed.autograd.backward":
            return None  # RPC gradients live in the autograd context, not in `.grad`
        if step.closure is not None:
            return None  # the clip belongs inside the closure, after its backward
        models = _clipped(ctx, step)
        # The clip goes before anything between backward and step that is handed
        # the model (A3C's `ensure_shared_grads(player.model, shared_model)`
        # copies its gradients to the model the optimizer steps), else before the step.
        after = ctx.span(step.backward).end_line
        anchor = next((site.node for site in step.between if site.node is not step.step and any(
            dotted_name(arg.value) in models for arg in site.node.args)
            and ctx.span(site.node).start_line > after), step.step)
        line = ctx.line_text(ctx.span(anchor).start_line)
        indent = line[: len(line) - len(line.lstrip())]
        text = f"\n{indent}".join(f"{clip}({model}.parameters(), max_norm={max_norm!r})" for model in models)
        func = step.step.func
        scaler = func.value if isinstance(func, cst.Attribute) else None
        if step.optimizer is not None and scaler is not None and step.step.args and \
                step.step.args[0].value is step.optimizer and \
                not any(isinstance(s.node.func, cst.Attribute) and s.node.func.attr.value == "unscale_" for s in step.between):
            # AMP: gradients must be unscaled before they are clipped.
            text = f"{ctx.code(scaler)}.unscale_({ctx.code(step.optimizer)})\n{indent}{text}"
        return FixSpec(f"Clip gradients to max_norm={max_norm:g} before the optimizer step", anchor,
                       safety=FixSafety.UNSAFE, insert_before_line=text)


def _clipped(ctx, step) -> List[str]:
    """The models whose parameters the clip takes: the step's model, and every
    other model with a recurrent layer the step ran (a seq2seq step's encoder
    and decoder, stepped by two optimizers after one backward). A submodule of
    a model already clipped (`self.encoder` when the step's model is `self`)
    is in its `parameters()`: clipping it again would change nothing."""
    names = [ctx.code(step.model_expr)] if step.model_expr is not None else []
    for expr in step.recurrent_forwards:
        name = ctx.code(expr)
        if name not in names and not any(name.startswith(f"{model}.") for model in names):
            names.append(name)
    return names


def _clip_call(ctx, step, max_norm: float) -> str:
    """`torch.nn.utils.clip_grad_norm_(decoder.parameters(), max_norm=5.0)`,
    naming the model the optimizer steps when it is known."""
    models = _clipped(ctx, step) or ["model"]
    return " and ".join(f"`torch.nn.utils.clip_grad_norm_({model}.parameters(), max_norm={max_norm!r})`"
                        for model in models)
