"""Is this code a test? pytest/unittest tests exercise models and search spaces
on purpose (a forward pass in training mode, `{"lr": uniform(0, 1)}` as the
input of a searcher under test). Test files get no rule findings unless
`lint-tests = true` (hplint.config); with it, HPL008 and the search spaces still
skip test functions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # the configuration asks `is_test_file` without parsing anything
    import libcst as cst


def is_test_file(path: Path) -> bool:
    """A test module, or a module in a test folder. The path is absolute, so only
    the three folders nearest the file count: a project checked out under
    `/home/u/test/` still has training code in `/home/u/test/proj/src/pkg/`."""
    name = path.name
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py" or \
        any(part in _TEST_FOLDERS for part in path.parts[-4:-1])


_TEST_FOLDERS = frozenset({"tests", "test", "tst", "testing"})


def is_test_function(fn: cst.FunctionDef, klass: Optional[cst.ClassDef], test_file: bool) -> bool:
    return fn.name.value.startswith("test") and (
        test_file or (klass is not None and klass.name.value.startswith("Test")))
