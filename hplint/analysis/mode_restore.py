"""Train mode not restored (the facts of HPL010): an epoch loop switches the
model to eval mode for validation and trains the next epoch without switching
it back.

Read from the mode analysis: each training step (or helper call that trains)
reached in eval mode, reported once per `eval()` switch, in the body that holds
the switch. A model that is known to hold no Dropout/BatchNorm is not one whose
mode matters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import libcst as cst

from . import layers as L
from .arguments import call_argument
from .imports import dotted_name
from .modes import ModeAnalysis, model_key
from .training import TrainingAnalysis, _is_method, body_statements
from .walk import contains, walk


@dataclass
class ModeNotRestored:
    eval_node: cst.CSTNode  # the switch to eval mode
    training_node: cst.CSTNode  # the training step that runs in eval mode
    mkey: str  # the model expression switched, `model` / `self.net`
    model: Any  # the step's model (ModelRef) when known, else None
    scope: tuple  # enclosing definitions of the function that holds both
    # The first statement of the loop whose iterations should start in train
    # mode (the outermost loop holding both, else the innermost holding the
    # step); None when there is no such loop.
    restore_at: Optional[cst.CSTNode]


class ModeRestoreAnalysis:
    """`ctx.fact("mode_restore", ModeRestoreAnalysis).findings`."""

    def __init__(self, ctx) -> None:
        self.findings: List[ModeNotRestored] = self._compute(ctx)

    @staticmethod
    def _compute(ctx) -> List[ModeNotRestored]:
        training = ctx.fact("training", TrainingAnalysis)
        modes = ctx.fact("modes", ModeAnalysis)
        out: List[ModeNotRestored] = []
        reported = set()
        for _key, sites in training.calls_by_function.items():
            if not _worth_walking(modes, sites):
                continue
            site0 = sites[0]
            fn = site0.function
            klass = site0.klass if fn is not None and site0.klass is not None and _is_method(fn, site0.klass) else None
            flow = modes.flow(fn, klass)
            for keys, node, state, step in flow.trainings:
                if any(state.in_train(k) for k in keys):
                    continue
                found = [(k, state.maybe_eval(k)) for k in keys]
                found = [(k, n) for k, n in found if n is not None]
                if not found:
                    continue
                mkey, eval_node = found[0]
                if id(eval_node) in reported:
                    continue
                if not contains(fn if fn is not None else ctx.tree, eval_node):
                    continue  # the switch happened in a helper's own body: reported there
                if _mode_chosen_by_a_flag(ctx, fn.body if fn is not None else ctx.tree, eval_node, node, mkey):
                    continue
                model = step.model if step is not None else _argument_model(training, node, mkey, fn, klass)
                if model is not None and model.layers and not any(mode_effects(model)):
                    # Eval mode changes nothing for this model. A model with no
                    # layers at all is not known: a base class whose subclasses
                    # bring them (DeepCTR-Torch's BaseModel.fit on `self`).
                    continue
                reported.add(id(eval_node))
                out.append(ModeNotRestored(eval_node, node, mkey, model, site0.scope if fn is not None else (),
                                           _restore_at(ctx, fn, node, eval_node)))
        return out


def _mode_chosen_by_a_flag(ctx, body, eval_node, training_node, mkey: str) -> bool:
    """`if train: model.train() else: model.eval()` (or `model.train(train)`) and
    the step under a later `if train:` (wavenet_vocoder's one step function for
    both phases, Sentence-VAE's `for split in ["train", "valid"]` with `split ==
    "train"`): the eval branch and the step never run on one pass."""
    chosen = None  # (the test, the test's value where eval mode is set)
    if isinstance(eval_node, cst.Call) and isinstance(eval_node.func, cst.Attribute) and \
            eval_node.func.attr.value == "train" and len(eval_node.args) == 1 and not eval_node.args[0].star:
        chosen = (eval_node.args[0].value, False)  # `model.train(split == "train")`: eval where it is false
    for stmt in body_statements(body) if chosen is None else ():
        if not isinstance(stmt, cst.If) or not isinstance(stmt.orelse, cst.Else):
            continue
        if contains(stmt.orelse.body, eval_node) and _calls_train(stmt.body, mkey):
            chosen = (stmt.test, False)
        elif contains(stmt.body, eval_node) and _calls_train(stmt.orelse.body, mkey):
            chosen = (stmt.test, True)
        if chosen is not None:
            break
    if chosen is None:
        return _skipped_after_eval(ctx, body, eval_node, training_node)
    if not _stable_test(chosen[0], body):
        return False
    test, eval_when = ctx.code(chosen[0]), chosen[1]
    for other in body_statements(body):
        if not isinstance(other, cst.If) or other.test is chosen[0] or ctx.code(other.test) != test:
            continue
        if eval_when is False and contains(other.body, training_node):
            return True
        if eval_when is True and isinstance(other.orelse, cst.Else) and contains(other.orelse.body, training_node):
            return True
    return False


def _skipped_after_eval(ctx, body, eval_node, training_node) -> bool:
    """`if args.inference_only: model.eval(); evaluate(...)` and then the epoch
    loop opening with `if args.inference_only: break` (SASRec.pytorch), or the
    step under `if not args.inference_only:`: where the switch ran, the step
    does not."""
    statements = list(body_statements(body))
    guards = [stmt.test for stmt in statements if isinstance(stmt, cst.If) and contains(stmt.body, eval_node)]
    test = guards[-1] if guards else None  # the innermost (statements come outer first)
    if test is None or not _stable_test(test, body):
        return False
    text = ctx.code(test)
    for stmt in statements:
        if not contains(stmt, training_node) or stmt is eval_node:
            continue
        if isinstance(stmt, cst.If) and isinstance(stmt.test, cst.UnaryOperation) and \
                isinstance(stmt.test.operator, cst.Not) and ctx.code(stmt.test.expression) == text and \
                contains(stmt.body, training_node):
            return True
        if isinstance(stmt, (cst.For, cst.While)) and isinstance(stmt.body, cst.IndentedBlock) and \
                not _assigns(stmt, test):
            for inner in stmt.body.body:
                if contains(inner, training_node):
                    break
                if isinstance(inner, cst.If) and inner.orelse is None and ctx.code(inner.test) == text and \
                        _leaves(inner.body):
                    return True
    return False


def _assigns(block, test) -> bool:
    """Does `block` assign a name or attribute the test reads?"""
    names = {dotted_name(n) for n in walk(test) if isinstance(n, (cst.Name, cst.Attribute))}
    for node in walk(block):
        if isinstance(node, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
            for target in (node.targets if isinstance(node, cst.Assign) else [node]):
                if dotted_name(target.target) in names:
                    return True
    return False


def _leaves(block) -> bool:
    """A block that ends its loop iteration: `break`, `continue`, `return`, `raise`."""
    if isinstance(block, cst.SimpleStatementSuite):  # `if done: break` on one line
        small = block.body
    elif isinstance(block, cst.IndentedBlock) and isinstance(block.body[-1], cst.SimpleStatementLine):
        small = block.body[-1].body
    else:
        return False
    return bool(small) and isinstance(small[-1], (cst.Break, cst.Continue, cst.Return, cst.Raise))


def _stable_test(test: cst.BaseExpression, body) -> bool:
    """A test that reads the same on both ifs: names, attributes, constants and
    comparisons of them (no call), each name assigned at most once in the body
    (a loop variable, `train = phase == "train"`)."""
    names = set()
    for node in walk(test):
        if isinstance(node, cst.Call):
            return False
        if isinstance(node, (cst.Name, cst.Attribute)):
            name = dotted_name(node)
            if name is not None:
                names.add(name)
    assignments: Dict[str, int] = {}
    for node in walk(body):
        if isinstance(node, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
            for target in (node.targets if isinstance(node, cst.Assign) else [node]):
                name = dotted_name(target.target)
                if name in names:
                    assignments[name] = assignments.get(name, 0) + 1
    return all(count <= 1 for count in assignments.values())


def _calls_train(block, mkey: str) -> bool:
    return any(isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and
               node.func.attr.value == "train" and not node.args and model_key(node.func.value) == mkey
               for node in walk(block))


def mode_effects(model) -> Tuple[bool, bool]:
    """What eval mode changes in this model: (dropout, BatchNorm). Dropout
    counts for Dropout layers, layers with dropout inside (nn.Transformer*,
    MultiheadAttention) and an RNN built with `dropout=` other than 0. An
    embedding-only model (MetaPath2Vec, matrix factorisation) changes neither."""
    held = model.categories()
    dropout = bool(held & {L.DROPOUT, L.MODE_DEPENDENT})
    for layer in model.layers if not dropout else ():
        if layer.category == L.RNN and isinstance(layer.node, cst.Call):
            rate = call_argument(layer.node, 5, "dropout")  # nn.LSTM(input, hidden, layers, bias, batch_first, dropout)
            if rate is not None and layer.ctx.constants.value(rate) != 0:
                dropout = True
                break
    return dropout, L.BATCHNORM in held


def _argument_model(training, call, mkey, fn, klass):
    """The model a training helper trains: the argument it is handed
    (`train_step(model=model_1)`) when that is the model switched, else a
    module-level model the helper uses. The helper's own step knows only its
    parameter or global name."""
    if not isinstance(call, cst.Call):
        return None
    for arg in call.args:
        if model_key(arg.value) == mkey:
            return training.resolver.resolve(arg.value, fn, klass)
    # `train(epoch)` training the global `model` (PyG metapath2vec.py): the model
    # bound to that name where the switch is (the function, else the module).
    if "." not in mkey:
        scope = fn if fn is not None and mkey in training.resolver.assignments(fn) else None
        values = [value for value, _ in training.resolver.assignments(scope).get(mkey, [])]
        refs = [training.resolver.resolve(value, scope, klass if scope is not None else None) for value in values]
        if len(refs) == 1:
            return refs[0]
    return None


def _restore_at(ctx, fn, training_node, eval_node) -> Optional[cst.CSTNode]:
    body = fn.body if fn is not None else ctx.tree
    loops = [s for s in body_statements(body) if isinstance(s, (cst.For, cst.While)) and contains(s, training_node)]
    if not loops:
        return None
    both = [s for s in loops if contains(s, eval_node)]
    loop = both[0] if both else loops[-1]  # outermost loop holding both, else the innermost one
    if not isinstance(loop.body, cst.IndentedBlock) or not loop.body.body:
        return None
    return loop.body.body[0]


def _worth_walking(modes, sites) -> bool:
    """A body that trains and may switch a model to eval mode (directly or through
    same-file helpers): `model.train()` alone can never leave it in eval mode."""
    return modes.reaches(sites, "train") and modes.reaches(sites, "eval")
