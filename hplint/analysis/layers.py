"""The layer vocabulary: which torch names are dropout, BatchNorm, affine,
recurrent layers, and which operations leave the data path "direct".

All names are canonical qualified names (see `imports.canonical`), so every
spelling a user can write (`nn.Dropout`, `torch.nn.Dropout`, `from torch.nn
import Dropout as D`) lands on the same key.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

NN = "torch.nn."
F = "torch.nn.functional."

DROPOUT = "dropout"
BATCHNORM = "batchnorm"
AFFINE = "affine"
RNN = "rnn"
NORM = "norm"  # LayerNorm/GroupNorm/InstanceNorm: not BatchNorm
RESHAPE = "reshape"
IDENTITY = "identity"
ACTIVATION = "activation"
POOL = "pool"
OTHER = "other"
EMBEDDING = "embedding"  # a lookup table: the same in train and eval mode
# Layers that behave differently in train mode for a reason other than a
# Dropout or BatchNorm submodule of their own: dropout inside the attention
# and feed-forward blocks (nn.Transformer*, MultiheadAttention), RReLU's
# random slope. Not "dropout" for HPL001's edges; they make a model's mode matter.
MODE_DEPENDENT = "mode-dependent"
# Not layers, but what a tensor went through: `a + b` / `a - b`, and
# `torch.cat([a, b], dim=0 or 1)`. A per-channel constant in one operand
# (a bias) stays a per-channel constant of the result.
SUM = "sum"
CONCAT = "concat"

# Categories that do not break "directly before" (rules choose which they allow).
TRANSPARENT = frozenset({RESHAPE, IDENTITY, ACTIVATION, POOL})

_MODULES: Dict[str, str] = {}
for _n in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"):
    _MODULES[NN + _n] = DROPOUT
for _n in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
           "LazyBatchNorm3d", "SyncBatchNorm"):
    _MODULES[NN + _n] = BATCHNORM
for _n in ("LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
           "LocalResponseNorm", "RMSNorm"):
    _MODULES[NN + _n] = NORM
for _n in ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"):
    _MODULES[NN + _n] = RNN
# Opacus's differentially private recurrent layers (opacus.layers.dp_rnn).
for _n in ("DPRNN", "DPLSTM", "DPGRU", "DPRNNCell", "DPLSTMCell", "DPGRUCell"):
    _MODULES["opacus.layers." + _n] = _MODULES["opacus.layers.dp_rnn." + _n] = RNN
for _n in ("Embedding", "EmbeddingBag"):
    _MODULES[NN + _n] = EMBEDDING
for _n in ("Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
           "TransformerDecoderLayer", "MultiheadAttention", "RReLU"):
    _MODULES[NN + _n] = MODE_DEPENDENT
for _n in ("Flatten", "Unflatten"):
    _MODULES[NN + _n] = RESHAPE
_MODULES[NN + "Identity"] = IDENTITY
for _n in ("ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid",
           "Tanh", "Softplus", "Hardswish", "Hardtanh", "Hardsigmoid", "LogSigmoid", "Softsign",
           "Tanhshrink", "Threshold", "Softshrink", "Hardshrink"):
    _MODULES[NN + _n] = ACTIVATION
for _d in ("1d", "2d", "3d"):
    for _n in ("MaxPool", "AvgPool", "AdaptiveAvgPool", "AdaptiveMaxPool", "LPPool"):
        _MODULES[NN + _n + _d] = POOL

# Positional index of `bias` in each affine layer's signature.
BIAS_SLOT: Dict[str, int] = {NN + "Linear": 2, NN + "LazyLinear": 1, NN + "Bilinear": 3}
for _d in ("1d", "2d", "3d"):
    BIAS_SLOT[NN + "Conv" + _d] = 7
    BIAS_SLOT[NN + "ConvTranspose" + _d] = 7
    BIAS_SLOT[NN + "LazyConv" + _d] = 6
    BIAS_SLOT[NN + "LazyConvTranspose" + _d] = 6
for _name in BIAS_SLOT:
    _MODULES[_name] = AFFINE

_FUNCTIONS: Dict[str, str] = {}
for _n in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"):
    _FUNCTIONS[F + _n] = DROPOUT
for _n in ("dropout", "alpha_dropout", "feature_dropout", "feature_alpha_dropout"):
    _FUNCTIONS["torch." + _n] = DROPOUT
_FUNCTIONS[F + "batch_norm"] = BATCHNORM
_FUNCTIONS["torch.batch_norm"] = BATCHNORM
for _n in ("layer_norm", "group_norm", "instance_norm"):
    _FUNCTIONS[F + _n] = NORM
for _n in ("flatten", "reshape", "squeeze", "unsqueeze", "permute", "transpose", "swapaxes", "movedim"):
    _FUNCTIONS["torch." + _n] = RESHAPE
for _n in ("relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "sigmoid",
           "tanh", "softplus", "hardswish", "hardtanh", "hardsigmoid", "logsigmoid", "softsign",
           "relu_", "leaky_relu_", "elu_", "threshold"):
    _FUNCTIONS[F + _n] = ACTIVATION
for _n in ("relu", "sigmoid", "tanh", "relu_", "selu", "celu"):
    _FUNCTIONS["torch." + _n] = ACTIVATION
for _d in ("1d", "2d", "3d"):
    for _n in ("max_pool", "avg_pool", "adaptive_avg_pool", "adaptive_max_pool", "lp_pool"):
        _FUNCTIONS[F + _n + _d] = POOL

# Tensor methods by category (`x.view(...)`, `x.relu()`).
TENSOR_METHODS: Dict[str, str] = {}
for _n in ("view", "reshape", "flatten", "permute", "unsqueeze", "squeeze", "contiguous",
           "transpose", "view_as", "reshape_as", "unflatten", "movedim", "swapaxes", "t"):
    TENSOR_METHODS[_n] = RESHAPE
for _n in ("relu", "relu_", "sigmoid", "sigmoid_", "tanh", "tanh_"):
    TENSOR_METHODS[_n] = ACTIVATION
# Device/dtype moves keep the data path.
for _n in ("to", "cuda", "cpu", "float", "half", "double", "bfloat16", "type_as", "clone", "detach"):
    TENSOR_METHODS[_n] = IDENTITY

MODULE_BASES = frozenset({
    "torch.nn.Module", "torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict",
    "lightning.pytorch.LightningModule", "lightning.pytorch.core.LightningModule",
    "lightning.pytorch.core.module.LightningModule",
    "torch.jit.ScriptModule",
})
SEQUENTIAL = "torch.nn.Sequential"
MODULE_LIST = "torch.nn.ModuleList"
MODULE_DICT = "torch.nn.ModuleDict"


def module_category(qualname: Optional[str]) -> Optional[str]:
    """Category of an `nn` layer class, or None when it is not a known layer."""
    return _MODULES.get(qualname) if qualname else None


def built_category(category: Optional[str], rate) -> Optional[str]:
    """The category of a layer as built: a dropout layer whose rate `p` is
    known to be 0 passes its input through in either mode (the identity)."""
    if category == DROPOUT and isinstance(rate, (int, float)) and not isinstance(rate, bool) and rate == 0:
        return IDENTITY
    return category


def function_category(qualname: Optional[str]) -> Optional[str]:
    return _FUNCTIONS.get(qualname) if qualname else None


def short_name(qualname: str) -> str:
    return qualname.rsplit(".", 1)[-1]


# Model constructors of torchvision, by what they hold that makes the mode and
# the batch size matter (torchvision/models/*.py at 0.2x): BatchNorm2d in the
# convolutional families, Dropout in their classifier heads. Prefixes match
# every depth (`resnet18`, `resnet50`, `resnext50_32x4d`); a vgg needs `_bn`.
_TORCHVISION = "torchvision.models."
_LIBRARY_BATCHNORM = ("resnet", "resnext", "wide_resnet", "densenet", "inception_v3", "googlenet",
                      "mobilenet_v2", "mobilenet_v3", "efficientnet", "regnet", "shufflenet_v2", "mnasnet")
_LIBRARY_DROPOUT = ("vgg", "alexnet", "squeezenet", "inception_v3", "googlenet", "mobilenet_v2",
                    "mobilenet_v3", "efficientnet", "mnasnet")


def library_model_layers(qualname: Optional[str]) -> Tuple[Tuple[str, str], ...]:
    """(layer kind, category) of what a torchvision model constructor builds,
    e.g. `torchvision.models.resnet18` → BatchNorm2d; () for anything else."""
    if not qualname or not qualname.startswith(_TORCHVISION):
        return ()
    name = short_name(qualname)
    if not name[:1].islower():
        return ()  # `ResNet`, `VGG`: the classes take a configuration hplint does not read
    found = []
    if name.startswith(_LIBRARY_BATCHNORM) or name.startswith("vgg") and name.endswith("_bn"):
        found.append((NN + "BatchNorm2d", BATCHNORM))
    if name.startswith(_LIBRARY_DROPOUT):
        found.append((NN + "Dropout", DROPOUT))
    return tuple(found)


# Functions that reparametrise a module's weight and return the same module
# (`spectral_norm(nn.Conv2d(...))` in BigGAN/SNGAN blocks): its bias and
# what it feeds are the wrapped layer's.
SAME_MODULE_WRAPPERS = frozenset({
    "torch.nn.utils.spectral_norm", "torch.nn.utils.weight_norm",
    "torch.nn.utils.parametrizations.spectral_norm", "torch.nn.utils.parametrizations.weight_norm",
    "torch.nn.utils.parametrizations.orthogonal",
    "torch.nn.utils.spectral_norm.spectral_norm", "torch.nn.utils.weight_norm.weight_norm",
})
