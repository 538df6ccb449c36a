"""Client settings: what the editor sends in `initializationOptions` and
`workspace/didChangeConfiguration`.

Shape (the VS Code extension's `hplint.*` settings):
`{"select": [...], "ignore": [...], "severity": {"HPL007": "warning"},
"run": "onType" | "onSave", "debounce": 300, "configuration": "path/to/hplint.toml",
"explainCommand": "hplint.explainRule"}`; didChangeConfiguration wraps it
as `{"hplint": {...}}`. Parsing never raises: a bad value is dropped and
described in `problems`, so a typo in an editor setting cannot stop the server.
They apply on top of the project's `[tool.hplint]` table, or of the file
`configuration` names (the command line's `--config`: used for every document
instead of the nearest pyproject.toml / hplint.toml). `explainCommand` is the
client's command that shows a rule: hovers then link to it instead of
repeating the diagnostic's message, which VS Code already shows above them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..catalogue import RuleDoc
from ..config import Config, ConfigError, resolve_selector
from ..findings import Severity

ON_TYPE = "onType"
ON_SAVE = "onSave"
DEFAULT_DEBOUNCE_MS = 300


@dataclass(frozen=True)
class Settings:
    select: Tuple[str, ...] = ()  # empty: keep the project's select
    ignore: Tuple[str, ...] = ()
    severity: Tuple[Tuple[str, Severity], ...] = ()  # (code, severity), sorted
    run: str = ON_TYPE
    debounce_ms: int = DEFAULT_DEBOUNCE_MS
    configuration: Optional[str] = None  # an explicit configuration file (absolute, or relative to the cwd)
    explain_command: Optional[str] = None  # e.g. "hplint.explainRule": hovers link to it
    problems: Tuple[str, ...] = field(default=(), compare=False)

    @property
    def debounce_s(self) -> float:
        return self.debounce_ms / 1000.0

    def apply(self, config: Config) -> Config:
        """The project configuration with these settings on top. Selectors that
        match no rule were already dropped by `parse_settings`."""
        select = list(self.select) or None
        ignore = list(self.ignore) or None
        try:
            config = config.with_overrides(select=select, ignore=ignore)
        except ConfigError:  # a catalogue without the rule: keep the project's choice
            pass
        if self.severity:
            config = replace(config, severity={**config.severity, **dict(self.severity)})
        return config


def _unwrap(options: Any) -> Mapping[str, Any]:
    if not isinstance(options, Mapping):
        return {}
    inner = options.get("hplint")
    return inner if isinstance(inner, Mapping) else options


def _selectors(value: Any, key: str, catalogue: Mapping[str, RuleDoc], problems: List[str]) -> Tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split()]
    if not isinstance(value, list):
        problems.append(f"setting hplint.{key} must be a list of rule codes")
        return ()
    out = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            continue
        if resolve_selector(item, catalogue):
            out.append(item.strip())
        else:
            problems.append(f"setting hplint.{key}: {item!r} matches no rule (ignored)")
    return tuple(out)


def parse_settings(options: Any, catalogue: Mapping[str, RuleDoc], base: Optional[Settings] = None) -> Settings:
    """Settings from a client payload. Keys that are absent keep `base`'s value
    (didChangeConfiguration may send only part of the section)."""
    base = base or Settings()
    data = _unwrap(options)
    problems: List[str] = []
    select = _selectors(data["select"], "select", catalogue, problems) if "select" in data else base.select
    ignore = _selectors(data["ignore"], "ignore", catalogue, problems) if "ignore" in data else base.ignore

    severity = base.severity
    if "severity" in data:
        levels: Dict[str, Severity] = {}
        raw = data["severity"]
        if isinstance(raw, Mapping):
            for rule, level in raw.items():
                codes = resolve_selector(str(rule), catalogue)
                try:
                    parsed = Severity.parse(level) if isinstance(level, str) else None
                except ValueError:
                    parsed = None
                if not codes or parsed is None:
                    problems.append(f"setting hplint.severity.{rule}: {level!r} ignored")
                    continue
                for code in codes:
                    levels[code] = parsed
        elif raw is not None:
            problems.append("setting hplint.severity must be an object")
        severity = tuple(sorted(levels.items()))

    run = base.run
    if "run" in data:
        run = data["run"] if data["run"] in (ON_TYPE, ON_SAVE) else ON_TYPE
        if data["run"] not in (ON_TYPE, ON_SAVE, None):
            problems.append(f"setting hplint.run: {data['run']!r} is not onType or onSave")

    debounce = base.debounce_ms
    if "debounce" in data:
        value = data["debounce"]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            debounce = int(value)
        elif value is not None:
            problems.append(f"setting hplint.debounce: {value!r} is not a number of milliseconds")
    configuration = base.configuration
    if "configuration" in data:
        value = data["configuration"]
        if isinstance(value, str):
            configuration = value.strip() or None
        elif value is None:
            configuration = None
        else:
            problems.append(f"setting hplint.configuration: {value!r} is not a path")

    explain = base.explain_command
    if "explainCommand" in data:
        value = data["explainCommand"]
        explain = value.strip() or None if isinstance(value, str) else None
    return Settings(select, ignore, severity, run, debounce, configuration, explain, tuple(problems))
