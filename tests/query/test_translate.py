"""translate: every method, selectors, no-map, not-in-GEM, release choice and errors.

A small hand-made warehouse holds two releases (2017 and 2018) of the diagnosis GEMs
with rows modelled on the real files; the last tests run on the real 2018 files.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from codesets.core.errors import QueryError
from codesets.query.translate import COLUMNS, translate

# (release, direction, source, target or None for no map, flags)
ROWS = [
    ("2018", "icd9cm>icd10cm", "59972", "R311", "10000"),
    ("2018", "icd9cm>icd10cm", "59972", "R3121", "10000"),
    ("2018", "icd9cm>icd10cm", "59972", "R3129", "10000"),
    ("2018", "icd9cm>icd10cm", "00321", "A0221", "00000"),
    ("2018", "icd9cm>icd10cm", "11511", "B395", "10111"),
    ("2018", "icd9cm>icd10cm", "11511", "G02", "10112"),
    # 806.4 in miniature: scenario 1 has 2 x 1 alternatives, scenario 2 has 1 x 3.
    ("2018", "icd9cm>icd10cm", "8064", "S34109A", "10111"),
    ("2018", "icd9cm>icd10cm", "8064", "S34119A", "10111"),
    ("2018", "icd9cm>icd10cm", "8064", "S32009A", "10112"),
    ("2018", "icd9cm>icd10cm", "8064", "S34101A", "10121"),
    ("2018", "icd9cm>icd10cm", "8064", "S32019A", "10122"),
    ("2018", "icd9cm>icd10cm", "8064", "S32029A", "10122"),
    ("2018", "icd9cm>icd10cm", "8064", "S32039A", "10122"),
    ("2018", "icd9cm>icd10cm", "7999", None, "11000"),
    ("2018", "icd9cm>icd10cm", "99592", "R6520", "10000"),
    ("2018", "icd9cm>icd10cm", "78552", "R570", "10000"),
    ("2018", "icd10cm>icd9cm", "R6521", "78552", "10111"),
    ("2018", "icd10cm>icd9cm", "R6521", "99592", "10112"),
    ("2018", "icd10cm>icd9cm", "R6520", "99592", "10000"),
    ("2018", "icd10cm>icd9cm", "A0221", "00321", "00000"),
    ("2018", "icd10cm>icd9cm", "R311", "59972", "10000"),
    ("2018", "icd10cm>icd9cm", "I25710", "41402", "10111"),
    ("2018", "icd10cm>icd9cm", "I25710", "4111", "10112"),
    ("2017", "icd9cm>icd10cm", "59972", "R319", "10000"),
    ("2017", "icd10cm>icd9cm", "R6521", "99592", "10000"),
]
EFFECTIVE = {"2017": date(2016, 10, 1), "2018": date(2017, 10, 1)}


def build_gem_warehouse(path):
    """A warehouse directory with ROWS written as GEM files and loaded; returns the Warehouse."""
    from codesets.warehouse.load import load
    from codesets.warehouse.storage import Warehouse

    wh = Warehouse(path)
    folder = path.parent / f"{path.name}-files"
    folder.mkdir()
    for release, effective in EFFECTIVE.items():
        files = []
        for kind, name in (("icd9cm>icd10cm", "I9gem"), ("icd10cm>icd9cm", "I10gem")):
            width = 5 if kind.startswith("icd9cm") else 7
            lines = [
                f"{source:<{width}} {target or 'NoDx':<{12 - width}} {flags}\n"
                for rel, k, source, target, flags in ROWS
                if rel == release and k == kind
            ]
            files.append(folder / f"{release}_{name}.txt")
            files[-1].write_text("".join(lines))
        load(wh, "gems", files, release_id=release, effective_from=effective)
    return wh


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    wh = build_gem_warehouse(tmp_path_factory.mktemp("gems") / "wh")
    connection = wh.connect()
    yield connection
    connection.close()


def rows(table, *columns):
    return [tuple(r[c] for c in columns) for r in table.to_pylist()]


def test_columns_are_the_documented_ones(con):
    assert tuple(translate(con, ["599.72"], "icd9cm", "icd10cm").column_names) == COLUMNS


def test_forward_single_alternatives_numbered_in_file_order(con):
    answer = translate(con, ["599.72"], "icd9cm", "icd10cm")
    assert rows(answer, "input", "source_code", "kind", "target_codes", "alternative", "approximate") == [
        ("599.72", "59972", "single", ["R311"], 1, True),
        ("599.72", "59972", "single", ["R3121"], 2, True),
        ("599.72", "59972", "single", ["R3129"], 3, True),
    ]
    assert set(answer.column("release_id").to_pylist()) == {"2018"}


def test_forward_identical_entry(con):
    answer = translate(con, ["003.21"], "icd9cm", "icd10cm")
    assert rows(answer, "kind", "target_codes", "approximate", "scenario") == [("single", ["A0221"], False, 0)]


def test_forward_combination_is_returned_whole(con):
    answer = translate(con, ["115.11", "R65.21"], "icd9cm", "icd10cm")
    assert rows(answer, "input", "kind", "target_codes", "scenario", "alternative", "choice_lists")[0] == (
        "115.11", "combination", ["B395", "G02"], 1, 1, 2,
    )
    icd10 = translate(con, [" r65.21 "], "icd10cm", "icd9cm")
    assert rows(icd10, "input", "source_code", "kind", "target_codes") == [
        (" r65.21 ", "R6521", "combination", ["78552", "99592"])
    ]


def test_forward_scenarios_expand_to_every_alternative(con):
    answer = translate(con, ["806.4"], "icd9cm", "icd10cm")
    assert rows(answer, "scenario", "alternative", "target_codes") == [
        (1, 1, ["S34109A", "S32009A"]),
        (1, 2, ["S34119A", "S32009A"]),
        (2, 1, ["S34101A", "S32019A"]),
        (2, 2, ["S34101A", "S32029A"]),
        (2, 3, ["S34101A", "S32039A"]),
    ]


def test_no_map_and_not_in_gem_are_kept(con):
    answer = translate(con, ["799.9", "123.45", "599.72"], "icd9cm", "icd10cm")
    kinds = rows(answer, "input", "source_code", "kind", "target_codes")
    assert kinds[:2] == [("799.9", "7999", "no map", []), ("123.45", "12345", "not in GEM", [])]
    assert [k[0] for k in kinds[2:]] == ["599.72"] * 3


def test_backward_marks_combination_parts(con):
    answer = translate(con, ["995.92"], "icd9cm", "icd10cm", method="backward")
    assert rows(answer, "method", "kind", "target_codes", "scenario", "choice_list", "choice_lists") == [
        ("backward", "single", ["R6520"], 0, None, None),
        ("backward", "combination part", ["R6521"], 1, 2, 2),
    ]


def test_backward_tells_no_map_from_unknown(con):
    # 115.11 is in the ICD-9-CM GEM but no ICD-10-CM entry points at it.
    answer = translate(con, ["115.11", "123.45"], "icd9cm", "icd10cm", method="backward")
    assert rows(answer, "source_code", "kind") == [("11511", "no map"), ("12345", "not in GEM")]


def test_both_labels_each_row_with_its_method(con):
    answer = translate(con, ["995.92"], "icd9cm", "icd10cm", method="both")
    assert rows(answer, "method", "kind", "target_codes") == [
        ("forward", "single", ["R6520"]),
        ("backward", "single", ["R6520"]),
        ("backward", "combination part", ["R6521"]),
    ]


def test_multi_stage_goes_forward_backward_forward(con):
    # Stage 1: 99592 -> R6520 (forward), R6520 and R6521 (reverse of the ICD-10 GEM).
    # Stage 2: R6520 -> 99592, R6521 -> 78552 and 99592 (backward and reverse-forward).
    # Stage 3: 99592 -> R6520, R6521 (part); 78552 -> R570 (forward), R6521 (part).
    answer = translate(con, ["995.92"], "icd9cm", "icd10cm", method="multi-stage")
    assert rows(answer, "method", "kind", "target_codes", "alternative") == [
        ("multi-stage", "single", ["R570"], 1),
        ("multi-stage", "single", ["R6520"], 2),
        ("multi-stage", "combination part", ["R6521"], 1),
    ]
    forward = translate(con, ["995.92"], "icd9cm", "icd10cm")
    assert ["R570"] not in forward.column("target_codes").to_pylist()


def test_prefix_and_range_expand_over_known_codes(con):
    answer = translate(con, ["R65.2*", "A02-R31.1", "Z99*"], "icd10cm", "icd9cm")
    got = rows(answer, "input", "source_code", "kind")
    assert [g for g in got if g[0] == "R65.2*"] == [("R65.2*", "R6520", "single"), ("R65.2*", "R6521", "combination")]
    assert sorted({g[1] for g in got if g[0] == "A02-R31.1"}) == ["A0221", "I25710", "R311"]
    assert [g for g in got if g[0] == "Z99*"] == [("Z99*", None, "not in GEM")]


def test_arrow_inputs(con):
    import pyarrow as pa

    array = pa.array(["599.72", "003.21"])
    assert translate(con, array, "icd9cm", "icd10cm").num_rows == 4
    table = pa.table({"dx": array})
    assert translate(con, table, "icd9cm", "icd10cm").num_rows == 4
    assert translate(con, pa.chunked_array([array]), "icd9cm", "icd10cm").num_rows == 4


@pytest.mark.parametrize(
    "kwargs, release, target",
    [
        ({}, "2018", ["R311"]),
        ({"release": "2017"}, "2017", ["R319"]),
        ({"as_of": date(2017, 3, 1)}, "2017", ["R319"]),
        ({"as_of": "2017-10-01"}, "2018", ["R311"]),
    ],
)
def test_release_and_as_of_select_the_gem(con, kwargs, release, target):
    answer = translate(con, ["599.72"], "icd9cm", "icd10cm", **kwargs)
    assert answer.column("release_id").to_pylist()[0] == release
    assert answer.column("target_codes").to_pylist()[0] == target


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((["599.72"], "icd9", "icd10cm"), {}, "unknown code system 'icd9'"),
        ((["599.72"], "icd9cm", "icd9cm"), {}, "both icd9cm"),
        ((["599.72"], "icd9cm", "icd10pcs"), {}, "no GEM maps icd9cm to icd10pcs"),
        ((["599.72"], "icd9cm", "icd10cm"), {"method": "sideways"}, "unknown method 'sideways'"),
        ((["599.72"], "icd9cm", "icd10cm"), {"release": "1999"}, "known releases: 2017, 2018"),
        ((["599.72"], "icd9cm", "icd10cm"), {"as_of": "2010-01-01"}, "no icd9cm>icd10cm GEM release covers"),
        ((["599.72"], "icd9cm", "icd10cm"), {"as_of": "yesterday"}, "YYYY-MM-DD"),
        ((["599.72"], "icd9cm", "icd10cm"), {"release": "2018", "as_of": "2018-01-01"}, "not both"),
        ((["R65 21"], "icd10cm", "icd9cm"), {}, "'R65 21'"),
        (([], "icd10cm", "icd9cm"), {}, "no codes given"),
        (([250.0], "icd9cm", "icd10cm"), {}, "not text"),
        ((["599.72"], "icd9pcs", "icd10pcs"), {}, "no icd9pcs>icd10pcs GEM"),
    ],
)
def test_bad_requests_name_the_fix(con, args, kwargs, message):
    with pytest.raises(QueryError) as info:
        translate(con, *args, **kwargs)
    assert message in str(info.value)


# --- the real 2018 files, loaded by the GEM loader -------------------------------------


@pytest.fixture(scope="module")
def real_con(real_2018):
    wh, _result = real_2018
    connection = wh.connect()
    yield connection
    connection.close()


@pytest.mark.slow
def test_real_2018_facts(real_con):
    r6521 = translate(real_con, ["R65.21"], "icd10cm", "icd9cm")
    assert rows(r6521, "kind", "scenario", "target_codes") == [("combination", 1, ["78552", "99592"])]
    i25710 = translate(real_con, ["I25.710"], "icd10cm", "icd9cm")
    assert rows(i25710, "kind", "target_codes") == [("combination", ["41402", "4111"])]

    icd9 = translate(real_con, ["806.4", "599.72", "003.21", "115.11"], "icd9cm", "icd10cm")
    by_input = {}
    for row in icd9.to_pylist():
        by_input.setdefault(row["input"], []).append(row)
    assert {r["scenario"] for r in by_input["806.4"]} == {1, 2, 3, 4, 5, 6}
    assert len([r for r in by_input["806.4"] if r["scenario"] == 2]) == 3
    assert [r["target_codes"] for r in by_input["599.72"]] == [["R311"], ["R3121"], ["R3129"]]
    assert rows_of(by_input["003.21"]) == [("single", ["A0221"], False)]
    assert [(r["kind"], r["target_codes"]) for r in by_input["115.11"]] == [("combination", ["B395", "G02"])]

    backward = translate(real_con, ["995.92"], "icd9cm", "icd10cm", method="backward")
    assert ("combination part", ["R6521"], 1) in rows(backward, "kind", "target_codes", "scenario")


def rows_of(dict_rows):
    return [(r["kind"], r["target_codes"], r["approximate"]) for r in dict_rows]


@pytest.mark.slow
@pytest.mark.parametrize("direction", [("icd9cm", "icd10cm"), ("icd10pcs", "icd9pcs"), ("icd9pcs", "icd10pcs")])
def test_real_combinations_agree_with_the_view(real_con, direction):
    source_system, target_system = direction
    every_code = [
        r[0]
        for r in real_con.execute(
            "SELECT DISTINCT source_code FROM gem_map WHERE source_system = ? AND target_system = ?",
            [source_system, target_system],
        ).fetchall()
    ]
    answer = translate(real_con, every_code, source_system, target_system)
    ours = sorted(
        (r["source_code"], r["scenario"], r["alternative"], tuple(r["target_codes"]))
        for r in answer.to_pylist()
        if r["kind"] == "combination"
    )
    view = sorted(
        (r[0], r[1], r[2], tuple(r[3]))
        for r in real_con.execute(
            "SELECT source_code, scenario, alternative, target_codes FROM gem_combinations "
            "WHERE source_system = ? AND target_system = ?",
            [source_system, target_system],
        ).fetchall()
    )
    assert ours == view and ours
    # Every input code is answered, none dropped.
    assert set(answer.column("input").to_pylist()) == set(every_code)


@pytest.mark.slow
def test_batch_translation_imports_no_pandas(real_2018):
    wh, _result = real_2018
    program = (
        "import sys\n"
        "from codesets.warehouse.storage import Warehouse\n"
        "from codesets.query.translate import translate\n"
        "con = Warehouse(sys.argv[1]).connect()\n"
        "answer = translate(con, ['250.00', 'E11*', '806.4'], 'icd9cm', 'icd10cm', method='both')\n"
        "assert answer.num_rows > 3\n"
        "print(sorted(m for m in ('pandas', 'pandera') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", program, str(wh.path)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
