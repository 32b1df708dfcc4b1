-- cpt_lines: every line of a UTF-8 CPT list, numbered as a text editor numbers them.
-- Parameters: the file's path, its encoding ('utf-8'), the longest line to accept in bytes.
-- Output: file_no (0: a CPT release is one file), line_no, raw (the line without its line
-- ending; NULL when empty). The same one-column read as codesets.loaders._lines, which reads
-- Latin-1 only: a delimiter that never splits and no quoting, so every line comes as it is, in
-- file order (a window with an empty OVER clause numbers them in input order). The loader has
-- refused a carriage return inside a line before this runs, and DuckDB drops a byte order mark.
SELECT
    CAST(0 AS USMALLINT) AS file_no,
    CAST(row_number() OVER () AS INTEGER) AS line_no,
    raw
FROM read_csv(
    ?,
    columns = {'raw': 'VARCHAR'},
    header = false,
    auto_detect = false,
    delim = '\x01',
    quote = '',
    escape = '',
    new_line = '\r\n',
    encoding = ?,
    strict_mode = false,
    max_line_size = ?
)
