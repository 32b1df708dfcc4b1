-- mue_changes: what each NCCI MUE release changed against the release it follows, code by code, per service type.
-- Grain: one row per code added, removed or changed, per (release_id, service_type).
-- Key: release_id, service_type, code (a data test checks that no two rows share it)
-- Sources: release_parts (which release each service type's table follows) and limits. `codesets diff
-- ncci_mue A B` runs this same text with the one pair it is asked for in place of the CTE pairs
-- (codesets.warehouse.diff). A table holds a code once (the loader refuses a repeated code), so a
-- code is the key. A code whose row changed in several ways is one row, its change the first that
-- applies of: raised, lowered (the MUE value), mai_changed (the adjudication indicator),
-- rationale_changed, changed (only the indicator's wording); the old_ and new_ columns show all of it.
-- Example: SELECT change, COUNT(*) FROM mue_changes WHERE service_type = 'practitioner' GROUP BY change ORDER BY change;
-- Columns:
--   change: added, removed, raised, lowered, mai_changed, rationale_changed or changed
--   service_type: practitioner, outpatient_hospital or dme
--   code: HCPCS or CPT code
--   old_mue_value: MUE value in the older release; NULL for an added code
--   new_mue_value: MUE value in the newer release; NULL for a removed code
--   old_mai: adjudication indicator in the older release
--   new_mai: adjudication indicator in the newer release
--   old_mai_text: the indicator as the older table writes it
--   new_mai_text: the indicator as the newer table writes it
--   old_rationale: rationale in the older release
--   new_rationale: rationale in the newer release
--   old_source_file: file of the older release holding the code; NULL for an added code
--   old_line_no: its line
--   new_source_file: file of the newer release holding the code; NULL for a removed code
--   new_line_no: its line
--   release_id: the newer release
--   previous_release_id: the release it is compared against (release_parts.previous_release_id)
WITH pairs AS (
    SELECT part, release_id, previous_release_id
    FROM release_parts
    WHERE source = 'ncci_mue' AND previous_release_id IS NOT NULL
),
old_side AS (
    SELECT p.release_id, p.previous_release_id, p.part, l.service_type, l.code, l.mue_value, l.mai, l.mai_text,
           l.rationale, l.source_file, l.line_no
    FROM pairs AS p
    INNER JOIN limits AS l ON l.source = 'ncci_mue' AND l.part = p.part AND l.release_id = p.previous_release_id
),
new_side AS (
    SELECT p.release_id, p.previous_release_id, p.part, l.service_type, l.code, l.mue_value, l.mai, l.mai_text,
           l.rationale, l.source_file, l.line_no
    FROM pairs AS p
    INNER JOIN limits AS l ON l.source = 'ncci_mue' AND l.part = p.part AND l.release_id = p.release_id
),
joined AS (
    SELECT
        CASE
            WHEN o.code IS NULL THEN 'added'
            WHEN n.code IS NULL THEN 'removed'
            WHEN n.mue_value > o.mue_value THEN 'raised'
            WHEN n.mue_value < o.mue_value THEN 'lowered'
            WHEN n.mai IS DISTINCT FROM o.mai THEN 'mai_changed'
            WHEN n.rationale IS DISTINCT FROM o.rationale THEN 'rationale_changed'
            WHEN n.mai_text IS DISTINCT FROM o.mai_text THEN 'changed'
        END AS change,
        coalesce(n.service_type, o.service_type) AS service_type,
        coalesce(n.code, o.code) AS code,
        o.mue_value AS old_mue_value,
        n.mue_value AS new_mue_value,
        o.mai AS old_mai,
        n.mai AS new_mai,
        o.mai_text AS old_mai_text,
        n.mai_text AS new_mai_text,
        o.rationale AS old_rationale,
        n.rationale AS new_rationale,
        o.source_file AS old_source_file,
        o.line_no AS old_line_no,
        n.source_file AS new_source_file,
        n.line_no AS new_line_no,
        coalesce(n.release_id, o.release_id) AS release_id,
        coalesce(n.previous_release_id, o.previous_release_id) AS previous_release_id
    FROM old_side AS o
    FULL OUTER JOIN new_side AS n
        ON n.release_id = o.release_id AND n.previous_release_id = o.previous_release_id
        AND n.part = o.part AND n.code = o.code
)
SELECT *
FROM joined
WHERE change IS NOT NULL
