-- code_validity: the status of each (code, code system, date of service) of a batch.
-- Input: the temp table validity_input (row_id, input, code_system, on_date); parameters $systems
--   and $sources (which loader's releases answer for each code system, as the loaders declare it:
--   codesets.loaders.validity_systems), and $shapes, one regular expression over 'system:code' naming
--   the shape of each system's codes ('(?:icd10cm:(?:...))|(?:hcpcs:(?:...))|...'), constant so that
--   it is compiled once, not once a row, and no list of systems is written here. The rules are written once, in docs/codes.md; codesets.warehouse.validity
--   states them beside the point lookup, which a test holds to this query.
-- Output: one row per input row, in no order (codesets.warehouse.validity puts them in row_id order).
WITH sources AS (
    SELECT unnest($systems) AS code_system, unnest($sources) AS source
),
inputs AS (
    SELECT
        v.row_id,
        v.input,
        v.code_system,
        v.on_date,
        s.source,
        upper(replace(trim(v.input, E' \t\r\n'), '.', '')) AS code,
        -- ASCII only (upper() would make a dotless i an I), one dot at most, the system's shape
        strlen(v.input) = length(v.input)
            AND length(v.input) - length(replace(v.input, '.', '')) <= 1
            AND regexp_full_match(v.code_system || ':' || upper(replace(trim(v.input, E' \t\r\n'), '.', '')), $shapes)
                AS well_formed
    FROM validity_input AS v
    LEFT JOIN sources AS s ON s.code_system = v.code_system
),
releases AS (
    SELECT DISTINCT source, release_id, effective_from, effective_to
    FROM code_releases
),
-- each input with the release of its system's source in force on its date (NULL: none is)
in_force AS (
    SELECT i.*, r.release_id AS release_in_force_id
    FROM inputs AS i
    LEFT JOIN releases AS r
        ON r.source = i.source
        AND r.effective_from <= i.on_date
        AND (r.effective_to IS NULL OR i.on_date <= r.effective_to)
),
answered AS (
    SELECT
        i.* EXCLUDE (release_in_force_id),
        h.code IS NOT NULL AS listed,
        i.release_in_force_id AS release_id,
        i.release_in_force_id IS NOT NULL AS release_in_force,
        h.description,
        h.short_description,
        h.billable,
        coalesce(h.added, h.effective_from) AS effective_from,  -- the code's own first date where the file gives one
        h.effective_to,
        h.added,
        h.terminated,
        h.source_file,
        h.line_no
    FROM in_force AS i
    LEFT JOIN code_history AS h
        ON i.well_formed AND h.code_system = i.code_system AND h.code = i.code AND h.release_id = i.release_in_force_id
),
-- Codes the release in force does not list, or lists as headers: what else the warehouse knows.
unlisted AS (
    SELECT DISTINCT code_system, code, release_id, on_date
    FROM answered
    WHERE well_formed AND release_in_force AND (NOT listed OR NOT billable)  -- (listed and billable needs no more)
),
asked AS (
    SELECT DISTINCT code_system, code, release_id FROM unlisted
),
-- every billable code under its prefixes (3 to 6 characters) in the categories asked about, so
-- that a header meets its children on an equal key (a LIKE join would try every pair of a category)
prefixed AS (
    SELECT h.code_system, h.release_id, left(h.code, n.n) AS prefix, h.code
    FROM code_history AS h, range(3, 7) AS n(n)
    WHERE h.billable AND length(h.code) > n.n
        AND (h.code_system, h.release_id, left(h.code, 3)) IN (SELECT code_system, release_id, left(code, 3) FROM asked)
),
children AS (
    SELECT u.code_system, u.code, u.release_id, list(p.code ORDER BY p.code) AS codes
    FROM asked AS u
    INNER JOIN prefixed AS p ON p.code_system = u.code_system AND p.release_id = u.release_id AND p.prefix = u.code
    GROUP BY u.code_system, u.code, u.release_id
),
elsewhere AS (
    SELECT u.code_system, u.code, u.on_date,
        bool_or(h.release_effective_from > u.on_date) AS later,
        bool_or(h.release_effective_from <= u.on_date) AS earlier,
        max(h.release_effective_from) FILTER (WHERE h.release_effective_from <= u.on_date) AS last_listed_from,
        min(h.release_effective_from) FILTER (WHERE h.release_effective_from > u.on_date) AS next_listed_from
    FROM unlisted AS u
    INNER JOIN code_history AS h ON h.code_system = u.code_system AND h.code = u.code
    GROUP BY u.code_system, u.code, u.on_date
),
-- A code the release in force dropped: the codes new since the last release that listed it, under the same parent.
replacements AS (
    SELECT e.code_system, e.code, e.on_date, list(DISTINCT n.code ORDER BY n.code) AS codes
    FROM elsewhere AS e
    INNER JOIN answered AS a
        ON a.code_system = e.code_system AND a.code = e.code AND a.on_date = e.on_date AND NOT a.listed
    INNER JOIN code_history AS n
        ON n.code_system = e.code_system AND n.release_id = a.release_id AND n.billable
        AND left(n.code, 3) = left(e.code, 3)
        AND n.code LIKE left(e.code, length(e.code) - 1) || '%'
    WHERE e.earlier AND NOT EXISTS (
        SELECT 1 FROM code_history AS o
        WHERE o.code_system = n.code_system AND o.code = n.code
            AND o.release_effective_from = e.last_listed_from
    )
    GROUP BY e.code_system, e.code, e.on_date
),
-- A code the release in force does not list, dated by a later file (HCPCS adds codes each quarter,
-- and the next year's file gives their add and termination dates): the earliest such file answers.
later_dated AS (
    SELECT
        u.code_system, u.code, u.on_date,
        arg_min(h.release_id, h.release_effective_from) AS release_id,
        arg_min(CASE
            WHEN h.terminated IS NOT NULL AND u.on_date > h.terminated THEN 'terminated'
            WHEN h.added > u.on_date THEN 'not yet effective'
            WHEN h.billable THEN 'billable'
            ELSE 'header (not billable)'
        END, h.release_effective_from) AS status,
        arg_min(h.description, h.release_effective_from) AS description,
        arg_min(h.short_description, h.release_effective_from) AS short_description,
        arg_min(h.billable, h.release_effective_from) AS billable,
        arg_min(h.added, h.release_effective_from) AS effective_from,
        arg_min(h.terminated, h.release_effective_from) AS effective_to,
        arg_min(h.source_file, h.release_effective_from) AS source_file,
        arg_min(h.line_no, h.release_effective_from) AS line_no
    FROM unlisted AS u
    INNER JOIN code_history AS h
        ON h.code_system = u.code_system AND h.code = u.code
        AND h.release_effective_from > u.on_date AND h.added IS NOT NULL
    GROUP BY u.code_system, u.code, u.on_date
),
-- HCPCS cross-references of a terminated code (the replacing code, where CMS names one).
xrefs AS (
    SELECT m.source_code AS code, m.release_id, list(m.target_code ORDER BY m.line_no, m.target_code) AS codes
    FROM maps AS m
    WHERE m.source = 'hcpcs' AND m.target_code IS NOT NULL
        AND m.source_code IN (SELECT code FROM answered WHERE code_system = 'hcpcs')
    GROUP BY m.source_code, m.release_id
),
-- Most answers need nothing but their own row (a billable code, a date no release covers, not a
-- code at all); only the others are joined to what else the warehouse knows.
simple AS (
    SELECT
        *,
        NOT coalesce(well_formed, false) OR NOT release_in_force
            OR (listed AND billable AND (added IS NULL OR on_date >= added)
                AND (terminated IS NULL OR on_date <= terminated)) AS is_simple
    FROM answered
),
statused AS (
    SELECT
        a.*,
        CASE
            WHEN NOT coalesce(a.well_formed, false) THEN 'unknown'
            WHEN a.code_system = 'cpt' AND NOT a.release_in_force THEN 'valid shape (no CPT list)'
            WHEN NOT a.release_in_force THEN 'no release in force'
            ELSE 'billable'
        END AS status,
        CAST(NULL AS VARCHAR[]) AS children,
        CAST(NULL AS DATE) AS next_listed_from,
        CAST(NULL AS VARCHAR) AS dated_release_id,
        CAST(NULL AS VARCHAR) AS dated_description,
        CAST(NULL AS VARCHAR) AS dated_short_description,
        CAST(NULL AS BOOLEAN) AS dated_billable,
        CAST(NULL AS DATE) AS dated_from,
        CAST(NULL AS DATE) AS dated_to,
        CAST(NULL AS VARCHAR) AS dated_file,
        CAST(NULL AS INTEGER) AS dated_line,
        CAST(NULL AS VARCHAR[]) AS replacements,
        CAST(NULL AS VARCHAR[]) AS xref_codes
    FROM simple AS a
    WHERE a.is_simple
    UNION ALL
    SELECT
        a.*,
        CASE
            WHEN a.listed AND NOT a.billable THEN 'header (not billable)'
            WHEN a.listed AND a.added IS NOT NULL AND a.on_date < a.added THEN 'not yet effective'
            WHEN a.listed AND a.terminated IS NOT NULL AND a.on_date > a.terminated THEN 'terminated'
            WHEN a.listed THEN 'billable'
            WHEN c.codes IS NOT NULL THEN 'header (not billable)'
            WHEN d.status IS NOT NULL THEN d.status
            WHEN e.later AND NOT e.earlier THEN 'not yet effective'
            WHEN e.earlier THEN 'terminated'
            ELSE 'unknown'
        END AS status,
        c.codes AS children,
        e.next_listed_from,
        d.release_id AS dated_release_id,
        d.description AS dated_description,
        d.short_description AS dated_short_description,
        d.billable AS dated_billable,
        d.effective_from AS dated_from,
        d.effective_to AS dated_to,
        d.source_file AS dated_file,
        d.line_no AS dated_line,
        p.codes AS replacements,
        x.codes AS xref_codes
    FROM simple AS a
    LEFT JOIN children AS c ON c.code_system = a.code_system AND c.code = a.code AND c.release_id = a.release_id
    LEFT JOIN later_dated AS d
        ON NOT a.listed AND d.code_system = a.code_system AND d.code = a.code AND d.on_date = a.on_date
    LEFT JOIN elsewhere AS e ON e.code_system = a.code_system AND e.code = a.code AND e.on_date = a.on_date
    LEFT JOIN replacements AS p ON p.code_system = a.code_system AND p.code = a.code AND p.on_date = a.on_date
    LEFT JOIN xrefs AS x
        ON a.code_system = 'hcpcs' AND x.code = a.code AND x.release_id = coalesce(d.release_id, a.release_id)
    WHERE NOT a.is_simple
)
SELECT
    row_id,
    input,
    code_system,
    CASE WHEN coalesce(well_formed, false) THEN code END AS code,
    on_date,
    CASE WHEN dated_release_id IS NULL THEN description ELSE dated_description END AS description,
    CASE WHEN dated_release_id IS NULL THEN short_description ELSE dated_short_description END AS short_description,
    CASE
        WHEN status = 'billable' THEN true
        WHEN status IN ('no release in force', 'valid shape (no CPT list)') THEN NULL
        ELSE false
    END AS valid,
    CASE WHEN dated_release_id IS NULL THEN billable ELSE dated_billable END AS billable,
    status,
    CASE
        WHEN dated_release_id IS NOT NULL THEN dated_from
        -- listed only by later releases: the first date one of them answers for
        WHEN status = 'not yet effective' AND NOT listed THEN next_listed_from
        ELSE effective_from
    END AS effective_from,
    CASE WHEN dated_release_id IS NULL THEN effective_to ELSE dated_to END AS effective_to,
    coalesce(dated_release_id, release_id) AS release_id,
    CASE WHEN dated_release_id IS NULL THEN source_file ELSE dated_file END AS source_file,
    CASE WHEN dated_release_id IS NULL THEN line_no ELSE dated_line END AS line_no,
    CASE
        WHEN status = 'header (not billable)' THEN children
        -- (an ICD-9 code's GEM candidates are added by codesets.warehouse.validity, from the GEM rows)
        WHEN status = 'terminated' THEN coalesce(xref_codes, replacements)
    END AS successors
FROM statused
