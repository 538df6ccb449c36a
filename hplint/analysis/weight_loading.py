"""Does a file load weights into a model? (`load_state_dict`, `torch.load`,
`from_pretrained`, `load_state_dict_from_url`, `pretrained=True`...)

A fix that changes a model's parameters (HPL002's `bias=False`) keeps the
function the model computes, but a checkpoint saved with the old parameters no
longer loads strictly: where the file loads weights, such a fix is unsafe.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

WEIGHT_LOADING_CALLS = frozenset({
    "load_state_dict", "load_state_dict_from_url", "load_url", "from_pretrained", "load_from_checkpoint",
    "load_checkpoint", "load_pretrained", "load_weights",
})


class WeightLoading:
    """`ctx.fact("weight_loading", WeightLoading)`: `first`, the first call
    that loads weights (or passes `pretrained=`), None when there is none."""

    def __init__(self, ctx) -> None:
        self.first: Optional[cst.Call] = None
        for site in ctx.calls:
            if _loads(ctx, site.node):
                self.first = site.node
                break

    @property
    def loads(self) -> bool:
        return self.first is not None


def _loads(ctx, call: cst.Call) -> bool:
    func = call.func
    name = func.attr.value if isinstance(func, cst.Attribute) else (func.value if isinstance(func, cst.Name) else "")
    if name in WEIGHT_LOADING_CALLS or ctx.callee(call) in ("torch.load", "torch.hub.load"):
        return True
    return any(arg.keyword is not None and arg.keyword.value == "pretrained" for arg in call.args)
