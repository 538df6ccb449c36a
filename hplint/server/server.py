"""The hplint language server (pygls 2.x): scheduling and LSP plumbing.

Linting itself happens in `Analyzer` on one worker thread (the event loop
stays free to read the editor's messages). Edits are debounced per document,
a queued job whose document has moved on is skipped, and a result is
published only if the document is still at the analysed version, so a burst
of edits never queues stale work.

Diagnostics are pulled (`textDocument/diagnostic`) when the client declares
support, pushed otherwise; notebook cells are always pushed (and answered when
pulled), since VS Code's client does not pull them. Cross-file: after a document is analysed (edited,
saved, closed) the open documents whose last analysis read it, per the
project index's `dependents` records, are re-linted (push) or the client is
asked to pull again (`workspace/diagnostic/refresh`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import unquote

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from .. import __version__
from . import gctune, notebooks
from .actions import FIX_ALL_KIND, code_actions
from .analysis import Analysis, Analyzer
from .diagnostics import PositionMap
from .hover import hover
from .settings import ON_SAVE, Settings, parse_settings

log = logging.getLogger("hplint.server")

CONFIG_NAMES = frozenset({"pyproject.toml", "hplint.toml", ".hplint.toml"})
RELOAD_DELAY_S = 0.05  # coalesces the didSave + didChangeWatchedFiles pair of one edit


def uri_path(uri: str) -> Path:
    """The file a document stands for; unsaved `untitled:` buffers get a
    distinct made-up name in the working directory (for config lookup)."""
    path = to_fs_path(uri) if uri.startswith("file:") else None
    if path:
        return Path(os.path.abspath(path))
    return Path.cwd() / f"_untitled_{hashlib.sha1(uri.encode('utf-8')).hexdigest()[:10]}.py"


def is_config_uri(uri: str) -> bool:
    return uri.rstrip("/").rsplit("/", 1)[-1] in CONFIG_NAMES


class _AnsweringProtocol(LanguageServerProtocol):
    """pygls drops a request whose params do not validate (a negative
    position, a range past 2^31) without replying, and the client waits
    forever. Every request gets an answer: here, an InvalidParams error."""

    def structure_message(self, data: Dict[str, Any]):
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "jsonrpc" in data and "id" in data and "method" in data:
                error = exc.to_response_error()
                detail: Any = exc.__cause__  # an exception group on 3.11+, exceptiongroup's before
                while detail is not None and getattr(detail, "exceptions", None):
                    detail = detail.exceptions[0]  # cattrs nests the validator's error
                if detail is not None:
                    reason = str(detail).strip().splitlines()
                    error = lsp.ResponseError(code=error.code, message=f"{error.message}: "
                                              f"{data['method']}: {reason[0] if reason else type(detail).__name__}")
                self._send_response(data["id"], error=error)
            raise


class HplintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("hplint", __version__, protocol_cls=_AnsweringProtocol,
                         notebook_document_sync=notebooks.SYNC_OPTIONS)
        self.settings = Settings()
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="hplint-analysis")
        self.analyzer = Analyzer(report_config_error=self._config_error_from_worker)
        self.pull = False
        self.refresh_support = False
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.results: Dict[str, Analysis] = {}
        self.tasks: Dict[str, Tuple[asyncio.Task, bool]] = {}  # uri -> (task, re-lint dependents)
        self.last_change: Dict[str, float] = {}
        self.generation = 0  # bumped by every edit anywhere (pull caches key on it)
        self.save_generation = 0  # bumped by open/save/close/config (the "onSave" clock)
        self._reload_task: Optional[asyncio.Task] = None
        self._told: set = set()  # settings problems already shown
        self.notebook_cells: Dict[str, set] = {}  # notebook uri -> cell uris with published diagnostics
        self.gc_tuned = False  # set by tune_gc() at start-up (hplint.server.main)
        self._idle_gc: Optional[asyncio.TimerHandle] = None

    # -- garbage collection (gctune.py says why) --------------------------------
    def tune_gc(self) -> None:
        gctune.tune_gc()
        self.gc_tuned = True

    def _after_lint(self) -> None:
        """After a lint: freeze the first one's caches; (re)arm the idle collection."""
        if not self.gc_tuned or self.loop is None:
            return
        gctune.after_lint()
        if self._idle_gc is not None:
            self._idle_gc.cancel()
        self._idle_gc = self.loop.call_later(gctune.IDLE_S, self._collect_if_idle)

    def _collect_if_idle(self) -> None:
        self._idle_gc = None
        quiet = time.monotonic() - max(self.last_change.values(), default=0.0)
        if self.tasks or quiet < gctune.IDLE_S:  # still editing: try again later
            self._idle_gc = self.loop.call_later(gctune.IDLE_S, self._collect_if_idle) if self.loop else None
            return
        gctune.collect_when_idle()

    # -- helpers -----------------------------------------------------------
    def stamp(self) -> Tuple[int, int]:
        return (self.generation, self.save_generation)

    def document(self, uri: str):
        docs = self.workspace.text_documents  # keyed by unquoted uris (VS Code's cell uris are quoted)
        return docs.get(uri) or docs.get(unquote(uri))

    def python_documents(self) -> List[str]:
        """Open files (notebook cells are linted through their notebook)."""
        return [uri for uri in self.workspace.text_documents
                if not is_config_uri(uri) and self.notebook_of(uri) is None]

    def notebook_of(self, uri: str) -> Optional[str]:
        """The uri of the notebook a cell document belongs to, or None."""
        nb = self.workspace.get_notebook_document(cell_uri=uri)
        return nb.uri if nb is not None else None

    def notebook_documents(self) -> List[str]:
        return list(self.workspace.notebook_documents)

    async def analyze_notebook_now(self, nb_uri: str) -> Optional[Dict[str, Analysis]]:
        snap = notebooks.snapshot(self.workspace, nb_uri)
        if snap is None:
            return None
        analyses = await self.run_job(notebooks.analyze, self.analyzer, uri_path(nb_uri), snap, self.stamp())
        if analyses is not None:
            self.results.update(analyses)
        return analyses

    def schedule_notebook(self, nb_uri: str, delay: float) -> None:
        key = f"notebook:{nb_uri}"
        old = self.tasks.pop(key, None)
        if old is not None:
            old[0].cancel()
        self.tasks[key] = (asyncio.ensure_future(self._lint_notebook_later(nb_uri, delay)), False)

    async def _lint_notebook_later(self, nb_uri: str, delay: float) -> None:
        key = f"notebook:{nb_uri}"
        try:
            if delay > 0:
                await asyncio.sleep(delay)
            snap = notebooks.snapshot(self.workspace, nb_uri)
            if snap is None:
                return
            analyses = await self.run_job(notebooks.analyze, self.analyzer, uri_path(nb_uri), snap, self.stamp())
            now = notebooks.snapshot(self.workspace, nb_uri)
            if analyses is None or now is None or now[0] != snap[0]:
                return
            self.results.update(analyses)
            if self.pull:
                self.request_refresh()
            # Cells are pushed to pull clients too: VS Code's client (vscode-languageclient 9)
            # never pulls diagnostics for notebook cells.
            published = self.notebook_cells.get(nb_uri, set())
            for uri in published - set(analyses):  # deleted cells, or cells that became markdown
                self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
            for uri, analysis in analyses.items():
                self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
                    uri=uri, version=analysis.version, diagnostics=analysis.diagnostics))
            self.notebook_cells[nb_uri] = set(analyses)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("linting notebook %s failed", nb_uri)
        finally:
            current = self.tasks.get(key)
            if current is not None and current[0] is asyncio.current_task():
                del self.tasks[key]

    async def run_job(self, fn: Callable, *args) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, fn, *args)

    def submit(self, fn: Callable, *args) -> None:
        """Queue cheap state updates (overlays) in order with the analyses."""
        future = self.executor.submit(fn, *args)
        future.add_done_callback(lambda f: f.exception() and log.error("worker job failed: %s", f.exception()))

    def show(self, kind: lsp.MessageType, message: str) -> None:
        self.window_show_message(lsp.ShowMessageParams(type=kind, message=message))

    def _config_error_from_worker(self, message: str) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.show, lsp.MessageType.Error, message)

    def apply_settings(self, settings: Settings) -> None:
        """Adopt `settings`, telling the user about bad values once."""
        self.settings = settings
        for problem in settings.problems:
            if problem not in self._told:
                self._told.add(problem)
                log.warning("%s", problem)
                self.show(lsp.MessageType.Warning, f"hplint: {problem}")

    # -- analysis ------------------------------------------------------------
    def _analyze_job(self, uri: str, text: str, version: Optional[int], stamp, only_if_current: bool) -> Optional[Analysis]:
        """Runs on the worker thread. Skips versions the editor has moved past."""
        if only_if_current:
            doc = self.document(uri)
            if doc is None or doc.version != version:
                return None
        analysis = self.analyzer.analyze(uri_path(uri), text, version, stamp)
        if analysis is not None:
            for diag in analysis.diagnostics:
                if isinstance(diag.data, dict):
                    diag.data["version"] = version
            if analysis.errors and self.loop is not None:
                for message in analysis.errors:
                    self.loop.call_soon_threadsafe(
                        self.window_log_message, lsp.LogMessageParams(lsp.MessageType.Error, f"hplint: {message}"))
        return analysis

    async def analyze_now(self, uri: str, only_if_current: bool = False) -> Optional[Analysis]:
        doc = self.document(uri)
        if doc is None:
            return None
        nb_uri = self.notebook_of(uri)
        if nb_uri is not None:  # a cell: lint its notebook
            analyses = await self.analyze_notebook_now(nb_uri)
            return analyses.get(uri) if analyses else None
        return await self.run_job(self._analyze_job, uri, doc.source, doc.version, self.stamp(), only_if_current)

    async def current_analysis(self, uri: str) -> Optional[Analysis]:
        """An analysis of the document's present version (cached or fresh)."""
        doc = self.document(uri)
        if doc is None:
            return None
        cached = self.results.get(uri)
        if cached is not None and cached.version == doc.version and (
                self.notebook_of(uri) is None or cached.generation == self.stamp()):  # other cells may have changed
            return cached
        return await self.analyze_now(uri)

    def schedule(self, uri: str, delay: float, dependents: bool = False) -> None:
        """(Re)start the debounced lint of one document."""
        old = self.tasks.pop(uri, None)
        if old is not None:
            old[0].cancel()
            dependents = dependents or old[1]
        task = asyncio.ensure_future(self._lint_later(uri, delay, dependents))
        self.tasks[uri] = (task, dependents)

    async def _lint_later(self, uri: str, delay: float, dependents: bool) -> None:
        try:
            if delay > 0:
                await asyncio.sleep(delay)
            doc = self.document(uri)
            if doc is None:
                return
            version = doc.version
            started = time.perf_counter()
            analysis = await self.run_job(self._analyze_job, uri, doc.source, version, self.stamp(), True)
            doc = self.document(uri)
            if analysis is None or doc is None or doc.version != version:
                return
            log.info("linted %s v%s in %.0f ms", uri, version, (time.perf_counter() - started) * 1000)
            self.results[uri] = analysis
            if not self.pull:
                self.text_document_publish_diagnostics(
                    lsp.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=analysis.diagnostics))
            self._after_lint()
            if dependents:
                await self.update_dependents(uri)
        except asyncio.CancelledError:
            raise
        except Exception:  # never let a scheduling bug kill the loop's task silently
            log.exception("linting %s failed", uri)
        finally:
            current = self.tasks.get(uri)
            if current is not None and current[0] is asyncio.current_task():
                del self.tasks[uri]

    async def update_dependents(self, uri: str) -> None:
        open_docs = {uri_path(u): u for u in self.python_documents() + self.notebook_documents() if u != uri}
        if not open_docs:
            return
        paths = await self.run_job(self.analyzer.dependents, uri_path(uri), list(open_docs))
        if not paths:
            return
        log.info("re-linting %d document(s) that depend on %s", len(paths), uri)
        if self.pull:
            self.request_refresh()
        else:
            for path in paths:
                if open_docs[path] in self.workspace.notebook_documents:
                    self.schedule_notebook(open_docs[path], 0)
                else:
                    self.schedule(open_docs[path], 0)

    def request_refresh(self) -> None:
        if self.refresh_support:
            self.workspace_diagnostic_refresh(None)

    def relint_all(self) -> None:
        self.generation += 1
        self.save_generation += 1
        self.results.clear()
        if self.pull:
            self.request_refresh()
        else:
            for uri in self.python_documents():
                self.schedule(uri, 0)
            for uri in self.notebook_documents():
                self.schedule_notebook(uri, 0)

    # -- pull diagnostics --------------------------------------------------
    def _cached_for_pull(self, uri: str) -> Optional[Analysis]:
        cached = self.results.get(uri)
        doc = self.document(uri)
        if cached is None or doc is None:
            return None
        if self.settings.run == ON_SAVE:
            return cached if cached.generation[1] == self.save_generation else None
        return cached if cached.version == doc.version and cached.generation == self.stamp() else None

    async def pull_analysis(self, uri: str) -> Optional[Analysis]:
        cached = self._cached_for_pull(uri)
        if cached is not None:
            return cached
        if self.settings.run != ON_SAVE:
            wait = self.settings.debounce_s - (time.monotonic() - self.last_change.get(uri, 0.0))
            if wait > 0:
                await asyncio.sleep(wait)
        analysis = await self.analyze_now(uri)
        if analysis is not None:
            self.results[uri] = analysis
            self._after_lint()
        return analysis

    # -- configuration ---------------------------------------------------------
    def schedule_reload(self) -> None:
        if self._reload_task is not None:
            self._reload_task.cancel()
        self._reload_task = asyncio.ensure_future(self._reload())

    async def _reload(self) -> None:
        await asyncio.sleep(RELOAD_DELAY_S)
        log.info("configuration changed: reloading")
        await self.run_job(self.analyzer.reload)
        self.relint_all()


def workspace_roots(params: lsp.InitializeParams) -> List[Path]:
    """The workspace folders (multi-root), else the root the client named."""
    folders = [f.uri for f in params.workspace_folders or []]
    if not folders and params.root_uri:
        folders = [params.root_uri]
    roots = [uri_path(uri) for uri in folders if uri.startswith("file:")]
    if not roots and params.root_path:
        roots = [Path(os.path.abspath(params.root_path))]
    return roots


def create_server() -> HplintServer:
    server = HplintServer()

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: HplintServer, params: lsp.InitializeParams) -> None:
        caps = params.capabilities
        ls.pull = caps.text_document is not None and caps.text_document.diagnostic is not None
        ls.refresh_support = bool(caps.workspace and caps.workspace.diagnostics
                                  and caps.workspace.diagnostics.refresh_support)
        if not ls.pull:  # advertise diagnosticProvider only to clients that pull
            ls.protocol.fm.features.pop(lsp.TEXT_DOCUMENT_DIAGNOSTIC, None)
            ls.protocol.fm.feature_options.pop(lsp.TEXT_DOCUMENT_DIAGNOSTIC, None)
        ls.settings = parse_settings(params.initialization_options, ls.analyzer.catalogue)
        ls.analyzer.set_roots(workspace_roots(params))
        ls.analyzer.codec = ls.workspace.position_codec
        ls.analyzer.set_settings(ls.settings)
        log.info("initialized: %s diagnostics, settings %s", "pull" if ls.pull else "push", ls.settings)

    @server.feature(lsp.INITIALIZED)
    def initialized(ls: HplintServer, params: lsp.InitializedParams) -> None:
        ls.loop = asyncio.get_running_loop()
        ls.apply_settings(ls.settings)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: HplintServer, params: lsp.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.loop = ls.loop or asyncio.get_running_loop()
        if is_config_uri(uri) or ls.notebook_of(uri) is not None:  # cells: linted with their notebook
            return
        ls.generation += 1
        ls.save_generation += 1
        ls.submit(ls.analyzer.set_overlay, uri_path(uri), params.text_document.text)
        if not ls.pull:
            ls.schedule(uri, 0, dependents=True)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: HplintServer, params: lsp.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        doc = ls.document(uri)
        if doc is None or is_config_uri(uri) or ls.notebook_of(uri) is not None:
            return
        ls.generation += 1
        ls.last_change[uri] = time.monotonic()
        ls.submit(ls.analyzer.set_overlay, uri_path(uri), doc.source)
        if ls.settings.run == ON_SAVE:
            return
        if ls.pull:
            _debounced_dependents(ls, uri)
        else:
            ls.schedule(uri, ls.settings.debounce_s, dependents=True)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: HplintServer, params: lsp.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        if is_config_uri(uri):
            ls.schedule_reload()
            return
        ls.generation += 1
        ls.save_generation += 1
        ls.submit(ls.analyzer.invalidate, uri_path(uri))
        if ls.pull:
            asyncio.ensure_future(ls.update_dependents(uri))
        else:
            ls.schedule(uri, 0, dependents=True)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: HplintServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        task = ls.tasks.pop(uri, None)
        if task is not None:
            task[0].cancel()
        ls.results.pop(uri, None)
        ls.last_change.pop(uri, None)
        if is_config_uri(uri):
            return
        ls.generation += 1
        ls.save_generation += 1
        ls.submit(ls.analyzer.set_overlay, uri_path(uri), None)
        if not ls.pull:
            ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        asyncio.ensure_future(ls.update_dependents(uri))

    @server.feature(lsp.NOTEBOOK_DOCUMENT_DID_OPEN)
    def notebook_did_open(ls: HplintServer, params: lsp.DidOpenNotebookDocumentParams) -> None:
        ls.loop = ls.loop or asyncio.get_running_loop()
        ls.generation += 1
        ls.save_generation += 1
        ls.schedule_notebook(params.notebook_document.uri, 0)

    @server.feature(lsp.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def notebook_did_change(ls: HplintServer, params: lsp.DidChangeNotebookDocumentParams) -> None:
        uri = params.notebook_document.uri
        ls.generation += 1
        if ls.settings.run == ON_SAVE:
            return
        ls.schedule_notebook(uri, ls.settings.debounce_s)  # pull: ends in a refresh (other cells change too)

    @server.feature(lsp.NOTEBOOK_DOCUMENT_DID_SAVE)
    def notebook_did_save(ls: HplintServer, params: lsp.DidSaveNotebookDocumentParams) -> None:
        ls.generation += 1
        ls.save_generation += 1
        ls.schedule_notebook(params.notebook_document.uri, 0)

    @server.feature(lsp.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def notebook_did_close(ls: HplintServer, params: lsp.DidCloseNotebookDocumentParams) -> None:
        uri = params.notebook_document.uri
        task = ls.tasks.pop(f"notebook:{uri}", None)
        if task is not None:
            task[0].cancel()
        ls.generation += 1
        ls.save_generation += 1
        cells = ls.notebook_cells.pop(uri, set()) | {c.uri for c in params.cell_text_documents}
        for cell in cells:
            ls.results.pop(cell, None)
            ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=cell, diagnostics=[]))

    @server.feature(
        lsp.TEXT_DOCUMENT_DIAGNOSTIC,
        lsp.DiagnosticOptions(identifier="hplint", inter_file_dependencies=True, workspace_diagnostics=False),
    )
    async def diagnostic(ls: HplintServer, params: lsp.DocumentDiagnosticParams):
        analysis = await ls.pull_analysis(params.text_document.uri)
        if analysis is None:
            return lsp.RelatedFullDocumentDiagnosticReport(items=[])
        result_id = analysis.result_id
        if params.previous_result_id == result_id:
            return lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        return lsp.RelatedFullDocumentDiagnosticReport(items=analysis.diagnostics, result_id=result_id)

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL_KIND,
                                                 notebooks.NOTEBOOK_FIX_ALL_KIND]),
    )
    async def code_action(ls: HplintServer, params: lsp.CodeActionParams):
        uri = params.text_document.uri
        doc = ls.document(uri)
        if doc is None or is_config_uri(uri):
            return None
        analysis = await ls.current_analysis(uri)
        doc = ls.document(uri)
        if doc is None:
            return None
        if analysis is not None and analysis.version != doc.version:
            analysis = None
        positions = analysis.positions if analysis is not None else PositionMap(doc.source, ls.workspace.position_codec)
        actions = code_actions(uri, params, doc.source, positions, analysis, doc.version)
        nb_uri = ls.notebook_of(uri)
        only = params.context.only or []
        if nb_uri is not None and any(notebooks.NOTEBOOK_FIX_ALL_KIND.startswith(o) for o in only):
            analyses = await ls.analyze_notebook_now(nb_uri)
            action = notebooks.fix_all_cells(analyses) if analyses else None
            if action is not None:
                actions.append(action)
        return actions or None

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    async def on_hover(ls: HplintServer, params: lsp.HoverParams):
        uri = params.text_document.uri
        if ls.document(uri) is None or is_config_uri(uri):
            return None
        analysis = await ls.current_analysis(uri)
        doc = ls.document(uri)
        if doc is None:
            return None
        if analysis is not None and analysis.version == doc.version:
            text, positions = analysis.text, analysis.positions
        else:
            analysis, text, positions = None, doc.source, PositionMap(doc.source, ls.workspace.position_codec)
        return hover(text, params.position, positions, analysis, ls.analyzer.catalogue, ls.settings.explain_command)

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: HplintServer, params: lsp.DidChangeConfigurationParams) -> None:
        settings = parse_settings(params.settings, ls.analyzer.catalogue, base=ls.settings)
        changed = settings != ls.settings
        ls.apply_settings(settings)
        if not changed:
            return
        await ls.run_job(ls.analyzer.set_settings, settings)
        ls.relint_all()

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_workspace_folders(ls: HplintServer, params: lsp.DidChangeWorkspaceFoldersParams) -> None:
        # pygls has updated ls.workspace.folders already
        roots = [uri_path(f.uri) for f in ls.workspace.folders.values() if f.uri.startswith("file:")]
        await ls.run_job(ls.analyzer.set_roots, roots)
        ls.relint_all()

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def did_change_watched_files(ls: HplintServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        changed_python = []
        for change in params.changes:
            if is_config_uri(change.uri):
                ls.schedule_reload()
            elif change.uri.endswith(".py"):
                changed_python.append(change.uri)
        for uri in changed_python:
            await ls.run_job(ls.analyzer.invalidate, uri_path(uri))
            if ls.document(uri) is None:  # open documents are their own truth
                ls.generation += 1
                await ls.update_dependents(uri)

    return server


def _debounced_dependents(ls: HplintServer, uri: str) -> None:
    """Pull mode: after the edit burst, ask the client to pull the documents
    that depend on the edited one."""
    key = f"deps:{uri}"
    old = ls.tasks.pop(key, None)
    if old is not None:
        old[0].cancel()

    async def later() -> None:
        await asyncio.sleep(ls.settings.debounce_s)
        await ls.update_dependents(uri)

    ls.tasks[key] = (asyncio.ensure_future(later()), False)
