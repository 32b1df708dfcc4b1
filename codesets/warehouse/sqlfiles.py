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

    Views are created in dependency order found by retrying: a view whose inputs do not
    exist yet fails to bind and is tried again after the others.
    """
    import duckdb

    con.execute(schema_sql())
    # first the order the views' FROM and JOIN clauses imply, then the order that bound last time
    pending = sorted(_dependency_order(), key=lambda v: _ORDER.get(v.name, 0))
    created = []
    while pending:
        failed = []
        for view in pending:
            try:
                con.execute(f'CREATE OR REPLACE VIEW "{view.name}" AS\n{view.sql}')
                created.append(view.name)
            except duckdb.CatalogException:
                failed.append(view)
        if len(failed) == len(pending):
            names = ", ".join(v.name for v in failed)
            # Re-raise the real binding error of the first one for the developer.
            con.execute(f'CREATE OR REPLACE VIEW "{failed[0].name}" AS\n{failed[0].sql}')
            raise RuntimeError(f"views do not bind: {names}")
        pending = failed
    _ORDER.update({name: position for position, name in enumerate(created)})  # next time, no failed tries
    for view in views():
        con.execute(f'COMMENT ON VIEW "{view.name}" IS {_literal(view.summary)}')
        for column, text in view.columns.items():
            con.execute(f'COMMENT ON COLUMN "{view.name}"."{column}" IS {_literal(text)}')


_ORDER: dict[str, int] = {}  # views in an order that binds, learnt by the first apply()


@cache
def _dependency_order() -> tuple[ViewFile, ...]:
    """The views, each after those its FROM and JOIN clauses name: a guess that spares apply()
    its failed tries (each costs a binding); a wrong guess only costs those tries back."""
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
        waiting = [n for n in sorted(found) if n not in placed]
        # a false need (a name in a string?) could make a cycle: then the least-waiting one first
        ready = [n for n in waiting if needs[n] <= placed] or [min(waiting, key=lambda n: len(needs[n] - placed))]
        ordered.extend(found[n] for n in ready)
    return tuple(ordered)


def _literal(text: str) -> str:
    # Comments come from our own package files, never from user input.
    return "'" + text.replace("'", "''") + "'"
