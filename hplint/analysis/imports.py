"""Name resolution from a file's import table.

This is what libcst's QualifiedNameProvider computes, restricted to what hplint
needs and at a fraction of the cost: every `import`/`from ... import` in the file
(at any depth: imports inside functions count too) maps a local name to a
dotted qualified name. A name defined in the module itself (class, function)
resolves to `<module>.<name>`. Everything else (local variables, parameters)
resolves to nothing: hplint never guesses from spelling.
"""

from __future__ import annotations

from typing import Callable, Dict, Optional

import libcst as cst

# Where torch defines public names in private modules: re-exported paths are the
# canonical spelling rules use (`torch.nn.modules.dropout.Dropout` -> `torch.nn.Dropout`).
_CANONICAL_PREFIXES = (
    ("torch.nn.modules.", "torch.nn.", True),
    ("torch.optim.", "torch.optim.", True),
    ("torch.utils.data.dataloader.", "torch.utils.data.", False),
    ("torch.utils.data.dataset.", "torch.utils.data.", False),
    ("torch.nn.utils.clip_grad.", "torch.nn.utils.", False),
    ("torch.cuda.amp.grad_scaler.", "torch.cuda.amp.", False),
    ("torch.amp.grad_scaler.", "torch.amp.", False),
)
_ALIASES = {
    "torch.nn.modules.module.Module": "torch.nn.Module",
    "torch.nn.modules.container.Sequential": "torch.nn.Sequential",
    "pytorch_lightning": "lightning.pytorch",
    "lightning": "lightning.pytorch",
}
# `lightning.fabric` is its own package, not a part of `lightning.pytorch`.
_NOT_ALIASED = ("lightning.fabric",)


def canonical(qualname: str) -> str:
    """Map torch's private definition paths to the public names rules match on."""
    for prefix, public, drop_submodule in _CANONICAL_PREFIXES:
        if qualname.startswith(prefix):
            rest = qualname[len(prefix):]
            if drop_submodule and "." in rest:
                # torch.nn.modules.dropout.Dropout -> torch.nn.Dropout, but keep
                # torch.optim.lr_scheduler.StepLR's module when it is public.
                head, _, tail = rest.partition(".")
                if prefix == "torch.optim." and head not in {"adam", "adamw", "nadam", "radam", "adamax", "sgd"}:
                    return qualname
                return public + tail
            return public + rest
    if qualname.startswith(_NOT_ALIASED):
        return qualname
    for alias, public in _ALIASES.items():
        if qualname == public or qualname.startswith(public + "."):
            return qualname  # already public: `lightning.pytorch.Trainer` stays itself
        if qualname == alias or qualname.startswith(alias + "."):
            return public + qualname[len(alias):]
    return qualname


def dotted_name(node: cst.BaseExpression) -> Optional[str]:
    """`a.b.c` as text when the expression is a plain attribute chain, else None."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def _module_text(node: Optional[cst.BaseExpression]) -> str:
    return (dotted_name(node) or "") if node is not None else ""


class ImportTable:
    """Local name -> qualified name, built once per file."""

    def __init__(self, module_name: str, is_package: bool = False) -> None:
        self.module_name = module_name
        self.is_package = is_package
        self.names: Dict[str, str] = {}
        self.star_modules: list = []
        self.local_definitions: Dict[str, str] = {}
        # (module, name) -> what `from module import *` binds `name` to, for
        # project modules; set by the ModuleContext that owns this table.
        self.star_lookup: Optional[Callable[[str, str], Optional[str]]] = None
        self._resolving_star = False  # guards `from a import *` cycles

    # -- building -------------------------------------------------------
    def _package(self, level: int) -> str:
        parts = self.module_name.split(".") if self.module_name else []
        if not self.is_package:
            parts = parts[:-1]
        if level > 1:
            parts = parts[: max(len(parts) - (level - 1), 0)]
        return ".".join(parts)

    def add_import(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = dotted_name(alias.name) or ""
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self.names[alias.asname.name.value] = full
                else:
                    head = full.split(".")[0]
                    self.names[head] = head
        elif isinstance(node, cst.ImportFrom):
            base = _module_text(node.module)
            level = len(node.relative)
            if level:
                package = self._package(level)
                base = f"{package}.{base}" if package and base else (package or base)
            if isinstance(node.names, cst.ImportStar):
                self.star_modules.append(base)
                return
            for alias in node.names:
                name = dotted_name(alias.name) or ""
                local = name
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    local = alias.asname.name.value
                self.names[local] = f"{base}.{name}" if base else name

    def add_definition(self, name: str) -> None:
        self.local_definitions.setdefault(name, f"{self.module_name}.{name}" if self.module_name else name)

    # -- querying -------------------------------------------------------
    def imports_package(self, packages) -> bool:
        """Does the file import anything from one of these top-level packages
        (`import opacus`, `from opacus.layers import DPLSTM`)?"""
        return any(qualified.split(".", 1)[0] in packages for qualified in self.names.values())

    def resolve_name(self, name: str) -> Optional[str]:
        if name in self.names:
            return self.names[name]
        if name in self.local_definitions:
            return self.local_definitions[name]
        for module in self.star_modules:
            # `from torch.nn import *` brings in the public layer names.
            if module in ("torch.nn", "torch.nn.modules", "torch.optim") and name[:1].isupper():
                return f"{module}.{name}"
        if self.star_lookup is not None and self.star_modules and not self._resolving_star:
            self._resolving_star = True
            try:
                # Later star imports shadow earlier ones, as at run time.
                for module in reversed(self.star_modules):
                    found = self.star_lookup(module, name)
                    if found is not None:
                        return found
            finally:
                self._resolving_star = False
        return None

    def qualified_name(self, node: cst.BaseExpression) -> Optional[str]:
        """The canonical qualified name of a Name/Attribute expression, or None."""
        parts = []
        while isinstance(node, cst.Attribute):
            parts.append(node.attr.value)
            node = node.value
        if not isinstance(node, cst.Name):
            return None
        head = self.resolve_name(node.value)
        if head is None:
            return None
        parts.append(head)
        return canonical(".".join(reversed(parts)))
