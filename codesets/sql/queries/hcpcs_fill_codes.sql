-- hcpcs_fill_codes: one row per HCPCS code or modifier of each file, in the shape of the shared code rows (sql/shapes.sql).
-- Input: the staged view (hcpcs_stage.sql), after the checks passed. The publish step adds source
-- and release_id and writes one Parquet file per part.
-- The long description is the first record's text followed by its continuation records' text,
-- in line order (the checks hold them in sequence). CMS wraps the text at a blank and pads each
-- piece to 80 characters, so a piece's trailing blanks are padding: each continuation joins the
-- text before it with one blank, keeping any blank it starts with (the text as CMS wrote it).
-- The line is the first record's. A modifier is billable: it is valid on a claim line (in a
-- modifier position) on the dates the file gives it, and code_system keeps it apart from codes.
WITH descriptions AS (
    SELECT
        file_no,
        first_line,
        trim(string_agg(
            CASE WHEN is_first THEN rtrim(long_description) ELSE ' ' || rtrim(long_description) END, ''
            ORDER BY line_no
        )) AS description
    FROM staged
    WHERE is_first OR is_continuation
    GROUP BY file_no, first_line
)
SELECT
    s.part,
    s.code_system,
    s.code,
    nullif(d.description, '') AS description,
    nullif(trim(s.short_description), '') AS short_description,
    TRUE AS billable,
    s.added AS effective_from,
    s.terminated AS effective_to,
    nullif(trim(s.action_cd), '') AS action_code,
    s.action_effective AS action_effective_date,
    s.source_file,
    s.line_no
FROM staged AS s
INNER JOIN descriptions AS d ON d.file_no = s.file_no AND d.first_line = s.line_no
WHERE s.is_first
