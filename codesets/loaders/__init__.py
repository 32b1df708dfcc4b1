"""Source loaders, one module per official file format.

Every module here except ``contract`` is a loader: it binds ``LOADER`` to an object that
honours ``codesets.loaders.contract.Loader``. Adding a source means adding a module; nothing
else lists them. Discovery checks each loader and names the module and what it lacks.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from codesets.core.errors import CodesetsError, SourceUnknown
from codesets.loaders.contract import Loader, check

_NOT_LOADERS = {"contract"}


@cache
def available() -> dict[str, Loader]:
    found: dict[str, Loader] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name in _NOT_LOADERS:
            continue
        module_name = f"{__name__}.{info.name}"
        module = importlib.import_module(module_name)
        loader = getattr(module, "LOADER", None)
        problems = ["LOADER (an object honouring codesets.loaders.contract.Loader)"] if loader is None else check(loader)
        if problems:
            raise CodesetsError(f"loader module {module_name} does not honour the loader contract: it lacks {', '.join(problems)}")
        if loader.source in found:
            raise CodesetsError(f"loader module {module_name} declares source {loader.source!r}, which another module declares too")
        found[loader.source] = loader
    return found


def get(source: str) -> Loader:
    loaders = available()
    try:
        return loaders[source]
    except KeyError:
        names = ", ".join(sorted(loaders))
        raise SourceUnknown(f"unknown source {source!r}; known sources: {names}") from None
