"""Line files into DuckDB: one row per line, numbered as a text editor numbers them.

DuckDB's CSV reader, given one column and a delimiter that never splits, reads a file as
lines in parallel at disk speed. Two things it does not do are done here. It has no line
number: ``row_number() OVER ()`` gives one, because DuckDB runs a window with an empty
OVER clause in input order (a streaming window keeps a fixed order). And it ends a line
at a lone carriage return, dropping what follows, so a cheap pass over the bytes first
refuses such a file, and a line too long to be a record, naming the line.

Lines are read as Latin-1, which maps every byte to one character: a loader that wants
ASCII sees a stray byte (``strlen(raw) <> length(raw)``) and can name its column. A loader
whose format is UTF-8 (SNOMED CT's RF2 files) asks for ``encoding="utf-8"``: the pass over the
bytes then checks they are UTF-8, naming the line and column of the first that is not.
"""

from __future__ import annotations

import codecs
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

from codesets.core.errors import SourceError, SystemFailure
from codesets.core.text import escape, shown

MAX_LINE = 1 << 20  # a record longer than 1 MiB is no record of any official file
_BLOCK = 1 << 20

# One column, a delimiter that never splits, no quoting: every line as it is, in file order.
_LINES = f"""
    SELECT CAST(? AS USMALLINT) AS file_no, CAST(row_number() OVER () AS INTEGER) AS line_no, raw
    FROM read_csv(?, columns = {{'raw': 'VARCHAR'}}, header = false, auto_detect = false,
                  delim = '\\x01', quote = '', escape = '', new_line = '\\r\\n',
                  encoding = '{{encoding}}', strict_mode = false, max_line_size = {2 * MAX_LINE + 2})
"""
ENCODINGS = ("latin-1", "utf-8")

# Control characters no record of a text file holds: C0 but the tab (a separator in some
# formats), DEL and C1. Printed raw, an ESC or a BEL acts on a terminal; a NUL cuts a value
# short in C code. One definition, read by the loaders' checks (``control_at``).
_CONTROL_RANGES = r"\x00-\x08\x0A-\x1F\x7F-\x9F"
CONTROL = f"[{_CONTROL_RANGES}]"


@dataclass(frozen=True)
class LineFile:
    path: Path
    lines: int
    line_ending: str  # 'LF', 'CRLF', 'mixed' or 'none'
    tabs: int = 0  # tab characters in the file (a tab-separated loader checks its field count with it)
    bare_lf: int = 0  # line endings that are LF without CR
    encoding: str = "latin-1"  # how stage() reads it: one of ENCODINGS


def inspect(path: Path, encoding: str = "latin-1", *, ended: bool = False) -> LineFile:
    """Count lines and line endings in one pass over the bytes; refuse what DuckDB would misread.

    ``encoding`` 'latin-1' refuses the C1 bytes DuckDB's Latin-1 reader refuses; 'utf-8'
    refuses bytes that are not UTF-8. ``ended``: the format ends every line, the last one too,
    so a last line without its line ending is a file cut short, and refused.
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding {encoding!r} is not one of {ENCODINGS}")
    utf8 = encoding == "utf-8"
    pending = b""  # the start of a UTF-8 character cut by the end of the previous block
    newlines = crlf = tabs = 0
    last_newline = -1  # absolute offset of the newline before the current line
    offset = 0
    previous_tail = b""
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(_BLOCK), b""):
                newline_before = last_newline
                first = block.find(b"\n")
                if first >= 0:
                    if offset + first - last_newline - 1 > MAX_LINE:
                        _too_long(path, newlines + 1)
                    last_newline = offset + block.rfind(b"\n")
                elif offset + len(block) - last_newline - 1 > MAX_LINE:
                    _too_long(path, newlines + 1)
                if utf8:
                    pending = _check_utf8(path, pending, block, offset - len(pending), newlines, newline_before)
                elif not block.isascii() and (c1 := _C1.search(block)) is not None:
                    _not_latin1(path, block, c1.start(), newlines)
                joined = previous_tail + block
                carriage = joined.count(b"\r")
                pairs = joined.count(b"\r\n")
                if carriage != pairs and not (carriage == pairs + 1 and joined.endswith(b"\r")):
                    _lone_carriage_return(path, joined, newlines, len(previous_tail))
                newlines += block.count(b"\n")
                tabs += block.count(b"\t")
                crlf += pairs
                previous_tail = block[-1:]
                offset += len(block)
    except OSError as exc:
        raise SystemFailure(f"cannot read {shown(path)}: {exc.strerror}") from None
    if previous_tail == b"\r":
        raise SourceError(f"{shown(path)}: the file ends with a carriage return alone; save it with LF or CRLF line endings")
    if offset == 0:
        raise SourceError(f"{shown(path)}: the file is empty")
    if pending:
        _check_utf8(path, b"", pending, offset - len(pending), newlines, last_newline, final=True)
    ending = "none" if newlines == 0 else "CRLF" if crlf == newlines else "LF" if crlf == 0 else "mixed"
    lines = newlines + (0 if previous_tail == b"\n" else 1)
    if ended and previous_tail != b"\n":
        _unended(path, lines, last_newline + 1, encoding)
    return LineFile(path, lines, ending, tabs, newlines - crlf, encoding)


def text_encoding(path: Path) -> str:
    """'utf-8' for a file whose bytes are UTF-8 and not all ASCII, else 'latin-1'.

    For a format published as Latin-1 that a spreadsheet or editor may have saved as UTF-8:
    read as Latin-1, such a file loads as mojibake ('FriedlÃ¤nder'). A Latin-1 file with
    a byte above 0x7F is almost never valid UTF-8 (0xE4 then 'n' is not), so the bytes decide.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    wide = False
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(_BLOCK), b""):
                wide = wide or not block.isascii()
                decoder.decode(block)  # a character cut by the block boundary is carried to the next
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "latin-1"
    except OSError as exc:
        raise SystemFailure(f"cannot read {shown(path)}: {exc.strerror}") from None
    return "utf-8" if wide else "latin-1"


def control_at(column: str) -> str:
    """SQL giving, for a line ``column`` holding a control character (``CONTROL``), where and which:
    'control character 0x1B at column 12'; NULL for a line without one."""
    return (
        f"CASE WHEN regexp_matches({column}, '{CONTROL}') THEN "
        f"printf('control character 0x%02X at column %d', ord(regexp_extract({column}, '{CONTROL}')), "
        f"length(regexp_extract({column}, '^[^{_CONTROL_RANGES}]*')) + 1) END"
    )


def stage(con, table: str, files: list[LineFile]) -> None:
    """Create the temp table ``table`` (file_no, line_no, raw) with every line of every file.

    ``file_no`` is the file's position in ``files`` (a small integer costs less per row than
    its name, and joins faster). An empty line is NULL in ``raw``; line endings are removed.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (file_no USMALLINT, line_no INTEGER, raw VARCHAR)")
    for number, item in enumerate(files):
        con.execute(f"INSERT INTO {table} {_LINES.replace('{encoding}', item.encoding)}", [number, str(item.path)])


def head(con, table: str, path: Path, count: int) -> None:
    """Create the temp table ``table`` as ``stage`` would, with the first ``count`` lines of one file.

    For sniffing a file's kind, so read in Python: a few thousand lines, passed as one list.
    """
    with open(path, "rb") as handle:
        lines = [line.rstrip(b"\r\n").decode("latin-1") or None for line in itertools.islice(handle, count)]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT CAST(0 AS USMALLINT) AS file_no, "
        "CAST(n AS INTEGER) AS line_no, CAST(lines[n] AS VARCHAR) AS raw "
        "FROM (SELECT ? AS lines) AS t, range(1, len(t.lines) + 1) AS r(n)",
        [lines],
    )


# DuckDB's Latin-1 decoder refuses the C1 range (0x80-0x9F), where Windows-1252 keeps its
# curly quotes and euro sign: such a file is named here, with line and column, not by DuckDB.
_C1 = re.compile(rb"[\x80-\x9f]")


def _not_latin1(path: Path, block: bytes, position: int, newlines_before: int) -> None:
    line_start = block.rfind(b"\n", 0, position) + 1
    line = newlines_before + block.count(b"\n", 0, position) + 1
    column = position - line_start + 1 if line_start or newlines_before == 0 else None
    where = f"line {line:,}" + (f", column {column}" if column else "")
    raise SourceError(
        f"{shown(path)}: byte 0x{block[position]:02X} at {where} is not Latin-1 text (Windows-1252?); "
        "save the file as Latin-1 or UTF-8 without that character"
    )


def _check_utf8(path: Path, pending: bytes, block: bytes, start: int, newlines_before: int, newline_before: int,
                final: bool = False) -> bytes:
    """Refuse ``pending + block`` where it is not UTF-8; return the cut character it ends with.

    ``start``: the file offset of ``pending + block``; ``newlines_before`` counts the newlines
    before it, the last of them at offset ``newline_before`` (-1 for none).
    """
    data = pending + block
    if data.isascii():
        return b""
    try:
        data.decode("utf-8")
        return b""
    except UnicodeDecodeError as exc:
        if not final and exc.end == len(data) and len(data) - exc.start < 4 and exc.reason == "unexpected end of data":
            data[: exc.start].decode("utf-8")  # what comes before the cut is UTF-8 (the first error is the cut)
            return data[exc.start:]
        position = exc.start
    newline = data.rfind(b"\n", 0, position)
    line_start = start + newline + 1 if newline >= 0 else newline_before + 1
    line = newlines_before + data.count(b"\n", 0, position) + 1
    where = f"line {line:,}, column {start + position - line_start + 1:,}"
    raise SourceError(
        f"{shown(path)}: byte 0x{data[position]:02X} at {where} is not UTF-8 text, which this format is; "
        "save the file as UTF-8"
    )


def _unended(path: Path, line: int, start: int, encoding: str) -> None:
    """Refuse a file whose last line, from byte ``start``, has no line ending: name it, its end and its text."""
    with open(path, "rb") as handle:
        handle.seek(start)
        text = handle.read(MAX_LINE + 1).decode(encoding, errors="replace")
    raise SourceError(
        f"{shown(path)}: line {line:,}, column {len(text) + 1:,}: the file ends inside this line "
        f"('{escape(text, 80)}'), without the line ending every line of this format has: the file is cut "
        "short (an interrupted download, copy or unzip?) and its last record may be damaged; "
        "get the whole file again"
    )


def _too_long(path: Path, line: int) -> None:
    raise SourceError(f"{shown(path)}: line {line:,} is longer than {MAX_LINE:,} bytes; this is not a file of records")


def _lone_carriage_return(path: Path, joined: bytes, newlines_before: int, tail: int) -> None:
    position = 0
    while True:
        position = joined.index(b"\r", position)
        if joined[position + 1 : position + 2] != b"\n" and position + 1 < len(joined):
            break
        position += 1
    line = newlines_before + joined.count(b"\n", 0, position) + 1 - (1 if tail and joined[:1] == b"\n" else 0)
    raise SourceError(
        f"{shown(path)}: line {line:,} holds a carriage return that does not end the line; "
        "save the file with LF or CRLF line endings"
    )
