"""`hplint init`: the generated configuration loads as the defaults, lists every
rule option with its catalogue default, and never damages an existing file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_cli import run

from hplint._toml import tomllib
from hplint.catalogue import load_catalogue
from hplint.config import Config, load_config_file

_OPTION = re.compile(r"^# ((?:\[[^\]\"]+\])|(?:[a-z][a-z0-9-]* = .*)|(?:HPL\d{3} = \"\w+\"))(?:  #.*)?$")


def _uncommented(text: str) -> str:
    """The section with every setting, table header and severity line uncommented."""
    return "\n".join(m.group(1) if (m := _OPTION.match(line)) else line for line in text.splitlines()) + "\n"


def _same_settings(a: Config, b: Config) -> bool:
    keys = ("select", "ignore", "extend_select", "exclude", "extend_include", "severity", "options")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def test_creates_hplint_toml_that_loads_as_the_defaults(tmp_path):
    proc = run("init", cwd=tmp_path)
    assert proc.returncode == 0 and "hplint.toml" in proc.stdout
    written = tmp_path / "hplint.toml"
    assert _same_settings(load_config_file(written), Config())
    assert not (tmp_path / "pyproject.toml").exists()


@pytest.mark.parametrize("pyproject", [False, True])
def test_every_option_is_listed_with_its_default(tmp_path, pyproject):
    if pyproject:
        (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert run("init", cwd=tmp_path).returncode == 0
    path = tmp_path / ("pyproject.toml" if pyproject else "hplint.toml")
    data = tomllib.loads(_uncommented(path.read_text()))
    table = data["tool"]["hplint"] if pyproject else data
    catalogue = load_catalogue()
    expected = {code: doc.option_defaults() for code, doc in catalogue.items() if doc.options}
    assert table["rules"] == expected
    assert table["severity"] == {code: str(doc.severity) for code, doc in catalogue.items() if code != "HPL000"}
    defaults = Config()
    assert table["select"] == list(defaults.select) and table["ignore"] == []
    # and uncommented, it is still a valid configuration that means the defaults
    path.write_text(_uncommented(path.read_text()))
    loaded = load_config_file(path)
    assert loaded.select == defaults.select and loaded.severity == {
        code: doc.severity for code, doc in catalogue.items() if code != "HPL000"}
    assert loaded.options == expected


@pytest.mark.parametrize("original", [
    b'[project]\nname = "x"\n',
    b'[project]\r\nname = "x"\r\n',  # CRLF
    b'[project]\nname = "x"',  # no newline at the end
    b"[project]\nname = \"caf\xc3\xa9\"\n",  # UTF-8
    b"",
])
def test_pyproject_is_appended_to_byte_for_byte(tmp_path, original):
    path = tmp_path / "pyproject.toml"
    path.write_bytes(original)
    proc = run("init", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = path.read_bytes()
    assert data.startswith(original)
    added = data[len(original):]
    if b"\r\n" in original:
        assert b"\n" not in added.replace(b"\r\n", b"")  # the file's own line endings
    assert b"\n[tool.hplint]" in added
    assert _same_settings(load_config_file(path), Config())
    assert not (tmp_path / "hplint.toml").exists()


@pytest.mark.parametrize("files", [
    {"hplint.toml": "select = [\"ALL\"]\n"},
    {".hplint.toml": ""},
    {"pyproject.toml": "[tool.hplint]\nignore = [\"HPL007\"]\n"},
    {"pyproject.toml": "[tool.hplint.severity]\nHPL007 = \"error\"\n"},
])
def test_refuses_when_a_configuration_exists(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    proc = run("init", cwd=tmp_path)
    assert proc.returncode == 2 and "already" in proc.stderr and proc.stdout == ""
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_refuses_a_pyproject_it_cannot_extend(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text("[project\n")
    proc = run("init", cwd=tmp_path)
    assert proc.returncode == 2 and "not valid TOML" in proc.stderr
    path.write_text('tool = {black = {line-length = 100}}\n')  # an inline table cannot grow a [tool.hplint]
    proc = run("init", cwd=tmp_path)
    assert proc.returncode == 2 and "would not be valid TOML" in proc.stderr
    assert path.read_text() == 'tool = {black = {line-length = 100}}\n'


def test_init_in_another_directory(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    assert run("init", "sub", cwd=tmp_path).returncode == 0
    assert (tmp_path / "sub" / "hplint.toml").is_file()
    assert run("init", "nowhere", cwd=tmp_path).returncode == 2
