"""Shared pieces of the language-server tests: starting `hplint server` under
pytest-lsp, opening/editing documents, waiting for diagnostics, and applying
LSP text edits (UTF-16 columns) to a string the way an editor would."""

from __future__ import annotations

import asyncio
import re
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence

from lsprotocol import types as lsp
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig

SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "hplint", "server"])
TIMEOUT = 15.0


def uri_of(path: Path) -> str:
    return from_fs_path(str(path))


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _offset(lines: List[str], pos: lsp.Position) -> int:
    """Offset in a string of an LSP position (UTF-16 columns)."""
    offset = sum(len(line) for line in lines[: pos.line])
    line = (lines[pos.line] if pos.line < len(lines) else "").rstrip("\r\n")
    units = 0
    for i, ch in enumerate(line):
        if units >= pos.character:
            return offset + i
        units += utf16_len(ch)
    return offset + len(line)


def apply_edits(text: str, edits: Sequence[lsp.TextEdit]) -> str:
    """Apply non-overlapping edits given against the same original text."""
    lines = text.splitlines(keepends=True) or [""]
    spans = [(_offset(lines, e.range.start), _offset(lines, e.range.end), e.new_text) for e in edits]
    for start, end, new in sorted(spans, key=lambda s: (s[0], s[1]), reverse=True):
        text = text[:start] + new + text[end:]
    return text


def apply_workspace_edit(text: str, uri: str, edit: lsp.WorkspaceEdit) -> str:
    assert edit.changes is not None and set(edit.changes) == {uri}, edit
    return apply_edits(text, edit.changes[uri])


def open_doc(client, path: Path, text: Optional[str] = None, version: int = 1) -> str:
    if text is None:
        text = path.read_text(encoding="utf-8")
    uri = uri_of(path)
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))
    client.__dict__.setdefault("open_uris", set()).add(uri)
    return uri


def replace_all(client, uri: str, text: str, version: int) -> None:
    """A didChange carrying the whole new text."""
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
        [lsp.TextDocumentContentChangeWholeDocument(text=text)]))


def close_doc(client, uri: str) -> None:
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(lsp.TextDocumentIdentifier(uri)))
    client.__dict__.setdefault("open_uris", set()).discard(uri)


def record_publications(client) -> List[lsp.PublishDiagnosticsParams]:
    """Every textDocument/publishDiagnostics the client receives from now on,
    in order, with its document version (`client.diagnostics` keeps only the
    latest diagnostics per URI, without the version)."""
    features = client.protocol.fm.features
    method = lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS
    original = features[method]
    log: List[lsp.PublishDiagnosticsParams] = []

    def recording(params):
        log.append(params)
        return original(params)

    features[method] = recording
    return log


async def published(client, uri: str, version: Optional[int], since: int = 0,
                    what: str = "a publication") -> lsp.PublishDiagnosticsParams:
    """Wait for the publication of `uri` at `version` (among client.publications[since:])."""
    def found():
        return next((p for p in client.publications[since:] if p.uri == uri and p.version == version), None)

    await wait_for(lambda: found() is not None, f"{what} of {uri} v{version}")
    result = found()
    assert result is not None
    return result


async def reset_server(client, settings: Dict) -> None:
    """Put a shared server back into its initial state after a test: close what
    the test left open, send the initial settings again, and forget what the
    client received. A request answered afterwards proves the server has read
    those notifications (it handles messages in order)."""
    for uri in sorted(client.__dict__.get("open_uris", ())):
        close_doc(client, uri)
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams({"hplint": settings}))
    await client.text_document_hover_async(lsp.HoverParams(
        lsp.TextDocumentIdentifier("file:///nonexistent/barrier.py"), lsp.Position(0, 0)))
    client.diagnostics.clear()
    client.messages.clear()


async def wait_for(predicate: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def diagnostics_where(client, uri: str, predicate: Callable[[Sequence[lsp.Diagnostic]], bool],
                            what: str = "diagnostics") -> Sequence[lsp.Diagnostic]:
    await wait_for(lambda: uri in client.diagnostics and predicate(client.diagnostics[uri]), f"{what} for {uri}")
    return client.diagnostics[uri]


def codes(diagnostics: Iterable[lsp.Diagnostic]) -> List[str]:
    return sorted(str(d.code) for d in diagnostics)


def has_codes(*wanted: str) -> Callable[[Sequence[lsp.Diagnostic]], bool]:
    return lambda diags: codes(diags) == sorted(wanted)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def position_of(text: str, needle: str, occurrence: int = 0) -> lsp.Position:
    """The UTF-16 LSP position of the `occurrence`-th `needle` in `text`."""
    index = [m.start() for m in re.finditer(re.escape(needle), text)][occurrence]
    line = text.count("\n", 0, index)
    col = index - (text.rfind("\n", 0, index) + 1)
    line_text = text.splitlines()[line]
    return lsp.Position(line, utf16_len(line_text[:col]))


async def code_actions(client, uri: str, diagnostics: Sequence[lsp.Diagnostic], rng: Optional[lsp.Range] = None,
                       only: Optional[List[str]] = None) -> List[lsp.CodeAction]:
    rng = rng or (diagnostics[0].range if diagnostics else lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)))
    result = await client.text_document_code_action_async(lsp.CodeActionParams(
        lsp.TextDocumentIdentifier(uri), rng, lsp.CodeActionContext(diagnostics=list(diagnostics), only=only)))
    return [a for a in (result or []) if isinstance(a, lsp.CodeAction)]
