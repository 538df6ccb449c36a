"""`hplint server`: the language server (stdio by default, `--tcp HOST:PORT`
for debugging). Logs go to stderr only: stdout carries the protocol."""

from __future__ import annotations

import logging
import os
import sys


def main(args) -> int:
    level_name = str(getattr(args, "log_level", None) or "WARNING").upper()
    level = getattr(logging, level_name, None)
    if not isinstance(level, int):
        print(f"hplint: error: unknown log level {args.log_level!r}", file=sys.stderr)
        return 2
    logging.basicConfig(stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        from .server import create_server
    except ImportError as exc:  # pygls / lsprotocol are the [server] extra
        print(f"hplint: error: the language server needs pygls and lsprotocol "
              f"(pip install 'hplint[server]'): {exc}", file=sys.stderr)
        return 2
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
