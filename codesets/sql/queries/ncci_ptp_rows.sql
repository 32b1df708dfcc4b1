-- ncci_ptp_rows: PTP lines cut into typed fields, with the raw fields the checks name.
-- Input: ptp_raw(file_no, c1, c2, prior, effective, deletion, indicator, rationale) in file order
--   and ptp_files(file_no, source_file, part, first_row, header). Output: one row per data line;
--   the publish reads the typed columns, the checks (as the view ``staged``) the raw ones too.
SELECT
    r.file_no,
    f.source_file,
    CAST(r.rowid - f.first_row + f.header + 1 AS INTEGER) AS line_no,
    f.part,
    f.part AS setting,
    r.c1,
    r.c2,
    r.prior,
    r.effective,
    r.deletion,
    r.indicator,
    upper(r.c1) AS column1_code,
    upper(r.c2) AS column2_code,
    coalesce(r.prior = '*', FALSE) AS prior_1996,
    CAST(try_strptime(r.effective, '%Y%m%d') AS DATE) AS effective_date,
    CASE WHEN r.deletion <> '*' THEN CAST(try_strptime(r.deletion, '%Y%m%d') AS DATE) END AS deletion_date,
    r.indicator AS modifier_indicator,
    r.rationale
FROM ptp_raw AS r
INNER JOIN ptp_files AS f ON f.file_no = r.file_no
