"""HPL008 dropout-active-at-eval: evaluation in training mode, functional dropout hard-wired on."""

from __future__ import annotations

import pytest

from training_helpers import apply_fix, lint, lint_source, parses

MODEL = """
import torch
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.fc(x))

model = Net()
"""

# A classifier whose own predict() runs its dropout under no_grad.
PREDICTING_CLASSIFIER = """    def __init__(self):
        super().__init__()
        self.encoder = torch.nn.Linear(16, 32)
        self.dropout = torch.nn.Dropout(0.3)

    def _encode(self, x):
        return self.dropout(self.encoder(x))

    def predict(self, x):
        with torch.no_grad():
            return self._encode(x).argmax(-1)
"""

SELF_EVALUATING_MODEL = """
class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = Net()
        self.opt = torch.optim.SGD(self.parameters(), lr=0.1)

    def fit(self, loader):
        for x in loader:
            self.opt.zero_grad()
            self.net(x).sum().backward()
            self.opt.step()
        return self.evaluate(x)

    @torch.no_grad()
    def evaluate(self, x):
        return self.net(x)
"""

CALLABLE_RULE = """
import torch
from torch import nn


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.3), nn.Linear(16, 4))

    def forward(self, x):
        return self.net(x)

    def greedy(self, x):
        with torch.no_grad():
            return self(x).argmax(-1)

    def mode(self, x):
        return self.greedy(x)


class ExactMode:
    def __call__(self, model, x):
        return model.mode(x)


def train(model, opt, data):
    for x in data:
        model.train()
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
    model.eval()


model = Tagger()
opt = torch.optim.Adam(model.parameters())
train(model, opt, [torch.randn(2, 8)])
rule = ExactMode()
print(rule(model, torch.randn(2, 8)))
"""

DIST_MODEL = """
import torch
import torch.distributions as td
from torch import nn

class Poisson(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 1), nn.Softplus())

    def forward(self, x):
        return td.Poisson(rate=self.net(x))

    def sample(self, x, n=()):
        with torch.no_grad():
            cpd = self(x)
            return cpd.sample(n)

"""

TAGGER = """
import torch
from torch import nn

class Tagger(nn.Module):
    def __init__(self, n, p_drop=0.0):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n, 16), nn.ReLU(), nn.Dropout(p_drop), nn.Linear(16, 4))

    def forward(self, x):
        return self.net(x)

    def mode(self, x):
        with torch.no_grad():
            return self(x).argmax(-1)

"""


POSITIVE = {
    # ... the same module's `sample` called in this file on a model that is training.
    "own_sample_method_called_on_a_training_model": DIST_MODEL + """
model = Poisson()
opt = torch.optim.Adam(model.parameters())
for x in data:
    opt.zero_grad()
    model(x).log_prob(y).mean().backward()
    opt.step()
print(model.sample(x))
""",
    # ... the same without the eval() at the end of training.
    "own_method_called_through_a_callable_object_in_train_mode":
        CALLABLE_RULE.replace("        opt.step()\n    model.eval()\n", "        opt.step()\n"),
    # ... and the same with the eval() on the other name.
    "eval_in_a_tuple_assignment_of_the_other_model": MODEL.replace("model = Net()\n", "") +
        "@torch.no_grad()\ndef generate(path):\n    netg, netd = Net(), Net().eval()\n"
        "    netg.load_state_dict(torch.load(path))\n    return netg(torch.randn(2, 4))\n",
    # ... and the same method on an instance whose call sets a rate.
    "own_method_on_an_instance_with_dropout": TAGGER + "toy = Tagger(8, 0.3)\nprint(toy.mode(torch.randn(2, 8)))\n",
    # ... but a bare layer is evaluated once the file trains it or loads weights into it.
    "top_level_no_grad_of_a_layer_after_training": "import torch\nfrom torch import nn\n\n"
        "m = nn.BatchNorm1d(4)\nopt = torch.optim.SGD(m.parameters(), lr=0.1)\nfor x in data:\n"
        "    opt.zero_grad()\n    m(x).sum().backward()\n    opt.step()\n"
        "with torch.no_grad():\n    print(m(x))\n",
    "top_level_no_grad_of_a_layer_given_weights": "import torch\nfrom torch import nn\n\n"
        "m = nn.BatchNorm1d(4)\nm.load_state_dict(torch.load('bn.pt'))\n"
        "with torch.no_grad():\n    print(m(torch.randn(2, 4)))\n",
    # A model moved to the GPU and given trained weights is evaluated, not smoke-tested.
    "test_of_a_loaded_model_on_the_gpu": MODEL.replace("model = Net()\n", "") +
        "def test(path):\n    net = Net().cuda()\n    net.load_state_dict(torch.load(path))\n    with torch.no_grad():\n        return net(torch.randn(2, 4).cuda())\n",
    # The model's own fit() trains, then evaluates through its own method: this
    # file calls it in training mode.
    "own_fit_trains_then_evaluates_itself": MODEL.replace("model = Net()\n", "") + SELF_EVALUATING_MODEL,
    # The same with the module's base a subscripted generic (flair's `Classifier[DT]`).
    "own_fit_trains_then_evaluates_itself_generic_base": MODEL.replace("model = Net()\n", "") +
        "\nimport typing\nT = typing.TypeVar('T')\n\nclass Base(nn.Module, typing.Generic[T]):\n    pass\n" +
        SELF_EVALUATING_MODEL.replace("class Model(nn.Module):", "class Model(Base[T]):"),
    "eval_function_no_grad": MODEL + "def evaluate(loader):\n    with torch.no_grad():\n        return [model(x) for x in loader]\n",
    "decorated_no_grad": MODEL + "@torch.no_grad()\ndef run(x):\n    return model(x)\n",
    "script_no_grad_block": MODEL + "with torch.no_grad():\n    out = model(data)\n",
    "inference_mode": MODEL + "with torch.inference_mode():\n    out = model(data)\n",
    "set_grad_enabled_false": MODEL + "with torch.set_grad_enabled(False):\n    out = model.forward(data)\n",
    "train_called_again": MODEL + "model.eval()\nmodel.train()\nwith torch.no_grad():\n    out = model(data)\n",
    "eval_in_one_branch": MODEL + "def predict(x, fast):\n    if fast:\n        model.eval()\n    return model(x)\n",
    "param_caller_without_eval": MODEL + "def validate(net, loader):\n    return [net(x) for x in loader]\n\ndef main(loader):\n    m = Net()\n    validate(m, loader)\n",
    "batchnorm_only": "import torch\nimport torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))\ndef test_epoch(loader):\n    with torch.no_grad():\n        for x in loader:\n            model(x)\n",
    "camel_case_name": MODEL + "def runInference(x):\n    return model(x)\n",
    # A model built in the function, but with trained weights loaded: a real evaluation.
    "built_then_weights_loaded": MODEL + "def test():\n    net = Net()\n    net.load_state_dict(torch.load('w.pt'))\n    return net(torch.randn(2, 4))\n",
    "built_by_a_factory_that_loads_weights": MODEL + "def make_net(path):\n    net = Net()\n    net.load_state_dict(torch.load(path))\n    return net\n\ndef evaluate(path):\n    net = make_net(path)\n    return net(torch.randn(2, 4))\n",
    # Evaluation every N steps inside the training loop, after the step: the model is in train mode.
    "no_grad_after_the_step_in_the_loop": MODEL + "opt = torch.optim.SGD(model.parameters(), lr=0.1)\nfor x in data:\n    opt.zero_grad()\n    model(x).sum().backward()\n    opt.step()\n    with torch.no_grad():\n        val = model(x)\n",
    # The helper that switches to eval runs only on some epochs.
    "eval_helper_on_some_epochs": MODEL + "def valid(m):\n    m.eval()\n\nfor epoch in range(3):\n    model.train()\n    if epoch % 2:\n        valid(model)\nwith torch.no_grad():\n    out = model(data)\n",    # Validation on a fixed batch each epoch: repeated on one input, but the loop trains.
    "fixed_validation_batch_each_epoch": MODEL + "opt = torch.optim.SGD(model.parameters(), lr=0.1)\nfor epoch in range(3):\n    opt.zero_grad()\n    model(x).sum().backward()\n    opt.step()\n    with torch.no_grad():\n        val = model(x_val)\n",
    # A loop over range() that feeds each output back in is not repeated sampling.
    "rollout_feeding_its_output_back": MODEL + "with torch.no_grad():\n    for t in range(10):\n        x = model(x)\n",
}

FUNCTIONAL = {
    "default_training": "x = F.dropout(x, 0.5)",
    "positional_true": "x = F.dropout(x, 0.5, True)",
    "keyword_true": "x = F.dropout2d(x, p=0.2, training=True)",
    "torch_dropout_train_true": "x = torch.dropout(x, 0.5, train=True)",
    "alpha_dropout_true": "x = F.alpha_dropout(x, 0.1, True)",
}

_ALGORITHM = """
import torch
import torch.nn as nn
import torch.nn.functional as F

class Algorithm(nn.Module):
    def __init__(self):
        super().__init__()
        self.featurizer = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.3), nn.Linear(8, 3))
        self.optimizer = torch.optim.Adam(self.parameters())

    def predict(self, x):
        return self.featurizer(x)
"""

NEGATIVE = {
    # Monte-Carlo dropout (Atcold/pytorch-Deep-Learning 13-bayesian_nn): train mode on
    # purpose, the same input sampled N times for a mean and a spread.
    "monte_carlo_dropout_loop": MODEL + "model.train()\nsamples = []\nwith torch.no_grad():\n    for t in range(100):\n        samples.append(model(xx.view(-1, 1)).squeeze())\n",
    "monte_carlo_dropout_comprehension": MODEL + "@torch.no_grad()\ndef predict(x, n=20):\n    return torch.stack([model(x) for _ in range(n)]).mean(0)\n",
    # DomainBed: `predict` is the forward of the loss in `update`, not evaluation code.
    "predict_method_computes_the_training_loss": _ALGORITHM + """
    def update(self, x, y):
        loss = F.cross_entropy(self.predict(x), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
""",
    # ... and its one evaluation caller switches a receiver hplint cannot resolve.
    "predict_called_in_eval_mode_on_a_parameter": _ALGORITHM + """
def accuracy(network, loader):
    network.eval()
    with torch.no_grad():
        correct = sum((network.predict(x).argmax(1) == y).sum() for x, y in loader)
    network.train()
    return correct
""",
    # A module's own evaluation method that this file never calls: the caller
    # sets the mode (RecBole's trainer runs `model.eval()` before `predict`).
    "module_predict_method_called_elsewhere": MODEL.replace("model = Net()\n", "") + "\nclass Wrapper(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.net = Net()\n\n    @torch.no_grad()\n    def predict(self, x):\n        return self.net(x)\n",
    "recommender_predict_and_full_sort_predict": MODEL.replace("model = Net()\n", "") + """
class NeuMF(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp_layers = Net()

    def forward(self, user, item):
        return self.mlp_layers(user * item)

    def predict(self, interaction):
        return self.forward(interaction["user"], interaction["item"])

    def full_sort_predict(self, interaction):
        return self.mlp_layers(interaction["user"])
""",
    # DiffRec: `predict` calls `self.full_sort_predict`, both evaluation methods.
    "own_evaluation_method_called_by_another": MODEL.replace("model = Net()\n", "") + """
class DiffRec(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp = Net()

    def p_sample(self, x):
        return self.mlp(x)

    def full_sort_predict(self, interaction):
        return self.p_sample(interaction)

    def predict(self, interaction):
        return self.full_sort_predict(interaction)[:, 0]
""",
    # PyG explain/mgnan_graph_mutagenicity.py: `evaluate` nested in main() switches
    # the model it closes over; the sample printed after it runs in eval mode.
    "nested_helper_switches_the_closed_over_model": MODEL.replace("model = Net()\n", "") + """
def main(loader, sample):
    model = Net()
    opt = torch.optim.Adam(model.parameters())

    def evaluate(data):
        model.eval()
        return [model(x) for x in data]

    for epoch in range(3):
        model.train()
        for x in loader:
            opt.zero_grad()
            model(x).sum().backward()
            opt.step()
        evaluate(loader)
        with torch.no_grad():
            print(model(sample))
""",
    # tacotron2 model.py: Tacotron2.inference calls `self.decoder.inference(...)`,
    # another class's method of the same name; its own is called elsewhere.
    "own_method_named_like_a_submodules": MODEL.replace("model = Net()\n", "") + """
class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = Net()

    def inference(self, x):
        return self.net(x)


class Tacotron(nn.Module):
    def __init__(self):
        super().__init__()
        self.decoder = Decoder()
        self.postnet = Net()

    def inference(self, x):
        return self.postnet(self.decoder.inference(x))
""",
    "eval_before": MODEL + "def evaluate(loader):\n    model.eval()\n    with torch.no_grad():\n        return [model(x) for x in loader]\n",
    "train_false": MODEL + "model.train(False)\nwith torch.no_grad():\n    out = model(data)\n",
    "reassigned_eval": MODEL + "def predict(x):\n    m = Net()\n    m = m.eval()\n    return m(x)\n",
    "eval_in_argument": MODEL + "def evaluate(net, x):\n    return net(x)\n\nevaluate(model.eval(), data)\n",
    "caller_switches": MODEL + "def validate(net, loader):\n    return [net(x) for x in loader]\n\ndef main(loader):\n    m = Net()\n    m.eval()\n    validate(m, loader)\n",
    "self_eval_in_method": MODEL.replace("model = Net()\n", "") + "\nclass Wrapper(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.net = Net()\n\n    @torch.no_grad()\n    def predict(self, x):\n        self.eval()\n        return self.net(x)\n",
    "no_dropout_or_bn": "import torch\nimport torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 4), nn.ReLU())\nwith torch.no_grad():\n    out = model(data)\n",
    "lightning_validation_step": "import lightning.pytorch as pl\nimport torch.nn as nn\nclass Lit(pl.LightningModule):\n    def __init__(self):\n        super().__init__()\n        self.net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.1))\n    def validation_step(self, batch, idx):\n        return self.net(batch)\n",
    "mc_dropout": MODEL + "def predict_mc(x):\n    model.eval()\n    for m in model.modules():\n        if isinstance(m, nn.Dropout):\n            m.train()\n    return model(x)\n",
    "suppressed": MODEL + "with torch.no_grad():\n    out = model(data)  # hplint: disable=HPL008\n",
    "eval_in_both_branches": MODEL + "def predict(x, a):\n    if a:\n        model.eval()\n    else:\n        model.train(False)\n    return model(x)\n",
    "unknown_model": "import torch\nmodel = torch.hub.load('a', 'b')\nwith torch.no_grad():\n    out = model(data)\n",
    "training_flag_passed": "x = F.dropout(x, 0.5, training=self.training)",
    # Real-code idioms (pytorch-cifar efficientnet.py): dropout only when training.
    "guarded_by_if_training": "if self.training and self.p > 0:\n            x = F.dropout(x, p=0.2)",
    "guarded_by_if_training_alone": "if self.training:\n            x = F.dropout2d(x, 0.2)",
    "guarded_by_conditional_expression": "x = F.dropout(x, 0.3) if self.training else x",
    # pytorch-cifar models/*.py: `def test(): net = Net(); y = net(torch.randn(...))`, a shape check.
    # pytorch-cifar densenet.py: the same through a factory that only builds the model.
    "smoke_test_through_a_factory": MODEL + "def net_small():\n    return Net()\n\ndef test():\n    net = net_small()\n    print(net(torch.randn(2, 4)).size())\n",
    # dataflowr's BatchNorm notebook: a fresh layer run under no_grad at the top
    # level of a file that trains nothing, to show its running statistics.
    "top_level_demo_of_a_fresh_batchnorm": "import torch\nfrom torch import nn\n\n"
        "m = torch.nn.BatchNorm1d(1, momentum=None)\nx = torch.randn(100, 1)\n"
        "with torch.no_grad():\n    y = m(x)\nm.eval()\nwith torch.no_grad():\n    y_eval = m(x + 100)\n",
    "smoke_test_of_a_fresh_model": MODEL + "def test():\n    net = Net()\n    y = net(torch.randn(2, 4))\n    print(y.size())\n",
    # nni's kaggle-tgs-salt models.py: the fresh model moved to the GPU first (`.cuda()`, `.to(...)`).
    "smoke_test_of_a_fresh_model_on_the_gpu": MODEL + "def test():\n    net = Net().cuda()\n    print(net(torch.randn(2, 4).cuda()).size())\n",
    "smoke_test_of_a_fresh_model_moved_to_a_device": MODEL + "def test():\n    net = Net().to('cuda').float()\n    print(net(torch.randn(2, 4)).size())\n",
    # flair's `predict()`: a module's own evaluation method, its callers switch it;
    # the module's base is a subscripted generic (`Classifier[DT]`) ...
    "own_predict_of_a_generic_module": """
import typing
import torch
T = typing.TypeVar("T")

class Model(torch.nn.Module, typing.Generic[T]):
    pass

class Classifier(Model[T]):
""" + PREDICTING_CLASSIFIER,
    # ... or another library's class (`transformers.PreTrainedModel`), which holds layers.
    "own_predict_of_a_library_model_subclass": """
import torch
from transformers import PreTrainedModel

class Classifier(PreTrainedModel):
""" + PREDICTING_CLASSIFIER.replace("(self):\n        super().__init__()", "(self, config):\n        super().__init__(config)"),
    # uvadlc DL2 tutorial 1: an own evaluation method called on instances built with
    # dropout rate 0 (the default the call leaves, or written): their mode changes nothing.
    "own_method_on_an_instance_without_dropout": TAGGER + "toy = Tagger(8)\nprint(toy.mode(torch.randn(2, 8)))\n",
    # uvadlc_notebooks DL2 tutorial 1: `greedy` runs `self(x)` under no_grad, and its
    # only caller is the module's own `mode`, which this file calls only on
    # another class's instance: `mode`'s callers (elsewhere) set the mode.
    "own_method_called_only_by_an_own_method_called_elsewhere": CALLABLE_RULE.split("class ExactMode")[0] + """
class Poisson(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(8, 1)

    def forward(self, x):
        return self.net(x)

    def mode(self, x):
        return self.net(x).round()


cat = Poisson()
print(cat.mode(torch.randn(2, 8)))
""",
    "dropout_rate_zero_literal": "import torch\nimport torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.0))\nwith torch.no_grad():\n    out = model(data)\n",
    # uvadlc DL2 tutorial 1: the module's own `sample` draws from the distribution its
    # forward returns (`cpd.sample(n)`, a method of the same name on an output).
    "own_sample_method_drawing_from_its_output": DIST_MODEL,
    # uvadlc DL2 tutorial 1: a decision rule object calls the module's own evaluation
    # method (`rule(model, x)` -> `__call__` -> `model.mode(x)`) after training ends in eval().
    "own_method_called_through_a_callable_object": CALLABLE_RULE,
    # pytorch-book's GAN generation: the switch inside a tuple assignment.
    "eval_in_a_tuple_assignment": MODEL.replace("model = Net()\n", "") +
        "@torch.no_grad()\ndef generate(path):\n    netg, netd = Net().eval(), Net().eval()\n"
        "    netg.load_state_dict(torch.load(path))\n    return netg(torch.randn(2, 4))\n",
    # A GAN's no-grad fakes for the discriminator step, before its backward (udacity MNIST GAN).
    "no_grad_fakes_before_backward": MODEL + "opt = torch.optim.SGD(model.parameters(), lr=0.1)\nfor real in data:\n    opt.zero_grad()\n    with torch.no_grad():\n        fake = model(real)\n    loss = (fake - real).pow(2).mean()\n    loss.backward()\n    opt.step()\n",
    # skorch benchmarks: the last helper called in every epoch leaves the model in eval mode.
    "eval_helper_ends_every_epoch": MODEL + "def valid(m, x):\n    m.eval()\n    with torch.no_grad():\n        return m(x)\n\nfor epoch in range(3):\n    model.train()\n    valid(model, data)\nwith torch.no_grad():\n    out = model(data)\n",
    "alpha_default_false": "x = F.alpha_dropout(x, 0.5)",
}

FUNCTIONAL_MODULE = """
import torch
import torch.nn as nn
import torch.nn.functional as F

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        {line}
        return self.fc(x)
"""

# Methods a module computes through, whatever their names say.
CONSTRUCTION_PROBE = """
import numpy as np
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self, shape, actions):
        super().__init__()
        self.conv_val = nn.Sequential(nn.Conv2d(shape[0], 2, 1), nn.BatchNorm2d(2), nn.LeakyReLU())
        self.value = nn.Linear(self._get_conv_val_size(shape), 1)

    def _get_conv_val_size(self, shape):
        o = self.conv_val(torch.zeros(1, *shape))
        return int(np.prod(o.size()))

    def forward(self, x):
        return self.value(self.conv_val(x).flatten(1))
"""
NEGATIVE["a_shape_probe_the_constructor_runs"] = CONSTRUCTION_PROBE
NEGATIVE["a_method_another_modules_forward_returns"] = """
import torch.nn as nn

class Separator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv1d(1, 8, 3), nn.BatchNorm1d(8), nn.ReLU())

    def forward(self, x):
        return self.net(x)

    def infer_source_signals(self, mixture):
        return self.forward(mixture)

class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.separator = Separator()

    def forward(self, x):
        return self.separator.infer_source_signals(x.unsqueeze(1))
"""
# dlwpt-code's chapter 8 notebook rebinds `model` cell after cell: a helper is
# judged with what the name holds at each call, not at the notebook's end.
REBOUND = """
import torch
import torch.nn as nn

def validate(model, data):
    with torch.no_grad():
        return [model(x) for x in data]

model = nn.Sequential(nn.Linear(4, 2))
validate(model, [torch.zeros(1, 4)])
model = nn.Sequential(nn.Linear(4, 2), nn.Dropout(0.5))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
"""
NEGATIVE["helper_called_before_the_name_is_rebound_to_a_model_with_dropout"] = REBOUND
POSITIVE["helper_called_after_the_name_is_rebound_to_a_model_with_dropout"] = REBOUND + \
    "validate(model, [torch.zeros(1, 4)])\n"
# d3rlpy's encoders size their dense head with a no-grad pass in the constructor.
NEGATIVE["a_no_grad_shape_probe_in_the_constructor"] = """
import torch
import torch.nn as nn

class Encoder(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self._cnn_layers = nn.Sequential(nn.Conv2d(shape[0], 8, 3), nn.BatchNorm2d(8), nn.Dropout2d(0.1))
        x = torch.rand((1,) + tuple(shape))
        with torch.no_grad():
            size = self._cnn_layers(x).view(1, -1).shape[1]
        self.fc = nn.Linear(size, 16)

    def forward(self, x):
        return self.fc(self._cnn_layers(x).flatten(1))
"""
# The same probe named for validation and run from a script is evaluation code.
POSITIVE["a_validation_method_run_outside_the_model"] = CONSTRUCTION_PROBE.replace(
    "self.value = nn.Linear(self._get_conv_val_size(shape), 1)", "self.value = nn.Linear(2, 1)") + """
net = Net((3, 8, 8), 4)
print(net._get_conv_val_size((3, 8, 8)))
"""

# lucidrains/lightweight-gan: the trainer runs `G = self.GAN.G`; its fakes for
# the discriminator step come from a no-grad block, and the generator step runs
# G with gradients. The optimizers live on the GAN object, so no step names G.
NEGATIVE["gan_generator_alias_trained_by_an_optimizer_on_another_object"] = """
import torch
import torch.nn as nn

class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))
    def forward(self, z):
        return self.net(z)

class GAN(nn.Module):
    def __init__(self):
        super().__init__()
        self.G = Generator()
        self.D = nn.Linear(8, 1)
        self.G_opt = torch.optim.Adam(self.G.parameters())
        self.D_opt = torch.optim.Adam(self.D.parameters())

class Trainer:
    def __init__(self):
        self.GAN = GAN()

    def train(self, loader):
        G, D = self.GAN.G, self.GAN.D
        for real in loader:
            with torch.no_grad():
                fake = G(torch.randn(4, 4))
            d_loss = D(fake).mean() - D(real).mean()
            self.GAN.D_opt.zero_grad()
            d_loss.backward()
            self.GAN.D_opt.step()
            generated = G(torch.randn(4, 4))
            g_loss = -D(generated).mean()
            self.GAN.G_opt.zero_grad()
            g_loss.backward()
            self.GAN.G_opt.step()
"""

# sgrvinod's image-captioning `validate`: the encoder is optional, switched and
# run under the same None check; where it is None it never runs.
OPTIONAL_ENCODER = """
import torch
import torch.nn as nn

def validate(loader, encoder, head):
    head.eval()
    if GUARD:
        encoder.eval()
    with torch.no_grad():
        for x, y in loader:
            if encoder is not None:
                x = encoder(x)
            print(head(x))

encoder = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)) if FINE_TUNE else None
head = nn.Linear(4, 1)
validate([], encoder, head)
"""
NEGATIVE["optional_encoder_switched_under_its_none_check"] = OPTIONAL_ENCODER.replace("GUARD", "encoder is not None")
NEGATIVE["optional_encoder_switched_under_its_truth"] = OPTIONAL_ENCODER.replace("GUARD", "encoder")
NEGATIVE["optional_encoder_switched_unless_none"] = OPTIONAL_ENCODER.replace(
    "    if GUARD:\n        encoder.eval()", "    if encoder is None:\n        pass\n    else:\n        encoder.eval()")
# Switched under another test: the encoder may run in train mode.
POSITIVE["optional_encoder_switched_under_another_test"] = OPTIONAL_ENCODER.replace("GUARD", "head is not None")


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_flags_evaluation_in_training_mode(tmp_path, name):
    findings = lint_source(tmp_path, POSITIVE[name], "HPL008")
    assert len(findings) == 1, (name, findings)
    assert "evaluation code" in findings[0].message


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_flags_functional_dropout_always_on(tmp_path, name):
    findings = lint_source(tmp_path, FUNCTIONAL_MODULE.format(line=FUNCTIONAL[name]), "HPL008")
    assert len(findings) == 1, (name, findings)
    assert "Block.forward" in findings[0].message and findings[0].line == 11


@pytest.mark.parametrize("name", sorted(NEGATIVE))
def test_quiet(tmp_path, name):
    source = NEGATIVE[name]
    if not source.startswith(("\n", "import")):  # a line of a module's forward()
        source = FUNCTIONAL_MODULE.format(line=source)
    assert lint_source(tmp_path, source, "HPL008") == []


def test_pytest_functions_are_not_evaluation_code(tmp_path):
    src = MODEL + "def test_forward_shape():\n    with torch.no_grad():\n        assert model(torch.zeros(1, 4)).shape == (1, 4)\n"
    assert lint_source(tmp_path, src, "HPL008", name="test_model.py") == []
    assert len(lint_source(tmp_path, src, "HPL008", name="script.py")) == 1


def test_free_function_dropout_is_not_a_module_method(tmp_path):
    src = "import torch.nn.functional as F\n\ndef mlp(x):\n    return F.dropout(x, 0.5)\n"
    assert lint_source(tmp_path, src, "HPL008") == []


def test_position_and_message(tmp_path):
    (finding,) = lint_source(tmp_path, POSITIVE["eval_function_no_grad"], "HPL008")
    assert (finding.line, finding.col) == (17, 17)
    assert "runs Net (holds Dropout, line 9)" in finding.message
    assert "`evaluate` is named like evaluation code" in finding.message
    assert finding.severity.name == "ERROR"
    (finding,) = lint_source(tmp_path, POSITIVE["train_called_again"], "HPL008")
    assert "`model.train()` on line 16 switched it back" in finding.message


def test_model_from_other_module(tmp_path):
    files = {
        "nets.py": MODEL.replace("model = Net()\n", ""),
        "evaluate.py": "import torch\nfrom nets import Net\n\nmodel = Net()\nwith torch.no_grad():\n    preds = model(data)\n",
    }
    (finding,) = lint(tmp_path, files, "evaluate.py", "HPL008")
    assert finding.line == 6 and "nets.py:9" in finding.message


def test_functional_fix_is_safe_and_idempotent(tmp_path):
    for line in FUNCTIONAL.values():
        src = FUNCTIONAL_MODULE.format(line=line)
        (finding,) = lint_source(tmp_path, src, "HPL008")
        assert finding.fix.safety.value == "safe"
        text = (tmp_path / "train.py").read_text()
        fixed = apply_fix(text, finding.fix)
        assert parses(fixed) and "self.training" in fixed
        (tmp_path / "train.py").write_text(fixed)
        assert lint(tmp_path, {}, "train.py", "HPL008") == []
    assert "x = F.dropout(x, 0.5, training=self.training)" in apply_fix(
        FUNCTIONAL_MODULE.format(line=FUNCTIONAL["default_training"]).lstrip("\n"),
        lint_source(tmp_path, FUNCTIONAL_MODULE.format(line=FUNCTIONAL["default_training"]), "HPL008")[0].fix)


def test_eval_fix_inserts_eval(tmp_path):
    (finding,) = lint_source(tmp_path, POSITIVE["eval_function_no_grad"], "HPL008")
    text = (tmp_path / "train.py").read_text()
    fixed = apply_fix(text, finding.fix)
    assert "def evaluate(loader):\n    model.eval()\n    with torch.no_grad():" in fixed
    assert parses(fixed)
    (tmp_path / "train.py").write_text(fixed)
    assert lint(tmp_path, {}, "train.py", "HPL008") == []


def test_block_fix_restores_train_mode_when_training_resumes(tmp_path):
    src = MODEL + (
        "opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "for epoch in range(3):\n"
        "    for x in data:\n"
        "        model(x).sum().backward()\n"
        "        opt.step()\n"
        "    with torch.no_grad():\n"
        "        val = model(data)\n"
    )
    (finding,) = lint_source(tmp_path, src, "HPL008")
    fixed = apply_fix((tmp_path / "train.py").read_text(), finding.fix)
    assert "    model.eval()\n    with torch.no_grad():\n        val = model(data)\n    model.train()\n" in fixed
    (tmp_path / "train.py").write_text(fixed)
    assert lint(tmp_path, {}, "train.py", "HPL008") == []


def test_predict_method_called_on_an_unresolved_receiver_outside_eval_is_still_reported(tmp_path):
    code = _ALGORITHM + """
def accuracy(network, loader):
    with torch.no_grad():
        return [network.predict(x) for x, y in loader]
"""
    (finding,) = lint_source(tmp_path, code, "HPL008")
    assert "`predict` is named like evaluation code" in finding.message


# Reduced from pytorch/examples distributed/minGPT-ddp (mingpt/trainer.py): one
# batch function for both passes, gradients switched by its `train` flag, and the
# evaluation pass asked for by `_run_epoch(..., train=False)`; the model is
# never put in eval mode.
TRAINER = MODEL.replace("model = Net()\n", "") + '''
class Trainer:
    def __init__(self, lr=1e-3):
        self.model = Net()
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=lr)

    def _run_batch(self, source, targets, train: bool = True):
        with torch.set_grad_enabled(train):
            loss = F.mse_loss(self.model(source), targets)
        if train:
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        return loss.item()

    def _run_epoch(self, loader, train: bool = True):
        for source, targets in loader:
            self._run_batch(source, targets, train)

    def fit(self, train_loader, test_loader, epochs):
        for epoch in range(epochs):
            self._run_epoch(train_loader, train=True)
            SWITCH
            self._run_epoch(test_loader, train=False)
'''


def test_grad_flag_turned_off_by_a_caller_is_evaluation(tmp_path):
    src = TRAINER.replace("            SWITCH\n", "")
    (found,) = lint_source(tmp_path, src, "HPL008")
    line = src.lstrip("\n").splitlines().index("            loss = F.mse_loss(self.model(source), targets)") + 1
    assert found.span.start_line == line
    assert "under `torch.set_grad_enabled(train)`, which `self._run_epoch(test_loader, train=False)` on line" in found.message
    assert "runs with `train=False`" in found.message
    # The batch function also trains: an eval() inserted there would break training.
    assert found.fix is None


def test_grad_flag_passed_directly_as_false(tmp_path):
    src = TRAINER.replace("            SWITCH\n", "").replace(
        "            self._run_epoch(test_loader, train=False)\n",
        "            for source, targets in test_loader:\n                self._run_batch(source, targets, False)\n")
    (found,) = lint_source(tmp_path, src, "HPL008")
    assert "`self._run_batch(source, targets, False)`" in found.message


@pytest.mark.parametrize("switch", [
    "self.model.eval()",  # switched before the evaluation pass
])
def test_grad_flag_quiet_when_the_model_is_switched(tmp_path, switch):
    src = TRAINER.replace("SWITCH", switch)
    assert lint_source(tmp_path, src, "HPL008") == []


def test_grad_flag_quiet_when_every_caller_trains(tmp_path):
    src = TRAINER.replace("            SWITCH\n", "").replace("self._run_epoch(test_loader, train=False)",
                                                   "self._run_epoch(test_loader, train=True)")
    assert lint_source(tmp_path, src, "HPL008") == []


@pytest.mark.parametrize("switch", ["self.model.train(train)", "self.model.train(mode=train)"])
def test_grad_flag_quiet_when_the_flag_also_switches_the_mode(tmp_path, switch):
    src = TRAINER.replace("            SWITCH\n", "").replace(
        "    def _run_epoch(self, loader, train: bool = True):\n",
        f"    def _run_epoch(self, loader, train: bool = True):\n        {switch}\n")
    assert lint_source(tmp_path, src, "HPL008") == []


# -- a helper run under the caller's no-grad block (rasbt's deeplearning-models notebooks) --
HELPER_UNDER_NO_GRAD = MODEL + '''
opt = torch.optim.SGD(model.parameters(), lr=0.1)

def compute_accuracy(net, loader):
    correct = 0
    for x, y in loader:
        correct += (net(x).argmax(1) == y).sum()
    return correct

def fit(train_loader, valid_loader):
    for epoch in range(10):
        model.train()
        for x, y in train_loader:
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        with GRAD_OFF:
            acc = compute_accuracy(ARGUMENTS)
'''


@pytest.mark.parametrize("grad_off", ["torch.set_grad_enabled(False)", "torch.no_grad()"])
@pytest.mark.parametrize("arguments", ["model, valid_loader", "loader=valid_loader, net=model"])
def test_helper_run_under_the_callers_no_grad_block(tmp_path, grad_off, arguments):
    src = HELPER_UNDER_NO_GRAD.replace("GRAD_OFF", grad_off).replace("ARGUMENTS", arguments)
    (found,) = lint_source(tmp_path, src, "HPL008")
    lines = src.lstrip("\n").splitlines()
    assert found.span.start_line == next(i for i, l in enumerate(lines, 1) if "acc = compute_accuracy(" in l)
    assert "`compute_accuracy(...)` runs Net (holds Dropout" in found.message and f"under `{grad_off}`" in found.message
    inner = next(i for i, l in enumerate(lines, 1) if "net(x).argmax" in l)
    assert any(r.span.start_line == inner and "where `compute_accuracy` runs the model" in r.message for r in found.related)
    fixed = apply_fix(src.lstrip("\n"), found.fix)
    assert "model.eval()\n        with " in fixed and parses(fixed)


def test_helper_run_under_no_grad_sharing_the_module_model(tmp_path):
    src = HELPER_UNDER_NO_GRAD.replace("def compute_accuracy(net, loader):", "def compute_accuracy(loader):").replace(
        "(net(x)", "(model(x)").replace("GRAD_OFF", "torch.no_grad()").replace("ARGUMENTS", "valid_loader")
    (found,) = lint_source(tmp_path, src, "HPL008")
    assert "`compute_accuracy(...)`" in found.message


@pytest.mark.parametrize("change", [
    ("        with GRAD_OFF:\n", "        model.eval()\n        with GRAD_OFF:\n"),  # the caller switches
    ("    correct = 0\n", "    net.eval()\n    correct = 0\n"),  # the helper switches itself
    ("    correct = 0\n", "    correct = 0\n    net(x).sum().backward()\n    opt.step()\n"),  # the helper trains
    ("def compute_accuracy(net", "def evaluate(net"),  # evaluation by name: reported inside, once
])
def test_helper_under_no_grad_quiet_or_reported_once(tmp_path, change):
    src = HELPER_UNDER_NO_GRAD.replace(*change).replace("GRAD_OFF", "torch.no_grad()").replace("ARGUMENTS", "model, valid_loader")
    src = src.replace("compute_accuracy(model", "evaluate(model") if "def evaluate" in src else src
    found = lint_source(tmp_path, src, "HPL008")
    if change[1].startswith("def evaluate"):
        assert len(found) == 1 and "`net(...)`" in found[0].message
    else:
        assert found == []


# -- callers of callers (clovaai's deep-text-recognition-benchmark) ---------
TWO_LEVELS = MODEL + '''
def validation(net, loader):
    return [net(x) for x, _ in loader]

def benchmark_all(net, loaders):
    MIDDLE
    for loader in loaders:
        validation(net, loader)

def test(loaders):
    m = Net()
    m.load_state_dict(torch.load("w.pt"))
    TOP
    with torch.no_grad():
        benchmark_all(m, loaders)
        validation(m, loaders[0])
'''


def test_eval_two_calls_up_counts_for_the_helper(tmp_path):
    src = TWO_LEVELS.replace("    MIDDLE\n", "").replace("TOP", "m.eval()")
    assert lint_source(tmp_path, src, "HPL008") == []


@pytest.mark.parametrize("middle, top", [
    ("", ""),  # nobody switches
    ("net.train()", "m.eval()"),  # the middle function switches back to training
])
def test_callers_of_callers_that_leave_training_mode(tmp_path, middle, top):
    src = TWO_LEVELS.replace("MIDDLE", middle).replace("TOP", top)
    (found,) = lint_source(tmp_path, src, "HPL008")
    assert found.span.start_line == src.lstrip("\n").splitlines().index("    return [net(x) for x, _ in loader]") + 1


# -- break and continue in the mode walk (rasbt's notebooks peek at one batch first) --
def test_a_loop_left_by_break_does_not_end_the_walk(tmp_path):
    src = MODEL + "for x in data:\n    print(x.shape)\n    break\nmodel.train()\nwith torch.no_grad():\n    out = model(data)\n"
    (found,) = lint_source(tmp_path, src, "HPL008")
    assert found.span.start_line == len(src.lstrip("\n").splitlines())


@pytest.mark.parametrize("loop, expected", [
    # the state at the break is the state after the loop
    ("while True:\n    model.eval()\n    break\n", 0),
    ("while True:\n    if done():\n        model.eval()\n        break\n    model.train()\n", 0),
    ("while True:\n    if done():\n        break\n    model.eval()\n", 1),  # the break comes before eval()
    # continue starts the next round: a round may end right after train()
    ("for x in data:\n    model.eval()\n    if x:\n        model.train()\n        continue\n", 1),
    ("for x in data:\n    model.train()\n    if x:\n        continue\n    model.eval()\n", 1),
    ("for x in data:\n    if x:\n        model.train()\n        continue\n    model.eval()\nmodel.eval()\n", 0),
])
def test_break_and_continue_states_join_where_python_goes(tmp_path, loop, expected):
    src = MODEL + "model.train()\n" + loop + "with torch.no_grad():\n    out = model(data)\n"
    assert len(lint_source(tmp_path, src, "HPL008")) == expected


# -- an evaluation hook that runs a shared step helper (lightning-bolts' SSL online evaluator) --
ONLINE_EVALUATOR = MODEL.replace("model = Net()\n", "") + '''
BASES

class ProbeCallback(BASE):
    def on_fit_start(self, trainer, pl_module):
        self.probe = Net()
        self.opt = torch.optim.Adam(self.probe.parameters(), lr=1e-4)

    def shared_step(self, pl_module, batch):
        x, y = batch
        with torch.no_grad():
            feats = pl_module(x)
        return F.cross_entropy(self.probe(feats), y)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        loss = self.shared_step(pl_module, batch)
        loss.backward()
        self.opt.step()

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        SWITCH
        pl_module.log("probe_val_loss", self.shared_step(pl_module, batch))
'''


@pytest.mark.parametrize("bases, base", [
    ("", "object"),
    ("from pytorch_lightning import Callback", "Callback"),
    ("import lightning.pytorch as pl", "pl.Callback"),
])
def test_evaluation_hook_running_a_shared_step_in_training_mode(tmp_path, bases, base):
    src = ONLINE_EVALUATOR.replace("BASES", bases).replace("(BASE)", f"({base})").replace("        SWITCH\n", "")
    (found,) = lint_source(tmp_path, src, "HPL008")
    lines = src.lstrip("\n").splitlines()
    assert found.span.start_line == next(i for i, l in enumerate(lines, 1) if '"probe_val_loss"' in l)
    assert "`self.shared_step(...)` runs Net" in found.message and "`on_validation_batch_end`" in found.message
    inner = next(i for i, l in enumerate(lines, 1) if "self.probe(feats)" in l)
    assert any(r.span.start_line == inner for r in found.related)


@pytest.mark.parametrize("base, switch", [
    ("object", "self.probe.eval()"),  # the hook switches the probe first
    ("pl.LightningModule", ""),  # a LightningModule's own models: Lightning switches them
])
def test_evaluation_hook_quiet_when_the_probe_is_switched(tmp_path, base, switch):
    src = ONLINE_EVALUATOR.replace("BASES", "import lightning.pytorch as pl").replace("(BASE)", f"({base})")
    src = src.replace("SWITCH", switch or "pass")
    assert lint_source(tmp_path, src, "HPL008") == []


# -- a LightningModule reached through project base classes (UvA-DL's ReversePredictor) --
_LIT_BASE = '''
import lightning.pytorch as pl
import torch.nn as nn

class Predictor(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.1))
'''
_LIT_CHILD = '''
class Reverse(Predictor):
    def _calculate_loss(self, batch):
        return self.net(batch).sum()

    def validation_step(self, batch, idx):
        DIRECT
        return self._calculate_loss(batch)
'''


@pytest.mark.parametrize("direct", ["pass", "self.net(batch)"])
def test_subclass_of_a_project_lightning_module_is_left_to_lightning(tmp_path, direct):
    src = _LIT_BASE + _LIT_CHILD.replace("DIRECT", direct)
    assert lint_source(tmp_path, src, "HPL008") == []


def test_lightning_base_class_in_another_module(tmp_path):
    files = {"base.py": _LIT_BASE, "train.py": "from base import Predictor\n" + _LIT_CHILD.replace("DIRECT", "self.net(batch)")}
    assert lint(tmp_path, files, "train.py", "HPL008") == []


# -- a prediction method of the model called on an instance switched to eval (pytorch-semseg) --
_TILE_PREDICT = '''
import torch
import torch.nn as nn

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(3)

    def forward(self, x):
        return self.bn(x)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()

    def forward(self, x):
        return self.block(x)

    def tile_predict(self, imgs):
        return [self.forward(tile) for tile in imgs]

if __name__ == "__main__":
    net = Net()
    net.load_state_dict(torch.load("net.pt"))
    SWITCH
    out = net.tile_predict(images)
'''


def test_prediction_method_called_on_an_instance_in_eval_mode(tmp_path):
    assert lint_source(tmp_path, _TILE_PREDICT.replace("SWITCH", "net.eval()"), "HPL008") == []


def test_prediction_method_called_on_an_instance_in_train_mode_is_reported_once(tmp_path):
    (found,) = lint_source(tmp_path, _TILE_PREDICT.replace("SWITCH", "net.train()"), "HPL008")
    assert "`self.forward(...)` runs Net" in found.message


# -- a frozen pretrained helper net, built in eval mode by its holder (stargan-v2's FAN) --
_FROZEN_HELPER = '''
import torch
import torch.nn as nn
import torch.nn.functional as F

class LandmarkNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(16)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))

    @torch.no_grad()
    def get_heatmap(self, x):
        return self(x * 0.5 + 0.5).softmax(dim=1)

    @torch.no_grad()
    def get_landmark(self, x):
        return self.get_heatmap(x).argmax(dim=1)

class Aligner:
    def __init__(self, device="cpu"):
        self.net = BUILD

    def align(self, imgs):
        return self.net.get_landmark(imgs)
    EXTRA
'''


@pytest.mark.parametrize("build", ["LandmarkNet().to(device).eval()", "LandmarkNet().eval().to(device)",
                                   "LandmarkNet().eval()"])
def test_method_run_only_through_a_holder_that_built_the_net_in_eval_mode(tmp_path, build):
    src = _FROZEN_HELPER.replace("BUILD", build).replace("EXTRA", "")
    assert lint_source(tmp_path, src, "HPL008") == []


@pytest.mark.parametrize("build, extra", [
    ("LandmarkNet().to(device)", ""),  # never switched to eval
    ("LandmarkNet().eval()", "def finetune(self):\n        self.net.train()"),  # switched back in the holder
    ("LandmarkNet().eval()", "def reset(self):\n        self.net = LandmarkNet()"),  # rebuilt in train mode
    ("LandmarkNet().eval()", "def resume(self):\n        self.train()"),  # the holder switches all it holds
    ("LandmarkNet().eval()",  # the holder trains it: its mode is the training code's to manage
     "def fit(self, x, opt):\n        loss = self.net(x).sum()\n        loss.backward()\n        opt.step()"),
])
def test_holder_that_may_leave_the_net_in_train_mode_is_reported(tmp_path, build, extra):
    src = _FROZEN_HELPER.replace("BUILD", build).replace("EXTRA", extra)
    (found,) = lint_source(tmp_path, src, "HPL008")
    assert "`self(...)` runs LandmarkNet" in found.message


# -- a model built and trained in one function, then evaluated there (vae-lagging-encoder) --
_TRAINED_LOCALLY = '''
import torch
from torch import nn

class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(16, 4)
        self.decoder = nn.Sequential(nn.Dropout(0.3), nn.Linear(4, 16))

    def forward(self, x):
        return self.decoder(self.encoder(x))

def main(data, epochs):
    vae = VAE().to("cpu")
    opt = torch.optim.Adam(vae.parameters())
    for epoch in range(epochs):
        for x in data:
            loss = ((vae(x) - x) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        SWITCH
        with torch.no_grad():
            print(vae(data[0]))
'''


def test_model_built_and_trained_in_the_function_is_no_smoke_test(tmp_path):
    (found,) = lint_source(tmp_path, _TRAINED_LOCALLY.replace("SWITCH", "pass"), "HPL008")
    assert "`vae(...)` runs VAE" in found.message


def test_model_built_and_trained_in_the_function_then_switched_is_clean(tmp_path):
    assert lint_source(tmp_path, _TRAINED_LOCALLY.replace("SWITCH", "vae.eval()"), "HPL008") == []


# -- a method of the model, not its forward, run in evaluation code (stat453's `encoding_fn`) --
_METHOD_CALL = '''
import torch
import torch.nn as nn

class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, 16, 3, bias=False), nn.BatchNorm2d(16), nn.Flatten())
        self.to_latent = nn.Linear(16 * 30 * 30, 32)

    def encoding_fn(self, x):
        return self.to_latent(self.encoder(x))

    def through_forward(self, x):
        return self(x)

    def count(self):
        return sum(p.numel() for p in self.parameters())

    def forward(self, x):
        return self.encoding_fn(x)

model = AutoEncoder()
model.load_state_dict(torch.load("ae.pt"))
SWITCH
with torch.no_grad():
    out = CALL
'''


@pytest.mark.parametrize("call", ["model.encoding_fn(images)", "model.through_forward(images)"])
def test_method_that_runs_the_model_in_evaluation_is_reported(tmp_path, call):
    src = _METHOD_CALL.replace("SWITCH", "pass").replace("CALL", call)
    (found,) = lint_source(tmp_path, src, "HPL008")
    assert f"`{call.split('(')[0]}(...)` runs AutoEncoder" in found.message


@pytest.mark.parametrize("switch, call", [
    ("model.eval()", "model.encoding_fn(images)"),
    ("pass", "model.count()"),  # runs no layer
    ("pass", "model.state_dict()"),  # nn.Module's own method
])
def test_method_calls_that_evaluate_nothing_in_train_mode_are_clean(tmp_path, switch, call):
    assert lint_source(tmp_path, _METHOD_CALL.replace("SWITCH", switch).replace("CALL", call), "HPL008") == []


# -- another file's evaluation helper handed the model (Text-Classification-Models'
#    star-imported utils.evaluate_model, d2l.predict_sentiment) --
_EVAL_UTILS = '''
import torch

def evaluate_model(model, iterator):
    correct = 0
    for x, y in iterator:
        BODY
    return correct
'''
_EVAL_CALLER = '''
import torch
from torch import nn
IMPORT

class TextCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(self.dropout(x))

model = TextCNN()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in data:
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
SWITCH
print(CALL(model, data))
print(CALL(model, data))
'''


@pytest.mark.parametrize("imported, call", [("from utils import *", "evaluate_model"),
                                            ("from utils import evaluate_model", "evaluate_model"),
                                            ("import utils", "utils.evaluate_model")])
def test_other_files_evaluation_helper_run_on_a_model_in_train_mode(tmp_path, imported, call):
    files = {"utils.py": _EVAL_UTILS.replace("BODY", "correct += (model(x).argmax(1) == y).sum().item()"),
             "train.py": _EVAL_CALLER.replace("IMPORT", imported).replace("SWITCH", "").replace("CALL", call)}
    (found,) = lint(tmp_path, files, "train.py", "HPL008")  # one finding for the two calls
    assert "`evaluate_model` of `utils` is named like evaluation code" in found.message
    assert [r.path.rsplit("/", 1)[-1] for r in found.related] == ["train.py", "utils.py"]
    assert lint(tmp_path, files, "utils.py", "HPL008") == []  # the helper alone cannot know the model


@pytest.mark.parametrize("switch, body", [
    ("model.eval()", "correct += (model(x).argmax(1) == y).sum().item()"),  # the caller switched
    ("", "model.eval()\n        correct += model(x).sum().item()"),  # the helper switches
    ("", "if isinstance(model, torch.nn.Module):\n            model.eval()\n"
         "            correct += model(x).sum().item()\n        else:\n            correct += model(x, False).sum().item()"),
])
def test_other_files_evaluation_helper_that_is_switched_is_clean(tmp_path, switch, body):
    files = {"utils.py": _EVAL_UTILS.replace("BODY", body),
             "train.py": _EVAL_CALLER.replace("IMPORT", "from utils import *").replace("SWITCH", switch)
             .replace("CALL", "evaluate_model")}
    assert lint(tmp_path, files, "train.py", "HPL008") == []


# stat453's helper_plotting.py: `plot_generated_images(model)` runs the model,
# or its decoder, under no_grad; its name says nothing of evaluation.
_PLOT_UTILS = '''
import torch

DECORATOR
def plot_generated_images(model, n=8):
    WITH
        z = torch.randn(n, 8)
        return RUN
'''


@pytest.mark.parametrize("decorator, with_block, run", [
    ("", "with torch.no_grad():", "model(z)"),
    ("", "with torch.no_grad():", "model.dropout(z)"),  # a submodule of the handed model
    ("@torch.no_grad()", "if True:", "model(z)"),
])
def test_other_files_no_grad_helper_run_on_a_model_in_train_mode(tmp_path, decorator, with_block, run):
    helper = _PLOT_UTILS.replace("DECORATOR", decorator).replace("WITH", with_block).replace("RUN", run)
    files = {"plotting.py": helper,
             "train.py": _EVAL_CALLER.replace("IMPORT", "from plotting import plot_generated_images")
             .replace("SWITCH", "").replace("CALL", "plot_generated_images")}
    (found,) = lint(tmp_path, files, "train.py", "HPL008")
    how = "`@torch.no_grad()`" if decorator else "a no-grad block"
    assert f"`plot_generated_images` of `plotting` runs it under {how}, as evaluation code" in found.message


@pytest.mark.parametrize("switch, with_block, run", [
    ("model.eval()", "with torch.no_grad():", "model(z)"),  # the caller switched
    ("", "if True:", "model(z)"),  # gradients on, not named like evaluation: not evaluation code
    ("", "with torch.no_grad():", "model.eval()\n        return model(z)"),  # the helper switches
    ("model.dropout.eval()", "with torch.no_grad():", "model.dropout(z)"),  # the submodule was switched
    ("", "with torch.no_grad():", "model.fc(z)"),  # a submodule that holds no Dropout
])
def test_other_files_helpers_that_are_no_evaluation_or_switched_are_clean(tmp_path, switch, with_block, run):
    helper = _PLOT_UTILS.replace("DECORATOR", "").replace("WITH", with_block).replace("RUN", run)
    files = {"plotting.py": helper,
             "train.py": _EVAL_CALLER.replace("IMPORT", "from plotting import plot_generated_images")
             .replace("SWITCH", switch).replace("CALL", "plot_generated_images")}
    assert lint(tmp_path, files, "train.py", "HPL008") == []


# stat453's helper_train.py: `train_model(model, ...)` ends each epoch with
# `model.eval()`, so the notebook's `show_examples(model, ...)` after it runs in
# eval mode; the mode another file's helper leaves the model in is read there.
_TRAIN_HELPER = '''
import torch

def train_model(model, optimizer, loader):
    for x, y in loader:
        model.train()
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        ENDING
'''
_TRAIN_CALLER = '''
import torch
from torch import nn
from helper_train import train_model
from plotting import plot_generated_images

model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5))
train_model(model, torch.optim.SGD(model.parameters(), lr=0.1), data)
plot_generated_images(model)
'''


@pytest.mark.parametrize("ending, reported", [("model.eval()", False), ("model.train()", True), ("pass", True)])
def test_the_mode_another_files_training_helper_leaves(tmp_path, ending, reported):
    files = {"helper_train.py": _TRAIN_HELPER.replace("ENDING", ending),
             "plotting.py": _PLOT_UTILS.replace("DECORATOR", "").replace("WITH", "with torch.no_grad():")
             .replace("RUN", "model(z)"),
             "train.py": _TRAIN_CALLER}
    assert len(lint(tmp_path, files, "train.py", "HPL008")) == (1 if reported else 0)


def test_other_files_evaluation_helper_run_by_the_model_on_itself_is_its_callers_business(tmp_path):
    # rlkit's CNNPolicy.get_action returns `eval_np(self, obs)`: the policy's own
    # method cannot choose its mode; the algorithm that calls it does.
    files = {"core.py": "def eval_np(module, *args):\n    return module(*args).detach().numpy()\n",
             "policy.py": """
import torch
from torch import nn
from core import eval_np

class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2))

    def forward(self, obs):
        return self.net(obs)

    def get_action(self, obs):
        return eval_np(self, obs)

policy = Policy()
print(eval_np(policy, torch.zeros(2, 4)))
"""}
    (found,) = lint(tmp_path, files, "policy.py", "HPL008")  # the script's call only
    assert found.line == 17  # `print(eval_np(policy, ...))`


def test_other_files_evaluation_helper_run_on_self_by_a_training_method_is_reported(tmp_path):
    # Text-Classification-Models' run_epoch trains `self`, then hands itself to
    # utils.evaluate_model in train mode: there the mode is known.
    model = '''
import torch
from torch import nn
from utils import *

class TextCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(8, 2)
        self.optimizer = torch.optim.SGD(self.parameters(), lr=0.1)

    def forward(self, x):
        return self.fc(self.dropout(x))

    def run_epoch(self, train_iterator, val_iterator):
        self.train()
        for x, y in train_iterator:
            self.optimizer.zero_grad()
            nn.functional.cross_entropy(self(x), y).backward()
            self.optimizer.step()
        return evaluate_model(self, val_iterator)
'''
    files = {"utils.py": _EVAL_UTILS.replace("BODY", "correct += (model(x).argmax(1) == y).sum().item()"),
             "model.py": model}
    (found,) = lint(tmp_path, files, "model.py", "HPL008")
    assert found.line == 21 and "`evaluate_model` of `utils`" in found.message


# pytorch-original-transformer: a factory returns the train/val loop it defines;
# the loop switches the model by its flag, and the BLEU helper runs right after
# the validation pass.
CLOSURE_LOOP = MODEL.replace("model = Net()\n", "") + """
def get_train_val_loop(model, optimizer):
    def train_val_loop(is_train, loader):
        if is_train:
            model.train()
        else:
            model.eval()
        for x in loader:
            out = model(x)
            if is_train:
                optimizer.zero_grad()
                out.sum().backward()
                optimizer.step()
    return train_val_loop

def bleu(model, loader):
    with torch.no_grad():
        return [model(x) for x in loader]

def main(loader):
    model = Net()
    optimizer = torch.optim.Adam(model.parameters())
    train_val_loop = get_train_val_loop(model, optimizer)
    for epoch in range(10):
        train_val_loop(is_train=True, loader=loader)
        PASS
        print(bleu(model, loader))
"""


def test_a_closure_loop_that_switches_to_eval_before_the_helper(tmp_path):
    src = CLOSURE_LOOP.replace("PASS", "train_val_loop(is_train=False, loader=loader)")
    assert lint_source(tmp_path, src, "HPL008") == []


def test_a_closure_loop_left_in_train_mode_before_the_helper(tmp_path):
    src = CLOSURE_LOOP.replace("PASS", "pass")
    (finding,) = lint_source(tmp_path, src, "HPL008")
    assert "`model(...)`" in finding.message


# uvadlc tutorial 10: a pretrained torchvision model put in eval mode in one
# notebook cell, a global the evaluation functions of later cells call.
FROZEN_GLOBAL = """
import torch
import torchvision

pretrained_model = torchvision.models.resnet34(weights='IMAGENET1K_V1')
pretrained_model = pretrained_model.to(device)
SWITCH

def eval_model(loader):
    hits = 0
    for imgs, labels in loader:
        with torch.no_grad():
            preds = pretrained_model(imgs)
        hits += (preds.argmax(-1) == labels).sum()
    return hits

def eval_patch(model, patch, loader):
    model.eval()
    with torch.no_grad():
        return [model(x + patch) for x in loader]

def get_patches(names, cached):
    for name in names:
        if name not in cached:
            BETWEEN
    return cached

get_patches(["goldfish"], {})
eval_model(loader)
"""


@pytest.mark.parametrize("between", [
    "eval_patch(pretrained_model, patch, loader)",  # evaluated on some paths, left alone on others
    "pass",
])
def test_a_global_model_put_in_eval_mode_before_the_function_is_called(tmp_path, between):
    src = FROZEN_GLOBAL.replace("SWITCH", "pretrained_model.eval()").replace("BETWEEN", between)
    assert lint_source(tmp_path, src, "HPL008") == []


@pytest.mark.parametrize("switch,between", [
    ("pass", "pass"),  # never switched
    ("pretrained_model.eval()", "pretrained_model.train()"),  # a helper may put it back in train mode
])
def test_a_global_model_that_may_be_in_train_mode_when_the_function_is_called(tmp_path, switch, between):
    src = FROZEN_GLOBAL.replace("SWITCH", switch).replace("BETWEEN", between)
    (finding,) = lint_source(tmp_path, src, "HPL008")
    assert "`pretrained_model(...)` runs resnet34" in finding.message and "BatchNorm2d" in finding.message


# A torchvision backbone kept as a submodule holds BatchNorm (and, for vgg, a
# Dropout head): evaluating the wrapper in train mode is the mistake HPL008 names.
BACKBONE_EVAL = """
import torch
import torch.nn as nn
from torchvision import models


class Siamese(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = models.MAKE
        self.fc = nn.Linear(1000, 1)

    def forward(self, a, b):
        return self.fc(torch.abs(self.net(a) - self.net(b)))


model = Siamese()
opt = torch.optim.Adam(model.parameters())
for epoch in range(3):
    model.train()
    for a, b, y in train_loader:
        opt.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(model(a, b), y).backward()
        opt.step()
    SWITCH
    with torch.no_grad():
        for a, b, y in test_loader:
            model(a, b)
"""


@pytest.mark.parametrize("make, held", [("resnet18(weights=None)", "BatchNorm2d"), ("vgg16()", "Dropout")])
def test_a_model_holding_a_torchvision_backbone_evaluated_in_train_mode(tmp_path, make, held):
    source = BACKBONE_EVAL.replace("MAKE", make).replace("SWITCH", "pass")
    (finding,) = lint_source(tmp_path, source, "HPL008")
    assert f"runs Siamese (holds {held}" in finding.message
    assert lint_source(tmp_path, source.replace("    pass\n", "    model.eval()\n"), "HPL008") == []


def test_a_backbone_without_known_dropout_or_batchnorm_is_quiet(tmp_path):
    source = BACKBONE_EVAL.replace("MAKE", "vit_b_16()").replace("SWITCH", "pass")
    assert lint_source(tmp_path, source, "HPL008") == []


# NGCF-PyTorch NGCF.py: `nn.Dropout(p)(x)` built inside forward is never a
# submodule, so model.eval() cannot switch it off, like F.dropout(x, p).
INLINE_DROPOUT = """
import torch
import torch.nn as nn
from torch import nn as tnn
from torch.nn import Dropout


class Encoder(nn.Module):
    def __init__(self, dim, p=0.1):
        super().__init__()
        self.fc = nn.Linear(dim, dim)
        self.p = p

    def forward(self, h):
        h = self.fc(h)
        h = CALL
        return h
"""


@pytest.mark.parametrize("call, fixed", [
    ("nn.Dropout(self.p)(h)", "nn.functional.dropout(h, p=self.p, training=self.training)"),
    ("torch.nn.Dropout(p=0.3, inplace=True)(h)", "torch.nn.functional.dropout(h, p=0.3, training=self.training, inplace=True)"),
    ("tnn.Dropout2d()(h)", "tnn.functional.dropout2d(h, training=self.training)"),
    ("nn.AlphaDropout(0.2)(h)", "nn.functional.alpha_dropout(h, p=0.2, training=self.training)"),
    ("Dropout(0.5)(h)", None),  # no module alias to spell the functional twin with
])
def test_a_dropout_module_built_and_called_inside_forward(tmp_path, call, fixed):
    source = INLINE_DROPOUT.replace("CALL", call)
    (finding,) = lint_source(tmp_path, source, "HPL008")
    assert f"`{call}` in `Encoder.forward` builds a new" in finding.message
    assert "stays active in eval mode" in finding.message
    if fixed is None:
        assert finding.fix is None
        return
    after = apply_fix((tmp_path / "train.py").read_text(), finding.fix)
    assert f"        h = {fixed}\n" in after and parses(after)
    (tmp_path / "train.py").write_text(after)
    assert lint_source(tmp_path, after, "HPL008") == []


@pytest.mark.parametrize("call", [
    "self.drop(h)",  # a submodule: eval() reaches it
    "nn.Dropout(self.p)(h) if self.training else h",
    "nn.Dropout(0)(h)",
    "nn.Identity()(h)",
])
def test_dropout_that_eval_mode_reaches_or_that_does_nothing_is_quiet(tmp_path, call):
    source = INLINE_DROPOUT.replace("CALL", call).replace("        self.p = p\n", "        self.p = p\n        self.drop = nn.Dropout(p)\n")
    assert lint_source(tmp_path, source, "HPL008") == []


def test_a_dropout_module_built_inline_outside_a_module_class_is_not_this_case(tmp_path):
    source = "import torch.nn as nn\n\ndef noisy(h):\n    return nn.Dropout(0.5)(h)\n"
    assert lint_source(tmp_path, source, "HPL008") == []


@pytest.mark.parametrize("call", ["nn.Dropout(d)(h)", "nn.functional.dropout(h, d)", "nn.functional.dropout(h, p=d)"])
def test_dropout_whose_rate_the_caller_passes_is_quiet(tmp_path, call):
    # A spectral GNN tutorial: `net(x, dropout_value, ...)` to train, `net(x, 0.0, ...)`
    # to test; the caller switches dropout off by its rate.
    source = INLINE_DROPOUT.replace("def forward(self, h):", "def forward(self, h, d):").replace("CALL", call)
    assert lint_source(tmp_path, source, "HPL008") == []
    fixed_rate = INLINE_DROPOUT.replace("CALL", call.replace("d)", "self.p)").replace("p=self.p", "self.p"))
    assert len(lint_source(tmp_path, fixed_rate, "HPL008")) == 1


# WaveRNN models/tacotron.py: forward sets the mode itself from an argument, so
# the advice is that argument, not an eval() that forward would undo.
SELF_SWITCHING = """
import torch
import torch.nn as nn


class Tacotron(nn.Module):
    def __init__(self):
        super().__init__()
        self.prenet = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5))
        self.bn = nn.BatchNorm1d(8)

    def forward(self, x, generate_gta=False):
        SWITCH
        return self.bn(self.prenet(x))


model = Tacotron()
opt = torch.optim.Adam(model.parameters())
for x in train_set:
    opt.zero_grad()
    model(x).sum().backward()
    opt.step()
with torch.no_grad():
    for x in train_set:
        CALL
"""
_FLAG_SWITCH = "if generate_gta:\n            self.eval()\n        else:\n            self.train()"


def test_a_forward_that_sets_its_own_mode_gets_advice_that_works(tmp_path):
    source = SELF_SWITCHING.replace("SWITCH", _FLAG_SWITCH).replace("CALL", "model(x)")
    (finding,) = lint_source(tmp_path, source, "HPL008")
    assert "`Tacotron.forward` sets its own mode (`self.train()`, line 15), so `model.eval()` would be undone: " \
           "call it with `generate_gta=True` to evaluate." in finding.message
    assert finding.fix is None
    source = SELF_SWITCHING.replace("SWITCH", "self.train()").replace("CALL", "model(x)")
    (finding,) = lint_source(tmp_path, source, "HPL008")
    assert "`Tacotron.forward` switches to training mode itself (`self.train()`, line 12)" in finding.message
    assert finding.fix is None


@pytest.mark.parametrize("call", ["model(x, generate_gta=True)", "model(x, True)"])
def test_a_call_that_tells_forward_to_evaluate_is_quiet(tmp_path, call):
    source = SELF_SWITCHING.replace("SWITCH", _FLAG_SWITCH).replace("CALL", call)
    assert lint_source(tmp_path, source, "HPL008") == []
    assert len(lint_source(tmp_path, source.replace("True)", "False)"), "HPL008")) == 1


# coursera-gan-specialization C3W1: a validation pass inside the training
# function, with neither eval() nor no_grad(): BatchNorm overwrites its running
# statistics with the validation batches.
VALIDATION_LOOP = """
import torch
import torch.nn as nn
from tqdm import tqdm

model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
opt = torch.optim.Adam(model.parameters())
for epoch in range(10):
    model.train()
    for x, y in train_loader:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    correct = 0
    for LOOP:
        correct += (model(x).argmax(1) == y).sum().item()
"""


@pytest.mark.parametrize("loop", [
    "x, y in val_loader",
    "i, (x, y) in enumerate(tqdm(test_loader))",
    "x, y in dataloaders['val']",
    "x, y in testloader",
    "x, y in validation_dataloader",
])
def test_a_validation_loop_without_eval_or_no_grad(tmp_path, loop):
    (finding,) = lint_source(tmp_path, VALIDATION_LOOP.replace("LOOP", loop), "HPL008")
    assert "in a loop over `" in finding.message and "that runs no backward pass" in finding.message
    fixed = apply_fix((tmp_path / "train.py").read_text(), finding.fix)
    assert f"    model.eval()\n    for {loop}:\n" in fixed and fixed.rstrip().endswith("model.train()")
    assert parses(fixed)


@pytest.mark.parametrize("loop, change", [
    ("x, y in train_loader", None),  # not evaluation data
    ("x, y in test_cases", None),
    ("dev in devices", None),
    ("x, y in val_loader", ("    correct = 0\n", "    correct = 0\n    model.eval()\n")),
    ("x, y in val_loader", ("        correct +=", "        model(x).sum().backward()\n        correct +=")),
    ("x, y in val_loader", ("nn.BatchNorm1d(8), ", "")),  # nothing that eval mode changes
])
def test_loops_that_are_not_unswitched_evaluation_are_quiet(tmp_path, loop, change):
    source = VALIDATION_LOOP.replace("LOOP", loop)
    if change is not None:
        source = source.replace(*change)
    assert lint_source(tmp_path, source, "HPL008") == []


# share020/dl: an accuracy helper loops over its parameter, and the epoch loop
# hands it the test loader; neither switches to eval mode.
ACCURACY_HELPER = """
import torch
import torch.nn as nn

net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.1), nn.Linear(8, 2))
opt = torch.optim.Adam(net.parameters())


def calculate_accuracy(loader, is_gpu=False):
    correct = 0
    for images, labels in LOOP:
        correct += (net(images).argmax(1) == labels).sum().item()
    return correct


for epoch in range(10):
    for x, y in trainloader:
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    train_accuracy = calculate_accuracy(trainloader)
    test_accuracy = CALL
"""


@pytest.mark.parametrize("loop, call", [
    ("loader", "calculate_accuracy(testloader)"),
    ("loader", "calculate_accuracy(val_loader, True)"),
    ("loader", "calculate_accuracy(is_gpu=True, loader=test_set)"),
    ("enumerate(loader)", "calculate_accuracy(data.testloader)"),
])
def test_a_helper_looping_over_the_evaluation_data_it_is_handed(tmp_path, loop, call):
    source = ACCURACY_HELPER.replace("LOOP", loop).replace("CALL", call)
    (finding,) = lint_source(tmp_path, source, "HPL008")
    assert finding.line == 11
    assert "in a loop over `loader`, which receives `" in finding.message
    fixed = apply_fix((tmp_path / "train.py").read_text(), finding.fix)
    # the epoch loop trains again after the helper returns: the fix restores train mode
    assert f"    correct = 0\n    net.eval()\n    for images, labels in {loop}:\n" in fixed
    assert "    net.train()\n    return correct\n" in fixed and parses(fixed)


@pytest.mark.parametrize("loop, call", [
    ("loader", "calculate_accuracy(trainloader)"),  # training data only
    ("range(3)", "calculate_accuracy(testloader)"),  # the loop is not over the parameter
    ("loader", "net.eval() or calculate_accuracy(testloader)"),  # switched first
    ("loader", "fine_tune(testloader)"),  # a helper that trains on what it is handed
])
def test_helpers_not_handed_evaluation_data_for_their_loop_are_quiet(tmp_path, loop, call):
    source = ACCURACY_HELPER.replace("LOOP", loop).replace("CALL", call)
    source = source.replace("def calculate_accuracy(loader, is_gpu=False):\n    correct = 0\n",
                            "def calculate_accuracy(loader, is_gpu=False):\n    correct = 0\n\n\n"
                            "def fine_tune(loader):\n    opt.zero_grad()\n    correct = 0\n") \
        if call.startswith("fine_tune") else source
    source = source.replace("    train_accuracy = calculate_accuracy(trainloader)\n", "")
    assert lint_source(tmp_path, source, "HPL008") == []


# Getting-Things-Done-with-Pytorch's forecasting notebooks: a per-epoch test loss
# under no_grad, between the forward and the backward of the training step, that
# only the print after the step reads.
EPOCH_TEST_LOSS = """
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(1, 8), nn.Dropout(0.5), nn.Linear(8, 1))
opt = torch.optim.Adam(model.parameters())
loss_fn = nn.MSELoss()
for epoch in range(60):
    loss = loss_fn(model(x_tr), y_tr)
    with torch.no_grad():
        test_loss = loss_fn(model(x_te), y_te)
    opt.zero_grad()
    USE
    opt.step()
    print(epoch, loss.item(), test_loss.item())
"""


def test_an_epoch_test_loss_under_no_grad_inside_the_training_loop(tmp_path):
    (finding,) = lint_source(tmp_path, EPOCH_TEST_LOSS.replace("USE", "loss.backward()"), "HPL008")
    assert finding.line == 10 and "under `torch.no_grad()`" in finding.message


def test_a_no_grad_value_the_training_step_reads_is_training(tmp_path):
    # A teacher's / target network's output that the loss uses feeds the step.
    source = EPOCH_TEST_LOSS.replace("USE", "(loss + test_loss).backward()")
    assert lint_source(tmp_path, source, "HPL008") == []


GENERATING_METHOD = """
import torch
import torch.nn as nn


class Vocoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8))

    def forward(self, x):
        return self.net(x)

    def generate(self, mels):
        SWITCH
        with torch.no_grad():
            return self.net(mels)


model = Vocoder()
opt = torch.optim.Adam(model.parameters())
for x in train_set:
    opt.zero_grad()
    model(x).sum().backward()
    opt.step()
for mels in test_set:
    model.generate(mels)
"""


def test_a_model_method_that_switches_to_eval_itself_is_quiet(tmp_path):
    # WaveRNN's `WaveRNN.generate` begins with `self.eval()`.
    assert lint_source(tmp_path, GENERATING_METHOD.replace("SWITCH", "self.eval()"), "HPL008") == []
    findings = lint_source(tmp_path, GENERATING_METHOD.replace("SWITCH", "pass"), "HPL008")
    assert ["in a loop over `test_set`" in f.message for f in findings] == [False, True]


# vision-transformers-cifar10 export_models.py: `load_model` ends with
# `model.eval(); return model`, and `verify_exports(model, ...)` runs it under no_grad.
LOADED_IN_EVAL = """
import torch
import torch.nn as nn


def load_model(path):
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.1))
    model.load_state_dict(torch.load(path))
    SWITCH
    return model


def verify(original, x):
    with torch.no_grad():
        return original(x)


def main(path, x):
    model = load_model(path)
    verify(model, x)
"""


def test_a_model_a_helper_returns_in_eval_mode(tmp_path):
    assert lint_source(tmp_path, LOADED_IN_EVAL.replace("SWITCH", "model.eval()"), "HPL008") == []
    (finding,) = lint_source(tmp_path, LOADED_IN_EVAL.replace("SWITCH", "pass"), "HPL008")
    assert "`original(...)` runs Sequential" in finding.message
    assert len(lint_source(tmp_path, LOADED_IN_EVAL.replace("SWITCH", "model.eval()\n    model.train()"), "HPL008")) == 1


# highjun/DLPapers CRD: a distillation teacher with BatchNorm runs under no_grad
# inside the student's training loop and is never put in eval mode.
DISTILLATION = """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, bias=False)
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):
        return self.bn(self.conv(x)).mean((2, 3))

student = nn.Linear(3, 8)
teacher = Net()
SETUP
opt = torch.optim.SGD(student.parameters(), lr=0.1)
for x in loader:
    with torch.no_grad():
        target = teacher(x)
    loss = ((student(x.mean((2, 3))) - target) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
"""


@pytest.mark.parametrize("setup", [
    "",
    "teacher.load_state_dict(torch.load('teacher.pt'))",
    "for p in teacher.parameters():\n    p.requires_grad = False",
])
def test_a_frozen_teacher_run_in_training_mode_for_targets(tmp_path, setup):
    (finding,) = lint_source(tmp_path, DISTILLATION.replace("SETUP", setup), "HPL008")
    assert finding.message.startswith("`teacher(...)` runs Net (holds BatchNorm2d")


@pytest.mark.parametrize("setup", [
    "teacher.eval()",
    # a DQN's target network copies the online net, which trains
    "teacher.load_state_dict(student.state_dict())",
    # a mean teacher / EMA updated from the student's parameters
    "def update():\n    for t, s in zip(teacher.parameters(), student.parameters()):\n        t.data.mul_(0.99)",
    # trained by an optimizer of its own (a GAN's generator)
    "opt_t = torch.optim.Adam(teacher.parameters())",
])
def test_a_net_that_trains_or_is_switched_is_not_a_frozen_teacher(tmp_path, setup):
    assert lint_source(tmp_path, DISTILLATION.replace("SETUP", setup), "HPL008") == []


# steeti's notebook: `TrainAndTest()` trains, then evaluates after `net.eval()`.
TRAIN_AND_TEST = """
import torch
import torch.nn as nn

net = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8), nn.Flatten(), nn.LazyLinear(10))
optimizer = torch.optim.Adam(net.parameters())


def TrainAndTest():
    net.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        optimizer.step()
    SWITCH
    with torch.no_grad():
        for x, y in test_loader:
            out = net(x)
    return out


for epoch in range(10):
    TrainAndTest()
"""


def test_a_function_that_trains_is_not_evaluation_code_by_its_name(tmp_path):
    assert lint_source(tmp_path, TRAIN_AND_TEST.replace("SWITCH", "net.eval()"), "HPL008") == []
    (finding,) = lint_source(tmp_path, TRAIN_AND_TEST.replace("SWITCH", "pass"), "HPL008")
    assert "under `torch.no_grad()`" in finding.message and finding.line == 18


# verriboinaantony/cifar10-image-classification-pytorch's app.py: the global
# model is switched to eval mode at import, and a web route (no caller in the
# file) runs it.
SERVED_MODEL = """
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.5), nn.Linear(16, 2))
model.load_state_dict(torch.load("net.pth"))
model.eval()


def predict(x):
    with torch.no_grad():
        return model(x).argmax(1)
LATER
"""


@pytest.mark.parametrize("later, found", [
    ("", 0),
    ("\ndef fine_tune():\n    model.train()", 1),  # something here switches it back
    ("\nmodel.train()", 1),
    ("\nmodel.train(False)", 0),
])
def test_a_global_model_switched_to_eval_at_import_and_served_by_a_route(tmp_path, later, found):
    assert len(lint_source(tmp_path, SERVED_MODEL.replace("LATER", later), "HPL008")) == found


# Generate-faces-with-GAN (set 50): `train_gan(loader, netG, netD, ...)` in
# training.py trains both nets and samples the BatchNorm generator on fixed
# noise under no_grad, in training mode, to show progress. main.py builds the
# generator and hands it over: reported at that call.
_GAN_HELPER = '''
import torch

def train_gan(loader, netG, netD, optG, optD, fixed_noise):
    for epoch in range(10):
        for real in loader:
            z = torch.randn(real.size(0), 8)
            FAKES
            optD.zero_grad()
            (netD(real).mean() - netD(fake).mean()).backward()
            optD.step()
            optG.zero_grad()
            (-netD(netG(z)).mean()).backward()
            optG.step()
        SAMPLE
    return netG
'''
_GAN_MAIN = '''
import torch
from torch import nn
from training import train_gan

netG = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 4))
netD = nn.Sequential(nn.Linear(4, 1))
optG = torch.optim.Adam(netG.parameters())
optD = torch.optim.Adam(netD.parameters())
train_gan(loader, netG, netD, optG, optD, torch.randn(16, 8))
'''
_SAMPLES = "with torch.no_grad():\n            samples.append(netG(fixed_noise).cpu())"


def _gan_files(fakes: str = "fake = netG(z).detach()", sample: str = _SAMPLES) -> dict:
    return {"training.py": _GAN_HELPER.replace("FAKES", fakes).replace("SAMPLE", sample), "main.py": _GAN_MAIN}


def test_another_files_training_helper_samples_a_batchnorm_generator_in_train_mode(tmp_path):
    (found,) = lint(tmp_path, _gan_files(), "main.py", "HPL008")
    assert found.line == 9 and "`train_gan` of `training` runs it under a no-grad block" in found.message
    assert found.fix is None  # eval() before the call would train the generator in eval mode


@pytest.mark.parametrize("fakes, sample", [
    # the no-grad fakes feed the discriminator's step: training, not evaluation
    ("with torch.no_grad():\n                fake = netG(z)", "pass"),
    # the helper switches the generator around its samples
    ("fake = netG(z).detach()", "netG.eval()\n        " + _SAMPLES + "\n        netG.train()"),
    # no samples at all
    ("fake = netG(z).detach()", "pass"),
])
def test_another_files_training_helper_without_unswitched_samples(tmp_path, fakes, sample):
    assert lint(tmp_path, _gan_files(fakes, sample), "main.py", "HPL008") == []


# DLCV-2021-Fall hw4/p1: validation switches the backbone to eval, then, in its
# no-grad block, hands a dropout head to utils.pairwise_distances, which runs it.
_DISTANCES = '''
import torch

def pairwise_distances(x, y, matching_fn="euclidean", parametric=None):
    if matching_fn == "parametric":
        return parametric(torch.cat([x, y], dim=-1))
    return (x - y).pow(2).sum(-1)
'''
_PROTO_VALIDATION = '''
import torch
from torch import nn
from utils import pairwise_distances

def validate(model, loader, matching_fn):
    HEAD
    model.eval()
    with torch.no_grad():
        for x, y in loader:
            q = model(x)
            d = pairwise_distances(q, q, matching_fn, parametric)
    return d
'''
_HEAD = "parametric = nn.Sequential(nn.Linear(8, 4), nn.Dropout(), nn.Linear(4, 1))"


def test_a_head_run_by_another_files_helper_in_the_callers_no_grad_block(tmp_path):
    files = {"utils.py": _DISTANCES, "train.py": _PROTO_VALIDATION.replace("HEAD", _HEAD)}
    (found,) = lint(tmp_path, files, "train.py", "HPL008")
    assert found.line == 11 and "`parametric.eval()`" in found.message
    assert "under the caller's no-grad block, where `pairwise_distances` of `utils` runs it" in found.message


@pytest.mark.parametrize("head", [
    _HEAD + "\n    parametric.eval()",  # switched too
    # switched on one branch, None on the other (DLCV's inference.py)
    "if matching_fn == 'parametric':\n        " + _HEAD + "\n        parametric.eval()\n    else:\n        parametric = None",
    "parametric = nn.Sequential(nn.Linear(8, 1))",  # no dropout
])
def test_heads_run_by_another_files_helper_that_are_evaluated_or_harmless(tmp_path, head):
    files = {"utils.py": _DISTANCES, "train.py": _PROTO_VALIDATION.replace("HEAD", head)}
    assert lint(tmp_path, files, "train.py", "HPL008") == []


def test_a_name_bound_to_none_on_one_branch_keeps_the_other_branchs_eval_mode(tmp_path):
    # the same-file form of DLCV's inference.py
    code = _DISTANCES + '''
def predict(x, parametric=None):
    with torch.no_grad():
        return parametric(x)

def main(use_head, x):
    if use_head:
        parametric = torch.nn.Sequential(torch.nn.Linear(8, 1), torch.nn.Dropout())
        parametric.eval()
    else:
        parametric = None
    return predict(x, parametric)
'''
    assert lint(tmp_path, {"infer.py": code}, "infer.py", "HPL008") == []
    assert len(lint(tmp_path, {"infer.py": code.replace("        parametric.eval()\n", "")}, "infer.py", "HPL008")) == 1


# AnoGAN (set 51): `test()` optimises only a latent `z` through the trained
# BatchNorm generator, in training mode: its running statistics drift over
# thousands of steps. A step that trains only plain tensors is not training.
_LATENT_SEARCH = '''
import torch
import torch.nn as nn

class Gen(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(16, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 4))

    def forward(self, z):
        return self.net(z)

def NAME(target):
    G = Gen()
    G.load_state_dict(torch.load("G.pt"))
    z = torch.randn(8, 16, requires_grad=True)
    opt = torch.optim.Adam(PARAMS, lr=1e-3)
    for step in range(1000):
        loss = (G(z) - target).abs().sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss
'''


@pytest.mark.parametrize("name, params", [("test", "[z]"), ("predict", "(z,)"), ("infer", "[z]")])
def test_a_latent_search_through_a_model_in_training_mode_is_evaluation(tmp_path, name, params):
    code = _LATENT_SEARCH.replace("NAME", name).replace("PARAMS", params)
    (found,) = lint_source(tmp_path, code, "HPL008")
    assert found.line == 18 and f"`{name}` is named like evaluation code" in found.message
    fixed = apply_fix(code.lstrip("\n"), found.fix)
    assert "    G.load_state_dict(torch.load(\"G.pt\"))\n" in fixed and "        G.eval()\n        loss = (G(z)" in fixed
    assert parses(fixed)


@pytest.mark.parametrize("name, params", [
    ("test", "G.parameters()"),  # it trains the generator: not evaluation by its name
    ("test", "[G.net[0].weight]"),  # a module's own parameter
    ("search", "[z]"),  # not named like evaluation
])
def test_steps_that_train_a_model_or_code_not_named_evaluation(tmp_path, name, params):
    code = _LATENT_SEARCH.replace("NAME", name).replace("PARAMS", params)
    assert lint_source(tmp_path, code, "HPL008") == []


# `evaluate()` that builds its own model: eval() goes after the model exists,
# not at the top of the function (where it raised NameError, and the fix loop
# inserted it again and again).
@pytest.mark.parametrize("body, expected", [
    ("model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))\n    model.load_state_dict(torch.load('m.pt'))\n"
     "    return model(x)",
     "    model.load_state_dict(torch.load('m.pt'))\n    model.eval()\n    return model(x)"),
    ("with torch.no_grad():\n        model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))\n"
     "        model.load_state_dict(torch.load('m.pt'))\n        out = model(x)\n    return out",
     "        model.load_state_dict(torch.load('m.pt'))\n        model.eval()\n        out = model(x)"),
])
def test_the_eval_fix_follows_a_model_built_in_the_evaluation(tmp_path, body, expected):
    code = "import torch\nimport torch.nn as nn\n\ndef evaluate(x):\n    " + body + "\n"
    (found,) = lint_source(tmp_path, code, "HPL008")
    fixed = apply_fix(code, found.fix)
    assert expected in fixed and parses(fixed)
    (tmp_path / "train.py").write_text(fixed)
    assert lint_source(tmp_path, fixed, "HPL008") == []


def test_no_eval_fix_where_the_model_is_built_on_the_line_that_runs_it(tmp_path):
    code = "import torch\nimport torch.nn as nn\n\ndef evaluate(x):\n" \
           "    m = nn.Dropout(0.5); m.load_state_dict(torch.load('m.pt')); return m(x)\n"
    (found,) = lint_source(tmp_path, code, "HPL008")
    assert found.fix is None


# The same search at the top of AnoGAN's test.py: a script named like
# evaluation is evaluation code, unless its own steps train a model.
_SCRIPT_TOP = _LATENT_SEARCH.split("def NAME(target):")[0] + '''
G = Gen()
G.load_state_dict(torch.load("G.pt"))
z = torch.randn(8, 16, requires_grad=True)
opt = torch.optim.Adam(PARAMS, lr=1e-3)
for step in range(1000):
    loss = G(z).abs().sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
'''


@pytest.mark.parametrize("script", ["test.py", "evaluate.py", "inference.py"])
def test_the_top_of_an_evaluation_script_is_evaluation_code(tmp_path, script):
    code = _SCRIPT_TOP.replace("PARAMS", "[z]")
    (found,) = lint_source(tmp_path, code, "HPL008", name=script)
    assert f"`{script}` is an evaluation script" in found.message
    fixed = apply_fix(code.lstrip("\n"), found.fix)
    assert "    G.eval()\n    loss = G(z)" in fixed and parses(fixed)


@pytest.mark.parametrize("script, params", [
    ("test.py", "G.parameters()"),  # it trains the generator
    ("train.py", "[z]"),  # not named like evaluation
    ("test_gen.py", "[z]"),  # a pytest module
])
def test_scripts_that_train_or_are_not_evaluation_scripts(tmp_path, script, params):
    assert lint_source(tmp_path, _SCRIPT_TOP.replace("PARAMS", params), "HPL008", name=script) == []


# NLP_Sentiment (set 53): the model's own `fit` calls `self.train()`, then
# validates a batch under no_grad as `self(xv)`: the method chose the mode.
_SELF_FIT = '''
import torch
import torch.nn as nn

class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(16, 32)
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(32, 3)
        self.optim = torch.optim.AdamW(self.parameters(), lr=5e-5)

    def forward(self, x):
        return self.out(self.drop(torch.relu(self.body(x))))

    def fit(self, train_loader, val_loader):
        self.train()
        for x, y in train_loader:
            self.optim.zero_grad()
            nn.functional.cross_entropy(self(x), y).backward()
            self.optim.step()
            BEFORE
            with torch.no_grad():
                val_logits = self(val_loader[0])
            AFTER
            print(val_logits.argmax(-1))

    def predict(self, loader):
        with torch.no_grad():
            return [self(x) for x in loader]
'''


def test_a_models_own_training_method_that_validates_in_training_mode(tmp_path):
    code = _SELF_FIT.replace("BEFORE", "pass").replace("AFTER", "pass")
    (found,) = lint_source(tmp_path, code, "HPL008")
    assert found.line == 23 and "`self(...)` runs Classifier" in found.message


def test_a_models_own_training_method_that_switches_around_validation(tmp_path):
    code = _SELF_FIT.replace("BEFORE", "self.eval()").replace("AFTER", "self.train()")
    # `predict`, which this file never calls, is its callers' to switch
    assert lint_source(tmp_path, code, "HPL008") == []


# CNNAutoencoderProject (set 54): a holder class switches its model to eval
# right after building it, in `__init__` or a loader `__init__` calls, and
# never back; its inference methods run it in eval mode.
_HOLDER = '''
import torch
from torch import nn

class AE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(1, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU())

    def forward(self, x):
        return self.enc(x)

class Compressor:
    def __init__(self, path):
        INIT

    def _load(self, path):
        self.model = AE()
        self.model.load_state_dict(torch.load(path))
        SWITCH

    def compress(self, x):
        with torch.inference_mode():
            return self.model(x)
    LATER
'''


@pytest.mark.parametrize("init, switch, later, reported", [
    ("self._load(path)", "self.model.eval()", "", False),
    ("self.model = AE()\n        self.model.eval()", "self.model.eval()", "", False),
    ("self._load(path)", "pass", "", True),  # never switched
    ("self._load(path)", "self.model.eval()", "def tune(self):\n        self.model.train()", True),  # switched back
    ("self._load(path)", "if path:\n            self.model.eval()", "", True),  # only on one branch
])
def test_a_holder_that_switches_its_model_after_building_it(tmp_path, init, switch, later, reported):
    code = _HOLDER.replace("INIT", init).replace("SWITCH", switch).replace("LATER", later)
    assert len(lint_source(tmp_path, code, "HPL008", name="compressor.py")) == (1 if reported else 0)


def test_a_self_test_of_a_fresh_model_moved_to_another_name(tmp_path):
    # the model's own file: `test_autoencoder()` builds it, then runs `model.cuda()` under another name
    code = _HOLDER.split("class Compressor")[0] + '''
def test_autoencoder():
    model = AE()
    model.train()
    model(torch.randn(2, 1, 8, 8)).sum().backward()
    model_gpu = model.cuda()
    with torch.no_grad():
        model_gpu(torch.randn(16, 1, 8, 8))
'''
    assert lint_source(tmp_path, code, "HPL008", name="autoencoder.py") == []
    loaded = code.replace("    model = AE()\n", "    model = AE()\n    model.load_state_dict(torch.load('ae.pt'))\n")
    assert lint_source(tmp_path, loaded, "HPL008", name="autoencoder.py")  # trained weights: their mode matters


# DCGAN-Pokemon (set 54): another file's training helper samples the GAN under
# no_grad through `model.generate(z)`, a method of the model's class.
_GAN_MODEL = '''
import torch
from torch import nn

class GAN(nn.Module):
    def __init__(self):
        super().__init__()
        self.generator = nn.Sequential(nn.Linear(4, 8, bias=False), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
        self.discriminator = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))

    def generate(self, z):
        return self.generator(z)

    def sample_noise(self, n):
        return torch.randn(n, 4)
'''
_GAN_TRAIN = '''
import torch

def train(loader, model, opt_g, opt_d, epochs):
    fixed = model.sample_noise(16)
    for epoch in range(epochs):
        for real in loader:
            fake = model.generate(model.sample_noise(len(real)))
            d_loss = model.discriminator(fake.detach()).mean() - model.discriminator(real).mean()
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            g_loss = -model.discriminator(fake).mean()
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
        with torch.no_grad():
            images = SAMPLE
    return images
'''
_GAN_MAIN2 = '''
import torch
from gan_train import train
from gan_model import GAN

model = GAN()
opt_g = torch.optim.Adam(model.generator.parameters(), betas=(0.5, 0.999))
opt_d = torch.optim.Adam(model.discriminator.parameters(), betas=(0.5, 0.999))
train(data, model, opt_g, opt_d, epochs=2)
'''


@pytest.mark.parametrize("sample, reported", [
    ("model.generate(fixed)", True),
    ("model.generator(fixed)", True),  # the submodule itself
    ("model.sample_noise(4)", False),  # a method that runs no layer
])
def test_another_files_training_helper_samples_through_a_model_method(tmp_path, sample, reported):
    files = {"gan_model.py": _GAN_MODEL, "gan_train.py": _GAN_TRAIN.replace("SAMPLE", sample), "main.py": _GAN_MAIN2}
    assert len(lint(tmp_path, files, "main.py", "HPL008")) == (1 if reported else 0)


# pytorch-simclr (set 58): `model = critics; model.eval()` switches the one
# object both names hold; `critics.project(x)` then runs in eval mode.
_ALIAS = '''
import torch
import torch.nn as nn

class Critic(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Linear(8, 8, bias=False)
        self.bn = nn.BatchNorm1d(8)

    def project(self, h):
        return self.bn(self.w(h))

def h_to_z(h, critics):
    ALIAS
    SWITCH
    with torch.no_grad():
        return [critics.project(x) for x in h]

h_to_z([torch.randn(2, 8)], Critic())
'''


@pytest.mark.parametrize("alias, switch, reported", [
    ("model = critics", "model.eval()", False),
    ("model = critics", "pass", True),
    ("model = critics\n    model = Critic()", "model.eval()", True),  # rebound: another object
    ("pass", "critics.eval()", False),
])
def test_a_switch_through_another_name_of_the_model(tmp_path, alias, switch, reported):
    code = _ALIAS.replace("ALIAS", alias).replace("SWITCH", switch)
    assert len(lint_source(tmp_path, code, "HPL008")) == (1 if reported else 0)


# knowledge-distillation-study (set 58): the teacher, of the student's class, is
# left in training mode by an evaluation helper that ends with `net.train()`,
# then gives the distillation targets under no_grad.
_TEACHER = '''
import torch
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8, bias=False)
        self.bn = nn.BatchNorm1d(8)

    def forward(self, x):
        return self.bn(self.fc(x))

def evaluate(net, loader):
    net = net.eval()
    for x, y in loader:
        net(x)
    net = net.train()

def distill(student, teacher, loader, opt):
    student.train()
    for x, y in loader:
        with torch.no_grad():
            t = teacher(x)
        loss = F.mse_loss(student(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()

teacher, student = Net(), Net()
teacher = teacher.eval()
loader = [(torch.randn(4, 8), None)]
EVALUATE
distill(student, teacher, loader, torch.optim.SGD(student.parameters(), lr=0.1))
'''


@pytest.mark.parametrize("evaluate, reported", [
    ("evaluate(teacher, loader)", True),  # back in training mode
    ("evaluate(student, loader)", False),  # the teacher stays in eval mode
])
def test_a_teacher_of_the_students_class_left_in_training_mode(tmp_path, evaluate, reported):
    code = _TEACHER.replace("EVALUATE", evaluate)
    assert len(lint_source(tmp_path, code, "HPL008")) == (1 if reported else 0)


# A set-57 probe (Kaggle's k-fold ensembles): a fresh model per fold on one test
# batch is not Monte-Carlo dropout, which reruns one model on one input.
_KFOLD = '''
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 32)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(32, 2)

    def forward(self, x):
        return self.fc2(self.drop(torch.relu(self.fc1(x))))

x_test = torch.randn(4, 10)
preds = []
BEFORE
for fold in range(5):
    INSIDE
    with torch.no_grad():
        preds.append(model(x_test))
'''


@pytest.mark.parametrize("before, inside, reported", [
    ("pass", "model = Net()\n    model.load_state_dict(torch.load(f'fold{fold}.pt'))", True),
    ("model = Net()\nmodel.load_state_dict(torch.load('m.pt'))\nmodel.train()", "pass", False),  # MC dropout
])
def test_a_fresh_model_per_fold_is_not_monte_carlo_dropout(tmp_path, before, inside, reported):
    code = _KFOLD.replace("BEFORE", before).replace("INSIDE", inside)
    findings = lint_source(tmp_path, code, "HPL008", name="predict.py")
    assert len(findings) == (1 if reported else 0)
    if reported:
        fixed = apply_fix(code.lstrip("\n"), findings[0].fix)
        assert "model.eval()\n        preds.append(model(x_test))" in fixed and parses(fixed)
