"""Probe overhead per training step: the same CPU training script timed by itself
(plain `python`) and under `hplint probe` (hooks on the flagged layers, gradient
norm and update ratio every step). Prints the per-step medians and their ratio;
the aim is under 1.5x.

    python bench/bench_probe.py [--steps 60] [--hidden 512] [--batch 256] [--repeat 1]

On a shared machine, --repeat R alternates plain and probed runs R times and
keeps each side's lowest median (the run least disturbed by other load).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent('''
    import os, time
    import torch
    import torch.nn as nn
    torch.manual_seed(0)
    torch.set_num_threads(1)
    H, B = {hidden}, {batch}
    model = nn.Sequential(nn.Linear(128, H), nn.ReLU(), nn.Dropout(0.5), nn.BatchNorm1d(H),
                          nn.Linear(H, H), nn.BatchNorm1d(H), nn.ReLU(), nn.Linear(H, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(B, 128), torch.randint(0, 10, (B,))
    out = open(os.environ["BENCH_TIMES"], "a")
    for step in range({steps}):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        try:
            opt.step()
        finally:
            out.write(f"{{time.perf_counter() - t0}}\\n"); out.flush()
''')


def run(cmd, times: Path, warmup: int):
    if times.exists():
        times.unlink()
    env = dict(os.environ, BENCH_TIMES=str(times))
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    values = [float(v) for v in times.read_text().split()]
    return values[warmup:]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=1, help="alternate plain/probed runs this many times")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "train.py"
        script.write_text(SCRIPT.format(hidden=args.hidden, batch=args.batch, steps=args.steps))
        times = Path(tmp) / "times.txt"
        medians = {"plain": [], "probed": []}
        for _ in range(max(1, args.repeat)):
            plain = run([sys.executable, str(script)], times, args.warmup)
            probed = run([sys.executable, "-m", "hplint", "probe", str(script), "--steps", str(args.steps),
                          "--device", "cpu", "--no-save", "--output-format", "json"], times, args.warmup)
            medians["plain"].append(statistics.median(plain))
            medians["probed"].append(statistics.median(probed))
    a, b = min(medians["plain"]), min(medians["probed"])
    print(f"model: MLP 128-{args.hidden}-{args.hidden}-10 with Dropout->BatchNorm, batch {args.batch}, CPU, 1 thread")
    print(f"plain   : median {a * 1e3:.2f} ms/step over {len(plain)} steps")
    print(f"probed  : median {b * 1e3:.2f} ms/step over {len(probed)} steps")
    print(f"overhead: {b / a:.2f}x per step (aim < 1.5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
