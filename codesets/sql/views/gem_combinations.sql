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
--   source_title: the source code's title, when a code set of its system is loaded (code_titles)
--   target_titles: one title per target code, in target_codes order (NULL where no code set lists it)
WITH current AS (
    SELECT * FROM gem_combinations_history WHERE is_current
),
-- each alternative's target codes one by one, with their place in the list
targets AS (
    SELECT c.source_system, c.target_system, c.source_code, c.scenario, c.alternative,
        p.position, c.target_codes[p.position] AS code
    FROM current AS c, unnest(range(1, len(c.target_codes) + 1)) AS p(position)
),
-- their titles, kept in choice-list order
titled AS (
    SELECT
        g.source_system, g.target_system, g.source_code, g.scenario, g.alternative,
        list(t.description ORDER BY g.position) AS target_titles
    FROM targets AS g
    LEFT JOIN code_titles AS t ON t.code_system = g.target_system AND t.code = g.code
    GROUP BY g.source_system, g.target_system, g.source_code, g.scenario, g.alternative
)
SELECT
    c.source_system,
    c.target_system,
    c.source_code,
    c.scenario,
    c.alternative,
    c.target_codes,
    c.approximate,
    c.choice_lists,
    c.release_id,
    s.description AS source_title,
    l.target_titles
FROM current AS c
LEFT JOIN titled AS l
    ON l.source_system = c.source_system AND l.target_system = c.target_system AND l.source_code = c.source_code
    AND l.scenario = c.scenario AND l.alternative = c.alternative
LEFT JOIN code_titles AS s ON s.code_system = c.source_system AND s.code = c.source_code
