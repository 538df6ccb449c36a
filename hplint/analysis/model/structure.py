"""The abstract values of the model interpreters: layers, containers, model
classes, tensors on the data path, and the edges between layers.

Layers know their feature count where it is static (`Layer.size`): HPL002
needs it, with the reshapes an `Edge` records, to tell a reshape that keeps
one bias value per channel from one that spreads a Linear's features over
spatial positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Tuple

import libcst as cst

from .. import layers as L

# Where each layer's feature count is: (positional index, keyword). Affine
# layers: the output features/channels; BatchNorm: num_features.
# layers: the output features/channels; BatchNorm: num_features.
SIZE_SLOT: Dict[str, Tuple[int, str]] = {L.NN + "Linear": (1, "out_features"), L.NN + "LazyLinear": (0, "out_features"),
                                         L.NN + "Bilinear": (2, "out_features")}
for _d in ("1d", "2d", "3d"):
    SIZE_SLOT[L.NN + "Conv" + _d] = SIZE_SLOT[L.NN + "ConvTranspose" + _d] = (1, "out_channels")
    SIZE_SLOT[L.NN + "LazyConv" + _d] = SIZE_SLOT[L.NN + "LazyConvTranspose" + _d] = (0, "out_channels")
    SIZE_SLOT[L.NN + "BatchNorm" + _d] = (0, "num_features")
SIZE_SLOT[L.NN + "SyncBatchNorm"] = (0, "num_features")
LINEAR_LAYERS = frozenset({L.NN + "Linear", L.NN + "LazyLinear", L.NN + "Bilinear"})


@dataclass(eq=False)
class Layer:
    """One constructed layer (or functional op) and where it came from."""

    kind: str  # canonical qualified name, e.g. torch.nn.Dropout
    category: str
    node: cst.Call  # the construction (or functional) call
    ctx: Any  # ModuleContext of the file that holds `node`
    bias: Optional[bool] = None  # affine layers: True / False / None when unknown
    entry: Optional[cst.CSTNode] = None  # call in the analysed file that brought it in
    functional: bool = False
    size: Optional[int] = None  # out_features / out_channels / num_features when static
    # `bias=bias` where `bias` took its default because the class was built
    # without a call site (`def __init__(..., bias=True)` built on its own):
    # a guess that the real call sites override.
    bias_default: bool = False
    # The flags a construction ran under, as (frame serial, flag, value): the
    # BatchNorm of `if batch_norm: layers += [nn.BatchNorm2d(v)]` carries
    # (f, "batch_norm", True); the conv built before it in frame f does not.
    conditions: Tuple[Tuple[int, Optional[str], bool, int], ...] = ()  # see Frame.conditions
    frame: int = 0  # serial of the construction frame
    entry_round: int = 0  # which call of `entry` built it (see Interpreter._entry_round)


@dataclass(eq=False)
class Seq:
    items: List[Any]


@dataclass(eq=False)
class Alt:
    """One of several alternatives (a branch whose condition is unknown)."""

    options: List[Any]


@dataclass(eq=False)
class PyList:
    items: List[Any]
    # An empty OrderedDict filled by item assignment (`d["bn"] = ...`), in
    # order; a list's `layers[i] = x` replaces an item, so only a mapping grows.
    mapping: bool = False


@dataclass(eq=False)
class ModList:
    """nn.ModuleList / ModuleDict: holds modules, is not callable itself."""

    items: List[Any]


@dataclass(eq=False)
class Instance:
    model: "ClassModel"
    node: Optional[cst.CSTNode] = None


@dataclass(eq=False)
class Opaque:
    """A library model built whole (`self.backbone = torchvision.models.resnet50()`):
    the model holds its layers (it has BatchNorm, a Dropout head), but hplint does
    not run its forward, so they join no edge with the layers around it."""

    layers: List[Layer]


@dataclass(eq=False)
class LayerClass:
    """A layer class not yet called (`self.rnn_cell = nn.LSTM`): calling it builds the layer."""

    qualname: str
    category: str


@dataclass(eq=False)
class ClassRef:
    """A model class of the project named but not called (`block=Bottleneck`,
    `ResNet(BasicBlock, [2, 2])`): calling it builds an instance."""

    qualname: str


def methods_of(klass: cst.ClassDef) -> Dict[str, cst.FunctionDef]:
    """The functions defined directly in a class body, by name."""
    body = klass.body.body if isinstance(klass.body, cst.IndentedBlock) else ()
    return {stmt.name.value: stmt for stmt in body if isinstance(stmt, cst.FunctionDef)}


class _UnknownModule:
    def __repr__(self) -> str:
        return "UNKNOWN_MODULE"


UNKNOWN_MODULE = _UnknownModule()


@dataclass(frozen=True)
class Tensor:
    """A tensor on the data path: the producers that may have made it."""

    sources: FrozenSet[Tuple[Any, FrozenSet[str], Tuple[Any, ...]]] = frozenset()


EMPTY = Tensor()
_NONE: FrozenSet[str] = frozenset()


@dataclass
class Edge:
    src: Layer
    dst: Layer
    through: FrozenSet[str]  # transparent categories between them
    site: Optional[cst.CSTNode]  # where in forward() they were connected
    site_ctx: Any = None
    # Reshapes on each path from src to dst that passes through `through`:
    # (op, static dims) in order, e.g. (("view", (None, 128, 4, 4)),).
    reshape_paths: List[Tuple[Tuple[str, Tuple[Optional[int], ...]], ...]] = field(default_factory=list)
    # (bias_default, bias) of each build of the source layer that reached dst.
    biases: List[Tuple[bool, Optional[bool]]] = field(default_factory=list)

    def source_bias(self) -> Optional[bool]:
        """The source layer's bias over every build that reached dst: True when
        some build has one. A bias that only a parameter's default gave, in a
        class built without a call site, counts only when no call site built
        the layer (`DepthWiseConv2d(..., bias=True)` that every caller builds
        with `bias=False`)."""
        real = [bias for default, bias in self.biases if not default] or [bias for _, bias in self.biases]
        if any(bias is True for bias in real):
            return True
        return False if real and all(bias is False for bias in real) else None


@dataclass(eq=False)
class ClassModel:
    name: str
    node: cst.ClassDef
    ctx: Any
    attrs: Dict[str, Any] = field(default_factory=dict)
    sequential_items: Optional[List[Any]] = None  # for nn.Sequential subclasses
    methods: Dict[str, cst.FunctionDef] = field(default_factory=dict)
    bases: List["ClassModel"] = field(default_factory=list)
    consts: Dict[str, Any] = field(default_factory=dict)  # `self.init_size = 8` and other static attributes

    def method(self, name: str) -> Optional[Tuple["ClassModel", cst.FunctionDef]]:
        if name in self.methods:
            return self, self.methods[name]
        for base in self.bases:
            found = base.method(name)
            if found:
                return found
        return None

    def all_layers(self) -> List[Layer]:
        out: List[Layer] = []
        seen: set = set()
        stack: List[Any] = list(self.attrs.values())
        if self.sequential_items:
            stack.extend(self.sequential_items)
        while stack:
            value = stack.pop()
            if id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, Layer):
                out.append(value)
            elif isinstance(value, Opaque):
                out.extend(value.layers)
            elif isinstance(value, (Seq, PyList, ModList)):
                stack.extend(value.items)
            elif isinstance(value, Alt):
                stack.extend(value.options)
            elif isinstance(value, Instance):
                stack.extend(value.model.attrs.values())
                if value.model.sequential_items:
                    stack.extend(value.model.sequential_items)
        return out

    def categories(self) -> FrozenSet[str]:
        return frozenset(layer.category for layer in self.all_layers())


def layers_in(values: Iterable[Any]) -> List[Layer]:
    """Every layer inside abstract module values (a Seq, an Instance, a single
    Layer...): what a model built from them holds. Used by the training-loop
    analysis for sub-modules such as `model.encoder`."""
    holder = ClassModel("", None, None, attrs={str(i): v for i, v in enumerate(values)})
    return holder.all_layers()


def flatten_items(value: Any) -> Optional[List[Any]]:
    """Items a value contributes when splatted (`*layers`) or extended."""
    if isinstance(value, (PyList, Seq, ModList)):
        return list(value.items)
    if isinstance(value, Alt):
        return [Alt([Seq(flatten_items(o) or [o]) for o in value.options])]
    return None
