"""One pass of fixing: turn fix edits (1-based line/column spans, end
exclusive) into offsets and splice them into the text.

A fix is all-or-nothing: when one of its edits overlaps an edit already
accepted in this pass, the whole fix waits for the next pass (the runner
re-lints, so the postponed fix comes back with fresh positions). Line
endings are the file's own: inserted text is rewritten to the newline style
the file already uses, so a CRLF file stays CRLF.
"""

from __future__ import annotations

from typing import Iterable, List, Optional, Sequence, Tuple

from ..findings import Finding, Fix, FixSafety, TextEdit
from ..text_lines import NEWLINE as _NEWLINE
from ..text_lines import line_starts, newline_style  # noqa: F401  (re-exported for the fix writers)


def to_offset(text: str, starts: Sequence[int], line: int, col: int) -> Optional[int]:
    """The string offset of a 1-based (line, column), or None when it lies
    outside the text. The position just past the last line ((n+1, 1)) is the
    end of the text, so "insert after the last line" works."""
    if line == len(starts) + 1 and col == 1:
        return len(text)
    if line < 1 or line > len(starts) or col < 1:
        return None
    start = starts[line - 1]
    end = starts[line] if line < len(starts) else len(text)
    offset = start + col - 1
    return offset if offset <= end else None


def fix_applies(fix: Optional[Fix], unsafe: bool) -> bool:
    """Whether `--fix` (with `--unsafe-fixes` when `unsafe`) applies this fix."""
    return fix is not None and bool(fix.edits) and (unsafe or fix.safety == FixSafety.SAFE)


def _resolve(text: str, starts: Sequence[int], edit: TextEdit) -> Optional[Tuple[int, int]]:
    s = edit.span
    start = to_offset(text, starts, s.start_line, s.start_col)
    end = to_offset(text, starts, s.end_line, s.end_col)
    if start is None or end is None or end < start:
        return None
    return start, end


def _overlaps(a: Tuple[int, int], b: Tuple[int, int]) -> bool:
    """Replacements that share characters, or two insertions at one point
    (their order would be arbitrary). Touching ranges do not overlap."""
    if a[0] == a[1] == b[0] == b[1]:
        return True
    return a[0] < b[1] and b[0] < a[1]


def apply_edits(text: str, fixes: Sequence[Fix]) -> Tuple[str, List[int]]:
    """Apply the fixes that fit, in the order given; returns the new text and
    the indices of the fixes that were applied."""
    newline = newline_style(text)
    starts = line_starts(text)
    accepted: List[Tuple[int, int, str]] = []
    applied: List[int] = []
    for index, fix in enumerate(fixes):
        ranges = [_resolve(text, starts, e) for e in fix.edits]
        if not ranges or any(r is None for r in ranges):
            continue
        own = [r for r in ranges if r is not None]
        clash = any(_overlaps(r, (a[0], a[1])) for r in own for a in accepted) or any(
            _overlaps(own[i], own[j]) for i in range(len(own)) for j in range(i + 1, len(own)))
        if clash:
            continue
        for (start, end), edit in zip(own, fix.edits):
            accepted.append((start, end, _NEWLINE.sub(newline, edit.new_text)))
        applied.append(index)
    if not accepted:
        return text, []
    out = text
    # Right to left, so earlier offsets stay valid; an insertion sorts before
    # a replacement starting at the same offset.
    for start, end, new in sorted(accepted, key=lambda a: (a[0], a[1]), reverse=True):
        if start == end == len(out) and new and out and not out.endswith(("\n", "\r")):
            new = newline + new  # inserting after a last line that has no newline
        out = out[:start] + new + out[end:]
    return out, applied


def apply_fixes(text: str, findings: Iterable[Finding], unsafe: bool) -> Tuple[str, List[Finding]]:
    """One pass over a file's findings: apply every applicable, non-overlapping
    fix (safe ones; unsafe ones too when `unsafe`). Returns the new text and
    the findings whose fixes were applied."""
    candidates = sorted(
        (f for f in findings if fix_applies(f.fix, unsafe)),
        key=lambda f: (f.span.start_line, f.span.start_col, f.code),
    )
    new_text, indices = apply_edits(text, [f.fix for f in candidates])
    return new_text, [candidates[i] for i in indices]
