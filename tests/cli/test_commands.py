"""The command line: every command documented, thin, and clear about errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

from codesets.cli.app import app
from tests.conftest import FIXTURES, ROOT

runner = CliRunner()


def run(*args, warehouse=None):
    prefix = ["--warehouse", str(warehouse)] if warehouse else []
    return runner.invoke(app, [*prefix, *args])


def command_names():
    import typer.main

    group = typer.main.get_command(app)
    names = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            names += [f"{name} {sub}" for sub in command.commands]
        else:
            names.append(name)
    return names


@pytest.mark.parametrize("name", command_names())
def test_every_command_has_help_and_a_readme_line(name):
    result = run(*name.split(), "--help")
    assert result.exit_code == 0
    assert len(result.output.strip().splitlines()) > 3
    readme = (ROOT / "README.md").read_text()
    assert f"codesets {name}" in readme, f"`codesets {name}` is not in the README"


def test_refresh_sample_then_query(tmp_path):
    wh = tmp_path / "wh"
    result = run("refresh", "--sample", warehouse=wh)
    assert result.exit_code == 0, result.output
    assert "gems sample icd9cm-icd10cm: loaded 48 rows" in result.output
    again = run("refresh", "--sample", warehouse=wh)
    assert "unchanged" in again.output
    rows = run("sql", "SELECT target_codes FROM gem_combinations WHERE source_code = 'R6521'", "--format", "json",
               warehouse=wh)
    assert json.loads(rows.output) == [{"target_codes": ["78552", "99592"]}]
    listing = run("releases", "--format", "csv", warehouse=wh)
    assert any(line.startswith("gems,sample,2015-10-01") for line in listing.output.splitlines()[1:])


def test_warehouse_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CODESETS_WAREHOUSE", str(tmp_path / "env-wh"))
    assert run("refresh", "--sample").exit_code == 0
    assert (tmp_path / "env-wh" / "current.duckdb").is_symlink()


def test_refresh_needs_a_directory_or_sample(tmp_path):
    result = run("refresh", warehouse=tmp_path / "wh")
    assert result.exit_code == 2 and "--sample" in result.output


def test_refused_load_prints_the_rejects_without_a_traceback(tmp_path):
    wh = tmp_path / "wh"
    proc = subprocess.run(
        [sys.executable, "-m", "codesets.cli.app", "--warehouse", str(wh), "load", "gems",
         str(FIXTURES / "gems" / "bad_flag_digits.txt"), "--release", "x", "--effective-from", "2020-10-01"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert proc.returncode == 65
    assert "Traceback" not in proc.stderr
    assert "bad_flag_digits.txt" in proc.stderr and "1x000" in proc.stderr and "nothing was loaded" in proc.stderr
    assert not (wh / "current.duckdb").exists()


def test_user_errors_are_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "codesets.cli.app", "--warehouse", str(tmp_path / "none"), "sql", "SELECT 1"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert proc.returncode != 0
    assert proc.stderr.startswith("codesets: no warehouse at") and "Traceback" not in proc.stderr


def test_sql_is_read_only(sample_warehouse):
    result = run("sql", "DELETE FROM maps", warehouse=sample_warehouse.path)
    assert result.exit_code == 2
    assert "read-only" in result.output.lower()


def test_export_parquet_reads_back_partitioned(sample_warehouse, tmp_path):
    out = tmp_path / "parquet"
    result = run("export", "parquet", str(out), warehouse=sample_warehouse.path)
    assert result.exit_code == 0, result.output
    marker = json.loads((out / ".codesets-export.json").read_text())
    maps = next(r for r in marker["relations"] if r["name"] == "maps")
    assert {f["release_id"] for f in maps["files"]} == {"sample"}
    table = ds.dataset(out / "maps", format="parquet").to_table()
    assert table.schema.field("release_id").type == "string"
    with sample_warehouse.connect() as con:
        assert table.num_rows == con.execute("SELECT COUNT(*) FROM maps").fetchone()[0]
        combos = ds.dataset(out / "gem_combinations", format="parquet").to_table()
        assert combos.num_rows == con.execute("SELECT COUNT(*) FROM gem_combinations").fetchone()[0]
        current = con.execute("SELECT COUNT(*) FROM gem_map").fetchone()[0]
    import duckdb

    read = duckdb.connect().execute(
        "SELECT COUNT(*) FROM read_parquet(?) WHERE release_id = 'sample'", [str(out / "gem_map" / "*.parquet")]
    ).fetchone()[0]
    assert read == current
