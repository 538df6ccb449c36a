"""Review mode: `--diff-base`, baselines, `--statistics`, and the rdjson format."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import jsonschema
import pytest

from hplint.cli import main
from hplint.findings import FileResult, Finding, Severity, Span
from hplint.review.baseline import BaselineError, filter_baseline, read_baseline
from hplint.review.diff_base import parse_unified_zero

DATA = Path(__file__).parent / "data"

MODEL = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3)
        self.bn = nn.BatchNorm2d(16)

    def forward(self, x):
        return self.bn(self.conv(x))
"""

HEAD = "import torch.nn as nn\n"
PAIR = "m{n} = nn.Sequential(nn.Linear({n}, 2), nn.BatchNorm1d(2))\n"


@pytest.fixture
def git_env(monkeypatch, tmp_path):
    for key, value in {
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig"), "GIT_CONFIG_NOSYSTEM": "1",
    }.items():
        monkeypatch.setenv(key, value)


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def commit_all(repo, message="c"):
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def shown_findings(out: str):
    return [line.split(": ")[0] + " " + line.split(": ")[1].split(" ")[0]
            for line in out.splitlines() if ": HPL" in line and not line.startswith(" ")]


@pytest.fixture
def repo(tmp_path, git_env, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "model.py").write_text(MODEL)
    (repo / "pairs.py").write_text(HEAD + PAIR.format(n=1))
    commit_all(repo)
    monkeypatch.chdir(repo)
    return repo


# ------------------------------------------------------------------ --diff-base


def test_diff_base_reports_only_changed_lines_and_untracked_files(repo, capsys):
    assert main(["check", "--diff-base", "HEAD", "."]) == 0  # nothing changed
    assert shown_findings(capsys.readouterr().out) == []
    (repo / "pairs.py").write_text(HEAD + PAIR.format(n=1) + "\n" + PAIR.format(n=2))
    (repo / "new.py").write_text(HEAD + PAIR.format(n=3))
    assert main(["check", "--diff-base", "HEAD", "."]) == 1
    assert shown_findings(capsys.readouterr().out) == ["new.py:2:20 HPL002", "pairs.py:4:20 HPL002"]
    assert main(["check", "."]) == 1
    assert len(shown_findings(capsys.readouterr().out)) == 4  # without review mode: all


def test_diff_base_counts_a_changed_related_location(repo, capsys):
    # The Conv2d line is old; the BatchNorm it feeds (the related location) is edited.
    (repo / "model.py").write_text(MODEL.replace("nn.BatchNorm2d(16)", "nn.BatchNorm2d(16, momentum=0.2)"))
    assert main(["check", "--diff-base", "HEAD", "model.py"]) == 1
    assert shown_findings(capsys.readouterr().out) == ["model.py:7:21 HPL002"]


def test_diff_base_against_a_branch_point_with_commits_since(repo, capsys):
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "pairs.py").write_text(PAIR.format(n=9).join([HEAD, ""]))
    commit_all(repo)
    (repo / "model.py").write_text("# moved down\n" + MODEL)  # lines move, nothing new
    assert main(["check", "--diff-base", "main", "."]) == 1
    assert shown_findings(capsys.readouterr().out) == ["pairs.py:2:20 HPL002"]


def test_diff_base_unknown_revision_and_shallow_clone(repo, tmp_path, capsys):
    (repo / "pairs.py").write_text(HEAD + PAIR.format(n=1) + PAIR.format(n=2))
    commit_all(repo)
    assert main(["check", "--diff-base", "no-such-ref", "."]) == 2
    assert "unknown revision no-such-ref: fetch it first (e.g. actions/checkout fetch-depth: 0" in capsys.readouterr().err
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    import os

    os.chdir(clone)
    assert main(["check", "--diff-base", "HEAD~1", "."]) == 2  # not fetched in a depth-1 clone
    assert "unknown revision HEAD~1" in capsys.readouterr().err
    git(clone, "fetch", "-q", "--deepen=1")
    assert main(["check", "--diff-base", "HEAD~1", "."]) == 1
    assert shown_findings(capsys.readouterr().out) == ["pairs.py:3:20 HPL002"]


def test_diff_base_outside_a_repository(tmp_path, git_env, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    (tmp_path / "a.py").write_text(HEAD)
    assert main(["check", "--diff-base", "HEAD", "a.py"]) == 2
    assert "needs a git repository" in capsys.readouterr().err


def test_parse_unified_zero_hunks(tmp_path):
    diff = ("diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n"
            "@@ -3,0 +4,2 @@ def f():\n+a\n+b\n@@ -10 +12 @@\n-c\n+d\n@@ -20,3 +22,0 @@\n-e\n"
            "diff --git a/gone.py b/gone.py\n--- a/gone.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n")
    out = parse_unified_zero(diff, tmp_path)
    assert list(out.values()) == [{4, 5, 12}]


# ------------------------------------------------------------------ baseline


def test_baseline_survives_moves_and_unrelated_edits(repo, capsys, tmp_path):
    baseline = repo / ".hplint-baseline.json"
    assert main(["check", "--write-baseline", str(baseline), "."]) == 0
    assert "recorded 2 findings" in capsys.readouterr().err
    doc = json.loads(baseline.read_text())
    assert doc["version"] == 1 and {e["path"] for e in doc["findings"]} == {"model.py", "pairs.py"}
    # Unrelated edits and moved lines: the recorded findings stay hidden.
    (repo / "model.py").write_text('"""Docs."""\n\nimport os\n' + MODEL.replace(
        "    def forward", "    def extra(self):\n        return os.sep\n\n    def forward"))
    (repo / "pairs.py").write_text(HEAD + "\n\nX = 1\n" + PAIR.format(n=1))
    assert main(["check", "--baseline", str(baseline), "."]) == 0
    out = capsys.readouterr().out
    assert shown_findings(out) == [] and "2 findings hidden by the baseline" in out
    # A new finding is reported; the baseline works from another directory too.
    (repo / "pairs.py").write_text(HEAD + PAIR.format(n=1) + PAIR.format(n=5))
    sub = repo / "sub"
    sub.mkdir()
    import os

    os.chdir(sub)
    assert main(["check", "--baseline", str(baseline), ".."]) == 1
    assert shown_findings(capsys.readouterr().out) == ["../pairs.py:3:20 HPL002"]


def test_baseline_counts_identical_fingerprints(tmp_path):
    def f(line):
        return Finding("HPL002", "n", Severity.WARNING, "m", str(tmp_path / "a.py"), Span(line, 1, line, 2),
                       anchor="Net.__init__:nn.Linear(2, 2)")
    from hplint.review.baseline import baseline_fingerprint

    fp = baseline_fingerprint(f(1), tmp_path)
    results = [FileResult("a.py", [f(3), f(7), f(9)])]
    kept, hidden = filter_baseline(results, tmp_path / "b.json", Counter({fp: 2}))
    assert hidden == 2 and [x.line for x in kept[0].findings] == [9]


def test_bad_baseline_is_a_usage_error(repo, capsys):
    (repo / "b.json").write_text("{}")
    assert main(["check", "--baseline", "b.json", "."]) == 2
    assert "not an hplint baseline" in capsys.readouterr().err
    with pytest.raises(BaselineError, match="cannot read baseline"):
        read_baseline(repo / "missing.json")


# ------------------------------------------------------------------ statistics


def test_statistics(repo, capsys):
    (repo / "opt.py").write_text("import torch\nopt = torch.optim.Adam([], betas=(0.5, 0.99), eps=1e-6)\n")
    (repo / "more.py").write_text(HEAD + PAIR.format(n=2) + PAIR.format(n=3))
    assert main(["check", "--statistics", "."]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "4  HPL002  bias-before-batchnorm             [*]",
        "1  HPL007  adam-non-default-hyperparameters",
    ]
    assert main(["check", "--statistics", "--unsafe-fixes", "--output-format", "json", "."]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert rows == [
        {"code": "HPL002", "name": "bias-before-batchnorm", "count": 4, "fixable": True},
        {"code": "HPL007", "name": "adam-non-default-hyperparameters", "count": 1, "fixable": True},
    ]
    assert main(["check", "--statistics", "--output-format", "sarif", "."]) == 2


# ------------------------------------------------------------------ rdjson


@pytest.fixture(scope="module")
def rdjson_validator():
    schema = json.loads((DATA / "rdjson-DiagnosticResult.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def test_rdjson_output(repo, capsys, rdjson_validator):
    (repo / "uni.py").write_text(HEAD + 'name = "é"; m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))\n',
                                 encoding="utf-8")
    assert main(["check", "--output-format", "rdjson", "-j", "2", "model.py", "uni.py"]) == 1
    doc = json.loads(capsys.readouterr().out)
    rdjson_validator.validate(doc)
    assert doc["source"] == {"name": "hplint"}
    model, uni = doc["diagnostics"]
    assert model["location"] == {"path": "model.py", "range": {"start": {"line": 7, "column": 21},
                                                               "end": {"line": 7, "column": 40}}}
    assert model["severity"] == "WARNING" and model["code"]["value"] == "HPL002"
    assert "url" not in model["code"]  # no public rules URL is declared (catalogue.project_url)
    assert model["suggestions"] == [{"range": model["location"]["range"], "text": "nn.Conv2d(3, 16, 3, bias=False)"}]
    assert model["related_locations"][0]["location"]["range"]["start"] == {"line": 8, "column": 19}
    # Columns are UTF-8 bytes: "é" is one code point but two bytes.
    line = 'name = "é"; m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))'
    code_point_col = line.index("nn.Linear") + 1
    assert uni["location"]["range"]["start"] == {"line": 2, "column": code_point_col + 1}
    assert line.encode("utf-8")[uni["location"]["range"]["start"]["column"] - 1:].startswith(b"nn.Linear")
    for d in doc["diagnostics"]:
        assert d["message"] and d["severity"] in ("ERROR", "WARNING", "INFO")
