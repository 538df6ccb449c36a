"""HPL003/HPL004 need no run: the share of uniform samples that land in the top
decade follows from the bounds. The bounds are read from the flagged source
span with `ast` (literals and arithmetic on literals only; nothing runs)."""

from __future__ import annotations

import ast
import operator
import re
from typing import Any, Dict, List, Optional

from ..analysis.search_space import near_one_shares, top_decade_share

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv, ast.Pow: operator.pow}
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


# The shares are the rules' own (hplint.analysis.search_space, used by HPL003
# and HPL004 for their messages), so the probe's figure and the finding agree.
def lr_top_decade_share(lo: float, hi: float) -> float:
    """Share of U[lo, hi] samples in [hi/10, hi] (HPL003's figure)."""
    if hi <= lo:
        return 0.0
    return min(1.0, top_decade_share(lo, hi))


def beta_top_decade_share(lo: float, hi: float) -> float:
    """Share of U[lo, hi] samples of beta whose 1-beta lies in its top decade
    [(1-lo)/10, 1-lo], i.e. far from 1 where sensitivity is lowest (HPL004's
    `far` figure)."""
    if hi <= lo:
        return 0.0
    return min(1.0, near_one_shares(lo, hi)[1])


def _value(node: ast.AST) -> Optional[float]:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _value(node.operand)
        return None if v is None else (-v if isinstance(node.op, ast.USub) else v)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        a, b = _value(node.left), _value(node.right)
        if a is None or b is None:
            return None
        try:
            return float(_OPS[type(node.op)](a, b))
        except (ArithmeticError, OverflowError):
            return None
    return None


def numbers_in(text: str) -> List[float]:
    """The numeric literals (and literal arithmetic) of an expression, in order."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return [float(m) for m in _NUMBER.findall(text)]
    out: List[float] = []

    def visit(node: ast.AST) -> None:
        v = _value(node)
        if v is not None:
            out.append(v)
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def span_text(path: str, line: int, col: int, end_line: int, end_col: int) -> str:
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except (OSError, UnicodeDecodeError):
        return ""
    chunk = lines[line - 1:end_line]
    if not chunk:
        return ""
    if end_col > 0:
        chunk[-1] = chunk[-1][:end_col - 1]
    chunk[0] = chunk[0][col - 1:]
    return "\n".join(chunk)


def share_for_target(target) -> Optional[Dict[str, Any]]:
    numbers = numbers_in(span_text(target.path, target.line, target.col, target.end_line, target.end_col))
    if len(numbers) < 2:
        numbers = [float(m) for m in _NUMBER.findall(target.message)]
    if len(numbers) < 2:
        return None
    lo, hi = sorted(numbers[:2])
    if target.code == "HPL004":
        share = beta_top_decade_share(lo, hi)
    else:
        share = lr_top_decade_share(lo, hi)
    return {"low": lo, "high": hi, "share_top_decade": share, "range": f"U[{lo:g}, {hi:g}]"}
