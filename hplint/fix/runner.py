"""The fix loop for one file: apply a pass of fixes, re-lint the new text
with the same Linter (positions and fixes come from that fresh lint, never
from the stale one), repeat until nothing applies (at most MAX_PASSES).

A pass whose result does not parse is thrown away and reported as an
internal error: a fixer bug must never leave a user's file broken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Set, Tuple

from ..analysis.source import SourceError, parse_checked
from ..findings import FileResult, Finding
from .apply import apply_fixes

MAX_PASSES = 5


@dataclass
class FixOutcome:
    original: str
    text: str  # the fixed text (== original when nothing applied)
    result: FileResult  # the lint of `text`: what is left to report
    fixed: List[Finding] = field(default_factory=list)  # findings whose fixes were applied
    error: Optional[str] = None  # a pass was discarded (it produced invalid Python)

    @property
    def changed(self) -> bool:
        return self.text != self.original


def fix_text(linter, text: str, path: Path, shown: str, *, unsafe: bool = False,
             first: Optional[FileResult] = None, max_passes: int = MAX_PASSES) -> FixOutcome:
    """Fix `text` (the contents of `path`) as far as the applicable fixes go.

    `first` is a lint of exactly `text` the caller already has (saves one lint).
    """
    result = first if first is not None else linter.lint_text(text, path, shown)
    outcome = FixOutcome(text, text, result)
    done: Set[Tuple[str, str]] = set()  # (code, anchor) of findings whose fix was applied
    for _ in range(max_passes):
        # A finding whose fix was applied and that is still there is not fixed by
        # applying it again (an inserted `model.eval()` that did not make it go
        # away would be inserted once per pass).
        pending = [f for f in outcome.result.findings if (f.code, f.anchor or f.message) not in done]
        new_text, applied = apply_fixes(outcome.text, pending, unsafe)
        if not applied or new_text == outcome.text:
            break
        parsed = parse_checked(new_text)
        if isinstance(parsed, SourceError):
            # A notebook export (`%matplotlib inline` lines) was never plain Python:
            # its fixed text must still lint the way it did, around those lines.
            exported = linter.lint_notebook_export(new_text, Path(path), shown) \
                if isinstance(parse_checked(outcome.original), SourceError) else None
            if exported is None:
                codes = ", ".join(sorted({f.code for f in applied}))
                outcome.error = (f"internal error: fixes for {codes} on {shown} produced invalid Python "
                                 f"({parsed.message} at line {parsed.line}); those fixes were not applied")
                break
            outcome.result = exported
        else:
            outcome.result = linter.lint_context(linter.context(new_text, parsed.tree, Path(path),
                                                                elided=parsed.elided), shown)
        outcome.text = new_text
        outcome.fixed.extend(applied)
        done.update((f.code, f.anchor or f.message) for f in applied)
    if outcome.error:
        outcome.result.errors.append(outcome.error)
    return outcome
