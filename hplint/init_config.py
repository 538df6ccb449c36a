"""`hplint init`: write a commented starting configuration.

The section is generated, never hand-written: the general settings with the
defaults `Config` has, then every rule that has options, each option with its
default, description, bounds and choices, all from the rule documents' front
matter (`RuleOption`). Everything but the table header is commented out, so the
written configuration is the defaults; uncommenting a line keeps it valid.

Into `pyproject.toml` when the directory has one without `[tool.hplint]`
(appended: every existing byte is kept), else a new `hplint.toml`. A directory
that already has a configuration is refused.
"""

from __future__ import annotations

import json
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from ._toml import tomllib
from .catalogue import RuleDoc, RuleOption, load_catalogue
from .text_lines import newline_style

WIDTH = 88


def toml_value(value: Any) -> str:
    """`value` (an option default: bool, number, string or array of them) as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON's escapes are TOML basic-string escapes
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML spelling for {value!r}")


def _comment(text: str) -> List[str]:
    return textwrap.wrap(text, WIDTH - 2, initial_indent="# ", subsequent_indent="# ",
                         break_long_words=False, break_on_hyphens=False) or ["#"]


def _option_lines(option: RuleOption) -> List[str]:
    notes = []
    bounds = option.bounds_text()
    if bounds:
        notes.append(bounds)
    if option.choices:
        notes.append("one of " + ", ".join(toml_value(c) for c in option.choices))
    description = option.description + (f" ({'; '.join(notes)})" if notes else "")
    return _comment(description) + [f"# {option.name} = {toml_value(option.default)}"]


def template(*, pyproject: bool, catalogue: Optional[Dict[str, RuleDoc]] = None) -> List[str]:
    """The section's lines (without line endings)."""
    from .config import Config

    catalogue = load_catalogue() if catalogue is None else catalogue
    table = "tool.hplint" if pyproject else ""
    sub = f"{table}." if table else ""
    defaults = Config(catalogue=catalogue)
    lines = _comment("hplint: a static linter for PyTorch training code. Everything below is "
                     "the default; uncomment a line to change it. `hplint rules` lists the "
                     "rules, `hplint rule CODE` explains one.")
    if table:
        lines.append(f"[{table}]")
    lines += _comment("Rules to run: codes (HPL001), code prefixes (HPL00), rule names or \"ALL\".")
    lines += [
        f"# select = {toml_value(list(defaults.select))}",
        f"# extend-select = {toml_value(list(defaults.extend_select))}",
        f"# ignore = {toml_value(list(defaults.ignore))}",
    ]
    lines += _comment("Paths not to lint, and more files to lint besides *.py, *.ipynb and sweep "
                      "files (patterns relative to this file's directory).")
    lines += [
        f"# exclude = {toml_value(list(defaults.exclude))}",
        f"# extend-include = {toml_value(list(defaults.extend_include))}",
    ]
    lines += _comment("Directories walked skip what .gitignore, .ignore and .git/info/exclude ignore.")
    lines += [f"# respect-gitignore = {toml_value(defaults.respect_gitignore)}"]
    lines += _comment("Test files (test_*.py, conftest.py, files in a tests/ folder) get only HPL000: "
                      "their models and batch sizes are fixtures, not training runs.")
    lines += [f"# lint-tests = {toml_value(defaults.lint_tests)}"]
    lines += _comment("To inherit another configuration file, add extend = \"../pyproject.toml\" "
                      "(relative to this file); the keys set here replace its keys.")
    lines += _comment("Where `hplint check` keeps its result cache (default: .hplint/cache next to this file).")
    lines += [
        '# cache-dir = ".hplint/cache"',
        "",
        "# Rules to skip in some files:",
        f"# [{sub}per-file-ignores]",
        '# "tests/*" = ["HPL006"]',
        "",
        "# A rule's severity (\"error\", \"warning\" or \"info\"):",
        f"# [{sub}severity]",
    ]
    for code in sorted(catalogue):
        doc = catalogue[code]
        if code != "HPL000":
            lines.append(f"# {code} = {toml_value(str(doc.severity))}  # {doc.name}")
    for code in sorted(catalogue):
        doc = catalogue[code]
        if not doc.options:
            continue
        lines += ["", *_comment(f"{code} {doc.name}: {doc.summary}"), f"# [{sub}rules.{code}]"]
        for option in doc.options:
            lines += _option_lines(option)
    return lines


@dataclass
class InitOutcome:
    path: Optional[Path]  # the file written (None: refused)
    message: str
    created: bool = False


def _has_hplint_table(data: Dict[str, Any]) -> bool:
    tool = data.get("tool")
    return isinstance(tool, dict) and "hplint" in tool


def _validate(text: str, pyproject: bool, where: Path) -> Optional[str]:
    """Why the configuration `text` would not load, or None."""
    from .config import ConfigError, config_from_table

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return f"{where} would not be valid TOML with the section appended ({exc})"
    table = data.get("tool", {}).get("hplint", {}) if pyproject else data
    try:
        config_from_table(table, file=str(where), prefix="tool.hplint" if pyproject else "",
                          root=where.parent, source=where, catalogue=load_catalogue())
    except ConfigError as exc:  # pragma: no cover - the template is generated from the same catalogue
        return str(exc)
    return None


def init(directory: Path) -> InitOutcome:
    from .config import PYPROJECT, STANDALONE_NAMES
    from .fix.files import SourceFile, write_source

    for name in STANDALONE_NAMES:
        if (directory / name).is_file():
            return InitOutcome(None, f"{directory / name} already exists; edit it, or remove it to start again")
    pyproject = directory / PYPROJECT
    if pyproject.is_file():
        try:
            data = pyproject.read_bytes()
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return InitOutcome(None, f"cannot read {pyproject}: {exc}")
        try:
            parsed = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            return InitOutcome(None, f"{pyproject} is not valid TOML ({exc}); fix it first")
        if _has_hplint_table(parsed):
            return InitOutcome(None, f"{pyproject} already has a [tool.hplint] section; edit it there")
        newline = newline_style(text)
        lead = "" if not text else (newline if text.endswith(("\n", "\r")) else newline * 2)
        addition = lead + newline.join(template(pyproject=True)) + newline
        problem = _validate(text + addition, True, pyproject)
        if problem is not None:
            return InitOutcome(None, problem)
        source = SourceFile(pyproject, text, "utf-8", False, data)
        problem = write_source(source, data + addition.encode("utf-8"))
        if problem is not None:
            return InitOutcome(None, f"cannot write {pyproject}: {problem}")
        return InitOutcome(pyproject, f"Added a [tool.hplint] section to {pyproject}.")
    target = directory / STANDALONE_NAMES[0]
    content = "\n".join(template(pyproject=False)) + "\n"
    problem = _validate(content, False, target)
    if problem is not None:  # pragma: no cover - generated from the catalogue it is checked against
        return InitOutcome(None, problem)
    try:
        with open(target, "x", encoding="utf-8", newline="") as out:  # never over a file made meanwhile
            out.write(content)
    except OSError as exc:
        return InitOutcome(None, f"cannot create {target}: {exc.strerror or exc}")
    return InitOutcome(target, f"Created {target}.", created=True)
