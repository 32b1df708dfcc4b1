-- ncci_ptp_read: the data lines of one PTP file appended to ptp_raw, in file order.
-- Parameters: file number, path, header lines (skipped).
-- No line number is computed here: row_number() would keep the read to one thread. The rows go
-- into the table in file order (preserve_insertion_order), so a row's line is its rowid less the
-- file's first rowid, plus the header and one (ncci_ptp_rows.sql). The byte pass has already
-- checked six tabs on every line and no empty line, so the reader's padding and skipping never
-- apply; the loader compares the row count with the line count.
INSERT INTO ptp_raw
SELECT CAST(? AS USMALLINT), *
FROM read_csv(?, delim = '\t', header = false, skip = ?, auto_detect = false,
              columns = {'c1': 'VARCHAR', 'c2': 'VARCHAR', 'prior': 'VARCHAR', 'effective': 'VARCHAR',
                         'deletion': 'VARCHAR', 'indicator': 'VARCHAR', 'rationale': 'VARCHAR'},
              quote = '', escape = '', new_line = '\r\n', encoding = 'latin-1',
              null_padding = true, strict_mode = false, max_line_size = 2097154)
