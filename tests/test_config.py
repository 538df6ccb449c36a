"""Configuration loading, validation, selection and path matching."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest

from hplint import config as config_mod
from hplint.catalogue import CatalogueError, load_catalogue, parse_rule_doc
from hplint.config import (
    Config,
    ConfigCache,
    ConfigError,
    find_config_file,
    load_config,
    path_matches,
    resolve_selector,
)
from hplint.findings import Severity

REPO = Path(__file__).resolve().parents[1]

FAKE_DOCS = {
    "HPL000": ("parse-error", "error", ""),
    "HPL001": ("dropout-before-batchnorm", "warning", ""),
    "HPL002": ("bias-before-batchnorm", "warning", ""),
    "HPL006": (
        "batch-size-too-large",
        "warning",
        """
        [options.max-batch-size]
        default = 1024
        description = "largest accepted batch size"
        [options.fraction]
        default = 0.5
        description = "a float option"
        [options.skip-eval]
        default = true
        description = "a bool option"
        [options.names]
        default = ["batch_size"]
        description = "a list option"
        [options.mode]
        default = "strict"
        description = "a string option"
        """,
    ),
    "HPL007": (
        "adam-non-default-hyperparameters",
        "info",
        """
        [options.accepted-betas]
        default = []
        description = "accepted (beta1, beta2) pairs"
        """,
    ),
    "HPL100": ("unused-suppression", "info", ""),
}


def write_catalogue(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for code, (name, severity, options) in FAKE_DOCS.items():
        front = textwrap.dedent(
            f"""\
            code = "{code}"
            name = "{name}"
            severity = "{severity}"
            message = "{name} found"
            summary = "Summary of {name}"
            fix = "none"
            """
        ) + textwrap.dedent(options)
        (directory / f"{code}.md").write_text(
            f"+++\n{front}\n+++\n\n## What it does\nChecks {name}.\n", encoding="utf-8"
        )
    return directory


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    return load_catalogue(write_catalogue(tmp_path_factory.mktemp("rules")))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# ----------------------------------------------------------------- the documented example


def _toml_blocks(markdown: str):
    return re.findall(r"```toml\n(.*?)```", markdown, re.S)


@pytest.mark.parametrize("where", ["hplint/config.py docstring", "README.md"])
def test_documented_example_is_a_valid_configuration(tmp_path, cat, where):
    text = config_mod.__doc__ if where.endswith("docstring") else (REPO / "README.md").read_text(encoding="utf-8")
    (snippet,) = [b for b in _toml_blocks(text) if "[tool.hplint]" in b and "per-file-ignores" in b]
    cfg = load_config(write(tmp_path / "pyproject.toml", snippet), catalogue=cat)
    assert cfg.select == ("ALL",)
    assert cfg.ignore == ("HPL007",)
    assert cfg.exclude == ("legacy/", "*_pb2.py")
    assert cfg.per_file_ignores == {"tests/*": ("HPL006",)}
    assert cfg.severity == {"HPL007": Severity.WARNING}
    assert cfg.options == {
        "HPL006": {"max-batch-size": 2048},
        "HPL007": {"accepted-betas": [[0.5, 0.999]]},
    }
    # What the example does, on a file: HPL007 ignored, HPL006 off under tests/.
    assert not cfg.is_enabled("HPL007", tmp_path / "train.py") and cfg.is_enabled("HPL006", tmp_path / "train.py")
    assert not cfg.is_enabled("HPL006", tmp_path / "tests" / "test_train.py")


# ----------------------------------------------------------------- selectors


@pytest.mark.parametrize(
    "selector, expected",
    [
        ("HPL001", {"HPL001"}),
        ("hpl001", {"HPL001"}),
        ("HPL00", {"HPL000", "HPL001", "HPL002", "HPL006", "HPL007"}),
        ("HPL1", {"HPL100"}),
        ("dropout-before-batchnorm", {"HPL001"}),
        ("Dropout-Before-BatchNorm", {"HPL001"}),
        ("ALL", set(FAKE_DOCS)),
        ("all", set(FAKE_DOCS)),
        ("HPL999", set()),
        ("nonsense", set()),
        ("", set()),
    ],
)
def test_resolve_selector(cat, selector, expected):
    assert resolve_selector(selector, cat) == expected


def test_enabled_codes_is_select_plus_extend_minus_ignore(cat):
    cfg = Config(select=("HPL00",), extend_select=("HPL100",), ignore=("HPL002", "adam-non-default-hyperparameters"), catalogue=cat)
    assert cfg.enabled_codes() == {"HPL000", "HPL001", "HPL006", "HPL100"}


def test_ignore_beats_select_even_when_more_specific_select(cat):
    # Plain set algebra, documented: no "more specific selector wins".
    cfg = Config(select=("HPL001",), ignore=("HPL",), catalogue=cat)
    assert cfg.enabled_codes() == {"HPL000"}


def test_parse_errors_cannot_be_deselected(cat, tmp_path):
    cfg = Config(select=("HPL001",), ignore=("HPL000",), catalogue=cat, root=tmp_path)
    assert "HPL000" in cfg.enabled_codes()
    assert cfg.is_enabled("HPL000", tmp_path / "a.py")
    cfg = Config(per_file_ignores={"*.py": ("ALL",)}, catalogue=cat, root=tmp_path)
    assert cfg.is_enabled("HPL000", tmp_path / "a.py")
    assert not cfg.is_enabled("HPL001", tmp_path / "a.py")


def test_default_config_enables_everything(cat, tmp_path):
    cfg = Config(catalogue=cat, root=tmp_path)
    assert cfg.select == ("ALL",)
    assert cfg.enabled_codes() == set(FAKE_DOCS)


def test_selector_matching_no_rule_is_an_error_naming_file_and_key(tmp_path, cat):
    path = write(tmp_path / "pyproject.toml", '[tool.hplint]\nignore = ["HPL001", "HPL999"]\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, catalogue=cat)
    msg = str(info.value)
    assert str(path) in msg and "tool.hplint.ignore" in msg and "'HPL999'" in msg
    assert info.value.key == "tool.hplint.ignore"


@pytest.mark.parametrize("key", ["select", "ignore", "extend-select"])
def test_selector_lists_must_be_arrays_of_strings(tmp_path, cat, key):
    path = write(tmp_path / "pyproject.toml", f'[tool.hplint]\n{key} = "HPL001"\n')
    with pytest.raises(ConfigError, match=rf"key 'tool\.hplint\.{key}' must be an array of strings"):
        load_config(path, catalogue=cat)


# ----------------------------------------------------------------- is_enabled and per-file-ignores


def test_per_file_ignores_relative_to_root_from_any_cwd(tmp_path, cat, monkeypatch):
    # lint-tests: here `tests/` is only a folder that a pattern names
    cfg = Config(per_file_ignores={"tests/*": ("HPL006",)}, catalogue=cat, root=tmp_path, lint_tests=True)
    inside = tmp_path / "tests" / "test_a.py"
    assert not cfg.is_enabled("HPL006", inside)
    assert cfg.is_enabled("HPL001", inside)
    assert cfg.is_enabled("HPL006", tmp_path / "src" / "a.py")
    # A relative path is taken relative to the current directory.
    monkeypatch.chdir(tmp_path / "..")
    rel = os.path.join(tmp_path.name, "tests", "test_a.py")
    assert not cfg.is_enabled("HPL006", rel)
    monkeypatch.chdir(tmp_path)
    assert not cfg.is_enabled("HPL006", "tests/test_a.py")
    assert not cfg.is_enabled("HPL006", "tests/deep/test_b.py")
    assert cfg.is_enabled("HPL006", "src/tests_like.py")


def test_per_file_ignores_accept_names_and_prefixes(tmp_path, cat):
    cfg = Config(per_file_ignores={"gen_*.py": ("batch-size-too-large", "HPL00")}, catalogue=cat, root=tmp_path)
    assert cfg.ignored_for(tmp_path / "pkg" / "gen_x.py") == {"HPL001", "HPL002", "HPL006", "HPL007"}
    assert cfg.enabled_codes_for(tmp_path / "pkg" / "gen_x.py") == {"HPL000", "HPL100"}
    assert cfg.enabled_codes_for(tmp_path / "pkg" / "x.py") == set(FAKE_DOCS)


def test_is_enabled_respects_selection_and_case(tmp_path, cat):
    cfg = Config(select=("HPL001",), catalogue=cat, root=tmp_path)
    assert cfg.is_enabled("hpl001", tmp_path / "a.py")
    assert not cfg.is_enabled("HPL002", tmp_path / "a.py")


def test_per_file_ignores_validation(tmp_path, cat):
    path = write(
        tmp_path / "pyproject.toml",
        '[tool.hplint.per-file-ignores]\n"tests/*" = ["HPL006"]\n"a.b/*.py" = ["HPL777"]\n',
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, catalogue=cat)
    assert info.value.key == 'tool.hplint.per-file-ignores."a.b/*.py"'
    assert "HPL777" in str(info.value)
    write(path, '[tool.hplint]\nper-file-ignores = ["tests/*"]\n')
    with pytest.raises(ConfigError, match="tool.hplint.per-file-ignores' must be a table"):
        load_config(path, catalogue=cat)


# ----------------------------------------------------------------- path patterns


@pytest.mark.parametrize(
    "pattern, rel, expected",
    [
        ("*_pb2.py", "a/b/x_pb2.py", True),
        ("*_pb2.py", "x_pb2.py", True),
        ("*_pb2.py", "a/x_pb2.pyi", False),
        ("legacy", "legacy/a.py", True),
        ("legacy", "src/legacy/deep/a.py", True),
        ("legacy", "src/legacy_not/a.py", False),
        ("legacy/", "legacy/a.py", True),
        ("legacy/", "src/legacy/b.py", True),
        ("legacy/", "src/legacy", False),  # a file named legacy, not a directory
        ("tests/*", "tests/a.py", True),
        ("tests/*", "tests/unit/b.py", True),
        ("tests/*", "src/tests/a.py", False),  # anchored at the root
        ("src/gen", "src/gen/x.py", True),
        ("src/gen", "src/general.py", False),
        ("./src/gen/", "src/gen/x.py", True),
        ("**/fixtures/*.py", "fixtures/a.py", True),
        ("**/fixtures/*.py", "x/fixtures/a.py", True),
        ("Legacy", "legacy/a.py", False),  # case-sensitive
    ],
)
def test_path_patterns(tmp_path, pattern, rel, expected):
    assert path_matches(pattern, tmp_path / rel, tmp_path) is expected


def test_trailing_slash_pattern_matches_an_existing_directory_itself(tmp_path):
    (tmp_path / "legacy").mkdir()
    assert path_matches("legacy/", tmp_path / "legacy", tmp_path)
    (tmp_path / "notes").write_text("x")
    assert not path_matches("notes/", tmp_path / "notes", tmp_path)
    assert path_matches("notes", tmp_path / "notes", tmp_path)


def test_root_itself_and_outside_paths(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    assert not path_matches("*", root, root)
    outside = tmp_path / "other" / "x_pb2.py"
    assert path_matches("*_pb2.py", outside, root)  # component patterns still apply
    assert not path_matches("other/*", outside, root)  # anchored ones cannot


def test_is_excluded(tmp_path, cat):
    cfg = Config(exclude=("legacy/", "*_pb2.py"), catalogue=cat, root=tmp_path)
    assert cfg.is_excluded(tmp_path / "legacy" / "m.py")
    assert cfg.is_excluded(tmp_path / "pkg" / "m_pb2.py")
    assert not cfg.is_excluded(tmp_path / "pkg" / "m.py")
    assert not Config(catalogue=cat, root=tmp_path).is_excluded(tmp_path / "legacy" / "m.py")


# ----------------------------------------------------------------- severity and options


def test_severity_for(tmp_path, cat):
    path = write(
        tmp_path / "pyproject.toml",
        '[tool.hplint.severity]\nHPL007 = "warning"\nbias-before-batchnorm = "ERROR"\n',
    )
    cfg = load_config(path, catalogue=cat)
    assert cfg.severity_for("HPL007", Severity.INFO) is Severity.WARNING
    assert cfg.severity_for("hpl002", Severity.WARNING) is Severity.ERROR
    assert cfg.severity_for("HPL001", Severity.WARNING) is Severity.WARNING


@pytest.mark.parametrize(
    "body, key, fragment",
    [
        ('HPL007 = "loud"', "tool.hplint.severity.HPL007", "'loud'"),
        ("HPL007 = 3", "tool.hplint.severity.HPL007", "integer 3"),
        ('HPL999 = "error"', "tool.hplint.severity.HPL999", "names no rule"),
        ('HPL00 = "error"', "tool.hplint.severity.HPL00", "names no rule"),
    ],
)
def test_bad_severity_settings(tmp_path, cat, body, key, fragment):
    path = write(tmp_path / "pyproject.toml", f"[tool.hplint.severity]\n{body}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, catalogue=cat)
    assert info.value.key == key
    assert fragment in str(info.value) and str(path) in str(info.value)


def test_option_defaults_and_configured_values(tmp_path, cat):
    path = write(
        tmp_path / "pyproject.toml",
        """\
        [tool.hplint.rules.batch-size-too-large]
        max-batch-size = 4096
        fraction = 1
        """,
    )
    cfg = load_config(path, catalogue=cat)
    assert cfg.option("HPL006", "max-batch-size") == 4096
    fraction = cfg.option("hpl006", "fraction")
    assert fraction == 1.0 and isinstance(fraction, float)  # an int is accepted for a float
    assert cfg.option("HPL006", "skip-eval") is True  # catalogue default
    assert cfg.option("HPL007", "accepted-betas") == []
    with pytest.raises(KeyError):
        cfg.option("HPL006", "no-such-option")


@pytest.mark.parametrize(
    "line, key, fragment",
    [
        ("max-batch-size = 1.5", "max-batch-size", "must be an integer, got number 1.5"),
        ("max-batch-size = true", "max-batch-size", "must be an integer, got boolean true"),
        ('max-batch-size = "2048"', "max-batch-size", "must be an integer"),
        ("fraction = false", "fraction", "must be a number"),
        ('skip-eval = "yes"', "skip-eval", "must be a boolean"),
        ('names = "batch_size"', "names", "must be an array"),
        ("mode = 1", "mode", "must be a string"),
        ("max-batch-sise = 1", "max-batch-sise", "is not an option of HPL006"),
    ],
)
def test_bad_rule_options(tmp_path, cat, line, key, fragment):
    path = write(tmp_path / "pyproject.toml", f"[tool.hplint.rules.HPL006]\n{line}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, catalogue=cat)
    assert info.value.key == f"tool.hplint.rules.HPL006.{key}"
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"{path}: key 'tool.hplint.rules.HPL006.{key}'")


def test_valid_options_of_every_type(tmp_path, cat):
    path = write(
        tmp_path / "hplint.toml",
        """\
        [rules.HPL006]
        fraction = 0.25
        skip-eval = false
        names = ["bs", "batch"]
        mode = "lenient"
        """,
    )
    cfg = load_config(path, catalogue=cat)
    assert cfg.options["HPL006"] == {"fraction": 0.25, "skip-eval": False, "names": ["bs", "batch"], "mode": "lenient"}


def test_rules_table_unknown_rule_and_not_a_table(tmp_path, cat):
    path = write(tmp_path / "pyproject.toml", "[tool.hplint.rules.no-such-rule]\nx = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, catalogue=cat)
    assert info.value.key == "tool.hplint.rules.no-such-rule"
    write(path, "[tool.hplint.rules]\nHPL006 = 5\n")
    with pytest.raises(ConfigError, match="'tool.hplint.rules.HPL006' must be a table"):
        load_config(path, catalogue=cat)


def test_same_option_by_code_and_name_is_an_error(tmp_path, cat):
    path = write(
        tmp_path / "pyproject.toml",
        "[tool.hplint.rules.HPL006]\nmax-batch-size = 1\n[tool.hplint.rules.batch-size-too-large]\nmax-batch-size = 2\n",
    )
    with pytest.raises(ConfigError, match="set twice"):
        load_config(path, catalogue=cat)


def test_unknown_top_level_key_names_file_key_and_known_settings(tmp_path, cat):
    path = write(tmp_path / "pyproject.toml", '[tool.hplint]\nselekt = ["ALL"]\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, catalogue=cat)
    msg = str(info.value)
    assert msg.startswith(f"{path}: key 'tool.hplint.selekt' is not a known setting; did you mean 'select'? (known: ")
    assert "select" in msg and "per-file-ignores" in msg


def test_unknown_key_in_standalone_file_has_no_tool_prefix(tmp_path, cat):
    path = write(tmp_path / "hplint.toml", "[tool.hplint]\nselect = []\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, catalogue=cat)
    assert info.value.key == "tool"


def test_exclude_must_be_strings(tmp_path, cat):
    path = write(tmp_path / "pyproject.toml", "[tool.hplint]\nexclude = [1]\n")
    with pytest.raises(ConfigError, match="tool.hplint.exclude' must be an array of strings"):
        load_config(path, catalogue=cat)


def test_tool_hplint_must_be_a_table(tmp_path, cat):
    path = write(tmp_path / "pyproject.toml", "[tool]\nhplint = 3\n")
    with pytest.raises(ConfigError, match="'tool.hplint' must be a table"):
        load_config(path, catalogue=cat)


# ----------------------------------------------------------------- with_overrides


def test_with_overrides(tmp_path, cat):
    base = Config(select=("HPL00",), ignore=("HPL002",), catalogue=cat, root=tmp_path)
    cfg = base.with_overrides(select=["HPL001,HPL002"], ignore=["HPL001"], extend_select=["HPL100"])
    assert cfg.select == ("HPL001", "HPL002")
    assert cfg.ignore == ("HPL002", "HPL001")
    assert cfg.extend_select == ("HPL100",)
    assert cfg.enabled_codes() == {"HPL000", "HPL100"}
    assert base.select == ("HPL00",)  # the original is untouched
    assert base.with_overrides().enabled_codes() == base.enabled_codes()


def test_with_overrides_rejects_unknown_selectors(cat, tmp_path):
    with pytest.raises(ConfigError) as info:
        Config(catalogue=cat, root=tmp_path).with_overrides(ignore=["HPL001", "HPX1"])
    assert str(info.value) == "command line: --ignore selector 'HPX1' matches no rule; did you mean 'HPL100'?"


# ----------------------------------------------------------------- finding and loading files


def test_find_config_walks_up_to_pyproject_with_tool_hplint(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.hplint]\nselect = ['ALL']\n")
    write(tmp_path / "pkg" / "pyproject.toml", "[project]\nname = 'pkg'\n")  # no [tool.hplint]
    src = write(tmp_path / "pkg" / "src" / "m.py", "x = 1\n")
    assert find_config_file(src) == tmp_path / "pyproject.toml"
    assert find_config_file(src.parent) == tmp_path / "pyproject.toml"


def test_find_config_precedence_in_one_directory(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.hplint]\n")
    assert find_config_file(tmp_path) == tmp_path / "pyproject.toml"
    write(tmp_path / ".hplint.toml", "")
    assert find_config_file(tmp_path) == tmp_path / ".hplint.toml"
    write(tmp_path / "hplint.toml", "")
    assert find_config_file(tmp_path) == tmp_path / "hplint.toml"


def test_nearest_directory_wins_over_precedence(tmp_path):
    write(tmp_path / "hplint.toml", "")
    write(tmp_path / "sub" / "pyproject.toml", "[tool.hplint]\n")
    assert find_config_file(tmp_path / "sub" / "x.py") == tmp_path / "sub" / "pyproject.toml"


def test_find_config_none_walks_to_the_filesystem_root(tmp_path):
    start = tmp_path / "a" / "b"
    start.mkdir(parents=True)
    ancestors = [start, *start.parents]
    if any((d / n).exists() for d in ancestors for n in ("hplint.toml", ".hplint.toml")) or any(
        "tool.hplint" in (d / "pyproject.toml").read_text(errors="replace")
        for d in ancestors
        if (d / "pyproject.toml").is_file()
    ):
        pytest.skip("a configuration file exists above the temporary directory")
    assert find_config_file(start / "m.py") is None
    write(tmp_path / "hplint.toml", "")
    assert find_config_file(start / "m.py") == tmp_path / "hplint.toml"


def test_find_config_counts_broken_pyproject_that_mentions_tool_hplint(tmp_path, cat):
    write(tmp_path / "pyproject.toml", "[tool.hplint]\nselect = [\n")
    assert find_config_file(tmp_path) == tmp_path / "pyproject.toml"
    with pytest.raises(ConfigError) as info:
        load_config(start=tmp_path, catalogue=cat)
    assert "invalid TOML at line 2 (end of file): " in str(info.value)
    assert info.value.line == 2


def test_toml_syntax_error_names_file_and_line(tmp_path, cat):
    path = write(tmp_path / "pyproject.toml", '[tool.hplint]\nselect = ["ALL"]\nignore = [HPL007]\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, catalogue=cat)
    assert info.value.line == 3
    assert str(info.value).startswith(f"{path}: invalid TOML at line 3, column ")


def test_missing_explicit_file(tmp_path, cat):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.toml", catalogue=cat)
    assert str(tmp_path / "nope.toml") in str(info.value) and "not found" in str(info.value)


def test_explicit_other_toml_reads_top_level_keys(tmp_path, cat):
    path = write(tmp_path / "ci" / "lint.toml", 'select = ["HPL001"]\n[severity]\nHPL001 = "error"\n')
    cfg = load_config(path, catalogue=cat)
    assert cfg.select == ("HPL001",)
    assert cfg.severity == {"HPL001": Severity.ERROR}
    assert cfg.root == tmp_path / "ci"


def test_explicit_pyproject_without_table_gives_defaults_rooted_there(tmp_path, cat):
    path = write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    cfg = load_config(path, catalogue=cat)
    assert cfg.select == ("ALL",) and cfg.root == tmp_path and cfg.source == path


def test_load_config_search_from_start_and_defaults(tmp_path, cat, monkeypatch):
    write(tmp_path / "proj" / ".hplint.toml", 'ignore = ["HPL001"]\n')
    cfg = load_config(start=tmp_path / "proj" / "a" / "b.py", catalogue=cat)
    assert cfg.ignore == ("HPL001",)
    assert cfg.root == tmp_path / "proj"
    monkeypatch.chdir(tmp_path / "proj")
    assert load_config(catalogue=cat).ignore == ("HPL001",)  # start defaults to cwd
    monkeypatch.setattr(config_mod, "find_config_file", lambda start: None)
    cfg = load_config(catalogue=cat)
    assert cfg.source is None and cfg.root == Path.cwd() and cfg.select == ("ALL",)


def test_default_catalogue_is_load_catalogue(monkeypatch, tmp_path, cat):
    monkeypatch.setattr(config_mod, "load_catalogue", lambda: cat)
    path = write(tmp_path / "hplint.toml", 'select = ["dropout-before-batchnorm"]\n')
    cfg = load_config(path)
    assert cfg.catalogue is cat
    assert cfg.enabled_codes() == {"HPL000", "HPL001"}


def test_non_utf8_config(tmp_path, cat):
    path = tmp_path / "hplint.toml"
    path.write_bytes(b'select = ["\xff"]\n')
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(path, catalogue=cat)


# ----------------------------------------------------------------- per-document cache


def test_config_cache_per_directory_notices_edits(tmp_path, cat, monkeypatch):
    cache = ConfigCache()
    cfg_path = write(tmp_path / "hplint.toml", 'ignore = ["HPL001"]\n')
    doc = write(tmp_path / "src" / "m.py", "")
    calls = []  # directories looked into: src, then its parent that holds hplint.toml
    real = config_mod.config_file_in
    monkeypatch.setattr(config_mod, "config_file_in", lambda directory: calls.append(directory) or real(directory))

    first = cache.load(doc, catalogue=cat)
    second = cache.load(tmp_path / "src" / "other.py", catalogue=cat)
    assert first is second and calls == [tmp_path / "src", tmp_path]
    assert first.ignore == ("HPL001",)

    cfg_path.write_text('ignore = ["HPL002"]\n', encoding="utf-8")
    stat = cfg_path.stat()
    os.utime(cfg_path, (stat.st_atime, stat.st_mtime + 5))
    third = cache.load(doc, catalogue=cat)
    assert third.ignore == ("HPL002",) and len(calls) == 4  # edited: looked up again

    cache.clear()
    cache.load(doc, catalogue=cat)
    assert len(calls) == 6


def test_config_cache_raises_and_does_not_cache_errors(tmp_path, cat):
    cache = ConfigCache()
    cfg_path = write(tmp_path / "hplint.toml", "selekt = 1\n")
    doc = tmp_path / "m.py"
    with pytest.raises(ConfigError):
        cache.load(doc, catalogue=cat)
    cfg_path.write_text("select = ['ALL']\n", encoding="utf-8")
    assert cache.load(doc, catalogue=cat).select == ("ALL",)


def test_config_caches_are_independent(tmp_path, cat):
    # Two servers (or tests) in one process never see each other's entries.
    write(tmp_path / "hplint.toml", 'ignore = ["HPL001"]\n')
    doc = tmp_path / "m.py"
    a, b = ConfigCache(), ConfigCache()
    first = a.load(doc, catalogue=cat)
    assert b.load(doc, catalogue=cat) is not first and a.load(doc, catalogue=cat) is first


# ----------------------------------------------------------------- declared option schemas



@pytest.mark.parametrize(
    "rule, line, fragment",
    [
        ("HPL007", "accepted-betas = [0.5, 0.999]", "element 1 must be an array of two numbers, got number 0.5"),
        ("HPL007", "accepted-betas = [[0.5]]", "element 1 must be an array of two numbers"),
        ("HPL007", 'accepted-betas = [[0.5, "x"]]', "element 1 must be a number, got string 'x'"),
        ("HPL007", 'accepted-eps = ["tiny"]', "element 1 must be a number, got string 'tiny'"),
        ("HPL003", "extra-lr-names = [1]", "element 1 must be a string, got integer 1"),
        ("HPL004", 'extra-momentum-names = ["gamma", true]', "element 2 must be a string, got boolean true"),
        ("HPL005", "max-norm = -1", "must be > 0, got -1"),
        ("HPL005", "max-norm = 0", "must be > 0, got 0"),
        ("HPL006", "max-batch-size = -5", "must be >= 1, got -5"),
        ("HPL009", "min-batch-size = 0", "must be >= 1, got 0"),
        ("HPL003", "min-decades = -0.5", "must be >= 0, got -0.5"),
    ],
)
def test_option_element_types_and_ranges_are_config_errors(tmp_path, rule, line, fragment):
    path = write(tmp_path / "pyproject.toml", f"[tool.hplint.rules.{rule}]\n{line}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: key 'tool.hplint.rules.{rule}.{line.split(' =')[0]}'")
    assert fragment in str(info.value)


def test_zero_is_a_value_not_the_default(tmp_path):
    path = write(tmp_path / "pyproject.toml", "[tool.hplint.rules.HPL003]\nmin-decades = 0\n")
    assert load_config(path).option("HPL003", "min-decades") == 0.0


def test_valid_declared_options_are_normalised(tmp_path):
    path = write(tmp_path / "pyproject.toml",
                 "[tool.hplint.rules.HPL007]\naccepted-betas = [[0.5, 0.999], [0, 0.9]]\naccepted-eps = [1e-6]\n")
    cfg = load_config(path)
    assert cfg.option("HPL007", "accepted-betas") == [[0.5, 0.999], [0.0, 0.9]]
    assert cfg.option("HPL007", "accepted-eps") == [1e-6]


def test_max_norm_set_in_config_reaches_the_fix(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.hplint.rules.HPL005]\nmax-norm = 1\n")
    (tmp_path / "train.py").write_text(
        "import torch\nmodel = torch.nn.LSTM(4, 4)\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "for x in range(3):\n    loss = model(x)[0].sum()\n    opt.zero_grad()\n    loss.backward()\n    opt.step()\n")
    from hplint.engine import Linter

    (finding,) = Linter(load_config(tmp_path / "pyproject.toml")).lint_file(tmp_path / "train.py").findings
    assert "max_norm=1.0" in finding.fix.edits[0].new_text


def test_non_utf8_pyproject_with_tool_hplint_is_an_error_not_skipped(tmp_path):
    (tmp_path / "pyproject.toml").write_bytes(b'[tool.hplint]\nselect = ["HPL001"]\n# caf\xe9\n')
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(start=tmp_path / "x.py")


def test_catalogue_declares_a_bad_item_type(tmp_path):
    bad = "+++\ncode = \"HPL001\"\nname = \"x-y\"\nseverity = \"warning\"\nmessage = \"m\"\n" \
          "[options.o]\ndefault = []\nitems = \"tuple\"\n+++\n# x\n"
    with pytest.raises(CatalogueError, match="items must be one of"):
        parse_rule_doc(bad, tmp_path / "HPL001.md")


# --------------------------------------------------------------------------- cache-dir, fingerprint


def test_cache_dir_is_relative_to_the_config_folder(tmp_path, cat):
    path = write(tmp_path / "pyproject.toml", '[tool.hplint]\ncache-dir = "build/hplint-cache"\n')
    assert load_config(path, catalogue=cat).cache_dir == tmp_path / "build" / "hplint-cache"
    assert load_config(write(tmp_path / "x" / "hplint.toml", ""), catalogue=cat).cache_dir is None


@pytest.mark.parametrize("value", ["1", "true", '["a"]', '""'])
def test_cache_dir_must_be_a_string(tmp_path, cat, value):
    path = write(tmp_path / "pyproject.toml", f"[tool.hplint]\ncache-dir = {value}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, catalogue=cat)
    assert str(info.value).startswith(f"{path}: key 'tool.hplint.cache-dir' must be a non-empty string")


def test_fingerprint_is_stable_and_follows_every_setting_that_changes_findings(tmp_path, cat):
    base = Config(root=tmp_path, catalogue=cat)
    assert base.fingerprint() == Config(root=tmp_path, catalogue=dict(cat)).fingerprint()
    # Where the settings came from and where results are cached change nothing.
    assert base.fingerprint() == Config(root=tmp_path, catalogue=cat, source=tmp_path / "hplint.toml",
                                        cache_dir=tmp_path / "c").fingerprint()
    changed = [
        base.with_overrides(ignore=["HPL001"]),
        Config(root=tmp_path / "sub", catalogue=cat),
        Config(root=tmp_path, catalogue=cat, per_file_ignores={"tests/*": ("HPL001",)}),
        Config(root=tmp_path, catalogue=cat, severity={"HPL001": Severity.ERROR}),
        Config(root=tmp_path, catalogue=cat, options={"HPL006": {"max-batch-size": 2}}),
        Config(root=tmp_path, catalogue={**cat, "HPL001": parse_rule_doc(
            (REPO / "rules" / "HPL001.md").read_text(encoding="utf-8").replace("BatchNorm", "BN"))}),
    ]
    prints = [c.fingerprint() for c in changed]
    assert base.fingerprint() not in prints and len(set(prints)) == len(prints)


def test_test_files_get_only_hpl000_unless_lint_tests(tmp_path, cat):
    # accelerate's tests/ and opacus's tests hold fixture models and 4-sample
    # datasets: 17 findings on held-out repositories, none worth acting on.
    cfg = Config(catalogue=cat, root=tmp_path)
    for path in ("tests/helpers.py", "pkg/test_model.py", "pkg/model_test.py", "conftest.py", "test/unit/x.py"):
        assert cfg.enabled_codes_for(tmp_path / path) == {"HPL000"}, path
        assert cfg.is_enabled("HPL000", tmp_path / path) and not cfg.is_enabled("HPL002", tmp_path / path)
    for path in ("train.py", "src/testing_utils.py", "contest/train.py", "latest/model.py"):
        assert cfg.enabled_codes_for(tmp_path / path) == set(FAKE_DOCS), path
    on = Config(catalogue=cat, root=tmp_path, lint_tests=True)
    assert on.enabled_codes_for(tmp_path / "tests" / "helpers.py") == set(FAKE_DOCS)
    assert on.fingerprint() != cfg.fingerprint()  # cached results of one never answer for the other
    path = write(tmp_path / "pyproject.toml", "[tool.hplint]\nlint-tests = true\n")
    assert load_config(path, catalogue=cat).lint_tests is True
    write(path, '[tool.hplint]\nlint-tests = "yes"\n')
    with pytest.raises(ConfigError, match="lint-tests' must be a boolean"):
        load_config(path, catalogue=cat)


def test_a_test_file_is_linted_for_hpl000_only(tmp_path):
    from hplint.engine import Linter

    model = "import torch.nn as nn\nnet = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))\n"
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_model.py").write_text(model)
    (tmp_path / "tests" / "test_broken.py").write_text("def f(:\n")
    (tmp_path / "train.py").write_text(model)
    linter = Linter(Config(root=tmp_path))
    assert linter.lint_file(tmp_path / "tests" / "test_model.py").findings == []
    assert [f.code for f in linter.lint_file(tmp_path / "tests" / "test_broken.py").findings] == ["HPL000"]
    assert [f.code for f in linter.lint_file(tmp_path / "train.py").findings] == ["HPL002"]
    linter = Linter(Config(root=tmp_path, lint_tests=True))
    assert [f.code for f in linter.lint_file(tmp_path / "tests" / "test_model.py").findings] == ["HPL002"]


def test_a_file_that_can_report_only_hpl000_is_never_given_to_libcst(tmp_path, monkeypatch):
    # torch's testing/ holds a tenth of its bytes and its largest tree (1.4 MB of
    # source, ~800 MB as a libcst tree): with no rule to run, Python's verdict is all.
    import hplint.analysis.source as source
    from hplint.engine import Linter

    def no_libcst(text):
        raise AssertionError("libcst parsed a file no rule could report on")

    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_ok.py").write_text("import torch.nn as nn\nnet = nn.Linear(2, 3)\n")
    # An indentation error is no newer Python's syntax, so libcst is not asked either.
    (tmp_path / "tests" / "test_broken.py").write_text("def f():\nreturn 1\n")
    (tmp_path / "gen.py").write_text("x = 1\n")
    (tmp_path / "train.py").write_text("x = 1\n")
    linter = Linter(Config(root=tmp_path, per_file_ignores={"gen.py": ("ALL",)}))
    monkeypatch.setattr(source, "_parse_with_libcst", no_libcst)
    assert linter.lint_file(tmp_path / "tests" / "test_ok.py").findings == []
    broken = linter.lint_file(tmp_path / "tests" / "test_broken.py").findings
    assert [f.code for f in broken] == ["HPL000"] and "indented block" in broken[0].message
    assert linter.lint_file(tmp_path / "gen.py").findings == []
    with pytest.raises(AssertionError, match="libcst parsed"):
        linter.lint_file(tmp_path / "train.py")  # a linted file still takes libcst's tree
