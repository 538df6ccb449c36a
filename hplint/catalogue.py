"""The rule catalogue: one Markdown document per rule under top-level `rules/`.

Each document starts with TOML front matter between `+++` lines (code, name,
severity, message template, fix safety, options) followed by prose sections in
ruff's shape: What it does / Why is this bad? / Example / Use instead /
Options / Fix safety / References. This module is the only reader of those
files; `hplint rule`, hover, SARIF/JSON rule metadata and the tests all go
through it.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .findings import Severity
from ._toml import tomllib

DOCS_BASE_URL = "https://github.com/hplint/hplint/blob/main/rules/"

_FRONT_MATTER = re.compile(r"\A\+\+\+\s*\n(.*?)\n\+\+\+\s*\n", re.S)
_SECTION = re.compile(r"^## +(.+?)\s*$", re.M)
_CODE_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


@dataclass(frozen=True)
class RuleOption:
    name: str
    default: Any
    description: str
    choices: Tuple[Any, ...] = ()  # the allowed values of a string option (empty: any)

    @property
    def type_name(self) -> str:
        return _type_name(self.default)


@dataclass(frozen=True)
class RuleDoc:
    code: str
    name: str
    severity: Severity
    message: str  # a str.format template; rules supply the fields
    summary: str  # one line, for `hplint rules` and SARIF shortDescription
    fix: str  # "safe", "unsafe" or "none"
    options: Tuple[RuleOption, ...]
    body: str  # the Markdown after the front matter
    sections: Dict[str, str] = field(hash=False, compare=False, default_factory=dict)
    path: Optional[Path] = None

    @property
    def url(self) -> str:
        return f"{DOCS_BASE_URL}{self.code}.md"

    @property
    def bad_example(self) -> str:
        return _first_code_block(self.sections.get("example", ""))

    @property
    def good_example(self) -> str:
        return _first_code_block(self.sections.get("use instead", ""))

    def option_defaults(self) -> Dict[str, Any]:
        return {o.name: o.default for o in self.options}

    def format_message(self, **fields: Any) -> str:
        return self.message.format(**fields)

    def message_fields(self) -> List[str]:
        return [f for _, f, _, _ in string.Formatter().parse(self.message) if f]


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def _first_code_block(text: str) -> str:
    m = _CODE_BLOCK.search(text)
    return m.group(1) if m else ""


class CatalogueError(Exception):
    pass


def catalogue_dir() -> Path:
    """Where the rule documents are: inside the package for a wheel install,
    the repository's top-level `rules/` for a checkout or editable install."""
    here = Path(__file__).resolve().parent
    bundled = here / "_catalogue"
    if bundled.is_dir():
        return bundled
    return here.parent / "rules"


def parse_rule_doc(text: str, path: Optional[Path] = None) -> RuleDoc:
    where = str(path) if path else "<rule document>"
    m = _FRONT_MATTER.match(text)
    if not m:
        raise CatalogueError(f"{where}: missing +++ TOML front matter")
    try:
        meta = tomllib.loads(m.group(1))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{where}: bad front matter: {exc}") from None
    body = text[m.end():]
    sections: Dict[str, str] = {}
    heads = list(_SECTION.finditer(body))
    for i, h in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(body)
        sections[h.group(1).strip().lower().rstrip("?")] = body[h.end():end].strip("\n")
    options = tuple(
        RuleOption(name, spec.get("default"), spec.get("description", ""), tuple(spec.get("choices", ())))
        for name, spec in meta.get("options", {}).items()
    )
    try:
        return RuleDoc(
            code=meta["code"],
            name=meta["name"],
            severity=Severity.parse(meta["severity"]),
            message=meta["message"],
            summary=meta.get("summary", ""),
            fix=meta.get("fix", "none"),
            options=options,
            body=body,
            sections=sections,
            path=path,
        )
    except KeyError as exc:
        raise CatalogueError(f"{where}: front matter lacks {exc.args[0]!r}") from None


@functools.lru_cache(maxsize=None)
def load_catalogue(directory: Optional[Path] = None) -> Dict[str, RuleDoc]:
    directory = directory or catalogue_dir()
    docs: Dict[str, RuleDoc] = {}
    for path in sorted(directory.glob("HPL*.md")):
        doc = parse_rule_doc(path.read_text(encoding="utf-8"), path)
        docs[doc.code] = doc
    return docs


def rule_doc(code_or_name: str) -> Optional[RuleDoc]:
    """Look a rule up by code (`HPL001`, any case) or name (`dropout-before-batchnorm`)."""
    docs = load_catalogue()
    key = code_or_name.strip()
    if key.upper() in docs:
        return docs[key.upper()]
    for doc in docs.values():
        if doc.name == key.lower():
            return doc
    return None
