"""What must hold for every source, however odd: the properties the fuzz
tests (tests/test_fuzz.py, a minute in `make test`) and the long fuzz run
(`make fuzz`, tests/fuzz_run.py) check on generated and mutated code.

For one source text:
1. linting never raises and no rule reports an internal error;
2. every finding's range lies inside the text, and the code under it is the
   code the finding names (its anchor);
3. every fix applies, leaves code that still compiles, and removes a finding
   of its rule;
4. an editor's incremental re-lint after an edit equals a fresh lint;
5. re-indenting the source (2 spaces, tabs) moves findings only with the
   indentation.
"""

from __future__ import annotations

import ast
import io
import random
import re
import tokenize
import warnings
from pathlib import Path
from typing import Callable, List, Optional

from hplint.config import Config
from hplint.engine import Linter
from hplint.fix.apply import apply_fixes, line_starts
from hplint.rules import META_CODES

ROOT = Path(__file__).resolve().parents[1]
SEEDS: List[str] = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples").rglob("*.py"))]


def _catalogue_examples() -> List[str]:
    from hplint.catalogue import load_catalogue

    out = []
    for doc in load_catalogue().values():
        out.extend(e for e in (doc.bad_example, doc.good_example) if e.strip())
    return out


SEEDS.extend(_catalogue_examples())


class PropertyFailure(AssertionError):
    pass


def _fail(what: str, text: str) -> None:
    raise PropertyFailure(f"{what}\n--- source ---\n{text}")


# -- mutations ----------------------------------------------------------------------------

_NUMBER = re.compile(r"\b\d+(\.\d+)?(e-?\d+)?\b")
_TOKENS = ["(", ")", "[", "]", ":", ",", "\\\n", "\t", "\r", "\r\n", " ", "#", "'", '"""', "lambda: ",
           "nn.BatchNorm2d(8)", "nn.Dropout(0.5)", "model.eval()", "model.train()", "if x:\n    ",
           "# hplint: disable=HPL002", "# noqa: HPL001", "\x0c", "\u2028", "é", "await ", "*", "**"]


def mutate(text: str, rng: random.Random, rounds: int = 3) -> str:
    """A few random edits of the kinds people make (and some they do not)."""
    for _ in range(rng.randint(1, rounds)):
        lines = text.splitlines(keepends=True) or [""]
        i = rng.randrange(len(lines))
        op = rng.randrange(9)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2 and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        elif op == 3:
            numbers = list(_NUMBER.finditer(text))
            if numbers:
                m = rng.choice(numbers)
                new = rng.choice(["0", "1", "2", "4096", "0.5", "0.999", "1e-9", "1e-15", "-1", "10**6"])
                text = text[:m.start()] + new + text[m.end():]
                continue
        elif op == 4:
            pos = rng.randrange(len(text) + 1)
            text = text[:pos] + rng.choice(_TOKENS) + text[pos:]
            continue
        elif op == 5:
            text = text[: rng.randrange(len(text) + 1)]
            continue
        elif op == 6:
            lines[i] = rng.choice(["  ", "\t", "        ", ""]) + lines[i].lstrip(" \t")
        elif op == 7 and i + 1 < len(lines):
            lines[i] = lines[i].rstrip("\r\n") + " " + lines[i + 1]
            del lines[i + 1]
        elif op == 8:
            text = text.replace("\n", rng.choice(["\r\n", "\r", "\n"]))
            continue
        text = "".join(lines)
    return text


# -- re-indentation ----------------------------------------------------------------------

def reindent(text: str, unit: str) -> Optional[str]:
    """Each leading 4-space unit replaced by `unit`; None when the text does
    not tokenize or is not indented in 4-space units (nothing to compare)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    inside = set()
    for tok in tokens:
        if tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
            inside.update(range(tok.start[0] + 1, tok.end[0] + 1))
    out = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        stripped = line.lstrip(" ")
        if "\t" in line[: len(line) - len(stripped) + 1] or "\r" in line[:-2] or "\x0c" in line:
            return None
        depth, rest = divmod(len(line) - len(stripped), 4)
        out.append(line if number in inside or not stripped.strip() else unit * depth + " " * rest + stripped)
    return "".join(out)


# -- the properties ------------------------------------------------------------------------

def _compiles(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<fuzz>", "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False


def _program(text: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarnings of generated code
        return ast.dump(ast.parse(text))


def _under(text: str, starts: List[int], span) -> str:
    start = starts[span.start_line - 1] + span.start_col - 1
    end = starts[span.end_line - 1] + span.end_col - 1
    return " ".join(text[start:end].split())


def _key(findings):
    return [(f.code, f.span, f.message, tuple((r.path, r.span) for r in f.related),
             f.fix.edits if f.fix else None) for f in findings]


def _libcst_rejects(text: str) -> bool:
    from hplint.analysis.source import SourceError, parse_checked

    parsed = parse_checked(text)
    return isinstance(parsed, SourceError) and parsed.limitation


def check_source(text: str, path: Path, *, previous: Optional[str] = None,
                 make_linter: Callable[..., Linter] = lambda **kw: Linter(Config(), **kw)) -> int:
    """Check every property on `text`; returns the number of findings."""
    linter = make_linter()
    try:
        result = linter.lint_text(text, path, "fuzz.py")
    except Exception as exc:  # property 1
        _fail(f"lint_text raised {type(exc).__name__}: {exc}", text)
    if result.errors:
        _fail(f"internal error: {result.errors}", text)

    starts = line_starts(text) if text else [0]
    lines = len(starts)
    for f in result.findings:  # property 2
        s = f.span
        if not (1 <= s.start_line <= max(lines, 1) and 1 <= s.end_line <= max(lines, 1)
                and (s.start_line, s.start_col) <= (s.end_line, s.end_col)):
            _fail(f"{f.code} span {s} outside a text of {lines} lines", text)
        for line, col in ((s.start_line, s.start_col), (s.end_line, s.end_col)):
            end = starts[line] if line < lines else len(text)
            if starts[line - 1] + col - 1 > end:
                _fail(f"{f.code} column {col} past the end of line {line}", text)
        if f.code in META_CODES or not f.anchor or ":" not in f.anchor:
            continue
        named = re.sub(r"#\d+$", "", f.anchor.split(":", 1)[1])
        under = _under(text, starts, s)
        # libcst's positions leave out a node's own parentheses; its code keeps them.
        while under != named and named.startswith("(") and named.endswith(")"):
            named = named[1:-1].strip()
        if under != named:
            _fail(f"{f.code} at {s} covers {under!r} but names {named!r}", text)

    if _compiles(text):  # property 3
        for f in result.findings:
            if f.fix is None or not f.fix.edits:
                continue
            fixed, applied = apply_fixes(text, [f], unsafe=True)
            if not applied:
                _fail(f"{f.code} fix at {f.span} does not apply", text)
            if not _compiles(fixed):
                _fail(f"{f.code} fix at {f.span} breaks the code:\n{fixed}", text)
            after = make_linter().lint_text(fixed, path, "fuzz.py").findings
            if sum(g.code == f.code for g in after) >= sum(g.code == f.code for g in result.findings):
                _fail(f"{f.code} fix at {f.span} did not remove its finding:\n{fixed}", text)

    if previous is not None:  # property 4
        editor = make_linter(incremental=True)
        editor.lint_text(previous, path, "fuzz.py")
        again = editor.lint_text(text, path, "fuzz.py")
        if _key(again.findings) != _key(result.findings):
            _fail(f"incremental re-lint differs from a fresh lint (previous version:\n{previous})", text)

    for unit in ("  ", "\t"):  # property 5
        changed = reindent(text, unit)
        if changed is None or changed == text:
            continue
        # Only a re-indentation that keeps the program is comparable: one that
        # merges indentation levels (6 and 8 spaces both becoming 4) can make a
        # broken file valid or a valid one different.
        if not _compiles(text) or not _compiles(changed) or _program(changed) != _program(text):
            continue
        if _libcst_rejects(changed):
            continue  # tabs and spaces mixed in one indentation (LibCST #829): reported as HPL000, not comparable
        moved = make_linter().lint_text(changed, path, "fuzz.py").findings
        if [(f.code, f.span.start_line) for f in moved] != [(f.code, f.span.start_line) for f in result.findings]:
            _fail(f"re-indenting with {unit!r} changed the findings:\n{moved}\nvs\n{result.findings}", text)
        moved_starts = line_starts(changed)
        for a, b in zip(moved, result.findings):
            if _under(changed, moved_starts, a.span) != _under(text, starts, b.span):
                _fail(f"re-indenting with {unit!r} moved {a.code} off its code", text)
    return len(result.findings)
