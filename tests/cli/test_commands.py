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


def test_version_flag_prints_the_package_version():
    import codesets

    result = run("--version")
    assert result.exit_code == 0 and result.output == f"codesets {codesets.__version__}\n"
    assert codesets.__version__ == "0.1.0"


def test_python_dash_m_codesets_is_the_command():
    proc = subprocess.run([sys.executable, "-m", "codesets", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout == "codesets 0.1.0\n"
    bad = subprocess.run([sys.executable, "-m", "codesets", "nope"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_connect_opens_the_default_warehouse_read_only_in_one_line(sample_warehouse, monkeypatch):
    import duckdb

    import codesets
    import codesets.query
    from codesets.query import releases as query_releases

    monkeypatch.setenv("CODESETS_WAREHOUSE", str(sample_warehouse.path))
    assert codesets.connect is codesets.query.connect
    with codesets.connect() as con:
        (count,) = con.execute("SELECT COUNT(*) FROM releases").fetchone()
        assert count == len(query_releases(sample_warehouse)) > 0
        with pytest.raises(duckdb.Error):
            con.execute("CREATE TABLE t (x INTEGER)")


def test_the_public_face_keeps_its_functions_after_its_modules_load(sample_warehouse):
    """codesets.query.validity and .translate stay functions when the modules of those names are imported."""
    import importlib

    from codesets import query

    importlib.import_module("codesets.query.validity")
    importlib.import_module("codesets.query.translate")
    assert callable(query.validity) and callable(query.translate)
    table = query.validity(["r65.21"], "icd10cm", "2026-01-01", warehouse=sample_warehouse, dotted=True)
    assert table.column("code").to_pylist() == ["R65.21"] and table.column("status").to_pylist() == ["billable"]
    mapped = query.translate(["R65.21"], "icd10cm", "icd9cm", warehouse=sample_warehouse)
    assert ["78552", "99592"] in mapped.column("target_codes").to_pylist()


def test_commands_call_the_public_face_not_its_modules():
    """Thin CLI: code, map, snomed and diff reach codesets.query and codesets.snomed through their
    packages, never a module inside them (where SQL and rules live)."""
    import ast

    for name in ("code", "map", "snomed", "diff", "releases", "sql"):
        path = ROOT / "codesets" / "cli" / f"{name}.py"
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(("codesets.query.", "codesets.snomed.")), (name, node.module)


@pytest.mark.parametrize("code, system, day", [
    ("R6521", "icd10cm", "2026-01-01"), ("A00", "icd10cm", "2026-01-01"), ("0042T", "cpt", "2026-03-01"),
    ("0042T", "cpt", "2026-07-01"), ("0389", "icd9cm", "2015-09-30"), ("0389", "icd9cm", "2015-10-01"),
    ("0001U", "cpt", "2026-02-01"), ("J9271", "hcpcs", "2026-01-01"),
])
def test_the_validity_query_the_codes_view_documents_agrees_with_codesets_code(sample_warehouse, code, system, day):
    """The column comment of codes.effective_to gives the query; it must answer as `codesets code` does."""
    from codesets import query

    with sample_warehouse.connect() as con:
        (comment,) = con.execute("SELECT comment FROM duckdb_columns() WHERE table_name = 'codes' "
                                 "AND column_name = 'effective_to'").fetchone()
        assert "effective_from <= D AND (effective_to IS NULL OR D <= effective_to)" in comment
        (found,) = con.execute(
            "SELECT COUNT(*) FROM codes WHERE code_system = $s AND code = $c AND billable "
            "AND effective_from <= $d::DATE AND (effective_to IS NULL OR $d::DATE <= effective_to)",
            {"s": system, "c": code, "d": day},
        ).fetchone()
    answer = query.validity([code], system, day, warehouse=sample_warehouse)
    assert bool(found) == bool(answer.column("valid").to_pylist()[0])
