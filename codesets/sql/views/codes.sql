-- codes: when each code was valid, as one window per unbroken run of releases that list it alike.
-- Grain: one row per code per validity window.
-- Key: code_system, code, effective_from (a data test checks that no two rows share it)
-- Sources: code_history. Consecutive releases that list a code with the same titles and the same
--   billable flag, with no gap between their windows, make one window; a change of title or of
--   billable status, or a gap (the code absent from a release, or terminated), starts another.
--   Rows valid on no date (a discontinued HCPCS code kept in later files) are left out.
--   Is code C of system S valid on date D? WHERE code_system = S AND code = C AND billable
--   AND effective_from <= D AND (effective_to IS NULL OR D <= effective_to)
--   (`codesets code` answers the same with a status and successors).
-- Example: SELECT code, billable, effective_from, effective_to, release_id, description FROM codes WHERE code_system = 'icd10cm' AND code LIKE 'M545%' ORDER BY code, effective_from;
-- Columns:
--   code_system: icd10cm, icd10pcs, hcpcs, hcpcs_modifier, icd9cm, icd9pcs or cpt
--   code: canonical code (undotted, upper case)
--   description: long title through the window
--   short_description: short title, where the files carry one
--   billable: a code to bill with; false for an ICD-10 header (a category with subdivisions)
--   effective_from: first date of service of the window
--   effective_to: last date of service of the window, inclusive; NULL when the window is open (no end yet). Not NULL for a code that ends by its own date even in the latest release (ICD-9-CM 2015-09-30, a HCPCS or CPT termination): valid on date D is effective_from <= D AND (effective_to IS NULL OR D <= effective_to), never effective_to IS NULL alone
--   release_id: the latest release in the window
--   first_release_id: the first release in the window
--   releases: how many releases the window spans
--   is_sample: the window comes from the bundled hand-made sample
WITH valid AS (
    SELECT *
    FROM code_history
    WHERE effective_to IS NULL OR effective_from <= effective_to
),
marked AS (
    SELECT
        *,
        CASE
            WHEN LAG(effective_to) OVER w IS NOT NULL
                AND CAST(LAG(effective_to) OVER w + INTERVAL 1 DAY AS DATE) = effective_from
                AND LAG(billable) OVER w = billable
                AND COALESCE(LAG(description) OVER w, '') = COALESCE(description, '')
                AND COALESCE(LAG(short_description) OVER w, '') = COALESCE(short_description, '')
                AND LAG(is_sample) OVER w = is_sample
            THEN 0
            ELSE 1
        END AS starts
    FROM valid
    WINDOW w AS (PARTITION BY code_system, code ORDER BY effective_from)
),
numbered AS (
    SELECT
        *,
        SUM(starts) OVER (PARTITION BY code_system, code ORDER BY effective_from ROWS UNBOUNDED PRECEDING)
            AS window_no
    FROM marked
),
windows AS (
    SELECT
        code_system,
        code,
        window_no,
        MIN(effective_from) AS effective_from,
        CASE WHEN COUNT(*) > COUNT(effective_to) THEN NULL ELSE MAX(effective_to) END AS effective_to,
        MAX(release_effective_from) AS last_release_from,
        MIN(release_effective_from) AS first_release_from,
        COUNT(*) AS releases
    FROM numbered
    GROUP BY code_system, code, window_no
)
SELECT
    w.code_system,
    w.code,
    l.description,
    l.short_description,
    l.billable,
    w.effective_from,
    w.effective_to,
    l.release_id,
    f.release_id AS first_release_id,
    CAST(w.releases AS INTEGER) AS releases,
    l.is_sample
FROM windows AS w
INNER JOIN numbered AS l
    ON l.code_system = w.code_system AND l.code = w.code AND l.window_no = w.window_no
    AND l.release_effective_from = w.last_release_from
INNER JOIN numbered AS f
    ON f.code_system = w.code_system AND f.code = w.code AND f.window_no = w.window_no
    AND f.release_effective_from = w.first_release_from
