"""Generations, the writer lock, killed loads and readers that run while a refresh publishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date

import pytest

from codesets.core.errors import ConfigError, LoadRejected, NoWarehouse, WarehouseBusy, WarehouseError
from codesets.loaders.gems import LOADER as GEMS
from codesets.warehouse import storage
from codesets.warehouse.load import drop, load
from codesets.warehouse.storage import Warehouse
from tests.conftest import FIXTURES, GEMS_2017, GEMS_2018, ROOT, need_shared


def sample_files():
    return list(GEMS.sample().files)


def data_files(wh: Warehouse) -> set:
    return {p.relative_to(wh.path) for p in wh.data.rglob("*.parquet")}


def referenced_files(wh: Warehouse) -> set:
    with wh.connect() as con:
        rows = con.execute("SELECT d.path FROM release_catalog, UNNEST(data_files) AS t(d)").fetchall()
    from pathlib import Path

    return {Path(p) for (p,) in rows}

GOOD = [FIXTURES / "gems" / "good_i9gem_lf.txt", FIXTURES / "gems" / "good_i10gem_crlf.txt"]


def variant(folder, number: int):
    """A one-line ICD-9-CM to ICD-10-CM GEM file whose bytes differ for each number."""
    path = folder / f"variant{number}_I9gem.txt"
    path.write_text(f"{100 + number:<5} A0221   00000\n")
    return [path]


def catalog(wh: Warehouse):
    with wh.connect() as con:
        return con.execute("SELECT source, release_id, row_count FROM releases ORDER BY 1, 2").fetchall()


def test_empty_warehouse_says_how_to_start(warehouse):
    with pytest.raises(NoWarehouse, match="refresh --sample"):
        warehouse.connect()


def test_each_load_publishes_a_new_generation_and_keeps_a_few(warehouse, tmp_path, monkeypatch):
    monkeypatch.setattr(storage, "GRACE_SECONDS", 0)  # no grace: only the newest generations stay
    seen = []
    for number in range(5):
        load(warehouse, "gems", variant(tmp_path, number), release_id=f"r{number}",
             effective_from=date(2015 + number, 10, 1))
        seen.append(warehouse.current())
    assert len(set(seen)) == 5
    assert warehouse.current_link.is_symlink()
    assert len(list(warehouse.generations.glob("g*.duckdb"))) == 3
    assert [r[1] for r in catalog(warehouse)] == ["r0", "r1", "r2", "r3", "r4"]


def test_second_writer_is_told_to_wait(warehouse):
    with warehouse.writer():
        with pytest.raises(WarehouseBusy, match=str(os.getpid())):
            with warehouse.writer():
                pass


def test_failed_load_leaves_no_trace(warehouse, tmp_path):
    load(warehouse, "gems", variant(tmp_path, 1), release_id="r1", effective_from=date(2015, 10, 1))
    before = (warehouse.current(), catalog(warehouse))
    files_before = data_files(warehouse)
    with pytest.raises(LoadRejected):
        load(warehouse, "gems", [FIXTURES / "gems" / "bad_flag_digits.txt"], release_id="r2",
             effective_from=date(2016, 10, 1))
    assert (warehouse.current(), catalog(warehouse)) == before
    assert not list(warehouse.generations.glob(".tmp-*"))
    assert data_files(warehouse) == files_before  # the refused load wrote no data file


_KILLED_LOAD = textwrap.dedent(
    """
    import sys, time
    from datetime import date
    from pathlib import Path
    from codesets.warehouse import storage
    from codesets.warehouse.load import load
    from codesets.warehouse.storage import Warehouse

    real_write = storage._write_generation

    def write_then_hang(*args):
        real_write(*args)  # the data files and the new generation are written, not yet published
        Path(sys.argv[2]).write_text("publishing")
        time.sleep(60)

    storage._write_generation = write_then_hang
    load(Warehouse(sys.argv[1]), "gems", sys.argv[3:], release_id="killed", effective_from=date(2016, 10, 1))
    """
)


def test_killed_load_changes_nothing(warehouse, tmp_path):
    load(warehouse, "gems", GOOD, release_id="before", effective_from=date(2015, 10, 1))
    before = (warehouse.current(), catalog(warehouse))
    signal_file = tmp_path / "signal"
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_LOAD, str(warehouse.path), str(signal_file), *map(str, sample_files())],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while not signal_file.exists():
        assert child.poll() is None, "the loading process died before it got to publishing"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert list(warehouse.generations.glob(".tmp-*")), "the load should be writing a new generation"
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert (warehouse.current(), catalog(warehouse)) == before
    assert data_files(warehouse) > referenced_files(warehouse)  # the killed load's files, unreferenced
    # the next writer clears what the killed one left and publishes normally
    result = load(warehouse, "gems", variant(tmp_path, 7), release_id="after", effective_from=date(2016, 10, 1))
    assert result.status == "loaded"
    assert not list(warehouse.generations.glob(".tmp-*"))
    assert [r[1] for r in catalog(warehouse)] == ["after", "before"]
    assert data_files(warehouse) == referenced_files(warehouse)


_READER = textwrap.dedent(
    """
    import sys, time
    from datetime import date
    from codesets.warehouse.storage import Warehouse

    wh = Warehouse(sys.argv[1])
    deadline = time.monotonic() + float(sys.argv[2])
    reads = generations = 0
    seen = set()
    while time.monotonic() < deadline:
        with wh.connect() as con:
            # one connection sees one generation: the catalog and the rows must agree
            expected = con.execute("SELECT COALESCE(SUM(row_count), 0) FROM release_catalog").fetchone()[0]
            time.sleep(0.01)
            actual = con.execute("SELECT COUNT(*) FROM maps").fetchone()[0]
            releases = con.execute("SELECT COUNT(*) FROM releases").fetchone()[0]
            if expected != actual:
                print(f"MIX catalog={expected} rows={actual}", flush=True)
                sys.exit(1)
            seen.add(releases)
        reads += 1
    print(f"OK reads={reads} distinct_states={len(seen)}", flush=True)
    """
)


@pytest.mark.slow
def test_readers_never_block_or_see_a_mix(warehouse):
    need_shared(*GEMS_2017, *GEMS_2018.values())
    load(warehouse, "gems", sample_files(), release_id="sample", effective_from=date(2015, 10, 1))
    readers = [
        subprocess.Popen([sys.executable, "-c", _READER, str(warehouse.path), "12"], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    time.sleep(1.0)
    load(warehouse, "gems", GEMS_2017)
    load(warehouse, "gems", list(GEMS_2018.values()))
    load(warehouse, "gems", GOOD, release_id="fixture", effective_from=date(2019, 10, 1))
    for reader in readers:
        out, err = reader.communicate(timeout=120)
        assert reader.returncode == 0, out + err
        assert out.startswith("OK"), out + err
        # each reader saw more than one published state while the refresh ran
        assert int(out.split("distinct_states=")[1]) >= 2, out


def test_open_connection_keeps_its_generation(warehouse, tmp_path):
    load(warehouse, "gems", variant(tmp_path, 1), release_id="r1", effective_from=date(2015, 10, 1))
    con = warehouse.connect()
    drop(warehouse, "gems", "r1")  # the reader's rows leave the published warehouse
    for number in range(2, 6):  # more publishes than KEEP_GENERATIONS
        load(warehouse, "gems", variant(tmp_path, number), release_id=f"r{number}",
             effective_from=date(2014 + number, 10, 1))
    assert con.execute("SELECT release_id FROM release_catalog").fetchall() == [("r1",)]
    assert con.execute("SELECT source_code FROM maps").fetchall() == [("101",)]  # its data file is still there
    con.close()
    assert [r[1] for r in catalog(warehouse)] == ["r2", "r3", "r4", "r5"]


def test_publishing_writes_only_the_new_release(warehouse, tmp_path):
    load(warehouse, "gems", variant(tmp_path, 1), release_id="r1", effective_from=date(2015, 10, 1))
    first = {p: p.stat().st_mtime_ns for p in warehouse.data.rglob("*.parquet")}
    load(warehouse, "gems", variant(tmp_path, 2), release_id="r2", effective_from=date(2016, 10, 1))
    after = {p: p.stat().st_mtime_ns for p in warehouse.data.rglob("*.parquet")}
    assert {p: after[p] for p in first} == first  # older data files untouched
    assert len(after) == len(first) + 1


def test_a_file_given_as_warehouse_is_named(tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(ConfigError, match="is a file, not a warehouse directory"):
        Warehouse(not_a_folder).connect()
    with pytest.raises(ConfigError, match="is a file"):
        load(Warehouse(not_a_folder), "gems", variant(tmp_path, 1), release_id="r1", effective_from=date(2015, 10, 1))


def test_damaged_generation_falls_back_to_the_previous_one(warehouse, tmp_path):
    load(warehouse, "gems", variant(tmp_path, 1), release_id="r1", effective_from=date(2015, 10, 1))
    load(warehouse, "gems", variant(tmp_path, 2), release_id="r2", effective_from=date(2016, 10, 1))
    current = warehouse.current()
    current.write_bytes(current.read_bytes()[:5000])  # truncated
    with pytest.warns(storage.DamagedGeneration, match=current.name):
        con = warehouse.connect()
    assert con.execute("SELECT release_id FROM release_catalog").fetchall() == [("r1",)]
    con.close()
    # a writer does not build on the older generation behind the user's back: r2 would vanish
    r2_files = data_files(warehouse)
    with pytest.raises(WarehouseError, match="Move that file out of .* to go back to g000001"):
        load(warehouse, "gems", variant(tmp_path, 3), release_id="r3", effective_from=date(2017, 10, 1))
    assert data_files(warehouse) == r2_files  # nothing collected while a generation is unreadable
    # once the user moves the damaged file aside, loads build on the intact one
    current.rename(tmp_path / "damaged.duckdb")
    with pytest.warns(storage.DamagedGeneration, match="does not exist; reading the previous generation g000001"):
        load(warehouse, "gems", variant(tmp_path, 3), release_id="r3", effective_from=date(2017, 10, 1))
    assert [r[1] for r in catalog(warehouse)] == ["r1", "r3"]


def test_dangling_link_says_what_is_wrong(warehouse, tmp_path):
    load(warehouse, "gems", variant(tmp_path, 1), release_id="r1", effective_from=date(2015, 10, 1))
    for generation in warehouse.generations.glob("g*.duckdb"):
        generation.unlink()
    with pytest.raises(WarehouseError, match="does not exist, and no older generation is intact"):
        warehouse.connect()


def test_a_moved_warehouse_still_reads_its_data(warehouse, tmp_path):
    load(warehouse, "gems", variant(tmp_path, 1), release_id="r1", effective_from=date(2015, 10, 1))
    moved = Warehouse(tmp_path / "elsewhere")
    warehouse.path.rename(moved.path)
    with moved.connect() as con:
        assert con.execute("SELECT source_code FROM gem_map").fetchall() == [("101",)]
    load(moved, "gems", variant(tmp_path, 2), release_id="r2", effective_from=date(2016, 10, 1))
    with moved.connect() as con:  # the new generation's views name the new place
        assert con.execute("SELECT root FROM warehouse_meta").fetchone()[0] == str(moved.path)
        assert con.execute("SELECT COUNT(*) FROM maps").fetchone()[0] == 2


def test_generation_from_an_older_codesets_is_named(warehouse):
    import duckdb

    warehouse.generations.mkdir(parents=True)
    old = warehouse.generations / "g000001.duckdb"
    duckdb.connect(str(old)).close()
    warehouse.current_link.symlink_to(old.relative_to(warehouse.path))
    with pytest.raises(ConfigError, match="written by codesets 0.1"):
        warehouse.connect()


def test_duckdb_cli_opens_the_warehouse_from_any_folder(warehouse, tmp_path):
    """The DuckDB CLI users install (`pip install duckdb-cli`, 1.5.x) reads a published warehouse."""
    import shutil

    cli = shutil.which("duckdb") or next((str(p) for p in (ROOT / ".venv" / "bin").glob("duckdb")), None)
    if cli is None:
        pytest.skip("no duckdb CLI on PATH; CI installs duckdb-cli (see .ci/run)")
    load(warehouse, "gems", GEMS.sample().files, release_id="sample", effective_from=date(2015, 10, 1))
    views = ["releases", "release_parts", "release_changes", "gem_map", "gem_combinations", "gem_entries", "maps"]
    query = "; ".join(f"SELECT '{v}', COUNT(*) FROM {v}" for v in views)
    done = subprocess.run([cli, "-readonly", "-csv", "-noheader", str(warehouse.current_link), "-c", query],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    counts = dict(line.split(",") for line in done.stdout.split())
    assert counts["maps"] == "204" and counts["gem_combinations"] != "0" and counts["releases"] == "1"
