-- release_parts: every published part of every release, with the window it serves and the part it follows.
-- Grain: one row per (source, release_id, part).
-- Key: source, release_id, part (a data test checks that no two rows share it)
-- Sources: release_catalog. A release is the set of its parts (a GEM direction, an NCCI setting);
-- windows and lineage are derived here per part, never stored, so the order releases were
-- loaded in does not change them. A bundled sample serves only while no real release of the
-- same source and part is loaded; after that it keeps its rows but answers for no date.
-- Example: SELECT source, part, release_id, effective_from, effective_to, previous_release_id FROM release_parts ORDER BY source, part, effective_from;
-- Columns:
--   source: the loader that read the files (gems, ...)
--   release_id: the release the part belongs to
--   part: what CMS ships separately, e.g. icd9cm-icd10cm (a GEM direction)
--   effective_from: first date of service the part applies to; NULL for a sample that no longer serves
--   effective_to: last date of service, the day before the next release of the same part takes over; NULL while open
--   serves: false for a sample once a real release of the part is loaded
--   is_sample: a bundled hand-made sample, not a real release
--   previous_release_id: the release of the same part this one follows (lineage)
--   row_count: rows the part holds
--   loaded_at: when the part was published (UTC)
--   loader_version: codesets version that loaded it
--   content_sha256: identity of the part's file contents; loading the same bytes again is a no-op
--   files: name, sha256, bytes, rows, kind and line ending of each file
WITH parts AS (
    SELECT
        c.*,
        NOT c.is_sample OR NOT EXISTS (
            SELECT 1 FROM release_catalog AS r
            WHERE r.source = c.source AND r.part = c.part AND NOT r.is_sample
        ) AS serves
    FROM release_catalog AS c
),
ordered AS (
    SELECT
        *,
        LEAD(effective_from) OVER (PARTITION BY source, part, serves ORDER BY effective_from) AS next_from,
        LAG(release_id) OVER (PARTITION BY source, part, serves ORDER BY effective_from) AS previous_id
    FROM parts
)
SELECT
    source,
    release_id,
    part,
    CASE WHEN serves THEN effective_from END AS effective_from,
    CASE WHEN serves THEN CAST(next_from - INTERVAL 1 DAY AS DATE) END AS effective_to,
    serves,
    is_sample,
    CASE WHEN serves THEN previous_id END AS previous_release_id,
    row_count,
    loaded_at,
    loader_version,
    content_sha256,
    files
FROM ordered
