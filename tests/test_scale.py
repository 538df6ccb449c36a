"""Speed and memory at scale (issue 14): the project index's cache is bounded
in bytes, a batch frees contexts by reference counting instead of full
collections, and the process pool keeps a directory's files on one worker."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from hplint import engine
from hplint.analysis import project as project_module
from hplint.analysis.project import ProjectIndex, estimated_bytes
from hplint.config import Config
from hplint.engine import BatchGC, Linter

MODEL = """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)
        self.bn = nn.BatchNorm1d(8)

    def forward(self, x):
        return self.bn(self.drop(x))
"""
TRAIN = """
import torch
from model import Net

net = Net()
opt = torch.optim.SGD(net.parameters(), lr=0.1)
for x, y in data:
    opt.zero_grad()
    net(x).sum().backward()
    opt.step()
"""


def _write(root: Path, files: dict) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_cache_is_bounded_in_bytes_not_entries(tmp_path: Path) -> None:
    _write(tmp_path, {"small_a.py": "A = 1\n", "small_b.py": "B = 2\n", "small_c.py": "C = 3\n",
                      "big.py": "X = [" + "1, " * 2000 + "]\n"})
    index = ProjectIndex([tmp_path])
    small = [index.context_for_path(tmp_path / f"small_{c}.py") for c in "abc"]
    per_small = estimated_bytes(small[0])
    assert index.cached_bytes == 3 * per_small
    index.max_bytes = 10 * per_small
    big = index.context_for_path(tmp_path / "big.py")
    assert estimated_bytes(big) > index.max_bytes
    # The newest entry stays even alone over the bound; the older ones are dropped.
    assert list(index._by_path) == [tmp_path / "big.py"]
    assert index.cached_bytes == estimated_bytes(big)
    assert index.evicted_bytes == 3 * per_small
    # Under the bound, many small entries are kept (an entry count would not say so).
    index.max_bytes = estimated_bytes(big) + 2 * per_small
    for c in "ab":
        index.context_for_path(tmp_path / f"small_{c}.py")
    assert len(index._by_path) == 3 and index.cached_bytes <= index.max_bytes
    index.context_for_path(tmp_path / "small_c.py")  # over: the least recently used (big) goes
    assert tmp_path / "big.py" not in index._by_path
    assert index.cached_bytes == 3 * per_small


def test_estimate_follows_the_text() -> None:
    assert estimated_bytes(None) == 0
    assert project_module.BYTES_PER_CHAR >= 50  # libcst's trees: 55-65 bytes per character


def test_release_all_frees_contexts_without_a_collection(tmp_path: Path) -> None:
    _write(tmp_path, {"model.py": MODEL, "train.py": TRAIN})
    linter = Linter(Config())
    enabled = gc.isenabled()
    gc.disable()
    try:
        result = linter.lint_file(tmp_path / "train.py")  # computes facts of train.py and of model.py
        contexts = [entry[1] for entry in linter.project._by_path.values()]
        assert len(contexts) == 2 and all(ctx._facts for ctx in contexts)
        refs = [weakref.ref(ctx) for ctx in contexts]
        del contexts
        assert linter.project.release_all() == 2
        # Reference counting alone freed them: no cycle through their facts.
        assert [ref() for ref in refs] == [None, None]
        assert linter.project.cached_bytes == 0
    finally:
        if enabled:
            gc.enable()
    # The index works as before afterwards, with the same findings.
    again = linter.lint_file(tmp_path / "train.py")
    assert [f.code for f in again.findings] == [f.code for f in result.findings]


def test_batch_releases_between_files_with_the_same_findings(tmp_path: Path) -> None:
    files = {f"pkg{i}/model.py": MODEL for i in range(4)}
    files.update({f"pkg{i}/train.py": TRAIN for i in range(4)})
    _write(tmp_path, files)
    paths = sorted(tmp_path.rglob("*.py"))
    roomy = Linter(Config()).lint_paths(paths, jobs=1)
    tight = Linter(Config())
    tight.project.max_bytes = 1  # every file evicts the one before: release after every file
    released = tight.lint_paths(paths, jobs=1)
    assert [(r.path, r.findings) for r in released] == [(r.path, r.findings) for r in roomy]
    assert any(r.findings for r in roomy)


def test_batch_gc_restores_the_callers_settings(tmp_path: Path) -> None:
    _write(tmp_path, {"a.py": "A = 1\n", "b.py": "B = 2\n"})
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    Linter(Config()).lint_paths([tmp_path / "a.py", tmp_path / "b.py"], jobs=1)
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen
    index = ProjectIndex()
    with BatchGC(index):
        assert gc.get_threshold()[2] == BatchGC.GEN2_OFF
        index.evicted_bytes = index.max_bytes  # half the bound was dropped: release and collect
        collector = BatchGC(index)
        collector.after_file()
        assert collector.collections == 1 and index.evicted_bytes == 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen


def _tree(root: Path, layout: dict) -> list:
    """Files of `layout` ({relative path: size in bytes}) under root, in a scrambled order."""
    for name, size in layout.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#" * (size - 1) + "\n", encoding="utf-8")
    return [root / name for name in sorted(layout, key=lambda n: n[::-1])]


def test_schedule_keeps_a_directory_on_one_worker(tmp_path: Path) -> None:
    layout = {f"{pkg}/{mod}.py": 1000 for pkg in ("alpha", "beta", "gamma", "delta") for mod in "abcdef"}
    files = _tree(tmp_path, layout)
    chunks = engine.schedule(files, jobs=2, per_worker=2)  # a share of 6,000 bytes: one package each
    assert sorted(f for chunk in chunks for f in chunk) == sorted(str(f) for f in files)
    assert len(chunks) == 4
    for chunk in chunks:
        assert len({Path(f).parent for f in chunk}) == 1, chunk
        assert chunk == sorted(chunk)
    # Dealt round-robin (the old way), every package was spread over every chunk.
    assert engine.schedule(files, jobs=2, per_worker=2) == chunks  # deterministic


def test_schedule_cuts_at_directory_boundaries_and_splits_only_big_ones(tmp_path: Path) -> None:
    layout = {"small/a.py": 300, "small/b.py": 300, "pkg/sub/x.py": 400, "pkg/sub/y.py": 400,
              "pkg/z.py": 400, "huge/" + "m.py": 5000, "huge/n.py": 5000, "huge/o.py": 5000}
    files = _tree(tmp_path, layout)
    chunks = engine.schedule(files, jobs=2, per_worker=2)  # share: 16,800 / 4 = 4,200 bytes
    by_name = [[str(Path(f).relative_to(tmp_path)) for f in chunk] for chunk in chunks]
    # The big directory is split once past one and a half shares; the small ones
    # stay whole and together, a package with its subpackage; biggest chunks first.
    assert by_name == [["huge/m.py", "huge/n.py"], ["huge/o.py"],
                       ["pkg/sub/x.py", "pkg/sub/y.py", "pkg/z.py", "small/a.py", "small/b.py"]]


def test_parallel_run_uses_the_schedule(tmp_path: Path, monkeypatch) -> None:
    files = {f"pkg{i}/model.py": MODEL for i in range(3)}
    files.update({f"pkg{i}/train.py": TRAIN for i in range(3)})
    _write(tmp_path, files)
    paths = sorted(tmp_path.rglob("*.py"))
    seen = []
    real = engine.schedule

    def spy(files, jobs, per_worker=4):
        chunks = real(files, jobs, per_worker)
        seen.append(chunks)
        return chunks

    monkeypatch.setattr(engine, "schedule", spy)
    parallel = Linter(Config()).lint_paths(paths, jobs=2)
    serial = Linter(Config()).lint_paths(paths, jobs=1)
    assert seen and [(r.path, r.findings) for r in parallel] == [(r.path, r.findings) for r in serial]


def test_re_exports_of_other_installed_packages_are_not_followed(tmp_path: Path) -> None:
    """Linting inside site-packages (the torch benchmark): sympy's __init__ chains
    are another distribution's; a project's own re-exports are followed."""
    files = {
        "pkgb/__init__.py": "from .core import Symbol\n",
        "pkgb/core.py": "class Symbol:\n    pass\n",
        "pkga/__init__.py": "from .base import Net\n",
        "pkga/base.py": "class Net:\n    pass\n",
        "pkga/user.py": "import pkgb\nimport pkga\n",
    }
    for root in (tmp_path / "site-packages", tmp_path / "repo"):
        _write(root, files)
        index = ProjectIndex([root])
        origin = root / "pkga" / "user.py"
        other, symbol = index.resolve_symbol("pkgb.Symbol", "pkga.user", origin)
        own, own_symbol = index.resolve_symbol("pkga.Net", "pkga.user", origin)
        assert (own.path.name, own_symbol) == ("base.py", "Net")
        expected = "__init__.py" if root.name == "site-packages" else "core.py"
        assert (other.path.name, symbol) == (expected, "Symbol")


def test_remembered_look_ups_are_asked_again_after_a_change(tmp_path: Path) -> None:
    """Module look-ups and class definitions are remembered (issue 14), until
    the editor reports a change: a module created on disk, or a class added
    to an open buffer, is found on the next look-up."""
    train = tmp_path / "train.py"
    train.write_text("from model import Net\nnet = Net(3)\n")
    index = ProjectIndex()
    ctx = index.context_for_path(train)
    assert index.find_module_file("model", train) is None
    assert ctx.class_definition("model.Net") is None
    model = tmp_path / "model.py"
    model.write_text("import torch.nn as nn\nclass Other(nn.Module):\n    pass\n")
    assert index.find_module_file("model", train) is None  # remembered until told
    index.invalidate(model)
    assert index.find_module_file("model", train) == model
    assert ctx.class_definition("model.Net") is None
    # an edit of an open buffer: the class it now defines is found
    index.set_overlay(model, "import torch.nn as nn\nclass Other(nn.Module):\n    pass\n")
    assert ctx.class_definition("model.Net") is None
    index.set_overlay(model, "import torch.nn as nn\nclass Net(nn.Module):\n    pass\n")
    found = ctx.class_definition("model.Net")
    assert found is not None and found[1].name.value == "Net"
