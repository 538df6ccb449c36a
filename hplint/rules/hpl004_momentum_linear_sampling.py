"""HPL004 momentum-linear-sampling: a momentum/β near 1 searched uniformly on a linear scale."""

from __future__ import annotations

import math

from ..analysis.hyperparams import is_momentum
from ..analysis.search_space import LINEAR, SearchSpaceAnalysis, near_one_shares, spelling
from ..numbers import readable
from ._search_fixes import one_minus_fix
from .base import Report, Rule
from .hpl003_lr_linear_sampling import percent

# A grid this long bound to `betas` is a diffusion noise schedule, not a search.
_SCHEDULE_LENGTH = 100
# A range that reaches β = 1 (`suggest_float("momentum", 0.0, 1.0)`) spans
# infinitely many decades of 1-β; the log-scale advice stops at β = 0.999.
_OPEN_TOP_U = 1e-3


def linear_momentum_fields(lo: float, hi: float, min_decades: float, grid_count=None):
    """The bound-dependent message fields of a linear-scale search over a β
    near 1, or None when it is not reported. Shared by the Python rule and the
    data-file search spaces (hplint/sweeps.py)."""
    if not (0 <= lo < hi <= 1):
        return None
    open_top = hi == 1
    u_low, u_high = (_OPEN_TOP_U if open_top else 1 - hi), 1 - lo  # the range of 1 - β
    if u_low >= u_high:
        return None
    span = math.log10(u_high / u_low)
    if span < min_decades - 1e-9:
        return None
    if grid_count is not None and grid_count > _SCHEDULE_LENGTH:
        return None
    if span >= 2 - 1e-9:  # the decade of 1-β nearest 1 and the one farthest from it
        near_u, what = 10 * u_low, "the decade nearest 1"
        share, far_share = near_one_shares(lo, hi, u_low)
        far = f", while {percent(far_share)} have 1-β in [{readable(u_high / 10)}, {readable(u_high)}]"
    else:  # under two decades: the half of the orders of magnitude nearest 1
        near_u, what = math.sqrt(u_low * u_high), "the half of its orders of magnitude nearest 1"
        share, far = (hi - (1 - near_u)) / (hi - lo), ""
    near_beta = 1 - near_u
    return {
        "low": readable(lo),
        "high": readable(hi),
        "share": percent(share),
        "region": f"[{readable(near_beta)}, {readable(hi)}], {what}",
        "far": far,
        "log_share": percent(math.log10(near_u / u_low) / span),
        "r_low": readable(round(math.log10(u_low), 3)),
        "r_high": readable(round(math.log10(u_high), 3)),
    }


class MomentumLinearSampling(Rule):
    code = "HPL004"

    def check(self, ctx):
        min_decades = float(ctx.option(self.code, "min-decades"))
        extra = ctx.option(self.code, "extra-momentum-names") or ()
        for dist in ctx.fact("search_space", SearchSpaceAnalysis).distributions:
            if dist.scale != LINEAR or dist.low is None or dist.high is None:
                continue
            fields = linear_momentum_fields(dist.low, dist.high, min_decades,
                                            dist.grid_count if dist.is_grid else None)
            if fields is None:
                continue
            binding = next((b for b in dist.bindings if is_momentum(b.name, extra)), None)
            if binding is None:
                continue
            related = []
            if binding.how in ("keyword", "attribute") and binding.node is not dist.node:
                related.append((ctx, binding.node, f"the momentum it feeds ({binding.display})"))
            fields.update(name=binding.display, spelling=spelling(ctx, dist))
            yield Report(
                dist.node,
                fields,
                related=related,
                fix=one_minus_fix(ctx, dist),
                scope=dist.scope,
            )
