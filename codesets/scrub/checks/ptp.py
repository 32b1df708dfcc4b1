"""Check `ptp`: NCCI procedure-to-procedure edits between the lines of one claim (sql/queries/scrub_ptp.sql)."""

from codesets.scrub.checks import Check

CHECK = Check(
    name="ptp",
    summary="NCCI procedure-to-procedure edits: codes not billed together on one day",
    severity="error",
    default=True,
    order=20,
    reads=("edit_runs", "edits"),
    needs=("ncci_ptp",),
)
