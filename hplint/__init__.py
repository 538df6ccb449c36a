"""hplint: a static linter for PyTorch training code.

The public API::

    from hplint import Config, Linter

    result = Linter(Config()).lint_file(Path("train.py"))   # a FileResult
    for finding in result.findings:                         # Finding objects
        print(finding.code, finding.line, finding.message, finding.fix)

`Linter`, `Config`, `FileResult`, `Finding` and `Fix` are imported on first
use, so `import hplint` stays cheap (the probe's child process and the editor
extension's import check load it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, List

__version__ = "0.1.0"

__all__ = ["Config", "FileResult", "Finding", "Fix", "Linter", "__version__"]

_EXPORTS = {
    "Config": "hplint.config",
    "FileResult": "hplint.findings",
    "Finding": "hplint.findings",
    "Fix": "hplint.findings",
    "Linter": "hplint.engine",
}

if TYPE_CHECKING:
    from .config import Config
    from .engine import Linter
    from .findings import FileResult, Finding, Fix


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hplint' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_EXPORTS))
