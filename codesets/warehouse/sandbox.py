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

import contextlib
import contextvars
import os
import queue
import re
import threading
import time

from codesets.core.errors import QueryError, QueryTimeout, WarehouseError

ALLOWED = "one read-only query (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)"

# Leading words of statements that DuckDB classes as queries; a refusal naming only this word
# ("got WITH") would be puzzling, so the message adds the statement's type.
_QUERY_WORDS = {"SELECT", "WITH", "FROM", "VALUES", "TABLE", "(", "DESCRIBE", "SHOW", "SUMMARIZE"}

_TICK = 0.1  # seconds between looks at Ctrl-C and the deadline while a query runs

_HINTS = {
    "PermissionException": " (codesets sql reads only the warehouse's own files)",
    "CatalogException": " (list the views: SELECT view_name, comment FROM duckdb_views() WHERE NOT internal)",
}

# The memory a user's query may use. DuckDB's own default is 80% of the machine's memory, and
# `codesets sql` does not spill to disk, so one careless join grew a process to 20 GB before
# DuckDB said it was out of memory, the rest of the machine starved meanwhile. The default is
# a quarter of physical memory (or of a container's limit), at most 4 GB. Why: the sandbox
# streams results batch by batch (1.9 million rows go out as JSON in about 220 MB, README),
# so DuckDB needs memory only for what a query holds at once, its joins, sorts and groups
# over a warehouse of a few million rows per view; past 4 GB that is nearly always a runaway
# join, better stopped early with a message than met by the kernel's OOM killer. A quarter
# leaves a small machine room for the Python side (the table format holds every row it
# prints) and for everything else running there; a fixed 4 GB would be all of a 4 GB
# laptop. A query that truly needs more asks for it: `codesets sql --memory-limit 8GB` (or
# CODESETS_SQL_MEMORY_LIMIT=8GB); in Python, ``with sandbox.memory_limit("8GB"):`` around
# the connect.
MEMORY_CAP = 4 * 1024**3
MEMORY_FLAG = "--memory-limit"
MEMORY_ENV = "CODESETS_SQL_MEMORY_LIMIT"  # belongs in codesets.core.config, beside CODESETS_WAREHOUSE
_MEMORY = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)\s*", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
          "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}
_UNIT_NAMES = {"b": "B", "kb": "KB", "mb": "MB", "gb": "GB", "tb": "TB",
               "kib": "KiB", "mib": "MiB", "gib": "GiB", "tib": "TiB"}
_MIN_MEMORY = 1024**2  # DuckDB needs some blocks to run anything at all
_memory_limit: contextvars.ContextVar[str | None] = contextvars.ContextVar("codesets_memory_limit", default=None)


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


def parse_memory_limit(text: str) -> str:
    """``"8GB"``, ``"512 MiB"``, ``"1.5gb"`` as DuckDB's memory_limit text; else QueryError.

    DuckDB would take more (``-1`` and ``100%`` for no limit at all); codesets takes an amount
    with a unit, at least 1 MiB, so a mistyped value is refused rather than read as no limit.
    """
    match = _MEMORY.fullmatch(str(text))
    if not match:
        raise QueryError(
            f"memory limit {str(text)!r} is not an amount of memory; give a number and a unit, "
            f"e.g. {MEMORY_FLAG} 8GB (units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"
        )
    number, unit = match[1], match[2].lower()
    if float(number) * _UNITS[unit] < _MIN_MEMORY:
        raise QueryError(f"memory limit {str(text)!r} is too small; give at least 1MiB, e.g. {MEMORY_FLAG} 8GB")
    return f"{number}{_UNIT_NAMES[unit]}"


def default_memory_limit() -> str:
    """A quarter of physical memory (or of a container's limit), at most 4 GB: see MEMORY_CAP."""
    total = _physical_memory()
    quarter = MEMORY_CAP if total is None else min(total // 4, MEMORY_CAP)
    return f"{max(quarter, _MIN_MEMORY) // 1024**2}MiB"


def _physical_memory() -> int | None:
    sizes = []
    try:
        sizes.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        pass
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(limit, encoding="ascii") as fh:
                sizes.append(int(fh.read().strip()))  # "max" (no limit) fails here
        except (OSError, ValueError):
            continue
    sizes = [size for size in sizes if size > 0]
    return min(sizes) if sizes else None


@contextlib.contextmanager
def memory_limit(limit: str | None = None):
    """Within the block, connections locked down without spilling use ``limit`` (a
    ``parse_memory_limit`` text; None: ``default_memory_limit()``) for their queries.

    ``codesets sql`` opens its connection inside one; the limit is a setting, so it has to
    be in place before ``lock_down`` locks the configuration.
    """
    token = _memory_limit.set(parse_memory_limit(limit) if limit is not None else default_memory_limit())
    try:
        yield _memory_limit.get()
    finally:
        _memory_limit.reset(token)


def current_memory_limit() -> str | None:
    """The limit ``memory_limit`` set for this context, or None outside one."""
    return _memory_limit.get()


def lock_down(con, allowed_directories: list[str], temp_directory: str | None = None) -> None:
    """Confine ``con`` to reading files under ``allowed_directories``, for good.

    ``temp_directory`` is where a query too big for memory may spill. None (the default)
    turns spilling off, so a query never writes anywhere: DuckDB would otherwise spill into
    ``<database>.tmp/``, or ``./.tmp/`` under the working directory for an in-memory
    database, and would add that folder to the allowed ones. Without spilling, and inside
    ``memory_limit()``, the connection's memory_limit is set to that block's limit (a
    connection that spills has had its own limit set by its caller).
    """
    folders = []
    for folder in [*allowed_directories, *([temp_directory] if temp_directory else [])]:
        folder = os.fspath(folder)
        if not os.path.isabs(folder):
            raise ValueError(f"directory {folder!r} is not an absolute path")
        # The trailing separator keeps /wh/data from also admitting /wh/data-evil.
        folders.append(os.path.join(os.path.normpath(folder), ""))
    con.execute("SET temp_directory = ?", [folders[-1] if temp_directory else ""])
    limit = _memory_limit.get()
    if limit is not None and not temp_directory:
        con.execute("SET memory_limit = ?", [limit])  # before the lock below: it is a setting too
    # Order matters: DuckDB refuses to change allowed_directories once external access is off.
    con.execute("SET allowed_directories = ?", [folders])
    con.execute("SET enable_external_access = false")  # also hides Python variables from FROM
    con.execute("SET autoinstall_known_extensions = false")  # no network fetch behind a query
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET python_enable_replacements = false")  # belt and braces for the line above
    con.execute("SET lock_configuration = true")  # last: every SET after this fails


def run(con, sql: str, params=None, timeout: float | None = None):
    """Run the one query in ``sql`` on ``con``; return a pyarrow Table (see ``stream``)."""
    return stream(con, sql, params, timeout).read_all()


def stream(con, sql: str, params=None, timeout: float | None = None, batch_rows: int = 10_000, on_close=None,
           as_text: bool = False):
    """Run the one query in ``sql`` on ``con``; return a pyarrow RecordBatchReader.

    The result arrives batch by batch, so printing a million rows never holds them all.
    Errors in planning the query are raised here, before any row; an error later is raised
    while reading. ``timeout`` bounds the whole query, reading included (QueryTimeout).
    Ctrl-C stops it at once and re-raises KeyboardInterrupt. ``on_close`` is called once the
    query has stopped and the reader is done (or was never handed out), e.g. to close ``con``.
    ``as_text``: the columns of a type Arrow cannot carry (``TEXT_TYPES``, also inside lists,
    structs and maps) come back as DuckDB's own text of their values, for printing.
    """
    import pyarrow as pa

    if timeout is not None and not timeout > 0:
        raise QueryError(f"timeout must be a number of seconds above 0, not {timeout}")
    statement = check_statement(sql)
    query = _Query(con, statement, params, batch_rows, on_close, as_text)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        schema = query.next(deadline, timeout)
    except BaseException:
        query.stop()
        raise
    return pa.RecordBatchReader.from_batches(schema, query.batches(deadline, timeout))


class _Query:
    """One query run by a worker thread that hands its batches over through a short queue.

    DuckDB does not look at Python's signal flag while a query runs, so Ctrl-C in the thread
    running it would wait for the query to end. The query runs in a worker and this thread
    waits, in short slices, where KeyboardInterrupt lands at once. The queue holds a few
    batches: the worker waits when the reader is slower, so memory stays bounded.
    """

    _END = object()

    def __init__(self, con, statement: str, params, batch_rows: int, on_close=None, as_text: bool = False):
        self.con = con
        self.as_text = as_text
        self.on_close = on_close
        self.items: queue.Queue = queue.Queue(maxsize=4)
        self.stopping = threading.Event()
        self.done = threading.Event()
        self.worker = threading.Thread(target=self._work, args=(statement, params, batch_rows),
                                       name="codesets-query", daemon=True)
        self.worker.start()

    def _work(self, statement, params, batch_rows) -> None:
        # DuckDB's result and reader live in _run's frame alone, so they are gone before ``done``
        # says the connection may close: a result outliving its connection, or still held by a
        # thread when the interpreter exits, aborts the process ("terminate called ...").
        try:
            self._run(statement, params, batch_rows)
        except BaseException as exc:  # handed to the reading thread, which raises it
            self._put(exc.with_traceback(None))
        finally:
            self.done.set()

    def _run(self, statement, params, batch_rows) -> None:
        relation = self.con.sql(statement, params=params)
        if self.as_text:  # here, in the worker: a statement DuckDB runs to bind stays interruptible
            relation = as_text(relation)
        reader = relation.to_arrow_reader(batch_rows)
        self._put(reader.schema)
        for batch in reader:
            if not self._put(batch):
                return
        self._put(self._END)

    def _put(self, item) -> bool:
        while not self.stopping.is_set():
            try:
                self.items.put(item, timeout=_TICK)
                return True
            except queue.Full:
                continue
        return False

    def next(self, deadline, timeout):
        """The next item from the worker; raises what the worker raised, or on the deadline."""
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                self.stop()
                raise QueryTimeout(
                    f"query stopped after {timeout:g} s (its time limit); narrow it with WHERE or LIMIT, "
                    "or allow more time (codesets sql --timeout SECONDS)"
                )
            try:
                item = self.items.get(timeout=_TICK if left is None else min(_TICK, left))
            except queue.Empty:
                continue
            except KeyboardInterrupt:
                self.stop()
                raise
            if isinstance(item, BaseException):
                raise _translated(item)
            return item

    def batches(self, deadline, timeout):
        try:
            while (item := self.next(deadline, timeout)) is not self._END:
                yield item
        finally:
            self.stop()

    def stop(self) -> None:
        # interrupt() reaches only a query already running; one just starting would miss it, so
        # ask until the worker is out. Closing a connection while a query runs on it aborts the
        # whole process (DuckDB 2.0), so a second Ctrl-C does not cut this short.
        self.stopping.set()
        while not self.done.is_set():
            self.con.interrupt()
            try:
                self.done.wait(_TICK)
            except KeyboardInterrupt:
                pass
        while self.worker.is_alive():  # out of _work for good before the connection may close
            try:
                self.worker.join(_TICK)
            except KeyboardInterrupt:
                pass
        if self.on_close is not None:
            on_close, self.on_close = self.on_close, None
            on_close()


# DuckDB types whose values Arrow hands over wrong or in a form no output can print as DuckDB
# does: TIME WITH TIME ZONE loses its offset (12:00:00+05 arrives as 12:00:00), TIME_NS its
# nanoseconds on the way to Python, BIT arrives as its storage bytes (b'\x05\xfd' for 101),
# INTERVAL as MonthDayNano(months=0, days=3, nanoseconds=0), UHUGEINT past 2**127 as a
# negative decimal, BIGNUM and VARIANT as opaque bytes, BLOB as Python's b'...'. These are cast
# to VARCHAR by DuckDB itself, in the query it runs, so every format prints DuckDB's text.
# (Dates and timestamps Python cannot hold are the other half of the same rule, done on the
# Arrow side where their integers arrive intact: codesets.cli.common._temporal_text.)
TEXT_TYPES = frozenset({"time with time zone", "time_ns", "bit", "interval", "uhugeint", "bignum", "varint",
                        "variant", "blob"})


def as_text(relation):
    """``relation`` with each column of a ``TEXT_TYPES`` type, or a list, array, struct or map
    holding one, cast so those values are VARCHAR (DuckDB's text of them): ``INTERVAL[]`` as
    ``VARCHAR[]``, ``STRUCT(a BIT, n INTEGER)`` as ``STRUCT(a VARCHAR, n INTEGER)``, a union
    as the text of its value. The same relation when no column needs it. Still one query,
    streamed like the original: the casts are a projection over it, positional (``#2``) so
    that columns sharing a name keep their own values."""
    targets = [_text_type(kind) for kind in relation.types]
    if all(target is None for target in targets):
        return relation
    columns = [f"#{i}" if target is None else f"CAST(#{i} AS {target})"
               for i, target in enumerate(targets, start=1)]
    return relation.project(", ".join(f"{column} AS {_quoted(name)}"
                                      for column, name in zip(columns, relation.columns)))


def _text_type(kind) -> str | None:
    """The SQL type ``kind`` becomes with its ``TEXT_TYPES`` parts as VARCHAR; None if it has none."""
    name = kind.id
    if name in TEXT_TYPES:
        return "VARCHAR"
    if name not in ("list", "array", "struct", "map", "union"):
        return None
    children = kind.children
    if name in ("list", "array"):
        inner = _text_type(children[0][1])
        if inner is None:
            return None
        return f"{inner}[]" if name == "list" else f"{inner}[{children[1][1]}]"
    if name == "map":
        key, value = (_text_type(child) for _, child in children)
        if key is None and value is None:
            return None
        return f"MAP({key or children[0][1]}, {value or children[1][1]})"
    fields = [(field, child, _text_type(child)) for field, child in children
              if not (name == "union" and field == "")]  # a union's first child is its tag
    if all(target is None for _, _, target in fields):
        return None
    if name == "union":  # DuckDB's text of a union is its value's text
        return "VARCHAR"
    return "STRUCT(" + ", ".join(f"{_quoted(field)} {target or child}" for field, child, target in fields) + ")"


def _quoted(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _translated(exc: BaseException) -> BaseException:
    """A DuckDB error as ours, one line; anything else as it is."""
    import duckdb

    if isinstance(exc, duckdb.Error):
        first = _first_line(exc)
        if ".parquet" in first and any(word in first for word in _DAMAGED_DATA):
            return WarehouseError(
                f"a data file of the warehouse cannot be read ({first}); "
                "`codesets drop` the release it belongs to and load it again"
            )
        if isinstance(exc, getattr(duckdb, "OutOfMemoryException", ())):
            limit = _memory_limit.get()
            now = f" of {limit}" if limit else ""
            return QueryError(
                f"the query needed more memory than its limit{now} (codesets sql does not spill to disk): "
                f"narrow it with WHERE or LIMIT, or raise the limit: codesets sql {MEMORY_FLAG} 8GB "
                f"(or {MEMORY_ENV}=8GB)"
            )
        return QueryError(first + _HINTS.get(type(exc).__name__, ""))
    return exc


# What DuckDB says of a Parquet file that is missing, cut short or overwritten.
_DAMAGED_DATA = ("No files found", "too small to be a Parquet file", "No magic bytes", "No such file", "corrupt")


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
