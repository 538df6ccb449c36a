"""The probe report: a readable text form (with a gradient-norm sparkline) and
the JSON document `--output-format json` prints and the store keeps."""

from __future__ import annotations

import json
import math
from typing import Any, Dict, Sequence

from .verdicts import CONFIRMED, NOT_CONFIRMED, grad_norm_stats

BARS = "▁▂▃▄▅▆▇█"
_STATUS_TEXT = {
    "stopped": "stopped after {steps} measured optimizer steps (--steps)",
    "completed": "the script ended on its own after {steps} optimizer steps",
    "timeout": "killed at the timeout after {steps} optimizer steps",
    "crashed": "the script crashed after {steps} optimizer steps",
    "missing-data": "the script needs data it cannot find",
    "exited": "the script exited with an error after {steps} optimizer steps",
    "no-torch": "torch is not installed in the script's environment",
    "no-cuda": "CUDA was requested but is not available",
    "no-report": "the probe process died without a report",
    "no-optimizer": "the script never built an optimizer",
    "no-steps": "the script built an optimizer but never stepped it",
}


def sparkline(values: Sequence[Any], width: int = 60) -> str:
    """One block character per step (bucket maxima past `width`); non-finite as '!'."""
    vals = list(values)
    if len(vals) > width:
        size = math.ceil(len(vals) / width)
        vals = [_bucket_max(vals[i:i + size]) for i in range(0, len(vals), size)]
    finite = [v for v in vals if isinstance(v, (int, float)) and math.isfinite(v)]
    if not finite:
        return "!" * len(vals)
    lo, hi = min(finite), max(finite)
    out = []
    for v in vals:
        if not (isinstance(v, (int, float)) and math.isfinite(v)):
            out.append("!")
        elif hi == lo:
            out.append(BARS[len(BARS) // 2])
        else:
            out.append(BARS[min(len(BARS) - 1, int((v - lo) / (hi - lo) * len(BARS)))])
    return "".join(out)


def _bucket_max(chunk):
    finite = [v for v in chunk if isinstance(v, (int, float)) and math.isfinite(v)]
    return max(finite) if len(finite) == len(chunk) else "nan"


def status_line(report: Dict[str, Any]) -> str:
    text = _STATUS_TEXT.get(report["status"], report["status"]).format(steps=report["steps"])
    return text


def render_text(report: Dict[str, Any]) -> str:
    lines = [f"hplint probe: {report['script']} on {report.get('device') or 'a device not measured (no model was seen)'}"
             + (f" ({report['ranks']} ranks)" if report.get("ranks", 1) > 1 else "")
             + f" — {status_line(report)}, {report['elapsed_s']:.1f} s"]
    if report.get("notebook_note"):
        lines.append(f"  note: {report['notebook_note']}")
    ff = report.get("fast_forward") or {}
    if ff.get("active"):
        lines.append(f"  fast-forward: {ff.get('steps', 0)} more steps ({ff.get('loader_passes', 0)} loader passes "
                     f"of one batch, {ff.get('seconds', 0):.1f} s) until the evaluation code with a finding ran")
    if report.get("note"):
        lines.append(f"  note: {report['note']}")
    if report.get("error"):
        lines.append(f"  error: {report['error']}")
    if report.get("traceback"):
        lines.extend("  | " + l for l in report["traceback"].splitlines())
    elif report.get("output_tail") and report["status"] not in ("stopped", "completed"):
        lines.append("  last output:")
        lines.extend("  | " + l for l in report["output_tail"].splitlines()[-10:])
    norms = report.get("grad_norms") or []
    if norms:
        stats = grad_norm_stats(norms)
        lines.append("")
        lines.append(f"gradient norm per step  {sparkline(norms)}")
        if stats:
            lines.append(f"  min {min(v for v in norms if isinstance(v, (int, float))):.3g}, "
                         f"median {stats['median']:.3g}, max {stats['max']:.3g}")
    findings = report.get("findings") or []
    lines.append("")
    if not findings:
        lines.append("No findings to confirm (hplint check found nothing the probe measures).")
    for f in findings:
        mark = {CONFIRMED: "CONFIRMED", NOT_CONFIRMED: "not confirmed"}.get(f["verdict"], "not exercised")
        where = f"{f['path']}:cell {f['cell']}" if f.get("cell") is not None else f["path"]  # notebooks
        lines.append(f"{where}:{f['line']}:{f['column']}: {f['code']} {mark}: {f['summary']}")
    overfit = report.get("overfit")
    if overfit:
        lines.append("")
        mark = {True: "passed", False: "FAILED", None: "not measured"}[overfit.get("passed")]
        lines.append(f"overfit one batch: {mark}: {overfit.get('detail', '')}")
        if overfit.get("losses"):
            lines.append(f"  loss per step  {sparkline(overfit['losses'])}")
        lines.append(f"  criterion: {overfit['criterion']}")
    lr = report.get("lr_find")
    if lr:
        lines.append("")
        lines.append(f"lr range test: {lr.get('detail', '')}" + (f" ({lr['note']})" if lr.get("note") else ""))
        if lr.get("restored"):
            lines.append("  model, optimizer state and learning rate restored; the probe steps ran after it")
    health = report.get("health") or []
    if health:
        lines.append("")
        lines.append("health:")
        for h in health:
            lines.append(f"  {h['status']:<8} {h['check']}: {h['detail']}")
    counts = {v: sum(f["verdict"] == v for f in findings) for v in (CONFIRMED, NOT_CONFIRMED)}
    lines.append("")
    lines.append(f"{counts[CONFIRMED]} confirmed, {counts[NOT_CONFIRMED]} not confirmed, "
                 f"{len(findings) - sum(counts.values())} not exercised.")
    if report.get("saved_to"):
        lines.append(f"Report saved to {report['saved_to']} (hplint check marks confirmed findings).")
    return "\n".join(lines) + "\n"


def render_json(report: Dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
