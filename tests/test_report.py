"""Every output format: exact shapes, ordering, escaping, SARIF schema validity."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from hplint import catalogue as catalogue_mod
from hplint.catalogue import load_catalogue
from hplint.findings import (
    FileResult,
    Finding,
    Fix,
    FixSafety,
    RelatedLocation,
    Severity,
    Span,
    TextEdit,
)
from hplint.report import FORMATS, render
from hplint.report.github import escape_data, escape_property
from hplint.report.sarif import camel_case

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parent.parent

DOCS = {
    "HPL000": ("parse-error", "error", "none"),
    "HPL001": ("dropout-before-batchnorm", "warning", "unsafe"),
    "HPL002": ("bias-before-batchnorm", "warning", "safe"),
    "HPL007": ("adam-non-default-hyperparameters", "info", "none"),
}


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    d = tmp_path_factory.mktemp("rules")
    for code, (name, severity, fix) in DOCS.items():
        (d / f"{code}.md").write_text(
            f'+++\ncode = "{code}"\nname = "{name}"\nseverity = "{severity}"\n'
            f'message = "{name}"\nsummary = "Summary of {name}."\nfix = "{fix}"\n+++\n\n'
            f"## What it does\nChecks {name}.\n\n## Why is this bad?\nBecause.\n",
            encoding="utf-8",
        )
    return load_catalogue(d)


@pytest.fixture(scope="module")
def sarif_validator():
    schema = json.loads((DATA / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def assert_valid_sarif(validator, text: str) -> dict:
    doc = json.loads(text)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    return doc


def mk(code, name, severity, path, line, col, msg, *, end=None, fix=None, related=(), anchor="", probe=None):
    end_line, end_col = end or (line, col + 5)
    return Finding(
        code=code,
        name=name,
        severity=severity,
        message=msg,
        path=path,
        span=Span(line, col, end_line, end_col),
        fix=fix,
        related=tuple(related),
        anchor=anchor,
        probe_note=probe,
    )


@pytest.fixture
def sample(tmp_path):
    """Three files, out of order, with every feature a finding can have."""
    model = str(tmp_path / "src" / "model.py")
    train = str(tmp_path / "src" / "train.py")
    broken = str(tmp_path / "broken.py")
    bias = mk(
        "HPL002", "bias-before-batchnorm", Severity.WARNING, model, 12, 9,
        "Conv2d bias is cancelled by BatchNorm2d",
        end=(12, 34),
        fix=Fix("Pass bias=False", (TextEdit(Span(12, 33, 12, 33), ", bias=False"),), FixSafety.SAFE),
        related=[RelatedLocation(model, Span(13, 9, 13, 28), "the BatchNorm2d")],
        anchor="nn.Conv2d(3, 16, 3)",
    )
    drop = mk(
        "HPL001", "dropout-before-batchnorm", Severity.WARNING, model, 4, 5,
        "Dropout feeds BatchNorm1d",
        fix=Fix("Move the dropout", (TextEdit(Span(4, 5, 5, 1), ""), TextEdit(Span(7, 1, 7, 1), "x\n")), FixSafety.UNSAFE),
        probe="variance shift 1.8x",
    )
    adam = mk("HPL007", "adam-non-default-hyperparameters", Severity.INFO, train, 3, 1, "betas=(0.5, 0.99) differ from the defaults")
    parse = mk("HPL000", "parse-error", Severity.ERROR, broken, 1, 7, "invalid syntax", end=(1, 7))
    return [
        FileResult(train, [adam]),
        FileResult(model, [bias, drop]),
        FileResult(broken, [parse]),
        FileResult(str(tmp_path / "clean.py"), []),
    ]


# ----------------------------------------------------------------- dispatch


def _looks_like(fmt: str, out: str) -> bool:
    """Whether `out` is a report in `fmt`, told apart from the other formats."""
    if fmt in ("json", "sarif", "rdjson"):
        try:
            doc = json.loads(out)
        except ValueError:
            return False
        return {"json": "summary" in doc, "sarif": doc.get("version") == "2.1.0",
                "rdjson": "diagnostics" in doc and "source" in doc}[fmt]
    if fmt == "github":
        return all(line.startswith("::") for line in out.splitlines()) and "::warning " in out
    human = "HPL002 [bias-before-batchnorm]" in out and out.rstrip().splitlines()[-1].startswith("Found ")
    full = "  = help: Pass bias=False" in out
    return human and (full if fmt == "full" else not full)


def test_every_format_the_cli_offers_renders_its_own_kind_of_report(sample, tmp_path, cat):
    from hplint.cli import build_parser

    assert {"full", "concise", "json", "sarif", "github", "rdjson"} <= set(FORMATS)
    for fmt in FORMATS:
        assert build_parser().parse_args(["check", "--output-format", fmt]).output_format == fmt
        out = render(fmt, sample, catalogue=cat, root=tmp_path)
        assert [other for other in FORMATS if _looks_like(other, out)] == [fmt], fmt
    # the older name of the human format, still accepted on the command line and by render()
    assert build_parser().parse_args(["check", "--output-format", "text"]).output_format == "full"
    assert build_parser().parse_args(["check"]).output_format == "full"  # ruff's default
    assert render("text", sample, catalogue=cat, root=tmp_path) == render("full", sample, catalogue=cat,
                                                                          root=tmp_path)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["check", "--output-format", "xml"])
    with pytest.raises(ValueError, match="unknown output format 'xml'"):
        render("xml", [], root=tmp_path)


def test_default_catalogue(monkeypatch, cat, tmp_path):
    monkeypatch.setattr(catalogue_mod, "load_catalogue", lambda: cat)
    doc = json.loads(render("sarif", [], root=tmp_path))
    assert [r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]] == sorted(DOCS)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_handles_zero_findings(fmt, cat, tmp_path, sarif_validator):
    out = render(fmt, [FileResult(str(tmp_path / "a.py"), [])], catalogue=cat, root=tmp_path)
    if fmt in ("full", "concise"):
        assert out == "All checks passed.\n"
    elif fmt == "github":
        assert out == ""
    elif fmt == "json":
        doc = json.loads(out)
        assert doc["findings"] == []
        assert doc["summary"] == {"error": 0, "warning": 0, "info": 0, "fixable": 0, "files": 1}
    elif fmt == "rdjson":
        assert json.loads(out) == {"source": {"name": "hplint"},
                                   "diagnostics": []}
    else:
        doc = assert_valid_sarif(sarif_validator, out)
        assert doc["runs"][0]["results"] == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_handles_non_ascii(fmt, cat, tmp_path, sarif_validator):
    path = str(tmp_path / "données" / "modèle_β.py")
    f = mk("HPL001", "dropout-before-batchnorm", Severity.WARNING, path, 2, 3, "Dropout → BatchNorm «ü»")
    out = render(fmt, [FileResult(path, [f])], catalogue=cat, root=tmp_path)
    if fmt == "sarif":
        doc = assert_valid_sarif(sarif_validator, out)
        result = doc["runs"][0]["results"][0]
        assert result["message"]["text"] == "Dropout → BatchNorm «ü»"
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri == "donn%C3%A9es/mod%C3%A8le_%CE%B2.py"
    else:
        assert "Dropout → BatchNorm «ü»" in out
        assert "modèle_β.py" in out


# ----------------------------------------------------------------- text


def test_text_exact(sample, tmp_path, cat):
    out = render("concise", sample, catalogue=cat, root=tmp_path)
    t = str(tmp_path)
    assert out == (
        f"{t}/broken.py:1:7: HPL000 [parse-error] invalid syntax\n"
        f"{t}/src/model.py:4:5: HPL001 [dropout-before-batchnorm] Dropout feeds BatchNorm1d [*unsafe]"
        " (variance shift 1.8x)\n"  # the probe note, as `hplint probe` stored it

        f"{t}/src/model.py:12:9: HPL002 [bias-before-batchnorm] Conv2d bias is cancelled by BatchNorm2d [*]\n"
        f"    {t}/src/model.py:13:9: note: the BatchNorm2d\n"
        f"{t}/src/train.py:3:1: HPL007 [adam-non-default-hyperparameters] betas=(0.5, 0.99) differ from the defaults\n"
        "\n"
        "Found 4 findings (1 error, 2 warnings, 1 info); 1 fixable with --fix (1 more with --unsafe-fixes).\n"
    )
    assert "\x1b" not in out


def test_text_sorts_by_line_then_column_not_lexically(tmp_path):
    fs = [mk("HPL001", "n", Severity.WARNING, "a.py", line, col, "m") for line, col in [(10, 1), (2, 10), (2, 9)]]
    lines = render("concise", [FileResult("a.py", fs)], root=tmp_path).splitlines()
    assert [l.split(" ")[0] for l in lines[:3]] == ["a.py:2:9:", "a.py:2:10:", "a.py:10:1:"]


@pytest.mark.parametrize(
    "severities, safeties, expected",
    [
        ([Severity.WARNING], [None], "Found 1 finding (1 warning)."),
        ([Severity.ERROR, Severity.ERROR], [FixSafety.SAFE, FixSafety.SAFE], "Found 2 findings (2 errors); 2 fixable with --fix."),
        ([Severity.INFO, Severity.INFO], [FixSafety.UNSAFE, None], "Found 2 findings (2 info); 1 fixable with --unsafe-fixes."),
        (
            [Severity.ERROR, Severity.WARNING, Severity.WARNING, Severity.WARNING, Severity.INFO],
            [FixSafety.SAFE, FixSafety.SAFE, FixSafety.UNSAFE, None, None],
            "Found 5 findings (1 error, 3 warnings, 1 info); 2 fixable with --fix (1 more with --unsafe-fixes).",
        ),
    ],
)
def test_text_summary(tmp_path, severities, safeties, expected):
    fs = [
        mk("HPL001", "n", sev, "a.py", i + 1, 1, "m", fix=Fix("f", (), safety) if safety else None)
        for i, (sev, safety) in enumerate(zip(severities, safeties))
    ]
    for fmt in ("full", "concise"):
        out = render(fmt, [FileResult("a.py", fs)], root=tmp_path)
        assert out.splitlines()[-1] == expected


@pytest.mark.parametrize("fmt", ["full", "concise"])
def test_text_colour(sample, tmp_path, fmt):
    plain = render(fmt, sample, root=tmp_path)
    coloured = render(fmt, sample, root=tmp_path, color=True)
    assert "\x1b[1m\x1b[31mHPL000\x1b[0m" in coloured  # error: bold red code
    assert "\x1b[1m\x1b[33mHPL001\x1b[0m" in coloured  # warning: yellow
    assert "\x1b[1m\x1b[34mHPL007\x1b[0m" in coloured  # info: blue
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


# ----------------------------------------------------------------- full


def _full(findings, source, path="a.py"):
    return render("full", [FileResult(path, findings, source)], root=Path("."), summary=False)


def test_full_exact():
    source = "import torch.nn as nn\nm = nn.Sequential(nn.Conv2d(3, 16, 3), nn.BatchNorm2d(16))\n"
    bias = mk("HPL002", "bias-before-batchnorm", Severity.WARNING, "a.py", 2, 19, "Conv2d bias is cancelled",
              end=(2, 38), fix=Fix("Pass bias=False", (TextEdit(Span(2, 37, 2, 37), ", bias=False"),)),
              related=[RelatedLocation("a.py", Span(2, 40, 2, 57), "the BatchNorm2d")])
    out = render("full", [FileResult("a.py", [bias], source)], root=Path("."))
    assert out == (
        "a.py:2:19: HPL002 [bias-before-batchnorm] Conv2d bias is cancelled [*]\n"
        "  |\n"
        "2 | m = nn.Sequential(nn.Conv2d(3, 16, 3), nn.BatchNorm2d(16))\n"
        "  |                   ^^^^^^^^^^^^^^^^^^^ HPL002\n"
        "  |\n"
        "  = note: a.py:2:40: the BatchNorm2d\n"
        "  = help: Pass bias=False\n"
        "\n"
        "Found 1 finding (1 warning); 1 fixable with --fix.\n"
    )


def _caret_line(out: str) -> str:
    return next(line for line in out.splitlines() if "^" in line)


def _source_line(out: str) -> str:
    return out.splitlines()[2]


@pytest.mark.parametrize("line, start, end, under", [
    ("\tx = nn.Dropout(0.5)", 6, 21, "nn.Dropout(0.5)"),  # a tab: 4 columns
    ("  \tx = nn.Dropout(0.5)", 8, 23, "nn.Dropout(0.5)"),  # a tab after 2 spaces: to column 4
    ("s = '日本語'; d = nn.Dropout(0.5)", 16, 31, "nn.Dropout(0.5)"),  # wide: two columns each
    ("s = 'e\u0301'; d = nn.Dropout(0.5)", 15, 30, "nn.Dropout(0.5)"),  # a combining accent: none
    ("d = nn.Dropout('日本')", 5, 21, "nn.Dropout('日本')"),  # wide characters inside the range
])
def test_full_carets_sit_under_the_range(line, start, end, under):
    f = mk("HPL001", "n", Severity.WARNING, "a.py", 1, start, "m", end=(1, end))
    out = _full([f], line + "\n")
    shown, carets = _source_line(out), _caret_line(out)
    assert "\t" not in shown
    assert shown == "1 | " + line.expandtabs(4)
    # the display columns of the range in the shown line, counting wide characters twice
    from hplint.report.text import char_width

    def width(text):
        return sum(char_width(c) for c in text)

    text = shown[len("1 | "):]
    prefix = text[: text.index(under)]
    assert carets == "  | " + " " * width(prefix) + "^" * width(under) + " HPL001"


def test_full_wide_characters_take_two_columns():
    f = mk("HPL001", "n", Severity.WARNING, "a.py", 1, 6, "m", end=(1, 8))
    out = _full([f], "s = '日本語'\n")
    assert _caret_line(out) == "  |      ^^^^ HPL001"  # under 日本, which a terminal draws 4 wide


def test_full_control_characters_never_reach_the_terminal():
    f = mk("HPL001", "n", Severity.WARNING, "a.py", 1, 8, "m", end=(1, 9))
    out = _full([f], "x = 1  \x1b[2J  # \x0c\n")
    assert "\x1b" not in out and "\x0c" not in out and "\u241b[2J" in out
    assert _caret_line(out) == "  |        ^ HPL001"


def test_full_multi_line_span_underlines_the_first_line_and_counts_the_rest():
    source = "x = f(\n    1,\n    2,\n)\n"
    f = mk("HPL003", "n", Severity.WARNING, "a.py", 1, 5, "m", end=(4, 2))
    out = _full([f], source)
    assert _source_line(out) == "1 | x = f("
    assert _caret_line(out) == "  |     ^^ HPL003 (and 3 more lines)"
    one = mk("HPL003", "n", Severity.WARNING, "a.py", 3, 5, "m", end=(4, 2))
    assert _caret_line(_full([one], source)).endswith("^^ HPL003 (and 1 more line)")


def test_full_clamps_a_range_past_the_end():
    source = "a = 1\nbb = 2\n"
    past = mk("HPL000", "n", Severity.ERROR, "a.py", 9, 3, "m", end=(9, 4))
    out = _full([past], source)
    assert _source_line(out) == "2 | bb = 2" and _caret_line(out) == "  |       ^ HPL000"
    long_col = mk("HPL000", "n", Severity.ERROR, "a.py", 1, 40, "m", end=(1, 44))
    assert _caret_line(_full([long_col], source)) == "  |      ^ HPL000"
    empty = mk("HPL000", "n", Severity.ERROR, "a.py", 1, 1, "m", end=(1, 1))
    assert _full([empty], "") == "a.py:1:1: HPL000 [n] m\n"  # nothing to show: the header only


def test_full_zero_width_range_gets_one_caret():
    f = mk("HPL005", "n", Severity.WARNING, "a.py", 1, 3, "m", end=(1, 3))
    assert _caret_line(_full([f], "abcdef\n")) == "  |   ^ HPL005"


def test_full_reads_the_file_when_the_worker_kept_no_text(tmp_path):
    path = tmp_path / "w.py"
    path.write_bytes(b"# -*- coding: latin-1 -*-\r\nx = '\xe9t\xe9'\r\n")
    f = mk("HPL001", "n", Severity.WARNING, str(path), 2, 5, "m", end=(2, 10))
    out = _full([f], None, path=str(path))
    assert _source_line(out) == "2 | x = 'été'" and _caret_line(out) == "  |     ^^^^^ HPL001"
    gone = mk("HPL001", "n", Severity.WARNING, str(tmp_path / "gone.py"), 2, 5, "m")
    assert _full([gone], None, path=str(tmp_path / "gone.py")).count("\n") == 1  # header only


def test_full_notebook_finding_shows_its_cell_line():
    nb = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "source": ["import torch.nn as nn\n"], "metadata": {}, "outputs": []},
        {"cell_type": "markdown", "source": "# model", "metadata": {}},
        {"cell_type": "code", "source": ["x = 1\n", "m = nn.Dropout(0.5)"], "metadata": {}, "outputs": []},
    ]}, indent=1)
    f = replace(mk("HPL001", "n", Severity.WARNING, "n.ipynb", 2, 5, "m", end=(2, 20)), cell=3,
                raw_span=Span(12, 9, 12, 24))
    out = _full([f], nb, path="n.ipynb")
    assert out.splitlines()[0] == "n.ipynb:cell 3:2:5: HPL001 [n] m"
    assert _source_line(out) == "2 | m = nn.Dropout(0.5)" and _caret_line(out) == "  |     ^^^^^^^^^^^^^^^ HPL001"


def test_full_wraps_long_messages_to_the_width_only_when_asked():
    message = " ".join(["word"] * 40)
    f = mk("HPL001", "dropout-before-batchnorm", Severity.WARNING, "a.py", 1, 1, message,
           fix=Fix("d", (), FixSafety.UNSAFE))
    source = "x = 1\n"
    unwrapped = render("full", [FileResult("a.py", [f], source)], root=Path("."), summary=False)
    assert unwrapped.splitlines()[0].endswith("word [*unsafe]")
    out = render("full", [FileResult("a.py", [f], source)], root=Path("."), summary=False, width=60)
    head = out.splitlines()[: out.splitlines().index("  |")]
    assert len(head) > 1 and all(len(line) <= 60 for line in head)
    assert all(line.startswith("    ") for line in head[1:])
    assert " ".join(line.strip() for line in head) == unwrapped.splitlines()[0]
    coloured = render("full", [FileResult("a.py", [f], source)], root=Path("."), summary=False, width=60,
                      color=True)
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == out
    assert "\x1b[36m[*unsafe]\x1b[0m" in coloured


def test_full_wraps_by_terminal_columns_and_shows_no_control_characters():
    from hplint.report.text import text_width

    f = mk("HPL001", "n", Severity.WARNING, "a.py", 1, 1, " ".join(["日本語の"] * 20) + " \x1b[2J end")
    out = render("full", [FileResult("a.py", [f], "x = 1\n")], root=Path("."), summary=False, width=40)
    head = out.splitlines()[: out.splitlines().index("  |")]
    assert len(head) > 2 and all(text_width(line) <= 40 for line in head)
    assert "\x1b" not in out and "\u241b[2J end" in head[-1]
    concise = render("concise", [FileResult("a.py", [f])], root=Path("."))
    assert "\x1b" not in concise


def test_quiet_drops_the_summary_only(sample, tmp_path):
    for fmt in ("full", "concise"):
        loud = render(fmt, sample, root=tmp_path)
        quiet = render(fmt, sample, root=tmp_path, summary=False)
        assert loud.startswith(quiet) and "Found" not in quiet and quiet.count("HPL0") == loud.count("HPL0")
    assert render("full", [FileResult("a.py", [])], root=tmp_path, summary=False) == ""


# ----------------------------------------------------------------- json


def test_json_document(sample, tmp_path, cat):
    doc = json.loads(render("json", sample, catalogue=cat, root=tmp_path, tool_version="9.8.7"))
    assert doc["version"] == 1
    assert doc["tool"] == {"name": "hplint", "version": "9.8.7"}
    assert [f["code"] for f in doc["findings"]] == ["HPL000", "HPL001", "HPL002", "HPL007"]
    bias_finding = sample[1].findings[0]
    assert doc["findings"][2] == {
        "code": "HPL002",
        "name": "bias-before-batchnorm",
        "severity": "warning",
        "message": "Conv2d bias is cancelled by BatchNorm2d",
        "path": bias_finding.path,
        "start": {"line": 12, "column": 9},
        "end": {"line": 12, "column": 34},
        "fix": {
            "description": "Pass bias=False",
            "safety": "safe",
            "edits": [{"start": {"line": 12, "column": 33}, "end": {"line": 12, "column": 33}, "content": ", bias=False"}],
        },
        "related": [
            {"path": bias_finding.path, "start": {"line": 13, "column": 9}, "end": {"line": 13, "column": 28}, "message": "the BatchNorm2d"}
        ],
        "url": None,  # hplint declares no public rules URL (catalogue.project_url)
        "fingerprint": bias_finding.fingerprint(),
        "probe": None,
    }
    parse = doc["findings"][0]
    assert parse["fix"] is None and parse["related"] == [] and parse["severity"] == "error"
    drop = doc["findings"][1]
    assert drop["probe"] == "variance shift 1.8x" and drop["fix"]["safety"] == "unsafe"
    assert len(drop["fix"]["edits"]) == 2
    assert doc["summary"] == {"error": 1, "warning": 2, "info": 1, "fixable": 2, "files": 4}


def test_json_url_null_for_code_outside_catalogue(tmp_path, cat):
    f = mk("HPL042", "future-rule", Severity.WARNING, "a.py", 1, 1, "m")
    doc = json.loads(render("json", [FileResult("a.py", [f])], catalogue=cat, root=tmp_path))
    assert doc["findings"][0]["url"] is None


def test_json_keeps_non_ascii_unescaped(tmp_path, cat):
    f = mk("HPL001", "n", Severity.WARNING, "ä.py", 1, 1, "β")
    out = render("json", [FileResult("ä.py", [f])], catalogue=cat, root=tmp_path)
    assert '"β"' in out and "\\u" not in out


def test_json_fields_are_documented(sample, tmp_path, cat):
    docs = (REPO / "docs" / "json-output.md").read_text(encoding="utf-8")
    from hplint.report import json_format

    doc = json.loads(render("json", sample, catalogue=cat, root=tmp_path))
    for key in doc["findings"][0]:
        assert f"`findings[].{key}`" in docs or f"`.{key}`" in docs, key
        assert f'"{key}"' in json_format.__doc__, key
    for key in doc["summary"]:
        assert f"`summary.{key}`" in docs or f"`.{key}`" in docs, key
        assert f'"{key}"' in json_format.__doc__, key


# ----------------------------------------------------------------- sarif


def test_sarif_is_valid_and_complete(sample, tmp_path, cat, sarif_validator):
    doc = assert_valid_sarif(sarif_validator, render("sarif", sample, catalogue=cat, root=tmp_path, tool_version="1.2.3"))
    assert doc["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert doc["version"] == "2.1.0"
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "hplint" and driver["version"] == "1.2.3"
    assert "informationUri" not in driver  # no public home declared: no link to nowhere
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.as_uri() + "/"}}
    assert run["columnKind"] == "unicodeCodePoints"

    rules = driver["rules"]
    assert [r["id"] for r in rules] == ["HPL000", "HPL001", "HPL002", "HPL007"]
    hpl2 = rules[2]
    assert hpl2["name"] == "BiasBeforeBatchnorm"
    assert hpl2["shortDescription"] == {"text": "Summary of bias-before-batchnorm."}
    assert "Checks bias-before-batchnorm." in hpl2["fullDescription"]["text"]
    assert "helpUri" not in hpl2
    assert hpl2["help"]["markdown"] == cat["HPL002"].body.strip()
    assert hpl2["defaultConfiguration"] == {"level": "warning"}
    assert rules[3]["defaultConfiguration"] == {"level": "note"}
    assert "autofix" in hpl2["properties"]["tags"] and "autofix" not in rules[3]["properties"]["tags"]

    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("HPL000", "error"), ("HPL001", "warning"), ("HPL002", "warning"), ("HPL007", "note"),
    ]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    bias = results[2]
    finding = sample[1].findings[0]
    assert bias["message"] == {"text": "Conv2d bias is cancelled by BatchNorm2d"}
    assert bias["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "src/model.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 12, "startColumn": 9, "endLine": 12, "endColumn": 34},
            }
        }
    ]
    assert bias["relatedLocations"] == [
        {
            "id": 1,
            "physicalLocation": {
                "artifactLocation": {"uri": "src/model.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 13, "startColumn": 9, "endLine": 13, "endColumn": 28},
            },
            "message": {"text": "the BatchNorm2d"},
        }
    ]
    assert bias["partialFingerprints"] == {"hplint/v1": finding.fingerprint()}
    assert bias["fixes"] == [
        {
            "description": {"text": "Pass bias=False"},
            "artifactChanges": [
                {
                    "artifactLocation": {"uri": "src/model.py", "uriBaseId": "%SRCROOT%"},
                    "replacements": [
                        {
                            "deletedRegion": {"startLine": 12, "startColumn": 33, "endLine": 12, "endColumn": 33},
                            "insertedContent": {"text": ", bias=False"},
                        }
                    ],
                }
            ],
        }
    ]
    assert bias["properties"] == {"fixSafety": "safe"}
    assert results[1]["properties"] == {"fixSafety": "unsafe", "probe": "variance shift 1.8x",
                                        "probeVerdict": "confirmed", "probeSummary": "variance shift 1.8x"}
    assert results[1]["message"]["text"].endswith(" (confirmed by a probe run: variance shift 1.8x)")
    parse = results[0]
    assert "fixes" not in parse and "relatedLocations" not in parse
    assert parse["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.py"


def test_sarif_fingerprint_stable_across_line_moves(tmp_path, cat):
    def sarif_for(line):
        f = mk("HPL002", "bias-before-batchnorm", Severity.WARNING, str(tmp_path / "m.py"), line, 5, "m", anchor="nn.Conv2d(3, 8, 3)")
        doc = json.loads(render("sarif", [FileResult(f.path, [f])], catalogue=cat, root=tmp_path))
        return doc["runs"][0]["results"][0]["partialFingerprints"]["hplint/v1"]

    assert sarif_for(3) == sarif_for(40)


def test_sarif_relative_input_paths_and_outside_root(tmp_path, cat, monkeypatch, sarif_validator):
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "proj"
    inside = mk("HPL001", "n", Severity.WARNING, "proj/pkg/a.py", 1, 1, "m")
    outside = mk("HPL001", "n", Severity.WARNING, str(tmp_path / "elsewhere" / "b c.py"), 1, 1, "m")
    doc = assert_valid_sarif(
        sarif_validator,
        render("sarif", [FileResult("x", [inside, outside])], catalogue=cat, root=root),
    )
    locs = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in doc["runs"][0]["results"]]
    assert {"uri": "pkg/a.py", "uriBaseId": "%SRCROOT%"} in locs
    assert {"uri": (tmp_path / "elsewhere" / "b c.py").as_uri()} in locs
    assert doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == root.as_uri() + "/"


def test_sarif_code_missing_from_catalogue_gets_a_descriptor(tmp_path, cat, sarif_validator):
    f = mk("HPL042", "future-rule", Severity.ERROR, str(tmp_path / "a.py"), 1, 1, "m")
    doc = assert_valid_sarif(sarif_validator, render("sarif", [FileResult(f.path, [f])], catalogue=cat, root=tmp_path))
    run = doc["runs"][0]
    (result,) = run["results"]
    rule = run["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert rule["id"] == "HPL042" and rule["name"] == "FutureRule"


def test_sarif_hpl000_only(tmp_path, cat, sarif_validator):
    f = mk("HPL000", "parse-error", Severity.ERROR, str(tmp_path / "a.py"), 3, 1, "unexpected indent", end=(3, 1))
    doc = assert_valid_sarif(sarif_validator, render("sarif", [FileResult(f.path, [f])], catalogue=cat, root=tmp_path))
    (result,) = doc["runs"][0]["results"]
    assert result["ruleId"] == "HPL000" and result["level"] == "error"


def test_sarif_schema_rejects_a_broken_log(sarif_validator):
    # Guards the guard: the validator checks nested results, e.g. that `info`
    # is not a SARIF level (hplint's info must become `note`).
    log = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "hplint"}}, "results": [{"message": {"text": "m"}, "level": "note"}]}]}
    assert not list(sarif_validator.iter_errors(log))
    log["runs"][0]["results"][0]["level"] = "info"
    assert list(sarif_validator.iter_errors(log))


def test_camel_case():
    assert camel_case("dropout-before-batchnorm") == "DropoutBeforeBatchnorm"
    assert camel_case("lr_linear-sampling") == "LrLinearSampling"


# ----------------------------------------------------------------- github


def test_github_commands(sample, tmp_path):
    out = render("github", sample, root=tmp_path)
    lines = out.splitlines()
    t = str(tmp_path)
    assert out.endswith("\n") and len(lines) == 4
    assert lines[0] == f"::error file={t}/broken.py,line=1,col=7,endLine=1,endColumn=7,title=HPL000 parse-error::invalid syntax"
    assert lines[2] == (
        f"::warning file={t}/src/model.py,line=12,col=9,endLine=12,endColumn=34,"
        "title=HPL002 bias-before-batchnorm::Conv2d bias is cancelled by BatchNorm2d"
        f"%0A{t}/src/model.py:13:9: note: the BatchNorm2d"
    )
    assert lines[3].startswith("::notice ")
    assert lines[3].endswith("::betas=(0.5, 0.99) differ from the defaults")


def test_github_escaping(tmp_path):
    f = mk("HPL001", "n", Severity.WARNING, "dir,x/a:b%.py", 1, 1, "50% done\r\nnext: a,b")
    (line,) = render("github", [FileResult(f.path, [f])], root=tmp_path).splitlines()
    assert line == (
        "::warning file=dir%2Cx/a%3Ab%25.py,line=1,col=1,endLine=1,endColumn=6,title=HPL001 n"
        "::50%25 done%0D%0Anext: a,b"
    )
    assert escape_data("a%\r\n:,") == "a%25%0D%0A:,"
    assert escape_property("a%\r\n:,") == "a%25%0D%0A%3A%2C"


def test_github_windows_separators(tmp_path):
    f = mk("HPL001", "n", Severity.WARNING, "src\\m.py", 1, 1, "m")
    assert "file=src/m.py," in render("github", [FileResult(f.path, [f])], root=tmp_path)


def test_links_appear_once_the_package_declares_its_urls(sample, tmp_path, monkeypatch, sarif_validator):
    """`[project.urls] Homepage / Rules` in the package metadata: SARIF, rdjson,
    JSON and the editor link there; without them they carry no links at all."""
    from hplint import catalogue as catalogue_module

    monkeypatch.setattr(catalogue_module, "_URLS", {"homepage": "https://example.org/hplint",
                                                   "rules": "https://example.org/hplint/rules/"})
    cat = load_catalogue()
    assert cat["HPL002"].url == "https://example.org/hplint/rules/HPL002.md"
    doc = assert_valid_sarif(sarif_validator, render("sarif", sample, catalogue=cat, root=tmp_path, tool_version="1"))
    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == "https://example.org/hplint"
    assert {r["id"]: r["helpUri"] for r in driver["rules"]}["HPL002"] == cat["HPL002"].url
    rd = json.loads(render("rdjson", sample, catalogue=cat, root=tmp_path))
    assert rd["source"] == {"name": "hplint", "url": "https://example.org/hplint"}
