"""Model structure: which layers a model holds and which layer feeds which.

One package, one module per job:

* `structure`: the abstract values (Layer, Edge, ClassModel, containers, Tensor);
* `interpreter`: what both interpreters share (budget, static values);
* `construction` / `construction_exprs`: `__init__`, helper and factory code
  interpreted into the layers a model holds;
* `flow`: `forward` interpreted into "A feeds B" edges;
* `analysis`: ModelAnalysis, the per-file fact (`ctx.models`) and its queries.
"""

from .analysis import ModelAnalysis
from .structure import (
    EMPTY,
    LINEAR_LAYERS,
    SIZE_SLOT,
    UNKNOWN_MODULE,
    Alt,
    ClassModel,
    Edge,
    Instance,
    Layer,
    ModList,
    PyList,
    Seq,
    Tensor,
    layers_in,
)

__all__ = [
    "EMPTY", "LINEAR_LAYERS", "SIZE_SLOT", "UNKNOWN_MODULE", "Alt", "ClassModel", "Edge", "Instance", "Layer",
    "ModList", "ModelAnalysis", "PyList", "Seq", "Tensor", "layers_in",
]
