"""The SQL shipped in ``codesets/sql``: base tables, one view per file, parameterised queries.

A view file starts with a header comment: ``-- name: purpose`` on its first line, then
grain, sources and an example, then ``-- Columns:`` with one ``--   column: description``
line per output column. The header becomes the view's and its columns' comments in the
database, so ``duckdb_views()`` and ``duckdb_columns()`` document the warehouse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

_COLUMN_LINE = re.compile(r"^--\s{2,}(\w+):\s*(.+)$")


@dataclass(frozen=True)
class ViewFile:
    name: str
    sql: str
    summary: str
    columns: dict[str, str] = field(default_factory=dict)


def _sql_dir():
    return resources.files("codesets") / "sql"


@cache
def schema_sql() -> str:
    return (_sql_dir() / "schema.sql").read_text(encoding="utf-8")


@cache
def shapes_sql() -> str:
    """The shared staging shapes (maps, codes, edits, limits) as CREATE TABLE statements."""
    return (_sql_dir() / "shapes.sql").read_text(encoding="utf-8")


@cache
def shape_comments() -> dict[str, tuple[str, dict[str, str]]]:
    """Each shared table's purpose and column comments, from the comments in shapes.sql."""
    found: dict[str, tuple[str, dict[str, str]]] = {}
    purpose, table = "", None
    for line in shapes_sql().splitlines():
        if match := re.match(r"^-- (\w+): (.+)$", line):
            purpose = f"{match.group(1)}: {match.group(2)}"
        elif match := re.match(r"^CREATE TABLE (\w+)", line):
            table = match.group(1)
            found[table] = (purpose, {})
        elif table and (match := re.match(r"^\s+(\w+)\s+\w+.*--\s*(.+)$", line)):
            found[table][1][match.group(1)] = match.group(2).strip()
    return found


@cache
def query(name: str) -> str:
    """A parameterised query from ``sql/queries/<name>.sql``."""
    return (_sql_dir() / "queries" / f"{name}.sql").read_text(encoding="utf-8")


@cache
def views() -> tuple[ViewFile, ...]:
    found = []
    for entry in sorted(_sql_dir().joinpath("views").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".sql"):
            found.append(parse_view(entry.name[: -len(".sql")], entry.read_text(encoding="utf-8")))
    return tuple(found)


def parse_view(name: str, text: str) -> ViewFile:
    header = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        header.append(line)
    summary = header[0][2:].strip() if header else ""
    columns = {}
    in_columns = False
    for line in header:
        if line.strip() == "-- Columns:":
            in_columns = True
        elif in_columns and (match := _COLUMN_LINE.match(line)):
            columns[match.group(1)] = match.group(2).strip()
    return ViewFile(name=name, sql=text, summary=summary, columns=columns)


def apply(con) -> None:
    """Create the base tables if missing and (re)create every view with its comments.

    Views are created in the order their FROM and JOIN clauses imply (``dependency_order``), so
    each binds at the first try: the generation is written in one transaction, where a failed
    statement would abort the rest. A view that does not bind is a bug of ours, named here.
    """
    import duckdb

    con.execute(schema_sql())
    for view in dependency_order():
        try:
            con.execute(f'CREATE OR REPLACE VIEW "{view.name}" AS\n{view.sql}')
        except duckdb.CatalogException as exc:
            raise RuntimeError(f"view {view.name} does not bind in dependency order: {exc}") from None
    for view in views():
        con.execute(f'COMMENT ON VIEW "{view.name}" IS {_literal(view.summary)}')
        for column, text in view.columns.items():
            con.execute(f'COMMENT ON COLUMN "{view.name}"."{column}" IS {_literal(text)}')


@cache
def dependency_order() -> tuple[ViewFile, ...]:
    """The views, each after those its FROM and JOIN clauses name (its own CTEs aside).

    tests/warehouse/test_views.py holds every view to binding in this order.
    """
    found = {v.name: v for v in views()}
    body = {v.name: "\n".join(line for line in v.sql.splitlines() if not line.lstrip().startswith("--"))
            for v in found.values()}
    named = {name: set(re.findall(r"(\w+)\s+AS\s*\(", body[name], re.IGNORECASE)) for name in found}  # its CTEs
    needs = {name: {other for other in found if other != name and other not in named[name]
                    and re.search(rf"(?:FROM|JOIN)\s+{other}\b", body[name], re.IGNORECASE)}
             for name in found}
    ordered: list[ViewFile] = []
    while len(ordered) < len(found):
        placed = {v.name for v in ordered}
        ready = [n for n in sorted(found) if n not in placed and needs[n] <= placed]
        if not ready:
            raise RuntimeError(f"views name each other in a cycle: {sorted(set(found) - placed)}")
        ordered.extend(found[n] for n in ready)
    return tuple(ordered)


def _literal(text: str) -> str:
    # Comments come from our own package files, never from user input.
    return "'" + text.replace("'", "''") + "'"
