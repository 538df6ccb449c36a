"""Cold start: `hplint check one.py` imports only what a plain Python file,
its rules and the chosen output format need (bench/bench_startup.py times it).
Each check runs in a fresh interpreter and lists its `sys.modules`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WITH_FINDINGS = ("import torch\nimport torch.nn as nn\n\n"
                 "block = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))\n"
                 "opt = torch.optim.Adam(block.parameters(), betas=(0.5, 0.999))\n")
CLEAN = "import torch.nn as nn\n\nhead = nn.Linear(8, 2)\n"
NEVER = ("yaml", "pygls", "lsprotocol", "torch", "matplotlib", "cattrs", "hplint.probe", "hplint.server",
         # loaded only for the files or the run that need them:
         "hplint.notebook", "hplint.sweeps", "hplint.fix.runner", "hplint.fix.files", "hplint.review",
         "hplint.report.sarif", "multiprocessing", "concurrent.futures.process",
         "pathspec")  # ignore files are read only when a directory is walked

SCRIPT = """
import json, sys
import hplint.cli
code = hplint.cli.main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def modules_after(tmp_path: Path, *args: str):
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result["code"], set(result["modules"])


def loaded(modules, name):
    return sorted(m for m in modules if m == name or m.startswith(name + "."))


@pytest.mark.parametrize("text, fmt", [(WITH_FINDINGS, "full"), (CLEAN, "full"), (WITH_FINDINGS, "concise"),
                                       (WITH_FINDINGS, "json")])
def test_check_on_a_plain_file_imports_no_heavy_or_unrelated_package(tmp_path, text, fmt):
    (tmp_path / "one.py").write_text(text)
    code, modules = modules_after(tmp_path, "check", "--output-format", fmt, "one.py")
    assert code == (1 if text is WITH_FINDINGS else 0)  # it did lint
    assert "libcst" in modules and "hplint.engine" in modules
    assert {name: loaded(modules, name) for name in NEVER if loaded(modules, name)} == {}


def test_the_lazily_loaded_parts_still_load_when_needed(tmp_path):
    (tmp_path / "one.py").write_text(WITH_FINDINGS)
    (tmp_path / "sweep.yaml").write_text("method: random\nparameters:\n  lr:\n    min: 0.0001\n    max: 0.1\n")
    _, modules = modules_after(tmp_path, "check", "--output-format", "sarif", "-j", "1", ".")
    assert {"hplint.sweeps", "hplint.report.sarif"} <= modules
    (tmp_path / ".gitignore").write_text("build/\n")
    _, modules = modules_after(tmp_path, "check", "-j", "1", ".")
    assert "pathspec" in modules  # a walked directory with an ignore file
    store = tmp_path / ".hplint" / "probe"
    store.mkdir(parents=True)
    _, modules = modules_after(tmp_path, "check", "one.py")
    assert "hplint.probe.store" in modules  # verdicts are looked up where a store exists


def test_the_routing_constants_match_their_modules():
    from hplint import check_steps, engine, notebook, sweeps
    from hplint.probe import store

    assert engine.NOTEBOOK_SUFFIX == notebook.SUFFIX
    assert engine.SWEEP_SUFFIXES == sweeps.SUFFIXES
    assert check_steps.PROBE_STORE_DIR == store.STORE_DIR


def test_the_fix_package_still_exports_its_names():
    import hplint.fix as fix

    assert set(fix.__all__) == set(fix._HOME)
    for name in fix.__all__:
        assert callable(getattr(fix, name))
    with pytest.raises(AttributeError):
        fix.no_such_name  # noqa: B018


def test_selected_rules_only_import_what_they_need(tmp_path):
    (tmp_path / "one.py").write_text(WITH_FINDINGS)
    code, modules = modules_after(tmp_path, "check", "--select", "HPL007", "--fail-on", "info", "one.py")
    assert code == 1
    assert "hplint.rules.hpl007_adam_non_default" in modules
    assert not [m for m in modules if m.startswith("hplint.rules.hpl0") and not m.startswith("hplint.rules.hpl007")]
    assert "hplint.rules._edges" not in modules  # what only the Dropout/BatchNorm rules need


def test_lazy_rules_are_the_registered_rules():
    from hplint.rules import LazyRules, all_rules

    lazy, eager = LazyRules(), all_rules()
    assert list(lazy) == list(eager)
    assert all(type(lazy[code]) is type(eager[code]) for code in eager)
    with pytest.raises(KeyError):
        lazy["HPL999"]
    replacement = eager["HPL001"]
    lazy["HPL002"] = replacement  # replaceable, as a dict of rules was
    assert lazy["HPL002"] is replacement and list(lazy) == list(eager)
