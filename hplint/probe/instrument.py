"""The child-side instrumentation (imports torch): patches installed before the
user's script starts, which cut the run short and record what the verdicts need.

Per-step cost is kept low: hooks go only on the modules a finding names (plus
every Dropout/BatchNorm when an eval-mode or batch-size finding asks for
them), one fused gradient-norm and update-norm computation per optimizer step,
and the expensive gradient-noise-scale estimate only for HPL006 and only on
the first few steps.
"""

from __future__ import annotations

import math
import os
import sys
import weakref
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
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
NOISE_CHUNKS = 8  # micro-batches per estimate


class ProbeStop(BaseException):
    """Raised from the optimizer hook after the last probe step: a clean end,
    and a BaseException so that the script's own `except Exception` lets it pass."""


class _Truncated:
    """A DataLoader iterator cut to `limit` batches."""

    def __init__(self, inner, limit: int) -> None:
        self._inner, self._left = inner, limit
        try:
            self._len = min(len(inner), limit)
        except TypeError:
            self._len = limit

    def __iter__(self):
        return self

    def __next__(self):
        if self._left <= 0:
            raise StopIteration
        self._left -= 1
        return next(self._inner)

    def __len__(self) -> int:
        return self._len

    def __getattr__(self, name):
        return getattr(self._inner, name)


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
        if len(self.mode_sites) < MAX_STACK_EVENTS:
            frames = self.user_frames(2)
            self.mode_sites.append({
                "training": module.training, "grad": grad, "module": type(module).__name__,
                "called_from": [f"{p}:{l}" for p, l, _ in frames[:4]],
                "targets": sorted({ti for ti, _, _ in self._match(frames)}),
            })

    def _bn_batch_hook(self, module, args) -> None:
        if module.training and args and torch.is_tensor(args[0]):
            n = int(args[0].shape[0])
            self.bn_train_forwards += 1
            self.bn_train_min_batch = n if self.bn_train_min_batch is None else min(n, self.bn_train_min_batch)

    def _bn_eval_hook(self, module, args) -> None:
        if getattr(self, "_collect_bn", None) is None or not args or not torch.is_tensor(args[0]):
            return
        x = args[0].detach().float()
        dims = [d for d in range(x.dim()) if d != 1]
        self._collect_bn[id(module)] = x.var(dim=dims, unbiased=False) if dims else x.var(unbiased=False)

    def _root_hook(self, module, args, kwargs) -> None:
        if module.training and torch.is_grad_enabled():
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

    def pre_step(self, opt: Optimizer, args, kwargs) -> None:
        if not self._roots_done:
            self._find_roots()
        params = self._params(opt)
        if not params:
            return
        if self.device is None:
            self.device = str(params[0].device)
        with torch.no_grad():
            grads = [p.grad for p in params]
            self.grad_norms.append(_sq_norm(grads).sqrt())
            self.losses.append(self._last_loss)
            self._last_loss = None
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
            self.step_count = max(self.step_count, info["steps"])
        else:
            self.step_count += 1
        if self.step_count >= self.steps_limit:
            raise ProbeStop()

    # -- losses, backward, noise scale -------------------------------------------
    def on_backward(self, tensor: torch.Tensor) -> None:
        if tensor.numel() == 1:
            self._last_loss = tensor.detach().reshape(())
        pending = self._noise_pending
        if pending is not None and pending[0] is tensor:
            self._noise_pending = None
            try:
                self._estimate_noise(pending[1])
            except Exception as exc:  # the estimate is optional; the run goes on
                self.noise_note = f"noise-scale estimate failed: {type(exc).__name__}: {exc}"

    def want_noise_now(self) -> bool:
        return self.want_noise and len(self.noise) < NOISE_STEPS and bool(self.optimizers) and torch.is_grad_enabled()

    def _estimate_noise(self, per_sample: torch.Tensor) -> None:
        """McCandlish et al. (2018), appendix A: |G|^2 and tr(Sigma) from gradient
        norms at two batch sizes (micro-batches of this batch, and the batch)."""
        batch = per_sample.shape[0]
        chunks = min(NOISE_CHUNKS, batch)
        if chunks < 2:
            return
        small = batch // chunks
        params = [p for info in self.optimizers if info["ref"]() is not None
                  for g in info["ref"]().param_groups for p in g["params"] if p.requires_grad]
        total = None
        small_sq = 0.0
        for i in range(chunks):
            grads = torch.autograd.grad(per_sample[i * small:(i + 1) * small].mean(), params,
                                        retain_graph=True, allow_unused=True)
            grads = [g if g is not None else torch.zeros_like(p) for g, p in zip(grads, params)]
            small_sq += float(_sq_norm(grads))
            total = grads if total is None else torch._foreach_add(total, grads)
        big = small * chunks
        big_sq = float(_sq_norm([t / chunks for t in total]))
        self.noise.append({"batch": batch, "b_small": small, "b_big": big,
                           "g2_small": small_sq / chunks, "g2_big": big_sq})

    def wrap_loss(self, fn, name: str):
        recorder = self

        def loss(*args, **kwargs):
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
            out = fn(*args, **kwargs)
            bound = kwargs.get("max_norm", kwargs.get("clip_value", args[1] if len(args) > 1 else None))
            recorder.clip_calls.append({"kind": kind, "bound": float(bound) if bound is not None else None,
                                        "norm": out.detach() if torch.is_tensor(out) else None})
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
                         "targets": info["targets"], "update_ratios": [num(r) for r in info["ratios"]]})
        ce = None
        if self.ce_initial is not None and "loss" in self.ce_initial:
            ce = {"classes": self.ce_initial["classes"], "loss": num(self.ce_initial["loss"])}
        roles = {str(ti): [{"role": role, "site": site, "type": type(ref()).__name__ if ref() else None}
                           for ref, role, _, site in items] for ti, items in self.roles.items()}
        return {
            "steps": self.step_count,
            "device": self.device,
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
        return _Truncated(loader_iter(self), rec.batches)

    DataLoader.__iter__ = iterate  # type: ignore[method-assign]

    backward = torch.Tensor.backward

    def patched_backward(self, *args, **kwargs):
        rec.on_backward(self)
        return backward(self, *args, **kwargs)

    torch.Tensor.backward = patched_backward  # type: ignore[method-assign]

    for name in ("cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
                 "binary_cross_entropy", "binary_cross_entropy_with_logits"):
        if hasattr(F, name):
            setattr(F, name, rec.wrap_loss(getattr(F, name), name))

    clip_mod = torch.nn.utils.clip_grad
    for name in ("clip_grad_norm_", "clip_grad_norm", "clip_grad_value_"):
        for holder in (torch.nn.utils, clip_mod):
            fn = getattr(holder, name, None)
            if fn is not None:
                setattr(holder, name, rec.wrap_clip(getattr(fn, "__wrapped__", fn), name))
    if rec.watch_modes:
        F.dropout = rec.wrap_functional_dropout(F.dropout)
    return rec
