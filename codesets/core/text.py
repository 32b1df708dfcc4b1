"""Plain aligned text tables, for the CLI's output and for load errors, and the escaping that
keeps any value on one printable line."""

from __future__ import annotations

import re


def escape(value, limit: int | None = 200) -> str:
    """``value`` as one printable line of at most ``limit`` characters plus a cut marker
    (``limit=None``: never cut, e.g. for CSV shown on a terminal).

    Query results and refused rows can hold anything; printed raw, an ESC starts a terminal
    control sequence, a CR overwrites the line and a LF breaks a table's alignment. So
    control characters (C0, DEL, C1) and every other character Python does not count as
    printable (line and paragraph separators, bidi overrides, zero-width marks, lone
    surrogates, no-break spaces) are written as ``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN``,
    and a backslash is doubled so the escapes cannot be confused with data. The escaping can
    be undone exactly. Past ``limit`` characters the text is cut between escapes and ends
    with ``…(+N chars)``, N counting the characters of the value left out.

    Values that are not strings go through ``str()`` first.
    """
    text = value if isinstance(value, str) else str(value)
    if limit is None:
        if "\\" not in text and text.isprintable():
            return text
        return "".join(map(_escape_char, text))
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    if len(text) <= limit and "\\" not in text and text.isprintable():
        return text  # the common case: nothing to do
    parts: list[str] = []
    width = 0
    used = 0
    # Every character escapes to at least one, so no more than `limit` of them can fit.
    for char in text[:limit]:
        shown = _escape_char(char)
        if width + len(shown) > limit:
            break
        parts.append(shown)
        width += len(shown)
        used += 1
    cut = len(text) - used
    if cut:
        parts.append(f"…(+{cut:,} char{'s' if cut != 1 else ''})")
    return "".join(parts)


def _escape_char(char: str) -> str:
    if char == "\\":
        return "\\\\"
    if char.isprintable():
        return char
    point = ord(char)
    if point <= 0xFF:
        return f"\\x{point:02x}"
    if point <= 0xFFFF:
        return f"\\u{point:04x}"
    return f"\\U{point:08x}"


def shown(path, limit: int = 300) -> str:
    """A file name for a message: one printable line; bytes that are not UTF-8 as \\xNN."""
    import os

    text = os.fsencode(path).decode("utf-8", errors="backslashreplace")
    return escape(text, limit).replace("\\\\x", "\\x")


def printable(text: str, limit: int = 4000) -> str:
    """A message for the terminal: each line's non-printable characters escaped, nothing else.

    Unlike ``escape`` it keeps backslashes and line breaks as they are, so a message that
    already holds escaped values (a reject table) passes unchanged, while a raw file name or
    value in it cannot reach the terminal as a control sequence. Each line is cut at ``limit``.
    """
    lines = []
    for line in str(text).split("\n"):
        shown = "".join(c if c.isprintable() or c == "\\" else _escape_char(c) for c in line[:limit])
        cut = len(line) - min(len(line), limit)
        lines.append(shown + (f"…(+{cut:,} chars)" if cut else ""))
    return "\n".join(lines)


def aligned(names, rows) -> str:
    """Header, a rule of dashes, then the rows, columns padded to fit.

    Cells are strings; every name and cell goes through ``escape``, so a value cannot move
    the cursor, break a line or run a table off the screen.
    """
    names = [escape(n) for n in names]
    rows = [[escape(c) for c in r] for r in rows]
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]
    lines = [
        "  ".join(n.ljust(w) for n, w in zip(names, widths)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)

def without_values(exc: Exception) -> str:
    """DuckDB's first line with quoted text and numbers left out: either may be a claim value (PHI).

    DuckDB quotes text it cannot convert, but not a number ("Type DOUBLE with value 1.2e+19
    can't be cast"); a name such as INT64 keeps its digits.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = lines[0] if lines else type(exc).__name__
    first = re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", "'…'", first)
    return re.sub(r"(?<![\w.…])[-+]?[0-9][0-9.,:/eE+-]*", "…", first)[:300]
