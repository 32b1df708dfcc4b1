"""The order views are created in: read from their SQL by sqlglot (codesets.core.sqlfiles)."""

from __future__ import annotations

import pytest

from codesets.core import sqlfiles
from codesets.core.sqlfiles import ViewFile, order_views, references

NAMES = {"releases", "gem_map", "codes", "code_history", "release_parts"}


def view(name: str, sql: str) -> ViewFile:
    return ViewFile(name=name, sql=f"-- {name}: a test view\n{sql}", summary=f"{name}: a test view")


def test_from_and_join_are_references():
    sql = "SELECT * FROM gem_map g JOIN codes c ON c.code = g.target_code LEFT JOIN releases r USING (release_id)"
    assert references(sql, NAMES) == {"gem_map", "codes", "releases"}


def test_a_cte_shadowing_a_view_name_is_not_a_reference():
    sql = """
        WITH releases AS (SELECT 1 AS release_id), codes AS (SELECT * FROM releases)
        SELECT * FROM codes JOIN gem_map USING (release_id)
    """
    assert references(sql, NAMES) == {"gem_map"}


def test_a_cte_reading_the_view_it_is_named_after_reads_the_view():
    # A (non-recursive) CTE does not see itself: its body's `releases` is the view.
    sql = "WITH releases AS (SELECT * FROM releases WHERE source = 'gems') SELECT * FROM releases"
    assert references(sql, NAMES) == {"releases"}


def test_a_cte_sees_only_the_ctes_before_it():
    sql = "WITH a AS (SELECT * FROM codes), codes AS (SELECT * FROM a) SELECT * FROM codes"
    assert references(sql, NAMES) == {"codes"}


def test_a_cte_of_an_inner_query_shadows_only_inside_it():
    sql = """
        SELECT * FROM codes
        WHERE code IN (WITH codes AS (SELECT 'X' AS code) SELECT code FROM codes)
    """
    assert references(sql, NAMES) == {"codes"}


def test_a_view_in_a_subquery_is_a_reference():
    sql = """
        SELECT * FROM gem_map
        WHERE release_id IN (SELECT release_id FROM releases WHERE source = 'gems')
          AND EXISTS (SELECT 1 FROM code_history h WHERE h.code = gem_map.target_code)
    """
    assert references(sql, NAMES) == {"gem_map", "releases", "code_history"}


def test_lateral_and_unnest():
    sql = """
        SELECT g.source_code, t.code, l.description
        FROM gem_map g, UNNEST(g.target_codes) AS t(code),
            LATERAL (SELECT description FROM codes c WHERE c.code = t.code LIMIT 1) AS l
    """
    assert references(sql, NAMES) == {"gem_map", "codes"}


def test_table_functions_columns_and_strings_are_not_references():
    sql = """
        SELECT codes.code, 'FROM releases' AS note
        FROM read_parquet('releases/*.parquet') AS codes
    """
    assert references(sql, NAMES) == set()


def test_views_come_after_what_they_read():
    found = [
        view("codes", "SELECT * FROM code_history"),
        view("code_history", "SELECT * FROM release_parts"),
        view("release_parts", "WITH releases AS (SELECT 1 AS x) SELECT * FROM releases"),
        view("releases", "SELECT * FROM release_parts"),
    ]
    assert [v.name for v in order_views(found)] == ["release_parts", "code_history", "releases", "codes"]


def test_a_cycle_is_refused_with_one_message_naming_it():
    found = [
        view("a", "SELECT * FROM b"),
        view("b", "SELECT * FROM c JOIN a USING (x)"),
        view("c", "SELECT 1 AS x"),
        view("d", "SELECT * FROM a"),
    ]
    with pytest.raises(ValueError) as caught:
        order_views(found)
    message = str(caught.value)
    assert "cycle" in message and ("a -> b -> a" in message or "b -> a -> b" in message)
    assert len(message.splitlines()) == 1


def test_a_view_reading_itself_is_a_cycle():
    with pytest.raises(ValueError, match="a -> a"):
        order_views([view("a", "SELECT * FROM a")])


def test_unreadable_sql_is_one_clear_error():
    with pytest.raises(ValueError, match="cannot read the SQL"):
        references("SELECT * FROM (", NAMES)


def test_every_shipped_view_comes_after_the_views_it_reads():
    order = [v.name for v in sqlfiles.dependency_order()]
    assert sorted(order) == sorted(v.name for v in sqlfiles.views())
    names = set(order)
    for position, shipped in enumerate(sqlfiles.dependency_order()):
        assert references(shipped.sql, names - {shipped.name}) <= set(order[:position]), shipped.name
    # release_parts names a CTE `releases`: it must not wait for the view releases, which reads it.
    assert order.index("release_parts") < order.index("releases")


def test_the_shipped_view_order_is_what_sqlglot_finds():
    """sql/view_order.txt spares a publish sqlglot's import and parse; it must be current.

    After changing a view: python -m codesets.core.sqlfiles
    """
    from codesets.core import sqlfiles

    shipped = (sqlfiles._sql_dir() / sqlfiles.ORDER_FILE).read_text(encoding="utf-8")
    assert shipped == sqlfiles.order_file_text(sqlfiles.views()), "run: python -m codesets.core.sqlfiles"
    assert [v.name for v in sqlfiles.dependency_order()] == [v.name for v in sqlfiles.order_views(sqlfiles.views())]


def test_a_changed_view_is_ordered_anew_not_by_the_stale_file():
    from codesets.core import sqlfiles

    found = sqlfiles.views()
    changed = tuple(sqlfiles.parse_view(v.name, v.sql + "\n-- edited") if v.name == "codes" else v for v in found)
    assert sqlfiles._shipped_order(found) is not None
    assert sqlfiles._shipped_order(changed) is None
