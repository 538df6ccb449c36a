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
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set

from .bootstrap import CONFIG_ENV

GRACE_S = 5.0  # after SIGTERM, time the child gets to write its measurements
RANK_GRACE_S = 10.0  # torchrun: once one rank has stopped, how long the others get to stop too


class _RanksStopped(Exception):
    """One rank ended its probe (e.g. at the end of a fast-forward) while others
    still run, typically blocked in a collective that rank will never join."""


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


class ProbeInterrupted(Exception):
    """The probe itself got SIGTERM or SIGHUP: end the script, then stop."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _become_subreaper() -> bool:
    """Linux: orphaned descendants (a child that called setsid() and whose
    parent died) are re-parented to us instead of init, so they can be found
    and ended. Returns whether that holds."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_CHILD_SUBREAPER = 36
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _children_by_parent() -> Dict[int, List[int]]:
    tree: Dict[int, List[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return tree
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1:
            tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def _descendants(root: int, tree: Dict[int, List[int]]) -> List[int]:
    out, todo = [], [root]
    while todo:
        for child in tree.get(todo.pop(), ()):
            out.append(child)
            todo.append(child)
    return out


def _end_everything(proc: subprocess.Popen, children_before: Set[int]) -> None:
    """SIGKILL the script's process group and every descendant that left it
    (setsid()), including orphans re-parented to us, then reap those."""
    _kill_group(proc.pid, signal.SIGKILL)
    for _ in range(20):  # a process may fork while we look: repeat until none is left
        tree = _children_by_parent()
        ours = [pid for pid in tree.get(os.getpid(), ()) if pid not in children_before and pid != proc.pid]
        victims = set(_descendants(proc.pid, tree)) | set(ours)
        for pid in ours:
            victims.update(_descendants(pid, tree))
        if not victims:
            break
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for pid in ours:  # re-parented orphans are our children now: reap them
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        time.sleep(0.01)


class _SignalsEndTheRun:
    """While the script runs, SIGTERM and SIGHUP to the probe raise
    ProbeInterrupted (like Ctrl-C raises KeyboardInterrupt), so the `finally`
    that ends the script runs. Only the main thread can set handlers."""

    SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))

    def __enter__(self) -> "_SignalsEndTheRun":
        self.previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self.previous[signum] = signal.signal(signum, self._raise)
        return self

    @staticmethod
    def _raise(signum, frame) -> None:
        raise ProbeInterrupted(signum)

    def __exit__(self, *exc) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


def command_for(script: Path, script_args: Sequence[str], nproc: int) -> List[str]:
    if nproc > 1:
        return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
                "-m", "hplint.probe.bootstrap", str(script), *script_args]
    return [sys.executable, "-m", "hplint.probe.bootstrap", str(script), *script_args]


def progress_line(data: Dict[str, Any], left: float) -> str:
    """One status line while the script runs (shown on a terminal only)."""
    if data.get("lr_find") is not None:
        phase = f"lr range test, {data['lr_find']} steps"
    elif data.get("fast_forward"):
        phase = f"fast-forward, {data.get('fast_steps', 0)} steps past the budget"
    else:
        phase = f"step {data.get('steps', 0)}/{data.get('budget', '?')}"
    targets = data.get("targets", 0)
    shown = f", {data.get('exercised', 0)}/{targets} targets exercised" if targets else ""
    return f"hplint probe: {phase}{shown}, {max(0.0, left):.0f} s left"


def _wait(proc: subprocess.Popen, timeout: float, progress: Optional[Path], start: float,
          ranks_dir: Optional[Path] = None) -> None:
    """proc.wait(timeout), drawing a progress line on stderr when `progress` is set;
    with `ranks_dir` (torchrun), raises _RanksStopped when one rank has written its
    measurements and the others have not ended RANK_GRACE_S later."""
    if progress is None and ranks_dir is None:
        proc.wait(timeout=timeout)
        return
    shown = ""
    first_done: Optional[float] = None
    try:
        while True:
            left = timeout - (time.monotonic() - start)
            try:
                proc.wait(timeout=max(0.01, min(0.25, left)))
                return
            except subprocess.TimeoutExpired:
                if left <= 0.01:
                    raise
            if ranks_dir is not None:
                if first_done is None and any(ranks_dir.glob("measurements-*.json")):
                    first_done = time.monotonic()
                elif first_done is not None and time.monotonic() - first_done > RANK_GRACE_S:
                    raise _RanksStopped()
            if progress is None:
                continue
            try:
                data = json.loads(progress.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = {}
            line = progress_line(data, left)
            if line != shown:
                sys.stderr.write("\r\x1b[K" + line)
                sys.stderr.flush()
                shown = line
    finally:
        if shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def run_child(script: Path, script_args: Sequence[str], config: Dict[str, Any], *, timeout: float,
              device: str = "auto", nproc: int = 1, cwd: Optional[Path] = None,
              progress: Optional[bool] = None) -> ChildRun:
    """Run the script under instrumentation; never longer than `timeout` (plus the grace).
    `progress`: a status line on stderr while it runs (default: when stderr is a terminal)."""
    if progress is None:
        progress = sys.stderr.isatty()
    with tempfile.TemporaryDirectory(prefix="hplint-probe-") as tmp:
        tmpdir = Path(tmp)
        progress_path = tmpdir / "progress.json" if progress else None
        config = dict(config, out_dir=str(tmpdir), device=device, started=time.time(), timeout=timeout,
                      progress_path=str(progress_path) if progress_path else None)
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
        timed_out = ranks_stopped = False
        _become_subreaper()
        children_before = set(_children_by_parent().get(os.getpid(), ()))
        with open(log_path, "wb") as log, _SignalsEndTheRun():
            proc = subprocess.Popen(command_for(script, script_args, nproc), stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, env=env,
                                    cwd=str(cwd) if cwd else None, start_new_session=True)
            try:
                _wait(proc, timeout, progress_path, start, tmpdir if nproc > 1 else None)
            except (subprocess.TimeoutExpired, _RanksStopped) as exc:
                timed_out = isinstance(exc, subprocess.TimeoutExpired)
                ranks_stopped = not timed_out
                _kill_group(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=GRACE_S)
                except subprocess.TimeoutExpired:
                    pass
            finally:
                # Whatever is left (DataLoader workers, ranks, a hung child, a
                # descendant that called setsid()) goes now, whatever ended the wait.
                _end_everything(proc, children_before)
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
        # Ranks stopped because another rank's probe had ended are not failures.
        ok = ("stopped", "completed", "timeout") if ranks_stopped else ("stopped", "completed")
        bad = [s for s in statuses if s["status"] not in ok]
        chosen = bad[0] if bad else statuses[0]
        run.status = "stopped" if ranks_stopped and chosen["status"] == "timeout" else chosen["status"]
        run.error = chosen.get("error")
        run.traceback = chosen.get("traceback")
    return run
