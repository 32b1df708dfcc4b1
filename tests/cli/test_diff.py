"""`codesets diff` through the real app: rows on stdout, one summary line per change type on stderr,
the formats, and one-line errors with exit code 2 for what cannot be compared."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from codesets.warehouse.load import load
from tests.conftest import ROOT
from tests.query.test_diff import MUE_A, MUE_B, OPH_A, OPH_A_FILE, OPH_B, OPH_B_FILE, PRA_A, PRA_B, PTP_A, PTP_B
from tests.query.test_diff import write_mue, write_ptp

SUMMARY = [
    "ncci_ptp v322r0 -> v323r0 added: 3 edit lines (outpatient_hospital 0, practitioner 3)",
    "ncci_ptp v322r0 -> v323r0 deleted: 5 edit lines (outpatient_hospital 1, practitioner 4)",
    "ncci_ptp v322r0 -> v323r0 reindicated: 1 edit lines (outpatient_hospital 0, practitioner 1)",
    "ncci_ptp v322r0 -> v323r0 changed: 4 edit lines (outpatient_hospital 0, practitioner 4)",
    "ncci_ptp v322r0 -> v323r0 removed: 2 edit lines (outpatient_hospital 0, practitioner 2)",
]


@pytest.fixture(scope="module")
def wh_path(tmp_path_factory):
    from codesets.warehouse.storage import Warehouse

    folder = tmp_path_factory.mktemp("cli-diff")
    wh = Warehouse(folder / "wh")
    load(wh, "ncci_ptp", [write_ptp(folder / "a", PRA_A, PTP_A), write_ptp(folder / "a", OPH_A_FILE, OPH_A)])
    load(wh, "ncci_ptp", [write_ptp(folder / "b", PRA_B, PTP_B), write_ptp(folder / "b", OPH_B_FILE, OPH_B)])
    load(wh, "ncci_mue", [write_mue(folder / "a", "practitioner", "07-01-2026", MUE_A)])
    load(wh, "ncci_mue", [write_mue(folder / "b", "practitioner", "10-01-2026", MUE_B)])
    return str(wh.path)


def run(wh_path, *args):
    from codesets.cli.app import app

    return CliRunner().invoke(app, ["--warehouse", wh_path, "diff", *args])


def test_table_on_stdout_and_one_summary_line_per_change_type_on_stderr(wh_path):
    result = run(wh_path, "ncci_ptp", "v322r0", "v323r0")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:5] == ["change", "setting", "column1_code", "column2_code", "effective_date"]
    assert lines[2].split()[:4] == ["deleted", "outpatient_hospital", "11042", "11045"]
    assert lines[-1] == "(15 rows)"
    assert result.stderr.splitlines() == SUMMARY


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_machine_formats(wh_path, fmt):
    result = run(wh_path, "ncci_mue", "2026-07-01", "2026-10-01", "--format", fmt)
    assert result.exit_code == 0, result.output
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
    elif fmt == "json":
        rows = json.loads(result.stdout)
    else:
        rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["change"], r["code"]) for r in rows] == [
        ("raised", "20610"), ("lowered", "36415"), ("mai_changed", "64483"), ("rationale_changed", "71046"),
        ("removed", "85025"), ("changed", "90471"), ("added", "99213"),
    ]
    assert result.stderr.splitlines()[0] == "ncci_mue 2026-07-01 -> 2026-10-01 added: 1 codes"


def test_columns_and_a_note_when_a_is_the_later_release(wh_path):
    result = run(wh_path, "ncci_ptp", "v323r0", "v322r0", "--columns", "change,column1_code", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == ["change,column1_code", "changed,11042"]
    assert result.stderr.splitlines()[0].startswith("note: v323r0 takes effect after v322r0 (2026-10-01 > 2026-07-01)")


@pytest.mark.parametrize(("args", "message"), [
    (("cpt", "a", "b"), "codesets: no diff for source 'cpt'; diff compares gems, ncci_mue, ncci_ptp\n"),
    (("ncci_ptp", "v322r0", "v999r0"), "codesets: no release 'v999r0' of ncci_ptp; its releases: v322r0, v323r0\n"),
    (("gems", "2017", "2018"), "codesets: no release '2017' of gems; its releases: none yet (load one with "
                               "`codesets load` or `codesets refresh`)\n"),
])
def test_what_cannot_be_compared_is_one_line_and_exit_2(wh_path, args, message):
    proc = subprocess.run([sys.executable, "-m", "codesets.cli.app", "--warehouse", wh_path, "diff", *args],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert proc.stderr == message and proc.stdout == ""


def test_help_names_the_sources():
    from codesets.cli.app import app

    result = CliRunner().invoke(app, ["diff", "--help"])
    assert result.exit_code == 0
    assert "ncci_ptp" in result.output and "--format" in result.output
