"""Per-step training batch sizes a file sets, with where each value is written.

Sources: `DataLoader(ds, batch_size=N)` (keyword or positional slot 1, any
loader class named `*DataLoader`), argparse options `--batch-size`,
`--batch_size`, `--bs`, `--train-batch-size`..., module constants and
class-level fields (`BATCH_SIZE = 256`, `batch_size: int = 4096` in a
dataclass or config class), config dict keys, `dict(batch_size=...)`,
`SomethingConfig(batch_size=...)`, attribute assignments such as
`cfg.TRAIN.BATCH_SIZE = 64`, and Hugging Face `TrainingArguments(per_device_train_batch_size=...)`
(with `gradient_accumulation_steps` kept for the message). Values are folded by
`ctx.constants` (`64 * 1024` is a literal) with the function's local constants.

Not batch sizes: names that count tokens, rays, edges or pairs (`max_tokens`,
`tokens_per_batch`, `N_rand`, `chunk`), global/effective/total batch sizes
(gradient-accumulation targets), eval/test batch sizes (`eval_batch_size`,
`per_device_eval_batch_size`, `--test-batch-size`, a `test_kwargs` dict, a
`cfg.TEST.BATCH_SIZE`, an `EvalConfig` class), and evaluation-only loaders:

* bound to a variable, or fed a dataset or a batch size, whose name says
  val/eval/test/predict and not train (`test_loader`, `val_set`,
  `args.test_batch_size`), whatever `shuffle` says;
* over a dataset built with `train=False` or `split="test"`/`"val"`;
* built in a function named like evaluation, without `shuffle=True`;
* iterated only inside `torch.no_grad()` / `inference_mode()` blocks (or
  functions decorated with them), or after `model.eval()` in loops that do
  not train (no `.backward()`, no `train*`/`fit*` helper).

Nor batches that feed no training step: a loader read only by loops that look
at the data (`_only_inspected`), and a module constant read only as a tensor
dimension in a file that never steps an optimizer (a speed benchmark); nor a
batch size read only in comparisons (`while num_steps < args.batch_size:`, the
environment steps of an RL update: `_read_only_as_a_bound`).

A value written once is reported once: a `DataLoader(batch_size=args.bs)` whose
value comes from an argparse default or constant that is itself reported is
not reported again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Set

import libcst as cst

from .arguments import call_argument as _argument
from .arguments import call_name
from .constants import UNKNOWN
from .grad_mode import NO_GRAD, SET_GRAD
from .imports import dotted_name
from .modes import is_eval_name, name_words
from .walk import children, walk

_BATCH_NAME = re.compile(
    r"^(?:train_|training_|per_device_train_|per_gpu_train_|train_micro_|micro_|mini_)?"
    r"(?:batch_size|batchsize|batch|bs|ims_per_batch)$"
)
_CONFIG_CALL_SUFFIXES = ("Config", "Arguments", "Args", "DataModule", "Namespace", "ConfigDict", "Params")
_HF_ARGS = ("TrainingArguments", "Seq2SeqTrainingArguments")
_TENSOR_MAKERS = frozenset({"torch.randn", "torch.rand", "torch.zeros", "torch.ones", "torch.empty",
                            "torch.randint", "torch.full", "numpy.zeros", "numpy.ones", "numpy.empty"})


# Loaders whose batch_size counts graphs (or seed nodes), not the rows BatchNorm sees.
_GRAPH_LOADERS = ("torch_geometric.loader.", "torch_geometric.data.DataLoader", "torch_geometric.data.DenseDataLoader",
                  "dgl.dataloading.")


def batches_count_graphs(ctx) -> bool:
    """The file builds a graph loader (PyG's `torch_geometric.loader.DataLoader`,
    `NeighborLoader`, DGL's `GraphDataLoader`): a batch of 2 PPI graphs holds
    thousands of nodes, and BatchNorm normalises over the nodes."""
    return any((ctx.callee(site.node) or "").startswith(_GRAPH_LOADERS) for site in ctx.calls)


def means_everything(value: int) -> bool:
    """A sentinel for "the whole buffer in one batch", not a per-step size:
    all nines (tianshou's TRPO/NPG `--batch_size 99999`) or past a billion."""
    return value >= 10**9 or (value >= 9999 and set(str(value)) == {"9"})


def is_batch_name(name: str) -> bool:
    return bool(_BATCH_NAME.match(name.lstrip("-").replace("-", "_").lower()))


_TRAIN_WORDS = frozenset({"train", "training", "trn", "fit"})
_EVAL_SPLITS = frozenset({"test", "val", "valid", "validation", "eval", "evaluation", "dev"})


def is_eval_only_name(name: str) -> bool:
    """`test_loader`, `val_set`, `EvalConfig`, `test_kwargs`: evaluation, and not
    also training (`train_test_split`, `train_val_loader`)."""
    words = name_words(name)
    return any(w in ("eval", "evaluate", "evaluation", "val", "valid", "validate", "validation", "test",
                     "testing", "predict", "prediction", "infer", "inference", "dev") for w in words) and \
        not any(w in _TRAIN_WORDS for w in words)


@dataclass(eq=False)
class BatchSize:
    node: cst.BaseExpression  # the value as written
    value: int
    source: str  # human description: "DataLoader batch_size", "--batch-size default", ...
    scope: tuple = ()
    accumulation: Optional[int] = None  # HF gradient_accumulation_steps
    dataset_size: Optional[int] = None  # statically known dataset length for loaders
    via: str = ""  # "args.batch_size" when the loader got it through a name


class BatchSizeAnalysis:
    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.sizes: List[BatchSize] = []
        self._reported: Set[int] = set()
        self._options: Optional[Set[str]] = None
        self._steps: Optional[bool] = None
        self._definitions()
        self._loaders()

    # -- definitions -----------------------------------------------------------
    def _add(self, node: cst.BaseExpression, source: str, scope=(), env=None, **extra) -> Optional[BatchSize]:
        value = self.ctx.constants.value(node, env)
        if value is UNKNOWN or isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if isinstance(value, float) and not value.is_integer():
            return None
        if id(node) in self._reported or means_everything(int(value)):
            return None
        self._reported.add(id(node))
        size = BatchSize(node, int(value), source, tuple(scope), **extra)
        self.sizes.append(size)
        return size

    def _definitions(self) -> None:
        ctx = self.ctx
        never_steps = None
        for name, values in ctx.module_assignments.items():
            if is_batch_name(name) and len(values) == 1:
                if never_steps is None:
                    never_steps = not _steps_an_optimizer(ctx)
                if (never_steps or _loaders_batch_literally(ctx)) and _sizes_only_tensors(ctx, name):
                    # `BATCH_SIZE = 2**21` points for a speed benchmark: no training here;
                    # `bs = 3; x = torch.randn(bs, 1, 32, 32)`, a shape check beside a
                    # training loop whose DataLoader sets its own `batch_size=512`.
                    continue
                if never_steps and self._feeds_only_evaluation_loaders(name):
                    continue  # embeddings of a loaded encoder, computed under no_grad: no training here
                if _read_only_as_a_bound(ctx, name, attribute=False):
                    continue  # `while steps < BATCH_SIZE:` counts environment steps per update
                if "mini" not in name.lower() and {n.lower() for n in ctx.module_assignments} & _MINIBATCH_OPTIONS:
                    continue  # `batch_size = 2048; mini_batch = batch_size // 32`: a PPO rollout
                self._add(values[0], f"`{name}`")
            for value in values:
                self._dict_keys(value, name)
        for stmt in ctx.tree.body:  # cfg.TRAIN.BATCH_SIZE = 64
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign):
                        for target in small.targets:
                            if isinstance(target.target, cst.Attribute) and is_batch_name(target.target.attr.value):
                                dotted = dotted_name(target.target) or target.target.attr.value
                                if any(is_eval_only_name(part) for part in dotted.split(".")[:-1]):
                                    continue  # `cfg.TEST.BATCH_SIZE = 64`
                                self._add(small.value, f"`{dotted}`")
        for definition in ctx.classes:
            if is_eval_only_name(definition.name):
                continue  # `class EvalConfig: batch_size = 4096`
            body = definition.node.body
            for stmt in body.body if isinstance(body, cst.IndentedBlock) else ():
                if not isinstance(stmt, cst.SimpleStatementLine):
                    continue
                for small in stmt.body:
                    target = small.target if isinstance(small, cst.AnnAssign) else (
                        small.targets[0].target if isinstance(small, cst.Assign) and len(small.targets) == 1 else None)
                    value = getattr(small, "value", None)
                    if isinstance(target, cst.Name) and value is not None and is_batch_name(target.value):
                        self._add(value, f"`{definition.name}.{target.value}`", definition.scope + (definition.node,))
        keyword_sizes = []
        for site in ctx.calls:
            call = site.node
            func = call.func
            if isinstance(func, cst.Attribute) and func.attr.value == "add_argument":
                self._argparse(site)
                continue
            qn = ctx.callee(call) or (func.value if isinstance(func, cst.Name) else "")
            last = qn.rsplit(".", 1)[-1]
            if last in _HF_ARGS:
                self._hf_arguments(site)
            elif qn.startswith("skorch.") and last in _SKORCH_NETS:
                self._skorch_net(site, last)
            elif (last == "dict" or last.endswith(_CONFIG_CALL_SUFFIXES)) and not is_eval_only_name(last):
                for arg in call.args:
                    if arg.keyword is not None and is_batch_name(arg.keyword.value):
                        keyword_sizes.append((site, arg, last))
        # `dict(batch_size=batch_size)` (loader kwargs, a W&B config) passes on a
        # value written elsewhere: reported where it is written, once, not here too.
        for site, arg, last in keyword_sizes:
            if not _is_literal(arg.value):
                definition = self._definition_of(arg.value, site)
                if definition is not None and id(definition) in self._reported:
                    continue
            self._add(arg.value, f"`{arg.keyword.value}=` of {last}()", site.scope)

    def _dict_keys(self, node: cst.BaseExpression, owner: str, depth: int = 0) -> None:
        if not isinstance(node, cst.Dict) or depth > 4 or is_eval_only_name(owner.rsplit(".", 1)[-1]):
            return  # `test_kwargs = {"batch_size": 1000}`
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                continue
            key = element.key
            if isinstance(key, cst.SimpleString) and isinstance(key.evaluated_value, str):
                if is_eval_only_name(key.evaluated_value):
                    continue  # `{"test": {"batch_size": 1000}}`
                if is_batch_name(key.evaluated_value):
                    self._add(element.value, f"`{owner}[{key.evaluated_value!r}]`")
                self._dict_keys(element.value, owner, depth + 1)

    def _argparse(self, site) -> None:
        names = [a.value.evaluated_value for a in site.node.args
                 if a.keyword is None and isinstance(a.value, cst.SimpleString)
                 and isinstance(a.value.evaluated_value, str)]
        dest = next((a.value for a in site.node.args if a.keyword is not None and a.keyword.value == "dest"), None)
        if isinstance(dest, cst.SimpleString) and isinstance(dest.evaluated_value, str):
            names = [dest.evaluated_value]
        long_names = [n for n in names if n.startswith("--")] or names
        if not long_names or not is_batch_name(long_names[0]):
            return
        dest = long_names[0].lstrip("-").replace("-", "_")
        if self._ray_options():
            return  # a NeRF's options (TensoRF): `--batch_size 4096` counts rays per step, not samples
        if self._option_names() & _MINIBATCH_OPTIONS and "mini" not in dest:
            return  # PPO's `--batch_size 2048` beside `--mini_batch_size 64`: the rollout, not a step
        help_text = next((a.value.evaluated_value for a in site.node.args if a.keyword is not None
                          and a.keyword.value == "help" and isinstance(a.value, cst.SimpleString)), None)
        if isinstance(help_text, str) and _COUNTS_OTHER_UNITS.search(help_text):
            return  # ngp_pl: `--batch_size 8192, help="number of rays in a batch"`
        for arg in site.node.args:
            if arg.keyword is not None and arg.keyword.value == "default":
                if _read_only_as_a_bound(self.ctx, dest, attribute=True):
                    continue  # `while num_steps < args.batch_size:` counts rollout steps, not a minibatch
                self._add(arg.value, f"the default of `{long_names[0]}`", site.scope)

    def _option_names(self) -> Set[str]:
        """The file's argparse option names, lower case, dashes as underscores, no leading dashes."""
        if self._options is None:
            self._options = set()
            for site in self.ctx.calls:
                func = site.node.func
                if isinstance(func, cst.Attribute) and func.attr.value == "add_argument":
                    for arg in site.node.args:
                        if arg.keyword is None and isinstance(arg.value, cst.SimpleString):
                            name = arg.value.evaluated_value
                            if isinstance(name, str):
                                self._options.add(name.lstrip("-").lower().replace("-", "_"))
        return self._options

    def _ray_options(self) -> bool:
        """The file's argparse options are a radiance field's: two or more of
        the ray-rendering options NeRF code shares (`--N_samples`, `--white_bkgd`,
        `--lindisp`, `--ndc_ray`, ...)."""
        return len(self._option_names() & _RAY_OPTIONS) >= 2

    def _hf_arguments(self, site) -> None:
        accumulation = None
        batch = None
        for arg in site.node.args:
            if arg.keyword is None:
                continue
            if arg.keyword.value == "gradient_accumulation_steps":
                value = self.ctx.constants.value(arg.value)
                if isinstance(value, int) and not isinstance(value, bool):
                    accumulation = value
            elif arg.keyword.value in ("per_device_train_batch_size", "per_gpu_train_batch_size"):
                batch = arg
        if batch is not None:
            self._add(batch.value, f"`{batch.keyword.value}=`", site.scope, accumulation=accumulation)

    def _skorch_net(self, site, last: str) -> None:
        """`NeuralNetClassifier(module, batch_size=4096)`: skorch's batch for
        training and prediction alike; `iterator_train__batch_size=` overrides it
        for training (then `batch_size` sizes only the other iterators)."""
        keywords = {arg.keyword.value: arg for arg in site.node.args if arg.keyword is not None}
        arg = keywords.get("iterator_train__batch_size") or keywords.get("batch_size")
        if arg is not None:
            self._add(arg.value, f"`{arg.keyword.value}=` of {last}", site.scope)

    # -- loaders ------------------------------------------------------------------
    def _loaders(self) -> None:
        ctx = self.ctx
        for site in ctx.calls:
            qn = ctx.callee(site.node)
            if not qn or not qn.endswith("DataLoader"):
                continue
            call = site.node
            batch = _argument(call, 1, "batch_size")
            if batch is None or self._eval_only(site):
                continue
            definition = self._definition_of(batch, site)
            if definition is not None and id(definition) in self._reported:
                continue
            literal = _is_literal(batch)
            dataset = _argument(call, 0, "dataset")
            self._add(batch, "DataLoader `batch_size`", site.scope, None,
                      dataset_size=self._dataset_size(dataset, site) if dataset is not None else None,
                      via="" if literal else ctx.code(batch))

    def _eval_only(self, site) -> bool:
        call = site.node
        dataset = _argument(call, 0, "dataset")
        batch = _argument(call, 1, "batch_size")
        target = self._assigned_to(site)
        # Names that say evaluation (and not training) decide, whatever `shuffle` says.
        strong = [target] if target else []
        for expr in (dataset, batch):
            name = dotted_name(expr) if expr is not None else None
            if name:
                strong.append(name.rsplit(".", 1)[-1])
        if any(is_eval_only_name(n) for n in strong):
            return True
        if dataset is not None and self._eval_dataset(dataset, site):
            return True
        if target and self._iterated_only_for_evaluation(target, site):
            return True
        if target and _only_inspected(site.function.body if site.function is not None else self.ctx.tree,
                                      target, call, inference=not self._file_steps()):
            return True  # no training step reads it: not a training batch either
        shuffle = _argument(call, 2, "shuffle")
        if shuffle is not None:
            value = self.ctx.constants.value(shuffle)
            if value is not False:
                return False
        names = [site.function.name.value] if site.function is not None else []
        if dataset is not None and dotted_name(dataset):
            names.append(dotted_name(dataset).rsplit(".", 1)[-1])
        return any(is_eval_name(n) for n in names)

    def _file_steps(self) -> bool:
        if self._steps is None:
            self._steps = _steps_an_optimizer(self.ctx)
        return self._steps

    def _feeds_only_evaluation_loaders(self, name: str) -> bool:
        """In a file that trains nothing: every read of the module constant
        `name` (one at least) is the batch size of a loader that only
        evaluation iterates (`_eval_only`), or the `batch_size=` of a loader
        factory (stat453's `get_dataloaders_celeba(batch_size=BATCH_SIZE)`)."""
        ctx = self.ctx
        uses = ctx.fact("batch_name_uses", _NameUses)
        reads = {id(n) for n in uses.names.get(name, ()) if id(n) not in uses.targets}
        fed = 0
        for site in ctx.calls:
            qn = ctx.callee(site.node) or ""
            loader = qn.endswith("DataLoader")
            batch = _argument(site.node, 1, "batch_size") if loader else _argument(site.node, -1, "batch_size")
            if isinstance(batch, cst.Name) and id(batch) in reads:
                if loader and not self._eval_only(site):
                    return False
                fed += 1
            # `Data(set_name, test_batch_size=batch_size)` (FIM): an evaluation batch by its keyword
            fed += sum(1 for arg in site.node.args if arg.keyword is not None
                       and arg.keyword.value.lower().endswith(("batch_size", "batchsize"))
                       and is_eval_only_name(arg.keyword.value) and isinstance(arg.value, cst.Name)
                       and id(arg.value) in reads)
        return fed > 0 and len(reads) == fed

    def _eval_dataset(self, dataset: cst.BaseExpression, site, depth: int = 0) -> bool:
        """`MNIST(root, train=False)`, `load_dataset(..., split="test")`, or a name
        assigned such a dataset."""
        if depth > 2:
            return False
        if isinstance(dataset, cst.Name):
            definition = self._definition_of(dataset, site)
            return isinstance(definition, cst.Call) and self._eval_dataset(definition, site, depth + 1)
        if not isinstance(dataset, cst.Call):
            return False
        for arg in dataset.args:
            if arg.keyword is None:
                continue
            if arg.keyword.value == "train" and self.ctx.constants.value(arg.value) is False:
                return True
            if arg.keyword.value in ("split", "subset", "mode", "phase"):
                value = self.ctx.constants.value(arg.value)
                if isinstance(value, str) and value.lower().split("[")[0] in _EVAL_SPLITS:
                    return True
        return False

    def _iterated_only_for_evaluation(self, name: str, site) -> bool:
        """Every loop over the loader in its scope (at least one) evaluates: it
        runs under `torch.no_grad()` / `inference_mode()` (a `with` block, or a
        function decorated with it), or after `model.eval()` in the same block
        with no training in its body (`.backward()`, a `train*`/`fit*` helper)."""
        ctx = self.ctx
        loops: List[bool] = []

        def nograd_call(expr) -> bool:
            if not isinstance(expr, cst.Call):
                return ctx.qualified_name(expr) in NO_GRAD if isinstance(expr, (cst.Name, cst.Attribute)) else False
            qn = ctx.callee(expr)
            if qn in NO_GRAD:
                return True
            return qn in SET_GRAD and bool(expr.args) and ctx.constants.value(expr.args[0].value) is False

        def decorated(fn) -> bool:
            return any(nograd_call(d.decorator) for d in fn.decorators)

        def iterates(expr) -> bool:
            while isinstance(expr, cst.Call) and expr.args:  # enumerate(loader), tqdm(loader)
                expr = expr.args[0].value
            return isinstance(expr, cst.Name) and expr.value == name

        def mode_switch(small) -> Optional[bool]:
            """True after `x.eval()` / `x.train(False)`, False after `x.train()`."""
            call = small.value if isinstance(small, cst.Expr) else None
            if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute):
                if call.func.attr.value == "eval" and not call.args:
                    return True
                if call.func.attr.value == "train":
                    return bool(call.args) and ctx.constants.value(call.args[0].value) is False
            return None

        def trains(body) -> bool:
            for node in walk(body):
                if isinstance(node, cst.Call):
                    last = call_name(node)
                    words = name_words(last)
                    if last == "backward" or any(w in ("train", "training", "fit", "optimize") for w in words):
                        return True
            return False

        def block(statements, nograd: bool, evaluated: bool, depth: int = 0) -> None:
            if depth > 40:
                return
            for stmt in statements:
                if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                    for small in stmt.body:
                        switched = mode_switch(small)
                        if switched is not None:
                            evaluated = switched
                elif isinstance(stmt, cst.FunctionDef):
                    block(_body(stmt.body), nograd or decorated(stmt), False, depth + 1)
                elif isinstance(stmt, cst.ClassDef):
                    block(_body(stmt.body), nograd, False, depth + 1)
                elif isinstance(stmt, cst.With):
                    block(_body(stmt.body), nograd or any(nograd_call(i.item) for i in stmt.items), evaluated, depth + 1)
                elif isinstance(stmt, cst.For):
                    if iterates(stmt.iter):
                        loops.append(nograd or (evaluated and not trains(stmt.body)))
                    block(_body(stmt.body), nograd, evaluated, depth + 1)
                elif isinstance(stmt, (cst.While, cst.If, cst.Try)):
                    for inner in children(stmt):
                        if isinstance(inner, (cst.IndentedBlock, cst.SimpleStatementSuite)):
                            block(_body(inner), nograd, evaluated, depth + 1)
                        elif isinstance(inner, (cst.Else, cst.ExceptHandler, cst.Finally, cst.If)):
                            block([inner] if isinstance(inner, cst.If) else _body(inner.body), nograd, evaluated, depth + 1)

        if site.function is not None:
            block(_body(site.function.body), decorated(site.function), False)
        else:
            block(ctx.tree.body, False, False)
        return bool(loops) and all(loops)

    def _assigned_to(self, site) -> Optional[str]:
        """The attribute or name a call is assigned to (`self.train_loader = DataLoader(...)`)."""
        name = self.ctx.binder.scope(site.function).target_of(site.node)
        return name.rsplit(".", 1)[-1] if name else None

    def _definition_of(self, expr: cst.BaseExpression, site, depth: int = 0) -> Optional[cst.CSTNode]:
        ctx = self.ctx
        if isinstance(expr, cst.Name):
            binder = ctx.binder
            owner = binder.owner_of(site)
            _, bindings = binder.lookup(expr.value, owner, site.node)
            values = [b for b in bindings if b.has_value]
            if values:
                return values[-1].value
            params = [b for b in bindings if b.kind == "param"]
            if params and isinstance(owner, cst.FunctionDef) and depth < 3:
                # `def main(..., batch_size)` called with `args.batch_size`: the
                # argparse default is where the size is written.
                for caller in binder.callers(owner):
                    known, arg = binder.argument_for(caller, params[0])
                    if known and arg is not None:
                        found = self._definition_of(arg, caller, depth + 1)
                        if found is not None:
                            return found
            return None
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            default = ctx.constants.argparse_defaults().get(expr.attr.value)
            if default is not None:
                return default
            owner = ctx.module_assignments.get(expr.value.value)
            if owner and isinstance(owner[-1], cst.Dict):
                return _dict_value(owner[-1], expr.attr.value)
            for definition in ctx.classes:  # config.batch_size with a config class
                for stmt in definition.node.body.body if isinstance(definition.node.body, cst.IndentedBlock) else ():
                    if isinstance(stmt, cst.SimpleStatementLine):
                        for small in stmt.body:
                            target = getattr(small, "target", None)
                            if isinstance(target, cst.Name) and target.value == expr.attr.value:
                                return small.value
        if isinstance(expr, cst.Subscript) and isinstance(expr.value, cst.Name) and len(expr.slice) == 1:
            index = expr.slice[0].slice
            owner = ctx.module_assignments.get(expr.value.value)
            if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString) and owner \
                    and isinstance(owner[-1], cst.Dict):
                return _dict_value(owner[-1], index.value.evaluated_value)
        return None

    def _dataset_size(self, dataset: cst.BaseExpression, site, depth: int = 0) -> Optional[int]:
        """Length of `TensorDataset(torch.randn(N, ...), ...)` / `torch.randn(N, ...)`."""
        ctx = self.ctx
        if depth > 3:
            return None
        if isinstance(dataset, cst.Name):
            definition = self._definition_of(dataset, site)
            return self._dataset_size(definition, site, depth + 1) if isinstance(definition, cst.BaseExpression) else None
        if not isinstance(dataset, cst.Call):
            return None
        qn = ctx.callee(dataset) or ""
        if qn.endswith("TensorDataset") and dataset.args:
            return self._dataset_size(dataset.args[0].value, site, depth + 1)
        if qn in _TENSOR_MAKERS and dataset.args:
            if qn == "torch.randint":
                shape = _argument(dataset, 2, "size")
                value = ctx.constants.value(shape) if shape is not None else UNKNOWN
                first = value[0] if isinstance(value, (list, tuple)) and value else UNKNOWN
            else:
                first = ctx.constants.value(dataset.args[0].value)
                if isinstance(first, (list, tuple)):
                    first = first[0] if first else UNKNOWN
            if isinstance(first, int) and not isinstance(first, bool):
                return first
        if qn.endswith("Subset") and len(dataset.args) >= 2:
            indices = dataset.args[1].value
            if isinstance(indices, cst.Call) and isinstance(indices.func, cst.Name) and indices.func.value == "range":
                bounds = [ctx.constants.value(a.value) for a in indices.args]
                if 0 < len(bounds) <= 3 and all(isinstance(b, int) for b in bounds) and \
                        (len(bounds) < 3 or bounds[2] != 0):
                    return len(range(*bounds))
        return None


# skorch's estimators, whose `batch_size=` is the training batch.
_SKORCH_NETS = frozenset({"NeuralNet", "NeuralNetClassifier", "NeuralNetRegressor", "NeuralNetBinaryClassifier"})


# Calls that look at a batch without training on it.
_INSPECTING_CALLS = frozenset({
    "print", "len", "range", "enumerate", "zip", "list", "tuple", "dict", "set", "str", "int", "float",
    "min", "max", "sum", "abs", "round", "isinstance", "type", "format", "sorted",
    "append", "extend", "numpy", "cpu", "detach", "to", "cuda", "item", "tolist", "size", "dim", "numel",
    "view", "reshape", "flatten", "squeeze", "unsqueeze", "permute", "long", "mean", "std", "var",
    "argmax", "unique", "bincount", "shape", "array", "asarray", "concatenate", "stack",
    "cat", "imshow", "show", "figure", "subplot", "title", "axis", "savefig",
    "make_grid", "transpose", "clone", "copy", "keys", "values", "items", "join", "write",
    # making a noisy copy of the data and writing it out (a denoising autoencoder's
    # preprocessing reads the whole set in one batch): data, not a step
    "Variable", "save", "random", "rand", "randn", "rand_like", "randn_like", "randint", "normal",
    "uniform", "bernoulli", "clamp", "clip", "zeros_like", "ones_like",
})


# Calls that compute with a model without training it, in a file that never
# steps an optimizer (sentence-transformers' `model.encode_multi_process(...)`).
_INFERENCE_PREFIXES = ("encode", "embed", "predict", "infer", "generate", "transcribe", "translate")


def _only_inspects(body, inference: bool = False) -> bool:
    """A loop body that only looks at the data: every call is a known
    inspecting call (printing, shapes, statistics, copies to numpy or a
    list); any other call may train (a helper, `model(x)`, `agent.update`).
    With `inference` (the file trains nothing), also a model's encode or
    predict methods."""
    for node in walk(body):
        if isinstance(node, cst.Call) and call_name(node) not in _INSPECTING_CALLS and \
                not (inference and call_name(node).startswith(_INFERENCE_PREFIXES)):
            return False
        if isinstance(node, (cst.Lambda, cst.FunctionDef, cst.Yield, cst.Await)):
            return False
    return True


def _only_inspected(scope, name: str, loader: cst.Call, inference: bool = False) -> bool:
    """The loader `name = loader` feeds only loops that look at the batches
    (a peek at one batch, channel statistics, the whole set copied to numpy
    for a scikit-learn model), at least one, and is read nowhere else but in
    `len()`, up to the next binding of `name` (notebooks rebind `train_loader`
    cell after cell). Source order stands in for control flow; where the two
    differ, a read is counted rather than skipped, which keeps the finding."""
    active = False
    loops = 0
    iterables: Set[int] = set()
    for node in walk(scope):
        if isinstance(node, cst.Assign) and any(isinstance(t.target, cst.Name) and t.target.value == name
                                                for t in node.targets):
            if node.value is loader:
                active = True
                iterables.update(id(t.target) for t in node.targets)  # the binding, not a read
            elif active:
                break  # rebound: later reads see another loader
            continue
        if not active:
            continue
        if isinstance(node, cst.For):
            expr = node.iter
            while isinstance(expr, cst.Call) and expr.args:  # enumerate(loader), tqdm(loader)
                expr = expr.args[0].value
            if isinstance(expr, cst.Name) and expr.value == name:
                if not _only_inspects(node.body, inference):
                    return False
                loops += 1
                iterables.add(id(expr))
        elif isinstance(node, cst.Call) and call_name(node) == "len" and len(node.args) == 1 and \
                isinstance(node.args[0].value, cst.Name) and node.args[0].value.value == name:
            iterables.add(id(node.args[0].value))  # `len(loader)` trains nothing
        elif _peeks_at(node, name):
            # `real = next(iter(whole_dl))[0]`: one batch taken out (the real images
            # of a GAN metric); what is done with it is the rest of the file's business.
            loops += 1
            iterables.add(id(node.args[0].value.args[0].value))
        elif isinstance(node, cst.Name) and node.value == name and id(node) not in iterables:
            return False  # passed on, wrapped, stored: it may train
    return loops > 0


def _peeks_at(node: cst.CSTNode, name: str) -> bool:
    """`next(iter(name))`."""
    if not (isinstance(node, cst.Call) and call_name(node) == "next" and len(node.args) == 1):
        return False
    inner = node.args[0].value
    return isinstance(inner, cst.Call) and call_name(inner) == "iter" and len(inner.args) == 1 and \
        isinstance(inner.args[0].value, cst.Name) and inner.args[0].value.value == name


# An option's help saying it counts something other than samples.
_COUNTS_OTHER_UNITS = re.compile(r"\b(?:rays?|tokens?|pixels?|points?|edges?)\b", re.IGNORECASE)


# Options of ray-marching renderers (nerf-pytorch, nerf_pl, TensoRF, torch-ngp), lower case.
_RAY_OPTIONS = frozenset({
    "n_samples", "nsamples", "n_importance", "n_rand", "white_bkgd", "lindisp", "perturb", "ndc_ray",
    "no_ndc", "raw_noise_std", "netchunk", "chunk", "use_viewdirs", "num_rays", "n_rays", "near", "far",
})


# Options that name the per-step batch of an on-policy RL update; beside one,
# `--batch_size` is the rollout collected per update (DRL-code-pytorch's PPO).
_MINIBATCH_OPTIONS = frozenset({"mini_batch_size", "minibatch_size", "mini_batch", "num_minibatches",
                                "n_minibatches", "num_mini_batch", "minibatch"})


# The last word of a call that makes or reads training data, not a step:
# `get_train_loader(...)`, `train_test_split(...)`, `load_train_dataset(...)`.
_DATA_WORDS = frozenset({"loader", "loaders", "dataloader", "dataset", "datasets", "data", "set", "sets", "iter",
                         "iterator", "split", "transform", "transforms", "samples", "images", "labels", "files",
                         "paths", "path", "dir"})


def _steps_an_optimizer(ctx) -> bool:
    """Some call in the file could take a training step: `.step()`, `fit`, a
    `train*` helper, a Trainer."""
    for site in ctx.calls:
        name = call_name(site.node)
        words = name_words(name)
        if name in ("step", "fit", "minimize") or name.endswith("Trainer") or \
                "train" in words and words[-1] not in _DATA_WORDS:
            return True
    return False


def _loaders_batch_literally(ctx) -> bool:
    """Some DataLoader of the file takes a literal `batch_size`: the training
    data comes batched from it, not from a tensor sized by a module constant."""
    for site in ctx.calls:
        qn = ctx.callee(site.node) or ""
        if qn.endswith("DataLoader"):
            batch = _argument(site.node, 1, "batch_size")
            if batch is not None and _is_literal(batch):
                return True
    return False


def _sizes_only_tensors(ctx, name: str) -> bool:
    """Every read of the module constant `name` is a dimension of a tensor
    made on the spot (`torch.rand(BATCH_SIZE, 16)`), and it is read at least once."""
    reads = 0
    for site in ctx.calls:
        if (ctx.callee(site.node) or "") not in _TENSOR_MAKERS:
            continue
        for arg in site.node.args:
            values = [e.value for e in arg.value.elements] if isinstance(arg.value, (cst.Tuple, cst.List)) \
                else [arg.value]
            reads += sum(1 for v in values if isinstance(v, cst.Name) and v.value == name)
    uses = ctx.fact("batch_name_uses", _NameUses).names.get(name, ())
    # A function's own `bs = x.shape[0]` is another variable (dataflowr's UNet.forward).
    local = {id(node) for definition in ctx.functions if ctx.binder.scope(definition.node).binds(name)
             for node in walk(definition.node) if type(node) is cst.Name}
    total = sum(1 for node in uses if id(node) not in local)
    return reads > 0 and total - 1 == reads  # the one other Name is the assignment's target


class _NameUses:
    """One walk over a file for the questions below: every Name by its text,
    every `<name>.attr` by its attribute, and which expressions are a side of
    a comparison or an assignment's target."""

    def __init__(self, ctx) -> None:
        self.names: Dict[str, List[cst.Name]] = {}
        self.attributes: Dict[str, List[cst.Attribute]] = {}
        self.dotted: Set[int] = set()  # the value of some Attribute
        self.compared: Set[int] = set()
        self.targets: Set[int] = set()
        # Names that are no reads of a variable: `batch_size=` of a call, `.batch_size`
        # of an attribute, a parameter's or a definition's own name.
        labels: Set[int] = set()
        for node in walk(ctx.tree):
            kind = type(node)
            if kind is cst.Name:
                if id(node) not in labels:
                    self.names.setdefault(node.value, []).append(node)
            elif kind is cst.Attribute:
                labels.add(id(node.attr))
                self.dotted.add(id(node.value))
                if type(node.value) is cst.Name:
                    self.attributes.setdefault(node.attr.value, []).append(node)
            elif kind is cst.Arg:
                if node.keyword is not None:
                    labels.add(id(node.keyword))
            elif kind is cst.Param or kind is cst.FunctionDef or kind is cst.ClassDef:
                labels.add(id(node.name))
            elif kind is cst.Comparison:
                self.compared.update(id(side) for side in [node.left] + [t.comparator for t in node.comparisons])
            elif kind is cst.Assign:
                self.targets.update(id(t.target) for t in node.targets)
            elif kind is cst.AnnAssign or kind is cst.AugAssign:
                self.targets.add(id(node.target))


def _read_only_as_a_bound(ctx, name: str, attribute: bool) -> bool:
    """Every read of the batch size in this file is a side of a comparison
    (`while num_steps < args.batch_size:`, TRPO's environment steps per update),
    and there is at least one. With `attribute`, the reads are `<ns>.name` and
    the namespace never leaves the file whole (`train(args)`, `vars(args)`):
    another module could read it as a minibatch there."""
    uses = ctx.fact("batch_name_uses", _NameUses)
    reads: List[cst.CSTNode]
    if attribute:
        reads = [n for n in uses.attributes.get(name, ()) if id(n) not in uses.targets]
    else:
        reads = [n for n in uses.names.get(name, ()) if id(n) not in uses.targets]
    if not reads or any(id(read) not in uses.compared for read in reads):
        return False
    if not attribute:
        return True
    owners = {read.value.value for read in reads if isinstance(read, cst.Attribute) and isinstance(read.value, cst.Name)}
    return all(id(n) in uses.dotted or id(n) in uses.targets for owner in owners for n in uses.names.get(owner, ()))


def _body(block) -> List[cst.CSTNode]:
    return list(block.body) if isinstance(block, (cst.IndentedBlock, cst.SimpleStatementSuite)) else []


def _dict_value(node: cst.Dict, key: str) -> Optional[cst.BaseExpression]:
    for element in node.elements:
        if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString) \
                and element.key.evaluated_value == key:
            return element.value
    return None


def _is_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, (cst.Integer, cst.Float)):
        return True
    if isinstance(node, cst.BinaryOperation):
        return _is_literal(node.left) and _is_literal(node.right)
    if isinstance(node, cst.UnaryOperation):
        return _is_literal(node.expression)
    return False
