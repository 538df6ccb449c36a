"""`import hplint` is the documented API: typed (py.typed), lazily imported,
and what it exports works end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import hplint


def test_exports_lint_a_text_and_are_documented(tmp_path):
    code = "import torch.nn as nn\n\nnet = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8))\n"
    result = hplint.Linter(hplint.Config()).lint_text(code, tmp_path / "net.py")
    assert isinstance(result, hplint.FileResult)
    (finding,) = result.findings
    assert isinstance(finding, hplint.Finding) and isinstance(finding.fix, hplint.Fix)
    assert (finding.code, finding.line) == ("HPL002", 3)
    for name in hplint.__all__:
        if name != "__version__":
            assert (getattr(hplint, name).__doc__ or "").strip(), f"hplint.{name} has no docstring"
    assert set(hplint.__all__) <= set(dir(hplint))


def test_package_is_marked_typed():
    assert (Path(hplint.__file__).parent / "py.typed").is_file()


def test_import_hplint_does_not_load_the_linter():
    # The probe's child process and the editor extension's import check run `import hplint`.
    code = "import sys, hplint; print(sorted(m for m in ('libcst', 'hplint.engine') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
