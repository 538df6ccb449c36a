"""HPL006 batch-size-too-large: a per-step training batch size above the configured bound,
or a large fraction of a dataset whose size is known."""

from __future__ import annotations

from ..analysis.batch_sizes import BatchSizeAnalysis
from ..analysis.training import trains_with_differential_privacy
from .base import Report, Rule


def describe(size) -> str:
    text = size.source
    if size.via:
        text += f" `{size.via}`"
    if size.accumulation and size.accumulation > 1:
        text += (f"; with gradient_accumulation_steps={size.accumulation} each optimizer step sees "
                 f"{size.value * size.accumulation} samples per device")
    return text


class BatchSizeTooLarge(Rule):
    code = "HPL006"

    def check(self, ctx):
        bound = int(ctx.option(self.code, "max-batch-size"))
        fraction = float(ctx.option(self.code, "max-dataset-fraction"))
        private = trains_with_differential_privacy(ctx)
        for size in ctx.fact("batch_sizes", BatchSizeAnalysis).sizes:
            if size.value > bound and not private:
                problem = f"exceeds max-batch-size {bound}"
            elif size.dataset_size and size.value >= fraction * size.dataset_size:
                share = round(100 * size.value / size.dataset_size)
                steps = -(-size.dataset_size // size.value)
                problem = (f"is {share}% of the {size.dataset_size}-sample dataset "
                           f"(only {steps} optimizer step{'s' if steps != 1 else ''} per epoch)")
            else:
                continue
            yield Report(size.node, {"value": size.value, "source": describe(size), "problem": problem},
                         scope=size.scope)
