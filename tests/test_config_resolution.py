"""Configuration resolution per file (issue #11): each file gets the nearest
configuration above it, `extend` inherits, `--config` overrides for all;
`--show-settings` / `--show-files`; .gitignore-aware discovery;
`--exclude` / `--extend-exclude` / `--force-exclude`; every configuration
error at once, with did-you-mean hints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Set

import pytest
from test_cli import BAD, run

from hplint.config import Config, ConfigError, ConfigErrors, load_config_file
from hplint.config_resolver import Overrides, Resolver

ALL_THREE = {"HPL001", "HPL002", "HPL007"}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def codes_by_path(*args: str, cwd: Path) -> Dict[str, Set[str]]:
    proc = run("check", "--output-format", "json", *args, cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    out: Dict[str, Set[str]] = {}
    for f in json.loads(proc.stdout)["findings"]:
        out.setdefault(f["path"], set()).add(f["code"])
    return out


@pytest.fixture
def siblings(tmp_path: Path) -> Path:
    """Two sibling projects with different configurations, and a file under neither."""
    write(tmp_path / "a" / "pyproject.toml", '[tool.hplint]\nignore = ["HPL002"]\n')
    write(tmp_path / "a" / "x.py", BAD)
    write(tmp_path / "b" / "hplint.toml", 'select = ["HPL002"]\n')
    write(tmp_path / "b" / "x.py", BAD)
    write(tmp_path / "top.py", BAD)
    return tmp_path


# -- one resolver, per file -------------------------------------------------------------


def test_sibling_projects_in_one_run_each_get_their_own_config(siblings):
    expected = {"a/x.py": {"HPL001", "HPL007"}, "b/x.py": {"HPL002"}}
    assert codes_by_path("b", "a", cwd=siblings) == expected  # not b's config for a/x.py
    assert codes_by_path("a", "b", cwd=siblings) == expected
    assert codes_by_path(cwd=siblings) == {**expected, "top.py": ALL_THREE}


def test_a_files_findings_do_not_depend_on_the_other_files_in_the_run(siblings):
    alone = codes_by_path("a/x.py", cwd=siblings)
    together = codes_by_path("b/x.py", "a/x.py", "top.py", cwd=siblings)
    assert together["a/x.py"] == alone["a/x.py"] == {"HPL001", "HPL007"}


def test_the_process_pool_gives_each_file_its_own_config(siblings):
    for i in range(6):
        write(siblings / "a" / f"copy{i}.py", BAD)
        write(siblings / "b" / f"copy{i}.py", BAD)
    serial = codes_by_path("-j", "1", cwd=siblings)
    parallel = codes_by_path("-j", "2", cwd=siblings)
    assert parallel == serial
    assert parallel["a/copy5.py"] == {"HPL001", "HPL007"} and parallel["b/copy5.py"] == {"HPL002"}


def test_per_file_severity_and_options_follow_the_file(siblings):
    write(siblings / "b" / "hplint.toml", 'select = ["HPL002"]\n[severity]\nHPL002 = "error"\n')
    proc = run("check", "--output-format", "json", "a", "b", cwd=siblings)
    severities = {f["path"]: f["severity"] for f in json.loads(proc.stdout)["findings"] if f["code"] != "HPL007"}
    assert severities == {"a/x.py": "warning", "b/x.py": "error"}


def test_rule_options_follow_the_file(tmp_path):
    loader = "from torch.utils.data import DataLoader\n\nloader = DataLoader(range(10_000), batch_size=2048)\n"
    write(tmp_path / "a" / "pyproject.toml", "[tool.hplint.rules.batch-size-too-large]\nmax-batch-size = 4096\n")
    write(tmp_path / "b" / "pyproject.toml", "[tool.hplint]\n")
    write(tmp_path / "a" / "train.py", loader)
    write(tmp_path / "b" / "train.py", loader)
    assert codes_by_path("b", "a", cwd=tmp_path) == {"b/train.py": {"HPL006"}}


def test_stdin_filename_gets_that_files_project_config(siblings):
    proc = run("check", "--output-format", "json", "-", "--stdin-filename", "b/new.py", cwd=siblings, stdin=BAD)
    assert {f["code"] for f in json.loads(proc.stdout)["findings"]} == {"HPL002"}


def test_command_line_selection_applies_on_top_of_each_files_config(siblings):
    found = codes_by_path("--extend-select", "HPL001", "--ignore", "HPL007", "a", "b", cwd=siblings)
    assert found == {"a/x.py": {"HPL001"}, "b/x.py": {"HPL001", "HPL002"}}


def test_explicit_config_overrides_for_every_file(siblings):
    write(siblings / "only7.toml", 'select = ["HPL007"]\n')
    assert codes_by_path("--config", "only7.toml", "a", "b", cwd=siblings) == {
        "a/x.py": {"HPL007"}, "b/x.py": {"HPL007"}}


def test_nested_project_config_wins_inside_it(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.hplint]\nignore = ["HPL001"]\n')
    write(tmp_path / "x.py", BAD)
    write(tmp_path / "sub" / ".hplint.toml", 'ignore = ["HPL007"]\n')
    write(tmp_path / "sub" / "x.py", BAD)
    assert codes_by_path(cwd=tmp_path) == {"x.py": {"HPL002", "HPL007"}, "sub/x.py": {"HPL001", "HPL002"}}


# -- extend ---------------------------------------------------------------------------------


def test_extend_inherits_and_child_keys_override(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.hplint]\nignore = ["HPL001"]\nselect = ["HPL00"]\n'
                                       '[tool.hplint.per-file-ignores]\n"child/gen/*" = ["HPL002"]\n')
    write(tmp_path / "child" / "pyproject.toml",
          '[tool.hplint]\nextend = "../pyproject.toml"\nselect = ["ALL"]\n[tool.hplint.severity]\nHPL007 = "error"\n')
    write(tmp_path / "child" / "x.py", BAD)
    write(tmp_path / "child" / "gen" / "y.py", BAD)
    proc = run("check", "--output-format", "json", "child", cwd=tmp_path)
    findings = json.loads(proc.stdout)["findings"]
    by_path: Dict[str, Set[str]] = {}
    for f in findings:
        by_path.setdefault(f["path"], set()).add(f["code"])
    # ignore inherited; per-file-ignores stay relative to the parent file's directory
    assert by_path == {"child/x.py": {"HPL002", "HPL007"}, "child/gen/y.py": {"HPL007"}}
    assert {f["severity"] for f in findings if f["code"] == "HPL007"} == {"error"}


def test_extend_cycle_is_a_clear_error(tmp_path):
    write(tmp_path / "hplint.toml", 'extend = "sub/hplint.toml"\n')
    write(tmp_path / "sub" / "hplint.toml", 'extend = "../hplint.toml"\n')
    write(tmp_path / "sub" / "x.py", BAD)
    proc = run("check", "sub", cwd=tmp_path)
    assert proc.returncode == 2
    assert "key 'extend' forms a cycle of extended configurations" in proc.stderr
    assert str(tmp_path / "hplint.toml") in proc.stderr


def test_extend_of_a_missing_file_names_the_key_and_path(tmp_path):
    write(tmp_path / "hplint.toml", 'extend = "../nowhere.toml"\n')
    write(tmp_path / "x.py", BAD)
    proc = run("check", cwd=tmp_path)
    assert proc.returncode == 2
    assert f"{tmp_path / 'hplint.toml'}: key 'extend' names '../nowhere.toml', which is not a file" in proc.stderr


def test_extend_problems_in_both_files_are_all_reported(tmp_path, ):
    write(tmp_path / "base.toml", 'ignore = ["HPL0001"]\n')
    child = write(tmp_path / "sub" / "hplint.toml", 'extend = "../base.toml"\nselct = ["ALL"]\n')
    with pytest.raises(ConfigErrors) as info:
        load_config_file(child)
    files = [e.file for e in info.value.errors]
    assert files == [str(child), str(tmp_path / "base.toml")]


# -- --show-settings / --show-files ----------------------------------------------------------


def test_show_settings_prints_each_setting_and_its_origin(tmp_path):
    parent = write(tmp_path / "pyproject.toml", '[tool.hplint]\nexclude = ["legacy/"]\nignore = ["HPL001"]\n')
    child = write(tmp_path / "child" / "hplint.toml", 'extend = "../pyproject.toml"\nselect = ["HPL00"]\n')
    write(tmp_path / "child" / "x.py", BAD)
    proc = run("check", "--show-settings", "--ignore", "HPL007", "child/x.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "Settings for child/x.py:"
    assert f"  configuration file: {child}" in lines
    assert f"  extends: {parent}" in lines
    assert f'  select = ["HPL00"]  # {child}' in lines
    assert f'  ignore = ["HPL001", "HPL007"]  # {parent} + command line (--ignore)' in lines
    assert f'  exclude = ["legacy/"]  # {parent}; patterns relative to {tmp_path}' in lines
    assert '  respect-gitignore = true  # default' in lines
    assert "  enabled rules for this file: HPL000, HPL002, HPL003, HPL004, HPL005, HPL006, HPL008, HPL009" in lines
    assert "  extend-include = []  # default" in lines
    assert "  excluded: no" in lines


def test_show_settings_without_a_config_file_says_defaults(tmp_path):
    write(tmp_path / "x.py", BAD)
    proc = run("check", "--show-settings", "--exclude", "x.py", "x.py", cwd=tmp_path)
    assert f"  configuration file: none found (defaults, rooted at {tmp_path})" in proc.stdout
    assert "  excluded: yes, 'x.py' in exclude (command line (--exclude))" in proc.stdout


def test_show_files_lists_what_would_be_linted(siblings):
    write(siblings / "a" / "pyproject.toml", '[tool.hplint]\nexclude = ["old/"]\n')
    write(siblings / "a" / "old" / "y.py", BAD)
    write(siblings / "notes.txt", "not linted")
    proc = run("check", "--show-files", cwd=siblings)
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == ["a/x.py", "b/x.py", "top.py"]


# -- .gitignore ----------------------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git" / "info").mkdir(parents=True)
    write(tmp_path / ".git" / "info" / "exclude", "private.py\n")
    write(tmp_path / ".gitignore", "gen/\n*_tmp.py\n")
    write(tmp_path / "src" / ".gitignore", "!keep_tmp.py\n")
    write(tmp_path / "src" / ".ignore", "scratch.py\n")
    for name in ("train.py", "private.py", "gen/g.py", "src/a_tmp.py", "src/keep_tmp.py", "src/scratch.py",
                 "src/m.py", "src/gen/deep.py"):
        write(tmp_path / name, BAD)
    return tmp_path


def test_discovery_respects_gitignore_nested_files_and_negation(repo):
    proc = run("check", "--show-files", cwd=repo)
    assert proc.stdout.splitlines() == ["src/keep_tmp.py", "src/m.py", "train.py"]
    # from a subdirectory the repository's top-level .gitignore still applies
    assert run("check", "--show-files", "src", cwd=repo).stdout.splitlines() == ["src/keep_tmp.py", "src/m.py"]


def test_no_respect_gitignore_and_the_config_key(repo):
    everything = ["gen/g.py", "private.py", "src/a_tmp.py", "src/gen/deep.py", "src/keep_tmp.py",
                  "src/m.py", "src/scratch.py", "train.py"]
    assert run("check", "--show-files", "--no-respect-gitignore", cwd=repo).stdout.splitlines() == everything
    write(repo / "pyproject.toml", "[tool.hplint]\nrespect-gitignore = false\n")
    assert run("check", "--show-files", cwd=repo).stdout.splitlines() == everything


def test_named_gitignored_file_is_linted(repo):
    assert codes_by_path("gen/g.py", cwd=repo) == {"gen/g.py": ALL_THREE}


# -- --exclude / --extend-exclude / --force-exclude ----------------------------------------------


def test_exclude_replaces_and_extend_exclude_adds(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.hplint]\nexclude = ["legacy/"]\n')
    for name in ("train.py", "legacy/old.py", "gen/g.py"):
        write(tmp_path / name, BAD)
    files = lambda *a: run("check", "--show-files", *a, cwd=tmp_path).stdout.splitlines()  # noqa: E731
    assert files() == ["gen/g.py", "train.py"]
    assert files("--exclude", "gen/") == ["legacy/old.py", "train.py"]
    assert files("--extend-exclude", "gen/") == ["train.py"]
    assert files("--extend-exclude", "gen/,train.py") == []


def test_command_line_exclude_is_relative_to_the_current_directory(tmp_path):
    write(tmp_path / "proj" / "pyproject.toml", "[tool.hplint]\n")
    write(tmp_path / "proj" / "tests" / "t.py", BAD)
    write(tmp_path / "proj" / "m.py", BAD)
    assert run("check", "--show-files", "--extend-exclude", "proj/tests/*", cwd=tmp_path).stdout.splitlines() == [
        "proj/m.py"]


def test_named_excluded_file_is_linted_unless_force_exclude(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.hplint]\nexclude = ["vendored.py"]\n')
    write(tmp_path / "vendored.py", BAD)
    write(tmp_path / "train.py", BAD)
    assert codes_by_path("vendored.py", cwd=tmp_path) == {"vendored.py": ALL_THREE}
    assert codes_by_path("--force-exclude", "vendored.py", "train.py", cwd=tmp_path) == {"train.py": ALL_THREE}
    proc = run("check", "--force-exclude", "vendored.py", cwd=tmp_path)
    assert proc.returncode == 0
    assert "All checks passed" not in proc.stdout
    assert proc.stdout == (f"No files linted: vendored.py is excluded by 'vendored.py' in exclude "
                           f"({tmp_path / 'pyproject.toml'}). Pass it without --force-exclude to lint anyway.\n")
    machine = run("check", "--force-exclude", "--output-format", "json", "vendored.py", cwd=tmp_path)
    assert json.loads(machine.stdout)["findings"] == [] and "No files linted" in machine.stderr


def test_force_exclude_with_an_excluded_stdin_filename(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.hplint]\nexclude = ["gen/"]\n')
    proc = run("check", "--force-exclude", "-", "--stdin-filename", "gen/x.py", cwd=tmp_path, stdin=BAD)
    assert proc.returncode == 0 and proc.stdout.startswith("No files linted: gen/x.py is excluded")
    fixed = run("check", "--fix", "--force-exclude", "-", "--stdin-filename", "gen/x.py", cwd=tmp_path, stdin=BAD)
    assert fixed.returncode == 0 and fixed.stdout == BAD  # the buffer comes back unchanged


# -- every error at once, did you mean ------------------------------------------------------------


def test_every_config_error_is_reported_at_once(tmp_path):
    cfg = write(tmp_path / "pyproject.toml", '[tool.hplint]\nselct = ["ALL"]\nignore = ["HPL002", "HPL0001", "bais"]\n'
                                             '[tool.hplint.severity]\nHPL001 = "loud"\n'
                                             '[tool.hplint.rules.HPL007]\naccepted-beta = 1\n')
    write(tmp_path / "x.py", BAD)
    proc = run("check", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 5 and all(line.startswith(f"hplint: error: {cfg}: key ") for line in lines), proc.stderr
    text = proc.stderr
    assert "key 'tool.hplint.selct' is not a known setting; did you mean 'select'?" in text
    assert "key 'tool.hplint.ignore' has selector 'HPL0001' that matches no rule; did you mean 'HPL001'?" in text
    assert "selector 'bais' that matches no rule" in text
    assert "key 'tool.hplint.severity.HPL001' must be one of" in text
    assert ("key 'tool.hplint.rules.HPL007.accepted-beta' is not an option of HPL007 "
            "adam-non-default-hyperparameters; did you mean 'accepted-betas'?") in text


def test_errors_of_every_broken_config_in_the_run_are_reported(siblings):
    write(siblings / "a" / "pyproject.toml", '[tool.hplint]\nignor = ["HPL002"]\n')
    write(siblings / "b" / "hplint.toml", 'select = ["HPL0002"]\n')
    proc = run("check", "a", "b", cwd=siblings)
    assert proc.returncode == 2
    assert str(siblings / "a" / "pyproject.toml") in proc.stderr and str(siblings / "b" / "hplint.toml") in proc.stderr


def test_did_you_mean_for_a_mistyped_rule_name_on_the_command_line(siblings):
    proc = run("check", "--select", "bias-before-batchnrom", "--ignore", "HPL0007", "a", cwd=siblings)
    assert proc.returncode == 2
    assert "--select selector 'bias-before-batchnrom' matches no rule; did you mean 'bias-before-batchnorm'?" in \
        proc.stderr
    assert "--ignore selector 'HPL0007' matches no rule; did you mean 'HPL007'?" in proc.stderr


# -- the resolver as a library ---------------------------------------------------------------------


def test_resolver_caches_by_directory_and_applies_overrides(siblings):
    resolver = Resolver(overrides=Overrides(ignore=("HPL007",)))
    first = resolver.config_for(siblings / "a" / "x.py")
    assert first is resolver.config_for(siblings / "a" / "y.py")
    assert first.ignore == ("HPL002", "HPL007")
    assert resolver.config_for(siblings / "b" / "x.py").select == ("HPL002",)


def test_resolver_defaults_are_rooted_at_the_workspace_folder(tmp_path):
    write(tmp_path / "w1" / "m.py", "")
    resolver = Resolver(roots=[tmp_path / "w1", tmp_path / "w2"])
    config = resolver.config_for(tmp_path / "w1" / "m.py")
    assert config.source is None and config.root == tmp_path / "w1"


def test_bad_overrides_are_an_error_when_the_resolver_is_built():
    with pytest.raises(ConfigError, match="--extend-select selector 'HPL9' matches no rule"):
        Resolver(overrides=Overrides(extend_select=("HPL9",)))


def test_exclusion_reason_names_pattern_key_and_origin(tmp_path):
    config = Config(exclude=("legacy/",), root=tmp_path, origins={"exclude": "p.toml"})
    assert config.exclusion_reason(tmp_path / "legacy" / "a.py") == "'legacy/' in exclude (p.toml)"
    assert config.exclusion_reason(tmp_path / "a.py") is None


def test_respect_gitignore_must_be_a_boolean(tmp_path):
    cfg = write(tmp_path / "hplint.toml", 'respect-gitignore = "no"\n')
    with pytest.raises(ConfigError, match="key 'respect-gitignore' must be a boolean, got string 'no'"):
        load_config_file(cfg)
