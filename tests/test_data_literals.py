"""Data literals (tuning tables, vocabularies) are left out of libcst's tree.

torch/sparse/_triton_ops_meta.py holds one 480 KB dict of tuples of numbers;
its libcst tree took 640 MB and 6 s. hplint gives libcst an empty literal of
the same lines instead, so positions elsewhere stay exact and no fix touches it.
"""

from __future__ import annotations

import ast

from hplint.analysis.source import DATA_LITERAL_CHARS, data_literals, elide, parse_checked
from hplint.config import Config
from hplint.engine import Linter
from hplint.fix.runner import fix_text

MODEL = """import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):
        return self.bn(self.conv(x))
"""


def table(name: str = "TABLE", rows: int = 3000, prefix: str = "") -> str:
    body = "".join(f'    ("op", {i}, -{i}.5): ({i}, {i * 2}, "bsr"),\n' for i in range(rows))
    return f"{prefix}{name} = {{\n{body}}}\n"


def test_a_large_literal_of_constants_is_elided_keeping_every_line_and_column():
    text = table() + "AFTER = 1  # same place\n"
    literals = data_literals(ast.parse(text), text)
    assert len(literals) == 1 and literals[0][:2] == (1, 3002)
    elided = elide(text, literals)
    assert elided.count("\n") == text.count("\n") and len(elided) < len(text) // 10
    assert elided.splitlines()[3001] == "}" and elided.endswith("AFTER = 1  # same place\n")
    parsed = parse_checked(text)
    assert parsed.elided == ((1, 3002),)
    assert len(parsed.tree.code) == len(elided)  # libcst got the empty table


def test_only_constant_literals_this_large_are_data():
    big_with_a_call = table().replace('"bsr"', "make()", 1)
    assert data_literals(ast.parse(big_with_a_call), big_with_a_call) == []  # a call is code
    named = table().replace('"bsr"', "torch.int8", 1)  # a value named: torch's Triton table
    assert len(data_literals(ast.parse(named), named)) == 1
    spread = table().replace("TABLE = {\n", "TABLE = {**BASE,\n")
    assert data_literals(ast.parse(spread), spread) == []
    small = table(rows=50)
    assert len(small) < DATA_LITERAL_CHARS and data_literals(ast.parse(small), small) == []
    assert parse_checked(small).elided == ()


def test_nested_and_non_ascii_placed_literals_keep_their_columns():
    # `return [...]` inside a function, and a literal after non-ASCII characters
    # (CPython's columns are UTF-8 bytes, libcst's are characters).
    rows = "".join(f"        [{i}, {i}.0, 'é'],\n" for i in range(4000))
    text = f"def f():\n    return [\n{rows}    ]\n\n\nTÄBLE_größe = {table('', 3000).lstrip(' =')}x = 2\n"
    literals = data_literals(ast.parse(text), text)
    assert [first for first, *_ in literals] == [2, 4006]
    elided = elide(text, literals)
    assert elided.splitlines()[4005] == "TÄBLE_größe = {"
    for original, kept in zip(text.splitlines(), elided.splitlines()):
        if original.rstrip().endswith(("]", "}")) and len(original.strip()) == 1:
            assert original == kept  # the closing bracket stays where it was
    ast.parse(elided)


def test_findings_beside_a_table_keep_exact_positions_and_fixes(tmp_path):
    path = tmp_path / "model.py"
    text = table() + MODEL
    path.write_text(text)
    linter = Linter(Config(root=tmp_path))
    found = [f for f in linter.lint_file(path).findings if f.code == "HPL002"]
    conv_line = text.splitlines().index("        self.conv = nn.Conv2d(3, 8, 3)") + 1
    assert [(f.span.start_line, f.span.start_col) for f in found] == [(conv_line, 21)]
    assert found[0].fix is not None
    outcome = fix_text(linter, text, path, "model.py")
    assert outcome.text == text.replace("nn.Conv2d(3, 8, 3)", "nn.Conv2d(3, 8, 3, bias=False)")


def test_no_fix_is_offered_on_a_node_that_spans_a_table(tmp_path):
    # A Sequential whose statement also holds the table: its HPL002 fix edits only
    # the Linear's arguments (outside the table), a fix of the whole statement none.
    from hplint.engine import _spans_elided
    from hplint.rules.base import FixSpec

    path = tmp_path / "model.py"
    text = "import torch.nn as nn\n" + table() + "net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))\n"
    path.write_text(text)
    linter = Linter(Config(root=tmp_path))
    parsed = parse_checked(text)
    ctx = linter.context(text, parsed.tree, path, elided=parsed.elided)
    table_statement, net_statement = ctx.tree.body[1], ctx.tree.body[2]
    assert _spans_elided(FixSpec("x", table_statement, table_statement), ctx)
    assert not _spans_elided(FixSpec("x", net_statement, net_statement), ctx)
    assert [f.fix is not None for f in linter.lint_file(path).findings if f.code == "HPL002"] == [True]
