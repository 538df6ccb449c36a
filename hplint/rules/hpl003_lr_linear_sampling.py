"""HPL003 lr-linear-sampling: a learning rate searched uniformly over a decade or more."""

from __future__ import annotations

import math

from ..analysis.hyperparams import is_learning_rate
from ..analysis.search_space import LINEAR, SearchSpaceAnalysis, decades, spelling, top_decade_share
from ..numbers import readable
from ._search_fixes import advice, log_fix
from .base import Report, Rule


def percent(share: float) -> str:
    value = share * 100
    return f"{value:.0f}%" if value >= 1 or value == 0 else f"{readable(value, 2)}%"


def linear_lr_fields(lo: float, hi: float, min_decades: float):
    """The message fields that depend only on the bounds of a linear-scale
    learning-rate search (`low`, `high`, `share`, `region`, `compare`), or None
    when the range is too narrow to report. Shared by the Python rule and the
    data-file search spaces (hplint/sweeps.py), so both say exactly the same."""
    if lo < 0 or hi <= lo or decades(lo, hi) < min_decades - 1e-9:
        return None
    span = decades(lo, hi)
    if span >= 2 - 1e-9:  # the top decade against the share log-uniform would give it
        region_low, what = hi / 10, "the top decade"
        share = top_decade_share(lo, hi)
    else:  # below two decades "the top decade" is most of the range: use the upper half
        region_low, what = math.sqrt(lo * hi), "the upper half of its orders of magnitude"
        share = (hi - region_low) / (hi - lo)
    compare = "" if math.isinf(span) else f" (a log-uniform search puts {percent(min(1.0, math.log10(hi / region_low) / span))} there)"
    return {
        "low": readable(lo),
        "high": readable(hi),
        "share": percent(share),
        "region": f"{what} [{readable(region_low)}, {readable(hi)}]",
        "compare": compare,
    }


class LrLinearSampling(Rule):
    code = "HPL003"

    def check(self, ctx):
        min_decades = float(ctx.option(self.code, "min-decades"))
        extra = ctx.option(self.code, "extra-lr-names") or ()
        for dist in ctx.fact("search_space", SearchSpaceAnalysis).distributions:
            if dist.scale != LINEAR or dist.low is None or dist.high is None:
                continue
            fields = linear_lr_fields(dist.low, dist.high, min_decades)
            if fields is None:
                continue
            binding = next((b for b in dist.bindings if is_learning_rate(b.name, extra)), None)
            if binding is None:
                continue
            related = []
            if binding.how in ("keyword", "attribute") and binding.node is not dist.node:
                related.append((ctx, binding.node, f"the learning rate it feeds ({binding.display})"))
            fields.update(name=binding.display, spelling=spelling(ctx, dist), advice=advice(dist))
            yield Report(
                dist.node,
                fields,
                related=related,
                fix=log_fix(ctx, dist),
                scope=dist.scope,
            )
