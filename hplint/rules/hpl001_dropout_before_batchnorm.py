"""HPL001 dropout-before-batchnorm: dropout output reaching BatchNorm directly."""

from __future__ import annotations

from ..analysis import layers as L
from ._edges import describe_location, group_by_location, more_batchnorms
from .base import Report, Rule

# Reshapes, identity, activations and pooling keep the dropout's variance
# shift on its way into BatchNorm; so does a concatenation along channels or
# samples (DenseNet's `torch.cat([x, F.dropout(out)], 1)` into the next block's
# BatchNorm): the dropped channels reach it unchanged.
_ALLOWED = {L.RESHAPE, L.IDENTITY, L.ACTIVATION, L.POOL, L.CONCAT}


class DropoutBeforeBatchNorm(Rule):
    code = "HPL001"

    def check(self, ctx):
        # One finding per dropout: the one that ends a DenseNet layer feeds the next
        # layer's, the transition's and the final BatchNorm (bearpaw's densenet.py),
        # and a BatchNorm wrapper with two branches holds two; every one is related.
        for group in group_by_location(ctx.models.edges_between(L.DROPOUT, L.BATCHNORM, _ALLOWED), ctx):
            node_ctx, node, edge = group[0]
            related = [(e.dst.ctx, e.dst.node, f"the {L.short_name(e.dst.kind)} it feeds") for _, _, e in group]
            if edge.site is not None and edge.site_ctx is not None:
                related.append((edge.site_ctx, edge.site, "connected here"))
            yield Report(
                node,
                {
                    "dropout": L.short_name(edge.src.kind),
                    "batchnorm": L.short_name(edge.dst.kind),
                    "where": describe_location(edge.dst, ctx) + more_batchnorms(len(group) - 1),
                    "how": "through a concatenation" if L.CONCAT in edge.through else "directly",
                },
                ctx=node_ctx,
                related=related,
            )
