"""End to end: the real `pre-commit` installs hplint's hooks from this
repository (`.pre-commit-hooks.yaml`) and runs them on a throwaway repo.

pre-commit installs a hook repository from a git revision, never from
untracked files. So that the test sees exactly this working tree (in a fresh
CI clone and in a dirty checkout alike), the tracked and non-ignored files are
copied into a temporary repository and committed there; a work repository's
`.pre-commit-config.yaml` pins that commit, and pre-commit builds the hook
environment from it once (pip from the package index, ~10 s cold).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import needs

needs.module("pre_commit", "pip install -e '.[dev]'")

ROOT = Path(__file__).resolve().parent.parent
BAD = "import torch.nn as nn\n\nblock = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))\n"
GOOD = "import torch.nn as nn\n\nblock = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8))\n"
NOTEBOOK = (
    '{"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# x"]},\n'
    ' {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],\n'
    '  "source": ["import torch.nn as nn\\n", "block = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))"]}],\n'
    ' "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n')
SWEEP = "method: random\nparameters:\n  lr:\n    distribution: uniform\n    min: 0.0001\n    max: 0.1\n"


def _env(tmp: Path) -> dict:
    env = dict(os.environ)
    env.update({
        "PRE_COMMIT_HOME": str(tmp / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": str(tmp / "gitconfig"), "GIT_CONFIG_NOSYSTEM": "1",
    })
    return env


def _git(cwd: Path, env: dict, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    needs.program("git", "apt-get install -y git")
    tmp = tmp_path_factory.mktemp("precommit")
    env = _env(tmp)
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    hooks_repo = tmp / "hplint-src"
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file() and not src.is_symlink():
            dst = hooks_repo / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    _git(hooks_repo, env, "init", "-q")
    _git(hooks_repo, env, "add", "-A")
    _git(hooks_repo, env, "commit", "-q", "-m", "snapshot")
    work = tmp / "work"
    work.mkdir()
    _git(work, env, "init", "-q")
    for name, text in (("bad.py", BAD), ("good.py", GOOD), ("fixme.py", BAD), ("nb.ipynb", NOTEBOOK),
                       ("sweep.yaml", SWEEP), ("ci.yaml", "on: push\n"), ("vendored.py", BAD),
                       ("pyproject.toml", '[tool.hplint]\nexclude = ["vendored.py"]\n')):
        (work / name).write_text(text)
    # A pinned configuration (not `try-repo`, which clones and builds a new
    # hook environment on every call): pre-commit builds the environment once
    # per repository and revision, and every test reuses it.
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hooks_repo, env=env, check=True,
                         capture_output=True, text=True).stdout.strip()
    (work / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks_repo}\n    rev: {rev}\n    hooks:\n      - id: hplint\n      - id: hplint-fix\n")
    _git(work, env, "add", "-A")
    return hooks_repo, work, env


def try_repo(setup, hook: str, name: str) -> subprocess.CompletedProcess:
    _, work, env = setup
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", hook, "--files", name],
        cwd=work, env=env, capture_output=True, text=True, timeout=600)


def test_hooks_fail_pass_and_fix(setup):
    """One test, so the hook environment is built once (pytest-xdist would send
    separate tests to separate workers, each building its own)."""
    _, work, _ = setup
    proc = try_repo(setup, "hplint", "bad.py")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "bad.py:3:23: HPL002 [bias-before-batchnorm] Conv2d has a bias but feeds BatchNorm2d" in proc.stdout
    assert "Failed" in proc.stdout

    proc = try_repo(setup, "hplint", "good.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout

    # pre-commit names the file; the hook's --force-exclude keeps the config's exclude in force
    proc = try_repo(setup, "hplint", "vendored.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "HPL002" not in proc.stdout

    proc = try_repo(setup, "hplint-fix", "fixme.py")
    assert proc.returncode == 1  # pre-commit fails a hook that modified files
    assert "files were modified by this hook" in proc.stdout
    assert (work / "fixme.py").read_text() == GOOD


def test_hooks_take_notebooks_and_sweep_files(setup):
    _, work, _ = setup
    proc = try_repo(setup, "hplint", "nb.ipynb")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "nb.ipynb:cell 2:2:23: HPL002 [bias-before-batchnorm]" in proc.stdout
    proc = try_repo(setup, "hplint", "sweep.yaml")
    assert proc.returncode == 1 and "sweep.yaml:4:19: HPL003 [lr-linear-sampling]" in proc.stdout
    assert try_repo(setup, "hplint", "ci.yaml").returncode == 0  # not a sweep file: nothing to say
    proc = try_repo(setup, "hplint-fix", "nb.ipynb")
    assert proc.returncode == 1 and "files were modified by this hook" in proc.stdout
    assert (work / "nb.ipynb").read_text() == NOTEBOOK.replace("nn.Conv2d(3, 8, 3)", "nn.Conv2d(3, 8, 3, bias=False)")
