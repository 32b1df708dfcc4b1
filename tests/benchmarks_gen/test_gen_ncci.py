"""benchmarks/gen_ncci.py at a small scale: the CMS layouts, the quarter-to-quarter churn, determinism."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest

from tests.conftest import benchmark_module, SHARED_DATA, need_shared

REAL_PTP = SHARED_DATA / "ncci" / "ccipra-v322r0-f1.excerpt.txt"
REAL_MUE = SHARED_DATA / "mue" / "MCR_MUE_PractitionerServices_Eff_07-01-2026.excerpt.csv"
SMALL = {"ptp_rows": 2_000, "mue_rows": 300, "claims": 200}
PTP_FILES = [f"{p}-v322r0-f{f}.txt" for p in ("ccipra", "ccioph") for f in range(1, 5)]
MUE_FILES = [f"MCR_MUE_{name}_Eff_07-01-2026.csv"
             for name in ("PractitionerServices", "OutpatientHospitalServices", "DMESupplierServices")]


def _load_gen():
    return benchmark_module("gen_ncci")


gen = _load_gen()


@pytest.fixture(scope="module")
def quarter(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ncci") / "v322r0"
    gen.generate(out, "v322r0", seed=1, **SMALL)
    return out


def data_lines(path: Path) -> list[bytes]:
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in lines), "bare CR or LF inside a line"
    return lines[6:]


def rows(path: Path) -> list[list[str]]:
    return [line.decode("ascii").split("\t") for line in data_lines(path)]


def ymd(text: str) -> dt.date:
    assert re.fullmatch(r"\d{8}", text), text
    return dt.datetime.strptime(text, "%Y%m%d").date()


def test_writes_the_eight_ptp_files_three_mue_tables_and_claims(quarter):
    names = sorted(p.name for p in quarter.iterdir())
    assert names == sorted(PTP_FILES + MUE_FILES + ["claims.parquet"])
    assert sum(len(data_lines(quarter / name)) for name in PTP_FILES) == SMALL["ptp_rows"]


def test_ptp_header_is_the_real_files_first_six_lines(quarter):
    need_shared(REAL_PTP)
    real = REAL_PTP.read_bytes().split(b"\r\n")[:6]
    assert gen.PTP_HEADER == b"".join(line + b"\r\n" for line in real)  # the fallback constant too
    for name in PTP_FILES:
        assert (quarter / name).read_bytes().split(b"\r\n")[:6] == real


def test_ptp_header_constant_without_the_shared_data(tmp_path, monkeypatch):
    monkeypatch.setattr(gen, "REAL_PTP", tmp_path / "absent.txt")
    monkeypatch.setattr(gen, "REAL_MUE", tmp_path / "absent.csv")
    gen.generate(tmp_path / "q", "v322r0", seed=1, ptp_rows=16, mue_rows=10)
    assert (tmp_path / "q" / PTP_FILES[0]).read_bytes().startswith(gen.PTP_HEADER)
    assert (tmp_path / "q" / MUE_FILES[0]).read_bytes().startswith(gen.MUE_NOTICE)


def test_ptp_rows_have_the_cms_fields(quarter):
    rationales = {text for text, _ in gen.PTP_RATIONALES}
    seen = {"active": 0, "deleted": 0, "ind9": 0}
    for name in PTP_FILES:
        for fields in rows(quarter / name):
            assert len(fields) == 7, fields
            col1, col2, prior, eff, deletion, ind, rationale = fields
            for code in (col1, col2):
                assert re.fullmatch(r"[0-9]{5}|[A-Z][0-9]{4}|[0-9]{4}[ATUM]", code), code
            assert col1 != col2
            assert prior in ("", "*")
            effective = ymd(eff)
            assert effective.day == 1 and effective.month in (1, 4, 7, 10)
            assert (prior == "*") == (eff == "19960101")
            assert ind in ("0", "1", "9")
            assert rationale in rationales
            if deletion == "*":
                seen["active"] += 1
            else:
                assert ymd(deletion) >= effective
                seen["deleted"] += 1
            if ind == "9":
                assert deletion == eff
                seen["ind9"] += 1
    assert all(seen.values()), seen
    assert seen["active"] > 0.6 * SMALL["ptp_rows"]


def test_real_rationales_cover_the_generated_ones():
    need_shared(REAL_PTP)
    real = {line.split(b"\t")[6].decode("ascii") for line in REAL_PTP.read_bytes().split(b"\r\n")[6:] if line}
    assert {text for text, _ in gen.PTP_RATIONALES} == real


def test_no_duplicate_key_within_a_file_and_files_split_by_column_1(quarter):
    for prefix in ("ccipra", "ccioph"):
        last = ""
        for f in range(1, 5):
            keys = [(r[0], r[1], r[3]) for r in rows(quarter / f"{prefix}-v322r0-f{f}.txt")]
            assert len(keys) == len(set(keys))
            assert keys == sorted(keys)
            assert keys[0][0] > last  # a column-1 code never spans two files
            last = keys[-1][0]


def test_full_size_has_pairs_re_added_after_deletion(tmp_path):
    gen.generate(tmp_path, "v322r0", seed=3, ptp_rows=200_000, mue_rows=0)
    con = duckdb.connect()
    read = gen.PREVIOUS_READ.format(path=f"'{tmp_path / PTP_FILES[0]}'")
    twice = con.execute(f"SELECT count(*) FROM (SELECT col1, col2 FROM {read} GROUP BY ALL HAVING count(*) > 1)")
    assert twice.fetchone()[0] > 0


def test_next_quarter_keeps_deletes_reindicates_and_adds(quarter, tmp_path):
    churn = 0.05
    gen.generate(tmp_path, "v323r0", seed=1, ptp_rows=0, mue_rows=30, previous=quarter, churn=churn)
    for prefix in ("ccipra", "ccioph"):
        before = {(r[0], r[1], r[3]): r for f in range(1, 5) for r in rows(quarter / f"{prefix}-v322r0-f{f}.txt")}
        after = {(r[0], r[1], r[3]): r for f in range(1, 5) for r in rows(tmp_path / f"{prefix}-v323r0-f{f}.txt")}
        assert set(before) <= set(after)  # cumulative: nothing dropped
        active = [k for k, r in before.items() if r[4] == "*" and r[5] != "9"]
        still = [k for k in active if after[k][4] == "*"]
        assert len(still) >= (1 - churn) * len(active)
        deleted = [k for k in active if after[k][4] != "*"]
        assert deleted and all(after[k][4] == "20260930" for k in deleted)
        assert any(after[k][5] != before[k][5] for k in still)
        added = set(after) - set(before)
        assert added and all(k[2] == "20261001" for k in added)
        pairs = [(k[0], k[1]) for k in added]
        assert not set(pairs) & {(k[0], k[1]) for k in before}


def mue_records(path: Path) -> list[bytes]:
    """CSV records (CRLF-terminated; bare LF only inside quotes)."""
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n")
    return raw.split(b"\r\n")[:-1]


def test_mue_tables_read_like_the_real_one(quarter):
    for name, title in zip(MUE_FILES, ("Practitioner", "Outpatient Hospital", "DME Supplier")):
        records = mue_records(quarter / name)
        # the notice's shape only: its words are the real file's where ../shared is present (the
        # test below compares the bytes), the generator's placeholder in a fresh clone
        assert records[0].startswith(b'"') and records[0].endswith(b'",,,')
        assert b"CPT\xae" in records[0] and records[0].count(b"\n") == 6
        assert records[1] == b'"HCPCS/\nCPT Code",' + title.encode() + b" Services MUE Values,"\
            b"MUE Adjudication Indicator,MUE Rationale"
        # with new_line = '\r\n' DuckDB's skip counts CRLF records (the bare LFs inside quotes are no
        # line breaks to it), so 2 skips the notice and the header, as for the real excerpt
        skip = 2
        con = duckdb.connect()
        table = con.execute(
            f"SELECT * FROM read_csv('{quarter / name}', skip = {skip}, header = false, encoding = 'latin-1', "
            "auto_detect = false, new_line = '\\r\\n', columns = {'code': 'VARCHAR', 'value': 'INTEGER', "
            "'mai': 'VARCHAR', 'rationale': 'VARCHAR'})"
        ).fetchall()
        assert len(table) == len(records) - 2 > 0
        assert [r[0] for r in table] == sorted({r[0] for r in table})
        assert {r[2] for r in table} <= set(gen.MAI)
        assert all(r[1] >= 1 for r in table)
        if "DME" in name:
            assert all(r[0][0] in "AEKL" for r in table)


def test_mue_first_two_records_have_the_real_structure(quarter):
    need_shared(REAL_MUE)
    real = mue_records(REAL_MUE)
    generated = mue_records(quarter / MUE_FILES[0])
    assert generated[:2] == real[:2]  # the practitioner table: the same bytes
    outpatient = mue_records(quarter / MUE_FILES[1])
    assert outpatient[0] == real[0]
    assert outpatient[1] == real[1].replace(b"Practitioner Services", b"Outpatient Hospital Services")
    # and DuckDB reads the real excerpt with the same skip
    skip = 2
    count = duckdb.connect().execute(
        f"SELECT count(*) FROM read_csv('{REAL_MUE}', skip = {skip}, header = false, encoding = 'latin-1', "
        "auto_detect = false, new_line = '\\r\\n', columns = {'code': 'VARCHAR', 'value': 'INTEGER', "
        "'mai': 'VARCHAR', 'rationale': 'VARCHAR'})"
    ).fetchone()[0]
    assert count == len(real) - 2 == 44


def test_same_seed_same_bytes(quarter, tmp_path):
    gen.generate(tmp_path, "v322r0", seed=1, **SMALL)
    for name in PTP_FILES + MUE_FILES:
        assert (tmp_path / name).read_bytes() == (quarter / name).read_bytes(), name
    same = duckdb.connect().execute(
        f"SELECT count(*) FROM (SELECT * FROM '{tmp_path / 'claims.parquet'}' "
        f"EXCEPT ALL SELECT * FROM '{quarter / 'claims.parquet'}')"
    ).fetchone()[0]
    assert same == 0
    other = tmp_path / "seed2"
    gen.generate(other, "v322r0", seed=2, ptp_rows=2_000, mue_rows=30)
    assert (other / PTP_FILES[0]).read_bytes() != (quarter / PTP_FILES[0]).read_bytes()


def test_claims_columns_and_types(quarter):
    con = duckdb.connect()
    path = quarter / "claims.parquet"
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '{path}')").fetchall())
    assert types == {
        "claim_id": "VARCHAR", "line_number": "INTEGER", "date_of_service": "DATE", "procedure_code": "VARCHAR",
        "modifier_1": "VARCHAR", "modifier_2": "VARCHAR", "modifier_3": "VARCHAR", "modifier_4": "VARCHAR",
        "units": "INTEGER", "setting": "VARCHAR", "member_id": "VARCHAR", "provider_id": "VARCHAR",
        "payer_id": "VARCHAR", "diagnosis_codes": "VARCHAR",
    }
    n, claims, bad_lines, no_code, settings, min_units = con.execute(f"""
        SELECT count(*), count(DISTINCT claim_id),
            (SELECT count(*) FROM (SELECT claim_id FROM '{path}' GROUP BY claim_id
                                   HAVING min(line_number) <> 1 OR max(line_number) <> count(*))),
            count(*) FILTER (WHERE procedure_code IS NULL), list(DISTINCT setting ORDER BY setting), min(units)
        FROM '{path}'
    """).fetchone()
    assert n == SMALL["claims"] and bad_lines == 0 and no_code == 0 and min_units >= 1
    assert 3 <= n / claims <= 6
    assert set(settings) <= {"practitioner", "outpatient_hospital", "dme"}
    # edits fire: some claim has a line-1 / line-2 pair that is a PTP edit
    codes = {(r[0], r[1]) for name in PTP_FILES for r in rows(quarter / name)}
    pairs = con.execute(f"""
        SELECT a.procedure_code, b.procedure_code FROM '{path}' AS a JOIN '{path}' AS b
        ON a.claim_id = b.claim_id AND a.line_number = 1 AND b.line_number = 2
    """).fetchall()
    assert any(p in codes for p in pairs)


def test_quarter_names_and_dates():
    assert gen.parse_quarter("v322r0")[:2] == (2026, 3)
    assert gen.parse_quarter("v330r1")[:2] == (2027, 1)
    with pytest.raises(SystemExit):
        gen.parse_quarter("v324r0")
