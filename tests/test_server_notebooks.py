"""`hplint server` with LSP 3.17 notebook documents (pytest-lsp as the
client): the sync capability, diagnostics per cell (cross-cell related
locations), cell text edits, inserts, deletes and moves, quick fixes,
disable-for-line, hover, `notebook.source.fixAll.hplint`, close; push
(VS Code's capabilities) and pull (answered for each cell, and the cells are
pushed too, since VS Code's client does not pull notebook cells)."""

from __future__ import annotations

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient, client_capabilities

from server_helpers import SERVER, apply_workspace_edit, code_actions, codes, uri_of, wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

IMPORTS = "import torch\nimport torch.nn as nn"
DROP = "drop = nn.Dropout(0.5)"
MODEL = "model = nn.Sequential(nn.Linear(4, 8), drop, nn.BatchNorm1d(8))"
ADAM = "%%time\nopt = torch.optim.Adam(model.parameters(), betas=(0.5, 0.9))"
BIAS = "net = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8))"


@pytest_lsp.fixture(scope="module", config=SERVER)
async def client(lsp_client: LanguageClient):
    caps = client_capabilities("visual-studio-code")  # VS Code 1.65 predates LSP notebooks: add them
    caps.notebook_document = lsp.NotebookDocumentClientCapabilities(
        synchronization=lsp.NotebookDocumentSyncClientCapabilities(execution_summary_support=True))
    lsp_client.init_result = await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=caps, initialization_options={"debounce": 20}))
    yield
    await lsp_client.shutdown_session()


class Notebook:
    """A notebook as the client holds it: cell uris, kinds, texts, versions."""

    def __init__(self, client, path, cells):
        self.client, self.uri, self.version, self.counter = client, uri_of(path), 1, 0
        self.cells = [self._new(kind, text) for kind, text in cells]
        client.notebook_document_did_open(lsp.DidOpenNotebookDocumentParams(
            lsp.NotebookDocument(self.uri, "jupyter-notebook", self.version,
                                 [lsp.NotebookCell(kind, uri) for uri, kind, _ in self.cells]),
            [lsp.TextDocumentItem(uri, "python" if kind == lsp.NotebookCellKind.Code else "markdown", 1, text)
             for uri, kind, text in self.cells]))

    def _new(self, kind, text):
        self.counter += 1
        # quoted like VS Code's (`#W0sZmlsZQ%3D%3D`): pygls keys documents unquoted
        return (f"vscode-notebook-cell:{self.uri[len('file://'):]}#W{self.counter}sZmlsZQ%3D%3D", kind, text)

    def uri_at(self, index: int) -> str:  # 1-based, as hplint numbers cells
        return self.cells[index - 1][0]

    def text_at(self, index: int) -> str:
        return self.cells[index - 1][2]

    def _change(self, **cells_change):
        self.version += 1
        self.client.notebook_document_did_change(lsp.DidChangeNotebookDocumentParams(
            lsp.VersionedNotebookDocumentIdentifier(version=self.version, uri=self.uri),
            lsp.NotebookDocumentChangeEvent(cells=lsp.NotebookDocumentCellChanges(**cells_change))))

    def edit_cell(self, index: int, text: str) -> None:
        uri, kind, _ = self.cells[index - 1]
        self.cells[index - 1] = (uri, kind, text)
        self._change(text_content=[lsp.NotebookDocumentCellContentChanges(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=self.version),
            [lsp.TextDocumentContentChangeWholeDocument(text)])])

    def insert_cell(self, index: int, text: str) -> str:
        cell = self._new(lsp.NotebookCellKind.Code, text)
        self.cells.insert(index - 1, cell)
        self._change(structure=lsp.NotebookDocumentCellChangeStructure(
            lsp.NotebookCellArrayChange(index - 1, 0, [lsp.NotebookCell(cell[1], cell[0])]),
            did_open=[lsp.TextDocumentItem(cell[0], "python", 1, text)]))
        return cell[0]

    def delete_cell(self, index: int) -> str:
        uri, _, _ = self.cells.pop(index - 1)
        self._change(structure=lsp.NotebookDocumentCellChangeStructure(
            lsp.NotebookCellArrayChange(index - 1, 1, []), did_close=[lsp.TextDocumentIdentifier(uri)]))
        return uri

    def move_cell(self, index: int, to: int) -> None:
        """A move is a delete and an insert of the same cell (as VS Code sends it)."""
        cell = self.cells.pop(index - 1)
        self._change(structure=lsp.NotebookDocumentCellChangeStructure(
            lsp.NotebookCellArrayChange(index - 1, 1, [])))
        self.cells.insert(to - 1, cell)
        self._change(structure=lsp.NotebookDocumentCellChangeStructure(
            lsp.NotebookCellArrayChange(to - 1, 0, [lsp.NotebookCell(cell[1], cell[0])])))

    def close(self) -> None:
        self.client.notebook_document_did_close(lsp.DidCloseNotebookDocumentParams(
            lsp.NotebookDocumentIdentifier(self.uri), [lsp.TextDocumentIdentifier(c[0]) for c in self.cells]))


def md(text):
    return (lsp.NotebookCellKind.Markup, text)


def code(text):
    return (lsp.NotebookCellKind.Code, text)


async def cell_codes(client, uri, wanted, what=""):
    await wait_for(lambda: codes(client.diagnostics.get(uri, ())) == sorted(wanted), f"{wanted} on {uri} {what}")
    return client.diagnostics.get(uri, ())


async def test_notebook_sync_is_advertised(client):
    sync = client.init_result.capabilities.notebook_document_sync
    assert sync is not None and sync.save
    assert sync.notebook_selector[0].notebook == "jupyter-notebook"
    kinds = client.init_result.capabilities.code_action_provider.code_action_kinds
    assert "notebook.source.fixAll.hplint" in kinds


async def test_diagnostics_per_cell_edits_inserts_deletes_moves(client, tmp_path):
    nb = Notebook(client, tmp_path / "train.ipynb",
                  [md("# Model"), code(IMPORTS), code(DROP), md("then"), code(MODEL), code(ADAM)])
    (d1,) = await cell_codes(client, nb.uri_at(3), ["HPL001"])  # on the dropout
    (d7,) = await cell_codes(client, nb.uri_at(6), ["HPL007"])
    assert d7.range.start.line == 1  # line 2 of the cell: after the %%time magic
    # the BatchNorm it feeds is in cell 5: a related location in another cell document
    assert d1.range.start.line == 0 and "(cell 5, line 1)" in d1.message
    (related,) = d1.related_information
    assert related.location.uri == nb.uri_at(5)
    assert related.location.range.start == lsp.Position(0, MODEL.index("nn.BatchNorm1d"))
    assert list(client.diagnostics[nb.uri_at(5)]) == [] == list(client.diagnostics[nb.uri_at(2)])

    nb.edit_cell(6, "opt = torch.optim.Adam(model.parameters())")  # cell text edit
    await cell_codes(client, nb.uri_at(6), [])
    new = nb.insert_cell(3, BIAS)  # insert: every later cell moves down
    (d2,) = await cell_codes(client, new, ["HPL002"])
    assert "(cell 3, line 1)" in d2.message
    await wait_for(lambda: any("(cell 6, line 1)" in d.message for d in client.diagnostics.get(nb.uri_at(4), ())),
                   "the HPL001 message renumbered after the insert")
    gone = nb.delete_cell(3)
    await cell_codes(client, gone, [], "after the delete")
    drop_cell = nb.uri_at(3)
    nb.move_cell(3, 6)  # `drop` now defined after the model: the dropout no longer feeds it
    await cell_codes(client, drop_cell, [], "after the move")
    nb.move_cell(6, 3)
    await cell_codes(client, drop_cell, ["HPL001"], "after moving back")
    nb.close()
    for index in range(1, len(nb.cells) + 1):
        await cell_codes(client, nb.uri_at(index), [], "after close")


async def test_actions_and_hover_in_a_cell(client, tmp_path):
    nb = Notebook(client, tmp_path / "fix.ipynb", [code(IMPORTS), md("text"), code("x = 1\n" + BIAS)])
    cell = nb.uri_at(3)
    (diag,) = await cell_codes(client, cell, ["HPL002"])
    assert diag.range.start.line == 1
    actions = await code_actions(client, cell, [diag])
    titles = [a.title for a in actions]
    assert "Set bias=False (HPL002)" in titles and "Disable HPL002 for this line" in titles
    fix = next(a for a in actions if a.title == "Set bias=False (HPL002)")
    assert apply_workspace_edit(nb.text_at(3), cell, fix.edit).endswith("nn.Linear(8, 8, bias=False), nn.BatchNorm1d(8))")
    disable = next(a for a in actions if a.title.startswith("Disable"))
    assert apply_workspace_edit(nb.text_at(3), cell, disable.edit).endswith("  # hplint: disable=HPL002")

    hover = await client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(cell), diag.range.start))
    assert hover is not None and "HPL002" in hover.contents.value

    nb_actions = await code_actions(client, cell, [], only=["notebook.source.fixAll"])
    (fix_all,) = [a for a in nb_actions if a.kind == "notebook.source.fixAll.hplint"]
    assert set(fix_all.edit.changes) == {cell}
    nb.edit_cell(3, apply_workspace_edit(nb.text_at(3), cell, fix_all.edit))
    await cell_codes(client, cell, [])
    nb.close()


@pytest_lsp.fixture(scope="module", config=SERVER)
async def pull_client(lsp_client: LanguageClient):
    caps = client_capabilities("neovim@0.10.0")
    caps.workspace.diagnostics = lsp.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    caps.notebook_document = lsp.NotebookDocumentClientCapabilities(
        synchronization=lsp.NotebookDocumentSyncClientCapabilities())
    lsp_client.init_result = await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=caps, initialization_options={"debounce": 0}))
    yield
    await lsp_client.shutdown_session()


async def test_pull_client_pulls_each_cell_and_is_refreshed_when_another_cell_changes(pull_client, tmp_path):
    client = pull_client
    nb = Notebook(client, tmp_path / "pull.ipynb", [code(IMPORTS), code(DROP), code(MODEL)])

    async def pull(index):
        report = await client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
            lsp.TextDocumentIdentifier(nb.uri_at(index))))
        return codes(report.items)

    assert await pull(2) == ["HPL001"] and await pull(3) == [] and await pull(1) == []
    before = client.diagnostic_refresh_count
    nb.edit_cell(3, "model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), drop)")  # another cell
    await wait_for(lambda: client.diagnostic_refresh_count > before, "workspace/diagnostic/refresh")
    assert await pull(2) == [] and await pull(3) == ["HPL002"]
    # cells are pushed as well: VS Code's client does not pull notebook cells
    await cell_codes(client, nb.uri_at(3), ["HPL002"])
    assert list(client.diagnostics.get(nb.uri_at(2), ())) == []
    nb.close()


async def test_sweep_file_in_the_editor(client, tmp_path):
    """Sweep files go through the same server path as Python files."""
    from server_helpers import close_doc, write

    text = "method: random\nparameters:\n  lr:\n    distribution: uniform\n    min: 0.0001\n    max: 0.1\n"
    uri = uri_of(write(tmp_path / "sweep.yaml", text))
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "yaml", 1, text)))
    (diag,) = await cell_codes(client, uri, ["HPL003"])
    assert diag.range == lsp.Range(lsp.Position(3, 18), lsp.Position(3, 25))
    (fix,) = [a for a in await code_actions(client, uri, [diag]) if a.title.startswith("Sample")]
    assert "distribution: log_uniform_values" in apply_workspace_edit(text, uri, fix.edit)
    other = uri_of(write(tmp_path / "ci.yaml", "on: push\n"))
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(other, "yaml", 1, "on: push\n")))
    await wait_for(lambda: other in client.diagnostics, "diagnostics for a plain YAML file")
    assert list(client.diagnostics[other]) == []
    close_doc(client, uri)
    close_doc(client, other)
