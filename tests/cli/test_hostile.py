"""What a hostile or careless user can do to the CLI: one message, a documented exit code, nothing harmed."""

from __future__ import annotations

import os

from typer.testing import CliRunner

from codesets.cli.app import app
from tests.conftest import FIXTURES

I9 = FIXTURES / "gems" / "good_i9gem_lf.txt"


def run(*args, warehouse):
    return CliRunner().invoke(app, ["--warehouse", str(warehouse), *map(str, args)])


def test_file_names_cannot_reach_the_terminal_as_control_codes(tmp_path):
    folder = tmp_path / "cms"
    folder.mkdir()
    evil = folder / "esc\x1b[31mRED\x1b]0;pwned\x07_2019_I9gem.txt"
    evil.write_text(I9.read_text().replace("11511 B395", "11511 b395"))  # a quirk note names the file
    (folder / "skip\x1b[31mme\nnext.txt").write_text("not a GEM\n")
    result = run("refresh", folder, warehouse=tmp_path / "wh")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "esc\\x1b[31mRED\\x1b]0;pwned\\x07_2019_I9gem.txt" in result.output
    assert "skipped" in result.output and "skip\\x1b[31mme\\x0anext.txt" in result.output


def test_a_file_name_that_is_not_utf8_is_refused_by_name(tmp_path):
    name = os.fsdecode(b"\xff\xfe_I9gem.txt")
    path = tmp_path / name
    path.write_text(I9.read_text())
    result = run("load", "gems", path, "--release", "r1", "--effective-from", "2020-10-01", warehouse=tmp_path / "wh")
    assert result.exit_code == 2
    assert "not UTF-8" in result.output and "Traceback" not in result.output
    folder = tmp_path / "cms"
    folder.mkdir()
    path.rename(folder / name)
    listed = run("refresh", folder, warehouse=tmp_path / "wh")
    assert listed.exit_code == 0 and "not UTF-8" in listed.output


def test_export_into_the_warehouse_is_refused(sample_warehouse):
    result = run("export", "parquet", sample_warehouse.path / "data" / "maps" / "x", warehouse=sample_warehouse.path)
    assert result.exit_code == 2 and "inside the warehouse" in result.output
    assert not (sample_warehouse.path / "data" / "maps" / "x").exists()


def test_an_empty_warehouse_flag_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    result = run("load", "gems", I9, "--release", "r1", "--effective-from", "2020-10-01", warehouse="")
    assert result.exit_code == 2 and "is empty" in result.output
    assert not (tmp_path / "home").exists()


def test_drop_on_no_warehouse_creates_nothing(tmp_path):
    result = run("drop", "gems", "x", warehouse=tmp_path / "none")
    assert result.exit_code == 2 and "no warehouse" in result.output
    assert not (tmp_path / "none").exists()


def test_an_empty_release_id_is_refused(tmp_path):
    result = run("load", "gems", I9, "--release", "", "--effective-from", "2020-10-01", warehouse=tmp_path / "wh")
    assert result.exit_code == 2 and "release id ''" in result.output


def test_duplicate_names_name_both_files(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "2019_I9gem.txt").write_text(I9.read_text())
    result = run("load", "gems", tmp_path / "a" / "2019_I9gem.txt", tmp_path / "b" / "2019_I9gem.txt",
                 warehouse=tmp_path / "wh")
    assert result.exit_code == 2
    assert str(tmp_path / "a" / "2019_I9gem.txt") in result.output and str(tmp_path / "b") in result.output


def test_a_missing_data_file_is_named_with_the_fix(tmp_path):
    wh = tmp_path / "wh"
    assert run("load", "gems", I9, "--release", "r1", "--effective-from", "2020-10-01", warehouse=wh).exit_code == 0
    for data_file in (wh / "data").rglob("*.parquet"):
        data_file.write_bytes(b"not parquet")
    result = run("sql", "SELECT COUNT(*) FROM maps", warehouse=wh)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "drop" in result.output or "cannot be read" in result.output


def test_usage_errors_are_one_line_too(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    proc = subprocess.run(
        [sys.executable, "-m", "codesets.cli.app", "--warehouse", str(tmp_path / "wh"), "load", "gems", str(I9),
         "--effective-from", "2020-13-01"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("codesets: Invalid value for '--effective-from'") and proc.stderr.count("\n") == 1


def test_a_huge_line_gives_a_short_message(tmp_path):
    path = tmp_path / "huge_I9gem.txt"
    path.write_bytes(I9.read_bytes() + b"x" * 10_000_000 + b"\n")
    result = run("load", "gems", path, "--release", "r1", "--effective-from", "2020-10-01", warehouse=tmp_path / "wh")
    assert result.exit_code == 65
    assert "line 8 is longer than 1,048,576 bytes" in result.output and len(result.output) < 1000


def test_refresh_loads_the_good_releases_and_exits_65_for_a_bad_one(tmp_path):
    folder = tmp_path / "cms"
    (folder / "2019").mkdir(parents=True)
    (folder / "2020").mkdir()
    (folder / "2019" / "2019_I9gem.txt").write_text(I9.read_text())
    (folder / "2020" / "2020_I9gem.txt").write_text(I9.read_text().replace("10111", "1x111"))
    wh = tmp_path / "wh"
    result = run("refresh", folder, warehouse=wh)
    assert result.exit_code == 65
    assert "gems 2019 icd9cm-icd10cm: loaded 7 rows" in result.output
    assert "codesets: gems 2020 failed:" in result.output and "1x111" in result.output
    assert "2019" in run("releases", "--format", "csv", "--columns", "release_id", warehouse=wh).output
    again = run("refresh", folder, warehouse=wh)
    assert again.exit_code == 65 and "unchanged" in again.output


def test_arguments_are_checked_before_the_warehouse(tmp_path):
    nowhere = tmp_path / "nowhere"
    bad_system = run("map", "250", "--from", "icd9cm", "--to", "nope", warehouse=nowhere)
    assert bad_system.exit_code == 2 and "unknown code system 'nope'" in bad_system.output
    two = run("sql", "SELECT 1; SELECT 2", warehouse=nowhere)
    assert two.exit_code == 2 and "2 statements" in two.output
    missing = run("releases", warehouse=nowhere)
    assert missing.exit_code == 2 and "no warehouse at" in missing.output
    assert not nowhere.exists()


def test_every_generation_damaged_names_a_way_out_that_works(tmp_path):
    wh = tmp_path / "wh"
    assert run("load", "gems", I9, "--release", "r1", "--effective-from", "2020-10-01", warehouse=wh).exit_code == 0
    for generation in (wh / "generations").glob("g*.duckdb"):
        generation.write_bytes(b"garbage" * 1000)
    read = run("releases", warehouse=wh)
    assert read.exit_code == 74 and "move every file out of" in read.output
    refused = run("load", "gems", I9, "--release", "r2", "--effective-from", "2021-10-01", warehouse=wh)
    assert refused.exit_code == 74 and "Move that file out of" in refused.output
    for generation in (wh / "generations").glob("g*.duckdb"):  # the way out the messages name
        generation.rename(tmp_path / generation.name)
    again = run("load", "gems", I9, "--release", "r1", "--effective-from", "2020-10-01", warehouse=wh)
    assert again.exit_code == 0 and "loaded 7 rows" in again.output
