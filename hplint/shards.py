"""Scale-out: `hplint check --shard i/N` and `hplint merge-sarif`.

A shard is the subset of the discovered files whose path, relative to the
project root and written with `/`, hashes (SHA-256, not Python's randomized
`hash()`) to `i - 1` modulo N. So the N shards of one checkout are disjoint,
their union is the whole run, and every machine and every run agrees on which
shard a file is in, whatever order discovery met it in or where the checkout
lives. A shard still reads the other files as dependencies (cross-file rules
see the whole project), so the findings of all shards together are the
findings of the unsharded run.

`merge_sarif` joins the SARIF logs of the shards into one log with one run,
as code scanning wants one run per tool and category: results are
concatenated and sorted by file, `tool.driver.rules` is the
union of the logs' rules and every `ruleIndex` is renumbered against it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

_SPEC = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


class ShardError(ValueError):
    """A malformed `--shard` value or a SARIF log that cannot be merged."""


def parse_shard(text: str) -> Tuple[int, int]:
    """`"2/4"` -> (2, 4); shards are numbered 1..N."""
    match = _SPEC.fullmatch(text or "")
    if match is None:
        raise ShardError(f"--shard expects I/N with whole numbers, 1 <= I <= N (e.g. 1/4), got {text!r}")
    index, total = int(match.group(1)), int(match.group(2))
    if total < 1:
        raise ShardError(f"--shard {text}: the number of shards must be at least 1")
    if not 1 <= index <= total:
        raise ShardError(f"--shard {text}: the shard number must be between 1 and {total} (shards count from 1)")
    return index, total


def shard_key(path: Path, root: Path) -> str:
    """The path as every shard names it: relative to the project root, `/`-separated
    (absolute for a file outside the root)."""
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, os.path.abspath(root))
    chosen = absolute if rel == ".." or rel.startswith(".." + os.sep) else rel
    return chosen.replace(os.sep, "/")


def shard_of(path: Path, root: Path, total: int) -> int:
    """The shard (1..total) `path` belongs to."""
    digest = hashlib.sha256(shard_key(path, root).encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % total + 1


def select_shard(files: Sequence[Path], spec: str, root: Path) -> List[Path]:
    """The files of shard `spec` ("I/N"), in discovery order."""
    index, total = parse_shard(spec)
    return [f for f in files if shard_of(f, root, total) == index]


# -- SARIF -----------------------------------------------------------------------
def _result_file(result: Dict[str, Any]) -> str:
    """The file a result is in. Results are sorted by file only, and stably: a
    file is in one shard, whose log already has its results in hplint's order."""
    try:
        return str(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
    except (KeyError, IndexError, TypeError):
        return ""


def merge_sarif(logs: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """One SARIF log with one run holding the results of all `logs` (each one run of one tool)."""
    if not logs:
        raise ShardError("merge-sarif needs at least one SARIF file")
    runs = []
    for number, log in enumerate(logs, start=1):
        if not isinstance(log, dict) or log.get("version") != "2.1.0" or not isinstance(log.get("runs"), list):
            raise ShardError(f"input {number} is not a SARIF 2.1.0 log")
        runs.extend(log["runs"])
    if not runs:
        raise ShardError("the SARIF files hold no runs")
    names = {run.get("tool", {}).get("driver", {}).get("name") for run in runs}
    if len(names) != 1:
        raise ShardError(f"cannot merge runs of different tools: {', '.join(sorted(map(str, names)))}")
    merged = json.loads(json.dumps(runs[0]))  # a deep copy: the first run gives tool, base ids, column kind
    rules: List[Dict[str, Any]] = []
    index: Dict[str, int] = {}
    results: List[Dict[str, Any]] = []
    for run in runs:
        run_rules = run.get("tool", {}).get("driver", {}).get("rules", [])
        for rule in run_rules:
            if rule.get("id") not in index:
                index[rule["id"]] = len(rules)
                rules.append(rule)
        for result in run.get("results", []):
            result = dict(result)
            if result.get("ruleId") in index:
                result["ruleIndex"] = index[result["ruleId"]]
            results.append(result)
    merged["tool"]["driver"]["rules"] = rules
    merged["results"] = sorted(results, key=_result_file)
    out = {key: value for key, value in logs[0].items() if key != "runs"}
    out["runs"] = [merged]
    return out


def merge_sarif_files(paths: Sequence[Path]) -> Dict[str, Any]:
    logs = []
    for path in paths:
        try:
            logs.append(json.loads(Path(path).read_text(encoding="utf-8")))
        except OSError as exc:
            raise ShardError(f"cannot read {path}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise ShardError(f"{path} is not JSON: {exc}") from None
    return merge_sarif(logs)
