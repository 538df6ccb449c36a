"""Every output format: exact shapes, ordering, escaping, SARIF schema validity."""

from __future__ import annotations

import json
import re
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
    return "HPL002 [bias-before-batchnorm]" in out and out.rstrip().splitlines()[-1].startswith("Found ")


def test_every_format_the_cli_offers_renders_its_own_kind_of_report(sample, tmp_path, cat):
    from hplint.cli import build_parser

    assert {"text", "json", "sarif", "github", "rdjson"} <= set(FORMATS)
    for fmt in FORMATS:
        assert build_parser().parse_args(["check", "--output-format", fmt]).output_format == fmt
        out = render(fmt, sample, catalogue=cat, root=tmp_path)
        assert [other for other in FORMATS if _looks_like(other, out)] == [fmt], fmt
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
    if fmt == "text":
        assert out == "All checks passed.\n"
    elif fmt == "github":
        assert out == ""
    elif fmt == "json":
        doc = json.loads(out)
        assert doc["findings"] == []
        assert doc["summary"] == {"error": 0, "warning": 0, "info": 0, "fixable": 0, "files": 1}
    elif fmt == "rdjson":
        assert json.loads(out) == {"source": {"name": "hplint", "url": "https://github.com/hplint/hplint"},
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
    out = render("text", sample, catalogue=cat, root=tmp_path)
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
    lines = render("text", [FileResult("a.py", fs)], root=tmp_path).splitlines()
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
    out = render("text", [FileResult("a.py", fs)], root=tmp_path)
    assert out.splitlines()[-1] == expected


def test_text_colour(sample, tmp_path):
    plain = render("text", sample, root=tmp_path)
    coloured = render("text", sample, root=tmp_path, color=True)
    assert "\x1b[1m\x1b[31mHPL000\x1b[0m" in coloured  # error: bold red code
    assert "\x1b[1m\x1b[33mHPL001\x1b[0m" in coloured  # warning: yellow
    assert "\x1b[1m\x1b[34mHPL007\x1b[0m" in coloured  # info: blue
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


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
        "url": "https://github.com/hplint/hplint/blob/main/rules/HPL002.md",
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
    assert driver["informationUri"].startswith("https://")
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.as_uri() + "/"}}
    assert run["columnKind"] == "unicodeCodePoints"

    rules = driver["rules"]
    assert [r["id"] for r in rules] == ["HPL000", "HPL001", "HPL002", "HPL007"]
    hpl2 = rules[2]
    assert hpl2["name"] == "BiasBeforeBatchnorm"
    assert hpl2["shortDescription"] == {"text": "Summary of bias-before-batchnorm."}
    assert "Checks bias-before-batchnorm." in hpl2["fullDescription"]["text"]
    assert hpl2["helpUri"] == cat["HPL002"].url
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
