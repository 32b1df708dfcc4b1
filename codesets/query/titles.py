"""Titles for answers that carry bare codes (GEM translations): the loaded code sets' latest title.

The rule is the view code_titles's (the latest release listing the code answers); this module
asks it only of the codes in hand, so a batch pays for its own codes, not for every code loaded.
With no code set loaded the titles are NULL and the cost is one look at the catalog.
"""

from __future__ import annotations

_TITLES_SQL = """
WITH wanted AS (SELECT unnest(?) AS code_system, unnest(?) AS code)
SELECT h.code_system, h.code, h.description
FROM code_history AS h
INNER JOIN wanted AS w ON w.code_system = h.code_system AND w.code = h.code
QUALIFY ROW_NUMBER() OVER (PARTITION BY h.code_system, h.code ORDER BY h.release_effective_from DESC) = 1
"""


# the catalog itself, not the views over it: binding those costs more than a small translation
_ANY_CODE_SET = "SELECT count(*) FROM release_catalog WHERE list_contains(?, source)"


def _any_code_set(con) -> bool:
    from codesets.query.validity import source_of

    return bool(con.execute(_ANY_CODE_SET, [sorted(set(source_of().values()))]).fetchall()[0][0])


def lookup(con, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(code_system, code) -> title, for the pairs a loaded code set lists."""
    pairs = {(s, c) for s, c in pairs if s is not None and c is not None}
    if not pairs or not _any_code_set(con):
        return {}
    systems, codes = zip(*pairs)
    # bound as two lists: registering an Arrow table would make DuckDB import pandas
    return {(s, c): t for s, c, t in con.execute(_TITLES_SQL, [list(systems), list(codes)]).fetchall()}


def with_map_titles(con, table):
    """A translation table (codesets.query.translate) with source_title and target_titles added."""
    import pyarrow as pa

    if not table.num_rows or not _any_code_set(con):
        # no code set loaded: typed NULLs, at no cost (lists of values would import pandas)
        table = table.append_column("source_title", pa.nulls(table.num_rows, pa.string()))
        return table.append_column("target_titles", pa.nulls(table.num_rows, pa.list_(pa.string())))
    sources = table.column("source_system").to_pylist()
    codes = table.column("source_code").to_pylist()
    targets_system = table.column("target_system").to_pylist()
    targets = table.column("target_codes").to_pylist()
    wanted = set(zip(sources, codes))
    wanted.update((system, code) for system, row in zip(targets_system, targets) for code in row or ())
    titles = lookup(con, wanted)
    source_titles = [titles.get(pair) for pair in zip(sources, codes)]
    target_titles = [None if row is None else [titles.get((system, code)) for code in row]
                     for system, row in zip(targets_system, targets)]
    table = table.append_column("source_title", pa.array(source_titles, pa.string()))
    return table.append_column("target_titles", pa.array(target_titles, pa.list_(pa.string())))
