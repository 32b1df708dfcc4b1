-- gem_combinations: the complete alternatives of each current GEM combination entry.
-- Grain: one row per (direction, source code, scenario, alternative) of the current release.
-- Key: source_system, target_system, source_code, scenario, alternative (a data test checks that no two rows share it)
-- Sources: gem_combinations_history (which explains how alternatives are built).
-- ICD-10-CM R65.21 has one alternative, [785.52, 995.92]; ICD-9-CM 806.4 has six scenarios.
-- Example: SELECT scenario, alternative, target_codes FROM gem_combinations WHERE source_system = 'icd10cm' AND source_code = 'R6521';
-- Columns:
--   source_system: code system mapped from
--   target_system: code system mapped to
--   source_code: canonical source code
--   scenario: combination scenario number
--   alternative: 1..n within the scenario, in file order
--   target_codes: one target code per choice list, ordered by choice list
--   approximate: any of the rows used is approximate
--   choice_lists: number of choice lists in the scenario
--   release_id: GEM release
SELECT
    source_system,
    target_system,
    source_code,
    scenario,
    alternative,
    target_codes,
    approximate,
    choice_lists,
    release_id
FROM gem_combinations_history
WHERE is_current
