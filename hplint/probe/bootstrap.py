"""The child process: `python -m hplint.probe.bootstrap SCRIPT ARGS...`.

Installs the instrumentation, runs the script as `__main__` (as `python
SCRIPT` would), and always writes a measurements file, whatever way the run
ends: the step limit (ProbeStop), the script's own end, a crash, or the
parent's SIGTERM at the timeout. Under torchrun every rank writes its own file.
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import sys
import time
import traceback
from pathlib import Path

CONFIG_ENV = "HPLINT_PROBE_CONFIG"


class ProbeTimeout(BaseException):
    """SIGTERM from the parent at the timeout."""


def _on_term(signum, frame):
    raise ProbeTimeout()


def _traceback_tail(exc: BaseException, lines: int = 12) -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    entries = [e for e in traceback.extract_tb(exc.__traceback__)
               if not e.filename.startswith(here) and "runpy" not in e.filename]
    text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(entries))
    text += "".join(traceback.format_exception_only(type(exc), exc))
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _script_line(exc: BaseException, script: str):
    """The innermost line of the script itself in the exception's traceback."""
    line = None
    for entry in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(entry.filename) == script:
            line = entry.lineno
    return line


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: python -m hplint.probe.bootstrap SCRIPT [ARGS...]", file=sys.stderr)
        return 2
    config = json.loads(Path(os.environ[CONFIG_ENV]).read_text(encoding="utf-8"))
    rank = int(os.environ.get("RANK", "0"))
    out = Path(config["out_dir"]) / f"measurements-{rank}.json"
    script = os.path.abspath(sys.argv[1])
    status = {"rank": rank, "status": "crashed", "started": time.time()}
    signal.signal(signal.SIGTERM, _on_term)
    recorder = None
    try:
        try:
            import torch
        except ImportError:
            status.update(status="no-torch", error="torch is not installed in this environment "
                          "(pip install 'hplint[probe]')")
            return 0
        if config.get("device") == "cuda" and not torch.cuda.is_available():
            build = torch.version.cuda
            why = (f"torch {torch.__version__} is a CPU-only build" if not build else
                   f"torch {torch.__version__} (CUDA {build}) sees no GPU"
                   + (" (CUDA_VISIBLE_DEVICES is empty)" if os.environ.get("CUDA_VISIBLE_DEVICES") == "" else ""))
            status.update(status="no-cuda", error=f"--device cuda: CUDA is not available here: {why}; "
                          "nothing ran (use --device cpu or auto to probe on the CPU)")
            return 0
        from .instrument import ProbeStop, install

        recorder = install(config)
        sys.argv = [script] + sys.argv[2:]
        sys.path[0] = os.path.dirname(script)
        try:
            runpy.run_path(script, run_name="__main__")
            status["status"] = "completed"
        except ProbeStop:
            status["status"] = "stopped"
        except ProbeTimeout:
            status["status"] = "timeout"
        except SystemExit as exc:
            code = exc.code
            status["exit_line"] = _script_line(exc, script)
            if code in (None, 0):
                status["status"] = "completed"
            else:
                status.update(status="exited", exit_code=code if isinstance(code, int) else 1,
                              error=str(code) if not isinstance(code, int) else f"exit code {code}")
            status["exit_line"] = _script_line(exc, script)
        except BaseException as exc:  # the script crashed: report it, do not re-raise
            missing = isinstance(exc, FileNotFoundError)
            status.update(status="missing-data" if missing else "crashed",
                          error=f"{type(exc).__name__}: {exc}", traceback=_traceback_tail(exc),
                          exit_line=_script_line(exc, script))
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            recorder.finish()
        except Exception as exc:
            status["finish_error"] = f"{type(exc).__name__}: {exc}"
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        status["ended"] = time.time()
        measurements = recorder.measurements() if recorder is not None else None
        if measurements is not None:  # the verdicts' "why not exercised" needs how the run ended
            measurements["end"] = {k: status.get(k) for k in ("status", "exit_line", "exit_code")}
        data = {"status": status, "measurements": measurements}
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, out)


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
