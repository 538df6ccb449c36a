"""Reading a call: its arguments by signature slot, the name it calls."""

from __future__ import annotations

from typing import Optional

import libcst as cst


def call_argument(call: cst.Call, index: int, name: str) -> Optional[cst.BaseExpression]:
    """The argument at positional `index` or passed as `name=`, else None.
    After `*args`/`**kwargs` the slot is not known statically: None."""
    position = 0
    for arg in call.args:
        if arg.star:
            return None
        if arg.keyword is None:
            if position == index:
                return arg.value
            position += 1
        elif arg.keyword.value == name:
            return arg.value
    return None


def call_name(call: cst.Call) -> str:
    """The last name of what is called: `step` for `opt.step()`, `len` for `len(x)`."""
    func = call.func
    return func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
