"""`hplint check --shard I/N` and `hplint merge-sarif`: shards are disjoint,
deterministic (not Python's randomized hash) and together give the unsharded
run's files, findings and SARIF log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hplint.cli import main
from hplint.config import Config
from hplint.discovery import discover
from hplint.shards import ShardError, merge_sarif, parse_shard, select_shard, shard_key, shard_of

ROOT = Path(__file__).resolve().parent.parent
MODEL = ("import torch\nimport torch.nn as nn\n\n"
         "block = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))\n"
         "opt = torch.optim.Adam(block.parameters(), betas=(0.5, 0.999))\n")
CLEAN = "import torch.nn as nn\n\nhead = nn.Linear(8, 2)\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[tool.hplint]\n")
    for k in range(14):
        sub = tmp_path / ("pkg" if k % 2 else "scripts") / f"d{k % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"m{k}.py").write_text(MODEL if k % 3 else CLEAN)
    # a cross-file pair: train.py's finding needs blocks.py, which may be in another shard
    (tmp_path / "blocks.py").write_text(
        "import torch.nn as nn\n\n\ndef head(n):\n    return [nn.Linear(n, n), nn.Dropout(0.5)]\n")
    (tmp_path / "train.py").write_text(
        "import torch.nn as nn\nfrom blocks import head\n\nmodel = nn.Sequential(*head(8), nn.BatchNorm1d(8))\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def files_of(root: Path):
    config = Config(root=root)
    return discover([Path(".")], config).files


def run_cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# -- the spec --------------------------------------------------------------------
@pytest.mark.parametrize("spec", ["0/3", "4/3", "a/b", "1/0", "3", "-1/3", "1/3/4", ""])
def test_bad_shard_specs_are_refused(spec):
    with pytest.raises(ShardError, match="--shard"):
        parse_shard(spec)


@pytest.mark.parametrize("spec, reason", [("0/3", "between 1 and 3"), ("4/3", "between 1 and 3"),
                                          ("a/b", "I/N with whole numbers")])
def test_bad_shard_specs_give_a_clear_cli_error(project, capsys, spec, reason):
    code, out, err = run_cli(capsys, "check", "--shard", spec, ".")
    assert code == 2 and out == ""
    assert err.startswith("hplint: error: ") and reason in err and spec in err


def test_shard_with_stdin_is_refused(project, capsys, monkeypatch):
    code, _, err = run_cli(capsys, "check", "--shard", "1/2", "-")
    assert code == 2 and "stdin" in err


# -- which files -----------------------------------------------------------------
@pytest.mark.parametrize("total", [1, 2, 3, 5])
def test_shards_are_disjoint_and_cover_the_run(project, total):
    files = files_of(project)
    assert len(files) > 10
    shards = [select_shard(files, f"{i}/{total}", project) for i in range(1, total + 1)]
    every = [f for shard in shards for f in shard]
    assert len(every) == len(set(every)) == len(files)  # disjoint...
    assert set(every) == set(files)  # ...and together the whole run
    for shard in shards:  # each in discovery order
        assert shard == [f for f in files if f in shard]
    if total > 1:
        assert sum(1 for shard in shards if shard) > 1  # the hash actually spreads the files


def test_assignment_depends_on_the_path_relative_to_the_root_only(tmp_path):
    names = [Path(f"src/mod{k}.py") for k in range(40)]
    a, b = tmp_path / "checkout-a", tmp_path / "elsewhere" / "checkout-b"
    for root in (a, b):
        assert shard_key(root / names[3], root) == "src/mod3.py"
    assert [shard_of(a / n, a, 4) for n in names] == [shard_of(b / n, b, 4) for n in names]
    forwards = select_shard([a / n for n in names], "2/4", a)
    backwards = select_shard([a / n for n in reversed(names)], "2/4", a)
    assert sorted(forwards) == sorted(backwards)  # not a function of discovery order


def test_assignment_is_the_same_in_every_process():
    code = ("from pathlib import Path; from hplint.shards import shard_of; "
            "print([shard_of(Path('/r/src/m%d.py' % k), Path('/r'), 7) for k in range(30)])")
    outs = set()
    for seed in ("1", "2", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        outs.add(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                check=True).stdout)
    assert len(outs) == 1  # Python's hash() of a str would change with the seed


# -- findings and SARIF ------------------------------------------------------------
def test_findings_of_all_shards_equal_the_unsharded_findings(project, capsys):
    _, whole, _ = run_cli(capsys, "check", "--output-format", "json", ".")
    expected = json.loads(whole)["findings"]
    assert {f["code"] for f in expected} >= {"HPL001", "HPL002", "HPL007"}
    assert any(f["path"] == "train.py" for f in expected)  # the cross-file finding
    assert shard_of(project / "train.py", project, 3) != shard_of(project / "blocks.py", project, 3)
    got = []
    for i in (1, 2, 3):
        _, out, _ = run_cli(capsys, "check", "--output-format", "json", "--shard", f"{i}/3", ".")
        got.extend(json.loads(out)["findings"])
    key = lambda f: (f["path"], f["start"]["line"], f["start"]["column"], f["code"])  # noqa: E731
    assert sorted(got, key=key) == sorted(expected, key=key)


def test_merged_sarif_of_the_shards_is_the_unsharded_log(project, capsys):
    run_cli(capsys, "check", "--output-format", "sarif", "-o", "all.sarif", ".")
    parts = []
    for i in (1, 2, 3):
        run_cli(capsys, "check", "--output-format", "sarif", "-o", f"part{i}.sarif", "--shard", f"{i}/3", ".")
        parts.append(f"part{i}.sarif")
    code, _, err = run_cli(capsys, "merge-sarif", *parts, "-o", "merged.sarif")
    assert code == 0, err
    merged = json.loads(Path("merged.sarif").read_text(encoding="utf-8"))
    whole = json.loads(Path("all.sarif").read_text(encoding="utf-8"))
    assert merged["runs"][0]["results"]  # something to compare
    assert merged == whole
    code, out, _ = run_cli(capsys, "merge-sarif", *parts)  # to stdout
    assert code == 0 and json.loads(out) == whole


def test_merge_renumbers_rule_indexes_against_the_union_of_rules():
    def log(rules, results):
        return {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "hplint", "rules": rules}},
                                              "results": results}]}

    def result(rule, index, uri):
        return {"ruleId": rule, "ruleIndex": index,
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}]}

    a = log([{"id": "HPL001"}, {"id": "X1"}], [result("X1", 1, "b.py")])
    b = log([{"id": "HPL001"}, {"id": "X2"}], [result("X2", 1, "a.py"), result("HPL001", 0, "c.py")])
    run = merge_sarif([a, b])["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["HPL001", "X1", "X2"]
    assert [(r["ruleId"], r["ruleIndex"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
            for r in run["results"]] == [("X2", 2, "a.py"), ("X1", 1, "b.py"), ("HPL001", 0, "c.py")]


def test_merge_refuses_what_is_not_sarif_or_another_tool(tmp_path, capsys):
    other = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "other"}}, "results": []}]}
    mine = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "hplint"}}, "results": []}]}
    with pytest.raises(ShardError, match="different tools"):
        merge_sarif([mine, other])
    with pytest.raises(ShardError, match="not a SARIF 2.1.0 log"):
        merge_sarif([{"version": "1"}])
    bad = tmp_path / "bad.sarif"
    bad.write_text("{")
    code, _, err = run_cli(capsys, "merge-sarif", str(bad), str(tmp_path / "missing.sarif"))
    assert code == 2 and "bad.sarif is not JSON" in err
