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

    Views are created in the order their references imply (``dependency_order``, read from the
    SQL by sqlglot), each once and binding at the first try: the generation is written in one transaction, where a failed
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
    """The views, each after the views it reads (``references``): the order publish creates them in.

    Parsing 28 views with sqlglot costs a publish about half a second (its import included), so
    the order sqlglot finds is shipped in ``sql/view_order.txt`` beside a digest of the view
    files; it is used while the digest matches, and found anew (by sqlglot) when a view changed.
    tests/core/test_sqlfiles.py holds the shipped file to what sqlglot finds, and
    tests/warehouse/test_views.py every view to binding in this order.
    """
    found = views()
    shipped = _shipped_order(found)
    return shipped if shipped is not None else order_views(found)


ORDER_FILE = "view_order.txt"


def views_digest(found) -> str:
    import hashlib

    digest = hashlib.sha256()
    for view in found:
        digest.update(view.name.encode() + b"\0" + view.sql.encode() + b"\0")
    return digest.hexdigest()


def order_file_text(found) -> str:
    """The text of sql/view_order.txt for ``found``: the digest, then one view name a line, in order."""
    names = [v.name for v in order_views(found)]
    return f"# view creation order found by sqlglot; regenerate with: python -m codesets.core.sqlfiles\n" \
           f"{views_digest(found)}\n" + "\n".join(names) + "\n"


def _shipped_order(found) -> tuple[ViewFile, ...] | None:
    try:
        lines = (_sql_dir() / ORDER_FILE).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    lines = [line for line in lines if line and not line.startswith("#")]
    if not lines or lines[0] != views_digest(found):
        return None
    by_name = {v.name: v for v in found}
    if sorted(lines[1:]) != sorted(by_name):
        return None
    return tuple(by_name[name] for name in lines[1:])



def order_views(found) -> tuple[ViewFile, ...]:
    """``found`` (ViewFiles) ordered so that each comes after the others it references; ties by name.

    A cycle is refused with one ValueError naming the views in it.
    """
    by_name = {v.name: v for v in found}
    needs = {name: references(v.sql, by_name) for name, v in by_name.items()}  # itself too: a cycle
    ordered: list[ViewFile] = []
    placed: set[str] = set()
    while len(ordered) < len(by_name):
        ready = [n for n in sorted(by_name) if n not in placed and needs[n] <= placed]
        if not ready:
            left = {n: needs[n] - placed for n in sorted(by_name) if n not in placed}
            raise ValueError(
                f"views reference each other in a cycle: {_cycle(left)}; "
                "one of them must stop reading the other"
            )
        ordered.extend(by_name[n] for n in ready)
        placed.update(ready)
    return tuple(ordered)


def references(sql: str, names) -> set[str]:
    """The relations of ``names`` that ``sql`` reads: in FROM, JOIN, a subquery, a LATERAL
    join or a CTE's body, wherever it sits; a name that a CTE in scope shadows is not one.

    Parsed by sqlglot (DuckDB dialect), imported here: only a publish needs it.
    """
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise ValueError(f"cannot read the SQL to find the views it reads: {str(exc).splitlines()[0]}") from None
    names = set(names)
    return {table.name for table in tree.find_all(exp.Table)
            if table.name in names and not _cte_in_scope(table, exp)}


def _cte_in_scope(table, exp) -> bool:
    """Whether a WITH around ``table`` defines a CTE of its name that ``table`` can see.

    A CTE is seen by the final query and by the CTEs after it in its WITH (and by itself
    under WITH RECURSIVE); a CTE's own body reads an outer relation of its name otherwise.
    """
    child, node = table, table.parent
    while node is not None:
        with_ = node.args.get("with_") or node.args.get("with")
        if isinstance(with_, exp.With) and with_ is not child:
            if any(cte.alias_or_name == table.name for cte in with_.expressions):
                return True
        elif isinstance(node, exp.With):
            # ``child`` is one of this WITH's CTEs: it sees those before it (and itself if recursive).
            position = next(i for i, cte in enumerate(node.expressions) if cte is child)
            visible = node.expressions[: position + 1 if node.args.get("recursive") else position]
            if any(cte.alias_or_name == table.name for cte in visible):
                return True
            owner = node.parent  # the query this WITH belongs to: its CTEs are judged already
            child, node = owner, (owner.parent if owner is not None else None)
            continue
        child, node = node, node.parent
    return False


def _cycle(left: dict[str, set[str]]) -> str:
    """One cycle among views that are each waiting for another: ``a -> b -> a``."""
    path = [next(iter(left))]
    while path.count(path[-1]) < 2:
        path.append(sorted(left[path[-1]])[0])
    start = path.index(path[-1])
    return " -> ".join(path[start:])


def _literal(text: str) -> str:
    # Comments come from our own package files, never from user input.
    return "'" + text.replace("'", "''") + "'"


if __name__ == "__main__":  # write sql/view_order.txt after changing a view
    import pathlib

    target = pathlib.Path(__file__).resolve().parents[1] / "sql" / ORDER_FILE
    target.write_text(order_file_text(views()), encoding="utf-8")
    print(f"wrote {target}")
