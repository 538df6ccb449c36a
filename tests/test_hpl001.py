"""HPL001 dropout-before-batchnorm: every way a model is written."""

import pytest

from helpers import expected_lines, lines_of, lint_code, lint_files

# A block that starts with BatchNorm and ends with Dropout: stacked, one's
# Dropout feeds the next one's BatchNorm.
CLOSING_DROPOUT_BLOCK = """
        import torch.nn as nn
        class Layer(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.bn = nn.BatchNorm1d(c)
                self.fc = nn.Linear(c, c, bias=False)
                self.drop = nn.Dropout(0.2)  # <- HPL001
            def forward(self, x):
                return self.drop(self.fc(self.bn(x)))
"""

POSITIVE = {
    # bearpaw's DenseNet(block=Bottleneck): the block class as a parameter default;
    # each block ends with Dropout and starts with BatchNorm.
    "block_class_as_a_parameter_default": CLOSING_DROPOUT_BLOCK + """
        class Net(nn.Module):
            def __init__(self, block=Layer):
                super().__init__()
                self.body = nn.Sequential(block(32), block(32))
            def forward(self, x):
                return self.body(x)
    """,
    # pytorch-cifar's ResNet(BasicBlock, [2, 2]): the block class passed by the call.
    "block_class_passed_by_the_call": CLOSING_DROPOUT_BLOCK + """
        class Net(nn.Module):
            def __init__(self, block, depth):
                super().__init__()
                self.body = nn.Sequential(*[block(32) for _ in range(depth)])
            def forward(self, x):
                return self.body(x)
        def net():
            return Net(Layer, 3)
    """,
    # A rate that defaults to 0 but any caller may set: the class as callers build it.
    "dropout_rate_defaulting_to_zero": """
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, n, p_drop=0.0):
                super().__init__()
                self.fc = nn.Linear(n, 16, bias=False)
                self.drop = nn.Dropout(p_drop)  # <- HPL001
                self.bn = nn.BatchNorm1d(16)
            def forward(self, x):
                return self.bn(self.drop(self.fc(x)))
    """,
    "sequential_nn_alias": """
        import torch.nn as nn
        model = nn.Sequential(
            nn.Linear(784, 256),
            nn.ReLU(),
            nn.Dropout(0.5),  # <- HPL001
            nn.BatchNorm1d(256),
        )
    """,
    "full_torch_path": """
        import torch
        net = torch.nn.Sequential(torch.nn.Dropout2d(0.1), torch.nn.BatchNorm2d(16))  # <- HPL001
    """,
    "from_import_aliases": """
        from torch.nn import Sequential, Dropout as D, BatchNorm1d as BN
        model = Sequential(
            D(0.3),  # <- HPL001
            BN(8),
        )
    """,
    "from_torch_import_nn_ordered_dict": """
        from collections import OrderedDict
        from torch import nn
        model = nn.Sequential(OrderedDict([
            ("fc", nn.Linear(4, 8)),
            ("drop", nn.AlphaDropout(0.2)),  # <- HPL001
            ("bn", nn.SyncBatchNorm(8)),
        ]))
    """,
    "list_append_splat": """
        import torch.nn as nn
        layers = []
        layers.append(nn.Linear(10, 10))
        layers.append(nn.Dropout(0.5))  # <- HPL001
        layers += [nn.BatchNorm1d(10)]
        model = nn.Sequential(*layers)
    """,
    "forward_statements": """
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(10, 20)
                self.drop = nn.Dropout(0.5)  # <- HPL001
                self.bn = nn.BatchNorm1d(20)
            def forward(self, x):
                x = self.fc(x)
                x = self.drop(x)
                x = self.bn(x)
                return x
    """,
    "forward_nested_with_activation": """
        import torch.nn as nn
        import torch.nn.functional as F
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.dropout = nn.Dropout(0.2)  # <- HPL001
                self.bn2 = nn.BatchNorm1d(20)
            def forward(self, x):
                return self.bn2(F.relu(self.dropout(x)))
    """,
    "functional_dropout_in_forward": """
        import torch.nn as nn
        import torch.nn.functional as F
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.bn = nn.BatchNorm1d(20)
            def forward(self, x):
                h = F.dropout(x, 0.5, self.training)  # <- HPL001
                h = h.view(h.size(0), -1)
                return self.bn(h)
    """,
    "helper_blocks_stacked": """
        import torch.nn as nn
        def block(n_in, n_out, bn=True, p=0.0):
            layers = []
            if bn:
                layers.append(nn.BatchNorm1d(n_in))
            layers.append(nn.Linear(n_in, n_out))
            if p:
                layers.append(nn.Dropout(p))  # <- HPL001
            return layers
        model = nn.Sequential(*block(10, 20, p=0.5), *block(20, 30, bn=True))
    """,
    "module_lists_indexed_in_parallel": """
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self, n=3):
                super().__init__()
                self.fcs = nn.ModuleList([nn.Linear(8, 8) for _ in range(n)])
                self.drops = nn.ModuleList([nn.Dropout(0.1) for _ in range(n)])  # <- HPL001
                self.bns = nn.ModuleList([nn.BatchNorm1d(8) for _ in range(n)])
            def forward(self, x):
                for i in range(len(self.fcs)):
                    x = self.bns[i](self.drops[i](x))
                return x
    """,
    "add_module_and_flatten": """
        import torch.nn as nn
        model = nn.Sequential()
        model.add_module("drop", nn.Dropout3d(0.2))  # <- HPL001
        model.add_module("flat", nn.Flatten())
        model.add_module("bn", nn.LazyBatchNorm1d())
    """,
    "sequential_subclass": """
        import torch.nn as nn
        class Head(nn.Sequential):
            def __init__(self):
                super().__init__(nn.Dropout(0.5), nn.BatchNorm1d(4))  # <- HPL001
    """,
    # Reduced from bearpaw/pytorch-classification's DenseNet: the block's dropout
    # output is concatenated with its input, and the next block's BatchNorm reads it.
    "densenet_concat_into_next_block": """
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        class Bottleneck(nn.Module):
            def __init__(self, planes, growth, drop):
                super().__init__()
                self.bn1 = nn.BatchNorm2d(planes)
                self.conv1 = nn.Conv2d(planes, growth, kernel_size=3, padding=1, bias=False)
                self.drop = drop
            def forward(self, x):
                out = self.conv1(F.relu(self.bn1(x)))
                if self.drop > 0:
                    out = F.dropout(out, p=self.drop, training=self.training)  # <- HPL001
                return torch.cat((x, out), 1)
        class DenseNet(nn.Module):
            def __init__(self, drop=0.2):
                super().__init__()
                self.blocks = nn.Sequential(Bottleneck(24, 12, drop), Bottleneck(36, 12, drop))
            def forward(self, x):
                return self.blocks(x)
    """,
    "concat_written_in_the_call": """
        import torch
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.drop = nn.Dropout2d(0.2)  # <- HPL001
                self.bn = nn.BatchNorm2d(16)
            def forward(self, a, b):
                return self.bn(torch.cat([self.drop(a), b], dim=1))
    """,
    # zamaex96/ML-LSTM's inception block: branch outputs gathered in a list
    # first, then concatenated into the BatchNorm.
    "concat_of_a_list_comprehension_over_branches": """
        import torch
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.paths = nn.ModuleList([
                    nn.Sequential(nn.Conv1d(c, c, k, padding=k // 2, bias=False), nn.Dropout(0.1))  # <- HPL001
                    for k in (1, 3)])
                self.bn = nn.BatchNorm1d(2 * c)
            def forward(self, x):
                outs = [path(x) for path in self.paths]
                return self.bn(torch.cat(outs, 1))
    """,
    "concat_of_a_list_grown_by_plus_and_append": """
        import torch
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.a = nn.Sequential(nn.Linear(c, c, bias=False), nn.Dropout(0.3))  # <- HPL001
                self.b = nn.Sequential(nn.Linear(c, c, bias=False), nn.Dropout(0.3))  # <- HPL001
                self.c = nn.Sequential(nn.Linear(c, c, bias=False), nn.Dropout(0.3))  # <- HPL001
                self.bn = nn.BatchNorm1d(3 * c)
            def forward(self, x):
                parts = [self.a(x)] + [self.b(x)]
                parts.append(self.c(x))
                merged = torch.cat(parts, dim=1)
                return self.bn(merged)
    """,
    "tuple_unpacked_one_part_each": """
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.drop = nn.Dropout(0.5)  # <- HPL001
                self.fc = nn.Linear(8, 8, bias=False)
                self.bn = nn.BatchNorm1d(8)
            def forward(self, x):
                dropped, projected = self.drop(x), self.fc(x)
                return self.bn(dropped) + projected
    """,
}

NEGATIVE = {
    # The list's dropped branch goes to a second layer; only the plain one is
    # concatenated into the BatchNorm.
    "list_holds_the_dropout_but_cat_takes_another_list": """
        import torch
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.drop = nn.Dropout(0.3)
                self.fc = nn.Linear(c, c, bias=False)
                self.head = nn.Linear(c, 2)
                self.bn = nn.BatchNorm1d(2 * c)
            def forward(self, x):
                dropped = [self.drop(x)]
                plain = [self.fc(x), self.fc(x)]
                return self.bn(torch.cat(plain, 1)), self.head(dropped[0])
    """,
    "tuple_unpacked_parts_go_elsewhere": """
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.drop = nn.Dropout(0.5)
                self.fc = nn.Linear(8, 8, bias=False)
                self.bn = nn.BatchNorm1d(8)
            def forward(self, x):
                dropped, projected = self.drop(x), self.fc(x)
                return self.bn(projected) + dropped
    """,
    # A parameter defaulting to a class that is no module builds nothing.
    "class_parameter_that_is_no_module": """
        import torch.nn as nn
        class Config:
            def __init__(self, n):
                self.n = n
        class Net(nn.Module):
            def __init__(self, cfg=Config):
                super().__init__()
                self.cfg = cfg(8)
                self.fc = nn.Linear(8, 8)
                self.bn = nn.BatchNorm1d(8)
            def forward(self, x):
                return self.bn(self.fc(x))
    """,
    # A dropout rate of 0, written or given by the call that builds the block: the identity.
    "dropout_rate_zero_literal": """
        import torch.nn as nn
        model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.0), nn.BatchNorm1d(16))
    """,
    "dropout_rate_zero_from_the_call": """
        import torch.nn as nn
        def block(n, p_drop):
            return nn.Sequential(nn.Linear(n, 16, bias=False), nn.Dropout(p_drop), nn.BatchNorm1d(16))
        model = block(8, 0)
    """,
    "concat_along_space_then_conv": """
        import torch
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.drop = nn.Dropout2d(0.2)
                self.conv = nn.Conv2d(8, 8, 3, bias=False)
                self.bn = nn.BatchNorm2d(8)
            def forward(self, a, b):
                x = torch.cat([self.drop(a), b], dim=1)
                return self.bn(self.conv(x)), self.bn(torch.cat([self.drop(a), b], dim=3))
    """,
    "dropout_after_batchnorm": """
        import torch.nn as nn
        model = nn.Sequential(nn.Linear(4, 8, bias=False), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5))
    """,
    "linear_between": """
        import torch.nn as nn
        model = nn.Sequential(nn.Dropout(0.5), nn.Linear(8, 8, bias=False), nn.BatchNorm1d(8))
    """,
    "layernorm_and_groupnorm": """
        import torch.nn as nn
        a = nn.Sequential(nn.Dropout(0.5), nn.LayerNorm(8))
        b = nn.Sequential(nn.Dropout2d(0.5), nn.GroupNorm(4, 8))
    """,
    "forward_different_tensors": """
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.drop = nn.Dropout(0.5)
                self.bn = nn.BatchNorm1d(8)
            def forward(self, x):
                y = self.drop(x)
                z = self.bn(x)
                return y, z
    """,
    "residual_add_breaks_path": """
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.drop = nn.Dropout(0.5)
                self.bn = nn.BatchNorm1d(8)
            def forward(self, x):
                x = x + self.drop(x)
                return self.bn(x)
    """,
    "local_class_named_dropout": """
        import torch.nn as nn
        class Dropout(nn.Module):
            def forward(self, x):
                return x
        model = nn.Sequential(Dropout(), nn.BatchNorm1d(8))
    """,
    "helper_without_batchnorm": """
        import torch.nn as nn
        def block(n_in, n_out, bn=True, p=0.0):
            layers = [nn.Linear(n_in, n_out, bias=not bn)]
            if bn:
                layers.append(nn.BatchNorm1d(n_out))
            if p:
                layers.append(nn.Dropout(p))
            return layers
        model = nn.Sequential(*block(10, 20, bn=False, p=0.5), *block(20, 30, bn=False))
    """,
    "only_text_mentions": """
        import torch.nn as nn
        # nn.Dropout(0.5) then nn.BatchNorm1d(8) would be bad
        doc = "nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(8))"
        model = nn.Sequential(nn.Linear(8, 8), nn.ReLU())
    """,
    "not_torch_sequential": """
        from keras import Sequential
        from keras.layers import Dropout, BatchNormalization
        model = Sequential([Dropout(0.5), BatchNormalization()])
    """,
}


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_flags(tmp_path, name):
    code = POSITIVE[name]
    findings = lint_code(tmp_path, code, select=["HPL001"])
    assert lines_of(findings, "HPL001") == expected_lines(code, "HPL001"), findings


@pytest.mark.parametrize("name", sorted(NEGATIVE))
def test_clean(tmp_path, name):
    assert lint_code(tmp_path, NEGATIVE[name], select=["HPL001"]) == []


def test_one_finding_per_dropout_with_every_batchnorm_it_feeds_related(tmp_path):
    # bearpaw's CIFAR DenseNet: a layer's closing dropout is concatenated into the
    # next layer's, the transition's and the final BatchNorm.
    code = """
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        class Bottleneck(nn.Module):
            def __init__(self, c, growth=12):
                super().__init__()
                self.bn1 = nn.BatchNorm2d(c)
                self.conv1 = nn.Conv2d(c, growth, 3, padding=1, bias=False)
            def forward(self, x):
                out = F.dropout(self.conv1(self.bn1(x)), p=0.2, training=self.training)  # <- HPL001
                return torch.cat((x, out), 1)
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.dense = nn.Sequential(Bottleneck(24), Bottleneck(36))
                self.bn = nn.BatchNorm2d(48)
            def forward(self, x):
                return self.bn(self.dense(x))
    """
    findings = lint_code(tmp_path, code, select=["HPL001"])
    assert lines_of(findings, "HPL001") == expected_lines(code, "HPL001")
    [finding] = findings
    assert "and 1 more BatchNorm)" in finding.message
    assert len([r for r in finding.related if "it feeds" in r.message]) == 2


def test_location_message_and_related(tmp_path):
    code = POSITIVE["sequential_nn_alias"]
    [finding] = lint_code(tmp_path, code, select=["HPL001"])
    assert (finding.span.start_line, finding.span.start_col) == (5, 5)
    assert (finding.span.end_line, finding.span.end_col) == (5, 20)  # `nn.Dropout(0.5)`
    assert "Dropout feeds BatchNorm1d (line 6) directly" in finding.message
    assert "Move the dropout after the BatchNorm" in finding.message
    assert [(r.span.start_line, r.span.start_col) for r in finding.related] == [(6, 5)]


def test_helper_imported_from_project_module(tmp_path):
    files = {
        "blocks.py": """
            import torch.nn as nn
            def head(n):
                return [nn.Linear(n, n), nn.Dropout(0.5)]
        """,
        "model.py": """
            import torch.nn as nn
            from blocks import head
            model = nn.Sequential(*head(8), nn.BatchNorm1d(8))  # <- HPL001
        """,
    }
    findings = lint_files(tmp_path, files, "model.py", select=["HPL001"])
    assert lines_of(findings, "HPL001") == expected_lines(files["model.py"], "HPL001")
    [finding] = findings
    assert finding.related[0].path.endswith("model.py")


STACKED_BLOCK_HELPER = """
    from torch import nn
    def linear_dropout_bn(n_in, n_out, p):
        layers = [nn.BatchNorm1d(n_in)]
        layers.extend([nn.Linear(n_in, n_out, bias=False), nn.ReLU()])
        if p != 0:
            layers.append(nn.Dropout(p))
        return layers
"""


def test_a_block_helper_of_another_file_stacked_in_a_loop(tmp_path):
    # pytorch_tabular's _linear_dropout_bn: block i's Dropout meets block i+1's
    # BatchNorm only in the loop, which only the calling file sees.
    files = {
        "helpers.py": STACKED_BLOCK_HELPER,
        "model.py": """
            import torch.nn as nn
            from helpers import linear_dropout_bn
            class Backbone(nn.Module):
                def __init__(self, dims, dropout):
                    super().__init__()
                    layers = []
                    for d_in, d_out in zip(dims[:-1], dims[1:]):
                        layers.extend(linear_dropout_bn(d_in, d_out, dropout))  # <- HPL001
                    self.net = nn.Sequential(*layers)
                def forward(self, x):
                    return self.net(x)
        """,
    }
    findings = lint_files(tmp_path, files, "model.py", select=["HPL001"])
    assert lines_of(findings, "HPL001") == expected_lines(files["model.py"], "HPL001")
    assert "helpers.py:" in findings[0].message
    assert lint_files(tmp_path, files, "helpers.py", select=["HPL001"]) == []  # one round: nothing meets


def test_a_block_class_of_another_file_stacked_in_a_loop(tmp_path):
    files = {
        "blocks.py": """
            from torch import nn
            class Block(nn.Module):
                def __init__(self, n):
                    super().__init__()
                    self.bn = nn.BatchNorm1d(n)
                    self.fc = nn.Linear(n, n, bias=False)
                    self.drop = nn.Dropout(0.2)
                def forward(self, x):
                    return self.drop(self.fc(self.bn(x)))
        """,
        "model.py": """
            import torch.nn as nn
            from blocks import Block
            class Net(nn.Module):
                def __init__(self, n, depth):
                    super().__init__()
                    self.blocks = nn.Sequential(*[Block(n) for _ in range(depth)])  # <- HPL001
                def forward(self, x):
                    return self.blocks(x)
        """,
    }
    findings = lint_files(tmp_path, files, "model.py", select=["HPL001"])
    assert lines_of(findings, "HPL001") == expected_lines(files["model.py"], "HPL001")
    assert lint_files(tmp_path, files, "blocks.py", select=["HPL001"]) == []


def test_a_block_of_another_file_used_once_is_not_reported_by_its_caller(tmp_path):
    files = {
        "helpers.py": STACKED_BLOCK_HELPER,
        "model.py": """
            import torch.nn as nn
            from helpers import linear_dropout_bn
            model = nn.Sequential(*linear_dropout_bn(8, 8, 0.1), nn.Linear(8, 2))
        """,
    }
    assert lint_files(tmp_path, files, "model.py", select=["HPL001"]) == []


_BLOCK_WITH_BATCHNORM = """
            from torch import nn
            class Block(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.bn = nn.BatchNorm1d(8)
                def forward(self, x):
                    return self.bn(x)
        """
_NET_IMPORTING_BLOCK = """
            from torch import nn
            from {source} import Block
            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.drop = nn.Dropout(0.5)  # <- HPL001
                    self.block = Block()
                def forward(self, x):
                    return self.block(self.drop(x))
        """


def test_relative_import_inside_package(tmp_path):
    files = {
        "pkg/__init__.py": "",
        "pkg/layers.py": _BLOCK_WITH_BATCHNORM,
        "pkg/net.py": _NET_IMPORTING_BLOCK.format(source=".layers"),
    }
    findings = lint_files(tmp_path, files, "pkg/net.py", select=["HPL001"])
    assert lines_of(findings, "HPL001") == expected_lines(files["pkg/net.py"], "HPL001")
    assert "layers.py" in findings[0].message  # the BatchNorm lives in another file


def test_concatenation_is_named_in_the_message(tmp_path):
    [finding] = lint_code(tmp_path, POSITIVE["concat_written_in_the_call"], select=["HPL001"])
    assert "Dropout2d feeds BatchNorm2d (line 7) through a concatenation" in finding.message


# castorini/hedwig: the project's own folder is a package (`__init__.py` beside
# `setup.py`), and its scripts import `from common.layers import Block`, as they
# do when run from that folder.
_PROJECT_PACKAGE = {
    "hedwig/__init__.py": "",
    "hedwig/common/__init__.py": "",
    "hedwig/common/layers.py": _BLOCK_WITH_BATCHNORM,
    "hedwig/models/__init__.py": "",
    "hedwig/models/net.py": _NET_IMPORTING_BLOCK.format(source="common.layers"),
}


@pytest.mark.parametrize("marker, found", [("setup.py", True), ("pyproject.toml", True), (None, False)])
def test_absolute_import_from_a_project_folder_that_is_a_package(tmp_path, marker, found):
    files = dict(_PROJECT_PACKAGE)
    if marker is not None:
        files[f"hedwig/{marker}"] = ""
    findings = lint_files(tmp_path, files, "hedwig/models/net.py", select=["HPL001"])
    assert len(findings) == (1 if found else 0), [f.message for f in findings]


def test_a_torchvision_backbone_between_dropout_and_batchnorm_joins_no_edge(tmp_path):
    # Its forward is not run: resnet starts with a conv and vgg's head ends with a
    # Linear, so neither dropout -> its BatchNorm nor its Dropout -> the next one is real.
    code = """
import torch.nn as nn
from torchvision import models


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)
        self.backbone = models.resnet18()
        self.head = models.vgg16()
        self.bn = nn.BatchNorm1d(1000)

    def forward(self, x):
        return self.bn(self.head(self.backbone(self.drop(x))))
"""
    assert lint_code(tmp_path, code, select=["HPL001"]) == []


# CTC_pytorch (set 55): stacked blocks, each BatchNorm -> LSTM -> Dropout, put in
# `nn.Sequential(OrderedDict(layers))` with `layers` built from `(name, block)` pairs.
_STACKED_BLOCKS = """
from collections import OrderedDict
import torch.nn as nn

class Block(nn.Module):
    def __init__(self, n, batch_norm=True):
        super().__init__()
        self.bn = nn.BatchNorm1d(n) if batch_norm else None
        self.rnn = nn.LSTM(n, n, bias=False)
        self.drop = nn.Dropout(0.2)  # <- HPL001

    def forward(self, x):
        if self.bn is not None:
            x = self.bn(x)
        return self.drop(self.rnn(x)[0])

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        BUILD
        self.rnns = nn.Sequential(OrderedDict(layers))

    def forward(self, x):
        return self.rnns(x)
"""


@pytest.mark.parametrize("build", [
    "layers = [('0', Block(8, batch_norm=False))]\n        for i in range(2):\n"
    "            layers.append((str(i + 1), Block(8)))",
    "layers = [(f'b{i}', Block(8)) for i in range(3)]",
])
def test_blocks_given_to_an_ordered_dict_as_name_block_pairs(tmp_path, build):
    code = _STACKED_BLOCKS.replace("BUILD", build)
    findings = lint_code(tmp_path, code, select=["HPL001"])
    assert lines_of(findings, "HPL001") == expected_lines(code, "HPL001")


def test_one_block_in_an_ordered_dict_meets_no_batchnorm_after_it(tmp_path):
    code = _STACKED_BLOCKS.replace("BUILD", "layers = [('0', Block(8))]").replace("  # <- HPL001", "")
    assert lint_code(tmp_path, code, select=["HPL001"]) == []
