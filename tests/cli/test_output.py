"""Command output: every format streamed by batch, --columns, and values that cannot hurt a terminal.

No warehouse here: the tables are built in Arrow, and the commands run against stand-ins for
the query layer.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import math
import re
import sys
import types

import pyarrow as pa
import pytest
import typer
from hypothesis import given, strategies as st
from typer.testing import CliRunner

from codesets.cli import common
from codesets.cli.common import Format, columns_option, render
from codesets.core.errors import QueryError
from codesets.core.text import aligned, escape

runner = CliRunner()


def releases_table() -> pa.Table:
    """The three releases of the README's session."""
    return pa.table({
        "source": ["gems"] * 3,
        "release_id": ["sample", "2017", "2018"],
        "effective_from": [datetime.date(2015, 10, 1), datetime.date(2016, 10, 1), datetime.date(2017, 10, 1)],
        "effective_to": [datetime.date(2016, 9, 30), datetime.date(2017, 9, 30), None],
        "loaded_at": pa.array([datetime.datetime(2026, 11, 21, 7, 47, 0, 461508),
                               datetime.datetime(2026, 11, 21, 7, 47, 2, 841047),
                               datetime.datetime(2026, 11, 21, 7, 47, 5, 780005)], pa.timestamp("us")),
        "row_count": [204, 105988, 281071],
        "previous_release_id": [None, "sample", "2017"],
        "rows_added": [None, 105872, 175414],
        "rows_removed": [None, 88, 331],
    })


# What the table format printed before every cell went through escape (the README's session).
RELEASES_TEXT = """\
source  release_id  effective_from  effective_to  loaded_at                   row_count  previous_release_id  rows_added  rows_removed
------  ----------  --------------  ------------  --------------------------  ---------  -------------------  ----------  ------------
gems    sample      2015-10-01      2016-09-30    2026-11-21 07:47:00.461508  204
gems    2017        2016-10-01      2017-09-30    2026-11-21 07:47:02.841047  105988     sample               105872      88
gems    2018        2017-10-01                    2026-11-21 07:47:05.780005  281071     2017                 175414      331
(3 rows)
"""


def mixed_rows(n: int) -> list[dict]:
    """Rows with each kind of value JSON has to handle, nulls included."""
    return [
        {
            "code": f"R65.{i}",
            "n": i,
            "ok": i % 2 == 0,
            "targets": None if i % 3 == 0 else [f"7855{i}", "99592"],
            "day": datetime.date(2015, 10, 1) + datetime.timedelta(days=i),
            "at": datetime.datetime(2026, 1, 2, 3, 4, 5, i),
            "share": [0.5, math.nan, math.inf, -math.inf][i % 4],
            "note": None if i % 5 == 0 else f"line {i}",
        }
        for i in range(n)
    ]


MIXED_SCHEMA = pa.schema([
    ("code", pa.string()), ("n", pa.int64()), ("ok", pa.bool_()), ("targets", pa.list_(pa.string())),
    ("day", pa.date32()), ("at", pa.timestamp("us")), ("share", pa.float64()), ("note", pa.string()),
])


def as_json(row: dict) -> dict:
    """A mixed row as JSON should give it back."""
    share = row["share"]
    return {**row, "day": row["day"].isoformat(), "at": row["at"].strftime("%Y-%m-%dT%H:%M:%S.%f"),
            "share": share if math.isfinite(share) else None}


class CountingIO(io.StringIO):
    def __init__(self):
        super().__init__()
        self.writes = 0

    def write(self, text):
        self.writes += 1
        return super().write(text)


def rendered(data, fmt, columns=None) -> str:
    out = io.StringIO()
    render(data, fmt, out, columns=columns)
    return out.getvalue()


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 3 rows, so a dozen rows cross several batch boundaries."""
    monkeypatch.setattr(common, "BATCH_ROWS", 3)


# --- formats -----------------------------------------------------------------------------------


def test_table_of_normal_data_is_unchanged():
    assert rendered(releases_table(), Format.table) == RELEASES_TEXT


def test_csv_of_normal_data_is_unchanged():
    lines = rendered(releases_table(), Format.csv).splitlines()
    assert lines[0] == "source,release_id,effective_from,effective_to,loaded_at,row_count,previous_release_id,rows_added,rows_removed"
    assert lines[1] == "gems,sample,2015-10-01,2016-09-30,2026-11-21 07:47:00.461508,204,,,"


@pytest.mark.parametrize("as_reader", [False, True])
def test_json_parses_back_to_the_same_rows(small_batches, as_reader):
    rows = mixed_rows(11)
    table = pa.Table.from_pylist(rows, MIXED_SCHEMA)
    data = table.to_reader(max_chunksize=5) if as_reader else table
    out = CountingIO()
    render(data, Format.json, out)
    assert json.loads(out.getvalue()) == [as_json(r) for r in rows]
    assert out.writes <= 2 + math.ceil(len(rows) / 3)  # brackets and one write per batch


def test_json_of_no_rows_is_an_empty_array():
    assert json.loads(rendered(pa.Table.from_pylist([], MIXED_SCHEMA), Format.json)) == []


def test_json_nulls_non_finite_floats_inside_lists_too():
    table = pa.table({"xs": pa.array([[1.5, math.nan, None, -math.inf]], pa.list_(pa.float32()))})
    assert json.loads(rendered(table, Format.json)) == [{"xs": [1.5, None, None, None]}]


def test_json_timestamps_with_a_time_zone_carry_the_offset():
    at = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    table = pa.table({"at": pa.array([at], pa.timestamp("s", tz="UTC"))})
    assert json.loads(rendered(table, Format.json)) == [{"at": "2026-01-02T03:04:05+00:00"}]


def test_json_refuses_two_columns_of_one_name():
    table = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["id", "id"])
    with pytest.raises(QueryError, match="'id'.*AS"):
        rendered(table, Format.json)
    assert rendered(table, Format.csv) == "id,id\n1,2\n"


def test_ndjson_is_one_object_per_line(small_batches):
    rows = mixed_rows(10)
    text = rendered(pa.Table.from_pylist(rows, MIXED_SCHEMA), Format.ndjson)
    lines = text.splitlines()
    assert len(lines) == len(rows) and text.endswith("\n")
    assert [json.loads(line) for line in lines] == [as_json(r) for r in rows]
    assert rendered(pa.Table.from_pylist([], MIXED_SCHEMA), Format.ndjson) == ""


def test_csv_round_trips(small_batches):
    rows = mixed_rows(10)
    text = rendered(pa.Table.from_pylist(rows, MIXED_SCHEMA), Format.csv)
    header, *body = list(csv.reader(io.StringIO(text)))
    assert header == MIXED_SCHEMA.names
    assert len(body) == len(rows)
    for got, row in zip(body, rows):
        record = dict(zip(header, got))
        assert record["code"] == row["code"] and int(record["n"]) == row["n"]
        assert record["ok"] == ("true" if row["ok"] else "false")
        assert record["targets"] == ("" if row["targets"] is None else " ".join(row["targets"]))
        assert record["day"] == str(row["day"]) and record["at"] == str(row["at"])
        assert record["note"] == (row["note"] or "")


def test_csv_keeps_awkward_values_intact():
    table = pa.table({"v": ["a,b", 'say "hi"', "two\nlines", "\x1b[31m"]})
    _, *body = list(csv.reader(io.StringIO(rendered(table, Format.csv))))
    assert [r[0] for r in body] == ["a,b", 'say "hi"', "two\nlines", "\x1b[31m"]


# --- columns -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(Format))
def test_columns_keeps_those_columns_in_that_order(fmt):
    text = rendered(releases_table(), fmt, columns=["row_count", "release_id"])
    if fmt is Format.table:
        assert text.splitlines()[0].split() == ["row_count", "release_id"]
        assert text.splitlines()[2].split() == ["204", "sample"]
    elif fmt is Format.csv:
        assert text.splitlines()[:2] == ["row_count,release_id", "204,sample"]
    else:
        rows = json.loads(text) if fmt is Format.json else [json.loads(line) for line in text.splitlines()]
        assert [list(r.items()) for r in rows][0] == [("row_count", 204), ("release_id", "sample")]


def test_columns_from_a_reader():
    reader = releases_table().to_reader(max_chunksize=1)
    assert rendered(reader, Format.csv, columns=["release_id"]) == "release_id\nsample\n2017\n2018\n"


def test_an_unknown_column_is_named_with_the_ones_there_are():
    out = CountingIO()
    with pytest.raises(QueryError) as caught:
        render(releases_table(), Format.json, out, columns=["release_id", "relase"])
    message = str(caught.value)
    assert "'relase'" in message and "source, release_id, effective_from" in message
    assert out.writes == 0  # refused before anything was printed


def columns_app() -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def show(columns=columns_option()):
        typer.echo(json.dumps(columns))

    return app


@pytest.mark.parametrize("given, parsed", [([], None), (["--columns", "b"], ["b"]),
                                           (["--columns", "b, a,c "], ["b", "a", "c"])])
def test_columns_option_parses_a_comma_separated_list(given, parsed):
    result = runner.invoke(columns_app(), given)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == parsed


def test_columns_option_refuses_an_empty_name():
    result = runner.invoke(columns_app(), ["--columns", "a,,b"])
    assert result.exit_code == 2 and "empty column name" in result.output


# --- the commands, against stand-ins for the query layer ---------------------------------------


class _FakeConnection:
    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _FakeWarehouse:
    def connect(self):
        return _FakeConnection()


def command_app(monkeypatch, module) -> typer.Typer:
    monkeypatch.setattr(module, "warehouse", lambda ctx: _FakeWarehouse())
    app = typer.Typer()

    @app.callback()
    def main():
        """A group, so commands are called by name as in codesets."""

    module.register(app)
    return app


def test_releases_command_takes_columns_and_ndjson(monkeypatch):
    from codesets.cli import releases

    query = types.ModuleType("codesets.query")
    query.releases = lambda wh: releases_table()
    monkeypatch.setitem(sys.modules, "codesets.query", query)
    app = command_app(monkeypatch, releases)
    result = runner.invoke(app, ["releases", "--format", "ndjson", "--columns", "release_id,effective_from"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.output.splitlines()] == [
        {"release_id": "sample", "effective_from": "2015-10-01"},
        {"release_id": "2017", "effective_from": "2016-10-01"},
        {"release_id": "2018", "effective_from": "2017-10-01"},
    ]
    unknown = runner.invoke(app, ["releases", "--columns", "nope"])
    assert isinstance(unknown.exception, QueryError) and "'nope'" in str(unknown.exception)


@pytest.mark.parametrize("fmt, source, targets", [
    ("table", "R65.21", "785.52 995.92"),
    ("csv", "R65.21", "785.52 995.92"),
    ("json", "R6521", ["78552", "99592"]),
    ("ndjson", "R6521", ["78552", "99592"]),
])
def test_map_shows_codes_dotted_in_table_and_csv_only(monkeypatch, fmt, source, targets):
    import codesets.query
    from codesets.cli import map as map_cmd

    # The public face (codesets.query.translate) runs; the translation it wraps is a stand-in.
    monkeypatch.setattr(codesets.query, "_warehouse", lambda wh: wh)
    monkeypatch.setattr(codesets.query._translation, "translate", lambda con, codes, f, t, **kw: pa.table({
        "input": ["r65.21"], "source_code": ["R6521"], "kind": ["combination"],
        "target_codes": [["78552", "99592"]], "release_id": ["2018"],
    }))
    app = command_app(monkeypatch, map_cmd)
    args = ["map", "r65.21", "--from", "icd10cm", "--to", "icd9cm", "--format", fmt,
            "--columns", "source_code,target_codes"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    if fmt == "table":
        assert re.split(r"\s{2,}", result.output.splitlines()[2]) == [source, targets]
    elif fmt == "csv":
        assert result.output.splitlines() == ["source_code,target_codes", f"{source},{targets}"]
    else:
        text = result.output if fmt == "ndjson" else result.output.strip()[1:-1]
        assert json.loads(text) == {"source_code": source, "target_codes": targets}


# --- values that cannot hurt a terminal --------------------------------------------------------


def test_table_output_escapes_terminal_controls():
    table = pa.table({"code": ["A01", "B02"], "note": ["\x1b[31mred\x1b[0m", "over\rwritten\nand\tmore"]})
    text = rendered(table, Format.table)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)  # only the table's own newlines
    assert len(text.splitlines()) == 2 + 2 + 1
    assert "\\x1b[31mred\\x1b[0m" in text
    assert "over\\x0dwritten\\x0aand\\x09more" in text


def test_a_ten_megabyte_value_is_printed_cut_short():
    big = "x" * 10_000_000
    text = rendered(pa.table({"code": ["A01"], "blob": [big]}), Format.table)
    assert len(text) < 1_000
    assert f"{'x' * 200}…(+9,999,800 chars)" in text


def test_load_error_tables_are_escaped_too():
    text = aligned(["file", "value"], [["a.txt", "1\x1b]0;pwned\x07"]])
    assert "\x1b" not in text and "1\\x1b]0;pwned\\x07" in text


def test_escape_examples():
    assert escape("R65.21") == "R65.21"
    assert escape("C:\\gems") == "C:\\\\gems"
    assert escape("\x7f\x85\u2028\u202e\U000e0001") == "\\x7f\\x85\\u2028\\u202e\\U000e0001"
    assert escape("é日本") == "é日本"
    assert escape(None) == "None" and escape(250.0) == "250.0"
    assert escape("abcdef", limit=4) == "abcd…(+2 chars)"
    assert escape("abc\x1b", limit=4) == "abc…(+1 char)"  # an escape is never split
    with pytest.raises(ValueError):
        escape("x", limit=0)


_ESCAPE = re.compile(r"\\(?:\\|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")


def unescape(text: str) -> str:
    """The inverse of escape for text that was not cut (a test helper only)."""
    return _ESCAPE.sub(lambda m: "\\" if m[0] == "\\\\" else chr(int(m[0][2:], 16)), text)


# Surrogates included: hypothesis leaves them out of text() unless asked.
any_text = st.text(st.characters(exclude_categories=()))


@given(any_text, st.integers(min_value=1, max_value=300))
def test_escape_is_one_printable_line_of_bounded_length(text, limit):
    shown = escape(text, limit)
    assert shown.isprintable()  # no C0, DEL, C1 or other non-printable character
    shown.encode("utf-8")  # lone surrogates would fail here
    longest_marker = f"…(+{len(text):,} chars)"
    assert len(shown) <= limit + len(longest_marker)


@given(any_text)
def test_escape_can_be_undone_when_nothing_is_cut(text):
    assert unescape(escape(text, limit=10 * len(text) + 1)) == text


@given(any_text, st.integers(min_value=1, max_value=50))
def test_a_cut_value_says_how_much_was_left_out(text, limit):
    whole = escape(text, limit=10 * len(text) + 1)
    shown = escape(text, limit)
    if len(whole) <= limit:
        assert shown == whole
        return
    marker = re.search(r"…\(\+([0-9,]+) chars?\)$", shown)
    assert marker, shown
    assert len(shown[: marker.start()]) <= limit
    kept = unescape(shown[: marker.start()])
    assert text.startswith(kept)
    assert len(text) - len(kept) == int(marker[1].replace(",", ""))


@given(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E).filter(lambda c: c != "\\")),
       st.integers(min_value=1, max_value=300))
def test_escape_leaves_short_printable_ascii_alone(text, limit):
    if len(text) <= limit:
        assert escape(text, limit) == text
