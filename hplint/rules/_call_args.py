"""Editing a call's arguments for fixes: one way to add a keyword argument,
so every rule's fix keeps a multi-line call's layout the same way."""

from __future__ import annotations

from typing import List

import libcst as cst

_NO_SPACE = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))


def append_keyword(args: List[cst.Arg], name: str, value: cst.BaseExpression) -> List[cst.Arg]:
    """`args` with `name=value` added last. A multi-line call with a trailing
    comma keeps it: the new argument takes the last one's comma (the newline
    before `)`), the last one its neighbour's."""
    args = list(args)
    new_arg = cst.Arg(keyword=cst.Name(name), value=value, equal=_NO_SPACE)
    if args and isinstance(args[-1].comma, cst.Comma):
        new_arg = new_arg.with_changes(comma=args[-1].comma)
        between = args[-2].comma if len(args) > 1 and isinstance(args[-2].comma, cst.Comma) else \
            cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        args[-1] = args[-1].with_changes(comma=between)
    elif args:
        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    args.append(new_arg)
    return args


def set_keyword(args: List[cst.Arg], name: str, value: cst.BaseExpression) -> List[cst.Arg]:
    """`args` with `name=value`: the existing keyword's value replaced, else appended."""
    for i, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == name:
            return [*args[:i], arg.with_changes(value=value), *args[i + 1:]]
    return append_keyword(args, name, value)
