"""Benchmark the language server's edit latency, as an editor sees it.

Starts `python -m hplint server` over stdio (a minimal JSON-RPC client on
the process pipes: stdlib only), with `debounce: 0`, opens a generated
realistic training file of 500 / 2,000 / 5,000 lines, then makes 50 edits one
after another (an incremental change of one literal) and times each
didChange -> publishDiagnostics for that version. The baseline is
`Linter.lint_text` on the same texts in this process: the part of the latency
that is linting, the rest being the server's own cost (transport, JSON,
position conversion).

The server tunes the garbage collector (hplint/server/gctune.py); `--gc
default` runs it with CPython's settings instead (HPLINT_SERVER_GC=default),
the "before" of that change. The output names the GC setting and the server's
resident memory (RSS, Linux) after opening each file and after its edits.

Run: `.venv/bin/python bench/bench_server.py [--sizes 500,2000,5000] [--edits 50] [--gc tuned|default]`.
Aim: p95 < 150 ms at 2,000 lines, < 400 ms at 5,000.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

HERE = Path(__file__).resolve().parent
LOG_LEVEL = os.environ.get("HPLINT_BENCH_LOG_LEVEL", "WARNING")  # INFO: the server logs each lint's duration
sys.path.insert(0, str(HERE.parent))

BLOCK = '''

class Block{i}(nn.Module):
    """Stage {i} of the network."""

    def __init__(self, width: int = {w}) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(width, width),
            nn.BatchNorm1d(width),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Linear(width, width, bias=False),
        )
        self.head = nn.Linear(width, 10)

    def forward(self, x):
        x = self.body(x)
        return self.head(F.relu(x))


def make_stage{i}(width={w}):
    layers = [nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
    layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


def train_epoch{i}(model, loader, device, lr={lr}):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999))
    model.train()
    total = 0.0
    for step, (inputs, targets) in enumerate(loader):
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(inputs), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        total += loss.item()
        if step % 100 == 0:
            print(f"stage {i} step {{step}} loss {{loss.item():.4f}}")
    return total / max(len(loader), 1)
'''

HEADER = '''"""Generated training script for the server benchmark."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

EDIT_ME = 0
'''


def training_file(lines: int) -> str:
    parts = [HEADER]
    i = 0
    while sum(p.count("\n") for p in parts) < lines:
        parts.append(BLOCK.format(i=i, w=64 + 8 * (i % 8), lr=f"{1e-3 * (1 + i % 3):g}"))
        i += 1
    text = "".join(parts)
    return "\n".join(text.split("\n")[:lines]) + "\n"


class Client:
    """Just enough JSON-RPC over the server's stdin/stdout."""

    def __init__(self, cmd: List[str], cwd: str, env: Optional[Dict[str, str]] = None) -> None:
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=cwd, env=env)
        self.messages: "queue.Queue[Dict[str, Any]]" = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            body = stream.read(length or 0)
            self.messages.put((time.perf_counter(), json.loads(body)))

    def send(self, payload: Dict[str, Any]) -> float:
        data = json.dumps({"jsonrpc": "2.0", **payload}).encode("utf-8")
        stdin = self.proc.stdin
        assert stdin is not None
        sent = time.perf_counter()
        stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        stdin.flush()
        return sent

    def request(self, method: str, params: Any) -> Dict[str, Any]:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            _, message = self.messages.get(timeout=60)
            if message.get("id") == self.next_id and "method" not in message:
                return message

    def notify(self, method: str, params: Any) -> float:
        return self.send({"method": method, "params": params})

    def wait_diagnostics(self, uri: str, version: int, timeout: float = 60.0):
        deadline = time.monotonic() + timeout
        while True:
            when, message = self.messages.get(timeout=max(deadline - time.monotonic(), 0.01))
            if message.get("method") == "window/showMessage":
                print("server says:", message["params"]["message"], file=sys.stderr)
            if message.get("method") != "textDocument/publishDiagnostics":
                continue
            params = message["params"]
            if params["uri"] == uri and params.get("version") == version:
                return when, params["diagnostics"]

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q / 100 * (len(ordered) - 1)))))
    return ordered[index]


def baseline(text: str, path: Path, runs: int) -> List[float]:
    from hplint.engine import Linter

    linter = Linter()
    linter.lint_text(text, path)  # warm: catalogue, rules
    times = []
    for k in range(runs):
        edited = text.replace("EDIT_ME = 0", f"EDIT_ME = {k + 1}", 1)
        start = time.perf_counter()
        linter.lint_text(edited, path)
        times.append(time.perf_counter() - start)
    return times


def rss_mb(pid: int) -> Optional[float]:
    """Resident memory of a process in MiB (Linux /proc), None elsewhere."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def gc_description(mode: str) -> str:
    if mode == "default":
        import gc

        return f"CPython default thresholds {gc.get_threshold()}, nothing frozen"
    from hplint.server import gctune

    return (f"tuned: thresholds {gctune.THRESHOLDS}, gc.freeze() after start-up and the first lint, "
            f"full collection every {gctune.COLLECT_EVERY} lints, "
            f"full collection + freeze after {gctune.IDLE_S:g} s idle")


def _mb(value: Optional[float]) -> str:
    return "?" if value is None else f"{value:.0f}"


def run(sizes: List[int], edits: int, workdir: Path, gc_mode: str = "tuned", with_baseline: bool = True) -> int:
    env = dict(os.environ, HPLINT_SERVER_GC=gc_mode)
    client = Client([sys.executable, "-m", "hplint", "server", "--log-level", LOG_LEVEL], str(workdir), env)
    print(f"server gc: {gc_description(gc_mode)}")
    root_uri = workdir.resolve().as_uri()
    client.request("initialize", {
        "processId": os.getpid(), "rootUri": root_uri,
        "capabilities": {"textDocument": {"publishDiagnostics": {"versionSupport": True}}},
        "initializationOptions": {"debounce": 0, "run": "onType"},
    })
    client.notify("initialized", {})
    print(f"{'lines':>6} {'findings':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}   "
          f"{'lint_text p50':>13} {'p95':>6}   {'RSS MiB open -> last edit':>25}")
    p95s: Dict[int, float] = {}
    for size in sizes:
        text = training_file(size)
        path = workdir / f"train_{size}.py"
        path.write_text(text, encoding="utf-8")
        uri = path.resolve().as_uri()
        client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}})
        _, diagnostics = client.wait_diagnostics(uri, 1)
        line = text.split("\n").index("EDIT_ME = 0")
        rss_open = rss_mb(client.proc.pid)
        latencies = []
        for k in range(edits):
            version = k + 2
            old, new = f"EDIT_ME = {k}", f"EDIT_ME = {k + 1}"
            sent = client.notify("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": {"line": line, "character": 0},
                                              "end": {"line": line, "character": len(old)}}, "text": new}],
            })
            received, diagnostics = client.wait_diagnostics(uri, version)
            latencies.append(received - sent)
        rss_end = rss_mb(client.proc.pid)
        client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        base = baseline(text, path, edits) if with_baseline else [float("nan")]
        ms = [t * 1000 for t in latencies]
        base_ms = [t * 1000 for t in base]
        print(f"{size:>6} {len(diagnostics):>8} {statistics.median(ms):>8.1f} {percentile(ms, 95):>8.1f} "
              f"{max(ms):>8.1f}   {statistics.median(base_ms):>13.1f} {percentile(base_ms, 95):>6.1f}   "
              f"{_mb(rss_open):>11} -> {_mb(rss_end):>10}", flush=True)
        p95s[size] = percentile(ms, 95)
    client.close()
    for size, aim in ((2000, 150), (5000, 400)):
        if size in p95s:
            verdict = "ok" if p95s[size] < aim else "over"
            print(f"p95 at {size:,} lines: {p95s[size]:.1f} ms (aim < {aim} ms: {verdict})")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="500,2000,5000")
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--gc", choices=("tuned", "default"), default="tuned",
                        help="the server's GC settings: hplint's tuning (default) or CPython's")
    parser.add_argument("--no-baseline", action="store_true", help="skip the in-process lint_text baseline")
    args = parser.parse_args(argv)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="hplint-bench-") as tmp:
        return run([int(s) for s in args.sizes.split(",")], args.edits, Path(tmp), args.gc, not args.no_baseline)


if __name__ == "__main__":
    raise SystemExit(main())
