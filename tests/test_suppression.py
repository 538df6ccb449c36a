"""Suppression comments: parsing every form, applying them, reporting stale ones."""

from __future__ import annotations

import io
import re
import textwrap
import tokenize
from pathlib import Path

import pytest

from hplint import suppression as sup_mod
from hplint.catalogue import load_catalogue
from hplint.findings import Finding, Severity, Span
from hplint.suppression import (
    FILE,
    INVALID,
    LINE,
    NEXT_LINE,
    NOQA,
    apply_suppressions,
    parse_suppressions,
)

DOCS = {
    "HPL000": ("parse-error", "error"),
    "HPL001": ("dropout-before-batchnorm", "warning"),
    "HPL002": ("bias-before-batchnorm", "warning"),
    "HPL007": ("adam-non-default-hyperparameters", "info"),
    "HPL100": ("unused-suppression", "warning"),  # not info: proves the doc is used
}


def make_catalogue(directory: Path, docs=DOCS):
    directory.mkdir(parents=True, exist_ok=True)
    for code, (name, severity) in docs.items():
        (directory / f"{code}.md").write_text(
            f'+++\ncode = "{code}"\nname = "{name}"\nseverity = "{severity}"\n'
            f'message = "{name}"\nsummary = "{name}"\n+++\n\n## What it does\nx\n',
            encoding="utf-8",
        )
    return load_catalogue(directory)


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    return make_catalogue(tmp_path_factory.mktemp("rules"))


def finding(code: str, line: int, col: int = 1, name: str = "x") -> Finding:
    return Finding(
        code=code,
        name=name,
        severity=Severity.WARNING,
        message=f"{code} at {line}",
        path="m.py",
        span=Span(line, col, line, col + 3),
    )


def src(text: str) -> str:
    return textwrap.dedent(text)


def run(text: str, findings, cat, enabled=None):
    return apply_suppressions(list(findings), parse_suppressions(src(text)), "m.py", cat, enabled)


def codes_lines(findings):
    return [(f.code, f.line) for f in findings]


# ----------------------------------------------------------------- parsing


def test_each_form_is_parsed_with_target_lines():
    text = src(
        """\
        x = 1  # hplint: disable=HPL001
        # hplint: disable-next-line=HPL001,HPL002

        # an unrelated comment
        y = 2
        z = 3  # noqa: HPL007
        w = 4  # noqa
        # hplint: disable-file=HPL007
        """
    )
    ds = parse_suppressions(text).directives
    assert [(d.kind, d.codes, d.line, d.target_line) for d in ds] == [
        (LINE, ("HPL001",), 1, 1),
        (NEXT_LINE, ("HPL001", "HPL002"), 2, 5),  # skips blank and comment lines
        (NOQA, ("HPL007",), 6, 6),
        (NOQA, (), 7, 7),
        (FILE, ("HPL007",), 8, None),
    ]
    assert ds[3].blanket and not ds[2].blanket


def test_span_is_the_directive_from_its_hash_to_the_end():
    text = "value = compute()  # hplint: disable=HPL001\n"
    (d,) = parse_suppressions(text).directives
    col = text.index("#") + 1
    assert d.span == Span(1, col, 1, len(text.rstrip("\n")) + 1)
    assert d.text == "# hplint: disable=HPL001"


def test_columns_count_code_points_not_bytes():
    text = 'é = "ü"  # noqa: HPL001\n'
    (d,) = parse_suppressions(text).directives
    assert d.span.start_col == text.index("#") + 1 == 10


def test_case_insensitive_codes_and_keywords_and_names_lowercased():
    text = "a = 1  # HPLint: DISABLE=hpl001, Dropout-Before-BatchNorm\nb = 2  # NOQA:hpl002\n"
    ds = parse_suppressions(text).directives
    assert ds[0].kind == LINE and ds[0].codes == ("HPL001", "dropout-before-batchnorm")
    assert ds[1].kind == NOQA and ds[1].codes == ("HPL002",)


@pytest.mark.parametrize(
    "comment, codes",
    [
        ("# hplint: disable=HPL001 HPL002", ("HPL001", "HPL002")),
        ("# hplint: disable=HPL001,HPL002", ("HPL001", "HPL002")),
        ("# hplint: disable = HPL001 ,  HPL002", ("HPL001", "HPL002")),
        ("# hplint: disable=HPL001 because MC dropout is intended", ("HPL001",)),
        ("# hplint: disable=HPL001 -- reason", ("HPL001",)),
        ("# hplint: disable=HPL001, HPL001", ("HPL001",)),
        ("# hplint: disable=bias-before-batchnorm HPL001 see docs", ("bias-before-batchnorm", "HPL001")),
    ],
)
def test_code_lists(comment, codes):
    (d,) = parse_suppressions(f"x = 1  {comment}\n").directives
    assert d.codes == codes


def test_several_directives_share_a_comment():
    text = "x = 1  # noqa: E501  # hplint: disable=HPL001  # type: ignore\n"
    ds = parse_suppressions(text).directives
    # A noqa comment naming only another tool's code (E501): no hplint directive at all.
    assert [(d.kind, d.codes) for d in ds] == [(LINE, ("HPL001",))]
    assert ds[0].span.start_col == text.index("# hplint") + 1
    assert ds[0].text == "# hplint: disable=HPL001"
    both = parse_suppressions("x = 1  # noqa: HPL002  # hplint: disable=HPL001\n").directives
    assert [(d.kind, d.codes) for d in both] == [(NOQA, ("HPL002",)), (LINE, ("HPL001",))]


@pytest.mark.parametrize(
    "comment, codes, blanket",
    [
        ("# noqa", (), True),
        ("#noqa", (), True),
        ("# NoQA", (), True),
        ("# noqa because reasons", (), True),
        ("# noqa:", (), True),
        ("# noqa: E501,W291", None, False),
        ("# noqa: E501, HPL001", ("HPL001",), False),
        ("# noqa:E501 HPL001", ("HPL001",), False),
    ],
)
def test_noqa_variants(comment, codes, blanket):
    ds = parse_suppressions(f"x = 1  {comment}\n").directives
    if codes is None:
        assert ds == []
    else:
        (d,) = ds
        assert d.kind == NOQA and d.codes == codes and d.blanket is blanket


def test_not_directives():
    text = src(
        '''\
        s = "# noqa: HPL001"
        t = "# hplint: disable=HPL001"
        u = """
        # hplint: disable-file=HPL001
        """
        # noqanything
        # see the noqa docs; hplint: disable=HPL001 is mentioned in prose
        '''
    )
    assert parse_suppressions(text).directives == []


def test_malformed_hplint_directive_is_kept_as_invalid():
    (d,) = parse_suppressions("x = 1  # hplint: disabel=HPL001\n").directives
    assert d.kind == INVALID and "disable=" in d.problem
    (d,) = parse_suppressions("x = 1  # hplint: disable-next-line HPL001\n").directives
    assert d.kind == INVALID


def test_next_line_without_following_code():
    (d,) = parse_suppressions("x = 1\n# hplint: disable-next-line=HPL001\n\n# end\n").directives
    assert d.kind == NEXT_LINE and d.target_line is None


def test_comments_found_in_code_the_tokenizer_rejects():
    text = src(
        """\
        def f():
            y = 1  # hplint: disable=HPL001
          z = 2  # noqa: HPL002
        s = 'a # noqa: HPL007'  # noqa: HPL001
        t = ("x" # noqa
        """
    )
    # A bad dedent stops Python's tokenizer; the comment scanner reads on.
    ds = parse_suppressions(text).directives
    assert [(d.kind, d.codes, d.line) for d in ds] == [
        (LINE, ("HPL001",), 2),
        (NOQA, ("HPL002",), 3),
        (NOQA, ("HPL001",), 4),  # the quoted noqa text is not a comment
        (NOQA, (), 5),
    ]
    assert ds[2].span.start_col == text.splitlines()[3].index("# noqa: HPL001") + 1


# Each line ends in the one real comment, a noqa for HPL001.
STRINGS_WITH_HASHES = [
    r"""x = "#" + '#'  # noqa: HPL001""",
    r"""x = "\"# noqa: HPL007"  # noqa: HPL001""",
    r"""x = '''# noqa: HPL007''' + '\'# noqa: HPL007'  # noqa: HPL001""",
    r"""x = b"# noqa: HPL007" + rb"\\" + r'# noqa: HPL007'  # noqa: HPL001""",
    # f-strings before PEP 701: the other kind of quote in a replacement field
    r"""x = f"{'#'}" + f'{"# noqa: HPL007"}'  # noqa: HPL001""",
    # PEP 701 (Python 3.12): the string's own quote in a replacement field
    r"""x = f"{"#"}"  # noqa: HPL001""",
    r"""x = f"{"# noqa: HPL007"}"  # noqa: HPL001""",
    r"""x = f"{f"{"#"}"}"  # noqa: HPL001""",
    r"""x = rf"{d["#"]!r:>{w}} {{#}}"  # noqa: HPL001""",
    r"""x = F"{x:#>10}" + f"{x:{"#"}}"  # noqa: HPL001""",
    r"""x = f"{a[1:2]}" f'{ {"#": 1}["#"] }'  # noqa: HPL001""",
    r"""x = t"{"#"}"  # noqa: HPL001""",  # PEP 750 template strings
]


@pytest.mark.parametrize("line", STRINGS_WITH_HASHES)
def test_quotes_and_hashes_in_strings_are_not_comments(line):
    (d,) = parse_suppressions(line + "\n").directives
    assert (d.kind, d.codes, d.span.start_col) == (NOQA, ("HPL001",), line.rindex("# noqa") + 1)
    assert d.text == "# noqa: HPL001"


def test_pep701_fstring_does_not_hide_or_invent_a_suppression(cat):
    text = 'x = f"{"#"}"; y = f"{"# noqa: HPL002"}"  # hplint: disable=HPL001\n'
    out = run(text, [finding("HPL001", 1), finding("HPL002", 1)], cat)
    assert codes_lines(out) == [("HPL002", 1)]


def test_multiline_fstring_fields_and_unterminated_fstrings():
    text = src(
        '''\
        x = f"""{
            "# noqa: HPL007"
        }"""  # noqa: HPL001
        y = f"{z
        # noqa: HPL002
        '''
    )
    ds = parse_suppressions(text).directives
    # An f-string that never ends (code being typed) ends at its line end, so
    # the comments after it are still found.
    assert [(d.codes, d.line) for d in ds] == [(("HPL001",), 3), (("HPL002",), 5)]


def _repo_python_files():
    root = Path(__file__).resolve().parents[1]
    return sorted(p for d in ("hplint", "tests", "bench", "examples") for p in (root / d).rglob("*.py"))


def _comments_only(text: str) -> str:
    """`text` with everything but the comments `tokenize` sees blanked out."""
    lines = [re.sub(r"[^\r\n]", " ", line) for line in text.splitlines(keepends=True)]
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            (row, col), line = tok.start, lines[tok.start[0] - 1]
            lines[row - 1] = line[:col] + tok.string + line[col + len(tok.string):]
    return "".join(lines)


def test_the_comment_scanner_agrees_with_the_tokenizer_on_the_repository():
    """Every directive found in a real file is found again, at the same place, in
    a copy that keeps only the comments `tokenize` sees, and nothing else is
    found. This repository's files hold hundreds of `# noqa` and `# hplint:`
    texts, most of them inside strings (this file)."""
    checked = 0
    for path in _repo_python_files():
        text = path.read_text(encoding="utf-8")
        if "noqa" not in text.lower() and "hplint:" not in text.lower():
            continue

        def seen(t):
            return [(d.kind, d.codes, d.line, d.span, d.text) for d in parse_suppressions(t)]

        assert seen(text) == seen(_comments_only(text)), path
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize(
    "text, directive, kept",
    [
        ("\x00# noqa\n", (NOQA, (), 1, 2), []),
        # an unterminated string is code being typed: what follows is still read
        ("'''# noqa: HPL001\n", (NOQA, ("HPL001",), 1, 4), []),
        ("if x:\n        a = 1\n    b = 2  # noqa: HPL001\n", (NOQA, ("HPL001",), 3, 12), ["HPL001", "HPL100"]),
        ("x = (  # hplint: disable=HPL001\n", (LINE, ("HPL001",), 1, 8), []),
        ("\t# hplint:\n", (INVALID, (), 1, 2), ["HPL001", "HPL100"]),
        ("# hplint: disable=\n", (INVALID, (), 1, 1), ["HPL001", "HPL100"]),
        ("# noqa: ,,,\n", (NOQA, (), 1, 1), []),
        ("\r\n# noqa\r\n", (NOQA, (), 2, 1), ["HPL001"]),
        ("", None, ["HPL001"]),
    ],
)
def test_odd_input(text, directive, kept, cat):
    s = parse_suppressions(text)
    assert [(d.kind, d.codes, d.line, d.span.start_col) for d in s] == ([directive] if directive else [])
    out = apply_suppressions([finding("HPL001", 1)], s, "m.py", cat)
    assert [f.code for f in out] == kept


# ----------------------------------------------------------------- applying


def test_line_directive_suppresses_only_its_line_and_codes(cat):
    text = """\
    a = 1  # hplint: disable=HPL001
    b = 2
    """
    out = run(text, [finding("HPL001", 1), finding("HPL002", 1), finding("HPL001", 2)], cat)
    assert codes_lines(out) == [("HPL002", 1), ("HPL001", 2)]


def test_next_line_directive(cat):
    text = """\
    # hplint: disable-next-line=HPL001, HPL002

    # reason
    model = build()
    other = 1
    """
    out = run(text, [finding("HPL001", 4), finding("HPL002", 4, col=9), finding("HPL001", 5)], cat)
    assert codes_lines(out) == [("HPL001", 5)]


def test_file_directive_anywhere(cat):
    text = "a = 1\nb = 2\n# hplint: disable-file=adam-non-default-hyperparameters\n"
    out = run(text, [finding("HPL007", 1), finding("HPL007", 2), finding("HPL001", 2)], cat)
    assert codes_lines(out) == [("HPL001", 2)]


def test_noqa_with_codes_and_bare_noqa(cat):
    text = """\
    a = 1  # noqa: E501,HPL001
    b = 2  # noqa
    c = 3  # noqa: E501
    """
    fs = [finding("HPL001", 1), finding("HPL002", 1), finding("HPL001", 2), finding("HPL007", 2), finding("HPL001", 3)]
    out = run(text, fs, cat)
    assert codes_lines(out) == [("HPL002", 1), ("HPL001", 3)]


def test_names_resolve_to_codes(cat):
    out = run("a = 1  # hplint: disable=dropout-before-batchnorm\n", [finding("HPL001", 1)], cat)
    assert out == []


def test_parse_errors_cannot_be_suppressed_and_the_attempt_is_reported(cat):
    text = "def f(:  # noqa\n# hplint: disable-file=HPL000\n"
    out = run(text, [finding("HPL000", 1)], cat)
    assert codes_lines(out) == [("HPL000", 1), ("HPL100", 2)]
    assert out[1].message == "HPL000 cannot be suppressed: files hplint cannot parse are always reported"


def test_kept_findings_keep_their_order_and_hpl100_follow(cat):
    text = "a = 1\nb = 2  # hplint: disable=HPL002\n"
    fs = [finding("HPL007", 2), finding("HPL001", 1)]
    out = run(text, fs, cat)
    assert [f.code for f in out] == ["HPL007", "HPL001", "HPL100"]


def test_no_directives_returns_a_copy(cat):
    fs = [finding("HPL001", 1)]
    out = apply_suppressions(fs, parse_suppressions("a = 1\n"), "m.py", cat)
    assert out == fs and out is not fs


# ----------------------------------------------------------------- HPL100


def test_unknown_code_and_name(cat):
    text = "a = 1  # hplint: disable=HPL999, no-such-rule, HPL001\n"
    out = run(text, [finding("HPL001", 1)], cat)
    assert [f.message for f in out] == [
        "unknown rule code 'HPL999' in suppression comment",
        "unknown rule name 'no-such-rule' in suppression comment",
    ]
    f = out[0]
    assert (f.code, f.name, f.severity, f.path) == ("HPL100", "unused-suppression", Severity.WARNING, "m.py")
    col = text.index("#") + 1
    assert f.span == Span(1, col, 1, len(text) - 1 + 1)


def test_unknown_hpl_code_in_noqa_is_reported_but_other_names_are_not(cat):
    out = run("a = 1  # noqa: HPL999, some-other-tool-name, E501\n", [], cat)
    assert [f.message for f in out] == ["unknown rule code 'HPL999' in suppression comment"]


def test_unused_line_directive_per_code(cat):
    text = "a = 1\nb = 2  # hplint: disable=HPL001,HPL002\n"
    out = run(text, [finding("HPL001", 2)], cat)
    assert [(f.code, f.line, f.message) for f in out] == [
        ("HPL100", 2, "unused suppression of HPL002: no HPL002 finding on line 2"),
    ]


def test_unused_next_line_message_names_the_target_line(cat):
    text = "# hplint: disable-next-line=HPL001\n\nx = 1\n"
    out = run(text, [finding("HPL001", 1)], cat)
    assert [f.message for f in out if f.code == "HPL100"] == [
        "unused suppression of HPL001: no HPL001 finding on line 3"
    ]
    assert [f.span.start_line for f in out if f.code == "HPL100"] == [1]  # at the comment


def test_unused_file_directive_and_name_display(cat):
    out = run("# hplint: disable-file=bias-before-batchnorm\n", [], cat)
    assert [f.message for f in out] == [
        "unused suppression of bias-before-batchnorm (HPL002): no HPL002 finding in this file"
    ]


def test_next_line_with_nothing_after(cat):
    out = run("x = 1\n# hplint: disable-next-line=HPL001\n", [], cat)
    assert [f.message for f in out] == [
        "unused suppression of HPL001: no code line follows the comment"
    ]


def test_malformed_directive_reported(cat):
    out = run("x = 1  # hplint: enable=HPL001\n", [], cat)
    assert len(out) == 1 and out[0].message.startswith("malformed suppression comment: ")


def test_bare_noqa_is_never_reported_unused(cat):
    assert run("x = 1  # noqa\ny = 2  # noqa:\n", [], cat) == []


def test_codes_disabled_by_config_are_not_reported_unused(cat):
    text = "x = 1  # hplint: disable=HPL001, HPL002\n# hplint: disable-file=HPL007\n"
    out = run(text, [], cat, enabled={"HPL000", "HPL002", "HPL100"})
    assert [f.message for f in out] == ["unused suppression of HPL002: no HPL002 finding on line 1"]


def test_no_hpl100_when_hpl100_itself_is_disabled(cat):
    text = "x = 1  # hplint: disable=HPL001, HPL999\n"
    out = run(text, [finding("HPL001", 1)], cat, enabled={"HPL001"})
    assert out == []


def test_disable_file_hpl100_silences_them_and_is_not_itself_unused(cat):
    text = "x = 1  # hplint: disable=HPL001, HPL999\n# hplint: disable-file=HPL100\n"
    assert run(text, [], cat) == []
    assert run("# hplint: disable-file=HPL100\n", [], cat) == []


def test_a_directive_used_by_several_findings_and_overlapping_directives(cat):
    text = "x = 1  # hplint: disable=HPL001\n# hplint: disable-file=HPL001\n"
    out = run(text, [finding("HPL001", 1, 1), finding("HPL001", 1, 9)], cat)
    assert out == []  # both directives count as used


def test_severity_defaults_to_info_without_a_doc(tmp_path):
    cat = make_catalogue(tmp_path / "r", {"HPL001": ("dropout-before-batchnorm", "warning")})
    out = run("x = 1  # hplint: disable=HPL001\n", [], cat)
    assert [(f.code, f.name, f.severity) for f in out] == [("HPL100", "unused-suppression", Severity.INFO)]


def test_default_catalogue_is_used(monkeypatch, cat):
    monkeypatch.setattr(sup_mod, "load_catalogue", lambda: cat)
    out = apply_suppressions([], parse_suppressions("x = 1  # hplint: disable=HPL002\n"), "m.py")
    assert out[0].severity == Severity.WARNING  # from the fake HPL100 doc


def test_hpl100_fingerprint_survives_line_moves(cat):
    a = run("x = 1  # hplint: disable=HPL001\n", [], cat)[0]
    b = run("\n\n\nx = 1  # hplint: disable=HPL001\n", [], cat)[0]
    assert a.line != b.line and a.fingerprint() == b.fingerprint()
    c = run("x = 1  # hplint: disable=HPL002\n", [], cat)[0]
    assert c.fingerprint() != a.fingerprint()


def test_cr_only_and_form_feed_files_suppress_on_the_right_line(tmp_path):
    # Old Mac line endings (\r alone) and a form feed, which str.splitlines
    # treats as a line break but Python does not.
    from hplint.config import Config
    from hplint.engine import Linter

    lines = [
        "import torch.nn as nn",
        "\x0c",
        "a = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # hplint: disable=HPL002",
        "b = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))",
    ]
    for newline in ("\r", "\n", "\r\n"):
        text = newline.join(lines) + newline
        findings = Linter(Config()).lint_text(text, tmp_path / "m.py").findings
        assert [(f.code, f.span.start_line) for f in findings] == [("HPL002", 4)], repr(newline)
