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
from typing import Dict, Iterator, List, Mapping, Type

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


@functools.lru_cache(maxsize=None)
def _rule_modules() -> Dict[str, str]:
    """code -> module name, from the module names alone (`hpl007_...` holds HPL007)."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__) if _RULE_MODULE.match(info.name))
    return {name[:6].upper(): name for name in names}


class LazyRules(Mapping[str, Rule]):
    """code -> rule, like `all_rules()`, but a rule's module (and the analyses
    it needs) is imported when the rule is first looked up: a run with
    `--select HPL007` does not load the model-graph rules (cold start)."""

    def __init__(self) -> None:
        self._modules = _rule_modules()
        self._rules: Dict[str, Rule] = {}

    def __getitem__(self, code: str) -> Rule:
        rule = self._rules.get(code)
        if rule is None:
            if code not in self._modules:
                raise KeyError(code)
            module = importlib.import_module(f"{__name__}.{self._modules[code]}")
            classes = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, Rule)
                       and v is not Rule and v.code == code and v.__module__ == module.__name__]
            if not classes:
                raise KeyError(code)
            rule = self._rules[code] = classes[0]()
        return rule

    def __setitem__(self, code: str, rule: Rule) -> None:
        """Put a rule in place of the registered one (tests, embedding)."""
        self._rules[code] = rule

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(set(self._modules) | set(self._rules)))

    def __len__(self) -> int:
        return len(set(self._modules) | set(self._rules))


__all__ = ["Rule", "Report", "FixSpec", "LazyRules", "all_rules", "rule_classes", "META_CODES"]
