-- icd9cm_unpaired: codes of one title file of a part that the other file of the part does not list.
-- Input: the tables icd9_rows (icd9cm_rows.sql) and icd9_files. The long and short title files
-- of a part are one code list: a code in one and not the other is refused, by its line, naming
-- the file it is missing from. Only well-formed codes are paired (a malformed one is refused
-- for its shape). Small: empty for a sound pair.
CREATE OR REPLACE TEMP TABLE icd9_unpaired AS
WITH listed AS (
    SELECT file_no, part, canonical_code, line_no
    FROM icd9_rows
    WHERE kind = 'data' AND code_ok
)
SELECT
    l.file_no,
    l.line_no,
    printf('%s is not in %s', l.canonical_code, other.source_file) AS code_unpaired
FROM listed AS l
INNER JOIN icd9_files AS other ON other.part = l.part AND other.file_no <> l.file_no
ANTI JOIN listed AS o ON o.file_no = other.file_no AND o.canonical_code = l.canonical_code
