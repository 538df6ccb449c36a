"""Bytes to text the way the interpreter decodes a source file, and the
reason when it cannot. Free of libcst, so reports and the result cache can
read files without loading the parser."""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass
from typing import Tuple, Union


@dataclass(frozen=True)
class SourceError:
    """Why a file could not be analysed, and where (1-based)."""

    message: str
    line: int = 1
    col: int = 1
    # True when the file is valid Python and hplint's own parser is what
    # failed: reported as a warning, since the code itself is not at fault.
    limitation: bool = False
    # CPython's plain syntax error: the file may use syntax newer than the
    # Python hplint runs on (PEP 695 `def f[T]()` on 3.11), which libcst reads.
    maybe_newer_syntax: bool = False


def decode_source(data: bytes) -> Union[str, SourceError]:
    """Decode like the interpreter does: a BOM or PEP 263 coding line, else UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        # Raised for undecodable bytes in the first two lines as well as for a
        # bad coding line; decoding as UTF-8 below tells which, with a position.
        encoding = "utf-8"
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            pass
        else:
            return SourceError(f"cannot decode file: {exc.msg if hasattr(exc, 'msg') else exc}")
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            line = data.count(b"\n", 0, exc.start) + 1
            col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            return SourceError(
                f"cannot decode file as {encoding}: byte 0x{data[exc.start]:02x} is not valid ({exc.reason})",
                line,
                col,
            )
        return SourceError(f"cannot decode file: unknown encoding {encoding!r}")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


# Byte-order marks a YAML or JSON reader honours (YAML 1.2 section 5.2; JSON
# readers accept them too), longest first: UTF-32's LE mark starts like UTF-16's.
_DATA_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"),
)


# Files read as data (sweeps and search spaces), not as Python source.
DATA_SUFFIXES = (".yaml", ".yml", ".json")


def is_data_file(path) -> bool:
    return str(path).lower().endswith(DATA_SUFFIXES)


def decode_file(path, data: bytes) -> Union[str, SourceError]:
    """A file's text as hplint reads it: data files by decode_data, Python
    sources (and notebooks, whose JSON is UTF-8) by decode_source."""
    return decode_data(data) if is_data_file(path) else decode_source(data)


def data_bom(data: bytes) -> Tuple[bytes, str]:
    """(the byte-order mark a data file starts with or b"", its encoding)."""
    for bom, name in _DATA_BOMS:
        if data.startswith(bom):
            return bom, name
    return b"", "utf-8"


def decode_data(data: bytes) -> Union[str, SourceError]:
    """Decode a YAML or JSON file: by its byte-order mark, else as UTF-8 (no
    PEP 263 coding line there). A conda `environment.yml` saved by Windows
    tools is UTF-16 with a BOM."""
    bom, encoding = data_bom(data)
    data = data[len(bom):]
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return SourceError(f"cannot decode file as {encoding}: byte 0x{data[exc.start]:02x} is not valid ({exc.reason})",
                           line, col)
