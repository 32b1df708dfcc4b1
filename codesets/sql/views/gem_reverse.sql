-- gem_reverse: reverse lookup, the source codes of the current GEMs that point at a target code.
-- Grain: one row per current GEM row with a target, keyed by the target.
-- Key: target_system, target_code, source_system, source_code, scenario, choice_list (a data test checks that no two rows share it)
-- Sources: gem_map. The GEM guide recommends looking up the target column of the
-- ICD-10-CM to ICD-9-CM GEM to see every ICD-10-CM code that leads to an ICD-9-CM code.
-- Example: SELECT source_code, combination, scenario FROM gem_reverse WHERE target_system = 'icd9cm' AND target_code = '99592';
-- Columns:
--   target_system: code system of the code looked up
--   target_code: the code looked up
--   source_system: code system of the codes that point at it
--   source_code: a code whose GEM entry lists target_code
--   approximate: flag 1 of that row
--   combination: the row is one part of a combination scenario
--   scenario: its scenario (0 for none)
--   choice_list: its choice list (0 for none)
--   release_id: GEM release
SELECT
    target_system,
    target_code,
    source_system,
    source_code,
    approximate,
    scenario > 0 AND choice_list > 0 AS combination,
    scenario,
    choice_list,
    release_id
FROM gem_map
WHERE NOT no_map
