"""Reading a source for fixing and writing it back byte-faithfully: the
detected encoding (PEP 263 coding line or BOM) is used again, a UTF-8 BOM is
kept, and line endings are left as they are (the text is never newline-
translated on the way in or out)."""

from __future__ import annotations

import codecs
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from ..analysis.source import SourceError, decode_source


@dataclass(frozen=True)
class SourceFile:
    path: Path
    text: str  # decoded, without the BOM
    encoding: str  # codec to write with (never "utf-8-sig": the BOM is `bom`)
    bom: bool


def read_source(path: Path) -> Union[SourceFile, SourceError]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return SourceError(f"cannot read file: {exc.strerror or exc}")
    text = decode_source(data)
    if isinstance(text, SourceError):
        return text
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    bom = data.startswith(codecs.BOM_UTF8)
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    return SourceFile(Path(path), text, encoding, bom)


def encode_source(source: SourceFile, text: str) -> bytes:
    """`text` in the file's encoding; raises UnicodeEncodeError when a fix
    introduced characters the declared encoding cannot hold."""
    data = text.encode(source.encoding)
    return codecs.BOM_UTF8 + data if source.bom else data


def write_source(source: SourceFile, text: str) -> None:
    source.path.write_bytes(encode_source(source, text))
