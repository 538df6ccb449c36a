"""Rules only query facts (issue 10).

A rule asks the analysis layer (`ctx.fact(...)`, `ctx.models`, `ctx.calls`,
`ctx.callee`, `ctx.constants`...) and builds reports and fixes. Walking the
tree, interpreting statement bodies or resolving names belongs in
hplint/analysis/, where every rule shares it. This test reads the source of
every module under hplint/rules/ and fails on the signs of a rule doing that
work itself.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, Tuple

RULES = Path(__file__).resolve().parent.parent / "hplint" / "rules"

# Functions of the analysis layer that traverse a tree or a body.
TRAVERSALS = frozenset({"walk", "children", "child_fields", "body_statements", "contains"})
# libcst's own traversal and name resolution.
LIBCST_TRAVERSAL_MODULES = ("libcst.metadata", "libcst.matchers", "libcst.codemod")
VISITOR_BASES = frozenset({"CSTVisitor", "CSTTransformer", "BatchableCSTVisitor", "CSTVisitorT", "MatcherDecoratableVisitor",
                           "MatcherDecoratableTransformer", "NodeVisitor", "NodeTransformer"})
# Fields that hold nested statement blocks: reading them is interpreting control flow.
BLOCK_FIELDS = frozenset({"orelse", "handlers", "finalbody", "cases"})

# What must stay, each with why. Keys: (module file name, finding). Keep this
# empty unless a rule truly cannot get the thing as a fact; a stale entry fails.
ALLOWED: dict = {
    # (example) ("hplNNN_name.py", "calls walk()"): "why it cannot be a fact",
}


def _analysis_module(node: ast.ImportFrom) -> str:
    """`from ..analysis.walk import x` -> "hplint.analysis.walk"."""
    module = node.module or ""
    if node.level == 0:
        return module
    base = ["hplint", "rules"][: max(0, 2 - (node.level - 1))]
    return ".".join(base + ([module] if module else []))


def _findings(path: Path) -> Iterator[Tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "hplint.analysis.walk":
                    yield "imports hplint.analysis.walk", node.lineno
                if alias.name.startswith(LIBCST_TRAVERSAL_MODULES):
                    yield f"imports {alias.name}", node.lineno
        elif isinstance(node, ast.ImportFrom):
            module = _analysis_module(node)
            names = [alias.name for alias in node.names]
            if module == "hplint.analysis.walk" or (module == "hplint.analysis" and "walk" in names):
                yield "imports hplint.analysis.walk", node.lineno
            if module.startswith(LIBCST_TRAVERSAL_MODULES) or (module == "libcst" and
                                                                set(names) & {"metadata", "matchers", "codemod"}):
                yield f"imports {module}", node.lineno
            if module.startswith("hplint.analysis"):
                for name in names:
                    if name.startswith("_"):
                        yield f"imports the private {module}.{name}", node.lineno
                    if name in TRAVERSALS:
                        yield f"imports {name}()", node.lineno
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name in TRAVERSALS or name == "visit":
                yield f"calls {name}()", node.lineno
        elif isinstance(node, ast.ClassDef):
            for base in node.bases:
                name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else None
                if name in VISITOR_BASES:
                    yield f"subclasses {name}", node.lineno
        elif isinstance(node, ast.Attribute):
            if node.attr == "tree" and isinstance(node.value, ast.Name) and node.value.id == "ctx":
                yield "reads ctx.tree", node.lineno
            if node.attr in BLOCK_FIELDS:
                yield f"reads .{node.attr} of a statement", node.lineno
            if node.attr == "body" and isinstance(node.value, ast.Attribute) and node.value.attr == "body":
                yield "reads .body.body of a statement", node.lineno
    # A function that calls itself recurses over nodes (or values) on its own.
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == fn.name:
                    yield f"{fn.name}() recurses", node.lineno


def _all_findings():
    found = {}
    for path in sorted(RULES.glob("*.py")):
        for what, line in _findings(path):
            found.setdefault((path.name, what), []).append(line)
    return found


def test_rules_only_query_facts():
    found = _all_findings()
    unexpected = [f"hplint/rules/{name}:{lines[0]}: {what}" for (name, what), lines in sorted(found.items())
                  if (name, what) not in ALLOWED]
    assert not unexpected, (
        "rules must query analysis facts, not walk trees or resolve names themselves; move this into "
        "hplint/analysis/ (a ctx.fact) or, if it truly must stay, add it to ALLOWED with why:\n"
        + "\n".join(unexpected))


def test_the_allow_list_is_not_stale():
    found = _all_findings()
    assert [key for key in ALLOWED if key not in found] == []


def test_the_checks_see_a_rule_that_walks(tmp_path):
    """The detector itself: each sign is caught in a made-up rule module."""
    path = tmp_path / "hpl999_walks.py"
    path.write_text(
        "from ..analysis.walk import walk\n"
        "from ..analysis.training import _assignments, body_statements\n"
        "import libcst.metadata\n"
        "class V(cst.CSTVisitor):\n"
        "    pass\n"
        "def check(ctx, stmt):\n"
        "    for node in walk(ctx.tree):\n"
        "        pass\n"
        "    for s in body_statements(stmt.body.body):\n"
        "        pass\n"
        "    return stmt.orelse\n"
        "def down(node):\n"
        "    return down(node.value)\n"
    )
    whats = {what for what, _ in _findings(path)}
    assert whats == {
        "imports hplint.analysis.walk", "imports walk()", "imports the private hplint.analysis.training._assignments",
        "imports body_statements()", "imports libcst.metadata", "subclasses CSTVisitor", "calls walk()",
        "reads ctx.tree", "calls body_statements()", "reads .body.body of a statement", "reads .orelse of a statement",
        "down() recurses",
    }
