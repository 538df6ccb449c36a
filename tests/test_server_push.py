"""`hplint server` end to end with a push client (VS Code 1.65's capabilities:
no pull diagnostics): diagnostics on open/change/save, exact ranges, code
actions, hover, settings, configuration reload, cross-file updates, broken
documents. One server for the module, reset after each test (documents closed,
initial settings sent again), so no test depends on another; each test works
in its own folder."""

from __future__ import annotations

import pytest
import pytest_asyncio
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient, client_capabilities

from hplint.catalogue import load_catalogue

from server_helpers import (
    SERVER,
    apply_workspace_edit,
    close_doc,
    code_actions,
    codes,
    diagnostics_where,
    has_codes,
    open_doc,
    position_of,
    published,
    record_publications,
    replace_all,
    reset_server,
    uri_of,
    utf16_len,
    wait_for,
    write,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

HEADER = "import torch.nn as nn\n\n"
BIAS = HEADER + "net = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8))\n"
DROPOUT = HEADER + "model = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(8))\n"
ADAM = "import torch\n\nopt = torch.optim.Adam([], lr=1e-3, betas=(0.5, 0.9))\n"
CLEAN = HEADER + "net = nn.Sequential(nn.Linear(8, 8, bias=False), nn.BatchNorm1d(8))\n"
INIT_OPTIONS = {"select": [], "ignore": [], "severity": {"HPL007": "warning"}, "run": "onType", "debounce": 50,
                "configuration": None, "explainCommand": None}


@pytest_lsp.fixture(scope="module", config=SERVER)
async def client(lsp_client: LanguageClient):
    result = await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), initialization_options=INIT_OPTIONS))
    lsp_client.init_result = result
    lsp_client.publications = record_publications(lsp_client)
    yield
    await lsp_client.shutdown_session()


@pytest_asyncio.fixture(autouse=True, loop_scope="module")
async def fresh_server(client):
    yield
    await reset_server(client, INIT_OPTIONS)


@pytest.fixture
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("ws")


async def test_push_client_gets_no_diagnostic_provider(client):
    caps = client.init_result.capabilities
    assert caps.diagnostic_provider is None
    assert caps.code_action_provider is not None and caps.hover_provider


async def test_diagnostics_on_open_with_exact_fields(client, folder):
    path = write(folder / "net.py", BIAS)
    uri = open_doc(client, path)
    (diag,) = await diagnostics_where(client, uri, has_codes("HPL002"))
    start = position_of(BIAS, "nn.Linear(8, 8)")
    assert diag.range == lsp.Range(start, lsp.Position(start.line, start.character + len("nn.Linear(8, 8)")))
    assert diag.source == "hplint"
    assert diag.severity == lsp.DiagnosticSeverity.Warning
    assert diag.code_description is None  # no public rules URL declared: no link to nowhere
    (related,) = diag.related_information
    assert related.location.uri == uri
    bn = position_of(BIAS, "nn.BatchNorm1d(8)")
    assert related.location.range.start == bn
    assert diag.data["fix"]["title"] == "Set bias=False (HPL002)" and diag.data["fix"]["safe"] is True
    close_doc(client, uri)


async def test_non_ascii_text_before_the_flagged_call_gives_utf16_columns(client, folder):
    line = 'label = "ünïcødé 😀"; net = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8))  # ünïcødé 😀'
    text = HEADER + line + "\n"
    uri = open_doc(client, write(folder / "uni.py", text))
    (diag,) = await diagnostics_where(client, uri, has_codes("HPL002"))
    prefix = line[: line.index("nn.Linear")]
    assert utf16_len(prefix) == len(prefix) + 1  # 😀 is two UTF-16 units: the test can tell
    assert diag.range.start == lsp.Position(2, utf16_len(prefix))
    assert diag.range.end == lsp.Position(2, utf16_len(prefix) + len("nn.Linear(8, 8)"))
    (related,) = diag.related_information
    assert related.location.range.start.character == utf16_len(line[: line.index("nn.BatchNorm1d")])
    close_doc(client, uri)


async def test_change_relints_and_bursts_publish_only_the_latest_version(client, folder):
    path = write(folder / "burst.py", BIAS)
    uri = open_doc(client, path)
    await published(client, uri, 1)
    start = len(client.publications)
    for version in range(2, 22):  # a burst of edits inside the 50 ms debounce
        replace_all(client, uri, BIAS + f"x = {version}\n", version)
    replace_all(client, uri, DROPOUT, 22)
    latest = await published(client, uri, 22, start)
    assert codes(latest.diagnostics) == ["HPL001"]
    # One more version: the server analyses on one worker, in order, so
    # whatever the burst could still publish comes before this one.
    replace_all(client, uri, BIAS, 23)
    await published(client, uri, 23, start)
    versions = [p.version for p in client.publications[start:] if p.uri == uri]
    assert versions[-2:] == [22, 23] and versions == sorted(versions), versions
    # Without debounce and version checks all 21 burst versions are published;
    # a loaded machine may let the 50 ms debounce lapse once mid-burst.
    assert len(versions) <= 3, f"stale versions were analysed and published: {versions}"
    close_doc(client, uri)


async def test_incremental_change_and_save(client, folder):
    path = write(folder / "inc.py", CLEAN)
    uri = open_doc(client, path)
    await diagnostics_where(client, uri, has_codes())
    start = position_of(CLEAN, ", bias=False")
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        [lsp.TextDocumentContentChangePartial(
            range=lsp.Range(start, lsp.Position(start.line, start.character + len(", bias=False"))), text="")]))
    await diagnostics_where(client, uri, has_codes("HPL002"))
    client.diagnostics.pop(uri)
    client.text_document_did_save(lsp.DidSaveTextDocumentParams(lsp.TextDocumentIdentifier(uri)))
    await diagnostics_where(client, uri, has_codes("HPL002"), "diagnostics after save")
    close_doc(client, uri)
    await diagnostics_where(client, uri, has_codes(), "cleared diagnostics after close")


async def test_broken_document_shows_one_hpl000_then_recovers(client, folder):
    broken = HEADER + "net = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8)\n\ndef f(:\n"
    uri = open_doc(client, write(folder / "broken.py", broken))
    (diag,) = await diagnostics_where(client, uri, lambda d: codes(d) == ["HPL000"])
    assert diag.severity == lsp.DiagnosticSeverity.Error and "syntax" in diag.message
    assert diag.range.start.line >= 2
    replace_all(client, uri, BIAS, 2)
    await diagnostics_where(client, uri, has_codes("HPL002"), "diagnostics after the fix")
    close_doc(client, uri)


async def test_quick_fix_applies_bias_false(client, folder):
    uri = open_doc(client, write(folder / "fix.py", BIAS))
    diags = await diagnostics_where(client, uri, has_codes("HPL002"))
    actions = await code_actions(client, uri, diags)
    fix = next(a for a in actions if a.title == "Set bias=False (HPL002)")
    assert fix.kind == lsp.CodeActionKind.QuickFix and fix.is_preferred
    fixed = apply_workspace_edit(BIAS, uri, fix.edit)
    assert fixed == CLEAN
    replace_all(client, uri, fixed, 2)
    await diagnostics_where(client, uri, has_codes(), "no diagnostics after the fix")
    close_doc(client, uri)


async def test_disable_for_this_line_adds_a_comment_or_extends_one(client, folder):
    uri = open_doc(client, write(folder / "dis.py", BIAS))
    diags = await diagnostics_where(client, uri, has_codes("HPL002"))
    action = next(a for a in await code_actions(client, uri, diags) if a.title == "Disable HPL002 for this line")
    disabled = apply_workspace_edit(BIAS, uri, action.edit)
    assert disabled.splitlines()[2].endswith("nn.BatchNorm1d(8))  # hplint: disable=HPL002")
    replace_all(client, uri, disabled, 2)
    await diagnostics_where(client, uri, has_codes(), "suppressed, and no unused-suppression finding")

    # A line that already disables another rule gets the code appended to its list.
    both = HEADER + "net = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8))  # hplint: disable=HPL001 because x\n"
    replace_all(client, uri, both, 3)
    diags = await diagnostics_where(client, uri, has_codes("HPL002", "HPL100"))
    hpl002 = [d for d in diags if d.code == "HPL002"]
    action = next(a for a in await code_actions(client, uri, hpl002) if a.title == "Disable HPL002 for this line")
    extended = apply_workspace_edit(both, uri, action.edit)
    assert extended.splitlines()[2].endswith("# hplint: disable=HPL001,HPL002 because x")
    close_doc(client, uri)


async def test_fix_all_applies_every_safe_fix(client, folder):
    text = HEADER + (
        "a = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8))\n"
        "b = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))\n"
        "c = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(8))\n"
    )
    uri = open_doc(client, write(folder / "all.py", text))
    await diagnostics_where(client, uri, has_codes("HPL001", "HPL002", "HPL002"))
    actions = await code_actions(client, uri, [], only=["source.fixAll"])
    (fix_all,) = actions
    assert fix_all.kind == "source.fixAll.hplint"
    fixed = apply_workspace_edit(text, uri, fix_all.edit)
    assert "nn.Linear(8, 8, bias=False)" in fixed and "nn.Conv2d(3, 8, 3, bias=False)" in fixed
    replace_all(client, uri, fixed, 2)
    await diagnostics_where(client, uri, has_codes("HPL001"), "only the unfixable finding left")
    assert await code_actions(client, uri, [], only=["source.fixAll"]) == []
    # Quick-fix requests do not get the source action.
    diags = client.diagnostics[uri]
    assert all(a.kind == lsp.CodeActionKind.QuickFix for a in await code_actions(client, uri, diags, only=["quickfix"]))
    close_doc(client, uri)


async def test_hover_on_diagnostic_and_on_suppression_comment(client, folder):
    """A short card: message (once), the fix, the rule's summary and links; not
    the whole rule document."""
    text = BIAS + "m = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(8))  # hplint: disable=HPL001\n"
    uri = open_doc(client, write(folder / "hover.py", text))
    (diag,) = await diagnostics_where(client, uri, has_codes("HPL002"))
    docs = load_catalogue()
    pos = position_of(text, "Linear")
    hover = await client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(uri), pos))
    assert hover.contents.kind == lsp.MarkupKind.Markdown
    value = hover.contents.value
    assert value.count(diag.message) == 1
    assert f"**HPL002** `bias-before-batchnorm`: {docs['HPL002'].summary}" in value
    assert "Fix (safe fix" in value and diag.data["fix"]["title"] in value
    assert "](None)" not in value and "`hplint rule HPL002`" in value
    assert "# HPL002" not in value and "## Why is this bad" not in value and "command:" not in value
    code_pos = position_of(text, "HPL001")
    inside = lsp.Position(code_pos.line, code_pos.character + 3)
    hover = await client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(uri), inside))
    assert f"**HPL001** `dropout-before-batchnorm`: {docs['HPL001'].summary}" in hover.contents.value
    assert hover.range == lsp.Range(code_pos, lsp.Position(code_pos.line, code_pos.character + 6))
    nothing = await client.text_document_hover_async(
        lsp.HoverParams(lsp.TextDocumentIdentifier(uri), lsp.Position(0, 2)))
    assert nothing is None
    close_doc(client, uri)


async def test_hover_with_an_explain_command_links_it_and_leaves_the_message_to_the_editor(client, folder):
    """VS Code shows the diagnostic's message above the hover: the extension
    sends `explainCommand`, and the hover then links that command instead."""
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(
        {"hplint": {"explainCommand": "hplint.explainRule"}}))
    uri = open_doc(client, write(folder / "hover_vscode.py", BIAS))
    (diag,) = await diagnostics_where(client, uri, has_codes("HPL002"))
    hover = await client.text_document_hover_async(
        lsp.HoverParams(lsp.TextDocumentIdentifier(uri), position_of(BIAS, "Linear")))
    value = hover.contents.value
    assert diag.message not in value
    assert '[Explain rule](command:hplint.explainRule?%5B%22HPL002%22%5D' in value
    assert diag.data["fix"]["title"] in value and load_catalogue()["HPL002"].summary in value
    close_doc(client, uri)


async def test_hover_on_noqa_code(client, folder):
    text = HEADER + "m = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(8))  # noqa: HPL001\n"
    uri = open_doc(client, write(folder / "noqa.py", text))
    await diagnostics_where(client, uri, has_codes())
    pos = position_of(text, "HPL001")
    hover = await client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(uri), pos))
    assert "**HPL001** `dropout-before-batchnorm`" in hover.contents.value
    close_doc(client, uri)


async def test_initialization_options_severity_applies(client, folder):
    uri = open_doc(client, write(folder / "adam.py", ADAM))
    (diag,) = await diagnostics_where(client, uri, has_codes("HPL007"))
    assert diag.severity == lsp.DiagnosticSeverity.Warning  # the catalogue says info
    close_doc(client, uri)


async def test_did_change_configuration_select_ignore_severity_and_run(client, folder):
    text = BIAS + "model = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(8))\n"
    path = write(folder / "settings.py", text)
    uri = open_doc(client, path)
    await diagnostics_where(client, uri, has_codes("HPL001", "HPL002"))

    def configure(**settings):
        client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams({"hplint": settings}))

    try:
        configure(ignore=["HPL002"])
        await diagnostics_where(client, uri, has_codes("HPL001"), "HPL002 ignored")
        configure(ignore=[], select=["HPL002"], severity={"HPL002": "error"})
        (diag,) = await diagnostics_where(client, uri, has_codes("HPL002"), "only HPL002 selected")
        await wait_for(lambda: client.diagnostics[uri][0].severity == lsp.DiagnosticSeverity.Error, "error severity")
        configure(select=["HPL9"])  # matches no rule: dropped, and the user is told
        await wait_for(lambda: any("HPL9" in m.message for m in client.messages), "a warning about HPL9")
        # onSave: edits do not re-lint, saving does. With no debounce, a lint
        # the edit started would be queued on the server's one worker before
        # the code-action request's analysis, so it would be published before
        # that request is answered.
        mark = len(client.publications)
        configure(select=[], severity={}, run="onSave", debounce=0)
        relinted = await published(client, uri, 1, mark, "the re-lint after the settings change")
        assert codes(relinted.diagnostics) == ["HPL001", "HPL002"]
        start = len(client.publications)
        replace_all(client, uri, CLEAN, 2)
        await code_actions(client, uri, [])
        assert 2 not in [p.version for p in client.publications[start:] if p.uri == uri], "the edit was linted"
        client.text_document_did_save(lsp.DidSaveTextDocumentParams(lsp.TextDocumentIdentifier(uri)))
        saved = await published(client, uri, 2, start, "the publication after save in onSave mode")
        assert list(saved.diagnostics) == []
    finally:
        configure(**INIT_OPTIONS)
    close_doc(client, uri)


async def test_pyproject_edit_reloads_configuration(client, folder):
    project = folder / "proj"
    pyproject = write(project / "pyproject.toml", '[tool.hplint]\nignore = ["HPL002"]\n')
    uri = open_doc(client, write(project / "pkg_net.py", BIAS + "m = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(8))\n"))
    await diagnostics_where(client, uri, has_codes("HPL001"))

    def changed():
        client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(
            [lsp.FileEvent(uri_of(pyproject), lsp.FileChangeType.Changed)]))

    write(pyproject, '[tool.hplint]\nignore = ["HPL001"]\n')
    changed()
    await diagnostics_where(client, uri, has_codes("HPL002"), "diagnostics after the config change")

    # A broken configuration: the user is told, defaults apply, the server lives on.
    shown = len(client.messages)
    write(pyproject, '[tool.hplint]\nignore = ["HPL001"\n')
    changed()
    await diagnostics_where(client, uri, has_codes("HPL001", "HPL002"), "defaults while the config is broken")
    await wait_for(lambda: any(m.type == lsp.MessageType.Error and "pyproject.toml" in m.message
                               for m in client.messages[shown:]), "an error message about pyproject.toml")

    # Saving a pyproject.toml opened in the editor reloads too.
    write(pyproject, '[tool.hplint]\nselect = ["HPL001"]\n')
    client.text_document_did_save(lsp.DidSaveTextDocumentParams(lsp.TextDocumentIdentifier(uri_of(pyproject))))
    await diagnostics_where(client, uri, has_codes("HPL001"), "diagnostics after saving pyproject.toml")
    close_doc(client, uri)


async def test_editing_a_dependency_updates_the_dependent_document(client, folder):
    project = folder / "xfile"
    bad = "import torch.nn as nn\n\n\ndef make_block():\n    return [nn.Linear(8, 8), nn.Dropout(0.5)]\n"
    good = bad.replace("[nn.Linear(8, 8), nn.Dropout(0.5)]", "[nn.Dropout(0.5), nn.Linear(8, 8, bias=False)]")
    blocks = write(project / "blocks.py", bad)
    train_text = "import torch.nn as nn\nfrom blocks import make_block\n\nmodel = nn.Sequential(*make_block(), nn.BatchNorm1d(8))\n"
    train = open_doc(client, write(project / "train.py", train_text))
    (diag,) = await diagnostics_where(client, train, has_codes("HPL001"))
    assert diag.range.start == position_of(train_text, "make_block()")

    blocks_uri = open_doc(client, blocks)
    await diagnostics_where(client, blocks_uri, has_codes())
    replace_all(client, blocks_uri, good, 2)  # unsaved: the overlay counts
    await diagnostics_where(client, train, has_codes(), "train.py after editing blocks.py")
    replace_all(client, blocks_uri, bad, 3)
    await diagnostics_where(client, train, has_codes("HPL001"), "train.py after reverting blocks.py")

    # Closing the edited buffer falls back to the file on disk.
    replace_all(client, blocks_uri, good, 4)
    await diagnostics_where(client, train, has_codes(), "train.py with the good overlay")
    close_doc(client, blocks_uri)
    await diagnostics_where(client, train, has_codes("HPL001"), "train.py after closing blocks.py")

    # A change on disk (not open) reported by the file watcher.
    write(blocks, good)
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(
        [lsp.FileEvent(uri_of(blocks), lsp.FileChangeType.Changed)]))
    await diagnostics_where(client, train, has_codes(), "train.py after blocks.py changed on disk")
    close_doc(client, train)


async def test_a_document_closed_mid_lint_leaves_the_server_healthy(client, folder):
    """A document closed while its debounced lint is pending is not published
    afterwards (its diagnostics are cleared), and the next document gets its
    diagnostics, at its version, with the exact range."""
    start = len(client.publications)
    first = open_doc(client, write(folder / "closed.py", BIAS))
    replace_all(client, first, DROPOUT, 2)
    close_doc(client, first)
    uri = open_doc(client, write(folder / "last.py", DROPOUT), version=7)
    latest = await published(client, uri, 7, start)
    (diag,) = latest.diagnostics
    assert diag.code == "HPL001" and diag.severity == lsp.DiagnosticSeverity.Warning
    assert diag.range.start == position_of(DROPOUT, "nn.Dropout(0.5)")
    after_close = [p for p in client.publications[start:] if p.uri == first]
    assert after_close and list(after_close[-1].diagnostics) == [], "closing clears the diagnostics"
    assert 2 not in [p.version for p in after_close], "the closed document's pending lint was published"
    close_doc(client, uri)
