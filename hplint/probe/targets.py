"""What a probe confirms: the static findings of the script's project, reduced
to codes and source locations that the child process can match against the
frames that build modules and call them. Torch-free; JSON-serialisable."""

from __future__ import annotations

import ast
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ..catalogue import probed_codes

if TYPE_CHECKING:
    from ..config import Config
    from ..findings import Finding

# Codes whose findings the probe knows how to measure (HPL003/004 analytically):
# the rule documents that say `probe = true`. verdicts.VERDICTS has one function each.
PROBED_CODES = probed_codes()


@dataclass
class Location:
    """A span in a file: absolute path, 1-based lines (inclusive) and start column."""

    path: str
    line: int
    end_line: int
    col: int = 1
    message: str = ""


@dataclass
class Target:
    """One static finding to confirm at runtime."""

    code: str
    path: str  # absolute
    line: int
    col: int
    end_line: int
    message: str = ""
    shown: str = ""  # the path as the user sees it
    related: List[Location] = field(default_factory=list)
    end_col: int = 0
    # The rule's options as the project configures them (the rule document's
    # defaults otherwise): the verdicts use the rule's own thresholds.
    options: Dict[str, Any] = field(default_factory=dict)
    # The innermost function holding the finding: {"name", "line" (the def), "first"
    # (its code object's first line: the first decorator)}; None at module level.
    function: Optional[Dict[str, Any]] = None

    @property
    def locations(self) -> List[Location]:
        return [Location(self.path, self.line, self.end_line, self.col)] + list(self.related)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Target":
        data = dict(data)
        data["related"] = [Location(**r) for r in data.get("related", [])]
        return cls(**data)


def rule_options(code: str, config: Optional["Config"] = None) -> Dict[str, Any]:
    """Every option of `code`: the configured value, else the catalogue default."""
    from ..catalogue import load_catalogue

    doc = load_catalogue().get(code)
    if doc is None:
        return {}
    if config is None:
        return doc.option_defaults()
    return {o.name: config.option(code, o.name) for o in doc.options}


def targets_from_findings(findings: Iterable, config: Optional["Config"] = None) -> List[Target]:
    """`Finding`s (paths as displayed, relative to the working directory) -> Targets."""
    out = []
    options: Dict[str, Dict[str, Any]] = {}
    for f in findings:
        if f.code not in PROBED_CODES:
            continue
        related = [Location(os.path.abspath(r.path), r.span.start_line, r.span.end_line,
                            r.span.start_col, r.message) for r in f.related]
        if f.code not in options:
            options[f.code] = rule_options(f.code, config)
        path = os.path.abspath(f.path)
        out.append(Target(f.code, path, f.span.start_line, f.span.start_col, f.span.end_line, f.message,
                          f.path, related, f.span.end_col, dict(options[f.code]),
                          enclosing_function(path, f.span.start_line)))
    return out


_FUNCTIONS: Dict[str, List[Tuple[int, int, int, str]]] = {}  # path -> (first, def line, end, name)


def enclosing_function(path: str, line: int) -> Optional[Dict[str, Any]]:
    """The innermost `def` whose body holds `line` (read with `ast`; nothing runs)."""
    spans = _FUNCTIONS.get(path)
    if spans is None:
        spans = []
        try:
            tree = ast.parse(Path(path).read_bytes())
        except (OSError, SyntaxError, ValueError):
            tree = None
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                spans.append((first, node.lineno, node.end_lineno or node.lineno, node.name))
        _FUNCTIONS[path] = spans
    inside = [s for s in spans if s[1] < line <= s[2]]
    if not inside:
        return None
    first, def_line, _end, name = max(inside, key=lambda s: s[1])
    return {"name": name, "line": def_line, "first": first}


# -- which files the static pass lints ------------------------------------------
def _module_files(name: str, roots: Sequence[Path]) -> Optional[Path]:
    rel = Path(*name.split("."))
    for root in roots:
        for candidate in (root / rel.with_suffix(".py"), root / rel / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def local_imports(path: Path, roots: Sequence[Path]) -> List[Path]:
    """Project-local files `path` imports (absolute and relative imports), parsed
    with `ast` only; nothing is executed."""
    try:
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return []
    found: List[Path] = []
    for node in ast.walk(tree):
        names: List[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = path.parent
                for _ in range(node.level - 1):
                    base = base.parent
                mod = node.module or ""
                for sub in ([mod] if mod else []) + [f"{mod}.{a.name}".strip(".") for a in node.names]:
                    hit = _module_files(sub, [base]) if sub else None
                    if hit:
                        found.append(hit)
                continue
            mod = node.module or ""
            names = [mod] + [f"{mod}.{a.name}" for a in node.names]
        for name in names:
            hit = _module_files(name, roots)
            if hit:
                found.append(hit)
    return found


def project_files(script: Path, roots: Sequence[Path], limit: int = 200) -> List[Path]:
    """The script and, transitively, the project files it imports."""
    script = script.resolve()
    seen: Dict[Path, None] = {script: None}
    queue = [script]
    while queue and len(seen) < limit:
        current = queue.pop()
        for dep in local_imports(current, roots):
            dep = dep.resolve()
            if dep not in seen:
                seen[dep] = None
                queue.append(dep)
    return list(seen)


def static_targets(script: Path, select: Optional[Sequence[str]] = None) -> Tuple[List[Target], List, Dict[str, str]]:
    """Lint the script's project with hplint's own engine.

    Returns (targets, findings, texts): the probe-able findings, every finding,
    and the analysed file texts by absolute path (for the report store)."""
    from ..config_resolver import Resolver
    from ..engine import Linter

    resolver = Resolver()  # each project file gets its own configuration, as in `hplint check`
    config = resolver.config_for(script)
    linter = Linter(config, resolver=resolver)
    roots = [script.resolve().parent]
    if config.source is not None:
        roots.append(Path(config.root))
    findings: List[Finding] = []
    texts: Dict[str, str] = {}
    for path in project_files(script, roots):
        result = linter.lint_file(path)
        if result.source is not None:
            texts[str(path)] = result.source
        findings.extend(f for f in result.findings if f.code not in ("HPL000", "HPL100"))
    if select:
        findings = [f for f in findings if f.code in select]
    return targets_from_findings(findings, config), findings, texts
