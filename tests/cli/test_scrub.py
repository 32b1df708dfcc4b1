"""`codesets scrub` through the real app: formats, --out, exit codes, the summary line, no PHI on stderr."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tests.conftest import ROOT
from tests.query.test_translate import build_gem_warehouse

HEADER = "claim_id,line_number,date_of_service,procedure_code,units,setting,notes"
CLAIMS = f"{HEADER}\nPHI-C1,1,2026-07-01,99213,1,,secret note\nPHI-C1,2,2026-07-01,97110,0,,\nPHI-C2,1,07/01/2026,99213,,,\n"
SUMMARY = "scrub: 3 lines read, 1 checked (input); 2 findings: input 2 error"


@pytest.fixture(scope="module")
def wh_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli-scrub") / "wh"
    build_gem_warehouse(path)
    return str(path)


@pytest.fixture
def claims(tmp_path):
    path = tmp_path / "claims.csv"
    path.write_text(CLAIMS)
    return path


def run(wh_path, *args):
    from codesets.cli.app import app

    return CliRunner().invoke(app, ["--warehouse", wh_path, "scrub", *map(str, args)])


def test_table_output_and_the_summary_on_stderr(wh_path, claims):
    result = run(wh_path, claims, "--checks", "input")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["claim_id", "line_number", "check", "severity", "code", "related_line_number",
                                "reason", "reference", "suggestion"]
    assert "units is not above 0" in lines[2] and "date_of_service is not written" in lines[3]
    assert "07/01/2026" not in result.stdout  # a date of service is PHI: never quoted
    assert lines[-1] == "(2 rows)"
    assert result.stderr == SUMMARY + "\n"


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_machine_formats(wh_path, claims, fmt):
    result = run(wh_path, claims, "--checks", "input", "--format", fmt)
    assert result.exit_code == 0, result.output
    if fmt == "csv":
        rows = result.stdout.splitlines()
        assert rows[0] == "claim_id,line_number,check,severity,code,related_line_number,reason,reference,suggestion"
        assert rows[1].startswith("PHI-C1,2,input,error,97110,,units is not above 0,,")
    else:
        rows = json.loads(result.stdout) if fmt == "json" else [json.loads(x) for x in result.stdout.splitlines()]
        assert [(r["claim_id"], r["line_number"], r["related_line_number"]) for r in rows] == [
            ("PHI-C1", 2, None), ("PHI-C2", 1, None)]
    assert result.stderr == SUMMARY + "\n"


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_out_writes_the_file_and_prints_only_the_summary(wh_path, claims, tmp_path, suffix):
    out = tmp_path / f"findings{suffix}"
    result = run(wh_path, claims, "--checks", "input", "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == f"{SUMMARY}; written to {out}\n"
    if suffix == ".parquet":
        table = pq.read_table(out)
        assert table.column("reason").to_pylist() == ["units is not above 0",
                                                       "date_of_service is not written YYYY-MM-DD"]
    else:
        assert out.read_text().splitlines()[1].startswith('"PHI-C1",2,"input","error","97110",,"units')


def test_the_default_checks_run_on_a_warehouse_without_ncci(wh_path, claims):
    result = run(wh_path, claims)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("scrub: 3 lines read, 1 checked (input, validity, ptp, mue); ")


def test_findings_mean_exit_0_and_so_does_a_clean_file(wh_path, tmp_path):
    clean = tmp_path / "clean.csv"
    clean.write_text(f"{HEADER}\nC1,1,2026-07-01,99213,1,,\n")
    result = run(wh_path, clean, "--checks", "input")
    assert result.exit_code == 0 and result.stdout.splitlines()[-1] == "(0 rows)"
    assert result.stderr == "scrub: 1 line read, 1 checked (input); no findings\n"


@pytest.mark.parametrize("args, message", [
    (["--checks", "ptp,nope"], "codesets: unknown check 'nope'; the checks are validity, ptp, mue"),
    (["--out", "findings.json"], "name a .parquet or a .csv file; the suffix picks the format"),
    (["--format", "xml"], "Invalid value for '--format'"),
])
def test_usage_errors_exit_2(wh_path, claims, args, message):
    proc = subprocess.run([sys.executable, "-m", "codesets.cli.app", "--warehouse", wh_path, "scrub", str(claims),
                           *args], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert message in proc.stderr and proc.stderr.count("\n") == 1 and proc.stdout == ""


def test_missing_columns_are_one_line_exit_2_without_values(wh_path, tmp_path):
    path = tmp_path / "noheader.csv"
    path.write_text("PHI-C1,1,2026-07-01,99213\n")
    proc = subprocess.run([sys.executable, "-m", "codesets.cli.app", "--warehouse", wh_path, "scrub", str(path)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert proc.stderr == ("codesets: noheader.csv lacks the columns claim_id, line_number, date_of_service, "
                           "procedure_code; claim lines need claim_id, line_number, date_of_service, procedure_code "
                           "(see docs/scrub-rules.md)\n")


@pytest.mark.slow
def test_claim_values_reach_stdout_only(wh_path, tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_bytes(f"{HEADER}\nPHI-C1,1,2026-07-01,99213,1,,,extra\nPHI-C2,x,2026-07-01,99213,1,,\n".encode()
                     + b"PHI-\xff,1,2026-07-01,99213,1,,\n")
    proc = subprocess.run([sys.executable, "-m", "codesets.cli.app", "--warehouse", wh_path, "scrub", str(path),
                           "--format", "ndjson"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "PHI" not in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr == ("scrub: 3 lines read, 0 checked (input, validity, ptp, mue); 3 findings: input 3 error; "
                           "no release in force for validity (icd10cm, hcpcs, cpt), ptp (ncci_ptp), mue (ncci_mue)\n")
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["claim_id"] for r in rows] == ["PHI-C2", None, None]


def test_a_missing_file_and_a_damaged_one(wh_path, tmp_path):
    result = run(wh_path, tmp_path / "nothere.csv")
    assert result.exit_code == 2 and "not found" in result.stderr
    bad = tmp_path / "claims.parquet"
    bad.write_bytes(b"PAR1" + b"\0" * 20)
    result = run(wh_path, bad)
    assert result.exit_code == 65 and result.stderr.startswith("codesets: cannot read claims.parquet: ")


def test_help_names_every_option():
    from codesets.cli.app import app

    result = CliRunner().invoke(app, ["scrub", "--help"])
    assert result.exit_code == 0
    for option in ("--checks", "--format", "--out", "CLAIMS"):
        assert option in result.output
