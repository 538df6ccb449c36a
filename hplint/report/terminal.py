"""What the command line does differently on a terminal: colour, wrapping to
its width, and a progress line on stderr. The engine knows none of this; it
only calls the progress callback it is given (`on_file_done(count, total)`).

Colour, in order of precedence:

1. never in a machine format (json, sarif, github, rdjson) nor in a file
   written with `--output-file`, whatever else says so;
2. `--color always` / `--color never` (a per-run choice overrides the
   environment, as https://no-color.org asks);
3. `NO_COLOR` set and non-empty: no colour;
4. `FORCE_COLOR` set and non-empty (any value, https://force-color.org):
   colour even when the output is not a terminal. NO_COLOR wins when both are
   set: asking for no colour is the safer request to honour;
5. otherwise colour only when the output stream is a terminal.

Progress ("hplint: checked 120/800 files") is drawn on stderr, overwritten in
place with `\\r` and erased when linting ends, only when stderr is a terminal,
`CI` is not set, the report is a human format, and the run has lasted about a
second (quick runs never flicker). It carries no colour.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import Mapping, Optional, TextIO

from . import HUMAN_FORMATS

PROGRESS_DELAY = 1.0  # seconds before the progress line first appears
_REDRAW = 0.1  # at most this often after that


def _set(env: Mapping[str, str], name: str) -> bool:
    return bool(env.get(name))


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a real stream
        return False


def use_color(choice: str, fmt: str, stream, *, to_file: bool = False,
              env: Optional[Mapping[str, str]] = None) -> bool:
    """Whether the report gets ANSI colour (see the module docstring)."""
    env = os.environ if env is None else env
    if fmt not in HUMAN_FORMATS or to_file or choice == "never":
        return False
    if choice == "always":
        return True
    if _set(env, "NO_COLOR"):
        return False
    if _set(env, "FORCE_COLOR"):
        return True
    return _isatty(stream)


def wrap_width(fmt: str, stream, *, to_file: bool = False) -> Optional[int]:
    """The terminal's width, for wrapping long messages; None (do not wrap)
    for a machine format, a file, or a stream that is not a terminal."""
    if fmt not in HUMAN_FORMATS or to_file or not _isatty(stream):
        return None
    return shutil.get_terminal_size().columns


class Progress:
    """`on_file_done(count, total)` for `Linter.lint_paths`: draws
    "hplint: checked COUNT/TOTAL files" on `stream` once the run has taken
    PROGRESS_DELAY seconds; `clear()` erases it."""

    def __init__(self, stream: TextIO, *, enabled: bool = True, clock=time.monotonic) -> None:
        self.stream = stream
        self.enabled = enabled
        self.clock = clock
        self.started = clock()
        self._drawn = 0  # width of what is on the line now
        self._last = float("-inf")

    @classmethod
    def for_run(cls, fmt: str, stream: TextIO, *, quiet: bool = False,
                env: Optional[Mapping[str, str]] = None) -> "Progress":
        env = os.environ if env is None else env
        enabled = fmt in HUMAN_FORMATS and not quiet and not _set(env, "CI") and _isatty(stream)
        return cls(stream, enabled=enabled)

    def __call__(self, count: int, total: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if now - self.started < PROGRESS_DELAY or (now - self._last < _REDRAW and count < total):
            return
        self._last = now
        text = f"hplint: checked {count}/{total} files"
        self._write("\r" + text + " " * max(0, self._drawn - len(text)))
        self._drawn = len(text)

    def clear(self) -> None:
        if self._drawn:
            self._write("\r" + " " * self._drawn + "\r")
            self._drawn = 0

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # stderr went away: progress is not worth failing for
            self.enabled = False
