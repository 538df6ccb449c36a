"""Benchmark hplint's cold start: what a pre-commit hook or an editor's
"lint on save" pays for every `hplint check one.py`.

Runs `python -m hplint check FILE` and `python -m hplint --version` N times
each, alternating, in fresh processes, and prints the median wall time (with
the spread) next to the target, then the 10 most expensive imports of one
`check` run (`python -X importtime`, cumulative microseconds, self in
brackets). The baseline is `python -c pass`: the interpreter's own start-up,
which no change to hplint can remove. hplint's modules are loaded from .pyc
files, as from an installed package (`--no-bytecode`: no cache at all, every
module compiled every run, an upper bound). `--pythonpath DIR` measures another
copy of hplint (e.g. an older commit exported with `git archive`).

Run: `.venv/bin/python bench/bench_startup.py [--runs 10] [FILE]`.
Aim: `hplint check one.py` < 0.4 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
TARGET_S = 0.4
DEFAULT_FILE = HERE.parent / "examples" / "mlp_dropout_bn.py"


def _env(pythonpath: str, bytecode: bool = True) -> Dict[str, str]:
    env = dict(os.environ, PYTHONPATH=pythonpath, NO_COLOR="1")
    if bytecode:  # as installed: pip writes .pyc files (the warm-up run writes them here)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:  # an empty cache folder, never written: every module (libcst too) compiled every run
        import tempfile

        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="hplint-nopyc-")
    return env


CPU: Dict[str, List[float]] = {}  # label -> CPU seconds (user + system) of each run


def wall(cmd: List[str], env: Dict[str, str], label: str = "") -> float:
    """Wall seconds of one run; its CPU seconds go to CPU[label]. On a shared
    machine CPU time barely moves with the load, wall time does."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if hasattr(os, "wait4"):
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0
        CPU.setdefault(label, []).append(usage.ru_utime + usage.ru_stime)
    else:
        proc.wait()
    return time.perf_counter() - start


def import_costs(cmd: List[str], env: Dict[str, str]) -> List[Tuple[int, int, str]]:
    """(cumulative us, self us, module) of every import of one run."""
    proc = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], env=env, capture_output=True, text=True)
    out = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line or "cumulative" in line:
            continue
        own, cumulative, name = line[len("import time:"):].split("|", 2)
        out.append((int(cumulative), int(own), name.rstrip()))
    return out


def describe(times: List[float], label: str = "") -> str:
    text = f"median {statistics.median(times):.3f} s  (min {min(times):.3f}, max {max(times):.3f}, n={len(times)})"
    cpu = CPU.get(label)
    if cpu:
        text += f"  cpu median {statistics.median(cpu):.3f} s"
    return text


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--pythonpath", default=str(HERE.parent), help="the hplint to measure (default: this checkout)")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="no bytecode cache at all: every module, libcst's too, compiled on every run "
                             "(an upper bound; PYTHONDONTWRITEBYTECODE=1 with an empty PYTHONPYCACHEPREFIX)")
    parser.add_argument("--compare", metavar="DIR",
                        help="also time `hplint check FILE` of the hplint in DIR, interleaved with this one "
                             "(e.g. `git archive <commit> hplint | tar -x -C DIR`)")
    args = parser.parse_args(argv)
    env = _env(args.pythonpath, bytecode=not args.no_bytecode)
    other_env = _env(args.compare, bytecode=not args.no_bytecode) if args.compare else None
    # --no-cache: a cold start lints the file (a result-cache hit never loads libcst
    # or the rules and says nothing about start-up). A compared older copy has no cache.
    check = [sys.executable, "-m", "hplint", "check", "--exit-zero", "--no-cache", str(args.file)]
    other_check = [sys.executable, "-m", "hplint", "check", "--exit-zero", str(args.file)]
    version = [sys.executable, "-m", "hplint", "--version"]
    bare = [sys.executable, "-c", "pass"]
    times: Dict[str, List[float]] = {"check": [], "version": [], "python": [], "compare": []}
    wall(check, env)  # warm the file cache and the .pyc files
    if other_env is not None:
        wall(other_check, other_env)
    for _ in range(args.runs):  # alternating, so machine noise hits all of them alike
        times["check"].append(wall(check, env, "check"))
        if other_env is not None:
            times["compare"].append(wall(other_check, other_env, "compare"))
        times["version"].append(wall(version, env, "version"))
        times["python"].append(wall(bare, env, "python"))
    print(f"hplint from {args.pythonpath}; file {args.file}; "
          f"{'no .pyc (compiled each run)' if args.no_bytecode else 'with .pyc files'}")
    print(f"python -c pass (baseline)      {describe(times['python'], 'python')}")
    print(f"hplint --version               {describe(times['version'], 'version')}")
    median = statistics.median(times["check"])
    verdict = "ok" if median < TARGET_S else "over"
    print(f"hplint check FILE              {describe(times['check'], 'check')}   target < {TARGET_S} s: {verdict}")
    if times["compare"]:
        before = statistics.median(times["compare"])
        print(f"  baseline {args.compare}: {describe(times['compare'], 'compare')}; "
              f"this one takes {median / before:.0%} of its wall time")
    costs = import_costs(check, env)
    top_level = {name.strip() for _, _, name in costs if not name.startswith(" ")}
    print("10 most expensive imports of `hplint check FILE` (cumulative ms [self ms]):")
    for cumulative, own, name in sorted(costs, reverse=True)[:10]:
        mark = "" if name.strip() not in top_level else "  (top level)"
        print(f"  {cumulative / 1000:8.1f} [{own / 1000:6.1f}]  {name.strip()}{mark}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
