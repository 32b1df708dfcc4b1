"""Write a synthetic, valid GEM file of any size, for the benchmarks.

Run from the repository root with the project's virtual environment:

    python benchmarks/gen_gems.py OUT.txt [--lines 4500000] [--seed 1] [--direction icd10cm-icd9cm]

The file has the layout of the CMS diagnosis GEMs (2018_I10gem.txt, 2018_I9gem.txt): fixed
width, 19 characters and LF per line, sorted by source code. DuckDB writes it with one
``COPY ... TO`` over ``range(lines)``; no Python runs per line, so 4.5 million lines take a
few seconds.

- Codes come from two synthetic universes of the real sizes: about 72,000 ICD-10-CM codes
  (3 to 7 characters, mostly 7 as in the real code set) and about 14,500 ICD-9-CM codes
  (numeric, V and E codes, mostly 5 digits). The seed picks which codes are in each universe.
- Every code of the source universe gets the same number of lines (the file size decides
  how many), except one source in 50, which gets a single no-map line (``NoDx``, flags
  11000). One source in ten is a combination: scenarios 1 to 9, two or three choice lists
  each, numbered without gaps. The other lines are approximate single rows (10000), one
  in twenty exact (00000).
- No line repeats: within a source, the targets are distinct (a step coprime with the size
  of the target universe), and the single no-map line has a source of its own.

So the file loads with zero rejects and no quirk notes: `codesets load gems OUT.txt --release 2090`.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

UNIVERSE = {"icd10cm": 72_000, "icd9cm": 14_500}
WIDTH = {"icd10cm": 7, "icd9cm": 5}  # a source or target field is padded to this, then a space
DIRECTIONS = ("icd10cm-icd9cm", "icd9cm-icd10cm")
NO_MAP_EVERY = 50  # one source in 50 is a single no-map line
COMBINATION_PERCENT = 10  # of the mapped sources
EXACT_PERCENT = 5  # of the single rows
SOURCE_STEP, TARGET_STEP = 104_729, 7_919  # primes: coprime with both universe sizes

# Candidate codes of each system, sampled down to the universe's size by a seeded hash.
# ICD-10-CM: a category (letter, two digits), then nothing, 1, 2 or 3 digits, or 3 digits
# and a 7th character; ICD-9-CM: 001-999 and V01-V91 with 0, 1 or 2 more digits, E800-E999
# with 0 or 1 more digit (every shape fits the patterns of codesets.core.codes).
CANDIDATES = {
    "icd10cm": """
        SELECT chr(65 + l::INTEGER) || lpad(d::VARCHAR, 2, '0') || s AS code
        FROM range(26) AS a(l), range(100) AS b(d), (
            SELECT '' AS s
            UNION ALL SELECT i::VARCHAR FROM range(10) AS t(i)
            UNION ALL SELECT lpad(i::VARCHAR, 2, '0') FROM range(100) AS t(i)
            UNION ALL SELECT lpad(i::VARCHAR, 3, '0') FROM range(1000) AS t(i)
            UNION ALL SELECT lpad(i::VARCHAR, 3, '0') || x FROM range(1000) AS t(i), (VALUES ('A'), ('D'), ('S')) AS v(x)
        ) AS suffixes
    """,
    "icd9cm": """
        WITH categories AS (
            SELECT lpad(c::VARCHAR, 3, '0') AS category, 2 AS more FROM range(1, 1000) AS t(c)
            UNION ALL SELECT 'V' || lpad(c::VARCHAR, 2, '0'), 2 FROM range(1, 92) AS t(c)
            UNION ALL SELECT 'E' || c::VARCHAR, 1 FROM range(800, 1000) AS t(c)
        ),
        suffixes AS (
            SELECT '' AS s, 0 AS digits
            UNION ALL SELECT i::VARCHAR, 1 FROM range(10) AS t(i)
            UNION ALL SELECT lpad(i::VARCHAR, 2, '0'), 2 FROM range(100) AS t(i)
        )
        SELECT category || s AS code FROM categories, suffixes WHERE digits <= more
    """,
}

GENERATE = """
COPY (
    WITH
    source_codes AS (
        SELECT code, row_number() OVER (ORDER BY code) - 1 AS idx
        FROM (SELECT code FROM ({source_candidates}) ORDER BY hash(code, $seed) LIMIT {source_size})
    ),
    target_codes AS (
        SELECT code, row_number() OVER (ORDER BY code) - 1 AS idx
        FROM (SELECT code FROM ({target_candidates}) ORDER BY hash(code, $seed + 1) LIMIT {target_size})
    ),
    slots AS (
        -- a block of NO_MAP_EVERY sources: the no-map one (k = -1), then the others' $g lines each
        SELECT
            i,
            i // $block_lines * {no_map_every}
                + CASE WHEN i % $block_lines = 0 THEN 0 ELSE 1 + (i % $block_lines - 1) // $g END AS s,
            CASE WHEN i % $block_lines = 0 THEN -1 ELSE (i % $block_lines - 1) % $g END AS k
        FROM range($lines) AS t(i)
    ),
    kinds AS (
        SELECT
            i, s, k,
            hash(s, $seed) % 100 AS h,
            least(2 + hash(s, $seed) // 100 % 2, $g) AS lists  -- choice lists per scenario
        FROM slots
    ),
    rows AS (
        SELECT
            i, s, k,
            CASE WHEN k >= 0 THEN (s * {source_step} + k * {target_step} + $seed) % {target_size} END AS t,
            CASE
                WHEN k < 0 THEN '11000'
                WHEN h < {combination_percent} AND $g >= 2 THEN
                    '101' || (1 + k % greatest(1, least(9, $g // lists)))::VARCHAR
                          || (1 + k // greatest(1, least(9, $g // lists)) % lists)::VARCHAR
                WHEN hash(i, $seed) % 100 < {exact_percent} THEN '00000'
                ELSE '10000'
            END AS flags
        FROM kinds
    )
    SELECT rpad(src.code, {source_width}, ' ') || ' ' || rpad(coalesce(tgt.code, 'NoDx'), {target_width}, ' ') || ' ' || flags
    FROM rows
    INNER JOIN source_codes AS src ON src.idx = rows.s
    LEFT JOIN target_codes AS tgt ON tgt.idx = rows.t
    ORDER BY i
) TO '{out}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '')
"""


def lines_per_source(lines: int, sources: int, targets: int) -> int:
    """The fewest lines per mapped source that fit ``lines`` into the source universe."""
    g = max(1, math.ceil(lines / sources))
    while True:
        block_lines = 1 + (NO_MAP_EVERY - 1) * g
        last = (lines - 1) // block_lines * NO_MAP_EVERY + NO_MAP_EVERY - 1
        if last < sources:
            break
        g += 1
    if g > targets:
        raise SystemExit(f"{lines:,} lines would need {g:,} distinct targets per source; at most {targets:,}")
    return g


def generate(out: str | Path, lines: int, seed: int = 1, direction: str = "icd10cm-icd9cm") -> Path:
    """Write ``lines`` GEM lines of ``direction`` to ``out``; return its path."""
    import duckdb

    source, target = direction.split("-")
    g = lines_per_source(lines, UNIVERSE[source], UNIVERSE[target])
    out = Path(out).absolute()
    sql = GENERATE.format(
        source_candidates=CANDIDATES[source],
        target_candidates=CANDIDATES[target],
        source_size=UNIVERSE[source],
        target_size=UNIVERSE[target],
        source_width=WIDTH[source],
        target_width=WIDTH[target],
        no_map_every=NO_MAP_EVERY,
        combination_percent=COMBINATION_PERCENT,
        exact_percent=EXACT_PERCENT,
        source_step=SOURCE_STEP,
        target_step=TARGET_STEP,
        out=str(out).replace("'", "''"),
    )
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(sql, {"seed": seed, "lines": lines, "g": g, "block_lines": 1 + (NO_MAP_EVERY - 1) * g})
    finally:
        con.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the GEM file to write (replaced if it exists)")
    parser.add_argument("--lines", type=int, default=4_500_000, help="lines to write (default 4,500,000)")
    parser.add_argument("--seed", type=int, default=1, help="picks the code universes and the flags (default 1)")
    parser.add_argument("--direction", choices=DIRECTIONS, default=DIRECTIONS[0], help="default icd10cm-icd9cm")
    options = parser.parse_args()
    if options.lines < 1:
        parser.error("--lines must be at least 1")
    started = time.perf_counter()
    path = generate(options.out, options.lines, options.seed, options.direction)
    print(f"{path}: {options.lines:,} lines, {options.direction}, seed {options.seed}, "
          f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
