"""Checks are declared modules, discovered: nothing central lists them (STYLE.md, practice 17).

A toy check written into a temporary folder (a module and its SQL file), named by
CODESETS_SCRUB_CHECKS, runs and reports with no edit to any file of the package.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from codesets.core import sqlfiles
from codesets.core.errors import CodesetsError, UsageError
from codesets.loaders.contract import SHARED_TABLES
from codesets.scrub import checks
from codesets.scrub import engine
from codesets.scrub import scrub as scrub_lines
from tests.conftest import ROOT
from tests.query.test_translate import build_gem_warehouse
from tests.scrub.toy import add_check

HEADER = "claim_id,line_number,date_of_service,procedure_code,units,setting"
TOY_SQL = """SELECT claim_id, line_number, 'toy' AS "check", NULL AS severity, procedure_code AS code,
    NULL AS related_line_number, 'toy saw ' || procedure_code AS reason, 'toy rule 1' AS reference,
    NULL AS suggestion
FROM claim_lines WHERE procedure_code = '99213'"""


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    return build_gem_warehouse(tmp_path_factory.mktemp("declared") / "wh")


@pytest.fixture
def claims(tmp_path):
    path = tmp_path / "claims.csv"
    path.write_text(f"{HEADER}\nC1,1,2026-07-01,99213,1,\nC1,2,2026-07-01,97110,0,\nC2,1,2026-07-01,99213,1,\n")
    return path


def test_the_package_declares_input_validity_ptp_and_mue_in_order():
    found = checks.available()
    assert list(found) == ["input", "validity", "ptp", "mue"]
    assert checks.names() == ("validity", "ptp", "mue") == checks.default_names()
    assert found["ptp"].needs == ("ncci_ptp",) and found["mue"].needs == ("ncci_mue",)
    assert found["input"].stage is not None and all(c.stage is None for n, c in found.items() if n != "input")
    assert not hasattr(engine, "CHECKS") and not hasattr(engine, "DEFAULT_CHECKS")  # no registry


def test_what_a_check_reads_is_a_view_or_table_of_the_warehouse():
    known = {v.name for v in sqlfiles.views()} | set(SHARED_TABLES) | {"row_runs"}
    for check in checks.available().values():
        assert set(check.reads) <= known, check.name
        if check.prepare is None and check.stage is None:  # its SELECT reads them itself
            for name in check.reads:
                assert name in check.sql(), (check.name, name)


def test_a_toy_check_from_a_folder_runs_with_no_edit_to_the_package(wh, claims, tmp_path, monkeypatch):
    add_check(monkeypatch, tmp_path / "site_checks", "toy", TOY_SQL, severity="warning", order=25)
    assert checks.names() == ("validity", "ptp", "toy", "mue")  # its declared place
    assert checks.default_names() == ("validity", "ptp", "mue")  # not a default check
    result = engine.scrub(wh, claims, "toy")
    rows = result.findings.to_pylist()
    assert [(r["claim_id"], r["line_number"], r["check"], r["severity"], r["reason"]) for r in rows] == [
        ("C1", 1, "toy", "warning", "toy saw 99213"),  # its declared severity, where its SELECT gives none
        ("C1", 2, "input", "error", "units is not above 0"),
        ("C2", 1, "toy", "warning", "toy saw 99213"),
    ]
    assert result.summary() == "scrub: 3 lines read, 2 checked (input, toy); 3 findings: input 1 error; toy 2 warning"
    # the public face finds it too
    assert scrub_lines(claims, checks=["toy"], warehouse=wh).num_rows == 3


def test_a_default_toy_check_runs_when_no_check_is_named(wh, claims, tmp_path, monkeypatch):
    add_check(monkeypatch, tmp_path / "site_checks", "toy", TOY_SQL, default=True, order=5)
    assert checks.default_names() == ("toy", "validity", "ptp", "mue")
    result = engine.scrub(wh, claims)
    assert result.checks == ("toy", "validity", "ptp", "mue")
    assert sum(r["check"] == "toy" for r in result.findings.to_pylist()) == 2


def test_a_check_without_its_reference_data_says_so(wh, claims, tmp_path, monkeypatch):
    add_check(monkeypatch, tmp_path / "site_checks", "toy", TOY_SQL, needs=("ncci_ptp", "gems"))
    result = engine.scrub(wh, claims, "toy")
    assert result.notes == ("toy: no ncci_ptp release in force",)  # the GEMs are loaded
    assert result.summary().endswith("; no release in force for toy (ncci_ptp)")


def test_the_cli_lists_and_runs_a_toy_check(wh, claims, tmp_path, monkeypatch):
    add_check(monkeypatch, tmp_path / "site_checks", "toy", TOY_SQL)
    command = [sys.executable, "-m", "codesets.cli.app", "--warehouse", str(wh.path), "scrub", str(claims)]
    proc = subprocess.run([*command, "--checks", "nope"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "the checks are validity, ptp, mue, toy" in proc.stderr
    proc = subprocess.run([*command, "--checks", "toy", "--format", "csv"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert [line.split(",")[2] for line in proc.stdout.splitlines()[1:]] == ["toy", "input", "toy"]


@pytest.mark.parametrize("module, sql, message", [
    ("x = 1\n", True, "lacks CHECK (a codesets.scrub.checks.Check)"),
    ("from codesets.scrub.checks import Check\nCHECK = Check(name='other', summary='', severity='error', "
     "default=False, order=1)\n", True, "a name equal to its module's name ('toy')"),
    ("from codesets.scrub.checks import Check\nCHECK = Check(name='toy', summary='', severity='fatal', "
     "default=False, order=1)\n", True, "a severity among error, warning, info"),
    ("from codesets.scrub.checks import Check\nCHECK = Check(name='toy', summary='', severity='error', "
     "default=False, order=1)\n", False, "has no SQL file scrub_toy.sql beside it"),
    ("from codesets.scrub.checks import Check\nCHECK = Check(name='ptp', summary='', severity='error', "
     "default=False, order=1)\n", "ptp", "declares check 'ptp', which another module declares too"),
])
def test_discovery_names_a_bad_check_module(tmp_path, monkeypatch, module, sql, message):
    name = sql if isinstance(sql, str) else "toy"
    (tmp_path / f"{name}.py").write_text(module)
    if sql:
        (tmp_path / f"scrub_{name}.sql").write_text("-- scrub_toy\nSELECT 1\n")
    monkeypatch.setenv(checks.ENV, str(tmp_path))
    with pytest.raises(CodesetsError, match="check module .*" + message.replace("(", r"\(").replace(")", r"\)")):
        checks.available()


def test_an_unknown_check_names_the_declared_ones():
    with pytest.raises(UsageError, match="unknown check 'toy'; the checks are validity, ptp, mue"):
        engine.check_names("toy")
