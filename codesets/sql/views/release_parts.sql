-- release_parts: every published part of every release, with the window it serves and the part it follows.
-- Grain: one row per (source, release_id, part).
-- Key: source, release_id, part (a data test checks that no two rows share it)
-- Sources: release_catalog, and what each source declares (source_declarations, source_periods:
-- written at publish from the loaders, codesets.loaders.contract.Declaration). A release is the set
-- of its parts (a GEM direction, an NCCI setting); windows and lineage are derived here per part,
-- never stored, so the order releases were loaded in does not change them. A source that declares
-- whole_release (the code sets: icd10cm, icd10pcs, hcpcs, icd9cm, cpt) ships a whole list per
-- release: its parts are renderings or halves of it, and the next release of the source follows all
-- of them. A release also ends with its own period when a period rule of its source matches its id
-- (fiscal_year: an ICD-10 fiscal year Y, and its April update, on Y-09-30; calendar_year: a HCPCS or
-- CPT year Y on Y-12-31; quarter: a HCPCS quarter three months after it starts); with none it stays
-- open (ICD-9-CM v32, the last: its codes carry their own end). A bundled sample serves only while
-- no real release of the same source and part is loaded; after that it keeps its rows but answers
-- for no date.
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
    -- A release of a source declaring whole_release is a whole list, whichever files (parts) it came
    -- in: the next release of the source replaces all of it. Other sources' parts (a GEM direction,
    -- an NCCI setting) each follow the same part of earlier releases.
    SELECT
        c.*,
        CASE WHEN coalesce(d.whole_release, false) THEN '' ELSE c.part END AS series
    FROM release_catalog AS c
    LEFT JOIN source_declarations AS d ON d.source = c.source
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
-- the period rule of each release: the first of its source's rules its id matches
matched AS (
    SELECT r.source, r.release_id, p.kind,
        ROW_NUMBER() OVER (PARTITION BY r.source, r.release_id ORDER BY p.rule_no) AS rule_rank
    FROM (SELECT DISTINCT source, release_id FROM releases) AS r
    INNER JOIN source_periods AS p ON p.source = r.source AND regexp_matches(r.release_id, p.release_ids)
),
periods AS (
    SELECT
        source,
        release_id,
        CASE kind
            WHEN 'fiscal_year' THEN make_date(CAST(substr(release_id, 1, 4) AS INTEGER), 9, 30)
            WHEN 'calendar_year' THEN make_date(CAST(substr(release_id, 1, 4) AS INTEGER), 12, 31)
            WHEN 'quarter' THEN CAST(
                make_date(CAST(substr(release_id, 1, 4) AS INTEGER), CAST(substr(release_id, 6, 2) AS INTEGER), 1)
                + INTERVAL 3 MONTH - INTERVAL 1 DAY AS DATE)
        END AS period_ends
    FROM matched
    WHERE rule_rank = 1
),
ordered AS (
    SELECT
        r.*,
        LEAD(r.effective_from) OVER (PARTITION BY r.source, r.series, r.serves ORDER BY r.effective_from) AS next_from,
        LAG(r.release_id) OVER (PARTITION BY r.source, r.series, r.serves ORDER BY r.effective_from) AS previous_id,
        -- a release also ends with its own period (a date past it borrows no older release)
        e.period_ends
    FROM releases AS r
    LEFT JOIN periods AS e ON e.source = r.source AND e.release_id = r.release_id
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
