-- gem_combinations_history: every complete alternative of every GEM combination entry, all releases.
-- Grain: one row per (release, direction, source code, scenario, alternative).
-- Key: release_id, source_system, target_system, source_code, scenario, alternative (a data test checks that no two rows share it)
-- Sources: gem_map_history.
-- A scenario is satisfied by one code from each of its choice lists, so its alternatives
-- are the cartesian product of the lists; target_codes holds one code per list, in list order.
-- Membership follows the scenario and choice-list digits: two rows of gem_i9pcs.txt (3584)
-- carry scenario 1, choice list 3 under a combination flag of 0, and belong to the scenario.
-- Lists are taken in order of their numbers, so a scenario whose lists skip a number
-- (1651 in gem_i9pcs.txt: lists 1 and 3) still yields its alternatives.
-- Alternatives are numbered in file order of their choices.
-- Example: SELECT scenario, alternative, target_codes FROM gem_combinations_history WHERE source_code = '8064' AND release_id = '2018';
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
--   effective_from: first date of service the release serves this direction
--   effective_to: last such date; NULL while open
--   is_current: alternative of the release a lookup uses by default
WITH RECURSIVE ranked AS (
    SELECT
        release_id, source_system, target_system, source_code, scenario, choice_list,
        target_code, approximate, line_no, effective_from, effective_to, is_current,
        DENSE_RANK() OVER (
            PARTITION BY release_id, source_system, target_system, source_code, scenario
            ORDER BY choice_list
        ) AS position
    FROM gem_map_history
    WHERE scenario > 0 AND choice_list > 0 AND NOT no_map
),
members AS (
    SELECT
        *,
        MAX(position) OVER (
            PARTITION BY release_id, source_system, target_system, source_code, scenario
        ) AS choice_lists
    FROM ranked
),
walk AS (
    SELECT
        release_id, source_system, target_system, source_code, scenario, choice_lists,
        effective_from, effective_to, is_current,
        1 AS depth,
        ARRAY[target_code] AS target_codes,
        approximate,
        LPAD(CAST(line_no AS VARCHAR), 10, '0') AS path
    FROM members
    WHERE position = 1
    UNION ALL
    SELECT
        w.release_id, w.source_system, w.target_system, w.source_code, w.scenario, w.choice_lists,
        w.effective_from, w.effective_to, w.is_current,
        w.depth + 1,
        w.target_codes || ARRAY[m.target_code],
        w.approximate OR m.approximate,
        w.path || LPAD(CAST(m.line_no AS VARCHAR), 10, '0')
    FROM walk AS w
    INNER JOIN members AS m
        ON m.release_id = w.release_id
        AND m.source_system = w.source_system
        AND m.target_system = w.target_system
        AND m.source_code = w.source_code
        AND m.scenario = w.scenario
        AND m.position = w.depth + 1
)
SELECT
    source_system,
    target_system,
    source_code,
    scenario,
    ROW_NUMBER() OVER (
        PARTITION BY release_id, source_system, target_system, source_code, scenario
        ORDER BY path
    ) AS alternative,
    target_codes,
    approximate,
    choice_lists,
    release_id,
    effective_from,
    effective_to,
    is_current
FROM walk
WHERE depth = choice_lists
