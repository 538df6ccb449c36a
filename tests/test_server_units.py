"""The language server's parts in-process: settings, position conversion,
code-action edits, the analysis wrapper's error handling (a crashing rule,
a crashing linter, a broken configuration), dependency lookup, and the
`--tcp` / `--log-level` entry points."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from lsprotocol import types as lsp
from pygls.workspace.position_codec import PositionCodec

from hplint.catalogue import load_catalogue
from hplint.engine import Linter
from hplint.findings import Finding, Fix, Severity, Span, TextEdit
from hplint.server.actions import disable_line_edit, fix_all, wanted
from hplint.server.analysis import Analysis, Analyzer
from hplint.server.diagnostics import PositionMap
from hplint.server.settings import ON_SAVE, Settings, parse_settings

from server_helpers import apply_edits

CAT = load_catalogue()
BIAS_AND_DROPOUT = (
    "import torch.nn as nn\n\n"
    "net = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8))\n"
    "model = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(8))\n"
)


# -- settings ------------------------------------------------------------------
def test_settings_from_initialization_options_and_wrapped_section():
    s = parse_settings({"select": ["HPL001"], "ignore": [], "severity": {"HPL007": "warning"},
                        "run": "onSave", "debounce": 120}, CAT)
    assert s.select == ("HPL001",) and s.run == ON_SAVE and s.debounce_ms == 120
    assert dict(s.severity) == {"HPL007": Severity.WARNING}
    wrapped = parse_settings({"hplint": {"ignore": ["bias-before-batchnorm"]}}, CAT, base=s)
    assert wrapped.ignore == ("bias-before-batchnorm",)
    assert wrapped.select == ("HPL001",) and wrapped.run == ON_SAVE  # absent keys keep the old value


def test_bad_settings_are_dropped_with_a_reason():
    s = parse_settings({"select": ["HPL9", "HPL001"], "severity": {"HPL001": "loud", "nope": "error"},
                        "run": "sometimes", "debounce": "fast"}, CAT)
    assert s.select == ("HPL001",) and s.severity == () and s.run == "onType" and s.debounce_ms == 300
    assert len(s.problems) == 5
    assert parse_settings(None, CAT) == Settings()


def test_settings_apply_on_top_of_the_project_config():
    from hplint.config import Config

    base = Config(select=("ALL",), ignore=("HPL007",), severity={"HPL001": Severity.ERROR})
    cfg = parse_settings({"ignore": ["HPL002"], "severity": {"HPL002": "info"}}, CAT).apply(base)
    enabled = cfg.enabled_codes()
    assert "HPL002" not in enabled and "HPL007" not in enabled and "HPL001" in enabled
    assert cfg.severity == {"HPL001": Severity.ERROR, "HPL002": Severity.INFO}
    assert parse_settings({"select": []}, CAT).apply(base).select == ("ALL",)  # empty keeps the project's


# -- positions -------------------------------------------------------------------
def test_position_map_counts_utf16_and_utf8_units():
    text = "a = 1\nx = '😀é'; y = f(1)\r\nz\n"
    col = text.splitlines()[1].index("f(1)") + 1  # 1-based code points
    utf16 = PositionMap(text, PositionCodec(lsp.PositionEncodingKind.Utf16))
    assert utf16.position(2, col) == lsp.Position(1, col - 1 + 1)  # the emoji is two units
    utf8 = PositionMap(text, PositionCodec(lsp.PositionEncodingKind.Utf8))
    assert utf8.position(2, col) == lsp.Position(1, col - 1 + 3 + 1)
    assert utf16.to_codepoints(lsp.Position(1, col)) == (2, col)
    assert utf16.position(9, 1) == lsp.Position(3, 0)  # past the end: clamped to the end
    assert utf16.lines[1].endswith("f(1)")  # \r\n is one line break


def test_position_map_ascii_lines_match_the_codec_in_every_encoding():
    text = "x = f(1)\n\ty = 2\n"
    for kind in (lsp.PositionEncodingKind.Utf8, lsp.PositionEncodingKind.Utf16, lsp.PositionEncodingKind.Utf32):
        codec = PositionCodec(kind)
        positions = PositionMap(text, codec)
        for line in (1, 2):
            line_text = text.split("\n")[line - 1]
            for col in range(0, len(line_text) + 4):  # 0 and past the end are clamped
                expected = codec.client_num_units(line_text[: max(col - 1, 0)])
                assert positions.position(line, col) == lsp.Position(line - 1, expected)


# -- code actions ------------------------------------------------------------------
def _edit(text, line0, code):
    edit = disable_line_edit(text, line0, code, PositionMap(text))
    return None if edit is None else apply_edits(text, [edit])


def test_disable_line_edit_variants():
    assert _edit("x = f()\n", 0, "HPL002") == "x = f()  # hplint: disable=HPL002\n"
    assert _edit("x = f()   \n", 0, "HPL002") == "x = f()  # hplint: disable=HPL002\n"
    assert _edit("x = f()  # hplint: disable=HPL001\n", 0, "HPL002") == "x = f()  # hplint: disable=HPL001,HPL002\n"
    assert _edit("x = f()  # noqa: E501  # hplint: disable=HPL001, HPL003 why\n", 0, "HPL002") == \
        "x = f()  # noqa: E501  # hplint: disable=HPL001, HPL003,HPL002 why\n"
    assert _edit("s = '# hplint: disable=HPL001'\n", 0, "HPL002") == \
        "s = '# hplint: disable=HPL001'  # hplint: disable=HPL002\n"
    assert _edit("x = f()  # hplint: disable=HPL002\n", 0, "HPL002") is None
    assert _edit("x = f() + \\\n    1\n", 0, "HPL002") is None


def _finding(span, new_text, safe=True):
    from hplint.findings import FixSafety

    fix = Fix("fix", (TextEdit(span, new_text),), FixSafety.SAFE if safe else FixSafety.UNSAFE)
    return Finding("HPL002", "x", Severity.WARNING, "m", "p.py", span, fix=fix)


def test_fix_all_skips_unsafe_and_overlapping_fixes():
    text = "aaaa bbbb\n"
    findings = [_finding(Span(1, 1, 1, 5), "A"), _finding(Span(1, 3, 1, 7), "X"),
                _finding(Span(1, 6, 1, 10), "B"), _finding(Span(1, 1, 1, 2), "U", safe=False)]
    analysis = Analysis(Path("p.py"), 1, 0, text, PositionMap(text), findings, [])
    action = fix_all("file:///p.py", analysis)
    assert apply_edits(text, action.edit.changes["file:///p.py"]) == "A B\n"
    assert action.title.endswith("(2)")


def test_kind_filter():
    assert wanted("source.fixAll.hplint", ["source"]) and wanted("source.fixAll.hplint", None)
    assert not wanted("source.fixAll.hplint", ["quickfix"]) and wanted("quickfix", ["quickfix"])


# -- the analysis wrapper -------------------------------------------------------------
class Boom:
    code = "HPL002"

    def check(self, ctx):
        raise RuntimeError("rule exploded")
        yield  # pragma: no cover


def test_a_crashing_rule_is_logged_and_the_others_still_report(tmp_path, caplog):
    def factory(config):
        linter = Linter(config)
        linter.rules["HPL002"] = Boom()
        return linter

    analyzer = Analyzer(linter_factory=factory)
    with caplog.at_level(logging.ERROR):
        result = analyzer.analyze(tmp_path / "m.py", BIAS_AND_DROPOUT, version=3)
    # The user sees that HPL002 did not run, as one diagnostic; the other rules still report.
    assert sorted(d.code for d in result.diagnostics) == ["HPL000", "HPL001"]
    assert "internal error in HPL002" in next(d.message for d in result.diagnostics if d.code == "HPL000")
    assert result.errors and "HPL002" in result.errors[0] and "rule exploded" in result.errors[0]
    assert "rule exploded" in caplog.text


def test_an_exception_in_the_linter_becomes_a_logged_error(tmp_path, caplog):
    class Broken(Linter):
        def lint_text(self, *args, **kwargs):
            raise ValueError("engine bug")

    analyzer = Analyzer(linter_factory=Broken)
    with caplog.at_level(logging.ERROR, logger="hplint.server"):
        assert analyzer.analyze(tmp_path / "m.py", BIAS_AND_DROPOUT) is None
    assert "engine bug" in caplog.text and "Traceback" in caplog.text
    # and the wrapper keeps working afterwards
    analyzer.linter_factory = Linter
    analyzer.set_settings(analyzer.settings)
    assert [d.code for d in analyzer.analyze(tmp_path / "m.py", BIAS_AND_DROPOUT).diagnostics] == ["HPL002", "HPL001"]


def test_broken_config_is_reported_once_and_defaults_apply_until_reload(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.hplint]\nselekt = ["HPL001"]\n')
    shown = []
    analyzer = Analyzer(report_config_error=shown.append)
    for _ in range(2):
        result = analyzer.analyze(tmp_path / "m.py", BIAS_AND_DROPOUT)
        assert sorted(d.code for d in result.diagnostics) == ["HPL001", "HPL002"]
    assert len(shown) == 1 and "selekt" in shown[0]
    pyproject.write_text('[tool.hplint]\nselect = ["HPL001"]\n')
    analyzer.reload()
    assert [d.code for d in analyzer.analyze(tmp_path / "m.py", BIAS_AND_DROPOUT).diagnostics] == ["HPL001"]


def test_configuration_setting_names_the_config_file_for_every_document(tmp_path):
    """`hplint.configuration` is the server's --config: that file, not the
    nearest pyproject.toml, governs every document; edits to it apply."""
    (tmp_path / "pyproject.toml").write_text('[tool.hplint]\nselect = ["HPL002"]\n')
    explicit = tmp_path / "elsewhere" / "hplint.toml"
    explicit.parent.mkdir()
    explicit.write_text('select = ["HPL001"]\n')
    shown = []
    analyzer = Analyzer(report_config_error=shown.append)
    lint = lambda: [d.code for d in analyzer.analyze(tmp_path / "m.py", BIAS_AND_DROPOUT).diagnostics]
    assert lint() == ["HPL002"]
    analyzer.set_settings(parse_settings({"configuration": str(explicit)}, CAT))
    assert lint() == ["HPL001"]
    explicit.write_text('select = ["ALL"]\nignore = ["HPL001"]\n')
    os.utime(explicit, (1, 1))  # a new mtime even on a coarse clock
    assert lint() == ["HPL002"]
    analyzer.set_settings(parse_settings({"configuration": str(tmp_path / "missing.toml")}, CAT))
    assert sorted(lint()) == ["HPL001", "HPL002"] and "missing.toml" in shown[-1]  # defaults, and the user is told
    analyzer.set_settings(parse_settings({"configuration": ""}, CAT))
    assert lint() == ["HPL002"]
    assert parse_settings({"configuration": 3}, CAT).problems == ("setting hplint.configuration: 3 is not a path",)
    assert parse_settings({"explainCommand": "hplint.explainRule"}, CAT).explain_command == "hplint.explainRule"


def test_dependents_follow_requesters_transitively(tmp_path):
    analyzer = Analyzer()
    for name in ("a", "b", "c", "d"):
        (tmp_path / f"{name}.py").write_text("x = 1\n")
    analyzer.analyze(tmp_path / "a.py", "x = 1\n")
    (_, linter), = analyzer._linters.values()
    linter.project.dependents.update({"c": {"b"}, "b": {"a"}})
    opened = [tmp_path / "a.py", tmp_path / "b.py", tmp_path / "c.py", tmp_path / "d.py"]
    assert analyzer.dependents(tmp_path / "c.py", opened) == [tmp_path / "a.py", tmp_path / "b.py"]
    assert analyzer.dependents(tmp_path / "d.py", opened) == []


# -- process-level ----------------------------------------------------------------------
def test_server_never_imports_torch():
    code = (
        "import sys, pathlib\n"
        "from hplint.server.server import create_server\n"
        "from hplint.server.analysis import Analyzer\n"
        "create_server()\n"
        f"Analyzer().analyze(pathlib.Path('m.py'), {BIAS_AND_DROPOUT!r})\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_server_check_and_a_missing_server_extra(tmp_path):
    """`hplint server --check` exits 0 with the versions; without pygls (hplint
    installed without [server]) both it and the server exit 3 at once with the
    pip command for this interpreter, not a traceback."""
    ok = subprocess.run([sys.executable, "-m", "hplint", "server", "--check"], capture_output=True, text=True,
                        stdin=subprocess.DEVNULL, timeout=60)
    assert ok.returncode == 0 and "the language server can start" in ok.stdout and "pygls" in ok.stdout
    # A `pygls` that fails to import, first on the path: what an install without the extra looks like.
    (tmp_path / "pygls").mkdir()
    (tmp_path / "pygls" / "__init__.py").write_text("raise ImportError(\"No module named 'pygls'\")\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    for args in (["--check"], []):
        out = subprocess.run([sys.executable, "-m", "hplint", "server", *args], capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, timeout=60, env=env)
        assert out.returncode == 3, out.stderr
        assert "No module named 'pygls'" in out.stderr and f"{sys.executable} -m pip install" in out.stderr
        assert "Traceback" not in out.stderr and out.stdout == ""


def test_bad_log_level_is_a_usage_error():
    out = subprocess.run([sys.executable, "-m", "hplint", "server", "--log-level", "LOUD"],
                         capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30)
    assert out.returncode == 2 and "LOUD" in out.stderr and out.stdout == ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tcp_mode_answers_initialize():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "hplint", "server", "--tcp", f"127.0.0.1:{port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                           "params": {"processId": None, "rootUri": None, "capabilities": {}}}).encode()
        with sock:
            sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            data = b""
            while True:
                head, _, rest = data.partition(b"\r\n\r\n")
                length = [int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")]
                if _ and len(rest) >= length[0]:
                    break
                chunk = sock.recv(65536)
                assert chunk, data
                data += chunk
        reply = json.loads(rest)
        assert reply["result"]["serverInfo"]["name"] == "hplint"
        assert "diagnosticProvider" not in reply["result"]["capabilities"]
    finally:
        proc.kill()
        proc.wait()


def test_a_file_in_a_sub_project_gets_that_sub_projects_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.hplint]\nignore = ["HPL001"]\n')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "hplint.toml").write_text('ignore = ["HPL002"]\n')
    analyzer = Analyzer()
    # The root project's file first: the sub-project's config is not cached yet.
    assert [d.code for d in analyzer.analyze(tmp_path / "m.py", BIAS_AND_DROPOUT).diagnostics] == ["HPL002"]
    assert [d.code for d in analyzer.analyze(tmp_path / "sub" / "m.py", BIAS_AND_DROPOUT).diagnostics] == ["HPL001"]
    assert [d.code for d in analyzer.analyze(tmp_path / "m.py", BIAS_AND_DROPOUT).diagnostics] == ["HPL002"]


def test_sub_project_config_extends_the_root_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.hplint]\nignore = ["HPL001"]\n')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "hplint.toml").write_text('extend = "../pyproject.toml"\nextend-select = []\n')
    analyzer = Analyzer()
    assert [d.code for d in analyzer.analyze(tmp_path / "sub" / "m.py", BIAS_AND_DROPOUT).diagnostics] == ["HPL002"]


def test_workspace_folders_root_the_defaults(tmp_path):
    from hplint.server.server import workspace_roots

    one, two = tmp_path / "one", tmp_path / "two"
    params = lsp.InitializeParams(capabilities=lsp.ClientCapabilities(), workspace_folders=[
        lsp.WorkspaceFolder(uri=one.as_uri(), name="one"), lsp.WorkspaceFolder(uri=two.as_uri(), name="two")])
    assert workspace_roots(params) == [one, two]
    analyzer = Analyzer()
    analyzer.set_roots(workspace_roots(params))
    assert analyzer.config_for(two / "pkg" / "m.py").root == two
    assert analyzer.config_for(one / "m.py").root == one
