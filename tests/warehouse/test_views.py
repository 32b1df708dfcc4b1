"""Every view in codesets/sql/views: documented, commented in the database, and right on real rows."""

from __future__ import annotations

import itertools
from collections import defaultdict

import pytest

from codesets.loaders.contract import SHARED_TABLES
from codesets.core import sqlfiles

VIEW_NAMES = [v.name for v in sqlfiles.views()]


def view_key(view) -> list[str]:
    line = next(line for line in view.sql.splitlines() if line.startswith("-- Key:"))
    return [c.strip() for c in line.removeprefix("-- Key:").split("(")[0].split(",")]


def grain_violations(con, view) -> list:
    """The data test of a view's grain: rows sharing its key. Zero rows is a pass."""
    key = ", ".join(f'"{c}"' for c in view_key(view))
    return con.execute(
        f'SELECT {key}, COUNT(*) AS n, \'key shared by several rows\' AS failure_reason '
        f'FROM "{view.name}" GROUP BY {key} HAVING COUNT(*) > 1 LIMIT 5'
    ).fetchall()


@pytest.mark.parametrize("view", sqlfiles.views(), ids=lambda v: v.name)
def test_view_file_has_a_header(view):
    text = view.sql
    assert view.summary.startswith(f"{view.name}:"), "first line: '-- name: purpose'"
    for part in ("Grain:", "Key:", "Sources:", "Example:", "Columns:"):
        assert f"-- {part}" in text, f"{view.name}.sql header lacks {part}"


def test_every_view_and_column_is_commented_in_the_database(sample_warehouse):
    with sample_warehouse.connect() as con:
        views = dict(con.execute("SELECT view_name, comment FROM duckdb_views() WHERE NOT internal").fetchall())
        assert set(views) == set(VIEW_NAMES) | set(SHARED_TABLES) | {"row_runs"}  # row_runs: storage of cumulative shapes
        assert all(views.values())
        missing = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() c JOIN duckdb_views() v "
            "ON c.table_name = v.view_name WHERE NOT v.internal AND c.comment IS NULL"
        ).fetchall()
        assert missing == []


@pytest.mark.parametrize("view", sqlfiles.views(), ids=lambda v: v.name)
def test_every_view_keeps_its_grain_on_the_sample(sample_warehouse, view):
    with sample_warehouse.connect() as con:
        assert grain_violations(con, view) == []


@pytest.mark.parametrize("view", sqlfiles.views(), ids=lambda v: v.name)
def test_every_view_keeps_its_grain_on_the_real_files(real_2018, view):
    wh, _ = real_2018
    with wh.connect() as con:
        assert grain_violations(con, view) == []


def test_every_view_answers_its_example(sample_warehouse):
    with sample_warehouse.connect() as con:
        for view in sqlfiles.views():
            example = next(line for line in view.sql.splitlines() if line.startswith("-- Example:"))
            con.execute(example.removeprefix("-- Example:").strip()).fetchall()


def test_releases_view(sample_warehouse):
    with sample_warehouse.connect() as con:
        row = con.execute(
            "SELECT source, release_id, effective_from, effective_to, row_count FROM releases ORDER BY source"
        ).fetchall()
    gems = next(r for r in row if r[0] == "gems")
    assert gems[:2] == ("gems", "sample") and gems[3] is None and gems[4] > 0


# --- spot checks on the real 2018 release --------------------------------------------------


def combos(con, system, code):
    return con.execute(
        "SELECT scenario, alternative, target_codes FROM gem_combinations "
        "WHERE source_system = ? AND source_code = ? ORDER BY scenario, alternative",
        [system, code],
    ).fetchall()


def test_r6521_is_one_combination(real_2018):
    wh, _ = real_2018
    with wh.connect() as con:
        assert combos(con, "icd10cm", "R6521") == [(1, 1, ["78552", "99592"])]
        assert combos(con, "icd10cm", "I25710") == [(1, 1, ["41402", "4111"])]
        assert combos(con, "icd9cm", "11511") == [(1, 1, ["B395", "G02"])]


def test_8064_six_scenarios_and_three_alternatives_in_scenario_2(real_2018):
    wh, _ = real_2018
    with wh.connect() as con:
        rows = combos(con, "icd9cm", "8064")
    assert sorted({s for s, _a, _t in rows}) == [1, 2, 3, 4, 5, 6]
    assert [t for s, _a, t in rows if s == 2] == [
        ["S34101A", "S32019A"], ["S34111A", "S32019A"], ["S34121A", "S32019A"]
    ]


def python_alternatives(rows):
    """The twin: group (scenario, choice list) rows and take the cartesian product in list order."""
    lists = defaultdict(lambda: defaultdict(list))
    for scenario, choice_list, target, _line in sorted(rows, key=lambda r: r[3]):
        lists[scenario][choice_list].append(target)
    out = []
    for scenario in sorted(lists):
        ordered = [lists[scenario][k] for k in sorted(lists[scenario])]
        out += [(scenario, list(combo)) for combo in itertools.product(*ordered)]
    return sorted(out)


def test_combinations_match_a_python_cartesian_product(real_2018):
    wh, _ = real_2018
    with wh.connect() as con:
        rows = con.execute(
            "SELECT source_system, source_code, scenario, choice_list, target_code, line_no FROM gem_map "
            "WHERE scenario > 0 AND choice_list > 0 AND NOT no_map"
        ).fetchall()
        by_entry = defaultdict(list)
        for system, code, *rest in rows:
            by_entry[(system, code)].append(tuple(rest))
        view = defaultdict(list)
        for system, code, scenario, targets in con.execute(
            "SELECT source_system, source_code, scenario, target_codes FROM gem_combinations"
        ).fetchall():
            view[(system, code)].append((scenario, targets))
    assert set(view) == set(by_entry)
    for entry, entry_rows in by_entry.items():
        assert sorted(view[entry]) == python_alternatives(entry_rows), entry


def test_entries_classification(real_2018):
    wh, _ = real_2018
    with wh.connect() as con:
        def kind(system, code):
            return con.execute(
                "SELECT classification FROM gem_entries WHERE source_system = ? AND source_code = ?", [system, code]
            ).fetchone()[0]

        assert kind("icd9cm", "00321") == "identical"
        assert kind("icd9cm", "59972") == "alternatives"
        assert kind("icd10cm", "R6521") == "combination"
        assert kind("icd9cm", "7796") == "no map"
        assert kind("icd10cm", "A000") == "identical"
        assert kind("icd10cm", "A0100") == "approximate single"
        per_system = dict(con.execute(
            "SELECT source_system, COUNT(*) FROM gem_entries GROUP BY 1"
        ).fetchall())
    # provenance: 14,567 distinct ICD-9-CM sources, 71,704 ICD-10-CM, 3,882 ICD-9 procedures, 78,705 PCS
    assert per_system == {"icd9cm": 14567, "icd10cm": 71704, "icd9pcs": 3882, "icd10pcs": 78705}


def test_reverse_lookup(real_2018):
    wh, _ = real_2018
    with wh.connect() as con:
        sources = con.execute(
            "SELECT source_code, combination FROM gem_reverse WHERE target_system = 'icd9cm' AND target_code = '99592'"
        ).fetchall()
    assert ("R6521", True) in sources and ("R6520", False) in sources


def test_history_and_directions(real_2018):
    wh, _ = real_2018
    with wh.connect() as con:
        directions = con.execute("SELECT source_system, target_system, is_current FROM gem_directions").fetchall()
        assert len(directions) == 4 and all(current for *_d, current in directions)
        assert con.execute("SELECT COUNT(*) FROM gem_map_history").fetchone()[0] == 281071
        assert con.execute("SELECT COUNT(*) FROM gem_combinations_history").fetchone()[0] == con.execute(
            "SELECT COUNT(*) FROM gem_combinations"
        ).fetchone()[0]


def test_every_view_binds_in_dependency_order():
    """A generation is written in one transaction, so apply() cannot retry a view that fails."""
    import duckdb

    con = duckdb.connect()
    con.execute(sqlfiles.shapes_sql())
    con.execute(sqlfiles.schema_sql())
    for view in sqlfiles.dependency_order():
        con.execute(f'CREATE VIEW "{view.name}" AS\n{view.sql}')  # raises if an input is not there yet
    assert [v.name for v in sqlfiles.dependency_order()].index("release_parts") < \
        [v.name for v in sqlfiles.dependency_order()].index("code_releases")


def test_a_fresh_process_creates_every_view_once():
    """Publishing in a new process (no cache warm) creates each view once, each binding at the first try."""
    import json
    import subprocess
    import sys

    script = """
import collections, json, re, duckdb
from codesets.core import sqlfiles

class Counting:
    def __init__(self, con):
        self.con, self.created = con, collections.Counter()
    def execute(self, sql, *args):
        match = re.match(r'CREATE OR REPLACE VIEW "(\\w+)"', sql)
        if match:
            self.created[match.group(1)] += 1
        return self.con.execute(sql, *args)

con = duckdb.connect()
con.execute(sqlfiles.shapes_sql())
counting = Counting(con)
sqlfiles.apply(counting)
print(json.dumps(counting.created))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    created = json.loads(proc.stdout)
    assert created == {name: 1 for name in VIEW_NAMES}
