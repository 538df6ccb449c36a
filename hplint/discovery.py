"""Which files a run lints.

Directories are walked without following symlinks (no loops). In a walked
directory an entry is skipped when the configuration governing that directory
excludes it (`exclude`, `--exclude`, `--extend-exclude`), or, unless
`respect-gitignore = false` / `--no-respect-gitignore`, when `.gitignore`,
`.ignore` or `.git/info/exclude` ignore it (see gitignore.py).

Paths named on the command line are always linted, symlinks to files included,
as in ruff, unless `force_exclude` is set: then a named path that its
configuration excludes is skipped and reported in `Discovery.excluded`
(pre-commit passes file names and relies on that: its hook passes
`--force-exclude`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple, Union

from .config import Config, ConfigError
from .config_resolver import Resolver
from .gitignore import IgnoreFiles

SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", "build", "dist", "node_modules", "__pycache__",
    ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".eggs", ".hplint",
    ".ipynb_checkpoints",
})
# Notebooks are linted like Python files; YAML/JSON files only when they hold a
# search space (W&B sweep, Hydra sweeper, NNI): the others come back `skipped`.
SUFFIXES = (".py", ".ipynb", ".yaml", ".yml", ".json")


def _big_data_file(path: Path) -> bool:
    """A YAML/JSON file too big to be a sweep file (a dataset, a lock file)."""
    from .sweep_files import MAX_DISCOVERED_BYTES, is_sweep_candidate

    if not is_sweep_candidate(path):
        return False
    try:
        return path.stat().st_size > MAX_DISCOVERED_BYTES
    except OSError:
        return False


@dataclass
class Discovery:
    files: List[Path] = field(default_factory=list)  # to lint, in order
    missing: List[str] = field(default_factory=list)  # named paths that do not exist
    excluded: List[Tuple[str, str]] = field(default_factory=list)  # (named path, why) skipped by force_exclude
    errors: List[ConfigError] = field(default_factory=list)  # broken configurations met (their files skipped)


class _OneConfig:
    """A single Config standing in for a resolver."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def config_for(self, path) -> Config:
        return self.config


def discover(paths: Iterable[Path], settings: Union[Config, Resolver], force_exclude: bool = False) -> Discovery:
    """The files a run over `paths` lints, each under its own configuration."""
    resolver = _OneConfig(settings) if isinstance(settings, Config) else settings
    found = Discovery()
    seen = set()
    ignore_files = IgnoreFiles()
    broken: Dict[str, bool] = {}

    def add(path: Path) -> None:
        key = os.path.abspath(path)
        if key not in seen:
            seen.add(key)
            found.files.append(path)

    def config_of(directory: Path):
        """The configuration governing `directory`, or None when it is broken (recorded once)."""
        try:
            return resolver.config_for(directory)
        except ConfigError as exc:
            for error in exc.errors:
                if str(error) not in broken:
                    broken[str(error)] = True
                    found.errors.append(error)
            return None

    def skipped(path: Path, config: Config, walk_root: Path, is_dir: Optional[bool] = None) -> bool:
        return config.is_excluded(path) or (
            config.respect_gitignore and ignore_files.ignored(path, walk_root, is_dir))

    for root in paths:
        root = Path(root)
        if not os.path.lexists(root):
            found.missing.append(str(root))
            continue
        config = config_of(root)
        if config is None:
            continue
        if force_exclude:
            reason = config.exclusion_reason(root)
            if reason is not None:
                found.excluded.append((str(root), reason))
                continue
        if not root.is_dir():
            add(root)
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            base = Path(dirpath)
            config = config_of(base)  # the directory's configuration decides about its entries
            if config is None:
                dirnames[:] = []
                continue
            dirnames[:] = sorted(
                d for d in dirnames
                if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
                and not skipped(base / d, config, root, True)
            )
            for name in sorted(filenames):
                path = base / name
                if name.endswith(".py") or name.lower().endswith(SUFFIXES[1:]) or config.is_extra_included(path):
                    # Regular files only: a FIFO named x.py would block the read.
                    if path.is_file() and not skipped(path, config, root, False) and not _big_data_file(path):
                        add(path)
    return found
