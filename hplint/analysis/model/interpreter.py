"""What the construction and the forward-flow interpreters share: the file,
the statement budget, the call that brought a foreign layer in, and the pairs
of layers that never exist in one model; plus reading a static value with the
model's own attributes (`self.init_size`).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import libcst as cst

from ..constants import UNKNOWN

MAX_DEPTH = 8
_STATEMENT_BUDGET = 50_000  # per file, plus two per line: pathological inputs end analysis, not the run


class Budget(Exception):
    """The file spent its statement budget: analysis ends, the run goes on."""


class Interpreter:
    """State of one file's model analysis that both interpreters read and write."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self._statements = 0
        self._budget = _STATEMENT_BUDGET + 2 * ctx.text.count("\n")
        # The call in the analysed file that brought in the class or helper of
        # another file now being built (`Layer.entry`, where findings go).
        self._entry: Optional[cst.CSTNode] = None
        # Which call of `_entry` this is: a helper of another file called in a loop
        # (`for ...: layers.extend(block(...))`) brings its layers in once per round,
        # and the dropout ending one round meets the BatchNorm starting the next.
        self._entry_round = 0
        self._entry_rounds = 0
        # Pairs (id, id) of layers from the two branches of one `if` whose
        # condition is unknown (outside any loop), found by construction: they
        # never exist in the same model, so the flow joins them by no edge
        # (`if use_bn: fc = Linear(bias=False); bn = BN(..)` / `else: fc = Linear()`).
        self._exclusive: set = set()
        self.stopped_at: Optional[cst.CSTNode] = None

    def _tick(self, ctx, stmt: cst.CSTNode) -> None:
        self._statements += 1
        if self._statements > self._budget:
            # Where this file's analysis stopped: the statement, or the call of
            # this file that led into the other file's code being run.
            self.stopped_at = stmt if ctx is self.ctx else self._entry
            raise Budget()


def is_self_attr(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self"


_BINARY_OPS = {
    cst.Add: lambda a, b: a + b, cst.Subtract: lambda a, b: a - b, cst.Multiply: lambda a, b: a * b,
    cst.FloorDivide: lambda a, b: a // b, cst.Power: lambda a, b: a ** b if abs(b) < 64 else UNKNOWN,
}


def static_value(ctx, expr: cst.BaseExpression, consts: Dict[str, Any], self_consts: Dict[str, Any], depth: int = 0) -> Any:
    """`ctx.constants.value`, plus the model's own static attributes (`self.init_size`)."""
    if depth > 8:
        return UNKNOWN
    if is_self_attr(expr):
        return self_consts.get(expr.attr.value, UNKNOWN)
    if isinstance(expr, cst.BinaryOperation) and type(expr.operator) in _BINARY_OPS:
        left = static_value(ctx, expr.left, consts, self_consts, depth + 1)
        right = static_value(ctx, expr.right, consts, self_consts, depth + 1)
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        try:
            return _BINARY_OPS[type(expr.operator)](left, right)
        except (TypeError, ArithmeticError, ValueError):
            return UNKNOWN
    return ctx.constants.value(expr, consts)
