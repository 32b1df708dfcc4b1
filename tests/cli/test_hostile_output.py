"""Output a hostile or careless query can ask for: dates Python cannot hold, control characters
on a terminal, and the bug message that must not carry a value (PHI).

Each test reproduces an attack that once ended in a traceback, a made-up value or raw bytes on
the terminal. Expected texts come from DuckDB itself (``CAST(v AS VARCHAR)``), never from its
error messages.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import select
import subprocess
import sys

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st
from typer.testing import CliRunner

from codesets.cli import common
from codesets.cli.app import app
from codesets.cli.common import Format, render
from tests.conftest import ROOT

runner = CliRunner()

# Dates and timestamps Python's date/datetime cannot hold (or turns into another value).
OUT_OF_RANGE = [
    "'infinity'::DATE",
    "'-infinity'::DATE",
    "'294248-01-01'::DATE",
    "'5881580-07-10'::DATE",
    "'0044-03-15 (BC)'::DATE",
    "'10000-01-01'::DATE",
    "'infinity'::TIMESTAMP",
    "'-infinity'::TIMESTAMP",
    "'294247-01-10 04:00:54.775806'::TIMESTAMP",
    "'290309-12-22 (BC) 00:00:00'::TIMESTAMP",
    "'0044-03-15 (BC) 01:02:03.5'::TIMESTAMP",
    "'infinity'::TIMESTAMPTZ",
    "'-infinity'::TIMESTAMPTZ",
    "'20000-01-01 01:02:03.5'::TIMESTAMPTZ",
    "'infinity'::TIMESTAMP_S",
    "'-infinity'::TIMESTAMP_MS",
    "'infinity'::TIMESTAMP_NS",  # Python would say 2262-04-11
    "'-infinity'::TIMESTAMP_NS",
    "'10000-01-01'::TIMESTAMP_S",
    "'10000-01-01 00:00:00.123'::TIMESTAMP_MS",
    "'24:00:00'::TIME",  # Python would say 00:00:00
]
NESTED = [
    "['infinity'::DATE, '2024-01-01'::DATE, NULL]",
    "['-infinity'::TIMESTAMP, '2024-01-01'::TIMESTAMP]::TIMESTAMP[2]",
    "{'a': 'infinity'::TIMESTAMP, 'b': 1}",
    "MAP {'infinity'::DATE: '-infinity'::TIMESTAMPTZ}",
    "[[{'x': ['-infinity'::TIMESTAMPTZ]}]]",
    "union_value(d := 'infinity'::DATE)::UNION(d DATE, i INTEGER)",
]


def duck() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # the text of a zoned value is its UTC instant
    return con


def duckdb_text(expression: str) -> str:
    return duck().execute(f"SELECT CAST({expression} AS VARCHAR)").fetchall()[0][0]


def arrow_of(expression: str) -> pa.Table:
    """The expression, a NULL and an ordinary date in three rows, as DuckDB hands them to Arrow."""
    return duck().sql(f"SELECT {expression} AS v, n FROM (VALUES (1), (2)) t(n) "
                      f"UNION ALL SELECT NULL, 3 ORDER BY n").to_arrow_table()


def rendered(data, fmt) -> str:
    out = io.StringIO()
    render(data, fmt, out)
    return out.getvalue()


def values(text: str, fmt: Format) -> list:
    """Column v of rendered output, as text (table and csv) or as JSON gives it back."""
    if fmt is Format.table:  # the first column, as wide as its rule of dashes
        lines = text.splitlines()
        width = len(lines[1].split("  ")[0])
        return [line[:width].strip() for line in lines[2:-1]]
    if fmt is Format.csv:
        return [row[0] for row in list(csv.reader(io.StringIO(text)))[1:]]
    rows = json.loads(text) if fmt is Format.json else [json.loads(line) for line in text.splitlines()]
    return [row["v"] for row in rows]


# --- dates and times Python cannot hold ----------------------------------------------------------


@pytest.mark.parametrize("fmt", list(Format))
@pytest.mark.parametrize("expression", OUT_OF_RANGE)
def test_out_of_range_temporals_print_as_duckdb_writes_them(expression, fmt):
    text = rendered(arrow_of(expression), fmt)
    expected = duckdb_text(expression)
    assert values(text, fmt) == [expected, expected, "" if fmt in (Format.table, Format.csv) else None]


@pytest.mark.parametrize("fmt", list(Format))
@pytest.mark.parametrize("expression", NESTED)
def test_out_of_range_temporals_inside_lists_structs_and_maps(expression, fmt):
    text = rendered(arrow_of(expression), fmt)
    assert "infinity" in text
    assert "2262" not in text and "32103" not in text  # no made-up date


@pytest.mark.parametrize("fmt", list(Format))
def test_a_column_keeps_its_ordinary_values_beside_an_infinite_one(fmt):
    table = duck().sql("SELECT * FROM (VALUES (DATE '2024-02-29', TIMESTAMP '2024-02-29 10:00:00.5'), "
                       "('infinity'::DATE, '-infinity'::TIMESTAMP)) t(d, ts)").to_arrow_table()
    text = rendered(table, fmt)
    if fmt in (Format.json, Format.ndjson):
        rows = json.loads(text) if fmt is Format.json else [json.loads(line) for line in text.splitlines()]
        assert rows == [{"d": "2024-02-29", "ts": "2024-02-29T10:00:00.500000"},
                        {"d": "infinity", "ts": "-infinity"}]
    else:
        assert "2024-02-29" in text and "2024-02-29 10:00:00.500000" in text
        assert "infinity" in text and "-infinity" in text


def test_a_bad_value_in_a_later_batch_is_caught_too(monkeypatch):
    monkeypatch.setattr(common, "BATCH_ROWS", 2)
    table = duck().sql("SELECT CASE WHEN range = 4 THEN 'infinity'::DATE ELSE DATE '2024-01-01' + range::INT END AS v "
                       "FROM range(6)").to_arrow_table()
    for fmt in Format:
        assert "infinity" in rendered(table.to_reader(max_chunksize=3), fmt)


# Every date and timestamp DuckDB can hold, checked against DuckDB's own text of it: what fits
# Python prints as before; what does not prints as DuckDB writes it.
DATE_DAYS = st.integers(min_value=-(2**31) + 1, max_value=2**31 - 1)
TIMESTAMP_US = st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1)
NEAR_THE_ENDS = st.one_of(
    st.integers(min_value=-719_162 - 800, max_value=-719_162 + 800),  # year 1
    st.integers(min_value=2_932_896 - 800, max_value=2_932_896 + 800),  # year 9999
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(DATE_DAYS, NEAR_THE_ENDS), min_size=1, max_size=6))
def test_any_duckdb_date_prints_faithfully(days):
    frame = pa.table({"v": pa.array(days, pa.int32()).view(pa.date32())})
    duckdb_texts = [r[0] for r in duck().execute("SELECT CAST(v AS VARCHAR) FROM frame").fetchall()]
    for fmt in Format:
        got = values(rendered(frame, fmt), fmt)
        for day, text, shown in zip(days, duckdb_texts, got):
            # In range DuckDB and Python agree on the text (YYYY-MM-DD); out of range it is DuckDB's.
            assert shown == text, (day, fmt)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(TIMESTAMP_US, NEAR_THE_ENDS.map(lambda d: d * 86_400_000_000 + 1)), min_size=1, max_size=6),
       st.sampled_from([None, "UTC"]))
def test_any_duckdb_timestamp_prints_faithfully(micros, zone):
    kind = pa.timestamp("us", tz=zone)
    frame = pa.table({"v": pa.array(micros, pa.int64()).view(kind)})
    duckdb_texts = [r[0] for r in duck().execute("SELECT CAST(v AS VARCHAR) FROM frame").fetchall()]
    low, high = common._bounds(kind)
    for fmt in Format:
        got = values(rendered(frame, fmt), fmt)
        for value, text, shown in zip(micros, duckdb_texts, got):
            if low <= value <= high:  # Python holds it: printed as before
                assert "infinity" not in shown and "BC" not in shown
            else:
                assert shown == text, (value, fmt)


# --- through the command -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(Format))
def test_codesets_sql_prints_infinite_and_far_dates(sample_warehouse, fmt):
    query = ("SELECT 'infinity'::DATE AS d, '-infinity'::DATE AS nd, '294248-01-01'::DATE AS far, "
             "'0044-03-15 (BC)'::DATE AS bc, 'infinity'::TIMESTAMP AS ts, 'infinity'::TIMESTAMPTZ AS tz, "
             "'-infinity'::TIMESTAMP_NS AS ns, ['infinity'::DATE] AS ds")
    result = runner.invoke(app, ["--warehouse", str(sample_warehouse.path), "sql", query, "--format", fmt.value])
    assert result.exit_code == 0, result.output
    for text in ("infinity", "-infinity", "294248-01-01", "0044-03-15 (BC)"):
        assert text in result.output
    if fmt is Format.json:
        assert json.loads(result.output) == [{"d": "infinity", "nd": "-infinity", "far": "294248-01-01",
                                              "bc": "0044-03-15 (BC)", "ts": "infinity", "tz": "infinity",
                                              "ns": "-infinity", "ds": ["infinity"]}]


# Types Arrow hands over wrong (TIMETZ without its offset, BIT as its storage bytes, UHUGEINT past
# 2**127 as a negative number) or as objects with no text of DuckDB's (INTERVAL, BIGNUM, VARIANT).
ARROW_LOSES = {
    "tt": "'12:00:00+05'::TIMETZ",
    "bi": "'101'::BIT",
    "iv": "INTERVAL 3 DAY",
    "iy": "'1 year 2 months 3 days 04:05:06.789'::INTERVAL",
    "uh": "340282366920938463463374607431768211455::UHUGEINT",
    "tn": "'12:00:00.123456789'::TIME_NS",
    "bn": "'123456789012345678901234567890'::BIGNUM",
    "bl": "'ab\\x01'::BLOB",
}


@pytest.mark.parametrize("fmt", list(Format))
def test_codesets_sql_prints_types_arrow_loses_as_duckdb_does(sample_warehouse, fmt):
    query = "SELECT " + ", ".join(f"{expression} AS {name}" for name, expression in ARROW_LOSES.items())
    result = runner.invoke(app, ["--warehouse", str(sample_warehouse.path), "sql", query, "--format", fmt.value])
    assert result.exit_code == 0, result.output
    expected = {name: duckdb_text(expression) for name, expression in ARROW_LOSES.items()}
    assert expected["tt"] == "12:00:00+05" and expected["bi"] == "101" and expected["iv"] == "3 days"
    if fmt is Format.json:
        assert json.loads(result.output) == [expected]
    elif fmt is Format.ndjson:
        assert json.loads(result.output) == expected
    elif fmt is Format.csv:
        assert list(csv.DictReader(io.StringIO(result.output))) == [expected]
    else:
        row = result.output.splitlines()[2]
        for name, text in expected.items():
            assert text.replace("\\", "\\\\") in row, (name, text, row)  # the table doubles backslashes
    for wrong in ("MonthDayNano", "b'", "\\x05\\xfd", "-1 "):
        assert wrong not in result.output


@pytest.mark.parametrize("fmt", [Format.json, Format.csv])
def test_codesets_sql_prints_them_inside_lists_structs_and_maps(sample_warehouse, fmt):
    query = ("SELECT [INTERVAL 1 DAY, NULL] AS li, {'b': '101'::BIT, 'n': 1} AS st, "
             "MAP {'k': '12:00:00+05'::TIMETZ} AS mp, [INTERVAL 1 DAY, INTERVAL 2 DAY]::INTERVAL[2] AS arr, "
             "[{'t': '01:00:00-03:30'::TIMETZ}] AS deep, 1 AS plain, NULL::INTERVAL AS nothing")
    result = runner.invoke(app, ["--warehouse", str(sample_warehouse.path), "sql", query, "--format", fmt.value])
    assert result.exit_code == 0, result.output
    if fmt is Format.json:
        assert json.loads(result.output) == [{
            "li": ["1 day", None], "st": {"b": "101", "n": 1}, "mp": [["k", "12:00:00+05"]],
            "arr": ["1 day", "2 days"], "deep": [{"t": "01:00:00-03:30"}], "plain": 1, "nothing": None}]
    else:
        row = next(csv.DictReader(io.StringIO(result.output)))
        assert row["li"] == "1 day " and row["arr"] == "1 day 2 days" and row["plain"] == "1"
        assert "'101'" in row["st"] and "12:00:00+05" in row["mp"] and "01:00:00-03:30" in row["deep"]


def test_text_types_keep_the_order_names_and_other_columns_of_the_query():
    from codesets.warehouse import sandbox

    con = duck()
    query = "SELECT range AS a, INTERVAL (range) DAY AS a, range * 1.5 AS f FROM range(5) ORDER BY range DESC"
    table = sandbox.stream(con, query, as_text=True).read_all()
    assert table.schema.names == ["a", "a", "f"]
    assert table.column(0).to_pylist() == [4, 3, 2, 1, 0]
    assert table.column(1).to_pylist() == ["4 days", "3 days", "2 days", "1 day", "00:00:00"]
    assert table.schema.field(2).type == duck().sql(query).to_arrow_table().schema.field(2).type
    # Without as_text (the Python API's run_sql) the Arrow types stay as they are.
    assert pa.types.is_interval(sandbox.stream(con, query).read_all().schema.field(1).type)
    # A query needing no cast is run as given, EXPLAIN and DESCRIBE included.
    for text in ("EXPLAIN SELECT 1", "DESCRIBE SELECT INTERVAL 1 DAY AS i", "SUMMARIZE SELECT 1 AS x"):
        assert sandbox.stream(con, text, as_text=True).read_all().num_rows >= 1


@pytest.mark.parametrize("fmt", [Format.json, Format.ndjson])
def test_json_writes_nan_and_infinity_as_null_as_the_format_help_says(sample_warehouse, fmt):
    query = "SELECT 'NaN'::DOUBLE AS n, 'inf'::DOUBLE AS i, '-inf'::FLOAT AS m, ['NaN'::DOUBLE, 1.5] AS xs"
    result = runner.invoke(app, ["--warehouse", str(sample_warehouse.path), "sql", query, "--format", fmt.value])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()] if fmt is Format.ndjson \
        else json.loads(result.output)
    assert rows == [{"n": None, "i": None, "m": None, "xs": [None, 1.5]}]
    assert "NaN and infinity as null" in " ".join(common.FORMAT_HELP.split())


# --- control characters on a terminal ------------------------------------------------------------

HOSTILE = ("SELECT chr(27) || '[31mred' || chr(27) || ']0;pwned' || chr(7) AS \"esc" + "\x1b" + "[2J\", "
           "chr(0) AS nul, chr(7) AS bel, 'a' || chr(13) || 'b' AS cr, chr(127) AS del, chr(155) AS csi, "
           "'two' || chr(10) || 'lines' AS lf")
RAW = [b"\x1b", b"\x07", b"\x00", b"\x7f", "\x9b".encode()]


def run_codesets(args, *, terminal: bool) -> tuple[int, bytes, str]:
    """codesets in a child process, its stdout a pseudo-terminal or a pipe (a redirect)."""
    command = [sys.executable, "-m", "codesets.cli.app", *args]
    if not terminal:
        proc = subprocess.run(command, capture_output=True, cwd=ROOT, timeout=120)
        return proc.returncode, proc.stdout, proc.stderr.decode()
    leader, follower = os.openpty()
    try:
        proc = subprocess.Popen(command, stdout=follower, stderr=subprocess.PIPE, cwd=ROOT)
    finally:
        os.close(follower)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], 60)
            if not ready:
                proc.kill()
                raise AssertionError("codesets wrote nothing for a minute")
            try:
                chunk = os.read(leader, 65536)
            except OSError as exc:  # EIO: the child closed the terminal
                if exc.errno != errno.EIO:
                    raise
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    return proc.wait(timeout=60), b"".join(chunks).replace(b"\r\n", b"\n"), stderr


@pytest.mark.parametrize("fmt", list(Format))
def test_no_format_writes_control_characters_to_a_terminal(sample_warehouse, fmt):
    code, out, err = run_codesets(["--warehouse", str(sample_warehouse.path), "sql", HOSTILE, "--format", fmt.value],
                                  terminal=True)
    assert code == 0, err
    for raw in RAW:
        assert raw not in out, (fmt, raw)
    assert b"\r" not in out  # the terminal's own line ends were folded above; a CR of the data would remain
    assert b"red" in out and b"pwned" in out
    if fmt is Format.csv:  # escaped as the table format escapes, backslashes doubled
        assert b"\\x1b[31mred\\x1b]0;pwned\\x07" in out and b"esc\\x1b[2J" in out
        rows = list(csv.reader(io.StringIO(out.decode())))
        assert len(rows) == 2  # the LF in the data is escaped too: one line per row


def test_csv_into_a_file_or_pipe_keeps_the_data_exactly(sample_warehouse):
    code, out, err = run_codesets(["--warehouse", str(sample_warehouse.path), "sql", HOSTILE, "--format", "csv"],
                                  terminal=False)
    assert code == 0, err
    header, row = list(csv.reader(io.StringIO(out.decode(), newline="")))
    assert header[0] == "esc\x1b[2J"
    assert row == ["\x1b[31mred\x1b]0;pwned\x07", "\x00", "\x07", "a\rb", "\x7f", "\x9b", "two\nlines"]


def test_json_into_a_file_or_pipe_is_the_same_json(sample_warehouse):
    code, out, err = run_codesets(["--warehouse", str(sample_warehouse.path), "sql", HOSTILE, "--format", "json"],
                                  terminal=False)
    assert code == 0, err
    assert not any(raw in out for raw in RAW)  # JSON escapes them itself
    assert json.loads(out)[0]["nul"] == "\x00"


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_render_escapes_csv_only_for_a_terminal():
    table = pa.table({"n\x1b": ["\x1b[31m", "C:\\gems", None, "ok"], "k": [1, 2, 3, 4]})
    shown = Terminal()
    render(table, Format.csv, shown)
    assert shown.getvalue() == "n\\x1b,k\n\\x1b[31m,1\nC:\\\\gems,2\n,3\nok,4\n"
    assert rendered(table, Format.csv) == "n\x1b,k\n\x1b[31m,1\nC:\\gems,2\n,3\nok,4\n"


# --- the bug message -----------------------------------------------------------------------------

SECRET = "claim 8841 member Jane Q. Doe, DOB 1961-04-02"


def failing_warehouse(ctx):
    raise ValueError(SECRET)


def test_an_unexpected_error_names_its_type_and_place_but_not_its_text(monkeypatch):
    from codesets.cli import sql as sql_command

    monkeypatch.delenv("CODESETS_DEBUG", raising=False)
    monkeypatch.setattr(sql_command, "warehouse", failing_warehouse)
    result = runner.invoke(app, ["sql", "SELECT 1"])
    assert result.exit_code == 1
    assert "Jane" not in result.output and "8841" not in result.output and "1961" not in result.output
    assert result.output.startswith("codesets: unexpected error (ValueError in ")
    assert "tests.cli.test_hostile_output.failing_warehouse, from codesets.cli.sql.sql" in result.output
    assert "CODESETS_DEBUG=1" in result.output and result.output.count("\n") == 1


def test_codesets_debug_shows_the_traceback(monkeypatch):
    from codesets.cli import sql as sql_command

    monkeypatch.setattr(sql_command, "warehouse", failing_warehouse)
    result = runner.invoke(app, ["sql", "SELECT 1"], env={"CODESETS_DEBUG": "1"})
    assert result.exit_code == 1 and isinstance(result.exception, ValueError)
    assert str(result.exception) == SECRET  # the traceback, with its text, on request only
    quiet = runner.invoke(app, ["sql", "SELECT 1"], env={"CODESETS_DEBUG": "0"})
    assert quiet.exit_code == 1 and "Jane" not in quiet.output


def test_a_bug_in_a_child_process_is_one_line_without_the_value(tmp_path):
    """A real process, through the console entry point: no traceback, no value."""
    script = (
        "import sys\n"
        "from codesets.cli import app, sql\n"
        "def boom(ctx):\n"
        f"    raise KeyError({SECRET!r})\n"
        "sql.warehouse = boom\n"
        "sys.argv = ['codesets', 'sql', 'SELECT 1']\n"
        "app.main()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "CODESETS_DEBUG"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "Jane" not in proc.stderr
    assert proc.stderr.startswith("codesets: unexpected error (KeyError in __main__.boom, from codesets.cli.sql.sql)")


class _Interrupted(Exception):
    pass


@pytest.mark.parametrize("error, code", [
    (_Interrupted("INTERRUPT Error: Query interrupted"), 130),
    (duckdb.IOException("IO Error: No magic bytes found at end of file '/wh/data/maps/x.parquet'"), 74),
])
def test_the_special_cases_still_hold(monkeypatch, error, code):
    from codesets.cli import sql as sql_command

    def fail(ctx):
        raise error

    monkeypatch.setattr(sql_command, "warehouse", fail)
    result = runner.invoke(app, ["sql", "SELECT 1"])
    assert result.exit_code == code
    assert "unexpected error" not in result.output
