-- gems_repeats: lines that occur more than once in a GEM file, with the first line of each.
-- Input: gem_raw(source_file, line_no, raw). Grouping 4.5 million lines by their text is
-- costly; grouping by a hash of it is cheap, so only lines whose hash repeats are compared
-- as text.
CREATE OR REPLACE TEMP TABLE gem_repeats AS
WITH suspects AS (
    SELECT source_file, hash(raw) AS h
    FROM gem_raw
    GROUP BY source_file, hash(raw)
    HAVING COUNT(*) > 1
)
SELECT r.source_file, r.raw, MIN(r.line_no) AS first_line
FROM gem_raw AS r
SEMI JOIN suspects AS s ON s.source_file = r.source_file AND s.h = hash(r.raw)
GROUP BY r.source_file, r.raw
HAVING COUNT(*) > 1
