"""Which hyperparameter a name stands for: learning rate, momentum-like, or neither.

Search-space rules see names in many spellings (`lr`, `"learning-rate"`,
`"optimizer__lr"`, `actor_lr`, `adam_beta1`, `betas[0]`). These functions
normalise a name and classify it from a small vocabulary, with explicit
exclusions for names that mention a learning rate but hold a fraction or a
schedule setting (`lr_decay`, `pct_lr_ramp`, `lr_warmup_ratio`) and for the
log-space exponents people sample on purpose (`log_lr`).
"""

from __future__ import annotations

import re
from typing import Iterable, List

_SPLIT = re.compile(r"__|[./:]")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

_LR_EXACT = frozenset({
    "lr", "learning_rate", "base_lr", "max_lr", "min_lr", "init_lr", "initial_lr",
    "peak_lr", "start_lr", "lr0", "eta", "eta0", "eta_min", "eta_max",
})
# A token like these makes the name a fraction, a schedule knob or an exponent,
# not a learning rate (`lr_decay`, `pct_lr_ramp`, `lr_warmup_ratio`, `log_lr`).
_NOT_VALUE_TOKENS = frozenset({
    "decay", "warmup", "ratio", "gamma", "factor", "patience", "ramp", "pct",
    "percent", "frac", "fraction", "schedule", "scheduler", "sched", "step",
    "steps", "milestones", "mult", "multi", "mul", "multiplier", "divisor", "div", "scale", "scaling", "drop",
    "cycle", "power", "exponent", "exp", "log", "log10", "log2", "ln", "policy",
    "mode", "type", "freq", "interval", "every", "epoch", "epochs", "iters",
    "cooldown", "threshold",
})
_MOMENTUM_EXACT = frozenset({
    "momentum", "beta", "betas", "beta1", "beta2", "beta_1", "beta_2", "rho",
    "ema", "ema_decay", "ema_momentum",  # DomainBed samples `ema` (the decay) on U[0.9, 0.99]
})
_MOMENTUM_LAST = frozenset({"momentum", "beta1", "beta2", "rho"})
# Diffusion noise schedules and ranges of a momentum schedule are not a momentum.
_NOT_MOMENTUM_TOKENS = frozenset({
    "start", "end", "min", "max", "schedule", "scheduler", "noise", "diffusion",
    "log", "log10", "ln", "exponent",
})
_MOMENTUM_RANGE_TOKENS = frozenset({"start", "end", "min", "max"})


def normalise(name: str) -> str:
    """`"optimizer__learningRate"` -> `learning_rate`; `"lr-max"` -> `lr_max`."""
    last = [part for part in _SPLIT.split(name.strip()) if part][-1:] or [""]
    text = _CAMEL.sub("_", last[0]).lower().replace("-", "_").replace(" ", "_")
    return text.strip("_")


def _tokens(name: str) -> List[str]:
    return [t for t in name.split("_") if t]


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") and len(name) > 2 else name


def is_learning_rate(name: str, extra: Iterable[str] = ()) -> bool:
    n = normalise(name)
    if not n:
        return False
    if n in {normalise(e) for e in extra}:
        return True
    tokens = _tokens(n)
    if any(t in _NOT_VALUE_TOKENS for t in tokens):
        return False
    for candidate in (n, _singular(n)):
        if candidate in _LR_EXACT or candidate.endswith("learning_rate") or candidate == "learningrate":
            return True
    # `learning_rate_init` (scikit-learn's MLP, SMAC's examples) reads as `lr_init`.
    short = _singular(n).replace("learning_rate", "lr")
    tokens = [t.rstrip("0123456789") or t for t in _tokens(short)]  # `lr2`, `lr_g1`
    return tokens[-1] == "lr" or tokens[0] == "lr"


def is_momentum(name: str, extra: Iterable[str] = ()) -> bool:
    n = normalise(name)
    if not n:
        return False
    if n in {normalise(e) for e in extra}:
        return True
    tokens = _tokens(n)
    excluded = [t for t in tokens if t in _NOT_MOMENTUM_TOKENS]
    if excluded:
        # An end of a momentum's own cycle is a momentum (OneCycleLR's
        # `max_momentum`, searched on U[0.85, 1] in BSRT); a diffusion
        # schedule's `beta_start` is not.
        return "momentum" in tokens and all(t in _MOMENTUM_RANGE_TOKENS for t in excluded)
    if n in _MOMENTUM_EXACT or _singular(n) in _MOMENTUM_EXACT:
        return True
    return tokens[-1] in _MOMENTUM_LAST or _singular(tokens[-1]) in _MOMENTUM_LAST
