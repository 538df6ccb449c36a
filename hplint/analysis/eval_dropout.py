"""Dropout and BatchNorm left active at evaluation (the facts of HPL008).

(a) Evaluation code is a function named like evaluation (evaluate, validate,
val, test, predict, infer...), a function decorated `@torch.no_grad()` /
`@torch.inference_mode()`, or a `with torch.no_grad()` / `inference_mode()` /
`set_grad_enabled(False)` block. A call of a model holding Dropout or BatchNorm
there is an `UnswitchedEval` unless `eval()` (or `train(False)`) ran on it on
every path before the call — in the function itself, or, when the model is a
parameter or `self.<attr>`, at every call site of the function in this file.
A helper of this file called there (in a no-grad block, or from a function
named like evaluation) that runs the model is reported at the helper call.
Methods of Lightning modules and Hugging Face Trainer subclasses (also through
project base classes; not Lightning callbacks) are left to the framework,
which switches modes itself; pytest/unittest test functions are
not evaluation code; a model just built and not loaded (a shape check), and a
no-grad block that feeds the training step of its loop, are not evaluation;
a model run N times on one input by a `range` loop is Monte-Carlo dropout.

(b) A `FunctionalDropout`: `F.dropout(x, p)` (training defaults to True),
`F.dropout(x, p, True)`, `torch.dropout(x, p, train=True)` in a method of an
`nn.Module` subclass, outside `if self.training:`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import libcst as cst

from . import layers as L
from .arguments import call_argument, call_name
from .grad_mode import NO_GRAD, SET_GRAD
from .imports import dotted_name
from .model.interpreter import is_self_attr
from .modes import ModeAnalysis, is_eval_name, model_key, train_mode_argument
from .module import CallSite
from .testing_code import is_test_file, is_test_function
from .training import TrainingAnalysis, _is_method, body_statements, called_module, function_params, locate_symbol, unwrap
from .walk import children, contains, walk

_F = "torch.nn.functional."
# qualified name -> (slot of the training flag, its keyword, default when omitted)
FUNCTIONAL_DROPOUT = {
    _F + "dropout": (2, "training", True),
    _F + "dropout1d": (2, "training", True),
    _F + "dropout2d": (2, "training", True),
    _F + "dropout3d": (2, "training", True),
    _F + "alpha_dropout": (2, "training", False),
    _F + "feature_alpha_dropout": (2, "training", False),
    "torch.dropout": (2, "train", None),
    "torch.alpha_dropout": (2, "train", None),
    "torch.feature_dropout": (2, "train", None),
    "torch.feature_alpha_dropout": (2, "train", None),
}
# A dropout module built and called in one expression inside a method
# (NGCF's `nn.Dropout(p)(x)` in `forward`): never a submodule, so `eval()`
# cannot reach it and it stays on, as `F.dropout(x, p)` does. Its functional twin.
MODULE_DROPOUT_TWIN = {
    "torch.nn.Dropout": "dropout", "torch.nn.Dropout1d": "dropout1d", "torch.nn.Dropout2d": "dropout2d",
    "torch.nn.Dropout3d": "dropout3d", "torch.nn.AlphaDropout": "alpha_dropout",
    "torch.nn.FeatureAlphaDropout": "feature_alpha_dropout",
}
_FRAMEWORK_PREFIXES = ("lightning.pytorch", "transformers.")
_WEIGHT_LOADERS = ("load_state_dict", "load", "from_pretrained", "load_from_checkpoint")


@dataclass
class FunctionalDropout:
    """A functional dropout call that stays active in eval mode."""

    site: CallSite
    fn: cst.FunctionDef
    klass: cst.ClassDef
    slot: int
    keyword: str
    arg: Optional[cst.BaseExpression]  # the training flag as written; None when omitted
    self_name: str
    # `nn.Dropout(p)(x)`: the module built in place (the call's `func`), whose
    # functional twin (`dropout`) takes its arguments; None for `F.dropout(...)`.
    built: Optional[cst.Call] = None
    twin: str = ""


@dataclass
class UnswitchedEval:
    """A call in evaluation code of a model that may be in training mode."""

    site: CallSite
    fn: Optional[cst.FunctionDef]
    why: str  # why this is evaluation code
    whole: bool  # the whole function is evaluation code (not only a no-grad block)
    mkey: str  # the model expression, `model` / `self.net`
    ref: Any  # the training analysis' ModelRef of the model
    layer: Any  # the Dropout / BatchNorm it holds
    # `mkey.train()` calls before this one in the function, in source order.
    trains_before: List[cst.CSTNode] = field(default_factory=list)
    # Where `mkey.eval()` belongs: the function's first statement (whole) or
    # the outermost `with` that holds the call; None when there is no such place.
    eval_at: Optional[cst.CSTNode] = None
    resumes_training: bool = False  # the function trains after evaluating
    # A helper call in a no-grad block (`compute_accuracy(model, loader)`): the
    # model call inside the helper that runs the model.
    through: Optional[CallSite] = None
    through_ctx: Any = None  # the file of `through` when it is another file's helper


class EvalDropoutAnalysis:
    """`ctx.fact("eval_dropout", EvalDropoutAnalysis)`: `functional` and `evaluation`."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        # (id(fn), id(klass), depth) -> _own_method_called_elsewhere, asked once per model call
        self._own_methods: Dict[Tuple[int, int, int], bool] = {}
        self._regions: Dict[int, Tuple[Any, Any, str, bool]] = {}
        self.functional: List[FunctionalDropout] = list(self._functional())
        self.evaluation: List[UnswitchedEval] = [
            found for found in self._evaluation() if not _forward_told_to_evaluate(ctx, found)]
        reported = {id(found.site.node) for found in self.evaluation}
        self.evaluation += [found for found in self._other_files_evaluation() if id(found.site.node) not in reported]

    # -- (b) functional dropout ---------------------------------------------------
    def _functional(self):
        ctx = self.ctx
        for site in ctx.calls:
            func = site.node.func
            twin = MODULE_DROPOUT_TWIN.get(ctx.callee(func) or "") if isinstance(func, cst.Call) else None
            spec = (1, "training", True) if twin else FUNCTIONAL_DROPOUT.get(ctx.callee(site.node) or "")
            if spec is None:
                continue
            fn, klass = site.function, site.klass
            if fn is None or klass is None or not site.scope or site.scope[-1] is not fn:
                continue
            if len(site.scope) < 2 or site.scope[-2] is not klass or not _is_method(fn, klass):
                continue
            if not _is_module_class(ctx, klass):
                continue
            slot, keyword, default = spec
            arg = call_argument(site.node, slot, keyword) if not twin else None
            value = default if arg is None else ctx.constants.value(arg)
            if value is not True:
                continue
            self_name = fn.params.params[0].name.value if fn.params.params else "self"
            if _guarded_by_training(fn.body, site.node, self_name):
                continue  # `if self.training: x = F.dropout(x, p)` is mode-aware already
            rate = call_argument(func, 0, "p") if twin else call_argument(site.node, 1, "p")
            if twin and rate is not None and ctx.constants.value(rate) == 0:
                continue  # `nn.Dropout(0)(x)`: nothing to switch off
            if isinstance(rate, cst.Name) and rate.value in function_params(fn, True):
                # `def forward(self, x, d)`: the caller picks the rate, and passes
                # 0.0 to evaluate (a spectral GNN notebook's `net(test_x, 0.0, ...)`).
                continue
            built = func if twin and isinstance(func, cst.Call) else None
            yield FunctionalDropout(site, fn, klass, slot, keyword, arg, self_name, built=built, twin=twin or "")

    # -- (a) evaluation code --------------------------------------------------------
    def _evaluation(self):
        ctx = self.ctx
        training = ctx.fact("training", TrainingAnalysis)
        modes = ctx.fact("modes", ModeAnalysis)
        regions: Dict[int, Tuple[Any, Any, str, bool]] = {}  # id(fn) -> (fn, klass, why, whole)
        self._regions = regions  # `_callers_switch` asks of callers' regions too
        test_file = is_test_file(ctx.path)
        for definition in ctx.functions:
            fn = definition.node
            klass = definition.scope[-1] if definition.scope and isinstance(definition.scope[-1], cst.ClassDef) else None
            if klass is not None and _framework_class(ctx, klass):
                continue
            if is_test_function(fn, klass, test_file):
                continue
            decorated = next((d for d in fn.decorators if _decorator_disables_grad(ctx, d)), None)
            if decorated is not None:
                regions[id(fn)] = (fn, klass, f"`{fn.name.value}` is decorated with `@{ctx.code(decorated.decorator)}`", True)
            elif is_eval_name(fn.name.value) and not (klass is not None and _called_in_training(ctx, training, fn, klass)) \
                    and not any(step.function is fn and not _optimises_inputs_only(training, step)
                                for step in training.steps):
                # (`TrainAndTest()` that takes optimizer steps is not evaluation by its
                # name; its no-grad block or evaluation loop still is. AnoGAN's `test()`
                # optimises only a latent `z` through the trained generator: evaluation.)
                regions[id(fn)] = (fn, klass, f"`{fn.name.value}` is named like evaluation code", True)
        stem = ctx.path.stem if ctx.path is not None else ""
        if stem and is_eval_name(stem) and not test_file and \
                all(step.function is not None or _optimises_inputs_only(training, step) for step in training.steps):
            # AnoGAN's test.py: the script's own top-level code evaluates (a latent
            # search through the trained generator is all it optimises).
            regions[0] = (None, None, f"`{ctx.path.name}` is an evaluation script", True)
        for site in ctx.calls:
            qn = ctx.callee(site.node)
            if qn in NO_GRAD or qn in SET_GRAD:
                fn, klass = site.function, site.klass
                if klass is not None and _framework_class(ctx, klass):
                    continue
                if fn is not None and site.scope[-1] is not fn:
                    klass = None
                if fn is not None and is_test_function(fn, klass, test_file):
                    continue
                key = id(fn) if fn is not None else 0
                if key not in regions:
                    regions[key] = (fn, klass, f"under `{ctx.code(site.node)}`", False)
        # Loops over validation data with no backward pass (a GAN course's
        # `for val_x, val_y in validation_dataloader:` inside `train_classifier`).
        # id(fn) -> id(call) -> (loop, why, whether training resumes after it: None
        # when the function's own steps say)
        loop_calls: Dict[int, Dict[int, Tuple[cst.For, str, Optional[bool]]]] = {}
        has_loops = _EVALUATION_LOOP_TEXT.search(ctx.text) is not None  # a walk of every body costs ~8% of a run
        for definition in ([None] + list(ctx.functions)) if has_loops else []:
            fn = definition.node if definition is not None else None
            klass = definition.scope[-1] if definition is not None and definition.scope and \
                isinstance(definition.scope[-1], cst.ClassDef) else None
            if fn is not None and ((klass is not None and _framework_class(ctx, klass)) or
                                   is_test_function(fn, klass, test_file)):
                continue
            for loop, why in _evaluation_loops(ctx, fn):
                key = id(fn) if fn is not None else 0
                calls = loop_calls.setdefault(key, {})
                calls.update({id(node): (loop, why, None) for node in walk(loop.body) if isinstance(node, cst.Call)})
                if key not in regions:
                    regions[key] = (fn, klass, why, False)
        # `calculate_accuracy(testloader)` whose loop runs over its parameter
        # (share020/dl): the caller says the data is for evaluation.
        for fn, loop, why, site in _loops_over_passed_evaluation_data(ctx) if _EVALUATION_ARG_TEXT.search(ctx.text) else ():
            klass = next((d.scope[-1] for d in ctx.functions if d.node is fn and d.scope and
                          isinstance(d.scope[-1], cst.ClassDef)), None)
            if (klass is not None and _framework_class(ctx, klass)) or is_test_function(fn, klass, test_file):
                continue
            caller_klass = site.klass if site.function is not None and site.klass is not None and \
                _is_method(site.function, site.klass) else None
            if (id(site.function) if site.function is not None else 0) in regions and \
                    id(site.node) in modes.flow(site.function, caller_klass).nograd:
                continue  # under the caller's no-grad block: reported there, at the helper call
            calls = loop_calls.setdefault(id(fn), {})
            # the caller trains after the helper returns: the fix restores train mode
            resumes = any(step.function is site.function for step in training.steps)
            calls.update({id(node): (loop, why, resumes) for node in walk(loop.body) if isinstance(node, cst.Call)
                          if id(node) not in calls})
            if id(fn) not in regions:
                regions[id(fn)] = (fn, klass, why, False)
        seen = set()
        for key, (fn, klass, why, whole) in regions.items():
            method_klass = klass if fn is not None and klass is not None and _is_method(fn, klass) else None
            # Resolve the models called first: the mode walk runs only where one holds dropout/BN.
            candidates = []
            for site in training.calls_by_function.get(key, []):
                target = _model_target(ctx, site.node)
                mkey = model_key(target) if target is not None else None
                if mkey is None:
                    continue
                ref = training.resolver.resolve(target, fn, method_klass)
                receiver = model_key(target.value) if isinstance(target, cst.Attribute) else None
                if ref is None and receiver is not None and receiver != "self":
                    # `model.encode(x)`: a method of the model's class that runs its layers
                    ref = _running_method_of(training, target, fn, method_klass)  # type: ignore[arg-type]
                    if ref is not None:
                        mkey = receiver
                layer = (ref.first(L.DROPOUT) or ref.first(L.BATCHNORM)) if ref is not None else None
                if layer is not None:
                    candidates.append((site, mkey, ref, layer, None))
            direct = {id(c[0].node) for c in candidates}
            # `self.forward(x)` runs the model itself: reported as the model call, not as a helper too.
            candidates += [c for c in self._helpers_run(training, modes, regions, key, fn, method_klass)
                           if id(c[0].node) not in direct]
            if not candidates:
                continue
            flow = modes.flow(fn, method_klass)
            for site, mkey, ref, layer, through in candidates:
                call = site.node
                if klass is not None and fn is not None and fn.name.value == "__init__" and mkey.startswith("self."):
                    # d3rlpy's encoders: `with torch.no_grad(): self._cnn_layers(x)` on a
                    # dummy input in the constructor, to size the next layer.
                    continue
                conditional = None
                in_loop = loop_calls.get(key, {}).get(id(call)) if not whole and id(call) not in flow.nograd else None
                if not whole and id(call) not in flow.nograd and in_loop is None:
                    conditional = flow.nograd_when.get(id(call))
                    if conditional is None or self._switched_along(modes, fn, conditional[1], mkey):
                        continue
                if _repeated_on_one_input(fn if fn is not None else ctx.tree, call):
                    continue  # Monte-Carlo dropout: the same input sampled N times on purpose
                if fn is not None and _built_here_untrained(ctx, training, fn, mkey):
                    continue  # a smoke test of a model just built: its mode changes nothing
                if fn is None and _built_at_top_untrained(ctx, training, mkey):
                    continue  # a notebook playing with a fresh layer (dataflowr's BatchNorm demo)
                if not whole and _feeds_a_training_step(ctx, training, fn, call) and \
                        (_trained_in_file(ctx, training, mkey, ref, fn) or _run_with_grad_before_a_backward(
                            ctx, training, flow, fn, mkey)):
                    # no-grad targets/fakes computed inside the training step by a model
                    # that trains too (a GAN's generator, a DQN's target net); a frozen
                    # teacher that nothing trains should run in eval mode
                    continue
                state = flow.states.get(id(call))
                if state is None or state.in_eval(mkey) or (key, mkey) in seen:
                    continue
                if not state.in_train(mkey) and \
                        self._own_method_called_elsewhere(training, regions, fn, method_klass, mkey):
                    # (a method that put the module in training mode itself, NLP_Sentiment's
                    # `fit` validating under no_grad after `self.train()`, chose the mode)
                    continue
                if self._callers_switch(modes, training, fn, method_klass, mkey):
                    continue
                seen.add((key, mkey))
                line = _line_of(ctx, call)
                trains = [c for c in flow.train_calls.get(mkey, []) if _line_of(ctx, c) < line]
                eval_at, resumes = self._eval_place(training, fn, whole, site, mkey)
                reason = why
                if in_loop is not None:
                    eval_at, reason, resumes_after = in_loop
                    resumes = any(s.function is fn for s in training.steps) if resumes_after is None else resumes_after
                if conditional is not None:
                    # The body also trains (called with the flag True): eval() has no
                    # one right place here, so no fix is offered.
                    grad_call, chain = conditional
                    outermost = chain[-1][0]
                    reason = (f"under `{ctx.code(grad_call)}`, which "
                              f"`{_shortened(ctx.code(outermost.node))}` on line {_line_of(ctx, outermost.node)} "
                              f"runs with `{ctx.code(grad_call.args[0].value)}=False`")
                    eval_at, resumes = None, False
                yield UnswitchedEval(site, fn, reason, whole, mkey, ref, layer, trains, eval_at, resumes, through)

    def _other_files_evaluation(self):
        """`evaluate_model(self, val_iterator)` with `evaluate_model` another
        project file's evaluation code (by name, or running the model it is
        handed under no_grad: stat453's `plot_generated_images(model)` in
        helper_plotting.py) that runs that model, or one of its submodules
        (`model.decoder(z)`), without switching it (Text-Classification-Models'
        utils.py, star-imported): reported at the call, where the model is known
        and may be in training mode. The helper's own file cannot know the model."""
        ctx = self.ctx
        if ctx.project is None:
            return
        training = ctx.fact("training", TrainingAnalysis)
        modes = ctx.fact("modes", ModeAnalysis)
        seen = set()  # (function, model, helper): the first such evaluation is reported
        file_turns_grad_off = _NO_GRAD_TEXT.search(ctx.text) is not None
        for site in ctx.calls:
            func = site.node.func
            # `evaluate_model(...)` (imported, or star-imported) or `d2l.predict_sentiment(...)`
            name = func.value if isinstance(func, cst.Name) else func.attr.value if \
                isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) else None
            if name is None or not site.node.args:
                continue
            qn = ctx.callee(site.node)
            if not qn or qn.startswith(("torch.", "builtins.", "numpy.")):
                continue
            named = is_eval_name(name)
            hctx, symbol = locate_symbol(ctx, qn)
            hfn = hctx.function_named(symbol) if hctx is not None and hctx is not ctx else None
            if hfn is None or is_test_function(hfn, None, is_test_file(hctx.path)):
                continue
            # `pairwise_distances(q, p, fn, parametric)` in the caller's no-grad block
            # (DLCV-2021-Fall hw4): whatever model the helper runs is evaluated there.
            in_block = file_turns_grad_off and id(site.node) in modes.flow(site.function, _method_class(site)).nograd
            if not named and not in_block and not _NO_GRAD_TEXT.search(hctx.text):
                continue  # neither named like evaluation nor able to turn gradients off
            found = self._foreign_model_call(training, modes, site, hctx, hfn, named, in_block)
            if found is not None and (id(site.function), found.mkey, id(hfn)) not in seen:
                seen.add((id(site.function), found.mkey, id(hfn)))
                yield found

    def _foreign_model_call(self, training, modes, site, hctx, hfn, named: bool,
                            in_block: bool = False) -> Optional[UnswitchedEval]:
        """The first call in `hfn` of a model its caller `site` hands over, run
        unswitched: anywhere when `hfn` is `named` like evaluation or `site` is
        `in_block`, the caller's no-grad block; else under the helper's own
        no_grad (a decorator or a `with` block)."""
        params = function_params(hfn, False)
        htraining = hctx.fact("training", TrainingAnalysis)
        # A helper that trains (Generate-faces-with-GAN's `train_gan(dataloader, netG, ...)`)
        # is evaluation code only in its no-grad blocks, and not where they compute the
        # step's inputs (fakes for the discriminator, targets).
        trains = any(step.function is hfn for step in htraining.steps)
        if trains and in_block:
            return None  # a training helper run without gradients: not this file's evaluation
        named = named and not trains
        everywhere = named or in_block
        hflow = hctx.fact("modes", ModeAnalysis).flow(hfn, None)
        decorated = next((d for d in hfn.decorators if _decorator_disables_grad(hctx, d)), None)
        method_klass = site.klass if site.function is not None and site.klass is not None and \
            _is_method(site.function, site.klass) else None
        for inner in htraining.calls_by_function.get(id(hfn), []):
            target = _model_target(hctx, inner.node)
            inner_key = model_key(target) if target is not None else None
            # `model(x)`, or `model.decoder(z)`: one of the handed model's submodules
            root, _, submodule = (inner_key or "").partition(".")
            if root not in params or "." in submodule:
                continue  # only a parameter itself is known to be the caller's model
            if not everywhere and decorated is None and id(inner.node) not in hflow.nograd:
                continue
            if trains and _feeds_a_training_step(hctx, htraining, hfn, inner.node) and (
                    _trained_in_file(hctx, htraining, root, None) or
                    _run_with_grad_before_a_backward(hctx, htraining, hflow, hfn, root)):
                continue
            if _switches_somewhere(hfn, root):
                return None  # d2l's evaluate_accuracy: `net.eval()` on the branch for modules
            state = hflow.states.get(id(inner.node))
            if state is None or any(state.in_eval(key) or state.maybe_eval(key) is not None
                                    for key in {root, inner_key}):
                continue  # the helper switches the model itself
            expr = call_argument(site.node, params.index(root), root)
            outer = model_key(expr) if expr is not None else None
            if expr is None or outer is None:
                continue
            whole = expr
            if submodule:
                expr = cst.Attribute(value=expr, attr=cst.Name(submodule))
            if outer == "self" and not any(step.function is site.function for step in training.steps):
                # rlkit's `get_action`: `eval_np(self, obs)` in the policy's own method,
                # which does not train: the module's mode is its caller's choice. (A
                # `run_epoch` that trains `self` and then evaluates it is reported.)
                continue
            ref = training.resolver.resolve(expr, site.function, method_klass)
            if ref is None and submodule:
                # `model.generate(z)`, a method of the model's own class (DCGAN-Pokemon's
                # train.py, set 54): the model itself runs
                model = _running_method_of(training, cst.Attribute(value=whole, attr=cst.Name(submodule)),
                                           site.function, method_klass)
                if model is not None:
                    ref, submodule = model, ""
            layer = (ref.first(L.DROPOUT) or ref.first(L.BATCHNORM)) if ref is not None else None
            if layer is None:
                continue
            at_call = modes.flow(site.function, method_klass).states.get(id(site.node))
            if at_call is None or at_call.in_eval(outer) or submodule and at_call.in_eval(f"{outer}.{submodule}"):
                continue
            if site.function is not None and self._callers_switch(modes, training, site.function, method_klass, outer):
                continue
            if in_block and not named:
                why = f"under the caller's no-grad block, where `{hfn.name.value}` of `{hctx.module_name}` runs it"
            elif named:
                why = f"`{hfn.name.value}` of `{hctx.module_name}` is named like evaluation code"
            else:
                how = f"`@{hctx.code(decorated.decorator)}`" if decorated is not None else "a no-grad block"
                why = f"`{hfn.name.value}` of `{hctx.module_name}` runs it under {how}, as evaluation code"
            return UnswitchedEval(site, site.function, why, False, outer, ref, layer, through=inner, through_ctx=hctx)
        return None

    def _helpers_run(self, training, modes, regions, key, fn, method_klass):
        """Calls in evaluation code of helpers of this file that run a model
        the caller passes or shares (`compute_accuracy(model, loader)` under
        `set_grad_enabled(False)`, `self.shared_step(batch)` in a validation
        hook), as candidates at the helper call. A helper that is evaluation
        code by name or decorator is reported inside, and so is a model call
        in the helper's own no-grad block; a helper that switches the model or
        trains is not evaluation the caller left in train mode."""
        ctx = self.ctx
        out = []
        step_functions = {id(step.function) for step in training.steps}
        for site in training.calls_by_function.get(key, []):
            helper = modes.helper_of(site.node, method_klass, site.scope[-1] if site.scope else None)
            if helper is None or helper[0] is fn or id(helper[0]) in step_functions:
                continue
            if regions.get(id(helper[0]), (None, None, "", False))[3]:
                continue  # evaluation code by name or decorator: reported inside
            hfn, hklass, is_method = helper
            inner_klass = hklass if is_method else None
            params = function_params(hfn, is_method)
            inner_flow = None
            for inner in training.calls_by_function.get(id(hfn), []):
                target = _model_target(ctx, inner.node)
                inner_key = model_key(target) if target is not None else None
                if inner_key is None:
                    continue
                head = inner_key.split(".")[0]
                if head in params and head != "self":
                    if inner_key != head:
                        continue  # `net.eval()`, `net.encoder(x)`: only the parameter itself is known to be the model
                    outer = _map(inner_key, site.node, params, head)
                    expr = call_argument(site.node, params.index(head), head)
                    ref = training.resolver.resolve(expr, fn, method_klass) if outer is not None else None
                elif head == "self" and is_method:
                    outer, ref = inner_key, training.resolver.resolve(target, hfn, inner_klass)
                elif head not in params and ctx.binder.is_module_global(head, hfn) and \
                        (fn is None or ctx.binder.is_module_global(head, fn)):
                    outer, ref = inner_key, training.resolver.resolve(target, hfn, inner_klass)  # both share it
                else:
                    continue
                layer = (ref.first(L.DROPOUT) or ref.first(L.BATCHNORM)) if ref is not None else None
                if layer is None:
                    continue
                inner_flow = inner_flow or modes.flow(hfn, inner_klass)
                if id(hfn) in regions and id(inner.node) in inner_flow.nograd:
                    continue  # in the helper's own no-grad block: reported there
                state = inner_flow.states.get(id(inner.node))
                if state is None or state.in_eval(inner_key) or state.maybe_eval(inner_key) is not None:
                    continue  # the helper switches the model itself
                out.append((site, outer, ref, layer, inner))
                break
        return out

    @staticmethod
    def _switched_along(modes, fn, chain, mkey: str) -> bool:
        """A `self.` model switched on the way the flag comes down: in eval mode
        at one of the method calls that pass it (`self.model.eval()` before
        `self._run_epoch(..., train=False)`), or set from the flag itself
        (`self.model.train(train)`) in one of the functions it passes through."""
        if not mkey.startswith("self."):
            return False
        body, flag = fn, chain[0][1]
        for index, (site, _) in enumerate(chain):
            if _trains_with(body, mkey, flag):
                return True
            func = site.node.func
            if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self"):
                return False  # left the class: the model is another name there
            if EvalDropoutAnalysis._in_eval(modes, site, mkey):
                return True
            if index + 1 == len(chain):
                return False
            body, flag = site.function, chain[index + 1][1]
        return False

    def _own_method_called_elsewhere(self, training, regions, fn, klass, mkey: str, depth: int = 0) -> bool:
        """A module's own evaluation method (`predict`, `generate`, `full_sort_predict`
        running `self`, `self.forward` or `self.<layer>`) that this file never
        calls, or calls only from its other evaluation methods of that kind
        (DiffRec's `predict` calling `self.full_sort_predict`): the mode is the
        caller's to set, and its callers are elsewhere (RecBole's trainer runs
        `self.model.eval()` before `model.predict`). Where this file calls it
        otherwise, those calls decide (`_callers_switch`)."""
        if fn is None or klass is None or mkey.split(".")[0] != "self":
            return False
        key = (id(fn), id(klass), depth)
        if key not in self._own_methods:
            self._own_methods[key] = _is_module_class(self.ctx, klass) and \
                self._called_only_as_own_evaluation(training, regions, fn, klass, depth)
        return self._own_methods[key]

    def _called_only_as_own_evaluation(self, training, regions, fn, klass, depth: int) -> bool:
        name = fn.name.value
        for site in self.ctx.calls:
            func = site.node.func
            if isinstance(func, cst.Attribute) and func.attr.value == name and model_key(func.value) != "self":
                if _a_model_output(self.ctx, func.value, site):
                    continue  # `cpd = self(x); cpd.sample(n)`: a distribution's method of that name
                method_klass = site.klass if site.function is not None and site.klass is not None and \
                    _is_method(site.function, site.klass) else None
                ref = training.resolver.resolve(func.value, site.function, method_klass)
                if ref is not None and ref.class_model is not None and ref.class_model.node is not klass:
                    continue  # Tacotron2.inference calling `self.decoder.inference(...)`: another class's
                if not (_on_a_submodule(site.node) and self._from_own_evaluation(training, regions, site, depth)):
                    return False  # `network.predict(x)`: called here on an instance
        for site in training.resolver.callers(fn, klass):
            if site.function is fn or (site.klass is not klass and not _on_a_submodule(site.node)):
                return False
            if not self._from_own_evaluation(training, regions, site, depth):
                return False
        return True

    def _from_own_evaluation(self, training, regions, site, depth: int) -> bool:
        """The call sits in an evaluation method (as a whole) of this module or of
        the module holding it (`self.decoder.inference(x)` in Tacotron2.inference)
        that is itself its callers' to switch: the outermost caller switches them all."""
        caller = site.function
        if depth >= 2 or caller is None or site.klass is None:
            return False
        region = regions.get(id(caller))
        if region is None or not region[3]:
            return False  # code that is not evaluation as a whole (it may train)
        return self._own_method_called_elsewhere(training, regions, caller, site.klass, "self", depth + 1)

    def _callers_switch(self, modes, training, fn, klass, mkey, depth: int = 0) -> bool:
        """Every call site of `fn` in this file has the model in eval mode, or
        sits in a function that leaves the mode as it came and whose own
        callers do (`test: model.eval(); run_all(model)` → `run_all` →
        `validation(model)`), up to three calls up."""
        ctx = self.ctx
        if fn is None:
            return False
        head = mkey.split(".")[0]
        params = function_params(fn, klass is not None)
        sites = []
        if head in params or (head == "self" and klass is not None):
            sites = [(s, _map(mkey, s.node, params, head)) for s in training.resolver.callers(fn, klass)]
            if head == "self" and klass is not None and _is_module_class(ctx, klass):
                # `model.predict(x)` on an instance of this module class
                for s in ctx.calls:
                    func = s.node.func
                    receiver = model_key(func.value) if isinstance(func, cst.Attribute) else None
                    if not isinstance(func, cst.Attribute) or func.attr.value != fn.name.value or \
                            receiver in (None, "self"):
                        continue
                    ref = training.resolver.resolve(func.value, s.function, s.klass)
                    if ref is not None and ref.class_model is not None and ref.class_model.node is klass:
                        sites.append((s, receiver + mkey[4:]))
                    elif ref is None and self._in_eval(modes, s, receiver):
                        # `network.predict(x)` on a receiver hplint cannot resolve (a
                        # parameter with no callers here): it counts where it is in eval mode.
                        sites.append((s, receiver + mkey[4:]))
        elif head != "self" and ctx.binder.is_module_global(head, fn):
            # A notebook's `pretrained_model.eval()` in one cell and `def eval_model(loader)`
            # calling the global model in another: the mode at each call of the function decides.
            sites = [(s, mkey) for s in training.resolver.callers(fn, klass)]
            if not sites and _frozen_in_eval_at_module_level(ctx, modes, training, mkey):
                # a web app's `model.eval()` at import and a route that runs the
                # global model: no caller here, and nothing in the file trains it
                return True
        sites = [(s, k) for s, k in sites if k is not None]
        if not sites:
            return False
        for site, outer in sites:
            caller_klass = site.klass if site.function is not None and site.klass is not None and \
                _is_method(site.function, site.klass) else None
            if head == "self" and self._built_without_dropout_or_bn(training, site, caller_klass):
                continue
            if head == "self" and outer == "self" and caller_klass is klass and site.function is not fn and \
                    self._own_method_called_elsewhere(training, self._regions, site.function, klass, outer, depth + 1):
                # uvadlc's BasicTagger: `mode` calls `self.greedy(x)`, and nothing here
                # calls `mode` on a BasicTagger: `mode`'s callers set the mode.
                continue
            state = modes.flow(site.function, caller_klass).states.get(id(site.node))
            if state is None:
                return False
            if state.in_eval(outer):
                continue
            passes_on = site.function is not None and site.function is not fn and depth < 2 and \
                state.maybe_eval(outer) is None and not state.in_train(outer)
            if not (passes_on and self._callers_switch(modes, training, site.function, caller_klass, outer, depth + 1)):
                return False
        return True

    @staticmethod
    def _built_without_dropout_or_bn(training, site, caller_klass) -> bool:
        """`toy.mode(x)` on an instance built without dropout or BatchNorm
        (`Tagger(8)` whose `p_drop` stays 0.0): its mode changes nothing."""
        func = site.node.func
        if not isinstance(func, cst.Attribute) or model_key(func.value) in (None, "self"):
            return False
        ref = training.resolver.resolve(func.value, site.function, caller_klass)
        return ref is not None and ref.class_model is not None and \
            ref.first(L.DROPOUT) is None and ref.first(L.BATCHNORM) is None

    @staticmethod
    def _in_eval(modes, site, key: str) -> bool:
        klass = site.klass if site.function is not None and site.klass is not None and \
            _is_method(site.function, site.klass) else None
        state = modes.flow(site.function, klass).states.get(id(site.node))
        return state is not None and state.in_eval(key)

    def _eval_place(self, training, fn, whole: bool, site, mkey: str) -> Tuple[Optional[cst.CSTNode], bool]:
        """Where `model.eval()` goes, and whether the function trains after it:
        the function's first statement (whole) or the outermost `with` holding
        the call, unless the model is bound there (`model = Net()` inside
        `evaluate`), where `model.eval()` would come before the model exists:
        then just before the statement that runs it."""
        body = fn.body if fn is not None else self.ctx.tree
        place: Optional[cst.CSTNode] = None
        resumes = False
        if whole:
            first = _first_statement(body)
            if first is None or fn is not None and isinstance(fn.body, cst.SimpleStatementSuite):
                return None, False
            place = first
        else:
            for stmt in body_statements(body):
                if isinstance(stmt, cst.With) and contains(stmt, site.node):
                    # outermost with that holds the call
                    place, resumes = stmt, any(s.function is fn for s in training.steps)
                    break
            if place is None:
                return None, False
        root = mkey.split(".")[0]
        bound = [b for b in self.ctx.binder.scope(fn).bindings.get(root, []) if b.kind != "param"]
        if any(whole or contains(place, b.node) for b in bound):
            holder = None
            for stmt in body_statements(body):
                if contains(stmt, site.node):
                    holder = stmt  # the innermost statement that runs it
            if holder is None or isinstance(holder, cst.SimpleStatementSuite) or \
                    any(contains(holder, b.node) for b in bound):
                return None, False  # `model = Net(); model(x)` on one line: no line to put it on
            return holder, False
        return place, resumes


def _frozen_in_eval_at_module_level(ctx, modes, training, mkey: str) -> bool:
    """The module's code leaves the global `mkey` in eval mode, and nothing in
    the file switches it back to training or trains it."""
    exit_state = modes.flow(None, None).exit
    if exit_state is None or not exit_state.in_eval(mkey):
        return False
    head = mkey.split(".")[0]
    for site in ctx.calls:
        func = site.node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "train" and model_key(func.value) == mkey and \
                train_mode_argument(ctx, site.node) is not False:
            return False
    return not any(step.model_expr is not None and (model_key(step.model_expr) or "").split(".")[0] == head
                   for step in training.steps)


# A helper file that never turns gradients off holds no no-grad helper.
_NO_GRAD_TEXT = re.compile(r"\bno_grad\b|\binference_mode\b|\bset_grad_enabled\b")


def _switches_somewhere(fn: cst.FunctionDef, name: str) -> bool:
    """`name.eval()` or `name.train(...)` anywhere in `fn`."""
    return any(isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and
               node.func.attr.value in ("eval", "train") and isinstance(node.func.value, cst.Name) and
               node.func.value.value == name for node in walk(fn.body))


def _trains_with(fn, mkey: str, flag: str) -> bool:
    """`<mkey>.train(flag)` / `.train(mode=flag)` somewhere in `fn`."""
    for node in walk(fn.body):
        if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "train"
                and len(node.args) == 1 and model_key(node.func.value) == mkey):
            continue
        arg = node.args[0]
        if (arg.keyword is None or arg.keyword.value == "mode") and isinstance(arg.value, cst.Name) and \
                arg.value.value == flag:
            return True
    return False


def _shortened(code: str, limit: int = 60) -> str:
    flat = " ".join(code.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _line_of(ctx, node) -> int:
    return ctx.span(node).start_line


def _first_statement(block) -> Optional[cst.CSTNode]:
    """The first statement of a block, after a docstring."""
    body = getattr(block, "body", None)
    if not isinstance(body, (list, tuple)) or not body:
        return None
    stmts = list(body)
    first = stmts[0]
    if len(stmts) > 1 and isinstance(first, cst.SimpleStatementLine) and len(first.body) == 1 and \
            isinstance(first.body[0], cst.Expr) and isinstance(first.body[0].value, (cst.SimpleString, cst.ConcatenatedString)):
        return stmts[1]
    return first


def _mentions_training(test: cst.BaseExpression, self_name: str) -> bool:
    """`self.training`, `self.training and p > 0` (not `not self.training`)."""
    if isinstance(test, cst.Attribute):
        return isinstance(test.value, cst.Name) and test.value.value == self_name and test.attr.value == "training"
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _mentions_training(test.left, self_name) or _mentions_training(test.right, self_name)
    return False


def _guarded_by_training(block, call: cst.Call, self_name: str) -> bool:
    """The call runs only in training mode: inside `if <self>.training ...:` or
    `F.dropout(x) if <self>.training else x`."""
    for node in walk(block):
        if isinstance(node, cst.If) and _mentions_training(node.test, self_name) and contains(node.body, call):
            return True
        if isinstance(node, cst.IfExp) and _mentions_training(node.test, self_name) and contains(node.body, call):
            return True
    return False


def _repeated_on_one_input(root: cst.CSTNode, call: cst.Call) -> bool:
    """Is `call` repeated by a `for _ in range(N)` loop (or comprehension) on an
    input the loop never changes? Running a model N times on the same input only
    makes sense when its output is random: Monte-Carlo dropout (Atcold's
    pytorch-Deep-Learning `13-bayesian_nn`: `net.train()`, then 100 passes under
    no_grad for a mean and a spread). An evaluation loop reads its loop variable
    (`model(x[i])`), a rollout reassigns its input (`obs = env.step(policy(obs))`)."""
    inputs = {node.value for arg in call.args for node in walk(arg.value) if isinstance(node, cst.Name)}
    if not inputs:
        return False
    head = call.func
    while isinstance(head, cst.Attribute):
        head = head.value
    model = head.value if isinstance(head, cst.Name) else None
    for loop, target, body in _loops_around(root, call):
        if not (isinstance(loop, cst.Call) and isinstance(loop.func, cst.Name) and loop.func.value == "range"):
            continue
        if _trains_in(body):
            continue  # an epoch loop that validates on a fixed batch: a true finding
        varying = {node.value for node in walk(target) if isinstance(node, cst.Name)}
        for node in walk(body):
            if isinstance(node, (cst.AssignTarget, cst.AugAssign, cst.AnnAssign)):
                varying.update(n.value for n in walk(node.target) if isinstance(n, cst.Name))
        if model and model in varying:
            continue  # `model = Net(); model.load_state_dict(...)` per fold: another model each time
        if not inputs & varying:
            return True
    return False


def _trains_in(body: cst.CSTNode) -> bool:
    for node in walk(body):
        if isinstance(node, cst.Call):
            name = call_name(node)
            if name in ("backward", "step", "zero_grad", "eval", "fit") or "train" in name:
                return True
    return False


def _loops_around(root: cst.CSTNode, call: cst.Call):
    """(iterable, target, body) of each `for` statement or comprehension `for`
    below `root` whose body holds `call`."""
    for node in walk(root):
        if isinstance(node, cst.For) and contains(node.body, call):
            yield node.iter, node.target, node.body
        elif isinstance(node, (cst.ListComp, cst.GeneratorExp, cst.SetComp)) and contains(node.elt, call):
            yield node.for_in.iter, node.for_in.target, node.elt


def _built_here_untrained(ctx, training, fn: cst.FunctionDef, mkey: str) -> bool:
    """`net = Net(); net(torch.randn(...))` in a function that loads no weights
    and trains nothing: a shape check of an untrained model (pytorch-cifar's
    `def test()`), not an evaluation whose numbers depend on the mode."""
    if "." in mkey:
        return False
    if _loads_weights(fn) or any(step.function is fn for step in training.steps):
        return False
    names = {mkey}
    for _ in range(3):  # `model_gpu = model.cuda()` (CNNAutoencoderProject's self-test): `model`'s
        for node in walk(fn.body):
            if not isinstance(node, cst.Assign) or \
                    not any(isinstance(t.target, cst.Name) and t.target.value in names for t in node.targets):
                continue
            built = unwrap(ctx, node.value)  # `Net().cuda()`, `Net().to(device)`: still just built
            if isinstance(built, cst.Call) and _is_constructor(ctx, built):
                return True
            if isinstance(built, cst.Name) and built.value not in names:
                names = names | {built.value}
    return False


def _built_at_top_untrained(ctx, training, mkey: str) -> bool:
    """`m = nn.BatchNorm1d(1)` and `with torch.no_grad(): y = m(x)` at the top
    level of a script or notebook that trains nothing and loads no weights:
    a demonstration of one torch layer (its running statistics in train mode),
    not an evaluation of a model whose numbers depend on the mode. A model
    class of the project stays reported: a script evaluating one it never
    trains here is likely to train or load it in a cell not shown."""
    if "." in mkey or training.steps or _loads_weights(ctx.tree):
        return False
    built = [unwrap(ctx, node.value) for stmt in ctx.tree.body if isinstance(stmt, cst.SimpleStatementLine)
             for node in stmt.body if isinstance(node, cst.Assign)
             and any(isinstance(t.target, cst.Name) and t.target.value == mkey for t in node.targets)]
    return bool(built) and all(isinstance(b, cst.Call) and L.module_category(ctx.callee(b)) is not None
                               for b in built)


def _is_constructor(ctx, call: cst.Call, depth: int = 0) -> bool:
    """`Net()`, `models.ResNet18()`, or a factory of this file that only builds
    one (`def densenet_cifar(): return DenseNet(...)`): an untrained model, not
    one a factory may have loaded weights into."""
    func = call.func
    name = func.attr.value if isinstance(func, cst.Attribute) else (func.value if isinstance(func, cst.Name) else "")
    if name[:1].isupper():
        return True
    factory = ctx.function_named(name) if isinstance(func, cst.Name) and depth < 3 else None
    if factory is None or _loads_weights(factory):
        return False
    returned = [n.value for n in walk(factory.body) if isinstance(n, cst.Return) and n.value is not None]
    return bool(returned) and all(isinstance(v, cst.Call) and _is_constructor(ctx, v, depth + 1) for v in returned)


def _loads_weights(fn: cst.CSTNode) -> bool:
    for node in walk(fn.body if isinstance(fn, cst.FunctionDef) else fn):
        if isinstance(node, cst.Call):
            func = node.func
            name = func.attr.value if isinstance(func, cst.Attribute) else (func.value if isinstance(func, cst.Name) else "")
            if name in _WEIGHT_LOADERS:
                return True
    return False


def _called_in_training(ctx, training, fn: cst.FunctionDef, klass: cst.ClassDef) -> bool:
    """`self.predict(x)` computes the loss of a training step (DomainBed's
    `update`): the method is the model's forward under another name, not
    evaluation code, whatever its name says. So is a method that a module's
    `forward` or constructor calls: asteroid's `forward` returning
    `self.separator.infer_source_signals(x)`, or a DQN's
    `_get_conv_val_size(shape)` running the value head on zeros in `__init__`
    to size the next layer."""
    name = fn.name.value
    training_functions = {id(step.function) for step in training.steps}
    for site in ctx.calls:
        func = site.node.func
        if not isinstance(func, cst.Attribute) or func.attr.value != name or site.function is fn or \
                site.function is None:
            continue
        if id(site.function) in training_functions or site.function.name.value in _MODEL_METHODS:
            return True
    return False


# The methods through which a module computes: what they call is the model's own work.
_MODEL_METHODS = frozenset({"forward", "__init__", "__call__"})


def _feeds_a_training_step(ctx, training, fn, call: cst.Call) -> bool:
    """A no-grad block in a loop, before that loop's backward(): it computes
    inputs of the training step (GAN fakes for the discriminator, RL targets,
    a teacher's outputs), which is training, not evaluation."""
    body = fn.body if fn is not None else ctx.tree
    for loop in walk(body):
        if not isinstance(loop, (cst.For, cst.While)) or not contains(loop.body, call):
            continue
        call_line = _line_of(ctx, call)
        for step in training.steps:
            if step.function is fn and contains(loop.body, step.backward) and _line_of(ctx, step.backward) > call_line \
                    and _block_result_read_by(ctx, loop.body, call, step.backward):
                return True
    return False


_ANY = object()  # `_trained_in_file` asked about no function in particular


def _trained_in_file(ctx, training, mkey: str, ref, fn: Any = _ANY) -> bool:
    """Whether the model `mkey` (resolved as `ref`) trains in this file: a
    training step's model is it or of its class, a call is handed its
    `parameters()` (an optimizer, an EMA or soft update's `zip(...)`), or it
    loads another model's `state_dict()` (a DQN's target net). A distillation
    teacher that is loaded from a checkpoint, frozen with `for p in
    teacher.parameters()` and run only for targets does not."""
    own = ref.class_model.node if ref is not None and ref.class_model is not None else None
    for step in training.steps:
        if step.model_expr is not None and model_key(step.model_expr) == mkey:
            return True
        if step.function is fn and step.model_expr is not None:
            continue  # a step of another name in the same function (a student beside its teacher)
        if own is not None and step.model is not None and any(
                alt.class_model is not None and alt.class_model.node is own for alt in (step.model.alternatives or (step.model,))):
            return True
    for site in ctx.calls:
        func = site.node.func
        copies = isinstance(func, cst.Attribute) and func.attr.value == "load_state_dict" and \
            model_key(func.value) == mkey
        for arg in site.node.args:
            for node in walk(arg.value):
                if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)):
                    continue
                if copies and node.func.attr.value == "state_dict":
                    return True
                if node.func.attr.value in ("parameters", "named_parameters") and model_key(node.func.value) == mkey:
                    return True
    return False


def _run_with_grad_before_a_backward(ctx, training, flow, fn, mkey: str) -> bool:
    """`generated_images = G(latents)` with gradients on, in the loop of a
    training step of `fn` before its backward (lightweight-gan's generator
    step, whose optimizer lives on another object): the model trains there,
    whatever its no-grad fakes for the discriminator step are."""
    body = fn.body if fn is not None else ctx.tree
    steps = [step for step in training.steps if step.function is fn]
    if not steps:
        return False
    loops = [node for node in walk(body) if isinstance(node, (cst.For, cst.While))]
    # (line of the backward, the loops that hold it), one walk for all calls
    backwards = [(_line_of(ctx, step.backward), [loop for loop in loops if contains(loop.body, step.backward)])
                 for step in steps]
    for site in training.calls_by_function.get(id(fn) if fn is not None else 0, []):
        target = _model_target(ctx, site.node)
        if target is None or model_key(target) != mkey or id(site.node) in flow.nograd:
            continue
        line = _line_of(ctx, site.node)
        # `>=`: `(-D(G(z)).mean()).backward()` runs G before the backward on its line
        if any(back_line >= line and any(contains(loop.body, site.node) for loop in holding)
               for back_line, holding in backwards):
            return True
    return False


def _block_result_read_by(ctx, loop_body: cst.CSTNode, call: cst.Call, backward: cst.Call) -> bool:
    """Is what the `with` block holding `call` assigns read before (or by) the
    backward? `fake = G(z)` then `D(fake)...backward()` feeds the step;
    `test_loss = loss_fn(model(x_te), y_te)`, printed after the step, does not
    (a time-series notebook's per-epoch test loss). Without such a block: yes."""
    block = None
    for node in walk(loop_body):
        if isinstance(node, cst.With) and contains(node.body, call):
            block = node  # the innermost, as walk goes down
    if block is None:
        return True
    assigned = {name.value for node in walk(block.body) if isinstance(node, (cst.AssignTarget, cst.AugAssign))
                for name in walk(node.target) if isinstance(name, cst.Name)}
    if not assigned:
        return True  # an effect, not a value: cannot tell
    start, end = ctx.span(block).end_line, ctx.span(backward).end_line
    for node in walk(loop_body):
        if isinstance(node, cst.Name) and node.value in assigned and start < ctx.span(node).start_line <= end:
            return True
    return False


def _map(mkey: str, call: cst.Call, params, head: str) -> Optional[str]:
    if head == "self":
        # `self.m()` keeps the key; `ic.tile_predict(img)` on an instance names it `ic`.
        func = call.func
        receiver = model_key(func.value) if isinstance(func, cst.Attribute) else None
        if receiver is None or receiver == "self":
            return mkey
        return receiver + mkey[len(head):]
    arg = call_argument(call, params.index(head), head)
    if arg is None:
        return None
    if isinstance(arg, cst.Call) and isinstance(arg.func, cst.Attribute) and arg.func.attr.value == "eval":
        arg = arg.func.value  # f(model.eval()): the switch ran before the call
    outer = model_key(arg)
    return outer + mkey[len(head):] if outer else None


def _model_target(ctx, call: cst.Call) -> Optional[cst.BaseExpression]:
    """`model(x)`, `self.net(x)`, `model.forward(x)`, `self(x)` -> the module expression."""
    func = called_module(call.func)
    if dotted_name(func) is None:
        return None
    if ctx.qualified_name(func) is not None:
        return None  # an imported function or class
    return func


def _running_method_of(training, func: cst.Attribute, fn, klass):
    """The model `model` is, for `model.encode(x)` where `encode` is a method
    its project class defines that runs the module (`self(...)`,
    `self.forward(...)`, a layer `self.<attr>(...)`); else None."""
    ref = training.resolver.resolve(func.value, fn, klass)
    if ref is None or ref.class_model is None:
        return None
    found = ref.class_model.method(func.attr.value)
    if found is None:
        return None
    switch = _mode_set_in(found[0].ctx, found[1].body)
    if switch is not None and switch[0] == "eval":
        return None  # WaveRNN's `generate` starts with `self.eval()`: it evaluates in eval mode
    for node in walk(found[1].body):
        if isinstance(node, cst.Call):
            callee = node.func
            if isinstance(callee, cst.Name) and callee.value == "self":
                return ref
            if isinstance(callee, cst.Attribute) and is_self_attr(callee) and \
                    (callee.attr.value == "forward" or callee.attr.value in ref.class_model.attrs):
                return ref
    return None


def _on_a_submodule(call: cst.Call) -> bool:
    """`self.decoder.inference(x)`: a method of a module this one holds."""
    func = call.func
    return isinstance(func, cst.Attribute) and isinstance(func.value, cst.Attribute) and \
        isinstance(func.value.value, cst.Name) and func.value.value.value == "self"


def _a_model_output(ctx, receiver: cst.BaseExpression, site) -> bool:
    """`receiver` is a name bound only to what a model call returned (`cpd =
    self(x=x)`, `out = model(x)`): a tensor or distribution, not a module."""
    if not isinstance(receiver, cst.Name):
        return False
    bindings = ctx.binder.values_at(receiver.value, ctx.binder.owner_of(site), site.node)
    if not bindings:
        return False
    for binding in bindings:
        value = binding.value
        if not isinstance(value, cst.Call) or binding.index is not None:
            return False
        runs = called_module(value.func)  # `self(x)`, `self.forward(x)`, `self.__call__(x)`
        if not (isinstance(runs, cst.Name) and runs.value == "self"):
            return False
    return True


def _is_module_class(ctx, klass: cst.ClassDef) -> bool:
    """An nn.Module subclass of the project, or a subclass of another
    library's class that holds layers (`transformers.PreTrainedModel`): its
    own evaluation methods are its callers' to switch, as a module's are."""
    if ctx.class_named(klass.name.value) is klass and ctx.models.class_model(klass.name.value) is not None:
        return True
    bases = ctx.base_qualnames(klass)
    if any((qn or "") in L.MODULE_BASES for qn in bases):
        return True
    return any(_library_class(ctx, qn) for qn in bases) and _assigns_layers(ctx, klass)


# Bases that are never a module: the class is a plain object, whatever it holds.
_NOT_MODULE_PREFIXES = ("builtins.", "typing.", "abc.", "enum.", "collections.", "dataclasses.",
                        "numpy.", "torch.", "object")


def _library_class(ctx, qualname: Optional[str]) -> bool:
    """A class imported from outside the project (an installed library's), not torch's own."""
    if not qualname or qualname.startswith(_NOT_MODULE_PREFIXES) or "." not in qualname:
        return False
    return ctx.class_definition(qualname) is None and \
        not qualname.startswith(f"{ctx.module_name}.") and ctx.project is not None and \
        ctx.project.resolve_symbol(qualname, ctx.module_name, ctx.path)[0] is None


def _assigns_layers(ctx, klass: cst.ClassDef) -> bool:
    """`self.x = nn.Dropout(...)` (or any torch.nn layer) in the class's `__init__`."""
    for stmt in klass.body.body:
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "__init__":
            for node in walk(stmt.body):
                if isinstance(node, cst.Assign) and isinstance(node.value, cst.Call) and \
                        L.module_category(ctx.callee(node.value)) is not None:
                    return True
    return False


def _framework_class(ctx, klass: cst.ClassDef, depth: int = 0) -> bool:
    """A LightningModule or Trainer subclass, directly or through project
    classes (`ReversePredictor(TransformerPredictor)`): the framework switches
    its models. A callback is not one: Lightning switches `pl_module`, never the
    modules a callback owns (an online evaluator's probe head)."""
    for qn in ctx.base_qualnames(klass):
        qn = qn or ""
        if qn.startswith(_FRAMEWORK_PREFIXES) and not qn.endswith("Callback"):
            return True
        found = ctx.class_definition(qn) if qn and depth < 4 else None
        if found is not None and found[1] is not klass and _framework_class(found[0], found[1], depth + 1):
            return True
    return False


def _decorator_disables_grad(ctx, decorator: cst.Decorator) -> bool:
    node = decorator.decorator
    if isinstance(node, cst.Call):
        node = node.func
    return ctx.qualified_name(node) in NO_GRAD


@dataclass
class ForwardSwitch:
    """A model whose forward sets its own mode (WaveRNN's Tacotron: `if
    generate_gta: self.eval() else: self.train()`), so that `model.eval()`
    before calling it is undone."""

    ctx: Any  # the file of the forward
    train_call: cst.Call  # its `self.train()`
    flag: Optional[str] = None  # the forward's parameter that picks eval mode, when one does
    flag_value: bool = True  # the value of `flag` that picks it


def forward_switch(ref: Any) -> Optional[ForwardSwitch]:
    """How the forward of `ref`'s model class switches to train mode itself,
    by a statement of its own body; None when it leaves the mode alone."""
    model = getattr(ref, "class_model", None)
    found = model.method("forward") if model is not None else None
    if found is None or not isinstance(found[1].body, cst.IndentedBlock):
        return None
    owner, fn = found
    params = function_params(fn, True)
    for stmt in fn.body.body:
        if isinstance(stmt, cst.If):
            then = _mode_set_in(owner.ctx, stmt.body)
            orelse = _mode_set_in(owner.ctx, stmt.orelse.body) if isinstance(stmt.orelse, cst.Else) else None
            trains = next((found for found in (then, orelse) if found is not None and found[0] == "train"), None)
            if trains is None:
                continue
            if isinstance(stmt.test, cst.Name) and stmt.test.value in params:
                if then is not None and then[0] == "eval":
                    return ForwardSwitch(owner.ctx, trains[1], stmt.test.value, True)
                if orelse is not None and orelse[0] == "eval":
                    return ForwardSwitch(owner.ctx, trains[1], stmt.test.value, False)
            return ForwardSwitch(owner.ctx, trains[1])
        if isinstance(stmt, cst.SimpleStatementLine):
            mode = _mode_set_in(owner.ctx, stmt)
            if mode is not None and mode[0] == "train":
                return ForwardSwitch(owner.ctx, mode[1])
    return None


def _mode_set_in(ctx, block: cst.CSTNode) -> Optional[Tuple[str, cst.Call]]:
    """"train" / "eval" and the call, for the first `self.train()` /
    `self.eval()` / `self.train(False)` statement of a block."""
    statements = block.body if isinstance(block, cst.IndentedBlock) else [block]
    for stmt in statements:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            call = small.value if isinstance(small, cst.Expr) else None
            if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and is_self_attr(call.func)):
                continue
            name = call.func.attr.value
            if name == "eval" and not call.args:
                return "eval", call
            if name == "train":
                mode = train_mode_argument(ctx, call)
                if mode is None:
                    return None  # `self.train(flag)`: which mode is not known
                return ("train" if mode else "eval"), call
    return None


def _forward_told_to_evaluate(ctx, found: UnswitchedEval) -> bool:
    """`model(x, mels, generate_gta=True)` where the forward itself switches to
    eval mode on that flag: the call evaluates in eval mode."""
    switch = forward_switch(found.ref)
    if switch is None or switch.flag is None:
        return False
    forward = found.ref.class_model.method("forward")[1]
    params = function_params(forward, True)
    arg = call_argument(found.site.node, params.index(switch.flag), switch.flag)
    return arg is not None and ctx.constants.value(arg) is switch.flag_value


# Words that name evaluation data in a loop's iterable (`val_loader`, `testloader`,
# `dataloaders["val"]`, `validation_dataloader`), and the words of a loader.
_EVAL_DATA_WORDS = frozenset({"val", "valid", "validation", "test", "testing", "eval", "evaluation", "dev"})
_LOADER_WORDS = ("loader", "dataloader", "dl", "data", "set", "dataset", "ds", "iter", "iterator", "batches",
                 "batch", "gen", "generator", "samples", "examples")
# Whether a file may hold such a loop at all (a cheap gate before walking its
# bodies), from the same words: `for ... in <eval word>[_<loader word>]`.
_EVALUATION_LOOP_TEXT = re.compile(
    r"\bfor\b[^\n]*\bin\b[^\n]*\b(" + "|".join(sorted(_EVAL_DATA_WORDS)) + r")"
    r"(_?(" + "|".join(_LOADER_WORDS) + r"))?\b", re.IGNORECASE)


def _evaluation_loops(ctx, fn: Optional[cst.FunctionDef]):
    """(loop, why) for each `for` in `fn`'s own body (the module's when None)
    over evaluation data, whose body runs no backward pass."""
    found: List[cst.For] = []
    for loop in _own_loops(fn.body if fn is not None else ctx.tree):
        if any(contains(outer.body, loop) for outer in found):
            continue  # inside an evaluation loop already found
        named = _evaluation_data_name(loop.iter)
        if named is not None and not _trains_in(loop.body):
            found.append(loop)
            yield loop, f"in a loop over `{named}` that runs no backward pass"


# Whether a call may hand evaluation data to a helper: `f(testloader)`, `f(val_set, ...)`.
_EVALUATION_ARG_TEXT = re.compile(
    r"[(,=]\s*(\w+\.)?(" + "|".join(sorted(_EVAL_DATA_WORDS)) + r")_?(" + "|".join(_LOADER_WORDS) + r")\s*[,)]",
    re.IGNORECASE)


def _loops_over_passed_evaluation_data(ctx):
    """(function, loop, why, call site) for each loop of a same-file function over one
    of its parameters, with no backward pass, where a call passes evaluation
    data for that parameter (`calculate_accuracy(testloader)`)."""
    found: Dict[Tuple[int, int], Any] = {}
    for site in ctx.calls:
        func = site.node.func
        if not isinstance(func, cst.Name):
            continue
        passed = [(index, arg) for index, arg in enumerate(site.node.args) if not arg.star and
                  _names_evaluation_data(_last_name(arg.value))]
        if not passed:
            continue
        defs = [b.node for b in ctx.binder.lookup(func.value, ctx.binder.owner_of(site), site.node)[1]
                if b.kind == "def"]
        if len(defs) != 1:
            continue
        fn = defs[0]
        params = function_params(fn, False)
        for index, arg in passed:
            param = arg.keyword.value if arg.keyword is not None else (params[index] if index < len(params) else None)
            if param is None or param not in params:
                continue
            if _trains_in(fn.body):
                continue  # `run_epoch(loader, train)`: the helper trains too
            for loop in _own_loops(fn.body):
                if (id(fn), id(loop)) not in found and any(
                        isinstance(n, cst.Name) and n.value == param for n in walk(loop.iter)):
                    found[(id(fn), id(loop))] = (fn, loop, f"in a loop over `{param}`, which receives "
                                                           f"`{ctx.code(arg.value)}` (line {ctx.span(site.node).start_line})",
                                                 site)
    return list(found.values())


def _last_name(expr: cst.BaseExpression) -> str:
    """`testloader` of `testloader` / `self.testloader`; "" for anything else."""
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    return ""


def _own_loops(body: cst.CSTNode):
    """The `for` statements of a function's (or module's) own body, outer ones
    first, not those of nested functions or classes."""
    stack = list(children(body))
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if isinstance(node, cst.For):
            yield node
        stack.extend(children(node))


def _evaluation_data_name(expr: cst.BaseExpression) -> Optional[str]:
    """The name in a loop's iterable that says it is evaluation data, looking
    through `enumerate(...)`, `tqdm(...)`, `zip(...)` and `loaders["val"]`."""
    for node in walk(expr):
        if isinstance(node, cst.Name):
            word = node.value
        elif isinstance(node, cst.Attribute):
            word = node.attr.value
        elif isinstance(node, cst.SimpleString):
            word = node.value.strip("'\"bruBRU")
        else:
            continue
        if _names_evaluation_data(word):
            return word
    return None


def _names_evaluation_data(word: str) -> bool:
    parts = [part for part in word.lower().split("_") if part]
    if not parts:
        return False
    if parts[0] in _EVAL_DATA_WORDS and (len(parts) == 1 and parts[0] != "dev" or
                                         any(part in _LOADER_WORDS for part in parts[1:])):
        return True
    # `valloader`, `testloader`, `testset`, `val_x`-free single words
    return len(parts) == 1 and any(parts[0] == prefix + suffix for prefix in ("val", "valid", "test", "eval")
                                   for suffix in _LOADER_WORDS)


def _method_class(site) -> Optional[cst.ClassDef]:
    """The class of the method `site` is in, when it is one."""
    return site.klass if site.function is not None and site.klass is not None and \
        _is_method(site.function, site.klass) else None


def _optimises_inputs_only(training, step) -> bool:
    """`opt = Adam([z])`: the step optimises plain tensors (a latent, an
    adversarial perturbation, an image), none of them a module or a module's
    parameter, so the models it runs are used, not trained."""
    names = step.tensor_params
    if not names or any("." in name for name in names):
        return False  # `[model.weight]`: a module's own parameter
    return all(training.resolver.resolve(cst.Name(name), step.function, None) is None for name in names)
