-- gem_translate: translate a batch of codes, ranges and prefixes through the GEMs.
-- Grain: one row per (input, source code matched, answer); an input with no answer still gets
-- one row ('no map', or 'not in GEM' for a code the chosen GEMs do not know).
-- Sources: maps (GEM rows) of the releases the caller resolved from gem_directions.
-- Inputs: the registered Arrow table gem_inputs(position, input, kind, low, high), one row per
--   input as codesets.codes.parse_selector read it (kind 'code', 'prefix' or 'range'; high is
--   the range end, '' otherwise).
-- Parameters: $from_system, $to_system, $method ('forward', 'backward', 'both', 'multi-stage'),
--   $forward_release (release of the from->to GEM), $backward_release (release of the to->from GEM).
-- Methods:
--   forward: the entry of each code in the from->to GEM; single rows are alternatives,
--     combination scenarios come back whole, one row per complete alternative.
--   backward: reverse lookup of the to->from GEM: every row whose target is the code gives its
--     source code as an answer; a row inside a combination scenario means the code is only one
--     part of the answer's meaning ('combination part', with its scenario and choice list).
--   both: forward rows and backward rows, each labelled with the method that found it.
--   multi-stage (AHRQ, as the R package touch implements it): stage 1 takes forward and
--     backward answers apart into single to-codes; stage 2 maps those back with the to->from
--     GEM and the reverse of the from->to GEM; stage 3 applies forward and backward to the
--     from-codes of stage 2. The answers are those of stage 3, each once per input code.
-- Alternatives of a combination are numbered in file order of their choices, as in
-- gem_combinations_history, so the two agree; other answers are numbered in file order.
-- Example: see codesets.warehouse.translate.translate, which binds everything here.
WITH RECURSIVE
fwd AS MATERIALIZED (
    SELECT source_code, target_code, approximate, no_map, scenario, choice_list, line_no
    FROM maps
    WHERE source = 'gems'
        AND release_id = $forward_release
        AND source_system = $from_system
        AND target_system = $to_system
),
bwd AS MATERIALIZED (
    SELECT source_code, target_code, approximate, no_map, scenario, choice_list, line_no
    FROM maps
    WHERE source = 'gems'
        AND release_id = $backward_release
        AND source_system = $to_system
        AND target_system = $from_system
        AND $method <> 'forward'
),
-- Every from-code the chosen GEMs know: what prefixes and ranges expand over, and what
-- tells a code with no answer ('no map') from one the GEMs lack ('not in GEM').
known AS (
    SELECT source_code AS code FROM fwd
    UNION
    SELECT target_code FROM bwd WHERE target_code IS NOT NULL
),
asked AS (
    SELECT position, input, low AS source_code
    FROM gem_inputs
    WHERE kind = 'code'
    UNION ALL
    SELECT i.position, i.input, k.code
    FROM gem_inputs AS i
    INNER JOIN known AS k
        ON (i.kind = 'prefix' AND STARTS_WITH(k.code, i.low))
        OR (i.kind = 'range'
            AND LEFT(k.code, LENGTH(i.low)) >= i.low
            AND LEFT(k.code, LENGTH(i.high)) <= i.high)
),
stage1 AS (
    SELECT a.position, a.source_code, f.target_code AS code
    FROM asked AS a
    INNER JOIN fwd AS f ON f.source_code = a.source_code
    WHERE $method = 'multi-stage' AND f.target_code IS NOT NULL
    UNION
    SELECT a.position, a.source_code, b.source_code
    FROM asked AS a
    INNER JOIN bwd AS b ON b.target_code = a.source_code
    WHERE $method = 'multi-stage'
),
stage2 AS (
    SELECT s.position, s.source_code, b.target_code AS code
    FROM stage1 AS s
    INNER JOIN bwd AS b ON b.source_code = s.code
    WHERE b.target_code IS NOT NULL
    UNION
    SELECT s.position, s.source_code, f.source_code
    FROM stage1 AS s
    INNER JOIN fwd AS f ON f.target_code = s.code
),
-- The from-codes whose GEM rows answer: the asked code itself, or for multi-stage the
-- codes stage 2 reached.
probes AS (
    SELECT position, input, source_code, source_code AS probe
    FROM asked
    WHERE $method <> 'multi-stage'
    UNION ALL
    SELECT a.position, a.input, a.source_code, s.code
    FROM asked AS a
    INNER JOIN stage2 AS s ON s.position = a.position AND s.source_code = a.source_code
),
forward_rows AS (
    SELECT p.position, p.input, p.source_code, p.probe, f.target_code, f.approximate, f.no_map,
        f.scenario, f.choice_list, f.line_no,
        f.scenario > 0 AND f.choice_list > 0 AND NOT f.no_map AS in_combination,
        -- Single rows are alternatives numbered in file order (combinations: see walk).
        ROW_NUMBER() OVER (
            PARTITION BY p.position, p.probe, f.no_map,
                f.scenario > 0 AND f.choice_list > 0 AND NOT f.no_map
            ORDER BY f.line_no
        ) AS alternative
    FROM probes AS p
    INNER JOIN fwd AS f ON f.source_code = p.probe
    WHERE $method IN ('forward', 'both', 'multi-stage')
),
-- Choice lists are taken in order of their numbers (DENSE_RANK), as gem_combinations_history
-- does, so a scenario whose lists skip a number (1651 in gem_i9pcs.txt) keeps its alternatives.
ranked AS (
    SELECT *,
        DENSE_RANK() OVER (
            PARTITION BY position, source_code, probe, scenario ORDER BY choice_list
        ) AS list_no
    FROM forward_rows
    WHERE in_combination
),
members AS (
    SELECT *,
        MAX(list_no) OVER (PARTITION BY position, source_code, probe, scenario) AS choice_lists,
        -- Rank and size of each choice list: the alternative number is then computed while
        -- walking, in file order of the choices, without sorting lists of codes.
        ROW_NUMBER() OVER (
            PARTITION BY position, source_code, probe, scenario, list_no ORDER BY line_no
        ) - 1 AS rank_in_list,
        COUNT(*) OVER (PARTITION BY position, source_code, probe, scenario, list_no) AS list_size
    FROM ranked
),
walk AS (
    SELECT position, input, source_code, probe, scenario, choice_lists,
        1 AS depth, [target_code] AS target_codes, approximate, rank_in_list AS alt_index
    FROM members
    WHERE list_no = 1
    UNION ALL
    SELECT w.position, w.input, w.source_code, w.probe, w.scenario, w.choice_lists,
        w.depth + 1, LIST_APPEND(w.target_codes, m.target_code), w.approximate OR m.approximate,
        w.alt_index * m.list_size + m.rank_in_list
    FROM walk AS w
    INNER JOIN members AS m
        ON m.position = w.position
        AND m.source_code = w.source_code
        AND m.probe = w.probe
        AND m.scenario = w.scenario
        AND m.list_no = w.depth + 1
),
-- Sizes of the backward GEM's combination scenarios, for the rows that are one part of one.
bwd_scenarios AS (
    SELECT source_code, scenario, COUNT(DISTINCT choice_list) AS choice_lists
    FROM bwd
    WHERE scenario > 0 AND choice_list > 0
    GROUP BY source_code, scenario
),
answers AS (
    SELECT position, input, source_code, 'forward' AS method,
        CASE WHEN no_map THEN 'no map' ELSE 'single' END AS kind,
        CASE WHEN no_map THEN []::VARCHAR[] ELSE [target_code] END AS target_codes,
        approximate, 0 AS scenario, alternative,
        NULL::INTEGER AS choice_list, NULL::INTEGER AS choice_lists
    FROM forward_rows
    WHERE NOT in_combination
    UNION ALL
    SELECT position, input, source_code, 'forward', 'combination', target_codes,
        approximate, scenario, alt_index + 1, NULL, choice_lists
    FROM walk
    WHERE depth = choice_lists
    UNION ALL
    SELECT p.position, p.input, p.source_code, 'backward',
        CASE WHEN s.scenario IS NULL THEN 'single' ELSE 'combination part' END,
        [b.source_code], b.approximate,
        COALESCE(s.scenario, 0),
        ROW_NUMBER() OVER (PARTITION BY p.position, p.probe, s.scenario IS NULL ORDER BY b.line_no),
        CASE WHEN s.scenario IS NOT NULL THEN b.choice_list END,
        s.choice_lists
    FROM probes AS p
    INNER JOIN bwd AS b ON b.target_code = p.probe
    LEFT JOIN bwd_scenarios AS s
        ON s.source_code = b.source_code AND s.scenario = b.scenario AND b.choice_list > 0
    WHERE $method IN ('backward', 'both', 'multi-stage')
),
merged AS (
    SELECT * FROM answers WHERE $method <> 'multi-stage'
    UNION ALL
    -- Multi-stage reaches one answer through many stage-2 codes: keep it once per input
    -- code. Its scenario numbers and file lines belong to those intermediate entries, so
    -- they are not reported.
    SELECT position, input, source_code, 'multi-stage', kind, target_codes,
        BOOL_AND(approximate), NULL,
        -- No file order spans the stages: number the answers in code order.
        ROW_NUMBER() OVER (
            PARTITION BY position, source_code, kind ORDER BY ARRAY_TO_STRING(target_codes, ' ')
        ),
        NULL, CASE WHEN kind = 'combination' THEN LEN(target_codes) END
    FROM answers
    WHERE $method = 'multi-stage'
    GROUP BY position, input, source_code, kind, target_codes
),
unanswered AS (
    SELECT a.position, a.input, a.source_code,
        CASE WHEN k.code IS NULL THEN 'not in GEM' ELSE 'no map' END AS kind
    FROM asked AS a
    LEFT JOIN known AS k ON k.code = a.source_code
    WHERE NOT EXISTS (
        SELECT 1 FROM merged AS m
        WHERE m.position = a.position AND m.source_code = a.source_code
    )
    UNION ALL
    -- A prefix or range that matched no code at all.
    SELECT i.position, i.input, NULL, 'not in GEM'
    FROM gem_inputs AS i
    WHERE NOT EXISTS (SELECT 1 FROM asked AS a WHERE a.position = i.position)
),
answered AS (
    SELECT position, input, source_code, method, kind, target_codes, approximate,
        scenario, alternative, choice_list, choice_lists
    FROM merged
    UNION ALL
    SELECT position, input, source_code, $method, kind, []::VARCHAR[], NULL, NULL, 1, NULL, NULL
    FROM unanswered
)
SELECT
    input,
    source_code,
    $from_system AS source_system,
    $to_system AS target_system,
    method,
    kind,
    target_codes,
    approximate,
    CAST(scenario AS INTEGER) AS scenario,
    CAST(alternative AS INTEGER) AS alternative,
    CAST(choice_list AS INTEGER) AS choice_list,
    CAST(choice_lists AS INTEGER) AS choice_lists,
    CASE WHEN method = 'backward' THEN $backward_release ELSE $forward_release END AS release_id
FROM answered
ORDER BY
    position,
    source_code,
    CASE method WHEN 'forward' THEN 0 WHEN 'backward' THEN 1 ELSE 2 END,
    CASE kind WHEN 'single' THEN 0 WHEN 'combination' THEN 1 WHEN 'combination part' THEN 2 ELSE 3 END,
    scenario,
    alternative
