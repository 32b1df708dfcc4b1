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
--   source is loaded.
-- Example: SELECT source, release_id, part, effective_from, effective_to FROM code_releases ORDER BY source, effective_from;
-- Columns:
--   source: the loader (icd10cm, icd10pcs, hcpcs, icd9cm, cpt)
--   release_id: the release, e.g. 2024 (fiscal year 2024) or 2025-04 (the April 1, 2025 update)
--   part: the part whose rows answer for the release
--   effective_from: first date of service the release answers for
--   effective_to: last such date, the day before the next release of the source; NULL while open
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
            AS effective_to,
        LAG(release_id) OVER (PARTITION BY source ORDER BY effective_from) AS previous_release_id
    FROM releases
)
SELECT
    a.source,
    a.release_id,
    a.part,
    w.effective_from,
    w.effective_to,
    w.previous_release_id,
    a.is_sample
FROM answering AS a
INNER JOIN windows AS w ON w.source = a.source AND w.release_id = a.release_id
