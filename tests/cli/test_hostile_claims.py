"""`codesets scrub` against hostile claims files, as a user would run it: no PHI out, no crash, no hang.

Each test reproduces an attack: a ragged row carrying a name, date of birth, SSN and member id in
columns the scrub never reads; a units value too big for any integer; a carriage return alone; a
FIFO or process substitution as the claims file; --out into the warehouse's own folders (of
`codesets scrub` and of `codesets snomed --batch`, which writes through the same function).
Claim data is PHI: no value of a row may reach stdout's reasons, stderr or a file we write.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.query.test_translate import build_gem_warehouse

pytestmark = pytest.mark.slow  # subprocess-heavy hostile cases: each runs the CLI in a new process

HEADER = "claim_id,line_number,date_of_service,procedure_code,units,setting,name,birth_date,ssn,member_id"
PHI = ("Jane Q Patient", "1950-02-03", "123-45-6789", "MBR0042")
SECRET_ROW = "Jane Q Patient,1950-02-03,123-45-6789,MBR0042"
CLEAN = "C9,1,2026-07-01,99213,1,,Al Clean,1960-01-01,000-00-0000,MBR9"
TIMEOUT = 120  # seconds: a scrub that waits on a pipe fails the test instead of hanging it


@pytest.fixture(scope="module")
def wh_path(tmp_path_factory):
    """A warehouse of GEMs only, of this module's own, so a test may add its rejects/ folder."""
    path = tmp_path_factory.mktemp("hostile-claims") / "wh"
    build_gem_warehouse(path)
    (path / "rejects").mkdir(exist_ok=True)
    return path


@pytest.fixture
def private_tmp(tmp_path):
    """TMPDIR of the scrub: empty after it, whatever it copied there."""
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    return folder


def codesets(wh, *args, tmpdir=None, command="scrub", **kwargs):
    env = {k: v for k, v in os.environ.items() if k != "CODESETS_DEBUG"}
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    return subprocess.run([sys.executable, "-m", "codesets.cli.app", "--warehouse", str(wh), command, *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=TIMEOUT, **kwargs)


def ndjson(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def assert_no_phi(*texts: str) -> None:
    for text in texts:
        for value in (*PHI, "MBR0042", "Patient"):
            assert value not in text


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- 1. a row the reader cannot split names its line, never its text -------------------------------


def test_a_ragged_or_open_quoted_row_names_its_line_and_column_never_its_values(wh_path, tmp_path, private_tmp):
    claims = write(tmp_path / "claims.csv", "\n".join([
        HEADER,
        f"C1,1,2026-07-01,99213,1,,{SECRET_ROW},extra",  # line 2: a field too many
        f'C2,1,2026-07-01,"99213,1,,{SECRET_ROW}',  # line 3: a quote never closed
        CLEAN,
    ]).encode() + b"\n")
    out = tmp_path / "findings.csv"
    for args in (["--format", "ndjson"], ["--out", out]):
        proc = codesets(wh_path, claims, "--checks", "input", *args, tmpdir=private_tmp)
        assert proc.returncode == 0, proc.stderr
        assert_no_phi(proc.stdout, proc.stderr)
    assert_no_phi(out.read_text())
    rows = ndjson(codesets(wh_path, claims, "--checks", "input", "--format", "ndjson").stdout)
    assert [(r["claim_id"], r["line_number"], r["check"]) for r in rows] == [(None, None, "input")] * 2
    assert rows[0]["reason"] == "CSV line 2 has 11 fields where the header has 10; the row was not read"
    assert rows[1]["reason"].startswith("CSV line 3 has a quote that is not closed")
    assert rows[1]["reason"].endswith("(column procedure_code); the row was not read")
    assert list(private_tmp.iterdir()) == []


def test_a_bad_byte_in_a_column_not_read_names_the_field_by_its_place(wh_path, tmp_path):
    claims = write(tmp_path / "claims.csv", (HEADER + "\n").encode()
                   + b'C1,1,2026-07-01,99213,1,,Jane,1950-02-03,"123-45-6789\n' + (CLEAN + "\n").encode())
    proc = codesets(wh_path, claims, "--checks", "input", "--format", "ndjson")
    assert proc.returncode == 0, proc.stderr
    (row,) = ndjson(proc.stdout)
    assert row["reason"].endswith("(field 9); the row was not read")  # ssn is no claim-line column: not named
    assert "123-45" not in proc.stdout and "Jane" not in proc.stdout


# --- 2. numbers out of any range: a finding naming row and column, never a crash ----------------------


def test_units_too_big_for_an_integer_is_a_finding_and_the_rest_is_scrubbed(sample_warehouse, tmp_path):
    claims = write(tmp_path / "claims.csv", "\n".join([
        HEADER,
        f"C1,1,2026-07-01,99213,12345678901234567890,,{SECRET_ROW}",
        f"C2,1,2026-07-01,99213,123-45-6789,,{SECRET_ROW}",  # an SSN where units belong
        f"C3,1,2026-07-01,99213,100000,,{SECRET_ROW}",
        f"C4,123456789012345678901234,2026-07-01,99213,1,,{SECRET_ROW}",
        f"C5,1,2026-07-01,99213,99999,,{SECRET_ROW}",  # the most a line may bill: checked (and over the MUE)
        CLEAN,
    ]).encode() + b"\n")
    proc = codesets(sample_warehouse.path, claims, "--format", "ndjson")  # every check: mue once crashed on it
    assert proc.returncode == 0, proc.stderr
    assert "12345678901234567890" not in proc.stdout + proc.stderr and "1.2345" not in proc.stdout + proc.stderr
    assert "123456789012345678901234" not in proc.stdout + proc.stderr
    assert_no_phi(proc.stdout, proc.stderr)
    rows = ndjson(proc.stdout)
    found = [(r["claim_id"], r["line_number"], r["reason"]) for r in rows if r["check"] == "input"]
    assert found == [
        ("C1", 1, "units is above 99,999, the most one line may bill"),
        ("C2", 1, "units is not a number"),
        ("C3", 1, "units is above 99,999, the most one line may bill"),
        ("C4", None, "line_number is not an integer from 1 to 2147483647"),
    ]
    assert {r["suggestion"] for r in rows if r["check"] == "input" and r["reason"].startswith("units")} == {
        "give the units billed as a number above 0 and at most 99,999 (no units means 1)"}
    assert any(r["claim_id"] == "C5" and r["check"] == "mue" for r in rows)
    assert proc.stderr.startswith("scrub: 6 lines read, 2 checked ")


def test_typed_units_and_dates_out_of_range_are_findings(sample_warehouse, tmp_path):
    import duckdb

    path = tmp_path / "claims.parquet"
    duckdb.connect().execute(
        "COPY (SELECT * FROM (VALUES ('P1', 1, DATE '2026-07-01', '99213', 1e308::DOUBLE), "
        "('P2', 1, 'infinity'::DATE, '99213', 1::DOUBLE), ('P3', 1, DATE '2026-07-01', '99213', 2::DOUBLE)) "
        f"AS t(claim_id, line_number, date_of_service, procedure_code, units)) TO '{path}'"
    )
    proc = codesets(sample_warehouse.path, path, "--format", "ndjson")
    assert proc.returncode == 0, proc.stderr
    found = [(r["claim_id"], r["reason"]) for r in ndjson(proc.stdout) if r["check"] == "input"]
    assert found == [("P1", "units is above 99,999, the most one line may bill"),
                     ("P2", "date_of_service is not a real date")]


# --- 2b. values in the wrong column: a birth date, an SSN, a name never reach a finding ----------------

# Each value is typed where a code or a date of service belongs, as a hostile (or careless) export does.
# The date of service passes the input rules (it is a real date) and then would be written in every
# finding of its line; the others would be quoted as codes.
WRONG_COLUMNS = "\n".join([
    "claim_id,line_number,date_of_service,procedure_code,units,setting,diagnosis_codes",
    "W1,1,1931-07-19,0504T,1,practitioner,R65.21",  # a birth date as the date of service
    "W1,2,1931-07-19,99213,1,987-65-4329,",  # an SSN as the setting
    "W2,1,2026-09-17,ZELDA,1,practitioner,",  # a name as the procedure code
    "W2,2,2026-09-17,987654329,1,,987-65-4329|Zelda Q Patient",  # an SSN as a code, diagnoses too
    "W3,1,2026-09-17,99213,1,,",
    "W3,2,2026-09-17,0504T,1,,",  # no code of the CPT list in force: the finding once wrote the date
]) + "\n"
WRONG_VALUES = ("1931", "07-19", "1931-07-19", "987-65-4329", "987654329", "ZELDA", "Zelda", "Patient", "2026-09-17",
                "09-17")


def assert_none_of(values, *texts: str) -> None:
    for text in texts:
        for value in values:
            assert value not in text, value


def test_a_birth_date_an_ssn_and_a_name_in_claim_columns_reach_no_output(sample_warehouse, tmp_path):
    import pyarrow.parquet as pq

    claims = write(tmp_path / "claims.csv", WRONG_COLUMNS.encode())
    for fmt in ("table", "csv", "json", "ndjson"):
        proc = codesets(sample_warehouse.path, claims, "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        assert_none_of(WRONG_VALUES, proc.stdout, proc.stderr)
    rows = ndjson(codesets(sample_warehouse.path, claims, "--format", "ndjson").stdout)
    assert {r["claim_id"] for r in rows} >= {"W1", "W2"}  # the findings are there, and join back to their lines
    assert ("W1", 2, "setting is not practitioner, outpatient_hospital or dme") in {
        (r["claim_id"], r["line_number"], r["reason"]) for r in rows if r["check"] == "input"}
    assert any(r["claim_id"] == "W2" and r["line_number"] == 1 and r["check"] == "validity" and r["code"] is None
               and r["reason"].startswith("procedure code is neither") for r in rows)
    assert any("on the line's date of service" in r["reason"] for r in rows if r["claim_id"] == "W1")
    assert ("W3", 2, "0504T", "procedure code 0504T (cpt) is not a code of the system on the line's date of service") in {
        (r["claim_id"], r["line_number"], r["code"], r["reason"]) for r in rows}
    for name in ("findings.csv", "findings.parquet"):
        out = tmp_path / name
        proc = codesets(sample_warehouse.path, claims, "--out", out)
        assert proc.returncode == 0, proc.stderr
        assert_none_of(WRONG_VALUES, proc.stdout, proc.stderr)
        assert out.stat().st_size > 0
        data = out.read_bytes()
        assert_none_of([v.encode() for v in WRONG_VALUES], data)  # a Parquet page may hold text as it is
        if name.endswith(".parquet"):
            table = pq.read_table(out)
            assert table.num_rows == len(rows)
            assert_none_of(WRONG_VALUES, repr(table.to_pylist()))
        else:
            assert_none_of(WRONG_VALUES, data.decode())


# --- 3. a carriage return alone: one finding for its row, the others scrubbed ------------------------


@pytest.mark.parametrize("row", [
    b"C1,1,2026-07-01,99213,1,,Jane\rQ Patient,1950-02-03,123-45-6789,MBR0042",  # in a column not read
    b"C1,1,2026-07-01,992\r13,1,,Jane Q Patient,1950-02-03,123-45-6789,MBR0042",  # in procedure_code
    b"C1,1,2026-07-01,99213,1,,Jane Q Patient,1950-02-03,123-45-6789,MBR0042\rC0,1,2026-07-01,99213,1,,,,,",
])
def test_a_lone_cr_is_one_finding_for_its_row(wh_path, tmp_path, private_tmp, row):
    claims = write(tmp_path / "claims.csv", (HEADER + "\r\n").encode() + (CLEAN + "\r\n").encode() + row + b"\r\n"
                   + b'C9,2,2026-07-01,99213,1,,"a quoted\rCR is data",x,y,z\r\n')
    proc = codesets(wh_path, claims, "--checks", "input", "--format", "ndjson", tmpdir=private_tmp)
    assert proc.returncode == 0, proc.stderr
    assert_no_phi(proc.stdout, proc.stderr)
    (finding,) = ndjson(proc.stdout)
    assert (finding["claim_id"], finding["line_number"], finding["check"]) == (None, None, "input")
    assert finding["reason"] == ("CSV line 3 has a carriage return (CR) alone, outside quotes, where only a line "
                                 "ending may be; the row was not read")
    assert proc.stderr == "scrub: 3 lines read, 2 checked (input); 1 finding: input 1 error\n"
    assert list(private_tmp.iterdir()) == []  # the marked copy is gone


# --- 4. a FIFO or process substitution is read once, as it streams ----------------------------------


def _feed(path_or_fd, data: bytes) -> threading.Thread:
    def write():
        if isinstance(path_or_fd, int):
            with os.fdopen(path_or_fd, "wb") as f:
                f.write(data)
        else:
            with open(path_or_fd, "wb") as f:
                f.write(data)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


CLAIMS = (f"{HEADER}\n{CLEAN}\nC2,1,2026-07-01,99213,0,,{SECRET_ROW}\n").encode()


def test_a_named_fifo_is_read_not_hung_on(wh_path, tmp_path, private_tmp):
    fifo = tmp_path / "claims.csv"
    os.mkfifo(fifo)
    writer = _feed(fifo, CLAIMS)
    proc = codesets(wh_path, fifo, "--checks", "input", "--format", "ndjson", tmpdir=private_tmp)
    writer.join(TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert [(r["claim_id"], r["reason"]) for r in ndjson(proc.stdout)] == [("C2", "units is not above 0")]
    assert proc.stderr == "scrub: 2 lines read, 1 checked (input); 1 finding: input 1 error\n"
    assert list(private_tmp.iterdir()) == []  # the copy of the stream is gone


def _scrub_through_a_pipe(wh_path, data: bytes, private_tmp):
    """``codesets scrub /dev/fd/N`` with ``data`` written into the pipe by a thread, as ``<(...)`` does."""
    read, write = os.pipe()
    writer = _feed(write, data)
    try:
        proc = codesets(wh_path, f"/dev/fd/{read}", "--checks", "input", "--format", "ndjson", tmpdir=private_tmp,
                        pass_fds=(read,))
    finally:
        os.close(read)
    writer.join(TIMEOUT)
    return proc


def test_process_substitution_dev_fd_is_read(wh_path, private_tmp):
    proc = _scrub_through_a_pipe(wh_path, CLAIMS, private_tmp)
    assert proc.returncode == 0, proc.stderr
    assert [(r["claim_id"], r["reason"]) for r in ndjson(proc.stdout)] == [("C2", "units is not above 0")]
    assert list(private_tmp.iterdir()) == []


def test_a_parquet_file_through_a_pipe_is_read(wh_path, tmp_path, private_tmp):
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = tmp_path / "claims.parquet"
    pq.write_table(pa.table({"claim_id": ["P1"], "line_number": [1], "date_of_service": ["2026-07-01"],
                             "procedure_code": ["99213"], "units": [0]}), source)
    proc = _scrub_through_a_pipe(wh_path, source.read_bytes(), private_tmp)
    assert proc.returncode == 0, proc.stderr
    assert [(r["claim_id"], r["reason"]) for r in ndjson(proc.stdout)] == [("P1", "units is not above 0")]


def test_a_device_is_refused_at_once(wh_path, private_tmp):
    proc = codesets(wh_path, "/dev/zero", "--checks", "input", tmpdir=private_tmp)  # never copied: it never ends
    assert proc.returncode == 2
    assert proc.stderr == ("codesets: /dev/zero is a device, not a file; save the claim lines to a CSV or Parquet "
                           "file and scrub that\n")


# --- 5. --out never into the warehouse ---------------------------------------------------------------


@pytest.mark.parametrize("where", [".", "data", "generations", "tmp", "rejects", "a link to data"])
def test_out_into_the_warehouse_is_refused(wh_path, tmp_path, where):
    claims = write(tmp_path / "claims.csv", (HEADER + "\n" + CLEAN + "\n").encode())
    folder = wh_path / where
    if where == "a link to data":  # a folder outside the warehouse, on the face of it
        folder = tmp_path / "link"
        folder.symlink_to(wh_path / "data")
    before = {p: p.stat().st_mtime_ns for p in wh_path.rglob("*")}
    for name in ("findings.csv", "findings.parquet"):
        proc = codesets(wh_path, claims, "--checks", "input", "--out", folder / name)
        assert proc.returncode == 2
        assert proc.stderr.count("\n") == 1 and proc.stdout == ""
        assert "is inside the warehouse" in proc.stderr and "write the findings to a folder outside it" in proc.stderr
    assert {p: p.stat().st_mtime_ns for p in wh_path.rglob("*")} == before


def test_out_through_a_relative_path_into_the_warehouse_is_refused(wh_path, tmp_path):
    claims = write(tmp_path / "claims.csv", (HEADER + "\n" + CLEAN + "\n").encode())
    relative = os.path.relpath(wh_path / "findings.csv", ROOT)
    proc = codesets(wh_path, claims, "--checks", "input", "--out", relative)
    assert proc.returncode == 2 and "is inside the warehouse" in proc.stderr
    assert not (wh_path / "findings.csv").exists()


@pytest.mark.parametrize("where", [".", "data", "a link to data"])
def test_snomed_batch_out_into_the_warehouse_is_refused(wh_path, tmp_path, where):
    problems = write(tmp_path / "problems.csv", b"problem_id,concept\np1,237145004\n")
    folder = wh_path / where
    if where == "a link to data":
        folder = tmp_path / "link"
        folder.symlink_to(wh_path / "data")
    before = {p: p.stat().st_mtime_ns for p in wh_path.rglob("*")}
    for name in ("answers.csv", "answers.parquet"):
        proc = codesets(wh_path, "--batch", problems, "--out", folder / name, command="snomed")
        assert proc.returncode == 2
        assert proc.stderr.count("\n") == 1 and proc.stdout == ""
        assert "is inside the warehouse" in proc.stderr
    assert {p: p.stat().st_mtime_ns for p in wh_path.rglob("*")} == before
