"""The ICD-9-CM loader on hand-made fixtures (one per failure mode), the four real v32 files and the sample."""

from __future__ import annotations

import csv
import os
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from codesets.core.errors import LoadRejected, SourceError, UsageError
from codesets.loaders import icd9cm
from codesets.loaders.contract import Claim
from codesets.core.text import escape
from codesets.core import checks
from codesets.warehouse.load import load
from tests.conftest import FIXTURES, SHARED_DATA, catalog_files, need_shared

ICD9_FIXTURES = FIXTURES / "icd9cm"
V32 = SHARED_DATA / "icd9cm" / "v32"
REAL = {name: V32 / name for name in (
    "CMS32_DESC_LONG_DX.txt", "CMS32_DESC_SHORT_DX.txt", "CMS32_DESC_LONG_SG.txt", "CMS32_DESC_SHORT_SG.txt",
)}
START = date(2014, 10, 1)
LAST = date(2015, 9, 30)
GOOD_DX = ("good_LONG_DX.txt", "good_SHORT_DX.txt")
GOOD_SG = ("good_LONG_SG.txt", "good_SHORT_SG.txt")


def load_fixture(warehouse, *names, release_id="t1"):
    return load(warehouse, "icd9cm", [ICD9_FIXTURES / n for n in names], release_id=release_id, effective_from=START)


def code_rows(warehouse, where="TRUE", params=()):
    with warehouse.connect() as con:
        return con.execute(
            "SELECT code_system, code, description, short_description, billable, effective_to, source_file, line_no "
            f"FROM code_rows WHERE {where} ORDER BY code_system, line_no", list(params)
        ).fetchall()


# --- recognising a file --------------------------------------------------------------------


def test_claim_reads_the_part_from_the_lines_and_the_release_from_the_name(tmp_path):
    claim = icd9cm.LOADER.claim
    assert claim(ICD9_FIXTURES / "good_LONG_DX.txt") == Claim("diagnoses", None)
    assert claim(ICD9_FIXTURES / "good_SHORT_SG.txt") == Claim("procedures", None)
    # the name gives the release, never the part: procedure titles under a DX name are procedures
    named = tmp_path / "CMS31_DESC_LONG_DX.txt"
    shutil.copy(ICD9_FIXTURES / "good_LONG_SG.txt", named)
    assert claim(named) == Claim("procedures", "v31")
    for name, release in [("CMS33_DESC_LONG_DX.txt", None), ("cms9_desc_short_dx.txt", "v9"), ("titles.txt", None)]:
        other = tmp_path / name
        shutil.copy(ICD9_FIXTURES / "good_SHORT_DX.txt", other)
        assert claim(other) == Claim("diagnoses", release), name


def test_claim_tolerates_a_bad_line_so_the_checks_can_name_it():
    for name in ("bad_code_LONG_DX.txt", "bad_separator_LONG_DX.txt", "bad_missing_title_LONG_DX.txt"):
        assert icd9cm.LOADER.claim(ICD9_FIXTURES / name) == Claim("diagnoses", None), name


def test_claim_leaves_other_formats_alone(tmp_path):
    samples = {
        # an ICD-9 -> ICD-10 GEM: a 4-character ICD-9 code padded to 5 would otherwise fit
        "gem.txt": "0010  A000    00000\n0011  A001    00000\n0019  A009    00000\n",
        # ICD-10-CM code file: codes padded to 7 (E and V codes exist in ICD-10-CM too)
        "icd10cm.txt": "E860    Dehydration\nE8601   Hypovolemia\nV0001XA Pedestrian on foot injured\n",
        # ICD-10-PCS code file: 7-character code and a space
        "icd10pcs.txt": "0016070 Bypass Cerebral Ventricle\n0016071 Bypass Cerebral Ventricle to Mastoid\n",
        # ICD-10-CM order file: order number padded to 5, the code, the header flag
        "order.txt": "00001 A00     0 Cholera     Cholera\n00002 A000    1 Cholera due  Cholera due\n",
        "prose.txt": "This is a readme.\nIt names no code.\n",
        "empty.txt": "",
    }
    for name, text in samples.items():
        path = tmp_path / name
        path.write_text(text, encoding="latin-1")
        assert icd9cm.LOADER.claim(path) is None, name
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 400)
    assert icd9cm.LOADER.claim(binary) is None


def test_claim_asks_the_name_when_both_layouts_fit_as_many_lines(tmp_path):
    text = "0010  Cholera due to vibrio cholerae\n0001 Therapeutic ultrasound of vessels of head and neck\n"
    for name, part in [("x_DX.txt", "diagnoses"), ("x_SG.txt", "procedures")]:
        (tmp_path / name).write_text(text)
        assert icd9cm.LOADER.claim(tmp_path / name).part == part
    (tmp_path / "x.txt").write_text(text)
    with pytest.raises(SourceError, match="name the file ..._DX.txt or ..._SG.txt"):
        icd9cm.LOADER.claim(tmp_path / "x.txt")


def test_of_the_shared_files_icd9cm_claims_exactly_the_four_cms32_files():
    need_shared(*REAL.values())
    claimed = {}
    for folder, _dirs, names in os.walk(SHARED_DATA):
        for name in names:
            path = Path(folder) / name
            claim = icd9cm.LOADER.claim(path)
            if claim is not None:
                claimed[path] = claim
    assert claimed == {
        REAL["CMS32_DESC_LONG_DX.txt"]: Claim("diagnoses", "v32"),
        REAL["CMS32_DESC_SHORT_DX.txt"]: Claim("diagnoses", "v32"),
        REAL["CMS32_DESC_LONG_SG.txt"]: Claim("procedures", "v32"),
        REAL["CMS32_DESC_SHORT_SG.txt"]: Claim("procedures", "v32"),
    }


def test_other_loaders_fixtures_are_not_claimed():
    for folder in ("gems", "ncci_mue", "cpt"):
        for path in sorted((FIXTURES / folder).glob("*")):
            assert icd9cm.LOADER.claim(path) is None, path


def test_effective_from_is_october_first_of_1982_plus_the_version():
    effective = icd9cm.LOADER.effective_from
    assert effective("v32") == date(2014, 10, 1)  # FY2015, the last version
    assert effective("V27") == date(2009, 10, 1)  # FY2010
    assert effective("v33") is None  # there is none: ICD-10 from 2015-10-01
    assert effective("v0") is None
    assert effective("2015") is None
    assert effective("sample") is None


# --- good files ----------------------------------------------------------------------------


def test_a_pair_of_files_makes_one_row_per_code_with_both_titles(warehouse):
    result = load_fixture(warehouse, *GOOD_DX, *GOOD_SG)
    assert sorted((p.part, p.rows) for p in result.parts) == [("diagnoses", 8), ("procedures", 4)]
    assert result.notes == []
    rows = code_rows(warehouse)
    assert [(system, code) for system, code, *_ in rows] == [
        ("icd9cm", c) for c in ("0010", "0019", "0413", "024", "38600", "99592", "E8490", "V0389")
    ] + [("icd9pcs", c) for c in ("0001", "016", "3961", "9999")]
    by_code = {code: rest for _s, code, *rest in rows}
    assert by_code["0413"] == [
        "Friedländer's bacillus infection in conditions classified elsewhere and of unspecified site",
        "Klebsiella pneumoniae", True, LAST, "good_LONG_DX.txt", 3,
    ]
    assert by_code["38600"][:2] == ["Ménière's disease, unspecified", "Meniere's disease NOS"]
    assert by_code["016"] == ["Excision of lesion of skull", "Excise skull lesion", True, LAST, "good_LONG_SG.txt", 2]
    files = catalog_files(warehouse, "t1")
    assert {n: (f["rows"], f["kind"], f["line_ending"]) for n, f in files.items()} == {
        "good_LONG_DX.txt": (8, "icd9cm long titles", "LF"),
        "good_SHORT_DX.txt": (8, "icd9cm short titles", "LF"),
        "good_LONG_SG.txt": (4, "icd9pcs long titles", "CRLF"),
        "good_SHORT_SG.txt": (4, "icd9pcs short titles", "CRLF"),
    }


def test_the_order_of_the_files_does_not_matter(warehouse, tmp_path):
    load_fixture(warehouse, "good_SHORT_DX.txt", "good_LONG_DX.txt")
    assert code_rows(warehouse, "code = '0019'")[0][2:4] == ("Cholera, unspecified", "Cholera NOS")


def test_quirks_are_loaded_and_noted(warehouse):
    result = load_fixture(warehouse, "quirks_LONG_DX.txt", "quirks_SHORT_DX.txt")
    assert [(p.part, p.rows) for p in result.parts] == [("diagnoses", 8)]
    rows = {code: (description, line) for _s, code, description, _sd, _b, _e, _f, line in code_rows(warehouse)}
    assert rows["0019"] == ("Cholera, unspecified", 2)  # trailing spaces removed
    assert rows["V0389"] == ("Other specified vaccination", 9)  # 'v0389' stored upper case, after a blank line
    notes = "\n".join(result.notes)
    assert "quirks_LONG_DX.txt: 1 row(s) with a blank line (skipped: it holds no code), first at line 5" in notes
    assert "quirks_LONG_DX.txt: 1 row(s) with a code in lower case (stored upper case), first at line 9" in notes
    assert "quirks_LONG_DX.txt: 1 row(s) with a title with trailing spaces (stored without them), " \
           "first at line 2" in notes


def test_which_file_is_long_comes_from_the_titles_not_the_name(warehouse, tmp_path):
    swapped_long = tmp_path / "x_SHORT_DX.txt"  # holds the long titles
    swapped_short = tmp_path / "x_LONG_DX.txt"
    shutil.copy(ICD9_FIXTURES / "good_LONG_DX.txt", swapped_long)
    shutil.copy(ICD9_FIXTURES / "good_SHORT_DX.txt", swapped_short)
    result = load(warehouse, "icd9cm", [swapped_long, swapped_short], release_id="t1", effective_from=START)
    assert code_rows(warehouse, "code = '0019'")[0][2:4] == ("Cholera, unspecified", "Cholera NOS")
    assert "x_SHORT_DX.txt: read as the long diagnoses titles from their length, although the name says otherwise" \
        in result.notes


def test_the_name_breaks_a_tie_of_title_lengths(warehouse, tmp_path):
    text = "99592 Severe sepsis\n"  # the long and the short title are the same
    (tmp_path / "a_LONG_DX.txt").write_text(text)
    (tmp_path / "a_SHORT_DX.txt").write_text(text)
    result = load(warehouse, "icd9cm", [tmp_path / "a_SHORT_DX.txt", tmp_path / "a_LONG_DX.txt"],
                  release_id="t1", effective_from=START)
    assert code_rows(warehouse)[0][6] == "a_LONG_DX.txt"
    assert "a_LONG_DX.txt: read as the long diagnoses titles from its name (its titles are as long on average " \
           "as those of the other file)" in result.notes


def test_a_tie_the_names_do_not_break_is_refused(warehouse, tmp_path):
    (tmp_path / "one_DX.txt").write_text("99592 Severe sepsis\n")
    (tmp_path / "two_DX.txt").write_text("99592 Severe sepsis\n")
    with pytest.raises(SourceError, match="neither reads as the long titles"):
        load(warehouse, "icd9cm", [tmp_path / "one_DX.txt", tmp_path / "two_DX.txt"],
             release_id="t1", effective_from=START)
    assert warehouse.current() is None


@pytest.mark.parametrize("names", [
    ("good_LONG_DX.txt",),
    ("good_LONG_DX.txt", "good_SHORT_DX.txt", "bad_code_LONG_DX.txt"),
])
def test_a_part_is_exactly_two_files(warehouse, names):
    with pytest.raises(SourceError, match="a part is its long and short title file"):
        load_fixture(warehouse, *names)
    assert warehouse.current() is None


# --- refusals: each names file, line, column and value ------------------------------------

BAD_ROWS = {
    ("bad_code_LONG_DX.txt", "good_SHORT_DX.txt"): [
        ("bad_code_LONG_DX.txt", 2, "code", "0O19"),
        ("bad_code_LONG_DX.txt", 6, "code", "9959X"),
        ("good_SHORT_DX.txt", 2, "code_unpaired", "0019 is not in bad_code_LONG_DX.txt"),
        ("good_SHORT_DX.txt", 6, "code_unpaired", "99592 is not in bad_code_LONG_DX.txt"),
    ],
    ("bad_code_LONG_SG.txt", "good_SHORT_SG.txt"): [
        ("bad_code_LONG_SG.txt", 2, "code", "01A"),
        ("good_SHORT_SG.txt", 2, "code_unpaired", "016 is not in bad_code_LONG_SG.txt"),
    ],
    ("bad_separator_LONG_DX.txt", "good_SHORT_DX.txt"): [
        ("bad_separator_LONG_DX.txt", 4, "raw", "024  Glanders"),
        ("bad_separator_LONG_DX.txt", 6, "raw", "99592-Severe sepsis"),
    ],
    ("bad_missing_title_LONG_DX.txt", "good_SHORT_DX.txt"): [
        ("bad_missing_title_LONG_DX.txt", 3, "raw", "0413"),
        ("bad_missing_title_LONG_DX.txt", 4, "raw", "024   "),
    ],
    ("bad_misaligned_LONG_DX.txt", "good_SHORT_DX.txt"): [
        ("bad_misaligned_LONG_DX.txt", 2, "raw", "0019   Cholera, unspecified"),
    ],
    ("bad_control_LONG_DX.txt", "good_SHORT_DX.txt"): [
        ("bad_control_LONG_DX.txt", 7, "title", "Home\taccidents"),
    ],
    ("bad_duplicate_LONG_DX.txt", "good_SHORT_DX.txt"): [
        ("bad_duplicate_LONG_DX.txt", 2, "code_repeated", "0019, also on line 9"),
        ("bad_duplicate_LONG_DX.txt", 9, "code_repeated", "0019, also on line 2"),
    ],
    ("bad_unpaired_LONG_DX.txt", "good_SHORT_DX.txt"): [
        ("bad_unpaired_LONG_DX.txt", 8, "code_unpaired", "V0381 is not in good_SHORT_DX.txt"),
        ("good_SHORT_DX.txt", 8, "code_unpaired", "V0389 is not in bad_unpaired_LONG_DX.txt"),
    ],
}


@pytest.mark.parametrize("names", sorted(BAD_ROWS), ids=lambda names: names[0])
def test_bad_rows_are_refused_with_file_line_column_value(warehouse, names):
    with pytest.raises(LoadRejected) as info:
        load_fixture(warehouse, *names)
    assert warehouse.current() is None, "a refused load must publish nothing"
    error = info.value
    assert [(r["file"], r["line"], r["column"], r["value"]) for r in error.rejects] == BAD_ROWS[names]
    assert all(r["rule"] for r in error.rejects)
    assert names[0] in str(error) and "nothing was loaded" in str(error)
    for file, line, column, value in BAD_ROWS[names]:  # the message itself names each, values escaped
        assert all(text in str(error) for text in (file, f" {line} ", column, escape(value)))
    with open(error.rejects_path, newline="", encoding="utf-8") as handle:
        assert [(r["file"], int(r["line"])) for r in csv.DictReader(handle)] == [
            (f, line) for f, line, _c, _v in BAD_ROWS[names]
        ]


def test_a_refusal_says_what_the_layout_is(warehouse):
    with pytest.raises(LoadRejected) as info:
        load_fixture(warehouse, "bad_separator_LONG_DX.txt", "good_SHORT_DX.txt")
    rule = info.value.rejects[0]["rule"]
    assert "column 6 must be a space: a diagnosis line is the code padded to 5 characters" in rule
    with pytest.raises(LoadRejected) as info:
        load_fixture(warehouse, "bad_code_LONG_SG.txt", "good_SHORT_SG.txt")
    assert info.value.rejects[0]["rule"] == "not an ICD-9-CM procedure code: 2-4 digits"


def test_a_windows_1252_byte_is_refused_by_line_and_column(warehouse):
    line = (ICD9_FIXTURES / "bad_c1_LONG_DX.txt").read_bytes().split(b"\n")[2]
    column = line.index(b"\x92") + 1
    with pytest.raises(SourceError, match=rf"bad_c1_LONG_DX.txt: byte 0x92 at line 3, column {column} is not Latin-1"):
        load_fixture(warehouse, "bad_c1_LONG_DX.txt", "good_SHORT_DX.txt")
    assert column == 18 and warehouse.current() is None


def test_a_file_without_a_release_in_its_name_needs_one(warehouse):
    with pytest.raises(UsageError, match="pass --release ID"):
        load(warehouse, "icd9cm", [ICD9_FIXTURES / n for n in GOOD_DX])


@pytest.mark.parametrize("names", [*sorted(BAD_ROWS), GOOD_DX, ("quirks_LONG_DX.txt", "quirks_SHORT_DX.txt")],
                         ids=lambda names: names[0])
def test_pushdown_agrees_with_pandera(names):
    """The model declared once: pandera's own pandas validation refuses the same lines as the SQL push-down."""
    import pandera.pandas as pa

    con = duckdb.connect()
    paths = [ICD9_FIXTURES / n for n in names]
    icd9cm.LOADER.stage(con, {icd9cm.LOADER.claim(paths[0]).part: paths})
    model = icd9cm.model()
    pushed = {(f, line) for f, line, *_rest in checks.failing_rows(con, "staged", model)}
    frame = con.sql("SELECT * FROM staged ORDER BY file_no, line_no").df()
    try:
        model.validate(frame, lazy=True)
        validated = set()
    except pa.errors.SchemaErrors as exc:
        failing = frame.loc[exc.failure_cases["index"].dropna().astype(int)]
        validated = set(zip(failing["source_file"], failing["line_no"]))
    assert pushed == validated == {(f, line) for f, line, _c, _v in BAD_ROWS.get(names, [])}


# --- releases --------------------------------------------------------------------------------


def test_loading_the_same_bytes_again_is_a_no_op(warehouse):
    load_fixture(warehouse, *GOOD_DX)
    before = warehouse.current()
    again = load_fixture(warehouse, *reversed(GOOD_DX))
    assert again.status == "unchanged"
    assert warehouse.current() == before


def test_procedures_may_join_a_release_later(warehouse):
    load_fixture(warehouse, *GOOD_DX, release_id="v32")
    result = load_fixture(warehouse, *GOOD_SG, release_id="v32")
    assert [(p.part, p.status) for p in result.parts] == [("procedures", "loaded")]
    with warehouse.connect() as con:
        assert con.execute("SELECT parts FROM releases WHERE source = 'icd9cm'").fetchone() == ("diagnoses procedures",)


# --- the real CMS files ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_v32(tmp_path_factory):
    from codesets.warehouse.storage import Warehouse

    need_shared(*REAL.values())
    wh = Warehouse(tmp_path_factory.mktemp("real_icd9") / "wh")
    return wh, load(wh, "icd9cm", list(REAL.values()))


def independent_titles(path: Path, width: int) -> dict[str, str]:
    """A file's titles read by plain Python: code from the first ``width`` characters, title after the space."""
    with open(path, encoding="latin-1", newline="") as handle:
        return {line[:width].rstrip(): line[width + 1 :].rstrip("\r\n") for line in handle}


def test_real_files_load_whole(real_v32):
    wh, result = real_v32
    assert (result.release_id, result.effective_from) == ("v32", START)
    assert sorted((p.part, p.rows) for p in result.parts) == [("diagnoses", 14_567), ("procedures", 3_882)]
    assert result.notes == []
    with wh.connect() as con:
        counts = con.execute(
            "SELECT code_system, COUNT(*), COUNT(DISTINCT code), COUNT(description), COUNT(short_description), "
            "bool_and(billable), MIN(effective_from), MAX(effective_to) FROM codes GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert counts == [
        ("icd9cm", 14_567, 14_567, 14_567, 14_567, True, START, LAST),
        ("icd9pcs", 3_882, 3_882, 3_882, 3_882, True, START, LAST),
    ]
    files = catalog_files(wh, "v32")
    assert {n: f["rows"] for n, f in files.items()} == {
        "CMS32_DESC_LONG_DX.txt": 14_567, "CMS32_DESC_SHORT_DX.txt": 14_567,
        "CMS32_DESC_LONG_SG.txt": 3_882, "CMS32_DESC_SHORT_SG.txt": 3_882,
    }


def test_real_latin1_titles_round_trip_into_utf8(real_v32):
    wh, _ = real_v32
    with wh.connect() as con:
        def description(code):
            return con.execute(
                "SELECT description FROM codes WHERE code_system = 'icd9cm' AND code = ?", [code]
            ).fetchone()[0]

        assert description("0413").startswith("Friedländer's bacillus infection")
        assert description("04671") == "Gerstmann-Sträussler-Scheinker syndrome"
        assert description("38600") == "Ménière's disease, unspecified"
        non_ascii = con.execute(
            "SELECT code FROM codes WHERE NOT regexp_full_match(description, '[ -~]*') ORDER BY code"
        ).fetchall()
    assert [c for (c,) in non_ascii] == ["0413", "04671", "38600", "38601", "38602", "38603", "38604"]


def test_real_known_codes_have_both_titles(real_v32):
    wh, _ = real_v32
    with wh.connect() as con:
        rows = con.execute(
            "SELECT code_system, code, description, short_description, effective_from, effective_to FROM codes "
            "WHERE code IN ('0389', '99592', 'V0389', 'E8490', '024', '016', '9999') ORDER BY code_system, code"
        ).fetchall()
    assert rows == [
        ("icd9cm", "024", "Glanders", "Glanders", START, LAST),
        ("icd9cm", "0389", "Unspecified septicemia", "Septicemia NOS", START, LAST),
        ("icd9cm", "99592", "Severe sepsis", "Severe sepsis", START, LAST),
        # 999.9 and 99.99: one canonical code in each system, told apart by code_system
        ("icd9cm", "9999", "Other and unspecified complications of medical care, not elsewhere classified",
         "Complic med care NEC/NOS", START, LAST),
        ("icd9cm", "E8490", "Home accidents", "Accident in home", START, LAST),
        ("icd9cm", "V0389", "Other specified vaccination", "Nd other specf vacnation", START, LAST),
        ("icd9pcs", "016", "Excision of lesion of skull", "Excise skull lesion", START, LAST),
        ("icd9pcs", "9999", "Other miscellaneous procedures", "Miscellaneous proc NEC", START, LAST),
    ]


def test_real_titles_match_an_independent_read(real_v32):
    wh, _ = real_v32
    with wh.connect() as con:
        loaded = {
            (system, code): (description, short)
            for system, code, description, short in con.execute(
                "SELECT code_system, code, description, short_description FROM codes"
            ).fetchall()
        }
    expected = {}
    for system, kind, width in (("icd9cm", "DX", 5), ("icd9pcs", "SG", 4)):
        long_titles = independent_titles(REAL[f"CMS32_DESC_LONG_{kind}.txt"], width)
        short_titles = independent_titles(REAL[f"CMS32_DESC_SHORT_{kind}.txt"], width)
        assert long_titles.keys() == short_titles.keys()
        expected.update({(system, code): (long_titles[code], short_titles[code]) for code in long_titles})
    assert loaded == expected


def test_real_files_with_crlf_load_alike(real_v32, tmp_path):
    from codesets.warehouse.storage import Warehouse

    wh, _ = real_v32
    copies = []
    for name in ("CMS32_DESC_LONG_SG.txt", "CMS32_DESC_SHORT_SG.txt"):
        copies.append(tmp_path / name)
        copies[-1].write_bytes(REAL[name].read_bytes().replace(b"\n", b"\r\n"))
    other = Warehouse(tmp_path / "crlf")
    result = load(other, "icd9cm", copies)
    assert [(p.part, p.rows) for p in result.parts] == [("procedures", 3_882)]
    query = ("SELECT code, description, short_description, line_no FROM code_rows "
             "WHERE part = 'procedures' ORDER BY line_no")
    with wh.connect() as a, other.connect() as b:
        assert a.execute(query).fetchall() == b.execute(query).fetchall()


def test_real_reload_is_a_no_op(real_v32):
    wh, _ = real_v32
    before = wh.current()
    again = load(wh, "icd9cm", list(REAL.values()))
    assert again.status == "unchanged" and wh.current() == before


# --- the bundled sample ----------------------------------------------------------------------


def test_sample_is_real_rows_and_loads(warehouse):
    sample = icd9cm.LOADER.sample()
    assert sample.release_id == "sample" and sample.effective_from == START
    assert sorted(icd9cm.LOADER.claim(p).part for p in sample.files) == ["diagnoses"] * 2 + ["procedures"] * 2
    if all(p.is_file() for p in REAL.values()):  # every sample line is a line of the v32 files
        real_lines = set()
        for path in REAL.values():
            real_lines |= set(path.read_bytes().splitlines())
        for path in sample.files:
            assert set(path.read_bytes().splitlines()) <= real_lines, path
    result = load(warehouse, "icd9cm", list(sample.files), sample.release_id, sample.effective_from, sample=True)
    assert sorted((p.part, p.rows) for p in result.parts) == [("diagnoses", 15), ("procedures", 8)]
    assert result.notes == []
    with warehouse.connect() as con:
        assert con.execute("SELECT description FROM codes WHERE code = '0413'").fetchone()[0].startswith("Friedländer")
