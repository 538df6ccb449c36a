"""`hplint check --add-noqa`: every current finding silenced by a comment on
the line the suppression scanner reads, existing comments kept, files written
byte-faithfully, and a second run clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import run

from hplint.add_noqa import suppress_in_text
from hplint.findings import Finding, Severity, Span

from helpers import dedent

DROP = "nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(8))"


def _check_clean(cwd: Path, *paths: str) -> None:
    again = run("check", *paths, "--output-format", "json", cwd=cwd)
    assert json.loads(again.stdout)["findings"] == [], again.stdout
    assert again.returncode == 0


def test_adds_comments_in_every_spelling_and_the_next_run_is_clean(tmp_path):
    code = dedent(f"""
        import torch
        import torch.nn as nn
        a = {DROP}
        b = {DROP}  # noqa: E501
        c = {DROP}  # a note of the author's
        d = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.5), nn.BatchNorm1d(8))
        e = 1  # hplint: disable=HPL002 because it is intended
        f = 1  #hplint:disable=HPL002
        opt = torch.optim.Adam(p, betas=(0.5, 0.99),
                               eps=1e-4)
        s = {DROP}; doc = \"\"\"
        text\"\"\"
        t = {DROP} if flag \\
            else None
        u = '#'  # not a directive: the first # is in a string
    """)
    (tmp_path / "m.py").write_text(code)
    proc = run("check", "--add-noqa", "m.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = (tmp_path / "m.py").read_text().splitlines()
    assert lines[2] == f"a = {DROP}  # hplint: disable=HPL001"
    assert lines[3] == f"b = {DROP}  # noqa: E501  # hplint: disable=HPL001"
    assert lines[4] == f"c = {DROP}  # a note of the author's  # hplint: disable=HPL001"
    assert lines[5].endswith("nn.BatchNorm1d(8))  # hplint: disable=HPL001,HPL002")  # one comment, both codes
    # an unused directive (HPL100) gets the code in its own list, the reason kept
    assert lines[6] == "e = 1  # hplint: disable=HPL002,HPL100 because it is intended"
    assert lines[7] == "f = 1  #hplint:disable=HPL002,HPL100"
    # a finding spanning two lines: on its first line, the one the scanner reads
    assert lines[8] == "opt = torch.optim.Adam(p, betas=(0.5, 0.99),  # hplint: disable=HPL007"
    assert lines[9] == "                       eps=1e-4)"
    # the line ends inside a triple-quoted string: the comment goes above it
    assert lines[10] == "# hplint: disable-next-line=HPL001"
    assert lines[11] == f"s = {DROP}; doc = \"\"\"" and lines[12] == 'text"""'
    # nor after a backslash continuation
    assert lines[13] == "# hplint: disable-next-line=HPL001" and lines[14] == f"t = {DROP} if flag \\"
    assert "Added 9 noqa directives." in proc.stderr
    _check_clean(tmp_path, "m.py")


def test_a_line_continued_from_a_string_is_skipped_with_a_note():
    text = 's = """\nabc""" + f(1) + """\ndef"""\n'  # line 2 starts and ends inside strings
    finding = Finding("HPL001", "n", Severity.WARNING, "m", "a.py", Span(2, 10, 2, 14))
    new, added, notes = suppress_in_text(text, [finding], "a.py")
    assert (new, added) == (text, 0)
    assert notes == ["a.py:2: the line is inside a string or a continued line, where no comment can go; "
                     "HPL001 not suppressed"]
    gone = Finding("HPL001", "n", Severity.WARNING, "m", "a.py", Span(9, 1, 9, 2))
    assert suppress_in_text(text, [gone], "a.py")[1] == 0


@pytest.mark.parametrize("prefix, newline, encoding", [
    (b"", b"\r\n", "utf-8"),
    (b"\xef\xbb\xbf", b"\n", "utf-8"),
    (b"# -*- coding: latin-1 -*-\n", b"\n", "latin-1"),
])
def test_line_endings_bom_and_encoding_are_kept(tmp_path, prefix, newline, encoding):
    body = ["import torch.nn as nn", f"a = {DROP}  # caf\u00e9", "b = 'caf\u00e9'", ""]
    data = prefix + newline.join(line.encode(encoding) for line in body)
    (tmp_path / "m.py").write_bytes(data)
    assert run("check", "--add-noqa", "m.py", cwd=tmp_path).returncode == 0
    expected = body[:]
    expected[1] += "  # hplint: disable=HPL001"
    assert (tmp_path / "m.py").read_bytes() == prefix + newline.join(line.encode(encoding) for line in expected)
    _check_clean(tmp_path, "m.py")


def test_notebook_cells_are_edited_and_every_other_byte_kept(tmp_path):
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"language": "python"}}, "cells": [
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
         "source": ["%matplotlib inline\n", "import torch.nn as nn\n"]},
        {"cell_type": "markdown", "metadata": {}, "source": ["# Model"]},
        {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [{"output_type": "stream",
                                                                                 "name": "stdout", "text": ["x\n"]}],
         "source": ["x = 1\n", f"m = {DROP}"]},
    ]}
    text = json.dumps(nb, indent=1) + "\n"
    (tmp_path / "n.ipynb").write_text(text)
    proc = run("check", "--add-noqa", "n.ipynb", cwd=tmp_path)
    assert proc.returncode == 0 and "Added 1 noqa directive." in proc.stderr
    after = json.loads((tmp_path / "n.ipynb").read_text())
    assert after["cells"][2]["source"] == ["x = 1\n", f"m = {DROP}  # hplint: disable=HPL001"]
    nb["cells"][2]["source"][1] += "  # hplint: disable=HPL001"
    assert (tmp_path / "n.ipynb").read_text() == json.dumps(nb, indent=1) + "\n"
    _check_clean(tmp_path, "n.ipynb")


def test_what_cannot_be_suppressed_is_said(tmp_path):
    (tmp_path / "broken.py").write_text("def f(:\n")
    (tmp_path / "sweep.yaml").write_text(
        "method: random\nparameters:\n  lr:\n    distribution: uniform\n    min: 0.0001\n    max: 0.1\n")
    before = (tmp_path / "sweep.yaml").read_bytes()
    proc = run("check", "--add-noqa", ".", cwd=tmp_path)
    assert proc.returncode == 0
    assert "Added 0 noqa directives." in proc.stderr
    assert "1 HPL000 finding cannot be suppressed" in proc.stderr
    assert "sweep.yaml: comments are not added to sweep files" in proc.stderr
    assert (tmp_path / "sweep.yaml").read_bytes() == before
    assert (tmp_path / "broken.py").read_text() == "def f(:\n"


def test_add_noqa_usage_errors(tmp_path):
    (tmp_path / "m.py").write_text(f"import torch.nn as nn\na = {DROP}\n")
    assert run("check", "--add-noqa", "--fix", "m.py", cwd=tmp_path).returncode == 2
    proc = run("check", "--add-noqa", "-", cwd=tmp_path, stdin="x = 1\n")
    assert proc.returncode == 2 and "stdin" in proc.stderr
    assert (tmp_path / "m.py").read_text() == f"import torch.nn as nn\na = {DROP}\n"


def test_quiet_and_silent_add_noqa_print_nothing(tmp_path):
    (tmp_path / "m.py").write_text(f"import torch.nn as nn\na = {DROP}\n")
    (tmp_path / "broken.py").write_text("def f(:\n")
    for flag in ("-q", "-s"):
        proc = run("check", "--add-noqa", flag, ".", cwd=tmp_path)
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert (tmp_path / "m.py").read_text().endswith("  # hplint: disable=HPL001\n")


def test_stale_directives_of_every_kind_are_silenced_too(tmp_path):
    (tmp_path / "h.py").write_text(dedent("""
        # hplint: disable-file=HPL007
        import torch.nn as nn
        # hplint: disable-next-line=HPL002
        x = 1
        y = 2  # hplint: disabel=HPL001
    """))
    assert run("check", "--add-noqa", "h.py", cwd=tmp_path).returncode == 0
    assert (tmp_path / "h.py").read_text() == dedent("""
        # hplint: disable-file=HPL007  # hplint: disable=HPL100
        import torch.nn as nn
        # hplint: disable-next-line=HPL002  # hplint: disable=HPL100
        x = 1
        y = 2  # hplint: disabel=HPL001  # hplint: disable=HPL100
    """)
    _check_clean(tmp_path, "h.py")
