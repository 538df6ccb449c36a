"""The child-side instrumentation (imports torch): patches installed before the
user's script starts, which cut the run short and record what the verdicts need.

Per-step cost is kept low: hooks go only on the modules a finding names (plus
every Dropout/BatchNorm when an eval-mode or batch-size finding asks for
them), one fused gradient-norm and update-norm computation per optimizer step,
and the expensive gradient-noise-scale estimate only for HPL006 and only on
the first few steps.
"""

from __future__ import annotations

import copy
import json
import math
import os
import sys
import time
import weakref
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook
from torch.optim.optimizer import Optimizer, register_optimizer_step_post_hook, register_optimizer_step_pre_hook
from torch.utils.data import DataLoader

from .targets import Target

_BN = nn.modules.batchnorm._BatchNorm
_DROPOUT = nn.modules.dropout._DropoutNd
_AFFINE = (nn.Linear, nn.Bilinear, nn.modules.conv._ConvNd)
_HERE = os.path.dirname(os.path.abspath(__file__))
_TORCH = os.path.dirname(os.path.abspath(torch.__file__))
MAX_STACK_EVENTS = 200  # stack captures for eval-mode events; counts continue past it
NOISE_STEPS = 4  # optimizer steps on which the gradient noise scale is estimated
NOISE_CHUNKS = 8  # micro-batches per loss call
NOISE_MAX_CHUNKS_PER_STEP = 32  # gradient accumulation: stop splitting a step's losses past this
PROGRESS_EVERY_S = 0.3
FAST_TARGET_CODES = ("HPL008", "HPL010")  # exercised by code that runs after the training budget


class ProbeStop(BaseException):
    """Raised from the optimizer hook after the last probe step: a clean end,
    and a BaseException so that the script's own `except Exception` lets it pass."""


class _Truncated:
    """A DataLoader iterator cut to `limit` batches; to one batch once the
    recorder fast-forwards; serving one fixed batch again and again for
    --overfit-batch (`repeat` holds the loader, which caches its first batch)."""

    def __init__(self, inner, limit: int, recorder: "Recorder", repeat=None) -> None:
        self._inner, self._left, self._rec, self._repeat = inner, limit, recorder, repeat
        self._served = 0
        try:
            self._len = min(len(inner), limit)
        except TypeError:
            self._len = limit

    def __iter__(self):
        return self

    def __next__(self):
        rec = self._rec
        if rec.fast:
            rec.fast_tick()
            if self._served >= 1:
                raise StopIteration
        if self._left <= 0:
            raise StopIteration
        self._left -= 1
        self._served += 1
        rec.batches_served += 1
        if self._repeat is not None:
            cached = getattr(self._repeat, "_hplint_fixed_batch", None)
            if cached is None:
                cached = next(self._inner)
                self._repeat._hplint_fixed_batch = cached
            return cached
        return next(self._inner)

    def __len__(self) -> int:
        return self._len

    def __getattr__(self, name):
        return getattr(self._inner, name)


def _leading_dim(args) -> Optional[int]:
    """The batch dimension of a forward's first tensor argument (or first tensor
    of a list/tuple/dict argument)."""
    for a in args:
        if isinstance(a, dict):
            a = next(iter(a.values()), None)
        elif isinstance(a, (list, tuple)):
            a = a[0] if a else None
        if torch.is_tensor(a):
            return int(a.shape[0]) if a.dim() else None
    return None


def _sq_norm(tensors) -> torch.Tensor:
    tensors = [t for t in tensors if t is not None]
    if not tensors:
        return torch.zeros(())
    norms = torch._foreach_norm(tensors)
    return torch.stack([n.float().to(norms[0].device) for n in norms]).pow(2).sum()


class Recorder:
    """Holds the patches' state and turns it into the measurements file."""

    def __init__(self, config: Dict[str, Any]) -> None:
        self.steps_limit = int(config["steps"])
        self.batches = int(config["batches_per_loader"])
        self.targets = [Target.from_json(t) for t in config.get("targets", [])]
        self.user_dirs = [os.path.abspath(d) + os.sep for d in config.get("user_dirs", [])]
        self.codes = {t.code for t in self.targets}
        # (file, line) -> [(target index, location index)]
        self.sites: Dict[Tuple[str, int], List[Tuple[int, int]]] = {}
        for ti, target in enumerate(self.targets):
            for li, loc in enumerate(target.locations):
                last = loc.end_line if loc.end_line - loc.line <= 50 else loc.line
                for line in range(loc.line, last + 1):
                    self.sites.setdefault((loc.path, line), []).append((ti, li))
        self.per_target: Dict[int, Dict[str, Any]] = {i: {} for i in range(len(self.targets))}
        self.all_modules: List[weakref.ref] = []
        self.roles: Dict[int, List[Tuple[weakref.ref, str, int, str]]] = {}  # target -> (module, role, loc, site)
        self.optimizers: List[Dict[str, Any]] = []
        self.step_count = 0
        self.grad_norms: List[torch.Tensor] = []
        self.update_ratios: List[torch.Tensor] = []
        self.losses: List[Optional[torch.Tensor]] = []
        self._last_loss: Optional[torch.Tensor] = None
        self._snapshots: Dict[int, Tuple[List[torch.Tensor], List[torch.Tensor]]] = {}
        self.clip_calls: List[Dict[str, Any]] = []
        self.loader_batch_sizes: List[Any] = []
        self.device: Optional[str] = None
        self.ce_initial: Optional[Dict[str, Any]] = None
        self.noise: List[Dict[str, float]] = []
        self._noise_pending: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
        self.noise_note: Optional[str] = None
        self.mode_events = {"train_nograd": 0, "eval_nograd": 0, "eval_grad": 0}
        self.mode_sites: List[Dict[str, Any]] = []
        self.bn_train_min_batch: Optional[int] = None
        self.bn_train_forwards = 0
        self.functional_dropout_nograd: List[Dict[str, Any]] = []
        self._roots_done = False
        self._root_inputs: Dict[int, Tuple[weakref.ref, Any]] = {}
        self.watch_modes = bool(self.codes & {"HPL008", "HPL010"})
        self.watch_bn_batch = "HPL009" in self.codes
        self.want_noise = "HPL006" in self.codes
        self._files: Dict[str, str] = {}
        self._keep: List[Any] = []
        # Fast-forward past the training budget until HPL008/HPL010 code has run.
        started = float(config.get("started") or time.time())
        timeout = float(config.get("timeout") or 300.0)
        self.timeout = timeout
        self.ff_deadline = started + timeout - min(10.0, max(1.0, 0.15 * timeout))
        self.fast = False
        self.fast_steps = 0
        self.fast_started: Optional[float] = None
        self.stop_reason: Optional[str] = None
        self.batches_served = 0
        self.loader_passes = 0
        self.fast_passes = 0
        self.fast_forward_enabled = bool(config.get("fast_forward", True))
        self.pending = {ti for ti, t in enumerate(self.targets) if t.code in FAST_TARGET_CODES}
        self.exercised: Dict[int, Dict[str, Any]] = {}
        self.eval_calls = 0
        self._eval_since_step = False
        self.functions_called: Dict[str, int] = {}
        self._watch: Dict[Tuple[str, int], str] = {}
        for t in self.targets:
            fn = t.function
            if t.code in FAST_TARGET_CODES and fn:
                self._watch[(t.path, int(fn["first"]))] = fn["name"]
        self._watch_lines = {line for _, line in self._watch}
        # The batch of an optimizer step: samples whose gradients were accumulated
        # since the last zero_grad (outermost module forwards under grad, per backward).
        self._depth = 0
        self._fwd_batch = 0
        self._loss_batch = 0
        self._accum = 0
        self._accum_backwards = 0
        self._zero_seen = False
        self.step_batches: List[Optional[int]] = []
        self.step_backwards: List[int] = []
        self._noise_acc: Optional[Dict[str, Any]] = None
        self._preclip: Optional[torch.Tensor] = None
        self._in_clip = False  # inside a wrapped clipping function
        self.grad_norms_clipped: List[Optional[torch.Tensor]] = []
        self.bn_seen: Dict[int, Dict[str, Any]] = {}
        # --overfit-batch N, --lr-find K
        self.overfit = int(config.get("overfit_batch") or 0)
        if self.overfit:
            self.steps_limit = self.overfit
            self.fast_forward_enabled = False
        self.lr_find = int(config.get("lr_find") or 0)
        self.lr_bounds = (float(config.get("lr_min") or 1e-7), float(config.get("lr_max") or 10.0))
        self.lr_trace: List[Dict[str, float]] = []
        self.lr_state: Optional[Dict[str, Any]] = None
        self.lr_done = not self.lr_find
        self.lr_note: Optional[str] = None
        self._lr_skip_post = False
        self.schedulers: List[weakref.ref] = []
        self.script_lrs: Optional[List[float]] = None
        self.progress_path = config.get("progress_path")
        self._progress_at = 0.0

    # -- frames ---------------------------------------------------------------
    def _abs(self, filename: str) -> str:
        hit = self._files.get(filename)
        if hit is None:
            hit = self._files[filename] = os.path.abspath(filename)
        return hit

    def _is_user(self, path: str) -> bool:
        if path.startswith(_TORCH) or path.startswith(_HERE) or path.startswith("<"):
            return False
        if self.user_dirs:
            return any(path.startswith(d) for d in self.user_dirs)
        return "site-packages" not in path

    def user_frames(self, depth: int = 2, limit: int = 12) -> List[Tuple[str, int, int]]:
        """(file, line, first line of the function) of user-code frames, innermost first."""
        out = []
        frame = sys._getframe(depth)
        while frame is not None and len(out) < limit:
            path = self._abs(frame.f_code.co_filename)
            if self._is_user(path):
                out.append((path, frame.f_lineno, frame.f_code.co_firstlineno))
            frame = frame.f_back
        return out

    def _match(self, frames) -> List[Tuple[int, int, str]]:
        hits = []
        for path, line, first in frames:
            for key in ((path, line), (path, first)):
                for ti, li in self.sites.get(key, ()):
                    hits.append((ti, li, f"{os.path.basename(path)}:{line}"))
        return hits

    # -- modules ----------------------------------------------------------------
    def on_module(self, module: nn.Module) -> None:
        self.all_modules.append(weakref.ref(module))
        if self.watch_modes and isinstance(module, (_DROPOUT, _BN)):
            module.register_forward_pre_hook(self._mode_hook)
        if self.watch_bn_batch and isinstance(module, _BN):
            module.register_forward_pre_hook(self._bn_batch_hook)
            frames = self.user_frames(3, limit=1)
            self.bn_seen[id(module)] = {
                "site": f"{os.path.basename(frames[0][0])}:{frames[0][1]}" if frames else "?",
                "layer": type(module).__name__, "sync": isinstance(module, nn.SyncBatchNorm), "sizes": {}}
        if not self.sites:
            return
        frames = self.user_frames(3, limit=6)
        seen = set()
        for ti, li, site in self._match(frames):
            code = self.targets[ti].code
            role = None
            if code == "HPL001":
                role = "bn" if isinstance(module, _BN) else "dropout" if isinstance(module, _DROPOUT) else None
            elif code == "HPL002":
                if isinstance(module, _BN):
                    role = "bn"
                elif isinstance(module, _AFFINE) and li == 0:
                    role = "affine"
            elif code == "HPL005" and isinstance(module, (nn.RNNBase, nn.RNNCellBase)):
                role = "rnn"
            if role and (ti, id(module)) not in seen:
                seen.add((ti, id(module)))
                self.roles.setdefault(ti, []).append((weakref.ref(module), role, li, site))
                # Kept alive past the script's end: runpy drops its namespace when
                # the stop exception unwinds, and `finish` still needs the layers.
                self._keep.append(module)
                if role == "bn" and code == "HPL001":
                    module.register_forward_pre_hook(self._bn_eval_hook)

    def _mode_hook(self, module, args) -> None:
        """Dropout/BatchNorm forwards whose mode does not fit the grad state: training
        mode under no_grad (HPL008: evaluation without eval()) and eval mode with
        gradients on (HPL010: training after validation without train())."""
        grad = torch.is_grad_enabled()
        if grad:
            if module.training:
                return
            key = "eval_grad"
        else:
            key = "train_nograd" if module.training else "eval_nograd"
        self.mode_events[key] += 1
        record = len(self.mode_sites) < MAX_STACK_EVENTS
        if not (record or self.pending):
            return
        frames = self.user_frames(2)
        hits = sorted({ti for ti, _, _ in self._match(frames)})
        if record:
            self.mode_sites.append({
                "training": module.training, "grad": grad, "module": type(module).__name__,
                "called_from": [f"{p}:{l}" for p, l, _ in frames[:4]], "targets": hits,
                "fast_forward": self.fast,
            })
        if self.pending:
            for ti in list(self.pending):
                code = self.targets[ti].code
                if (code == "HPL008" and not grad and ti in hits) or (code == "HPL010" and grad):
                    self._exercise(ti)
            if self.fast:
                self.fast_tick()

    # -- fast-forward: past the budget, until every targeted finding's code ran --------
    def _exercise(self, ti: int) -> None:
        self.pending.discard(ti)
        self.exercised[ti] = {"step": self.step_count, "fast_forward": self.fast, "fast_steps": self.fast_steps,
                              "loader_passes": self.loader_passes}

    def fast_tick(self) -> None:
        """Called from the loader, the optimizer and the mode hooks while fast-forwarding."""
        if not self.pending:
            self.stop_reason = "exercised"
            raise ProbeStop()
        if time.time() > self.ff_deadline:
            self.stop_reason = "timeout"
            raise ProbeStop()
        self._progress()

    def on_eval_call(self) -> None:
        """`module.train(False)` / `eval()` from user code (not torch's recursion)."""
        self.eval_calls += 1
        self._eval_since_step = True

    def _trace(self, frame, event, arg):
        """sys.settrace 'call' events: which watched functions (the ones holding an
        HPL008/HPL010 finding) were ever called. Removed once all were seen."""
        code = frame.f_code
        if code.co_firstlineno in self._watch_lines:
            key = (self._abs(code.co_filename), code.co_firstlineno)
            if key in self._watch:
                self.functions_called.setdefault(f"{key[0]}:{key[1]}", self.step_count)
                if len(self.functions_called) >= len(self._watch):
                    sys.settrace(None)
        return None

    def _progress(self, force: bool = False) -> None:
        if not self.progress_path:
            return
        now = time.time()
        if not force and now - self._progress_at < PROGRESS_EVERY_S:
            return
        self._progress_at = now
        data = {"steps": self.step_count, "budget": self.steps_limit, "fast_forward": self.fast,
                "fast_steps": self.fast_steps, "targets": len(self.targets),
                "exercised": len(self.targets) - len(self.pending),
                "lr_find": len(self.lr_trace) if not self.lr_done else None}
        try:
            tmp = self.progress_path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(data, f)
            os.replace(tmp, self.progress_path)
        except OSError:
            pass

    # -- the batch of an optimizer step ------------------------------------------------
    def _global_pre(self, module, args) -> None:
        if self._depth == 0 and not self.fast and torch.is_grad_enabled():
            n = _leading_dim(args)
            if n and n > self._fwd_batch:
                self._fwd_batch = n
        self._depth += 1

    def _global_post(self, module, args, kwargs, output) -> None:
        if self._depth > 0:
            self._depth -= 1
            if self._depth == 0 and kwargs and not args and not self.fast and torch.is_grad_enabled():
                # model(**batch) (Hugging Face Trainer): the global pre-hook sees no
                # keyword arguments, so the batch comes from them here, before backward.
                n = _leading_dim(tuple(kwargs.values()))
                if n and n > self._fwd_batch:
                    self._fwd_batch = n

    def on_zero_grad(self) -> None:
        """Gradients discarded: the samples (and noise-scale chunks) gathered so far
        belong to no step."""
        self._zero_seen = True
        self._last_loss = None
        self._accum = 0
        self._accum_backwards = 0
        self._noise_acc = None

    def _optimizer_params(self) -> List[torch.Tensor]:
        return [p for info in self.optimizers if info["ref"]() is not None
                for g in info["ref"]().param_groups for p in g["params"]]

    def _bn_batch_hook(self, module, args) -> None:
        if module.training and not self.fast and args and torch.is_tensor(args[0]):
            n = int(args[0].shape[0])
            seen = self.bn_seen.get(id(module))
            if seen is not None:
                seen["sizes"][n] = seen["sizes"].get(n, 0) + 1
            self.bn_train_forwards += 1
            self.bn_train_min_batch = n if self.bn_train_min_batch is None else min(n, self.bn_train_min_batch)

    def _bn_eval_hook(self, module, args) -> None:
        if getattr(self, "_collect_bn", None) is None or not args or not torch.is_tensor(args[0]):
            return
        x = args[0].detach().float()
        dims = [d for d in range(x.dim()) if d != 1]
        self._collect_bn[id(module)] = x.var(dim=dims, unbiased=False) if dims else x.var(unbiased=False)

    def _root_hook(self, module, args, kwargs) -> None:
        if module.training and not self.fast and torch.is_grad_enabled():
            self._root_inputs[id(module)] = (weakref.ref(module), (args, kwargs))

    def _find_roots(self) -> None:
        """Register input capture on the outermost modules holding an HPL001 BatchNorm."""
        self._roots_done = True
        bns = {id(ref()) for roles in self.roles.values() for ref, role, _, _ in roles
               if role == "bn" and ref() is not None}
        if not bns:
            return
        alive = [m for m in (r() for r in self.all_modules) if m is not None]
        children = {id(c) for m in alive for c in m.children()}
        for m in alive:
            if id(m) in children:
                continue
            inner = getattr(m, "module", None)
            if isinstance(inner, nn.Module) and type(m).__name__ in ("DistributedDataParallel", "DataParallel"):
                m = inner
            if any(id(sub) in bns for sub in m.modules()):
                m.register_forward_pre_hook(self._root_hook, with_kwargs=True)
                self._keep.append(m)

    # -- optimizers ---------------------------------------------------------------
    def on_optimizer(self, opt: Optimizer) -> None:
        frames = self.user_frames(3, limit=6)
        info = {"type": type(opt).__name__, "site": f"{frames[0][0]}:{frames[0][1]}" if frames else "",
                "steps": 0, "targets": sorted({ti for ti, _, _ in self._match(frames)
                                               if self.targets[ti].code == "HPL007"}),
                "ratios": [], "ref": weakref.ref(opt)}
        opt._hplint_probe = info  # type: ignore[attr-defined]
        self.optimizers.append(info)

    @staticmethod
    def _params(opt: Optimizer) -> List[torch.Tensor]:
        return [p for g in opt.param_groups for p in g["params"] if p.grad is not None and not p.grad.is_sparse]

    def pre_step(self, opt: Optimizer, args, kwargs):
        if not self._roots_done:
            self._find_roots()
        if self.fast:
            return None
        closure = kwargs.get("closure") if "closure" in kwargs else (args[0] if args else None)
        if callable(closure):
            # step(closure) (Lightning, LBFGS): the gradients exist only once the
            # closure ran inside step(), so measure then, on its first call.
            done = []

            def measured_closure(*a, **k):
                out = closure(*a, **k)
                if not done:
                    done.append(True)
                    self._pre_body(opt)
                return out

            if "closure" in kwargs:
                return args, dict(kwargs, closure=measured_closure)
            return (measured_closure,) + tuple(args[1:]), kwargs
        self._pre_body(opt)
        return None

    def _pre_body(self, opt: Optimizer) -> None:
        if not self.lr_done:
            self._lr_pre(opt)
            return
        params = self._params(opt)
        if not params:
            return
        if self.device is None:
            self.device = str(params[0].device)
        with torch.no_grad():
            grads = [p.grad for p in params]
            measured = _sq_norm(grads).sqrt()
            pre, self._preclip = self._preclip, None
            # Before any clipping the script does: what clip_grad_norm_ was given.
            self.grad_norms.append(pre if pre is not None else measured)
            self.grad_norms_clipped.append(measured if pre is not None else None)
            self.losses.append(self._last_loss)
            self._last_loss = None
            self.step_batches.append(self._accum or None)
            self.step_backwards.append(self._accum_backwards)
            self._finish_noise_step(self._accum or None)
            self._snapshots[id(opt)] = (params, [p.detach().clone() for p in params])
            for ti, roles in self.roles.items():
                for ref, role, _, site in roles:
                    module = ref()
                    if role == "affine" and module is not None:
                        self._bias_ratio(ti, module, site)

    def _bias_ratio(self, ti: int, module: nn.Module, site: str) -> None:
        bias, weight = getattr(module, "bias", None), getattr(module, "weight", None)
        if bias is None or weight is None or bias.grad is None or weight.grad is None:
            return
        ratio = float(bias.grad.norm() / (weight.grad.norm() + 1e-30))
        layers = self.per_target[ti].setdefault("layers", {})
        entry = layers.setdefault(site, {"site": site, "layer": type(module).__name__,
                                         "bias_params": bias.numel(), "max_ratio": 0.0, "steps": 0})
        entry["max_ratio"] = max(entry["max_ratio"], ratio)
        entry["steps"] += 1

    def post_step(self, opt: Optimizer, args, kwargs) -> None:
        if self._eval_since_step:  # a training step after an eval() call: HPL010's code ran
            self._eval_since_step = False
            for ti in [ti for ti in self.pending if self.targets[ti].code == "HPL010"]:
                self._exercise(ti)
        if self.fast:
            self.fast_steps += 1
            self.fast_tick()
            return
        if not self.lr_done or self._lr_skip_post:
            self._lr_skip_post = False
            self._lr_post(opt)
            return
        snap = self._snapshots.pop(id(opt), None)
        info = getattr(opt, "_hplint_probe", None)
        if snap is not None:
            params, before = snap
            with torch.no_grad():
                delta = torch._foreach_sub([p.detach() for p in params], before)
                ratio = _sq_norm(delta).sqrt() / (_sq_norm(before).sqrt() + 1e-12)
            self.update_ratios.append(ratio)
            if info is not None:
                info["ratios"].append(ratio)
        if info is not None:
            info["steps"] += 1
            info["lrs"] = [float(g["lr"]) for g in opt.param_groups]
            self.step_count = max(self.step_count, info["steps"])
        else:
            self.step_count += 1
        if self.step_count >= self.steps_limit:
            if self.fast_forward_enabled and self.pending:
                self.fast = True  # the budget is spent: run on cheaply until the targets' code ran
                self.fast_started = time.time()
                self._progress(force=True)
                return
            self.stop_reason = "budget"
            raise ProbeStop()
        self._progress()

    # -- --lr-find K: exponential learning-rate range test, then everything restored ------
    def _lr_pre(self, opt: Optimizer) -> None:
        state = self.lr_state
        if state is None:
            modules = [m for m in (r() for r in self.all_modules) if m is not None]
            buffers = [b for m in modules for b in m._buffers.values() if torch.is_tensor(b)]
            state = self.lr_state = {
                "opt": weakref.ref(opt), "optim_state": copy.deepcopy(opt.state_dict()),
                "params": [(p, p.detach().clone()) for g in opt.param_groups for p in g["params"]],
                "buffers": [(b, b.detach().clone()) for b in buffers],
                "schedulers": [(s, copy.deepcopy(s.state_dict())) for s in (r() for r in self.schedulers)
                               if s is not None],
                "i": 0, "lr": None, "initial_loss": None}
            self.script_lrs = [float(g["lr"]) for g in opt.param_groups]
        if state["opt"]() is not opt or not self.script_lrs:
            return
        loss = self._last_loss
        self._last_loss = None
        value = float(loss) if loss is not None else None
        if state["i"] == 0:
            state["initial_loss"] = value
        elif value is not None:  # the loss after the previous step, taken at the previous lr
            self.lr_trace.append({"lr": state["lr"], "loss": value})
            finite = [x["loss"] for x in self.lr_trace if math.isfinite(x["loss"])]
            if not math.isfinite(value) or (finite and value > 4 * max(min(finite), 1e-12)
                                            and len(self.lr_trace) > 3):
                self.lr_note = "stopped early: the loss diverged"
                self._lr_restore(zero_grads=True)
                self._lr_skip_post = True
                return
        lo, hi = self.lr_bounds
        lr = lo * (hi / lo) ** (state["i"] / max(1, self.lr_find - 1))
        base = self.script_lrs[0] or 1.0
        for g, script_lr in zip(opt.param_groups, self.script_lrs):
            g["lr"] = lr * (script_lr / base if base else 1.0)  # keep the groups' ratios
        state["lr"] = lr

    def _lr_post(self, opt: Optimizer) -> None:
        state = self.lr_state
        if state is None or state["opt"]() is not opt or self.lr_done:
            return
        state["i"] += 1
        if state["i"] >= self.lr_find:
            self._lr_restore(zero_grads=False)

    def _lr_restore(self, zero_grads: bool) -> None:
        """Model, buffers, optimizer state (its lr included) and schedulers as they
        were before the first lr-find step; the script trains on from there."""
        state = self.lr_state
        self.lr_done = True
        if state is None:
            return
        opt = state["opt"]()
        with torch.no_grad():
            for p, saved in state["params"]:
                p.copy_(saved)
                if zero_grads and p.grad is not None:
                    p.grad.zero_()  # the step about to run must not move the restored weights
            for b, saved in state["buffers"]:
                b.copy_(saved)
        if opt is not None:
            opt.load_state_dict(state["optim_state"])
        for sched, saved in state["schedulers"]:
            sched.load_state_dict(saved)
        state["params"] = state["buffers"] = []
        state["restored"] = True

    # -- losses, backward, noise scale -------------------------------------------
    def on_backward(self, tensor) -> None:
        """Before a backward pass adds into .grad: count its samples into the step."""
        if self.fast:
            return
        if not self._zero_seen and self.optimizers:
            # No zero_grad seen: gradients set to None by hand also start a new step.
            first = next((p for p in self._optimizer_params() if p.requires_grad), None)
            if first is not None and first.grad is None:
                self.on_zero_grad()
                self._zero_seen = False
        if torch.is_tensor(tensor) and tensor.numel() == 1:
            # The step's loss: what its backward passes added up (micro-batch losses
            # divided by the accumulation count sum to the batch's loss).
            value = tensor.detach().reshape(()).float()
            self._last_loss = value if self._last_loss is None else self._last_loss + value
        self._accum += self._fwd_batch or self._loss_batch
        self._accum_backwards += 1
        # A clip before this backward saw part of the step's gradients (clipping
        # every micro-batch, as accelerator.clip_grad_norm_ allows): the step's
        # pre-clip norm is taken at the next clip, once more gradients came in.
        self._preclip = None
        self._fwd_batch = self._loss_batch = 0
        pending, self._noise_pending = self._noise_pending, None
        if pending is not None:
            try:
                self._estimate_noise(pending[1])
            except Exception as exc:  # the estimate is optional; the run goes on
                self.noise_note = f"noise-scale estimate failed: {type(exc).__name__}: {exc}"

    def want_noise_now(self) -> bool:
        return (self.want_noise and not self.fast and self.lr_done and len(self.noise) < NOISE_STEPS
                and bool(self.optimizers) and torch.is_grad_enabled())

    def _estimate_noise(self, per_sample: torch.Tensor) -> None:
        """McCandlish et al. (2018), appendix A: |G|^2 and tr(Sigma) from gradient
        norms at two batch sizes: chunks of each backward's loss (small), and all
        chunks of the optimizer step together (big: the step's whole batch, with
        gradient accumulation every micro-batch). Chunks of passes whose gradients
        are discarded (zero_grad before the step) are dropped with them."""
        batch = per_sample.shape[0]
        acc = self._noise_acc
        used = acc["chunks"] if acc else 0
        chunks = min(NOISE_CHUNKS, batch, NOISE_MAX_CHUNKS_PER_STEP - used)
        if chunks < 2:
            return
        small = batch // chunks
        params = [p for p in self._optimizer_params() if p.requires_grad]
        if acc is None:
            acc = self._noise_acc = {"sum": None, "sq": 0.0, "chunks": 0, "samples": 0, "inv": 0.0, "losses": 0}
        for i in range(chunks):
            grads = torch.autograd.grad(per_sample[i * small:(i + 1) * small].mean(), params,
                                        retain_graph=True, allow_unused=True)
            grads = [g.detach() if g is not None else torch.zeros_like(p) for g, p in zip(grads, params)]
            acc["sq"] += float(_sq_norm(grads))
            weighted = torch._foreach_mul(grads, float(small))
            acc["sum"] = weighted if acc["sum"] is None else torch._foreach_add(acc["sum"], weighted)
        acc["chunks"] += chunks
        acc["samples"] += small * chunks
        acc["inv"] += chunks / small
        acc["losses"] += 1

    def _finish_noise_step(self, step_batch: Optional[int]) -> None:
        acc, self._noise_acc = self._noise_acc, None
        if not acc or acc["chunks"] < 2 or acc["sum"] is None:
            return
        big = float(_sq_norm([t / acc["samples"] for t in acc["sum"]]))
        self.noise.append({"batch": step_batch or acc["samples"], "b_small": acc["chunks"] / acc["inv"],
                           "b_big": acc["samples"], "g2_small": acc["sq"] / acc["chunks"], "g2_big": big,
                           "losses_split": acc["losses"]})

    def wrap_loss(self, fn, name: str):
        recorder = self

        def loss(*args, **kwargs):
            if args and torch.is_tensor(args[0]) and args[0].dim() >= 1 and torch.is_grad_enabled():
                recorder._loss_batch = max(recorder._loss_batch, int(args[0].shape[0]))
            if name == "cross_entropy" and recorder.ce_initial is None and torch.is_grad_enabled() \
                    and args and torch.is_tensor(args[0]) and args[0].dim() >= 2:
                recorder.ce_initial = {"classes": int(args[0].shape[1])}
                out = fn(*args, **kwargs)
                recorder.ce_initial["loss"] = out.detach().float().mean()
                return out
            if recorder.want_noise_now() and len(args) == 2 and kwargs.get("reduction", "mean") == "mean" \
                    and not ({"weight", "size_average", "reduce", "pos_weight"} & set(kwargs)) \
                    and torch.is_tensor(args[0]) and args[0].dim() >= 1 and args[0].shape[0] >= 2:
                target = args[1]
                if name in ("cross_entropy", "nll_loss") and torch.is_tensor(target) and not target.is_floating_point():
                    if bool((target == kwargs.get("ignore_index", -100)).any()):
                        return fn(*args, **kwargs)
                per = fn(*args, **{**kwargs, "reduction": "none"})
                if per.dim() == 0 or per.shape[0] != args[0].shape[0]:
                    return fn(*args, **kwargs)
                per_sample = per.reshape(per.shape[0], -1).mean(1)
                out = per_sample.mean()
                recorder._noise_pending = (out, per_sample)
                return out
            return fn(*args, **kwargs)

        loss.__wrapped__ = fn  # type: ignore[attr-defined]
        return loss

    def wrap_clip(self, fn, kind: str):
        recorder = self

        def clip(*args, **kwargs):
            if recorder.fast or not recorder.lr_done or recorder._in_clip:
                # Nested: torch's clip_grad_norm_ calls clip_grads_with_norm_ itself.
                return fn(*args, **kwargs)
            bound = kwargs.get("max_norm", kwargs.get("clip_value", args[1] if len(args) > 1 else None))
            if isinstance(bound, (int, float)) and not math.isfinite(bound):
                # clip_grad_norm_(params, inf) only measures (Hugging Face Trainer's
                # gradient-norm log with max_grad_norm=0): nothing is clipped.
                return fn(*args, **kwargs)
            if recorder._preclip is None:
                with torch.no_grad():
                    grads = [p.grad for p in recorder._optimizer_params() if p.grad is not None and not p.grad.is_sparse]
                    recorder._preclip = _sq_norm(grads).sqrt() if grads else None
            recorder._in_clip = True
            try:
                out = fn(*args, **kwargs)
            finally:
                recorder._in_clip = False
            # clip_grads_with_norm_(params, max_norm, total_norm) returns None: its norm is an argument.
            norm = out if kind != "clip_grads_with_norm_" else kwargs.get("total_norm", args[2] if len(args) > 2 else None)
            recorder.clip_calls.append({"kind": kind, "bound": float(bound) if bound is not None else None,
                                        "norm": norm.detach() if torch.is_tensor(norm) else None})
            return out

        clip.__wrapped__ = fn  # type: ignore[attr-defined]
        return clip

    def wrap_functional_dropout(self, fn):
        recorder = self

        def dropout(input, p=0.5, training=True, inplace=False):
            if training and not torch.is_grad_enabled() and len(recorder.functional_dropout_nograd) < 50:
                caller = recorder._abs(sys._getframe(1).f_code.co_filename)
                frames = recorder.user_frames(2, limit=4) if recorder._is_user(caller) else []
                if frames:  # called from user code, not from nn.Dropout
                    recorder.functional_dropout_nograd.append({
                        "called_from": [f"{p_}:{l}" for p_, l, _ in frames],
                        "targets": sorted({ti for ti, _, _ in recorder._match(frames)})})
            return fn(input, p, training, inplace)

        dropout.__wrapped__ = fn  # type: ignore[attr-defined]
        return dropout

    # -- the end of the run ---------------------------------------------------------
    def finish(self) -> None:
        """Variance-shift passes for HPL001: the captured last training batch, once
        with every module in eval mode and once with only the dropouts in training
        mode; BatchNorm input variance is compared between them and with running_var."""
        bn_targets = {ti: [(ref, site) for ref, role, _, site in roles if role == "bn"]
                      for ti, roles in self.roles.items() if self.targets[ti].code == "HPL001"}
        if not any(bn_targets.values()):
            return
        passes: Dict[str, Dict[int, torch.Tensor]] = {}
        for mode in ("eval", "dropout_on"):
            self._collect_bn = {}
            for ref, (args, kwargs) in list(self._root_inputs.values()):
                root = ref()
                if root is None:
                    continue
                states = {m: m.training for m in root.modules()}
                try:
                    root.eval()
                    if mode == "dropout_on":
                        for m in root.modules():
                            if isinstance(m, _DROPOUT):
                                m.train()
                    with torch.no_grad():
                        root(*args, **kwargs)
                except Exception as exc:
                    for ti in bn_targets:
                        self.per_target[ti]["error"] = f"eval pass failed: {type(exc).__name__}: {exc}"
                finally:
                    for m, training in states.items():
                        m.training = training
            passes[mode] = self._collect_bn
        self._collect_bn = None
        for ti, bns in bn_targets.items():
            out = []
            for ref, site in bns:
                bn = ref()
                if bn is None:
                    continue
                entry: Dict[str, Any] = {"site": site, "layer": type(bn).__name__,
                                         "channels": getattr(bn, "num_features", None)}
                eval_var = passes.get("eval", {}).get(id(bn))
                on_var = passes.get("dropout_on", {}).get(id(bn))
                eps = float(getattr(bn, "eps", 1e-5))
                if eval_var is not None and on_var is not None:
                    entry["dropout_shift"] = float(((on_var + eps) / (eval_var + eps)).mean())
                running = getattr(bn, "running_var", None)
                tracked = getattr(bn, "num_batches_tracked", None)
                if eval_var is not None and running is not None and tracked is not None and int(tracked) > 0:
                    n = int(tracked)
                    momentum = bn.momentum
                    run = running.detach().float()
                    if momentum is not None:  # undo the pull towards the initial running_var of 1
                        keep = (1 - momentum) ** n
                        run = (run - keep) / max(1 - keep, 1e-6)
                    entry["running_shift"] = float(((run + eps) / (eval_var.to(run.device) + eps)).mean())
                    entry["batches_tracked"] = n
                out.append(entry)
            self.per_target[ti]["batchnorms"] = out

    def measurements(self) -> Dict[str, Any]:
        def num(t) -> Optional[float]:
            if t is None:
                return None
            value = float(t)
            return value if math.isfinite(value) else (str(value))

        opts = []
        for info in self.optimizers:
            opts.append({"type": info["type"], "site": info["site"], "steps": info["steps"],
                         "targets": info["targets"], "update_ratios": [num(r) for r in info["ratios"]],
                         "lrs": info.get("lrs")})
        ce = None
        if self.ce_initial is not None and "loss" in self.ce_initial:
            ce = {"classes": self.ce_initial["classes"], "loss": num(self.ce_initial["loss"])}
        roles = {str(ti): [{"role": role, "site": site, "type": type(ref()).__name__ if ref() else None}
                           for ref, role, _, site in items] for ti, items in self.roles.items()}
        world = 1
        try:
            import torch.distributed as dist

            if dist.is_available() and dist.is_initialized():
                world = dist.get_world_size()
        except Exception:
            pass
        bn_layers = []
        for info in self.bn_seen.values():
            sizes = info["sizes"]
            if not sizes:
                continue
            ordered = sorted(n for n, c in sizes.items() for _ in range(min(c, 10000)))
            median = ordered[len(ordered) // 2]
            scale = world if info["sync"] else 1  # SyncBatchNorm pools the batch over the ranks
            bn_layers.append({"site": info["site"], "layer": info["layer"], "sync": info["sync"],
                              "local_min": min(sizes), "local_median": median, "forwards": sum(sizes.values()),
                              "effective_median": median * scale, "effective_min": min(sizes) * scale})
        lr_find = None
        if self.lr_find:
            state = self.lr_state or {}
            lr_find = {"steps": self.lr_find, "bounds": list(self.lr_bounds), "trace": self.lr_trace,
                       "initial_loss": state.get("initial_loss"), "script_lrs": self.script_lrs,
                       "restored": bool(state.get("restored")), "note": self.lr_note}
        cuda = torch.cuda.is_available()
        device_info = {"torch": torch.__version__, "cuda_available": cuda,
                       "cuda_devices": torch.cuda.device_count() if cuda else 0,
                       "cuda_build": torch.version.cuda,
                       "visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}
        if cuda and self.device and self.device.startswith("cuda"):
            try:
                device_info["name"] = torch.cuda.get_device_name(torch.device(self.device))
            except Exception:
                pass
        return {
            "steps": self.step_count,
            "device": self.device,
            "device_info": device_info,
            "world_size": world,
            "step_batches": self.step_batches,
            "step_backwards": self.step_backwards,
            "grad_norms_clipped": [num(g) for g in self.grad_norms_clipped],
            "bn_layers": bn_layers,
            "fast_forward": {"enabled": self.fast_forward_enabled, "active": self.fast, "steps": self.fast_steps,
                             "seconds": round(time.time() - self.fast_started, 2) if self.fast_started else 0.0,
                             "deadline_s": round(self.ff_deadline - time.time(), 1),
                             "loader_passes": self.fast_passes},
            "stop_reason": self.stop_reason,
            "loader_passes": self.loader_passes,
            "batches_served": self.batches_served,
            "exercised": {str(k): v for k, v in self.exercised.items()},
            "pending": sorted(self.pending),
            "functions_called": self.functions_called,
            "eval_calls": self.eval_calls,
            "overfit_batch": self.overfit or None,
            "lr_find": lr_find,
            "grad_norms": [num(g) for g in self.grad_norms],
            "update_ratios": [num(r) for r in self.update_ratios],
            "losses": [num(x) for x in self.losses],
            "optimizers": opts,
            "clip_calls": [{"kind": c["kind"], "bound": c["bound"], "norm": num(c["norm"])} for c in self.clip_calls],
            "loader_batch_sizes": self.loader_batch_sizes[:20],
            "ce_initial": ce,
            "noise": self.noise,
            "noise_note": self.noise_note,
            "mode_events": self.mode_events,
            "mode_sites": self.mode_sites,
            "functional_dropout_nograd": self.functional_dropout_nograd,
            "bn_train_min_batch": self.bn_train_min_batch,
            "bn_train_forwards": self.bn_train_forwards,
            "roles": roles,
            "targets": {str(k): v for k, v in self.per_target.items() if v},
        }


def install(config: Dict[str, Any]) -> Recorder:
    """Patch torch for this process; returns the recorder that holds the figures."""
    rec = Recorder(config)

    module_init = nn.Module.__init__

    def init(self, *args, **kwargs):
        module_init(self, *args, **kwargs)
        rec.on_module(self)

    nn.Module.__init__ = init  # type: ignore[method-assign]

    optimizer_init = Optimizer.__init__

    def opt_init(self, *args, **kwargs):
        optimizer_init(self, *args, **kwargs)
        rec.on_optimizer(self)

    Optimizer.__init__ = opt_init  # type: ignore[method-assign]
    register_optimizer_step_pre_hook(rec.pre_step)
    register_optimizer_step_post_hook(rec.post_step)

    loader_iter = DataLoader.__iter__

    def iterate(self):
        if len(rec.loader_batch_sizes) < 20:
            rec.loader_batch_sizes.append(self.batch_size)
        rec.loader_passes += 1
        if rec.fast:
            rec.fast_passes += 1
            rec.fast_tick()
        return _Truncated(loader_iter(self), rec.batches, rec, repeat=self if rec.overfit else None)

    DataLoader.__iter__ = iterate  # type: ignore[method-assign]

    # Tensor.backward calls torch.autograd.backward: one patch sees both spellings.
    autograd_backward = torch.autograd.backward

    def patched_backward(tensors, *args, **kwargs):
        first = tensors[0] if isinstance(tensors, (list, tuple)) and tensors else tensors
        rec.on_backward(first)
        return autograd_backward(tensors, *args, **kwargs)

    patched_backward.__wrapped__ = autograd_backward  # type: ignore[attr-defined]
    torch.autograd.backward = patched_backward

    for holder in (Optimizer, nn.Module):
        zero_grad = holder.zero_grad

        def patched_zero_grad(self, *args, _inner=zero_grad, **kwargs):
            rec.on_zero_grad()
            return _inner(self, *args, **kwargs)

        holder.zero_grad = patched_zero_grad  # type: ignore[method-assign]

    module_train = nn.Module.train
    train_code = module_train.__code__

    def patched_train(self, mode=True):
        if not mode and sys._getframe(1).f_code is not train_code:  # not torch's own recursion
            rec.on_eval_call()
        return module_train(self, mode)

    nn.Module.train = patched_train  # type: ignore[method-assign]
    register_module_forward_pre_hook(rec._global_pre)
    register_module_forward_hook(rec._global_post, with_kwargs=True, always_call=True)

    try:
        from torch.optim.lr_scheduler import LRScheduler

        scheduler_init = LRScheduler.__init__

        def sched_init(self, *args, **kwargs):
            scheduler_init(self, *args, **kwargs)
            rec.schedulers.append(weakref.ref(self))

        LRScheduler.__init__ = sched_init  # type: ignore[method-assign]
    except ImportError:
        pass
    if rec._watch:
        sys.settrace(rec._trace)

    for name in ("cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
                 "binary_cross_entropy", "binary_cross_entropy_with_logits"):
        if hasattr(F, name):
            setattr(F, name, rec.wrap_loss(getattr(F, name), name))

    clip_mod = torch.nn.utils.clip_grad
    # clip_grads_with_norm_: accelerate >= 1.x clips with get_total_norm + clip_grads_with_norm_.
    for name in ("clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "clip_grads_with_norm_"):
        for holder in (torch.nn.utils, clip_mod):
            fn = getattr(holder, name, None)
            if fn is not None:
                setattr(holder, name, rec.wrap_clip(getattr(fn, "__wrapped__", fn), name))
    if rec.watch_modes:
        F.dropout = rec.wrap_functional_dropout(F.dropout)
    return rec
