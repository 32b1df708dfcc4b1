-- gems_layout: a macro naming the fixed-width layout of one GEM line, used by gems_direction
-- and gems_stage. 'icd9-source': a source field of 5 and a space, target from column 7;
-- 'icd10-source': a source field of 7 and a space, target from column 9; NULL: neither.
CREATE OR REPLACE TEMP MACRO gem_layout(raw) AS
    CASE
        WHEN substr(raw, 6, 1) = ' ' AND substr(raw, 7, 1) NOT IN (' ', '') THEN 'icd9-source'
        WHEN substr(raw, 8, 1) = ' ' AND substr(raw, 9, 1) NOT IN (' ', '') THEN 'icd10-source'
    END
