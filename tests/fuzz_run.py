"""`make fuzz`: the properties of fuzz_properties.py for a fixed time.

    python tests/fuzz_run.py --seconds 600 [--seed N] [--out DIR] [--seeds DIR ...]

Alternates mutated examples and code generated from Python's grammar
(hypothesmith). `--seeds` adds the `.py` files under folders of real code
(up to 40 KB each) to the sources that get mutated. Prints how many sources of each kind were checked and the
findings they produced; writes each failing source to DIR and exits 1 when
any property failed.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_properties import SEEDS, PropertyFailure, check_source, mutate  # noqa: E402


def _generated():
    import hypothesmith
    from hypothesis.errors import NonInteractiveExampleWarning

    strategies = [hypothesmith.from_grammar(auto_target=False), hypothesmith.from_node(auto_target=False)]
    while True:
        for strategy in strategies:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NonInteractiveExampleWarning)
                yield strategy.example()


def _real_code(folders) -> list:
    out = []
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            try:
                if path.stat().st_size <= 40_000:
                    out.append(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                continue
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--out", type=Path, default=Path(".hplint-fuzz"))
    parser.add_argument("--seeds", type=Path, nargs="*", default=[],
                        help="folders of real code whose .py files are mutated too")
    args = parser.parse_args()
    seeds = list(SEEDS) + _real_code(args.seeds)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    rng = random.Random(seed)
    generated = _generated()
    counts = {"mutated": 0, "generated": 0, "findings": 0, "failures": 0}
    deadline = time.monotonic() + args.seconds
    print(f"fuzzing for {args.seconds:g} s (seed {seed}, {len(seeds)} seed sources)", flush=True)
    with tempfile.TemporaryDirectory(prefix="hplint-fuzz-") as tmp:
        path = Path(tmp) / "fuzz.py"
        while time.monotonic() < deadline:
            kind = "mutated" if counts["mutated"] <= 2 * counts["generated"] else "generated"
            previous = None
            if kind == "mutated":
                previous = rng.choice(seeds)
                text = mutate(previous, rng, rng.randint(1, 4))
            else:
                text = next(generated)
            try:
                counts["findings"] += check_source(text, path, previous=previous)
            except PropertyFailure as exc:
                counts["failures"] += 1
                args.out.mkdir(parents=True, exist_ok=True)
                out = args.out / f"failure-{counts['failures']}.py"
                out.write_text(text, encoding="utf-8", errors="surrogatepass")
                print(f"FAILED ({out}): {str(exc).splitlines()[0]}", flush=True)
            counts[kind] += 1
    print(f"checked {counts['mutated']} mutated and {counts['generated']} generated sources "
          f"({counts['findings']} findings): {counts['failures']} failures")
    return 1 if counts["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
