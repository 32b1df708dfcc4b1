"""Source loaders, one module per official file format.

A module here is a loader when it defines ``SOURCE``. Adding a source means adding a
module; nothing else lists them. Every loader offers the same small interface:

    SOURCE, DESCRIPTION      its name (``codesets load SOURCE``) and a line of help
    TABLE, DIFF_KEY          the shared staging shape it fills and the columns that identify a row
    recognise(path)          does this file look like ours (sniffed from content, not the name)?
    release_id(path)         the release a file belongs to, when its name or folder says
    effective_from(release)  the first date of service of a release, when the id implies it
    stage(con, files)        parse files into the temp table ``staged``; return FileInfo per file
    model()                  the pandera DataFrameModel that ``staged`` must pass
    publish(con, release)    insert ``staged`` into TABLE
    notes(con)               rows loaded as published but worth a word (data quirks)
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from codesets.errors import SourceError


def available() -> dict[str, ModuleType]:
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "SOURCE"):
            found[module.SOURCE] = module
    return found


def get(source: str) -> ModuleType:
    loaders = available()
    try:
        return loaders[source]
    except KeyError:
        names = ", ".join(sorted(loaders))
        raise SourceError(f"unknown source {source!r}; known sources: {names}") from None
