-- mue_limits: NCCI medically unlikely edits: the most units of a code per line or date of service, every release.
-- Grain: one row per code per service type and release.
-- Key: service_type, code, release_id (a data test checks that no two rows share it)
-- Sources: the CMS NCCI MUE tables (MCR_MUE_PractitionerServices_Eff_MM-DD-YYYY.csv,
--   MCR_MUE_OutpatientHospitalServices_..., MCR_MUE_DMESupplierServices_...), loaded by source
--   ncci_mue, one part per service type; windows come from release_parts. The limit for a date
--   of service D is the row whose window holds D: serves AND effective_from <= D AND
--   (effective_to IS NULL OR D <= effective_to). Plain joins only, so it runs on other engines.
-- Example: SELECT service_type, mue_value, mai, rationale, effective_from, effective_to FROM mue_limits WHERE code = '0001U' ORDER BY service_type, effective_from;
-- Columns:
--   service_type: practitioner, outpatient_hospital or dme (the table the row comes from)
--   code: HCPCS or CPT code, canonical (upper case)
--   mue_value: most units of service of the code on one line (MAI 1) or one date of service (MAI 2, 3)
--   mai: MUE adjudication indicator: 1 line edit, 2 date of service edit (policy), 3 date of service edit (clinical)
--   mai_text: the adjudication indicator as the file states it, e.g. '2 Date of Service Edit: Policy'
--   rationale: CMS's rationale for the limit, as published
--   effective_from: first date of service the release's table applies to; NULL for a sample that no longer serves
--   effective_to: last date of service, the day before the next release of the same service type; NULL while open
--   release_id: the MUE release, named for its first date of service (e.g. 2026-07-01)
--   serves: false for a sample once a real release of the service type is loaded
--   is_sample: a bundled hand-made sample, not a CMS table
--   source_file: file the row came from
--   line_no: physical line of source_file (counting the lines inside the quoted notice and header)
SELECT
    l.service_type,
    l.code,
    l.mue_value,
    l.mai,
    l.mai_text,
    l.rationale,
    p.effective_from,
    p.effective_to,
    l.release_id,
    p.serves,
    p.is_sample,
    l.source_file,
    l.line_no
FROM limits AS l
INNER JOIN release_parts AS p
    ON p.source = l.source
    AND p.release_id = l.release_id
    AND p.part = l.part
WHERE l.source = 'ncci_mue'
