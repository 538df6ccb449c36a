"""Search spaces written as data: W&B sweep files, Hydra sweeper configs, NNI
search spaces (YAML or JSON). HPL003 and HPL004 get the same analysis as in
Python: the same bound-dependent message fields (`linear_lr_fields`,
`linear_momentum_fields`), the same advice table, severities, suppression
comments (`# hplint: disable=HPL003` on the YAML line) and fixes (the log
spelling of the same format).

Only files with the shape of one of these formats are linted; every other
YAML/JSON file comes back `skipped` (it was never hplint's). A cheap text check
keeps the parse off files that cannot be one.

- W&B: a top-level mapping with `method` and `parameters`; each parameter is
  `{distribution: ..., min, max}`, `{min, max}` (W&B samples uniformly) or
  `{values: [...]}` (a grid; evenly spaced values are a linear grid); nested
  `parameters` are followed.
- Hydra: `hydra.sweeper.params` (or a sweeper config group file: top-level
  `_target_` naming a sweeper, and `params`): `interval(a, b)` vs
  `tag(log, interval(a, b))`, `range(a, b)`, `choice(...)` / `a,b,c` lists;
  the Optuna sweeper's older `search_space` form (`type: float, low, high, log`).
- NNI: a mapping of `{"_type": "uniform"|"loguniform"|..., "_value": [...]}`,
  at the top level or under `searchSpace` / `search_space` of an experiment config.
- Kubeflow Katib: an `Experiment` (`apiVersion: kubeflow.org/...`) whose
  `spec.parameters` give `feasibleSpace: {min, max, distribution}`; without a
  `distribution` Katib samples uniformly.

YAML is read with PyYAML's composer, whose nodes keep line/column marks (JSON
with `hplint.jsonpos`), so positions are exact to the value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

from .analysis.hyperparams import is_learning_rate, is_momentum
from .analysis.search_space import LINEAR, LOG, UNKNOWN_SCALE, Distribution
from .findings import FileResult, Finding, Fix, FixSafety, Span, TextEdit
from .source_text import SourceError
from .sweep_files import MAX_DISCOVERED_BYTES, SUFFIXES, is_sweep_candidate  # noqa: F401 (this module's API)

# Words one of the formats must contain (a cheap gate before any parsing).
_GATE = re.compile(r"\bparameters\b|_type\b|\bsweeper\b|\bsearch_?[sS]pace\b")


# What a broken file must show to be reported as a broken sweep file (HPL000).
_LOOKS_LIKE_ONE = re.compile(r'(?m)^(?:method|hydra|searchSpace|search_space)\s*:|"_type"\s*:|^\s*_type\s*:'
                             r'|^\s*feasibleSpace\s*:'
                             r'|^\s*"method"\s*:\s*"(?:grid|random|bayes)"')
# -- a position-keeping tree for YAML and JSON ---------------------------------------
@dataclass
class DNode:
    kind: str  # "map", "seq", "scalar"
    start: Tuple[int, int]  # 1-based (line, column), columns in code points
    end: Tuple[int, int]
    text: str = ""  # scalars: the scalar's string value
    plain: bool = True  # scalars: unquoted (YAML plain style); a JSON string is quoted
    is_string: bool = True  # scalars: JSON strings / YAML str tags
    members: List[Tuple["DNode", "DNode"]] = field(default_factory=list)
    items: List["DNode"] = field(default_factory=list)
    flow: bool = False  # maps/seqs written inline ({...} / [...]), always for JSON
    json: bool = False

    def get(self, key: str) -> Optional["DNode"]:
        for k, v in self.members:
            if k.kind == "scalar" and k.text == key:
                return v
        return None

    def keys(self) -> List[str]:
        return [k.text for k, _ in self.members if k.kind == "scalar"]

    @property
    def span(self) -> Span:
        return Span(self.start[0], self.start[1], self.end[0], self.end[1])

    @property
    def inner_span(self) -> Span:
        """A quoted scalar without its quotes."""
        if self.kind == "scalar" and not self.plain and self.start[0] == self.end[0]:
            return Span(self.start[0], self.start[1] + 1, self.end[0], self.end[1] - 1)
        return self.span

    def number(self) -> Optional[float]:
        if self.kind != "scalar" or (self.is_string and not self.plain) or isinstance(self.text, bool):
            return None
        if self.json and self.is_string:
            return None
        try:
            value = float(self.text)
        except (TypeError, ValueError):
            return None
        return value if value == value and abs(value) != float("inf") else None


def _from_yaml(node) -> DNode:
    import yaml

    start = (node.start_mark.line + 1, node.start_mark.column + 1)
    end = (node.end_mark.line + 1, node.end_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        return DNode("map", start, end, members=[(_from_yaml(k), _from_yaml(v)) for k, v in node.value],
                     flow=bool(node.flow_style))
    if isinstance(node, yaml.SequenceNode):
        return DNode("seq", start, end, items=[_from_yaml(v) for v in node.value], flow=bool(node.flow_style))
    return DNode("scalar", start, end, text=str(node.value), plain=node.style is None,
                 is_string=node.tag.endswith(":str"))


def _from_json(node, where: Callable[[int], Tuple[int, int]]) -> DNode:
    start, end = where(node.start), where(node.end)
    if node.members is not None:
        members = []
        for key, value in node.members.items():
            key_start = node.key_starts[key]
            key_node = DNode("scalar", where(key_start), where(key_start + len(json.dumps(key))), text=key,
                             plain=False, json=True)
            members.append((key_node, _from_json(value, where)))
        return DNode("map", start, end, members=members, flow=True, json=True)
    if node.items is not None:
        return DNode("seq", start, end, items=[_from_json(v, where) for v in node.items], flow=True, json=True)
    value = node.value
    if isinstance(value, str):
        return DNode("scalar", start, end, text=value, plain=False, json=True)
    return DNode("scalar", start, end, text=json.dumps(value), plain=True, is_string=False, json=True)


class Invalid(Exception):
    """The file does not parse; `error` says why and where."""

    def __init__(self, error: SourceError) -> None:
        super().__init__(error.message)
        self.error = error


def parse_documents(text: str, path: Path) -> List[DNode]:
    """The documents of a YAML or JSON file; raises Invalid."""
    if str(path).lower().endswith(".json"):
        import bisect

        from . import jsonpos
        from .fix.apply import line_starts

        try:
            root = jsonpos.parse(text)
        except jsonpos.JSONPosError as exc:
            raise Invalid(SourceError(f"invalid JSON: {exc.message}", exc.line, exc.col)) from None
        except RecursionError:
            raise Invalid(SourceError("invalid JSON: nested too deeply")) from None
        starts = line_starts(text)

        def where(offset: int) -> Tuple[int, int]:
            line = bisect.bisect_right(starts, offset)
            return line, offset - starts[line - 1] + 1

        return [_from_json(root, where)]
    import yaml

    try:
        return [_from_yaml(doc) for doc in yaml.compose_all(text, Loader=yaml.SafeLoader) if doc is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = exc.problem or exc.context or "invalid YAML"
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        raise Invalid(SourceError(f"invalid YAML: {reason}", line, col)) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise Invalid(SourceError(f"invalid YAML: {exc}")) from None


# -- distributions in the data ---------------------------------------------------------------
@dataclass
class DataDistribution:
    dist: Distribution  # what the Python analysis would have built (kind, scale, bounds)
    name: str  # the key the hyperparameter is classified by (last path component)
    shown: str  # the key as the file writes it (dotted for nested parameters)
    node: DNode  # the flagged value
    fix: Optional[Callable[[], Optional[Fix]]] = None  # HPL003's log rewrite


def _dist(library: str, kind: str, spelling: str, scale: str, low, high, grid_count=None) -> Distribution:
    return Distribution(None, library, kind, spelling, scale, low, high, grid_count=grid_count,
                        step=kind.split(".")[-1].startswith("q_") or kind.endswith(".quniform"))


def _grid_scale(values: Sequence[float]) -> Tuple[str, Optional[float], Optional[float]]:
    """A list of values as a grid: LINEAR when evenly spaced, LOG when each is a
    constant factor from the last, else unknown."""
    if len(values) < 3:
        return UNKNOWN_SCALE, None, None
    ordered = sorted(values)
    lo, hi = ordered[0], ordered[-1]
    if hi <= lo:
        return UNKNOWN_SCALE, None, None
    steps = [b - a for a, b in zip(ordered, ordered[1:])]
    mean = (hi - lo) / len(steps)
    if all(abs(s - mean) <= 1e-3 * mean for s in steps):
        return LINEAR, lo, hi
    if lo > 0:
        ratios = [b / a for a, b in zip(ordered, ordered[1:])]
        if all(abs(r - ratios[0]) <= 1e-2 * ratios[0] for r in ratios):
            return LOG, lo, hi
    return UNKNOWN_SCALE, None, None


def _numbers(nodes: Sequence[DNode]) -> Optional[List[float]]:
    out = [n.number() for n in nodes]
    return None if any(v is None for v in out) else out  # type: ignore[return-value]


def _replace_fix(node: DNode, new: str) -> Fix:
    return Fix("Sample on a log scale", (TextEdit(node.inner_span, new),), FixSafety.SAFE)


def _insert_member_fix(text_lines: List[str], mapping: DNode, key: str, value: str) -> Optional[Fix]:
    """Add `key: value` as the first member of `mapping`."""
    if not mapping.members:
        return None
    first = mapping.members[0][0]
    line, col = first.start
    if mapping.json:
        edit = TextEdit(Span.point(line, col), f"{json.dumps(key)}: {json.dumps(value)}, ")
    elif mapping.flow:
        edit = TextEdit(Span.point(line, col), f"{key}: {value}, ")
    else:
        prefix = text_lines[line - 1][: col - 1] if line - 1 < len(text_lines) else None
        if prefix is None or prefix.strip():
            return None  # `- min: ...`: not a line of its own
        edit = TextEdit(Span.point(line, 1), f"{prefix}{key}: {value}\n")
    return Fix("Sample on a log scale", (edit,), FixSafety.SAFE)


_WANDB_LINEAR = {"uniform": "log_uniform_values", "q_uniform": "q_log_uniform_values", "int_uniform": None}
_WANDB_LOG = {"log_uniform", "log_uniform_values", "q_log_uniform", "q_log_uniform_values",
              "inv_log_uniform", "inv_log_uniform_values"}


def _wandb(root: DNode, lines: List[str]) -> Iterator[DataDistribution]:
    def params(mapping: DNode, prefix: str) -> Iterator[DataDistribution]:
        for key, spec in mapping.members:
            if key.kind != "scalar" or spec.kind != "map":
                continue
            shown = f"{prefix}{key.text}"
            nested = spec.get("parameters")
            if nested is not None and nested.kind == "map":
                yield from params(nested, shown + ".")
                continue
            found = _wandb_param(key, spec, shown, lines)
            if found is not None:
                yield found

    parameters = root.get("parameters")
    if parameters is not None and parameters.kind == "map":
        yield from params(parameters, "")


def _quote(node: DNode, word: str) -> str:
    return f'"{word}"' if node.json else word


def _wandb_param(key: DNode, spec: DNode, shown: str, lines: List[str]) -> Optional[DataDistribution]:
    name = key.text
    distribution = spec.get("distribution")
    low, high = spec.get("min"), spec.get("max")
    values = spec.get("values")
    if distribution is not None and distribution.kind == "scalar" and distribution.text == "categorical":
        distribution = None  # `values` below
    if distribution is not None:
        kind = distribution.text if distribution.kind == "scalar" else ""
        if low is None or high is None:
            return None
        if kind in _WANDB_LINEAR:
            scale = LINEAR
        elif kind in _WANDB_LOG:
            scale = LOG
        else:
            return None
        spelling = f"{_quote(key, 'distribution')}: {_quote(key, kind)}"
        dist = _dist("wandb", f"wandb.{kind}", spelling, scale, low.number(), high.number())
        target = _WANDB_LINEAR.get(kind)
        fix = (lambda: _replace_fix(distribution, target)) if target else None
        return DataDistribution(dist, name, shown, distribution, fix)
    if low is not None and high is not None:
        lo, hi = low.number(), high.number()
        ints = lo is not None and hi is not None and lo.is_integer() and hi.is_integer() and "." not in low.text + high.text
        kind = "int_uniform" if ints else "uniform"
        dist = _dist("wandb", f"wandb.{kind}", "min/max without a distribution, which W&B samples uniformly",
                     LINEAR, lo, hi)
        fix = None if ints else (lambda: _insert_member_fix(lines, spec, "distribution", "log_uniform_values"))
        return DataDistribution(dist, name, shown, key, fix)
    if values is not None and values.kind == "seq":
        numbers = _numbers(values.items)
        if numbers is None:
            return None
        scale, lo, hi = _grid_scale(numbers)
        dist = _dist("wandb", "wandb.values", f"a grid of {len(numbers)} evenly spaced values", scale, lo, hi,
                     grid_count=len(numbers))
        return DataDistribution(dist, name, shown, values)
    return None


# Hydra's override grammar, as far as search spaces go.
_HYDRA_CALL = re.compile(r"^\s*(?P<tags>(?:tag\((?P<taglist>[^()]*),\s*)?)(?P<fn>interval|range|choice)\s*\((?P<args>[^()]*)\)\s*\)?\s*$")


def _hydra_value(key: DNode, value: DNode, shown: str, text_lines: List[str]) -> Optional[DataDistribution]:
    name = shown.rsplit(".", 1)[-1]
    if value.kind == "map":  # Optuna sweeper's `search_space` entries: {type: float, low, high, log}
        kind = value.get("type")
        low, high = value.get("low"), value.get("high")
        if kind is None or kind.text != "float" or low is None or high is None:
            return None
        log = value.get("log")
        scale = LOG if log is not None and log.text.lower() in ("true", "yes", "on") else LINEAR
        dist = _dist("hydra", "hydra.float", "type: float without log: true", scale, low.number(), high.number())
        if log is None:
            fix = lambda: _insert_member_fix(text_lines, value, "log", "true")  # noqa: E731
        else:  # `log: false`
            fix = lambda: _replace_fix(log, "true")  # noqa: E731
        return DataDistribution(dist, name, shown, kind, fix)
    if value.kind == "seq":
        numbers = _numbers(value.items)
        if numbers is None:
            return None
        scale, lo, hi = _grid_scale(numbers)
        return DataDistribution(_dist("hydra", "hydra.choice", f"a choice of {len(numbers)} evenly spaced values",
                                      scale, lo, hi, grid_count=len(numbers)), name, shown, value)
    if value.kind != "scalar" or not value.is_string:
        return None
    raw = value.text
    m = _HYDRA_CALL.match(raw)
    if m is None:
        if "," in raw:  # the basic sweeper's `0.001,0.01,0.1`
            parts = [p.strip() for p in raw.split(",")]
            numbers = [_float(p) for p in parts]
            if any(n is None for n in numbers):
                return None
            scale, lo, hi = _grid_scale(numbers)
            return DataDistribution(_dist("hydra", "hydra.choice", f"a choice of {len(numbers)} evenly spaced values",
                                          scale, lo, hi, grid_count=len(numbers)), name, shown, value)
        return None
    fn = m.group("fn")
    tags = [t.strip() for t in (m.group("taglist") or "").split(",") if t.strip()]
    args = [a.strip() for a in m.group("args").split(",") if a.strip()]
    if fn == "choice":
        numbers = [_float(a) for a in args]
        if any(n is None for n in numbers):
            return None
        scale, lo, hi = _grid_scale(numbers)
        return DataDistribution(_dist("hydra", "hydra.choice", f"choice of {len(numbers)} evenly spaced values",
                                      scale, lo, hi, grid_count=len(numbers)), name, shown, value)
    bounds = [_float(a.split("=", 1)[-1]) for a in args[:2]]
    if len(bounds) < 2 or bounds[0] is None or bounds[1] is None:
        return None
    scale = LOG if "log" in tags else LINEAR
    call = raw.strip()
    dist = _dist("hydra", f"hydra.{fn}", call, scale, bounds[0], bounds[1])
    fix = None
    if not tags and "\n" not in raw and value.start[0] == value.end[0]:
        fix = lambda: _hydra_fix(value, text_lines, m)  # noqa: E731
    return DataDistribution(dist, name, shown, value, fix)


def _hydra_fix(value: DNode, text_lines: List[str], m) -> Optional[Fix]:
    span = value.inner_span
    line = text_lines[span.start_line - 1].rstrip("\r\n")
    raw = line[span.start_col - 1:span.end_col - 1]
    if raw != value.text:
        return None  # escapes in a quoted scalar: positions would not match
    start = m.start("fn")
    end = m.end("args") + 1
    call = raw[start:end]
    edit = TextEdit(Span(span.start_line, span.start_col + start, span.start_line, span.start_col + end),
                    f"tag(log, {call})")
    return Fix("Sample on a log scale", (edit,), FixSafety.SAFE)


def _float(text: str) -> Optional[float]:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _hydra(root: DNode, lines: List[str]) -> Iterator[DataDistribution]:
    sweeper = None
    hydra = root.get("hydra")
    if hydra is not None and hydra.kind == "map":
        sweeper = hydra.get("sweeper")
    if sweeper is None:
        target = root.get("_target_")
        if target is not None and "sweeper" in target.text.lower():
            sweeper = root
    if sweeper is None or sweeper.kind != "map":
        return
    for section in ("params", "search_space"):
        params = sweeper.get(section)
        if params is None or params.kind != "map":
            continue
        for key, value in params.members:
            if key.kind == "scalar":
                found = _hydra_value(key, value, key.text, lines)
                if found is not None:
                    yield found


_NNI_LINEAR = {"uniform": "loguniform", "quniform": "qloguniform"}
_NNI_LOG = {"loguniform", "qloguniform"}


def _nni_space(space: DNode) -> bool:
    specs = [v for _, v in space.members]
    return bool(specs) and all(v.kind == "map" and v.get("_type") is not None for v in specs)


def _nni(root: DNode, lines: List[str]) -> Iterator[DataDistribution]:
    space = None
    if root.kind == "map" and _nni_space(root):
        space = root
    else:
        for key in ("searchSpace", "search_space"):
            candidate = root.get(key)
            if candidate is not None and candidate.kind == "map" and _nni_space(candidate):
                space = candidate
    if space is None:
        return
    for key, spec in space.members:
        kind_node, value = spec.get("_type"), spec.get("_value")
        if kind_node is None or value is None or value.kind != "seq" or key.kind != "scalar":
            continue
        kind = kind_node.text
        spelling = f"{_quote(kind_node, '_type')}: {_quote(kind_node, kind)}"
        if kind in _NNI_LINEAR or kind in _NNI_LOG:
            if len(value.items) < 2:
                continue
            lo, hi = value.items[0].number(), value.items[1].number()
            scale = LINEAR if kind in _NNI_LINEAR else LOG
            target = _NNI_LINEAR.get(kind)
            fix = (lambda node=kind_node, t=target: _replace_fix(node, t)) if target else None
            yield DataDistribution(_dist("nni", f"nni.{kind}", spelling, scale, lo, hi), key.text, key.text,
                                   kind_node, fix)
        elif kind == "choice":
            numbers = _numbers(value.items)
            if numbers is None:
                continue
            scale, lo, hi = _grid_scale(numbers)
            yield DataDistribution(_dist("nni", "nni.choice", f"{spelling} of {len(numbers)} evenly spaced values",
                                         scale, lo, hi, grid_count=len(numbers)), key.text, key.text, value)


# A `normal` is not reported: the messages' shares of samples are those of a uniform draw.
_KATIB_LINEAR = {"uniform": "logUniform"}
_KATIB_LOG = {"logUniform", "logNormal"}


def _katib_experiment(root: DNode) -> bool:
    api, kind = root.get("apiVersion"), root.get("kind")
    return api is not None and kind is not None and api.kind == "scalar" and "kubeflow.org" in str(api.text) \
        and kind.text == "Experiment"


def _katib(root: DNode, lines: List[str]) -> Iterator[DataDistribution]:
    spec = root.get("spec")
    parameters = spec.get("parameters") if spec is not None and spec.kind == "map" else None
    if parameters is None or parameters.kind != "seq":
        return
    for item in parameters.items:
        if item.kind != "map":
            continue
        name, ptype, space = item.get("name"), item.get("parameterType"), item.get("feasibleSpace")
        if name is None or ptype is None or space is None or space.kind != "map" or ptype.text not in ("double", "int"):
            continue
        low, high = space.get("min"), space.get("max")
        if low is None or high is None:
            continue
        distribution = space.get("distribution")
        kind = distribution.text if distribution is not None else "uniform"
        if kind in _KATIB_LOG:
            scale = LOG
        elif kind in _KATIB_LINEAR:
            scale = LINEAR
        else:
            continue
        shown = str(name.text).lstrip("-")  # `--lr`, the flag the trial receives
        if distribution is not None:
            spelling = f"distribution: {kind}"
            target = _KATIB_LINEAR.get(kind)
            fix = (lambda node=distribution, t=target: _unsafe(_replace_fix(node, t))) if target else None
            node = distribution
        else:
            spelling = "feasibleSpace min/max without a distribution, which Katib samples uniformly"
            fix = (lambda s=space: _unsafe(_insert_member_fix(lines, s, "distribution", "logUniform"))) \
                if ptype.text == "double" else None
            node = name
        dist = _dist("katib", f"katib.{kind}", spelling, scale, _float(str(low.text)), _float(str(high.text)))
        yield DataDistribution(dist, shown, shown, node, fix)


def _unsafe(fix: Optional[Fix]) -> Optional[Fix]:
    """Katib reads `distribution` from v0.17 on; an older controller refuses the field."""
    return replace(fix, safety=FixSafety.UNSAFE) if fix is not None else None


def _has_shape(root: DNode) -> bool:
    if root.kind != "map":
        return False
    if _katib_experiment(root):
        return True
    parameters = root.get("parameters")
    if root.get("method") is not None and parameters is not None and parameters.kind == "map":
        return True
    hydra = root.get("hydra")
    if hydra is not None and hydra.kind == "map" and hydra.get("sweeper") is not None:
        return True
    target = root.get("_target_")
    if target is not None and "sweeper" in target.text.lower():
        return True
    if _nni_space(root):
        return True
    return any(root.get(k) is not None and root.get(k).kind == "map" and _nni_space(root.get(k))
               for k in ("searchSpace", "search_space"))


def looks_like_a_sweep(text: str) -> bool:
    """Whether a file that does not parse (or decode) still reads like a sweep
    or search-space file, so that its error is reported (HPL000)."""
    return bool(_GATE.search(text) and _LOOKS_LIKE_ONE.search(text))


def search_space(text: str, path: Path) -> Optional[List[DataDistribution]]:
    """The distributions of a sweep / search-space file, None when the file has
    no such shape; raises Invalid when it looks like one but does not parse."""
    if not _GATE.search(text):
        return None
    try:
        documents = parse_documents(text, path)
    except Invalid:
        if looks_like_a_sweep(text):  # a broken sweep file is reported, any other broken file is not ours
            raise
        return None
    lines = text.splitlines(keepends=True)
    found: List[DataDistribution] = []
    shaped = False
    for root in documents:
        if not _has_shape(root):
            continue
        shaped = True
        if root.get("method") is not None:
            found.extend(_wandb(root, lines))
        found.extend(_hydra(root, lines))
        found.extend(_nni(root, lines))
        if _katib_experiment(root):
            found.extend(_katib(root, lines))
    return found if shaped else None


# -- linting ---------------------------------------------------------------------------------
def _findings(linter, found: List[DataDistribution], path: Path, shown: str, enabled) -> List[Finding]:
    from .rules._search_fixes import advice
    from .rules.hpl003_lr_linear_sampling import linear_lr_fields
    from .rules.hpl004_momentum_linear_sampling import linear_momentum_fields

    config = linter.config_for(path)
    out: List[Finding] = []
    for item in found:
        dist = item.dist
        if dist.scale != LINEAR or dist.low is None or dist.high is None:
            continue
        for code in ("HPL003", "HPL004"):
            doc = linter.catalogue.get(code)
            if code not in enabled or doc is None:
                continue
            min_decades = float(config.option(code, "min-decades"))
            fix = None
            if code == "HPL003":
                extra = config.option(code, "extra-lr-names") or ()
                if not is_learning_rate(item.name, extra):
                    continue
                fields = linear_lr_fields(dist.low, dist.high, min_decades)
                if fields is None:
                    continue
                fields.update(advice=advice(dist))
                fix = item.fix() if item.fix is not None and dist.low > 0 else None
            else:
                extra = config.option(code, "extra-momentum-names") or ()
                if not is_momentum(item.name, extra):
                    continue
                fields = linear_momentum_fields(dist.low, dist.high, min_decades,
                                                dist.grid_count if dist.grid_count else None)
                if fields is None:
                    continue
            fields.update(name=item.shown, spelling=dist.spelling)
            out.append(Finding(code=code, name=doc.name, severity=doc.severity, message=doc.format_message(**fields),
                               path=shown, span=item.node.span, fix=fix,
                               anchor=f"{item.shown}:{dist.kind}:{dist.spelling}"))
    return out


def lint_sweep_text(linter, text: str, path: Path, shown: str) -> FileResult:
    from .suppression import apply_suppressions, parse_suppressions

    try:
        found = search_space(text, path)
    except Invalid as exc:
        return linter.source_error_result(shown, exc.error, text, path)
    if found is None:
        return FileResult(shown, [], text, skipped=True)
    config = linter.config_for(path)
    enabled = config.enabled_codes_for(path)
    findings = _findings(linter, found, path, shown, enabled)
    findings = apply_suppressions(findings, parse_suppressions(text), shown, linter.catalogue,
                                  enabled_codes=enabled)
    findings = sorted((f.with_severity(config.severity_for(f.code, f.severity)) for f in findings),
                      key=lambda f: (f.span.start_line, f.span.start_col, f.code))
    return FileResult(shown, findings, text)


def fix_sweep_text(linter, text: str, path: Path, shown: str, *, unsafe: bool = False, max_passes: int = 5):
    """The fix loop of `hplint.fix.runner`, with "still a valid file of the same
    format" as the guard instead of "still parses as Python"."""
    from .fix.apply import apply_fixes
    from .fix.runner import FixOutcome

    result = linter.lint_text(text, path, shown)
    outcome = FixOutcome(text, text, result)
    for _ in range(max_passes):
        new_text, applied = apply_fixes(outcome.text, outcome.result.findings, unsafe)
        if not applied or new_text == outcome.text:
            break
        try:
            parse_documents(new_text, path)
        except Invalid as exc:
            codes = ", ".join(sorted({f.code for f in applied}))
            outcome.error = (f"internal error: fixes for {codes} on {shown} produced an invalid file "
                             f"({exc.error.message}); those fixes were not applied")
            break
        outcome.result = linter.lint_text(new_text, path, shown)
        outcome.text = new_text
        outcome.fixed.extend(applied)
    if outcome.error:
        outcome.result.errors.append(outcome.error)
    return outcome
