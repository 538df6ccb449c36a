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
import re
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, List, Mapping, Optional, Set, Tuple

from .catalogue import RuleDoc, load_catalogue, suggest_rule
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
# ~20x more and suppression lookup must stay cheap on large files. f-strings
# (and t-strings) go through `_skip_fstring`: since PEP 701 a replacement field
# may hold any expression, quotes of the enclosing string included
# (`f"{"#"}"`), so no regular expression can find where one ends. Code the
# tokenizer would reject is scanned too: an unterminated string does not hide
# the comments after it.
_LEXER = re.compile(
    r'"""(?:\\.|[^\\])*?"""'
    r"|'''(?:\\.|[^\\])*?'''"
    r'|"(?:\\.|[^"\\\r\n])*"'
    r"|'(?:\\.|[^'\\\r\n])*'"
    r"|(?P<comment>#[^\r\n]*)",
    re.S,
)
_PREFIX = "bBrRuUfFtT"
# Inside a replacement field: a string literal (with its prefix), a comment, a
# bracket, the `:` of a format spec.
_FIELD_SPECIAL = re.compile(r"""(?<![\w.])[bBrRuUfFtT]{1,2}(?=["'])|["'#()\[\]{}:]""")
_LITERAL_SPECIAL = {q: re.compile(r"[\\{}\r\n]|" + re.escape(q)) for q in ('"', "'", '"""', "'''")}


def _line_end(text: str, pos: int) -> int:
    m = NEWLINE.search(text, pos)
    return m.start() if m else len(text)


def _skip_string(text: str, start: int) -> int:
    """End of the string literal whose prefix or opening quote is at `start`."""
    end = start
    while text[end] in _PREFIX:
        end += 1
    prefix = text[start:end]
    quote = text[end : end + 3] if text[end : end + 3] in ('"""', "'''") else text[end]
    if any(c in "fFtT" for c in prefix):
        return _skip_fstring(text, end + len(quote), quote)
    pos, n = end + len(quote), len(text)
    while pos < n:
        if text[pos] == "\\":
            pos += 2
        elif text.startswith(quote, pos):
            return pos + len(quote)
        elif text[pos] in "\r\n" and len(quote) == 1:
            return pos  # unterminated: the tokenizer stops at the line end too
        else:
            pos += 1
    return n


def _skip_fstring(text: str, pos: int, quote: str) -> int:
    """End of an f-string (or t-string) whose body starts at `pos`: its
    replacement fields, the strings nested in them and format specs included.
    An unterminated one ends at the end of its first line (code being typed),
    so the comments after it are still found.

    Comments inside a multi-line replacement field are skipped, not reported."""
    first_line_end = _line_end(text, pos)
    literal = _LITERAL_SPECIAL[quote]
    # What is open, innermost last: "s" the string's literal text, "spec" a
    # format spec, "f" a replacement field's expression, or a bracket in one.
    stack = ["s"]
    while stack:
        top = stack[-1]
        if top in ("s", "spec"):
            m = literal.search(text, pos)
            if m is None:
                break
            pos = m.start()
            ch = text[pos]
            if ch == "\\":
                pos += 2
            elif text.startswith(quote, pos):
                return pos + len(quote)  # in a spec an error, where the tokenizer stops too
            elif ch == "{":
                if top == "s" and text.startswith("{{", pos):
                    pos += 2
                else:
                    stack.append("f")
                    pos += 1
            elif ch == "}":
                if top == "spec":
                    del stack[-2:]  # the spec and its field
                    pos += 1
                else:
                    pos += 2 if text.startswith("}}", pos) else 1
            elif len(quote) == 1 and len(stack) == 1:
                return pos  # a line end in a single-quoted f-string's text: unterminated
            else:
                pos += 1
            continue
        m = _FIELD_SPECIAL.search(text, pos)
        if m is None:
            break
        pos = m.start()
        ch = text[pos]
        if ch in _PREFIX or ch in "\"'":
            pos = _skip_string(text, pos)
        elif ch == "#":
            pos = _line_end(text, pos)
        elif ch in "([{":
            stack.append(ch)
            pos += 1
        elif ch in ")]}":
            stack.pop()  # a bracket, or (for `}`) the field itself
            pos += 1
        elif top == "f":  # `:` at the field's top level: its format spec
            stack.append("spec")
            pos += 1
        else:  # `:` inside brackets: a slice, a dict, a lambda
            pos += 1
    return first_line_end


def _fstring_prefix(text: str, quote_at: int) -> bool:
    """Whether the string literal opening at `quote_at` is an f- or t-string."""
    start = quote_at
    while start > 0 and quote_at - start < 2 and text[start - 1] in _PREFIX:
        start -= 1
    if start == quote_at or (start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_.")):
        return False
    return any(c in "fFtT" for c in text[start:quote_at])


def _comments(text: str) -> List[Tuple[int, int, str]]:
    """(line, 0-based column, comment text) for every comment that mentions a directive."""
    out: List[Tuple[int, int, str]] = []
    starts: Optional[List[int]] = None  # line starts, as Python counts lines (\r\n, \r, \n)
    pos = 0
    search = _LEXER.search
    while True:
        match = search(text, pos)
        if match is None:
            return out
        start = match.start()
        comment = match.group("comment")
        if comment is None:
            if start and text[start - 1] in _PREFIX and _fstring_prefix(text, start):
                quote = text[start : start + 3] if text.startswith(text[start] * 3, start) else text[start]
                pos = _skip_fstring(text, start + len(quote), quote)
            else:
                pos = match.end()
            continue
        pos = match.end()
        if not _GATE.search(comment):
            continue
        if starts is None:
            starts = line_starts(text)
        line = bisect.bisect_right(starts, start)
        out.append((line, start - starts[line - 1], comment))


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
            tokens = []
            if m_n.group("colon"):
                m_first = re.match(_TOKEN, rest)
                if m_first:
                    tokens, _ = _code_list(m_first.group(0), rest[m_first.end():])
            if not tokens:
                out.append(Directive(NOQA, (), line, line, span, body, blanket=True))
                continue
            ours = [t for t in tokens if t.upper().startswith("HPL") or _KEBAB.match(t)]
            # A noqa comment naming only other tools' codes (E501) does not touch hplint.
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
    directives: List[Directive] = []
    for line, col0, comment in _comments(text):
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
                guess = suggest_rule(token, dict(catalogue))
                shown = token
                if guess in catalogue:  # a mistyped code (HPL0O1) is a code, not a name
                    what, shown = "code", token.upper()
                hint = f"; did you mean '{guess}'?" if guess else ""
                problems.append(
                    (d, token, f"unknown rule {what} '{shown}' in suppression comment{hint}")
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
