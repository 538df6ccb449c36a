"""The kinds of disk look-up the project index records for the result cache
(kept apart so the cache can check them without importing the analysis)."""

import os
from typing import Optional

FILE = "file"  # os.path.isfile: an import candidate
EXISTS = "exists"  # os.path.exists: an __init__.py or a project marker
LISTING = "listing"  # module_files(folder): the modules of a dynamically imported package


def module_files(folder: str) -> Optional[str]:
    """The module names of a folder's `.py` files (not `__init__`), sorted, one
    per line; None when `folder` is not a directory."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return None
    names = sorted(e.name[:-3] for e in entries
                   if e.name.endswith(".py") and e.name != "__init__.py" and e.name[:-3].isidentifier() and e.is_file())
    return "\n".join(names)
