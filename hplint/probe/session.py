"""One probe: static analysis -> instrumented child run -> verdicts -> report.

`run_probe` is the programmatic entry (tests call it with an explicit target
list to exercise a measurement without depending on the static rules)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from .runner import run_child
from .targets import Target, static_targets
from .verdicts import health_checks, lr_find_result, merge_ranks, overfit_result, verdict_for

OK_STATUSES = ("stopped", "completed")


def default_batches(steps: int) -> int:
    """Half the steps per loader pass: one epoch ends (and its evaluation runs)
    before the step limit stops the script."""
    return max(1, (steps + 1) // 2)


def run_probe(script: Path, script_args: Sequence[str] = (), *, steps: int = 20,
              batches_per_loader: Optional[int] = None, timeout: float = 300.0, device: str = "auto",
              nproc: int = 1, targets: Optional[List[Target]] = None, select: Optional[Sequence[str]] = None,
              overfit_batch: int = 0, lr_find: int = 0, lr_bounds: Sequence[float] = (1e-7, 10.0),
              fast_forward: bool = True, progress: Optional[bool] = None,
              ) -> Dict[str, Any]:
    script = Path(script)
    abs_script = str(script.resolve())
    texts: Dict[str, str] = {}
    if targets is None:
        targets, _findings, texts = static_targets(script, select)
    user_dirs = sorted({os.path.dirname(abs_script)} | {os.path.dirname(t.path) for t in targets})
    if overfit_batch:
        steps = overfit_batch
        batches_per_loader = batches_per_loader or overfit_batch
    config = {"steps": steps, "batches_per_loader": batches_per_loader or default_batches(steps),
              "targets": [t.to_json() for t in targets], "user_dirs": user_dirs,
              "overfit_batch": overfit_batch, "lr_find": lr_find, "lr_min": lr_bounds[0], "lr_max": lr_bounds[1],
              "fast_forward": fast_forward}
    run = run_child(script.resolve(), script_args, config, timeout=timeout, device=device, nproc=nproc,
                    progress=progress)
    measurements = [r.get("measurements") for r in run.ranks if r.get("measurements")]
    primary = measurements[0] if measurements else None
    status = run.status
    note = None
    ff = (primary or {}).get("fast_forward") or {}
    if status == "timeout" and ff.get("active"):
        # The training budget was measured; only the fast-forward ran out of time.
        status, run.error = "stopped", None
        note = (f"the training budget ran; fast-forward ({ff.get('steps', 0)} more steps) reached "
                f"--timeout {timeout:g} s before every targeted finding's code ran")
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
    elif device_used is not None and device == "cuda" and not device_used.startswith("cuda"):
        device_used = f"{device_used} (--device cuda was requested, but the script put its model on {device_used})"
    info = (primary or {}).get("device_info") or {}
    if device_used and info:
        if device_used.startswith("cuda") and info.get("name"):
            device_used = f"{device_used} ({info['name']})"
        elif device_used == "cpu" and device == "auto" and not info.get("cuda_available"):
            # The script's own `cuda if available else cpu` fell back: say why.
            device_used = "cpu (no CUDA here: " + (f"torch {info.get('torch')} is a CPU-only build)"
                                                  if not info.get("cuda_build") else "no GPU visible)")
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
        "note": note,
        "stop_reason": (primary or {}).get("stop_reason"),
        "fast_forward": ff or None,
        "device_info": (primary or {}).get("device_info"),
        "grad_norms_clipped": (primary or {}).get("grad_norms_clipped", []),
        "step_batches": (primary or {}).get("step_batches", []),
        "noise": (primary or {}).get("noise", []),
        "bn_layers": (primary or {}).get("bn_layers", []),
        "world_size": (primary or {}).get("world_size", 1),
    }
    if overfit_batch:
        report["overfit"] = overfit_result(report["losses"], overfit_batch, (primary or {}).get("batches_served", 0))
    if lr_find:
        data = (primary or {}).get("lr_find")
        if data is not None:
            opts = (primary or {}).get("optimizers") or []
            data = dict(data, lrs_after=opts[0].get("lrs") if opts else None)
        report["lr_find"] = lr_find_result(data)
    report["_texts"] = texts or {abs_script: _read(abs_script)}
    return report


def _read(path: str) -> str:
    from ..analysis.source import decode_source

    try:
        text = decode_source(Path(path).read_bytes())
    except OSError:
        return ""
    return text if isinstance(text, str) else ""
