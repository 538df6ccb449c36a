"""HPL010 train-mode-not-restored: validation leaves the model in eval mode for the next epoch."""

from __future__ import annotations

import pytest

from training_helpers import apply_fix, lint, lint_source, parses

HEAD = """
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.2), nn.Linear(8, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
"""
TRAIN = """
    for x in train_data:
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
"""
EVALUATE = """
def evaluate(net, data):
    net.eval()
    with torch.no_grad():
        return sum(net(x).sum().item() for x in data)
"""

# DeepCTR-Torch models/basemodel.py: the loop lives in the base class's fit() on
# `self` (the optimizer set elsewhere, DataParallel under a condition), and
# validation goes through two helpers to `model = self.eval()`.
BASE_FIT = """
import torch
import torch.nn as nn


class BaseModel(nn.Module):
    def fit(self, loader, epochs=10):
        model = self.train()
        optim = self.optim
        if self.gpus:
            model = torch.nn.DataParallel(model, device_ids=self.gpus)
        for epoch in range(epochs):
            try:
                for x, y in loader:
                    y_pred = model(x).squeeze()
                    optim.zero_grad()
                    nn.functional.mse_loss(y_pred, y).backward()
                    optim.step()
            except KeyboardInterrupt:
                raise
            self.evaluate(x, y)

    def evaluate(self, x, y):
        return self.predict(x)

    def predict(self, x):
        model = self.eval()
        with torch.no_grad():
            return model(x)
"""

# pytorch-tutorial neural_style_transfer: a frozen feature extractor kept in
# eval mode while the optimizer trains the image, not the network.
STYLE_TRANSFER = """
import torch
import torch.nn as nn
import torchvision.models as models


class VGGNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.vgg = models.vgg19(pretrained=True).features

    def forward(self, x):
        return self.vgg(x)


def main(content, steps):
    target = content.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([target], lr=0.003)
    vgg = VGGNet().eval()
    for step in range(steps):
        loss = (vgg(target) - vgg(content)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""

KEYWORD_HELPERS = """
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stack = nn.Sequential({layers})

    def forward(self, x):
        return self.stack(x)


def train_step(model, data_loader, optimizer):
    for x in data_loader:
        optimizer.zero_grad()
        model(x).sum().backward()
        optimizer.step()


def test_step(data_loader, model):
    model.eval()
    with torch.inference_mode():
        return [model(x) for x in data_loader]


model_1 = Net().to("cpu")
optimizer = torch.optim.SGD(model_1.parameters(), lr=0.1)
for epoch in range(3):
    train_step(data_loader=train_dataloader, model=model_1, optimizer=optimizer)
    test_step(data_loader=test_dataloader, model=model_1)
"""

# PyG examples/hetero/metapath2vec.py: train() and test() use the global model;
# test() switches to eval every few thousand steps inside the epoch.
GLOBAL_HELPERS = """
import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        {layers}

    def forward(self, x):
        return self.body(x)


model = Encoder()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)


def train(epoch):
    model.train()
    for i, x in enumerate(loader):
        optimizer.zero_grad()
        model(x).sum().backward()
        optimizer.step()
        if (i + 1) % 2000 == 0:
            test()


@torch.no_grad()
def test():
    model.eval()
    return model(data)


for epoch in range(1, 6):
    train(epoch)
    test()
"""

# rainbow-is-all-you-need: `eval()` only `if self.is_test:`, and train() sets it False first.
FLAGGED_AGENT = """
import torch
import torch.nn as nn

class Agent:
    def __init__(self):
        self.net = nn.Sequential(nn.Linear(4, 64), nn.Dropout(0.1), nn.Linear(64, 2))
        self.opt = torch.optim.Adam(self.net.parameters())
        self.is_test = False

    def select_action(self, state):
        if self.is_test:
            self.net.eval()
        return self.net(state).argmax()

    def update(self, state):
        loss = self.net(state).pow(2).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()

    def train(self, states):
        self.is_test = False
        for s in states:
            self.select_action(s)
            self.update(s)
"""
# wavenet_vocoder: one step function for both phases, the mode and the update chosen by one flag.
PHASE_STEP = """
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.2), nn.Linear(8, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1)

def step(phase, x):
    train = phase == "train"
    if train:
        model.train()
    else:
        model.eval()
    loss = model(x).sum()
    if train:
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss

for epoch in range(10):
    for x in train_data:
        step("train", x)
    for x in val_data:
        step("val", x)
"""
SPLIT_LOOP = """
for epoch in range(3):
    for split in ["train", "valid"]:
        if split == "train":
            model.train()
        else:
            model.eval()
        for x in loaders[split]:
            loss = model(x).pow(2).mean()
            if split == "train":
                opt.zero_grad()
                loss.backward()
                opt.step()
"""
# wavenet_vocoder train.py: validation between the loss and its backward.
VALIDATING_STEP = """def train_step(net, x, do_eval):
    net.train()
    loss = net(x).sum()
    if do_eval:
        evaluate(net, val_data)
    opt.zero_grad()
    loss.backward()
    opt.step()

for i, x in enumerate(train_data):
    train_step(model, x, i % 100 == 0)
"""

POSITIVE = {
    "eval_behind_a_flag_the_training_method_never_clears":
        FLAGGED_AGENT.replace("        self.is_test = False\n        for s", "        for s"),
    "mode_chosen_by_the_split_but_the_update_always_runs": HEAD + SPLIT_LOOP.replace(
        '            if split == "train":\n                opt.zero_grad()\n                loss.backward()\n                opt.step()\n',
        '            opt.zero_grad()\n            loss.backward()\n            opt.step()\n'),
    "mode_chosen_by_a_flag_but_the_update_always_runs": PHASE_STEP.replace(
        "    if train:\n        opt.zero_grad()\n        loss.backward()\n        opt.step()\n",
        "    opt.zero_grad()\n    loss.backward()\n    opt.step()\n"),
    # ... and without the `train()`: the next step's forward runs in eval mode.
    "eval_between_the_forward_and_the_backward_never_undone":
        HEAD + EVALUATE + VALIDATING_STEP.replace("    net.train()\n", ""),
    "eval_at_end_of_epoch": HEAD + "for epoch in range(10):" + TRAIN + "    model.eval()\n    val = model(val_x)\n",
    "helper_switches": HEAD + EVALUATE + "for epoch in range(10):" + TRAIN + "    print(evaluate(model, val_data))\n",
    "train_false": HEAD + "for epoch in range(10):" + TRAIN + "    model.train(False)\n",
    "eval_every_few_epochs": HEAD + "for epoch in range(10):" + TRAIN + "    if epoch % 5 == 0:\n        model.eval()\n",
    "while_loop": HEAD + "epoch = 0\nwhile epoch < 10:" + TRAIN + "    model.eval()\n    epoch += 1\n",
    "inside_function": HEAD + "def fit(epochs):\n    for epoch in range(epochs):\n" + TRAIN.replace("\n    ", "\n        ") + "        model.eval()\n",
    "helper_trains_without_train": HEAD + EVALUATE + (
        "def train_one_epoch(net, data):\n"
        "    for x in data:\n"
        "        opt.zero_grad()\n"
        "        net(x).sum().backward()\n"
        "        opt.step()\n\n"
        "for epoch in range(10):\n"
        "    train_one_epoch(model, train_data)\n"
        "    evaluate(model, val_data)\n"),
    "trainer_class_self_model": """
import torch
import torch.nn as nn

class Trainer:
    def __init__(self):
        self.model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
        self.opt = torch.optim.Adam(self.model.parameters())

    def validate(self):
        self.model.eval()

    def fit(self, data):
        for epoch in range(3):
            for x in data:
                self.opt.zero_grad()
                self.model(x).sum().backward()
                self.opt.step()
            self.validate()
""",
    "eval_before_loop": HEAD + "model.eval()\nfor epoch in range(10):" + TRAIN,
    "base_class_fit_on_self": BASE_FIT,
    "global_model_with_recurrent_dropout": GLOBAL_HELPERS.format(layers="self.body = nn.LSTM(8, 8, 2, dropout=0.3)"),
    "global_model_with_a_transformer_layer": GLOBAL_HELPERS.format(
        layers="self.body = nn.Sequential(nn.Embedding(10, 8), nn.TransformerEncoderLayer(8, 2))"),
    "nested_helper_switches_closed_over_model": HEAD + (
        "def main(loader):\n"
        "    def evaluate():\n"
        "        model.eval()\n"
        "        return [model(x) for x in loader]\n\n"
        "    for epoch in range(10):\n"
        "        for x in loader:\n"
        "            opt.zero_grad()\n"
        "            model(x).sum().backward()\n"
        "            opt.step()\n"
        "        evaluate()\n"),
    "helpers_by_keyword_model_with_dropout": KEYWORD_HELPERS.format(layers="nn.Linear(4, 8), nn.Dropout(0.2)"),
}

NEGATIVE = {
    # rainbow-is-all-you-need: `eval()` only `if self.is_test:`, and train() sets it False first.
    "eval_behind_a_flag_the_training_method_clears": FLAGGED_AGENT,
    # wavenet_vocoder: one step function for both phases, the mode and the update chosen by one flag.
    "mode_and_update_chosen_by_one_flag": PHASE_STEP,
    # Sentence-VAE train.py: one loop over the splits, the mode and the update chosen by the split.
    "mode_and_update_chosen_by_the_split": HEAD + SPLIT_LOOP,
    "train_mode_argument_and_update_chosen_by_the_split": HEAD + SPLIT_LOOP.replace(
        '        if split == "train":\n            model.train()\n        else:\n            model.eval()\n',
        '        model.train(split == "train")\n'),
    # wavenet_vocoder train.py: validation between the loss and its backward, in a
    # step that starts with `train()`: the forward ran in train mode.
    "eval_between_the_forward_and_the_backward": HEAD + EVALUATE + VALIDATING_STEP,
    "train_at_start": HEAD + "for epoch in range(10):\n    model.train()" + TRAIN + "    model.eval()\n",
    "train_after_validation": HEAD + "for epoch in range(10):" + TRAIN + "    model.eval()\n    val = model(val_x)\n    model.train()\n",
    "helper_restores": HEAD + EVALUATE.replace("        return sum(net(x).sum().item() for x in data)\n",
                                                 "        out = sum(net(x).sum().item() for x in data)\n    net.train()\n    return out\n")
    + "for epoch in range(10):" + TRAIN + "    evaluate(model, val_data)\n",
    "train_one_epoch_switches": HEAD + EVALUATE + (
        "def train_one_epoch(net, data):\n"
        "    net.train()\n"
        "    for x in data:\n"
        "        opt.zero_grad()\n"
        "        net(x).sum().backward()\n"
        "        opt.step()\n\n"
        "for epoch in range(10):\n"
        "    train_one_epoch(model, train_data)\n"
        "    evaluate(model, val_data)\n"),
    "no_dropout_or_batchnorm": HEAD.replace("nn.Dropout(0.2), ", "") + "for epoch in range(10):" + TRAIN + "    model.eval()\n",
    "no_eval": HEAD + "for epoch in range(10):" + TRAIN,
    "other_model_evaluated": HEAD + "ema = nn.Sequential(nn.Linear(4, 1), nn.Dropout(0.1))\nfor epoch in range(10):" + TRAIN + "    ema.eval()\n",
    "final_evaluation_after_loop": HEAD + "for epoch in range(10):" + TRAIN + "model.eval()\n",
    "frozen_feature_extractor_in_eval": STYLE_TRANSFER,
    "base_class_fit_restores_train": BASE_FIT.replace("            self.evaluate(x, y)\n",
                                                      "            self.evaluate(x, y)\n            model.train()\n"),
    # mrdbourke/pytorch-deep-learning 03: train_step/test_step helpers handed
    # `model=model_1` by keyword, the model a Linear/ReLU stack with nothing
    # that eval mode changes.
    "helpers_by_keyword_model_without_dropout": KEYWORD_HELPERS.format(layers="nn.Linear(4, 8), nn.ReLU()"),
    # ... whose model is an embedding table: eval mode changes nothing.
    "global_model_embeddings_only": GLOBAL_HELPERS.format(layers="self.body = nn.Embedding(100, 8)"),
    "global_model_lstm_without_dropout": GLOBAL_HELPERS.format(layers="self.body = nn.LSTM(8, 8, 2)"),
    "train_inside_inner_loop": HEAD + "for epoch in range(10):" + TRAIN.replace("        opt.zero_grad()", "        model.train()\n        opt.zero_grad()") + "    model.eval()\n",
}


# bentrevett/pytorch-rl 3_advantage_actor_critic: `train(env, policy, optimizer)`
# calls `policy.train()` first; its step's model is found through the global
# optimizer (`actor_critic`), not the parameter the caller binds to it.
A2C_HELPERS = """import torch
import torch.nn as nn
import torch.optim as optim


class MLP(nn.Module):
    def __init__(self, out):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.1), nn.Linear(8, out))

    def forward(self, x):
        return self.body(x)


class ActorCritic(nn.Module):
    def __init__(self, actor, critic):
        super().__init__()
        self.actor = actor
        self.critic = critic

    def forward(self, state):
        return self.actor(state), self.critic(state)


def train(env, policy, optimizer):
{first}    action_pred, value_pred = policy(env.reset())
    loss = value_pred.mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def evaluate(env, policy):
    policy.eval()
    with torch.no_grad():
        return policy(env.reset())


for run in range(5):
    actor, critic = MLP(2), MLP(1)
    actor_critic = ActorCritic(actor, critic)
    optimizer = optim.Adam(actor_critic.parameters(), lr=1e-2)
    for episode in range(300):
        train(None, actor_critic, optimizer)
        evaluate(None, actor_critic)
"""
NEGATIVE["helper_trains_its_parameter_first_step_found_through_global_optimizer"] = A2C_HELPERS.format(
    first="    policy.train()\n")
POSITIVE["helper_without_train_step_found_through_global_optimizer"] = A2C_HELPERS.format(first="")

# SASRec.pytorch: evaluation only under the flag that also ends the epoch loop
# before its first step, so the switch and the step never run on one pass.
INFERENCE_ONLY = HEAD + """
import argparse
args = argparse.ArgumentParser().parse_args()
if args.inference_only:
    model.eval()
    print(model(val_x))
for epoch in range(10):
{guard}""" + TRAIN
# Inside-Deep-Learning's chapter 8 notebook: a segmentation net is switched to
# eval and plotted, then a detector of a class hplint cannot read trains. The
# step's forward is the detector's call, not the plotted net's in an earlier cell.
NEGATIVE["a_later_loop_trains_another_model_of_an_unread_class"] = """
import torch
import torch.nn as nn
from detection_zoo import Detector

seg = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4))
seg.eval()
pred = seg(torch.zeros(1, 1, 8, 8))

model = Detector(num_classes=10)
model = model.train()
optimizer = torch.optim.AdamW(model.parameters())
for epoch in range(2):
    for inputs, labels in loader:
        optimizer.zero_grad()
        losses = model(inputs, labels)
        loss = 0
        for part in losses.values():
            loss += part
        loss.backward()
        optimizer.step()
"""
NEGATIVE["eval_under_the_flag_that_breaks_the_epoch_loop"] = INFERENCE_ONLY.format(
    guard="    if args.inference_only: break\n")
NEGATIVE["eval_under_the_flag_that_leaves_the_loop_in_a_block"] = INFERENCE_ONLY.format(
    guard="    if args.inference_only:\n        print('done')\n        break\n")
POSITIVE["eval_under_a_flag_another_flag_breaks_the_loop"] = INFERENCE_ONLY.format(
    guard="    if args.dry_run: break\n")
POSITIVE["eval_under_the_flag_the_loop_only_prints"] = INFERENCE_ONLY.format(
    guard="    if args.inference_only: print(epoch)\n")
NEGATIVE["eval_under_the_flag_step_under_its_negation"] = HEAD + """
import argparse
args = argparse.ArgumentParser().parse_args()
if args.inference_only:
    model.eval()
for epoch in range(10):
    if not args.inference_only:
        for x in train_data:
            opt.zero_grad()
            model(x).sum().backward()
            opt.step()
"""
POSITIVE["eval_under_a_flag_the_loop_rebinds"] = INFERENCE_ONLY.format(
    guard="    args.inference_only = epoch > 5\n    if args.inference_only: break\n")


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_flags_eval_mode_left_on(tmp_path, name):
    findings = lint_source(tmp_path, POSITIVE[name], "HPL010")
    assert len(findings) == 1, (name, findings)


@pytest.mark.parametrize("name", sorted(NEGATIVE))
def test_quiet(tmp_path, name):
    assert lint_source(tmp_path, NEGATIVE[name], "HPL010") == []


def test_position_message_related(tmp_path):
    (finding,) = lint_source(tmp_path, POSITIVE["eval_at_end_of_epoch"], "HPL010")
    # HEAD: 5 lines, loop header 6, body 7-10, model.eval() 11
    assert (finding.line, finding.col) == (11, 5)
    assert "`model.eval()` puts Sequential in eval mode" in finding.message
    assert "training step at line 9" in finding.message
    assert finding.related[0].span.start_line == 9


def test_reports_the_helper_call(tmp_path):
    (finding,) = lint_source(tmp_path, POSITIVE["helper_switches"], "HPL010")
    assert "`evaluate(model, val_data)`" in finding.message


def test_helper_handed_the_model_names_its_class(tmp_path):
    (finding,) = lint_source(tmp_path, POSITIVE["helpers_by_keyword_model_with_dropout"], "HPL010")
    assert "puts Net in eval mode" in finding.message


def test_model_from_other_module(tmp_path):
    files = {
        "nets.py": "import torch.nn as nn\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.drop = nn.Dropout(0.5)\n\n    def forward(self, x):\n        return self.drop(x)\n",
        "train.py": "import torch\nfrom nets import Net\nmodel = Net()\nopt = torch.optim.SGD(model.parameters(), lr=1)\nfor epoch in range(3):\n    for x in data:\n        model(x).sum().backward()\n        opt.step()\n    model.eval()\n",
    }
    (finding,) = lint(tmp_path, files, "train.py", "HPL010")
    assert finding.line == 9 and "puts Net in eval mode" in finding.message


def test_fix_inserts_train_at_loop_start(tmp_path):
    for name in ("eval_at_end_of_epoch", "helper_switches", "inside_function"):
        (finding,) = lint_source(tmp_path, POSITIVE[name], "HPL010")
        text = (tmp_path / "train.py").read_text()
        fixed = apply_fix(text, finding.fix)
        assert finding.fix.safety.value == "unsafe"
        assert parses(fixed)
        indent = "        " if name == "inside_function" else "    "
        assert f"\n{indent}model.train()\n{indent}for x in train_data:\n" in fixed
        (tmp_path / "train.py").write_text(fixed)
        assert lint(tmp_path, {}, "train.py", "HPL010") == []


MNIST = '''
import argparse
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(784, 128)
        self.dropout = nn.Dropout(0.5)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        return F.log_softmax(self.fc2(self.dropout(F.relu(self.fc1(x)))), dim=1)


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        if args.dry_run:
            break


def test(model, device, test_loader):
    model.eval()
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    model = Net()
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
    for epoch in range(1, 15):
        train(args, model, "cpu", train_loader, optimizer, epoch)
        test(model, "cpu", test_loader)
        scheduler.step()
'''


def test_mnist_example_is_clean_for_every_rule(tmp_path):
    for code in ("HPL005", "HPL006", "HPL008", "HPL009", "HPL010"):
        assert lint_source(tmp_path, MNIST, code) == [], code


def test_mnist_without_train_call_is_flagged(tmp_path):
    src = MNIST.replace("    model.train()\n", "")
    (finding,) = lint_source(tmp_path, src, "HPL010")
    assert "`test(model, \"cpu\", test_loader)`" in finding.message
    fixed = apply_fix((tmp_path / "train.py").read_text(), finding.fix)
    assert "range(1, 15):\n        model.train()\n        train(args" in fixed


def test_conditional_switch_in_helper_counts_as_maybe(tmp_path):
    src = HEAD + "def evaluate(net, flag):\n    net.train(flag)\n\nfor epoch in range(3):" + TRAIN + "    evaluate(model, args.x)\n"
    assert len(lint_source(tmp_path, src, "HPL010")) == 1


# -- helpers that save and restore the mode, chains, try/finally -----------------
SAVE_RESTORE = """
def evaluate(net, data):
    was_training = net.training
    net.eval()
    with torch.no_grad():
        out = sum(net(x).sum().item() for x in data)
    net.train(was_training)
    return out
"""
LOOP = "for epoch in range(10):" + TRAIN + "    evaluate(model, val_data)\n"

RESTORING = {
    "save_and_restore_positional": HEAD + SAVE_RESTORE + LOOP,
    "save_and_restore_mode_keyword": HEAD + SAVE_RESTORE.replace("net.train(was_training)", "net.train(mode=was_training)") + LOOP,
    "restore_under_if": HEAD + SAVE_RESTORE.replace("    net.train(was_training)\n", "    if was_training:\n        net.train()\n") + LOOP,
    "data_parallel_module_flag": HEAD + SAVE_RESTORE.replace("net.training", "net.module.training") + LOOP,
    "chained_train_after_checkpoint": HEAD + (
        "for epoch in range(10):\n"
        "    model.train()\n"
        "    for i, x in enumerate(train_data):\n"
        "        opt.zero_grad()\n"
        "        model(x).sum().backward()\n"
        "        opt.step()\n"
        "        if i % 100 == 0:\n"
        "            model.eval().cpu()\n"
        "            torch.save(model.state_dict(), 'ckpt.pth')\n"
        "            model.to(device).train()\n"),
    "chained_cuda_train_at_epoch_start": HEAD + "for epoch in range(10):\n    model.cuda().train()" + TRAIN + "    model.eval()\n",
    "helper_try_finally_with_return": HEAD + (
        "def evaluate(net, data):\n"
        "    net.eval()\n"
        "    try:\n"
        "        with torch.no_grad():\n"
        "            return sum(net(x).sum().item() for x in data)\n"
        "    finally:\n"
        "        net.train()\n") + LOOP,
    "loop_try_finally": HEAD + "for epoch in range(10):" + TRAIN + (
        "    model.eval()\n"
        "    try:\n"
        "        val = model(val_x)\n"
        "    finally:\n"
        "        model.train()\n"),
    "trainer_method_saves_self_model": """
import torch
import torch.nn as nn

class Trainer:
    def __init__(self):
        self.model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
        self.opt = torch.optim.Adam(self.model.parameters())

    def validate(self):
        training = self.model.training
        self.model.eval()
        loss = self.model(val_x).sum()
        self.model.train(training)
        return loss

    def fit(self, data):
        for epoch in range(3):
            for x in data:
                self.opt.zero_grad()
                self.model(x).sum().backward()
                self.opt.step()
            self.validate()
""",
}

NOT_RESTORING = {
    "saved_but_never_restored": HEAD + SAVE_RESTORE.replace("    net.train(was_training)\n", "") + LOOP,
    "restores_another_models_flag": HEAD + SAVE_RESTORE.replace("was_training = net.training", "was_training = ema.training") + LOOP,
    "flag_overwritten_before_restore": HEAD + SAVE_RESTORE.replace("    net.train(was_training)\n", "    was_training = False\n    net.train(was_training)\n") + LOOP,
    "chain_ending_in_eval": HEAD + "for epoch in range(10):" + TRAIN + "    model.to(device).eval()\n",
    "finally_without_train": HEAD + "for epoch in range(10):" + TRAIN + (
        "    try:\n"
        "        model.eval()\n"
        "        val = model(val_x)\n"
        "    finally:\n"
        "        print('done')\n"),
}


@pytest.mark.parametrize("name", sorted(RESTORING))
def test_restoring_the_mode_is_not_a_switch(tmp_path, name):
    assert lint_source(tmp_path, RESTORING[name], "HPL010") == []


@pytest.mark.parametrize("name", sorted(NOT_RESTORING))
def test_switch_not_undone_is_still_flagged(tmp_path, name):
    assert len(lint_source(tmp_path, NOT_RESTORING[name], "HPL010")) == 1


# -- a mode helper driven by a boolean argument (Beta-VAE's `net_mode(train=True)`) --
_MODE_HELPER = '''
import torch
from torch import nn

class Solver:
    def __init__(self, loader):
        self.net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 1))
        self.optim = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        self.loader = loader

    def set_mode(self, train=True):
        if train:
            self.net.train()
        else:
            self.net.eval()

    def fit(self, steps):
        self.set_mode(train=True)
        for step in range(steps):
            for x, y in self.loader:
                loss = ((self.net(x) - y) ** 2).mean()
                self.optim.zero_grad()
                loss.backward()
                self.optim.step()
                if step % 100 == 0:
                    self.show()

    def show(self):
        self.set_mode(train=False)
        with torch.no_grad():
            print(self.net(torch.zeros(1, 8)))
        RESTORE
'''


@pytest.mark.parametrize("restore", ["self.set_mode(train=True)", "self.set_mode(True)", "self.set_mode()"])
def test_mode_helper_called_with_true_restores_train_mode(tmp_path, restore):
    assert lint_source(tmp_path, _MODE_HELPER.replace("RESTORE", restore), "HPL010") == []
    assert lint_source(tmp_path, _MODE_HELPER.replace("RESTORE", restore), "HPL008") == []


@pytest.mark.parametrize("restore", ["pass", "self.set_mode(train=False)", "self.set_mode(False)"])
def test_mode_helper_called_with_false_only_is_reported(tmp_path, restore):
    (found,) = lint_source(tmp_path, _MODE_HELPER.replace("RESTORE", restore), "HPL010")
    assert "self.show()" in found.message


def test_mode_helper_that_rebinds_its_flag_is_not_read(tmp_path):
    src = _MODE_HELPER.replace("        if train:\n", "        train = not train\n        if train:\n")
    src = src.replace("RESTORE", "self.set_mode(train=True)")  # which runs eval() here
    assert len(lint_source(tmp_path, src, "HPL010")) == 1


# -- a frozen model in eval mode while the step trains tensors (imagic, textual inversion) --
_FROZEN_THROUGH = '''
import torch
from torch import nn
import torch.nn.functional as F

class Tuner:
    def __init__(self):
        self.unet = nn.Sequential(nn.Linear(16, 64), nn.Dropout(0.1), nn.Linear(64, 16))

    def tune(self, x, emb, steps1, steps2):
        self.unet.requires_grad_(False)
        self.unet.eval()
        emb = emb.detach().requires_grad_()
        opt = torch.optim.Adam(FIRST, lr=1e-3)
        for _ in range(steps1):
            loss = F.mse_loss(self.unet(x + emb), x)
            loss.backward()
            opt.step()
            opt.zero_grad()
        self.unet.requires_grad_(True)
        self.unet.train()
        opt = torch.optim.Adam(self.unet.parameters(), lr=1e-5)
        for _ in range(steps2):
            loss = F.mse_loss(self.unet(x + emb), x)
            loss.backward()
            opt.step()
            opt.zero_grad()
'''


@pytest.mark.parametrize("first", ["[emb]", "(emb,)", "params=[emb]"])
def test_step_that_trains_tensors_through_a_frozen_model_in_eval_is_not_reported(tmp_path, first):
    assert lint_source(tmp_path, _FROZEN_THROUGH.replace("FIRST", first), "HPL010") == []


@pytest.mark.parametrize("first", ["self.unet.parameters()", "[emb, *self.unet.parameters()]",
                                   "[emb, self.unet[0].weight]"])
def test_step_that_trains_the_model_in_eval_is_reported(tmp_path, first):
    (found,) = lint_source(tmp_path, _FROZEN_THROUGH.replace("FIRST", first), "HPL010")
    assert "`self.unet.eval()`" in found.message


MID_EPOCH_EVAL = """
import torch
import torch.nn as nn

model = nn.Sequential(LAYERS)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
model.train()
for epoch in range(10):
    for step, (x, y) in enumerate(train_loader):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        if step % 100 == 0:
            model.eval()
            with torch.no_grad():
                val = sum(model(v).sum() for v in val_loader)
"""


@pytest.mark.parametrize("layers, effect", [
    ("nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2)", "in between: BatchNorm stops updating its statistics for"),
    ("nn.Linear(4, 8), nn.Dropout(0.1), nn.Linear(8, 2)", "in between: Dropout stays off for"),
    ("nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.1), nn.Linear(8, 2)",
     "in between: Dropout stays off and BatchNorm stops updating its statistics for"),
    # an LSTM's `dropout=` between its layers is dropout; without it only the BatchNorm changes
    ("nn.LSTM(4, 8, 2, True, True, 0.3), nn.BatchNorm1d(8)",
     "in between: Dropout stays off and BatchNorm stops updating its statistics for"),
    ("nn.LSTM(4, 8, 2), nn.BatchNorm1d(8)", "in between: BatchNorm stops updating its statistics for"),
])
def test_the_message_names_only_what_eval_mode_changes_in_this_model(tmp_path, layers, effect):
    (finding,) = lint_source(tmp_path, MID_EPOCH_EVAL.replace("LAYERS", layers), "HPL010")
    assert effect in finding.message


def test_a_mid_epoch_switch_on_a_model_without_dropout_or_batchnorm_is_quiet(tmp_path):
    source = MID_EPOCH_EVAL.replace("LAYERS", "nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)")
    assert lint_source(tmp_path, source, "HPL010") == []


# ml4graphs (set 52): a notebook evaluates one model, then rebinds `model` to a
# new one (a layer of an unread library, mode-aware functional dropout) and
# trains it with `model.train()` every epoch. The new model's step used to take
# the old model's evaluation call as its forward, in eval mode.
_REBOUND = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch_geometric.nn import GCNConv

class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.fc(self.drop(x))

class Graph(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = GCNConv(4, 2)

    def forward(self, x):
        return self.conv(F.dropout(x, p=0.5, training=self.training))

model = Plain()
opt = torch.optim.Adam(model.parameters())
for x, y in loader:
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()
model.eval()
with torch.no_grad():
    for x, y in loader:
        model(x)
REBIND
for epoch in range(3):
    TRAIN
    for x, y in loader:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
'''


@pytest.mark.parametrize("rebind, train, reported", [
    ("model = Graph()\nopt = torch.optim.Adam(model.parameters())", "model.train()", False),
    ("model = Graph()\nopt = torch.optim.Adam(model.parameters())", "pass", False),  # a fresh model trains
    ("pass", "pass", True),  # the same model, still in eval mode
])
def test_a_rebound_model_is_not_the_evaluated_one(tmp_path, rebind, train, reported):
    code = _REBOUND.replace("REBIND", rebind).replace("TRAIN", train)
    assert len(lint_source(tmp_path, code, "HPL010")) == (1 if reported else 0)


# The PyTorch tutorial's `loss_batch(model, loss_func, xb, yb, opt=None)` (a
# python-journey notebook, set 56): it steps only when given an optimizer, so
# the validation call that leaves `opt` None trains nothing.
_LOSS_BATCH = '''
import torch
import torch.nn as nn

def loss_batch(model, loss_func, xb, yb, opt=None):
    loss = loss_func(model(xb), yb)
    if CHECK:
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss.item()

def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    BEFORE
    for epoch in range(epochs):
        EACH
        for xb, yb in train_dl:
            loss_batch(model, loss_func, xb, yb, opt)
        model.eval()
        with torch.no_grad():
            losses = [loss_batch(model, loss_func, xb, yb, VALOPT) for xb, yb in valid_dl]

model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.Linear(4, 2))
fit(2, model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), [], [])
'''


@pytest.mark.parametrize("check, before, each, valopt, reported", [
    ("opt is not None", "pass", "model.train()", "", False),
    ("opt", "pass", "model.train()", "opt=None", False),
    ("opt is not None", "model.train()", "pass", "", True),  # train() once, before the loop
    ("opt is not None", "pass", "model.train()", "None", False),  # None passed by position
])
def test_a_helper_that_steps_only_when_given_an_optimizer(tmp_path, check, before, each, valopt, reported):
    code = _LOSS_BATCH.replace("CHECK", check).replace("BEFORE", before).replace("EACH", each)
    code = code.replace(", VALOPT", (", " + valopt) if valopt else "")
    assert len(lint_source(tmp_path, code, "HPL010")) == (1 if reported else 0)


# A set-57 probe: the validation helper that switches to eval mode is another
# project file's (`from utils import validate`); train() runs once, before the loop.
_VALIDATE_UTILS = '''
import torch

def validate(model, loader):
    model.eval()
    with torch.no_grad():
        out = [model(x) for x, _ in loader]
    RESTORE
    return out
'''
_IMPORTED_VALIDATE = '''
import torch
import torch.nn as nn
from utils import validate

model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 2))
opt = torch.optim.Adam(model.parameters())
model.train()
for epoch in range(10):
    EACH
    for xb, yb in train_loader:
        opt.zero_grad()
        nn.functional.cross_entropy(model(xb), yb).backward()
        opt.step()
    validate(model, val_loader)
'''


@pytest.mark.parametrize("restore, each, reported", [
    ("pass", "pass", True),
    ("model.train()", "pass", False),  # the helper switches back
    ("pass", "model.train()", False),  # every epoch starts in train mode
])
def test_an_imported_validation_helper_that_leaves_eval_mode(tmp_path, restore, each, reported):
    files = {"utils.py": _VALIDATE_UTILS.replace("RESTORE", restore), "train.py": _IMPORTED_VALIDATE.replace("EACH", each)}
    findings = lint(tmp_path, files, "train.py", "HPL010")
    assert len(findings) == (1 if reported else 0)
    if reported:
        assert findings[0].message.startswith("`validate(model, val_loader)` puts Sequential in eval mode")
