"""The rule catalogue: one Markdown document per rule under top-level `rules/`.

Each document starts with TOML front matter between `+++` lines (code, name,
severity, message template, fix safety, options; `probe = true` when `hplint
probe` measures the rule, `fix-summary` for the README table) followed by prose sections in
ruff's shape: What it does / Why is this bad? / Example / Use instead /
Options / Fix safety / References. This module is the only reader of those
files; `hplint rule`, hover, SARIF/JSON rule metadata and the tests all go
through it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from ._toml import tomllib
from .findings import Severity


def project_url(label: str) -> Optional[str]:
    """A `[project.urls]` entry of the installed hplint (`Homepage`, `Rules`),
    or None. hplint has no public home yet: with none declared, reports and
    the editor carry no links rather than links to nowhere."""
    return _project_urls().get(label.lower())


_URLS: Optional[Dict[str, str]] = None


def _project_urls() -> Dict[str, str]:
    global _URLS
    if _URLS is None:
        urls: Dict[str, str] = {}
        try:
            from importlib.metadata import PackageNotFoundError, metadata

            for entry in metadata("hplint").get_all("Project-URL") or []:
                label, _, url = entry.partition(",")
                if url.strip():
                    urls[label.strip().lower()] = url.strip()
        except (ImportError, PackageNotFoundError):
            pass
        _URLS = urls
    return _URLS


_FRONT_MATTER = re.compile(r"\A\+\+\+\s*\n(.*?)\n\+\+\+\s*\n", re.S)
_SECTION = re.compile(r"^## +(.+?)\s*$", re.M)
_CODE_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


@dataclass(frozen=True)
class RuleOption:
    """One option of a rule, as declared in its catalogue front matter:
    `default`, `description`, and optionally `items` (the element type of an
    array: "number", "string" or "pair" of numbers) and bounds `min`, `max`,
    `min-exclusive` (numbers, and the numbers inside an array)."""

    name: str
    default: Any
    description: str
    items: Optional[str] = None
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    min_exclusive: bool = False
    choices: Tuple[Any, ...] = ()  # the allowed values of a string option (empty: any)

    def bounds_text(self) -> str:
        """ "> 0", ">= 1 and <= 100", or "" when unbounded."""
        parts = []
        if self.minimum is not None:
            parts.append(f"{'>' if self.min_exclusive else '>='} {self.minimum:g}")
        if self.maximum is not None:
            parts.append(f"<= {self.maximum:g}")
        return " and ".join(parts)

    def in_bounds(self, number: float) -> bool:
        if self.minimum is not None and (number <= self.minimum if self.min_exclusive else number < self.minimum):
            return False
        return self.maximum is None or number <= self.maximum


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
    probe: bool = False  # `hplint probe` measures this rule's findings (front matter `probe = true`)
    fix_summary: str = ""  # the README's fix column when one word is not enough (`fix-summary`)

    @property
    def url(self) -> Optional[str]:
        """The rule document online: `[project.urls] Rules` + `HPL001.md`, or
        None while hplint declares no such URL."""
        base = project_url("Rules")
        return f"{base.rstrip('/')}/{self.code}.md" if base else None

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


_ITEM_TYPES = ("number", "string", "pair")


def _rule_option(name: str, spec: Dict[str, Any]) -> RuleOption:
    items = spec.get("items")
    if items is not None and items not in _ITEM_TYPES:
        raise ValueError(f"option {name}: items must be one of {', '.join(_ITEM_TYPES)}, got {items!r}")
    low, exclusive = spec.get("min"), False
    if "min-exclusive" in spec:
        low, exclusive = spec["min-exclusive"], True
    return RuleOption(name, spec.get("default"), spec.get("description", ""), items=items,
                      minimum=low, maximum=spec.get("max"), min_exclusive=exclusive,
                      choices=tuple(spec.get("choices", ())))


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
    try:
        options = tuple(_rule_option(name, spec) for name, spec in meta.get("options", {}).items())
    except ValueError as exc:
        raise CatalogueError(f"{where}: {exc}") from None
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
            probe=bool(meta.get("probe", False)),
            fix_summary=meta.get("fix-summary", ""),
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


_LOOKALIKE_DIGITS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`."""
    previous2: list = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def suggest_rule(token: str, catalogue: Optional[Dict[str, RuleDoc]] = None) -> Optional[str]:
    """The rule code or name `token` most likely mistypes ("did you mean"),
    or None. A code is suggested one edit away (`HPL0O1` -> `HPL001`, `HPL01`
    -> `HPL001`), a name up to two edits away or one of a third of its length
    (`dropout-before-batchnom`)."""
    docs = load_catalogue() if catalogue is None else catalogue
    key = token.strip()
    code = key.upper()
    lookalike = code[:3] + code[3:].translate(_LOOKALIKE_DIGITS)  # HPL0O1, HPL00l
    if lookalike in docs and lookalike != code:
        return lookalike
    best: Optional[Tuple[int, str]] = None
    for doc in docs.values():
        for candidate, typed, limit in ((doc.code, key.upper(), 1),
                                        (doc.name, key.lower(), max(2, len(doc.name) // 8))):
            d = _distance(typed, candidate.upper() if candidate == doc.code else candidate)
            if d == 0:
                return None  # not a mistake: a rule's own code or name
            if d <= limit and (best is None or d < best[0]):
                best = (d, candidate)
    return best[1] if best else None


def probed_codes(catalogue: Optional[Dict[str, RuleDoc]] = None) -> frozenset:
    """The codes whose documents say `probe = true`: `hplint probe` gives their
    findings a verdict."""
    docs = catalogue if catalogue is not None else load_catalogue()
    return frozenset(code for code, doc in docs.items() if doc.probe)


README_TABLE_START = "<!-- rules-table: generated by `python -m hplint.catalogue --write-readme README.md` -->"
README_TABLE_END = "<!-- /rules-table -->"


def readme_table(catalogue: Optional[Dict[str, RuleDoc]] = None, meta_codes: Tuple[str, ...] = ("HPL000", "HPL100")) -> str:
    """The README's rules table: the rules by code, then the meta codes."""
    docs = catalogue if catalogue is not None else load_catalogue()
    order = sorted(docs, key=lambda code: (code in meta_codes, code))
    rows = ["| code | name | severity | fix |", "|---|---|---|---|"]
    for code in order:
        doc = docs[code]
        fix = doc.fix_summary or ("—" if doc.fix == "none" else doc.fix)
        rows.append(f"| {doc.code} | {doc.name} | {doc.severity} | {fix} |")
    return "\n".join(rows) + "\n"


def replace_readme_table(text: str, table: str) -> str:
    """`text` with the block between the rules-table markers replaced by `table`."""
    start = text.find(README_TABLE_START)
    end = text.find(README_TABLE_END)
    if start < 0 or end < start:
        raise CatalogueError(f"the README has no {README_TABLE_START!r} ... {README_TABLE_END!r} block")
    head = text[:start + len(README_TABLE_START)]
    return f"{head}\n{table}{text[end:]}"


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


def main(argv: Optional[list] = None) -> int:
    """`python -m hplint.catalogue --readme-table` prints the README's rules
    table; `--write-readme README.md` rewrites it in place."""
    import argparse

    from .rules import META_CODES

    parser = argparse.ArgumentParser(prog="python -m hplint.catalogue")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--readme-table", action="store_true", help="print the README's rules table")
    group.add_argument("--write-readme", type=Path, metavar="README", help="rewrite the table in this file")
    args = parser.parse_args(argv)
    table = readme_table(meta_codes=tuple(META_CODES))
    if args.readme_table:
        print(table, end="")
        return 0
    text = args.write_readme.read_text(encoding="utf-8")
    new = replace_readme_table(text, table)
    if new != text:
        args.write_readme.write_text(new, encoding="utf-8")
        print(f"{args.write_readme}: rules table rewritten")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
