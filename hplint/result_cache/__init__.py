"""The result cache of `hplint check`: a file whose text, settings and
dependencies are what they were when it was last linted is not linted again.

`lint_paths_cached` is `Linter.lint_paths` with the cache in front of it: the
calling process looks every file up, only the misses go to the linter (and
its process pool), and the fresh results are stored. Results that carry an
internal error are never stored; nor is standard input (the command line
never passes it here). Keys and validity: `keys`; the folder: `store`; the
entry format: `codec`.

A run served wholly from the cache never builds a `Linter`, so libcst and the
rules are not even imported: `LazyLinter` builds the real one on first use.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..display import display_path
from ..findings import FileResult
from .codec import decode_result, encode_result
from .keys import DiskState, entry_name
from .store import CacheStore, cache_folder, clear_cache, open_store

__all__ = ["CacheStats", "LazyLinter", "ResultCache", "clear_cache", "lint_paths_cached"]

log = logging.getLogger("hplint.result_cache")


class LazyLinter:
    """A `Linter` for `config`, built on first use of anything but `config`."""

    def __init__(self, config, **options: Any) -> None:
        self.config = config
        self._options = options
        self._linter: Any = None

    @property
    def built(self) -> bool:
        return self._linter is not None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if self._linter is None:
            from ..engine import Linter

            self._linter = Linter(self.config, **self._options)
        return getattr(self._linter, name)


@dataclass
class CacheStats:
    files: int = 0
    hits: int = 0
    stored: int = 0

    @property
    def linted(self) -> int:
        return self.files - self.hits


class ResultCache:
    """Look-ups and stores for one run. `config_for(path)` is the Config a
    file is linted with: the key uses its fingerprint, and its project's
    cache folder holds the entry (two projects in one run keep their own
    caches, whatever the order of the paths)."""

    def __init__(self, store: CacheStore, config_for: Callable[[Path], Any]) -> None:
        self.store = store  # the first path's project: for messages
        self.config_for = config_for
        self._stores: Dict[Path, CacheStore] = {store.folder: store}
        self.disk = DiskState()
        self.stats = CacheStats()
        self._fingerprints: Dict[int, Tuple[Any, str]] = {}  # id(config) -> (config, fingerprint)
        self._warned = False

    def _settings(self, path: Path) -> str:
        config = self.config_for(path)
        hit = self._fingerprints.get(id(config))
        if hit is None or hit[0] is not config:
            hit = (config, config.fingerprint())
            self._fingerprints[id(config)] = hit
        return hit[1]

    def _store_for(self, path: Path) -> CacheStore:
        config = self.config_for(path)
        folder = cache_folder(config)
        store = self._stores.get(folder)
        if store is None:
            store = self._stores[folder] = open_store(config)
        return store

    def lookup(self, path: Path, shown: str) -> Optional[FileResult]:
        """The stored result of `path` if it is still valid, else None."""
        self.stats.files += 1
        sha = self.disk.hash_of(os.path.abspath(path))
        if sha is None:  # a directory, gone, unreadable: the linter reports it
            return None
        name = entry_name(self._settings(path), path, shown)
        entry = self._store_for(path).read(name)
        if entry is None:
            return None
        try:
            if entry.get("key") != name or entry.get("sha") != sha:
                return None
            if not self.disk.still_valid(entry["files"], entry["probes"]):
                return None
            result = decode_result(entry["result"])
        except (KeyError, TypeError, ValueError):
            return None  # damaged or foreign: linted and written again
        if result.path != shown:
            return None
        self.stats.hits += 1
        return result

    def save(self, path: Path, result: FileResult) -> None:
        if result.errors or result.dependencies is None:
            return  # an internal error may not happen next time; untracked results cannot be checked
        sha = self.disk.hash_of(os.path.abspath(path))
        if sha is None:
            return
        name = entry_name(self._settings(path), path, result.path)
        files, probes = self.disk.record(*result.dependencies)
        entry = {"key": name, "sha": sha, "files": files, "probes": probes, "result": encode_result(result)}
        store = self._store_for(path)
        if store.write(name, entry):
            self.stats.stored += 1
        elif not self._warned:
            self._warned = True
            print(f"hplint: warning: cannot write the result cache in {store.folder}: {store.problem}; "
                  "linting without it (--no-cache turns it off)", file=sys.stderr)


def open_cache(config, config_for: Optional[Callable[[Path], Any]] = None) -> ResultCache:
    """The cache for a run whose files are linted with `config` (or, file by
    file, with `config_for(path)`); it lives where `config` says."""
    return ResultCache(open_store(config), config_for or (lambda _path: config))


def lint_paths_cached(linter, files: Sequence[Path], jobs: Optional[int] = None,
                      cache: Optional[ResultCache] = None,
                      on_file_done: Optional[Callable[[int, int], None]] = None) -> List[FileResult]:
    """`linter.lint_paths(files, jobs)`, answered from `cache` where it can be.
    The linter must track dependencies (`Linter(..., track_dependencies=True)`)
    for its results to be stored. `on_file_done(count, total)` counts cached
    files as done at once."""
    if cache is None:
        return linter.lint_paths(files, jobs=jobs, on_file_done=on_file_done)
    results: List[FileResult] = []
    misses: Dict[str, Path] = {}
    for path in files:
        shown = display_path(path)
        hit = cache.lookup(path, shown)
        if hit is not None:
            results.append(hit)
        else:
            misses[shown] = path
    total, hits = len(files), len(files) - len(misses)
    if on_file_done is not None and hits:
        on_file_done(hits, total)
    if misses:
        progress = None if on_file_done is None else (lambda count, _total: on_file_done(hits + count, total))
        for result in linter.lint_many(list(misses.values()), jobs=jobs, on_file_done=progress):
            linted = misses.get(result.path)
            if linted is not None:
                cache.save(linted, result)
            results.append(result)
    stats = cache.stats
    log.info("result cache %s: %d of %d files from the cache, %d linted, %d stored",
             cache.store.folder, stats.hits, stats.files, stats.linted, stats.stored)
    return sorted((r for r in results if not r.skipped), key=lambda r: r.path)
