"""HPL010 train-mode-not-restored: an epoch loop switches the model to eval mode
for validation and trains the next epoch without switching it back."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ..analysis import layers as L
from ..analysis.modes import ModeAnalysis
from ..analysis.training import TrainingAnalysis, _is_method, body_statements
from ..findings import FixSafety
from ._training import contains, line_of
from .base import FixSpec, Report, Rule


class TrainModeNotRestored(Rule):
    code = "HPL010"

    def check(self, ctx):
        training = ctx.fact("training", TrainingAnalysis)
        modes = ctx.fact("modes", ModeAnalysis)
        reported = set()
        for _key, sites in training.calls_by_function.items():
            if not _worth_walking(ctx, modes, sites):
                continue
            site0 = sites[0]
            fn = site0.function
            klass = site0.klass if fn is not None and site0.klass is not None and _is_method(fn, site0.klass) else None
            flow = modes.flow(fn, klass)
            for keys, node, state, step in flow.trainings:
                if any(state.in_train(k) for k in keys):
                    continue
                found = [(k, state.maybe_eval(k)) for k in keys]
                found = [(k, n) for k, n in found if n is not None]
                if not found:
                    continue
                mkey, eval_node = found[0]
                if id(eval_node) in reported:
                    continue
                if not _contained_in_scope(fn, ctx, eval_node):
                    continue  # the switch happened in a helper's own body: reported there
                if step is not None and step.model is not None and step.model.layers and \
                        not (step.model.categories() & {L.DROPOUT, L.BATCHNORM}):
                    # Eval mode changes nothing for this model. A model with no
                    # layers at all is not known: a base class whose subclasses
                    # bring them (DeepCTR-Torch's BaseModel.fit on `self`).
                    continue
                reported.add(id(eval_node))
                model = step.model.name if step is not None and step.model is not None else f"`{mkey}`"
                yield Report(
                    eval_node,
                    {"switch": ctx.code(eval_node), "model": model, "key": mkey,
                     "line": line_of(ctx, node)},
                    related=[(ctx, node, "the training step that runs in eval mode")],
                    fix=self._fix(ctx, fn, node, eval_node, mkey),
                    scope=site0.scope if fn is not None else (),
                )

    def _fix(self, ctx, fn, training_node, eval_node, mkey) -> Optional[FixSpec]:
        body = fn.body if fn is not None else ctx.tree
        loops = [s for s in body_statements(body) if isinstance(s, (cst.For, cst.While)) and contains(s, training_node)]
        if not loops:
            return None
        both = [s for s in loops if contains(s, eval_node)]
        loop = both[0] if both else loops[-1]  # outermost loop holding both, else the innermost one
        if not isinstance(loop.body, cst.IndentedBlock) or not loop.body.body:
            return None
        return FixSpec(f"Call {mkey}.train() at the start of each iteration", loop.body.body[0],
                       safety=FixSafety.UNSAFE, insert_before_line=f"{mkey}.train()")


def _worth_walking(ctx, modes, sites) -> bool:
    """A body that trains and may switch modes (directly or through same-file helpers)."""
    return modes.reaches(sites, "train") and modes.reaches(sites, "switch")


def _contained_in_scope(fn, ctx, node) -> bool:
    return contains(fn if fn is not None else ctx.tree, node)
