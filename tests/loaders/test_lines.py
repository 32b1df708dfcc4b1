"""Line files into DuckDB: every line, in order, numbered as an editor numbers them."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesets.errors import SourceError
from codesets.loaders import _lines

text_lines = st.lists(
    st.text(st.characters(min_codepoint=32, max_codepoint=255, blacklist_characters="\x7f"), max_size=40),
    min_size=1, max_size=60,
)


def staged(path):
    con = duckdb.connect()
    _lines.stage(con, "lines", [_lines.inspect(path)])
    return con.execute("SELECT line_no, raw FROM lines ORDER BY line_no").fetchall()


@settings(max_examples=80, deadline=None)
@given(lines=text_lines, ending=st.sampled_from(["\n", "\r\n"]), final=st.booleans())
def test_lines_read_back_exactly(tmp_path_factory, lines, ending, final):
    """The Python twin: split the bytes on the line ending; DuckDB must give the same lines, in order."""
    lines = [line for line in lines if not any(0x80 <= ord(c) <= 0x9F for c in line)] or ["x"]
    if not final and lines[-1] == "":
        lines[-1] = "last"  # without a final line ending, an empty last line is no line at all
    path = tmp_path_factory.mktemp("lines") / "f.txt"
    path.write_bytes((ending.join(lines) + (ending if final else "")).encode("latin-1"))
    info = _lines.inspect(path)
    assert info.lines == len(lines)
    assert staged(path) == [(n, line or None) for n, line in enumerate(lines, 1)]


def test_a_large_file_keeps_its_order(tmp_path):
    """Millions of lines are read in parallel; the numbering must still follow the file."""
    path = tmp_path / "big.txt"
    count = 2_000_000
    path.write_text("".join(f"line {n}\r\n" for n in range(1, count + 1)))
    con = duckdb.connect()
    _lines.stage(con, "lines", [_lines.inspect(path)])
    wrong = con.execute("SELECT COUNT(*) FROM lines WHERE raw <> 'line ' || line_no").fetchone()[0]
    assert wrong == 0 and con.execute("SELECT MAX(line_no) FROM lines").fetchone()[0] == count


@pytest.mark.parametrize("data,message", [
    (b"a\nb\rc\nd\n", "line 2 holds a carriage return"),
    (b"a\n" + b"x" * (_lines.MAX_LINE + 5) + b"\n", "line 2 is longer than"),
    (b"", "the file is empty"),
    (b"a\nb\r", "ends with a carriage return alone"),
    (b"abc\nd\x92e\n", "byte 0x92 at line 2, column 2 is not Latin-1"),
])
def test_what_duckdb_would_misread_is_refused_by_line(tmp_path, data, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(SourceError, match=message):
        _lines.inspect(path)
