"""Reading a source for fixing and writing it back byte-faithfully: the
detected encoding (PEP 263 coding line or BOM) is used again, a UTF-8 BOM is
kept, and line endings are left as they are (the text is never newline-
translated on the way in or out)."""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import stat
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from ..source_text import SourceError, data_bom, decode_file, is_data_file


@dataclass(frozen=True)
class SourceFile:
    path: Path
    text: str  # decoded, without the BOM
    encoding: str  # codec to write with (never "utf-8-sig": the BOM is `bom`)
    bom: bool
    data: bytes = b""  # the bytes as read: writing refuses when the file no longer holds them
    mark: bytes = b""  # the byte-order mark written back before the text (when `bom`)


def source_from_bytes(path: Path, data: bytes) -> Union[SourceFile, SourceError]:
    text = decode_file(path, data)
    if isinstance(text, SourceError):
        return text
    if is_data_file(path):
        mark, encoding = data_bom(data)  # a UTF-16 sweep file stays UTF-16
        return SourceFile(Path(path), text, encoding, bool(mark), data, mark)
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    bom = data.startswith(codecs.BOM_UTF8)
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    return SourceFile(Path(path), text, encoding, bom, data, codecs.BOM_UTF8 if bom else b"")


def read_source(path: Path) -> Union[SourceFile, SourceError]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return SourceError(f"cannot read file: {exc.strerror or exc}")
    return source_from_bytes(path, data)


def encode_source(source: SourceFile, text: str) -> bytes:
    """`text` in the file's encoding; raises UnicodeEncodeError when a fix
    introduced characters the declared encoding cannot hold."""
    data = text.encode(source.encoding)
    return (source.mark or codecs.BOM_UTF8) + data if source.bom else data


def write_source(source: SourceFile, data: bytes) -> Optional[str]:
    """Replace the file's contents with `data`; None on success, else why not.

    Never half-written: the new bytes go to a temporary file in the same
    directory, which then replaces the original in one rename (permissions
    kept; a symbolic link keeps pointing at its target, which is replaced).
    Refused when the file is read-only, or when it changed on disk since it
    was read (an editor saved it meanwhile): those edits are never lost."""
    target = Path(os.path.realpath(source.path))
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError as exc:
        return f"cannot write it: {exc.strerror or exc}"
    # Mode bits too: root may write anything, but a file marked read-only is
    # protected on purpose (as editors and `rm` treat it).
    if not os.access(target, os.W_OK) or not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        return "the file is read-only"
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".hplint-tmp", dir=target.parent)
    except OSError:
        # A writable file in a directory we cannot create files in: write in
        # place, after the same check that nobody changed it meanwhile.
        if _changed_on_disk(target, source.data):
            return _CHANGED
        try:
            target.write_bytes(data)
        except OSError as exc:
            return f"cannot write it: {exc.strerror or exc}"
        return None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)
        if _changed_on_disk(target, source.data):
            os.unlink(temp)
            return _CHANGED
        os.replace(temp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        return f"cannot write it: {exc.strerror or exc}"
    return None


_CHANGED = "it changed on disk while hplint was fixing it; run hplint again"


def _changed_on_disk(path: Path, expected: bytes) -> bool:
    try:
        return path.read_bytes() != expected
    except OSError:
        return True
