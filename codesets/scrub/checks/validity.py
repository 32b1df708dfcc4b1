"""Check `validity`: procedure and diagnosis codes valid and billable on the date of service.

Its SELECT (sql/queries/scrub_validity.sql) reads the temp table ``validity_answers``, which
``prepare`` builds: code_validity.sql over each distinct (code, code system, date) of the lines.
"""

from codesets.scrub.checks import Check


def _prepare(con) -> None:
    from codesets.query.validity import prepare_scrub

    prepare_scrub(con)


CHECK = Check(
    name="validity",
    summary="procedure and diagnosis codes valid and billable on the date of service",
    severity="error",
    default=True,
    order=10,
    reads=("code_releases", "code_history"),
    # the sources answering validity for the systems it asks (codesets.loaders.validity_systems)
    needs=("icd10cm", "hcpcs", "cpt"),
    prepare=_prepare,
)
