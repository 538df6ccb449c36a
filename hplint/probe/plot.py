"""`--plot PATH`: a PNG of the gradient norm per step and the variance shift per
BatchNorm, when matplotlib is installed (it is not a dependency of hplint)."""

from __future__ import annotations

import math
from typing import Any, Dict, Optional


def write_plot(report: Dict[str, Any], path: str) -> Optional[str]:
    """Write the PNG; returns an error message instead of raising."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "--plot needs matplotlib, which is not installed (pip install matplotlib); no plot written"
    norms = [v if isinstance(v, (int, float)) and math.isfinite(v) else float("nan")
             for v in report.get("grad_norms") or []]
    shifts = []
    for f in report.get("findings") or []:
        for bn in (f.get("measurements") or {}).get("batchnorms") or []:
            value = bn.get("dropout_shift", bn.get("running_shift"))
            if value is not None:
                shifts.append((f"{bn['layer']} {bn['site']}", value))
    fig, axes = plt.subplots(1, 2 if shifts else 1, figsize=(11 if shifts else 6, 3.5), squeeze=False)
    ax = axes[0][0]
    ax.plot(range(1, len(norms) + 1), norms, marker=".")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("gradient norm")
    if norms and min((n for n in norms if n == n), default=0) > 0:
        ax.set_yscale("log")
    ax.set_title(f"gradient norm — {report['script']}")
    if shifts:
        ax2 = axes[0][1]
        ax2.barh([s[0] for s in shifts], [s[1] for s in shifts])
        ax2.axvline(1.0, color="k", linewidth=0.8)
        ax2.set_xlabel("variance shift (train-mode / eval-mode BatchNorm input variance)")
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=100)
    except OSError as exc:
        return f"cannot write the plot to {path}: {exc}"
    finally:
        plt.close(fig)
    return None
