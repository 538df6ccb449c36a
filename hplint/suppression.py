"""Suppression comments: silencing findings in the source, and noticing stale ones.

Forms (codes or rule names, separated by commas and/or spaces; codes are
case-insensitive):

- `# hplint: disable=HPL001` at the end of a line: findings starting on that line;
- `# hplint: disable-next-line=HPL001,HPL002` on its own line: findings starting
  on the next line that is neither blank nor a comment;
- `# hplint: disable-file=HPL007` anywhere: the whole file;
- `# noqa: HPL001` (flake8 habit): like `disable=`; other tools' codes (`E501`)
  are ignored; a bare `# noqa` silences every hplint finding on its line and is
  never reported as unused.

Several directives may share one comment: `# noqa: E501  # hplint: disable=HPL001`.
Each directive starts at a `#`. A code list ends at the first space-separated
word that looks like neither a code (`HPL001`) nor a kebab-case rule name, so
`# hplint: disable=HPL001 because the model is MC dropout` works.

Suppressions that suppress nothing, name unknown rules, or cannot be parsed
become `HPL100 unused-suppression` findings, so stale comments do not pile up.
`HPL000` (parse error) findings cannot be suppressed.
"""

from __future__ import annotations

import bisect
import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, List, Mapping, Optional, Set, Tuple

from .catalogue import RuleDoc, load_catalogue
from .findings import Finding, Severity, Span
from .text_lines import NEWLINE, line_starts, split_lines

PARSE_ERROR_CODE = "HPL000"
UNUSED_CODE = "HPL100"
UNUSED_NAME = "unused-suppression"

LINE = "disable"
NEXT_LINE = "disable-next-line"
FILE = "disable-file"
NOQA = "noqa"
INVALID = "invalid"

_GATE = re.compile(r"hplint:|noqa", re.I)
_TOKEN = r"[A-Za-z0-9_][A-Za-z0-9_-]*"
_HPLINT = re.compile(r"#\s*hplint:\s*(?P<rest>.*)", re.I)
_HPLINT_KIND = re.compile(
    r"(?P<kind>disable-next-line|disable-file|disable)\s*=\s*(?P<codes>" + _TOKEN + r")", re.I
)
_NOQA = re.compile(r"#\s*noqa(?![\w-])(?P<colon>\s*:\s*)?", re.I)
_SEP_COMMA = re.compile(r"\s*,\s*(" + _TOKEN + r")")
_SEP_SPACE = re.compile(r"\s+(" + _TOKEN + r")")
_CODE_LIKE = re.compile(r"^[A-Za-z]{1,6}[0-9]{1,5}$")
_KEBAB = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+$")


@dataclass(frozen=True)
class Directive:
    """One suppression directive found in a comment.

    `codes` are the tokens as they matter to hplint, normalised (codes upper
    case, names lower case), in order, without duplicates; empty for a bare
    `# noqa` (`blanket`). `line` is the comment's line, `target_line` the line
    it silences (None for `disable-file`, or when no code line follows a
    `disable-next-line`). `span` runs from the directive's `#` to its end.
    """

    kind: str
    codes: Tuple[str, ...]
    line: int
    target_line: Optional[int]
    span: Span
    text: str
    blanket: bool = False
    problem: str = ""  # for kind == INVALID: what is wrong


@dataclass
class Suppressions:
    directives: List[Directive] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.directives)

    def __iter__(self):
        return iter(self.directives)

    def __len__(self) -> int:
        return len(self.directives)


# --------------------------------------------------------------------------- finding comments


# One regex pass finds comments while skipping string literals (triple-quoted
# first, then single-line ones). It runs at C speed; the `tokenize` module costs
# ~20x more and suppression lookup must stay cheap on large files.
_LEXER = re.compile(
    r'"""(?:\\.|[^\\])*?"""'
    r"|'''(?:\\.|[^\\])*?'''"
    r'|"(?:\\.|[^"\\\r\n])*"'
    r"|'(?:\\.|[^'\\\r\n])*'"
    r"|(?P<comment>#[^\r\n]*)",
    re.S,
)


def _comments_by_tokenize(text: str) -> Tuple[List[Tuple[int, int, str]], int, bool]:
    """(line, 0-based column, comment text) for every comment that mentions a
    directive, the last line scanned, and whether the scan finished."""
    out: List[Tuple[int, int, str]] = []
    starts: Optional[List[int]] = None
    for match in _LEXER.finditer(text):
        comment = match.group("comment")
        if comment is None or not _GATE.search(comment):
            continue
        if starts is None:
            starts = line_starts(text)
        start = match.start()
        line = bisect.bisect_right(starts, start)
        out.append((line, start - starts[line - 1], comment))
    return out, len(NEWLINE.findall(text)) + 1, True


def _comment_start(line: str) -> Optional[int]:
    """Column of the first `#` outside a single-line string literal, best effort."""
    quote: Optional[str] = None
    i = 0
    n = len(line)
    while i < n:
        ch = line[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if line.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
        elif ch == "#":
            return i
        elif ch in "'\"":
            quote = line[i : i + 3] if line[i : i + 3] in ("'''", '"""') else ch
            i += len(quote)
            continue
        i += 1
    return None


def _comments_by_regex(lines: List[str], after: int) -> List[Tuple[int, int, str]]:
    out = []
    for number, line in enumerate(lines, start=1):
        if number <= after or not _GATE.search(line):
            continue
        col = _comment_start(line)
        if col is not None:
            out.append((number, col, line[col:].rstrip("\r\n")))
    return out


# --------------------------------------------------------------------------- parsing directives


def _normalise(token: str) -> str:
    return token.upper() if _CODE_LIKE.match(token) else token.lower()


def _code_list(first: str, rest: str) -> Tuple[List[str], int]:
    """Tokens of a code list starting with `first`; also how many characters of
    `rest` (the text after `first`) the list used."""
    tokens = [first]
    pos = 0
    while True:
        m = _SEP_COMMA.match(rest, pos)
        if m:
            tokens.append(m.group(1))
            pos = m.end()
            continue
        m = _SEP_SPACE.match(rest, pos)
        if m and (_CODE_LIKE.match(m.group(1)) or _KEBAB.match(m.group(1))):
            tokens.append(m.group(1))
            pos = m.end()
            continue
        return tokens, pos


def _dedupe(tokens: Iterable[str]) -> Tuple[str, ...]:
    seen: Dict[str, None] = {}
    for t in tokens:
        seen.setdefault(_normalise(t), None)
    return tuple(seen)


def _parse_comment(
    comment: str, line: int, col0: int, lines: List[str]
) -> List[Directive]:
    """Directives in one comment (`comment` starts at 0-based column `col0`)."""
    starts = [m.start() for m in re.finditer("#", comment)]
    out: List[Directive] = []
    for index, start in enumerate(starts):
        seg_end = starts[index + 1] if index + 1 < len(starts) else len(comment)
        segment = comment[start:seg_end]
        m_h = _HPLINT.match(segment)
        m_n = _NOQA.match(segment)
        if not m_h and not m_n:
            continue
        body = segment.rstrip()
        span = Span(line, col0 + start + 1, line, col0 + start + len(body) + 1)
        if m_h:
            rest = m_h.group("rest")
            m_k = _HPLINT_KIND.match(rest)
            if not m_k:
                out.append(
                    Directive(
                        INVALID, (), line, line, span, body,
                        problem="expected 'disable=', 'disable-next-line=' or "
                        "'disable-file=' followed by rule codes",
                    )
                )
                continue
            kind = m_k.group("kind").lower()
            tokens, _ = _code_list(m_k.group("codes"), rest[m_k.end():])
            if kind == LINE:
                target: Optional[int] = line
            elif kind == NEXT_LINE:
                target = _next_code_line(lines, line)
            else:
                target = None
            out.append(Directive(kind, _dedupe(tokens), line, target, span, body))
        else:
            assert m_n is not None
            rest = segment[m_n.end():]
            tokens: List[str] = []
            if m_n.group("colon"):
                m_first = re.match(_TOKEN, rest)
                if m_first:
                    tokens, _ = _code_list(m_first.group(0), rest[m_first.end():])
            if not tokens:
                out.append(Directive(NOQA, (), line, line, span, body, blanket=True))
                continue
            ours = [t for t in tokens if t.upper().startswith("HPL") or _KEBAB.match(t)]
            # `# noqa: E501` names only other tools' codes: it does not touch hplint.
            if ours:
                out.append(Directive(NOQA, _dedupe(ours), line, line, span, body))
    return out


def _next_code_line(lines: List[str], line: int) -> Optional[int]:
    for number in range(line + 1, len(lines) + 1):
        stripped = lines[number - 1].strip()
        if stripped and not stripped.startswith("#"):
            return number
    return None


def parse_suppressions(text: str) -> Suppressions:
    """Every suppression directive in a file's text. Never raises."""
    if not _GATE.search(text):
        return Suppressions()
    lines = split_lines(text)
    comments, last, finished = _comments_by_tokenize(text)
    if not finished:
        # Keep what the tokenizer saw before it failed (its last line may be
        # incomplete), read the rest with the line scanner.
        comments = [c for c in comments if c[0] < last] + _comments_by_regex(lines, last - 1)
    directives: List[Directive] = []
    for line, col0, comment in comments:
        if _GATE.search(comment):
            directives.extend(_parse_comment(comment, line, col0, lines))
    return Suppressions(directives)


# --------------------------------------------------------------------------- applying


def _rule_index(catalogue: Mapping[str, RuleDoc]) -> Dict[str, str]:
    index = {code.upper(): code for code in catalogue}
    for doc in catalogue.values():
        index[doc.name.lower()] = doc.code
    return index


@dataclass
class _Resolved:
    directive: Directive
    codes: Dict[str, str]  # code -> token as written (normalised)


def apply_suppressions(
    findings: List[Finding],
    suppressions: Suppressions,
    path: str,
    catalogue: Optional[Mapping[str, RuleDoc]] = None,
    enabled_codes: Optional[Iterable[str]] = None,
) -> List[Finding]:
    """Drop suppressed findings and add HPL100 findings for suppressions that
    are unknown, malformed or unused.

    `enabled_codes`: the codes that could have fired in this file (config
    selection and per-file-ignores). Codes outside it are never reported as
    unused, and no HPL100 finding is produced at all unless HPL100 is in it.
    Kept findings keep their order; HPL100 findings follow, by position.
    """
    if not suppressions:
        return list(findings)
    catalogue = load_catalogue() if catalogue is None else catalogue
    enabled: Optional[FrozenSet[str]] = (
        None if enabled_codes is None else frozenset(c.upper() for c in enabled_codes)
    )
    index = _rule_index(catalogue)
    problems: List[Tuple[Directive, str, str]] = []  # (directive, anchor token, message)

    resolved: List[_Resolved] = []
    for d in suppressions:
        if d.kind == INVALID:
            problems.append((d, "", f"malformed suppression comment: {d.problem}"))
            continue
        codes: Dict[str, str] = {}
        for token in d.codes:
            code = index.get(token.upper()) or index.get(token.lower())
            if code is None:
                if d.kind == NOQA and not token.upper().startswith("HPL"):
                    continue  # another tool's kebab-case name in a shared noqa
                what = "code" if _CODE_LIKE.match(token) else "name"
                problems.append(
                    (d, token, f"unknown rule {what} '{token}' in suppression comment")
                )
                continue
            codes.setdefault(code, token)
        resolved.append(_Resolved(d, codes))

    used: Set[Tuple[int, str]] = set()  # (directive index in `resolved`, code)

    def suppressed(f: Finding, mark: bool) -> bool:
        if f.code == PARSE_ERROR_CODE:
            return False
        hit = False
        for i, r in enumerate(resolved):
            d = r.directive
            if d.kind == FILE:
                applies = f.code in r.codes
            elif d.target_line != f.line:
                applies = False
            else:
                applies = d.blanket or f.code in r.codes
            if applies:
                hit = True
                if mark:
                    used.add((i, f.code))
        return hit

    kept = [f for f in findings if not suppressed(f, mark=True)]

    for i, r in enumerate(resolved):
        d = r.directive
        for code, token in r.codes.items():
            if (i, code) in used or code == UNUSED_CODE:
                continue
            if enabled is not None and code not in enabled:
                continue
            shown = code if token.upper() == code else f"{token} ({code})"
            if code == PARSE_ERROR_CODE:
                message = f"{shown} cannot be suppressed: files hplint cannot parse are always reported"
            elif d.kind == FILE:
                message = f"unused suppression of {shown}: no {code} finding in this file"
            elif d.target_line is None:
                message = f"unused suppression of {shown}: no code line follows the comment"
            else:
                message = (
                    f"unused suppression of {shown}: no {code} finding on line {d.target_line}"
                )
            problems.append((d, token, message))

    if enabled is not None and UNUSED_CODE not in enabled:
        return kept
    doc = catalogue.get(UNUSED_CODE)
    severity = doc.severity if doc is not None else Severity.INFO
    name = doc.name if doc is not None else UNUSED_NAME
    extra = [
        Finding(
            code=UNUSED_CODE,
            name=name,
            severity=severity,
            message=message,
            path=path,
            span=d.span,
            anchor=f"{d.text}\x1f{token}",
        )
        for d, token, message in problems
    ]
    extra = [f for f in extra if not suppressed(f, mark=False)]
    extra.sort(key=lambda f: (f.span.start_line, f.span.start_col, f.message))
    return kept + extra
