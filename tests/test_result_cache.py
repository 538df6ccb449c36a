"""The result cache (issue #11): a warm `hplint check` serves unchanged files
from `.hplint/cache`, and re-lints exactly what a change can affect: the file,
its importers, new settings. Every test runs the command line on a project in
tmp_path; the files a run linted are read from the --verbose stats line and,
where it matters, proved by a linter that must not run at all."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from test_cli import BAD, CLEAN, run

from hplint import engine
from hplint.config import Config
from hplint.discovery import discover
from hplint.engine import Linter
from hplint.findings import FileResult, Finding, Fix, FixSafety, RelatedLocation, Severity, Span, TextEdit
from hplint.result_cache.codec import decode_result, encode_result

from helpers import dedent

REPO = Path(__file__).resolve().parents[1]
STATS = re.compile(r"(\d+) of (\d+) files from the cache, (\d+) linted")

BLOCKS = dedent("""
    import torch.nn as nn
    def head(n):
        return [nn.Linear(n, n), nn.Dropout(0.5)]
""")
MODEL = dedent("""
    import torch.nn as nn
    from blocks import head
    model = nn.Sequential(*head(8), nn.BatchNorm1d(8))
""")


def check(project: Path, *args: str):
    """`hplint check -v --output-format json ARGS`: (findings, files linted, files from the cache, stderr)."""
    ran = run("check", "-v", "--output-format", "json", "--exit-zero", *(args or (".",)), cwd=project)
    assert ran.returncode == 0, ran.stderr
    findings = json.loads(ran.stdout)["findings"]
    match = STATS.search(ran.stderr)
    hits, linted = (int(match.group(1)), int(match.group(3))) if match else (0, None)
    return findings, linted, hits, ran.stderr


def codes(findings, path=None):
    return sorted((f["path"], f["code"], f["start"]["line"]) for f in findings if path in (None, f["path"]))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text(BAD)
    (tmp_path / "clean.py").write_text(CLEAN)
    return tmp_path


def test_second_run_is_served_from_the_cache(project, monkeypatch):
    first, linted, hits, _ = check(project)
    assert (linted, hits) == (2, 0) and first
    second, linted, hits, _ = check(project)
    assert (linted, hits) == (0, 2)
    assert second == first

    def refuse(*args, **kwargs):  # any Linter at all: what the run reports must come from the cache
        raise AssertionError("a file was linted")
    monkeypatch.setattr(engine.Linter, "__init__", refuse)
    third, _, _, _ = check(project)
    assert third == first


def test_the_cache_folder_ignores_itself_for_git(project):
    check(project)
    assert (project / ".hplint" / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (project / ".hplint" / "cache" / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172")


def test_editing_a_file_relints_it_and_only_it(project):
    check(project)
    (project / "train.py").write_text(CLEAN)
    findings, linted, hits, _ = check(project)
    assert (linted, hits) == (1, 1)
    assert findings == []


def test_the_content_decides_not_the_mtime(project):
    """Same size, same mtime, other bytes: still re-linted."""
    check(project)
    path = project / "train.py"
    stat = path.stat()
    text = path.read_text()
    changed = text.replace("0.5", "0.6")
    assert len(changed) == len(text)
    path.write_text(changed)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    _, linted, hits, _ = check(project)
    assert (linted, hits) == (1, 1)


def test_editing_an_imported_module_relints_its_importer(tmp_path):
    (tmp_path / "blocks.py").write_text(BLOCKS)
    (tmp_path / "model.py").write_text(MODEL)
    findings, _, _, _ = check(tmp_path, "model.py")
    assert codes(findings) == [("model.py", "HPL001", 3)]
    (tmp_path / "blocks.py").write_text(BLOCKS.replace("nn.Dropout(0.5)", "nn.ReLU()"))
    findings, linted, hits, _ = check(tmp_path, "model.py")  # blocks.py is not even in the run
    assert (linted, hits) == (1, 0)
    assert findings == []


def test_a_module_that_appears_later_relints_its_importer(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    findings, _, _, _ = check(tmp_path, "model.py")
    assert findings == []  # `blocks` resolves to no project file: nothing to see
    assert check(tmp_path, "model.py")[1:3] == (0, 1)
    (tmp_path / "blocks.py").write_text(BLOCKS)
    findings, linted, _, _ = check(tmp_path, "model.py")
    assert linted == 1
    assert codes(findings) == [("model.py", "HPL001", 3)]


def test_a_new_module_in_a_package_imported_by_a_run_time_name_relints(tmp_path):
    """`import_module("models." + name)` may load any module of `models/`: one
    appearing there changes which models the run may train."""
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "cnn.py").write_text("import torch.nn as nn\nclass Model(nn.Module):\n"
                                                "    def __init__(self):\n        super().__init__()\n"
                                                "        self.fc = nn.Linear(2, 2)\n")
    (tmp_path / "run.py").write_text(dedent("""
        import sys
        import torch
        from importlib import import_module
        model = import_module("models." + sys.argv[1]).Model()
        opt = torch.optim.Adam(model.parameters())
        model(torch.randn(2, 2)).sum().backward()
        opt.step()
    """))
    assert check(tmp_path, "run.py")[0] == []
    assert check(tmp_path, "run.py")[1:3] == (0, 1)
    (tmp_path / "models" / "rnn.py").write_text("import torch.nn as nn\nclass Model(nn.Module):\n"
                                                "    def __init__(self):\n        super().__init__()\n"
                                                "        self.rnn = nn.GRU(2, 2)\n")
    findings, linted, _, _ = check(tmp_path, "run.py")
    assert linted == 1
    assert codes(findings) == [("run.py", "HPL005", 7)]


def test_a_new_package_marker_relints(tmp_path):
    """Search roots come from `__init__.py` files: one appearing changes where an import looks."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "pyproject.toml").write_text("")  # the project's top: imports look no higher
    (pkg / "blocks.py").write_text(BLOCKS)
    (pkg / "model.py").write_text(MODEL.replace("from blocks import", "from pkg.blocks import"))
    assert check(tmp_path, "pkg/model.py")[0] == []  # not a package: `pkg.blocks` is nowhere under pkg/
    (pkg / "__init__.py").write_text("")
    findings, linted, _, _ = check(tmp_path, "pkg/model.py")
    assert linted == 1
    assert codes(findings) == [(str(Path("pkg/model.py")), "HPL001", 3)]


def test_changing_the_configuration_relints(project):
    config = project / "pyproject.toml"
    config.write_text("[tool.hplint]\n")
    first, _, _, _ = check(project)
    config.write_text('[tool.hplint]\nignore = ["HPL001"]\n')
    findings, linted, hits, _ = check(project)
    assert (linted, hits) == (2, 0)
    assert {f["code"] for f in first} - {f["code"] for f in findings} == {"HPL001"}
    # Command-line selection is part of the settings too.
    _, linted, _, _ = check(project, "--select", "HPL007", ".")
    assert linted == 2


def test_no_cache_neither_reads_nor_writes(project):
    findings, linted, _, stderr = check(project, "--no-cache", ".")
    assert findings and linted is None
    assert not (project / ".hplint").exists()
    check(project)
    assert check(project, "--no-cache", ".")[0] == findings


def test_standard_input_is_never_cached(project):
    ran = run("check", "-v", "--stdin-filename", "train.py", "-", cwd=project, stdin=BAD)
    assert ran.returncode == 1 and "HPL001" in ran.stdout
    assert not (project / ".hplint").exists()


def test_clean_removes_the_cache(project):
    check(project)
    ran = run("clean", cwd=project)
    assert ran.returncode == 0, ran.stderr
    assert not (project / ".hplint" / "cache").exists()
    again = run("clean", cwd=project)
    assert again.returncode == 0 and "no result cache at" in again.stderr
    assert check(project)[1] == 2


def test_cache_dir_setting_and_clean_refuses_a_folder_it_did_not_make(project):
    (project / "pyproject.toml").write_text('[tool.hplint]\ncache-dir = "build/lint"\n')
    check(project)
    assert (project / "build" / "lint" / "CACHEDIR.TAG").is_file()
    assert (project / "build" / "lint" / ".gitignore").is_file()
    assert not (project / ".hplint").exists()
    assert check(project)[2] == 2
    (project / "pyproject.toml").write_text('[tool.hplint]\ncache-dir = "src"\n')
    (project / "src").mkdir()
    (project / "src" / "keep.py").write_text("x = 1\n")
    ran = run("clean", cwd=project)
    assert ran.returncode == 2 and "is not an hplint cache" in ran.stderr
    assert (project / "src" / "keep.py").exists()


@pytest.mark.parametrize("damage", ["truncated", "garbage", "foreign-format", "foreign-shape", "empty"])
def test_a_damaged_entry_is_ignored_and_written_again(project, damage):
    first, _, _, _ = check(project)
    entries = sorted((project / ".hplint" / "cache").glob("*.json"))
    assert len(entries) == 2
    for entry in entries:
        data = entry.read_bytes()
        entry.write_bytes({
            "truncated": data[: len(data) // 2],
            "garbage": b"\xff\x00not json",
            "foreign-format": data.replace(b'"format":1', b'"format":999'),
            "foreign-shape": json.dumps({**json.loads(data), "result": {"path": 3}}).encode(),
            "empty": b"",
        }[damage])
    findings, linted, _, _ = check(project)
    assert linted == 2 and findings == first
    findings, linted, hits, _ = check(project)  # rewritten: served again
    assert (linted, hits) == (0, 2) and findings == first


def test_an_unwritable_cache_dir_lints_normally_with_one_warning(project):
    (project / "not-a-folder").write_text("")
    (project / "more.py").write_text(BAD)
    (project / "pyproject.toml").write_text('[tool.hplint]\ncache-dir = "not-a-folder/cache"\n')
    ran = run("check", "--output-format", "json", "--exit-zero", ".", cwd=project)
    assert ran.returncode == 0
    assert ran.stderr.count("warning: cannot write the result cache") == 1
    assert ran.stderr.count("\n") == 1
    assert len(json.loads(ran.stdout)["findings"]) == 2 * len(
        json.loads(run("check", "--no-cache", "--output-format", "json", "train.py", cwd=project).stdout)["findings"])


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_findings_are_identical_with_and_without_the_cache(tmp_path, jobs):
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    for fmt in ("json", "sarif", "text"):
        args = ("check", "--exit-zero", "-j", jobs, "--output-format", fmt, "examples")
        fresh = run(*args, "--no-cache", cwd=tmp_path).stdout
        cold = run(*args, cwd=tmp_path).stdout
        warm = run(*args, cwd=tmp_path).stdout
        assert fresh == cold == warm, fmt
    assert check(tmp_path, "-j", jobs, "examples")[1] == 0


def test_fix_does_not_serve_results_from_before_it_wrote_the_files(project):
    before, _, _, _ = check(project)
    ran = run("check", "--fix", "--output-format", "json", "--exit-zero", ".", cwd=project)
    assert ran.returncode == 0, ran.stderr
    after_fix = json.loads(ran.stdout)["findings"]
    assert len(after_fix) < len(before)
    findings, linted, _, _ = check(project)
    assert linted == 1  # the fixed file
    assert findings == after_fix


# -- the entry format and the dependencies ------------------------------------------


def _bundled_files():
    return discover([REPO / "examples", REPO / "tests" / "data"], Config(root=REPO)).files


def test_a_cached_result_equals_the_fresh_one_for_every_bundled_file():
    linter = Linter(Config(root=REPO))
    files = _bundled_files()
    assert len(files) > 20
    for path in files:
        fresh = linter.lint_file(path)
        fresh.source = None  # not kept: results come back as the process pool gives them
        cached = decode_result(json.loads(json.dumps(encode_result(fresh))))
        assert cached == fresh, path


def test_every_field_survives_the_round_trip():
    span, raw = Span(1, 2, 3, 4), Span(5, 6, 7, 8)
    finding = Finding(
        code="HPL003", name="n", severity=Severity.INFO, message="m \udcff ü", path="a\udcfe.ipynb", span=span,
        fix=Fix("d", (TextEdit(span, "x\n", cell=2), TextEdit(raw, "")), FixSafety.UNSAFE),
        related=(RelatedLocation("b.py", span, "r", cell=3, raw_span=raw), RelatedLocation("c.py", raw, "s")),
        anchor="anchor#2", probe_note="confirmed by probe: x", cell=4, raw_span=raw)
    result = FileResult("a\udcfe.ipynb", [finding, Finding("HPL000", "u", Severity.ERROR, "", "p", span)],
                        errors=["e"], skipped=True)
    assert decode_result(json.loads(json.dumps(encode_result(result)))) == result


def test_dependencies_do_not_depend_on_run_order(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "blocks.py").write_text(BLOCKS)
    (pkg / "model.py").write_text(MODEL.replace("from blocks import", "from .blocks import"))
    (pkg / "other.py").write_text("from .model import model\nfrom .blocks import head\n")
    alone = Linter(Config(root=tmp_path), track_dependencies=True).lint_file(pkg / "model.py").dependencies
    linter = Linter(Config(root=tmp_path), track_dependencies=True)
    for name in ("blocks.py", "other.py"):
        linter.lint_file(pkg / name)
    after = linter.lint_file(pkg / "model.py").dependencies
    assert alone == after
    assert alone is not None
    files, probes = alone
    assert files == [str(pkg / "blocks.py")]
    assert ("exists", str(pkg / "__init__.py"), True) in probes
    assert ("exists", str(tmp_path / "__init__.py"), False) in probes


def test_the_probe_store_creates_hplint_folder_through_the_same_helper(tmp_path):
    from hplint.probe import store

    store.save(tmp_path, {"findings": []}, {str(tmp_path / "train.py"): "x = 1\n"})
    assert len(list((tmp_path / ".hplint" / "probe").glob("*.json"))) == 1
    assert (tmp_path / ".hplint" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_a_run_the_cache_answers_whole_never_imports_libcst_or_the_rules(project):
    """What keeps a warm run fast: nothing of the analysis is even imported."""
    import subprocess
    import sys

    probe = ("import sys\nfrom hplint.cli import main\nmain(['check', '--exit-zero', '-o', 'report.txt', '.'])\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'libcst' or m.startswith('hplint.rules')))")
    def imported():
        ran = subprocess.run([sys.executable, "-c", probe], cwd=project, capture_output=True, text=True,
                             timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert ran.returncode == 0, ran.stderr
        return ran.stdout.strip()
    assert "libcst" in imported()  # cold: linted
    assert imported() == "[]"  # warm: answered from the cache
    (project / "train.py").write_text(CLEAN)
    assert "hplint.rules" in imported()  # one changed file: the linter is built for it


def test_sibling_projects_keep_their_own_settings_through_the_cache(tmp_path):
    """Two projects in one run, each with its own [tool.hplint]: a warm run
    gives each file its own project's findings, and a change to one project's
    configuration re-lints only that project's files."""
    for name, ignore in (("a", []), ("b", ["HPL002"])):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pyproject.toml").write_text(f"[tool.hplint]\nignore = {json.dumps(ignore)}\n")
        (tmp_path / name / "train.py").write_text(BAD)
    first, linted, hits, _ = check(tmp_path, "a", "b")
    assert (linted, hits) == (2, 0)
    a_codes = {f["code"] for f in first if f["path"].startswith("a")}
    b_codes = {f["code"] for f in first if f["path"].startswith("b")}
    assert "HPL002" in a_codes and "HPL002" not in b_codes
    second, linted, hits, _ = check(tmp_path, "b", "a")
    assert (linted, hits) == (0, 2) and second == first
    (tmp_path / "b" / "pyproject.toml").write_text("[tool.hplint]\nignore = []\n")
    third, linted, hits, _ = check(tmp_path, "a", "b")
    assert (linted, hits) == (1, 1)
    assert {f["code"] for f in third if f["path"].startswith("b")} == a_codes


_STEM = dedent("""
    import torch.nn as nn
    class Stem(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)
            self.bn = nn.BatchNorm2d(8)
        def forward(self, x):
            return self.bn(self.conv(x))
""")


def test_a_neighbour_that_starts_loading_weights_relints_the_model(tmp_path):
    # HPL002's fix safety reads the model's neighbours (a serving script loading a checkpoint)
    (tmp_path / "model.py").write_text(_STEM)

    def safety():
        findings, linted, _, _ = check(tmp_path, "model.py")
        (finding,) = findings
        return finding["fix"]["safety"], linted

    assert safety() == ("safe", 1)
    assert safety() == ("safe", 0)
    (tmp_path / "serve.py").write_text("import torch\nfrom model import Stem\nStem().load_state_dict(torch.load('c.pt'))\n")
    assert safety() == ("unsafe", 1)
    (tmp_path / "serve.py").write_text("from model import Stem\nStem()\n")
    assert safety() == ("safe", 1)
