"""Project configuration: which rules run, where, how loud, and with which options.

Each file is governed by the nearest configuration file above it (see
config_resolver.py, which every front end uses). The settings live in the
`[tool.hplint]` table of `pyproject.toml`, or at the top level of a standalone
`hplint.toml` / `.hplint.toml`:

```toml
[tool.hplint]
select = ["ALL"]            # or codes / prefixes / names
ignore = ["HPL007"]
extend-select = []
exclude = ["legacy/", "*_pb2.py"]
cache-dir = ".hplint/cache"  # per-file results; relative to this file's folder
[tool.hplint.per-file-ignores]
"tests/*" = ["HPL006"]
[tool.hplint.severity]
HPL007 = "warning"
[tool.hplint.rules.HPL006]            # per-rule options; code or rule name
max-batch-size = 2048
[tool.hplint.rules.adam-non-default-hyperparameters]
accepted-betas = [[0.5, 0.999]]
```

Selectors (in `select`, `ignore`, `extend-select`, `per-file-ignores` and on
the command line) are a full code (`HPL001`), a code prefix (`HPL00`, `HPL`),
a rule name (`dropout-before-batchnorm`) or `ALL`; codes and `ALL` are
case-insensitive. A selector that matches no rule is an error, so typos never
silently disable nothing. The enabled set is plain set algebra:
`(select ∪ extend-select) − ignore` — a more specific selector does not win
over a broader one. `HPL000` (the file could not be parsed) is always enabled:
a file hplint cannot read must never pass silently.

`extend-include` (patterns like `exclude`) names more files to lint in the
directories walked, besides `*.py`, `*.ipynb` and sweep files.
`respect-gitignore` (default true) skips what git ignores in walked directories.
`lint-tests` (default false): test files (`test_*.py`, `*_test.py`,
`conftest.py`, files in a `tests`/`test`/`tst`/`testing` folder near them) get
only HPL000. Their models, batch sizes and search spaces are fixtures built to
exercise code (a 4-sample dataset, a Linear feeding BatchNorm to test
offloading), not training runs, and a fix there could break what they assert.

`extend = "PATH"` (relative to the file) reads that configuration file first;
the keys this file sets replace its values (a whole key: `exclude` or
`per-file-ignores` are not merged). Patterns keep the directory of the file
that declares them (`Config.pattern_roots`); `Config.origins` records where
each key came from. A cycle of `extend`s is an error.

Path patterns (`exclude`, `extend-include`, `per-file-ignores` keys) are matched against the
path relative to the directory holding the configuration file, with `/` as
separator, using `fnmatch` (case-sensitive; `*` also crosses `/`):

- a pattern without `/` matches any single path component: `*_pb2.py` matches
  `a/b/x_pb2.py`, `legacy` matches everything under any `legacy` directory;
- a trailing `/` restricts the pattern to directories: `legacy/` matches
  `legacy/a.py` and `src/legacy/b.py` but not a file named `legacy`;
- a pattern containing `/` is anchored at the configuration directory and
  matches the path or any of its parent directories: `tests/*` matches
  `tests/a.py` and `tests/unit/b.py`, `src/gen` matches `src/gen/x.py`; a
  leading `./` is ignored and a leading `**/` also matches at the top.

Paths outside the configuration directory are matched by component patterns
only.

Per-rule option names and types are checked against the defaults in the rule
documents (`rules/HPL*.md`): a bool option takes a bool, an int option an int,
a float option an int or float, a string option a string, a list option a list.
Every error message names the file and the dotted key. All problems of a file
(and of the files it extends) are reported together (`ConfigErrors`), with a
did-you-mean for a mistyped key, option, rule code or name.
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Dict, FrozenSet, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

from ._toml import tomllib
from .analysis.testing_code import is_test_file
from .catalogue import RuleDoc, RuleOption, load_catalogue
from .findings import Severity

PathLike = Union[str, "os.PathLike[str]"]

#: Codes that no selection can turn off.
ALWAYS_ENABLED: FrozenSet[str] = frozenset({"HPL000"})

#: Standalone configuration files, in precedence order, then pyproject.toml.
STANDALONE_NAMES: Tuple[str, ...] = ("hplint.toml", ".hplint.toml")
PYPROJECT = "pyproject.toml"

_KNOWN_KEYS: Tuple[str, ...] = (
    "cache-dir",
    "exclude",
    "extend",
    "extend-include",
    "extend-select",
    "ignore",
    "per-file-ignores",
    "lint-tests",
    "respect-gitignore",
    "rules",
    "select",
    "severity",
)

#: Keys whose values are path patterns, matched relative to the file that sets them.
PATTERN_KEYS: Tuple[str, ...] = ("exclude", "extend-exclude", "extend-include", "per-file-ignores")

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_LINE = re.compile(r"\s*\(at line (\d+)")


class ConfigError(Exception):
    """A configuration problem, always naming the file and the dotted key.

    `str(err)` reads `FILE: key 'DOTTED.KEY' REASON`, e.g.
    `pyproject.toml: key 'tool.hplint.selekt' is not a known setting (known: ...)`;
    for TOML syntax errors (no key) `FILE: invalid TOML at line L, column C: REASON`.
    """

    def __init__(self, file: str, key: Optional[str], reason: str, line: Optional[int] = None):
        self.file = file
        self.key = key
        self.reason = reason
        self.line = line
        if key is None:
            text = f"{file}: {reason}"
        elif key.startswith("-"):  # a command-line option
            text = f"{file}: {key} {reason}"
        else:
            text = f"{file}: key '{key}' {reason}"
        super().__init__(text)

    @property
    def errors(self) -> List["ConfigError"]:
        """Every problem this error stands for (one, or several for ConfigErrors)."""
        return [self]


class ConfigErrors(ConfigError):
    """Several configuration problems, reported together: `str(err)` is one
    line per problem, `errors` the problems. The attributes `file`, `key`,
    `reason` and `line` are the first problem's."""

    def __init__(self, errors: Iterable[ConfigError]):
        flat: List[ConfigError] = []
        for error in errors:
            flat.extend(error.errors)
        if not flat:
            raise ValueError("ConfigErrors needs at least one error")
        first = flat[0]
        self.file, self.key, self.reason, self.line = first.file, first.key, first.reason, first.line
        self._errors = flat
        Exception.__init__(self, "\n".join(str(e) for e in flat))

    @property
    def errors(self) -> List[ConfigError]:
        return list(self._errors)


def raise_collected(problems: List[ConfigError]) -> None:
    """Raise the problems gathered so far: one as itself, several as ConfigErrors."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ConfigErrors(problems)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`"; did you mean 'select'?"` for the closest candidate, else ""."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _selector_hint(selector: str, catalogue: Mapping[str, RuleDoc]) -> str:
    """A did-you-mean for a selector that matches no rule: the nearest code or name."""
    sel = selector.strip()
    hint = did_you_mean(sel.upper(), list(catalogue) + ["ALL"])
    return hint or did_you_mean(sel.lower(), [doc.name for doc in catalogue.values()])


def _dotted(prefix: str, *keys: str) -> str:
    parts = [prefix] if prefix else []
    for k in keys:
        parts.append(k if _BARE_KEY.match(k) else '"' + k.replace('"', '\\"') + '"')
    return ".".join(parts)


# --------------------------------------------------------------------------- selectors


def _find_rule(token: str, catalogue: Mapping[str, RuleDoc]) -> Optional[str]:
    """The code a full code or rule name stands for, else None."""
    token = token.strip()
    if token.upper() in catalogue:
        return token.upper()
    low = token.lower()
    for doc in catalogue.values():
        if doc.name == low:
            return doc.code
    return None


def resolve_selector(selector: str, catalogue: Mapping[str, RuleDoc]) -> FrozenSet[str]:
    """The codes a selector stands for; empty when it matches nothing."""
    sel = selector.strip()
    if not sel:
        return frozenset()
    if sel.upper() == "ALL":
        return frozenset(catalogue)
    code = _find_rule(sel, catalogue)
    if code is not None:
        return frozenset({code})
    prefix = sel.upper()
    return frozenset(c for c in catalogue if c.startswith(prefix))


def _check_selectors(
    value: Any, file: str, key: str, catalogue: Mapping[str, RuleDoc]
) -> Tuple[str, ...]:
    """The selectors of one list; every selector that matches no rule is a problem."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(file, key, f"must be an array of strings, got {_describe(value)}")
    raise_collected([
        ConfigError(
            file,
            key,
            f"has selector {sel!r} that matches no rule{_selector_hint(sel, catalogue)} "
            "(expected a code such as HPL001, a code prefix, a rule name, or ALL)",
        )
        for sel in value
        if not resolve_selector(sel, catalogue)
    ])
    return tuple(value)


def _select_codes(selectors: Iterable[str], catalogue: Mapping[str, RuleDoc]) -> FrozenSet[str]:
    out: set = set()
    for sel in selectors:
        out |= resolve_selector(sel, catalogue)
    return frozenset(out)


# --------------------------------------------------------------------------- paths


def _abs(path: PathLike) -> str:
    return os.path.abspath(os.fspath(path))


def _relative_parts(path: PathLike, root: Path) -> Tuple[Tuple[str, ...], bool]:
    """Path components relative to root, and whether the path is under root."""
    p = _abs(path)
    r = _abs(root)
    for cand_p, cand_r in ((p, r), (os.path.realpath(p), os.path.realpath(r))):
        try:
            rel = os.path.relpath(cand_p, cand_r)
        except ValueError:  # different drives on Windows
            continue
        if rel == os.curdir:
            return (), True
        if not rel.startswith(os.pardir + os.sep) and rel != os.pardir:
            return tuple(PurePosixPath(rel.replace(os.sep, "/")).parts), True
    return tuple(part for part in Path(p).parts if part not in ("/", "\\")), False


def path_matches(pattern: str, path: PathLike, root: Path) -> bool:
    """Whether a config path pattern matches `path` (see the module docstring)."""
    parts, inside = _relative_parts(path, root)
    if not parts:
        return False
    pat = pattern.strip().replace("\\", "/")
    while pat.startswith("./"):
        pat = pat[2:]
    dir_only = pat.endswith("/")
    pat = pat.rstrip("/")
    if not pat:
        return False
    if dir_only:
        last_is_dir = os.path.isdir(_abs(path))
        candidates = parts if last_is_dir else parts[:-1]
    else:
        candidates = parts
    if "/" not in pat:
        return any(fnmatch.fnmatchcase(part, pat) for part in candidates)
    if not inside:
        return False
    anchored = [pat]
    if pat.startswith("**/"):
        anchored.append(pat[3:])
    # The path itself (if allowed) or any of its parent directories.
    prefixes = ["/".join(parts[:i]) for i in range(1, len(candidates) + 1)]
    return any(fnmatch.fnmatchcase(prefix, a) for prefix in prefixes for a in anchored)


# --------------------------------------------------------------------------- Config


def _default_catalogue() -> Dict[str, RuleDoc]:
    return load_catalogue()


@dataclass
class Config:
    """The effective settings for one project (one configuration file)."""

    select: Tuple[str, ...] = ("ALL",)
    ignore: Tuple[str, ...] = ()
    extend_select: Tuple[str, ...] = ()
    exclude: Tuple[str, ...] = ()
    # More files to lint in walked directories, beyond *.py, *.ipynb and sweep files.
    extend_include: Tuple[str, ...] = ()
    per_file_ignores: Dict[str, Tuple[str, ...]] = field(default_factory=dict)
    severity: Dict[str, Severity] = field(default_factory=dict)
    options: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    # Walked directories skip what .gitignore / .ignore / .git/info/exclude ignore.
    respect_gitignore: bool = True
    lint_tests: bool = False
    # More exclude patterns (`--extend-exclude`), on top of `exclude`.
    extend_exclude: Tuple[str, ...] = ()
    root: Path = field(default_factory=Path.cwd)
    source: Optional[Path] = None
    # The configuration files this one extends, nearest first (`extend`).
    extends: Tuple[Path, ...] = ()
    # Setting name (as in the file: "per-file-ignores") -> where its value came
    # from: a configuration file's path or "command line (--OPTION)". Absent: the default.
    origins: Dict[str, str] = field(default_factory=dict)
    # Pattern setting (PATTERN_KEYS) -> the directory its patterns are relative
    # to, when that is not `root` (set in an extended file, or on the command line).
    pattern_roots: Dict[str, Path] = field(default_factory=dict)
    # Where `hplint check` keeps per-file results (None: `<root>/.hplint/cache`).
    cache_dir: Optional[Path] = None
    catalogue: Dict[str, RuleDoc] = field(
        default_factory=_default_catalogue, repr=False, compare=False
    )

    def enabled_codes(self) -> FrozenSet[str]:
        """`(select ∪ extend-select) − ignore` over the catalogue, plus HPL000."""
        on = _select_codes(self.select, self.catalogue) | _select_codes(
            self.extend_select, self.catalogue
        )
        off = _select_codes(self.ignore, self.catalogue)
        return frozenset(on - off) | ALWAYS_ENABLED

    def pattern_root(self, key: str) -> Path:
        """The directory the patterns of setting `key` (PATTERN_KEYS) are relative to."""
        return self.pattern_roots.get(key, self.root)

    def ignored_for(self, path: PathLike) -> FrozenSet[str]:
        """Codes switched off for `path` by per-file-ignores."""
        out: set = set()
        root = self.pattern_root("per-file-ignores")
        for pattern, selectors in self.per_file_ignores.items():
            if path_matches(pattern, path, root):
                out |= _select_codes(selectors, self.catalogue)
        return frozenset(out - ALWAYS_ENABLED)

    def enabled_codes_for(self, path: PathLike) -> FrozenSet[str]:
        """Enabled codes after per-file-ignores and `lint-tests`: what may be reported in `path`."""
        if self._skips_as_test(path):
            return ALWAYS_ENABLED
        return self.enabled_codes() - self.ignored_for(path)

    def is_enabled(self, code: str, path: PathLike) -> bool:
        code = code.upper()
        if code in ALWAYS_ENABLED:
            return True
        if self._skips_as_test(path):
            return False
        return code in self.enabled_codes() and code not in self.ignored_for(path)

    def _skips_as_test(self, path: PathLike) -> bool:
        return not self.lint_tests and is_test_file(Path(path))

    def severity_for(self, code: str, default: Severity) -> Severity:
        return self.severity.get(code.upper(), default)

    def option(self, code: str, name: str) -> Any:
        """The configured value of a rule option, else the rule document's default."""
        code = code.upper()
        configured = self.options.get(code, {})
        if name in configured:
            return configured[name]
        doc = self.catalogue.get(code)
        if doc is not None:
            for opt in doc.options:
                if opt.name == name:
                    return opt.default
        raise KeyError(f"rule {code} has no option {name!r}")

    def fingerprint(self) -> str:
        """A stable digest of every setting that can change a file's findings
        (selection, per-file ignores, severities, rule options, the root that
        patterns are relative to, and the rule catalogue's content): equal
        across processes and runs exactly when linting gives the same result.
        Where the settings came from (`source`) and `cache_dir` are left out."""
        settings = {
            "select": list(self.select), "ignore": list(self.ignore),
            "extend_select": list(self.extend_select), "exclude": list(self.exclude),
            "extend_include": list(self.extend_include),
            "per_file_ignores": {k: list(v) for k, v in self.per_file_ignores.items()},
            "lint_tests": self.lint_tests,
            "severity": {k: int(v) for k, v in self.severity.items()},
            "options": self.options, "root": _abs(self.root),
            "pattern_roots": {k: _abs(v) for k, v in sorted(self.pattern_roots.items())},
            "catalogue": [repr(self.catalogue[code]) for code in sorted(self.catalogue)],
        }
        text = json.dumps(settings, sort_keys=True, default=repr, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()

    def is_excluded(self, path: PathLike) -> bool:
        return self.exclusion_reason(path) is not None

    def exclusion_reason(self, path: PathLike) -> Optional[str]:
        """Which pattern excludes `path`, and where it is set, e.g.
        `'legacy/' in exclude (pyproject.toml)`; None when nothing excludes it."""
        for key, patterns in (("exclude", self.exclude), ("extend-exclude", self.extend_exclude)):
            root = self.pattern_root(key)
            for pattern in patterns:
                if path_matches(pattern, path, root):
                    return f"{pattern!r} in {key} ({self.origins.get(key, 'default')})"
        return None

    def is_extra_included(self, path: PathLike) -> bool:
        root = self.pattern_root("extend-include")
        return any(path_matches(p, path, root) for p in self.extend_include)

    def with_overrides(
        self,
        select: Optional[Iterable[str]] = None,
        ignore: Optional[Iterable[str]] = None,
        extend_select: Optional[Iterable[str]] = None,
    ) -> "Config":
        """Apply command-line options: `--select` replaces, `--ignore` and
        `--extend-select` add. Raises ConfigError naming the option (every
        selector that matches no rule, with the nearest rule as a hint)."""
        changes: Dict[str, Any] = {}
        origins = dict(self.origins)
        problems: List[ConfigError] = []
        for opt, value, attr in (
            ("--select", select, "select"),
            ("--ignore", ignore, "ignore"),
            ("--extend-select", extend_select, "extend_select"),
        ):
            if value is None:
                continue
            sels = _split_cli(value)
            for sel in sels:
                if not resolve_selector(sel, self.catalogue):
                    problems.append(ConfigError(
                        "command line", opt, f"selector {sel!r} matches no rule{_selector_hint(sel, self.catalogue)}"
                    ))
            changes[attr] = sels if attr == "select" else getattr(self, attr) + sels
            key = attr.replace("_", "-")
            origins[key] = f"command line ({opt})" if attr == "select" or key not in origins else (
                f"{origins[key]} + command line ({opt})")
        raise_collected(problems)
        return replace(self, origins=origins, **changes)


def _split_cli(values: Iterable[str]) -> Tuple[str, ...]:
    """Accept `["HPL001,HPL002", "HPL003"]` as argparse delivers repeated/comma lists."""
    if isinstance(values, str):
        values = [values]
    out: List[str] = []
    for v in values:
        out.extend(s.strip() for s in v.split(",") if s.strip())
    return tuple(out)


# --------------------------------------------------------------------------- parsing


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _check_option(value: Any, default: Any, file: str, key: str) -> Any:
    expected: Optional[str] = None
    if default is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            expected = "a boolean"
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            expected = "an integer"
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            expected = "a number"
        else:
            value = float(value)
    elif isinstance(default, str):
        if not isinstance(value, str):
            expected = "a string"
    elif isinstance(default, list):
        if not isinstance(value, list):
            expected = "an array"
    elif isinstance(default, dict):
        if not isinstance(value, dict):
            expected = "a table"
    if expected:
        raise ConfigError(file, key, f"must be {expected}, got {_describe(value)}")
    return value


def _check_declared(value: Any, option: "RuleOption", file: str, key: str) -> Any:
    """Type, element type and bounds of a rule option, as its catalogue entry
    declares them; the value normalised (ints as floats where numbers are meant)."""
    value = _check_option(value, option.default, file, key)
    bounds = option.bounds_text()

    def number(item: Any, where: str) -> float:
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise ConfigError(file, key, f"{where} must be a number, got {_describe(item)}")
        if not option.in_bounds(item):
            raise ConfigError(file, key, f"{where} must be {bounds}, got {item!r}")
        return float(item)

    if isinstance(value, list):
        if option.items == "number":
            return [number(item, f"element {i + 1}") for i, item in enumerate(value)]
        if option.items == "string":
            for i, item in enumerate(value):
                if not isinstance(item, str):
                    raise ConfigError(file, key, f"element {i + 1} must be a string, got {_describe(item)}")
        if option.items == "pair":
            pairs = []
            for i, item in enumerate(value):
                if not isinstance(item, list) or len(item) != 2:
                    raise ConfigError(file, key, f"element {i + 1} must be an array of two numbers, "
                                                 f"got {_describe(item)}")
                pairs.append([number(v, f"element {i + 1}") for v in item])
            return pairs
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not option.in_bounds(value):
        raise ConfigError(file, key, f"must be {bounds}, got {value!r}")
    if option.choices and value not in option.choices:
        allowed = ", ".join(f'"{c}"' for c in option.choices)
        raise ConfigError(file, key, f"must be one of {allowed}, got {_describe(value)}")
    return value


def config_from_table(
    table: Mapping[str, Any],
    *,
    file: str,
    prefix: str,
    root: Path,
    source: Optional[Path],
    catalogue: Dict[str, RuleDoc],
    _chain: Tuple[Path, ...] = (),
) -> Config:
    """Validate a `[tool.hplint]`-shaped table; `prefix` is its dotted name for messages.

    Every problem is reported, not only the first: one raises ConfigError,
    several ConfigErrors. With `extend = "PATH"` (relative to the file) the
    settings of that file are the base and this table's keys replace theirs."""
    problems: List[ConfigError] = []
    kw = _parse_table(table, file, prefix, catalogue, problems)
    base = Config(root=root, source=source, catalogue=catalogue)
    if "extend" in table:
        extended = _load_extended(table["extend"], file, _dotted(prefix, "extend"),
                                  source.parent if source is not None else root, catalogue,
                                  _chain + ((source,) if source is not None else ()), problems)
        if extended is not None:
            base = replace(extended, root=root, source=source,
                           extends=(extended.source,) + extended.extends if extended.source else extended.extends,
                           pattern_roots={k: extended.pattern_root(k) for k in PATTERN_KEYS if k in extended.origins})
    raise_collected(problems)
    if "cache_dir" in kw and not kw["cache_dir"].is_absolute():
        kw["cache_dir"] = root / kw["cache_dir"]
    set_keys = [k for k in table if k in _KNOWN_KEYS and k != "extend"]
    origins = {**base.origins, **{k: file for k in set_keys}}
    pattern_roots = {**base.pattern_roots, **{k: root for k in set_keys if k in PATTERN_KEYS}}
    pattern_roots = {k: v for k, v in pattern_roots.items() if v != root}
    return replace(base, origins=origins, pattern_roots=pattern_roots, **kw)


def _load_extended(
    value: Any, file: str, key: str, directory: Path, catalogue: Dict[str, RuleDoc],
    chain: Tuple[Path, ...], problems: List[ConfigError],
) -> Optional[Config]:
    """The configuration an `extend` key names, or None (the problem recorded)."""
    if not isinstance(value, str) or not value.strip():
        problems.append(ConfigError(file, key, f"must be a path to a configuration file, got {_describe(value)}"))
        return None
    target = Path(os.path.realpath(directory / value))
    seen = [Path(os.path.realpath(p)) for p in chain]
    if target in seen:
        cycle = " -> ".join(str(p) for p in seen[seen.index(target):] + [target])
        problems.append(ConfigError(file, key, f"forms a cycle of extended configurations: {cycle}"))
        return None
    if not target.is_file():
        problems.append(ConfigError(file, key, f"names {value!r}, which is not a file ({target})"))
        return None
    try:
        return load_config_file(target, catalogue, _chain=chain)
    except ConfigError as exc:
        problems.extend(exc.errors)
        return None


def _parse_table(
    table: Mapping[str, Any], file: str, prefix: str, catalogue: Dict[str, RuleDoc],
    problems: List[ConfigError],
) -> Dict[str, Any]:
    """The Config fields a table sets; each problem goes to `problems` and the
    rest of the table is still checked."""

    def attempt(check, *args):
        try:
            return check(*args), True
        except ConfigError as exc:
            problems.extend(exc.errors)
            return None, False

    for key in table:
        if key not in _KNOWN_KEYS:
            problems.append(ConfigError(
                file,
                _dotted(prefix, key),
                f"is not a known setting{did_you_mean(key, _KNOWN_KEYS)} (known: {', '.join(_KNOWN_KEYS)})",
            ))
    kw: Dict[str, Any] = {}
    for key, attr in (("select", "select"), ("ignore", "ignore"), ("extend-select", "extend_select")):
        if key in table:
            value, ok = attempt(_check_selectors, table[key], file, _dotted(prefix, key), catalogue)
            if ok:
                kw[attr] = value

    for key in ("exclude", "extend-include"):
        if key not in table:
            continue
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(ConfigError(
                file, _dotted(prefix, key), f"must be an array of strings, got {_describe(value)}"
            ))
            continue
        kw[key.replace("-", "_")] = tuple(value)

    for key in ("respect-gitignore", "lint-tests"):
        if key not in table:
            continue
        value = table[key]
        if isinstance(value, bool):
            kw[key.replace("-", "_")] = value
        else:
            problems.append(ConfigError(file, _dotted(prefix, key), f"must be a boolean, got {_describe(value)}"))

    if "cache-dir" in table:
        value = table["cache-dir"]
        if isinstance(value, str) and value.strip():
            kw["cache_dir"] = Path(os.path.expanduser(value))  # relative to the file's folder: config_from_table
        else:
            problems.append(ConfigError(
                file, _dotted(prefix, "cache-dir"), f"must be a non-empty string (a folder), got {_describe(value)}"))

    if "per-file-ignores" in table:
        pfi, ok = attempt(_table, table["per-file-ignores"], file, _dotted(prefix, "per-file-ignores"))
        if ok:
            checked = {}
            for pattern, sels in pfi.items():
                value, ok = attempt(_check_selectors, sels, file,
                                    _dotted(prefix, "per-file-ignores", pattern), catalogue)
                if ok:
                    checked[pattern] = value
            kw["per_file_ignores"] = checked

    if "severity" in table:
        kw["severity"] = _parse_severity(table["severity"], file, prefix, catalogue, problems)

    if "rules" in table:
        kw["options"] = _parse_rule_options(table["rules"], file, prefix, catalogue, problems)
    return kw


def _rule_hint(rule: str, catalogue: Mapping[str, RuleDoc]) -> str:
    return _selector_hint(rule, catalogue) if rule.upper() != "ALL" else ""


def _per_rule(value: Any, file: str, prefix: str, section: str, catalogue: Dict[str, RuleDoc],
              problems: List[ConfigError]) -> Iterator[Tuple[str, str, Any]]:
    """(dotted key, rule code, value) of each entry of a table keyed by rule
    code or name (`[tool.hplint.severity]`, `[tool.hplint.rules]`); a table
    that is not one, and a name that is no rule, go to `problems`."""
    if not isinstance(value, dict):
        problems.append(ConfigError(file, _dotted(prefix, section), f"must be a table, got {_describe(value)}"))
        return
    for rule, item in value.items():
        key = _dotted(prefix, section, rule)
        code = _find_rule(rule, catalogue)
        if code is None:
            problems.append(ConfigError(
                file, key, f"names no rule{_rule_hint(rule, catalogue)} (expected a rule code or name)"))
            continue
        yield key, code, item


def _parse_severity(
    value: Any, file: str, prefix: str, catalogue: Dict[str, RuleDoc], problems: List[ConfigError]
) -> Dict[str, Severity]:
    severities: Dict[str, Severity] = {}
    for key, code, level in _per_rule(value, file, prefix, "severity", catalogue, problems):
        expected = 'must be one of "error", "warning", "info", got '
        if not isinstance(level, str):
            problems.append(ConfigError(file, key, expected + _describe(level)))
            continue
        try:
            severities[code] = Severity.parse(level)
        except ValueError:
            problems.append(ConfigError(file, key, expected + repr(level)))
    return severities


def _parse_rule_options(
    value: Any, file: str, prefix: str, catalogue: Dict[str, RuleDoc], problems: List[ConfigError]
) -> Dict[str, Dict[str, Any]]:
    options: Dict[str, Dict[str, Any]] = {}
    for key, code, opts in _per_rule(value, file, prefix, "rules", catalogue, problems):
        if not isinstance(opts, dict):
            problems.append(ConfigError(file, key, f"must be a table, got {_describe(opts)}"))
            continue
        doc = catalogue[code]
        defaults = {o.name: o for o in doc.options}
        merged = options.setdefault(code, {})
        for name, item in opts.items():
            okey = _dotted(key, name)
            if name not in defaults:
                known = ", ".join(sorted(defaults)) or "none"
                problems.append(ConfigError(
                    file, okey,
                    f"is not an option of {code} {doc.name}{did_you_mean(name, defaults)} (options: {known})"))
                continue
            if name in merged:
                problems.append(ConfigError(file, okey, f"is set twice for {code} (by code and by rule name)"))
                continue
            try:
                merged[name] = _check_declared(item, defaults[name], file, okey)
            except ConfigError as exc:
                problems.extend(exc.errors)
    return options


def _table(value: Any, file: str, key: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(file, key, f"must be a table, got {_describe(value)}")
    return value


def _read_toml(path: Path) -> Dict[str, Any]:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(file, None, "configuration file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(file, None, f"cannot decode as UTF-8: {exc.reason}") from None
    except OSError as exc:
        raise ConfigError(file, None, f"cannot read configuration file: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raw = str(exc)
        m = _TOML_POSITION.search(raw)
        if m:
            line = int(m.group(1))
            reason = raw[: m.start()]
            raise ConfigError(
                file, None, f"invalid TOML at line {line}, column {m.group(2)}: {reason}", line=line
            ) from None
        if raw.endswith("(at end of document)"):
            line = len(text.splitlines()) or 1
            reason = raw[: -len("(at end of document)")].rstrip()
            raise ConfigError(
                file, None, f"invalid TOML at line {line} (end of file): {reason}", line=line
            ) from None
        m = _TOML_LINE.search(raw)
        at_line: Optional[int] = int(m.group(1)) if m else None
        where = f" at line {at_line}" if at_line else ""
        raise ConfigError(file, None, f"invalid TOML{where}: {raw}", line=at_line) from None


def _is_pyproject(path: Path) -> bool:
    return path.name == PYPROJECT


def _hplint_table(data: Mapping[str, Any], file: str) -> Optional[Mapping[str, Any]]:
    tool = data.get("tool")
    if not isinstance(tool, dict) or "hplint" not in tool:
        return None
    return _table(tool["hplint"], file, "tool.hplint")


def _pyproject_has_hplint(path: Path) -> bool:
    """Cheap text gate, then a parse. A pyproject that mentions tool.hplint but
    does not parse counts as a hit, so loading it reports the syntax error."""
    try:
        data = path.read_bytes()
    except OSError:
        return True  # unreadable: loading it reports why, rather than skipping a config silently
    if b"hplint" not in data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return True  # loading it reports the bad bytes
    if "tool.hplint" not in text and not re.search(r"\bhplint\b", text):
        return False
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return "tool.hplint" in text
    tool = data.get("tool")
    return isinstance(tool, dict) and "hplint" in tool


def find_config_file(start: PathLike) -> Optional[Path]:
    """The nearest configuration file from `start` (a file or a directory) upwards.

    In each directory: `hplint.toml`, then `.hplint.toml`, then a `pyproject.toml`
    that has a `[tool.hplint]` table. Stops after the filesystem root.
    """
    here = Path(_abs(start))
    if not here.is_dir():
        here = here.parent
    for directory in (here, *here.parents):
        found = config_file_in(directory)
        if found is not None:
            return found
    return None


def config_file_in(directory: Path) -> Optional[Path]:
    """`directory`'s own configuration file (the precedence of find_config_file), or None."""
    for name in STANDALONE_NAMES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    candidate = directory / PYPROJECT
    if candidate.is_file() and _pyproject_has_hplint(candidate):
        return candidate
    return None


def load_config_file(path: PathLike, catalogue: Optional[Dict[str, RuleDoc]] = None,
                     _chain: Tuple[Path, ...] = ()) -> Config:
    """Read one configuration file: `pyproject.toml` → its `[tool.hplint]`
    (defaults if absent); any other file → top-level keys. An `extend` key
    reads the file it names first (`_chain`: the files extending this one)."""
    catalogue = _default_catalogue() if catalogue is None else catalogue
    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise ConfigError(file, None, "configuration file not found")
    data = _read_toml(path)
    root = Path(_abs(path.parent))
    source = Path(_abs(path))
    if _is_pyproject(path):
        table = _hplint_table(data, file)
        if table is None:
            return Config(root=root, source=source, catalogue=catalogue)
        return config_from_table(
            table, file=file, prefix="tool.hplint", root=root, source=source, catalogue=catalogue, _chain=_chain
        )
    return config_from_table(
        data, file=file, prefix="", root=root, source=source, catalogue=catalogue, _chain=_chain
    )


def load_config(
    explicit: Optional[PathLike] = None,
    start: Optional[PathLike] = None,
    catalogue: Optional[Dict[str, RuleDoc]] = None,
) -> Config:
    """The configuration to use: `explicit` if given, else the nearest file
    found from `start` (default: the current directory), else defaults with
    root = the current directory."""
    catalogue = _default_catalogue() if catalogue is None else catalogue
    if explicit is not None:
        return load_config_file(explicit, catalogue)
    found = find_config_file(start if start is not None else Path.cwd())
    if found is None:
        return Config(root=Path.cwd(), source=None, catalogue=catalogue)
    return load_config_file(found, catalogue)


def __getattr__(name: str) -> Any:
    # ConfigCache moved to config_resolver (the one resolver); kept importable from here.
    if name == "ConfigCache":
        from .config_resolver import ConfigCache

        return ConfigCache
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
