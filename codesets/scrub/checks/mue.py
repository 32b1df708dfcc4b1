"""Check `mue`: units against NCCI medically unlikely edits (sql/queries/scrub_mue.sql)."""

from codesets.scrub.checks import Check

CHECK = Check(
    name="mue",
    summary="NCCI medically unlikely edits: units of a code on a line or a day",
    severity="error",
    default=True,
    order=30,
    reads=("release_parts", "limits"),
    needs=("ncci_mue",),
)
