"""The data every part of hplint exchanges: severities, locations, fixes, findings.

Lines and columns are 1-based everywhere in hplint (as editors show them);
columns count Unicode code points. The language server converts to LSP's
0-based UTF-16 positions at its edge.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field, replace
from typing import List, Optional, Tuple


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(
                f"unknown severity {text!r} (expected one of: error, warning, info)"
            ) from None

    def __str__(self) -> str:  # "warning", as users write it
        return self.name.lower()


@dataclass(frozen=True, order=True)
class Span:
    """A range in a file: start inclusive, end exclusive, 1-based lines and columns."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int

    @classmethod
    def point(cls, line: int, col: int) -> "Span":
        return cls(line, col, line, col)


@dataclass(frozen=True)
class TextEdit:
    span: Span
    new_text: str
    # Notebooks: the 1-based cell the span is in (the span is relative to it).
    cell: Optional[int] = None


class FixSafety(str, enum.Enum):
    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class Fix:
    """Edits that remove a finding. `safe` fixes keep behaviour everywhere but the
    defect itself and are applied by `--fix`; `unsafe` ones need `--unsafe-fixes`."""

    description: str
    edits: Tuple[TextEdit, ...]
    safety: FixSafety = FixSafety.SAFE


@dataclass(frozen=True)
class RelatedLocation:
    """A second place a finding is about (the BatchNorm the dropout feeds)."""

    path: str
    span: Span
    message: str
    # Notebooks: `span` is relative to cell `cell` (1-based, as Jupyter counts
    # cells); `raw_span` is the same place in the .ipynb file's JSON text.
    cell: Optional[int] = None
    raw_span: Optional[Span] = None

    @property
    def file_span(self) -> Span:
        return self.raw_span or self.span


@dataclass(frozen=True)
class Finding:
    """One problem a rule found: its rule (`code`, `name`), severity, message,
    where it is (`path` as displayed, `span` 1-based in code points), an
    optional `fix`, and related locations (e.g. the BatchNorm a dropout feeds)."""

    code: str
    name: str
    severity: Severity
    message: str
    path: str
    span: Span
    fix: Optional[Fix] = None
    related: Tuple[RelatedLocation, ...] = ()
    # Text that identifies the finding independently of its line number: the
    # flagged source text plus its enclosing definition. Fingerprints (SARIF,
    # baselines) hash it, so they survive lines moving.
    anchor: str = ""
    # Set when a probe run confirmed this finding on the same file contents.
    probe_note: Optional[str] = None
    # Notebooks: `span` is relative to cell `cell` (1-based among all cells);
    # `raw_span` is where that code sits in the .ipynb JSON text (SARIF, github).
    cell: Optional[int] = None
    raw_span: Optional[Span] = None

    @property
    def file_span(self) -> Span:
        """The position in the file as stored on disk (differs for notebooks)."""
        return self.raw_span or self.span

    @property
    def line(self) -> int:
        return self.span.start_line

    @property
    def col(self) -> int:
        return self.span.start_col

    def fingerprint(self) -> str:
        """Stable across runs and line moves: code, path and anchor text only."""
        key = "\x1f".join((self.code, self.path.replace("\\", "/"), self.anchor or self.message))
        return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]

    def with_severity(self, severity: Severity) -> "Finding":
        return replace(self, severity=severity)


@dataclass
class FileResult:
    """What linting one file produced."""

    path: str
    findings: List[Finding] = field(default_factory=list)
    # The text that was linted, kept for fixes and diffs.
    source: Optional[str] = None
    # Internal errors (a rule that crashed): logged, the run exits 2, other rules still ran.
    errors: List[str] = field(default_factory=list)
    # A YAML/JSON file that holds no search space: not a file hplint lints.
    skipped: bool = False
    # Set when the linter tracks dependencies (the result cache): the project
    # files this result's facts were read from and the look-ups on disk its
    # analysis made, as `ProjectIndex.dependencies` gives them. Not a finding's
    # business, so equality and reports ignore it.
    dependencies: Optional[Tuple[List[str], List[Tuple[str, str, object]]]] = field(
        default=None, compare=False, repr=False)
