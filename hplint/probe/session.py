"""One probe: static analysis -> instrumented child run -> verdicts -> report.

`run_probe` is the programmatic entry (tests call it with an explicit target
list to exercise a measurement without depending on the static rules)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from .runner import run_child
from .targets import Target, static_targets
from .verdicts import health_checks, merge_ranks, verdict_for

OK_STATUSES = ("stopped", "completed")


def default_batches(steps: int) -> int:
    """Half the steps per loader pass: one epoch ends (and its evaluation runs)
    before the step limit stops the script."""
    return max(1, (steps + 1) // 2)


def run_probe(script: Path, script_args: Sequence[str] = (), *, steps: int = 20,
              batches_per_loader: Optional[int] = None, timeout: float = 300.0, device: str = "auto",
              nproc: int = 1, targets: Optional[List[Target]] = None, select: Optional[Sequence[str]] = None,
              ) -> Dict[str, Any]:
    script = Path(script)
    abs_script = str(script.resolve())
    texts: Dict[str, str] = {}
    if targets is None:
        targets, _findings, texts = static_targets(script, select)
    user_dirs = sorted({os.path.dirname(abs_script)} | {os.path.dirname(t.path) for t in targets})
    config = {"steps": steps, "batches_per_loader": batches_per_loader or default_batches(steps),
              "targets": [t.to_json() for t in targets], "user_dirs": user_dirs}
    run = run_child(script.resolve(), script_args, config, timeout=timeout, device=device, nproc=nproc)
    measurements = [r.get("measurements") for r in run.ranks if r.get("measurements")]
    primary = measurements[0] if measurements else None
    status = run.status
    if status in OK_STATUSES and primary is not None:
        if not primary.get("optimizers"):
            status, run.error = "no-optimizer", "the script never built a torch.optim optimizer, so there is no training step to probe"
        elif not primary.get("steps"):
            status, run.error = "no-steps", "the script built an optimizer but never called step()"
    verdicts = []
    for i, target in enumerate(targets):
        per_rank = [verdict_for(target, i, m) for m in (measurements or [None])]
        verdicts.append(merge_ranks(per_rank))
    device_used = (primary or {}).get("device")
    if device_used is None and device != "auto":
        # No model reached a device before the script stopped: report what was
        # asked for, marked as such, rather than "unknown device".
        device_used = f"{device} (requested; no model was seen on it)"
    report: Dict[str, Any] = {
        "script": os.path.relpath(abs_script) if not os.path.relpath(abs_script).startswith("..") else abs_script,
        "abs_script": abs_script,
        "device": device_used,
        "steps": (primary or {}).get("steps", 0),
        "status": status,
        "ok": status in OK_STATUSES,
        "error": run.error,
        "traceback": run.traceback,
        "output_tail": run.output_tail if status not in OK_STATUSES else "",
        "elapsed_s": round(run.elapsed, 2),
        "ranks": max(1, len(run.ranks)),
        "requested": {"steps": steps, "batches_per_loader": config["batches_per_loader"],
                      "timeout_s": timeout, "device": device, "nproc_per_node": nproc},
        "findings": [dict(v.to_json(), message=v.message, abs_path=v.abs_path) for v in verdicts],
        "health": [h.to_json() for h in health_checks(primary)],
        "grad_norms": (primary or {}).get("grad_norms", []),
        "update_ratios": (primary or {}).get("update_ratios", []),
        "losses": (primary or {}).get("losses", []),
        "clip_calls": len((primary or {}).get("clip_calls", [])),
    }
    report["_texts"] = texts or {abs_script: _read(abs_script)}
    return report


def _read(path: str) -> str:
    from ..analysis.source import decode_source

    try:
        text = decode_source(Path(path).read_bytes())
    except OSError:
        return ""
    return text if isinstance(text, str) else ""
