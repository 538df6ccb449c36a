"""Which configuration governs each file: one resolver for the command line,
the engine's process pool, the language server, the flake8 plugin and the probe.

Modelled on ruff's hierarchical resolution: a file is governed by the nearest
configuration file above it (`find_config_file`: in each directory
`hplint.toml`, then `.hplint.toml`, then a `pyproject.toml` with a
`[tool.hplint]` table), which may `extend` another. `--config FILE` replaces
that search for every file. Command-line overrides (`Overrides`) apply on top
of each file's configuration. A file with no configuration above it gets the
defaults, rooted at the deepest workspace root holding it (the language
server's workspace folders), else the current directory.

Lookups are cached by directory and configurations by file, so a run reads
each configuration file once. With `watch=True` (the language server) a
cached configuration is dropped when the mtime of its file, or of a file it
extends, changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from . import config as _config
from .catalogue import RuleDoc
from .config import Config, ConfigError, PathLike, raise_collected


@dataclass(frozen=True)
class Overrides:
    """Command-line settings applied on top of every file's configuration.

    `select` replaces, `ignore` / `extend_select` add; `exclude` replaces the
    configuration's exclude, `extend_exclude` adds patterns; both are relative
    to `base` (the current directory when None). `respect_gitignore` None
    keeps the configuration's choice."""

    select: Optional[Tuple[str, ...]] = None
    ignore: Optional[Tuple[str, ...]] = None
    extend_select: Optional[Tuple[str, ...]] = None
    exclude: Optional[Tuple[str, ...]] = None
    extend_exclude: Tuple[str, ...] = ()
    respect_gitignore: Optional[bool] = None
    base: Optional[Path] = None

    @classmethod
    def from_args(cls, args: Any) -> "Overrides":
        """From `hplint check`'s parsed arguments (absent options: no override)."""
        def tuple_of(name: str) -> Optional[Tuple[str, ...]]:
            """argparse's repeated, comma-separated values as one tuple; None if absent."""
            value = getattr(args, name, None)
            if value is None:
                return None
            return tuple(p.strip() for v in value for p in v.split(",") if p.strip())

        no_gitignore = getattr(args, "no_respect_gitignore", False)
        return cls(select=tuple_of("select"), ignore=tuple_of("ignore"), extend_select=tuple_of("extend_select"),
                   exclude=tuple_of("exclude"), extend_exclude=tuple_of("extend_exclude") or (),
                   respect_gitignore=False if no_gitignore else None)

    def apply(self, config: Config) -> Config:
        config = config.with_overrides(select=self.select, ignore=self.ignore, extend_select=self.extend_select)
        base = Path(os.path.abspath(self.base if self.base is not None else Path.cwd()))
        origins = dict(config.origins)
        roots = dict(config.pattern_roots)
        changes: Dict[str, Any] = {}
        if self.exclude is not None:
            changes["exclude"] = self.exclude
            origins["exclude"] = "command line (--exclude)"
            roots["exclude"] = base
        if self.extend_exclude:
            changes["extend_exclude"] = config.extend_exclude + self.extend_exclude
            origins["extend-exclude"] = "command line (--extend-exclude)"
            roots["extend-exclude"] = base
        if self.respect_gitignore is not None:
            changes["respect_gitignore"] = self.respect_gitignore
            origins["respect-gitignore"] = "command line (--no-respect-gitignore)"
        return replace(config, origins=origins, pattern_roots=roots, **changes)


_MISSING = object()
_Stamp = Tuple[Tuple[str, Optional[int]], ...]


def _stamp(config: Config) -> _Stamp:
    """The mtimes of a configuration's file and of the files it extends."""
    out: List[Tuple[str, Optional[int]]] = []
    for path in ((config.source,) if config.source else ()) + config.extends:
        try:
            out.append((str(path), path.stat().st_mtime_ns))
        except OSError:
            out.append((str(path), None))
    return tuple(out)


class Resolver:
    """The configuration of each file (see the module docstring).

    Raises ConfigError for a broken configuration file (never cached, so a
    fixed file is read again); bad overrides are reported when it is built."""

    def __init__(self, explicit: Optional[PathLike] = None, overrides: Optional[Overrides] = None,
                 catalogue: Optional[Dict[str, RuleDoc]] = None, roots: Iterable[PathLike] = (),
                 watch: bool = False, size: int = 256) -> None:
        self.catalogue = _config._default_catalogue() if catalogue is None else catalogue
        self.explicit = Path(explicit) if explicit is not None else None
        self.overrides = overrides or Overrides()
        self.watch = watch
        self.size = size
        self._files: Dict[str, Optional[Path]] = {}  # directory -> its configuration file
        self._configs: Dict[Optional[Path], Tuple[Config, _Stamp]] = {}  # file -> config (overrides applied)
        self._defaults: Dict[Path, Config] = {}  # root -> the defaults rooted there
        # path as given -> its configuration, for one run (watch=False): a run asks
        # for every file's configuration several times (lint, cache key, cache folder).
        self._by_path: Dict[str, Config] = {}
        self.roots: List[Path] = []
        self.set_roots(roots)
        self.overrides.apply(Config(catalogue=self.catalogue))  # bad selectors: an error now, not per file

    def set_roots(self, roots: Iterable[PathLike]) -> None:
        """Workspace roots: where a file without a configuration file is rooted."""
        self.roots = sorted({Path(os.path.abspath(r)) for r in roots}, key=lambda p: len(p.parts), reverse=True)
        self._defaults.clear()
        self._by_path.clear()

    def clear(self) -> None:
        """Forget everything read (configuration files appeared, changed or went)."""
        self._files.clear()
        self._configs.clear()
        self._defaults.clear()
        self._by_path.clear()

    # -- lookups ----------------------------------------------------------------
    def config_file_for(self, path: PathLike) -> Optional[Path]:
        """The configuration file governing `path` (a file or directory), or None."""
        if self.explicit is not None:
            return self.explicit
        key = _directory_key(path)
        found: Any = self._files.get(key, _MISSING)
        if found is not _MISSING and self.watch and found is not None:
            hit = self._configs.get(found)
            if hit is not None and _stamp(hit[0]) != hit[1]:
                found = _MISSING  # edited: look again (it may be gone) and re-read
                self._configs.pop(hit[0].source, None)
        if found is _MISSING:
            found = self._look_up(key)
        return found

    def _look_up(self, key: str) -> Optional[Path]:
        """find_config_file for the directory `key`, reusing what its parents
        already answered (a run asks for every directory of a tree)."""
        found = _config.config_file_in(Path(key))
        if found is None:
            parent = os.path.dirname(key)
            if parent != key:
                known: Any = self._files.get(parent, _MISSING)
                found = self._look_up(parent) if known is _MISSING or self.watch else known
        if len(self._files) >= self.size:
            self._files.pop(next(iter(self._files)))
        self._files[key] = found
        return found

    def config_for(self, path: PathLike) -> Config:
        """The effective configuration for `path`, overrides applied."""
        if not self.watch:
            key = os.fspath(path)
            known = self._by_path.get(key)
            if known is None:
                known = self._by_path[key] = self._config_for(path)
            return known
        return self._config_for(path)

    def _config_for(self, path: PathLike) -> Config:
        found = self.config_file_for(path)
        if found is None:
            return self._default_for(_directory_of(path))
        key = Path(os.path.abspath(found))
        hit = self._configs.get(key)
        if hit is not None and (not self.watch or _stamp(hit[0]) == hit[1]):
            return hit[0]
        config = self.overrides.apply(_config.load_config_file(found, self.catalogue))
        self._configs[key] = (config, _stamp(config))
        return config

    def defaults_for(self, path: PathLike) -> Config:
        """The defaults (overrides applied) as a file with no configuration file above `path` gets them."""
        return self._default_for(_directory_of(path))

    def _default_for(self, directory: Path) -> Config:
        root = next((r for r in self.roots if r == directory or r in directory.parents), None)
        root = root or Path.cwd()
        config = self._defaults.get(root)
        if config is None:
            config = self._defaults[root] = self.overrides.apply(Config(root=root, catalogue=self.catalogue))
        return config


def _directory_of(path: PathLike) -> Path:
    return Path(_directory_key(path))


def _directory_key(path: PathLike) -> str:
    """The directory of `path` (itself when it is one), as an absolute string."""
    here = os.path.abspath(os.fspath(path))
    return here if os.path.isdir(here) else os.path.dirname(here)


class ConfigCache(Resolver):
    """The language server's view of the resolver: `load(path)` per document,
    cached per directory, re-read when a configuration file's mtime changes."""

    def __init__(self, size: int = 64) -> None:
        super().__init__(watch=True, size=size)

    def load(self, path: PathLike, catalogue: Optional[Dict[str, RuleDoc]] = None) -> Config:
        if catalogue is not None and catalogue is not self.catalogue:
            self.catalogue = catalogue
            self.clear()
        return self.config_for(path)


def check_paths_configs(resolver: Resolver, paths: Sequence[PathLike]) -> None:
    """Read the configuration of each path and raise every problem at once."""
    problems: Dict[str, ConfigError] = {}  # by message: two paths under one broken file report it once
    seen = set()
    for path in paths:
        try:
            found = resolver.config_file_for(path)
            if found in seen:
                continue
            seen.add(found)
            resolver.config_for(path)
        except ConfigError as exc:
            for error in exc.errors:
                problems.setdefault(str(error), error)
    raise_collected(list(problems.values()))
