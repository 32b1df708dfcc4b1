"""The NCCI PTP loader: the real excerpt, one hand-made file per failure mode, and cumulative storage."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesets.core.errors import LoadRejected, SourceError
from codesets.loaders import ncci_ptp
from codesets.warehouse.load import drop, load
from codesets.warehouse.storage import Warehouse
from tests.conftest import ROOT, SHARED_DATA, need_shared

REAL = SHARED_DATA / "ncci" / "ccipra-v322r0-f1.excerpt.txt"
SAMPLE = ROOT / "codesets" / "samples" / "ncci_ptp" / "ccipra-sample-f1.txt"
HEADER = SAMPLE.read_bytes().split(b"\r\n")[:6]


def write_ptp(path: Path, rows, header=HEADER, ending=b"\r\n") -> Path:
    """A PTP file in CMS's layout: the six header lines, then one tab-separated edit per line."""
    body = [b"\t".join(field.encode("latin-1") for field in row) for row in rows]
    path.write_bytes(ending.join([*header, *body]) + ending)
    return path


def file_rows(path: Path) -> list[tuple]:
    """The data rows of a PTP file read the plain way, with their line numbers (the test's own reader)."""
    found = []
    for number, line in enumerate(path.read_bytes().decode("latin-1").split("\r\n"), start=1):
        fields = line.split("\t")
        if number > 6 and len(fields) == 7:
            c1, c2, prior, eff, dele, mi, why = fields
            found.append((
                c1.upper(), c2.upper(), prior == "*", date(int(eff[:4]), int(eff[4:6]), int(eff[6:])),
                None if dele == "*" else date(int(dele[:4]), int(dele[4:6]), int(dele[6:])), mi, why or None,
                path.name, number,
            ))
    return found


def published(warehouse, release_id, setting="practitioner") -> list[tuple]:
    with warehouse.connect() as con:
        return con.execute(
            "SELECT column1_code, column2_code, prior_1996, effective_date, deletion_date, modifier_indicator, "
            "rationale, source_file, line_no FROM ptp_edit_history WHERE release_id = ? AND setting = ? "
            "ORDER BY source_file, line_no", [release_id, setting],
        ).fetchall()


def test_real_excerpt_loads_whole_with_lines_and_values(warehouse):
    need_shared(REAL)
    result = load(warehouse, "ncci_ptp", [REAL])
    assert (result.release_id, result.effective_from) == ("v322r0", date(2026, 7, 1))
    assert [(p.part, p.rows) for p in result.parts] == [("practitioner", 154)]
    assert published(warehouse, "v322r0") == file_rows(REAL)
    nines = sum(1 for r in file_rows(REAL) if r[5] == "9" and r[3] == r[4])
    assert any(f"{nines} row(s) with a deletion date on the effective date under indicator 9" in n for n in result.notes)
    with warehouse.connect() as con:  # the future-dated deletion CMS published is kept as published
        assert con.execute("SELECT COUNT(*) FROM ptp_edits WHERE deletion_date = DATE '2026-06-30'").fetchone()[0] > 0


def test_release_and_effective_date_from_the_version():
    assert ncci_ptp.LOADER.effective_from("v322r0") == date(2026, 7, 1)
    assert ncci_ptp.LOADER.effective_from("v320r1") == date(2026, 1, 1)
    assert ncci_ptp.LOADER.effective_from("v293r0") == date(2023, 10, 1)
    assert ncci_ptp.LOADER.effective_from("2026q3") is None


def test_claim_needs_the_setting_in_the_name(tmp_path):
    rows = [("11042", "11045", "", "20090101", "*", "1", "Standards of medical / surgical practice")]
    assert ncci_ptp.LOADER.claim(write_ptp(tmp_path / "ccioph-v322r0-f2.TXT", rows)).part == "outpatient_hospital"
    with pytest.raises(SourceError, match="ccipra"):
        ncci_ptp.LOADER.claim(write_ptp(tmp_path / "edits.txt", rows))
    (tmp_path / "other.txt").write_text("not\tan\tedit file\n")
    assert ncci_ptp.LOADER.claim(tmp_path / "other.txt") is None


GOOD = ("11042", "11045", "", "20090101", "*", "1", "Standards of medical / surgical practice")


@pytest.mark.parametrize("bad, column, value", [
    (("11042", "11045", "", "20090101", "*", "X", "r"), "indicator", "X"),
    (("1104", "11045", "", "20090101", "*", "1", "r"), "c1", "1104"),
    (("11042", "110456", "", "20090101", "*", "1", "r"), "c2", "110456"),
    (("11042", "11045", "", "20091301", "*", "1", "r"), "effective", "20091301"),
    (("11042", "11045", "", "20090101", "", "1", "r"), "deletion", None),
    (("11042", "11045", "", "2009011", "*", "1", "r"), "effective", "2009011"),
    (("11042", "11045", "Y", "20090101", "*", "1", "r"), "prior", "Y"),
])
def test_bad_rows_refuse_the_load_naming_file_line_column_value(warehouse, tmp_path, bad, column, value):
    path = write_ptp(tmp_path / "ccipra-v322r0-f1.txt", [GOOD, bad, GOOD])
    with pytest.raises(LoadRejected) as info:
        load(warehouse, "ncci_ptp", [path])
    assert warehouse.current() is None
    assert [(r["file"], r["line"], r["column"], r["value"]) for r in info.value.rejects] == [
        ("ccipra-v322r0-f1.txt", 8, column, value)
    ]


def test_wrong_field_count_and_empty_lines_are_named(warehouse, tmp_path):
    extra = write_ptp(tmp_path / "ccipra-v322r0-f1.txt", [GOOD, GOOD + ("more",)])
    with pytest.raises(SourceError, match="line 8 has 8 tab-separated fields"):
        load(warehouse, "ncci_ptp", [extra])
    short = write_ptp(tmp_path / "ccipra-v322r0-f2.txt", [GOOD, GOOD[:5]])
    with pytest.raises(SourceError, match="line 8 has 5 tab-separated fields"):
        load(warehouse, "ncci_ptp", [short])
    blank = tmp_path / "ccipra-v322r0-f3.txt"
    blank.write_bytes(write_ptp(tmp_path / "x.txt", [GOOD, GOOD]).read_bytes().replace(b"\r\n11042", b"\r\n\r\n11042", 2)
                      .replace(b"\r\n\r\n11042", b"\r\n11042", 1))
    with pytest.raises(SourceError, match="line 8 is empty"):
        load(warehouse, "ncci_ptp", [blank])
    assert warehouse.current() is None
    trailing = tmp_path / "ccipra-v322r0-f4.txt"  # empty lines at the very end hold nothing: loaded
    trailing.write_bytes(write_ptp(tmp_path / "y.txt", [GOOD, GOOD]).read_bytes() + b"\r\n\r\n")
    assert load(warehouse, "ncci_ptp", [trailing]).parts[0].rows == 2


def test_quirks_are_loaded_and_reported(warehouse, tmp_path):
    rows = [
        ("64483", "64493", "", "20150101", "20150101", "9", "r"),
        ("64483", "64493", "", "20150101", "*", "1", "r"),
        ("99213", "99211", "", "20200101", "20191231", "0", "r"),
        ("a1234", "b1234", "", "20200101", "*", "1", "r"),
    ]
    result = load(warehouse, "ncci_ptp", [write_ptp(tmp_path / "ccipra-v322r0-f1.txt", rows)])
    notes = " | ".join(result.notes)
    assert "1 row(s) with a deletion date on the effective date under indicator 9" in notes
    assert "1 row(s) with a deletion date before the effective date" in notes
    assert "1 row(s) with a code in lower case" in notes
    assert "1 pair(s) repeated with the same effective date on the next line, first at line 7" in notes
    with warehouse.connect() as con:
        assert con.execute("SELECT COUNT(*) FROM ptp_edits").fetchone()[0] == 4
        assert con.execute("SELECT column1_code FROM ptp_edits WHERE line_no = 10").fetchone()[0] == "A1234"


def _quarters(tmp_path, previous, churned):
    """Write two practitioner quarters: ``previous`` rows, then ``churned`` rows."""
    a = write_ptp(tmp_path / "a" / "ccipra-v322r0-f1.txt", previous) if (tmp_path / "a").mkdir() is None else None
    b = write_ptp(tmp_path / "b" / "ccipra-v323r0-f1.txt", churned) if (tmp_path / "b").mkdir() is None else None
    return a, b


def _rows(n, offset=0):
    return [(f"{10000 + i:05d}", f"{20000 + i + offset:05d}", "", "20200101", "*", str(i % 2), "r") for i in range(n)]


def test_a_quarter_stores_what_changed_and_answers_as_published(warehouse, tmp_path):
    first = _rows(50)
    second = first[:10] + [("10010", "20010", "", "20200101", "20260930", "0", "r")] + first[11:30] \
        + _rows(5, offset=900) + first[30:]
    a, b = _quarters(tmp_path, first, second)
    load(warehouse, "ncci_ptp", [a])
    result = load(warehouse, "ncci_ptp", [b])
    assert (result.parts[0].rows_added, result.parts[0].rows_removed) == (6, 1)
    assert published(warehouse, "v322r0") == file_rows(a)
    assert published(warehouse, "v323r0") == file_rows(b)
    with warehouse.connect() as con:
        stored = con.execute("SELECT release_id, COUNT(*) FROM edits GROUP BY 1 ORDER BY 1").fetchall()
        assert stored == [("v322r0", 50), ("v323r0", 6)]  # the second quarter stores its 6 new rows only
        assert con.execute("SELECT COUNT(*) FROM ptp_edits").fetchone()[0] == 55


def test_load_order_and_drop_do_not_change_answers(tmp_path):
    first, second = _rows(40), _rows(20) + _rows(25, offset=500)
    a, b = _quarters(tmp_path, first, second)
    forward, backward = Warehouse(tmp_path / "f"), Warehouse(tmp_path / "r")
    load(forward, "ncci_ptp", [a])
    load(forward, "ncci_ptp", [b])
    load(backward, "ncci_ptp", [b])
    load(backward, "ncci_ptp", [a])
    for release, path in (("v322r0", a), ("v323r0", b)):
        assert published(forward, release) == published(backward, release) == file_rows(path)
    drop(forward, "ncci_ptp", "v322r0")  # v323r0 reuses its rows: they stay, the release goes
    assert published(forward, "v323r0") == file_rows(b)
    assert published(forward, "v322r0") == []


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 3), st.sampled_from("019")), max_size=25),
                min_size=1, max_size=3))
def test_every_quarter_reads_back_as_its_file(tmp_path_factory, quarters):
    """Any quarters, loaded in any order of content: each release reads back line for line."""
    root = tmp_path_factory.mktemp("q")
    wh = Warehouse(root / "wh")
    paths = []
    for number, rows in enumerate(quarters):
        folder = root / str(number)
        folder.mkdir()
        edits = [(f"{10000 + a:05d}", f"{20000 + b:05d}", "", "20200101", "*", mi, "r") for a, b, mi in rows] or [GOOD]
        paths.append(write_ptp(folder / f"ccipra-v32{number}r0-f1.txt", edits))
        load(wh, "ncci_ptp", [paths[-1]])
    for number, path in enumerate(paths):
        release = f"v32{number}r0"
        if published(wh, release):  # a quarter with the same bytes as another is that release
            assert published(wh, release) == file_rows(path)


def test_a_header_alone_is_a_ptp_file_without_edits_refused_unless_allowed(warehouse, tmp_path):
    """CMS's header with no edit after it is claimed as PTP (not 'no known source') and refused as empty."""
    path = write_ptp(tmp_path / "ccipra-v323r0-f1.txt", [])
    assert ncci_ptp.LOADER.claim(path) is not None
    with pytest.raises(SourceError):
        load(warehouse, "ncci_ptp", [path])
    result = load(warehouse, "ncci_ptp", [path], allow_empty=True)
    assert [(p.part, p.rows) for p in result.parts] == [("practitioner", 0)]
