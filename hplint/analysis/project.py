"""The project index: the other files of the project, read on demand.

Cross-file facts (a model class defined in `models.py`, a block helper imported
from `layers.py`, a constant from `config.py`) come from parsing those files —
never importing them. The index maps dotted module names to files under the
project's roots, parses each at most once per run (or once per content change,
for the editor server), and hands out their `ModuleContext`s.

Roots: for every analysed file, the directory above its top-most package
(the folder that holds `pkg/__init__.py`), plus any configured roots. A
single-file run therefore still resolves `from models import Net` or
`from .blocks import conv_bn` against sibling files on disk.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Set, Tuple

from .incremental import statement_lines
from .lookups import EXISTS, FILE, LISTING, module_files
from .module import ModuleContext
from .source import SourceError, decode_source, parse_checked

# A file's imports may reach the parents of its own root (a test folder importing
# the package beside it) up to the project's top, which these files mark.
_PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
_MAX_PARENT_ROOTS = 3
# A folder with more module files than this is a library's, not a project's scripts.
_MAX_NEARBY_FILES = 100
_MAX_NEARBY_BYTES = 16 << 20  # the neighbours' texts kept at once
_MAIN_BLOCK = re.compile(r"^if\s+__name__\s*==\s*['\"]__main__['\"]\s*:", re.MULTILINE)

# Dependency tracking: the prefix of the nodes that stand for a search root
# (the others are files).
_ROOT_NODE = "root:"

# The cache of parsed modules is bounded in bytes, not entries: torch's files
# run from 100 bytes to 1.4 MB, so a count bounds nothing (256 entries held
# 1.2 GB). A context's memory is estimated from its text: libcst's tree is
# 55-65 bytes per source character (tracemalloc, torch's sources), the index
# and the facts rules compute a little more.
BYTES_PER_CHAR = 64
DEFAULT_MAX_BYTES = 160 * 2 ** 20


def estimated_bytes(ctx: Optional[ModuleContext]) -> int:
    """What keeping `ctx` (its tree, index and facts) costs, estimated."""
    return BYTES_PER_CHAR * len(ctx.text) if ctx is not None else 0


def module_name_for(path: Path, exists: Callable[[Path], bool] = os.path.exists) -> Tuple[str, bool, Path]:
    """(dotted module name, is_package, root directory) for a file on disk;
    `exists` answers the `__init__.py` look-ups (the index records them)."""
    path = Path(os.path.abspath(path))
    is_package = path.name == "__init__.py"
    parts: List[str] = [] if is_package else [path.stem]
    directory = path.parent
    # A folder whose name is no identifier ("Model Scripts Temp") cannot be a
    # package, whatever `__init__.py` it holds: its files are top-level modules.
    while directory.name.isidentifier() and exists(directory / "__init__.py") and directory.parent != directory:
        parts.append(directory.name)
        directory = directory.parent
    return ".".join(reversed(parts)), is_package, directory


class ProjectIndex:
    """Parses project modules on demand and caches them by path and content."""

    def __init__(self, roots: Iterable[Path] = (), config=None, config_for=None) -> None:
        self.roots: List[Path] = []
        self._root_set: Set[Path] = set()
        self.config = config
        # path -> the configuration governing it (the run's resolver); else `config` for every module
        self.config_for = config_for
        # Least recently used first; bounded so a whole-corpus run does not keep
        # every parsed tree alive (3 GB on torch's 2,285 files without a bound).
        # The newest entry stays even when it alone is over the bound.
        self.max_bytes = DEFAULT_MAX_BYTES
        self._by_path: "OrderedDict[Path, Tuple[object, Optional[ModuleContext]]]" = OrderedDict()
        self.cached_bytes = 0  # estimated_bytes of what _by_path holds
        # Estimated bytes of contexts dropped from the cache since the caller last
        # reset it: a context is a reference cycle (its facts point back at it),
        # so only a full collection frees it; the batch linter collects when this
        # grows (engine.BatchGC), instead of CPython walking the whole heap.
        self.evicted_bytes = 0
        self._evicted: "List[weakref.ref[ModuleContext]]" = []  # dropped, maybe still alive
        self._overlays: Dict[Path, str] = {}  # unsaved editor buffers
        self._lock = threading.RLock()
        # module -> the modules whose analysis read it (for editor invalidation)
        self.dependents: Dict[str, Set[str]] = {}
        self._configured: List[Path] = []  # roots given by the caller (searched for every file)
        # (a file's root, its top-most package folder) -> where its imports look
        self._search_paths: Dict[Tuple[Path, Optional[Path], Optional[Path]], Tuple[Path, ...]] = {}
        self._scripts: Dict[str, bool] = {}  # file -> is it run as a script (`_is_script`)
        self._own_folder: Dict[str, Optional[Path]] = {}  # file -> its folder when a script, else None
        # Look-ups on disk, kept until the editor says a file changed (`invalidate`)
        # or a buffer opens or closes: a file's (root, top-most package folder), and
        # (search path, module) -> (file, probes).
        self._roots_of: Dict[str, Tuple[Path, Optional[Path]]] = {}
        # Counts the changes above (and overlay edits): answers computed from
        # the project's files carry it, so they are recomputed after a change.
        self.generation = 0
        self._module_files: Dict[Tuple[Tuple[Path, ...], str], Tuple[Optional[Path], List[Tuple[str, bool]]]] = {}
        self._listings: Dict[str, Optional[str]] = {}  # folder -> module_files(folder)
        self._texts: Dict[Path, Tuple[object, str]] = {}  # path -> (cache key, text), for module_texts_in
        self._texts_bytes = 0
        for root in roots:
            self.add_root(root)
            self._configured.append(Path(os.path.abspath(root)))
        # Dependency tracking for the result cache (off unless asked for): what
        # the analysis of each file looked at on disk, recorded per file (and per
        # search root) so that `dependencies(path)` never depends on run order or
        # on what an earlier file of the run left parsed and memoised.
        self.track_dependencies = False
        self._probed: Dict[str, Dict[Tuple[str, str], object]] = {}  # node -> {(kind, path): outcome}
        self._links: Dict[str, Set[str]] = {}  # node -> nodes whose facts it used

    # -- dependency tracking ---------------------------------------------
    def _link(self, node: str, other: str) -> None:
        if self.track_dependencies:
            self._links.setdefault(node, set()).add(other)

    def _prober(self, node: str, kind: str) -> Callable[[Path], bool]:
        """A file/existence test that, when tracking, records its outcome under `node`."""
        check = os.path.isfile if kind == FILE else os.path.exists
        if not self.track_dependencies:
            return check

        def probe(path: Path) -> bool:
            outcome = check(path)
            self._probed.setdefault(node, {})[(kind, str(path))] = outcome
            return outcome
        return probe

    def dependencies(self, path: Path) -> Tuple[List[str], List[Tuple[str, str, object]]]:
        """What the findings of `path` may depend on besides its own text:
        (the project files whose contents its analysis read, transitively;
        the look-ups on disk that analysis made, as (kind, path, outcome) where
        kind is FILE for `os.path.isfile`, EXISTS for `os.path.exists`, LISTING
        for a folder's module files).
        A module that did not resolve is among the look-ups as absent
        candidates, so a file that appears there later changes the answer."""
        start = os.path.abspath(path)
        seen, todo = {start}, [start]
        probes: Dict[Tuple[str, str], object] = {}
        while todo:
            node = todo.pop()
            probes.update(self._probed.get(node, {}))
            for other in self._links.get(node, ()):
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
        files = sorted(n for n in seen if not n.startswith(_ROOT_NODE) and n != start)
        return files, sorted((kind, p, outcome) for (kind, p), outcome in probes.items())

    def add_root(self, root: Path) -> None:
        root = Path(os.path.abspath(root))
        if root not in self._root_set:  # asked once per linted file: a list scan was 200k Path.__eq__
            self._root_set.add(root)
            self.roots.append(root)

    def add_file(self, path: Path) -> Tuple[str, bool]:
        node = os.path.abspath(path)
        name, is_package, root = module_name_for(path, self._prober(node, EXISTS))
        self._link(node, _ROOT_NODE + str(root))
        self.add_root(root)
        return name, is_package

    # -- editor support ---------------------------------------------------
    def set_overlay(self, path: Path, text: Optional[str]) -> None:
        """Use `text` instead of the file on disk (an open, unsaved document)."""
        path = Path(os.path.abspath(path))
        with self._lock:
            if text is None or path not in self._overlays:
                self.forget_lookups()  # a document opened or closed: files may have come or gone
            else:
                self.generation += 1
                self._scripts.pop(str(path), None)  # a `__main__` block may have come or gone
                self._own_folder.pop(str(path), None)
            if text is None:
                self._overlays.pop(path, None)
            else:
                self._overlays[path] = text
            self._drop(path)

    def invalidate(self, path: Path) -> None:
        with self._lock:
            self.forget_lookups()
            self._drop(Path(os.path.abspath(path)))

    def holds(self, ctx: ModuleContext) -> bool:
        """Whether `ctx` is the context the index hands out for its file now."""
        entry = self._by_path.get(Path(os.path.abspath(ctx.path)))
        return entry is not None and entry[1] is ctx

    def forget_lookups(self) -> None:
        """Look on disk again: files may have been created, moved or deleted."""
        self.generation += 1
        self._scripts.clear()
        self._own_folder.clear()
        self._roots_of.clear()
        self._module_files.clear()
        self._listings.clear()
        self._texts.clear()
        self._texts_bytes = 0
        self._search_paths.clear()

    def _drop(self, path: Path) -> None:
        entry = self._by_path.pop(path, None)
        if entry is not None:
            size = estimated_bytes(entry[1])
            self.cached_bytes -= size
            self.evicted_bytes += size
            if entry[1] is not None:
                self._evicted.append(weakref.ref(entry[1]))

    def release_all(self) -> int:
        """Empty the cache and release every context it holds or held
        (`ModuleContext.release`), so that their trees are freed by reference
        counting instead of waiting for a full collection that walks them.
        Only for when no analysis is under way (a batch between two files):
        contexts are then reachable only from the cache and from each other's
        facts, so after this nothing uses them. Returns how many it released."""
        with self._lock:
            contexts = [entry[1] for entry in self._by_path.values() if entry[1] is not None]
            contexts += [ctx for ctx in (ref() for ref in self._evicted) if ctx is not None]
            self._by_path.clear()
            self._texts.clear()
            self._texts_bytes = 0
            self._evicted = []
            self.cached_bytes = 0
            self.evicted_bytes = 0
            for ctx in contexts:
                ctx.release()
            return len(contexts)

    # -- lookup ------------------------------------------------------------
    def find_module_file(self, module: str, origin: Optional[Path] = None) -> Optional[Path]:
        """The file of `module` as an import in `origin` would find it: from the
        origin's own root first (a script's folder, the folder above its
        top-most package), then that root's parents up to the project's
        boundary, then configured roots. It never depends on which other files
        are in the run; without an origin, every root seen so far is searched."""
        if origin is None:
            rel = Path(*module.split("."))
            for root in self.roots:
                for candidate in (root / rel.with_suffix(".py"), root / rel / "__init__.py"):
                    if os.path.isfile(candidate):
                        return candidate
            return None
        # Remembered per (search root, module): a model file imports `torch.nn`
        # at every call site the analysis resolves, and each look-up is up to
        # a dozen stat calls. What the look-up probed is replayed under the
        # asking file, so its recorded dependencies stay its own.
        node = os.path.abspath(origin)
        search_path = self._search_path(origin, node)
        key = (search_path, module)
        memo = self._module_files.get(key)
        if memo is None:
            rel = Path(*module.split("."))
            probes: List[Tuple[str, bool]] = []
            found: Optional[Path] = None
            for root in search_path:
                for candidate in (root / rel.with_suffix(".py"), root / rel / "__init__.py"):
                    outcome = os.path.isfile(candidate)
                    probes.append((str(candidate), outcome))
                    if outcome:
                        found = candidate
                        break
                if found is not None:
                    break
            memo = self._module_files[key] = (found, probes)
        if self.track_dependencies:
            self._probed.setdefault(node, {}).update(((FILE, p), outcome) for p, outcome in memo[1])
        return memo[0]

    def package_modules(self, package: str, origin: Path) -> Tuple[str, ...]:
        """The modules of the project package `package` (its `.py` files, not
        `__init__`), as an import in `origin` would find the package: the
        candidates of `import_module("models." + name)` when `name` is known
        only at run time. Empty when no folder of that name is on the search path."""
        node = os.path.abspath(origin)
        rel = Path(*package.split("."))
        for root in self._search_path(origin, node):
            folder = str(root / rel)
            if folder not in self._listings:
                self._listings[folder] = module_files(folder)
            listing = self._listings[folder]
            if self.track_dependencies:
                self._probed.setdefault(node, {})[(LISTING, folder)] = listing
            if listing is not None:
                return tuple(f"{package}.{name}" for name in listing.split("\n") if name)
        return ()

    def neighbour_folders(self, folder: Path, origin: Path) -> List[Path]:
        """`folder` and the one above it, while that is still the project's: not
        above a folder holding `pyproject.toml`, `setup.py` or `.git` (another
        project, or the temporary folder a project sits in)."""
        exists = self._prober(os.path.abspath(origin), EXISTS)
        if any(exists(folder / marker) for marker in _PROJECT_MARKERS) or folder.parent == folder:
            return [folder]
        return [folder, folder.parent]

    def module_texts_in(self, folder: Path, origin: Path, limit: int = _MAX_NEARBY_FILES) -> List[Tuple[Path, str]]:
        """The texts of the module files of `folder` (none when it holds more than
        `limit`), for text-only questions about a file's neighbours (does a script
        beside model.py load a checkpoint?). Read, not parsed; recorded as what
        `origin`'s analysis read, so a cached result follows their edits."""
        folder_text = str(folder)
        if folder_text not in self._listings:
            self._listings[folder_text] = module_files(folder_text)
        listing = self._listings[folder_text]
        node = os.path.abspath(origin)
        if self.track_dependencies:
            self._probed.setdefault(node, {})[(LISTING, folder_text)] = listing
        names = [name for name in (listing or "").split("\n") if name]
        if len(names) > limit:
            return []
        out: List[Tuple[Path, str]] = []
        for name in names:
            path = Path(os.path.abspath(folder / f"{name}.py"))
            text = self._overlays.get(path)
            if text is None:
                key = self._cache_key(path)
                cached = self._texts.get(path)
                if cached is None or cached[0] != key:
                    try:
                        data = path.read_bytes()
                    except OSError:
                        continue
                    decoded = decode_source(data)
                    if self._texts_bytes > _MAX_NEARBY_BYTES:
                        self._texts.clear()
                        self._texts_bytes = 0
                    cached = self._texts[path] = (key, "" if isinstance(decoded, SourceError) else decoded)
                    self._texts_bytes += len(cached[1])
                text = cached[1]
            self._link(node, str(path))
            out.append((path, text))
        return out

    def _search_path(self, origin: Path, node: str) -> Tuple[Path, ...]:
        found = self._roots_of.get(node)
        if found is None:
            root = module_name_for(origin, self._prober(node, EXISTS))[2]
            found = self._roots_of[node] = (root, _top_package(node, root))
        root, top = found
        self._link(node, _ROOT_NODE + str(root))
        if node in self._own_folder:
            own = self._own_folder[node]
        else:
            folder = Path(node).parent
            own = self._own_folder[node] = folder if folder != root and not _installed_path(node) and \
                self._is_script(node) else None
        cached = self._search_paths.get((root, top, own))
        if cached is None:
            paths = [root]
            exists = self._prober(_ROOT_NODE + str(root), EXISTS)
            if top is not None and any(exists(top / marker) for marker in _PROJECT_MARKERS):
                # The project's own folder is a package too (castorini/hedwig: `__init__.py`
                # beside `setup.py`), and its scripts import `from common.train import ...`
                # as they do when run from that folder, which is then on sys.path.
                paths.append(top)
            # A script inside a package run as `python run.py` has its own folder on
            # sys.path (`from model import GruModel`: its sibling), and run from the
            # project's folder, that one (`from gru_exp.model import ...`): the
            # folders between the file and its root, nearest first
            # (project_attn_article's experiment packages). After the root, so
            # what resolves as a package import still does. A module of a package
            # (no `__main__` block) is imported, not run: its folder is not searched.
            folder = own
            while folder is not None and folder != root and folder.parent != folder and root in folder.parents:
                if folder not in paths:
                    paths.append(folder)
                folder = folder.parent
            directory = root
            for _ in range(_MAX_PARENT_ROOTS):
                if any(exists(directory / marker) for marker in _PROJECT_MARKERS):
                    break  # the project's top: imports do not reach above it
                if directory.parent == directory:
                    break
                directory = directory.parent
                paths.append(directory)
            paths += [r for r in self._configured if r not in paths]
            cached = self._search_paths[(root, top, own)] = tuple(paths)
        return cached

    def _is_script(self, node: str) -> bool:
        """A notebook, or a file with an `if __name__ == "__main__":` block: run
        from its folder, which is then on sys.path. From the file's own text
        (the editor's buffer when open), so it never depends on the run."""
        found = self._scripts.get(node)
        if found is None:
            text = self._overlays.get(Path(node))
            cached = self._by_path.get(Path(node)) if text is None else None
            if text is None and cached is not None and cached[1] is not None:
                text = cached[1].text  # already parsed: no second read
            if text is None:
                try:
                    with open(node, "rb") as handle:
                        text = handle.read().decode("utf-8", errors="replace")
                except OSError:
                    text = ""
            found = self._scripts[node] = node.endswith(".ipynb") or _MAIN_BLOCK.search(text) is not None
        return found

    def context_for_module(self, module: str, requester: Optional[str] = None,
                           origin: Optional[Path] = None) -> Optional[ModuleContext]:
        if requester:
            self.dependents.setdefault(module, set()).add(requester)
        path = self.find_module_file(module, origin)
        if path is None:
            return None
        if origin is not None:
            self._link(os.path.abspath(origin), os.path.abspath(path))
        return self.context_for_path(path)

    def context_for_path(self, path: Path) -> Optional[ModuleContext]:
        path = Path(os.path.abspath(path))
        with self._lock:
            key = self._cache_key(path)
            cached = self._by_path.get(path)
            if cached is not None and cached[0] == key:
                self._by_path.move_to_end(path)
                return cached[1]
            ctx = self._load(path)
            self._remember(path, (key, ctx))
            return ctx

    def _remember(self, path: Path, entry) -> None:
        previous = self._by_path.get(path)
        if previous is not None and previous[1] is entry[1]:
            self._by_path[path] = entry  # the same context again: nothing to count
        else:
            self._drop(path)
            self._by_path[path] = entry
            self.cached_bytes += estimated_bytes(entry[1])
        self._by_path.move_to_end(path)
        while self.cached_bytes > self.max_bytes and len(self._by_path) > 1:
            self._drop(next(iter(self._by_path)))

    def _cache_key(self, path: Path):
        if path in self._overlays:
            return ("overlay", hash(self._overlays[path]))
        try:
            st = path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _load(self, path: Path) -> Optional[ModuleContext]:
        text = self._overlays.get(path)
        if text is None:
            try:
                data = path.read_bytes()
            except OSError:
                return None
            text = decode_source(data)
            if isinstance(text, SourceError):
                return None
        checked = parse_checked(text)
        if isinstance(checked, SourceError):
            return None
        tree, ast_module, elided = checked
        name, is_package = self.add_file(path)
        config = self.config_for(path) if self.config_for is not None else self.config
        return ModuleContext(path, text, tree, name, is_package, project=self, config=config,
                             top_lines=statement_lines(tree.body, ast_module.body) if ast_module is not None else None,
                             elided=elided)

    def cached(self, path: Path, text: str) -> Optional[ModuleContext]:
        """The context of `path` if it was already parsed with exactly `text`
        (e.g. as a dependency of a file linted earlier in the same run)."""
        with self._lock:
            entry = self._by_path.get(Path(os.path.abspath(path)))
            ctx = entry[1] if entry is not None else None
            return ctx if ctx is not None and ctx.text == text else None

    def register(self, ctx: ModuleContext) -> None:
        """Make an already-parsed file available to cross-file lookups."""
        with self._lock:
            self._remember(Path(os.path.abspath(ctx.path)), (self._cache_key(Path(ctx.path)), ctx))

    def resolve_symbol(self, qualname: str, requester: Optional[str] = None, origin: Optional[Path] = None):
        """`pkg.models.Net` -> (ModuleContext of pkg.models, "Net"), trying
        the longest module prefix that is a project file (as imported from
        the file `origin`)."""
        first_party = origin is None or not _installed(origin)
        for _ in range(4):  # re-exports of re-exports, a few levels deep
            ctx, symbol = self._longest_module(qualname, requester, origin)
            if ctx is None:
                return None, None
            if not first_party and ctx.module_name.split(".")[0] != (requester or "").split(".")[0]:
                # Linting inside site-packages (the torch benchmark): another installed
                # package's re-export chains (sympy's) are not the linted code's.
                return ctx, symbol
            head = symbol.split(".", 1)[0]
            # `pkg/__init__.py: from .base import *` (or `from .base import Net`)
            # re-exports a name it does not define: follow it to its definition.
            if ctx.class_named(head) is not None or ctx.function_named(head) is not None or \
                    head in ctx.module_assignments:
                return ctx, symbol
            target = ctx.imports.resolve_name(head)
            if target is None or target == f"{ctx.module_name}.{head}" or target == qualname:
                return ctx, symbol
            rest = symbol[len(head):]
            requester, origin, qualname = ctx.module_name, ctx.path, target + rest
        return ctx, symbol

    def _longest_module(self, qualname: str, requester: Optional[str], origin: Optional[Path]):
        parts = qualname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            ctx = self.context_for_module(module, requester, origin)
            if ctx is not None:
                return ctx, ".".join(parts[cut:])
        return None, None


def _top_package(node: str, root: Path) -> Optional[Path]:
    """The top-most package folder holding the file `node` (the child of its
    root on the way down), or None for a file directly under its root."""
    relative = os.path.relpath(node, root)
    head = relative.split(os.sep, 1)[0]
    return root / head if head != relative and head not in (os.curdir, os.pardir) else None


def _installed(path: Path) -> bool:
    """A file of an installed distribution (under site-packages / dist-packages)."""
    return _installed_path(str(path))


@functools.lru_cache(maxsize=4096)
def _installed_path(path: str) -> bool:
    # Asked at every cross-file symbol look-up: Path(...).parts costs more
    # than the rest of the look-up when the module is already cached.
    return any(part in ("site-packages", "dist-packages") for part in Path(path).parts)
