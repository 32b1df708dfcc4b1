-- code_releases: which release of each code-set source answers for which dates, and which of its parts answers.
-- Grain: one row per (source, release_id, part) whose rows answer for the release.
-- Key: source, release_id, part (a data test checks that no two rows share it)
-- Sources: release_parts, source_code_systems and source_renderings (declared by the loaders), release_parts giving a code-set release its window: from its first date to the
--   day before the next release of the source, or to the end of its own period, whichever comes
--   first, so that a date no loaded release covers says so instead of borrowing an older year (an
--   ICD-10 fiscal year Y and its April update on Y-09-30, a HCPCS or CPT year Y on Y-12-31, a
--   HCPCS quarterly file Y-MM three months on; ICD-9-CM v32, the last, stays open: its codes carry
--   their own end, 2015-09-30, so a later date says terminated and names the GEM candidates; a
--   release named otherwise, such as the sample, ends where the next one starts). The parts order,
--   tabular and codes are three renderings (declared: source_renderings) of one ICD-10 list (an order file, the tabular XML, a
--   code file); when a release has more than one, the richest answers: the order file (headers
--   and short titles), then the tabular XML (headers), then the code file (billable codes only).
--   Other parts (ICD-9-CM diagnoses and procedures) each answer for their own codes. A bundled
--   sample serves while no real release of its source is loaded.
-- Example: SELECT source, release_id, part, effective_from, effective_to FROM code_releases ORDER BY source, effective_from;
-- Columns:
--   source: the loader (one that answers validity for a code system: icd10cm, icd10pcs, hcpcs, icd9cm, cpt)
--   release_id: the release, e.g. 2024 (fiscal year 2024) or 2025-04 (the April 1, 2025 update)
--   part: the part whose rows answer for the release
--   effective_from: first date of service the release answers for
--   effective_to: last such date: the day before the next release of the source, or the end of the
--     release's own period, whichever comes first; NULL while open
--   previous_release_id: the release of the source this one follows
--   is_sample: a bundled hand-made sample, not a real release
WITH parts AS (
    SELECT
        p.source,
        p.release_id,
        p.part,
        p.effective_from,
        p.effective_to,
        p.previous_release_id,
        p.is_sample,
        coalesce(r.rendering, 0) AS rendering
    FROM release_parts AS p
    LEFT JOIN source_renderings AS r ON r.source = p.source AND r.part = p.part
    -- the sources whose releases answer validity for a code system (their declarations)
    WHERE p.serves AND p.source IN (SELECT source FROM source_code_systems WHERE validity)
),
richest AS (
    SELECT source, release_id, MIN(CASE WHEN rendering > 0 THEN rendering END) AS rendering
    FROM parts
    GROUP BY source, release_id
)
SELECT
    p.source,
    p.release_id,
    p.part,
    p.effective_from,
    p.effective_to,
    p.previous_release_id,
    p.is_sample
FROM parts AS p
INNER JOIN richest AS r ON r.source = p.source AND r.release_id = p.release_id
WHERE p.rendering = 0 OR p.rendering = r.rendering
