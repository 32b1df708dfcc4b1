"""A load that fails at any moment leaves the warehouse exactly as it was (issue 14, 1 and 2).

The attack: a cumulative PTP quarter published on top of an earlier one, interrupted (Ctrl-C)
or out of disk at some step. The earlier releases' data files are shared by the new release's
runs, so a cleanup that deletes "what this load listed" deleted them. Here every step of the
publish is made to fail in turn, in process, with KeyboardInterrupt and with ENOSPC, and a real
full disk (a small tmpfs) is tried where the machine lets us mount one.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codesets.core.errors import ConfigError, SystemFailure
from codesets.warehouse import publish, storage
from codesets.warehouse.load import load
from codesets.warehouse.refresh import refresh
from codesets.warehouse.storage import Warehouse
from tests.conftest import benchmark_module, ROOT

pytestmark = pytest.mark.slow  # the step-by-step failed publishes over generated quarters

SMALL = {"ptp_rows": 1_500, "mue_rows": 0, "claims": 0}


def _gen():
    return benchmark_module("gen_ncci")


@pytest.fixture(scope="module")
def quarters(tmp_path_factory) -> tuple[list[Path], list[Path]]:
    """Two generated practitioner quarters, the second cumulative over the first (f1 only: small)."""
    gen = _gen()
    root = tmp_path_factory.mktemp("quarters")
    gen.generate(root / "q1", "v322r0", seed=3, **SMALL)
    gen.generate(root / "q2", "v323r0", seed=3, previous=root / "q1", churn=0.05, **SMALL)
    pick = lambda folder: sorted(folder.glob("ccipra-*-f1.txt"))  # noqa: E731
    return pick(root / "q1"), pick(root / "q2")


def _state(wh: Warehouse) -> tuple:
    """What a reader sees: the releases and every edit each publishes, and the files on disk."""
    with wh.connect() as con:
        releases = con.execute("SELECT source, release_id, part, row_count FROM release_parts ORDER BY ALL").fetchall()
        edits = con.execute(  # every release whole, as it published its rows (the runs expanded)
            "SELECT release_id, COUNT(*), SUM(hash(column1_code, column2_code, deletion_date, modifier_indicator, "
            "line_no)) FROM edits_published GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    return releases, edits


def _named_files_exist(wh: Warehouse) -> None:
    with wh.connect() as con:
        named = {p for (p,) in con.execute("SELECT d.path FROM release_catalog, UNNEST(data_files) AS t(d)").fetchall()}
    missing = [p for p in named if not (wh.path / p).is_file()]
    assert not missing, f"the current generation names data files that are gone: {missing[:3]}"


@pytest.fixture(scope="module")
def built(tmp_path_factory, quarters) -> Path:
    """The sample release and the first quarter, loaded once; each test works on a copy."""
    wh = Warehouse(tmp_path_factory.mktemp("built") / "wh")
    assert refresh(wh, sample=True).ok
    load(wh, "ncci_ptp", quarters[0])
    return wh.path


def _copy(built: Path, where: Path) -> Warehouse:
    """A copy of the built warehouse (symlinks kept as links; its views find the data where it is now)."""
    shutil.copytree(built, where / "wh", symlinks=True)
    return Warehouse(where / "wh")


class _Fault:
    """Fail the ``at``-th step of a publish (every data file write, generation write, fsync, rename)."""

    def __init__(self, monkeypatch, at: int | None, error: BaseException):
        self.steps = 0
        self.fsynced = False
        self.at = at
        self.error = error
        for owner, name in [(publish, "write_data_file"), (storage, "_write_generation"), (storage, "fsync"),
                            (storage.Writer, "_swap_link"), (storage.Writer, "_collect_garbage")]:
            monkeypatch.setattr(owner, name, self._wrap(getattr(owner, name)))
        # history imports write_data_file from publish at call time, so the wrapper reaches it too

    def _wrap(self, real):
        def step(*args, **kwargs):
            if not self._counts(real, args):
                return real(*args, **kwargs)
            self.steps += 1
            if self.steps == self.at:
                raise self.error
            result = real(*args, **kwargs)
            self.steps += 1
            if self.steps == self.at:  # failing right after a step completed, too
                raise self.error
            return result

        return step

    def _counts(self, real, args) -> bool:
        """Every step counts but the fsync of each listed data file after the first: the same moment again."""
        if real.__name__ != "fsync" or not str(args[0]).endswith(".parquet"):
            return True
        first = not self.fsynced
        self.fsynced = True
        return first


def _count_steps(tmp_path, built, quarters, monkeypatch) -> int:
    wh = _copy(built, tmp_path / "count")
    q2 = quarters[1]
    with monkeypatch.context() as m:
        fault = _Fault(m, None, KeyboardInterrupt())
        load(wh, "ncci_ptp", q2)
    return fault.steps


@pytest.mark.slow
@pytest.mark.parametrize("error", [KeyboardInterrupt(), OSError(errno.ENOSPC, "No space left on device")],
                         ids=["ctrl-c", "enospc"])
def test_a_cumulative_publish_failing_at_any_step_loses_nothing(tmp_path, built, quarters, monkeypatch, error):
    q2 = quarters[1]
    steps = _count_steps(tmp_path, built, quarters, monkeypatch)
    assert 10 <= steps <= 40, f"{steps} steps: the publish should go through its data files, the generation and the link"
    for at in range(1, steps + 1):
        wh = _copy(built, tmp_path / f"at{at}")
        before = _state(wh)
        with monkeypatch.context() as m:
            _Fault(m, at, error)
            try:
                load(wh, "ncci_ptp", q2)
                published = True  # the failure came after the link swap: the release is whole
            except (KeyboardInterrupt, SystemFailure, OSError):
                published = False
        _named_files_exist(wh)
        after = _state(wh)
        if after != before:  # only a failure after the link swap may leave the new release published, whole
            assert any(r[1] == "v323r0" for r in after[0]), f"step {at}: the warehouse changed but holds no new release"
            assert set(before[1]) <= set(after[1]), f"step {at}: an earlier release answers differently"
        assert published or after == before or any(r[1] == "v323r0" for r in after[0]), f"step {at}"
        if at % 4 == 0 or at == steps:  # and the next load goes through, whatever was left behind
            load(wh, "ncci_ptp", q2)
            _named_files_exist(wh)
            assert {r[0] for r in _state(wh)[1]} >= {"sample", "v322r0", "v323r0"}
        shutil.rmtree(wh.path)


def test_the_writer_deletes_only_what_it_wrote(tmp_path, built, quarters):
    """A failed publish's cleanup deletes this load's files only, never the base release's."""
    q2 = quarters[1]
    wh = _copy(built, tmp_path)
    before_files = {p for p in wh.data.rglob("*.parquet")}
    before_tree = {p for p in wh.path.rglob("*") if "spill" not in p.parts}
    real = storage._write_generation

    def full_disk(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    storage._write_generation = full_disk
    try:
        with pytest.raises(SystemFailure):
            load(wh, "ncci_ptp", q2)
    finally:
        storage._write_generation = real
    assert {p for p in wh.data.rglob("*.parquet")} == before_files
    # exactly as it was: no empty release folder of the new quarter, no temporary generation
    assert {p for p in wh.path.rglob("*") if "spill" not in p.parts} == before_tree
    _named_files_exist(wh)


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    return done.returncode == 0


@pytest.mark.slow
def test_a_real_full_disk_during_a_cumulative_publish_loses_nothing(tmp_path, quarters):
    """The warehouse on a small tmpfs, filled to a few sizes so the disk runs out at different steps."""
    q1, q2 = quarters
    mount = tmp_path / "disk"
    if not _mount_tmpfs(mount, "64m"):
        pytest.skip("cannot mount a tmpfs here (needs root and mount rights); the in-process faults cover the steps")
    try:
        wh = Warehouse(mount / "wh")
        assert refresh(wh, sample=True).ok
        load(wh, "ncci_ptp", q1)
        before = _state(wh)
        for room in (20_000, 60_000, 120_000, 250_000, 500_000):
            filler = mount / "filler"
            stat = os.statvfs(mount)
            free = stat.f_bavail * stat.f_frsize
            with open(filler, "wb") as f:
                f.truncate(0)
                f.write(b"\0" * max(free - room, 0))
            env = {**os.environ, "CODESETS_WAREHOUSE": str(wh.path), "TMPDIR": str(tmp_path)}
            done = subprocess.run([sys.executable, "-m", "codesets.cli.app", "load", "ncci_ptp", *map(str, q2)],
                                  capture_output=True, text=True, env=env, cwd=ROOT)
            filler.unlink()
            _named_files_exist(wh)
            if done.returncode == 0:
                break  # enough room: loaded whole
            assert done.returncode == SystemFailure.exit_code, done.stderr
            assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
            assert _state(wh) == before
        load(wh, "ncci_ptp", q2)
        _named_files_exist(wh)
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


# --- a folder that is not a warehouse (issue 14, 2) ---

def _foreign(tmp_path: Path) -> Path:
    folder = tmp_path / "projects"
    (folder / "tmp" / "project").mkdir(parents=True)
    (folder / "tmp" / "project" / "important.txt").write_text("keep me")
    (folder / "data" / "research").mkdir(parents=True)
    (folder / "data" / "research" / "results.parquet").write_bytes(b"PAR1 not really")
    return folder


def _untouched(folder: Path) -> None:
    assert (folder / "tmp" / "project" / "important.txt").read_text() == "keep me"
    assert (folder / "data" / "research" / "results.parquet").read_bytes() == b"PAR1 not really"


def test_a_folder_that_is_not_a_warehouse_is_refused_and_kept(tmp_path):
    folder = _foreign(tmp_path)
    with pytest.raises(ConfigError):
        refresh(Warehouse(folder), sample=True)
    _untouched(folder)
    assert not (folder / "generations").exists() and not (folder / "current.duckdb").exists()


BAD_GEM = str(ROOT / "tests" / "data" / "gems" / "bad_flag_digits.txt")


@pytest.mark.parametrize("args", [
    ["refresh", "--sample"],
    ["load", "gems", BAD_GEM, "--release", "r1", "--effective-from", "2016-10-01"],  # refused anyway
    ["drop", "gems", "x"],
], ids=["refresh", "refused-load", "drop"])
def test_the_cli_refuses_a_foreign_folder_in_one_line(tmp_path, args):
    folder = _foreign(tmp_path)
    done = subprocess.run([sys.executable, "-m", "codesets.cli.app", "--warehouse", str(folder), *args],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == ConfigError.exit_code, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    _untouched(folder)


def test_an_empty_folder_becomes_a_warehouse(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    assert refresh(Warehouse(folder), sample=True).ok
    assert (folder / storage.MARKER).is_file()


def test_files_of_the_user_inside_a_warehouse_are_never_collected(tmp_path, built, quarters):
    """Inside a real warehouse, a writer deletes only names it writes: a user's files stay."""
    q2 = quarters[1]
    wh = _copy(built, tmp_path)
    mine = [wh.path / "tmp" / "notes.txt", wh.data / "research" / "results.parquet",
            wh.data / "edits" / "mine.parquet", wh.data / ".tmp-keep.parquet", wh.generations / ".tmp-mine"]
    for path in mine:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("mine")
    load(wh, "ncci_ptp", q2)
    from codesets.warehouse.load import drop

    drop(wh, "ncci_ptp", "v322r0")
    assert all(p.read_text() == "mine" for p in mine)


def test_an_existing_warehouse_without_the_marker_is_still_a_warehouse(tmp_path, built):
    """Warehouses written before the marker existed keep working and get it."""
    wh = _copy(built, tmp_path)
    (wh.path / storage.MARKER).unlink()
    before = _state(wh)
    assert refresh(wh, sample=True).ok
    assert (wh.path / storage.MARKER).is_file()
    assert _state(wh) == before


def test_a_disk_too_full_for_the_spill_files_is_a_system_failure(tmp_path, built, quarters, monkeypatch):
    """DuckDB says 'out of memory' when it cannot spill: that is the disk, exit 74, not a bug."""
    import duckdb

    from codesets import loaders

    wh = _copy(built, tmp_path)
    before = _state(wh)
    loader = loaders.get("ncci_ptp")

    def no_room(*_args, **_kwargs):
        raise duckdb.OutOfMemoryException("failed to offload data block")

    monkeypatch.setattr(type(loader), "stage", no_room)
    with pytest.raises(SystemFailure) as caught:
        load(wh, "ncci_ptp", quarters[1])
    assert caught.value.exit_code == 74 and str(wh.scratch) in str(caught.value)
    assert _state(wh) == before
