"""HPL010 train-mode-not-restored: an epoch loop switches the model to eval mode
for validation and trains the next epoch without switching it back.

The switches that are not undone are facts of `hplint.analysis.mode_restore`;
this rule words the reports and the fix.
"""

from __future__ import annotations

from ..analysis.mode_restore import ModeRestoreAnalysis, mode_effects
from ..findings import FixSafety
from ._training import line_of
from .base import FixSpec, Report, Rule


class TrainModeNotRestored(Rule):
    code = "HPL010"

    def check(self, ctx):
        for found in ctx.fact("mode_restore", ModeRestoreAnalysis).findings:
            mkey = found.mkey
            model = found.model.name if found.model is not None else f"`{mkey}`"
            fix = None
            if found.restore_at is not None:
                fix = FixSpec(f"Call {mkey}.train() at the start of each iteration", found.restore_at,
                              safety=FixSafety.UNSAFE, insert_before_line=f"{mkey}.train()")
            yield Report(
                found.eval_node,
                {"switch": ctx.code(found.eval_node), "model": model, "key": mkey,
                 "line": line_of(ctx, found.training_node), "effect": _effect(found.model)},
                related=[(ctx, found.training_node, "the training step that runs in eval mode")],
                fix=fix,
                scope=found.scope,
            )


def _effect(model) -> str:
    """What eval mode changes in training for this model: only what it holds
    (a model known to hold no BatchNorm is not told about BatchNorm)."""
    dropout, batchnorm = mode_effects(model) if model is not None else (True, True)
    effects = (["dropout stays off"] if dropout else []) + \
        (["BatchNorm stops updating its statistics"] if batchnorm else [])
    text = " and ".join(effects) or "the layers that depend on the mode stay in eval mode"
    return text[0].upper() + text[1:]
