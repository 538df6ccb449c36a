"""One parsed file and the facts every rule shares about it.

A `ModuleContext` is built once per file: it parses, walks the tree once to
index what rules look for (calls with their enclosing definitions, classes,
functions, imports, module-level assignments), and computes heavier facts
(constants, model structure, training loops, search spaces) lazily, once, the
first time a rule asks. Source positions are resolved only when a finding has
to be reported, since libcst's position metadata costs about a full codegen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from ..findings import Span
from .imports import ImportTable
from .walk import children

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
    ) -> None:
        self.path = path
        self.text = text
        self.tree = tree
        self.module_name = module_name
        self.project = project
        self.config = config
        self.imports = ImportTable(module_name, is_package)
        self.calls: List[CallSite] = []
        self.classes: List[Definition] = []
        self.functions: List[Definition] = []
        # Module-level `NAME = value` assignments, in order (constants, configs).
        self.module_assignments: Dict[str, List[cst.BaseExpression]] = {}
        self._positions: Optional[Any] = None
        self._facts: Dict[str, Any] = {}
        self._qualname_cache: Dict[int, Optional[str]] = {}
        self._index()

    # -- the one walk ---------------------------------------------------
    def _index(self) -> None:
        imports = self.imports
        calls = self.calls
        stack: List[Tuple[cst.CSTNode, Scope]] = [(self.tree, ())]
        pop = stack.pop
        push = stack.append
        for stmt in self.tree.body:
            self._index_module_statement(stmt)
        while stack:
            node, scope = pop()
            kind = type(node)
            if kind is cst.Call:
                calls.append(CallSite(node, scope))
            elif kind is cst.FunctionDef:
                self.functions.append(Definition(node, scope))
                if not scope:
                    imports.add_definition(node.name.value)
                scope = scope + (node,)
            elif kind is cst.ClassDef:
                self.classes.append(Definition(node, scope))
                if not scope:
                    imports.add_definition(node.name.value)
                scope = scope + (node,)
            elif kind is cst.Import or kind is cst.ImportFrom:
                imports.add_import(node)
                continue
            # Pushed in reverse so that nodes are visited in source order.
            for child in reversed(list(children(node))):
                push((child, scope))

    def _index_module_statement(self, stmt: cst.CSTNode) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    for target in small.targets:
                        if isinstance(target.target, cst.Name):
                            self.module_assignments.setdefault(target.target.value, []).append(small.value)
                elif isinstance(small, cst.AnnAssign) and small.value is not None:
                    if isinstance(small.target, cst.Name):
                        self.module_assignments.setdefault(small.target.value, []).append(small.value)
        elif isinstance(stmt, cst.If):
            # `if TYPE_CHECKING:` / platform switches: still module-level names.
            for inner in stmt.body.body:
                self._index_module_statement(inner)

    # -- names ----------------------------------------------------------
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
        if self._positions is None:
            wrapper = MetadataWrapper(self.tree, unsafe_skip_copy=True)
            self._positions = wrapper.resolve(PositionProvider)
        rng = self._positions[node]
        return Span(rng.start.line, rng.start.column + 1, rng.end.line, rng.end.column + 1)

    def code(self, node: cst.CSTNode) -> str:
        return self.tree.code_for_node(node)

    def anchor(self, node: cst.CSTNode, scope: Scope = ()) -> str:
        """Line-independent identity for fingerprints: enclosing names + code."""
        names = ".".join(n.name.value for n in scope if hasattr(n, "name"))
        return f"{names}:{' '.join(self.code(node).split())}"

    # -- lazily computed shared facts ------------------------------------
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
