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

from codesets.errors import WarehouseBusy, WarehouseError
from codesets.warehouse.load import load
from codesets.warehouse.refresh import sample_files
from codesets.warehouse.storage import Warehouse
from tests.conftest import FIXTURES, GEMS_2017, GEMS_2018, ROOT, need_shared

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
    with pytest.raises(WarehouseError, match="refresh --sample"):
        warehouse.connect()


def test_each_load_publishes_a_new_generation_and_keeps_a_few(warehouse, tmp_path):
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
    with pytest.raises(Exception):
        load(warehouse, "gems", [FIXTURES / "gems" / "bad_flag_digits.txt"], release_id="r2",
             effective_from=date(2016, 10, 1))
    assert (warehouse.current(), catalog(warehouse)) == before
    assert not list(warehouse.generations.glob(".tmp-*"))


_KILLED_LOAD = textwrap.dedent(
    """
    import sys, time
    from datetime import date
    from pathlib import Path
    from codesets.loaders import gems
    from codesets.warehouse.load import load
    from codesets.warehouse.storage import Warehouse

    real_publish = gems.publish

    def publish_then_hang(con, release):
        count = real_publish(con, release)
        Path(sys.argv[2]).write_text("publishing")
        time.sleep(60)
        return count

    gems.publish = publish_then_hang
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
    # the next writer clears what the killed one left and publishes normally
    result = load(warehouse, "gems", sample_files(), release_id="after", effective_from=date(2016, 10, 1))
    assert result.status == "loaded"
    assert not list(warehouse.generations.glob(".tmp-*"))
    assert [r[1] for r in catalog(warehouse)] == ["after", "before"]


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
    for number in range(2, 6):  # enough publishes to collect the reader's generation file
        load(warehouse, "gems", variant(tmp_path, number), release_id=f"r{number}",
             effective_from=date(2014 + number, 10, 1))
    assert con.execute("SELECT release_id FROM release_catalog").fetchall() == [("r1",)]
    con.close()
    assert len(catalog(warehouse)) == 5
