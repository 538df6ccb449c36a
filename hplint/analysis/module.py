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
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from ..findings import Span
from .imports import ImportTable
from .walk import NODE_TYPES, NON_NODE_TYPES, child_fields, is_node

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
        position_cache: Optional[Dict[int, Tuple[Any, ...]]] = None,
        index_cache: Optional[Dict[int, Tuple[Any, ...]]] = None,
        memo: Optional[Any] = None,
        elided: Tuple[Tuple[int, int], ...] = (),
    ) -> None:
        self.path = path
        self.text = text
        self.tree = tree
        # (first, last) lines of data literals libcst was given empty (source.py):
        # the tree does not hold them, so no fix may rewrite a node spanning one.
        self.elided_lines = elided
        self.module_name = module_name
        self.project = project
        self.config = config
        self.imports = ImportTable(module_name, is_package)
        self._star_targets: Dict[str, Optional["ModuleContext"]] = {}
        # qualname -> (project generation, class_definition's answer)
        self._class_definitions: Dict[Tuple[str, str], Tuple[int, Any]] = {}  # (kind, qualname) -> memo
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
        self._top_positions: Dict[int, Tuple[Any, ...]] = {} if position_cache is None else position_cache
        self._facts: Dict[str, Any] = {}
        # Where an analysis of this file stopped early, with why (`note_limit`).
        self.limits: List[Tuple[Optional[cst.CSTNode], str]] = []
        # Per-node results (analysis.incremental.NodeMemo); an editor session
        # passes its document's, which outlives this version of the file.
        self._own_memo = memo is None
        if memo is None:
            from .incremental import NodeMemo

            memo = NodeMemo()
        self.memo = memo
        self._line_starts: Optional[List[int]] = None
        # id(compound top-level statement) -> (it, {id(node): (its line, enclosing blocks)})
        self._inner_lines: Dict[int, Tuple[Any, Dict[int, Tuple[Any, Any]]]] = {}
        self._ast_tops: Optional[Dict[int, Any]] = None  # line -> CPython's top-level statement
        self._calls_from_ast: Optional[Any] = None  # ast_positions.CallPositions, when asked
        # An editor session keeps libcst's positions across versions; a batch run
        # takes a call's from CPython's tree (ast_positions.py).
        self._positions_from_ast = position_cache is None
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
        classes, functions and module-level assignments, the names it imports,
        and its own star imports,
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
        if name in target.module_assignments:
            # `RNN_TYPE = "GRU"` in a parameters module every file star-imports;
            # an own assignment comes after the imports it would shadow.
            found: Optional[str] = f"{target.module_name}.{name}"
        else:
            found = target.imports.resolve_name(name)
        if found == f"{self.module_name}.{name}":
            # `pkg/__init__.py: from .a import *` where a.py did `from pkg import X`:
            # that X is the package's own name, not a definition; try the other star imports.
            return None
        return found

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
        self._qualname_cache[key] = None  # a nested look-up of the same node stops here
        result = self.imports.qualified_name(node)
        if result is None and isinstance(node, (cst.Call, cst.Subscript)):
            result = self._member_by_constant_name(node)
        self._qualname_cache[key] = result
        return result

    def _member_by_constant_name(self, node) -> Optional[str]:
        """`getattr(nn, RNN_TYPE)` with `RNN_TYPE = "GRU"` (lstm-crf-pytorch),
        `getattr(torch.optim, args.optim)` and `models.__dict__[args.arch]`
        (ImageNet scripts) with an argparse default: the member of an imported
        module or class that a constant names. An unknown or non-constant name
        stays unknown, as does the member of anything that is not imported."""
        found = self.member_named(node)
        if found is None:
            return None
        owner = self.qualified_name(found[0])
        return f"{owner}.{found[1]}" if owner is not None else None

    def member_named(self, node) -> Optional[Tuple[cst.BaseExpression, str]]:
        """(owner expression, member name) of `getattr(owner, NAME)` (the builtin,
        two arguments) or `owner.__dict__[NAME]`, when NAME is a constant identifier."""
        parts = self.member_lookup(node)
        if parts is None:
            return None
        name = self.constants.value(parts[1])
        return (parts[0], name) if isinstance(name, str) and name.isidentifier() else None

    def member_lookup(self, node) -> Optional[Tuple[cst.BaseExpression, cst.BaseExpression]]:
        """(owner expression, name expression) of `getattr(owner, name)` (the
        builtin, two arguments) or `owner.__dict__[name]`, whatever the name is."""
        if isinstance(node, cst.Call):
            if not (isinstance(node.func, cst.Name) and node.func.value == "getattr" and len(node.args) == 2) or \
                    any(arg.keyword is not None or arg.star for arg in node.args) or \
                    self.imports.resolve_name("getattr") not in (None, "builtins.getattr"):
                return None
            owner_expr, name_expr = node.args[0].value, node.args[1].value
        elif isinstance(node, cst.Subscript):
            owner_attr = node.value
            if not (isinstance(owner_attr, cst.Attribute) and owner_attr.attr.value == "__dict__") or \
                    len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
                return None
            owner_expr, name_expr = owner_attr.value, node.slice[0].slice.value
        else:
            return None
        return owner_expr, name_expr

    def callee(self, call: cst.Call) -> Optional[str]:
        return self.qualified_name(call.func)

    def base_qualnames(self, klass: cst.ClassDef) -> List[Optional[str]]:
        """The qualified names of a class's bases, a subscripted generic read
        as its class (`Model[T]`, flair's `Classifier[DT]`: `Model`); None for
        a base that is no name (a call, an unknown)."""
        return [self.qualified_name(_unsubscripted(base.value)) for base in klass.bases]

    def calls_to(self, qualnames) -> List[CallSite]:
        return [site for site in self.calls if self.callee(site.node) in qualnames]

    def note_limit(self, node: Optional[cst.CSTNode], reason: str) -> None:
        """An analysis of this file stopped early (at `node`, when known): the
        engine reports it once per file, so the run does not look clean."""
        if not self.limits:
            self.limits.append((node, reason))

    # -- positions and text --------------------------------------------
    def span(self, node: cst.CSTNode) -> Span:
        """1-based position of `node`. libcst's PositionProvider regenerates the
        whole module (slower than parsing it), so positions are computed for
        the one top-level statement holding the node, shifted by that
        statement's line number, which CPython's parser gives cheaply."""
        top = self._call_tops.get(id(node)) or self._find_top(node)
        if type(node) is cst.Call and top is not None and self._positions_from_ast:
            fast = self._call_positions().span(top, self._cpython_tops().get(self._statement_lines().get(id(top), -1)),
                                               node, self.code(node))
            if fast is not None:
                return fast
        located = None
        if top is not None and not isinstance(top, cst.SimpleStatementLine):
            located = self._nested_positions(top, node)
        if located is None and top is not None:
            located = self._positions_in(top)
        if located is None:
            if self._positions is None:
                self._positions = _positions_of(self.tree)
            rng, shift = self._positions[node], 0
        else:
            positions, shift = located
            rng = positions[node]
        return Span(rng.start.line + shift, rng.start.column + 1, rng.end.line + shift, rng.end.column + 1)

    def _call_positions(self):
        if self._calls_from_ast is None:
            from .ast_positions import CallPositions

            self._calls_from_ast = CallPositions(self.line_text)
        return self._calls_from_ast

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
            positions = _positions_of(sub)
            cached = (top, positions, positions[top].start.line)
            self._top_positions[id(top)] = cached
        return cached[1], start - cached[2]

    def _nested_positions(self, top: cst.CSTNode, node: cst.CSTNode):
        """Positions for a node on a simple statement line inside a compound
        top-level statement (a training loop in `def main():`), without the
        PositionProvider walking the whole compound statement: the line alone,
        inside copies of the blocks that enclose it (same indentation, so the
        columns are the file's; other branches and siblings left out), shifted
        to the line CPython's `ast` gives that statement. None when the node is
        not on such a line (a header, a one-line suite) or the trees do not
        line up; span() then walks the whole top-level statement."""
        inner = self._inner_lines.get(id(top))
        if inner is None or inner[0] is not top:
            # Kept across an editor's versions while `top` is unchanged; keyed by its
            # body (the memo keys by node, and `top` itself may key another fact).
            key = getattr(top, "body", None)
            lines = self.memo.get(key) if key is not None else None
            if not isinstance(lines, _InnerLines):
                lines = _InnerLines(_lines_inside(top))
                if key is not None:
                    self.memo.put(key, lines)
            inner = (top, lines.by_node)
            self._inner_lines[id(top)] = inner
        found = inner[1].get(id(node))
        if found is None:
            return None
        line_stmt, chain = found
        start = self._statement_lines().get(id(top))
        if start is None:
            return None
        cached = self._top_positions.get(id(line_stmt))
        if cached is None or cached[0] is not line_stmt or cached[3] != id(top):
            line = self._nested_line(top, chain)
            if line is None:
                return None
            sub = cst.Module(body=[_enclosed(line_stmt, chain)], default_indent=self.tree.default_indent,
                             default_newline=self.tree.default_newline)
            positions = _positions_of(sub)
            # Kept relative to the top-level statement holding it (an edit above
            # moves that statement, not the line inside it), with that statement's
            # id, so an editor session keeps it while the statement is unchanged.
            cached = (line_stmt, positions, positions[line_stmt].start.line - (line - start), id(top))
            self._top_positions[id(line_stmt)] = cached
        return cached[1], start - cached[2]

    def ast_tops_from(self, body: Optional[List[Any]]) -> None:
        """CPython's top-level statements of this text (its `ast` module's
        body), so that span() need not parse the text again; None forgets them."""
        self._ast_tops = {stmt.lineno: stmt for stmt in body} if body is not None else None
        self._calls_from_ast = None

    def _nested_line(self, top: cst.CSTNode, chain) -> Optional[int]:
        """The line of the statement at the end of `chain`, from CPython's tree."""
        start = self._statement_lines().get(id(top))
        if start is None:
            return None
        return _ast_line(self._cpython_tops().get(start), chain)

    def _cpython_tops(self) -> Dict[int, Any]:
        """CPython's top-level statements by line: lent by the engine, else parsed now."""
        if self._ast_tops is None:
            import ast

            try:
                body = ast.parse(self.text).body
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                body = []
            self._ast_tops = {stmt.lineno: stmt for stmt in body}
        return self._ast_tops

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
        """The source text of `node` as libcst renders it; kept across an
        editor's versions while the node is unchanged (the rendering depends
        only on the node and the module's indent and newline)."""
        kind = ("code", self.tree.default_indent, self.tree.default_newline)
        text = self.memo.get(node, kind)
        if text is None:
            text = self.tree.code_for_node(node)
            self.memo.put(node, text, kind)
        return text

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
        self._class_definitions.clear()
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
    def binder(self):
        from .binder import Binder

        return self.fact("binder", Binder)

    @property
    def models(self):
        from .model import ModelAnalysis

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

    def class_definition(self, qualname: str) -> Optional[Tuple["ModuleContext", cst.ClassDef]]:
        """(ModuleContext, ClassDef) of a class by qualified name: a module-level
        class of this file, or of another project file (re-exports followed)."""
        return self._definition(qualname, "class")

    def function_definition(self, qualname: str) -> Optional[Tuple["ModuleContext", cst.FunctionDef]]:
        """(ModuleContext, FunctionDef) of a module-level function by qualified
        name, in this file or another project file (as class_definition)."""
        return self._definition(qualname, "def")

    def _definition(self, qualname: str, kind: str):
        named = self.class_named if kind == "class" else self.function_named
        local = f"{self.module_name}." if self.module_name else ""
        if qualname.startswith(local) and "." not in qualname[len(local):]:
            node = named(qualname[len(local):])
            return (self, node) if node is not None else None
        if self.project is None or qualname.startswith(("torch.", "builtins.")):
            return None
        # Remembered: model analysis asks for every call's callee (12,000 times
        # on the evaluation corpus). An answer holds while the project's files
        # are unchanged and the other file's context is still the index's own.
        key = (kind, qualname)
        memo = self._class_definitions.get(key)
        if memo is not None and memo[0] == self.project.generation and \
                (memo[1] is None or self.project.holds(memo[1][0])):
            return memo[1]
        found = None
        other, symbol = self.project.resolve_symbol(qualname, self.module_name, self.path)
        if other is not None and symbol and "." not in symbol:
            node = (other.class_named if kind == "class" else other.function_named)(symbol)
            found = (other, node) if node is not None else None
        self._class_definitions[key] = (self.project.generation, found)
        return found

    def class_named(self, name: str) -> Optional[cst.ClassDef]:
        for definition in self.classes:
            if not definition.scope and definition.name == name:
                return definition.node
        return None


# -- positions inside compound statements --------------------------------
# A chain is the path from a top-level compound statement down to a simple
# statement line: a list of (compound statement, branch, index in its block),
# where branch is "body", "orelse" (an else block), "elif" (index unused),
# "finalbody", ("handler", k) or ("case", k).


def _unsubscripted(node: cst.BaseExpression) -> cst.BaseExpression:
    while isinstance(node, cst.Subscript):
        node = node.value
    return node


def _branches(stmt: Any):
    """(branch, suite) of a compound statement's blocks; ("elif", If) for an elif."""
    if isinstance(stmt, (cst.FunctionDef, cst.ClassDef, cst.With)):
        yield "body", stmt.body
    elif isinstance(stmt, (cst.For, cst.While, cst.If)):
        yield "body", stmt.body
        if isinstance(stmt.orelse, cst.Else):
            yield "orelse", stmt.orelse.body
        elif isinstance(stmt.orelse, cst.If):
            yield "elif", stmt.orelse
    elif isinstance(stmt, (cst.Try, cst.TryStar)):
        yield "body", stmt.body
        handlers: Sequence[Any] = stmt.handlers
        for k, handler in enumerate(handlers):
            yield ("handler", k), handler.body
        if stmt.orelse is not None:
            yield "orelse", stmt.orelse.body
        if stmt.finalbody is not None:
            yield "finalbody", stmt.finalbody.body
    elif isinstance(stmt, cst.Match):
        for k, case in enumerate(stmt.cases):
            yield ("case", k), case.body


def _positions_of(module: cst.Module) -> Mapping[cst.CSTNode, Any]:
    """libcst's PositionProvider ranges for every node of `module`, computed by
    the provider's own code generation pass alone. `MetadataWrapper.resolve`
    would also run a batched visit over the tree (which rebuilds no node but
    visits each one) and copy the result into a read-only mapping: measured as
    half of the time of every position on the generated benchmark corpus.
    `_gen_impl` is the hook libcst's providers implement; should a libcst
    release drop it, the wrapper's way is taken."""
    provider = PositionProvider()
    if not hasattr(provider, "_gen_impl") or not hasattr(provider, "_computed"):
        return MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    provider._gen_impl(module)
    return provider._computed


class _InnerLines:
    """_lines_inside's result, tagged so that a memo entry is known to be one."""

    __slots__ = ("by_node",)

    def __init__(self, by_node: Dict[int, Tuple[Any, Any]]) -> None:
        self.by_node = by_node


def _lines_inside(top: cst.CSTNode) -> Dict[int, Tuple[Any, Any]]:
    """id(node) -> (the simple statement line holding it, chain), for every node
    on a simple statement line inside `top` (headers are left out)."""
    from .walk import walk

    found: Dict[int, Tuple[Any, Any]] = {}
    todo: List[Tuple[cst.CSTNode, Tuple[Any, ...]]] = [(top, ())]
    while todo:
        stmt, chain = todo.pop()
        for branch, suite in _branches(stmt):
            if branch == "elif":
                todo.append((suite, chain + ((stmt, "elif", 0),)))
                continue
            if not isinstance(suite, cst.IndentedBlock):
                continue  # `if x: a()`: on the header's line
            for index, inner in enumerate(suite.body):
                step = chain + ((stmt, branch, index),)
                if isinstance(inner, cst.SimpleStatementLine):
                    entry = (inner, step)
                    for node in walk(inner):
                        found[id(node)] = entry
                else:
                    todo.append((inner, step))
    return found


_PASS = cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[cst.Pass()])])


def _only(suite: cst.BaseSuite, inner: cst.CSTNode) -> cst.BaseSuite:
    return suite.with_changes(body=[inner])


def _enclosed(line: cst.SimpleStatementLine, chain) -> cst.CSTNode:
    """`line` inside copies of the blocks of `chain` that hold it, each block
    holding nothing else (other branches: `pass`, or left out)."""
    inner: cst.CSTNode = line
    for stmt, branch, _ in reversed(chain):
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef, cst.With)):
            inner = stmt.with_changes(body=_only(stmt.body, inner))
        elif isinstance(stmt, (cst.For, cst.While, cst.If)):
            if branch == "body":
                inner = stmt.with_changes(body=_only(stmt.body, inner), orelse=None)
            elif branch == "orelse":
                inner = stmt.with_changes(body=_PASS, orelse=stmt.orelse.with_changes(body=_only(stmt.orelse.body, inner)))
            else:  # elif: `inner` is the elif's If
                inner = stmt.with_changes(body=_PASS, orelse=inner)
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            if branch == "body":
                inner = stmt.with_changes(body=_only(stmt.body, inner), orelse=None,
                                          finalbody=stmt.finalbody if not stmt.handlers else None)
                if not stmt.handlers:  # try/finally: the finally block must stay
                    inner = inner.with_changes(finalbody=stmt.finalbody.with_changes(body=_PASS))
            elif branch == "orelse":
                inner = stmt.with_changes(body=_PASS, orelse=stmt.orelse.with_changes(body=_only(stmt.orelse.body, inner)),
                                          finalbody=None)
            elif branch == "finalbody":
                inner = stmt.with_changes(body=_PASS, handlers=[], orelse=None,
                                          finalbody=stmt.finalbody.with_changes(body=_only(stmt.finalbody.body, inner)))
            else:
                handler = stmt.handlers[branch[1]]
                inner = stmt.with_changes(body=_PASS, handlers=[handler.with_changes(body=_only(handler.body, inner))],
                                          orelse=None, finalbody=None)
        else:  # match
            case = stmt.cases[branch[1]]
            inner = stmt.with_changes(cases=[case.with_changes(body=_only(case.body, inner))])
    return inner


_AST_KINDS = {"FunctionDef": ("FunctionDef", "AsyncFunctionDef"), "ClassDef": ("ClassDef",),
              "With": ("With", "AsyncWith"), "For": ("For", "AsyncFor"), "While": ("While",), "If": ("If",),
              "Try": ("Try",), "TryStar": ("TryStar",), "Match": ("Match",)}


def _ast_line(node: Any, chain) -> Optional[int]:
    """CPython's line for the statement `chain` leads to, from `node`, the
    top-level statement's `ast` node; None where the two trees differ."""
    for stmt, branch, index in chain:
        if node is None or type(node).__name__ not in _AST_KINDS.get(type(stmt).__name__, ()):
            return None
        if branch == "elif":
            orelse = getattr(node, "orelse", None)
            node = orelse[0] if orelse and len(orelse) == 1 else None
            continue
        if branch in ("body", "orelse", "finalbody"):
            block, statements = getattr(node, branch, None), _suite_of(stmt, branch)
        elif branch[0] == "handler":
            handlers = getattr(node, "handlers", [])
            block = handlers[branch[1]].body if branch[1] < len(handlers) else None
            statements = stmt.handlers[branch[1]].body
        else:
            cases = getattr(node, "cases", [])
            block = cases[branch[1]].body if branch[1] < len(cases) else None
            statements = stmt.cases[branch[1]].body
        if block is None or not isinstance(statements, cst.IndentedBlock):
            return None
        at = 0
        for inner in statements.body[:index]:
            at += len(inner.body) if isinstance(inner, cst.SimpleStatementLine) else 1
        node = block[at] if at < len(block) else None
    return getattr(node, "lineno", None)


def _suite_of(stmt: Any, branch: str) -> Any:
    if branch == "body":
        return stmt.body
    part = stmt.orelse if branch == "orelse" else stmt.finalbody
    return part.body if part is not None else None


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
    node_types, other_types = NODE_TYPES, NON_NODE_TYPES  # locals: the loop runs per node
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
            value_type = type(value)
            if value_type is tuple or value_type is list:
                kids.extend(value)
            elif value_type in node_types or (value_type not in other_types and is_node(value)):
                kids.append(value)
        # Pushed in reverse so that nodes come out in source order.
        for child in reversed(kids):
            push((child, scope))
    return calls, functions, classes, import_nodes
