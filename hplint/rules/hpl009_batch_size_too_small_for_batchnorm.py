"""HPL009 batch-size-too-small-for-batchnorm: a tiny training batch for a model with BatchNorm."""

from __future__ import annotations

from ..analysis import layers as L
from ..analysis.batch_sizes import BatchSizeAnalysis, batches_count_graphs
from ..analysis.training import TrainingAnalysis
from ._training import where
from .base import Report, Rule
from .hpl006_batch_size_too_large import describe


class BatchSizeTooSmallForBatchNorm(Rule):
    code = "HPL009"

    def check(self, ctx):
        minimum = int(ctx.option(self.code, "min-batch-size"))
        sizes = [s for s in ctx.fact("batch_sizes", BatchSizeAnalysis).sizes if 0 < s.value < minimum]
        if not sizes or batches_count_graphs(ctx):
            return
        # The file trains a model holding BatchNorm (the first such step decides).
        for step in ctx.fact("training", TrainingAnalysis).steps:
            if step.model is None:
                continue
            bn = step.model.first(L.BATCHNORM)
            if bn is None:
                continue
            for size in sizes:
                yield Report(
                    size.node,
                    {"value": size.value, "source": describe(size), "minimum": minimum,
                     "model": step.model.name_holding(bn), "batchnorm": L.short_name(bn.kind), "where": where(bn, ctx)},
                    related=[(bn.ctx, bn.node, f"the {L.short_name(bn.kind)}"),
                             (ctx, step.step, "the training step")],
                    scope=size.scope,
                )
            return
