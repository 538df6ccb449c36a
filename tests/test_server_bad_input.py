"""The language server answers every request and outlives any document:
invalid positions, documents that would crash the parser, and thousands of
documents opened and closed."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

from hplint.server.analysis import Analyzer

BAD = "import torch.nn as nn\nf = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))\n"


class RawClient:
    """A bare JSON-RPC client over stdio: it can send what typed clients refuse to."""

    def __init__(self, cwd: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "hplint", "server"], cwd=cwd,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.buffer = b""
        self.messages: list = []

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def _read_available(self, wait: float) -> None:
        ready, _, _ = select.select([self.proc.stdout], [], [], wait)
        if ready:
            chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
            if not chunk:
                raise AssertionError("the server closed its output (it died)")
            self.buffer += chunk
        while b"\r\n\r\n" in self.buffer:
            head, rest = self.buffer.split(b"\r\n\r\n", 1)
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length"))
            if len(rest) < length:
                return
            self.messages.append(json.loads(rest[:length]))
            self.buffer = rest[length:]

    def wait_for(self, predicate, what: str, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages:
                if predicate(message):
                    self.messages.remove(message)
                    return message
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            self._read_available(0.1)

    def response(self, request_id: int) -> dict:
        return self.wait_for(lambda m: m.get("id") == request_id and "method" not in m, f"response {request_id}")

    def diagnostics(self, uri: str) -> list:
        return self.wait_for(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                             and m["params"]["uri"] == uri, f"diagnostics of {uri}")["params"]["diagnostics"]

    def start(self, root: Path) -> None:
        self.send({"id": 1, "method": "initialize",
                   "params": {"processId": None, "rootUri": root.as_uri(), "capabilities": {}}})
        self.response(1)
        self.send({"method": "initialized", "params": {}})

    def open(self, path: Path, text: str) -> str:
        uri = path.as_uri()
        self.send({"method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}})
        return uri

    def stop(self) -> None:
        try:
            self.send({"id": 9999, "method": "shutdown"})
            self.response(9999)
            self.send({"method": "exit"})
            self.proc.wait(10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def test_requests_with_invalid_positions_are_answered(tmp_path):
    client = RawClient(tmp_path)
    try:
        client.start(tmp_path)
        uri = client.open(tmp_path / "m.py", BAD)
        assert [d["code"] for d in client.diagnostics(uri)] == ["HPL002"]
        position = lambda line, character: {"line": line, "character": character}  # noqa: E731
        requests = {
            2: ("textDocument/hover", {"textDocument": {"uri": uri}, "position": position(-1, -5)}),
            3: ("textDocument/hover", {"textDocument": {"uri": uri}, "position": position(10**6, 5)}),
            4: ("textDocument/hover", {"textDocument": {"uri": uri}, "position": position(2**40, 0)}),
            5: ("textDocument/codeAction", {"textDocument": {"uri": uri},
                                            "range": {"start": position(-3, 0), "end": position(2, 0)},
                                            "context": {"diagnostics": []}}),
            6: ("textDocument/codeAction", {"textDocument": {"uri": uri},
                                            "range": {"start": position(5, 0), "end": position(1, 0)},
                                            "context": {"diagnostics": []}}),
            7: ("textDocument/hover", {"textDocument": {"uri": uri}, "position": position(1, 99999)}),
        }
        for request_id, (method, params) in requests.items():
            client.send({"id": request_id, "method": method, "params": params})
        answers = {request_id: client.response(request_id) for request_id in requests}
        for request_id in (2, 4, 5):
            assert answers[request_id]["error"]["code"] == -32602, answers[request_id]
            assert "Position.line should be in range" in answers[request_id]["error"]["message"]
        for request_id in (3, 7):  # valid params outside the text: an empty answer
            assert "error" not in answers[request_id] and not answers[request_id]["result"]
        # An inverted range: no per-line action, only the whole-file one.
        assert [a["kind"] for a in answers[6]["result"]] == ["source.fixAll.hplint"]
        # and the server still works afterwards
        client.send({"id": 8, "method": "textDocument/hover",
                     "params": {"textDocument": {"uri": uri}, "position": position(1, 20)}})
        assert "HPL002" in json.dumps(client.response(8)["result"])
    finally:
        client.stop()


def test_documents_that_would_crash_the_parser_get_a_diagnostic(tmp_path):
    client = RawClient(tmp_path)
    try:
        client.start(tmp_path)
        deep = client.open(tmp_path / "deep.py", "x = " + "[\n" * 2000 + "]\n" * 2000)
        chain = client.open(tmp_path / "chain.py", "x = (a\n" + "".join(" and a\n" for _ in range(30_000)) + ")\n")
        good = client.open(tmp_path / "good.py", BAD)
        assert "too many nested parentheses" in client.diagnostics(deep)[0]["message"]
        assert "operands" in client.diagnostics(chain)[0]["message"]
        assert [d["code"] for d in client.diagnostics(good)] == ["HPL002"]
    finally:
        client.stop()


def test_closing_a_document_forgets_its_trees(tmp_path):
    analyzer = Analyzer()
    for i in range(200):
        path = tmp_path / f"doc{i}.py"
        assert analyzer.analyze(path, BAD + f"x = {i}\n") is not None
        analyzer.set_overlay(path, None)  # what didClose does
    linter = analyzer.linter_for(tmp_path / "doc0.py")
    assert linter.open_documents == 0
    analyzer.analyze(tmp_path / "open.py", BAD)
    assert linter.open_documents == 1
