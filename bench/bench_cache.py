"""Benchmark the result cache: `hplint check` cold (cache removed) against warm
(nothing changed) on a ~100k-line tree of training code, in real processes.

The tree is generated, nothing is downloaded: the bundled examples and the
Python test data, copied N times into packages `copy_000/ ...` with every copy
varied (its own constants and a comment naming the copy, so no two files
have the same text and every copy's cross-file imports resolve inside it).
Cold and warm runs alternate `--rounds` times; the medians are printed with
their ratio next to the 20x target of issue #11, plus the floors a warm run
cannot go under (interpreter start-up with `hplint --version`) and what
checking the files costs (stat-only vs reading and hashing every file).

Run: `make bench` or `.venv/bin/python bench/bench_cache.py [--lines N]
[--tree DIR] [--jobs J] [--rounds R]`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TARGET = 20.0


def seed_files() -> list[tuple[str, str]]:
    """(relative path, text) of the training-code-like files one copy holds."""
    out = []
    for top in (REPO / "examples", REPO / "tests" / "data"):
        for path in sorted(top.rglob("*")):
            if path.suffix in (".py", ".ipynb", ".yaml") and path.is_file():
                out.append((str(Path(top.name) / path.relative_to(top)), path.read_text(encoding="utf-8")))
    return out


def build_tree(root: Path, lines: int) -> tuple[int, int]:
    """Copies of the seed files under `root` until about `lines` lines; (files, lines)."""
    seeds = seed_files()
    per_copy = sum(text.count("\n") for _, text in seeds)
    copies = max(1, round(lines / per_copy))
    files = total = 0
    for i in range(copies):
        for rel, text in seeds:
            target = root / f"copy_{i:03d}" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.suffix == ".py":  # varied: its own numbers, its own text
                text = f"# generated copy {i} of {rel}\n" + text.replace("0.5", f"0.{5 + i % 4}")
            target.write_text(text, encoding="utf-8")
            files += 1
            total += text.count("\n")
    return files, total


def hplint(*args: str, cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "hplint", *args], cwd=cwd, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")})
    return time.perf_counter() - start


def check_costs(root: Path) -> tuple[float, float]:
    """Seconds to stat every file, and to read and sha256 every file (warm OS cache)."""
    files = [p for p in root.rglob("*") if p.is_file() and ".hplint" not in p.parts]
    start = time.perf_counter()
    for p in files:
        os.stat(p)
    stat_s = time.perf_counter() - start
    start = time.perf_counter()
    for p in files:
        hashlib.sha256(p.read_bytes()).hexdigest()
    return stat_s, time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", type=Path, help="lint this directory instead of a generated one")
    ap.add_argument("--lines", type=int, default=100_000, help="lines of the generated tree (default 100000)")
    ap.add_argument("--jobs", "-j", type=int, help="hplint's -j (default: all cores)")
    ap.add_argument("--rounds", type=int, default=3, help="cold/warm pairs (default 3)")
    args = ap.parse_args()
    temp = None
    if args.tree is None:
        temp = Path(tempfile.mkdtemp(prefix="hplint-bench-cache-"))
        root = temp / "tree"
        files, lines = build_tree(root, args.lines)
        where = f"generated tree {root}"
    else:
        root = args.tree.resolve()
        found = [p for p in root.rglob("*.py") if ".hplint" not in p.parts]
        files, lines = len(found), sum(p.read_bytes().count(b"\n") for p in found)
        where = f"tree {root}"
    jobs = ["-j", str(args.jobs)] if args.jobs else []
    check = ["check", "--exit-zero", *jobs, "."]
    try:
        print(f"bench_cache: {where}: {files} files, {lines} lines; hplint {' '.join(check)}")
        cold, warm = [], []
        for i in range(args.rounds):
            hplint("clean", cwd=root)
            cold.append(hplint(*check, cwd=root))
            warm.append(hplint(*check, cwd=root))
            print(f"  round {i + 1}: cold {cold[-1]:7.2f} s   warm {warm[-1]:6.3f} s")
        startup = statistics.median(hplint("--version", cwd=root) for _ in range(3))
        stat_s, hash_s = check_costs(root)
        c, w = statistics.median(cold), statistics.median(warm)
        ratio = c / w
        verdict = "meets" if ratio >= TARGET else "MISSES"
        print(f"cold  {c:7.2f} s  ({lines / c:,.0f} lines/s)")
        print(f"warm  {w:7.3f} s  (interpreter start-up alone: {startup:.3f} s)")
        print(f"ratio {ratio:7.1f}x  ({verdict} the {TARGET:.0f}x target)")
        print(f"checking {files} files: stat only {stat_s * 1000:.1f} ms, read + sha256 {hash_s * 1000:.1f} ms")
        return 0
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
