"""User SQL runs as one read-only query on a locked-down connection.

Two fences, because neither holds alone:

- ``check_statement`` lets only queries through. DuckDB's file fence cannot do this part:
  ``allowed_directories`` allows writing as well as reading, so ``COPY ... TO``,
  ``EXPORT DATABASE`` and ``EXPLAIN ANALYZE COPY ...`` all write into the warehouse's own
  data folder once that folder is allowed for reading.
- ``lock_down`` limits the queries that get through to the warehouse's own files: no other
  file, no network, no extensions, and no SET that could undo any of this.
"""

from __future__ import annotations

import os
import threading
import time

from codesets.errors import QueryError, QueryTimeout, WarehouseError

ALLOWED = "one read-only query (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)"

# Leading words of statements that DuckDB classes as queries; a refusal naming only this word
# ("got WITH") would be puzzling, so the message adds the statement's type.
_QUERY_WORDS = {"SELECT", "WITH", "FROM", "VALUES", "TABLE", "(", "DESCRIBE", "SHOW", "SUMMARIZE"}

_TICK = 0.1  # seconds between looks at Ctrl-C and the deadline while a query runs

_HINTS = {
    "PermissionException": " (codesets sql reads only the warehouse's own files)",
    "CatalogException": " (list the views: SELECT view_name, comment FROM duckdb_views() WHERE NOT internal)",
    "OutOfMemoryException": " (narrow the query with WHERE or LIMIT; codesets sql does not spill to disk)",
}


def check_statement(sql: str) -> str:
    """The text of the one query in ``sql``; anything else raises QueryError naming what it got."""
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(_first_line(exc)) from None
    if not statements:
        raise _refuse("no statement")
    if len(statements) > 1:
        raise _refuse(f"{len(statements)} statements; run them one at a time")
    refused = _refusal(statements[0])
    if refused:
        raise _refuse(refused)
    return statements[0].query


def lock_down(con, allowed_directories: list[str], temp_directory: str | None = None) -> None:
    """Confine ``con`` to reading files under ``allowed_directories``, for good.

    ``temp_directory`` is where a query too big for memory may spill. None (the default)
    turns spilling off, so a query never writes anywhere: DuckDB would otherwise spill into
    ``<database>.tmp/``, or ``./.tmp/`` under the working directory for an in-memory
    database, and would add that folder to the allowed ones.
    """
    folders = []
    for folder in [*allowed_directories, *([temp_directory] if temp_directory else [])]:
        folder = os.fspath(folder)
        if not os.path.isabs(folder):
            raise ValueError(f"directory {folder!r} is not an absolute path")
        # The trailing separator keeps /wh/data from also admitting /wh/data-evil.
        folders.append(os.path.join(os.path.normpath(folder), ""))
    con.execute("SET temp_directory = ?", [folders[-1] if temp_directory else ""])
    # Order matters: DuckDB refuses to change allowed_directories once external access is off.
    con.execute("SET allowed_directories = ?", [folders])
    con.execute("SET enable_external_access = false")  # also hides Python variables from FROM
    con.execute("SET autoinstall_known_extensions = false")  # no network fetch behind a query
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET python_enable_replacements = false")  # belt and braces for the line above
    con.execute("SET lock_configuration = true")  # last: every SET after this fails


def run(con, sql: str, params=None, timeout: float | None = None):
    """Run the one query in ``sql`` on ``con``; return a pyarrow Table.

    Stops the query after ``timeout`` seconds (QueryTimeout). Ctrl-C stops it at once and
    re-raises KeyboardInterrupt.
    """
    import duckdb

    if timeout is not None and not timeout > 0:
        raise QueryError(f"timeout must be a number of seconds above 0, not {timeout}")
    statement = check_statement(sql)
    outcome: dict = {}
    done = threading.Event()

    def work() -> None:
        try:
            outcome["table"] = con.sql(statement, params=params).to_arrow_table()
        except BaseException as exc:  # handed to the waiting thread, which raises it
            outcome["error"] = exc
        finally:
            done.set()

    # DuckDB does not look at Python's signal flag while a query runs, so Ctrl-C in the
    # thread running it would wait for the query to end. The query runs in a worker and
    # this thread waits, where KeyboardInterrupt lands at once. It waits on an Event, not
    # Thread.join: a join broken by Ctrl-C marks a live thread dead (CPython gh-90882).
    threading.Thread(target=work, name="codesets-query", daemon=True).start()
    try:
        finished = _wait(done, None if timeout is None else time.monotonic() + timeout)
    except KeyboardInterrupt:
        _stop(con, done)
        raise
    if not finished:
        _stop(con, done)
    if "table" in outcome:  # finished, perhaps just as the time ran out
        return outcome["table"]
    exc = outcome["error"]
    if not finished and isinstance(exc, duckdb.InterruptException):
        raise QueryTimeout(
            f"query stopped after {timeout:g} s (its time limit); narrow it with WHERE or LIMIT, "
            "or allow more time (codesets sql --timeout SECONDS)"
        ) from None
    if isinstance(exc, duckdb.Error):
        first = _first_line(exc)
        if ".parquet" in first and any(word in first for word in _DAMAGED_DATA):
            raise WarehouseError(
                f"a data file of the warehouse cannot be read ({first}); "
                "`codesets drop` the release it belongs to and load it again"
            ) from None
        raise QueryError(first + _HINTS.get(type(exc).__name__, "")) from None
    raise exc


# What DuckDB says of a Parquet file that is missing, cut short or overwritten.
_DAMAGED_DATA = ("No files found", "too small to be a Parquet file", "No magic bytes", "No such file", "corrupt")


def _wait(done: threading.Event, deadline: float | None) -> bool:
    """True when the query is done, False at the deadline.

    Waits in short slices: Python runs signal handlers only between waits, and a SIGINT the
    kernel hands to one of DuckDB's threads does not wake a wait in this one.
    """
    while True:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return False
        if done.wait(_TICK if left is None else min(_TICK, left)):
            return True


def _stop(con, done: threading.Event) -> None:
    # interrupt() reaches only a query already running; one just starting would miss it, so
    # ask until the worker is out. Closing a connection while a query runs on it aborts the
    # whole process (DuckDB 2.0), so a second Ctrl-C does not cut this short.
    while not done.is_set():
        con.interrupt()
        try:
            done.wait(_TICK)
        except KeyboardInterrupt:
            pass


def _refusal(statement) -> str | None:
    """None for a query, else what the statement is, for the message."""
    import duckdb

    try:
        kind = statement.type
    except ValueError:  # a type this duckdb's Python enum lacks, e.g. UPDATE EXTENSIONS
        return _leading_word(statement.query)
    if kind == duckdb.StatementType.SELECT:
        return None
    if kind == duckdb.StatementType.EXPLAIN:
        # EXPLAIN ANALYZE runs what it explains, so the explained statement must be a query.
        inner = [s for text in _explained(statement.query) for s in _parse_quietly(text)]
        if not inner:
            return "EXPLAIN of a statement codesets could not read"
        refused = [r for r in map(_refusal, inner) if r]
        return f"EXPLAIN {refused[0]}" if refused else None
    word = _leading_word(statement.query)
    if kind == duckdb.StatementType.MULTI:  # PIVOT without IN creates a type first
        return f"{word} needing several statements (for PIVOT, name the values: PIVOT t ON col IN ('a', 'b'))"
    return f"{word} ... {kind.name}" if word in _QUERY_WORDS else word


def _explained(text: str) -> list[str]:
    """What ``EXPLAIN [ANALYZE] [(options)] statement`` may be explaining.

    Two readings, since ``EXPLAIN (SELECT 1)`` is valid too: the text after a parenthesis
    group (options), and the text from it (a parenthesised query). At most one parses.
    """
    tokens = _tokens(text)
    i = 1  # tokens[0] is EXPLAIN
    if i < len(tokens) and tokens[i][1].upper() in ("ANALYZE", "ANALYSE"):
        i += 1
    if i >= len(tokens):
        return []
    readings = [text[tokens[i][0]:]]
    if tokens[i][1] == "(":
        depth = 0
        for j in range(i, len(tokens)):
            depth += {"(": 1, ")": -1}.get(tokens[j][1], 0)
            if depth == 0:
                if j + 1 < len(tokens):
                    readings.append(text[tokens[j + 1][0]:])
                break
    return readings


def _tokens(text: str) -> list[tuple[int, str]]:
    """(offset, text) of each token, comments left out; strings stay whole, so a ')' in one is not a parenthesis."""
    import duckdb

    found = duckdb.tokenize(text)
    ends = [pos for pos, _ in found[1:]] + [len(text)]
    return [(pos, text[pos:end].strip()) for (pos, kind), end in zip(found, ends)
            if kind != duckdb.token_type.comment]


def _parse_quietly(text: str) -> list:
    import duckdb

    try:
        statements = duckdb.extract_statements(text)
    except duckdb.Error:
        return []
    return statements if len(statements) == 1 else []


def _leading_word(sql: str) -> str:
    tokens = _tokens(sql)
    return tokens[0][1].upper() if tokens else "no statement"


def _refuse(got: str) -> QueryError:
    return QueryError(f"codesets sql runs {ALLOWED}; got {got}")


def _first_line(exc: BaseException) -> str:
    """DuckDB's message without the candidate lists, LINE markers and hints on later lines,
    except a "Did you mean" suggestion, which names the fix."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    suggestion = next((line for line in lines[1:] if line.startswith("Did you mean")), None)
    return f"{lines[0]} {suggestion}" if suggestion else lines[0]
