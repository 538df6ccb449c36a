"""Measurements -> a verdict per finding (confirmed / not confirmed / not
exercised) with the figures behind it, and the health checks. Torch-free, so
the thresholds can be unit-tested on plain numbers."""

from __future__ import annotations

import math
import os
import statistics
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

from .sampling import share_for_target
from .targets import Target, rule_options

CONFIRMED, NOT_CONFIRMED, NOT_EXERCISED = "confirmed", "not confirmed", "not exercised"

VARIANCE_SHIFT_TOLERANCE = 0.10  # HPL001: |shift - 1| above this confirms
BIAS_GRAD_RATIO = 1e-6  # HPL002: |grad bias| / |grad weight| below this confirms
JUMP_FACTOR = 10.0  # HPL005: a step-to-step rise this many times the median confirms
NOISE_FACTOR = 4.0  # HPL006: batch size this many times B_simple confirms
UPDATE_RATIO_RANGE = (1e-4, 1e-2)  # healthy update-to-weight ratio around 1e-3
OVERFIT_RELATIVE = 0.10  # --overfit-batch: the final loss below this share of the initial loss passes
OVERFIT_ABSOLUTE = 0.01  # ... or below this absolute value
LR_DIVERGE = 4.0  # --lr-find: the test stops once the loss exceeds this many times its minimum


@dataclass
class Verdict:
    code: str
    path: str  # as shown to the user
    line: int
    col: int
    verdict: str
    summary: str  # one line: the figure that decided
    measurements: Dict[str, Any] = field(default_factory=dict)
    message: str = ""
    abs_path: str = ""

    def to_json(self) -> Dict[str, Any]:
        return {"code": self.code, "path": self.path, "line": self.line, "column": self.col,
                "verdict": self.verdict, "summary": self.summary, "measurements": self.measurements}


@dataclass
class Health:
    check: str
    status: str  # ok | warning | failed | skipped
    detail: str
    value: Any = None

    def to_json(self) -> Dict[str, Any]:
        return {"check": self.check, "status": self.status, "detail": self.detail, "value": self.value}


# The thresholds a rule option sets are not copied here: HPL005's suggested
# clip bound is its `max-norm`, HPL009's smallest healthy batch its
# `min-batch-size`, as the project configures them (Target.options, filled by
# targets.static_targets) or as the rule document defaults them.
def rule_option(t: Target, name: str) -> Any:
    if name in t.options:
        return t.options[name]
    defaults = rule_options(t.code)
    if name not in defaults:
        raise KeyError(f"rule {t.code} has no option {name!r}")
    return defaults[name]


def _finite(values: Sequence[Any]) -> List[float]:
    return [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]


def grad_norm_stats(norms: Sequence[Any]) -> Dict[str, Any]:
    vals = _finite(norms)
    if not vals:
        return {}
    jumps = [b - a for a, b in zip(vals, vals[1:])]
    return {"steps": len(vals), "max": max(vals), "median": statistics.median(vals),
            "largest_jump": max(jumps) if jumps else 0.0, "non_finite": len(norms) - len(vals)}


def _where(site: str) -> str:
    """`path:line` relative to the working directory when inside it."""
    path, _, line = site.rpartition(":")
    rel = os.path.relpath(path) if path else path
    return f"{path if rel.startswith('..') else rel}:{line}"


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _called(t: Target, m: Dict[str, Any]) -> Optional[bool]:
    fn = t.function
    if not fn:
        return None
    return f"{t.path}:{fn['first']}" in (m.get("functions_called") or {})


def why_not_exercised(t: Target, m: Dict[str, Any], default: str) -> str:
    """Why the code of a finding never ran: the timeout, a function nobody calls,
    the script's exit (with its line), or a crash."""
    end = m.get("end") or {}
    ff = m.get("fast_forward") or {}
    status, line = end.get("status"), end.get("exit_line")
    fn = t.function
    called = _called(t, m)
    at = f" at line {line}" if line else ""
    if status == "timeout" or m.get("stop_reason") == "timeout":
        extra = f"; fast-forwarded {ff.get('steps', 0)} steps past the budget" if ff.get("active") else ""
        who = f" ({fn['name']}() was never called)" if fn and called is False else ""
        return f"the code never ran before the timeout{who}{extra}"
    if fn and called is False:
        if status == "exited":
            return f"{fn['name']}() is never called: the script exited{at} first"
        if status == "crashed":
            return f"{fn['name']}() is never called: the script crashed{at} first"
        if status == "completed":
            return (f"{fn['name']}() is never called: the script exited{at} without calling it" if line else
                    f"{fn['name']}() is never called: the script ran to its end without calling it")
        return f"{fn['name']}() was never called during the probe"
    if status == "exited":
        return f"the script exited{at} before this code ran"
    if status == "crashed":
        return f"the script crashed{at} before this code ran"
    if fn and called:
        return f"{fn['name']}() ran, but never reached line {t.line} with dropout/BatchNorm in it"
    if status == "completed":
        return "the script ran to its end without running this code"
    if m.get("stop_reason") == "budget":
        return f"the probe stopped after its {m.get('steps', 0)} steps (--no-fast-forward) before this code ran"
    return default


def _hpl001(t: Target, m: Dict[str, Any], tm: Dict[str, Any]) -> Verdict:
    bns = tm.get("batchnorms") or []
    figures = [b for b in bns if "dropout_shift" in b or "running_shift" in b]
    if not figures:
        why = tm.get("error") or "no BatchNorm of this finding ran a training step"
        return _v(t, NOT_EXERCISED, why, {"batchnorms": bns})
    key = lambda b: b.get("dropout_shift", b.get("running_shift", 1.0))
    worst = max(figures, key=lambda b: abs(key(b) - 1.0))
    shift = key(worst)
    verdict = CONFIRMED if abs(shift - 1.0) > VARIANCE_SHIFT_TOLERANCE else NOT_CONFIRMED
    text = f"variance shift {shift:.2f}x at the {worst['layer']} ({worst['site']})"
    if "running_shift" in worst:
        text += f"; running_var / eval input variance {worst['running_shift']:.2f}x"
    return _v(t, verdict, text, {"variance_shift": shift, "batchnorms": bns})


def _hpl002(t: Target, m: Dict[str, Any], tm: Dict[str, Any]) -> Verdict:
    layers = list((tm.get("layers") or {}).values())
    if not layers:
        return _v(t, NOT_EXERCISED, "the layer never received a gradient during the probe", {})
    worst = max(layers, key=lambda x: x["max_ratio"])
    wasted = sum(x["bias_params"] for x in layers)
    verdict = CONFIRMED if worst["max_ratio"] < BIAS_GRAD_RATIO else NOT_CONFIRMED
    text = (f"bias gradient / weight gradient {worst['max_ratio']:.1e} over {worst['steps']} steps; "
            f"{wasted} bias parameters wasted")
    return _v(t, verdict, text, {"bias_grad_ratio": worst["max_ratio"], "wasted_parameters": wasted,
                                 "layers": layers})


def _hpl005(t: Target, m: Dict[str, Any], tm: Dict[str, Any]) -> Verdict:
    stats = grad_norm_stats(m.get("grad_norms") or [])
    clips = m.get("clip_calls") or []
    if not stats:
        return _v(t, NOT_EXERCISED, "no optimizer step ran", {})
    bound = rule_option(t, "max-norm")
    figures = dict(stats, clipping_calls=len(clips), suggested_bound=bound, before_clipping=True)
    clipped = _finite(m.get("grad_norms_clipped") or [])
    if clipped:
        figures["max_after_clipping"] = max(clipped)
    exploded = stats["max"] > bound or stats["non_finite"] > 0
    jumped = stats["median"] > 0 and stats["largest_jump"] > JUMP_FACTOR * stats["median"]
    verdict = CONFIRMED if (exploded or jumped) and not clips else NOT_CONFIRMED
    text = (f"gradient norm max {_fmt(stats['max'])}, median {_fmt(stats['median'])}, "
            f"largest jump {_fmt(stats['largest_jump'])}; "
            + (f"clipping ran {len(clips)} times (norms measured before it)" if clips else "no clipping ran"))
    return _v(t, verdict, text, figures)


def noise_scale(samples: Sequence[Dict[str, float]]) -> Optional[Dict[str, Any]]:
    """B_simple = tr(Sigma) / |G|^2, both averaged over steps before the ratio
    (McCandlish et al. 2018, appendix A)."""
    if not samples:
        return None
    g2 = statistics.mean((s["b_big"] * s["g2_big"] - s["b_small"] * s["g2_small"]) / (s["b_big"] - s["b_small"])
                         for s in samples)
    trace = statistics.mean((s["g2_small"] - s["g2_big"]) / (1 / s["b_small"] - 1 / s["b_big"]) for s in samples)
    batch = int(statistics.median(s["batch"] for s in samples))
    b_simple = trace / g2 if g2 > 0 else math.inf
    per_step = [b for b in (_one_step(s) for s in samples) if b is not None]
    out: Dict[str, Any] = {"b_simple": b_simple, "trace_sigma": trace, "grad_sq": g2, "batch_size": batch, "steps": len(samples),
           "b_small": statistics.mean(s["b_small"] for s in samples),
           "b_big": statistics.mean(s["b_big"] for s in samples), "b_simple_per_step": per_step}
    if len(per_step) >= 2:
        out["b_simple_range"] = [min(per_step), max(per_step)]
        out["b_simple_spread"] = statistics.stdev(per_step) / math.sqrt(len(per_step))
    return out


def _one_step(s: Dict[str, float]) -> Optional[float]:
    """B_simple from one step's two gradient norms (noisy: an estimate's spread)."""
    g2 = (s["b_big"] * s["g2_big"] - s["b_small"] * s["g2_small"]) / (s["b_big"] - s["b_small"])
    trace = (s["g2_small"] - s["g2_big"]) / (1 / s["b_small"] - 1 / s["b_big"])
    return trace / g2 if g2 > 0 else None


def _hpl006(t: Target, m: Dict[str, Any], tm: Dict[str, Any]) -> Verdict:
    est = noise_scale(m.get("noise") or [])
    if est is None:
        why = m.get("noise_note") or ("the loss is not one the probe can split into micro-batches "
                                      "(cross_entropy, mse_loss, nll_loss, l1/smooth_l1/huber, BCE with mean reduction)")
        return _v(t, NOT_EXERCISED, why, {"loader_batch_sizes": m.get("loader_batch_sizes")})
    b_simple, batch = est["b_simple"], est["batch_size"]
    if not math.isfinite(b_simple) or b_simple <= 0:
        return _v(t, CONFIRMED if b_simple <= 0 else NOT_CONFIRMED,
                  f"gradient noise scale not measurable (|G|^2 estimate {est['grad_sq']:.3g})", est)
    ratio = batch / b_simple
    verdict = CONFIRMED if ratio >= NOISE_FACTOR else NOT_CONFIRMED
    spread = ""
    if est.get("b_simple_range"):
        lo, hi = est["b_simple_range"]
        spread = f" (per step {lo:.0f}-{hi:.0f} over {est['steps']} steps)"
    accumulated = [b for b in m.get("step_backwards") or [] if b]
    how = ""
    if accumulated and max(accumulated) > 1:
        how = f", accumulated over {int(statistics.median(accumulated))} backward passes"
    text = (f"batch size {batch} per optimizer step{how} is {ratio:.1f}x the gradient noise scale "
            f"B_simple ~ {b_simple:.0f}{spread}")
    return _v(t, verdict, text, dict(est, batch_over_noise_scale=ratio,
                                     step_batches=[b for b in (m.get("step_batches") or [])[:20]]))


def _hpl007(t: Target, m: Dict[str, Any], tm: Dict[str, Any]) -> Verdict:
    ratios: List[float] = []
    for opt in m.get("optimizers") or []:
        if opt.get("targets"):
            ratios = _finite(opt.get("update_ratios") or [])
            break
    else:
        ratios = _finite(m.get("update_ratios") or [])
    if not ratios:
        return _v(t, NOT_EXERCISED, "the optimizer never stepped", {})
    median = statistics.median(ratios)
    lo, hi = UPDATE_RATIO_RANGE
    verdict = CONFIRMED if not lo <= median <= hi else NOT_CONFIRMED
    text = f"update-to-weight ratio median {median:.1e} per step (healthy ~1e-3)"
    return _v(t, verdict, text, {"update_ratio_median": median, "update_ratios": ratios})


def _hpl008(t: Target, m: Dict[str, Any], tm: Dict[str, Any], index: int) -> Verdict:
    v = _hpl008_measured(t, m, tm, index)
    v.measurements["during_fast_forward"] = bool((m.get("exercised") or {}).get(str(index), {}).get("fast_forward"))
    return v


def _hpl008_measured(t: Target, m: Dict[str, Any], tm: Dict[str, Any], index: int) -> Verdict:
    events = m.get("mode_events") or {}
    sites = [s for s in m.get("mode_sites") or [] if not s.get("grad")]
    mine = [s for s in sites if index in s.get("targets", [])]
    func = [s for s in m.get("functional_dropout_nograd") or [] if index in s.get("targets", [])]
    bad = [s for s in mine if s["training"]]
    figures = {"training_mode_no_grad_forwards": events.get("train_nograd", 0),
               "eval_mode_no_grad_forwards": events.get("eval_nograd", 0),
               "at_this_site": len(mine), "functional_dropout_no_grad": len(func)}
    if bad or func:
        first = (bad or func)[0]
        what = first.get("module", "functional dropout")
        return _v(t, CONFIRMED, f"{what} ran in training mode with gradients off (called from "
                  f"{_where(first['called_from'][0]) if first['called_from'] else '?'})", figures)
    if mine:
        return _v(t, NOT_CONFIRMED, "evaluation here ran with dropout/BatchNorm in eval mode", figures)
    if events.get("train_nograd", 0):
        s = next(s for s in sites if s["training"])
        return _v(t, CONFIRMED, f"{s['module']} ran in training mode with gradients off elsewhere "
                  f"({_where(s['called_from'][0]) if s['called_from'] else '?'})", figures)
    return _v(t, NOT_EXERCISED, why_not_exercised(
        t, m, "no evaluation pass under no_grad reached this code during the probe"), figures)


def _hpl010(t: Target, m: Dict[str, Any], tm: Dict[str, Any], index: int) -> Verdict:
    events = m.get("mode_events") or {}
    sites = [s for s in m.get("mode_sites") or [] if s.get("grad")]
    mine = [s for s in sites if index in s.get("targets", [])]
    figures = {"eval_mode_training_forwards": events.get("eval_grad", 0), "at_this_site": len(mine),
               "eval_calls": m.get("eval_calls", 0),
               "during_fast_forward": bool((m.get("exercised") or {}).get(str(index), {}).get("fast_forward"))}
    chosen = mine or sites
    if chosen:
        first = chosen[0]
        where = _where(first["called_from"][0]) if first["called_from"] else "?"
        return _v(t, CONFIRMED, f"{first['module']} ran in eval mode with gradients on, i.e. training "
                  f"without train() ({events.get('eval_grad', 0)} forwards; called from {where})", figures)
    if m.get("steps") and str(index) in (m.get("exercised") or {}):
        return _v(t, NOT_CONFIRMED, "training resumed after eval() with dropout/BatchNorm in training mode", figures)
    if m.get("steps") and "exercised" not in m:  # measurements from before the fast-forward existed
        return _v(t, NOT_CONFIRMED, "every training forward ran with dropout/BatchNorm in training mode", figures)
    default = ("eval() ran, but no training step followed it" if m.get("eval_calls")
               else "no training step ran after an evaluation")
    return _v(t, NOT_EXERCISED, why_not_exercised(t, m, default), figures)


def _hpl009(t: Target, m: Dict[str, Any], tm: Dict[str, Any]) -> Verdict:
    layers = m.get("bn_layers") or []
    minimum = rule_option(t, "min-batch-size")
    if layers:  # per BatchNorm: the typical batch it normalised over (SyncBatchNorm: over all ranks)
        worst = min(layers, key=lambda b: b["effective_median"])
        batch = worst["effective_median"]
        world = m.get("world_size") or 1
        how = ""
        if world > 1:
            how = (f" (SyncBatchNorm: {worst['local_median']} per rank x {world} ranks)" if worst["sync"]
                   else f" per rank: plain {worst['layer']} does not pool over the {world} ranks")
        verdict = CONFIRMED if batch < minimum else NOT_CONFIRMED
        return _v(t, verdict, f"{worst['layer']} at {worst['site']} normalised over batches of {batch}{how} "
                              f"(min-batch-size {minimum})",
                  {"min_batch_size": batch, "threshold": minimum, "world_size": world, "batchnorms": layers,
                   "bn_forwards": m.get("bn_train_forwards")})
    batch = m.get("bn_train_min_batch")
    if batch is None:
        return _v(t, NOT_EXERCISED, "no BatchNorm ran in training mode", {})
    verdict = CONFIRMED if batch < minimum else NOT_CONFIRMED
    return _v(t, verdict, f"smallest batch seen by BatchNorm in training: {batch} (min-batch-size {minimum})",
              {"min_batch_size": batch, "threshold": minimum, "bn_forwards": m.get("bn_train_forwards")})


def overfit_result(losses: Sequence[Any], steps: int, batches_served: int) -> Dict[str, Any]:
    """--overfit-batch: does the loss on one fixed batch approach zero? Passed when
    the mean of the last three losses is below OVERFIT_RELATIVE of the first loss
    or below OVERFIT_ABSOLUTE."""
    vals = _finite(losses)
    criterion = (f"final loss (mean of the last 3 steps) < {OVERFIT_RELATIVE:.0%} of the initial loss, "
                 f"or < {OVERFIT_ABSOLUTE:g}")
    out: Dict[str, Any] = {"steps": steps, "criterion": criterion, "losses": vals}
    if not batches_served:
        out.update(passed=None, detail="the script draws its batches without a DataLoader: "
                   "the probe could not hold one batch fixed")
        return out
    if len(vals) < 2:
        out.update(passed=None, detail="too few steps with a recorded loss")
        return out
    initial, final = vals[0], statistics.mean(vals[-3:])
    passed = final < OVERFIT_RELATIVE * initial or final < OVERFIT_ABSOLUTE
    out.update(initial=initial, final=final, ratio=final / initial if initial else None, passed=passed,
               detail=(f"loss on one fixed batch {initial:.4g} -> {final:.4g} in {len(vals)} steps"
                       + (": the model can fit it" if passed else
                          ": it does not approach zero; check the model, the loss and the learning rate")))
    return out


def smooth(values: Sequence[float], beta: float = 0.7) -> List[float]:
    out, avg = [], 0.0
    for i, v in enumerate(values, 1):
        avg = beta * avg + (1 - beta) * v
        out.append(avg / (1 - beta ** i))
    return out


def lr_find_result(data: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """--lr-find: the steepest descent of the (smoothed) loss against log(lr), and
    the minimum's lr / 10; the suggested range spans both (x1/2 .. x2 around them).
    Says whether the script's own learning rate lies inside it."""
    if not data:
        return None
    trace = [x for x in data.get("trace") or [] if isinstance(x.get("loss"), (int, float))
             and math.isfinite(x["loss"])]
    out: Dict[str, Any] = dict(data)
    script_lr = (data.get("script_lrs") or [None])[0]
    out["script_lr"] = script_lr
    after = data.get("lrs_after")
    if after is not None:
        out["script_lr_restored"] = after == data.get("script_lrs")
    if len(trace) < 4:
        out["detail"] = "too few steps with a finite loss for a range test"
        return out
    lrs = [x["lr"] for x in trace]
    loss = smooth([x["loss"] for x in trace])
    best = min(range(len(loss)), key=loss.__getitem__)
    slopes = [(loss[i + 1] - loss[i - 1]) / (math.log(lrs[i + 1]) - math.log(lrs[i - 1]))
              for i in range(1, max(2, best + 1)) if i + 1 < len(loss)]
    steep = lrs[1 + min(range(len(slopes)), key=slopes.__getitem__)] if slopes else lrs[best]
    min_over_10 = lrs[best] / 10
    low, high = min(steep, min_over_10) / 2, max(steep, min_over_10) * 2
    out.update(smoothed=loss, steepest_lr=steep, min_loss_lr=lrs[best], suggested_range=[low, high])
    text = f"suggested lr range {low:.1e} .. {high:.1e} (steepest descent at {steep:.1e}, minimum loss at {lrs[best]:.1e})"
    if script_lr:
        inside = low <= script_lr <= high
        out["script_lr_inside"] = inside
        text += (f"; the script's lr {script_lr:.1e} is inside it" if inside else
                 f"; the script's lr {script_lr:.1e} is {'below' if script_lr < low else 'above'} it")
    out["detail"] = text
    return out


def _analytic(t: Target) -> Verdict:
    share = share_for_target(t)
    if share is None:
        return _v(t, NOT_EXERCISED, "the bounds are not static numbers", {})
    text = f"{share['share_top_decade']:.0%} of uniform samples land in the top decade ({share['range']})"
    return _v(t, CONFIRMED, text + " (analytic, no run needed)", share)


def _v(t: Target, verdict: str, summary: str, measurements: Dict[str, Any]) -> Verdict:
    return Verdict(t.code, t.shown or t.path, t.line, t.col, verdict, summary, measurements, t.message, t.path)


def _analytic_verdict(t: Target, index: int, m: Dict[str, Any], tm: Dict[str, Any]) -> Verdict:
    return _analytic(t)


def _by_index(fn: Callable[[Target, Dict[str, Any], Dict[str, Any], int], Verdict]) -> Callable[..., Verdict]:
    return lambda t, index, m, tm: fn(t, m, tm, index)


def _plain(fn: Callable[[Target, Dict[str, Any], Dict[str, Any]], Verdict]) -> Callable[..., Verdict]:
    return lambda t, index, m, tm: fn(t, m, tm)


# One verdict function per probed code (the rule documents with `probe = true`;
# tests/test_catalogue.py checks the two agree). Called as fn(target, index,
# measurements, the target's own measurements).
ANALYTIC_CODES = frozenset({"HPL003", "HPL004"})  # decided from the source, no run needed
VERDICTS: Dict[str, Callable[[Target, int, Dict[str, Any], Dict[str, Any]], Verdict]] = {
    "HPL001": _plain(_hpl001),
    "HPL002": _plain(_hpl002),
    "HPL003": _analytic_verdict,
    "HPL004": _analytic_verdict,
    "HPL005": _plain(_hpl005),
    "HPL006": _plain(_hpl006),
    "HPL007": _plain(_hpl007),
    "HPL008": _by_index(_hpl008),
    "HPL009": _plain(_hpl009),
    "HPL010": _by_index(_hpl010),
}


def verdict_for(target: Target, index: int, m: Optional[Dict[str, Any]]) -> Verdict:
    if target.code in ANALYTIC_CODES:
        return _analytic(target)
    fn = VERDICTS.get(target.code)
    if fn is None:
        return _v(target, NOT_EXERCISED, "the probe has no measurement for this rule", {})
    if not m:
        return _v(target, NOT_EXERCISED, "the probe recorded nothing", {})
    tm = (m.get("targets") or {}).get(str(index), {})
    return fn(target, index, m, tm)


_ORDER = {CONFIRMED: 0, NOT_CONFIRMED: 1, NOT_EXERCISED: 2}


def merge_ranks(per_rank: List[Verdict]) -> Verdict:
    """One verdict from every rank's: confirmed on any rank wins."""
    best = min(per_rank, key=lambda v: _ORDER[v.verdict])
    if len(per_rank) > 1:
        best.measurements = dict(best.measurements, ranks=len(per_rank),
                                 confirmed_on_ranks=sum(v.verdict == CONFIRMED for v in per_rank))
    return best


def health_checks(m: Optional[Dict[str, Any]]) -> List[Health]:
    if not m:
        return []
    out: List[Health] = []
    ce = m.get("ce_initial")
    if ce and isinstance(ce.get("loss"), (int, float)) and ce.get("classes", 0) > 1:
        expected = math.log(ce["classes"])
        loss = ce["loss"]
        off = abs(loss - expected) / expected
        out.append(Health("initial-loss", "ok" if off <= 0.5 else "warning",
                          f"initial cross-entropy {loss:.3g} vs ln({ce['classes']}) = {expected:.3g}"
                          + ("" if off <= 0.5 else ": check the initialisation and the output layer"),
                          {"loss": loss, "expected": expected}))
    bad_loss = [x for x in m.get("losses") or [] if isinstance(x, str)]
    bad_grad = [x for x in m.get("grad_norms") or [] if isinstance(x, str)]
    if not (m.get("losses") or m.get("grad_norms")):
        # Nothing was measured (0 steps, or a crash before the first one): say so,
        # never "ok" about values nobody saw.
        out.append(Health("non-finite", "skipped", "not measured: no loss or gradient was recorded"))
    elif bad_loss or bad_grad:
        out.append(Health("non-finite", "failed", f"NaN/Inf in {len(bad_loss)} losses and "
                          f"{len(bad_grad)} gradient norms", {"losses": len(bad_loss), "grads": len(bad_grad)}))
    else:
        out.append(Health("non-finite", "ok", "losses and gradients finite"))
    losses = _finite(m.get("losses") or [])
    if len(losses) >= 4:
        third = max(1, len(losses) // 3)
        first, last = statistics.mean(losses[:third]), statistics.mean(losses[-third:])
        decreasing = last < first
        out.append(Health("loss-decreasing", "ok" if decreasing else "warning",
                          f"loss {first:.4g} -> {last:.4g} over {len(losses)} steps (first vs last third)"
                          + ("" if decreasing else ": not decreasing"), {"first": first, "last": last}))
    else:
        out.append(Health("loss-decreasing", "skipped", "too few steps with a recorded loss"))
    ratios = _finite(m.get("update_ratios") or [])
    if ratios:
        med = statistics.median(ratios)
        lo, hi = UPDATE_RATIO_RANGE
        ok = lo <= med <= hi
        out.append(Health("update-ratio", "ok" if ok else "warning",
                          f"update-to-weight ratio median {med:.1e} (healthy ~1e-3)"
                          + ("" if ok else ": learning rate likely too " + ("low" if med < lo else "high")),
                          med))
    return out
