"""The GEM loader on hand-made fixtures (one per failure mode) and on the four real CMS files."""

from __future__ import annotations

import csv
import shutil

import pytest

from codesets.core.errors import LoadRejected, SourceError, UsageError
from codesets.loaders import gems
from codesets.warehouse.load import load
from tests.conftest import FIXTURES, GEMS_2018, catalog_files, need_shared

GEM_FIXTURES = FIXTURES / "gems"


def rejected(warehouse, name):
    with pytest.raises(LoadRejected) as info:
        load(warehouse, "gems", [GEM_FIXTURES / name], release_id="t1", effective_from=_date())
    assert warehouse.current() is None, "a refused load must publish nothing"
    return info.value


def _date():
    from datetime import date

    return date(2020, 10, 1)


def lines_and_columns(error):
    return {(r["line"], r["column"]) for r in error.rejects}


def test_good_files_load_with_direction_from_content(warehouse):
    result = load(warehouse, "gems", [GEM_FIXTURES / "good_i9gem_lf.txt", GEM_FIXTURES / "good_i10gem_crlf.txt"],
                  release_id="t1", effective_from=_date())
    assert {p.part for p in result.parts} == {"icd9cm-icd10cm", "icd10cm-icd9cm"}
    kinds = {name: (f["kind"], f["line_ending"], f["rows"]) for name, f in catalog_files(warehouse, "t1").items()}
    assert kinds == {
        "good_i9gem_lf.txt": ("icd9cm>icd10cm", "LF", 7),
        "good_i10gem_crlf.txt": ("icd10cm>icd9cm", "CRLF", 8),
    }
    with warehouse.connect() as con:
        no_map = con.execute(
            "SELECT source_code, target_code, no_map FROM gem_map WHERE no_map ORDER BY 1"
        ).fetchall()
        assert no_map == [("7796", None, True), ("T43016A", None, True)]
        assert con.execute("SELECT COUNT(*) FROM maps").fetchone()[0] == 15


def test_truncated_line(warehouse):
    error = rejected(warehouse, "bad_truncated_line.txt")
    assert {r["line"] for r in error.rejects} == {3}
    assert any(r["column"] == "raw" and r["value"] == "59972 R3121   100" for r in error.rejects)


def test_bad_flag_digits(warehouse):
    error = rejected(warehouse, "bad_flag_digits.txt")
    assert lines_and_columns(error) == {(2, "flags_field"), (4, "flags_field")}
    assert {r["value"] for r in error.rejects} == {"1x000", "20000"}


def test_wrong_widths(warehouse):
    error = rejected(warehouse, "bad_wrong_widths.txt")
    assert {r["line"] for r in error.rejects} == {2, 4}
    assert all(r["file"] == "bad_wrong_widths.txt" for r in error.rejects)


def test_mixed_directions(warehouse):
    error = rejected(warehouse, "bad_mixed_directions.txt")
    assert lines_and_columns(error) == {(4, "layout"), (5, "layout")}
    assert "mixed directions" in error.rejects[0]["rule"]


def test_empty_file(warehouse):
    with pytest.raises(SourceError, match="empty"):
        load(warehouse, "gems", [GEM_FIXTURES / "bad_empty.txt"], release_id="t1", effective_from=_date())
    assert warehouse.current() is None


def test_non_ascii_byte_named_with_its_column(warehouse):
    error = rejected(warehouse, "bad_non_ascii.txt")
    assert {r["line"] for r in error.rejects} == {3}
    assert ("bad_byte", "byte 0xE9 at column 11") in {(r["column"], r["value"]) for r in error.rejects}


def test_no_map_flag_with_a_target(warehouse):
    error = rejected(warehouse, "bad_no_map_with_target.txt")
    assert lines_and_columns(error) == {(3, "flags")}


def test_combination_without_scenario(warehouse):
    error = rejected(warehouse, "bad_combination_without_scenario.txt")
    assert lines_and_columns(error) == {(2, "flags"), (3, "flags")}


def test_duplicate_line_names_the_first(warehouse):
    error = rejected(warehouse, "bad_duplicate_line.txt")
    assert [(r["line"], r["column"], r["value"]) for r in error.rejects] == [(4, "duplicate_of", "3")]


def test_rejects_file_and_message(warehouse):
    error = rejected(warehouse, "bad_flag_digits.txt")
    with open(error.rejects_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["line"], r["value"]) for r in rows] == [("2", "1x000"), ("4", "20000")]
    message = str(error)
    assert "bad_flag_digits.txt" in message and "1x000" in message and "nothing was loaded" in message


def test_every_bad_row_of_several_files_is_reported(warehouse, tmp_path):
    bad_i10 = tmp_path / "bad_i10gem.txt"
    lines = (GEM_FIXTURES / "good_i10gem_crlf.txt").read_bytes().split(b"\r\n")
    lines[1] = lines[1][:14] + b"10911"  # no-map digit 9
    bad_i10.write_bytes(b"\r\n".join(lines))
    with pytest.raises(LoadRejected) as info:
        load(warehouse, "gems", [GEM_FIXTURES / "bad_flag_digits.txt", bad_i10], release_id="t", effective_from=_date())
    assert {(r["file"], r["line"]) for r in info.value.rejects} == {
        ("bad_flag_digits.txt", 2), ("bad_flag_digits.txt", 4), ("bad_i10gem.txt", 2)
    }
    assert warehouse.current() is None


def test_two_files_of_one_direction_are_refused(warehouse):
    with pytest.raises(SourceError, match="both hold the icd9cm-icd10cm GEM"):
        load(warehouse, "gems", [GEM_FIXTURES / "good_i9gem_lf.txt", GEM_FIXTURES / "bad_duplicate_line.txt"],
             release_id="t", effective_from=_date())


def test_release_and_effective_date_from_names(tmp_path):
    for name in ("2018/2018_I9gem.txt", "pcs_2018/gem_i9pcs.txt", "x/gem_i9pcs.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy(GEM_FIXTURES / "good_i9gem_lf.txt", tmp_path / name)
    assert gems.LOADER.claim(tmp_path / "2018" / "2018_I9gem.txt").release_id == "2018"
    assert gems.LOADER.claim(tmp_path / "pcs_2018" / "gem_i9pcs.txt").release_id == "2018"
    assert gems.LOADER.claim(tmp_path / "x" / "gem_i9pcs.txt").release_id is None
    assert gems.LOADER.effective_from("2018").isoformat() == "2017-10-01"
    assert gems.LOADER.effective_from("FY2026").isoformat() == "2025-10-01"
    assert gems.LOADER.effective_from("2026Q4") is None


def test_release_needed_when_names_do_not_say(warehouse, tmp_path):
    plain = tmp_path / "gem_i9pcs.txt"
    shutil.copy(GEM_FIXTURES / "good_i9gem_lf.txt", plain)
    with pytest.raises(UsageError, match="--release"):
        load(warehouse, "gems", [plain])


def test_claim_sniffs_content(tmp_path):
    assert gems.LOADER.claim(GEM_FIXTURES / "good_i10gem_crlf.txt").part == "icd10cm-icd9cm"
    assert gems.LOADER.claim(GEM_FIXTURES / "good_i9gem_lf.txt").part == "icd9cm-icd10cm"
    other = tmp_path / "2018_I9gem.txt"
    other.write_text('"icd9cm","icd10cm","flags"\n')
    assert gems.LOADER.claim(other) is None


# --- the real CMS files ---------------------------------------------------------------


def test_real_files_land_whole(real_2018):
    wh, result = real_2018
    rows = {name: (f["rows"], f["kind"]) for name, f in catalog_files(wh, "2018").items()}
    assert rows == {
        "2018_I9gem.txt": (24860, "icd9cm>icd10cm"),
        "2018_I10gem.txt": (81593, "icd10cm>icd9cm"),
        "gem_i9pcs.txt": (73593, "icd9pcs>icd10pcs"),
        "gem_pcsi9.txt": (101025, "icd10pcs>icd9pcs"),
    }
    assert result.row_count == 24860 + 81593 + 73593 + 101025
    with wh.connect() as con:
        per_file = dict(con.execute("SELECT source_file, COUNT(*) FROM gem_map GROUP BY 1").fetchall())
        assert per_file == {name: count for name, (count, _kind) in rows.items()}
        # every line number of every file is present exactly once
        assert con.execute(
            "SELECT COUNT(*) FROM (SELECT source_file, line_no FROM maps GROUP BY ALL HAVING COUNT(*) > 1)"
        ).fetchone()[0] == 0


def test_real_no_map_rows(real_2018):
    wh, _ = real_2018
    with wh.connect() as con:
        counts = dict(con.execute(
            "SELECT source_file, COUNT(*) FROM gem_map WHERE no_map AND target_code IS NULL GROUP BY 1"
        ).fetchall())
    # provenance: 422 NoDx, 731 NoDx, 210 NoPCS; gem_pcsi9 has 2 flagged + 29 unflagged NoI9
    assert counts == {"2018_I9gem.txt": 422, "2018_I10gem.txt": 731, "gem_i9pcs.txt": 210, "gem_pcsi9.txt": 31}


def test_real_documented_entries(real_2018):
    wh, _ = real_2018
    with wh.connect() as con:
        def targets(system, code):
            return con.execute(
                "SELECT target_code, flags FROM gem_map WHERE source_system = ? AND source_code = ? ORDER BY line_no",
                [system, code],
            ).fetchall()

        assert targets("icd10cm", "R6521") == [("78552", "10111"), ("99592", "10112")]
        assert targets("icd10cm", "I25710") == [("4111", "10112"), ("41402", "10111")]
        assert targets("icd9cm", "11511") == [("B395", "10111"), ("G02", "10112")]
        assert targets("icd9cm", "59972") == [("R311", "10000"), ("R3121", "10000"), ("R3129", "10000")]
        assert targets("icd9cm", "00321") == [("A0221", "00000")]
        # line 73170 of 2018_I10gem.txt has the target 'v5889': stored upper case
        assert con.execute(
            "SELECT target_code FROM maps WHERE source_file = '2018_I10gem.txt' AND line_no = 73170"
        ).fetchone() == ("V5889",)


def test_real_anomalies_are_loaded_and_listed(real_2018):
    wh, result = real_2018
    with wh.connect() as con:
        reasons = dict(con.execute("SELECT failure_reason, COUNT(*) FROM gem_anomalies GROUP BY 1").fetchall())
    assert reasons == {
        "no-map target with no-map flag 0: read as no map": 29,
        "scenario and choice list set under combination flag 0: read as part of the scenario": 2,
        "scenario or choice list set without the other: read as a single row": 2,
        "choice list number skips one: alternatives use the lists present, in order": 2,
    }
    assert any("lower case" in note for note in result.notes)


def test_reloading_identical_bytes_is_a_no_op(real_2018):
    wh, _ = real_2018
    before = wh.current()
    again = load(wh, "gems", list(reversed(list(GEMS_2018.values()))))
    assert again.status == "unchanged" and again.release_id == "2018"
    assert "unchanged" in again.summary()
    assert wh.current() == before


def test_published_part_never_changes(warehouse, tmp_path):
    load(warehouse, "gems", [GEM_FIXTURES / "good_i9gem_lf.txt"], release_id="r1", effective_from=_date())
    other_bytes = tmp_path / "other_i9gem.txt"
    other_bytes.write_text((GEM_FIXTURES / "good_i9gem_lf.txt").read_text().replace("10000", "00000", 1))
    before = warehouse.current()
    with pytest.raises(SourceError, match="part icd9cm-icd10cm of gems release r1 is already published"):
        load(warehouse, "gems", [other_bytes], release_id="r1", effective_from=_date())
    assert warehouse.current() == before


def test_diff_against_previous_release(tmp_path, warehouse):
    need_shared(GEMS_2018["2018_I9gem.txt"])
    from tests.conftest import GEMS_2017

    need_shared(*GEMS_2017)
    first = load(warehouse, "gems", GEMS_2017)
    second = load(warehouse, "gems", [GEMS_2018["2018_I9gem.txt"], GEMS_2018["2018_I10gem.txt"]])
    assert {p.previous_release_id for p in first.parts} == {None}
    changes = {p.part: (p.previous_release_id, p.rows, p.rows_added, p.rows_removed) for p in second.parts}
    # pinned from the real files: 24,690 -> 24,860 and 81,298 -> 81,593 rows
    assert changes == {
        "icd9cm-icd10cm": ("2017", 24860, 310, 140),
        "icd10cm-icd9cm": ("2017", 81593, 486, 191),
    }
    old = {p.part: p.rows for p in first.parts}
    assert all(rows - old[part] == added - removed for part, (_p, rows, added, removed) in changes.items())
    with warehouse.connect() as con:
        assert con.execute(
            "SELECT release_id, effective_from, effective_to FROM releases ORDER BY effective_from"
        ).fetchall()[0][2].isoformat() == "2017-09-30"
        current = con.execute("SELECT DISTINCT release_id FROM gem_map").fetchall()
        assert current == [("2018",)]
