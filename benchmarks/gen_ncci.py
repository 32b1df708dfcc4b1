"""Write a synthetic NCCI quarter (PTP edits, MUE tables, optional claim lines) in the CMS formats.

Run from the repository root with the project's virtual environment:

    python benchmarks/gen_ncci.py OUTDIR --quarter v322r0 --seed 1 [--ptp-rows 4500000]
        [--mue-rows 30000] [--mue-effective 07-01-2026]
        [--previous DIR_OF_PREVIOUS_QUARTER --churn 0.01] [--claims 1000000]

Nothing it writes is ever committed; it feeds the NCCI loaders' tests and benchmarks.

PTP (procedure-to-procedure) edits: 8 files, practitioner ``ccipra-vNNNrN-f1.txt`` .. ``f4.txt``
and outpatient hospital ``ccioph-vNNNrN-f1.txt`` .. ``f4.txt``, half of ``--ptp-rows`` each,
split into the four files by column-1 code range (a column-1 code never spans two files).
Each file is the layout of the real ``ccipra-v322r0-f1.TXT`` (see ../shared/data/PROVENANCE.md):

- the same 6 header lines, byte for byte: taken from the real excerpt at run time when
  ../shared/data is present, else the constant ``PTP_HEADER`` below (the same bytes). The only
  AMA text is the one notice line the real file has;
- then tab-delimited, CRLF rows of 7 fields, sorted by column 1, column 2, effective date:
  column-1 code, column-2 code, prior-1996 flag ('' or '*', '*' only with effective date
  19960101), effective date YYYYMMDD (a quarter's first day), deletion date YYYYMMDD (a
  quarter's last day) or '*', modifier indicator 0/1/9, rationale (one of the four texts of
  the real excerpt);
- about 76% active ('*'), 18% deleted in the past, 5.5% indicator 9 with deletion date =
  effective date, 0.5% deleted on a date at or after the quarter's start ("future"), and one
  pair in 400 deleted and added again a quarter later (same column 1 and 2, a new effective
  date), as the cumulative CMS files have. No (column 1, column 2, effective date) repeats
  within a file.
- Codes: a seeded universe of about 18,800 codes (10,000 CPT-like 5-digit numeric, 7,500
  HCPCS-like letter + 4 digits, 700 Category III nnnnT, 500 PLA nnnnU, a few nnnnA and nnnnM
  as the real excerpt has); 12,000 of them are column-1 codes, each with a heavy-tailed
  number of column-2 codes. Practitioner and hospital files share most pairs and their
  attributes, as the real ones do.

The rows come from one DuckDB ``COPY ... TO`` per file over a range of row slots (no Python
per row): a slot maps to (column-1 code, k) by an ASOF join on the code's first slot, and
the k-th column-2 code is ``(base + k * step) % universe`` with a step coprime with the
universe's size, so pairs are distinct by construction.

``--previous DIR``: the next quarter from a previous one written by this script (or any
files in the CMS layout): every previous row is kept; ``--churn`` of each file's active edits
get a deletion date (the day before the new quarter starts); ``churn / 2`` of the remaining
active edits with indicator 0 or 1 flip it; ``churn`` x active new edits (effective the new
quarter's first day) are added for column-1 codes of the same file. The version in the file
names is ``--quarter``'s (v322r0 -> v323r0, then v330r0: NNN is the 2-digit NCCI year
(year - 1994) followed by the quarter 0-3).

MUE: ``MCR_MUE_PractitionerServices_Eff_MM-DD-YYYY.csv``,
``MCR_MUE_OutpatientHospitalServices_Eff_...csv``, ``MCR_MUE_DMESupplierServices_Eff_...csv``
(47% / 43% / 10% of ``--mue-rows``; DME only from DME-like HCPCS codes A, E, K, L), in the
layout of the real practitioner excerpt: Latin-1, CRLF records, record 1 the quoted
multi-line AMA notice followed by ',,,' (bare LF inside, 'CPT' + 0xAE), record 2 the header
whose first field wraps ("HCPCS/<LF>CPT Code"), the second column titled per table; then
code, MUE value, adjudication indicator text, rationale.

Claims (``--claims N``): ``claims.parquet``, N claim lines of about N / 4.5 claims (3 to 6
lines each) with the claim-line columns of docs/ARCHITECTURE.md. Procedure codes come from
pairs sampled from the PTP files just written (line 1 the column-1 code, line 2 often its
column-2 code, so edits fire) and from the MUE tables. Dates of service fall in the quarter,
except one claim in 50 dated a month before it (no MUE release covers it); one claim in 20 is
a split claim sharing its twin's member, provider, date and first code (MUE sums across
claims). Surrogate ids only; no PHI.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import math
import re
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
REAL_PTP = SHARED_DATA / "ncci" / "ccipra-v322r0-f1.excerpt.txt"
REAL_MUE = SHARED_DATA / "mue" / "MCR_MUE_PractitionerServices_Eff_07-01-2026.excerpt.csv"

# The first 6 lines of ccipra-v322r0-f1 (CRLF), as read from the real file; used when it is absent.
PTP_HEADER = (
    b"CPT only copyright 2025 American Medical Association.  All rights reserved.\t\t\t\t\t\t\r\n"
    b"Column1/Column2 Edits\t\t\t\t\t\t\r\n"
    b"Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale\r\n"
    b"\t\tprior to 1996\tDate\tDate\t0=not allowed\t\r\n"
    b"\t\t\t\t*=no data\t1=allowed\t\r\n"
    b"\t\t\t\t\t9=not applicable\t\r\n"
)
# Record 1 of an MUE table when the real one is absent: a placeholder of the same shape as the
# AMA notice (one quoted field over several lines, bare LF and blank lines inside, a Latin-1
# 0xAE after "CPT", then ",,,"), in our own words: the notice's text belongs to its owner.
MUE_NOTICE = (
    b'"Placeholder for the CPT copyright notice of the published table. \n\nCPT\xae notice line. '
    b'\n\nThird line of the notice. \n\nFourth line of the notice, longer than the others, as in the '
    b'published file.",,,\r\n'
)
MUE_HEADER = b'"HCPCS/\nCPT Code",{title},MUE Adjudication Indicator,MUE Rationale\r\n'
MUE_TABLES = {  # file name part, second column's title, share of --mue-rows
    "practitioner": ("PractitionerServices", "Practitioner Services MUE Values", 0.47),
    "outpatient_hospital": ("OutpatientHospitalServices", "Outpatient Hospital Services MUE Values", 0.43),
    "dme": ("DMESupplierServices", "DME Supplier Services MUE Values", 0.10),
}
MAI = ("1 Line Edit", "2 Date of Service Edit: Policy", "3 Date of Service Edit: Clinical")
# MUE rationales: the four of the real excerpt, then four more of the CMS MUE tables' vocabulary.
MUE_RATIONALES = (
    "Code Descriptor / CPT Instruction", "Nature of Analyte", "Nature of Service/Procedure",
    "Clinical: CMS Workgroup", "Anatomic Consideration", "Clinical: Data", "CMS Policy", "Nature of Equipment",
)
# PTP rationales: the texts of the real excerpt, with their weights (percent).
PTP_RATIONALES = (
    ("CPT Manual or CMS manual coding instruction", 40),
    ("Misuse of Column Two code with Column One code", 30),
    ("Mutually exclusive procedures", 15),
    ("Standards of medical/surgical practice", 15),
)
SETTINGS = {"ccipra": "practitioner", "ccioph": "outpatient_hospital"}
FILES_PER_SETTING = 4
COL1_CODES = 12_000
STEP = 7_919  # prime, coprime with the universe's size (checked)
READD_EVERY = 200  # one odd slot in 200 re-adds the pair of the slot before it
FIRST_QUARTER = 1996 * 4  # quarter index of 1996-01-01

# Candidate codes, sampled down by a seeded hash: (kind, how many, candidate SQL).
UNIVERSE = (
    ("cpt", 10_000, "SELECT lpad(n::VARCHAR, 5, '0') AS code FROM range(100, 99_608) AS t(n)"),
    ("hcpcs_dme", 3_500, "SELECT l || lpad(n::VARCHAR, 4, '0') FROM (VALUES ('A'), ('E'), ('K'), ('L')) AS v(l), "
                         "range(0, 10_000) AS t(n)"),
    ("hcpcs", 4_000, "SELECT l || lpad(n::VARCHAR, 4, '0') FROM (VALUES ('B'), ('C'), ('G'), ('H'), ('J'), ('M'), "
                     "('P'), ('Q'), ('R'), ('S'), ('T'), ('V')) AS v(l), range(0, 10_000) AS t(n)"),
    ("cat3", 700, "SELECT lpad(n::VARCHAR, 4, '0') || 'T' FROM range(1, 1_000) AS t(n)"),
    ("pla", 500, "SELECT lpad(n::VARCHAR, 4, '0') || 'U' FROM range(1, 600) AS t(n)"),
    ("vaccine_admin", 60, "SELECT lpad(n::VARCHAR, 4, '0') || 'A' FROM range(1, 160) AS t(n)"),
    ("maaa", 15, "SELECT lpad(n::VARCHAR, 4, '0') || 'M' FROM range(1, 25) AS t(n)"),
)

QUARTER_SQL = """
CREATE MACRO q_start(q) AS make_date((q // 4)::BIGINT, (q % 4 * 3 + 1)::BIGINT, 1);
CREATE MACRO q_end(q) AS make_date(((q + 1) // 4)::BIGINT, ((q + 1) % 4 * 3 + 1)::BIGINT, 1) - INTERVAL 1 DAY;
CREATE MACRO ymd(d) AS strftime(d, '%Y%m%d');
"""

# One setting's rows for the row slots [lo, hi): the file's rows, sorted, after the header lines.
PTP_ROWS = """
COPY (
    WITH
    slots AS (
        SELECT c.i, c.code AS col1, c.code_idx, c.base, c.cnt, r.slot - c.start AS k
        FROM range($lo, $hi) AS r(slot) ASOF JOIN col1_{setting} AS c ON r.slot >= c.start
    ),
    flagged AS (
        SELECT *,
            k % 2 = 1 AND hash(i, k, $seed, 'readd') % {readd_every} = 0 AS readd,
            k % 2 = 0 AND hash(i, k + 1, $seed, 'readd') % {readd_every} = 0 AS origin
        FROM slots
    ),
    hashed AS (
        SELECT *, k - readd::INTEGER AS q, hash(i, k - readd::INTEGER, $seed) AS h FROM flagged
    ),
    drawn AS (
        SELECT *,
            CASE
                WHEN origin OR readd THEN 'deleted'
                WHEN h % 1000 < 760 THEN 'active'
                WHEN h % 1000 < 940 THEN 'deleted'
                WHEN h % 1000 < 995 THEN 'ind9'
                ELSE 'future'
            END AS status,
            CASE WHEN h // 1_000 % 100 < 8 THEN {first_quarter}
                 ELSE $qidx - floor(($qidx - {first_quarter}) * pow(h // 100_000 % 1_000_000 / 1e6, 2))::BIGINT
            END AS eq,
            h // 100_000_000_000 % 1000 AS u_del,
            h // 100_000_000_000_000 % 100 AS u_rat,
            hash(i, k, $seed, 'ind') % 100 AS u_ind
        FROM hashed
    ),
    dated AS (
        SELECT *,
            -- a deleted edit needs a quarter before this one; d is its deletion quarter
            CASE WHEN status = 'deleted' THEN least(eq, $qidx - 1) ELSE eq END AS eq2,
            least(eq, $qidx - 1) + floor(($qidx - least(eq, $qidx - 1)) * u_del / 1000)::BIGINT AS d
        FROM drawn
    ),
    ptp AS (
        SELECT
            col1,
            CASE WHEN readd THEN q_start(d + 1) ELSE q_start(eq2) END AS eff,
            CASE
                WHEN readd OR status = 'active' THEN NULL
                WHEN status = 'deleted' THEN q_end(d)
                WHEN status = 'ind9' THEN q_start(eq2)
                WHEN eq2 < $qidx AND u_del % 2 = 0 THEN q_end($qidx - 1)
                ELSE q_end($qidx)
            END AS del,
            CASE WHEN status = 'ind9' AND NOT readd THEN 9 WHEN u_ind < 18 THEN 0 ELSE 1 END AS ind,
            CASE {rationale_case} END AS rationale,
            CASE WHEN (base + q * {step}) % {universe} = code_idx THEN (base + cnt * {step}) % {universe}
                 ELSE (base + q * {step}) % {universe} END AS j
        FROM dated
    ),
    lines AS (
        SELECT 1 AS part, p.col1, u.code AS col2, p.eff,
            p.col1 || chr(9) || u.code || chr(9) || CASE WHEN p.eff = DATE '1996-01-01' THEN '*' ELSE '' END
                || chr(9) || ymd(p.eff) || chr(9) || coalesce(ymd(p.del), '*') || chr(9) || p.ind::VARCHAR
                || chr(9) || p.rationale || chr(13) AS line
        FROM ptp AS p JOIN universe AS u ON u.idx = p.j
        UNION ALL
        SELECT 0, ord, NULL, NULL, line FROM header
    )
    SELECT line FROM lines ORDER BY part, col1, col2, eff
) TO '{out}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')
"""

PREVIOUS_READ = """
read_csv({path}, delim = '\t', skip = 6, header = false, quote = '', escape = '', auto_detect = false,
         new_line = '\\r\\n', columns = {{'col1': 'VARCHAR', 'col2': 'VARCHAR', 'prior': 'VARCHAR',
         'eff': 'VARCHAR', 'del': 'VARCHAR', 'ind': 'VARCHAR', 'rationale': 'VARCHAR'}})
"""

# The next quarter of one previous file: its rows kept, some deleted, some re-indicated, new ones added.
PTP_NEXT = """
COPY (
    WITH
    prev AS (SELECT * FROM {read}),
    ranked AS (
        SELECT *,
            del = '*' AND ind <> '9' AS active,
            row_number() OVER (PARTITION BY del = '*' AND ind <> '9'
                               ORDER BY hash(col1, col2, eff, $seed, 'churn'), col1, col2, eff) AS rk,
            floor(count(*) OVER (PARTITION BY del = '*' AND ind <> '9') * $churn)::BIGINT AS deleting
        FROM prev
    ),
    n AS (SELECT count(*) FILTER (WHERE del = '*' AND ind <> '9') AS active_rows FROM prev),
    kept AS (
        SELECT col1, col2, coalesce(prior, '') AS prior, eff,
            CASE WHEN active AND rk <= deleting
                 THEN CASE WHEN eff <= ymd(q_end($qidx - 1)) THEN ymd(q_end($qidx - 1)) ELSE ymd(q_end($qidx)) END
                 ELSE del END AS del,
            CASE WHEN active AND rk > deleting AND ind IN ('0', '1')
                      AND hash(col1, col2, eff, $seed, 'reindicate') % 1_000_000 < $churn * 500_000
                 THEN CASE ind WHEN '0' THEN '1' ELSE '0' END
                 ELSE ind END AS ind,
            rationale
        FROM ranked
    ),
    col1s AS (SELECT col1, row_number() OVER (ORDER BY col1) - 1 AS c FROM (SELECT DISTINCT col1 FROM prev)),
    wanted AS (
        SELECT CASE WHEN $churn > 0 THEN greatest(1, round(active_rows * $churn))::BIGINT ELSE 0 END AS m FROM n
    ),
    keys AS (
        SELECT n, (hash(n, $seed, 'new1') % (SELECT count(*) FROM col1s))::BIGINT AS c,
            (hash(n, $seed, 'new2') % {universe})::BIGINT AS idx
        FROM (SELECT unnest(range(m * 2 + 10)) AS n FROM wanted)
    ),
    candidates AS (
        SELECT k.n, c.col1, u.code AS col2
        FROM keys AS k JOIN col1s AS c ON c.c = k.c JOIN universe AS u ON u.idx = k.idx
        WHERE u.code <> c.col1
    ),
    fresh AS (
        SELECT col1, col2, min(n) AS n FROM candidates ANTI JOIN prev USING (col1, col2)
        GROUP BY col1, col2
        ORDER BY n LIMIT (SELECT m FROM wanted)
    ),
    added AS (
        SELECT col1, col2, '' AS prior, ymd(q_start($qidx)) AS eff,
            CASE WHEN hash(n, $seed, 'i9') % 100 < 5 THEN ymd(q_start($qidx)) ELSE '*' END AS del,
            CASE WHEN hash(n, $seed, 'i9') % 100 < 5 THEN '9'
                 WHEN hash(n, $seed, 'ind') % 100 < 18 THEN '0' ELSE '1' END AS ind,
            CASE {rationale_case_new} END AS rationale
        FROM fresh
    ),
    rows AS (SELECT * FROM kept UNION ALL SELECT * FROM added),
    lines AS (
        SELECT 1 AS part, col1, col2, eff,
            concat_ws(chr(9), col1, col2, prior, eff, del, ind, rationale) || chr(13) AS line
        FROM rows
        UNION ALL
        SELECT 0, ord, NULL, NULL, line FROM header
    )
    SELECT line FROM lines ORDER BY part, col1, col2, eff
) TO '{out}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')
"""

MUE_ROWS = """
SELECT coalesce(string_agg(code || ',' || value::VARCHAR || ',' || mai || ',' || rationale, chr(13) || chr(10)
                           ORDER BY code) || chr(13) || chr(10), '')
FROM (
    SELECT code,
        CASE WHEN u % 100 < 55 THEN 1 WHEN u % 100 < 75 THEN 2 WHEN u % 100 < 85 THEN 3
             WHEN u % 100 < 92 THEN 4 + u // 100 % 3 WHEN u % 100 < 98 THEN 10 * (1 + u // 100 % 5)
             ELSE 99 + u // 100 % 2 * 900 END AS value,
        CASE WHEN u // 1000 % 100 < 25 THEN '{mai1}' WHEN u // 1000 % 100 < 60 THEN '{mai2}' ELSE '{mai3}' END AS mai,
        CASE WHEN {dme} THEN CASE WHEN u // 100_000 % 3 = 0 THEN 'Code Descriptor / CPT Instruction'
                                  ELSE 'Nature of Equipment' END
             WHEN u // 1000 % 100 < 25 THEN CASE u // 100_000 % 3 WHEN 0 THEN 'Anatomic Consideration'
                                                  WHEN 1 THEN 'Clinical: Data' ELSE 'Nature of Service/Procedure' END
             WHEN u // 1000 % 100 < 60 THEN CASE WHEN u // 100_000 % 5 = 0 THEN 'CMS Policy'
                                                  ELSE 'Code Descriptor / CPT Instruction' END
             ELSE CASE u // 100_000 % 4 WHEN 0 THEN 'Nature of Analyte' WHEN 1 THEN 'Clinical: CMS Workgroup'
                                        ELSE 'Nature of Service/Procedure' END
        END AS rationale
    FROM (
        SELECT code, hash(code, $seed, '{table}', 'values') AS u FROM universe
        WHERE {where}
        ORDER BY hash(code, $seed, '{table}'), code LIMIT $rows
    )
)
"""

CLAIMS = """
COPY (
    WITH
    lines AS (
        SELECT i,
            i // 9 AS b,
            i % 9 AS pos,
            3 + hash(i // 9, $seed, 'split') % 4 AS first_len
        FROM range($n) AS t(i)
    ),
    numbered AS (
        SELECT i,
            2 * b + (pos >= first_len)::BIGINT AS claim,
            CASE WHEN pos >= first_len THEN pos - first_len + 1 ELSE pos + 1 END AS line_number
        FROM lines
    ),
    twinned AS (
        -- one claim in 20 is billed again by the same provider for the same member and day (a split
        -- claim): it shares its twin's setting, first code, date, member and provider, so MAI 2 and 3
        -- sums cross claims
        SELECT *, CASE WHEN claim % 20 = 1 THEN claim - 1 ELSE claim END AS twin FROM numbered
    ),
    per_claim AS (
        SELECT *,
            hash(twin, $seed, 'setting') % 100 AS u_setting,
            hash(twin, $seed, 'anchor') AS anchor,
            hash(i, $seed, 'line') AS u
        FROM twinned
    ),
    with_setting AS (
        SELECT p.*,
            CASE WHEN u_setting < 60 THEN 'practitioner' WHEN u_setting < 90 THEN 'outpatient_hospital' ELSE 'dme' END
                AS setting
        FROM per_claim AS p
    ),
    coded AS (
        SELECT s.*, (s.anchor % n.pairs)::BIGINT AS anchor_n, (s.u // 7 % n.pairs)::BIGINT AS other_n,
            (s.u // 13 % n.codes)::BIGINT AS code_n
        FROM with_setting AS s JOIN claim_counts AS n USING (setting)
    ),
    picked AS (
        SELECT c.*,
            CASE
                WHEN line_number = 1 THEN 'col1'
                WHEN line_number = 2 AND u % 100 < 70 THEN 'col2'
                WHEN u % 100 < 45 THEN 'other_pair'
                ELSE 'mue'
            END AS source
        FROM coded AS c
    )
    SELECT
        'C' || lpad(claim::VARCHAR, 10, '0') AS claim_id,
        line_number::INTEGER AS line_number,
        -- dates of service in the quarter; one claim in 50 a month before it (no MUE release there);
        -- a line in 33 a day later than its claim's other lines
        (DATE '{start}' + (hash(twin, $seed, 'dos') % $days)::INTEGER
            - CASE WHEN hash(twin, $seed, 'early') % 50 = 0 THEN 31 ELSE 0 END
            + CASE WHEN u // 10 % 100 < 3 AND line_number > 1 THEN 1 ELSE 0 END)::DATE AS date_of_service,
        CASE source
            WHEN 'col1' THEN pa.col1
            WHEN 'col2' THEN pa.col2
            WHEN 'other_pair' THEN CASE WHEN u // 1000 % 2 = 0 THEN po.col1 ELSE po.col2 END
            ELSE m.code
        END AS procedure_code,
        CASE WHEN u // 100_000 % 100 < 85 THEN NULL
             ELSE ['59', 'XS', 'LT', 'RT', '25', '59', 'XU', '76'][(1 + u // 10_000_000 % 8)::BIGINT] END AS modifier_1,
        CASE WHEN u // 100_000 % 100 < 98 THEN NULL
             ELSE ['LT', 'RT', '59', 'XS'][(1 + u // 1_000_000_000 % 4)::BIGINT] END AS modifier_2,
        CASE WHEN u // 100_000 % 1000 = 999 THEN 'XU' END AS modifier_3,
        NULL::VARCHAR AS modifier_4,
        (CASE WHEN u // 100_000_000_000 % 100 < 85 THEN 1 WHEN u // 100_000_000_000 % 100 < 95 THEN 2
              WHEN u // 100_000_000_000 % 100 < 99 THEN 3 + u // 10_000_000_000_000 % 3
              ELSE 10 + u // 10_000_000_000_000 % 21 END)::INTEGER AS units,
        p.setting,
        'M' || lpad((hash(twin, $seed, 'member') % $members)::VARCHAR, 8, '0') AS member_id,
        'P' || lpad((hash(twin, $seed, 'provider') % 5000)::VARCHAR, 6, '0') AS provider_id,
        'PAYER' || (1 + hash(claim, $seed, 'payer') % 5)::VARCHAR AS payer_id,
        array_to_string(list_slice(
            ['I10', 'E119', 'Z0000', 'Z23', 'J069', 'R0789', 'M5450', 'E785', 'K219', 'N390', 'F419',
             'R519', 'Z1231', 'M25561', 'S6290XA', 'R69'],
            (1 + hash(claim, $seed, 'dx') % 14)::BIGINT,
            (1 + hash(claim, $seed, 'dx') % 14 + hash(claim, $seed, 'ndx') % 3)::BIGINT),
            '|') AS diagnosis_codes
    FROM picked AS p
    LEFT JOIN claim_pairs AS pa ON pa.setting = p.setting AND pa.n = p.anchor_n
    LEFT JOIN claim_pairs AS po ON po.setting = p.setting AND po.n = p.other_n
    LEFT JOIN claim_codes AS m ON m.setting = p.setting AND m.n = p.code_n
    ORDER BY p.i
) TO '{out}' (FORMAT parquet)
"""


def parse_quarter(quarter: str) -> tuple[int, int, str]:
    """'v322r0' -> (year 2026, quarter 3, 'v322r0'): NNN is the NCCI year (year - 1994) and quarter 0-3."""
    match = re.fullmatch(r"v(\d{2})([0-3])r(\d+)", quarter)
    if not match:
        raise SystemExit(f"--quarter {quarter!r}: expected vNNNrN such as v322r0 (NN = year - 1994, N = quarter 0-3)")
    return 1994 + int(match.group(1)), int(match.group(2)) + 1, quarter


def ptp_header() -> bytes:
    """The 6 header lines of a PTP file: from the real excerpt when present, else the constant."""
    if REAL_PTP.is_file():
        lines = REAL_PTP.read_bytes().split(b"\r\n")[:6]
        return b"".join(line + b"\r\n" for line in lines)
    return PTP_HEADER


def mue_notice() -> bytes:
    """Record 1 of an MUE table (the AMA notice): from the real excerpt when present, else the constant."""
    if REAL_MUE.is_file():
        data = REAL_MUE.read_bytes()
        return data[: data.index(b",,,\r\n") + 5]
    return MUE_NOTICE


def rationale_case(column: str) -> str:
    """A CASE body picking a PTP rationale by ``column`` (0-99) with the weights of PTP_RATIONALES."""
    parts, bound = [], 0
    for text, weight in PTP_RATIONALES:
        bound += weight
        parts.append(f"WHEN {column} < {bound} THEN '{text}'")
    return " ".join(parts)


def build_universe(con, seed: int) -> int:
    """Create the table ``universe(idx, code, kind)``, sorted by code; return its size."""
    parts = [
        f"(SELECT code, '{kind}' AS kind FROM ({sql}) AS c(code) ORDER BY hash(code, $seed), code LIMIT {size})"
        for kind, size, sql in UNIVERSE
    ]
    con.execute(
        "CREATE TABLE universe AS SELECT row_number() OVER (ORDER BY code) - 1 AS idx, code, kind FROM ("
        + " UNION ALL ".join(parts) + ")",
        {"seed": seed},
    )
    size = con.execute("SELECT count(*) FROM universe").fetchone()[0]
    if math.gcd(size, STEP) != 1:
        raise SystemExit(f"universe size {size} shares a factor with the step {STEP}")
    return size


def build_col1(con, seed: int, rows_per_setting: dict[str, int], universe: int) -> None:
    """Create ``col1_<setting>(i, code, code_idx, base, cnt, start)``: column-1 codes with rows, per setting.

    Each of the COL1_CODES column-1 codes gets a heavy-tailed weight 1 / (0.05 + u); its first
    slot is the running share of the weights, so the counts add up to the setting's rows exactly.
    Practitioner and hospital weights differ a little (a second hash for 30% of the weight).
    """
    con.execute(
        """
        CREATE TABLE col1 AS
        SELECT row_number() OVER (ORDER BY code) - 1 AS i, code, idx AS code_idx,
            hash(code, $seed, 'base') % $universe AS base,
            1.0 / (0.05 + hash(code, $seed, 'weight') % 1_000_000 / 1e6) AS w_common,
            1.0 / (0.05 + hash(code, $seed, 'weight2') % 1_000_000 / 1e6) AS w_other
        FROM (SELECT * FROM universe ORDER BY hash(code, $seed, 'col1'), code LIMIT $n)
        """,
        {"seed": seed, "universe": universe, "n": COL1_CODES},
    )
    for prefix, setting in SETTINGS.items():
        mix = "0.7 * w_common + 0.3 * w_other" if prefix == "ccioph" else "w_common"
        con.execute(
            f"""
            CREATE TABLE col1_{prefix} AS
            WITH w AS (
                SELECT *, {mix} AS w FROM col1
            ), cum AS (
                SELECT *, sum(w) OVER (ORDER BY i ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before,
                    sum(w) OVER () AS total
                FROM w
            ), starts AS (
                SELECT i, code, code_idx, base,
                    floor($rows * coalesce(before, 0) / total)::BIGINT AS start,
                    floor($rows * (coalesce(before, 0) + w) / total)::BIGINT AS stop
                FROM cum
            )
            SELECT i, code, code_idx, base, start, stop - start AS cnt FROM starts WHERE stop > start ORDER BY i
            """,
            {"rows": rows_per_setting[prefix]},
        )
        biggest = con.execute(f"SELECT coalesce(max(cnt), 0) FROM col1_{prefix}").fetchone()[0]
        if biggest >= universe:
            raise SystemExit(f"too many PTP rows: a column-1 code would need {biggest:,} column-2 codes "
                             f"of a universe of {universe:,}")


def file_ranges(con, prefix: str, rows: int) -> list[tuple[int, int]]:
    """Slot ranges of the four files of a setting: whole column-1 codes, about equal rows."""
    starts = [r[0] for r in con.execute(f"SELECT start FROM col1_{prefix} ORDER BY i").fetchall()]
    bounds = [0]
    for f in range(1, FILES_PER_SETTING):
        target = rows * f // FILES_PER_SETTING
        # the first column-1 code starting at or after the target opens file f + 1
        nxt = next((s for s in starts if s >= target), rows)
        bounds.append(max(nxt, bounds[-1]))
    bounds.append(rows)
    return list(zip(bounds[:-1], bounds[1:]))


def sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def previous_file(previous: Path, prefix: str, f: int) -> Path:
    found = sorted(glob.glob(str(previous / f"{prefix}-v*-f{f}.txt"))) + sorted(
        glob.glob(str(previous / f"{prefix}-v*-f{f}.TXT")))
    if len(found) != 1:
        raise SystemExit(f"--previous {previous}: expected one {prefix}-vNNNrN-f{f}.txt, found {len(found)}")
    return Path(found[0])


def generate(
    outdir: str | Path,
    quarter: str = "v322r0",
    seed: int = 1,
    ptp_rows: int = 4_500_000,
    mue_rows: int = 30_000,
    mue_effective: str | None = None,
    previous: str | Path | None = None,
    churn: float = 0.01,
    claims: int = 0,
) -> list[tuple[Path, int, float]]:
    """Write the quarter's files into ``outdir``; return (path, data rows, seconds) per file."""
    import duckdb

    year, qnum, version = parse_quarter(quarter)
    qidx = year * 4 + qnum - 1
    start = dt.date(year, 3 * qnum - 2, 1)
    if mue_effective is None:
        mue_effective = start.strftime("%m-%d-%Y")
    elif not re.fullmatch(r"\d{2}-\d{2}-\d{4}", mue_effective):
        raise SystemExit(f"--mue-effective {mue_effective!r}: expected MM-DD-YYYY such as 07-01-2026")
    if not 0 <= churn <= 1:
        raise SystemExit("--churn must be between 0 and 1")
    out = Path(outdir).absolute()
    out.mkdir(parents=True, exist_ok=True)
    written: list[tuple[Path, int, float]] = []

    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(QUARTER_SQL)
        universe = build_universe(con, seed)
        header = [line.decode("ascii") for line in ptp_header().split(b"\n")[:-1]]
        con.execute("CREATE TABLE header AS SELECT unnest(?) AS line, unnest(?) AS ord",
                    [header, list(range(len(header)))])
        params = {"seed": seed, "qidx": qidx}

        if previous is None:
            per_setting = {"ccipra": ptp_rows - ptp_rows // 2, "ccioph": ptp_rows // 2}
            build_col1(con, seed, per_setting, universe)
            for prefix in SETTINGS:
                for f, (lo, hi) in enumerate(file_ranges(con, prefix, per_setting[prefix]), start=1):
                    t0 = time.perf_counter()
                    path = out / f"{prefix}-{version}-f{f}.txt"
                    copied = con.execute(
                        PTP_ROWS.format(setting=prefix, readd_every=READD_EVERY, first_quarter=FIRST_QUARTER,
                                        step=STEP, universe=universe, rationale_case=rationale_case("u_rat"),
                                        out=str(path).replace("'", "''")),
                        {**params, "lo": lo, "hi": hi},
                    ).fetchone()[0]
                    written.append((path, copied - len(header), time.perf_counter() - t0))
        else:
            prev_dir = Path(previous)
            for prefix in SETTINGS:
                for f in range(1, FILES_PER_SETTING + 1):
                    t0 = time.perf_counter()
                    source = previous_file(prev_dir, prefix, f)
                    path = out / f"{prefix}-{version}-f{f}.txt"
                    if path.resolve() == source.resolve():
                        raise SystemExit(f"--previous {prev_dir}: would overwrite {source}; give a new --quarter")
                    copied = con.execute(
                        PTP_NEXT.format(read=PREVIOUS_READ.format(path=sql_path(source)), universe=universe,
                                        rationale_case_new=rationale_case("hash(n, $seed, 'rat') % 100"),
                                        out=str(path).replace("'", "''")),
                        {**params, "churn": churn},
                    ).fetchone()[0]
                    written.append((path, copied - len(header), time.perf_counter() - t0))

        for table, (name, title, share) in MUE_TABLES.items():
            t0 = time.perf_counter()
            rows = round(mue_rows * share)
            where = ("kind = 'hcpcs_dme'" if table == "dme"
                     else "kind <> 'hcpcs_dme' OR hash(code, $seed, 'mue') % 3 = 0")
            body = con.execute(
                MUE_ROWS.format(mai1=MAI[0], mai2=MAI[1], mai3=MAI[2], dme="true" if table == "dme" else "false",
                                table=table, where=where),
                {"seed": seed, "rows": rows},
            ).fetchone()[0]
            path = out / f"MCR_MUE_{name}_Eff_{mue_effective}.csv"
            path.write_bytes(mue_notice() + MUE_HEADER.replace(b"{title}", title.encode("latin-1"))
                             + body.encode("latin-1"))
            written.append((path, body.count("\r\n"), time.perf_counter() - t0))

        if claims > 0:
            t0 = time.perf_counter()
            ptp_files = ", ".join(sql_path(p) for p, _, _ in written if p.suffix == ".txt")
            con.execute(
                f"""
                CREATE TABLE claim_pairs AS
                SELECT setting, col1, col2, row_number() OVER (PARTITION BY setting ORDER BY col1, col2, eff) - 1 AS n
                FROM (
                    SELECT CASE WHEN filename LIKE '%ccioph-%' THEN 'outpatient_hospital' ELSE 'practitioner' END
                               AS setting, col1, col2, eff
                    FROM read_csv([{ptp_files}], delim = '\t', skip = 6, header = false, quote = '', escape = '',
                                  auto_detect = false, new_line = '\\r\\n', filename = true,
                                  columns = {{'col1': 'VARCHAR', 'col2': 'VARCHAR', 'prior': 'VARCHAR',
                                             'eff': 'VARCHAR', 'del': 'VARCHAR', 'ind': 'VARCHAR',
                                             'rationale': 'VARCHAR'}})
                    WHERE del = '*' AND hash(col1, col2, eff, $seed, 'claims') % 20 = 0
                )
                """,
                {"seed": seed},
            )
            mue_files = {table: out / f"MCR_MUE_{name}_Eff_{mue_effective}.csv"
                         for table, (name, _, _) in MUE_TABLES.items()}
            # with new_line = '\r\n', skip counts CRLF records: the notice and the header are 2
            con.execute(
                "CREATE TABLE claim_codes AS SELECT setting, code, row_number() OVER (PARTITION BY setting "
                "ORDER BY code) - 1 AS n FROM ("
                + " UNION ALL ".join(
                    f"SELECT '{table}' AS setting, code FROM read_csv({sql_path(path)}, skip = 2, "
                    "header = false, encoding = 'latin-1', auto_detect = false, new_line = '\\r\\n', "
                    "columns = {'code': 'VARCHAR', 'value': 'VARCHAR', "
                    "'mai': 'VARCHAR', 'rationale': 'VARCHAR'})"
                    for table, path in mue_files.items()
                ) + ")"
            )
            # DME claims take every line from the DME table
            con.execute("INSERT INTO claim_pairs SELECT 'dme', code, code, n FROM claim_codes WHERE setting = 'dme'")
            con.execute(
                "CREATE TABLE claim_counts AS SELECT setting, "
                "(SELECT count(*) FROM claim_pairs AS p WHERE p.setting = s.setting) AS pairs, "
                "(SELECT count(*) FROM claim_codes AS c WHERE c.setting = s.setting) AS codes "
                "FROM (VALUES ('practitioner'), ('outpatient_hospital'), ('dme')) AS s(setting)"
            )
            empty = con.execute("SELECT setting FROM claim_counts WHERE pairs = 0 OR codes = 0").fetchall()
            if empty:
                raise SystemExit(f"--claims: no PTP pairs or MUE codes to draw from for {empty[0][0]}; "
                                 "raise --ptp-rows or --mue-rows")
            days = (dt.date(year + (qnum == 4), (3 * qnum) % 12 + 1, 1) - start).days
            path = out / "claims.parquet"
            con.execute(
                CLAIMS.format(start=start.isoformat(), out=str(path).replace("'", "''")),
                {"seed": seed, "n": claims, "days": days, "members": max(1, claims // 20)},
            )
            written.append((path, claims, time.perf_counter() - t0))
    finally:
        con.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", help="folder to write into (created; files of the same names are replaced)")
    parser.add_argument("--quarter", default="v322r0", help="NCCI version in the file names, vNNNrN (default v322r0 "
                        "= 2026 Q3: NN = year - 1994, N = quarter 0-3)")
    parser.add_argument("--seed", type=int, default=1, help="picks codes, pairs and attributes (default 1)")
    parser.add_argument("--ptp-rows", type=int, default=4_500_000,
                        help="PTP rows over the 8 files (default 4,500,000; ignored with --previous)")
    parser.add_argument("--mue-rows", type=int, default=30_000, help="MUE rows over the 3 tables (default 30,000)")
    parser.add_argument("--mue-effective", help="MM-DD-YYYY in the MUE file names (default: the quarter's first day)")
    parser.add_argument("--previous", help="folder of the previous quarter's PTP files: keep, churn, add")
    parser.add_argument("--churn", type=float, default=0.01, help="with --previous: share of active edits deleted, "
                        "and of new edits added (default 0.01)")
    parser.add_argument("--claims", type=int, default=0, help="claim lines to write to claims.parquet (default none)")
    options = parser.parse_args()
    if options.ptp_rows < FILES_PER_SETTING * 2:
        parser.error("--ptp-rows must be at least 8")
    if options.mue_rows < 0 or options.claims < 0:
        parser.error("--mue-rows and --claims must not be negative")
    started = time.perf_counter()
    written = generate(options.outdir, options.quarter, options.seed, options.ptp_rows, options.mue_rows,
                       options.mue_effective, options.previous, options.churn, options.claims)
    for path, rows, seconds in written:
        print(f"{path}: {rows:,} rows, {path.stat().st_size:,} bytes, {seconds:.1f} s")
    total = sum(rows for path, rows, _ in written if path.suffix == ".txt")
    print(f"{options.quarter} seed {options.seed}: {total:,} PTP rows in 8 files, "
          f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
