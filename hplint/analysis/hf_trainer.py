"""Hugging Face `Trainer`s of a file and the models they train (for HPL005).

`Trainer(model=Net(), args=TrainingArguments(max_grad_norm=0))`: the loop
(backward, step) is Trainer's, which clips at `max_grad_norm` (1.0 unless 0
or None). A Trainer is listed only when the training analysis found a
TrainingArguments that turns clipping off (`frameworks()` has "transformers"),
and only when its model resolves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List

from .module import CallSite
from .training import TrainingAnalysis


@dataclass
class HfTrainer:
    site: CallSite  # the Trainer construction
    qualname: str  # `transformers.Trainer`, `transformers.Seq2SeqTrainer`...
    model: Any  # the training analysis' ModelRef of its `model`


class HfTrainerAnalysis:
    """`ctx.fact("hf_trainers", HfTrainerAnalysis).trainers`."""

    def __init__(self, ctx) -> None:
        self.trainers: List[HfTrainer] = self._compute(ctx)

    @staticmethod
    def _compute(ctx) -> List[HfTrainer]:
        analysis = ctx.fact("training", TrainingAnalysis)
        if "transformers" not in analysis.frameworks():
            return []  # every TrainingArguments of the file keeps Trainer's clipping
        out: List[HfTrainer] = []
        for site in ctx.calls:
            qn = ctx.callee(site.node) or ""
            if not (qn.startswith("transformers.") and qn.endswith("Trainer")):
                continue
            model_expr = next((a.value for a in site.node.args if a.keyword is not None and a.keyword.value == "model"),
                              None)
            if model_expr is None and site.node.args and site.node.args[0].keyword is None:
                model_expr = site.node.args[0].value
            model = analysis.resolver.resolve_argument(model_expr, site) if model_expr is not None else None
            if model is not None:
                out.append(HfTrainer(site, qn, model))
        return out
