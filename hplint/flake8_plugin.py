"""flake8 plugin: `flake8` reports hplint's findings as `HPLxxx` errors, so
projects that run flake8 get hplint without another tool in CI.

Registered as `HPL = hplint.flake8_plugin:HplintChecker` (group
`flake8.extension`). flake8 hands over the file's lines; hplint lints their
text with its own parser (the `tree` argument is flake8's `ast`, which hplint
does not use) and the configuration found from the file's directory. flake8's
`# noqa` handling, `--select`/`--extend-ignore` and per-file-ignores then apply
as for any plugin. Parse errors are left to flake8 (E999).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from . import __version__

_linters: Dict[Optional[str], object] = {}


def _linter_for(path: Path):
    """One Linter per configuration file (cached for the flake8 run)."""
    from .config import ConfigError, find_config_file, load_config
    from .engine import Linter

    found = find_config_file(path.parent if path.parent != Path("") else Path("."))
    key = str(found) if found else None
    if key not in _linters:
        try:
            config = load_config(explicit=found) if found else load_config(start=path.parent)
        except ConfigError:
            config = None  # a broken hplint config must not break flake8; use defaults
        _linters[key] = Linter(config)
    return _linters[key]


class HplintChecker:
    name = "hplint"
    version = __version__

    def __init__(self, tree, filename: str, lines: List[str]) -> None:
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        path = Path(self.filename if self.filename not in ("-", "stdin") else "stdin.py")
        linter = _linter_for(path.resolve())
        result = linter.lint_text("".join(self.lines), path, self.filename)
        for f in result.findings:
            if f.code == "HPL000":
                continue
            yield f.span.start_line, f.span.start_col - 1, f"{f.code} {f.message}", type(self)
