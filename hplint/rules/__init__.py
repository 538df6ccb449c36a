"""The rule registry: every lint rule, keyed by code.

Adding a rule: write `rules/HPLxxx.md` (the catalogue document) and a module
`hplint/rules/hplxxx_<name>.py` holding a `Rule` subclass with `code = "HPLxxx"`.
Modules named `hpl<digits>_*` are discovered here; nothing else to register.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
from typing import Dict, List, Type

from .base import FixSpec, Report, Rule

# Codes that are not lint rules but findings about the run itself.
META_CODES = ("HPL000", "HPL100")
_RULE_MODULE = re.compile(r"^hpl\d{3}_")


@functools.lru_cache(maxsize=None)
def rule_classes() -> List[Type[Rule]]:
    found: Dict[str, Type[Rule]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not _RULE_MODULE.match(info.name):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value is not Rule and value.code:
                if value.__module__ == module.__name__:
                    found[value.code] = value
    return [found[code] for code in sorted(found)]


def all_rules() -> Dict[str, Rule]:
    return {cls.code: cls() for cls in rule_classes()}


__all__ = ["Rule", "Report", "FixSpec", "all_rules", "rule_classes", "META_CODES"]
