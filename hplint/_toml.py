"""TOML reader: the standard library's tomllib from 3.11, tomli before."""

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old interpreters only
    import tomli as tomllib

__all__ = ["tomllib"]
