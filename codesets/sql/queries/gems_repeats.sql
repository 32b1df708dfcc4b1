-- gems_repeats: every later copy of a line that occurs more than once in a GEM file, naming the first.
-- Input: gem_raw(file_no, line_no, raw). Grouping 4.5 million lines by their text is
-- costly; grouping by a hash of it is cheap, so only lines whose hash repeats are compared
-- as text. The result is small and keyed by (file_no, line_no), so the staged view
-- joins it on integers.
CREATE OR REPLACE TEMP TABLE gem_repeats AS
WITH suspects AS (
    SELECT file_no, hash(raw) AS h
    FROM gem_raw
    GROUP BY file_no, hash(raw)
    HAVING COUNT(*) > 1
),
candidates AS (
    SELECT r.file_no, r.line_no, r.raw
    FROM gem_raw AS r
    SEMI JOIN suspects AS s ON s.file_no = r.file_no AND s.h = hash(r.raw)
),
firsts AS (
    SELECT file_no, raw, MIN(line_no) AS first_line
    FROM candidates
    GROUP BY file_no, raw
    HAVING COUNT(*) > 1
)
SELECT c.file_no, c.line_no, f.first_line
FROM candidates AS c
INNER JOIN firsts AS f ON f.file_no = c.file_no AND f.raw = c.raw
WHERE c.line_no > f.first_line
