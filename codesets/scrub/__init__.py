"""Claim scrubbing: claim input readers, the checks (one module each, ``codesets.scrub.checks``), findings."""

from __future__ import annotations


def scrub(claims, checks=None, warehouse=None):
    """Scrub claim lines; return the findings as a pyarrow Table.

    ``claims`` is a CSV or Parquet path, a pyarrow Table or a pandas DataFrame with the
    claim-line columns of docs/scrub-rules.md (other columns are ignored: join the findings
    back on claim_id and line_number). ``checks`` names the checks besides ``input``, which
    always runs (default: the checks that declare themselves default: validity, ptp and mue).
    ``warehouse`` as for ``codesets.query``.
    """
    from codesets.query import warehouse_of
    from codesets.scrub import engine

    return engine.scrub(warehouse_of(warehouse), claims, checks).findings
