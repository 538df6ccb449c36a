"""HPL009 batch-size-too-small-for-batchnorm: tiny training batches for BatchNorm models."""

from __future__ import annotations

import pytest

from training_helpers import lint, lint_source

BN_MODEL = """
import torch
import torch.nn as nn
from torch.utils.data import DataLoader

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, bias=False)
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):
        return self.bn(self.conv(x)).mean()
"""
LOOP = """
model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for x in loader:
    opt.zero_grad()
    model(x).backward()
    opt.step()
"""

POSITIVE = {
    "dataloader_keyword": BN_MODEL + "loader = DataLoader(ds, batch_size=2, shuffle=True)\n" + LOOP,
    "dataloader_positional": BN_MODEL + "loader = DataLoader(ds, 4, True)\n" + LOOP,
    "constant": BN_MODEL + "BATCH_SIZE = 1\nloader = DataLoader(ds, batch_size=BATCH_SIZE, shuffle=True)\n" + LOOP,
    "argparse": BN_MODEL + "import argparse\np = argparse.ArgumentParser()\np.add_argument('--batch-size', type=int, default=4)\nargs = p.parse_args()\nloader = DataLoader(ds, batch_size=args.batch_size, shuffle=True)\n" + LOOP,
    "config_dict": BN_MODEL + "config = {'batch_size': 2}\nloader = DataLoader(ds, batch_size=config['batch_size'], shuffle=True)\n" + LOOP,
    "dataclass": BN_MODEL + "from dataclasses import dataclass\n@dataclass\nclass Cfg:\n    batch_size: int = 3\n" + LOOP,
    "sequential_syncbn": """
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
model = nn.Sequential(nn.Linear(4, 4), nn.SyncBatchNorm(4))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
loader = DataLoader(ds, batch_size=2, shuffle=True)
for x in loader:
    model(x).sum().backward()
    opt.step()
""",
    "inside_function": BN_MODEL + "def main(ds):\n    model = Net()\n    opt = torch.optim.Adam(model.parameters())\n    loader = DataLoader(ds, batch_size=1, shuffle=True)\n    for x in loader:\n        model(x).backward()\n        opt.step()\n",
    # ... but a constant that sizes the very tensors the loop trains on is the batch.
    "synthetic_training_batch": BN_MODEL + "bs = 2\nmodel = Net()\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
    "for step in range(100):\n    x = torch.randn(bs, 3, 32, 32)\n    opt.zero_grad()\n    model(x).backward()\n    opt.step()\n",
    "hf_arguments": BN_MODEL + "from transformers import TrainingArguments\nta = TrainingArguments('o', per_device_train_batch_size=2)\n" + LOOP,
}

NEGATIVE = {
    "large_enough": BN_MODEL + "loader = DataLoader(ds, batch_size=32, shuffle=True)\n" + LOOP,
    "at_minimum": BN_MODEL + "loader = DataLoader(ds, batch_size=8, shuffle=True)\n" + LOOP,
    "no_batchnorm": BN_MODEL.replace("nn.BatchNorm2d(8)", "nn.GroupNorm(2, 8)") + "loader = DataLoader(ds, batch_size=2, shuffle=True)\n" + LOOP,
    "layernorm_model": "import torch\nimport torch.nn as nn\nfrom torch.utils.data import DataLoader\nmodel = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))\nopt = torch.optim.SGD(model.parameters(), lr=1)\nloader = DataLoader(ds, batch_size=1, shuffle=True)\nfor x in loader:\n    model(x).sum().backward()\n    opt.step()\n",
    "eval_loader": BN_MODEL + "def evaluate(ds):\n    return DataLoader(ds, batch_size=1, shuffle=False)\nloader = DataLoader(ds, batch_size=64, shuffle=True)\n" + LOOP,
    "no_training_step": BN_MODEL + "model = Net()\nloader = DataLoader(ds, batch_size=2, shuffle=True)\n",
    "unknown_model": "import torch\nfrom torch.utils.data import DataLoader\nmodel = torch.hub.load('a', 'b')\nopt = torch.optim.SGD(model.parameters(), lr=1)\nloader = DataLoader(ds, batch_size=2, shuffle=True)\nfor x in loader:\n    model(x).backward()\n    opt.step()\n",
    "unknown_batch": BN_MODEL + "loader = DataLoader(ds, batch_size=args.bs, shuffle=True)\n" + LOOP,
    # PyG examples/film.py: 2 PPI graphs per batch are thousands of nodes for BatchNorm1d.
    "pyg_graph_loader": BN_MODEL.replace("from torch.utils.data import DataLoader", "from torch_geometric.loader import DataLoader")
    + "loader = DataLoader(train_dataset, batch_size=2, shuffle=True)\n" + LOOP,
    "pyg_loader_by_module_and_argparse": BN_MODEL + "import argparse\nimport torch_geometric\np = argparse.ArgumentParser()\n"
    "p.add_argument('--batch_size', type=int, default=4)\nargs = p.parse_args()\n"
    "loader = torch_geometric.loader.DataLoader(ds, batch_size=args.batch_size, shuffle=True)\n" + LOOP,
    "dgl_graph_loader": BN_MODEL + "from dgl.dataloading import GraphDataLoader\nloader = GraphDataLoader(ds, batch_size=2, shuffle=True)\n" + LOOP,
    # dataflowr's DDPM notebook: `bs = 3` sizes a dummy input for a shape check;
    # the training loop reads a DataLoader with its own batch size.
    "shape_check_beside_a_batched_loader": BN_MODEL.replace("        return self.bn(", "        bs = x.shape[0]\n        return self.bn(")
    + "bs = 3\nx = torch.randn(bs, 3, 32, 32)\n"
    "t = torch.randint(0, 1000, (bs,))\nprint(Net()(x).shape)\n"
    "loader = DataLoader(ds, batch_size=512, shuffle=True)\n" + LOOP,
    "test_loader_by_name": BN_MODEL + "test_loader = DataLoader(test_set, batch_size=1)\nloader = DataLoader(ds, batch_size=64, shuffle=True)\n" + LOOP,
}


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_flags_small_batch_with_batchnorm(tmp_path, name):
    findings = lint_source(tmp_path, POSITIVE[name], "HPL009")
    assert len(findings) == 1, (name, findings)
    assert "is below 8" in findings[0].message and "BatchNorm" in findings[0].message


@pytest.mark.parametrize("name", sorted(NEGATIVE))
def test_quiet(tmp_path, name):
    assert lint_source(tmp_path, NEGATIVE[name], "HPL009") == []


def test_position_and_related_batchnorm(tmp_path):
    (finding,) = lint_source(tmp_path, POSITIVE["dataloader_keyword"], "HPL009")
    text = (tmp_path / "train.py").read_text().splitlines()
    line = next(i for i, t in enumerate(text, 1) if t.startswith("loader = "))
    assert (finding.line, finding.col) == (line, 36)
    assert "Batch size 2 " in finding.message and "Net trains BatchNorm2d layers (line 9)" in finding.message
    assert finding.related[0].span.start_line == 9


def test_model_in_other_module(tmp_path):
    files = {
        "nets.py": BN_MODEL,
        "train.py": "import torch\nfrom torch.utils.data import DataLoader\nfrom nets import Net\n" + "loader = DataLoader(ds, batch_size=2, shuffle=True)\n" + LOOP,
    }
    (finding,) = lint(tmp_path, files, "train.py", "HPL009")
    assert finding.line == 4 and "nets.py:9" in finding.message
    assert finding.related[0].path.endswith("nets.py")


def test_option(tmp_path):
    src = BN_MODEL + "loader = DataLoader(ds, batch_size=12, shuffle=True)\n" + LOOP
    assert lint(tmp_path, {"t.py": src}, "t.py", "HPL009") == []
    assert len(lint(tmp_path, {"t.py": src}, "t.py", "HPL009", **{"min-batch-size": 16})) == 1


def test_a_size_passed_on_through_dict_is_reported_once_where_written(tmp_path):
    """Pytorch-UNet: `loader_args = dict(batch_size=batch_size, ...)` and a W&B
    `config.update(dict(batch_size=batch_size))` pass on the argparse default."""
    src = '''
import argparse
import torch
import torch.nn as nn
from torch.utils.data import DataLoader

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
    def forward(self, x):
        return self.body(x)

def train(model, data, batch_size):
    loader_args = dict(batch_size=batch_size, num_workers=2)
    loader = DataLoader(data, shuffle=True, **loader_args)
    experiment.config.update(dict(epochs=5, batch_size=batch_size))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()

parser = argparse.ArgumentParser()
parser.add_argument("--batch-size", dest="batch_size", type=int, default=1)
args = parser.parse_args()
train(Net(), data, batch_size=args.batch_size)
'''
    (found,) = lint_source(tmp_path, src, "HPL009")
    assert "the default of `batch_size`" in found.message
    # a literal in the dict is written there, and reported there
    literal = src.replace("dict(epochs=5, batch_size=batch_size)", "dict(epochs=5, batch_size=2)")
    assert sorted(f.span.start_line for f in lint_source(tmp_path, literal, "HPL009")) == [16, 24]


# python-engineer/pytorchTutorial 15_transfer_learning.py: fine-tuning a
# torchvision ResNet (BatchNorm2d inside) with `batch_size=4`.
TORCHVISION_LOOP = """
import torch
import torchvision
from torchvision import models
from torch.utils.data import DataLoader
loader = DataLoader(ds, batch_size=4, shuffle=True)
model = MAKE
opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
for x, y in loader:
    opt.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    opt.step()
"""


@pytest.mark.parametrize("make", [
    "models.resnet18(pretrained=True)",
    "torchvision.models.resnet50(weights='IMAGENET1K_V1')",
    "torchvision.models.vgg16_bn()",
    "models.densenet121()",
    "models.mobilenet_v2(num_classes=10)",
])
def test_a_torchvision_model_with_batchnorm(tmp_path, make):
    (finding,) = lint_source(tmp_path, TORCHVISION_LOOP.replace("MAKE", make), "HPL009")
    assert "Batch size 4 " in finding.message and "BatchNorm2d" in finding.message
    text = (tmp_path / "train.py").read_text().splitlines()
    assert finding.related[0].span.start_line == text.index("model = " + make) + 1  # the constructor call


# The ImageNet example and its many copies pick the architecture by name:
# `models.__dict__[args.arch]()`, `getattr(models, args.arch)()`. The argparse
# default names the model a plain run trains.
ARCH_BY_NAME = """
import argparse
import torch
import torchvision.models as models
from torch.utils.data import DataLoader
parser = argparse.ArgumentParser()
parser.add_argument("-a", "--arch", ARCH)
args = parser.parse_args()
loader = DataLoader(ds, batch_size=4, shuffle=True)
model = MAKE
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in loader:
    opt.zero_grad()
    criterion(model(x), y).backward()
    opt.step()
"""


@pytest.mark.parametrize("arch, make, found", [
    ('default="resnet18"', "models.__dict__[args.arch](pretrained=True)", 1),
    ('default="resnet18"', "getattr(models, args.arch)()", 1),
    ("default='densenet121', choices=names", "models.__dict__[args.arch]()", 1),
    ('default="vgg16"', "models.__dict__[args.arch]()", 0),  # no BatchNorm
    ("required=True", "models.__dict__[args.arch]()", 0),  # unknown until run time
    ('default="resnet18"', "vars(args).__dict__[args.arch]()", 0),  # not an imported module's member
    ('default="resnet18"', "getattr(args, args.arch)()", 0),
])
def test_a_torchvision_model_picked_by_a_constant_name(tmp_path, arch, make, found):
    source = ARCH_BY_NAME.replace("ARCH", arch).replace("MAKE", make)
    findings = lint_source(tmp_path, source, "HPL009")
    assert len(findings) == found
    if found:
        assert findings[0].related[0].span.start_line == 9  # the constructor call


@pytest.mark.parametrize("make", [
    "models.vgg16()",  # no BatchNorm without `_bn`
    "models.alexnet()",
    "torchvision.models.VGG(features)",  # the class takes a configuration hplint does not read
    "torchvision.models.vit_b_16()",  # LayerNorm
])
def test_a_torchvision_model_without_batchnorm(tmp_path, make):
    assert lint_source(tmp_path, TORCHVISION_LOOP.replace("MAKE", make), "HPL009") == []


# The common fine-tuning wrapper: a torchvision backbone kept as a submodule
# (lightning-tutorials' SimCLR `self.convnet = torchvision.models.resnet18(...)`,
# pytorch-examples' siamese network `self.resnet = ...`).
BACKBONE_CLASS = """
import torch
import torch.nn as nn
import torchvision
from torchvision import models
from torch.utils.data import DataLoader


class Classifier(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.backbone = MAKE
        self.head = nn.Linear(1000, n)

    def forward(self, x):
        return self.head(self.backbone(x))


loader = DataLoader(ds, batch_size=4, shuffle=True)
model = Classifier(10)
opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
for x, y in loader:
    opt.zero_grad()
    criterion(model(x), y).backward()
    opt.step()
"""


@pytest.mark.parametrize("make", [
    "models.resnet18(pretrained=True)",
    "torchvision.models.efficientnet_b0(weights=None)",
    "models.vgg11_bn().to('cuda')",
    # highjun/DLPapers' captioning encoder: the convolutional trunk of a BN model
    "models.vgg19_bn(pretrained=True).features[:-1]",
    "models.densenet121().features",
    # pytorch-tutorial's image captioning encoder: the trunk without the fc head
    "nn.Sequential(*list(models.resnet152(pretrained=True).children())[:-1])",
])
def test_a_torchvision_backbone_held_by_a_model_class(tmp_path, make):
    (finding,) = lint_source(tmp_path, BACKBONE_CLASS.replace("MAKE", make), "HPL009")
    assert "Batch size 4 " in finding.message and "Classifier trains BatchNorm2d" in finding.message
    text = (tmp_path / "train.py").read_text().splitlines()
    assert finding.related[0].span.start_line == text.index("        self.backbone = " + make) + 1


@pytest.mark.parametrize("make", [
    "models.vgg16()",
    "models.vit_b_16()",
    "models.vgg16_bn().classifier",  # a part of the library model: its layers are not known
    "models.vgg16().features[:-1]",  # the trunk of a model without BatchNorm
    "models.vgg16_bn().features[0]",  # one layer of the trunk, not the trunk
    "nn.Sequential(*list(models.vgg16().children())[:-1])",
    "models.resnet18",  # the constructor itself, not a model
])
def test_a_torchvision_backbone_without_known_batchnorm(tmp_path, make):
    assert lint_source(tmp_path, BACKBONE_CLASS.replace("MAKE", make), "HPL009") == []


# Getting-Things-Done-with-Pytorch 03: the model comes from a `create_model`
# helper and is trained two helpers deep (`train_model` builds the optimizer,
# `train_epoch` steps).
TWO_HELPERS_DEEP = """
from torch import nn, optim
from torch.utils.data import DataLoader
from torchvision import models


def create_model(n_classes):
    model = models.resnet34(pretrained=True)
    model.fc = nn.Linear(model.fc.in_features, n_classes)
    return model


def train_epoch(model, data_loader, loss_fn, optimizer):
    model = model.train()
    for inputs, labels in data_loader:
        loss_fn(model(inputs), labels).backward()
        optimizer.step()
        optimizer.zero_grad()


def train_model(model, loader, n_epochs=3):
    opt = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    for _ in range(n_epochs):
        train_epoch(model, loader, nn.CrossEntropyLoss(), opt)
    return model


loader = DataLoader(ds, batch_size=BATCH, shuffle=True)
net = create_model(10)
train_model(net, loader)
"""


def test_a_model_from_a_helper_trained_two_helpers_deep(tmp_path):
    (finding,) = lint_source(tmp_path, TWO_HELPERS_DEEP.replace("BATCH", "4"), "HPL009")
    assert "Batch size 4 " in finding.message and "resnet34 trains BatchNorm2d" in finding.message
    assert lint_source(tmp_path, TWO_HELPERS_DEEP.replace("BATCH", "32"), "HPL009") == []


# pytorch_yolov1 (set 54): the config is built by item assignment.
_ITEM_CFG = """
import torch
from torch import nn
from torch.utils.data import DataLoader

train_cfg = dict()
train_cfg['batch_size'] = {value}
{later}
model = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU())
opt = torch.optim.SGD(model.parameters(), lr=0.1)
loader = DataLoader(ds, batch_size=train_cfg['batch_size'], shuffle=True)
for x, y in loader:
    opt.zero_grad()
    model(x).sum().backward()
    opt.step()
"""


@pytest.mark.parametrize("value, later, found", [
    ("1", "", 1),
    ("2", "", 1),
    ("64", "", 0),
    ("1", "train_cfg['batch_size'] = 32", 0),  # overwritten before the loader reads it
    ("64", "train_cfg['batch_size'] = 2", 1),
])
def test_a_batch_size_set_by_item_assignment(tmp_path, value, later, found):
    code = _ITEM_CFG.format(value=value, later=later)
    assert len(lint_source(tmp_path, code, "HPL009")) == found
