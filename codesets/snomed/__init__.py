"""The SNOMED CT to ICD-10-CM rule engine (I-MAGIC): point evaluation and batch evaluation in SQL."""

from __future__ import annotations


def lookup(warehouse=None):
    """A point evaluation of the SNOMED CT map: ``lookup().lookup("237145004", sex="F")`` -> [GroupAnswer].

    It keeps one read-only connection (one generation) open and the map in memory: close it
    with ``.close()`` or use it in a ``with`` block. ``warehouse`` as for ``codesets.query``.
    """
    from codesets.query import warehouse_of
    from codesets.snomed.evaluate import SnomedLookup

    return SnomedLookup(warehouse_of(warehouse).connect(), owns_connection=True)
