"""Check `input`: the claim-line input rules. It always runs, first, and is never named in --checks.

Its stage (not one SELECT: several, sql/queries/scrub_input*.sql) turns the temp view
``scrub_source`` into the temp table ``claim_lines`` every other check reads, and words the
findings of the rows it refuses into the temp table ``scrub_input_findings``:

``scrub_input_parse.sql`` judges every row against the input rules and ``scrub_input_lines.sql``
keeps them all, judged, in ``claim_lines``; repeated (claim_id, line_number) keys are found
(``scrub_input_order.sql``, ``scrub_input_duplicates.sql``), the rows that fail are deleted
(``scrub_input_delete.sql``), and ``scrub_input.sql`` words the findings.
"""

from __future__ import annotations

from codesets.core import sqlfiles
from codesets.core.codes import PATTERNS
from codesets.scrub.checks import FINDINGS, INPUT, Check, ident
from codesets.scrub.claims import MAX_LINE_BYTES, MAX_UNITS, OPTIONAL, REQUIRED

# A procedure code a finding may name (its `code` column): the shape of a HCPCS Level II or a CPT
# code. Any other value of procedure_code is free text as far as the scrub knows (a name, an SSN),
# and no finding quotes it (docs/scrub-rules.md, "Values in findings").
PROCEDURE_SHAPE = f"(?:{PATTERNS['hcpcs'].pattern})|(?:{PATTERNS['cpt'].pattern})"


def stage(con, source) -> tuple[int, int]:
    """claim_lines and scrub_input_findings (with scrub_parsed and scrub_duplicates on the way),
    from scrub_source; returns the number of input rows and of claim lines.

    One pass judges and keeps every row; the rows that fail are then deleted from it. A clean
    file takes two short cuts: keys already in strictly increasing order cannot repeat (no
    grouping of every line), and with no row broken there is no second pass to word findings.
    """
    con.execute("SET VARIABLE scrub_max_units = $max_units", {"max_units": MAX_UNITS})  # read by the view
    # read by scrub_input.sql and scrub_mue.sql: a finding names a procedure code of this shape only
    con.execute("SET VARIABLE scrub_procedure_shape = $shape", {"shape": PROCEDURE_SHAPE})
    con.execute(f"CREATE TEMP VIEW scrub_parsed AS\n{sqlfiles.query('scrub_input_parse')}")
    con.execute(f"CREATE TEMP TABLE claim_lines AS\n{sqlfiles.query('scrub_input_lines')}")
    broken, out_of_order = con.execute(sqlfiles.query("scrub_input_order")).fetchone()
    con.execute("CREATE TEMP TABLE scrub_duplicates (claim_id VARCHAR, line_number INTEGER, copies BIGINT)")
    if out_of_order:
        con.execute(f"INSERT INTO scrub_duplicates\n{sqlfiles.query('scrub_input_duplicates')}")
    (repeated,) = con.execute("SELECT count(*) FROM scrub_duplicates").fetchone()
    (unread,) = con.execute("SELECT count(DISTINCT line) FROM scrub_csv_errors").fetchone()
    rows = con.execute("SELECT count(*) FROM claim_lines").fetchone()[0] + unread
    if broken or repeated:
        con.execute(sqlfiles.query("scrub_input_delete"))
    con.execute("ALTER TABLE claim_lines DROP COLUMN ok")
    con.execute("ALTER TABLE claim_lines DROP COLUMN usable")
    columns = ", ".join(f"{ident(n)} {t}" for n, t in (*FINDINGS, ("sort_row", "BIGINT"), ("rule_order", "INTEGER")))
    con.execute(f"CREATE TEMP TABLE scrub_input_findings ({columns})")
    if broken or repeated or unread:  # else no row broke a rule: nothing to word
        con.execute(
            f"INSERT INTO scrub_input_findings BY NAME\n{sqlfiles.query('scrub_input')}",
            {"header_fields": len(source.header or ()), "max_line_bytes": MAX_LINE_BYTES, "max_units": MAX_UNITS,
             "columns": _claim_columns(source)},
        )
    (lines,) = con.execute("SELECT count(*) FROM claim_lines").fetchone()
    return rows, lines


def _claim_columns(source) -> list[str | None]:
    """The CSV header by position: a claim-line column's name, None for any other ([] for no CSV).

    scrub_input.sql names the column of an unread row by it; a column it does not know is named
    by its place alone (its header may say anything)."""
    if source.kind != "csv":
        return []
    return [name if name in REQUIRED or name in OPTIONAL else None
            for name in (str(n).strip().lower() for n in source.header)]


CHECK = Check(
    name=INPUT,
    summary="the claim-line input rules: each row and column read, typed and bounded (docs/scrub-rules.md)",
    severity="error",
    default=True,
    order=0,
    stage=stage,
)
