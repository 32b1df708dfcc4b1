"""`codesets map` through the real app: dotted output, every format, errors without tracebacks."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from codesets.cli.app import app
from tests.query.test_translate import build_gem_warehouse

runner = CliRunner()


@pytest.fixture(scope="module")
def wh_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "wh"
    build_gem_warehouse(path)
    return str(path)


def run(wh_path, *args):
    return runner.invoke(app, ["--warehouse", wh_path, "map", *args])


def test_table_output_is_dotted(wh_path):
    result = run(wh_path, "r65.21", "--from", "icd10cm", "--to", "icd9cm")
    assert result.exit_code == 0, result.output
    assert "R65.21" in result.output and "785.52 995.92" in result.output
    assert "combination" in result.output and "(1 row)" in result.output


def test_csv_keeps_one_row_per_alternative(wh_path):
    result = run(wh_path, "599.72", "7999", "--from", "icd9cm", "--to", "icd10cm", "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("input,source_code,source_system,target_system,method,kind,target_codes")
    assert [line.split(",")[6] for line in lines[1:]] == ["R31.1", "R31.21", "R31.29", ""]
    assert lines[-1].split(",")[5] == "no map"


def test_json_keeps_stored_codes_and_lists(wh_path):
    result = run(wh_path, "995.92", "--from", "icd9cm", "--to", "icd10cm", "--method", "backward", "--format", "json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert [(r["kind"], r["target_codes"], r["choice_list"]) for r in answer] == [
        ("single", ["R6520"], None),
        ("combination part", ["R6521"], 2),
    ]


def test_release_and_as_of_options(wh_path):
    old = run(wh_path, "599.72", "--from", "icd9cm", "--to", "icd10cm", "--as-of", "2017-01-01", "--format", "json")
    assert [r["release_id"] for r in json.loads(old.output)] == ["2017"]
    pinned = run(wh_path, "599.72", "--from", "icd9cm", "--to", "icd10cm", "--release", "2017", "--format", "json")
    assert json.loads(pinned.output) == json.loads(old.output)


def test_bad_request_prints_the_fix_and_exits_2(wh_path):
    # Through main(), the console script's entry point, which maps domain errors to exit codes.
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "codesets.cli.app", "--warehouse", wh_path, "map", "599.72",
         "--from", "icd9cm", "--to", "icd10pcs"],
        capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert "no GEM maps icd9cm to icd10pcs" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_option_has_help():
    result = runner.invoke(app, ["map", "--help"])
    assert result.exit_code == 0
    for option in ("--from", "--to", "--method", "--release", "--as-of", "--format"):
        assert option in result.output
    assert "multi-stage" in result.output
