"""HPL001 dropout-before-batchnorm: dropout output reaching BatchNorm directly."""

from __future__ import annotations

from ..analysis import layers as L
from ._edges import describe_location, primary_location
from .base import Report, Rule

# Reshapes, identity, activations and pooling keep the dropout's variance
# shift on its way into BatchNorm; so does a concatenation along channels or
# samples (DenseNet's `torch.cat([x, F.dropout(out)], 1)` into the next block's
# BatchNorm): the dropped channels reach it unchanged.
_ALLOWED = {L.RESHAPE, L.IDENTITY, L.ACTIVATION, L.POOL, L.CONCAT}


class DropoutBeforeBatchNorm(Rule):
    code = "HPL001"

    def check(self, ctx):
        for edge in ctx.models.edges_between(L.DROPOUT, L.BATCHNORM, _ALLOWED):
            where = primary_location(edge, ctx)
            if where is None:
                continue
            node_ctx, node = where
            related = [(edge.dst.ctx, edge.dst.node, f"the {L.short_name(edge.dst.kind)} it feeds")]
            if edge.site is not None and edge.site_ctx is not None:
                related.append((edge.site_ctx, edge.site, "connected here"))
            yield Report(
                node,
                {
                    "dropout": L.short_name(edge.src.kind),
                    "batchnorm": L.short_name(edge.dst.kind),
                    "where": describe_location(edge.dst, ctx),
                    "how": "through a concatenation" if L.CONCAT in edge.through else "directly",
                },
                ctx=node_ctx,
                related=related,
            )
