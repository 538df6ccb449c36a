"""`--report report.html`: one self-contained page (no external URL: styles
inline, the figure as a base64 PNG, or inline SVG sparklines without
matplotlib) with the verdicts, their figures, the health checks and the
overfit / learning-rate tests."""

from __future__ import annotations

import base64
import html
import json
import math
from typing import Any, Dict, List, Sequence

from .render import status_line

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px}
.meta{color:#555} table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #ddd;padding:6px 8px;
text-align:left;vertical-align:top} th{background:#f5f5f5}
.v{font-weight:600;white-space:nowrap;border-radius:4px;padding:1px 6px}
.confirmed{background:#fdecea;color:#b71c1c} .not-confirmed{background:#e8f5e9;color:#1b5e20}
.not-exercised{background:#eceff1;color:#455a64} .ok{color:#1b5e20} .warning{color:#e65100}
.failed{color:#b71c1c} .skipped{color:#777} details{margin-top:4px} pre{background:#f7f7f7;padding:8px;
overflow:auto;font-size:12px} img{max-width:100%;border:1px solid #eee} .msg{color:#555;font-size:12px}
code{font-size:12px}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def svg_line(values: Sequence[Any], width: int = 320, height: int = 60, log: bool = False) -> str:
    """A small inline SVG line of `values` (non-finite values leave gaps)."""
    pts = []
    for i, v in enumerate(values):
        if isinstance(v, (int, float)) and math.isfinite(v) and (v > 0 or not log):
            pts.append((i, math.log10(v) if log else float(v)))
    if len(pts) < 2:
        return ""
    lo, hi = min(p[1] for p in pts), max(p[1] for p in pts)
    span = (hi - lo) or 1.0
    n = max(1, len(values) - 1)
    coords = " ".join(f"{2 + (width - 4) * i / n:.1f},{height - 2 - (height - 4) * (v - lo) / span:.1f}"
                      for i, v in pts)
    return (f'<svg width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img"><polyline fill="none" stroke="#1f77b4" '
            f'stroke-width="1.5" points="{coords}"/></svg>')


def _figures(measurements: Dict[str, Any]) -> str:
    keep = {k: v for k, v in measurements.items() if not isinstance(v, list) or len(v) <= 12}
    return _e(json.dumps(keep, indent=1, default=str))


def render_html(report: Dict[str, Any], png: bytes = b"") -> str:
    findings = report.get("findings") or []
    counts = {v: sum(f["verdict"] == v for f in findings) for v in ("confirmed", "not confirmed", "not exercised")}
    out: List[str] = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
                      f"<title>hplint probe: {_e(report.get('script', ''))}</title>",
                      f"<style>{_CSS}</style></head><body>",
                      f"<h1>hplint probe: {_e(report.get('script', ''))}</h1>",
                      f"<div class=meta>on {_e(report.get('device') or 'a device not measured')} — "
                      f"{_e(status_line(report))}, {float(report.get('elapsed_s', 0)):.1f} s. "
                      f"{counts['confirmed']} confirmed, {counts['not confirmed']} not confirmed, "
                      f"{counts['not exercised']} not exercised.</div>"]
    for key in ("note", "error"):
        if report.get(key):
            out.append(f"<p><b>{key}:</b> {_e(report[key])}</p>")
    if report.get("traceback"):
        out.append(f"<pre>{_e(report['traceback'])}</pre>")
    out.append("<h2>Verdicts</h2>")
    if not findings:
        out.append("<p>No findings to confirm (hplint check found nothing the probe measures).</p>")
    else:
        out.append("<table><tr><th>rule</th><th>where</th><th>verdict</th><th>what the probe measured</th></tr>")
        for f in findings:
            cls = f["verdict"].replace(" ", "-")
            out.append(f"<tr><td><b>{_e(f['code'])}</b></td><td><code>{_e(f['path'])}:{f['line']}:{f['column']}</code></td>"
                       f"<td><span class='v {cls}'>{_e(f['verdict'])}</span></td><td>{_e(f['summary'])}"
                       f"<div class=msg>{_e(f.get('message', ''))}</div>"
                       f"<details><summary>figures</summary><pre>{_figures(f.get('measurements') or {})}</pre>"
                       "</details></td></tr>")
        out.append("</table>")
    overfit = report.get("overfit")
    if overfit:
        out.append("<h2>Overfit one batch</h2>")
        out.append(f"<p>{_e(overfit.get('detail', ''))}. Criterion: {_e(overfit.get('criterion', ''))}.</p>")
        out.append(svg_line(overfit.get("losses") or [], log=True))
    lr = report.get("lr_find")
    if lr:
        out.append("<h2>Learning-rate range test</h2>")
        out.append(f"<p>{_e(lr.get('detail', ''))}"
                   + (f" ({_e(lr['note'])})" if lr.get("note") else "")
                   + ("; model, optimizer and learning rate were restored afterwards" if lr.get("restored") else "")
                   + ".</p>")
    out.append("<h2>Figures</h2>")
    if png:
        out.append(f'<img alt="probe figures" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">')
    else:
        out.append("<p>(matplotlib is not installed: the lines below are the gradient norm and the loss per step)</p>")
        out.append(svg_line(report.get("grad_norms") or [], log=True))
        out.append(svg_line(report.get("losses") or []))
    health = report.get("health") or []
    if health:
        out.append("<h2>Health checks</h2><table>")
        for h in health:
            out.append(f"<tr><td class='{_e(h['status'])}'>{_e(h['status'])}</td><td>{_e(h['check'])}</td>"
                       f"<td>{_e(h['detail'])}</td></tr>")
        out.append("</table>")
    requested = report.get("requested") or {}
    out.append(f"<p class=meta>requested: {_e(json.dumps(requested))}; device: "
               f"{_e(json.dumps(report.get('device_info') or {}))}</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
