"""Releases made of parts: extending, no-ops, refusals, the sample kept out of real history,
and windows and lineage that do not depend on the order releases were loaded in."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesets import loaders
from codesets.core.errors import CodesetsError, QueryError, SourceError
from codesets.loaders import contract
from codesets.loaders.gems import LOADER as GEMS
from codesets.warehouse.load import load
from codesets.warehouse.refresh import refresh
from codesets.warehouse.storage import Warehouse
from codesets.query.translate import translate
from tests.conftest import FIXTURES, GEMS_2017, GEMS_2018, need_shared

I9 = FIXTURES / "gems" / "good_i9gem_lf.txt"
I10 = FIXTURES / "gems" / "good_i10gem_crlf.txt"


def parts(wh: Warehouse):
    with wh.connect() as con:
        return con.execute(
            "SELECT release_id, part, effective_from, effective_to, previous_release_id FROM release_parts "
            "ORDER BY part, effective_from NULLS LAST, release_id"
        ).fetchall()


def test_a_new_part_extends_the_release(warehouse):
    first = load(warehouse, "gems", [I9], release_id="r1", effective_from=date(2020, 10, 1))
    generation = warehouse.current()
    second = load(warehouse, "gems", [I10], release_id="r1")  # the date comes from the release
    assert [p.status for p in first.parts] == ["loaded"] and [p.status for p in second.parts] == ["loaded"]
    assert warehouse.current() != generation
    with warehouse.connect() as con:
        assert con.execute("SELECT release_id, parts, effective_from FROM releases").fetchall() == [
            ("r1", "icd10cm-icd9cm icd9cm-icd10cm", date(2020, 10, 1))
        ]


def test_files_already_loaded_are_a_no_op_even_a_subset(warehouse):
    load(warehouse, "gems", [I9, I10], release_id="r1", effective_from=date(2020, 10, 1))
    generation = warehouse.current()
    again = load(warehouse, "gems", [I10], release_id="r1")
    assert again.status == "unchanged" and warehouse.current() == generation
    assert "unchanged" in again.summary()
    elsewhere = load(warehouse, "gems", [I9], release_id="r9", effective_from=date(2021, 10, 1))
    assert elsewhere.status == "unchanged" and elsewhere.parts[0].release_id == "r1"
    assert "as release r1" in elsewhere.summary()


def test_a_mix_loads_only_what_is_new(warehouse):
    load(warehouse, "gems", [I9], release_id="r1", effective_from=date(2020, 10, 1))
    result = load(warehouse, "gems", [I9, I10], release_id="r1")
    assert {p.part: p.status for p in result.parts} == {"icd9cm-icd10cm": "unchanged", "icd10cm-icd9cm": "loaded"}


def test_two_releases_of_a_part_on_one_day_are_refused(warehouse, tmp_path):
    load(warehouse, "gems", [I9], release_id="r1", effective_from=date(2020, 10, 1))
    other = tmp_path / "other_i9gem.txt"
    other.write_text(I9.read_text().replace("10000", "00000", 1))
    with pytest.raises(SourceError, match="cannot take effect the same day"):
        load(warehouse, "gems", [other], release_id="r2", effective_from=date(2020, 10, 1))


def test_a_new_part_cannot_move_its_release_date(warehouse):
    load(warehouse, "gems", [I9], release_id="r1", effective_from=date(2020, 10, 1))
    with pytest.raises(SourceError, match="takes effect 2020-10-01"):
        load(warehouse, "gems", [I10], release_id="r1", effective_from=date(2021, 1, 1))


def test_the_sample_never_answers_for_a_real_date(warehouse):
    need_shared(*GEMS_2017, *GEMS_2018.values())
    refresh(warehouse, sample=True)
    with warehouse.connect() as con:  # alone, the sample serves: trying the tool works
        assert translate(con, ["806.4"], "icd9cm", "icd10cm").column("release_id").to_pylist()[0] == "sample"
    load(warehouse, "gems", GEMS_2017)
    load(warehouse, "gems", list(GEMS_2018.values()))
    with warehouse.connect() as con:
        with pytest.raises(QueryError, match="no icd9cm>icd10cm GEM release covers 2016-06-01"):
            translate(con, ["806.4"], "icd9cm", "icd10cm", as_of="2016-06-01")
        assert set(translate(con, ["806.4"], "icd9cm", "icd10cm").column("release_id").to_pylist()) == {"2018"}
        # still there on request
        assert set(translate(con, ["806.4"], "icd9cm", "icd10cm", release="sample").column("release_id").to_pylist()) == {"sample"}
        lineage = con.execute(
            "SELECT release_id, previous_release_id, serves FROM releases WHERE source = 'gems' ORDER BY release_id"
        ).fetchall()
    assert lineage == [("2017", None, True), ("2018", "2017", True), ("sample", None, False)]


def variant(folder, number: int):
    path = folder / f"variant{number}_I9gem.txt"
    path.write_text(f"{100 + number:<5} A0221   00000\n")
    return path


@pytest.mark.slow
@settings(max_examples=6, deadline=None)
@given(order=st.permutations(range(4)))
def test_windows_and_lineage_do_not_depend_on_load_order(tmp_path_factory, order):
    folder = tmp_path_factory.mktemp("order")
    wh = Warehouse(folder / "wh")
    starts = [date(2015 + n, 10, 1) for n in range(4)]
    for n in order:
        load(wh, "gems", [variant(folder, n)], release_id=f"r{n}", effective_from=starts[n])
    expected = [
        (f"r{n}", "icd9cm-icd10cm", starts[n], date(2016 + n, 9, 30) if n < 3 else None, f"r{n - 1}" if n else None)
        for n in range(4)
    ]
    assert parts(wh) == expected
    with wh.connect() as con:
        changes = con.execute(
            "SELECT release_id, previous_release_id, rows_added, rows_removed FROM release_changes ORDER BY 1"
        ).fetchall()
    assert changes == [(f"r{n}", f"r{n - 1}", 1, 1) for n in range(1, 4)]


def test_refresh_loads_what_is_new_and_skips_with_reasons(warehouse, tmp_path):
    folder = tmp_path / "cms"
    (folder / "2019").mkdir(parents=True)
    (folder / "2019" / "2019_I9gem.txt").write_text(I9.read_text())
    (folder / "2019" / "notes.txt").write_text("not a GEM file\n")
    (folder / "plain_i10gem.txt").write_bytes(I10.read_bytes())
    first = refresh(warehouse, folder)
    assert first.ok and [p.status for r in first.results for p in r.parts] == ["loaded"]
    skipped = {path.name: why for path, why in first.skipped}
    assert skipped["notes.txt"] == "not a known source format"
    assert "names no release" in skipped["plain_i10gem.txt"]
    (folder / "2019" / "2019_I10gem.txt").write_bytes(I10.read_bytes())
    second = refresh(warehouse, folder)  # partly loaded: the new part lands, nothing fails
    assert second.ok
    assert {p.part: p.status for r in second.results for p in r.parts} == {
        "icd9cm-icd10cm": "unchanged", "icd10cm-icd9cm": "loaded"
    }


def test_a_file_claimed_by_two_loaders_is_reported(warehouse, tmp_path, monkeypatch):
    class Twin(type(GEMS)):
        source = "gems_twin"

    monkeypatch.setattr(loaders, "available", lambda: {"gems": GEMS, "gems_twin": Twin()})
    folder = tmp_path / "cms"
    folder.mkdir()
    (folder / "2019_I9gem.txt").write_text(I9.read_text())
    report = refresh(warehouse, folder)
    assert report.results == []
    assert report.skipped == [(folder / "2019_I9gem.txt",
                               f"claimed by gems and gems_twin: load it with `codesets load SOURCE {folder / '2019_I9gem.txt'}`")]


def test_the_contract_names_what_a_loader_lacks():
    class Half:
        source = "half"
        description = "half a loader"
        tables = ("maps",)

        def claim(self, path):
            return None

    problems = contract.check(Half())
    assert problems == ["attribute 'declares'"] + [
        f"method {m}()" for m in ("effective_from", "model", "stage", "fill", "notes", "sample")
    ]
    assert contract.check(GEMS) == []
    bad = type("Bad", (type(GEMS),), {"tables": ("nowhere",), "source": "a b"})()
    assert len(contract.check(bad)) == 2


def test_discovery_refuses_a_module_without_a_loader(monkeypatch):
    import types

    fake = types.ModuleType("codesets.loaders.broken")
    monkeypatch.setitem(__import__("sys").modules, "codesets.loaders.broken", fake)
    monkeypatch.setattr(loaders.pkgutil, "iter_modules", lambda path: [types.SimpleNamespace(name="broken")])
    loaders.available.cache_clear()
    try:
        with pytest.raises(CodesetsError, match="codesets.loaders.broken does not honour the loader contract: it lacks LOADER"):
            loaders.available()
    finally:
        loaders.available.cache_clear()


def test_publish_goes_by_column_name(warehouse, tmp_path):
    """A loader naming its columns in another order, and leaving nullable ones out, publishes the shape."""

    class Reordered(type(GEMS)):
        def fill(self, table):
            return ("SELECT line_no, source_file, choice_list, scenario, combination, no_map, approximate, "
                    "flags_field AS flags, target_code, source_code, target_system, source_system, part FROM staged")

    import duckdb

    from codesets.warehouse import publish

    with warehouse.writer() as writer:
        con = duckdb.connect()
        GEMS.stage(con, {"icd9cm-icd10cm": [I9]})
        written, rows, _history = publish.write_parts(con, writer, Reordered(), "r1", {"icd9cm-icd10cm": [I9.name]}, [], None)
        assert rows == {"icd9cm-icd10cm": 7}
        path = warehouse.path / written["icd9cm-icd10cm"][0].path
        shaped = con.execute(f"SELECT * FROM read_parquet('{path}') ORDER BY line_no").fetchall()
        names = [d[0] for d in con.execute(f"SELECT * FROM read_parquet('{path}') LIMIT 0").description]
    assert names[:6] == ["source", "release_id", "part", "source_system", "target_system", "source_code"]
    assert shaped[0][:6] == ("gems", "r1", "icd9cm-icd10cm", "icd9cm", "icd10cm", "00321")
    assert all(row[names.index("map_rule")] is None for row in shaped)
    assert [row[names.index("line_no")] for row in shaped] == list(range(1, 8))
