-- release_parts: every published part of every release, with the window it serves and the part it follows.
-- Grain: one row per (source, release_id, part).
-- Key: source, release_id, part (a data test checks that no two rows share it)
-- Sources: release_catalog. A release is the set of its parts (a GEM direction, an NCCI setting);
-- windows and lineage are derived here per part, never stored, so the order releases were
-- loaded in does not change them. A code-set release (icd10cm, icd10pcs, hcpcs, icd9cm, cpt) is
-- a whole list: its parts are renderings or halves of it, and the next release of the source
-- follows all of them; it also ends with its own period (an ICD-10 fiscal year Y, and its April
-- update, on Y-09-30; a HCPCS or CPT year Y on Y-12-31; a HCPCS quarter three months after it
-- starts; ICD-9-CM v32, the last, stays open: its codes carry their own end). A bundled sample serves only while no real release of the
-- same source and part is loaded; after that it keeps its rows but answers for no date.
-- Example: SELECT source, part, release_id, effective_from, effective_to, previous_release_id FROM release_parts ORDER BY source, part, effective_from;
-- Columns:
--   source: the loader that read the files (gems, ...)
--   release_id: the release the part belongs to
--   part: what CMS ships separately, e.g. icd9cm-icd10cm (a GEM direction)
--   effective_from: first date of service the part applies to; NULL for a sample that no longer serves
--   effective_to: last date of service: the day before the next release of the same part (code sets: of the source) takes over, or a code-set release's own period end; NULL while open
--   serves: false for a sample once a real release of the part is loaded
--   is_sample: a bundled hand-made sample, not a real release
--   previous_release_id: the release of the same part this one follows (lineage)
--   row_count: rows the part holds
--   loaded_at: when the part was published (UTC)
--   loader_version: codesets version that loaded it
--   content_sha256: identity of the part's file contents; loading the same bytes again is a no-op
--   files: name, sha256, bytes, rows, kind and line ending of each file
WITH series AS (
    -- A code-set release is a whole list, whichever files (parts) it came in: the next release of
    -- the source replaces all of it. Other sources' parts (a GEM direction, an NCCI setting) each
    -- follow the same part of earlier releases.
    SELECT
        c.*,
        CASE WHEN c.source IN ('icd10cm', 'icd10pcs', 'hcpcs', 'icd9cm', 'cpt') THEN '' ELSE c.part END AS series
    FROM release_catalog AS c
),
parts AS (
    SELECT
        c.*,
        NOT c.is_sample OR NOT EXISTS (
            SELECT 1 FROM series AS r
            WHERE r.source = c.source AND r.series = c.series AND NOT r.is_sample
        ) AS serves
    FROM series AS c
),
releases AS (
    SELECT source, series, serves, release_id, MIN(effective_from) AS effective_from
    FROM parts
    GROUP BY source, series, serves, release_id
),
ordered AS (
    SELECT
        *,
        LEAD(effective_from) OVER (PARTITION BY source, series, serves ORDER BY effective_from) AS next_from,
        LAG(release_id) OVER (PARTITION BY source, series, serves ORDER BY effective_from) AS previous_id,
        -- a code-set release also ends with its own period (a date past it borrows no older year)
        CASE
            WHEN source IN ('icd10cm', 'icd10pcs') AND regexp_full_match(release_id, '(19|20)[0-9]{2}(-04)?')
                THEN make_date(CAST(left(release_id, 4) AS INTEGER), 9, 30)
            WHEN source IN ('hcpcs', 'cpt') AND regexp_full_match(release_id, '(19|20)[0-9]{2}')
                THEN make_date(CAST(release_id AS INTEGER), 12, 31)
            WHEN source = 'hcpcs' AND regexp_full_match(release_id, '(19|20)[0-9]{2}-(0[1-9]|1[0-2])')
                THEN CAST(make_date(CAST(left(release_id, 4) AS INTEGER), CAST(right(release_id, 2) AS INTEGER), 1)
                          + INTERVAL 3 MONTH - INTERVAL 1 DAY AS DATE)
        END AS period_ends
    FROM releases
)
SELECT
    p.source,
    p.release_id,
    p.part,
    CASE WHEN p.serves THEN p.effective_from END AS effective_from,
    CASE WHEN p.serves THEN
        CASE
            WHEN o.next_from IS NULL THEN o.period_ends
            WHEN o.period_ends IS NULL OR o.next_from <= o.period_ends
                THEN CAST(o.next_from - INTERVAL 1 DAY AS DATE)
            ELSE o.period_ends
        END
    END AS effective_to,
    p.serves,
    p.is_sample,
    CASE WHEN p.serves THEN o.previous_id END AS previous_release_id,
    p.row_count,
    p.loaded_at,
    p.loader_version,
    p.content_sha256,
    p.files
FROM parts AS p
INNER JOIN ordered AS o
    ON o.source = p.source AND o.series = p.series AND o.serves = p.serves AND o.release_id = p.release_id
