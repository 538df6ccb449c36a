"""The fix machinery: applying edits, the fix loop, file round-trips, and the
`--fix` / `--diff` / `--unsafe-fixes` command line."""

from __future__ import annotations

import codecs
import subprocess
import sys
from pathlib import Path

import pytest

from hplint.analysis.source import SourceError, parse_source
from hplint.cli import main
from hplint.engine import Linter
from hplint.findings import Finding, Fix, FixSafety, Severity, Span, TextEdit
from hplint.fix import apply_edits, apply_fixes, fix_text, read_source, write_source
from hplint.fix.apply import line_starts, to_offset
from hplint.fix.files import encode_source

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "fix"
EXAMPLES = ROOT / "examples"
PAIRS = sorted(p.name[: -len("_before.py")] for p in DATA.glob("*_before.py"))


@pytest.fixture(scope="module")
def linter():
    return Linter()


def fix(linter, text, path="m.py", unsafe=False):
    return fix_text(linter, text, Path(path), path, unsafe=unsafe)


def finding(span, new_text, safety=FixSafety.SAFE, code="HPL002"):
    return Finding(code, "n", Severity.WARNING, "m", "a.py", span,
                   fix=Fix("f", (TextEdit(span, new_text),), safety))


# ------------------------------------------------------------------ edits


def test_offsets_count_crlf_cr_and_lf_as_one_line_end():
    text = "ab\r\ncd\ref\ngh"
    starts = line_starts(text)
    assert starts == [0, 4, 7, 10]
    assert to_offset(text, starts, 2, 2) == 5
    assert to_offset(text, starts, 4, 3) == len(text)
    assert to_offset(text, starts, 5, 1) == len(text)  # just past the last line
    assert to_offset(text, starts, 6, 1) is None
    assert to_offset(text, starts, 1, 9) is None


def test_overlapping_edits_are_skipped_and_the_rest_kept():
    text = "x = f(a, b)\ny = 2\n"
    findings = [
        finding(Span(1, 5, 1, 12), "g(a)"),
        finding(Span(1, 7, 1, 8), "z"),  # inside the first: postponed
        finding(Span(2, 5, 2, 6), "3"),
    ]
    new, applied = apply_fixes(text, findings, unsafe=False)
    assert new == "x = g(a)\ny = 3\n"
    assert applied == [findings[0], findings[2]]


def test_a_fix_is_all_or_nothing():
    text = "a\nb\nc\n"
    both = Fix("two", (TextEdit(Span(1, 1, 1, 2), "A"), TextEdit(Span(3, 1, 3, 2), "C")))
    clash = Fix("clash", (TextEdit(Span(2, 1, 2, 2), "B"), TextEdit(Span(3, 1, 3, 2), "Z")))
    new, applied = apply_edits(text, [both, clash])
    assert new == "A\nb\nC\n" and applied == [0]


def test_insertions_at_one_point_conflict_but_touching_edits_do_not():
    text = "ab\n"
    fixes = [Fix("i1", (TextEdit(Span(1, 2, 1, 2), "X"),)),
             Fix("i2", (TextEdit(Span(1, 2, 1, 2), "Y"),)),
             Fix("r", (TextEdit(Span(1, 2, 1, 3), "B"),))]
    new, applied = apply_edits(text, fixes)
    assert (new, applied) == ("aXB\n", [0, 2])


def test_inserted_lines_take_the_file_newline_and_go_after_a_final_line_without_one():
    text = "a = 1\r\nb = 2"
    fixes = [Fix("before", (TextEdit(Span(2, 1, 2, 1), "# x\n"),)),
             Fix("after", (TextEdit(Span(3, 1, 3, 1), "c = 3\n"),))]
    new, _ = apply_edits(text, fixes)
    assert new == "a = 1\r\n# x\r\nb = 2\r\nc = 3\r\n"


def test_unsafe_fixes_only_when_asked():
    text = "a = 1\n"
    f = finding(Span(1, 5, 1, 6), "2", FixSafety.UNSAFE)
    assert apply_fixes(text, [f], unsafe=False) == (text, [])
    assert apply_fixes(text, [f], unsafe=True) == ("a = 2\n", [f])


# ------------------------------------------------------------------ real rules, before/after


@pytest.mark.parametrize("name", PAIRS)
def test_before_after_pairs(linter, name):
    before = (DATA / f"{name}_before.py").read_text()
    for unsafe, suffix in ((False, "_after.py"), (True, "_unsafe_after.py")):
        expected = (DATA / f"{name}{suffix}").read_text()
        outcome = fix(linter, before, f"{name}.py", unsafe=unsafe)
        assert outcome.text == expected, suffix
        assert outcome.error is None
        # Idempotent: fixing the fixed text changes nothing.
        again = fix(linter, outcome.text, f"{name}.py", unsafe=unsafe)
        assert again.text == outcome.text and again.fixed == []


def test_hpl002_fix_keeps_comments_and_indentation(linter):
    before = (DATA / "hpl002_before.py").read_text()
    outcome = fix(linter, before)
    assert {f.code for f in outcome.fixed} == {"HPL002"} and len(outcome.fixed) == 3
    assert not [f for f in outcome.result.findings if f.code == "HPL002"]
    for comment in ("# keep this comment", "# trailing comment", "# in", "# out"):
        assert comment in outcome.text
    # the multi-line Linear keeps its continuation-line indentation
    assert "                cout * 4,  # in\n                10, bias=False),       # out\n" in outcome.text


def test_hpl007_fix_is_unsafe_and_removes_betas_and_eps_at_once(linter):
    before = (DATA / "hpl007_before.py").read_text()
    assert fix(linter, before).fixed == []
    outcome = fix(linter, before, unsafe=True)
    # One finding per call: its fix removes both changed keywords.
    assert [f.code for f in outcome.fixed] == ["HPL007"]
    assert "betas=(0.5" not in outcome.text and "eps=1e-6" not in outcome.text
    assert "# GAN-style betas, copied from a DCGAN recipe" in outcome.text
    assert outcome.result.findings == []


def test_crlf_file_stays_crlf(linter, tmp_path):
    before = (DATA / "hpl002_before.py").read_text().replace("\n", "\r\n")
    outcome = fix(linter, before)
    assert outcome.fixed and "\n" not in outcome.text.replace("\r\n", "")
    assert outcome.text == (DATA / "hpl002_after.py").read_text().replace("\n", "\r\n")


def test_fixes_run_on_the_relinted_text_not_stale_positions(linter):
    # Two HPL002 findings on one line: the first fix shifts the second one's columns.
    text = ("import torch.nn as nn\n"
            "m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)); k = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))\n")
    outcome = fix(linter, text)
    assert outcome.text.count("bias=False") == 2
    assert parse_source(outcome.text) is not None and outcome.result.findings == []


def test_a_pass_that_breaks_the_file_is_discarded(linter, monkeypatch):
    import hplint.fix.runner as runner

    monkeypatch.setattr(runner, "apply_fixes", lambda text, findings, unsafe: (text + "def (\n", list(findings)))
    text = (DATA / "hpl002_before.py").read_text()
    outcome = fix(linter, text)
    assert outcome.text == text and not outcome.changed
    assert outcome.error and "produced invalid Python" in outcome.error
    assert outcome.error in outcome.result.errors


def _fixable_findings(linter, files):
    for path in files:
        text = path.read_text(encoding="utf-8")
        result = linter.lint_text(text, path, str(path))
        for f in result.findings:
            if f.fix is not None and f.fix.edits:
                yield path, text, f


def test_every_fix_on_the_examples_parses_and_removes_its_finding(linter):
    """Covers every rule's fixes, including rules added later: each fix alone
    must give valid Python and make its own finding disappear."""
    files = sorted(EXAMPLES.rglob("*.py")) + sorted(DATA.glob("*_before.py"))
    seen = 0
    for path, text, f in _fixable_findings(linter, files):
        seen += 1
        new, applied = apply_fixes(text, [f], unsafe=True)
        assert applied == [f], (path, f)
        tree = parse_source(new)
        assert not isinstance(tree, SourceError), (path, f.code, tree)
        after = linter.lint_text(new, path, str(path))
        same = [g for g in after.findings if g.code == f.code and g.anchor.split("#")[0] == f.anchor.split("#")[0]
                and g.message == f.message]
        assert not same, (path, f.code, f.message)
    assert seen >= 5


# ------------------------------------------------------------------ files


def test_encoding_and_bom_round_trip(tmp_path):
    latin = tmp_path / "latin.py"
    latin.write_bytes("# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n".encode("latin-1"))
    src = read_source(latin)
    assert src.encoding == "iso-8859-1" and not src.bom
    assert write_source(src, encode_source(src, src.text.replace("name", "nom"))) is None
    assert latin.read_bytes() == "# -*- coding: latin-1 -*-\nnom = 'caf\xe9'\n".encode("latin-1")
    bom = tmp_path / "bom.py"
    bom.write_bytes(codecs.BOM_UTF8 + "x = 'β'\r\n".encode("utf-8"))
    src = read_source(bom)
    assert src.bom and src.text == "x = 'β'\r\n"
    assert write_source(src, encode_source(src, src.text)) is None
    assert bom.read_bytes() == codecs.BOM_UTF8 + "x = 'β'\r\n".encode("utf-8")


# ------------------------------------------------------------------ command line


def _copy(tmp_path, *names):
    for n in names:
        (tmp_path / f"{n}.py").write_bytes((DATA / f"{n}_before.py").read_bytes())
    return tmp_path


def test_cli_fix_writes_files_and_reports_the_rest(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(_copy(tmp_path, "hpl002", "hpl007"))
    bom_crlf = codecs.BOM_UTF8 + (DATA / "hpl002_before.py").read_bytes().replace(b"\n", b"\r\n")
    (tmp_path / "crlf.py").write_bytes(bom_crlf)
    code = main(["check", "--fix", "-j", "1", "."])
    out = capsys.readouterr().out
    assert code == 0  # only info findings are left
    assert "Fixed 6 findings in 2 files." in out
    assert "[bias-before-batchnorm]" not in out
    assert [line.split(":")[0] for line in out.splitlines() if ": HPL" in line] == ["hpl007.py"]  # one per call
    assert (tmp_path / "hpl002.py").read_text() == (DATA / "hpl002_after.py").read_text()
    assert (tmp_path / "hpl007.py").read_bytes() == (DATA / "hpl007_before.py").read_bytes()
    expected = codecs.BOM_UTF8 + (DATA / "hpl002_after.py").read_bytes().replace(b"\n", b"\r\n")
    assert (tmp_path / "crlf.py").read_bytes() == expected
    assert main(["check", "--fix", "-j", "1", "."]) == 0  # idempotent
    assert "Fixed 0 findings in 0 files." in capsys.readouterr().out


def test_cli_unsafe_fixes(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(_copy(tmp_path, "hpl007"))
    assert main(["check", "--fix", "--unsafe-fixes", "hpl007.py"]) == 0
    assert (tmp_path / "hpl007.py").read_text() == (DATA / "hpl007_unsafe_after.py").read_text()
    assert "All checks passed." in capsys.readouterr().out


def test_cli_diff_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(_copy(tmp_path, "hpl002", "hpl007"))
    assert main(["check", "--diff", "."]) == 1
    captured = capsys.readouterr()
    assert "--- a/hpl002.py\n+++ b/hpl002.py\n" in captured.out
    assert "+        self.explicit = nn.Conv1d(4, 4, 3, 1, 0, 1, 1, False)\n" in captured.out
    assert "hpl007.py" not in captured.out  # only unsafe fixes there
    assert "would fix 3 findings in 1 file" in captured.err
    assert (tmp_path / "hpl002.py").read_bytes() == (DATA / "hpl002_before.py").read_bytes()
    assert main(["check", "--diff", "--unsafe-fixes", "hpl007.py"]) == 1
    assert "-    betas=(0.5, 0.999),  # why?\n" in capsys.readouterr().out
    (tmp_path / "clean.py").write_text("import torch\n")
    assert main(["check", "--diff", "clean.py"]) == 0
    assert capsys.readouterr().out == ""


def test_cli_fix_from_stdin_prints_the_fixed_source():
    before = (DATA / "hpl002_before.py").read_text()
    proc = subprocess.run([sys.executable, "-m", "hplint", "check", "--fix", "-", "--stdin-filename", "m.py"],
                          input=before, capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout == (DATA / "hpl002_after.py").read_text()
    assert "Fixed 3 findings." in proc.stderr and proc.returncode == 0


# ------------------------------------------------------------------ data safety


def test_read_only_file_is_reported_and_the_run_goes_on(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(_copy(tmp_path, "hpl002"))
    (tmp_path / "a_locked.py").write_bytes((DATA / "hpl002_before.py").read_bytes())
    (tmp_path / "a_locked.py").chmod(0o444)
    code = main(["check", "--fix", "-j", "1", "."])
    out, err = capsys.readouterr()
    assert code == 2
    assert "hplint: cannot fix a_locked.py: the file is read-only; file left unchanged" in err
    assert "Traceback" not in err
    assert (tmp_path / "a_locked.py").read_bytes() == (DATA / "hpl002_before.py").read_bytes()
    assert (tmp_path / "hpl002.py").read_text() == (DATA / "hpl002_after.py").read_text()  # fixed after it
    assert "a_locked.py:" in out and "[bias-before-batchnorm]" in out  # its findings still reported
    assert "Fixed 3 findings in 1 file." in out


def test_edits_made_while_fixing_are_never_overwritten(tmp_path, capsys, monkeypatch):
    target = _copy(tmp_path, "hpl002") / "hpl002.py"
    monkeypatch.chdir(tmp_path)
    from hplint.fix import cli as fix_cli

    real = fix_cli.fix_text

    def editor_saves_meanwhile(*args, **kwargs):
        outcome = real(*args, **kwargs)
        target.write_text("# the user's newer version\n")
        return outcome

    monkeypatch.setattr(fix_cli, "fix_text", editor_saves_meanwhile)
    assert main(["check", "--fix", "hpl002.py"]) == 2
    assert target.read_text() == "# the user's newer version\n"
    assert "changed on disk while hplint was fixing it" in capsys.readouterr().err


def test_fix_writes_atomically_and_keeps_mode_and_links(tmp_path, monkeypatch):
    real_file = _copy(tmp_path, "hpl002") / "hpl002.py"
    real_file.chmod(0o640)
    link = tmp_path / "link.py"
    link.symlink_to(real_file.name)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--fix", "link.py"]) == 0
    assert link.is_symlink() and real_file.read_text() == (DATA / "hpl002_after.py").read_text()
    assert real_file.stat().st_mode & 0o777 == 0o640
    assert not [p for p in tmp_path.iterdir() if "hplint-tmp" in p.name]


def test_stdin_fix_keeps_encoding_and_bom():
    body = "import torch.nn as nn\nf = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))  # caf\u00e9\n"
    for data in (codecs.BOM_UTF8 + body.encode("utf-8"),
                 ("# -*- coding: latin-1 -*-\n" + body).encode("latin-1")):
        proc = subprocess.run([sys.executable, "-m", "hplint", "check", "--fix", "-"],
                              input=data, capture_output=True, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == data.replace(b"nn.Conv2d(3, 8, 3)", b"nn.Conv2d(3, 8, 3, bias=False)")


class _StubbornLinter:
    """A linter whose one finding survives its own fix (an inserted line that
    does not remove it): the loop must apply that fix once, not once per pass."""

    def _result(self, text, shown):
        from hplint.findings import FileResult

        fix = Fix("insert a line", (TextEdit(Span(2, 1, 2, 1), "model.eval()\n"),), FixSafety.SAFE)
        finding = Finding(code="HPL008", name="dropout-active-at-eval", severity=Severity.ERROR, message="m",
                          path=shown, span=Span(2, 1, 2, 5), fix=fix, anchor="evaluate:model(x)")
        return FileResult(shown, [finding], text)

    def lint_text(self, text, path, shown):
        return self._result(text, shown)

    def context(self, text, tree, path, elided=()):
        return text

    def lint_context(self, text, shown):
        return self._result(text, shown)


def test_a_fix_that_leaves_its_finding_is_applied_once():
    outcome = fix_text(_StubbornLinter(), "x = 1\nmodel(x)\n", Path("t.py"), "t.py")
    assert outcome.text == "x = 1\nmodel.eval()\nmodel(x)\n"
    assert len(outcome.fixed) == 1
