"""Positions come from a per-statement fast path; they must equal libcst's
PositionProvider over the whole module, on awkward layouts and real code."""

import ast
import importlib.util
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from hplint.analysis.module import ModuleContext
from hplint.analysis.walk import walk

import needs

AWKWARD = '''#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Docstring
spanning lines."""

import torch; import torch.nn as nn


@torch.no_grad()
@staticmethod
def f(x):  # comment
    return nn.Dropout(
        0.5)(x)

x = 1; y = nn.Linear(
    4, 8)
class A(nn.Module):

    s = """multi
    line"""
    def g(self): return nn.BatchNorm1d(3)
if x:
    z = [nn.ReLU() for _ in range(3)]
elif y:
    pass
else:
    w = {"a": nn.Tanh()}
text = "ünïcødé 😀"; q = nn.Identity()
'''


def _check(text: str, ast_given: bool = False) -> int:
    tree = cst.parse_module(text)
    ctx = ModuleContext(Path("x.py"), text, tree, "x")
    if ast_given:  # as in a batch run: calls then take their positions from CPython's tree
        ctx.ast_tops_from(ast.parse(text).body)
    exact = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
    checked = 0
    for node in walk(tree):
        if isinstance(node, (cst.Call, cst.Arg, cst.Name, cst.FunctionDef, cst.ClassDef)):
            rng = exact[node]
            span = ctx.span(node)
            assert (span.start_line, span.start_col, span.end_line, span.end_col) == (
                rng.start.line, rng.start.column + 1, rng.end.line, rng.end.column + 1), ctx.code(node)
            checked += 1
    return checked


@pytest.mark.parametrize("ast_given", [False, True])
def test_awkward_layout(ast_given):
    assert _check(AWKWARD, ast_given) > 30


# Calls positioned from CPython's tree (ast_positions.py): matched by their text,
# so repeated calls, calls in parentheses, multi-line calls with comments, wide
# characters and "\r\n" files must all come out as libcst places them.
CALLS = '''import torch.nn as nn

def build(width):
    layers = nn.Sequential(nn.ReLU(), nn.Linear(width, width), nn.ReLU(), (nn.Linear(width, 2)))
    head = nn.Linear(
        width * 4,  # in
        10)         # out
    label = "ünïcødé 😀"; other = nn.Linear(len("😀😀"), 3)
    return f(g(h(1)))(2), nn.Tanh()(nn.Tanh()(x)), [nn.Dropout(p) for p in (0.1, 0.2)]


class Net(nn.Module):
    @property
    def block(self): return nn.Sequential(
        nn.Conv2d(3, 8, 3),
            nn.BatchNorm2d(8))
'''


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_calls_positioned_from_cpython_agree_with_libcst(newline):
    text = CALLS.replace("\n", newline)
    tree = cst.parse_module(text)
    ctx = ModuleContext(Path("x.py"), text, tree, "x")
    ctx.ast_tops_from(ast.parse(text).body)
    exact = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
    calls = [n for n in walk(tree) if isinstance(n, cst.Call)]
    fast = 0
    for node in calls:
        rng = exact[node]
        span = ctx.span(node)
        assert (span.start_line, span.start_col, span.end_line, span.end_col) == (
            rng.start.line, rng.start.column + 1, rng.end.line, rng.end.column + 1), ctx.code(node)
        top = ctx._call_tops[id(node)]
        statement = ctx._ast_tops.get(ctx._statement_lines()[id(top)])
        fast += ctx._call_positions().span(top, statement, node, ctx.code(node)) == span
    assert len(calls) == 20
    # The repeated nn.ReLU() and nn.Tanh() and the parenthesised Linear fall back.
    assert fast == 15


# Lines inside compound statements get positions from that line alone, inside
# copies of the blocks around it (module.py's _nested_positions): every kind of
# block, tabs, a comment-only line, continuation lines, decorators and one-line suites.
NESTED = '''
import torch.nn as nn

class Net(nn.Module):
    """Doc."""
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(
            4,
              8)  # continuation lines keep their own indentation
        if self.a:
            self.b = nn.ReLU(); self.c = nn.Tanh()
        elif nn:
            self.b = nn.GELU()
        elif False:
            pass
        else:
            # comment
            self.b = nn.SiLU()


def train(loader):
    for x in loader:
        try:
            y = nn.Dropout(0.5)(x)
        except ValueError as exc:
            y = nn.Identity()(exc)
        except (TypeError, KeyError):
            y = nn.Identity()(1)
        else:
            z = nn.Identity()(y)
        finally:
            w = nn.Identity()(2)
    else:
        v = nn.Identity()(3)
    while loader:
        with nn.Identity() as m, nn.Identity():
            u = m(
    4)
    try:
        t = nn.Identity()(5)
    finally:
        s = nn.Identity()(6)
    if loader: r = nn.Identity()(7)
    match loader:
        case [a, b]:
            q = nn.Identity()(a)
        case _:
            q = nn.Identity()(b)
    return nn.Identity()(8)


@decorated(nn.Identity())
def deco():
	if deco:
		return nn.Identity()(9)
'''


def test_lines_inside_compound_statements():
    assert _check(NESTED) > 120
    assert _check(NESTED, ast_given=True) > 120
    ctx = ModuleContext(Path("x.py"), NESTED, cst.parse_module(NESTED), "x")
    call = next(n for n in walk(ctx.tree) if isinstance(n, cst.Call) and ctx.code(n) == "nn.Dropout(0.5)")
    assert ctx.span(call).start_line == 25
    # The line alone was given positions, not the whole `def train`.
    lines = [entry[0] for entry in ctx._top_positions.values()]
    assert all(isinstance(line, cst.SimpleStatementLine) for line in lines)


@pytest.mark.parametrize("name, at_least", [("nn/modules/rnn.py", 500), ("optim/adam.py", 200), ("nn/functional.py", 2000)])
def test_real_files_from_torch(name, at_least):
    # One test per file, so pytest-xdist can run them side by side.
    spec = importlib.util.find_spec("torch")
    if spec is None:
        needs.missing("torch", "make venv installs the CPU build")
    assert spec is not None and spec.submodule_search_locations is not None
    path = Path(list(spec.submodule_search_locations)[0]) / name
    text = path.read_text(encoding="utf-8")
    assert _check(text) > at_least
    assert _check(text, ast_given=True) > at_least
