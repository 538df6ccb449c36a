"""`--plot PATH`: one PNG of what the probe measured, when matplotlib is
installed (it is not a dependency of hplint): the gradient norm per step
(before any clipping the script does), the loss, the BatchNorm variance ratio
per layer (HPL001), the gradient-noise-scale estimate against the step's batch
size (HPL006), and the learning-rate range test when one ran."""

from __future__ import annotations

import io
import math
from typing import Any, Dict, List, Optional, Tuple

from .targets import rule_options
from .verdicts import NOISE_FACTOR, VARIANCE_SHIFT_TOLERANCE, noise_scale

_COLOURS = {"confirmed": "#c0392b", "not confirmed": "#2e7d32", "not exercised": "#7f8c8d"}


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else float("nan")


def _shifts(report: Dict[str, Any]) -> List[Tuple[str, Optional[float], Optional[float], str]]:
    """(layer, dropout-on / eval variance, running_var / eval variance, verdict) per HPL001 BatchNorm."""
    out = []
    for f in report.get("findings") or []:
        for bn in (f.get("measurements") or {}).get("batchnorms") or []:
            if bn.get("dropout_shift") is not None or bn.get("running_shift") is not None:
                out.append((f"{bn['layer']}\n{bn['site']}", bn.get("dropout_shift"), bn.get("running_shift"),
                            f.get("verdict", "")))
    return out


def _empty(ax, title: str, why: str) -> None:
    ax.set_title(title, fontsize=10)
    ax.text(0.5, 0.5, why, ha="center", va="center", fontsize=9, color="#555", wrap=True,
            transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _clip_bound(report: Dict[str, Any]) -> float:
    """HPL005's `max-norm` as the verdict used it, else the rule's default."""
    for verdict in report.get("verdicts") or []:
        bound = (verdict.get("measurements") or {}).get("suggested_bound") if isinstance(verdict, dict) else None
        if isinstance(bound, (int, float)):
            return float(bound)
    return float(rule_options("HPL005")["max-norm"])


def _grad_panel(ax, report: Dict[str, Any]) -> None:
    norms = [_num(v) for v in report.get("grad_norms") or []]
    if not norms:
        _empty(ax, "gradient norm per step", "no optimizer step was measured")
        return
    steps = range(1, len(norms) + 1)
    ax.plot(steps, norms, marker=".", color="#1f77b4", label="before clipping")
    clipped = [_num(v) if v is not None else float("nan") for v in report.get("grad_norms_clipped") or []]
    if any(c == c for c in clipped):
        ax.plot(range(1, len(clipped) + 1), clipped, marker=".", linestyle="--", color="#ff7f0e",
                label="after the script's clipping")
    bound = _clip_bound(report)
    ax.axhline(bound, color="#c0392b", linewidth=0.8, linestyle=":", label=f"suggested clip bound {bound:g}")
    finite = [n for n in norms if n == n]
    if finite and min(finite) > 0:
        ax.set_yscale("log")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("total gradient norm")
    ax.set_title("gradient norm per step (HPL005)", fontsize=10)
    ax.legend(fontsize=7, loc="best")


def _loss_panel(ax, report: Dict[str, Any]) -> None:
    overfit = report.get("overfit") or {}
    losses = [_num(v) for v in (overfit.get("losses") or report.get("losses") or [])]
    if not [v for v in losses if v == v]:
        _empty(ax, "loss per step", "no loss was recorded\n(the probe sees the tensor given to backward())")
        return
    ax.plot(range(1, len(losses) + 1), losses, marker=".", color="#6a1b9a")
    title = "loss per step"
    if overfit.get("initial") is not None:
        ax.axhline(0.1 * overfit["initial"], color="#2e7d32", linestyle=":", linewidth=0.8,
                   label="10% of the initial loss")
        ax.legend(fontsize=7)
        title = f"--overfit-batch: {'passed' if overfit.get('passed') else 'failed'}"
    positive = [v for v in losses if v == v]
    if positive and min(positive) > 0 and max(positive) / min(positive) > 20:
        ax.set_yscale("log")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss")
    ax.set_title(title, fontsize=10)


def _bn_panel(ax, report: Dict[str, Any]) -> None:
    shifts = _shifts(report)
    if not shifts:
        _empty(ax, "BatchNorm variance ratio (HPL001)", "no Dropout -> BatchNorm\nfinding was measured")
        return
    ys = list(range(len(shifts)))
    h = 0.35
    for offset, index, label, colour in ((-h / 2, 1, "dropout on / eval mode", "#c0392b"),
                                         (h / 2, 2, "running_var / eval mode", "#e67e22")):
        values = [s[index] if s[index] is not None else 0.0 for s in shifts]
        bars = ax.barh([y + offset for y in ys], values, height=h, color=colour, label=label)
        for bar, value in zip(bars, values):
            if value:
                ax.text(bar.get_width(), bar.get_y() + h / 2, f" {value:.2f}x", va="center", fontsize=8)
    ax.set_yticks(ys)
    ax.set_yticklabels([s[0] for s in shifts], fontsize=7)
    ax.set_ylim(-0.7, len(shifts) - 0.3)
    ax.axvspan(1 - VARIANCE_SHIFT_TOLERANCE, 1 + VARIANCE_SHIFT_TOLERANCE, color="#2e7d32", alpha=0.2,
               label=f"1 +- {VARIANCE_SHIFT_TOLERANCE:.0%}: no shift")
    ax.axvline(1.0, color="k", linewidth=0.8)
    top = max([v for s in shifts for v in s[1:3] if isinstance(v, float)] + [1.2])
    ax.set_xlim(0, top * 1.2)
    ax.set_xlabel("variance of the BatchNorm input, relative to eval mode")
    ax.set_title("BatchNorm variance ratio per layer (HPL001)", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")


def _noise_panel(ax, report: Dict[str, Any]) -> None:
    est = noise_scale(report.get("noise") or [])
    if not est:
        _empty(ax, "gradient noise scale (HPL006)", "not estimated: only for an HPL006 finding,\n"
               "on a mean loss the probe can split")
        return
    per_step = est.get("b_simple_per_step") or []
    steps = range(1, len(per_step) + 1)
    ax.plot(steps, per_step, "o", color="#1f77b4", label="B_simple, one step")
    b, batch = est["b_simple"], est["batch_size"]
    if math.isfinite(b) and b > 0:
        ax.axhline(b, color="#1f77b4", linewidth=1.0, label=f"B_simple ~ {b:.0f}")
        ax.axhline(batch / NOISE_FACTOR, color="#c0392b", linewidth=0.8, linestyle=":",
                   label=f"batch / {NOISE_FACTOR:g}: B_simple under it confirms")
    ax.axhline(batch, color="#c0392b", linewidth=1.4, label=f"batch per step {batch}")
    ax.set_yscale("log")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("samples")
    ratio = batch / b if b and math.isfinite(b) and b > 0 else float("nan")
    ax.set_title(f"noise scale vs batch size: batch = {ratio:.1f}x B_simple (HPL006)", fontsize=10)
    ax.legend(fontsize=7, loc="best")


def _lr_panel(ax, report: Dict[str, Any]) -> None:
    data = report.get("lr_find") or {}
    trace = [x for x in data.get("trace") or [] if isinstance(x.get("loss"), (int, float))]
    if not trace:
        _empty(ax, "learning-rate range test", data.get("detail") or "no steps recorded")
        return
    lrs = [x["lr"] for x in trace]
    ax.plot(lrs, [x["loss"] for x in trace], ".", color="#999", label="loss")
    if data.get("smoothed"):
        ax.plot(lrs, data["smoothed"], color="#1f77b4", label="smoothed")
    if data.get("suggested_range"):
        lo, hi = data["suggested_range"]
        ax.axvspan(lo, hi, color="#2e7d32", alpha=0.15, label="suggested range")
    if data.get("script_lr"):
        ax.axvline(data["script_lr"], color="#c0392b", linewidth=1.0, label=f"the script's lr {data['script_lr']:.1e}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    ax.set_title("learning-rate range test (--lr-find)", fontsize=10)
    ax.legend(fontsize=7, loc="best")


def _verdict_panel(ax, verdicts: List[Dict[str, Any]]) -> None:
    ax.axis("off")
    ax.set_title("verdicts", fontsize=10)
    for i, f in enumerate(verdicts[:9]):
        summary = f["summary"] if len(f["summary"]) <= 70 else f["summary"][:67] + "..."
        ax.text(0.0, 0.95 - i * 0.1, f"{f['code']} line {f['line']}: {f['verdict']}\n  {summary}", fontsize=7.5,
                va="top", color=_COLOURS.get(f["verdict"], "#222"), transform=ax.transAxes)


def figure_png(report: Dict[str, Any], dpi: int = 100) -> Tuple[Optional[bytes], Optional[str]]:
    """(PNG bytes, None) or (None, why not)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None, "--plot needs matplotlib, which is not installed (pip install matplotlib); no plot written"
    rows = 3 if report.get("lr_find") else 2
    fig, axes = plt.subplots(rows, 2, figsize=(12, 3.6 * rows), squeeze=False)
    _grad_panel(axes[0][0], report)
    _loss_panel(axes[0][1], report)
    _bn_panel(axes[1][0], report)
    _noise_panel(axes[1][1], report)
    verdicts = report.get("findings") or []
    if rows == 3:
        _lr_panel(axes[2][0], report)
        _verdict_panel(axes[2][1], verdicts)
    counts = {v: sum(f["verdict"] == v for f in verdicts) for v in _COLOURS}
    fig.suptitle(f"hplint probe — {report.get('script', '')} on {report.get('device') or '?'}: "
                 f"{counts['confirmed']} confirmed, {counts['not confirmed']} not confirmed, "
                 f"{counts['not exercised']} not exercised", fontsize=11)
    fig.tight_layout()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return buf.getvalue(), None


def write_plot(report: Dict[str, Any], path: str) -> Optional[str]:
    """Write the PNG; returns an error message instead of raising."""
    data, problem = figure_png(report)
    if data is None:
        return problem
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as exc:
        return f"cannot write the plot to {path}: {exc}"
    return None
