"""HPL002 bias-before-batchnorm: a biased Linear/Conv whose output goes straight into BatchNorm."""

from __future__ import annotations

import re
from typing import Optional, Tuple

import libcst as cst

from ..analysis import layers as L
from ..analysis.model import LINEAR_LAYERS
from ..analysis.weight_loading import WeightLoading, nearby_loader
from ..findings import FixSafety
from ._call_args import append_keyword
from ._edges import describe_location, group_by_location, more_batchnorms
from .base import FixSpec, Report, Rule

# Only reshapes keep "directly": an activation between them makes the bias matter.
# A bias stays a per-channel constant through a sum (`bn(conv(x) + shortcut)`)
# and a channel concatenation, so BatchNorm still cancels it.
_ALLOWED = {L.RESHAPE, L.IDENTITY, L.SUM, L.CONCAT}


def bias_false_fix(call: cst.Call, kind: str, flag: Optional[Tuple[str, bool]] = None,
                   unsafe: bool = False) -> FixSpec:
    """`bias=False` on the layer's construction, editing only that argument.
    With `flag` (the BatchNorm exists only when `batch_norm` is true, and the
    layer is built either way): `bias=not batch_norm`, which keeps the bias
    where no BatchNorm follows. `unsafe` when the model's file loads weights
    (`load_state_dict`, `pretrained=True`: a checkpoint saved with the bias
    would no longer load strictly), reads a `.bias` (an init of it would fail
    on None), or the BatchNorm hangs on a test the fix cannot spell."""
    slot = L.BIAS_SLOT.get(kind, -1)
    false: cst.BaseExpression = cst.Name("False")
    description = "Set bias=False"
    if flag is not None:
        name, present_when = flag
        text = f"not {name}" if present_when else name
        false = cst.parse_expression(text)
        description = f"Set bias={text}"
    args = list(call.args)
    for i, arg in enumerate(args):
        if (arg.keyword is not None and arg.keyword.value == "bias") or (
            arg.keyword is None and not arg.star and i == slot
        ):
            args[i] = arg.with_changes(value=false)
            break
    else:
        args = append_keyword(args, "bias", false)
    # `Conv2d(c, c, 3, **kwargs, bias=False)` raises if some caller's kwargs
    # hold `bias` too: only this file's call sites were read.
    unsafe = unsafe or any(arg.star == "**" for arg in call.args)
    safety = FixSafety.UNSAFE if unsafe else FixSafety.SAFE
    return FixSpec(description, call, call.with_changes(args=args), safety)


# Reshapes that keep a Linear's features on one axis, adding or removing only
# axes of size 1 (or doing nothing on an (N, F) tensor).
_KEEPS_FEATURES = frozenset({"unsqueeze", "squeeze", "flatten", "contiguous"})


def bias_cancelled(edge) -> bool:
    """Does the BatchNorm subtract the whole bias of `edge.src`?

    BatchNorm subtracts one mean per channel, so the bias is cancelled exactly
    when each BatchNorm channel sees one bias value. A conv's bias is one value
    per output channel, broadcast over positions, and stays so through reshapes
    such as `flatten`. A Linear's bias is one value per output feature: a view
    that spreads F = C*s*s features over C channels of s*s positions
    (`Linear(z, 128*s*s)` -> `view(N, 128, s, s)` -> `BatchNorm2d(128)`, the DCGAN
    generator stem) leaves s*s different values per channel, of which only the
    mean is cancelled. So after a reshape a Linear is reported only when the
    shapes show one value per channel: out_features == num_features, or a
    reshape to `(N, C)` / `(N, C, 1, 1)` / `unsqueeze`. Unknown shapes: silence.
    Every path from the layer to the BatchNorm must cancel it.
    """
    if edge.src.kind not in LINEAR_LAYERS:
        return True
    return all(_path_keeps_bias_per_channel(edge, path) for path in edge.reshape_paths or [()])


def _path_keeps_bias_per_channel(edge, reshapes) -> bool:
    if not reshapes:
        return True
    features, channels = edge.src.size, edge.dst.size
    if features is not None and channels is not None:
        return features == channels
    for op, dims in reshapes:
        if op in _KEEPS_FEATURES:
            continue
        if op in ("view", "reshape") and dims and (len(dims) <= 2 or all(d == 1 for d in dims[2:])):
            continue
        return False
    return True


class BiasBeforeBatchNorm(Rule):
    code = "HPL002"

    def check(self, ctx):
        # One finding per biased layer: a DenseNet conv whose output is
        # concatenated into the next block's, the transition's and the final
        # BatchNorm is one bias to remove, with every BatchNorm as related.
        edges = [edge for edge in ctx.models.edges_between(L.AFFINE, L.BATCHNORM, _ALLOWED)
                 if edge.source_bias() is True  # not False, nor unknown (`bias=not use_bn`)
                 and bias_cancelled(edge) and not ctx.models.output_escapes(edge)]
        neighbours_load: dict = {}  # id(file of the layer) -> whether a neighbour loads its weights
        for group in group_by_location(edges, ctx):
            node_ctx, node, edge = group[0]
            fix = None
            if node is edge.src.node:
                loads = any(c.fact("weight_loading", WeightLoading).loads for c in (ctx, node_ctx))
                if not loads:
                    if id(node_ctx) not in neighbours_load:
                        neighbours_load[id(node_ctx)] = nearby_loader(node_ctx, ctx.path) is not None
                    loads = neighbours_load[id(node_ctx)]
                flag, unspellable = _bn_flag(edge)
                fix = bias_false_fix(node, edge.src.kind, flag, loads or unspellable or _reads_a_bias(node_ctx))
            yield Report(
                node,
                {
                    "layer": L.short_name(edge.src.kind),
                    "batchnorm": L.short_name(edge.dst.kind),
                    "where": describe_location(edge.dst, ctx) + more_batchnorms(len(group) - 1),
                    "how": _how(edge),
                },
                ctx=node_ctx,
                related=[(e.dst.ctx, e.dst.node, f"the {L.short_name(e.dst.kind)} that cancels the bias")
                         for _, _, e in group],
                fix=fix,
            )


def _how(edge) -> str:
    """How the output reaches the BatchNorm: `bn(h + self.shortcut(x))` is
    through a sum (the shortcut's bias is still one constant per channel)."""
    if L.SUM in edge.through:
        return "through a sum"
    if L.CONCAT in edge.through:
        return "through a concatenation"
    return "directly"


_BIAS_ATTRIBUTE = re.compile(r"\.bias\b")


def _reads_a_bias(ctx) -> bool:
    """The file touches a layer's `.bias` (`nn.init.constant_(self.conv.bias, 0)`,
    pytorch_geometric_temporal's tsagcn/gman): with `bias=False` that is None,
    and the init raises, so the fix is not safe there."""
    return bool(_BIAS_ATTRIBUTE.search(ctx.text))


def _bn_flag(edge) -> Tuple[Optional[Tuple[str, bool]], bool]:
    """(the flag under which only the BatchNorm was built, in the same function
    as the layer (`layers += [conv]; if batch_norm: layers += [bn]`), or None;
    whether the BatchNorm hangs on a test no fix can spell: `bn if norm == "bn"
    else None`, two flags). Built under such a test, the layer may be used
    without it, and `bias=False` would change that model."""
    extra = [(name, value) for serial, name, value, test in edge.dst.conditions
             if serial == edge.src.frame and (serial, name, value, test) not in edge.src.conditions]
    if not extra:
        return None, False
    if len(extra) == 1 and extra[0][0] is not None:
        return (extra[0][0], extra[0][1]), False
    return None, True
