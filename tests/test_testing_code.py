"""Which files count as tests (HPL008 and the search spaces skip test functions there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hplint.analysis.testing_code import is_test_file


@pytest.mark.parametrize("path", [
    "/work/proj/test_train.py",
    "/work/proj/train_test.py",
    "/work/proj/conftest.py",
    "/work/proj/tests/helpers.py",
    "/work/proj/test/unit/models.py",
    "/work/syne-tune/tst/schedulers/bayesopt/state.py",
])
def test_test_modules_and_folders(path):
    assert is_test_file(Path(path))


@pytest.mark.parametrize("path", [
    "/home/u/test/proj/src/pkg/train.py",  # an ancestor far above the file is not the test tree
    "/work/proj/train.py",
    "/work/proj/contest/main.py",
    "/work/proj/latest_results/eval.py",
])
def test_training_code_is_not_a_test(path):
    assert not is_test_file(Path(path))
