"""Scrub checks, one module per check: each declares what it is, nothing central lists them.

Every module here binds ``CHECK`` to a ``Check`` (below) whose name is the module's name; its
SELECT is ``sql/queries/scrub_<name>.sql`` (for a module of an extra folder: ``scrub_<name>.sql``
beside it). ``available()`` finds them, checks each declaration and names the module and what
it lacks, so a new check fails at discovery, not in the middle of a scrub. Adding a check means
adding a module and its SQL file.

Extra folders (``CODESETS_SCRUB_CHECKS``, paths separated by ``os.pathsep``; ``folders=`` in
code) are searched the same way after the package: a site's own checks, or a test's toy check,
without an edit here. A name taken twice is refused.

Discovery imports the check modules and nothing heavy (no DuckDB): the CLI lists the checks
in its help text.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from codesets.core.errors import CodesetsError

INPUT = "input"  # the input rules: always run, first; not named in --checks
ENV = "CODESETS_SCRUB_CHECKS"
SEVERITIES = ("error", "warning", "info")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")

# What every check's SELECT yields, by name (the engine casts each column to its type).
FINDINGS = (
    ("claim_id", "VARCHAR"),
    ("line_number", "INTEGER"),
    ("check", "VARCHAR"),
    ("severity", "VARCHAR"),
    ("code", "VARCHAR"),
    ("related_line_number", "INTEGER"),
    ("reason", "VARCHAR"),
    ("reference", "VARCHAR"),
    ("suggestion", "VARCHAR"),
)


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


@dataclass(frozen=True)
class Check:
    """What a check module declares.

    name      the check's name in ``--checks`` and in the findings' ``check`` column; the
              module's name, and its SQL file is ``scrub_<name>.sql``
    summary   one line: what the check finds
    severity  the severity of its findings where its SELECT leaves ``severity`` NULL
    default   runs when no checks are named
    order     its place among the checks: the default list and every listing follow it
    reads     the views and tables its SQL reads, besides the temp table ``claim_lines``
    needs     the sources whose releases it checks against: where none of a source serves, the
              scrub says so in a note (``Scrub.notes``, the summary line) instead of silently
              finding nothing
    prepare   called with the connection before the SELECT runs, for a check that builds
              temp tables first (``validity``)
    stage     the input check alone: ``stage(con, source) -> (rows read, lines kept)``
    """

    name: str
    summary: str
    severity: str
    default: bool
    order: int
    reads: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    prepare: Callable | None = None
    stage: Callable | None = None
    folder: Path | None = None  # set at discovery for a check of an extra folder: where its SQL is

    def sql(self) -> str:
        """The check's SELECT (its findings columns)."""
        if self.folder is not None:
            return (self.folder / f"scrub_{self.name}.sql").read_text(encoding="utf-8")
        from codesets.core import sqlfiles

        return sqlfiles.query(f"scrub_{self.name}")


def _problems(check, module_name: str) -> list[str]:
    if not isinstance(check, Check):
        return ["CHECK (a codesets.scrub.checks.Check)"]
    problems = []
    if not _NAME.fullmatch(check.name or "") or check.name != module_name:
        problems.append(f"a name equal to its module's name ({module_name!r}), lower-case letters, digits, '_'")
    if check.severity not in SEVERITIES:
        problems.append(f"a severity among {', '.join(SEVERITIES)}")
    if not isinstance(check.order, int) or isinstance(check.order, bool):
        problems.append("an integer order")
    if not isinstance(check.reads, tuple) or not isinstance(check.needs, tuple):
        problems.append("reads and needs as tuples of names")
    if (check.stage is not None) != (check.name == INPUT):
        problems.append("a stage function (the input check alone has one)")
    return problems


def _declared(module, module_name: str, where: str, folder: Path | None) -> Check:
    check = getattr(module, "CHECK", None)
    problems = _problems(check, module_name)
    if problems:
        raise CodesetsError(f"check module {where} does not declare a check: it lacks {'; '.join(problems)}")
    if folder is not None:
        check = replace(check, folder=folder)
        if not (folder / f"scrub_{check.name}.sql").is_file():
            raise CodesetsError(f"check module {where} has no SQL file scrub_{check.name}.sql beside it")
    elif check.stage is None:
        try:
            check.sql()
        except FileNotFoundError:
            raise CodesetsError(f"check module {where} has no SQL file sql/queries/scrub_{check.name}.sql") from None
    return check


def folders() -> tuple[str, ...]:
    """The extra folders named by ``CODESETS_SCRUB_CHECKS``."""
    return tuple(p for p in os.environ.get(ENV, "").split(os.pathsep) if p.strip())


def available(extra: tuple[str, ...] | None = None) -> dict[str, Check]:
    """Every check, ``input`` first, then in declared order (then by name): name -> Check."""
    return _discover(tuple(str(Path(f).resolve()) for f in (folders() if extra is None else extra)))


@cache
def _discover(extra: tuple[str, ...]) -> dict[str, Check]:
    found: dict[str, Check] = {}

    def add(check: Check, where: str) -> None:
        if check.name in found:
            raise CodesetsError(f"check module {where} declares check {check.name!r}, which another module declares too")
        found[check.name] = check

    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module_name = f"{__name__}.{info.name}"
        add(_declared(importlib.import_module(module_name), info.name, module_name, None), module_name)
    for folder in extra:
        path = Path(folder)
        if not path.is_dir():
            raise CodesetsError(f"{ENV}: {folder} is not a folder of check modules")
        for file in sorted(path.glob("*.py")):
            if file.stem.startswith("_"):
                continue
            module_name = f"codesets_scrub_extra_{abs(hash(folder)):x}_{file.stem}"
            spec = importlib.util.spec_from_file_location(module_name, file)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            add(_declared(module, file.stem, str(file), path), str(file))
    if INPUT not in found:
        raise CodesetsError(f"no check module declares the check {INPUT!r}")
    ordered = sorted(found.values(), key=lambda c: (c.name != INPUT, c.order, c.name))
    return {c.name: c for c in ordered}


def names(extra: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The checks ``--checks`` may name, in declared order (``input`` is not among them: it always runs)."""
    return tuple(n for n in available(extra) if n != INPUT)


def default_names(extra: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The checks run when none are named, in declared order."""
    return tuple(n for n, c in available(extra).items() if c.default and n != INPUT)
