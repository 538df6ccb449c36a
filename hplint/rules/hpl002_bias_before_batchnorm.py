"""HPL002 bias-before-batchnorm: a biased Linear/Conv whose output goes straight into BatchNorm."""

from __future__ import annotations

import libcst as cst

from ..analysis import layers as L
from ..findings import FixSafety
from ._edges import describe_location, primary_location
from .base import FixSpec, Report, Rule

# Only reshapes keep "directly": an activation between them makes the bias matter.
# A bias stays a per-channel constant through a sum (`bn(conv(x) + shortcut)`)
# and a channel concatenation, so BatchNorm still cancels it.
_ALLOWED = {L.RESHAPE, L.IDENTITY, L.SUM, L.CONCAT}


def bias_false_fix(call: cst.Call, kind: str) -> FixSpec:
    """`bias=False` on the layer's construction, editing only that argument."""
    slot = L.BIAS_SLOT.get(kind, -1)
    false = cst.Name("False")
    args = list(call.args)
    for i, arg in enumerate(args):
        if (arg.keyword is not None and arg.keyword.value == "bias") or (
            arg.keyword is None and not arg.star and i == slot
        ):
            args[i] = arg.with_changes(value=false)
            break
    else:
        new_arg = cst.Arg(keyword=cst.Name("bias"), value=false,
                          equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
        if args and isinstance(args[-1].comma, cst.Comma):
            # Multi-line call with a trailing comma: the new argument takes the
            # last one's comma (newline before `)`), the last one its neighbour's.
            new_arg = new_arg.with_changes(comma=args[-1].comma)
            between = args[-2].comma if len(args) > 1 and isinstance(args[-2].comma, cst.Comma) else \
                cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            args[-1] = args[-1].with_changes(comma=between)
        elif args:
            args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        args.append(new_arg)
    return FixSpec("Set bias=False", call, call.with_changes(args=args), FixSafety.SAFE)


class BiasBeforeBatchNorm(Rule):
    code = "HPL002"

    def check(self, ctx):
        for edge in ctx.models.edges_between(L.AFFINE, L.BATCHNORM, _ALLOWED):
            if edge.src.bias is not True:  # False, or unknown (`bias=not use_bn`)
                continue
            where = primary_location(edge, ctx)
            if where is None:
                continue
            node_ctx, node = where
            fix = bias_false_fix(node, edge.src.kind) if node is edge.src.node else None
            yield Report(
                node,
                {
                    "layer": L.short_name(edge.src.kind),
                    "batchnorm": L.short_name(edge.dst.kind),
                    "where": describe_location(edge.dst, ctx),
                },
                ctx=node_ctx,
                related=[(edge.dst.ctx, edge.dst.node, f"the {L.short_name(edge.dst.kind)} that cancels the bias")],
                fix=fix,
            )
