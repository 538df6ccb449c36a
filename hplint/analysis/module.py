"""One parsed file and the facts every rule shares about it.

A `ModuleContext` is built once per file: it parses, walks the tree once to
index what rules look for (calls with their enclosing definitions, classes,
functions, imports, module-level assignments), and computes heavier facts
(constants, model structure, training loops, search spaces) lazily, once, the
first time a rule asks. Source positions are resolved only when a finding has
to be reported, since libcst's position metadata costs about a full codegen.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from ..findings import Span
from .imports import ImportTable
from .walk import child_fields

if TYPE_CHECKING:  # pragma: no cover
    from .project import ProjectIndex

Scope = Tuple[cst.CSTNode, ...]  # enclosing ClassDef/FunctionDef nodes, outermost first


@dataclass(frozen=True)
class CallSite:
    node: cst.Call
    scope: Scope

    @property
    def function(self) -> Optional[cst.FunctionDef]:
        for node in reversed(self.scope):
            if isinstance(node, cst.FunctionDef):
                return node
        return None

    @property
    def klass(self) -> Optional[cst.ClassDef]:
        for node in reversed(self.scope):
            if isinstance(node, cst.ClassDef):
                return node
        return None


@dataclass(frozen=True)
class Definition:
    node: Any  # cst.ClassDef | cst.FunctionDef
    scope: Scope

    @property
    def name(self) -> str:
        return self.node.name.value


class ModuleContext:
    def __init__(
        self,
        path: Path,
        text: str,
        tree: cst.Module,
        module_name: str,
        is_package: bool = False,
        project: Optional["ProjectIndex"] = None,
        config: Any = None,
        top_lines: Optional[Dict[int, int]] = None,
        position_cache: Optional[Dict[int, Tuple[Any, Any, int]]] = None,
        index_cache: Optional[Dict[int, Tuple[Any, ...]]] = None,
        memo: Optional[Any] = None,
    ) -> None:
        self.path = path
        self.text = text
        self.tree = tree
        self.module_name = module_name
        self.project = project
        self.config = config
        self.imports = ImportTable(module_name, is_package)
        self._star_targets: Dict[str, Optional["ModuleContext"]] = {}
        if project is not None:
            # Weakly: a bound method would make every context a reference cycle.
            self.imports.star_lookup = _StarLookup(self)
        self.calls: List[CallSite] = []
        self.classes: List[Definition] = []
        self.functions: List[Definition] = []
        # Module-level `NAME = value` assignments, in order (constants, configs).
        self.module_assignments: Dict[str, List[cst.BaseExpression]] = {}
        self._positions: Optional[Any] = None  # whole-module fallback
        self._call_tops: Dict[int, cst.CSTNode] = {}
        self._index_cache = index_cache
        self._all_tops: Optional[Dict[int, cst.CSTNode]] = None
        # id(top-level statement) -> first line; given by the incremental parser.
        self._top_lines: Optional[Dict[int, int]] = top_lines
        # id(top-level statement) -> (statement, positions, line inside its sub-module);
        # an editor session passes one that outlives this version of the file.
        self._top_positions: Dict[int, Tuple[Any, Any, int]] = {} if position_cache is None else position_cache
        self._facts: Dict[str, Any] = {}
        # Per-node results (analysis.incremental.NodeMemo); an editor session
        # passes its document's, which outlives this version of the file.
        self._own_memo = memo is None
        if memo is None:
            from .incremental import NodeMemo

            memo = NodeMemo()
        self.memo = memo
        self._line_starts: Optional[List[int]] = None
        self._qualname_cache: Dict[int, Optional[str]] = {}
        self._index()

    # -- the one walk ---------------------------------------------------
    def _index(self) -> None:
        """Index every top-level statement; an editor session reuses the index
        of statements an edit did not touch (same node objects)."""
        cache = self._index_cache
        imports = self.imports
        for stmt in self.tree.body:
            self._index_module_statement(stmt)
            entry = cache.get(id(stmt)) if cache is not None else None
            if entry is None or entry[0] is not stmt:
                entry = (stmt,) + _index_statement(stmt)
                if cache is not None:
                    cache[id(stmt)] = entry
            _, calls, functions, classes, import_nodes = entry
            self.calls.extend(calls)
            for call in calls:
                self._call_tops[id(call.node)] = stmt
            self.functions.extend(functions)
            self.classes.extend(classes)
            for node in import_nodes:
                imports.add_import(node)
            for definition in functions + classes:
                if not definition.scope:
                    imports.add_definition(definition.name)

    def _index_module_statement(self, stmt: cst.CSTNode) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    for target in small.targets:
                        if isinstance(target.target, cst.Name):
                            self.module_assignments.setdefault(target.target.value, []).append(small.value)
                        elif (isinstance(target.target, (cst.Tuple, cst.List)) and isinstance(small.value, (cst.Tuple, cst.List))
                              and len(target.target.elements) == len(small.value.elements)):
                            # `LR_MIN, LR_MAX = 1e-5, 1e-1`: each name gets its element.
                            for name, value in zip(target.target.elements, small.value.elements):
                                if isinstance(name.value, cst.Name) and not isinstance(value, cst.StarredElement):
                                    self.module_assignments.setdefault(name.value.value, []).append(value.value)
                elif isinstance(small, cst.AnnAssign) and small.value is not None:
                    if isinstance(small.target, cst.Name):
                        self.module_assignments.setdefault(small.target.value, []).append(small.value)
        elif isinstance(stmt, cst.If):
            # `if TYPE_CHECKING:` / platform switches: still module-level names.
            for inner in stmt.body.body:
                self._index_module_statement(inner)

    # -- names ----------------------------------------------------------
    def _star_import(self, module: str, name: str) -> Optional[str]:
        """What `from module import *` binds `name` to, when `module` is a file
        of the project (`from model import *` next to `train.py`): its own
        classes and functions, the names it imports, and its own star imports,
        filtered by a literal `__all__`; private names are not exported."""
        if name.startswith("_") or self.project is None:
            return None
        # Every name no import binds asks (local variables too): find the module once.
        if module not in self._star_targets:
            self._star_targets[module] = self.project.context_for_module(module, self.module_name, self.path)
        target = self._star_targets[module]
        if target is None or target is self:
            return None
        exports = target.declared_exports()
        if exports is not None and name not in exports:
            return None
        return target.imports.resolve_name(name)

    def declared_exports(self) -> Optional[frozenset]:
        """The names of a literal module-level `__all__`, or None."""
        values = self.module_assignments.get("__all__")
        if not values or not isinstance(values[-1], (cst.List, cst.Tuple)):
            return None
        names = set()
        for element in values[-1].elements:
            value = getattr(element, "value", None)
            if not isinstance(value, cst.SimpleString):
                return None  # computed: do not guess
            names.add(value.evaluated_value)
        return frozenset(names)

    def qualified_name(self, node: cst.BaseExpression) -> Optional[str]:
        key = id(node)
        if key in self._qualname_cache:
            return self._qualname_cache[key]
        result = self.imports.qualified_name(node)
        self._qualname_cache[key] = result
        return result

    def callee(self, call: cst.Call) -> Optional[str]:
        return self.qualified_name(call.func)

    def calls_to(self, qualnames) -> List[CallSite]:
        return [site for site in self.calls if self.callee(site.node) in qualnames]

    # -- positions and text --------------------------------------------
    def span(self, node: cst.CSTNode) -> Span:
        """1-based position of `node`. libcst's PositionProvider regenerates the
        whole module (slower than parsing it), so positions are computed for
        the one top-level statement holding the node, shifted by that
        statement's line number, which CPython's parser gives cheaply."""
        top = self._call_tops.get(id(node)) or self._find_top(node)
        located = self._positions_in(top) if top is not None else None
        if located is None:
            if self._positions is None:
                self._positions = MetadataWrapper(self.tree, unsafe_skip_copy=True).resolve(PositionProvider)
            rng, shift = self._positions[node], 0
        else:
            positions, shift = located
            rng = positions[node]
        return Span(rng.start.line + shift, rng.start.column + 1, rng.end.line + shift, rng.end.column + 1)

    def _find_top(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        """Top-level statement of a node that is not a call (calls are indexed).
        The first such lookup maps every node once; findings are rare."""
        if self._all_tops is None:
            from .walk import walk

            self._all_tops = {id(inner): stmt for stmt in self.tree.body for inner in walk(stmt)}
        return self._all_tops.get(id(node))

    def _positions_in(self, top: cst.CSTNode):
        start = self._statement_lines().get(id(top))
        if start is None:
            return None
        cached = self._top_positions.get(id(top))
        if cached is None or cached[0] is not top:
            # The file's own indentation and newline: a block indented like the
            # file's default stores no indent of its own, so a sub-module with
            # libcst's 4-space default would shift every column inside it.
            sub = cst.Module(body=[top], default_indent=self.tree.default_indent,
                             default_newline=self.tree.default_newline)
            positions = MetadataWrapper(sub, unsafe_skip_copy=True).resolve(PositionProvider)
            cached = (top, positions, positions[top].start.line)
            self._top_positions[id(top)] = cached
        return cached[1], start - cached[2]

    def _statement_lines(self) -> Dict[int, int]:
        """id(top-level libcst statement) -> its first line, from `ast`."""
        if self._top_lines is None:
            import ast

            from .incremental import statement_lines

            try:
                body = ast.parse(self.text).body
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                body = None
            # None when the shapes differ: span() then uses the slow, exact path.
            self._top_lines = (statement_lines(self.tree.body, body) if body is not None else None) or {}
        return self._top_lines

    def line_text(self, line: int) -> str:
        """The text of 1-based `line`, without its line break ("" past the end)."""
        if self._line_starts is None:
            from ..text_lines import line_starts

            self._line_starts = line_starts(self.text)
        starts = self._line_starts
        if not 1 <= line <= len(starts):
            return ""
        end = starts[line] if line < len(starts) else len(self.text)
        return self.text[starts[line - 1]:end].rstrip("\r\n")

    def code(self, node: cst.CSTNode) -> str:
        return self.tree.code_for_node(node)

    def anchor(self, node: cst.CSTNode, scope: Scope = ()) -> str:
        """Line-independent identity for fingerprints: enclosing names + code."""
        names = ".".join(n.name.value for n in scope if hasattr(n, "name"))
        return f"{names}:{' '.join(self.code(node).split())}"

    # -- lazily computed shared facts ------------------------------------
    def release(self) -> None:
        """Drop the facts (and per-node results) computed so far. Facts hold
        the context they were computed from, so a context with facts is a
        reference cycle that only a full collection frees; released, it and
        its tree go as soon as the last reference does. A released context
        that is used again computes its facts again (ProjectIndex.release_all
        releases only contexts nothing can reach any more)."""
        self._facts.clear()
        self._star_targets.clear()
        if self._own_memo:
            from .incremental import NodeMemo

            self.memo = NodeMemo()

    def fact(self, key: str, factory):
        """Compute a fact once per file (`factory(ctx)`), then reuse it."""
        if key not in self._facts:
            self._facts[key] = factory(self)
        return self._facts[key]

    @property
    def constants(self):
        from .constants import ConstantEvaluator

        return self.fact("constants", ConstantEvaluator)

    @property
    def models(self):
        from .model_graph import ModelAnalysis

        return self.fact("models", ModelAnalysis)

    def option(self, code: str, name: str):
        if self.config is not None:
            return self.config.option(code, name)
        from ..catalogue import load_catalogue

        doc = load_catalogue().get(code)
        return doc.option_defaults().get(name) if doc else None

    def function_named(self, name: str) -> Optional[cst.FunctionDef]:
        for definition in self.functions:
            if not definition.scope and definition.name == name:
                return definition.node
        return None

    def class_named(self, name: str) -> Optional[cst.ClassDef]:
        for definition in self.classes:
            if not definition.scope and definition.name == name:
                return definition.node
        return None


class _StarLookup:
    """`ctx._star_import` through a weak reference to `ctx`."""

    __slots__ = ("ctx",)

    def __init__(self, ctx: ModuleContext) -> None:
        self.ctx = weakref.ref(ctx)

    def __call__(self, module: str, name: str) -> Optional[str]:
        ctx = self.ctx()
        return ctx._star_import(module, name) if ctx is not None else None


def _index_statement(top: cst.CSTNode):
    """(calls, functions, classes, import statements) in one top-level statement,
    in source order. This loop runs for every node of every file: it is the
    walk of walk.children, inlined."""
    calls: List[CallSite] = []
    functions: List[Definition] = []
    classes: List[Definition] = []
    import_nodes: List[cst.CSTNode] = []
    stack: List[Tuple[cst.CSTNode, Scope]] = [(top, ())]
    pop = stack.pop
    push = stack.append
    node_type = cst.CSTNode
    while stack:
        node, scope = pop()
        kind = type(node)
        if kind is cst.Call:
            calls.append(CallSite(node, scope))
        elif kind is cst.FunctionDef:
            functions.append(Definition(node, scope))
            scope = scope + (node,)
        elif kind is cst.ClassDef:
            classes.append(Definition(node, scope))
            scope = scope + (node,)
        elif kind is cst.Import or kind is cst.ImportFrom:
            import_nodes.append(node)
            continue
        kids: List[cst.CSTNode] = []
        for name in child_fields(kind):
            value = getattr(node, name)
            if type(value) is tuple or type(value) is list:
                kids.extend(value)
            elif isinstance(value, node_type):
                kids.append(value)
        # Pushed in reverse so that nodes come out in source order.
        for child in reversed(kids):
            push((child, scope))
    return calls, functions, classes, import_nodes
