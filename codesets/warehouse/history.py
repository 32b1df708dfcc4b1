"""Cumulative shapes: a release stored as what it changed, every release answerable as published.

CMS's PTP files are cumulative: each quarter repeats nearly every row of the last (about 4.5
million), deleted edits kept with their deletion date. Storing each quarter whole would grow
the warehouse by a quarter's size every quarter. The ``edits`` shape is stored instead as:

- the rows a release publishes first (its data file of ``edits``), with their own file and line;
- ``row_runs``: the release's files as runs of consecutive lines, each run pointing at the
  consecutive lines of the release that first published those rows (often an earlier one).

A release is then exactly its runs expanded (views ``edit_runs``, which reads the runs, and
``edits_published``, which expands them; ``write_part`` reads the base release through the
same two views, over the base's files): every row with its
values, and its file and line as that release published it. A quarter that changes 1% of the
rows stores that 1% and a few thousand runs. Nothing depends on the order releases are
loaded in: a run names the rows it reuses, not a predecessor to replay.

At load time the new rows are matched against the nearest published release of the same part
(its runs expanded): a row equal in every content column reuses the earlier row. Equality is
decided on the two codes and a 64-bit hash of the other columns, so a false match needs a hash
collision within one code pair (about one load in 10^10 at full scale).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

_PROVENANCE = ("source", "release_id", "part", "source_file", "line_no")
_KEYS = ("column1_code", "column2_code")  # compared as they are; the rest through the hash
_SPAN = 1 << 32  # a row's place: file number * _SPAN + line (lines are 32-bit)


@dataclass(frozen=True)
class Written:
    rows: int  # rows of the part as published
    versions: int  # rows stored for the first time (the part's data file of the shape)
    runs: int
    base_release_id: str | None
    reused: int  # rows of the part that reuse a row of the base release
    base_rows: int


def nearest_base(published: list[dict], part: str, effective_from) -> dict | None:
    """The published release of ``part`` closest in effective date (earlier preferred)."""
    same = [r for r in published if r["part"] == part]
    earlier = [r for r in same if r["effective_from"] <= effective_from]
    if earlier:
        return max(earlier, key=lambda r: (r["effective_from"], r["loaded_at"]))
    return min(same, key=lambda r: r["effective_from"], default=None)


def write_part(con, writer, shaped: str, columns: list[tuple[str, str]], source: str, release_id: str,
               part: str, base: dict | None) -> tuple[list, Written]:
    """Write one part of a cumulative shape: its new rows and its runs. Returns (data files, figures).

    ``shaped`` is the part's rows as the shape's typed columns (publish._shaped). The data
    files of the base release that the runs may point at are listed too, so that they stay
    on disk as long as a release needs them.
    """
    from codesets.warehouse.publish import DataFile, _literal as literal, write_data_file

    hashed = [(name, sql_type) for name, sql_type in columns if name not in _PROVENANCE and name not in _KEYS]
    key_columns = ", ".join(f'"{c}"' for c in _KEYS)

    def row_hash(alias: str) -> str:  # typed alike on both sides, whatever the reader hands over
        return "hash(" + ", ".join(f'CAST({alias}"{name}" AS {sql_type})' for name, sql_type in hashed) + ")"

    root = writer.warehouse.path
    if base is None:  # every row is new: the part is its rows, and one run per file
        return _first(con, writer, shaped, source, release_id, part)
    base_files = [d for d in base["data_files"] if d["table"] == "edits"]
    runs_files = [d for d in base["data_files"] if d["table"] == "row_runs"]
    versions = ", ".join(literal(str(root / d["path"])) for d in base_files)
    runs = ", ".join(literal(str(root / d["path"])) for d in runs_files)
    # Every file a row may come from gets a small number; a row's place is then one BIGINT,
    # file * 2^32 + line, so joins and the run boundaries compare integers, not names.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE history_runs AS
        SELECT origin_release_id, origin_source_file, origin_first_line, line_count
        FROM read_parquet([{runs}]) WHERE release_id = ? AND part = ?
    """, [base["release_id"], part])
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE history_files AS
        SELECT CAST(row_number() OVER (ORDER BY release_id, source_file) AS BIGINT) AS file_key, release_id, source_file
        FROM (
            SELECT DISTINCT origin_release_id AS release_id, origin_source_file AS source_file FROM history_runs
            UNION
            SELECT DISTINCT ? AS release_id, CAST(source_file AS VARCHAR) AS source_file FROM ({shaped}) AS s
        )
    """, [release_id])
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE history_new AS
        SELECT f.file_key * {_SPAN} + s.line_no AS place, {', '.join(f's."{c}"' for c in _KEYS)}, {row_hash('s.')} AS row_hash
        FROM ({shaped}) AS s
        INNER JOIN history_files AS f ON f.release_id = ? AND f.source_file = CAST(s.source_file AS VARCHAR)
    """, [release_id])
    # The rows the base holds, read as the warehouse reads them: the views edit_runs and
    # edits_published (sql/views, the one reading and the one expansion of runs), over the base's
    # own files, the base standing alone as its part's release in force.
    with _as_published(con, source, base["release_id"], part, runs, versions):
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE history_base AS
            SELECT f.file_key * {_SPAN} + p.first_line_no AS place, {', '.join(f'p."{c}"' for c in _KEYS)},
                   {row_hash('p.')} AS row_hash
            FROM edits_published AS p
            INNER JOIN history_files AS f ON f.release_id = p.first_release_id AND f.source_file = p.first_source_file
            WHERE p.source = ? AND p.release_id = ? AND p.part = ?
        """, [source, base["release_id"], part])
    # a stored row the base holds twice (two equal lines) is one row of the base
    (base_rows,) = con.execute("SELECT COUNT(DISTINCT place) FROM history_base").fetchone()
    # a row equal to a base row takes that row's place as its origin; a new row is its own origin
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE history_matched AS
        SELECT n.place, coalesce(b.origin, n.place) AS origin, b.origin IS NOT NULL AS reused
        FROM history_new AS n
        LEFT JOIN (
            SELECT {key_columns}, row_hash, MIN(place) AS origin FROM history_base GROUP BY ALL
        ) AS b USING ({key_columns}, row_hash)
    """)
    (rows, reused) = con.execute("SELECT COUNT(*), COUNT(*) FILTER (reused) FROM history_matched").fetchone()

    written = [write_data_file(con, writer, "edits", source, release_id, part, f"""
        SELECT s.* FROM ({shaped}) AS s
        INNER JOIN history_files AS f ON f.release_id = ? AND f.source_file = CAST(s.source_file AS VARCHAR)
        SEMI JOIN (SELECT place FROM history_matched WHERE NOT reused) AS m
            ON m.place = f.file_key * {_SPAN} + s.line_no
    """, [release_id])]

    # A run starts where the line before is not the origin's line before, and ends likewise;
    # starts and ends are few (about four per change), so pairing them costs nothing.
    runs_file = write_data_file(con, writer, "row_runs", source, release_id, part, f"""
                WITH starts AS (
                    SELECT m.place, m.origin FROM history_matched AS m
                    ANTI JOIN history_matched AS p ON p.place = m.place - 1 AND p.origin = m.origin - 1
                ),
                ends AS (
                    SELECT m.place FROM history_matched AS m
                    ANTI JOIN history_matched AS n ON n.place = m.place + 1 AND n.origin = m.origin + 1
                ),
                paired AS (
                    SELECT s.place, s.origin, e.place - s.place + 1 AS line_count
                    FROM starts AS s
                    ASOF INNER JOIN ends AS e ON e.place >= s.place
                )
                SELECT {literal(source)} AS source, {literal(release_id)} AS release_id, {literal(part)} AS part,
                       here.source_file, CAST(p.place % {_SPAN} AS INTEGER) AS first_line,
                       CAST(p.line_count AS INTEGER) AS line_count,
                       there.release_id AS origin_release_id, there.source_file AS origin_source_file,
                       CAST(p.origin % {_SPAN} AS INTEGER) AS origin_first_line
                FROM paired AS p
                INNER JOIN history_files AS here ON here.file_key = p.place // {_SPAN}
                INNER JOIN history_files AS there ON there.file_key = p.origin // {_SPAN}
                ORDER BY here.source_file, first_line
    """)
    written.append(runs_file)
    runs = runs_file.rows
    # the rows the runs reuse live in the base's data files (and those it reused): keep them listed
    seen = {d.path for d in written}
    for d in base_files:
        if d["path"] not in seen:
            written.append(DataFile("edits", d["path"], 0))
            seen.add(d["path"])
    figures = Written(rows=rows, versions=rows - reused, runs=runs, base_release_id=base and base["release_id"],
                      reused=reused, base_rows=base_rows)
    return written, figures


@contextmanager
def _as_published(con, source: str, release_id: str, part: str, runs: str, versions: str):
    """The temp views edit_runs and edits_published of sql/views over the base's files: row_runs and
    edits read from them, release_parts the base part alone, in force. Dropped on the way out."""
    from codesets.core import sqlfiles
    from codesets.warehouse.publish import _literal as literal

    text = {v.name: v.sql for v in sqlfiles.views() if v.name in _READ_AS_PUBLISHED}
    made = []
    try:
        for name, select in (
            ("row_runs", f"SELECT * FROM read_parquet([{runs}])"),
            ("edits", f"SELECT * FROM read_parquet([{versions}])"),
            ("release_parts", f"SELECT {literal(source)} AS source, {literal(release_id)} AS release_id, "
                              f"{literal(part)} AS part, true AS serves, NULL::DATE AS effective_from, "
                              "NULL::DATE AS effective_to, false AS is_sample"),
            *((name, text[name]) for name in _READ_AS_PUBLISHED),
        ):
            con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS\n{select}')
            made.append(name)
        yield
    finally:
        for name in reversed(made):
            con.execute(f'DROP VIEW IF EXISTS temp.main."{name}"')


_READ_AS_PUBLISHED = ("edit_runs", "edits_published")  # in this order: the second reads the first


def _first(con, writer, shaped: str, source: str, release_id: str, part: str):
    """A part with no earlier release to reuse: all its rows, and each of its files as one run."""
    from codesets.warehouse.publish import _literal as literal, write_data_file

    rows_file = write_data_file(con, writer, "edits", source, release_id, part, shaped)
    # staged lines are consecutive within a file (an empty line is refused); were they not, a run
    # would claim lines it does not hold, so the query stops rather than write one
    runs_file = write_data_file(con, writer, "row_runs", source, release_id, part, f"""
        SELECT {literal(source)} AS source, {literal(release_id)} AS release_id, {literal(part)} AS part,
               CAST(source_file AS VARCHAR) AS source_file, MIN(line_no) AS first_line,
               CAST(COUNT(*) AS INTEGER) AS line_count, {literal(release_id)} AS origin_release_id,
               CAST(source_file AS VARCHAR) AS origin_source_file,
               CASE WHEN COUNT(*) = MAX(line_no) - MIN(line_no) + 1 THEN MIN(line_no)
                    ELSE error('staged lines of ' || source_file || ' are not consecutive; cannot store them as runs')
               END AS origin_first_line
        FROM ({shaped}) AS s
        GROUP BY source_file
        ORDER BY source_file
    """)
    rows = rows_file.rows
    return [rows_file, runs_file], Written(rows=rows, versions=rows, runs=runs_file.rows, base_release_id=None,
                                           reused=0, base_rows=0)
