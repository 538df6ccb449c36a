"""HPL002 bias-before-batchnorm."""

import libcst
import pytest

from helpers import apply_edits, dedent, expected_lines, lines_of, lint_code, lint_files

DENSENET = """
    import torch
    import torch.nn as nn

    def conv_block(input_channels, num_channels):
        layers = []
        layers.append(nn.BatchNorm2d(input_channels))
        layers.append(nn.ReLU())
        layers.append(nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1))  # <- HPL002
        return nn.Sequential(*layers)

    class DenseBlock(nn.Module):
        def __init__(self, num_convs, input_channels, num_channels):
            super().__init__()
            self.net = nn.Sequential(*[conv_block(num_channels * i + input_channels, num_channels)
                                       for i in range(num_convs)])

        def forward(self, X):
            for blk in self.net:
                Y = blk(X)
                X = torch.cat((X, Y), dim=1)
            return X

    layers = [DenseBlock(4, 64, 32), nn.BatchNorm2d(192), nn.ReLU()]
    net = nn.Sequential(*layers)
"""

POSITIVE = {
    # lucidrains/lightweight-gan picks its norm layer once, at module level.
    "norm_class_aliased_at_module_level": """
        import torch.nn as nn
        norm_class = nn.BatchNorm2d
        class Up(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.block = nn.Sequential(nn.ConvTranspose2d(c, c * 2, 4), norm_class(c * 2), nn.GLU(dim=1))  # <- HPL002
            def forward(self, x):
                return self.block(x)
    """,
    "sequential_linear": """
        import torch.nn as nn
        model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))  # <- HPL002
    """,
    "conv_in_init_forward_nested": """
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(64, 128, 3, padding=1)  # <- HPL002
                self.bn = nn.BatchNorm2d(128)
            def forward(self, x):
                return self.bn(self.conv(x)).relu()
    """,
    # A module whose base is a subscripted generic of a module class (flair's `Model[DT]`).
    "module_with_a_generic_base": """
        import typing
        import torch.nn as nn
        T = typing.TypeVar("T")
        class Base(nn.Module, typing.Generic[T]):
            pass
        class Block(Base[T]):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(64, 128)  # <- HPL002
                self.bn = nn.BatchNorm1d(128)
            def forward(self, x):
                return self.bn(self.fc(x))
    """,
    # deit models_v2.py hMLP_stem: the norm layer is a parameter whose default is BatchNorm.
    "norm_layer_parameter_defaulting_to_batchnorm": """
        import torch.nn as nn
        class Stem(nn.Module):
            def __init__(self, in_chans=3, dim=64, norm_layer=nn.SyncBatchNorm):
                super().__init__()
                self.proj = nn.Sequential(
                    nn.Conv2d(in_chans, dim, kernel_size=4, stride=4),  # <- HPL002
                    norm_layer(dim),
                    nn.GELU(),
                )
            def forward(self, x):
                return self.proj(x)
    """,
    "explicit_bias_true_positional": """
        from torch.nn import Linear, BatchNorm1d, Sequential
        m = Sequential(
            Linear(4, 8, True),  # <- HPL002
            BatchNorm1d(8),
        )
    """,
    "through_flatten_and_view": """
        import torch
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = torch.nn.Conv1d(3, 8, 3)  # <- HPL002
                self.bn = torch.nn.BatchNorm1d(8 * 30)
            def forward(self, x):
                x = self.conv(x)
                x = x.view(x.size(0), -1)
                return self.bn(x)
    """,
    "conv_transpose_and_lazy": """
        from torch import nn
        up = nn.Sequential(nn.ConvTranspose2d(16, 8, 2, stride=2), nn.BatchNorm2d(8))  # <- HPL002
        lazy = nn.Sequential(nn.LazyLinear(8), nn.BatchNorm1d(8))  # <- HPL002
    """,
    "loop_built_blocks": """
        import torch.nn as nn
        layers = []
        for width in (32, 64):
            layers += [nn.Conv2d(3, width, 3), nn.BatchNorm2d(width), nn.ReLU()]  # <- HPL002
        features = nn.Sequential(*layers)
    """,
    "resnet_style_make_layer": """
        import torch.nn as nn
        class ResNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.layer1 = self._make_layer(64)
            def _make_layer(self, planes):
                return nn.Sequential(nn.Conv2d(planes, planes, 3), nn.BatchNorm2d(planes))  # <- HPL002
            def forward(self, x):
                return self.layer1(x)
    """,
    "bias_from_constant": """
        import torch.nn as nn
        USE_BIAS = True
        model = nn.Sequential(nn.Linear(4, 8, bias=USE_BIAS), nn.BatchNorm1d(8))  # <- HPL002
    """,
    # The branches of an `if` inside a loop can both run in one model.
    "branches_inside_a_loop_both_build": """
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self, flags):
                super().__init__()
                self.layers = nn.ModuleList()
                for flag in flags:
                    if flag:
                        self.layers.append(nn.BatchNorm1d(8))
                    else:
                        self.layers.append(nn.Linear(8, 8))  # <- HPL002
            def forward(self, x):
                for layer in self.layers:
                    x = layer(x)
                return x
    """,
    # A gate elsewhere (Dice) does not hide a BatchNorm that really follows the layer.
    "bn_before_a_gating_activation": """
        import torch.nn as nn
        class Dice(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.bn = nn.BatchNorm1d(n)
            def forward(self, x):
                return self.bn(x).sigmoid() * x
        class Net(nn.Module):
            def __init__(self, use_bn):
                super().__init__()
                self.use_bn = use_bn
                self.fc = nn.Linear(16, 32)  # <- HPL002
                self.bn = nn.BatchNorm1d(32)
                self.act = Dice(32)
            def forward(self, x):
                x = self.fc(x)
                if self.use_bn:
                    x = self.bn(x)
                return self.act(x)
    """,
    # pytorch-cifar100 nasnet.py: a block's plain `return x` feeds its caller's BatchNorm.
    "block_output_returned_into_the_callers_bn": """
        import torch.nn as nn
        class SeparableConv2d(nn.Module):
            def __init__(self, c_in, c_out, k):
                super().__init__()
                self.depthwise = nn.Conv2d(c_in, c_in, k, groups=c_in)
                self.pointwise = nn.Conv2d(c_in, c_out, 1)  # <- HPL002
            def forward(self, x):
                x = self.depthwise(x)
                x = self.pointwise(x)
                return x
        class Branch(nn.Module):
            def __init__(self, c_in, c_out):
                super().__init__()
                self.block = nn.Sequential(nn.ReLU(), SeparableConv2d(c_in, c_out, 3), nn.BatchNorm2d(c_out))
            def forward(self, x):
                return self.block(x)
    """,
    # pytorch-cifar100 shufflenet.py: a wrapper hands **kwargs to Conv2d and
    # the model's call sites pass no `bias`.
    "conv_kwargs_without_bias_from_the_call_sites": """
        import torch.nn as nn
        class BasicConv2d(nn.Module):
            def __init__(self, cin, cout, kernel_size, **kwargs):
                super().__init__()
                self.conv = nn.Conv2d(cin, cout, kernel_size, **kwargs)  # <- HPL002
                self.bn = nn.BatchNorm2d(cout)
            def forward(self, x):
                return self.bn(self.conv(x))
        class Stem(nn.Module):
            def __init__(self, cin, cout, **kwargs):
                super().__init__()
                self.conv = BasicConv2d(cin, cout, 3, **kwargs)
            def forward(self, x):
                return self.conv(x)
        class ShuffleNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = Stem(3, 24, padding=1, stride=1)
            def forward(self, x):
                return self.conv1(x)
    """,
    # d2l-pytorch DenseNet: each conv block's output is concatenated into the
    # next block's BatchNorm, the transition's and the final one: one finding.
    "densenet_concat_into_several_batchnorms": DENSENET,
    # pytorch-cifar100 nasnet.py Fit: the channel concatenation is assigned first.
    "concat_assigned_before_the_bn": """
        import torch
        import torch.nn as nn
        class Fit(nn.Module):
            def __init__(self, c_in, c_out):
                super().__init__()
                self.p1 = nn.Sequential(nn.AvgPool2d(1, stride=2), nn.Conv2d(c_in, c_out // 2, 1))  # <- HPL002
                self.p2 = nn.Sequential(nn.AvgPool2d(1, stride=2), nn.Conv2d(c_in, c_out // 2, 1))  # <- HPL002
                self.bn = nn.BatchNorm2d(c_out)
            def forward(self, x):
                x = torch.cat([self.p1(x), self.p2(x)], 1)
                return self.bn(x)
    """,
    # pytorch-cifar100 vgg.py: BatchNorm appended under `if batch_norm:` in the
    # builder's loop; only the factories pass batch_norm=True.
    "factory_passes_the_bn_flag_to_a_builder": """
        import torch.nn as nn
        CFG = {"A": [64, "M", 128]}
        class VGG(nn.Module):
            def __init__(self, features):
                super().__init__()
                self.features = features
            def forward(self, x):
                return self.features(x)
        def make_layers(cfg, batch_norm=False):
            layers = []
            c_in = 3
            for v in cfg:
                if v == "M":
                    layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
                    continue
                layers += [nn.Conv2d(c_in, v, kernel_size=3, padding=1)]  # <- HPL002
                if batch_norm:
                    layers += [nn.BatchNorm2d(v)]
                layers += [nn.ReLU(inplace=True)]
                c_in = v
            return nn.Sequential(*layers)
        def vgg11_bn():
            return VGG(make_layers(CFG["A"], batch_norm=True))
    """,
    # A model class instantiated by a script with arguments runs with them.
    "script_builds_the_model_with_a_flag": """
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self, use_bn=False):
                super().__init__()
                self.fc = nn.Linear(8, 8)  # <- HPL002
                self.norm = nn.BatchNorm1d(8) if use_bn else nn.Identity()
            def forward(self, x):
                return self.norm(self.fc(x))
        def main():
            model = Net(use_bn=True)
            return model
    """,
    # A library class nobody here builds: its default is what users get.
    "bias_default_with_no_call_site": """
        import torch.nn as nn
        class DepthWiseConv2d(nn.Module):
            def __init__(self, dim_in, kernel_size, bias=True):
                super().__init__()
                self.conv = nn.Conv2d(dim_in, dim_in, kernel_size, groups=dim_in, bias=bias)  # <- HPL002
                self.bn = nn.BatchNorm2d(dim_in)
            def forward(self, x):
                return self.bn(self.conv(x))
    """,
    # One call site keeps the default bias: it is live there.
    "bias_default_kept_by_one_call_site": """
        import torch.nn as nn
        class DepthWiseConv2d(nn.Module):
            def __init__(self, dim_in, kernel_size, bias=True):
                super().__init__()
                self.conv = nn.Conv2d(dim_in, dim_in, kernel_size, groups=dim_in, bias=bias)  # <- HPL002
                self.bn = nn.BatchNorm2d(dim_in)
            def forward(self, x):
                return self.bn(self.conv(x))
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = DepthWiseConv2d(8, 3, bias=False)
                self.b = DepthWiseConv2d(8, 3)
            def forward(self, x):
                return self.b(self.a(x))
    """,
    "biased_layer_outside_the_bn_branch": """
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self, use_bn):
                super().__init__()
                self.fc = nn.Linear(8, 8)  # <- HPL002
                if use_bn:
                    self.bn = nn.BatchNorm1d(8)
                else:
                    self.bn = nn.Identity()
            def forward(self, x):
                return self.bn(self.fc(x))
    """,
}

# torchdistill's ConvReg: an nn.Sequential subclass handed an OrderedDict that
# its constructor fills item by item.
POSITIVE["ordered_dict_filled_by_item"] = """
    from collections import OrderedDict
    import torch.nn as nn

    class ConvReg(nn.Sequential):
        def __init__(self, cin, cout, uses_relu=True):
            module_dict = OrderedDict()
            module_dict['conv'] = nn.Conv2d(cin, cout, kernel_size=3, padding=1)  # <- HPL002
            module_dict['bn'] = nn.BatchNorm2d(cout)
            if uses_relu:
                module_dict['relu'] = nn.ReLU(inplace=True)
            super().__init__(module_dict)
"""
POSITIVE["dict_filled_by_item_for_a_sequential"] = """
    import collections
    import torch.nn as nn

    def block(cin, cout):
        layers = collections.OrderedDict()
        layers["fc"] = nn.Linear(cin, cout)  # <- HPL002
        layers["bn"] = nn.BatchNorm1d(cout)
        return nn.Sequential(layers)

    net = block(4, 8)
"""

NEGATIVE = {
    # A module-level alias of a norm that cancels nothing, or bound twice.
    "norm_class_aliased_to_groupnorm_or_rebound": """
        import torch.nn as nn
        norm_a = nn.GroupNorm
        norm_b = nn.BatchNorm2d
        norm_b = nn.InstanceNorm2d
        class Up(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.a = nn.Sequential(nn.Conv2d(c, c, 3), norm_a(4, c))
                self.b = nn.Sequential(nn.Conv2d(c, c, 3), norm_b(c))
            def forward(self, x):
                return self.b(self.a(x))
    """,
    # Item assignment on a list replaces an item; it does not append one after the conv.
    "list_item_replaced_by_a_norm": """
        import torch.nn as nn
        layers = [nn.Conv2d(3, 8, 3)]
        layers[0] = nn.BatchNorm2d(3)
        net = nn.Sequential(*layers)
    """,
    # The same filled in the other order: the BatchNorm comes first.
    "ordered_dict_filled_norm_first": """
        from collections import OrderedDict
        import torch.nn as nn

        class NormConv(nn.Sequential):
            def __init__(self, cin, cout):
                module_dict = OrderedDict()
                module_dict['bn'] = nn.BatchNorm2d(cin)
                module_dict['conv'] = nn.Conv2d(cin, cout, kernel_size=3, padding=1)
                super().__init__(module_dict)
    """,
    "norm_layer_parameter_defaulting_to_layernorm": """
        import torch.nn as nn
        class Stem(nn.Module):
            def __init__(self, in_chans=3, dim=64, norm_layer=nn.LayerNorm):
                super().__init__()
                self.proj = nn.Sequential(nn.Conv2d(in_chans, dim, kernel_size=4, stride=4), norm_layer(dim))
            def forward(self, x):
                return self.proj(x)
    """,
    "bias_false_keyword": """
        import torch.nn as nn
        model = nn.Sequential(nn.Linear(4, 8, bias=False), nn.BatchNorm1d(8))
    """,
    "bias_false_positional_conv": """
        import torch.nn as nn
        model = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, 1, 1, False), nn.BatchNorm2d(8))
    """,
    "activation_between": """
        import torch.nn as nn
        model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.BatchNorm2d(8))
    """,
    "groupnorm_layernorm": """
        import torch.nn as nn
        a = nn.Sequential(nn.Conv2d(3, 8, 3), nn.GroupNorm(2, 8))
        b = nn.Sequential(nn.Linear(3, 8), nn.LayerNorm(8))
    """,
    "bias_not_use_bn_idiom": """
        import torch.nn as nn
        def block(c_in, c_out, use_bn):
            layers = [nn.Conv2d(c_in, c_out, 3, bias=not use_bn)]
            if use_bn:
                layers.append(nn.BatchNorm2d(c_out))
            return nn.Sequential(*layers)
    """,
    "bias_from_argument_in_forward": """
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self, bias):
                super().__init__()
                self.fc = nn.Linear(4, 8, bias=bias)
                self.bn = nn.BatchNorm1d(8)
            def forward(self, x):
                return self.bn(self.fc(x))
    """,
    "forward_uses_other_path": """
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 8)
                self.bn = nn.BatchNorm1d(4)
            def forward(self, x):
                return self.fc(self.bn(x))
    """,
    # udacity deep-learning-v2-pytorch batch-norm/Batch_Normalization.ipynb: the
    # biased Linear is built only on the branch that builds no BatchNorm.
    "biased_layer_only_on_the_branch_without_bn": """
        import torch.nn as nn
        import torch.nn.functional as F
        class NeuralNet(nn.Module):
            def __init__(self, use_batch_norm, input_size=784, hidden_dim=256):
                super().__init__()
                self.use_batch_norm = use_batch_norm
                if use_batch_norm:
                    self.fc1 = nn.Linear(input_size, hidden_dim, bias=False)
                    self.batch_norm1 = nn.BatchNorm1d(hidden_dim)
                else:
                    self.fc1 = nn.Linear(input_size, hidden_dim)
                self.fc3 = nn.Linear(hidden_dim, 10)
            def forward(self, x):
                x = self.fc1(x)
                if self.use_batch_norm:
                    x = self.batch_norm1(x)
                return self.fc3(F.relu(x))
    """,
    # DeepCTR-Torch layers/activation.py Dice: BatchNorm only gates the raw
    # input, which stays in the output with its bias.
    "bn_used_as_a_gate_keeps_the_raw_input": """
        import torch.nn as nn
        class Dice(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.bn = nn.BatchNorm1d(n)
                self.sigmoid = nn.Sigmoid()
            def forward(self, x):
                p = self.sigmoid(self.bn(x))
                return p * x
        class DNN(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(16, 32)
                self.act = Dice(32)
            def forward(self, x):
                return self.act(self.fc(x))
    """,
    # PyTorch-GAN ebgan.py: the Linear's output is also returned (and used in a loss).
    "raw_output_also_returned": """
        import torch.nn as nn
        class Discriminator(nn.Module):
            def __init__(self, d=1024):
                super().__init__()
                self.embedding = nn.Linear(d, 32)
                self.fc = nn.Sequential(nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, d))
            def forward(self, x):
                emb = self.embedding(x)
                out = self.fc(emb)
                return out, emb
    """,
    "conv_kwargs_that_set_bias_false_or_are_unknown": """
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, cin, cout, **kwargs):
                super().__init__()
                self.conv = nn.Conv2d(cin, cout, 3, **kwargs)
                self.bn = nn.BatchNorm2d(cout)
            def forward(self, x):
                return self.bn(self.conv(x))
        class Wrapper(nn.Module):
            def __init__(self, **kwargs):
                super().__init__()
                self.block = Block(8, 8, **kwargs)
            def forward(self, x):
                return self.block(x)
        class Net(nn.Module):
            def __init__(self, opts):
                super().__init__()
                self.a = Block(3, 8, bias=False, padding=1)
                self.b = Wrapper(bias=False)
                self.c = Block(8, 8, **opts)
            def forward(self, x):
                return self.c(self.b(self.a(x)))
    """,
    "factory_without_the_bn_flag": """
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self, use_bn=False):
                super().__init__()
                self.fc = nn.Linear(8, 8)
                self.norm = nn.BatchNorm1d(8) if use_bn else nn.Identity()
            def forward(self, x):
                return self.norm(self.fc(x))
        def main():
            return Net(use_bn=False)
    """,
    # lucidrains/vit-pytorch cvt.py: `bias = True` is the wrapper's default, but
    # every call site builds it with bias=False.
    "bias_default_that_every_call_site_overrides": """
        import torch.nn as nn
        class DepthWiseConv2d(nn.Module):
            def __init__(self, dim_in, dim_out, kernel_size, bias=True):
                super().__init__()
                self.net = nn.Sequential(
                    nn.Conv2d(dim_in, dim_in, kernel_size, groups=dim_in, bias=bias),
                    nn.BatchNorm2d(dim_in),
                    nn.Conv2d(dim_in, dim_out, kernel_size=1, bias=bias),
                )
            def forward(self, x):
                return self.net(x)
        class Attention(nn.Module):
            def __init__(self, dim):
                super().__init__()
                self.to_q = DepthWiseConv2d(dim, dim, 3, bias=False)
                self.to_kv = DepthWiseConv2d(dim, dim * 2, 3, bias=False)
            def forward(self, x):
                return self.to_q(x), self.to_kv(x)
    """,
    "else_branch_builds_the_biased_block": """
        import torch.nn as nn
        def block(c_in, c_out, norm):
            if norm:
                layers = [nn.Conv2d(c_in, c_out, 3, bias=False), nn.BatchNorm2d(c_out)]
            else:
                layers = [nn.Conv2d(c_in, c_out, 3)]
            return nn.Sequential(*layers, nn.ReLU())
        def make(cfg):
            return block(3, 8, norm=cfg.norm)
    """,
    "functional_linear_is_not_tracked": """
        import torch.nn.functional as F
        import torch.nn as nn
        bn = nn.BatchNorm1d(8)
        def f(x, w, b):
            return bn(F.linear(x, w, b))
    """,
}


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_flags(tmp_path, name):
    code = POSITIVE[name]
    findings = lint_code(tmp_path, code, select=["HPL002"])
    assert lines_of(findings, "HPL002") == expected_lines(code, "HPL002"), findings


def test_one_finding_per_layer_with_every_batchnorm_related(tmp_path):
    [finding] = lint_code(tmp_path, DENSENET, select=["HPL002"])
    assert "and 1 more BatchNorm)" in finding.message
    assert [r.span.start_line for r in finding.related] == [6, 23]  # the next block's and the final one


@pytest.mark.parametrize("name", sorted(NEGATIVE))
def test_clean(tmp_path, name):
    assert lint_code(tmp_path, NEGATIVE[name], select=["HPL002"]) == []


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_fix_sets_bias_false_and_is_idempotent(tmp_path, name):
    code = dedent(POSITIVE[name])
    findings = lint_code(tmp_path, code, select=["HPL002"])
    fixed = code
    for finding in findings:
        # After `**kwargs` a caller elsewhere could pass `bias` too: unsafe.
        expected = "unsafe" if "**kwargs" in finding.fix.edits[0].new_text else "safe"
        assert finding.fix is not None and finding.fix.safety.value == expected
    fixed = apply_edits(code, [e for f in findings for e in f.fix.edits])
    libcst.parse_module(fixed)  # still parses
    assert "bias=False" in fixed or ", False)" in fixed or "bias=not " in fixed
    assert lint_code(tmp_path, fixed, select=["HPL002"]) == []
    # comments on the flagged lines survive
    assert fixed.count("# <- HPL002") == code.count("# <- HPL002")


def test_fix_keeps_the_bias_where_a_flag_leaves_out_the_batchnorm(tmp_path):
    """`if batch_norm: layers += [BatchNorm2d]` after the conv: bias=False would
    change the model built without BatchNorm; `bias=not batch_norm` does not."""
    (vgg,) = lint_code(tmp_path, POSITIVE["factory_passes_the_bn_flag_to_a_builder"], select=["HPL002"])
    assert vgg.fix.description == "Set bias=not batch_norm"
    assert vgg.fix.edits[0].new_text == "nn.Conv2d(c_in, v, kernel_size=3, padding=1, bias=not batch_norm)"
    (script,) = lint_code(tmp_path, POSITIVE["script_builds_the_model_with_a_flag"], select=["HPL002"])
    assert script.fix.description == "Set bias=not use_bn"  # `BatchNorm1d(8) if use_bn else nn.Identity()`
    (plain,) = lint_code(tmp_path, POSITIVE["bias_from_constant"], select=["HPL002"])
    assert plain.fix.description == "Set bias=False"


OPTIONAL_BN_BLOCK = """
    import torch.nn as nn
    class Block(nn.Module):
        def __init__(self, n_in, n_out, norm="bn", batch_norm=True):
            super().__init__()
            self.fc = nn.Linear(n_in, n_out)  # <- HPL002
            self.bn = nn.BatchNorm1d(n_out) if {test} else None
        def forward(self, x):
            x = self.fc(x)
            if self.bn is not None:
                x = self.bn(x)
            return x
"""


@pytest.mark.parametrize("test, description, safety", [
    # RichardStaszkiewicz/CNN-Hyperparameter-Tuning's SLPBlock, whose search toggles the BatchNorm
    ("batch_norm is True", "Set bias=not batch_norm", "safe"),
    ("batch_norm == True", "Set bias=not batch_norm", "safe"),
    ("not batch_norm is False", "Set bias=not batch_norm", "safe"),
    ("batch_norm is False", "Set bias=batch_norm", "safe"),
    # a test no `bias=` can spell: the model built without the BatchNorm would lose its bias
    ('norm == "bn"', "Set bias=False", "unsafe"),
])
def test_fix_follows_the_test_that_builds_an_optional_batchnorm(tmp_path, test, description, safety):
    # built on its own, a comparison on a defaulted parameter is unknown: both branches
    [finding] = lint_code(tmp_path, OPTIONAL_BN_BLOCK.replace("{test}", test), select=["HPL002"])
    assert (finding.fix.description, finding.fix.safety.value) == (description, safety)


def test_fix_is_unsafe_where_the_file_initialises_a_bias(tmp_path):
    # pytorch_geometric_temporal tsagcn.py: `nn.init.constant_(conv.bias, 0)`
    # raises once the conv is built with bias=False.
    code = """
        import torch.nn as nn
        class UnitTCN(nn.Module):
            def __init__(self, cin, cout):
                super().__init__()
                self.conv = nn.Conv2d(cin, cout, kernel_size=(9, 1), padding=(4, 0))  # <- HPL002
                self.bn = nn.BatchNorm2d(cout)
                nn.init.constant_(self.conv.bias, 0)
            def forward(self, x):
                return self.bn(self.conv(x))
    """
    [finding] = lint_code(tmp_path, code, select=["HPL002"])
    assert finding.fix is not None and finding.fix.safety.value == "unsafe"
    [safe] = lint_code(tmp_path, code.replace("nn.init.constant_(self.conv.bias, 0)", "pass"), select=["HPL002"])
    assert safe.fix.safety.value == "safe"


def test_fix_replaces_existing_positional_bias(tmp_path):
    code = POSITIVE["explicit_bias_true_positional"]
    [finding] = lint_code(tmp_path, code, select=["HPL002"])
    fixed = apply_edits(dedent(code), finding.fix.edits)
    assert "Linear(4, 8, False)" in fixed


def test_helper_from_other_file_reported_at_call(tmp_path):
    files = {
        "layers.py": """
            import torch.nn as nn
            def conv(c_in, c_out):
                return nn.Conv2d(c_in, c_out, 3)
        """,
        "net.py": """
            import torch.nn as nn
            from layers import conv
            features = nn.Sequential(conv(3, 8), nn.BatchNorm2d(8))  # <- HPL002
        """,
    }
    findings = lint_files(tmp_path, files, "net.py", select=["HPL002"])
    assert lines_of(findings, "HPL002") == [3]
    assert findings[0].fix is None  # the edit would belong to layers.py


def test_class_from_other_file_reported_at_each_call_site(tmp_path):
    # fairseq's tacotron2: ConvNorm (layers.py) wraps a Conv1d; the postnet builds
    # several ConvNorm + BatchNorm1d pairs. Each pair is reported at its own call.
    files = {
        "layers.py": """
            import torch.nn as nn
            class ConvNorm(nn.Module):
                def __init__(self, c_in, c_out):
                    super().__init__()
                    self.conv = nn.Conv1d(c_in, c_out, 5)
                def forward(self, x):
                    return self.conv(x)
        """,
        "model.py": """
            import torch.nn as nn
            from layers import ConvNorm
            class Postnet(nn.Module):
                def __init__(self, hp):
                    super().__init__()
                    self.convolutions = nn.ModuleList()
                    self.convolutions.append(
                        nn.Sequential(ConvNorm(hp.n_mel, hp.dim), nn.BatchNorm1d(hp.dim)))  # <- HPL002
                    self.convolutions.append(
                        nn.Sequential(ConvNorm(hp.dim, hp.n_mel), nn.BatchNorm1d(hp.n_mel)))  # <- HPL002
                def forward(self, x):
                    for conv in self.convolutions:
                        x = conv(x)
                    return x
        """,
    }
    findings = lint_files(tmp_path, files, "model.py", select=["HPL002"])
    assert lines_of(findings, "HPL002") == expected_lines(files["model.py"], "HPL002"), findings


# -- reshapes between a Linear and the BatchNorm --------------------------------
# A Linear's bias is one value per output feature. A view that spreads its
# F = C*s*s features over C channels of s*s positions leaves s*s bias values per
# channel; BatchNorm cancels only their mean, so the bias is not redundant.

RESHAPE_POSITIVE = {
    "view_to_n_c_1_1": """
        import torch.nn as nn
        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(512, 256)  # <- HPL002
                self.bn = nn.BatchNorm2d(256)
            def forward(self, x):
                x = self.fc(x)
                return self.bn(x.view(x.size(0), 256, 1, 1))
    """,
    "unsqueeze_twice_unknown_sizes": """
        from torch import nn
        class Stem(nn.Module):
            def __init__(self, nz, c):
                super().__init__()
                self.fc = nn.Linear(nz, c)  # <- HPL002
                self.bn = nn.BatchNorm2d(c)
            def forward(self, z):
                return self.bn(self.fc(z).unsqueeze(-1).unsqueeze(-1))
    """,
    "view_minus_one_features_then_bn1d": """
        import torch
        class Net(torch.nn.Module):
            def __init__(self, hidden):
                super().__init__()
                self.fc = torch.nn.Linear(64, hidden)  # <- HPL002
                self.bn = torch.nn.BatchNorm1d(hidden)
            def forward(self, x):
                h = self.fc(x).view(-1, self.hidden)
                return self.bn(h)
    """,
    "functional_reshape_module_constant": """
        import torch as T
        import torch.nn as tnn
        C = 128
        class Stem(tnn.Module):
            def __init__(self):
                super().__init__()
                self.fc = tnn.Linear(100, C)  # <- HPL002
                self.bn = tnn.BatchNorm2d(C)
            def forward(self, z):
                return self.bn(T.reshape(self.fc(z), (-1, C, 1, 1)))
    """,
    "conv_through_view_still_flagged": """
        import torch.nn as nn
        class Enc(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 16, 3)  # <- HPL002
                self.bn = nn.BatchNorm1d(16 * 30 * 30)
            def forward(self, x):
                return self.bn(self.conv(x).view(x.size(0), -1))
    """,
}

RESHAPE_POSITIVE["two_paths_one_finding"] = """
    import torch.nn as nn
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)  # <- HPL002
            self.bn = nn.BatchNorm1d(8 * 30 * 30)
        def forward(self, x, flat):
            y = self.conv(x)
            if flat:
                y = y.flatten(1)
            else:
                y = y.view(y.size(0), -1)
            return self.bn(y)
"""

RESHAPE_NEGATIVE = {
    "one_path_spreads_the_features": """
        import torch.nn as nn
        class G(nn.Module):
            def __init__(self, nz, c):
                super().__init__()
                self.fc = nn.Linear(nz, c * 4)
                self.bn = nn.BatchNorm2d(c)
            def forward(self, z, small):
                h = self.fc(z)
                if small:
                    h = h.unsqueeze(-1).unsqueeze(-1)
                else:
                    h = h.view(z.size(0), -1, 2, 2)
                return self.bn(h)
    """,
    "pytorch_gan_dcgan_generator_stem": """
        import argparse
        import torch.nn as nn
        parser = argparse.ArgumentParser()
        parser.add_argument("--img_size", type=int, default=32)
        parser.add_argument("--latent_dim", type=int, default=100)
        opt = parser.parse_args()
        class Generator(nn.Module):
            def __init__(self):
                super().__init__()
                self.init_size = opt.img_size // 4
                self.l1 = nn.Sequential(nn.Linear(opt.latent_dim, 128 * self.init_size ** 2))
                self.conv_blocks = nn.Sequential(nn.BatchNorm2d(128), nn.Upsample(scale_factor=2))
            def forward(self, z):
                out = self.l1(z)
                out = out.view(out.shape[0], 128, self.init_size, self.init_size)
                return self.conv_blocks(out)
    """,
    "literal_view_4x4": """
        from torch import nn
        class G(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(100, 128 * 4 * 4)
                self.bn = nn.BatchNorm2d(128)
            def forward(self, z):
                return self.bn(self.fc(z).view(-1, 128, 4, 4))
    """,
    "unknown_spatial_size": """
        import torch.nn as nn
        class G(nn.Module):
            def __init__(self, nz, c, s):
                super().__init__()
                self.s = s
                self.fc = nn.Linear(nz, c * s * s)
                self.bn = nn.BatchNorm2d(c)
            def forward(self, z):
                return self.bn(self.fc(z).view(z.size(0), -1, self.s, self.s))
    """,
    "module_constants_and_unflatten": """
        import torch.nn as nn
        NGF, NZ = 64, 100
        model = nn.Sequential(
            nn.Linear(NZ, NGF * 8 * 4 * 4),
            nn.Unflatten(1, (NGF * 8, 4, 4)),
            nn.BatchNorm2d(NGF * 8),
        )
    """,
    "sequence_linear_transposed_unknown": """
        import torch.nn as nn
        class Tok(nn.Module):
            def __init__(self, d, length):
                super().__init__()
                self.proj = nn.Linear(d, d)
                self.bn = nn.BatchNorm1d(length)
            def forward(self, x):
                return self.bn(self.proj(x).permute(0, 2, 1))
    """,
}


@pytest.mark.parametrize("name", sorted(RESHAPE_POSITIVE))
def test_reshape_keeping_one_bias_per_channel_is_flagged(tmp_path, name):
    code = RESHAPE_POSITIVE[name]
    findings = lint_code(tmp_path, code, select=["HPL002"])
    assert lines_of(findings, "HPL002") == expected_lines(code, "HPL002"), findings


@pytest.mark.parametrize("name", sorted(RESHAPE_NEGATIVE))
def test_reshape_spreading_features_over_positions_is_not(tmp_path, name):
    assert lint_code(tmp_path, RESHAPE_NEGATIVE[name], select=["HPL002"]) == []


# A checkpoint saved with the bias no longer loads strictly after `bias=False`
# (bentrevett's VGG notebook copies torchvision's pretrained weights in).
_VGG_STEM = """
import torch
import torch.nn as nn

class Stem(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 64, 3, padding=1)
        self.bn = nn.BatchNorm2d(64)

    def forward(self, x):
        return self.bn(self.conv(x)).relu()

model = Stem()
"""


@pytest.mark.parametrize("loading", [
    "model.load_state_dict(torch.load('stem.pt'))",
    "model.load_state_dict(pretrained.state_dict())",
    "state = torch.hub.load_state_dict_from_url(URL)",
    "backbone = build(pretrained=True)",
    "ckpt = torch.load(path, map_location='cpu')",
])
def test_fix_is_unsafe_where_the_file_loads_weights(tmp_path, loading):
    (finding,) = lint_code(tmp_path, _VGG_STEM + loading + "\n", select=["HPL002"])
    assert finding.fix.safety.value == "unsafe"


@pytest.mark.parametrize("other", ["", "opt = torch.optim.SGD(model.parameters(), lr=0.1)\ntorch.save(model.state_dict(), 'stem.pt')"])
def test_fix_is_safe_where_nothing_loads_weights(tmp_path, other):
    (finding,) = lint_code(tmp_path, _VGG_STEM + other + "\n", select=["HPL002"])
    assert finding.fix.safety.value == "safe"


# cnn-depoyment (set 51): code/cnn.py builds the model; inference.py one folder up
# imports it and loads a checkpoint saved with the biases.
_STEM_MODULE = _VGG_STEM.replace("model = Stem()\n", "")
_LOADER = "import torch\nIMPORT\nmodel = Stem()\nmodel.load_state_dict(torch.load('stem.pt'))\n"


@pytest.mark.parametrize("model_file, loader_file, import_line", [
    ("model.py", "inference.py", "from model import Stem"),
    ("code/cnn.py", "inference.py", "from cnn import Stem"),  # sys.path set to code/
    ("pkg/nets.py", "pkg/serve.py", "from .nets import Stem"),
    ("pkg/nets.py", "serve.py", "from pkg.nets import Stem"),
])
def test_fix_is_unsafe_where_a_neighbour_imports_the_model_and_loads_weights(tmp_path, model_file, loader_file,
                                                                             import_line):
    files = {model_file: _STEM_MODULE, loader_file: _LOADER.replace("IMPORT", import_line)}
    (finding,) = lint_files(tmp_path, files, model_file, select=["HPL002"])
    assert finding.fix.safety.value == "unsafe"


@pytest.mark.parametrize("loader_file, text", [
    ("inference.py", _LOADER.replace("IMPORT", "from other import Stem")),  # loads another module's model
    ("inference.py", "from model import Stem\nmodel = Stem()\n"),  # imports it, loads nothing
    ("far/away/inference.py", _LOADER.replace("IMPORT", "from model import Stem")),  # not a neighbour
])
def test_fix_stays_safe_where_no_neighbour_loads_the_models_weights(tmp_path, loader_file, text):
    files = {"model.py": _STEM_MODULE, loader_file: text}
    (finding,) = lint_files(tmp_path, files, "model.py", select=["HPL002"])
    assert finding.fix.safety.value == "safe"


# lightning-bolts' AMDIM `FakeRKHSConvNet`: the biased shortcut reaches the
# BatchNorm through the residual sum; the message says so rather than "directly".
SHORTCUT_INTO_BATCHNORM = """
    import torch.nn as nn

    class FakeRKHS(nn.Module):
        def __init__(self, n_in, n_out):
            super().__init__()
            self.conv = nn.Conv2d(n_in, n_out, 1, bias=False)
            self.bn_out = nn.BatchNorm2d(n_out)
            self.shortcut = nn.Conv2d(n_in, n_out, 1, bias=True)

        def forward(self, x):
            return self.bn_out(self.conv(x) + self.shortcut(x))
"""


def test_message_says_how_the_bias_reaches_the_batchnorm(tmp_path):
    [finding] = lint_code(tmp_path, SHORTCUT_INTO_BATCHNORM, select=["HPL002"])
    assert finding.line == 8
    assert "feeds BatchNorm2d (line 7) through a sum;" in finding.message
    [concatenated] = lint_code(tmp_path, DENSENET, select=["HPL002"])
    assert ") through a concatenation;" in concatenated.message


# NASLib's ConvLayer: the norm class is handed in, and the branch that is not
# BatchNorm wraps the conv itself (`norm(self.conv)`, spectral norm and the like).
NORM_CLASS_COMPARED = """
    import torch.nn as nn

    class ConvLayer(nn.Module):
        def __init__(self, cin, cout, norm, act=None):
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, 3, padding=1)  # <- HPL002
            self.act = act
            if norm{test}:
                self.norm = norm(cout)
            else:
                self.norm = None
                self.conv = norm(self.conv)
        def forward(self, x):
            x = self.conv(x)
            if self.norm and isinstance(self.norm, nn.BatchNorm2d):
                x = self.norm(x)
            if self.act is not None:
                x = self.act(x)
            return x

    class Decoder(nn.Module):
        def __init__(self, norm=nn.BatchNorm2d):
            super().__init__()
            self.body = nn.Sequential(ConvLayer(8, 16, norm), ConvLayer(16, 16, norm))
        def forward(self, x):
            return self.body(x)
"""


@pytest.mark.parametrize("test", [" == nn.BatchNorm2d", " is nn.BatchNorm2d", " is not nn.LayerNorm"])
def test_a_compared_norm_class_builds_one_branch(tmp_path, test):
    code = NORM_CLASS_COMPARED.replace("{test}", test)
    findings = lint_code(tmp_path, code, select=["HPL002"])
    assert lines_of(findings, "HPL002") == expected_lines(code, "HPL002"), findings
    # Only the BatchNorm of its own branch cancels the bias: not the next
    # layer's `norm(self.conv)` from the branch that a BatchNorm class skips.
    own_batchnorm = dedent(code).splitlines().index("            self.norm = norm(cout)") + 1
    assert {r.span.start_line for f in findings for r in f.related} == {own_batchnorm}


def test_a_compared_norm_class_that_differs_builds_no_batchnorm(tmp_path):
    code = NORM_CLASS_COMPARED.replace("{test}", " == nn.BatchNorm2d").replace(
        "norm=nn.BatchNorm2d", "norm=nn.utils.spectral_norm")
    assert lint_code(tmp_path, code, select=["HPL002"]) == []


# pycls's blocks.py: the helper unpacks its keyword into a local
# (`s, p, g, b = ..., bias`), and another block of the file calls it with
# `bias=True`. A call that leaves the default builds a conv without a bias.
PYCLS_BLOCKS = """
    import torch.nn as nn

    def conv2d(w_in, w_out, k, *, stride=1, groups=1, bias=False):
        assert k % 2 == 1
        s, p, g, b = stride, (k - 1) // 2, groups, bias
        return nn.Conv2d(w_in, w_out, k, stride=s, padding=p, groups=g, bias=b)

    def norm2d(w_in):
        return nn.BatchNorm2d(num_features=w_in)

    class SE(nn.Module):
        def __init__(self, w_in, w_se):
            super().__init__()
            self.f_ex = nn.Sequential(conv2d(w_in, w_se, 1, bias=True), nn.ReLU(),
                                      conv2d(w_se, w_in, 1, bias=True), nn.Sigmoid())
        def forward(self, x):
            return x * self.f_ex(x)
"""

PYCLS_HEAD = """
    import torch.nn as nn
    from blocks import conv2d, norm2d

    class Head(nn.Module):
        def __init__(self, w_in, w):
            super().__init__()
            self.conv = conv2d(w_in, w, 1)
            self.bn = norm2d(w)
            self.biased = conv2d(w, w, 1, bias=True)  # <- HPL002
            self.bn2 = norm2d(w)
        def forward(self, x):
            return self.bn2(self.biased(self.bn(self.conv(x))))
"""


def test_unpacked_keyword_of_a_helper_is_its_own_call_value(tmp_path):
    files = {"blocks.py": PYCLS_BLOCKS, "head.py": PYCLS_HEAD}
    findings = lint_files(tmp_path, files, "head.py", select=["HPL002"])
    assert lines_of(findings, "HPL002") == expected_lines(PYCLS_HEAD, "HPL002"), findings


@pytest.mark.parametrize("assignment", ["a, b = b, a", "[a, b] = [b, a]"])
def test_unpacking_evaluates_the_right_side_first(tmp_path, assignment):
    code = f"""
        import torch.nn as nn
        def block(c):
            a, b = True, False
            {assignment}
            return nn.Sequential(nn.Conv2d(c, c, 3, bias=a), nn.Conv2d(c, c, 3, bias=b), nn.BatchNorm2d(c))
        net = block(8)  # <- HPL002
    """
    findings = lint_code(tmp_path, code, select=["HPL002"])
    # b is True after the swap: the second conv, the one before the BatchNorm, has a bias.
    assert len(findings) == 1 and "nn.Conv2d(c, c, 3, bias=b)" in dedent(code).splitlines()[findings[0].span.start_line - 1]


# pytorch-semseg: `conv2DBatchNormRelu(..., bias=True)` in utils.py is called
# with `bias=False` once and with the default elsewhere. Its conv->BN pair is
# utils.py's finding, not a meeting of two calls in the model's file.
SEMSEG_UTILS = """
    import torch.nn as nn

    class conv2DBatchNormRelu(nn.Module):
        def __init__(self, cin, cout, bias=True):
            super().__init__()
            conv_mod = nn.Conv2d(cin, cout, 3, padding=1, bias=bias)  # <- HPL002
            self.cbr_unit = nn.Sequential(conv_mod, nn.BatchNorm2d(cout), nn.ReLU(inplace=True))
        def forward(self, x):
            return self.cbr_unit(x)
"""
SEMSEG_MODEL = """
    import torch.nn as nn
    from utils import conv2DBatchNormRelu

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = conv2DBatchNormRelu(3, 64, bias=False)
            self.head = conv2DBatchNormRelu(64, 64)
        def forward(self, x):
            return self.head(self.stem(x))
"""


def test_a_foreign_block_built_with_and_without_a_bias_is_its_own_files_finding(tmp_path):
    files = {"utils.py": SEMSEG_UTILS, "model.py": SEMSEG_MODEL}
    assert lint_files(tmp_path, files, "model.py", select=["HPL002"]) == []
    findings = lint_files(tmp_path, files, "utils.py", select=["HPL002"])
    assert lines_of(findings, "HPL002") == expected_lines(SEMSEG_UTILS, "HPL002"), findings


# Inside-Deep-Learning's idlmam.py: `moveTo` calls itself on every container
# kind, and the notebook calls `train_network` (which runs it per batch) many
# times. Each recursive helper frame used to be followed three deep, which
# spent the file's statement budget before the BatchNorm model was reached.
RECURSIVE_HELPERS = '''
def to_device(obj, device):
    if hasattr(obj, "to"):
        return obj.to(device)
    if isinstance(obj, list):
        return [to_device(x, device) for x in obj]
    if isinstance(obj, tuple):
        return tuple(to_device(list(obj), device))
    if isinstance(obj, set):
        return set(to_device(list(obj), device))
    out = {}
    for k, v in obj.items():
        out[to_device(k, device)] = to_device(v, device)
    return to_device(out, device)

def one_epoch(model, loader, device):
    for x, y in tqdm(loader):
        x = to_device(x, device)
        y = to_device(y, device)

def train_network(model, loader, device="cpu"):
    for epoch in tqdm(range(3)):
        one_epoch(model, loader, device)
        one_epoch(model, loader, device)
'''


def test_a_recursive_helper_called_many_times_does_not_hide_the_model(tmp_path):
    calls = "train_network(m1, [])\ntrain_network(m2, [])\ntrain_network(m1, [])\n"
    main = ("import torch.nn as nn\nfrom helpers import train_network\nm1 = m2 = nn.Linear(4, 4)\n" + calls * 4
            + "bn_model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU())\n"
            "train_network(bn_model, [])\n" + calls * 4)
    (finding,) = lint_files(tmp_path, {"helpers.py": RECURSIVE_HELPERS, "main.py": main}, "main.py", ["HPL002"])
    assert finding.line == main.splitlines().index(
        "bn_model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU())") + 1


# BigGAN / SNGAN blocks (coursera-gan-specialization's BigGAN notebook): the
# weight reparametrisation returns the same layer, whose bias BatchNorm cancels.
@pytest.mark.parametrize("wrap", [
    "spectral_norm({})",
    "nn.utils.spectral_norm({}, n_power_iterations=2)",
    "torch.nn.utils.parametrizations.spectral_norm({})",
    "nn.utils.weight_norm({})",
])
def test_a_reparametrised_layer_keeps_its_bias(tmp_path, wrap):
    code = f"""
import torch
import torch.nn as nn
from torch.nn.utils import spectral_norm


class Block(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = {wrap.format("nn.Conv2d(cin, cout, 3, padding=1)")}  # <- HPL002
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


head = nn.Sequential({wrap.format("nn.Linear(128, 256)")}, nn.BatchNorm1d(256))  # <- HPL002
"""
    findings = lint_code(tmp_path, code)
    assert [(f.code, f.line) for f in findings] == [("HPL002", line) for line in expected_lines(code, "HPL002")]


def test_a_reparametrised_layer_without_bias_is_quiet(tmp_path):
    code = """
import torch.nn as nn
from torch.nn.utils import spectral_norm

head = nn.Sequential(spectral_norm(nn.Linear(128, 256, bias=False)), nn.BatchNorm1d(256))
other = nn.Sequential(spectral_norm(nn.Linear(128, 256)), nn.ReLU(), nn.BatchNorm1d(256))
"""
    assert lint_code(tmp_path, code) == []



def test_a_foreign_pair_brought_in_by_several_calls_is_reported_once(tmp_path):
    # PyTorch-GAN munit.py (`Dec1 = Decoder(...)`, `Dec2 = Decoder(...)`) and
    # powerful-gnns: several calls of this file bring in the same biased layer of
    # another file feeding the same BatchNorm; it is one defect, at the first call.
    files = {
        "mlp.py": """
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.fc = nn.Linear(d_in, d_out)

    def forward(self, x):
        return self.fc(x)
""",
        "net.py": """
import torch.nn as nn
from mlp import MLP


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = MLP(4, 8)
        self.b = MLP(4, 8)
        self.bn = nn.BatchNorm1d(8)

    def forward(self, x):
        return self.bn(self.a(x)) + self.bn(self.b(x))
""",
    }
    findings = lint_files(tmp_path, files, "net.py", select=["HPL002"])
    assert [f.line for f in findings] == [8]


# MUST-AI-Lab/Pytorch-Unet's UNetTrainBNout: the output BatchNorm runs only in
# training mode; in eval mode the raw convolution (bias included) leaves.
TRAINING_ONLY_BN = """
import torch.nn as nn
import torch.nn.functional as F

class Head(nn.Module):
    def __init__(self, cin, ncls):
        super().__init__()
        self.final = nn.Conv2d(cin, ncls, kernel_size=1)
        self.bn_out = nn.BatchNorm2d(ncls)

    def forward(self, x):
        output = self.final(x)
        if TEST:
            output = self.bn_out(output)
        ELSE
        return output
"""


@pytest.mark.parametrize("test, orelse, flagged", [
    ("self.training", "else:\n        output = F.sigmoid(output)", False),
    ("self.training", "", False),
    ("not self.training", "", False),
    ("self.use_bn", "", True),  # a configuration flag: the BatchNorm instance always runs
])
def test_batchnorm_only_in_training_mode_leaves_the_bias_at_inference(tmp_path, test, orelse, flagged):
    code = TRAINING_ONLY_BN.replace("TEST", test).replace("ELSE", orelse.replace("\n", "\n    ") if orelse else "")
    assert bool(lines_of(lint_code(tmp_path, code), "HPL002")) == flagged


# The same file's VGGBlock: another model builds it without BatchNorm and hands its
# output to a helper that returns a list; the BN instance still cancels both biases.
BLOCK_BUILT_TWICE = """
import torch
import torch.nn as nn

class VGGBlock(nn.Module):
    def __init__(self, cin, cout, use_bn=True):
        super().__init__()
        self.use_bn = use_bn
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)  # <- HPL002
        if use_bn:
            self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)  # <- HPL002
        if use_bn:
            self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x):
        out = self.conv1(x)
        if self.use_bn:
            out = self.bn1(out)
        out = self.conv2(torch.relu(out))
        if self.use_bn:
            out = self.bn2(out)
        return torch.relu(out)

class PlainNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.b0 = VGGBlock(3, 16, use_bn=False)

    def pair(self, a, b):
        return [a, b]

    def forward(self, x):
        x0 = self.b0(x)
        return torch.cat(self.pair(x0, x0), 1)

class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.b0 = VGGBlock(3, 16)

    def forward(self, x):
        return self.b0(x)
"""


def test_an_escape_of_a_block_built_without_batchnorm_says_nothing_of_its_bn_instance(tmp_path):
    assert lines_of(lint_code(tmp_path, BLOCK_BUILT_TWICE), "HPL002") == expected_lines(BLOCK_BUILT_TWICE, "HPL002")


# PointNet++'s set abstraction (set 49): per-scale ModuleLists of convs and of
# norms, kept in outer ModuleLists and indexed twice in forward.
_NESTED_LISTS = """
import torch.nn as nn
import torch.nn.functional as F

class MultiScale(nn.Module):
    def __init__(self, widths_per_scale, bias):
        super().__init__()
        self.conv_blocks = nn.ModuleList()
        self.bn_blocks = nn.ModuleList()
        for widths in widths_per_scale:
            convs, bns = nn.ModuleList(), nn.ModuleList()
            last = 3
            for w in widths:
                convs.append(nn.Conv2d(last, w, 1{bias}))
                bns.append(nn.BatchNorm2d(w))
                last = w
            self.conv_blocks.append(convs)
            self.bn_blocks.append(bns)

    def forward(self, x):
        outs = []
        for i in range(len(self.conv_blocks)):
            h = x
            for j in range(len(self.conv_blocks[i])):
                {body}
            outs.append(h)
        return outs

net = MultiScale([[32, 64], [64, 128]], True)
"""


@pytest.mark.parametrize("body", [
    "conv = self.conv_blocks[i][j]; bn = self.bn_blocks[i][j]; h = F.relu(bn(conv(h)))",
    "h = F.relu(self.bn_blocks[i][j](self.conv_blocks[i][j](h)))",
])
def test_layers_in_lists_of_lists_indexed_twice(tmp_path, body):
    findings = lint_code(tmp_path, _NESTED_LISTS.format(bias="", body=body))
    assert [(f.code, f.span.start_line) for f in findings] == [("HPL002", 13)]


@pytest.mark.parametrize("bias, body", [
    (", bias=False", "h = F.relu(self.bn_blocks[i][j](self.conv_blocks[i][j](h)))"),
    ("", "h = self.bn_blocks[i][j](F.relu(self.conv_blocks[i][j](h)))"),
])
def test_layers_in_lists_of_lists_without_a_wasted_bias(tmp_path, bias, body):
    assert lint_code(tmp_path, _NESTED_LISTS.format(bias=bias, body=body)) == []


# WSmartPlus-Route (set 56): a norm wrapper picks its layer from a string that
# goes through a config dataclass; called with "layer" it holds no BatchNorm.
_NORM_WRAPPER = """
from dataclasses import dataclass
import torch.nn as nn

@dataclass
class NormConfig:
    norm_type: str = "batch"

class Normalization(nn.Module):
    def __init__(self, dim, norm_name=None):
        super().__init__()
        cfg = NormConfig(norm_type=norm_name if norm_name is not None else "batch")
        norm_name = cfg.norm_type
        if norm_name == "batch":
            self.normalizer = nn.BatchNorm1d(dim)
        elif norm_name == "layer":
            self.normalizer = nn.LayerNorm(dim)

    def forward(self, x):
        return self.normalizer(x)

class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, dim), Normalization(dim{arg}))

    def forward(self, x):
        return self.net(x)
"""


@pytest.mark.parametrize("arg, found", [(', "layer"', 0), (', "batch"', 1), ("", 1), (', norm_name="layer"', 0)])
def test_a_norm_name_through_a_config_dataclass(tmp_path, arg, found):
    assert len(lint_code(tmp_path, _NORM_WRAPPER.format(arg=arg), select=["HPL002"])) == found


def test_the_folder_above_a_project_is_not_a_neighbour(tmp_path):
    # a script in the folder that holds the project (or /tmp) is not the project's
    files = {"proj/pyproject.toml": "[project]\nname = 'p'\n", "proj/model.py": _STEM_MODULE,
             "inference.py": _LOADER.replace("IMPORT", "from model import Stem")}
    (finding,) = lint_files(tmp_path, files, "proj/model.py", select=["HPL002"])
    assert finding.fix.safety.value == "safe"
    files["proj/serve.py"] = files.pop("inference.py")  # inside the project: it loads this model's weights
    (finding,) = lint_files(tmp_path, files, "proj/model.py", select=["HPL002"])
    assert finding.fix.safety.value == "unsafe"
