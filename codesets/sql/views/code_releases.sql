-- code_releases: which release of each code-set source answers for which dates, and which of its parts answers.
-- Grain: one row per (source, release_id, part) whose rows answer for the release.
-- Key: source, release_id, part (a data test checks that no two rows share it)
-- Sources: release_parts. A code-set release is a whole list: the next release of the same source
--   replaces it from its own first date, whichever files (parts) it came in, so windows are per
--   source, not per part. The parts order, tabular and codes are three renderings of one ICD-10
--   list (an order file, the tabular XML, a code file); when a release has more than one, the
--   richest answers: the order file (headers and short titles), then the tabular XML (headers),
--   then the code file (billable codes only). Other parts (ICD-9-CM diagnoses and procedures)
--   each answer for their own codes. A bundled sample serves while no real release of its
--   source is loaded. A release also ends where its own period ends, so that a date no loaded
--   release covers says so instead of borrowing an older year: an ICD-10 fiscal year Y (and its
--   April update Y-04) on Y-09-30, a HCPCS or CPT year Y on Y-12-31, a HCPCS quarterly file
--   Y-MM three months after it starts. ICD-9-CM v32, the last, stays open: its codes carry their
--   own end (2015-09-30), so a later date says terminated and names the GEM candidates. A release
--   named otherwise (--release sample, ...) ends only where the next one starts.
-- Example: SELECT source, release_id, part, effective_from, effective_to FROM code_releases ORDER BY source, effective_from;
-- Columns:
--   source: the loader (icd10cm, icd10pcs, hcpcs, icd9cm, cpt)
--   release_id: the release, e.g. 2024 (fiscal year 2024) or 2025-04 (the April 1, 2025 update)
--   part: the part whose rows answer for the release
--   effective_from: first date of service the release answers for
--   effective_to: last such date: the day before the next release of the source, or the end of the
--     release's own period, whichever comes first; NULL while open
--   previous_release_id: the release of the source this one follows
--   is_sample: a bundled hand-made sample, not a real release
WITH parts AS (
    SELECT
        source,
        release_id,
        part,
        effective_from,
        is_sample,
        CASE WHEN source NOT IN ('icd10cm', 'icd10pcs') THEN 0
            WHEN part = 'order' THEN 1 WHEN part = 'tabular' THEN 2 WHEN part = 'codes' THEN 3 ELSE 0 END AS rendering
    FROM release_parts
    WHERE source IN ('icd10cm', 'icd10pcs', 'hcpcs', 'icd9cm', 'cpt')
        AND (NOT is_sample OR NOT EXISTS (
            SELECT 1 FROM release_parts AS r
            WHERE r.source = release_parts.source AND NOT r.is_sample
        ))
),
richest AS (
    SELECT source, release_id, MIN(CASE WHEN rendering > 0 THEN rendering END) AS rendering
    FROM parts
    GROUP BY source, release_id
),
answering AS (
    SELECT p.*
    FROM parts AS p
    INNER JOIN richest AS r ON r.source = p.source AND r.release_id = p.release_id
    WHERE p.rendering = 0 OR p.rendering = r.rendering
),
releases AS (
    SELECT
        source,
        release_id,
        MIN(effective_from) AS effective_from
    FROM parts
    GROUP BY source, release_id
),
windows AS (
    SELECT
        source,
        release_id,
        effective_from,
        CAST(LEAD(effective_from) OVER (PARTITION BY source ORDER BY effective_from) - INTERVAL 1 DAY AS DATE)
            AS next_starts,
        CASE
            WHEN source IN ('icd10cm', 'icd10pcs') AND regexp_full_match(release_id, '(19|20)[0-9]{2}(-04)?')
                THEN make_date(CAST(left(release_id, 4) AS INTEGER), 9, 30)
            WHEN source IN ('hcpcs', 'cpt') AND regexp_full_match(release_id, '(19|20)[0-9]{2}')
                THEN make_date(CAST(release_id AS INTEGER), 12, 31)
            WHEN source = 'hcpcs' AND regexp_full_match(release_id, '(19|20)[0-9]{2}-(0[1-9]|1[0-2])')
                THEN CAST(make_date(CAST(left(release_id, 4) AS INTEGER), CAST(right(release_id, 2) AS INTEGER), 1)
                          + INTERVAL 3 MONTH - INTERVAL 1 DAY AS DATE)
        END AS period_ends,
        LAG(release_id) OVER (PARTITION BY source ORDER BY effective_from) AS previous_release_id
    FROM releases
)
SELECT
    a.source,
    a.release_id,
    a.part,
    w.effective_from,
    CASE
        WHEN w.next_starts IS NULL THEN w.period_ends
        WHEN w.period_ends IS NULL THEN w.next_starts
        ELSE LEAST(w.next_starts, w.period_ends)
    END AS effective_to,
    w.previous_release_id,
    a.is_sample
FROM answering AS a
INNER JOIN windows AS w ON w.source = a.source AND w.release_id = a.release_id
