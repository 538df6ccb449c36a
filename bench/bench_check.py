"""Benchmark `hplint check` on a real corpus: the Python sources of the installed
torch package (thousands of files nobody here wrote).

Prints files, lines, wall seconds, lines/s for bare `libcst.parse_module` (the
parsing floor, the named baseline), and for hplint with 1 process and with all
cores, plus peak memory. Run: `make bench` or
`.venv/bin/python bench/bench_check.py [--limit N] [--corpus DIR]`.

The corpus is found on disk without importing torch (importlib.util.find_spec).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def torch_sources() -> Path:
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("bench: torch is not installed in this environment (make venv installs it)")
    return Path(list(spec.submodule_search_locations)[0])


def corpus_files(root: Path, limit: int | None) -> list[Path]:
    from hplint.config import Config
    from hplint.discovery import discover

    files = discover([root], Config()).files
    return files[:limit] if limit else files


def bare_parse(files: list[Path]) -> float:
    import libcst

    start = time.perf_counter()
    for f in files:
        try:
            libcst.parse_module(f.read_bytes())
        except Exception:
            pass
    return time.perf_counter() - start


def hplint_run(files: list[Path], jobs: int) -> tuple[float, int, dict]:
    from hplint.config import Config
    from hplint.engine import Linter

    linter = Linter(Config())
    start = time.perf_counter()
    results = linter.lint_paths(files, jobs=jobs)
    elapsed = time.perf_counter() - start
    counts: dict = {}
    for r in results:
        for f in r.findings:
            counts[f.code] = counts.get(f.code, 0) + 1
    errors = sum(len(r.errors) for r in results)
    return elapsed, errors, counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, help="directory to lint (default: the installed torch package)")
    ap.add_argument("--limit", type=int, help="only the first N files (quick runs)")
    ap.add_argument("--skip-parse", action="store_true", help="skip the bare-parse baseline")
    args = ap.parse_args()
    root = args.corpus or torch_sources()
    files = corpus_files(root, args.limit)
    lines = 0
    for f in files:
        try:
            lines += f.read_bytes().count(b"\n")
        except OSError:
            pass
    cores = os.cpu_count() or 1
    print(f"corpus: {root}")
    print(f"files: {len(files)}  lines: {lines}  cores: {cores}")
    rows = []
    if not args.skip_parse:
        t = bare_parse(files)
        rows.append(("libcst.parse_module (baseline, 1 process)", t))
    t1, e1, counts = hplint_run(files, jobs=1)
    rows.append(("hplint check, 1 process", t1))
    tn, en, _ = hplint_run(files, jobs=cores)
    rows.append((f"hplint check, {cores} processes", tn))
    base = rows[0][1] if not args.skip_parse else None
    print(f"{'run':<45} {'seconds':>9} {'lines/s':>10} {'x parse':>8}")
    for name, t in rows:
        ratio = f"{t / base:8.2f}" if base else "       -"
        print(f"{name:<45} {t:9.2f} {lines / t:10.0f} {ratio}")
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: {peak_self:.0f} MiB (main process), {peak_children:.0f} MiB (largest worker)")
    print(f"internal errors: {e1}")
    print("findings by code: " + (", ".join(f"{c}={n}" for c, n in sorted(counts.items())) or "none"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
