-- icd10cm_tabular_rows: the codes of the ICD-10-CM tabular XML, derived from its tree, and the
-- elements the checks look at.
-- Input (flattened from the XML by loaders/_tabular.py, one row per element, not per code):
--   tabular_diags(file_no, diag_no, parent_no, lineage, line_no, name, names, description, descs):
--     every <diag>; lineage lists the diag_no of its ancestors and itself, outermost first;
--     line_no is the line of its <name>; names and descs count its <name> and <desc> elements.
--   tabular_defs(file_no, def_no, diag_no, line_no): every <sevenChrDef> and the diag holding it.
--   tabular_extensions(file_no, def_no, line_no, char, text): every <extension> of a definition.
--   tabular_limits(file_no, diag_no, line_no, note, sixth, seventh, prefix): notes limiting 7th
--     characters, read into the 6th characters they name, the 7th characters they withhold and
--     the code prefix they apply to (NULL when the words could not be read).
--   tabular_files(file_no, source_file, part); the variable tabular_code_pattern (_order.CM_CODE).
-- Output: one row per code (kind 'diag': every <diag>; kind 'seventh': a leaf's code with a
-- 7th character) and per element the checks look at (kind 'def', 'extension', 'limit').
-- The rule: a diag is billable when it is a leaf with no <sevenChrDef> in scope (its own or its
-- nearest ancestor's), else a header; a leaf with one in scope gives, per extension, the leaf
-- padded with X to 6 characters and the extension's char, titled "<leaf title>, <extension text>";
-- a combination a limiting note names is withheld (kept here for the notes, never published).
WITH diags AS (
    SELECT
        d.*,
        f.source_file,
        f.part,
        CASE
            WHEN regexp_full_match(d.name, '[A-Z][0-9A-Z]{2}(\.[0-9A-Z]{1,4})?')
                AND regexp_full_match(replace(d.name, '.', ''), getvariable('tabular_code_pattern'))
            THEN replace(d.name, '.', '')
        END AS code
    FROM tabular_diags AS d
    INNER JOIN tabular_files AS f ON f.file_no = d.file_no
),
parents AS (
    SELECT DISTINCT file_no, parent_no FROM tabular_diags WHERE parent_no IS NOT NULL
),
ancestry AS (
    SELECT file_no, diag_no, unnest(lineage) AS ancestor, generate_subscripts(lineage, 1) AS depth
    FROM tabular_diags
),
scoped AS (  -- the nearest definition: that of the deepest ancestor-or-self holding one
    SELECT a.file_no, a.diag_no, arg_max(s.def_no, a.depth) AS def_no
    FROM ancestry AS a
    INNER JOIN tabular_defs AS s ON s.file_no = a.file_no AND s.diag_no = a.ancestor
    GROUP BY a.file_no, a.diag_no
),
nodes AS (
    SELECT d.*, p.parent_no IS NULL AS leaf, s.def_no
    FROM diags AS d
    LEFT JOIN parents AS p ON p.file_no = d.file_no AND p.parent_no = d.diag_no
    LEFT JOIN scoped AS s ON s.file_no = d.file_no AND s.diag_no = d.diag_no
),
diag_rows AS (
    SELECT
        file_no, source_file, part, 'diag' AS kind, line_no, name, names, descs, code, description,
        leaf AND def_no IS NULL AS billable, leaf AND def_no IS NOT NULL AS takes_seventh, FALSE AS withheld
    FROM nodes
),
seventh_rows AS (
    SELECT
        n.file_no, n.source_file, n.part, 'seventh' AS kind, n.line_no, n.name,
        rpad(n.code, 6, 'X') || e.char AS code,
        n.description || ', ' || e.text AS description,
        TRUE AS billable,
        EXISTS (
            SELECT 1 FROM tabular_limits AS l
            WHERE l.file_no = n.file_no AND list_contains(n.lineage, l.diag_no) AND starts_with(n.code, l.prefix)
                AND list_contains(l.sixth, substr(rpad(n.code, 6, 'X'), 6, 1)) AND list_contains(l.seventh, e.char)
        ) AS withheld
    FROM nodes AS n
    INNER JOIN tabular_extensions AS e ON e.file_no = n.file_no AND e.def_no = n.def_no
    WHERE n.leaf AND length(n.code) < 7  -- a 7-character leaf under a definition is refused by the checks
),
def_rows AS (
    SELECT
        s.file_no, f.source_file, f.part, 'def' AS kind, s.line_no,
        coalesce(d.name, '(outside any diag)') AS def,
        s.diag_no IS NOT NULL AS owned,
        COUNT(*) OVER (PARTITION BY s.file_no, s.diag_no) AS defs_of_diag,
        (SELECT COUNT(*) FROM tabular_extensions AS e WHERE e.file_no = s.file_no AND e.def_no = s.def_no) AS extensions
    FROM tabular_defs AS s
    INNER JOIN tabular_files AS f ON f.file_no = s.file_no
    LEFT JOIN tabular_diags AS d ON d.file_no = s.file_no AND d.diag_no = s.diag_no
),
extension_rows AS (
    SELECT
        e.file_no, f.source_file, f.part, 'extension' AS kind, e.line_no, e.char, e.text AS extension,
        CASE WHEN COUNT(*) OVER same > 1 THEN
            printf('%s, also on line %s', e.char,
                   array_to_string(list_filter(list(e.line_no) OVER same, lambda n: n <> e.line_no), ', '))
        END AS char_repeated
    FROM tabular_extensions AS e
    INNER JOIN tabular_files AS f ON f.file_no = e.file_no
    WINDOW same AS (PARTITION BY e.file_no, e.def_no, e.char)
),
limit_rows AS (
    SELECT l.file_no, f.source_file, f.part, 'limit' AS kind, l.line_no, l.note, l.prefix
    FROM tabular_limits AS l
    INNER JOIN tabular_files AS f ON f.file_no = l.file_no
)
SELECT *, 'icd10cm' AS code_system FROM diag_rows
UNION ALL BY NAME SELECT *, 'icd10cm' AS code_system FROM seventh_rows
UNION ALL BY NAME SELECT * FROM def_rows
UNION ALL BY NAME SELECT * FROM extension_rows
UNION ALL BY NAME SELECT * FROM limit_rows
