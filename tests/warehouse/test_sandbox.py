"""The sandbox around user SQL: one query, the warehouse's own files, a time limit, Ctrl-C.

Each test builds its own small read-only DuckDB file (a view over a Parquet file in
``data/``) and locks it down itself, so these tests do not depend on how storage.py opens
a warehouse.
"""

from __future__ import annotations

import _thread
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import duckdb
import pytest
from typer.testing import CliRunner

from codesets.core.errors import QueryError, QueryTimeout
from codesets.warehouse import sandbox
from tests.conftest import ROOT

# About 10^10 rows of work: minutes on any machine, so only an interrupt ends it in time.
LONG_QUERY = "SELECT sum(hash(a.range * b.range)) FROM range(100000) a, range(100000) b"
REFUSED = "codesets sql runs one read-only query (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN); got "


@pytest.fixture
def site(tmp_path):
    """tmp_path/wh.duckdb with view `codes` over data/codes.parquet; files beside it to attack."""
    data, evil, outside = tmp_path / "data", tmp_path / "data-evil", tmp_path / "outside"
    for folder in (data, evil, outside):
        folder.mkdir()
    builder = duckdb.connect(str(tmp_path / "wh.duckdb"))
    builder.execute(f"COPY (SELECT range AS n, 'c' || range AS code FROM range(5)) TO '{data / 'codes.parquet'}'")
    builder.execute(f"COPY (SELECT 'next door' AS s) TO '{evil / 'other.parquet'}'")
    builder.execute(f"COPY (SELECT 'secret' AS s) TO '{outside / 'secret.csv'}'")
    builder.execute(f"CREATE VIEW codes AS SELECT * FROM read_parquet(['{data / 'codes.parquet'}'])")
    builder.close()
    return tmp_path


@pytest.fixture
def con(site):
    # No trailing slash on purpose: lock_down must not let data/ admit data-evil/.
    connection = duckdb.connect(str(site / "wh.duckdb"), read_only=True)
    sandbox.lock_down(connection, [str(site / "data")])
    yield connection
    connection.close()


def tree(root) -> dict:
    """Every file under root with its size and modification time, to prove nothing was written."""
    return {
        os.path.relpath(os.path.join(folder, name), root): (os.stat(os.path.join(folder, name)).st_size,
                                                           os.stat(os.path.join(folder, name)).st_mtime_ns)
        for folder, _dirs, names in os.walk(root)
        for name in names
    }


# --- what works -------------------------------------------------------------------------


def test_view_over_parquet_in_allowed_folder_works_after_lock_down(con):
    table = sandbox.run(con, "SELECT sum(n) AS total, count(*) AS n_rows FROM codes")
    assert table.to_pylist() == [{"total": 10, "n_rows": 5}]


@pytest.mark.parametrize(
    "sql, column, first",
    [
        ("SELECT code FROM codes ORDER BY n", "code", "c0"),
        ("WITH c AS (SELECT * FROM codes) SELECT code FROM c ORDER BY n", "code", "c0"),
        ("FROM codes SELECT code ORDER BY n", "code", "c0"),
        ("VALUES ('x')", "col0", "x"),
        ("DESCRIBE codes", "column_name", "n"),
        ("SHOW TABLES", "name", "codes"),
        ("SUMMARIZE codes", "column_name", "n"),
        ("EXPLAIN SELECT * FROM codes", "explain_key", "physical_plan"),
        ("EXPLAIN ANALYZE SELECT * FROM codes", "explain_key", "analyzed_plan"),
        ("EXPLAIN (FORMAT json) SELECT * FROM codes", "explain_key", "physical_plan"),
        ("EXPLAIN (SELECT 1)", "explain_key", "physical_plan"),
        ("/* a comment */ SELECT code FROM codes ORDER BY n;", "code", "c0"),
        ("SELECT code FROM codes ORDER BY n; -- an empty trailing statement is fine", "code", "c0"),
    ],
)
def test_queries_run(con, sql, column, first):
    assert sandbox.run(con, sql).column(column)[0].as_py() == first


def test_parameters_are_bound(con):
    assert sandbox.run(con, "SELECT code FROM codes WHERE n = ?", params=[3]).to_pylist() == [{"code": "c3"}]


def test_check_statement_returns_the_statement_it_checked():
    assert sandbox.check_statement("SELECT 1 ; -- done") == "SELECT 1 ; -- done"
    assert sandbox.check_statement("EXPLAIN (SELECT 1) UNION (SELECT 2)") == "EXPLAIN (SELECT 1) UNION (SELECT 2)"


def test_reading_a_database_file_in_the_allowed_folder_writes_nothing(con, site):
    other = duckdb.connect(str(site / "data" / "other.duckdb"))
    other.execute("CREATE TABLE t AS SELECT 7 AS n")
    other.close()
    before = tree(site)
    table = sandbox.run(con, f"SELECT n FROM read_duckdb('{site}/data/other.duckdb', table_name := 't')")
    assert table.to_pylist() == [{"n": 7}]
    assert tree(site) == before


def test_glob_lists_the_allowed_folder(con, site):
    assert sandbox.run(con, f"SELECT file FROM glob('{site}/data/*')").to_pylist() == [
        {"file": str(site / "data" / "codes.parquet")}
    ]


# --- statements refused before they run ---------------------------------------------------


# (statement, what the message says it got); each would write, reach out or change settings.
# {site} stands for the test's folder; the view reads {site}/data, which DuckDB lets a
# statement WRITE into too, so these aim there.
REFUSED_STATEMENTS = [
    ("COPY (SELECT 1) TO '{site}/data/copied.csv'", "COPY"),
    ("COPY codes TO '{site}/data/copied.parquet' (FORMAT parquet)", "COPY"),
    ("EXPLAIN ANALYZE COPY (SELECT 1) TO '{site}/data/explained.csv'", "EXPLAIN COPY"),
    ("EXPLAIN (ANALYZE) COPY (SELECT 1) TO '{site}/data/explained.csv'", "EXPLAIN COPY"),
    ("EXPLAIN /* x */ ANALYZE -- y\n COPY (SELECT 1) TO '{site}/data/explained.csv'", "EXPLAIN COPY"),
    ("EXPLAIN CREATE TABLE t AS SELECT 1", "EXPLAIN CREATE"),
    ("ATTACH '{site}/data/new.duckdb' (READ_WRITE)", "ATTACH"),
    ("DETACH wh", "DETACH"),
    ("EXPORT DATABASE '{site}/data/exported'", "EXPORT"),
    ("IMPORT DATABASE '{site}/data'", "IMPORT"),
    ("INSTALL httpfs", "INSTALL"),
    ("LOAD httpfs", "LOAD"),
    ("SET lock_configuration = false", "SET"),
    ("RESET allowed_directories", "RESET"),
    ("SET VARIABLE v = 1", "SET"),
    ("PRAGMA version", "PRAGMA"),
    ("CALL pragma_version()", "CALL"),
    ("CREATE TEMP TABLE t AS SELECT 1", "CREATE"),
    ("INSERT INTO codes VALUES (9, 'c9')", "INSERT"),
    ("WITH x AS (SELECT 9, 'c9') INSERT INTO codes SELECT * FROM x", "WITH ... INSERT"),
    ("UPDATE codes SET n = 0", "UPDATE"),
    ("DELETE FROM codes", "DELETE"),
    ("DROP VIEW codes", "DROP"),
    ("ALTER VIEW codes RENAME TO c2", "ALTER"),
    ("USE memory", "USE"),
    ("CHECKPOINT", "CHECKPOINT"),
    ("FORCE CHECKPOINT", "FORCE"),
    ("COPY FROM DATABASE wh TO memory", "COPY"),
    ("MERGE INTO codes USING codes AS s ON true WHEN MATCHED THEN DELETE", "MERGE"),
    ("CREATE SECRET (TYPE s3, KEY_ID 'k', SECRET 's')", "CREATE"),
    ("PREPARE p AS SELECT 1", "PREPARE"),
    ("EXECUTE p", "EXECUTE"),
    ("UPDATE EXTENSIONS", "UPDATE"),  # a statement type DuckDB's Python enum does not name
    ("VACUUM", "VACUUM"),
    ("BEGIN TRANSACTION", "BEGIN"),
    ("PIVOT codes ON code", "PIVOT needing several statements"),
    ("SELECT 1; COPY (SELECT 1) TO '{site}/data/second.csv'", "2 statements; run them one at a time"),
    ("", "no statement"),
    ("  ;  -- nothing here", "no statement"),
]


@pytest.mark.parametrize("sql, got", REFUSED_STATEMENTS)
def test_statements_other_than_a_query_are_refused_and_write_nothing(con, site, sql, got):
    before = tree(site)
    with pytest.raises(QueryError) as caught:
        sandbox.run(con, sql.format(site=site))
    message = str(caught.value)
    assert type(caught.value) is QueryError and caught.value.exit_code == 2
    assert message.startswith(REFUSED + got), message
    assert "\n" not in message
    assert tree(site) == before  # no file created, none modified, the database untouched


# --- queries that pass the filter but reach outside the fence ----------------------------

# codesets' own hints after DuckDB's refusals (sandbox._HINTS): the part of the message that is ours.
PERMISSION = " (codesets sql reads only the warehouse's own files)"
LIST_VIEWS = " (list the views: SELECT view_name, comment FROM duckdb_views() WHERE NOT internal)"
FENCED_READS = [
    ("SELECT * FROM read_csv('/etc/passwd', sep = ':')", PERMISSION),
    ("SELECT * FROM read_text('/etc/passwd')", PERMISSION),
    ("SELECT * FROM read_blob('/etc/passwd')", PERMISSION),
    ("SELECT * FROM sniff_csv('/etc/passwd')", PERMISSION),
    ("SELECT * FROM glob('/*')", PERMISSION),
    # A file name used as a table is not even looked up once external access is off.
    ("SELECT * FROM '/etc/passwd'", LIST_VIEWS),
    ("SELECT * FROM read_csv('{site}/outside/secret.csv')", PERMISSION),
    ("SELECT * FROM read_parquet('{site}/data-evil/other.parquet')", PERMISSION),  # shares the prefix "data"
    ("SELECT * FROM read_parquet('{site}/data/../data-evil/other.parquet')", PERMISSION),
    ("SELECT * FROM read_parquet('file://{site}/data-evil/other.parquet')", PERMISSION),
    ("SELECT * FROM read_csv('secret.csv')", PERMISSION),  # relative to the working directory
    ("SELECT * FROM read_csv('https://example.com/codes.csv')", PERMISSION),  # would autoload httpfs
    # New in DuckDB 2.0: runs SELECT * FROM <function>(<value>) for us; the fence still holds.
    # DuckDB reports this refusal as an IO error, which gets no hint of ours: only refused, then.
    ("SELECT * FROM destroy_external_resource('read_csv', '{site}/outside/secret.csv')", ""),
]


@pytest.mark.parametrize("sql, error", FENCED_READS)
def test_files_outside_the_allowed_folder_cannot_be_read(con, site, sql, error):
    with pytest.raises(QueryError) as caught:
        sandbox.run(con, sql.format(site=site))
    message = str(caught.value)
    assert type(caught.value) is QueryError and caught.value.exit_code == 2
    assert message.endswith(error) and "\n" not in message, message
    assert "next door" not in message  # nothing of a file outside the fence reaches the message


def test_a_refused_read_says_what_sql_may_read(con):
    with pytest.raises(QueryError) as caught:
        sandbox.run(con, "SELECT * FROM read_csv('/etc/passwd')")
    message = str(caught.value)
    assert type(caught.value) is QueryError and caught.value.exit_code == 2
    assert "/etc/passwd" in message and message.endswith(PERMISSION) and "\n" not in message
    assert "root:" not in message  # the file's content never reaches the message


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT getenv('HOME')",
        "SELECT * FROM enable_logging(storage = 'file', storage_path = '/tmp/codesets-log')",
        "SELECT * FROM enable_profiling(save_location = '/tmp/codesets-profile.json')",
        "SELECT * FROM query('COPY (SELECT 1) TO ''/tmp/codesets-q.csv''')",
    ],
)
def test_side_doors_in_a_select_stay_shut(con, site, sql):
    # Only our error class, exit code and one line are checked: DuckDB words these refusals
    # differently from version to version.
    before = tree(site)
    with pytest.raises(QueryError) as caught:
        sandbox.run(con, sql)
    assert type(caught.value) is QueryError and caught.value.exit_code == 2
    assert "\n" not in str(caught.value)
    assert tree(site) == before
    assert not any(os.path.exists(p) for p in ("/tmp/codesets-log", "/tmp/codesets-profile.json", "/tmp/codesets-q.csv"))


def test_python_variables_are_not_tables(con):
    import pyarrow as pa

    python_secret = pa.table({"s": ["in the process's memory"]})  # noqa: F841 (a replacement scan would find it)
    with pytest.raises(duckdb.Error) as caught:
        con.sql("SELECT * FROM python_secret").fetchall()  # called here, where the variable is in scope
    assert "in the process's memory" not in str(caught.value)


def test_settings_can_be_read_but_not_changed(con, site):
    settings = sandbox.run(
        con,
        "SELECT current_setting('lock_configuration') AS locked, current_setting('enable_external_access') AS ext, "
        "current_setting('allowed_directories') AS dirs",
    ).to_pylist()[0]
    assert settings["locked"] is True and settings["ext"] is False
    assert str(site / "data") + "/" in settings["dirs"]
    # The lock holds on its own, even for statements that skip the filter.
    for statement in ("SET lock_configuration = false", "RESET lock_configuration",
                      "SET enable_external_access = true", "SET allowed_directories = ['/']",
                      "SET autoload_known_extensions = true"):
        with pytest.raises(duckdb.Error):
            con.execute(statement)
    assert sandbox.run(
        con,
        "SELECT current_setting('lock_configuration') AS locked, current_setting('enable_external_access') AS ext, "
        "current_setting('allowed_directories') AS dirs",
    ).to_pylist()[0] == settings  # and none of them changed


@pytest.mark.parametrize(
    "statement, error",
    [
        ("INSTALL httpfs", duckdb.PermissionException),
        ("LOAD httpfs", duckdb.PermissionException),
        ("ATTACH '{site}/outside/new.duckdb'", duckdb.PermissionException),
        ("COPY (SELECT 1) TO '{site}/outside/out.csv'", duckdb.PermissionException),
    ],
)
def test_lock_down_alone_stops_reaching_out(con, site, statement, error):
    """The second fence: even if the filter let these through, DuckDB would refuse them."""
    before = tree(site)
    with pytest.raises(error):
        con.execute(statement.format(site=site))
    assert tree(site) == before


def test_allowed_directories_alone_would_let_copy_write_into_the_folder(con, site):
    """Why the statement filter exists: in DuckDB 2.0 allowed_directories admits writes too.

    If this starts failing, DuckDB has closed that door itself; the filter stays for the rest.
    """
    con.execute(f"COPY (SELECT 1 AS n) TO '{site}/data/written.csv'")
    assert (site / "data" / "written.csv").read_text() == "n\n1\n"


# Sorting a million 32-character strings needs more than 50 MB: the query must spill or fail.
BIG_SORT = "SELECT count(*) AS n FROM (SELECT range, md5(range::varchar) m FROM range(1000000) ORDER BY m)"


def small_memory_connection():
    connection = duckdb.connect()  # in memory, as storage.py opens readers
    connection.execute("SET memory_limit = '50MB'")
    connection.execute("SET threads = 1")
    connection.execute("SET enable_progress_bar = false")
    return connection


def test_a_query_never_spills_to_disk_by_default(site, tmp_path, monkeypatch):
    """Left alone, DuckDB spills an in-memory database's queries into ./.tmp/ and allows reading it."""
    monkeypatch.chdir(tmp_path)
    connection = small_memory_connection()
    sandbox.lock_down(connection, [str(site / "data")])
    assert sandbox.run(connection, "SELECT current_setting('allowed_directories') AS d").to_pylist() == [
        {"d": [str(site / "data") + "/"]}
    ]
    with pytest.raises(QueryError) as caught:
        sandbox.run(connection, BIG_SORT)
    assert type(caught.value) is QueryError and caught.value.exit_code == 2
    assert "does not spill to disk" in str(caught.value) and "--memory-limit" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / ".tmp").exists()


def test_a_query_spills_only_where_it_is_told(site, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    connection = small_memory_connection()
    sandbox.lock_down(connection, [str(site / "data")], temp_directory=str(tmp_path / "spill"))
    assert sandbox.run(connection, BIG_SORT).to_pylist() == [{"n": 1_000_000}]
    assert (tmp_path / "spill").is_dir() and not (tmp_path / ".tmp").exists()


# --- the memory limit ----------------------------------------------------------------------


def duckdb_text(limit: str) -> str:
    """How this DuckDB shows a memory_limit (its wording and rounding vary between versions)."""
    con = duckdb.connect()
    con.execute("SET memory_limit = ?", [limit])
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def memory_setting(connection) -> str:
    return sandbox.run(connection, "SELECT current_setting('memory_limit') AS m").to_pylist()[0]["m"]


def test_the_default_limit_is_a_quarter_of_memory_at_most_4gb(monkeypatch):
    monkeypatch.setattr(sandbox, "_physical_memory", lambda: 64 * 1024**3)
    assert sandbox.default_memory_limit() == "4096MiB"
    monkeypatch.setattr(sandbox, "_physical_memory", lambda: 8 * 1024**3)
    assert sandbox.default_memory_limit() == "2048MiB"
    monkeypatch.setattr(sandbox, "_physical_memory", lambda: None)  # unknown: the cap
    assert sandbox.default_memory_limit() == "4096MiB"


def test_lock_down_sets_the_limit_before_locking(site, monkeypatch):
    # Each connection its own in-memory database, as storage.py opens readers: two connections
    # to one file in one process share its settings (and its lock).
    monkeypatch.setattr(sandbox, "_physical_memory", lambda: 8 * 1024**3)
    with sandbox.memory_limit() as limit:
        connection = duckdb.connect()
        sandbox.lock_down(connection, [str(site / "data")])
    assert limit == "2048MiB" and memory_setting(connection) == duckdb_text("2048MiB")
    with pytest.raises(duckdb.Error):  # and nobody can raise it from SQL afterwards
        connection.execute("SET memory_limit = '100GB'")
    with sandbox.memory_limit("3GB"):
        raised = duckdb.connect()
        sandbox.lock_down(raised, [str(site / "data")])
    assert memory_setting(raised) == duckdb_text("3GB")


def test_a_spilling_connection_keeps_its_own_limit(site, tmp_path):
    connection = small_memory_connection()  # 50MB, as storage.py sets spill_memory
    with sandbox.memory_limit("3GB"):
        sandbox.lock_down(connection, [str(site / "data")], temp_directory=str(tmp_path / "spill"))
    assert memory_setting(connection) == duckdb_text("50MB")


def test_outside_a_memory_limit_block_lock_down_leaves_the_limit_alone(site):
    connection = small_memory_connection()
    sandbox.lock_down(connection, [str(site / "data")])
    assert sandbox.current_memory_limit() is None
    assert memory_setting(connection) == duckdb_text("50MB")


@pytest.mark.parametrize("text, parsed", [("8GB", "8GB"), (" 512 mib ", "512MiB"), ("1.5gb", "1.5GB"),
                                          ("1048576B", "1048576B")])
def test_memory_limits_are_parsed(text, parsed):
    assert sandbox.parse_memory_limit(text) == parsed
    duckdb_text(parsed)  # and DuckDB takes it


@pytest.mark.parametrize("text", ["8", "", "GB", "-1", "-1GB", "100%", "8 PB", "0GB", "1KB", "8GB; SET x=1", "1e9B"])
def test_bad_memory_limits_are_refused(text):
    with pytest.raises(QueryError, match="--memory-limit 8GB"):
        sandbox.parse_memory_limit(text)


def test_an_out_of_memory_query_names_the_flag_and_its_limit(site):
    with sandbox.memory_limit("20MB"):
        connection = duckdb.connect()
        connection.execute("SET threads = 1")
        sandbox.lock_down(connection, [str(site / "data")])
        with pytest.raises(QueryError) as caught:
            sandbox.run(connection, BIG_SORT)
    message = str(caught.value)
    assert type(caught.value) is QueryError and caught.value.exit_code == 2
    assert "20MB" in message and "codesets sql --memory-limit" in message and "CODESETS_SQL_MEMORY_LIMIT" in message
    assert "\n" not in message


def test_lock_down_wants_absolute_folders():
    with pytest.raises(ValueError, match="not an absolute path"):
        sandbox.lock_down(duckdb.connect(), ["data"])
    with pytest.raises(ValueError, match="not an absolute path"):
        sandbox.lock_down(duckdb.connect(), [], temp_directory="spill")


# --- errors -----------------------------------------------------------------------------


def test_duckdb_errors_become_one_line(con):
    with pytest.raises(QueryError) as caught:
        sandbox.run(con, "SELECT nme FROM codes")
    message = str(caught.value)
    assert type(caught.value) is QueryError and caught.value.exit_code == 2
    assert "nme" in message and "\n" not in message and "LINE 1" not in message


def test_unknown_view_names_where_to_look(con):
    with pytest.raises(QueryError) as caught:
        sandbox.run(con, "SELECT * FROM cdes")
    message = str(caught.value)
    assert type(caught.value) is QueryError and caught.value.exit_code == 2
    assert "cdes" in message and message.endswith(LIST_VIEWS) and "\n" not in message


def test_a_duckdb_message_keeps_its_first_line_and_its_suggestion():
    """Our trimming of a multi-line DuckDB error, on a made-up one (DuckDB's wording is not ours)."""
    error = duckdb.Error('Kind Error: x does not exist!\n\nLINE 1: SELECT * FROM x\n  ^\nDid you mean "y"?\nmore')
    assert sandbox._first_line(error) == 'Kind Error: x does not exist! Did you mean "y"?'
    assert sandbox._first_line(duckdb.Error("one line\n")) == "one line"
    assert sandbox._first_line(duckdb.Error("")) == "Error"


def test_syntax_errors_are_query_errors(con):
    with pytest.raises(QueryError) as caught:
        sandbox.run(con, "SELECT * FORM codes")
    assert type(caught.value) is QueryError and caught.value.exit_code == 2
    assert "\n" not in str(caught.value) and not str(caught.value).startswith(REFUSED)


# --- time limit and Ctrl-C --------------------------------------------------------------


def test_timeout_stops_a_long_query(con):
    started = time.monotonic()
    with pytest.raises(QueryTimeout) as caught:
        sandbox.run(con, LONG_QUERY, timeout=0.5)
    assert time.monotonic() - started < 5
    assert str(caught.value).startswith("query stopped after 0.5 s (its time limit)")
    assert caught.value.exit_code == 2 and isinstance(caught.value, QueryError)
    assert con.execute("SELECT 42").fetchone() == (42,)  # a query still running would make this refuse


def test_a_query_within_its_time_limit_returns(con):
    assert sandbox.run(con, "SELECT count(*) AS n FROM codes", timeout=30).to_pylist() == [{"n": 5}]


@pytest.mark.parametrize("timeout", [0, -1, float("nan")])
def test_timeout_must_be_positive(con, timeout):
    with pytest.raises(QueryError, match="timeout must be a number of seconds above 0"):
        sandbox.run(con, "SELECT 1", timeout=timeout)


def test_keyboard_interrupt_stops_the_query_and_propagates(con):
    # interrupt_main raises KeyboardInterrupt in this (the main) thread, as Ctrl-C would.
    timer = threading.Timer(0.5, _thread.interrupt_main)
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            sandbox.run(con, LONG_QUERY)
    finally:
        timer.cancel()
    assert time.monotonic() - started < 5
    assert con.execute("SELECT 42").fetchone() == (42,)  # a query still running would make this refuse


# A `codesets sql` process whose warehouse is a locked-down in-memory database: the long
# query needs no tables, and this keeps the test apart from how storage.py opens files.
CLI_SCRIPT = textwrap.dedent(
    """
    import pathlib, sys
    import duckdb
    from codesets.cli import sql as sql_command
    from codesets.cli.app import app
    from codesets.warehouse import sandbox

    class Warehouse:
        def connect(self):
            con = duckdb.connect()
            sandbox.lock_down(con, [])
            pathlib.Path(sys.argv[1]).touch()  # tells the test the query is about to run
            return con

    sql_command.warehouse = lambda ctx: Warehouse()
    app(sys.argv[2:], prog_name="codesets")
    """
)


def test_ctrl_c_stops_codesets_sql_at_once(tmp_path):
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI_SCRIPT, str(ready), "sql", LONG_QUERY],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the command never reached its query"
            time.sleep(0.05)
        time.sleep(1.0)
        assert proc.poll() is None, "the query ended before Ctrl-C"
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        stdout, stderr = proc.communicate(timeout=10)
        stopped_after = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert stopped_after < 2.5
    assert proc.returncode == 130
    assert stdout == ""
    assert stderr == "codesets: interrupted\n"


# --- the library and CLI entry points ----------------------------------------------------


class _LockedWarehouse:
    """What Warehouse.connect() gives once storage.py calls lock_down: a fenced read-only connection."""

    def __init__(self, site):
        self.site = site

    def connect(self):
        connection = duckdb.connect(str(self.site / "wh.duckdb"), read_only=True)
        sandbox.lock_down(connection, [str(self.site / "data")])
        return connection


def test_run_sql_goes_through_the_sandbox(site):
    from codesets.query import run_sql

    warehouse = _LockedWarehouse(site)
    assert run_sql(warehouse, "SELECT code FROM codes WHERE n = ?", params=[1]).to_pylist() == [{"code": "c1"}]
    with pytest.raises(QueryError, match="got COPY$"):
        run_sql(warehouse, f"COPY codes TO '{site}/data/out.csv'")
    assert not (site / "data" / "out.csv").exists()
    with pytest.raises(QueryTimeout):
        run_sql(warehouse, LONG_QUERY, timeout=0.3)


@pytest.mark.parametrize(
    "args, exit_code, output",
    [
        (["SELECT code FROM codes WHERE n < 2 ORDER BY n", "--format", "csv"], 0, "code\nc0\nc1\n"),
        (["COPY codes TO 'x.csv'"], 2, f"codesets: {REFUSED}COPY\n"),
        ([LONG_QUERY, "--timeout", "0.3"], 2, "codesets: query stopped after 0.3 s (its time limit); narrow it "
         "with WHERE or LIMIT, or allow more time (codesets sql --timeout SECONDS)\n"),
        ([BIG_SORT, "--memory-limit", "20MB"], 2, "codesets: the query needed more memory than its limit of 20MB "
         "(codesets sql does not spill to disk): narrow it with WHERE or LIMIT, or raise the limit: "
         "codesets sql --memory-limit 8GB (or CODESETS_SQL_MEMORY_LIMIT=8GB)\n"),
    ],
)
def test_codesets_sql_command(site, monkeypatch, args, exit_code, output):
    from codesets.cli import sql as sql_command
    from codesets.cli.app import app

    monkeypatch.setattr(sql_command, "warehouse", lambda ctx: _LockedWarehouse(site))
    result = CliRunner().invoke(app, ["sql", *args])
    assert (result.exit_code, result.output) == (exit_code, output)


@pytest.mark.parametrize("args, env, limit", [
    ([], {}, None),  # the default
    (["--memory-limit", "3GB"], {}, "3GB"),
    ([], {"CODESETS_SQL_MEMORY_LIMIT": "2GiB"}, "2GiB"),
    (["--memory-limit", "3GB"], {"CODESETS_SQL_MEMORY_LIMIT": "2GiB"}, "3GB"),  # the flag wins
])
def test_codesets_sql_sets_the_memory_limit(site, monkeypatch, args, env, limit):
    from codesets.cli import sql as sql_command
    from codesets.cli.app import app

    monkeypatch.setattr(sql_command, "warehouse", lambda ctx: _LockedWarehouse(site))
    result = CliRunner().invoke(app, ["sql", "SELECT current_setting('memory_limit') AS m", "--format", "csv", *args],
                                env=env)
    assert result.exit_code == 0, result.output
    assert result.output == f"m\n{duckdb_text(limit or sandbox.default_memory_limit())}\n"


@pytest.mark.parametrize("value", ["8", "lots", "0GB"])
def test_a_bad_memory_limit_is_refused_before_the_warehouse_is_opened(tmp_path, value):
    from codesets.cli.app import app

    result = CliRunner().invoke(app, ["--warehouse", str(tmp_path / "none"), "sql", "SELECT 1", "--memory-limit", value])
    assert result.exit_code == 2
    assert "--memory-limit" in result.output and "no warehouse" not in result.output
