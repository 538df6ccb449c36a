"""What a test needs from the machine: a program (neovim, git, Node.js) or an
optional module. Outside CI a missing one skips the test with one line saying
what to install; in CI (`CI` set to anything but empty/0/false) it fails the
test with that reason, because `make test` installs all of them there and a
silent skip would hide a part of the suite that never ran."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from types import ModuleType
from typing import Optional

import pytest

IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _caller() -> str:
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


def missing(what: str, how: str, module_level: bool = False) -> None:
    message = f"{_caller()} needs {what}, which is not available ({how})"
    if IN_CI:
        pytest.fail(f"CI=true and {message}: `make test` must provide it", pytrace=False)
    pytest.skip(message, allow_module_level=module_level)


def program(name: str, how: str, module_level: bool = False) -> str:
    """The path of `name` on PATH, or a skip/failure that says how to install it."""
    path: Optional[str] = shutil.which(name)
    if path is None:
        missing(f"`{name}`", how, module_level)
    assert path is not None
    return path


def module(name: str, how: str) -> ModuleType:
    """Module-level `importorskip` that fails in CI."""
    try:
        return importlib.import_module(name)
    except ImportError:
        missing(f"the Python module {name}", how, module_level=True)
        raise
