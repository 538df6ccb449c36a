"""Does a file load weights into a model? (`load_state_dict`, `torch.load`,
`from_pretrained`, `load_state_dict_from_url`, `pretrained=True`...)

A fix that changes a model's parameters (HPL002's `bias=False`) keeps the
function the model computes, but a checkpoint saved with the old parameters no
longer loads strictly: where the file loads weights, such a fix is unsafe, and
so it is where a script beside the model's file (or one folder up: a SageMaker
`inference.py` above `code/cnn.py`) imports that module and loads weights
(`nearby_loader`, a text search of those folders).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Optional, Tuple

import libcst as cst

WEIGHT_LOADING_CALLS = frozenset({
    "load_state_dict", "load_state_dict_from_url", "load_url", "from_pretrained", "load_from_checkpoint",
    "load_checkpoint", "load_pretrained", "load_weights",
})


class WeightLoading:
    """`ctx.fact("weight_loading", WeightLoading)`: `first`, the first call
    that loads weights (or passes `pretrained=`), None when there is none."""

    def __init__(self, ctx) -> None:
        self.first: Optional[cst.Call] = None
        for site in ctx.calls:
            if _loads(ctx, site.node):
                self.first = site.node
                break

    @property
    def loads(self) -> bool:
        return self.first is not None


def _loads(ctx, call: cst.Call) -> bool:
    func = call.func
    name = func.attr.value if isinstance(func, cst.Attribute) else (func.value if isinstance(func, cst.Name) else "")
    if name in WEIGHT_LOADING_CALLS or ctx.callee(call) in ("torch.load", "torch.hub.load"):
        return True
    return any(arg.keyword is not None and arg.keyword.value == "pretrained" for arg in call.args)


# A weight-loading call in a file's text, for the neighbours' text search.
_LOADING_TEXT = re.compile(r"\b(?:" + "|".join(sorted(WEIGHT_LOADING_CALLS)) + r")\s*\(|\btorch\.(?:hub\.)?load\s*\(")


_LOADS: Dict[Tuple[int, int], bool] = {}  # (len, hash) of a text -> whether it loads weights


def _loads_in_text(text: str) -> bool:
    """Cached by the text's length and hash (a str keeps its hash), not the
    text: every biased layer of a model file asks of the same neighbours."""
    key = (len(text), hash(text))
    found = _LOADS.get(key)
    if found is None:
        if len(_LOADS) > 4096:
            _LOADS.clear()
        found = _LOADS[key] = _LOADING_TEXT.search(text) is not None
    return found


def nearby_loader(ctx, origin: Path) -> Optional[Path]:
    """A module file in the folder of `ctx`'s file or the one above it that
    imports `ctx`'s module by its last name (`from cnn import CNN`,
    `from .cnn import CNN`, `import models.cnn`) and loads weights; None when
    there is none (or `ctx` has no project to look in)."""
    project = ctx.project
    if project is None or ctx.path is None or not ctx.module_name:
        return None
    short = re.escape(ctx.module_name.rsplit(".", 1)[-1])
    imports = re.compile(rf"^\s*(?:from\s+[\w.]*\b{short}\b\s+import|import\s+[\w.]*\b{short}\b)", re.MULTILINE)
    own = Path(ctx.path).resolve()
    folder = own.parent
    for place in project.neighbour_folders(folder, origin):
        for path, text in project.module_texts_in(place, origin):
            if path != own and _loads_in_text(text) and imports.search(text):
                return path
    return None
