"""Which calls turn gradients off: `torch.no_grad()`, `torch.inference_mode()`,
`torch.set_grad_enabled(False)`. Kept apart from modes.py, which builds on the
training facts, so that those facts can ask too."""

from __future__ import annotations

import libcst as cst

NO_GRAD = frozenset({
    "torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad", "torch.autograd.inference_mode",
    "torch.autograd.grad_mode.no_grad", "torch.autograd.grad_mode.inference_mode",
})
SET_GRAD = frozenset({"torch.set_grad_enabled", "torch.autograd.set_grad_enabled",
                      "torch.autograd.grad_mode.set_grad_enabled"})


def disables_grad(ctx, call: cst.Call) -> bool:
    """`torch.no_grad()` and friends, or `torch.set_grad_enabled(False)` with a known False."""
    qn = ctx.callee(call)
    if qn in NO_GRAD:
        return True
    if qn in SET_GRAD and call.args:
        return ctx.constants.value(call.args[0].value) is False
    return False
