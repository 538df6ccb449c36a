"""`hplint server`: the language server (stdio by default, `--tcp HOST:PORT`
for debugging). Logs go to stderr only: stdout carries the protocol.

Without pygls/lsprotocol (hplint installed without its `[server]` extra) it
exits with EXIT_MISSING_DEPENDENCIES and one line naming the pip command;
`--check` tells the same without starting (editors run it first)."""

from __future__ import annotations

import logging
import os
import sys

EXIT_MISSING_DEPENDENCIES = 3
INSTALL_HINT = "pip install 'pygls>=2.0,<3' 'lsprotocol>=2023.0.1' (the [server] extra of hplint)"


def missing_dependencies() -> str:
    """'' when the server's dependencies import, else why not."""
    try:
        import lsprotocol.types  # noqa: F401
        import pygls.lsp.server  # noqa: F401
    except ImportError as exc:
        return str(exc)
    return ""


def main(args) -> int:
    level_name = str(getattr(args, "log_level", None) or "WARNING").upper()
    level = getattr(logging, level_name, None)
    if not isinstance(level, int):
        print(f"hplint: error: unknown log level {args.log_level!r}", file=sys.stderr)
        return 2
    logging.basicConfig(stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    problem = missing_dependencies()
    if problem:  # pygls / lsprotocol are the [server] extra
        print(f"hplint: error: the language server needs pygls and lsprotocol ({problem}); "
              f"install them in {sys.executable}: {sys.executable} -m {INSTALL_HINT}", file=sys.stderr)
        return EXIT_MISSING_DEPENDENCIES
    if getattr(args, "check", False):
        from importlib.metadata import PackageNotFoundError, version

        def _version(name: str) -> str:
            try:
                return version(name)
            except PackageNotFoundError:
                return "?"

        from .. import __version__

        print(f"hplint {__version__}: the language server can start "
              f"(pygls {_version('pygls')}, lsprotocol {_version('lsprotocol')}; {sys.executable})")
        return 0
    from .server import create_server
    server = create_server()
    if os.environ.get("HPLINT_SERVER_GC", "tuned") != "default":  # `default`: CPython's settings (benchmarks)
        server.tune_gc()
    tcp = getattr(args, "tcp", None)
    if tcp:
        host, _, port = tcp.rpartition(":")
        if not port.isdigit():
            print(f"hplint: error: --tcp expects HOST:PORT, got {tcp!r}", file=sys.stderr)
            return 2
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
    return 0
