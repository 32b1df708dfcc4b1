-- gem_map_history: every row of every GEM release, flags decoded, with its effective window.
-- Grain: one row per GEM file row (release, direction, source code, target code, flags).
-- Key: release_id, source_file, line_no (a data test checks that no two rows share it)
-- Sources: CMS/NCHS General Equivalence Mappings, all loaded releases.
-- Example: SELECT release_id, target_code, flags FROM gem_map_history WHERE source_code = 'R6521' AND source_system = 'icd10cm';
-- Columns:
--   source_system: code system mapped from (icd9cm, icd10cm, icd9pcs, icd10pcs)
--   target_system: code system mapped to
--   source_code: canonical source code (undotted, upper case)
--   target_code: canonical target code; NULL for a no-map row
--   approximate: flag 1; the pair is not an exact equivalent
--   no_map: flag 2, or a NoDx/NoPCS/NoI9 target; the source code has no target
--   combination: flag 3 as published; the target is one part of a combination
--   scenario: flag 4; which combination scenario the row belongs to (0 for none)
--   choice_list: flag 5; which choice list of the scenario (0 for none)
--   flags: the five flag digits exactly as published
--   release_id: GEM release
--   effective_from: first date of service the release serves this direction
--   effective_to: last such date; NULL while open
--   is_current: row of the release a lookup uses by default
--   source_file: file the row came from
--   line_no: line of source_file
SELECT
    m.source_system,
    m.target_system,
    m.source_code,
    m.target_code,
    m.approximate,
    m.no_map,
    m.combination,
    m.scenario,
    m.choice_list,
    m.flags,
    m.release_id,
    d.effective_from,
    d.effective_to,
    d.is_current,
    m.source_file,
    m.line_no
FROM maps AS m
INNER JOIN gem_directions AS d
    ON d.release_id = m.release_id
    AND d.source_system = m.source_system
    AND d.target_system = m.target_system
WHERE m.source = 'gems'
