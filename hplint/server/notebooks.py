"""LSP 3.17 notebook documents: `notebookDocument/didOpen|didChange|didSave|didClose`.

pygls keeps the notebook (cell order, kinds) and each cell's text document in
the workspace and applies cell inserts, deletes, moves and text edits; this
module lints the notebook as one virtual module (hplint/notebook.py) from that
state and splits the result per cell: each code cell gets its own `Analysis`
(cell text, cell positions, the findings on its lines), so diagnostics are
published per cell document and code actions and hover work in a cell exactly
as in a file. `notebook.source.fixAll.hplint` returns one edit over all cells.
"""

from __future__ import annotations

import logging
import os
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from lsprotocol import types as lsp

from ..findings import FixSafety
from ..notebook import Cell, Notebook, lint_virtual, map_result
from .analysis import Analysis
from .diagnostics import PositionMap, path_uri, to_diagnostic

log = logging.getLogger("hplint.server")

NOTEBOOK_FIX_ALL_KIND = "notebook.source.fixAll.hplint"
# Every cell of a Jupyter notebook is synced (markdown too), so cell numbers in
# messages are the ones Jupyter shows.
SYNC_OPTIONS = lsp.NotebookDocumentSyncOptions(
    notebook_selector=[lsp.NotebookDocumentFilterWithNotebook(notebook="jupyter-notebook")], save=True)
_PYTHON = {"python", "python3", "ipython"}

# (cell uri, is code, text, cell version)
Snapshot = Tuple[int, List[Tuple[str, bool, str, Optional[int]]]]


def snapshot(workspace, notebook_uri: str) -> Optional[Snapshot]:
    """The notebook's version and its cells' texts, read on the event loop."""
    nb = workspace.get_notebook_document(notebook_uri=notebook_uri)
    if nb is None:
        return None
    from urllib.parse import unquote

    cells = []
    for cell in nb.cells:
        # pygls keys documents by the unquoted uri; VS Code's cell uris are quoted (`#W0sZmlsZQ%3D%3D`)
        doc = workspace.text_documents.get(unquote(cell.document))
        if doc is None:
            continue
        code = cell.kind == lsp.NotebookCellKind.Code and (doc.language_id or "python").lower() in _PYTHON
        cells.append((cell.document, code, doc.source, doc.version))
    return nb.version, cells


def analyze(analyzer, path: Path, snap: Snapshot, generation) -> Optional[Dict[str, Analysis]]:
    """Runs on the analysis thread: one Analysis per code cell, keyed by cell uri."""
    try:
        path = Path(os.path.abspath(path))
        _, cells = snap
        nb = Notebook("", [Cell(i, "code" if code else "markdown", text)
                           for i, (_, code, text, _) in enumerate(cells, start=1)])
        linter = analyzer.linter_for(path)
        result, vm = lint_virtual(linter, nb, path, str(path))
        mapped = map_result(result, nb, vm, str(path), "")
        positions = {i: PositionMap(text, analyzer.codec) for i, (_, code, text, _) in enumerate(cells, start=1)}
        uris = {i: uri for i, (uri, _, _, _) in enumerate(cells, start=1)}
        out: Dict[str, Analysis] = {}
        for i, (uri, code, text, version) in enumerate(cells, start=1):
            if not code:
                continue
            findings, diagnostics = [], []
            for f in mapped.findings:
                if f.cell != i:
                    continue
                if f.fix is not None and any(e.cell not in (None, i) for e in f.fix.edits):
                    f = replace(f, fix=None)  # an edit in another cell is not this cell's quick fix
                findings.append(f)
                diag = to_diagnostic(replace(f, related=()), positions[i], linter.catalogue)
                related = []
                for r in f.related:
                    if r.cell is not None and r.cell in positions:
                        where = lsp.Location(uris[r.cell], positions[r.cell].range(r.span))
                    else:
                        other = analyzer._other_file(r.path)
                        rng = other.range(r.span) if other else lsp.Range(
                            lsp.Position(r.span.start_line - 1, r.span.start_col - 1),
                            lsp.Position(r.span.end_line - 1, r.span.end_col - 1))
                        where = lsp.Location(path_uri(r.path), rng)
                    related.append(lsp.DiagnosticRelatedInformation(where, r.message))
                diag.related_information = related or None
                if isinstance(diag.data, dict):
                    diag.data["version"] = version  # quick fixes apply only to this cell text
                diagnostics.append(diag)
            out[uri] = Analysis(path, version, generation, text, positions[i], findings, diagnostics,
                                list(mapped.errors))
        return out
    except Exception as exc:  # the server must outlive any bug
        log.error("internal error while analysing notebook %s: %s: %s\n%s", path, type(exc).__name__, exc,
                  traceback.format_exc())
        return None


def fix_all_cells(analyses: Dict[str, Analysis]) -> Optional[lsp.CodeAction]:
    """`notebook.source.fixAll.hplint`: every safe fix of every cell."""
    from .actions import fix_all

    changes: Dict[str, List[lsp.TextEdit]] = {}
    count = 0
    for uri, analysis in analyses.items():
        action = fix_all(uri, analysis)
        if action is None or action.edit is None or not action.edit.changes:
            continue
        changes[uri] = list(action.edit.changes[uri])
        count += sum(1 for f in analysis.findings if f.fix is not None and f.fix.safety == FixSafety.SAFE)
    if not changes:
        return None
    return lsp.CodeAction(title=f"Fix all safe hplint problems in the notebook ({count})",
                          kind=NOTEBOOK_FIX_ALL_KIND, edit=lsp.WorkspaceEdit(changes=changes))
