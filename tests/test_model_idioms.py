"""Model-structure idioms found in real repositories (docs/evaluation.md), each
reduced to a few lines, with a twin that must stay quiet."""

from __future__ import annotations

import pytest

from helpers import dedent, expected_lines, lines_of, lint_code, lint_files

FLAGGED = {
    # PyTorch-GAN dcgan.py and 6 siblings: a block helper nested in __init__.
    "nested_helper_dropout_then_bn": ("HPL001", """
        import torch.nn as nn

        class Discriminator(nn.Module):
            def __init__(self, channels=1):
                super().__init__()

                def block(cin, cout, bn=True):
                    layers = [nn.Conv2d(cin, cout, 3, 2, 1, bias=False), nn.LeakyReLU(0.2), nn.Dropout2d(0.25)]  # <- HPL001
                    if bn:
                        layers.append(nn.BatchNorm2d(cout, 0.8))
                    return layers

                self.model = nn.Sequential(*block(channels, 16, bn=False), *block(16, 32))

            def forward(self, img):
                return self.model(img)
        """),
    # PyTorch-GAN gan.py and Lightning's basic GAN: nested helper, Linear then BN.
    "nested_helper_linear_then_bn": ("HPL002", """
        from torch import nn

        class Generator(nn.Module):
            def __init__(self, latent_dim=100):
                super().__init__()
                def block(in_feat, out_feat, normalize=True):
                    layers = [nn.Linear(in_feat, out_feat)]  # <- HPL002
                    if normalize:
                        layers.append(nn.BatchNorm1d(out_feat, 0.8))
                    layers.append(nn.LeakyReLU(0.2, inplace=True))
                    return layers
                self.model = nn.Sequential(*block(latent_dim, 128, normalize=False), *block(128, 256))

            def forward(self, z):
                return self.model(z)
        """),
    # A nested helper that reads a name of the enclosing __init__ (its closure).
    "nested_helper_closure": ("HPL002", """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, width=8):
                super().__init__()
                use_bn = True
                def conv(cin):
                    return [nn.Conv2d(cin, width, 3), nn.BatchNorm2d(width)] if use_bn else [nn.Conv2d(cin, width, 3)]  # <- HPL002
                self.body = nn.Sequential(*conv(3))

            def forward(self, x):
                return self.body(x)
        """),
    # The nested helper's flag passed positionally: its parameters bind in order.
    "nested_helper_positional_flag": ("HPL002", """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                def block(cin, cout, bn):
                    layers = [nn.Conv2d(cin, cout, 3)]  # <- HPL002
                    if bn:
                        layers.append(nn.BatchNorm2d(cout))
                    return layers
                self.body = nn.Sequential(*block(3, 8, False), *block(8, 16, True))

            def forward(self, x):
                return self.body(x)
        """),
    # pytorch-fm layer.py: `layers = list()`.
    "list_call_builder": ("HPL002", """
        import torch

        class MLP(torch.nn.Module):
            def __init__(self, input_dim, dims):
                super().__init__()
                layers = list()
                for d in dims:
                    layers.append(torch.nn.Linear(input_dim, d))  # <- HPL002
                    layers.append(torch.nn.BatchNorm1d(d))
                    input_dim = d
                self.mlp = torch.nn.Sequential(*layers)

            def forward(self, x):
                return self.mlp(x)
        """),
    # pytorch-cifar100 stochasticdepth.py: a torch.jit.ScriptModule block.
    "script_module": ("HPL002", """
        import torch
        import torch.nn as nn

        class Block(torch.jit.ScriptModule):
            def __init__(self, cin, cout):
                super().__init__()
                self.residual = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout))  # <- HPL002

            @torch.jit.script_method
            def forward(self, x):
                return self.residual(x) + x
        """),
    # pytorch-cifar100 inceptionv4.py: BatchNorm of a sum of two biased convs.
    "bn_of_a_sum": ("HPL002", """
        import torch.nn as nn

        class Reduction(nn.Module):
            def __init__(self, cin, cout):
                super().__init__()
                self.a = nn.Conv2d(cin, cout, kernel_size=1)  # <- HPL002
                self.b = nn.Conv2d(cin, cout, kernel_size=1)  # <- HPL002
                self.bn = nn.BatchNorm2d(cout)

            def forward(self, x):
                residual = self.a(x)
                shortcut = self.b(x)
                return self.bn(shortcut - residual)
        """),
    # pytorch-cifar100 nasnet.py: BatchNorm of a channel concatenation.
    "bn_of_a_channel_concat": ("HPL002", """
        import torch
        import torch.nn as nn

        class Fit(nn.Module):
            def __init__(self, cin, cout):
                super().__init__()
                self.p1 = nn.Conv2d(cin, cout // 2, 1)  # <- HPL002
                self.p2 = nn.Conv2d(cin, cout // 2, 1)  # <- HPL002
                self.bn = nn.BatchNorm2d(cout)

            def forward(self, x):
                return self.bn(torch.cat([self.p1(x), self.p2(x)], 1))
        """),
    # Auto-PyTorch MLPBackbone / ConvNetImageBackbone: `build_backbone` (called by a
    # framework base class, never by construction) hands its `[]` to a helper that appends.
    "builder_method_helper_appends_to_the_list_it_is_given": ("HPL002", """
        from typing import List
        from torch import nn

        class ConvNetBackbone(BackboneComponent):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.bn_args = {"eps": 1e-5, "momentum": 0.1}

            def _add_layer(self, layers: List[nn.Module], cin: int, cout: int) -> None:
                layers.append(nn.Conv2d(cin, cout, kernel_size=3))  # <- HPL002
                layers.append(nn.BatchNorm2d(cout, **self.bn_args))
                layers.append(nn.ReLU())

            def build_backbone(self, input_shape):
                channels, width, height = input_shape
                layers: List[nn.Module] = []
                self._add_layer(layers, channels, 16)
                for i in range(2, self.config["num_layers"] + 1):
                    self._add_layer(layers, 16, 16)
                return nn.Sequential(*layers)
        """),
    # torch-rechub's MLP: `if dims is None: dims = []`, no caller in the file.
    "none_default_replaced_by_an_empty_list": ("HPL002", """
        import torch.nn as nn

        class MLP(nn.Module):
            def __init__(self, input_dim, dims=None, dropout=0.0):
                super().__init__()
                if dims is None:
                    dims = []
                layers = list()
                for i_dim in dims:
                    layers.append(nn.Linear(input_dim, i_dim))  # <- HPL002
                    layers.append(nn.BatchNorm1d(i_dim))
                    layers.append(nn.ReLU(inplace=True))
                    input_dim = i_dim
                self.mlp = nn.Sequential(*layers)

            def forward(self, x):
                return self.mlp(x)
        """),
    # pix2pixHD's LocalEnhancer: blocks registered with setattr, run through getattr.
    "setattr_sequential_read_back_with_getattr": ("HPL002", """
        import torch.nn as nn

        class Enhancer(nn.Module):
            def __init__(self, in_nc=3, ngf=32, n_levels=2, norm_layer=nn.BatchNorm2d):
                super().__init__()
                self.n_levels = n_levels
                for n in range(1, n_levels + 1):
                    down = [nn.Conv2d(in_nc, ngf, kernel_size=3), norm_layer(ngf), nn.ReLU(True)]  # <- HPL002
                    setattr(self, "level" + str(n) + "_down", nn.Sequential(*down))

            def forward(self, x):
                for n in range(1, self.n_levels + 1):
                    x = getattr(self, "level" + str(n) + "_down")(x)
                return x
        """),
}

QUIET = {
    # The twins: the helper appends no BatchNorm; `dims` replaced by a list without one.
    "builder_method_helper_without_batchnorm": ("HPL002", """
        from torch import nn

        class Backbone(BackboneComponent):
            def _add_layer(self, layers, cin, cout):
                layers.append(nn.Conv2d(cin, cout, kernel_size=3))
                layers.append(nn.ReLU())

            def build_backbone(self, channels):
                layers = []
                self._add_layer(layers, channels, 16)
                return nn.Sequential(*layers)
        """),
    "setattr_sequential_with_conv_without_bias": ("HPL002", """
        import torch.nn as nn

        class Enhancer(nn.Module):
            def __init__(self, n_levels=2):
                super().__init__()
                for n in range(n_levels):
                    setattr(self, f"level{n}", nn.Sequential(nn.Conv2d(3, 3, 3, bias=False), nn.BatchNorm2d(3)))
        """),
    # A sum with dropout in it is not "dropout directly before BatchNorm".
    "dropout_through_a_sum": ("HPL001", """
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.drop = nn.Dropout(0.1)
                self.bn = nn.BatchNorm1d(8)

            def forward(self, x, y):
                return self.bn(self.drop(x) + y)
        """),
    # Concatenated along a spatial dim, channels mix positions: the bias is not cancelled.
    "concat_along_width": ("HPL002", """
        import torch
        import torch.nn as nn

        class Fit(nn.Module):
            def __init__(self):
                super().__init__()
                self.p1 = nn.Conv2d(3, 8, 1)
                self.p2 = nn.Conv2d(3, 8, 1)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x):
                return self.bn(torch.cat([self.p1(x), self.p2(x)], dim=3))
        """),
    # A product is not a per-channel constant shift.
    "bn_of_a_product": ("HPL002", """
        import torch.nn as nn

        class Gate(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Conv2d(3, 8, 1)
                self.bn = nn.BatchNorm2d(8)

            def forward(self, x, g):
                return self.bn(self.a(x) * g)
        """),
    # The flag is False at every call, passed positionally: no BatchNorm, nothing to report.
    "nested_helper_positional_flag_false": ("HPL002", """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                def block(cin, cout, bn):
                    layers = [nn.Conv2d(cin, cout, 3)]
                    if bn:
                        layers.append(nn.BatchNorm2d(cout))
                    return layers
                self.body = nn.Sequential(*block(3, 8, False), *block(8, 16, False))

            def forward(self, x):
                return self.body(x)
        """),
    # The nested helper's layers have no bias: nothing to report.
    "nested_helper_bias_false": ("HPL002", """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                def block(cin, cout):
                    return [nn.Conv2d(cin, cout, 3, bias=False), nn.BatchNorm2d(cout)]
                self.body = nn.Sequential(*block(3, 8))

            def forward(self, x):
                return self.body(x)
        """),
}


@pytest.mark.parametrize("name", sorted(FLAGGED))
def test_flagged_where_marked(tmp_path, name):
    rule, code = FLAGGED[name]
    findings = lint_code(tmp_path, code, select=[rule])
    assert lines_of(findings, rule) == expected_lines(code, rule), findings


@pytest.mark.parametrize("name", sorted(QUIET))
def test_quiet(tmp_path, name):
    rule, code = QUIET[name]
    assert lint_code(tmp_path, dedent(code), select=[rule]) == []


def test_a_block_output_sum_that_flows_on_is_not_cancelled(tmp_path):
    # pytorch-cifar100 attention.py: a pre-activation unit returns res + shortcut;
    # the next unit normalises it but also adds it to its own output (identity
    # shortcut), so the last conv's bias is not cancelled by that BatchNorm.
    code = dedent("""
        import torch.nn as nn

        class PreAct(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.res = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, c, 1))
                self.shortcut = nn.Sequential()

            def forward(self, x):
                res = self.res(x)
                return res + self.shortcut(x)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(PreAct(8), PreAct(8))

            def forward(self, x):
                return self.body(x)
        """)
    assert lint_code(tmp_path, code, select=["HPL002"]) == []


def test_sequentials_of_a_module_without_forward_still_run_in_order(tmp_path):
    """A container module with no forward (its owner calls `enc.body(x)`): the
    Sequential it holds runs its layers in order all the same."""
    from helpers import lint_code

    code = (
        "from torch import nn\n\n"
        "class Encoder(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.body = nn.Sequential(nn.Conv2d(3, 32, 3), nn.BatchNorm2d(32), nn.ReLU())\n"
        "        self.head = nn.Sequential(nn.Conv2d(32, 8, 1, bias=False), nn.BatchNorm2d(8))\n"
    )
    assert [(f.code, f.line) for f in lint_code(tmp_path, code, ["HPL002"])] == [("HPL002", 6)]


def test_a_recursive_init_helper_does_not_spend_the_files_analysis(tmp_path):
    # PyG torch_geometric/nn/inits.py: `glorot(value)` calls itself over the
    # parameters and the buffers, on both branches of an unknown `isinstance`.
    # Called for 30 layers it used to spend the file's whole statement budget:
    # every model rule then crashed (HPL000 "internal error ... Budget") and the
    # biased Linear feeding BatchNorm below went unreported.
    layers = "\n".join(f"        self.lin{i} = nn.Linear(4, 4)" for i in range(30))
    resets = "\n".join(f"        glorot(self.lin{i}.weight)" for i in range(30))
    code = f"""
import torch.nn as nn
from torch import Tensor


def glorot(value):
    if isinstance(value, Tensor):
        value.data.uniform_(-1, 1)
    else:
        for v in value.parameters() if hasattr(value, "parameters") else []:
            glorot(v)
        for v in value.buffers() if hasattr(value, "buffers") else []:
            glorot(v)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
{layers}
        self.reset_parameters()

    def reset_parameters(self):
{resets}


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 8)  # <- HPL002
        self.bn = nn.BatchNorm1d(8)

    def forward(self, x):
        return self.bn(self.fc(x))
"""
    findings = lint_code(tmp_path, code)
    assert [(f.code, f.line) for f in findings] == [("HPL002", expected_lines(code, "HPL002")[0])]


def test_a_spent_statement_budget_leaves_models_unknown_without_crashing(tmp_path, monkeypatch):
    # Rules also ask for class models after the file's analysis; once the budget
    # is spent those questions answer "unknown", never an internal error.
    from hplint.analysis.model import interpreter

    monkeypatch.setattr(interpreter, "_STATEMENT_BUDGET", -10**6)
    code = """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 8)
        self.bn = nn.BatchNorm1d(8)
        self.rnn = nn.LSTM(8, 8)

    def forward(self, x):
        return self.bn(self.fc(x))

model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
with torch.no_grad():
    model(x)
"""
    (notice,) = [f for f in lint_code(tmp_path, code) if f.code == "HPL000"]
    assert notice.severity.name == "WARNING" and "internal error" not in notice.message
    assert notice.message.startswith("hplint stopped analysing this file's models here: it ran past its budget")


def _fan_out(levels: int, calls: int) -> str:
    """Generated helpers, each calling the next `calls` times: `calls ** levels`
    statements to interpret, then a BatchNorm model the analysis never reaches."""
    lines = ["import torch.nn as nn", ""]
    for i in range(levels):
        lines += [f"def f{i}(m):"] + [f"    f{i + 1}(m)"] * calls + [""]
    lines += [f"def f{levels}(m):", "    return m", "", "f0(nn.Linear(2, 2))",
              "model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))"]
    return "\n".join(lines) + "\n"


def test_a_spent_statement_budget_is_reported_where_the_analysis_stopped(tmp_path, capsys):
    from hplint.cli import main

    code = _fan_out(8, 10)
    (notice,) = lint_code(tmp_path, code)
    assert notice.code == "HPL000" and notice.severity.name == "WARNING"
    assert "(HPL001, HPL002, HPL005, HPL008, HPL009) may be missing" in notice.message
    stopped = code.splitlines()[notice.line - 1]
    assert stopped.startswith("    f") and notice.col == 5
    # The run does not look clean, and a comment cannot hide it.
    (tmp_path / "gen.py").write_text(code.replace("    f8(m)\n", "    f8(m)  # noqa: HPL000\n"))
    assert main(["check", "--no-cache", str(tmp_path / "gen.py")]) == 1
    out = capsys.readouterr().out
    assert "All checks passed" not in out and "stopped analysing" in out


def test_a_file_within_its_budget_gets_no_notice(tmp_path):
    code = _fan_out(3, 10)  # a thousand statements
    assert [f.code for f in lint_code(tmp_path, code)] == ["HPL002"]


# PyG basic_gnn.py / jumping_knowledge.py: the LSTM exists only for `jk="lstm"`;
# `GraphSAGE(4, 8)` leaves jk None, so the model trained here holds no RNN.
_JUMPING_KNOWLEDGE = """
from typing import Optional
import torch
from torch.nn import LSTM, Linear


class JumpingKnowledge(torch.nn.Module):
    def __init__(self, mode: str, channels: Optional[int] = None):
        super().__init__()
        if mode == "lstm":
            self.lstm = LSTM(channels, channels)
        else:
            self.lstm = None


class GraphSAGE(torch.nn.Module):
    def __init__(self, in_channels: int, hidden: int, jk: Optional[str] = None):
        super().__init__()
        self.lin = Linear(in_channels, hidden)
        if jk is not None and jk != "last":
            self.jk = JumpingKnowledge(jk, hidden)

    def forward(self, x):
        x = self.lin(x)
        return self.jk(x) if hasattr(self, "jk") else x
"""
_TRAIN_SAGE = """
import torch
from gnn import GraphSAGE
model = GraphSAGE(4, 8{jk})
opt = torch.optim.Adam(model.parameters())
for x in data:
    opt.zero_grad()
    model(x).sum().backward()
    opt.step()
"""


@pytest.mark.parametrize("jk, flagged", [("", False), (", jk='cat'", False), (", jk='lstm'", True)])
def test_a_layer_built_only_for_some_constructor_arguments(tmp_path, jk, flagged):
    from helpers import lint_files

    files = {"gnn.py": _JUMPING_KNOWLEDGE, "train.py": _TRAIN_SAGE.format(jk=jk)}
    findings = lint_files(tmp_path, files, "train.py", ["HPL005"])
    assert len(findings) == int(flagged), findings


def test_a_comparison_on_a_defaulted_parameter_keeps_both_branches(tmp_path):
    # lightning-bolts swav_resnet.py: `elif hidden_mlp == 0:` with hidden_mlp=0 by
    # default, built by `resnet50(**kwargs)` factories whose callers pass 2048.
    code = """
        import torch.nn as nn

        class ResNet(nn.Module):
            def __init__(self, output_dim=0, hidden_mlp=0):
                super().__init__()
                if output_dim == 0:
                    self.projection_head = None
                elif hidden_mlp == 0:
                    self.projection_head = nn.Linear(2048, output_dim)
                else:
                    self.projection_head = nn.Sequential(
                        nn.Linear(2048, hidden_mlp),  # <- HPL002
                        nn.BatchNorm1d(hidden_mlp),
                        nn.ReLU(inplace=True),
                        nn.Linear(hidden_mlp, output_dim),
                    )

            def forward(self, x):
                return self.projection_head(x)

        def resnet50(**kwargs):
            return ResNet(**kwargs)
    """
    findings = lint_code(tmp_path, code, ["HPL002"])
    assert lines_of(findings, "HPL002") == expected_lines(code, "HPL002")


# opacus layers/dp_rnn.py: the base builds `nn.Dropout(dropout) if dropout > 0
# else None`; DPLSTM hands it `dropout` through `super().__init__(...)`.
_DP_RNN = """
import torch
import torch.nn as nn


class RNNBase(nn.Module):
    def __init__(self, input_size, hidden_size, dropout=0.0):
        super().__init__()
        self.cell = nn.Linear(input_size, hidden_size)
        self.dropout_layer = nn.Dropout(dropout) if dropout > 0 else None

    def forward(self, x):
        x = self.cell(x)
        return self.dropout_layer(x) if self.dropout_layer is not None else x


class LSTMLike(RNNBase):
    def __init__(self, input_size, hidden_size, dropout=0.0):
        super().__init__(input_size, hidden_size, dropout=dropout)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = LSTMLike(8, 8{dropout})

    def forward(self, x):
        return self.rnn(x)


def test(model, loader):
    with torch.no_grad():
        return [model(x) for x in loader]


model = Classifier()
opt = torch.optim.SGD(model.parameters(), lr=0.5)
for x in loader:
    opt.zero_grad()
    model(x).sum().backward()
    opt.step()
test(model, loader)
"""


@pytest.mark.parametrize("dropout, flagged", [("", False), (", dropout=0.0", False), (", dropout=0.3", True)])
def test_a_base_class_gets_what_super_init_passes(tmp_path, dropout, flagged):
    findings = lint_code(tmp_path, _DP_RNN.format(dropout=dropout), ["HPL008"])
    assert len(findings) == int(flagged), findings


# Auto-PyTorch's MLPEncoder: a framework component (no nn.Module) inherits the
# builder of another file's base class, which calls the subclass's `_add_layer`.
_BASE_BACKBONE = """
from torch import nn

class MLPBackbone(BackboneComponent):
    def _build_backbone(self, in_features):
        layers = list()
        self._add_layer(layers, in_features, self.config["num_units_1"], 1)
        return layers

    def _add_layer(self, layers, in_features, out_features, layer_id):
        layers.append(nn.Linear(in_features, out_features, bias=False))
"""
_ENCODER = """
from torch import nn
from backbone import MLPBackbone

class MLPEncoder(MLPBackbone):
    def build_encoder(self, input_shape):
        return nn.Sequential(*self._build_backbone(input_shape[-1] * self.window_size))

    def _add_layer(self, layers, in_features, out_features, layer_id):
        layers.append(nn.Linear(in_features, out_features))
        if self.config["normalization"] == "BN":
            layers.append(NORM(out_features))
"""


def test_builder_inherited_from_another_files_base_runs_the_subclass_helper(tmp_path):
    files = {"backbone.py": _BASE_BACKBONE, "encoder.py": _ENCODER.replace("NORM", "nn.BatchNorm1d")}
    [found] = lint_files(tmp_path, files, "encoder.py", select=["HPL002"])
    assert found.line == 9


def test_builder_inherited_from_another_files_base_without_batchnorm_is_quiet(tmp_path):
    files = {"backbone.py": _BASE_BACKBONE, "encoder.py": _ENCODER.replace("NORM", "nn.LayerNorm")}
    assert lint_files(tmp_path, files, "encoder.py", select=["HPL002"]) == []


# bragajj/DCGAN-Anime-Faces: the generator's blocks come from a static method
# called through the class, and samples are drawn under no_grad in train mode.
STATIC_BLOCKS = """
    import torch
    import torch.nn as nn

    class Generator(nn.Module):
        def __init__(self, z_dim=64, feats=32):
            super().__init__()
            self.body = nn.Sequential(
                CALL(z_dim, feats * 2),
                nn.ConvTranspose2d(feats * 2, 3, 4, 2, 1, bias=False),
                nn.Tanh(),
            )

        DECORATOR
        def _block(c_in, c_out):
            return nn.Sequential(
                nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(True),
            )

        def forward(self, z):
            return self.body(z)

    def sample(gen, noise):
        with torch.no_grad():
            return gen(noise)  # <- HPL008

    gen = Generator()
    gen.train()
    sample(gen, torch.randn(8, 64, 1, 1))
    """


@pytest.mark.parametrize("call, mode, flagged", [
    ("Generator._block", "gen.train()", True),
    ("self._block", "gen.train()", True),
    ("Generator._block", "gen.eval()", False),
])
def test_blocks_from_a_static_method_called_through_the_class(tmp_path, call, mode, flagged):
    code = STATIC_BLOCKS.replace("CALL", call).replace("DECORATOR", "@staticmethod").replace("gen.train()", mode)
    findings = lint_code(tmp_path, code, ["HPL008"])
    assert lines_of(findings, "HPL008") == (expected_lines(code, "HPL008") if flagged else [])
    if flagged:
        assert "holds BatchNorm2d" in findings[0].message


def test_a_biased_layer_in_a_static_block_is_reported_once(tmp_path):
    code = STATIC_BLOCKS.replace("CALL", "Generator._block").replace("DECORATOR", "@staticmethod") \
        .replace("nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)", "nn.ConvTranspose2d(c_in, c_out, 4, 2, 1)")
    findings = lint_code(tmp_path, code, ["HPL002"])
    assert lines_of(findings, "HPL002") == [16]  # the ConvTranspose2d of `_block`, once
