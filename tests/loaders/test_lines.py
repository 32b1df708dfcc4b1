"""Line files into DuckDB: every line, in order, numbered as an editor numbers them."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesets.core.errors import SourceError
from codesets.loaders import _lines

text_lines = st.lists(
    st.text(st.characters(min_codepoint=32, max_codepoint=255, blacklist_characters="\x7f"), max_size=40),
    min_size=1, max_size=60,
)


def staged(path):
    con = duckdb.connect()
    _lines.stage(con, "lines", [_lines.inspect(path)])
    return con.execute("SELECT line_no, raw FROM lines ORDER BY line_no").fetchall()


@pytest.mark.slow
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


utf8_lines = st.lists(st.text(st.characters(min_codepoint=32, blacklist_categories=("Cs",),
                                            blacklist_characters="\x7f\x85\u2028\u2029"), max_size=30),
                      min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(lines=utf8_lines, ending=st.sampled_from(["\n", "\r\n"]))
def test_utf8_lines_read_back_exactly(tmp_path_factory, lines, ending):
    path = tmp_path_factory.mktemp("utf8") / "lines.txt"
    path.write_bytes(ending.join(lines).encode("utf-8") + ending.encode())
    con = duckdb.connect()
    _lines.stage(con, "lines", [_lines.inspect(path, encoding="utf-8")])
    got = con.execute("SELECT raw FROM lines ORDER BY line_no").fetchall()
    assert [r or "" for (r,) in got] == lines


def test_utf8_character_cut_by_a_block_boundary_is_read_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(_lines, "_BLOCK", 8)
    path = tmp_path / "cut.txt"
    path.write_bytes("abcdef\u2013gh\nM\u00e9ni\u00e8re \u2013 \U0001F600\n".encode())  # the dash spans bytes 7-9
    assert _lines.inspect(path, encoding="utf-8").lines == 2


@pytest.mark.parametrize("data, where", [
    (b"ok\nab\xe9cd\n", "line 2, column 3"),              # Latin-1 e-acute
    (b"ok\nabc\xe2\x80\n", "line 2, column 4"),           # a character cut short by the line end
    (b"ok\nabc\xe2\x80", "line 2, column 4"),              # cut short by the end of the file
    (b"ok\n\xc0\xaf\n", "line 2, column 1"),              # an overlong form
])
def test_bytes_that_are_not_utf8_are_named(tmp_path, monkeypatch, data, where):
    monkeypatch.setattr(_lines, "_BLOCK", 4)
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(SourceError, match=f"at {where}.* is not UTF-8"):
        _lines.inspect(path, encoding="utf-8")
