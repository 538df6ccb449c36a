"""What a rule is: a small class that asks the shared analysis for facts and
yields `Report`s. Everything users see about a rule (name, severity, message
wording, documentation, options) comes from its catalogue document in
`rules/<CODE>.md`; the class holds only the logic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, Iterator, List, Optional, Tuple

import libcst as cst

from ..findings import FixSafety, Severity


@dataclass
class FixSpec:
    """Replace `node` by `replacement` (a libcst node) — a libcst transformation
    reduced to one node, so formatting and comments elsewhere are untouched."""

    description: str
    node: cst.CSTNode
    replacement: Optional[cst.CSTNode] = None
    safety: FixSafety = FixSafety.SAFE
    # For insertions: text placed before `node`'s line, at its indentation.
    insert_before_line: Optional[str] = None
    insert_after_line: Optional[str] = None


@dataclass
class Report:
    """A rule's raw finding: a node and the fields of its message template."""

    node: cst.CSTNode
    fields: Dict[str, Any] = field(default_factory=dict)
    ctx: Any = None  # ModuleContext holding `node`; defaults to the file being linted
    related: List[Tuple[Any, cst.CSTNode, str]] = field(default_factory=list)  # (ctx, node, message)
    fix: Optional[FixSpec] = None
    severity: Optional[Severity] = None  # overrides the catalogue default (e.g. HPL007's extreme eps)
    scope: Tuple[cst.CSTNode, ...] = ()  # enclosing definitions, for stable fingerprints


class Rule:
    """Base class. Subclasses set `code` and implement `check`."""

    code: ClassVar[str] = ""

    def check(self, ctx) -> Iterator[Report]:  # pragma: no cover - interface
        raise NotImplementedError
