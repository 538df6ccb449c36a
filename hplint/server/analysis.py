"""The server's analysis wrapper: one `Linter` per effective configuration,
open buffers as project overlays, and the guard that turns any exception into
a logged error instead of a dead server.

Every method runs on the server's single analysis thread, so the linters,
their project indexes and the config cache are never touched concurrently
and work is done in the order the editor asked for it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Set, Tuple

from lsprotocol import types as lsp
from pygls.workspace.position_codec import PositionCodec

from ..analysis.project import module_name_for
from ..analysis.source import SourceError
from ..catalogue import load_catalogue
from ..config import Config, ConfigError, load_config_file
from ..config_resolver import ConfigCache
from ..engine import Linter
from ..findings import Finding
from ..probe.store import ProbeVerdicts
from ..source_text import decode_file
from .diagnostics import PositionMap, to_diagnostics
from .settings import Settings

log = logging.getLogger("hplint.server")


@dataclass
class Analysis:
    """The result of linting one version of one document."""

    path: Path
    version: Optional[int]
    generation: int
    text: str
    positions: PositionMap
    findings: List[Finding]
    diagnostics: List[lsp.Diagnostic]
    errors: List[str] = field(default_factory=list)

    @property
    def result_id(self) -> str:
        """Same diagnostics, same id: lets pull clients keep what they have."""
        payload = json.dumps([(d.range.start.line, d.range.start.character, d.range.end.line,
                               d.range.end.character, d.code, d.message, int(d.severity or 0))
                              for d in self.diagnostics])
        return hashlib.sha1(payload.encode("utf-8")).hexdigest()[:16]


def _as_raw(finding: Finding) -> Finding:
    """A notebook finding placed on the .ipynb text itself (its fix edits cell
    text, so it is dropped)."""
    from dataclasses import replace

    if finding.raw_span is None:
        return finding
    related = tuple(replace(r, span=r.raw_span, cell=None) if r.raw_span is not None else r for r in finding.related)
    return replace(finding, span=finding.raw_span, cell=None, raw_span=None, fix=None, related=related)


class Analyzer:
    """Lints editor buffers. `report_config_error(message)` is called once per
    distinct configuration problem (the server shows it to the user)."""

    def __init__(
        self,
        settings: Optional[Settings] = None,
        codec: Optional[PositionCodec] = None,
        report_config_error: Callable[[str], None] = lambda message: None,
        linter_factory: Callable[[Config], Linter] = lambda config: Linter(config, incremental=True),
    ) -> None:
        self.settings = settings or Settings()
        self.codec = codec or PositionCodec()
        self.report_config_error = report_config_error
        self.linter_factory = linter_factory
        self.catalogue = load_catalogue()
        self._configs = ConfigCache()  # the resolver: directory -> the configuration that governs it
        self._verdicts = ProbeVerdicts()  # saved `hplint probe` verdicts
        self._linters: Dict[int, Tuple[Config, Linter]] = {}  # id(project config) -> linter
        self._broken: Dict[str, Config] = {}  # directory -> fallback, while its config is invalid
        self._explicit: Optional[Tuple[Path, Optional[float], Config]] = None  # the `configuration` setting's file
        self._reported: Set[str] = set()
        self._overlays: Dict[Path, str] = {}
        self._modules: Dict[Path, str] = {}

    # -- configuration ---------------------------------------------------------
    def set_settings(self, settings: Settings) -> None:
        if settings.configuration != self.settings.configuration:
            self._broken.clear()
            self._explicit = None
        self.settings = settings
        self._linters.clear()

    def set_roots(self, roots: Iterable[Path]) -> None:
        """The workspace folders: a document with no configuration file above it
        gets the defaults rooted at the folder holding it (multi-root workspaces)."""
        self._configs.set_roots(roots)
        self._linters.clear()
        self._broken.clear()

    def _explicit_config(self, name: str) -> Config:
        """The file the `configuration` setting names, reread when it changes."""
        path = Path(os.path.abspath(os.path.expanduser(name)))
        try:
            mtime: Optional[float] = path.stat().st_mtime
        except OSError:
            mtime = None
        hit = self._explicit
        if hit is not None and hit[0] == path and hit[1] == mtime:
            return hit[2]
        if mtime is None:
            raise ConfigError(str(path), None, "the file named by the hplint.configuration setting does not exist")
        config = load_config_file(path, self.catalogue)
        self._explicit = (path, mtime, config)
        return config

    def reload(self) -> None:
        """A configuration file changed: read every configuration again."""
        self._configs.clear()
        self._linters.clear()
        self._broken.clear()
        self._explicit = None
        self._reported.clear()
        self._modules.clear()  # packages (__init__.py) may have appeared

    def config_for(self, path: Path) -> Config:
        directory = str(path.parent)
        if directory in self._broken:
            return self._broken[directory]
        try:
            if self.settings.configuration:
                return self._explicit_config(self.settings.configuration)
            return self._configs.load(path, self.catalogue)
        except ConfigError as exc:
            message = f"hplint: invalid configuration, using defaults: {exc}"
            log.error("%s", message)
            if message not in self._reported:
                self._reported.add(message)
                self.report_config_error(message)
            fallback = self._configs.defaults_for(path)
            self._broken[directory] = fallback
            return fallback

    def linter_for(self, path: Path) -> Linter:
        base = self.config_for(path)
        hit = self._linters.get(id(base))
        if hit is not None and hit[0] is base:
            return hit[1]
        linter = self.linter_factory(self.settings.apply(base))
        for overlay_path, text in self._overlays.items():
            linter.project.set_overlay(overlay_path, text)
        self._linters[id(base)] = (base, linter)
        return linter

    # -- buffers -------------------------------------------------------------
    def set_overlay(self, path: Path, text: Optional[str]) -> None:
        """`text` is what an open document holds now; None when it is closed."""
        path = Path(os.path.abspath(path))
        if text is None:
            self._overlays.pop(path, None)
            for _, linter in self._linters.values():
                linter.forget(path)  # a closed document's trees must not stay alive
        elif self._overlays.get(path) == text:
            return
        else:
            self._overlays[path] = text
        for _, linter in self._linters.values():
            linter.project.set_overlay(path, text)

    def invalidate(self, path: Path) -> None:
        """A file changed on disk (saved, or changed outside the editor)."""
        for _, linter in self._linters.values():
            linter.project.invalidate(path)

    # -- linting -------------------------------------------------------------
    def analyze(self, path: Path, text: str, version: Optional[int] = None, generation: int = 0) -> Optional[Analysis]:
        """Lint `text` as the contents of `path`. Returns None (and logs) if
        anything inside the linter raises."""
        try:
            path = Path(os.path.abspath(path))
            self.set_overlay(path, text)
            linter = self.linter_for(path)
            result = linter.lint_text(text, path, shown_as=str(path))
            if path.suffix == ".py":  # saved probe verdicts join the findings (one named step)
                result.findings = self._verdicts.annotate(path, text, result.findings)
            for message in result.errors:  # a crashed rule: also an HPL000 diagnostic in the document
                log.error("%s", message)
            if str(path).lower().endswith(".ipynb"):  # an .ipynb opened as JSON text, not as a notebook
                result.findings = [_as_raw(f) for f in result.findings]
            positions = PositionMap(text, self.codec)
            diagnostics = to_diagnostics(result.findings, positions, linter.catalogue, self._other_file)
            return Analysis(path, version, generation, text, positions, result.findings, diagnostics, list(result.errors))
        except Exception as exc:  # the server must outlive any bug in a rule or the engine
            log.error("internal error while analysing %s: %s: %s\n%s", path, type(exc).__name__, exc,
                      traceback.format_exc())
            return None

    def _other_file(self, shown: str) -> Optional[PositionMap]:
        path = Path(os.path.abspath(shown))
        text = self._overlays.get(path)
        if text is None:
            try:
                decoded = decode_file(path, path.read_bytes())
            except OSError:
                return None
            if isinstance(decoded, SourceError):
                return None
            text = decoded
        return PositionMap(text, self.codec)

    # -- cross-file ------------------------------------------------------------
    def module_of(self, path: Path) -> str:
        path = Path(os.path.abspath(path))
        name = self._modules.get(path)
        if name is None:
            name = self._modules[path] = module_name_for(path)[0]
        return name

    def dependents(self, changed: Path, open_paths: Iterable[Path]) -> List[Path]:
        """The open documents whose last analysis read `changed` (directly or
        through other project modules), from the project indexes' records."""
        requesters: Dict[str, Set[str]] = {}
        for _, linter in self._linters.values():
            for module, users in list(linter.project.dependents.items()):
                requesters.setdefault(module, set()).update(users)
        seen: Set[str] = set()
        todo = [self.module_of(changed)]
        while todo:
            for user in requesters.get(todo.pop(), ()):
                if user not in seen:
                    seen.add(user)
                    todo.append(user)
        changed = Path(os.path.abspath(changed))
        return [p for p in open_paths if Path(os.path.abspath(p)) != changed and self.module_of(p) in seen]
