"""The flake8 plugin, run through the real flake8 (entry point `HPL`)."""

from __future__ import annotations

import subprocess
import sys

import needs

needs.module("flake8", "pip install -e '.[dev]'")

SOURCE = """\
import torch.nn as nn

block = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
"""


def flake8(tmp_path, text):
    (tmp_path / "model.py").write_text(text)
    return subprocess.run([sys.executable, "-m", "flake8", "--isolated", "model.py"],
                          cwd=tmp_path, capture_output=True, text=True)


def test_hplint_findings_appear_in_flake8(tmp_path):
    proc = flake8(tmp_path, SOURCE)
    assert proc.returncode == 1, proc.stderr
    assert "model.py:3:23: HPL002 Conv2d has a bias but feeds BatchNorm2d" in proc.stdout


def test_noqa_hides_the_finding(tmp_path):
    proc = flake8(tmp_path, SOURCE.replace("(8))\n", "(8))  # noqa: HPL002\n"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "HPL002" not in proc.stdout


def test_flake8_select_and_extend_ignore_apply(tmp_path):
    (tmp_path / "model.py").write_text(SOURCE)
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--extend-ignore", "HPL", "model.py"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout == ""


def test_each_file_gets_its_config_from_hplints_resolver(tmp_path):
    # a/ extends the root configuration (which ignores HPL002); b/ has its own.
    (tmp_path / "pyproject.toml").write_text('[tool.hplint]\nignore = ["HPL002"]\n')
    for name, config in (("a", 'extend = "../pyproject.toml"\n'), ("b", 'select = ["ALL"]\n')):
        (tmp_path / name).mkdir()
        (tmp_path / name / "hplint.toml").write_text(config)
        (tmp_path / name / "model.py").write_text(SOURCE)
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "a/model.py", "b/model.py"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert "b/model.py:3:23: HPL002" in proc.stdout and "a/model.py" not in proc.stdout
