-- ncci_ptp_stage: the staged PTP rows the checks read (ncci_ptp_rows: raw and typed fields side by side).
SELECT * FROM ptp_rows
