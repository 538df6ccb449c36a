"""flake8 plugin: `flake8` reports hplint's findings as `HPLxxx` errors, so
projects that run flake8 get hplint without another tool in CI.

Registered as `HPL = hplint.flake8_plugin:HplintChecker` (group
`flake8.extension`). flake8 hands over the file's lines; hplint lints their
text with its own parser (the `tree` argument is flake8's `ast`, which hplint
does not use) and the configuration the file gets from hplint's resolver
(the nearest hplint configuration above it, as `hplint check` uses). flake8's
`# noqa` handling, `--select`/`--extend-ignore` and per-file-ignores then apply
as for any plugin. Parse errors are left to flake8 (E999).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterator, List, Tuple

from . import __version__

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Linter

_linters: Dict[str, "Linter"] = {}  # "resolver" -> the Linter every file shares; "defaults" -> the fallback


def _linter_for(path: Path) -> "Linter":
    """The run's linter, which gives each file the configuration hplint's own
    command line would (the shared resolver; cached for the flake8 run). A
    broken hplint configuration must not break flake8: that file is linted
    with the defaults."""
    from .config import ConfigError
    from .config_resolver import Resolver
    from .engine import Linter

    linter = _linters.get("resolver")
    if linter is None:
        linter = _linters["resolver"] = Linter(resolver=Resolver())
    try:
        linter.config_for(path)
    except ConfigError:
        fallback = _linters.get("defaults")
        if fallback is None:
            fallback = _linters["defaults"] = Linter()
        return fallback
    return linter


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
