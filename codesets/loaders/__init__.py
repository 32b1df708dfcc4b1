"""Source loaders, one module per official file format.

Every module here except ``contract`` is a loader: it binds ``LOADER`` to an object that
honours ``codesets.loaders.contract.Loader``. Adding a source means adding a module; nothing
else lists them. Discovery checks each loader and names the module and what it lacks.

A source may also live outside the package: every ``*.py`` module (not starting with ``_``)
of a folder named in the environment variable ``CODESETS_LOADER_PATH`` (folders separated by
``os.pathsep``), or given to ``register_path``, is discovered and checked the same way.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import sys
from functools import cache
from pathlib import Path

from codesets.core.errors import CodesetsError, SourceUnknown
from codesets.loaders.contract import CodeSystem, Declaration, Loader, check

ENV_LOADER_PATH = "CODESETS_LOADER_PATH"
_NOT_LOADERS = {"contract"}
_registered: list[Path] = []


def register_path(folder) -> None:
    """Discover the loader modules of ``folder`` too (from the next ``available()`` on)."""
    folder = Path(folder)
    if folder not in _registered:
        _registered.append(folder)
    available.cache_clear()


def unregister_path(folder) -> None:
    """Forget a folder given to ``register_path``."""
    folder = Path(folder)
    if folder in _registered:
        _registered.remove(folder)
    available.cache_clear()


def _extra_folders() -> list[Path]:
    named = [Path(p) for p in os.environ.get(ENV_LOADER_PATH, "").split(os.pathsep) if p]
    return named + [f for f in _registered if f not in named]


def _modules():
    """(module name, module) of every loader module: the package's, then the extra folders'."""
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name in _NOT_LOADERS:
            continue
        module_name = f"{__name__}.{info.name}"
        yield module_name, importlib.import_module(module_name)
    for folder in _extra_folders():
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            module_name = f"codesets_loader_{path.stem}"
            module = sys.modules.get(module_name)
            if module is None or getattr(module, "__file__", None) != str(path):
                spec = importlib.util.spec_from_file_location(module_name, path)
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                spec.loader.exec_module(module)
            yield f"{module_name} ({path})", module


@cache
def available() -> dict[str, Loader]:
    found: dict[str, Loader] = {}
    for module_name, module in _modules():
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


def declarations() -> dict[str, Declaration]:
    """source -> what it declares, for every discovered loader."""
    return {source: loader.declares for source, loader in available().items()}


def validity_systems() -> dict[str, tuple[str, CodeSystem]]:
    """code system -> (the source whose releases answer its validity, its declaration).

    Two sources answering for one system is refused: a date would have two lists in force.
    """
    found: dict[str, tuple[str, CodeSystem]] = {}
    for source, declares in declarations().items():
        for system in declares.code_systems:
            if not system.validity:
                continue
            if system.name in found:
                raise CodesetsError(
                    f"sources {found[system.name][0]} and {source} both answer validity for code system {system.name!r}"
                )
            found[system.name] = (source, system)
    return found
