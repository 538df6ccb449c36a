"""Benchmark `hplint check`'s engine on a real corpus against the targets of
issue 14: the time of one process next to the bare `libcst.parse_module` of
the same files (<= 1.5x), peak memory of the main process and of every worker
(< 500 MB), and the CPU seconds of -jN against -j1 (<= 1.05).

Corpora: the Python sources of the installed torch package (default: 2,285
files, 1.2M lines nobody here wrote, found on disk without importing torch),
`--generated` (bench_cache.py's ~100k-line tree: examples/ and tests/data
copied and varied, which is training code with many findings), or `--corpus
DIR`. `--limit N` takes every k-th file so that N files spread over the whole
corpus (a quick, representative run; cross-file imports then reach files
outside the subset, which costs a little more than the full run).

Every measurement runs in a fresh process (the parse, -j1, -jN), so that peak
memory (ru_maxrss of the process, and of its largest worker from
RUSAGE_CHILDREN) is that run's alone. Ratios are of CPU seconds (user +
system, the workers' included), which a shared machine's load hardly moves;
wall seconds are printed too. Findings of -j1 and -jN are compared.

Run: `make bench` or `.venv/bin/python bench/bench_check.py [--limit N]
[--generated | --corpus DIR] [--jobs N]`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

PARSE_RATIO_TARGET = 1.5
MEMORY_TARGET_MB = 500
CPU_RATIO_TARGET = 1.05


def torch_sources() -> Path:
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("bench: torch is not installed in this environment (make venv installs it)")
    return Path(list(spec.submodule_search_locations)[0])


def corpus_files(root: Path, limit: int | None) -> list[Path]:
    """The files `hplint check ROOT` lints; torch lives in .venv, which the
    repository's .gitignore lists, so ignore files are not read here."""
    from hplint.config import Config
    from hplint.discovery import discover

    files = discover([root], Config(respect_gitignore=False)).files
    if limit and limit < len(files):
        step = len(files) / limit
        files = [files[int(i * step)] for i in range(limit)]
    return files


def _parse_input(path: Path):
    """What the bare parse reads for one file: its bytes, or for a notebook
    the code cells joined as hplint lints them (parsing the JSON itself as a
    Python dict would measure the outputs, not the code). Read before the
    clock starts; hplint's run includes its reading, so the ratio errs against it."""
    data = path.read_bytes()
    if path.suffix != ".ipynb":
        return data
    from hplint.notebook import Notebook, read_notebook, virtual_module

    nb = read_notebook(data.decode("utf-8", errors="replace"))
    return virtual_module(nb).text if isinstance(nb, Notebook) and nb.python else ""


def _usage() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def measure(kind: str, files: list[Path], jobs: int) -> dict:
    """One measurement, in this (fresh) process."""
    if kind == "parse":
        import libcst

        sources = [_parse_input(f) for f in files]
        cpu0, _ = _usage()
        start = time.perf_counter()
        for source in sources:
            try:
                libcst.parse_module(source)
            except Exception:
                pass
        findings: list = []
        errors = 0
    else:
        from hplint.config import Config
        from hplint.engine import Linter

        linter = Linter(Config())
        cpu0, _ = _usage()
        start = time.perf_counter()
        results = linter.lint_paths(files, jobs=jobs)
        findings = sorted((r.path, f.code, f.span.start_line, f.span.start_col, f.message)
                          for r in results for f in r.findings)
        errors = sum(len(r.errors) for r in results)
    wall = time.perf_counter() - start
    own, kids = _usage()
    return {"wall": wall, "cpu": own - cpu0 + kids,
            "rss_main": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rss_worker": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "findings": findings, "errors": errors}


def run_measurement(kind: str, file_list: Path, jobs: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--measure", kind, "--file-list", str(file_list),
                           "--jobs", str(jobs)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"bench: the {kind} run failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def verdict(ok: bool) -> str:
    return "ok" if ok else "OVER"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--corpus", type=Path, help="directory to lint (default: the installed torch package)")
    group.add_argument("--generated", action="store_true",
                       help="bench_cache.py's generated ~100k-line tree of training code (examples/, tests/data)")
    ap.add_argument("--lines", type=int, default=100_000, help="size of the --generated tree")
    ap.add_argument("--limit", type=int, help="only N files, spread evenly over the corpus (quick runs)")
    ap.add_argument("--jobs", type=int, default=max(os.cpu_count() or 1, 2), help="workers of the -jN run")
    ap.add_argument("--skip-parse", action="store_true", help="skip the bare-parse baseline")
    ap.add_argument("--measure", choices=("parse", "hplint"), help=argparse.SUPPRESS)
    ap.add_argument("--file-list", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        files = [Path(line) for line in args.file_list.read_text(encoding="utf-8").splitlines()]
        print(json.dumps(measure(args.measure, files, args.jobs)))
        return 0
    with tempfile.TemporaryDirectory(prefix="hplint-bench-") as tmp:
        if args.generated:
            from bench_cache import build_tree

            root = Path(tmp) / "tree"
            build_tree(root, args.lines)
            name = f"generated tree ({args.lines} lines asked: examples/ and tests/data, copied and varied)"
        else:
            root = args.corpus or torch_sources()
            name = str(root)
        files = corpus_files(root, args.limit)
        return report(name, files, args, Path(tmp))


def report(name: str, files: list[Path], args, tmp: Path) -> int:
    lines = 0
    for f in files:
        try:
            lines += f.read_bytes().count(b"\n")
        except OSError:
            pass
    file_list = tmp / "files.txt"
    file_list.write_text("".join(f"{f}\n" for f in files), encoding="utf-8")
    python = [f for f in files if f.suffix == ".py"]
    notebooks = [f for f in files if f.suffix == ".ipynb"]
    code_list = tmp / "code.txt"
    code_list.write_text("".join(f"{f}\n" for f in python + notebooks), encoding="utf-8")
    from hplint.config import ALWAYS_ENABLED, Config

    tests = sum(1 for f in files if not Config().enabled_codes_for(f) - ALWAYS_ENABLED)
    print(f"corpus: {name}")
    print(f"files: {len(files)} ({len(python)} Python, {len(notebooks)} notebooks; {tests} test files, which "
          f"get only Python's syntax check)  lines: {lines}  cores: {os.cpu_count()}")
    runs = []
    if not args.skip_parse:
        # The parse baseline gets the code hplint lints: Python files and notebooks'
        # code cells (read before its clock starts); hplint gets the whole corpus,
        # sweep files too (a few percent of --generated, none elsewhere).
        runs.append(("libcst.parse_module, 1 process", run_measurement("parse", code_list, 1)))
    one = run_measurement("hplint", file_list, 1)
    runs.append(("hplint, 1 process (-j 1)", one))
    many = run_measurement("hplint", file_list, args.jobs)
    runs.append((f"hplint, {args.jobs} processes (-j {args.jobs})", many))
    base = runs[0][1] if not args.skip_parse else None
    print(f"{'run':<36} {'wall s':>8} {'cpu s':>8} {'lines/cpu s':>12} {'x parse':>8} {'peak MiB: main':>15} {'worker':>7}")
    for label, m in runs:
        ratio = f"{m['cpu'] / base['cpu']:8.2f}" if base else "       -"
        worker = f"{m['rss_worker']:7.0f}" if m is many else "      -"
        print(f"{label:<36} {m['wall']:8.2f} {m['cpu']:8.2f} {lines / max(m['cpu'], 1e-9):12.0f} {ratio} "
              f"{m['rss_main']:15.0f} {worker}")
    print("targets (issue 14):")
    if base:
        ratio = one["cpu"] / base["cpu"]
        print(f"  1 process / bare parse (CPU)      {ratio:6.2f}x    target <= {PARSE_RATIO_TARGET}x   "
              f"{verdict(ratio <= PARSE_RATIO_TARGET)}")
    peak = max(one["rss_main"], many["rss_main"], many["rss_worker"])
    print(f"  peak memory of any process        {peak:6.0f} MiB  target < {MEMORY_TARGET_MB} MB   "
          f"{verdict(peak * 1.048576 < MEMORY_TARGET_MB)}  (-j 1: {one['rss_main']:.0f}; -j {args.jobs}: main "
          f"{many['rss_main']:.0f}, largest worker {many['rss_worker']:.0f})")
    cpu_ratio = many["cpu"] / one["cpu"]
    print(f"  CPU -j {args.jobs} / -j 1                   {cpu_ratio:6.2f}     target <= {CPU_RATIO_TARGET}    "
          f"{verdict(cpu_ratio <= CPU_RATIO_TARGET)}")
    print("  cold start: bench/bench_startup.py (make bench runs it)")
    same = one["findings"] == many["findings"]
    print(f"findings: {len(one['findings'])}, the same with -j 1 and -j {args.jobs}: {'yes' if same else 'NO'}; "
          f"internal errors: {one['errors']}")
    counts: dict = {}
    for _, code, *_rest in one["findings"]:
        counts[code] = counts.get(code, 0) + 1
    print("findings by code: " + (", ".join(f"{c}={n}" for c, n in sorted(counts.items())) or "none"))
    return 0 if same and not one["errors"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
