"""Jupyter notebooks: every rule across cells, magics, positions in every
output format, suppressions, fixes that keep every other byte, broken files,
cross-file imports. Notebooks are written with nbformat, as Jupyter does."""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path
from typing import List, Tuple

import jsonschema
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from hplint.cli import main
from hplint.config import Config
from hplint.engine import Linter
from hplint.notebook import mask_cell, read_notebook, virtual_module

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
SARIF_SCHEMA = json.loads((REPO / "tests" / "data" / "sarif-2.1.0.json").read_text())


def write_nb(path: Path, cells, **metadata) -> Path:
    nb = new_notebook(cells=cells)
    nb.metadata.update({"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                        "language_info": {"name": "python"}, **metadata})
    nbformat.write(nb, str(path))
    return path


def chunks(code: str) -> List[Tuple[int, str]]:
    """The file cut at top-level statements: (first line, text) per chunk."""
    tree = ast.parse(code)
    starts = sorted({(n.decorator_list[0].lineno if getattr(n, "decorator_list", None) else n.lineno)
                     for n in tree.body})
    starts[0] = 1
    lines = code.splitlines(keepends=True)
    out = []
    for i, start in enumerate(starts):
        end = starts[i + 1] - 1 if i + 1 < len(starts) else len(lines)
        out.append((start, "".join(lines[start - 1:end])))
    return out


def lint(path: Path, **kw):
    return Linter(Config(**kw) if kw else Config()).lint_file(path)


EXAMPLE_FILES = ["evaluate_no_eval.py", "gan_adam.py", "mlp_dropout_bn.py", "project/train.py",
                 "search_optuna.py", "train_big_batch.py", "train_epochs.py", "train_lstm.py",
                 "train_tiny_batch_bn.py"]


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_example_split_into_cells_reports_the_same_findings_on_the_right_cells(tmp_path: Path, name: str):
    """Each example (together they cover HPL001-HPL010), cut into one cell per
    top-level statement with markdown, raw and magic cells in between: the same
    findings as the .py, each on the cell and in-cell line that holds its code."""
    source_dir = (EXAMPLES / name).parent
    for sibling in source_dir.glob("*.py"):
        shutil.copy(sibling, tmp_path / sibling.name)
    py = tmp_path / Path(name).name
    code = py.read_text()
    cells, where = [new_markdown_cell("# Training\nSee `train()` below.")], {}
    for start, text in chunks(code):
        cells.append(new_code_cell(text.rstrip("\n")))
        n_lines = len(text.splitlines())
        for k in range(n_lines):
            where[start + k] = (len(cells), k + 1)
        cells.append(new_code_cell("%matplotlib inline\n!nvidia-smi"))
        cells.append(new_raw_cell("raw (not code)"))
    nb_path = write_nb(tmp_path / (py.stem + ".ipynb"), cells)

    expected = lint(py).findings
    found = lint(nb_path).findings
    assert expected, "the example must have findings"
    assert [f.code for f in sorted(found, key=lambda f: (f.cell, f.line))] == [f.code for f in expected]
    by_place = {(f.code, f.cell, f.line, f.col) for f in found}
    raw = nb_path.read_text().splitlines()
    for f in expected:
        cell, line = where[f.line]
        assert (f.code, cell, line, f.col) in by_place, (f, by_place)
    for f in found:
        assert f.path.endswith(".ipynb")
        code_line = nbformat.read(str(nb_path), 4).cells[f.cell - 1].source.splitlines()[f.line - 1]
        # the raw position is the JSON line holding that code line, at the same code
        raw_line = raw[f.raw_span.start_line - 1]
        assert json.loads(raw_line.strip().rstrip(",")).rstrip("\n") == code_line
        assert raw_line[f.raw_span.start_col - 1:].startswith(code_line[f.col - 1:f.col + 4])
        for rel in f.related:
            if rel.path == f.path:
                assert rel.cell is not None and rel.raw_span is not None
        assert not re.search(r"\bline \d+\b", re.sub(r"cell \d+, line \d+", "", f.message)), f.message


def test_model_in_one_cell_trained_in_another_and_related_location_in_a_third(tmp_path: Path):
    nb = write_nb(tmp_path / "nb.ipynb", [
        new_code_cell("import torch\nimport torch.nn as nn"),
        new_code_cell("drop = nn.Dropout(0.5)"),
        new_markdown_cell("the BatchNorm comes later"),
        new_code_cell("bn = nn.BatchNorm1d(8)\nmodel = nn.Sequential(nn.Linear(4, 8), drop, bn)"),
    ])
    findings = lint(nb).findings
    hpl001 = [f for f in findings if f.code == "HPL001"]
    assert hpl001, findings
    f = hpl001[0]
    assert (f.cell, f.line) in {(2, 1), (4, 2)}
    assert "cell 4, line 1" in f.message
    assert any(r.cell == 4 and r.span.start_line == 1 for r in f.related)


def test_magics_are_masked_without_moving_lines():
    source = ("%%time\n%load_ext autoreload\n!pip install torch\nfiles = !ls\nx, y = %sx echo\n"
              "model?\n??model.forward\nif True:\n    !echo indented\n"
              "s = '''\n!not a magic inside a string\n'''\nz = (10\n% 3)\n")
    masked, count = mask_cell(source)
    lines, original = masked.splitlines(), source.splitlines()
    assert len(lines) == len(original)
    assert lines[:7] == ["pass"] * 7 and lines[8] == "    pass"
    assert lines[10] == "!not a magic inside a string" and lines[13] == "% 3)"
    assert count == 8
    ast.parse(masked)
    other, n = mask_cell("%%bash\necho ( not python\n  indented\n")
    assert other == "pass\npass\npass\n" and n == 3


@pytest.mark.parametrize("cell, masked", [
    ("cd drive/My\\ Drive\n", True),          # Zhenye-Na/DA-RNN's Colab cells
    ("cd 'Colab Notebooks'", True),
    ("# go to the data\npip install timm==0.9\n", True),
    ("ls -la /content/*.csv", True),
    ("ls -la /content", False),                # parses as Python (a subtraction): no error to mask
    ("ls = [1, 2]\n", False),                 # Python: a name that is also a magic
    ("cd(path)", False),
    ("ls", False),                             # valid Python as it stands
    ("cd data\nx = 1\n", False),              # automagic only for a one-line cell
])
def test_automagic_one_line_cells_are_masked(cell, masked):
    out, count = mask_cell(cell)
    assert (count > 0) == masked, out
    if masked:
        assert set(out.split()) == {"pass"}


def test_colab_automagic_cells_are_not_unreadable(tmp_path: Path):
    nb = write_nb(tmp_path / "colab.ipynb", [
        new_code_cell("from google.colab import drive\ndrive.mount('/content/drive')"),
        new_code_cell("cd drive/My\\ Drive"),
        new_code_cell("cd 'Colab Notebooks'"),
        new_code_cell("import torch.nn as nn\nnet = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))"),
    ])
    assert [(f.code, f.cell) for f in lint(nb).findings] == [("HPL002", 4)]


def test_shell_magics_continued_with_backslashes_are_masked_whole():
    """`output = !python3 demo.py \\` with indented option lines (clovaai's
    demo notebook): the continuation lines are shell text, not Python."""
    source = ("output = !python3 demo.py \\\n    --image_folder demo_image/ \\\n    --saved_model x.pth\n"
              "if True:\n    !echo (unbalanced \\\n        'quote\n    y = 2\n"
              "z = (1 +\n     2) \\\n    + 3\n")
    masked, count = mask_cell(source)
    lines = masked.splitlines()
    assert lines[:3] == ["pass"] * 3 and lines[4:6] == ["    pass"] * 2
    assert lines[6] == "    y = 2" and lines[7:] == source.splitlines()[7:]  # Python continuations stay
    assert count == 5
    ast.parse(masked)


def test_notebook_with_magics_lints_and_positions_follow_the_cell(tmp_path: Path):
    nb = write_nb(tmp_path / "m.ipynb", [
        new_code_cell("%matplotlib inline\n!pip install torch\nimport torch.nn as nn\nfiles = !ls\nnn?"),
        new_code_cell("%%time\nnet = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))"),
        new_code_cell("%%writefile helper.py\nthis is ( not python"),
    ])
    findings = lint(nb).findings
    assert [(f.code, f.cell, f.line, f.col) for f in findings] == [("HPL002", 2, 2, 21)]


@pytest.mark.parametrize("text", ["", "\n", "  \r\n\t"])
def test_an_empty_notebook_file_has_nothing_to_check(tmp_path: Path, text: str):
    """A 0-byte .ipynb (VS Code opens it as a new notebook; H_Python_ML commits
    one) is no broken notebook: nothing to lint, no HPL000."""
    empty = tmp_path / "new.ipynb"
    empty.write_text(text)
    result = lint(empty)
    assert result.findings == [] and result.errors == []


def test_broken_notebooks_give_hpl000_with_the_reason(tmp_path: Path):
    bad_json = tmp_path / "bad.ipynb"
    bad_json.write_text('{"cells": [\n  {"cell_type": "code" "source": []}\n]}\n')
    [f] = lint(bad_json).findings
    assert f.code == "HPL000" and "invalid JSON" in f.message and "delimiter" in f.message
    assert (f.line, f.col) == (2, 24)  # where json.loads reports it
    old = tmp_path / "old.ipynb"
    old.write_text(json.dumps({"nbformat": 3, "worksheets": []}))
    [f] = lint(old).findings
    assert f.code == "HPL000" and "nbformat 3" in f.message
    not_nb = tmp_path / "list.ipynb"
    not_nb.write_text("[]")
    assert lint(not_nb).findings[0].code == "HPL000"
    syntax = write_nb(tmp_path / "syntax.ipynb", [new_code_cell("x = 1"), new_code_cell("y = (\n")])
    [f] = lint(syntax).findings
    assert f.code == "HPL000" and f.cell == 2 and "syntax error" in f.message


def test_each_cell_broken_on_its_own_is_reported_once_at_that_cell(tmp_path: Path):
    # An exercise notebook: a `def` whose body is a comment left to the reader.
    # Joined, it fails at the first line of the next cell; IPython compiles cells
    # one by one, so the error is cell 2's, and cell 4's too, each reported once.
    cells = [new_code_cell("import torch"),
             new_code_cell("def forward(x):\n    # TODO: your code here\n"),
             new_code_cell("opt = torch.optim.Adam(params, betas=(0.7, 0.9))"),
             new_code_cell("class Head:\n    # <YOUR CODE>\n"),
             new_code_cell("def loss(y):\n    return y.mean()")]
    findings = lint(write_nb(tmp_path / "exercise.ipynb", cells)).findings
    assert [(f.code, f.cell) for f in findings] == [("HPL000", 2), ("HPL007", 3), ("HPL000", 4)]
    assert "after function definition in cell 2, line 1" in findings[0].message
    assert "after class definition in cell 4, line 1" in findings[2].message


def test_a_cell_indented_as_a_whole_runs_dedented_as_in_ipython(tmp_path: Path):
    # mrdbourke/pytorch-deep-learning video notebooks: cells pasted with one
    # leading space on every line. IPython strips the first line's indentation
    # from each line, so the cell runs; it is not a syntax error.
    nb = write_nb(tmp_path / "indented.ipynb", [
        new_code_cell(" # Make sure we have a GPU\n device = 'cpu'\n device"),
        new_code_cell("\n  import torch.nn as nn\n  net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))\n"),
    ])
    findings = lint(nb).findings
    assert [(f.code, f.cell, f.line, f.col) for f in findings] == [("HPL002", 2, 3, 23)]
    # the cell's own column: `nn.Linear` starts after the two spaces
    cell = nbformat.read(str(nb), 4).cells[1].source.splitlines()[2]
    assert cell[findings[0].col - 1:].startswith("nn.Linear(2, 3)")
    # the fix is written for the dedented text, so it is not offered there
    assert findings[0].fix is None
    assert main(["check", str(nb), "--fix", "--unsafe-fixes", "--exit-zero"]) == 0
    assert "bias=False" not in nbformat.read(str(nb), 4).cells[1].source
    # a cell whose indentation does not come from its first line is still an error
    broken = write_nb(tmp_path / "broken.ipynb", [new_code_cell("x = 1\n  y = 2")])
    assert [f.code for f in lint(broken).findings] == ["HPL000"]


def test_other_kernel_languages_are_not_linted(tmp_path: Path):
    nb = write_nb(tmp_path / "r.ipynb", [new_code_cell("library(torch)\nx <- 1")],
                  language_info={"name": "R"}, kernelspec={"name": "ir", "language": "R", "display_name": "R"})
    assert lint(nb).findings == []


def test_suppressions_in_cells(tmp_path: Path):
    nb = write_nb(tmp_path / "s.ipynb", [
        new_code_cell("import torch.nn as nn\nimport torch"),
        new_code_cell("a = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))  # hplint: disable=HPL002"),
        new_code_cell("# hplint: disable-next-line=bias-before-batchnorm\nb = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))"),
        new_code_cell("c = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))\nx = 1  # hplint: disable=HPL001"),
        new_code_cell("opt = torch.optim.Adam(a.parameters(), betas=(0.5, 0.9))"),
        new_code_cell("# hplint: disable-file=HPL007"),
    ])
    findings = lint(nb).findings
    assert sorted((f.code, f.cell, f.line) for f in findings) == [("HPL002", 4, 1), ("HPL100", 4, 2)]


def _fixable_notebook(path: Path) -> Path:
    cells = [
        new_code_cell("import torch\nimport torch.nn as nn", execution_count=1),
        new_markdown_cell("## Model — with ünïcode"),
        new_code_cell("net = nn.Sequential(\n    nn.Conv2d(3, 8, 3),\n    nn.BatchNorm2d(8),\n)\nprint('é')",
                      execution_count=2,
                      outputs=[new_output("stream", name="stdout", text="é\n")]),
        new_code_cell("opt = torch.optim.Adam(net.parameters(), lr=1e-3)", execution_count=3,
                      outputs=[new_output("execute_result", data={"text/plain": "Adam"}, execution_count=3)]),
    ]
    return write_nb(path, cells)


def test_fix_writes_back_only_the_changed_source_lines(tmp_path: Path, capsys):
    nb = _fixable_notebook(tmp_path / "fix.ipynb")
    before = nb.read_bytes()
    assert main(["check", str(nb), "--fix", "--exit-zero"]) == 0
    after = nb.read_bytes()
    old_lines, new_lines = before.decode().splitlines(keepends=True), after.decode().splitlines(keepends=True)
    assert len(old_lines) == len(new_lines)
    changed = [(a, b) for a, b in zip(old_lines, new_lines) if a != b]
    assert changed == [('    "    nn.Conv2d(3, 8, 3),\\n",\n', '    "    nn.Conv2d(3, 8, 3, bias=False),\\n",\n')]
    assert after.endswith(b"}\n") and json.loads(after)["cells"][2]["outputs"] == json.loads(before)["cells"][2]["outputs"]
    assert "Fixed 1 finding in 1 file." in capsys.readouterr().out
    # a second run finds nothing to fix and leaves the file alone
    stamp = nb.stat().st_mtime_ns
    assert main(["check", str(nb), "--fix"]) == 0
    assert nb.read_bytes() == after and nb.stat().st_mtime_ns == stamp


def test_fix_keeps_foreign_layout_key_order_and_missing_trailing_newline(tmp_path: Path):
    doc = {"metadata": {"z": 1, "a": 2}, "nbformat_minor": 5, "nbformat": 4, "cells": [
        {"source": "import torch.nn as nn\nnet = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))\n",
         "cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None},
        {"cell_type": "code", "execution_count": 7, "metadata": {"tags": ["x"]}, "outputs": [],
         "source": ["conv = nn.Conv2d(1, 2, 3)\n", "bn = nn.Sequential(conv, nn.BatchNorm2d(2))"]},
    ]}
    text = json.dumps(doc, indent="\t", ensure_ascii=True)  # tabs, a string source, no final newline
    nb = tmp_path / "foreign.ipynb"
    nb.write_text(text)
    assert main(["check", str(nb), "--fix", "--exit-zero"]) == 0
    new = nb.read_text()
    expected = text.replace("nn.Linear(2, 3)", "nn.Linear(2, 3, bias=False)").replace(
        '"conv = nn.Conv2d(1, 2, 3)\\n"', '"conv = nn.Conv2d(1, 2, 3, bias=False)\\n"')
    assert new == expected


def test_nan_in_a_cell_s_metadata_is_read_and_fixed_as_json_loads_reads_it(tmp_path: Path):
    """Python's json writes NaN (a metric logged into a cell's metadata): the
    notebook is linted, and its positions and fixes still work."""
    doc = {"metadata": {}, "nbformat_minor": 5, "nbformat": 4, "cells": [
        {"cell_type": "code", "execution_count": 1, "metadata": {"loss": float("nan"), "best": float("-inf")},
         "outputs": [], "source": ["import torch.nn as nn\n", "net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))\n"]},
    ]}
    text = json.dumps(doc, indent=1)
    assert "NaN" in text and "-Infinity" in text
    nb = tmp_path / "nan.ipynb"
    nb.write_text(text)
    [f] = lint(nb).findings
    assert (f.code, f.cell, f.line) == ("HPL002", 1, 2)
    assert f.raw_span is not None and text.splitlines()[f.raw_span.start_line - 1].lstrip().startswith('"net = ')
    assert main(["check", str(nb), "--fix", "--exit-zero"]) == 0
    assert nb.read_text() == text.replace("nn.Linear(2, 3)", "nn.Linear(2, 3, bias=False)")


def test_fix_that_inserts_a_line_stays_in_its_cell(tmp_path: Path):
    nb = write_nb(tmp_path / "rnn.ipynb", [
        new_code_cell("import torch\nimport torch.nn as nn\nmodel = nn.LSTM(8, 16)\n"
                      "opt = torch.optim.SGD(model.parameters(), lr=0.1)"),
        new_code_cell("for x, y in data:\n    out, _ = model(x)\n    loss = out.sum()\n"
                      "    opt.zero_grad()\n    loss.backward()\n    opt.step()"),
        new_markdown_cell("done"),
    ])
    assert main(["check", str(nb), "--fix", "--unsafe-fixes", "--exit-zero"]) == 0
    cells = nbformat.read(str(nb), 4).cells
    assert cells[1].source.splitlines()[5].strip().startswith("torch.nn.utils.clip_grad_norm_(")
    assert cells[1].source.splitlines()[6] == "    opt.step()"
    assert cells[0].source.endswith("lr=0.1)") and cells[2].source == "done"


def test_diff_shows_the_change_per_cell(tmp_path: Path, capsys):
    nb = _fixable_notebook(tmp_path / "d.ipynb")
    before = nb.read_bytes()
    assert main(["check", str(nb), "--diff"]) == 1
    out = capsys.readouterr().out
    assert f"--- a/{nb} (cell 3)" in out and f"+++ b/{nb} (cell 3)" in out
    assert "-    nn.Conv2d(3, 8, 3),\n+    nn.Conv2d(3, 8, 3, bias=False),\n" in out
    assert nb.read_bytes() == before


def test_output_formats_point_at_cells_and_raw_lines(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _fixable_notebook(tmp_path / "o.ipynb")
    raw = (tmp_path / "o.ipynb").read_text().splitlines()
    main(["check", "o.ipynb", "--exit-zero"])
    text = capsys.readouterr().out
    assert "o.ipynb:cell 3:2:5: HPL002 [bias-before-batchnorm] Conv2d has a bias but feeds BatchNorm2d (cell 3, line 3)" in text
    assert "  = note: o.ipynb:cell 3:3:5: the BatchNorm2d that cancels the bias" in text
    assert "2 |     nn.Conv2d(3, 8, 3),\n  |     ^^^^^^^^^^^^^^^^^^ HPL002\n" in text  # the cell's line
    main(["check", "o.ipynb", "--exit-zero", "--output-format", "concise"])
    assert "    o.ipynb:cell 3:3:5: note: the BatchNorm2d that cancels the bias" in capsys.readouterr().out

    main(["check", "o.ipynb", "--output-format", "json", "--exit-zero"])
    [f] = json.loads(capsys.readouterr().out)["findings"]
    assert f["cell"] == 3 and f["start"] == {"line": 2, "column": 5}
    assert f["related"][0]["cell"] == 3 and f["fix"]["edits"][0]["cell"] == 3

    main(["check", "o.ipynb", "--output-format", "sarif", "--exit-zero"])
    sarif = json.loads(capsys.readouterr().out)
    jsonschema.validate(sarif, SARIF_SCHEMA)
    [result] = sarif["runs"][0]["results"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert "nn.Conv2d(3, 8, 3)" in raw[region["startLine"] - 1]
    assert raw[region["startLine"] - 1][region["startColumn"] - 1:].startswith("nn.Conv2d")
    assert "(cell 3, line 2)" in result["message"]["text"] and "fixes" not in result

    main(["check", "o.ipynb", "--output-format", "github", "--exit-zero"])
    line = capsys.readouterr().out.splitlines()[0]
    m = re.search(r"line=(\d+),col=(\d+)", line)
    assert raw[int(m.group(1)) - 1][int(m.group(2)) - 1:].startswith("nn.Conv2d")
    assert "::cell 3, line 2: Conv2d has a bias" in line

    main(["check", "o.ipynb", "--output-format", "rdjson", "--exit-zero"])
    diag = json.loads(capsys.readouterr().out)["diagnostics"][0]
    assert diag["location"]["range"]["start"]["line"] == region["startLine"] and "suggestions" not in diag


def test_notebook_imports_project_modules_like_a_sibling_file(tmp_path: Path):
    (tmp_path / "model.py").write_text(
        "import torch.nn as nn\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.rnn = nn.LSTM(8, 16)\n\n    def forward(self, x):\n        return self.rnn(x)[0]\n")
    nb = write_nb(tmp_path / "train.ipynb", [
        new_code_cell("import torch\nfrom model import Net"),
        new_code_cell("model = Net()\nopt = torch.optim.SGD(model.parameters(), lr=0.1)"),
        new_code_cell("for x in data:\n    loss = model(x).sum()\n    opt.zero_grad()\n    loss.backward()\n    opt.step()"),
    ])
    findings = lint(nb).findings
    assert [(f.code, f.cell) for f in findings] == [("HPL005", 3)]


def test_directories_find_notebooks_and_skip_checkpoints(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _fixable_notebook(tmp_path / "a.ipynb")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    shutil.copy(tmp_path / "a.ipynb", tmp_path / ".ipynb_checkpoints" / "a-checkpoint.ipynb")
    (tmp_path / "excluded").mkdir()
    shutil.copy(tmp_path / "a.ipynb", tmp_path / "excluded" / "b.ipynb")
    (tmp_path / "pyproject.toml").write_text('[tool.hplint]\nexclude = ["excluded/"]\n')
    main(["check", ".", "--output-format", "json", "--exit-zero"])
    doc = json.loads(capsys.readouterr().out)
    assert {f["path"] for f in doc["findings"]} == {"a.ipynb"} and doc["summary"]["files"] == 1


def test_virtual_module_line_map():
    text = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "source": ["a = 1\n", "b = 2"], "metadata": {}, "outputs": [], "execution_count": None},
        {"cell_type": "markdown", "source": "text", "metadata": {}},
        {"cell_type": "code", "source": "", "metadata": {}, "outputs": [], "execution_count": None},
        {"cell_type": "code", "source": ["c = 3\n"], "metadata": {}, "outputs": [], "execution_count": None},
    ]}, indent=1)
    vm = virtual_module(read_notebook(text))
    assert vm.text == "a = 1\nb = 2\nc = 3\n"
    assert vm.lines[1:] == [(1, 1), (1, 2), (4, 1)]


def test_probe_script_masks_magics_and_maps_positions_back(tmp_path: Path):
    from hplint.notebook import write_probe_script

    nb = write_nb(tmp_path / "p.ipynb", [
        new_markdown_cell("x"),
        new_code_cell("%matplotlib inline\nimport math"),
        new_code_cell("!ls\ny = math.sqrt(4)\nraise ValueError(y)"),
    ])
    probe = write_probe_script(nb)
    try:
        assert probe.path.parent == tmp_path and probe.path.read_text() == "pass\nimport math\npass\ny = math.sqrt(4)\nraise ValueError(y)\n"
        assert probe.note == "2 IPython magic/shell lines skipped (cells 2, 3)"
        trace = f'File "{probe.path}", line 5, in <module>'
        assert probe.map_text(trace) == 'File "p.ipynb:cell 3, line 3, in <module>'
        report = {"findings": [{"code": "HPL001", "abs_path": str(probe.path), "line": 4, "column": 1,
                                "message": "Dropout feeds BatchNorm1d (line 5)", "summary": f"at {probe.path.name}:2"}],
                  "script": str(probe.path), "abs_script": str(probe.path), "error": None}
        probe.map_report(report, "p.ipynb")
        (f,) = report["findings"]
        assert (f["path"], f["cell"], f["line"]) == ("p.ipynb", 3, 2)
        assert f["message"] == "Dropout feeds BatchNorm1d (cell 3, line 3)"
        assert f["summary"] == "at p.ipynb:cell 2, line 2" and report["script"] == "p.ipynb"
    finally:
        probe.remove()
    assert not probe.path.exists()


@pytest.mark.slow
def test_probe_runs_a_notebook_and_confirms_on_cells(tmp_path: Path, monkeypatch, capsys):
    pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    shutil.copy(EXAMPLES / "notebook_training.ipynb", tmp_path / "nb.ipynb")
    assert main(["probe", "nb.ipynb", "--steps", "4", "--device", "cpu", "--output-format", "json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert "IPython magic/shell lines skipped (cells 2, 5)" in captured.err
    by_code = {f["code"]: f for f in report["findings"]}
    assert by_code["HPL001"]["cell"] == 3 and by_code["HPL001"]["line"] == 6
    assert by_code["HPL001"]["verdict"] == "confirmed" and by_code["HPL001"]["path"] == "nb.ipynb"
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".py"] == []  # the script is gone
    # `hplint check` marks what the probe confirmed, on the notebook's cells
    main(["check", "nb.ipynb", "--exit-zero"])
    out = capsys.readouterr().out
    assert re.search(r"nb.ipynb:cell 3:6:21: HPL001 .*\(confirmed by probe: ", out), out


def test_exclude_notebooks_and_extend_include(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _fixable_notebook(tmp_path / "a.ipynb")
    (tmp_path / "tool.pyw").write_text("import torch.nn as nn\nb = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))\n")
    main(["check", ".", "--output-format", "json", "--exit-zero"])
    assert {f["path"] for f in json.loads(capsys.readouterr().out)["findings"]} == {"a.ipynb"}
    (tmp_path / "pyproject.toml").write_text('[tool.hplint]\nexclude = ["*.ipynb"]\nextend-include = ["*.pyw"]\n')
    main(["check", ".", "--output-format", "json", "--exit-zero"])
    assert {f["path"] for f in json.loads(capsys.readouterr().out)["findings"]} == {"tool.pyw"}


def test_stdin_notebook_fix_and_diff(tmp_path: Path):
    import subprocess
    import sys

    nb = _fixable_notebook(tmp_path / "in.ipynb")
    before = nb.read_text()
    run = lambda *a: subprocess.run([sys.executable, "-m", "hplint", "check", "-", "--stdin-filename", str(nb), *a],
                                    input=before, capture_output=True, text=True, timeout=120)
    fixed = run("--fix")
    assert fixed.stdout == before.replace('"    nn.Conv2d(3, 8, 3),\\n"', '"    nn.Conv2d(3, 8, 3, bias=False),\\n"')
    diff = run("--diff")
    assert "(cell 3)" in diff.stdout and diff.returncode == 1


def test_notebook_opened_as_json_text_in_the_editor_gets_raw_positions(tmp_path: Path):
    from hplint.server.analysis import Analyzer

    nb = _fixable_notebook(tmp_path / "raw.ipynb")
    text = nb.read_text()
    analysis = Analyzer().analyze(nb, text)
    (diag,) = analysis.diagnostics
    line = text.splitlines()[diag.range.start.line]
    assert line[diag.range.start.character:].startswith("nn.Conv2d(3, 8, 3)")
    assert analysis.findings[0].fix is None and analysis.findings[0].cell is None


def test_a_cell_with_a_syntax_error_does_not_hide_the_other_cells(tmp_path: Path):
    nb = write_nb(tmp_path / "half.ipynb", [
        new_code_cell("import torch.nn as nn"),
        new_code_cell("def train(:\n    pass"),
        new_code_cell("net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))"),
        new_code_cell("x = [1,"),
    ])
    findings = lint(nb).findings
    assert [(f.code, f.cell) for f in findings] == [("HPL000", 2), ("HPL002", 3), ("HPL000", 4)]
    # --fix still fixes the cells that parse, and leaves the broken ones alone
    assert main(["check", str(nb), "--fix", "--exit-zero"]) == 0
    cells = nbformat.read(str(nb), 4).cells
    assert "bias=False" in cells[2].source and cells[1].source == "def train(:\n    pass"


def test_cells_vscode_marks_as_another_language_are_skipped(tmp_path: Path):
    cell = new_code_cell("SELECT * FROM runs WHERE lr > 0.1")
    cell.metadata["vscode"] = {"languageId": "sql"}
    nb = write_nb(tmp_path / "sql.ipynb", [new_code_cell("import torch.nn as nn"), cell,
                                           new_code_cell("n = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))")])
    assert [(f.code, f.cell) for f in lint(nb).findings] == [("HPL002", 3)]


def test_the_json_reader_sees_what_nbformat_sees(tmp_path: Path):
    """Why hplint reads notebooks with the json module's scanners and not
    nbformat: it needs only cell types and sources, which are the same."""
    paths = [_fixable_notebook(tmp_path / "a.ipynb"), EXAMPLES / "notebook_training.ipynb"]
    for path in paths:
        text = path.read_text(encoding="utf-8")
        ours = read_notebook(text)
        theirs = nbformat.reads(text, as_version=4)
        assert [(c.cell_type, c.source) for c in ours.cells] == [(c.cell_type, c.source) for c in theirs.cells]


def test_cell_outputs_are_read_as_values_and_their_errors_still_located(tmp_path: Path):
    """Outputs (most of a notebook's bytes) are decoded without positions; the
    code cells keep theirs, and a broken output still names its line."""
    from hplint import jsonpos

    cell = new_code_cell("import torch.nn as nn\nnet = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))\n")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBOR" * 2000, "text/plain": ["<Figure>"]}),
                    nbformat.v4.new_output("stream", text="loss 0.5\n")]
    path = write_nb(tmp_path / "out.ipynb", [new_code_cell("x = 1"), cell])
    text = path.read_text(encoding="utf-8")
    root = jsonpos.parse(text, opaque=frozenset({"outputs"}))
    assert root.value == json.loads(text)
    outputs = root.get("cells").items[1].get("outputs")
    assert outputs.items is None and text[outputs.start:outputs.end].startswith("[")
    [f] = [f for f in lint(path).findings if f.code == "HPL002"]
    assert (f.cell, f.line) == (2, 2)
    broken = tmp_path / "broken.ipynb"
    broken.write_text(text.replace('"loss 0.5\\n"', '"loss 0.5\\n" "x"'), encoding="utf-8")
    [f] = lint(broken).findings
    assert f.code == "HPL000" and "invalid JSON" in f.message
    assert f.line == next(i for i, line in enumerate(text.splitlines(), 1) if "loss 0.5" in line)


def test_diff_base_uses_the_notebook_lines_git_changed(tmp_path: Path, capsys, monkeypatch):
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    monkeypatch.chdir(tmp_path)
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e", "GIT_CONFIG_GLOBAL": str(tmp_path / "gc"), "GIT_CONFIG_NOSYSTEM": "1",
           "PATH": __import__("os").environ["PATH"]}
    git = lambda *a: subprocess.run(["git", *a], cwd=tmp_path, env=env, check=True, capture_output=True)
    cells = [new_code_cell("import torch.nn as nn"),
             new_code_cell("a = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))")]
    write_nb(tmp_path / "n.ipynb", cells)
    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    write_nb(tmp_path / "n.ipynb", cells + [new_code_cell("b = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))")])
    main(["check", "n.ipynb", "--diff-base", "HEAD", "--output-format", "json", "--exit-zero"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["code"], f["cell"]) for f in findings] == [("HPL002", 3)]


def test_fix_in_an_ascii_escaped_crlf_notebook_keeps_its_encoding(tmp_path: Path):
    doc = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                      "source": ["import torch.nn as nn\n", "label = \"é \\\\ \\\"q\\\"\"  # ünï\n",
                                 "net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))  # é"]}],
           "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(doc, indent=1, ensure_ascii=True).replace("\n", "\r\n") + "\r\n"
    nb = tmp_path / "esc.ipynb"
    nb.write_bytes(text.encode())
    [f] = lint(nb).findings
    assert (f.code, f.cell, f.line) == ("HPL002", 1, 3)
    raw_line = text.split("\r\n")[f.raw_span.start_line - 1]
    assert raw_line[f.raw_span.start_col - 1:].startswith("nn.Linear(2, 3)")
    assert main(["check", str(nb), "--fix", "--exit-zero"]) == 0
    new = nb.read_bytes().decode()
    assert new == text.replace("nn.Linear(2, 3)", "nn.Linear(2, 3, bias=False)")
    assert "\\u00e9" in new and new.isascii()
