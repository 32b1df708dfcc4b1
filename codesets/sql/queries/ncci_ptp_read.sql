-- ncci_ptp_read: the data lines of one PTP file into ptp_raw, numbered as an editor numbers them.
-- Parameters: file number, header lines, path, header lines (again, for skip).
-- The byte pass has already checked six tabs on every line and no empty line, so the reader's
-- padding and skipping never apply; the loader compares the row count with the line count.
INSERT INTO ptp_raw
SELECT CAST(? AS USMALLINT), CAST(row_number() OVER () + ? AS INTEGER), *
FROM read_csv(?, delim = '\t', header = false, skip = ?, auto_detect = false,
              columns = {'c1': 'VARCHAR', 'c2': 'VARCHAR', 'prior': 'VARCHAR', 'effective': 'VARCHAR',
                         'deletion': 'VARCHAR', 'indicator': 'VARCHAR', 'rationale': 'VARCHAR'},
              quote = '', escape = '', new_line = '\r\n', encoding = 'latin-1',
              null_padding = true, strict_mode = false, max_line_size = 2097154)
