"""`hplint server` with a pull client (Neovim 0.10's capabilities, which
declare `textDocument.diagnostic`, plus refresh support): the server
advertises `diagnosticProvider`, answers `textDocument/diagnostic` with
result ids, never pushes, and asks for a refresh when a dependency changes."""

from __future__ import annotations

import pytest
import pytest_asyncio
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient, client_capabilities

from server_helpers import (
    SERVER,
    close_doc,
    codes,
    open_doc,
    record_publications,
    replace_all,
    reset_server,
    wait_for,
    write,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

BIAS = "import torch.nn as nn\n\nnet = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8))\n"
CLEAN = BIAS.replace("nn.Linear(8, 8)", "nn.Linear(8, 8, bias=False)")
INIT_OPTIONS = {"select": [], "ignore": [], "severity": {}, "run": "onType", "debounce": 0}


@pytest_lsp.fixture(scope="module", config=SERVER)
async def client(lsp_client: LanguageClient):
    caps = client_capabilities("neovim@0.10.0")
    caps.workspace.diagnostics = lsp.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    lsp_client.init_result = await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=caps, initialization_options=INIT_OPTIONS))
    lsp_client.publications = record_publications(lsp_client)
    yield
    await lsp_client.shutdown_session()


@pytest_asyncio.fixture(autouse=True, loop_scope="module")
async def fresh_server(client):
    yield
    await reset_server(client, INIT_OPTIONS)


async def pull(client, uri, previous=None):
    return await client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
        lsp.TextDocumentIdentifier(uri), previous_result_id=previous))


async def test_diagnostic_provider_is_advertised(client):
    provider = client.init_result.capabilities.diagnostic_provider
    assert provider is not None and provider.inter_file_dependencies


async def test_pull_full_then_unchanged_then_changed(client, tmp_path):
    uri = open_doc(client, write(tmp_path / "net.py", BIAS))
    report = await pull(client, uri)
    assert report.kind == "full" and codes(report.items) == ["HPL002"]
    assert report.items[0].range.start == lsp.Position(2, 20)
    same = await pull(client, uri, report.result_id)
    assert same.kind == "unchanged" and same.result_id == report.result_id
    replace_all(client, uri, CLEAN, 2)
    changed = await pull(client, uri, report.result_id)
    assert changed.kind == "full" and list(changed.items) == []
    # With no debounce a push would be queued on the server's one worker
    # before the next pull's analysis, so it would arrive before the answer.
    replace_all(client, uri, BIAS, 3)
    assert codes((await pull(client, uri, changed.result_id)).items) == ["HPL002"]
    assert [p for p in client.publications if p.uri == uri] == [], "a pull client got a push"
    close_doc(client, uri)


async def test_broken_document_in_pull_mode(client, tmp_path):
    uri = open_doc(client, write(tmp_path / "broken.py", "def f(:\n    pass\n"))
    report = await pull(client, uri)
    assert codes(report.items) == ["HPL000"]
    assert report.items[0].range.start.line == 0
    close_doc(client, uri)


async def test_dependency_edit_requests_a_refresh(client, tmp_path):
    bad = "import torch.nn as nn\n\n\ndef make_block():\n    return [nn.Linear(8, 8), nn.Dropout(0.5)]\n"
    good = bad.replace("nn.Linear(8, 8), nn.Dropout(0.5)", "nn.Dropout(0.5), nn.Linear(8, 8, bias=False)")
    blocks = write(tmp_path / "blocks.py", bad)
    train = open_doc(client, write(tmp_path / "train.py",
                                   "import torch.nn as nn\nfrom blocks import make_block\n\n"
                                   "model = nn.Sequential(*make_block(), nn.BatchNorm1d(8))\n"))
    assert codes((await pull(client, train)).items) == ["HPL001"]
    blocks_uri = open_doc(client, blocks)
    assert not (await pull(client, blocks_uri)).items
    before = client.diagnostic_refresh_count
    replace_all(client, blocks_uri, good, 2)
    await wait_for(lambda: client.diagnostic_refresh_count > before, "workspace/diagnostic/refresh")
    assert not (await pull(client, train)).items
    close_doc(client, blocks_uri)
    close_doc(client, train)
