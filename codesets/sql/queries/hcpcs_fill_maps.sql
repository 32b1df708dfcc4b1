-- hcpcs_fill_maps: the cross-references (XREF1-XREF5) of each HCPCS record, in the shape of the shared table maps.
-- Input: the staged view (hcpcs_stage.sql), after the checks passed.
-- CMS's layout: "an explicit reference crosswalking a deleted code or a code that is not valid for
-- Medicare to a valid current code". In the real files most name the successor of a terminated code
-- (C9137 -> J7207); some a Medicare code for a code Medicare does not pay (A0021 -> A0030); a few a
-- CPT code (G0436 -> 99406, C9735 -> 0377T) and one modifier another (AM -> QM). One row per
-- cross-reference, on the record's line; P7001's 'CPT' (see the CPT book) names no code and is
-- reported by the checks, not mapped.
WITH refs AS (
    SELECT
        part,
        code_system,
        code,
        source_file,
        line_no,
        UNNEST([xref1, xref2, xref3, xref4, xref5]) AS target,
        UNNEST(xref_kinds) AS target_kind
    FROM staged
    WHERE is_first
)
SELECT
    part,
    code_system AS source_system,
    target_kind AS target_system,
    code AS source_code,
    upper(trim(target)) AS target_code,
    CAST(NULL AS VARCHAR) AS map_rule,
    source_file,
    line_no
FROM refs
WHERE target_kind IN ('hcpcs', 'cpt', 'hcpcs_modifier')
