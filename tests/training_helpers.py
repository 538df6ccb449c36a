"""Shared helpers for the training-loop rule tests (HPL005/006/008/009/010)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Dict, List

import libcst as cst

from hplint.config import Config
from hplint.engine import Linter

from helpers import apply_edits


def write(tmp_path: Path, files: Dict[str, str]) -> None:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def lint(tmp_path: Path, files: Dict[str, str], target: str, code: str, **options) -> List:
    """Write `files` under tmp_path, lint `target` alone, return findings of `code`."""
    write(tmp_path, files)
    config = Config(select=(code,), options={code: options} if options else {})
    result = Linter(config).lint_file(tmp_path / target)
    assert not result.errors, result.errors
    return [f for f in result.findings if f.code == code]


def lint_source(tmp_path: Path, source: str, code: str, name: str = "train.py") -> List:
    return lint(tmp_path, {name: source}, name, code)


def apply_fix(text: str, fix) -> str:
    """Apply a Fix's edits (1-based lines/columns, end exclusive) to `text`."""
    return apply_edits(text, fix.edits)


def parses(text: str) -> bool:
    cst.parse_module(text)
    return True
