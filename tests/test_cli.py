"""The command line as users and CI run it: formats, exit codes, config,
suppressions, discovery, bad input."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

from hplint.cli import main

from helpers import dedent

REPO = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((REPO / "tests" / "data" / "sarif-2.1.0.json").read_text())

BAD = dedent("""
    import torch
    import torch.nn as nn

    model = nn.Sequential(
        nn.Linear(4, 8),
        nn.BatchNorm1d(8),
        nn.Dropout(0.5),
        nn.BatchNorm1d(8),
    )
    opt = torch.optim.Adam(model.parameters(), betas=(0.5, 0.999))
""")
CLEAN = dedent("""
    import torch.nn as nn
    model = nn.Sequential(nn.Linear(4, 8, bias=False), nn.BatchNorm1d(8), nn.ReLU())
""")


def run_process(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`python -m hplint ARGS` in a real process (tests about the process itself)."""
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "hplint", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, env=env, timeout=120)


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run(*args: str, cwd: Path, stdin: str | None = None) -> Ran:
    """`hplint ARGS` in this process: the same `main` without a Python start-up
    and import per call. stdout and stderr are not terminals, as in a pipe."""
    out, err = (io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True) for _ in "oe")
    fake_stdin = io.TextIOWrapper(io.BytesIO((stdin or "").encode("utf-8")), encoding="utf-8")
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _patched(sys, "stdin", fake_stdin):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse usage errors
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.chdir(previous)
    return Ran(code, out.buffer.getvalue().decode("utf-8"), err.buffer.getvalue().decode("utf-8"))


@contextlib.contextmanager
def _patched(obj, name, value):
    saved = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, saved)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text(BAD)
    (tmp_path / "clean.py").write_text(CLEAN)
    return tmp_path


def test_text_output_lines_and_summary(project):
    proc = run_process("check", ".", cwd=project)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert "train.py:5:5: HPL002 [bias-before-batchnorm] Linear has a bias but feeds BatchNorm1d (line 6)" in proc.stdout
    assert any(l.startswith("train.py:7:5: HPL001 [dropout-before-batchnorm] Dropout feeds BatchNorm1d (line 8)") for l in lines)
    assert any(l.startswith("train.py:10:51: HPL007 [adam-non-default-hyperparameters]") for l in lines)
    assert "\x1b[" not in proc.stdout  # no colour when not a TTY
    assert lines[-1] == "Found 3 findings (2 warnings, 1 info); 1 fixable with --fix (1 more with --unsafe-fixes)."


def test_clean_file_exit_zero(project):
    proc = run("check", "clean.py", cwd=project)
    assert proc.returncode == 0
    assert "All checks passed" in proc.stdout


def test_json_schema_fields(project):
    proc = run("check", "--output-format", "json", cwd=project)
    doc = json.loads(proc.stdout)
    by_code = {f["code"]: f for f in doc["findings"]}
    assert set(by_code) == {"HPL001", "HPL002", "HPL007"}
    f = by_code["HPL002"]
    assert f["path"] == "train.py" and f["severity"] == "warning" and f["name"] == "bias-before-batchnorm"
    assert f["start"] == {"line": 5, "column": 5} and f["end"] == {"line": 5, "column": 20}
    assert f["fix"]["safety"] == "safe" and f["fix"]["edits"][0]["content"] == "nn.Linear(4, 8, bias=False)"
    assert f["url"] is None  # no public rules URL is declared (catalogue.project_url)
    assert by_code["HPL001"]["fix"] is None
    assert doc["summary"]["warning"] == 2 and doc["summary"]["info"] == 1


def test_sarif_validates_and_fingerprints_survive_line_moves(project):
    first = json.loads(run("check", "--output-format", "sarif", cwd=project).stdout)
    errors = list(jsonschema.validators.validator_for(SCHEMA)(SCHEMA).iter_errors(first))
    assert errors == []
    run0 = first["runs"][0]
    rule_ids = {r["id"] for r in run0["tool"]["driver"]["rules"]}
    assert {"HPL001", "HPL002", "HPL007"} <= rule_ids
    loc = run0["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc == {"uri": "train.py", "uriBaseId": "%SRCROOT%"}
    again = json.loads(run("check", "--output-format", "sarif", cwd=project).stdout)
    (project / "train.py").write_text("# a new header comment\n\n" + BAD)
    moved = json.loads(run("check", "--output-format", "sarif", cwd=project).stdout)

    def prints(doc):
        return sorted(r["partialFingerprints"]["hplint/v1"] for r in doc["runs"][0]["results"])

    assert prints(first) == prints(again) == prints(moved)
    assert len(set(prints(first))) == 3
    lines = sorted(r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in moved["runs"][0]["results"])
    assert lines == [7, 9, 12]


def test_github_annotations(project):
    proc = run("check", "--output-format", "github", cwd=project)
    lines = proc.stdout.splitlines()
    assert "::warning file=train.py,line=7,col=5,endLine=7,endColumn=20,title=HPL001 dropout-before-batchnorm::Dropout feeds" in proc.stdout
    assert any(l.startswith("::notice file=train.py,line=10,") for l in lines)


def test_fail_on_and_exit_zero(project):
    (project / "info_only.py").write_text("import torch\nopt = torch.optim.Adam(p, betas=(0.5, 0.999))\n")
    assert run("check", "info_only.py", cwd=project).returncode == 0  # info is below the default warning
    assert run("check", "info_only.py", "--fail-on", "info", cwd=project).returncode == 1
    assert run("check", "train.py", "--fail-on", "error", cwd=project).returncode == 0
    assert run("check", "train.py", "--exit-zero", cwd=project).returncode == 0


def test_select_and_ignore_override_config(project):
    (project / "pyproject.toml").write_text('[tool.hplint]\nselect = ["HPL001"]\n')
    out = run("check", "train.py", cwd=project).stdout
    assert "HPL001" in out and "HPL002" not in out
    out = run("check", "train.py", "--select", "HPL002,HPL007", cwd=project).stdout
    assert "HPL002" in out and "HPL007" in out and "HPL001" not in out
    out = run("check", "train.py", "--select", "ALL", "--ignore", "bias-before-batchnorm", cwd=project).stdout
    assert "HPL002" not in out and "HPL001" in out


def test_severity_override_and_per_file_ignores(project):
    (project / "pyproject.toml").write_text(
        '[tool.hplint]\n[tool.hplint.severity]\nHPL007 = "error"\n'
        '[tool.hplint.per-file-ignores]\n"clean*.py" = ["ALL"]\n"train.py" = ["HPL001"]\n')
    proc = run("check", "--output-format", "json", cwd=project)
    findings = json.loads(proc.stdout)["findings"]
    assert {(f["code"], f["severity"]) for f in findings} == {("HPL002", "warning"), ("HPL007", "error")}


@pytest.mark.parametrize("toml, key", [
    ('[tool.hplint]\nselekt = ["HPL001"]\n', "tool.hplint.selekt"),
    ('[tool.hplint]\nselect = ["HPL999"]\n', "tool.hplint.select"),
    ('[tool.hplint]\nselect = "HPL001"\n', "tool.hplint.select"),
    ('[tool.hplint.rules.HPL007]\naccepted-eps = "1e-6"\n', "tool.hplint.rules.HPL007.accepted-eps"),
    ('[tool.hplint.severity]\nHPL001 = "loud"\n', "tool.hplint.severity.HPL001"),
])
def test_config_errors_name_file_and_key(project, toml, key):
    (project / "pyproject.toml").write_text(toml)
    proc = run("check", "train.py", cwd=project)
    assert proc.returncode == 2
    assert "pyproject.toml" in proc.stderr and key in proc.stderr
    assert proc.stdout == ""


def test_unknown_rule_code_on_command_line(project):
    proc = run("check", "--select", "HPL999", cwd=project)
    assert proc.returncode == 2 and "HPL999" in proc.stderr


def test_explicit_config_file(project, tmp_path_factory):
    cfg = tmp_path_factory.mktemp("cfg") / "hplint.toml"
    cfg.write_text('select = ["HPL007"]\n')
    out = run("check", "train.py", "--config", str(cfg), cwd=project).stdout
    assert "HPL007" in out and "HPL001" not in out


def test_every_suppression_form(tmp_path):
    code = dedent("""
        import torch
        import torch.nn as nn
        # hplint: disable-file=HPL007
        a = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(8))  # hplint: disable=HPL001
        # hplint: disable-next-line=dropout-before-batchnorm
        b = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(8))
        c = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(8))  # noqa: HPL001
        d = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(8))
        opt = torch.optim.Adam(p, eps=1e-4)
        x = 1  # hplint: disable=HPL002
        y = 2  # noqa: HPL042
    """)
    (tmp_path / "s.py").write_text(code)
    proc = run("check", "s.py", "--output-format", "json", cwd=tmp_path)
    found = sorted((f["code"], f["start"]["line"], f["severity"]) for f in json.loads(proc.stdout)["findings"])
    assert found == [("HPL001", 8, "warning"), ("HPL100", 10, "info"), ("HPL100", 11, "info")]
    messages = [f["message"] for f in json.loads(proc.stdout)["findings"] if f["code"] == "HPL100"]
    assert any("HPL042" in m for m in messages) and any("HPL002" in m for m in messages)


def test_broken_files_reported_and_others_still_linted(project):
    (project / "broken.py").write_text("def train(:\n    pass\n")
    (project / "latin1.py").write_bytes(b"x = 1\ny = '\xe9t\xe9'\n")
    (project / "empty.py").write_text("")
    proc = run("check", "--output-format", "json", cwd=project)
    assert proc.returncode == 1
    findings = json.loads(proc.stdout)["findings"]
    errors = {f["path"]: f for f in findings if f["code"] == "HPL000"}
    assert errors["broken.py"]["start"] == {"line": 1, "column": 11}
    assert "syntax error" in errors["broken.py"]["message"]
    assert errors["latin1.py"]["start"]["line"] == 2 and "0xe9" in errors["latin1.py"]["message"]
    assert "empty.py" not in errors
    assert {f["code"] for f in findings if f["path"] == "train.py"} == {"HPL001", "HPL002", "HPL007"}


def test_stdin_with_filename(project):
    proc = run_process("check", "-", "--stdin-filename", "from_editor.py", cwd=project, stdin=BAD)
    assert proc.returncode == 1
    assert "from_editor.py:7:5: HPL001" in proc.stdout


def test_discovery_skips_tool_dirs_and_excludes(project):
    for skipped in (".venv", "venv", "build", "dist", "node_modules", "__pycache__", ".git"):
        (project / skipped).mkdir()
        (project / skipped / "x.py").write_text(BAD)
    (project / "legacy").mkdir()
    (project / "legacy" / "old.py").write_text(BAD)
    (project / "pyproject.toml").write_text('[tool.hplint]\nexclude = ["legacy/"]\n')
    proc = run("check", "--output-format", "json", cwd=project)
    paths = {f["path"] for f in json.loads(proc.stdout)["findings"]}
    assert paths == {"train.py"}


def test_symlink_loop_directory_and_fifo_do_not_hang(project):
    (project / "loop").symlink_to(project, target_is_directory=True)
    (project / "dangling.py").symlink_to(project / "nowhere.py")
    os.mkfifo(project / "pipe.py")
    (project / "dir.py").mkdir()
    proc = run("check", "--output-format", "json", cwd=project)
    paths = {f["path"] for f in json.loads(proc.stdout)["findings"]}
    assert paths == {"train.py"}
    proc = run("check", "pipe.py", "dangling.py", "--output-format", "json", cwd=project)
    found = {f["path"]: f["message"] for f in json.loads(proc.stdout)["findings"]}
    assert "not a regular file" in found["pipe.py"] and "cannot read" in found["dangling.py"]


def test_missing_path_is_a_usage_error(project):
    proc = run("check", "nope/", cwd=project)
    assert proc.returncode == 2 and "nope" in proc.stderr


def test_deep_nesting_and_huge_files(project):
    (project / "deep_parens.py").write_text("x = " + "(" * 150 + "1" + ")" * 150 + "\n")
    (project / "long_chain.py").write_text("x = " + " + ".join(["1"] * 5000) + "\n")
    # 10,000 lines: ten times a long training script; libcst parses ~2,500 lines a second here
    (project / "big.py").write_text(BAD + "".join(f"v{i} = {i} * 2\n" for i in range(10_000)))
    proc = run("check", "--output-format", "json", cwd=project)
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    chain = [f for f in findings if f["path"] == "long_chain.py"]
    assert [f["code"] for f in chain] == ["HPL000"] and "nested" in chain[0]["message"]
    assert not [f for f in findings if f["path"] == "deep_parens.py"]
    assert {f["code"] for f in findings if f["path"] == "big.py"} == {"HPL001", "HPL002", "HPL007"}


def test_rule_and_rules_commands(tmp_path):
    proc = run("rule", "HPL001", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.startswith("# HPL001 dropout-before-batchnorm")
    assert "## Why is this bad?" in proc.stdout and "variance shift" in proc.stdout
    assert run("rule", "bias-before-batchnorm", cwd=tmp_path).stdout.startswith("# HPL002")
    bad = run("rule", "HPL999", cwd=tmp_path)
    assert bad.returncode == 2 and "HPL999" in bad.stderr
    listing = run("rules", cwd=tmp_path).stdout
    assert "HPL001  dropout-before-batchnorm" in listing and "warning" in listing


def test_parallel_run_matches_serial(project):
    for i in range(12):
        (project / f"copy{i}.py").write_text(BAD)
    serial = json.loads(run("check", "-j", "1", "--output-format", "json", cwd=project).stdout)
    parallel = json.loads(run("check", "-j", "2", "--output-format", "json", cwd=project).stdout)
    assert serial["findings"] == parallel["findings"]
    assert len(serial["findings"]) == 13 * 3


# -- output: full/concise, quiet/silent, colour, progress ------------------------------------

class _Tty(io.TextIOWrapper):
    def isatty(self) -> bool:
        return True


def run_tty(*args: str, cwd: Path, stdout_tty: bool = True, stderr_tty: bool = True) -> Ran:
    """`run`, with stdout and/or stderr looking like a terminal."""
    out = (_Tty if stdout_tty else io.TextIOWrapper)(io.BytesIO(), encoding="utf-8", write_through=True)
    err = (_Tty if stderr_tty else io.TextIOWrapper)(io.BytesIO(), encoding="utf-8", write_through=True)
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        os.chdir(previous)
    return Ran(code, out.buffer.getvalue().decode("utf-8"), err.buffer.getvalue().decode("utf-8"))


@pytest.fixture
def plain_env(monkeypatch):
    for name in ("NO_COLOR", "FORCE_COLOR", "CI"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_default_output_is_full_and_concise_is_one_line_each(project):
    full = run("check", "train.py", cwd=project)
    assert full.returncode == 1
    assert "7 |     nn.Dropout(0.5),\n  |     ^^^^^^^^^^^^^^^ HPL001\n" in full.stdout
    assert "  = help: Set bias=False\n" in full.stdout
    concise = run("check", "train.py", "--output-format", "concise", cwd=project)
    lines = concise.stdout.splitlines()
    assert lines[0].startswith("train.py:5:5: HPL002 [bias-before-batchnorm] ")
    assert not any(line.lstrip().startswith(("|", "=")) for line in lines)
    # the concise lines are the full format's headers
    assert [l for l in lines if l.startswith("train.py:")] == [
        l for l in full.stdout.splitlines() if l.startswith("train.py:")]
    assert run("check", "train.py", "--output-format", "text", cwd=project).stdout == full.stdout


def test_quiet_prints_findings_only_and_silent_nothing(project):
    quiet = run("check", "train.py", "-q", cwd=project)
    assert quiet.returncode == 1 and "HPL001" in quiet.stdout and "Found" not in quiet.stdout
    assert run("check", "clean.py", "--quiet", cwd=project).stdout == ""
    baseline = project / "base.json"
    assert run("check", "train.py", "--write-baseline", str(baseline), "-q", cwd=project).stderr == ""
    diff = run("check", "train.py", "--diff", "-q", cwd=project)
    assert diff.stdout.startswith("--- a/train.py") and diff.stderr == ""  # the diff is the output asked for
    hidden = run("check", "train.py", "--baseline", str(baseline), "-q", cwd=project)
    assert hidden.stdout == "" and "hidden" not in hidden.stderr  # no notes either
    silent = run("check", "train.py", "-s", cwd=project)
    assert (silent.returncode, silent.stdout, silent.stderr) == (1, "", "")
    assert run("check", "clean.py", "--silent", cwd=project).returncode == 0
    assert run("check", "train.py", "-s", "--output-format", "json", cwd=project).stdout == ""
    out = project / "report.json"
    assert run("check", "train.py", "-s", "--output-format", "json", "-o", str(out), cwd=project).returncode == 1
    assert json.loads(out.read_text())["findings"]  # --output-file still gets its report
    assert run("check", "-q", "-s", cwd=project).returncode == 2  # one or the other


def test_colour_follows_tty_no_color_force_color_and_flags(project, plain_env):
    assert "\x1b[" in run_tty("check", "train.py", cwd=project).stdout
    assert "\x1b[" not in run("check", "train.py", cwd=project).stdout  # not a terminal
    plain_env.setenv("FORCE_COLOR", "0")  # any non-empty value (https://force-color.org)
    assert "\x1b[" in run("check", "train.py", cwd=project).stdout
    assert "\x1b[" not in run("check", "train.py", "--color", "never", cwd=project).stdout
    for fmt in ("json", "sarif", "github", "rdjson"):
        assert "\x1b" not in run_tty("check", "train.py", "--output-format", fmt, cwd=project).stdout, fmt
    plain_env.setenv("NO_COLOR", "1")  # wins over FORCE_COLOR
    assert "\x1b[" not in run_tty("check", "train.py", cwd=project).stdout
    assert "\x1b[" in run_tty("check", "train.py", "--color", "always", cwd=project).stdout
    plain_env.setenv("NO_COLOR", "")  # empty: not set
    plain_env.setenv("FORCE_COLOR", "")
    assert "\x1b[" not in run("check", "train.py", cwd=project).stdout
    report = project / "report.txt"
    run_tty("check", "train.py", "--color", "always", "-o", str(report), cwd=project)
    text = report.read_text()
    assert "HPL001" in text and "\x1b" not in text  # a file never gets colour


def test_long_messages_wrap_on_a_terminal_only(project, plain_env):
    plain_env.setenv("COLUMNS", "60")
    wrapped = run_tty("check", "train.py", "--color", "never", cwd=project).stdout
    header = [l for l in wrapped.splitlines()
              if l.startswith("train.py:") or l.startswith("    ") and not l.strip().startswith(("|", "="))]
    assert all(len(l) <= 60 for l in header), header
    assert len([l for l in header if l.startswith("    ")]) > 3
    piped = run("check", "train.py", cwd=project).stdout
    assert max(len(l) for l in piped.splitlines()) > 100


def test_progress_on_a_terminal_stderr_only(project, plain_env):
    from hplint.report import terminal

    plain_env.setattr(terminal, "PROGRESS_DELAY", 0.0)
    for i in range(5):
        (project / f"copy{i}.py").write_text(BAD)
    shown = run_tty("check", "-j", "1", cwd=project, stdout_tty=False)
    assert "\rhplint: checked 7/7 files" in shown.stderr
    assert shown.stderr.endswith("\r" + " " * len("hplint: checked 7/7 files") + "\r")  # erased at the end
    assert "checked" not in shown.stdout
    assert "checked" not in run("check", "-j", "1", cwd=project).stderr  # stderr not a terminal
    assert "checked" not in run_tty("check", "-j", "1", "--output-format", "json", cwd=project).stderr
    assert "checked" not in run_tty("check", "-j", "1", "-q", cwd=project).stderr
    plain_env.setenv("CI", "true")
    assert "checked" not in run_tty("check", "-j", "1", cwd=project).stderr


def test_progress_waits_a_second_and_redraws_in_place():
    from hplint.report.terminal import Progress

    now = [0.0]
    err = _Tty(io.BytesIO(), encoding="utf-8", write_through=True)
    progress = Progress(err, clock=lambda: now[0])
    progress(1, 200)
    now[0] = 0.5
    progress(2, 200)
    assert err.buffer.getvalue() == b""  # a quick run never shows it
    now[0] = 1.2
    progress(100, 200)
    now[0] = 1.25
    progress(101, 200)  # too soon to redraw
    now[0] = 1.26
    progress(200, 200)  # the last count is always drawn
    progress.clear()
    assert err.buffer.getvalue().decode() == (
        "\rhplint: checked 100/200 files\rhplint: checked 200/200 files\r" + " " * 29 + "\r")


def test_lint_paths_reports_progress_serial_and_parallel(project):
    from hplint.engine import Linter

    files = []
    for i in range(9):
        (project / f"c{i}.py").write_text(BAD)
        files.append(project / f"c{i}.py")
    for jobs in (1, 2):
        calls = []
        results = Linter().lint_paths(files, jobs=jobs, on_file_done=lambda n, t, calls=calls: calls.append((n, t)))
        assert len(results) == 9
        counts = [n for n, _ in calls]
        assert counts == sorted(counts) and counts[-1] == 9 and {t for _, t in calls} == {9}
        if jobs == 1:
            assert counts == list(range(1, 10))


# -- rules as JSON, did you mean ------------------------------------------------------------

def test_rules_and_rule_as_json(tmp_path):
    from hplint.catalogue import load_catalogue

    docs = load_catalogue()
    listing = json.loads(run("rules", "--output-format", "json", cwd=tmp_path).stdout)
    assert [r["code"] for r in listing] == sorted(docs)
    by_code = {r["code"]: r for r in listing}
    for code, doc in docs.items():
        row = by_code[code]
        assert (row["name"], row["severity"], row["summary"], row["fix"]) == (
            doc.name, str(doc.severity), doc.summary, doc.fix)
        assert {o["name"]: o["default"] for o in row["options"]} == doc.option_defaults()
    hpl006 = {o["name"]: o for o in by_code["HPL006"]["options"]}
    assert hpl006["max-batch-size"]["default"] == 1024 and hpl006["max-batch-size"]["min"] == 1
    assert hpl006["max-dataset-fraction"]["min-exclusive"] == 0 and hpl006["max-dataset-fraction"]["max"] == 1
    assert {o["name"]: o for o in by_code["HPL007"]["options"]}["mode"]["choices"] == ["recipes", "strict"]
    one = json.loads(run("rule", "adam-non-default-hyperparameters", "--output-format", "json", cwd=tmp_path).stdout)
    assert {k: v for k, v in one.items() if k != "documentation"} == by_code["HPL007"]
    assert "## Why is this bad?" in one["documentation"]


@pytest.mark.parametrize("typed, meant", [
    ("HPL0O1", "HPL001"), ("hpl01", "HPL001"), ("HPLOO2", "HPL002"),
    ("dropout-before-batchnom", "dropout-before-batchnorm"), ("lr-linear-sampeling", "lr-linear-sampling"),
])
def test_rule_did_you_mean(tmp_path, typed, meant):
    proc = run("rule", typed, cwd=tmp_path)
    assert proc.returncode == 2 and f"did you mean '{meant}'?" in proc.stderr


def test_rule_without_a_close_match_lists_the_rules(tmp_path):
    proc = run("rule", "no-such-rule", cwd=tmp_path)
    assert proc.returncode == 2 and "did you mean" not in proc.stderr and "known: HPL000" in proc.stderr


def test_suppression_with_a_mistyped_code_suggests_the_rule(tmp_path):
    (tmp_path / "s.py").write_text(dedent("""
        import torch.nn as nn
        a = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(8))  # hplint: disable=HPL0O1
        b = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(8))  # hplint: disable=dropout-before-batchnom
        c = 1  # hplint: disable=HPL999
    """))
    proc = run("check", "s.py", "--output-format", "json", cwd=tmp_path)
    messages = sorted(f["message"] for f in json.loads(proc.stdout)["findings"] if f["code"] == "HPL100")
    assert messages == [
        "unknown rule code 'HPL0O1' in suppression comment; did you mean 'HPL001'?",
        "unknown rule code 'HPL999' in suppression comment",
        "unknown rule name 'dropout-before-batchnom' in suppression comment; did you mean "
        "'dropout-before-batchnorm'?",
    ]
