"""Hostile files, one attack a test: a file with no data rows, a file cut inside its last line,
control characters in a record, an ICD-9-CM title file saved as UTF-8, a SNOMED CT id with one
digit wrong. Each is reproduced with a small file made here (tmp_path) and, where it proves the
loader, with a real file from ../shared/data (skipped when that folder is absent).

Every refusal is one of codesets' own errors (SourceError, exit 65; LoadRejected for rows that
fail the checks) and publishes nothing."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from codesets.core.errors import LoadRejected, SourceError
from codesets.core import sctid as _sctid
from codesets.loaders import _lines, snomed_icd10cm
from codesets.warehouse.load import load
from codesets.warehouse.refresh import refresh
from tests.conftest import FIXTURES, ROOT, SHARED_DATA, need_shared
from tests.scrub.test_scrub_ncci import line, run, write_mue

SNOMED = snomed_icd10cm.LOADER.sample()
SNOMED_FILES = {kind: next(p for p in SNOMED.files if kind in p.name) for kind in ("Refset", "Description", "Relationship")}
MAP_FULL = FIXTURES / "snomed_icd10cm" / "der2_iisssccRefset_ExtendedMapFull_US1000124_20240301.txt"
ICD9 = FIXTURES / "icd9cm"
START = date(2020, 1, 1)


@pytest.fixture(scope="module", autouse=True)
def _models_declared_once():
    snomed_icd10cm.model()  # register pandera's sql_rules check before a load builds it on a thread


def refused(warehouse, source, files, **options) -> SourceError:
    """Load ``files``; it must fail with a SourceError that is not a reject of rows, and publish nothing."""
    with pytest.raises(SourceError) as info:
        load(warehouse, source, files, options.pop("release_id", "r1"), START, **options)
    assert not isinstance(info.value, LoadRejected)
    assert info.value.exit_code == 65
    assert warehouse.current() is None, "a refused load must publish nothing"
    return info.value


def rejected(warehouse, source, files) -> list[dict]:
    with pytest.raises(LoadRejected) as info:
        load(warehouse, source, files, "r1", START)
    assert info.value.exit_code == 65
    assert warehouse.current() is None, "a refused load must publish nothing"
    return info.value.rejects


def lines_of(path: Path, count: int, folder: Path, name: str | None = None) -> Path:
    """The first ``count`` lines of ``path``, each with its own line ending, as a new file."""
    kept = path.read_bytes().splitlines(keepends=True)[:count]
    target = folder / (name or path.name)
    target.write_bytes(b"".join(kept))
    return target


def cut(path: Path, folder: Path, keep_from_end: int, name: str | None = None) -> Path:
    """``path`` cut inside its last line: the line ending and ``keep_from_end`` characters before it gone."""
    data = path.read_bytes().rstrip(b"\r\n")
    target = folder / (name or path.name)
    target.write_bytes(data[:-keep_from_end])
    return target


def replaced(path: Path, folder: Path, old: bytes, new: bytes, name: str | None = None) -> Path:
    data = path.read_bytes()
    assert data.count(old) >= 1, old
    target = folder / (name or path.name)
    target.write_bytes(data.replace(old, new, 1))
    return target


def line_of(path: Path, needle: bytes) -> int:
    return next(n for n, text in enumerate(path.read_bytes().split(b"\n"), 1) if needle in text)


# --- A. a file with no data rows -----------------------------------------------------------------


def test_a_header_only_mue_table_for_the_next_quarter_is_refused_and_the_old_limit_still_holds(warehouse, tmp_path):
    """The attack: after a header-only practitioner table for October, 5 units of a code limited to 1
    passed with no finding (the empty release ended every limit of July)."""
    july = tmp_path / "july"
    july.mkdir()
    load(warehouse, "ncci_mue", [write_mue(july, "practitioner", [("11042", 1, 1)])])
    october = tmp_path / "october"
    october.mkdir()
    empty = write_mue(october, "practitioner", [], effective="10-01-2026")
    generation = warehouse.current()

    with pytest.raises(SourceError) as info:
        load(warehouse, "ncci_mue", [empty])
    error = info.value
    assert not isinstance(error, LoadRejected) and error.exit_code == 65
    assert empty.name in str(error) and "--allow-empty" in str(error)
    assert warehouse.current() == generation, "nothing of the refused release is published"

    claim = [line("A", 1, "11042", units=5, dos="2026-10-15")]
    assert [(f[2], f[3], f[4]) for f in run(warehouse, claim, checks=("mue",))] == [("mue", "error", "11042")]

    # --allow-empty publishes it, on purpose: October then has no limits, which is what the guard prevents
    result = load(warehouse, "ncci_mue", [empty], allow_empty=True)
    assert [(p.part, p.status, p.rows) for p in result.parts] == [("practitioner", "loaded", 0)]
    assert run(warehouse, claim, checks=("mue",)) == []


def _header_only_files(folder: Path) -> list[tuple[str, Path]]:
    xml = folder / "icd10cm_tabular_2022.xml"
    xml.write_bytes(b'<?xml version="1.0" encoding="utf-8"?>\r\n<ICD10CM.tabular>\r\n  <version>2022</version>\r\n'
                    b"</ICD10CM.tabular>\r\n")
    return [
        ("ncci_mue", lines_of(FIXTURES / "ncci_mue" / "good_practitioner.csv", 5, folder,
                              "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv")),
        ("icd10cm", xml),
        ("hcpcs", lines_of(FIXTURES / "hcpcs" / "good_quarterly.csv", 1, folder, "HCPC2026_OCT_ANWEB.csv")),
        ("snomed_icd10cm", lines_of(MAP_FULL, 1, folder)),
        ("snomed_icd10cm", lines_of(FIXTURES / "snomed_icd10cm" / "tls_Icd10cmHumanReadableMap_US1000124_20240301.tsv",
                                    1, folder)),
        ("snomed_icd10cm", lines_of(SNOMED_FILES["Description"], 1, folder,
                                    "sct2_Description_Snapshot-en_US1000124_20240301.txt")),
        ("snomed_icd10cm", lines_of(SNOMED_FILES["Relationship"], 1, folder,
                                    "sct2_Relationship_Snapshot_US1000124_20240301.txt")),
    ]


@pytest.mark.parametrize("number", range(7))
def test_every_loader_refuses_a_file_without_data_rows_unless_allowed(tmp_path, number):
    from codesets.warehouse.storage import Warehouse

    source, path = _header_only_files(tmp_path)[number]
    error = refused(Warehouse(tmp_path / "wh"), source, [path])
    assert path.name in str(error) and "--allow-empty" in str(error)
    result = load(Warehouse(tmp_path / "allowed"), source, [path], "r1", START, allow_empty=True)
    assert [(p.status, p.rows) for p in result.parts] == [("loaded", 0)]


def test_the_cli_refuses_an_empty_file_with_exit_65_and_loads_it_with_allow_empty(tmp_path):
    from codesets.cli.app import app

    runner = CliRunner()
    source, path = _header_only_files(tmp_path)[0]
    base = ["--warehouse", str(tmp_path / "wh")]
    refused_load = runner.invoke(app, [*base, "load", source, str(path)])
    assert refused_load.exit_code == 65 and "--allow-empty" in refused_load.output
    allowed = runner.invoke(app, [*base, "load", source, str(path), "--allow-empty"])
    assert allowed.exit_code == 0, allowed.output

    folder = tmp_path / "drop"
    folder.mkdir()
    shutil.copy(path, folder / "MCR_MUE_PractitionerServices_Eff_01-01-2027.csv")
    base = ["--warehouse", str(tmp_path / "other")]  # where these bytes are not loaded already
    refused_refresh = runner.invoke(app, [*base, "refresh", str(folder)])
    assert refused_refresh.exit_code == 65 and "--allow-empty" in refused_refresh.output
    allowed = runner.invoke(app, [*base, "refresh", str(folder), "--allow-empty"])
    assert allowed.exit_code == 0, allowed.output


def test_refresh_passes_allow_empty_to_each_release(tmp_path):
    from codesets.warehouse.storage import Warehouse

    folder = tmp_path / "drop"
    folder.mkdir()
    lines_of(FIXTURES / "ncci_mue" / "good_practitioner.csv", 5, folder, "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv")
    warehouse = Warehouse(tmp_path / "wh")
    report = refresh(warehouse, folder)
    assert [type(error) for _what, error in report.failures] == [SourceError]
    assert warehouse.current() is None
    report = refresh(warehouse, folder, allow_empty=True)
    assert report.ok and [(p.part, p.rows) for p in report.results[0].parts] == [("practitioner", 0)]


# --- B. a file cut inside its last line ----------------------------------------------------------

CUT = [
    # (source, the whole file, the name to load it under): every line of these formats ends with a line ending
    ("ncci_mue", FIXTURES / "ncci_mue" / "good_practitioner.csv", "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv"),
    ("icd10cm", FIXTURES / "icd10cm" / "good_order.txt", "icd10cm-order-2026.txt"),
    ("icd10cm", FIXTURES / "icd10cm" / "good_codes.txt", "icd10cm-codes-2026.txt"),
    ("icd10pcs", FIXTURES / "icd10pcs" / "good_order.txt", "icd10pcs_order_2026.txt"),
    ("snomed_icd10cm", SNOMED_FILES["Relationship"], "sct2_Relationship_Snapshot_US1000124_20240301.txt"),
    ("snomed_icd10cm", SNOMED_FILES["Description"], "sct2_Description_Snapshot-en_US1000124_20240301.txt"),
    ("snomed_icd10cm", MAP_FULL, None),
    ("ncci_ptp", ROOT / "codesets" / "samples" / "ncci_ptp" / "ccipra-sample-f1.txt", "ccipra-v999r0-f1.txt"),
]


@pytest.mark.parametrize("source,whole,name", CUT, ids=[f"{s}-{p.name}" for s, p, _n in CUT])
def test_a_last_line_without_its_line_ending_is_refused_naming_line_and_column(warehouse, tmp_path, source, whole, name):
    """The attack: the file cut inside its last record (a download that stopped) loaded that record damaged:
    a title, a rationale or an SCTID short of its end."""
    path = cut(whole, tmp_path, 3, name)
    last = path.read_bytes().count(b"\n") + 1
    error = refused(warehouse, source, [path])
    text = str(error)
    assert path.name in text and f"line {last:,}, column " in text
    width = len(path.read_bytes().rsplit(b"\n", 1)[-1].decode("utf-8", errors="replace"))
    assert f"column {width + 1:,}" in text


def test_icd9_title_files_cut_inside_the_last_line_are_refused(warehouse, tmp_path):
    long_file = cut(ICD9 / "good_LONG_DX.txt", tmp_path, 3, "CMS32_DESC_LONG_DX.txt")
    short_file = shutil.copy(ICD9 / "good_SHORT_DX.txt", tmp_path / "CMS32_DESC_SHORT_DX.txt")
    assert "line 8, column 31" in str(refused(warehouse, "icd9cm", [long_file, short_file], release_id="v32"))


def test_a_cut_value_is_shown_escaped_and_short(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"ok\n" + b"\x1b[31m" + b"x" * 500)
    with pytest.raises(SourceError) as info:
        _lines.inspect(path, ended=True)
    text = str(info.value)
    assert "\x1b" not in text and "\\x1b[31m" in text and "x" * 200 not in text and "line 2, column 506" in text
    # asked or not, a whole file passes; a file that does not ask keeps its unended last line
    assert _lines.inspect(path).lines == 2
    path.write_bytes(b"ok\r\nlast\r\n")
    assert _lines.inspect(path, ended=True).lines == 2


def test_an_hcpcs_csv_may_lack_its_final_line_ending(warehouse):
    """CMS's xlsx exported as CSV ends without a line ending (the 2026 excerpt too): still loaded."""
    path = FIXTURES / "hcpcs" / "good_quarterly.csv"
    assert not path.read_bytes().endswith(b"\n")
    result = load(warehouse, "hcpcs", [path], "r1", START)
    assert result.parts[0].rows > 0


REAL_ENDED = [
    "mue/MCR_MUE_PractitionerServices_Eff_07-01-2026.excerpt.csv",
    "icd10cm/fy2021_jan/icd10cm-order-Jan-2021.txt",
    "icd10cm/fy2024/icd10cm-codes-2024.txt",
    "icd10cm/fy2026_excerpt/icd10cm_order_2026.excerpt.txt",
    "icd10pcs/fy2024/icd10pcs-codes-2024.txt",
    "icd9cm/v32/CMS32_DESC_LONG_DX.txt",
    "icd9cm/v32/CMS32_DESC_SHORT_DX.txt",
    "icd9cm/v32/CMS32_DESC_LONG_SG.txt",
    "icd9cm/v32/CMS32_DESC_SHORT_SG.txt",
    "ncci/ccipra-v322r0-f1.excerpt.txt",
]


@pytest.mark.parametrize("name", REAL_ENDED)
def test_real_files_of_the_formats_that_end_every_line_pass_the_check(name):
    path = SHARED_DATA / name
    need_shared(path)
    assert _lines.inspect(path, ended=True).lines > 0


def test_a_real_mue_table_cut_inside_its_last_line_is_refused_and_loads_whole(warehouse, tmp_path):
    real = SHARED_DATA / "mue" / "MCR_MUE_PractitionerServices_Eff_07-01-2026.excerpt.csv"
    need_shared(real)
    path = cut(real, tmp_path, 5)
    last = path.read_bytes().count(b"\n") + 1
    assert f"line {last}, column" in str(refused(warehouse, "ncci_mue", [path], release_id="2026-07-01"))
    assert load(warehouse, "ncci_mue", [real]).parts[0].rows == 44


def test_a_real_icd10cm_code_file_cut_inside_its_last_line_is_refused(warehouse, tmp_path):
    real = SHARED_DATA / "icd10cm" / "fy2024" / "icd10cm-codes-2024.txt"
    need_shared(real)
    path = cut(real, tmp_path, 10)
    assert "line 74,044, column" in str(refused(warehouse, "icd10cm", [path], release_id="2024"))


# --- C. control characters -----------------------------------------------------------------------


@pytest.mark.parametrize("byte", [b"\x00", b"\x1b", b"\x07"], ids=["NUL", "ESC", "BEL"])
def test_control_characters_in_an_mue_record_are_rejected_naming_line_and_column(warehouse, tmp_path, byte):
    good = FIXTURES / "ncci_mue" / "good_practitioner.csv"
    path = replaced(good, tmp_path, b"Clinical: Data\r\n", b"Clinical: " + byte + b"Data\r\n",
                    "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv")
    number = line_of(path, byte)
    column = path.read_bytes().split(b"\n")[number - 1].index(byte) + 1
    rejects = rejected(warehouse, "ncci_mue", [path])
    assert [(r["line"], r["column"], r["value"]) for r in rejects] == [
        (number, "control_character", f"control character 0x{byte[0]:02X} at column {column}")
    ]


def test_an_escape_in_an_mue_adjudication_text_is_rejected_not_just_noted(warehouse, tmp_path):
    good = FIXTURES / "ncci_mue" / "good_practitioner.csv"
    path = replaced(good, tmp_path, b"1 Line Edit", b"1 Line\x1b[2JEdit", "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv")
    rejects = rejected(warehouse, "ncci_mue", [path])
    assert [(r["line"], r["column"]) for r in rejects] == [(line_of(path, b"\x1b"), "control_character")]


@pytest.mark.parametrize("part,old,new", [
    ("Refset", b"ALWAYS N97.9\tN97.9", b"ALWAYS N97.9\x1b]0;owned\x07\tN97.9"),
    ("Description", b"Clinical finding (finding)", b"Clinical\x00 finding (finding)"),
    ("Relationship", b"\t0\t116680003", b"\t0\x07\t116680003"),
    ("Description", b"Deformity of hip joint", "Deformity\u0085of hip joint".encode()),  # C1 NEL, as UTF-8
], ids=["map-OSC", "description-NUL", "relationship-BEL", "description-C1"])
def test_control_characters_in_snomed_files_are_rejected(warehouse, tmp_path, part, old, new):
    path = replaced(SNOMED_FILES[part], tmp_path, old, new, SNOMED_FILES[part].name.replace("SAMPLE", "20240301"))
    rejects = rejected(warehouse, "snomed_icd10cm", [path])
    assert {(r["line"], r["column"]) for r in rejects} >= {(line_of(path, new), "control_character")}
    assert all(r["value"].startswith("control character 0x") for r in rejects if r["column"] == "control_character")


# --- C. an ICD-9-CM title file saved as UTF-8 -------------------------------------------------------


def _titles(warehouse) -> dict[str, str]:
    with warehouse.connect() as con:
        return dict(con.execute("SELECT code, description FROM code_rows WHERE code IN ('0413', '38600')").fetchall())


def test_icd9_titles_read_alike_from_latin1_and_from_utf8(tmp_path):
    """The attack: the Latin-1 file saved again as UTF-8 loaded as mojibake ('FriedlÃ¤nder')."""
    from codesets.warehouse.storage import Warehouse

    latin1 = [ICD9 / "good_LONG_DX.txt", ICD9 / "good_SHORT_DX.txt"]
    assert b"Friedl\xe4nder" in latin1[0].read_bytes()
    utf8_long = tmp_path / "good_LONG_DX.txt"
    utf8_long.write_bytes(latin1[0].read_bytes().decode("latin-1").encode("utf-8"))
    assert _lines.text_encoding(latin1[0]) == "latin-1" and _lines.text_encoding(utf8_long) == "utf-8"
    assert _lines.text_encoding(latin1[1]) == "latin-1"  # ASCII: either reading is the same

    first, second = Warehouse(tmp_path / "a"), Warehouse(tmp_path / "b")
    load(first, "icd9cm", latin1, "v32", START)
    result = load(second, "icd9cm", [utf8_long, latin1[1]], "v32", START)
    expected = {"0413": "Friedländer's bacillus infection in conditions classified elsewhere and of unspecified site",
                "38600": "Ménière's disease, unspecified"}
    assert _titles(first) == _titles(second) == expected
    assert any(note.startswith("good_LONG_DX.txt: read as UTF-8") for note in result.notes)


def test_icd9_c1_controls_in_a_utf8_file_are_refused(warehouse, tmp_path):
    """Read as UTF-8, U+0080-U+009F are characters the Latin-1 pass never sees: the title rule names them."""
    long_file = replaced(ICD9 / "good_LONG_DX.txt", tmp_path, b"Glanders", "Glan\u0085ders é".encode(),
                         "CMS32_DESC_LONG_DX.txt")
    long_file.write_bytes(long_file.read_bytes().replace(b"\xe4", "ä".encode()).replace(b"\xe9", "é".encode())
                          .replace(b"\xe8", "è".encode()))
    assert _lines.text_encoding(long_file) == "utf-8"
    short_file = shutil.copy(ICD9 / "good_SHORT_DX.txt", tmp_path / "CMS32_DESC_SHORT_DX.txt")
    with pytest.raises(LoadRejected) as info:
        load(warehouse, "icd9cm", [long_file, short_file], "v32", START)
    assert [(r["line"], r["column"]) for r in info.value.rejects] == [(4, "title")]


def test_a_real_icd9_file_saved_as_utf8_loads_the_same_titles(tmp_path):
    from codesets.warehouse.storage import Warehouse

    real = SHARED_DATA / "icd9cm" / "v32"
    files = [real / "CMS32_DESC_LONG_DX.txt", real / "CMS32_DESC_SHORT_DX.txt"]
    need_shared(*files)
    assert _lines.text_encoding(files[0]) == "latin-1"
    utf8 = tmp_path / files[0].name
    utf8.write_bytes(files[0].read_bytes().decode("latin-1").encode("utf-8"))
    first, second = Warehouse(tmp_path / "a"), Warehouse(tmp_path / "b")
    load(first, "icd9cm", files, "v32", START)
    load(second, "icd9cm", [utf8, files[1]], "v32", START)
    assert _titles(first) == _titles(second)
    assert _titles(second)["0413"].startswith("Friedländer's")


# --- C. SNOMED CT ids: the Verhoeff check digit and the partition -----------------------------------

KNOWN_VALID = ["6011000124106", "447562003", "138875005", "404684003", "900000000000207008", "731000124108",
               "447561005", "447637006", "116680003", "900000000000003001", "900000000000011006"]
digits = st.text(alphabet="0123456789", min_size=1, max_size=17)


def test_known_sctids_are_valid_and_one_digit_off_is_not():
    for sctid in KNOWN_VALID:
        assert _sctid.check_digit_ok(sctid) and _sctid.check_digit(sctid[:-1]) == sctid[-1], sctid
    assert _sctid.check_digits_ok(pa.array(KNOWN_VALID)).all()
    assert _sctid.is_valid("6011000124106") and _sctid.is_valid("900000000000003001")  # partition 00: a concept
    assert not _sctid.is_valid("900000000000003001", "description")
    assert _sctid.is_valid("200001016", "description") and not _sctid.is_valid("200001016")
    assert not _sctid.check_digit_ok("447562004") and not _sctid.check_digit_ok("6011000124107")


@settings(max_examples=300, deadline=None)
@given(body=digits)
def test_appending_the_check_digit_always_validates(body):
    assert _sctid.check_digit_ok(body + _sctid.check_digit(body))


@settings(max_examples=300, deadline=None)
@given(body=digits, data=st.data())
def test_changing_any_single_digit_always_fails(body, data):
    sctid = body + _sctid.check_digit(body)
    place = data.draw(st.integers(0, len(sctid) - 1))
    other = data.draw(st.sampled_from([d for d in "0123456789" if d != sctid[place]]))
    assert not _sctid.check_digit_ok(sctid[:place] + other + sctid[place + 1:])


@settings(max_examples=300, deadline=None)
@given(body=digits.filter(lambda d: len(d) >= 2), data=st.data())
def test_swapping_two_different_neighbours_always_fails(body, data):
    sctid = body + _sctid.check_digit(body)
    place = data.draw(st.integers(0, len(sctid) - 2))
    if sctid[place] != sctid[place + 1]:
        swapped = sctid[:place] + sctid[place + 1] + sctid[place] + sctid[place + 2:]
        assert not _sctid.check_digit_ok(swapped)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.text(alphabet="0123456789", min_size=2, max_size=18), min_size=0, max_size=20),
       cut=st.integers(0, 3))
def test_the_vectorised_and_sql_checks_agree_with_the_python_one(values, cut):
    """The one-id Python twin is the tests' reference; the loader's checks run the vectorised check digit
    (on a slice too: an Arrow array may start inside its buffers) and the SQL partition rule."""
    array = pa.array(["9" * cut] + values)[1:] if cut else pa.array(values, pa.string())
    assert list(_sctid.check_digits_ok(array)) == [_sctid.check_digit_ok(v) for v in values]
    if not values:
        return
    con = duckdb.connect()
    kinds = {kind: con.execute(f"SELECT list_transform(?, lambda v: {_sctid.sql_partition_ok('v', kind)})",
                               [values]).fetchone()[0] for kind in _sctid.KINDS}
    for kind, verdicts in kinds.items():
        assert verdicts == [_sctid.partition_ok(v, kind) for v in values], kind


def test_a_one_bit_flip_in_a_map_concept_id_is_rejected(warehouse, tmp_path):
    """The attack: 6738008 (0x38 at the end) read with one bit flipped, 6738009: a valid shape, another concept."""
    path = replaced(MAP_FULL, tmp_path, b"\t6738008\t", b"\t6738009\t")
    rejects = rejected(warehouse, "snomed_icd10cm", [path])
    assert [(r["line"], r["column"], r["value"]) for r in rejects] == [
        (line_of(path, b"6738009"), "check_digit", "referencedComponentId 6738009")
    ]


@pytest.mark.parametrize("part,old,new,field,value", [
    ("Relationship", b"\t299233007\t404684003\t", b"\t299233007\t404684002\t", "destinationId", "404684002"),
    ("Description", b"\t404684003\ten", b"\t404684030\ten", "conceptId", "404684030"),  # neighbours swapped
    ("Refset", b"\t447561005\t", b"\t447562005\t", "correlationId", "447562005"),
], ids=["destination", "concept-swap", "correlation"])
def test_a_wrong_digit_in_a_snomed_concept_id_is_rejected(warehouse, tmp_path, part, old, new, field, value):
    path = replaced(SNOMED_FILES[part], tmp_path, old, new, SNOMED_FILES[part].name.replace("SAMPLE", "20240301"))
    rejects = rejected(warehouse, "snomed_icd10cm", [path])
    found = {(r["line"], r["column"], r["value"]) for r in rejects}
    assert (line_of(path, new), "check_digit", f"{field} {value}") in found
    assert {column for _line, column, _value in found} <= {"check_digit", field}  # the partition too, if broken


def test_an_id_of_another_kind_of_component_is_rejected_by_its_partition(warehouse, tmp_path):
    """A description id (partition 01) where a concept is meant: its check digit is right, its partition not."""
    description_id = "90000000000000301" + _sctid.check_digit("90000000000000301")
    assert _sctid.check_digit_ok(description_id) and not _sctid.partition_ok(description_id, "concept")
    path = replaced(SNOMED_FILES["Relationship"], tmp_path, b"\t116680003\t", f"\t{description_id}\t".encode(),
                    SNOMED_FILES["Relationship"].name.replace("SAMPLE", "20240301"))
    rejects = rejected(warehouse, "snomed_icd10cm", [path])
    assert [(r["line"], r["column"], r["value"]) for r in rejects] == [(2, "typeId", description_id)]
    assert "partition" in rejects[0]["rule"]
