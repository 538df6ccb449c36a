"""Positions come from a per-statement fast path; they must equal libcst's
PositionProvider over the whole module, on awkward layouts and real code."""

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


def _check(text: str) -> int:
    tree = cst.parse_module(text)
    ctx = ModuleContext(Path("x.py"), text, tree, "x")
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


def test_awkward_layout():
    assert _check(AWKWARD) > 30


@pytest.mark.parametrize("name, at_least", [("nn/modules/rnn.py", 500), ("optim/adam.py", 200), ("nn/functional.py", 2000)])
def test_real_files_from_torch(name, at_least):
    # One test per file, so pytest-xdist can run them side by side.
    spec = importlib.util.find_spec("torch")
    if spec is None:
        needs.missing("torch", "make venv installs the CPU build")
    assert spec is not None and spec.submodule_search_locations is not None
    path = Path(list(spec.submodule_search_locations)[0]) / name
    assert _check(path.read_text(encoding="utf-8")) > at_least
