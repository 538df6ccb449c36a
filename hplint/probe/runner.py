"""The parent side of a probe run: launch the instrumented child (or torchrun
with one instrumented process per rank), enforce the timeout on the whole
process group, and collect the per-rank measurement files. Torch-free."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from .bootstrap import CONFIG_ENV

GRACE_S = 5.0  # after SIGTERM, time the child gets to write its measurements


@dataclass
class ChildRun:
    """How the child ended and what each rank measured."""

    status: str  # stopped | completed | crashed | missing-data | exited | timeout | no-torch | no-cuda | no-report
    returncode: Optional[int]
    elapsed: float
    ranks: List[Dict[str, Any]] = field(default_factory=list)  # {"status": {...}, "measurements": {...}}
    output_tail: str = ""
    error: Optional[str] = None
    traceback: Optional[str] = None


def _hplint_path() -> str:
    return str(Path(__file__).resolve().parents[2])


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def command_for(script: Path, script_args: Sequence[str], nproc: int) -> List[str]:
    if nproc > 1:
        return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
                "-m", "hplint.probe.bootstrap", str(script), *script_args]
    return [sys.executable, "-m", "hplint.probe.bootstrap", str(script), *script_args]


def run_child(script: Path, script_args: Sequence[str], config: Dict[str, Any], *, timeout: float,
              device: str = "auto", nproc: int = 1, cwd: Optional[Path] = None) -> ChildRun:
    """Run the script under instrumentation; never longer than `timeout` (plus the grace)."""
    with tempfile.TemporaryDirectory(prefix="hplint-probe-") as tmp:
        tmpdir = Path(tmp)
        config = dict(config, out_dir=str(tmpdir), device=device)
        config_path = tmpdir / "config.json"
        config_path.write_text(json.dumps(config), encoding="utf-8")
        env = dict(os.environ)
        env[CONFIG_ENV] = str(config_path)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), _hplint_path()) if p)
        env["PYTHONUNBUFFERED"] = "1"
        if device == "cpu":
            env["CUDA_VISIBLE_DEVICES"] = ""
        log_path = tmpdir / "output.log"
        start = time.monotonic()
        timed_out = False
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(command_for(script, script_args, nproc), stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, env=env,
                                    cwd=str(cwd) if cwd else None, start_new_session=True)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_group(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=GRACE_S)
                except subprocess.TimeoutExpired:
                    pass
            finally:
                # Whatever is left (DataLoader workers, ranks, a hung child) goes now.
                _kill_group(proc.pid, signal.SIGKILL)
                proc.wait()
        elapsed = time.monotonic() - start
        ranks = []
        for path in sorted(tmpdir.glob("measurements-*.json"), key=lambda p: int(p.stem.split("-")[1])):
            try:
                ranks.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
        run = ChildRun("no-report", proc.returncode, elapsed, ranks, _tail(log_path))
    statuses = [r["status"] for r in ranks]
    if timed_out:
        run.status = "timeout"
        run.error = f"the script did not finish its probe steps within --timeout {timeout:g} s and was stopped"
    elif not statuses:
        run.error = "the probe process ended without writing measurements (exit code %s)" % proc.returncode
    else:
        bad = [s for s in statuses if s["status"] not in ("stopped", "completed")]
        chosen = bad[0] if bad else statuses[0]
        run.status = chosen["status"]
        run.error = chosen.get("error")
        run.traceback = chosen.get("traceback")
    return run
