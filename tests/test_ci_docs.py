"""The CI recipes in docs/ci.md run as written: every `hplint ...` command in
their YAML blocks is executed against a small project, and its output must
be valid for the format it names."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

import needs

yaml = needs.module("yaml", "pip install pyyaml (pre-commit depends on it)")

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
DOC = ROOT / "docs" / "ci.md"
MODEL = ("import torch\nimport torch.nn as nn\n\n"
         "block = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))\n"
         "opt = torch.optim.Adam(block.parameters(), betas=(0.5, 0.999))\n")


def yaml_blocks():
    return re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def _runs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "run" and isinstance(value, str):
                yield value
            else:
                yield from _runs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _runs(item)


def _commands(block_doc):
    for run in _runs(block_doc):
        script = run.replace("\\\n", " ").replace("${{ github.base_ref }}", "main")
        for line in script.splitlines():
            command = line.split(" | ")[0].strip()
            if command.startswith("hplint "):
                yield command


def _sharded(block_doc) -> bool:
    return isinstance(block_doc, dict) and any("matrix.shard" in c for c in _commands(block_doc))


def hplint_commands():
    """The commands of the one-job recipes (the sharded one has its own test)."""
    out = []
    for block in yaml_blocks():
        doc = yaml.safe_load(block)
        if not _sharded(doc):
            out.extend(_commands(doc))
    return out


def test_the_recipes_are_valid_workflows():
    blocks = yaml_blocks()
    assert len(blocks) >= 4
    workflows = [yaml.safe_load(b) for b in blocks if b.startswith("name:")]
    assert len(workflows) == 4
    uses = [s.get("uses", "") for w in workflows for j in w["jobs"].values() for s in j["steps"]]
    assert "github/codeql-action/upload-sarif@v3" in uses
    formats = {re.search(r"--output-format (\w+)", c).group(1) for c in hplint_commands() if "--output-format" in c}
    assert formats == {"sarif", "github", "rdjson"}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    repo = tmp_path_factory.mktemp("ci")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e", "GIT_CONFIG_GLOBAL": str(repo / ".gitconfig"), "GIT_CONFIG_NOSYSTEM": "1",
           "PATH": "/usr/bin:/bin"}
    (repo / "model.py").write_text(MODEL)
    for args in (["init", "-q"], ["add", "model.py"], ["commit", "-q", "-m", "base"],
                 ["update-ref", "refs/remotes/origin/main", "HEAD"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    # As docs/ci.md says: record the baseline once, on the base version.
    subprocess.run([sys.executable, "-m", "hplint", "check", "--write-baseline", ".hplint-baseline.json", "."],
                   cwd=repo, check=True, capture_output=True)
    # The pull request: one new line with a finding.
    (repo / "model.py").write_text(MODEL + "head = nn.Sequential(nn.Linear(8, 2), nn.BatchNorm1d(2))\n")
    (repo / ".gitignore").write_text(".gitconfig\n*.sarif\n")
    return repo


@pytest.mark.parametrize("command", hplint_commands())
def test_documented_commands_run(project, command):
    args = shlex.split(command)[1:]
    proc = subprocess.run([sys.executable, "-m", "hplint", *args], cwd=project, capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    if "sarif" in args:
        doc = json.loads((project / args[args.index("--output-file") + 1]).read_text(encoding="utf-8"))
        schema = json.loads((DATA / "sarif-2.1.0.json").read_text(encoding="utf-8"))
        jsonschema.validate(doc, schema)
        assert {r["ruleId"] for r in doc["runs"][0]["results"]} == {"HPL002", "HPL007"}
    elif "github" in args:
        lines = proc.stdout.splitlines()
        # --diff-base: only the pull request's new line
        assert lines and all(line.startswith("::warning file=model.py,line=6,") for line in lines), lines
    elif "rdjson" in args:
        doc = json.loads(proc.stdout)
        schema = json.loads((DATA / "rdjson-DiagnosticResult.json").read_text(encoding="utf-8"))
        jsonschema.Draft4Validator(schema).validate(doc)
        assert len(doc["diagnostics"]) == 3
    elif "--baseline" in args:
        # only the finding added after the baseline was recorded
        assert proc.returncode == 1 and "model.py:6:" in proc.stdout and "model.py:4:" not in proc.stdout
    else:
        pytest.fail(f"no output check for {command}")


def test_sharded_recipe_merges_to_the_unsharded_log(project):
    """Each matrix job's command, then the merge job's: one log equal to one unsharded run's."""
    [workflow] = [w for w in (yaml.safe_load(b) for b in yaml_blocks()) if _sharded(w)]
    shards = workflow["jobs"]["lint"]["strategy"]["matrix"]["shard"]
    lint = list(_commands(workflow["jobs"]["lint"]))
    [merge] = list(_commands(workflow["jobs"]["upload"]))
    assert len(lint) == 1 and f"/{len(shards)} " in lint[0]
    for shard in shards:
        args = shlex.split(lint[0].replace("${{ matrix.shard }}", str(shard)))[1:]
        proc = subprocess.run([sys.executable, "-m", "hplint", *args], cwd=project, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    args = []
    for arg in shlex.split(merge)[1:]:  # the shell expands the glob
        args.extend(sorted(p.name for p in project.glob(arg)) if "*" in arg else [arg])
    assert len([a for a in args if a.endswith(".sarif")]) == len(shards) + 1  # the inputs and the output
    proc = subprocess.run([sys.executable, "-m", "hplint", *args], cwd=project, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    merged = json.loads((project / args[args.index("--output-file") + 1]).read_text(encoding="utf-8"))
    jsonschema.validate(merged, json.loads((DATA / "sarif-2.1.0.json").read_text(encoding="utf-8")))
    subprocess.run([sys.executable, "-m", "hplint", "check", "--output-format", "sarif", "--output-file",
                    "whole.sarif", "--exit-zero", "."], cwd=project, check=True, capture_output=True)
    whole = json.loads((project / "whole.sarif").read_text(encoding="utf-8"))
    assert merged == whole
    assert {r["ruleId"] for r in merged["runs"][0]["results"]} == {"HPL002", "HPL007"}
