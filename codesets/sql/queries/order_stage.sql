-- order_stage: the staged view of ICD-10 order and code file lines the checks read: order_rows
-- plus the facts only the checks need.
-- Input: the table order_rows (order_rows.sql), the table order_repeats (order_repeats.sql) and
--   the variables order_code_pattern and order_header_pattern: the shapes of a billable code and
--   of an order-file header of the file's code system (bound from _order.py, their one definition).
-- Output: one row per input line; nothing is filtered here, the checks decide.
WITH facts AS (
    SELECT
        r.*,
        -- Latin-1 reads every byte as one character; a non-ASCII one takes two bytes in UTF-8, and a
        -- control character (NUL, ESC ...) would reach a terminal through a title
        CASE WHEN strlen(raw) <> length(raw) OR regexp_matches(raw, '[\x00-\x1F\x7F]') THEN
            printf('byte 0x%02X at column %d',
                ord(substr(raw, length(regexp_extract(raw, '^[\x20-\x7E]*')) + 1, 1)),
                length(regexp_extract(raw, '^[\x20-\x7E]*')) + 1)
        END AS bad_byte,
        CASE
            WHEN billable IS NOT FALSE THEN regexp_full_match(code, getvariable('order_code_pattern'))
            -- a header has subdivisions, so never 7 characters (ICD-10-CM) and a 3-character table (PCS)
            ELSE regexp_full_match(code, getvariable('order_header_pattern')) AND length(code) < 7
        END AS shape_ok,
        -- the highest order number on any earlier line of the file
        max(order_no) OVER (PARTITION BY file_no ORDER BY line_no ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
            AS order_before,
        -- the record before, blank lines aside (NULL when its number is unreadable: refused already)
        lag(order_no) OVER (PARTITION BY file_no, blank ORDER BY line_no) AS order_previous,
        row_number() OVER (PARTITION BY file_no, blank ORDER BY line_no) AS record_no
    FROM order_rows AS r
)
SELECT
    f.*,
    CASE WHEN f.order_no <= f.order_before THEN printf('%05d after %05d', f.order_no, f.order_before) END
        AS order_sequence,
    -- a whole order file numbers its records 00001, 00002, ... : a gap is lines missing (an excerpt)
    CASE
        WHEN f.kind = 'order' AND NOT f.blank AND f.record_no = 1 AND f.order_no <> 1
            THEN printf('%05d on the first record', f.order_no)
        -- (after a record out of sequence, refused already, the next one is not called a gap too)
        WHEN f.kind = 'order' AND NOT f.blank AND f.order_previous = f.order_before AND f.order_no > f.order_previous + 1
            THEN printf('%05d after %05d', f.order_no, f.order_previous)
    END AS order_gap,
    CASE WHEN p.lines IS NOT NULL THEN
        printf('%s, also on line%s %s', f.code, CASE WHEN len(p.lines) > 2 THEN 's' ELSE '' END,
               array_to_string(list_filter(p.lines, lambda n: n <> f.line_no), ', '))
    END AS code_repeated
FROM facts AS f
LEFT JOIN order_repeats AS p ON p.file_no = f.file_no AND p.code = f.code AND NOT f.blank
