-- gem_map: the current GEM rows for each direction, flags decoded into columns.
-- Grain: one row per GEM file row of the current release of its direction.
-- Key: source_system, target_system, source_file, line_no (a data test checks that no two rows share it)
-- Sources: CMS/NCHS General Equivalence Mappings (e.g. 2018_I9gem.txt, 2018_I10gem.txt,
--   gem_i9pcs.txt, gem_pcsi9.txt); gem_map_history holds every release. Titles come from the
--   loaded code sets (code_titles), NULL where none lists the code.
-- Example: SELECT target_code, scenario, choice_list FROM gem_map WHERE source_system = 'icd10cm' AND source_code = 'R6521';
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
--   source_file: file the row came from
--   line_no: line of source_file
--   source_title: the source code's title, when a code set of its system is loaded (code_titles)
--   target_title: the target code's title, likewise
SELECT
    g.source_system,
    g.target_system,
    g.source_code,
    g.target_code,
    g.approximate,
    g.no_map,
    g.combination,
    g.scenario,
    g.choice_list,
    g.flags,
    g.release_id,
    g.source_file,
    g.line_no,
    s.description AS source_title,
    t.description AS target_title
FROM gem_map_history AS g
LEFT JOIN code_titles AS s ON s.code_system = g.source_system AND s.code = g.source_code
LEFT JOIN code_titles AS t ON t.code_system = g.target_system AND t.code = g.target_code
WHERE g.is_current
