"""Bad input never crashes hplint, never takes other files down, and never
makes a run look clean when something was not checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hplint import cli
from hplint.analysis.source import parse_checked
from hplint.config import Config
from hplint.engine import Linter
from hplint.findings import Severity

BAD = "import torch.nn as nn\nf = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))\n"


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- the constant evaluator is total; a crashing rule is contained ----------------------

# Values a file names but nobody needs built: an epoch loop over `range(10**9)`
# (yandex-research/rtdl's example notebook), repeated sequences of gigabytes.
HUGE_VALUES = (
    "import torch.nn as nn\n"
    "PAD = [0] * 10 ** 9\nLINE = 'x' * 10 ** 9\nZEROS = (0,) * 10 ** 9\n"
    "model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))\n"
    "for epoch in range(10 ** 9):\n    pass\n"
    "for i in range(0, 10, 0):\n    pass\n"
    "from torch.utils.data import Subset\nsmall = Subset(data, range(0, 10, 0))\n"
)
_UNDER_A_MEMORY_LIMIT = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1536 * 2 ** 20, resource.RLIM_INFINITY))
from hplint.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS bounds memory on Linux")
def test_values_too_large_to_build_are_unknown_not_built(tmp_path):
    """Under a 1.5 GB address-space limit (a normal run needs ~150 MB) the file
    is linted in full: nothing tried to build a billion-item value."""
    (tmp_path / "m.py").write_text(HUGE_VALUES)
    proc = subprocess.run([sys.executable, "-c", _UNDER_A_MEMORY_LIMIT, "check", "--no-cache",
                           "--output-format", "json", "--exit-zero", "m.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent)))
    assert proc.returncode == 0, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    assert [f["code"] for f in findings] == ["HPL002"], findings


def test_subscripts_out_of_range_are_unknown_values(tmp_path):
    # Reduced from timm's coat.py / efficientvit_mit.py: indexing a module
    # constant past its end raised IndexError inside HPL007.
    code = (
        "import torch\nimport torch.nn as nn\n"
        "DIMS = (64, 128)\nBETAS = (0.9, 0.999)\n"
        "net = nn.Linear(8, DIMS[3])\n"
        "opt = torch.optim.Adam(net.parameters(), betas=(BETAS[0], BETAS[7]), eps={'a': 1}['b'])\n"
    )
    result = Linter(Config()).lint_text(code, tmp_path / "m.py")
    assert result.errors == [] and result.findings == []


@pytest.fixture
def crashing_hpl007(monkeypatch):
    from hplint.rules import all_rules

    def boom(self, ctx):
        raise IndexError("tuple index out of range")
        yield  # pragma: no cover

    monkeypatch.setattr(type(all_rules()["HPL007"]), "check", boom)


def test_crashing_rule_is_one_finding_and_the_run_says_so(tmp_path, capsys, monkeypatch, crashing_hpl007):
    (tmp_path / "a.py").write_text(BAD)
    (tmp_path / "b.py").write_text(BAD)
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "check", "-j", "1", "--exit-zero", "--output-format", "concise", ".")
    assert code == 2  # internal error, even with --exit-zero
    assert "All checks passed" not in out
    internal = [line for line in out.splitlines() if "internal error in HPL007" in line]
    assert len(internal) == 2 and all(line.split(":")[0] in ("a.py", "b.py") for line in internal)
    assert "--verbose" in internal[0]
    assert out.count("HPL002") == 2  # the other rules still ran on both files
    assert "Found 4 findings (2 errors, 2 warnings)" in out
    assert "Traceback" not in err and "hplint: internal error in HPL007 on a.py: IndexError" in err

    code, out, err = run_cli(capsys, "check", "-j", "1", "--verbose", "a.py")
    assert code == 2 and "Traceback (most recent call last)" in err and "raise IndexError" in err


def test_crash_outside_the_rules_exits_2_with_one_line(tmp_path, capsys, monkeypatch):
    (tmp_path / "a.py").write_text(BAD)
    monkeypatch.chdir(tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("renderer broke")

    monkeypatch.setattr("hplint.report.render", broken)
    code, out, err = run_cli(capsys, "check", "a.py")
    assert code == 2
    assert err.splitlines()[0] == "hplint: internal error: RuntimeError: renderer broke"
    assert "Traceback" not in err


# -- deep nesting: CPython's verdict first, libcst never sees what would crash it -------

DEEP_LISTS = "x = " + "[\n" * 2000 + "]\n" * 2000
LONG_AND = "x = (a\n" + "".join(" and a\n" for _ in range(30_000)) + ")\n"
LONG_PLUS = "x = (a\n" + "".join(" + a\n" for _ in range(3_000)) + ")\n"
LONG_ATTRIBUTE = "x = (a\n" + "".join(" .b\n" for _ in range(3_000)) + ")\n"


@pytest.mark.parametrize("text, expected", [
    (DEEP_LISTS, "syntax error: too many nested parentheses"),   # CPython refuses it too
    ("x = " + "(" * 300 + "1" + ")" * 300 + "\n", "syntax error: too many nested parentheses"),
    (LONG_AND, "more than 3000 operands"),                        # valid; libcst would segfault
    (LONG_PLUS, "nested too deeply"),                              # CPython cannot compile it
    (LONG_ATTRIBUTE, "nested too deeply"),
], ids=["2000-deep-lists", "300-deep-parens", "30000-term-and", "3000-term-plus", "3000-attributes"])
def test_nesting_is_measured_before_libcst(text, expected):
    error = parse_checked(text)
    assert expected in getattr(error, "message", ""), error


def test_valid_but_unanalysable_file_is_a_warning_not_a_syntax_error(tmp_path):
    # CPython accepts 30,000 implicitly concatenated strings; libcst's parser does not.
    text = "x = (\n" + "".join(" 'a'\n" for _ in range(30_000)) + ")\n"
    (finding,) = Linter(Config()).lint_text(text, tmp_path / "s.py").findings
    assert finding.code == "HPL000" and finding.severity == Severity.WARNING
    assert "valid Python" in finding.message and "syntax error" not in finding.message


@pytest.mark.parametrize("text, line, col", [
    ("x = 1  # a NUL \0 in a comment\n", 1, 16),
    ("a = 1\nb = '\0'\n", 2, 6),
])
def test_null_bytes_are_a_syntax_error_at_their_position(tmp_path, text, line, col):
    (finding,) = Linter(Config()).lint_text(text, tmp_path / "n.py").findings
    assert finding.code == "HPL000" and "null bytes" in finding.message
    assert (finding.span.start_line, finding.span.start_col) == (line, col)


@pytest.mark.parametrize("text", [
    "x = 1 \\\r\n  + 2\r\n",
    "x = 1\\\r\n",                      # a backslash-CRLF continuation at the end of the file
    "if x:\n\tif y:\n\t\tp = 1\n\tq = 2\n",
    "def f():\n  \tif x:\n  \t    a = 1\n",
])
def test_code_cpython_accepts_is_not_a_finding(tmp_path, text):
    compile(text, "t.py", "exec")  # the premise: CPython accepts it
    assert Linter(Config()).lint_text(text, tmp_path / "ok.py").findings == []


@pytest.mark.parametrize("text", [
    # libcst's IfExp validator raises TypeError on this valid line (LibCST #1061).
    "x = () if 0 else(lambda:())\n",
    "import torch.nn as nn\nhead = nn.Linear(4, 2) if 0 else(lambda:())\n",
])
def test_libcsts_node_validators_do_not_reject_valid_python(tmp_path, text):
    compile(text, "t.py", "exec")
    assert Linter(Config()).lint_text(text, tmp_path / "ok.py").findings == []


def test_a_file_libcsts_validators_reject_is_still_analysed(tmp_path):
    text = "import torch.nn as nn\nnet = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))\ny = () if 0 else(lambda:())\n"
    (finding,) = Linter(Config()).lint_text(text, tmp_path / "m.py").findings
    assert finding.code == "HPL002"


def test_nodes_built_outside_the_parser_are_still_validated():
    import libcst as cst

    from hplint.analysis import cst_parse

    assert cst_parse.INSTALLED  # libcst 1.x: its hook is CSTNode.__post_init__
    cst_parse.parse_module("x = 1\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not a name")


def test_mixed_tabs_and_spaces_libcst_rejects_are_explained(tmp_path):
    # Found by the fuzzer re-indenting with tabs: CPython accepts two tabs + two
    # spaces then three tabs + two spaces; libcst's tokenizer does not (LibCST #829).
    text = "class Net:\n\t\t  with open(p) as f:\n\t\t\t  x = 1\n"
    compile(text, "t.py", "exec")
    (finding,) = Linter(Config()).lint_text(text, tmp_path / "tabs.py").findings
    assert finding.code == "HPL000" and finding.span.start_line == 2
    assert "line 2 is indented with tabs and spaces mixed" in finding.message and "spaces only" in finding.message


def test_parallel_run_keeps_every_other_file(tmp_path):
    for i in range(6):
        (tmp_path / f"good{i}.py").write_text(BAD)
    (tmp_path / "deep.py").write_text(DEEP_LISTS)
    (tmp_path / "and.py").write_text(LONG_AND)
    proc = subprocess.run([sys.executable, "-m", "hplint", "check", "-j", "2", "--output-format", "json", "."],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    assert sorted(f["path"] for f in findings if f["code"] == "HPL002") == [f"good{i}.py" for i in range(6)]
    assert {f["path"] for f in findings if f["code"] == "HPL000"} == {"deep.py", "and.py"}


def test_a_worker_that_dies_loses_only_its_own_file(tmp_path, monkeypatch):
    # A crash in native code kills the worker process; the pool breaks and
    # every outstanding chunk fails with it. Simulated by a worker that exits
    # hard on one file (the pool forks, so the patch reaches the workers).
    from hplint import engine

    real = engine.Linter.lint_file

    def lint_or_die(self, path, shown_as=None):
        if Path(path).name == "killer.py":
            os._exit(139)
        return real(self, path, shown_as)

    monkeypatch.setattr(engine.Linter, "lint_file", lint_or_die)
    files = []
    for i in range(9):
        files.append(tmp_path / f"good{i}.py")
        files[-1].write_text(BAD)
    files.append(tmp_path / "killer.py")
    files[-1].write_text(BAD)
    results = engine._lint_parallel(Config(), files, jobs=2)
    by_name = {Path(r.path).name: r for r in results}
    assert sorted(by_name) == sorted(f.name for f in files)
    assert all([f.code for f in by_name[f"good{i}.py"].findings] == ["HPL002"] for i in range(9))
    (crash,) = by_name["killer.py"].findings
    assert crash.code == "HPL000" and "died" in crash.message and by_name["killer.py"].errors


# -- file names that are not UTF-8 --------------------------------------------------------

@pytest.mark.skipif(sys.platform != "linux", reason="needs a file system that takes any bytes in names")
@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "rdjson"])
def test_file_name_that_is_not_utf8(tmp_path, fmt):
    name = os.fsdecode(b"bad\xffname.py")
    (tmp_path / name).write_text(BAD)
    proc = subprocess.run([sys.executable, "-m", "hplint", "check", "--output-format", fmt, "."],
                          cwd=tmp_path, capture_output=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert b"Traceback" not in proc.stderr and b"internal error" not in proc.stderr
    if fmt in ("json", "rdjson", "sarif"):
        doc = json.loads(proc.stdout.decode("utf-8"))  # still valid UTF-8 JSON
        text = json.dumps(doc)
        if fmt == "sarif":
            assert "bad%FFname.py" in text
        else:  # the exact name comes back with os.fsencode
            path = doc["findings"][0]["path"] if fmt == "json" else doc["diagnostics"][0]["location"]["path"]
            assert os.fsencode(path) == b"bad\xffname.py"
    else:
        assert b"bad\xffname.py:2:" in proc.stdout or b"file=bad\xffname.py" in proc.stdout


def test_stdin_filename_that_is_not_utf8(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "hplint", "check", "-", "--stdin-filename", b"x\xff.py"],
                          cwd=tmp_path, input=BAD.encode(), capture_output=True, timeout=120)
    assert proc.returncode == 1 and proc.stdout.startswith(b"x\xff.py:2:"), proc.stderr


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_end_of_file_errors_point_inside_the_text(tmp_path, newline):
    # CPython puts "expected an indented block" at end of file on the line
    # after the last one when lines end in CRLF (found by the fuzzer).
    text = newline.join(["import torch", "def evaluate(loader):", "    for x in loader:"]) + newline
    (finding,) = Linter(Config()).lint_text(text, tmp_path / "eof.py").findings
    assert finding.code == "HPL000" and "expected an indented block" in finding.message
    assert (finding.span.start_line, finding.span.start_col) == (3, len("    for x in loader:") + 1)


def test_syntax_newer_than_this_python_is_still_linted(tmp_path):
    # torch's own testing/_internal/py312_intrinsics.py: PEP 695 type parameters,
    # which Python 3.11 rejects; libcst reads them, so the file is linted.
    text = ("def first[T](items: list[T]) -> T:\n    return items[0]\n\ntype Pair = tuple[int, int]\n"
            "import torch.nn as nn\nf = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))\n")
    findings = Linter(Config()).lint_text(text, tmp_path / "py312.py").findings
    assert [(f.code, f.span.start_line, f.span.start_col) for f in findings] == [("HPL002", 6, 19)]


def test_a_real_syntax_error_keeps_cpythons_message(tmp_path):
    (finding,) = Linter(Config()).lint_text("def train(:\n    pass\n", tmp_path / "bad.py").findings
    assert finding.code == "HPL000" and finding.message.startswith("syntax error: ")
    assert (finding.span.start_line, finding.span.start_col) == (1, 11)


def test_an_indentation_error_is_not_taken_for_newer_syntax(tmp_path):
    # Found by the fuzzer: a whitespace-only line ending in a backslash joins the
    # next line at its own indentation, so CPython rejects the file (unexpected
    # indent). libcst's tokenizer accepts it and reads other lines, which put
    # HPL002 one line above its Conv2d; indentation is no newer-Python syntax.
    text = ("import torch.nn as nn\nclass A(nn.Module):\n    def __init__(self):\n        a = 1\n    \\\n"
            "    b = 2\n        self.f = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))\n")
    with pytest.raises(SyntaxError):
        compile(text, "t.py", "exec")
    (finding,) = Linter(Config()).lint_text(text, tmp_path / "indent.py").findings
    assert finding.code == "HPL000" and "unexpected indent" in finding.message and finding.span.start_line == 7


# SupaeroDataScience's RL course (set 52), Colab exports (set 53): `.py` files
# with `%matplotlib inline` or `!pip install` lines, meant for notebook cells.
_EXPORT = """import torch.nn as nn
%matplotlib inline
!pip install -q torch-scatter
model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.BatchNorm1d(4))
layer = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
"""


def test_a_python_file_with_ipython_lines_is_checked_around_them(tmp_path):
    path = tmp_path / "exercise.py"
    path.write_text(_EXPORT)
    result = Linter(Config()).lint_file(path)
    found = [(f.code, f.span.start_line, f.severity) for f in result.findings]
    assert found == [("HPL000", 2, Severity.WARNING), ("HPL001", 4, Severity.WARNING), ("HPL002", 5, Severity.WARNING)]
    assert "lines 2 and 1 more hold IPython syntax (`%matplotlib inline`)" in result.findings[0].message
    assert result.source == _EXPORT  # fixes apply to the file as it is


def test_fixing_a_file_with_ipython_lines_keeps_them(tmp_path):
    path = tmp_path / "exercise.py"
    path.write_text(_EXPORT)
    subprocess.run([sys.executable, "-m", "hplint", "check", "--fix", "--no-cache", str(path)],
                   capture_output=True, text=True, cwd=tmp_path)
    fixed = path.read_text()
    assert "%matplotlib inline\n!pip install -q torch-scatter\n" in fixed
    assert "nn.Sequential(nn.Linear(4, 4, bias=False), nn.BatchNorm1d(4))" in fixed


def test_a_file_that_masking_does_not_make_python_is_still_a_syntax_error(tmp_path):
    path = tmp_path / "old.py"
    path.write_text("%matplotlib inline\nprint 'hello'\n")
    (finding,) = Linter(Config()).lint_file(path).findings
    assert finding.code == "HPL000" and finding.severity == Severity.ERROR and finding.span.start_line == 1
