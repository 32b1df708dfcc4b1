-- hcpcs_rows: every line of the HCPCS files, told apart (disclaimer, header, blank, record) and cut into fields.
-- Input: hcpcs_raw(file_no, line_no, raw), every physical line of each file (line endings removed,
--   read as Latin-1, NULL for an empty line); hcpcs_files(file_no, source_file, part, format,
--   disclaimer_to, head_to, field_count, and for a CSV the 1-based field of each column read:
--   field_hcpc, field_seqnum, ...),
--   from each file's head (codesets/loaders/_hcpcs_head.py).
-- Variables: hcpcs_record_start (what columns 1-11 of a fixed-width record look like), and the
--   code shapes of codesets.codes.PATTERNS: hcpcs_pattern, hcpcs_modifier_pattern.
-- Output: one row per input line, created as the temp table hcpcs_rows (the checks, the codes and
-- the maps all read the fields: they are cut once). Fields are NULL on lines that are not records.
--
-- Fixed-width positions are those of CMS's record layout (HCPCS17/18/2019_recordlayout.txt, the
-- same each year): HCPC 1-5 (a modifier right-justified in 4-5), SEQNUM 6-10, RECID 11, long
-- description 12-91, short description 92-119, XREF 205-209, 210-214, 215-219, 220-224, 225-229,
-- ADD DT 269-276, ACT EFF DT 277-284, TERM DT 285-292, ACTION CD 293; 320 characters in all.
-- A continuation record (RECID 4, 8) carries only 1-91.
WITH lines AS (
    SELECT
        r.file_no,
        f.source_file,
        f.part,
        f.format,
        r.line_no,
        r.raw,
        CASE
            WHEN r.line_no <= f.disclaimer_to THEN 'disclaimer'
            WHEN r.line_no <= f.head_to THEN 'header'
            -- (a regular expression: DuckDB's trim() costs more per character on lines this long)
            WHEN r.raw IS NULL THEN 'blank'
            WHEN f.format = 'csv' AND NOT regexp_matches(r.raw, '[^ ,\t]') THEN 'blank'
            WHEN f.format = 'fixed' AND NOT regexp_matches(r.raw, '[^ \t]') THEN 'blank'
            ELSE 'record'
        END AS kind,
        f.field_count AS header_fields,
        f.* EXCLUDE (file_no, source_file, part, format, disclaimer_to, head_to, field_count)
    FROM hcpcs_raw AS r
    INNER JOIN hcpcs_files AS f ON f.file_no = r.file_no
),
split AS (
    -- RFC 4180 fields of a CSV record: split on commas when the line has no quote, else taken
    -- apart by a regular expression once the whole line is known to be well quoted.
    SELECT
        *,
        CASE
            WHEN format <> 'csv' OR kind <> 'record' THEN NULL
            WHEN strpos(raw, '"') = 0 THEN string_split(raw, ',')
            WHEN regexp_full_match(raw, '(?:"(?:[^"]|"")*"|[^,"]*)(?:,(?:"(?:[^"]|"")*"|[^,"]*))*') THEN
                list_transform(
                    regexp_extract_all(',' || raw, ',("(?:[^"]|"")*"|[^,"]*)', 1),
                    lambda f: CASE WHEN starts_with(f, '"') THEN replace(f[2:-2], '""', '"') ELSE f END
                )
        END AS fields
    FROM lines
),
cut AS (
    -- a field is its columns of a fixed-width record, or its CSV field (by the header's title)
    SELECT
        file_no, source_file, part, format, line_no, raw, kind,
        length(raw) AS line_length,
        CASE
            WHEN format <> 'csv' OR kind <> 'record' OR len(fields) = header_fields THEN NULL
            WHEN fields IS NULL THEN 'quotes do not pair up: ' || raw
            ELSE printf('%d fields, the header %d: %s', len(fields), header_fields, raw)
        END AS csv_problem,
        -- a fixed-width record starts with a code, a sequence number and a RECID digit; other text is no record
        CASE WHEN fixed THEN regexp_matches(raw, getvariable('hcpcs_record_start')) END AS record_shaped,
        CASE WHEN fixed THEN substr(raw, 92) END AS after_column_91,
        CASE WHEN fixed THEN substr(raw, 1, 5) ELSE cells[field_hcpc] END AS hcpc,
        CASE WHEN fixed THEN substr(raw, 6, 5) ELSE cells[field_seqnum] END AS seqnum,
        CASE WHEN fixed THEN substr(raw, 11, 1) ELSE cells[field_recid] END AS recid,
        CASE WHEN fixed THEN substr(raw, 12, 80) ELSE cells[field_long_description] END AS long_description,
        CASE WHEN fixed THEN substr(raw, 92, 28) ELSE cells[field_short_description] END AS short_description,
        CASE WHEN fixed THEN substr(raw, 205, 5) ELSE cells[field_xref1] END AS xref1,
        CASE WHEN fixed THEN substr(raw, 210, 5) ELSE cells[field_xref2] END AS xref2,
        CASE WHEN fixed THEN substr(raw, 215, 5) ELSE cells[field_xref3] END AS xref3,
        CASE WHEN fixed THEN substr(raw, 220, 5) ELSE cells[field_xref4] END AS xref4,
        CASE WHEN fixed THEN substr(raw, 225, 5) ELSE cells[field_xref5] END AS xref5,
        CASE WHEN fixed THEN substr(raw, 269, 8) ELSE cells[field_add_dt] END AS add_dt,
        CASE WHEN fixed THEN substr(raw, 277, 8) ELSE cells[field_act_eff_dt] END AS act_eff_dt,
        CASE WHEN fixed THEN substr(raw, 285, 8) ELSE cells[field_term_dt] END AS term_dt,
        CASE WHEN fixed THEN substr(raw, 293, 1) ELSE cells[field_action_cd] END AS action_cd
    FROM (
        SELECT
            *,
            format = 'fixed' AND kind = 'record' AS fixed,
            -- a CSV record with another number of fields than the header gets none (the checks refuse it)
            CASE WHEN len(fields) = header_fields THEN fields END AS cells
        FROM split
    )
),
shaped AS (
    -- a fixed-width line that does not start like a record is text, not a record with bad fields
    SELECT * REPLACE (
        CASE WHEN record_shaped IS NOT FALSE THEN hcpc END AS hcpc,
        CASE WHEN record_shaped IS NOT FALSE THEN seqnum END AS seqnum,
        CASE WHEN record_shaped IS NOT FALSE THEN recid END AS recid
    )
    FROM cut
),
typed AS (
    SELECT
        *,
        recid IN ('3', '7') AS is_first,
        -- a first record whose fields can be read: every one in a CSV, a whole 320 characters in a fixed-width file
        recid IN ('3', '7') AND (format <> 'fixed' OR line_length = 320) AS is_readable_first,
        recid IN ('4', '8') AS is_continuation,
        CASE WHEN recid IN ('3', '4') THEN 'hcpcs' WHEN recid IN ('7', '8') THEN 'hcpcs_modifier' END AS code_system,
        -- codes are stored canonical: trimmed (a modifier is right-justified), upper case
        upper(trim(hcpc)) AS code,
        CASE WHEN regexp_full_match(seqnum, '[0-9]{1,5}') THEN CAST(seqnum AS INTEGER) END AS seq,
        CASE WHEN regexp_full_match(add_dt, '[0-9]{8}') THEN CAST(try_strptime(add_dt, '%Y%m%d') AS DATE) END
            AS added,
        CASE WHEN regexp_full_match(act_eff_dt, '[0-9]{8}') THEN CAST(try_strptime(act_eff_dt, '%Y%m%d') AS DATE) END
            AS action_effective,
        CASE WHEN regexp_full_match(term_dt, '[0-9]{8}') THEN CAST(try_strptime(term_dt, '%Y%m%d') AS DATE) END
            AS terminated
    FROM shaped
)
SELECT
    *,
    -- the record before this one in its file (blank lines between do not count), for the sequence check
    lag(code) OVER records AS previous_code,
    lag(code_system) OVER records AS previous_system,
    lag(recid) OVER records AS previous_recid,
    lag(seq) OVER records AS previous_seq,
    lag(seqnum) OVER records AS previous_seqnum,
    lag(line_no) OVER records AS previous_line,
    -- the line of the first record a continuation belongs to (its own line for a first record)
    max(CASE WHEN is_first THEN line_no END) OVER (
        PARTITION BY file_no ORDER BY line_no ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS first_line
FROM typed
WINDOW records AS (PARTITION BY file_no, kind ORDER BY line_no)
