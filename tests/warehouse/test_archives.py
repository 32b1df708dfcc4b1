"""Zip archives given to load or found by refresh: read as the files they hold, hostile ones refused
by name, and the private folder they are unpacked into gone afterwards whatever happened."""

from __future__ import annotations

import stat
import tempfile
import zipfile
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codesets.cli.app import app
from codesets.core.errors import LoadRejected, SourceError, SystemFailure
from codesets.loaders.gems import LOADER as GEMS
from codesets.warehouse import archives
from codesets.warehouse.load import load
from codesets.warehouse.refresh import refresh
from codesets.warehouse.storage import Warehouse, Writer
from tests.conftest import FIXTURES, ROOT, catalog_files

SAMPLES = ROOT / "codesets" / "samples" / "gems"
I9 = (SAMPLES / "sample_I9gem.txt").read_bytes()
I10 = (SAMPLES / "sample_I10gem.txt").read_bytes()
PCS = (SAMPLES / "sample_gem_i9pcs.txt").read_bytes()
START = date(2020, 10, 1)


@pytest.fixture(autouse=True)
def private_temp(tmp_path, monkeypatch):
    """Unpack into a folder of the test's own, so a test can see that nothing is left behind."""
    folder = tmp_path / "system-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def make_zip(path: Path, members: dict, compression=zipfile.ZIP_DEFLATED) -> Path:
    """A zip of ``members`` (name -> bytes, or a ZipInfo -> bytes) made the way zip tools make them."""
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def patched(path: Path, old: bytes, new: bytes) -> Path:
    """The zip with ``old`` replaced in its bytes (names sit in the local and the central header)."""
    data = path.read_bytes()
    assert old in data and len(old) == len(new)
    path.write_bytes(data.replace(old, new))
    return path


def maps_files(warehouse) -> list[str]:
    with warehouse.connect() as con:
        return [name for (name,) in con.execute("SELECT DISTINCT source_file FROM maps ORDER BY 1").fetchall()]


# -- read as the files they hold ------------------------------------------------------------


def test_a_zip_loads_as_its_members_and_the_same_files_after_it_are_unchanged(warehouse, tmp_path, private_temp):
    archive = make_zip(tmp_path / "gems-r1.zip", {
        "sample_I9gem.txt": I9, "docs/": b"", "docs/sample_I10gem.txt": I10, "README.txt": b"read me\n",
        "guide.pdf": b"%PDF-1.4\n",
    })
    result = load(warehouse, "gems", [archive], release_id="r1", effective_from=START)
    assert {p.part: p.status for p in result.parts} == {"icd9cm-icd10cm": "loaded", "icd10cm-icd9cm": "loaded"}
    assert result.notes[:4] == [
        f"{archive}: read sample_I9gem.txt, docs/sample_I10gem.txt",
        f"{archive}: skipped docs/: a folder (the files in it are read one by one)",
        f"{archive}: skipped README.txt: not a gems file",
        f"{archive}: skipped guide.pdf: not a gems file",
    ]
    assert maps_files(warehouse) == ["sample_I10gem.txt", "sample_I9gem.txt"]  # base names, as if given plainly
    assert set(catalog_files(warehouse, "r1")) == {"sample_I9gem.txt", "sample_I10gem.txt"}
    generation = warehouse.current()

    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "sample_I9gem.txt").write_bytes(I9)
    again = load(warehouse, "gems", [plain / "sample_I9gem.txt"], release_id="r1")
    assert again.status == "unchanged" and warehouse.current() == generation
    assert list(private_temp.iterdir()) == []


def test_the_files_first_then_the_zip_is_unchanged_too(warehouse, tmp_path):
    (tmp_path / "sample_I9gem.txt").write_bytes(I9)
    load(warehouse, "gems", [tmp_path / "sample_I9gem.txt"], release_id="r1", effective_from=START)
    generation = warehouse.current()
    again = load(warehouse, "gems", [make_zip(tmp_path / "r1.zip", {"sample_I9gem.txt": I9})], release_id="r1")
    assert again.status == "unchanged" and warehouse.current() == generation
    assert "unchanged (sample_I9gem.txt already loaded)" in again.summary()


def test_the_release_can_come_from_the_zip_or_the_folder_in_it_as_when_unzipped_by_hand(warehouse, tmp_path):
    named = load(warehouse, "gems", [make_zip(tmp_path / "2019-ICD-10-PCS-GEMs.zip", {"sample_gem_i9pcs.txt": PCS})])
    assert named.release_id == "2019" and named.effective_from == date(2018, 10, 1)
    inner = load(warehouse, "gems", [make_zip(tmp_path / "gems.zip", {"pcs_2017/sample_gem_i9pcs.txt": PCS})])
    assert inner.release_id == "2017" and inner.parts[0].status == "unchanged"  # the same bytes as 2019's


def test_zips_and_plain_files_load_together(warehouse, tmp_path):
    (tmp_path / "sample_I10gem.txt").write_bytes(I10)
    result = load(warehouse, "gems", [make_zip(tmp_path / "a.zip", {"sample_I9gem.txt": I9}), tmp_path / "sample_I10gem.txt"],
                  release_id="r1", effective_from=START)
    assert [p.status for p in result.parts] == ["loaded", "loaded"]


def test_a_zip_with_no_member_of_the_source_is_one_error_naming_it(warehouse, tmp_path, private_temp):
    archive = make_zip(tmp_path / "docs.zip", {"README.txt": b"hello\n", "guide.pdf": b"%PDF\n"})
    with pytest.raises(SourceError) as caught:
        load(warehouse, "gems", [archive], release_id="r1", effective_from=START)
    message = str(caught.value)
    assert message.startswith(f"{archive} holds no gems file") and "README.txt, guide.pdf" in message
    assert warehouse.current() is None and list(private_temp.iterdir()) == []
    with pytest.raises(SourceError, match="it is empty"):
        load(warehouse, "gems", [make_zip(tmp_path / "empty.zip", {})], release_id="r1", effective_from=START)


def test_loader_messages_name_the_member_not_the_temporary_copy(warehouse, tmp_path, private_temp):
    archive = make_zip(tmp_path / "twice.zip", {"a_I9gem.txt": I9, "b_I9gem.txt": I9})
    with pytest.raises(SourceError) as caught:
        load(warehouse, "gems", [archive], release_id="r1", effective_from=START)
    assert f"{archive} member a_I9gem.txt and {archive} member b_I9gem.txt both hold" in str(caught.value)
    assert str(private_temp) not in str(caught.value)


def test_rejected_rows_of_a_member_are_traced_to_its_name(warehouse, tmp_path):
    bad = (FIXTURES / "gems" / "bad_flag_digits.txt").read_bytes()
    with pytest.raises(LoadRejected) as caught:
        load(warehouse, "gems", [make_zip(tmp_path / "bad.zip", {"bad_flag_digits.txt": bad})], release_id="r1",
             effective_from=START)
    assert {r["file"] for r in caught.value.rejects} == {"bad_flag_digits.txt"}
    assert warehouse.current() is None


# -- the private folder ---------------------------------------------------------------------


def test_the_private_folder_is_outside_the_writers_cleanup_and_gone_after_error_and_interrupt(
    warehouse, tmp_path, private_temp, monkeypatch
):
    archive = make_zip(tmp_path / "r1.zip", {"sample_I9gem.txt": I9})
    real_stage = type(GEMS).stage
    seen = []

    def stage_after_another_writers_cleanup(self, con, parts):
        Writer(warehouse).remove_stale()  # what a writer does to PATH/tmp as it takes the lock
        seen.extend(p for paths in parts.values() for p in paths)
        return real_stage(self, con, parts)

    monkeypatch.setattr(type(GEMS), "stage", stage_after_another_writers_cleanup)
    assert load(warehouse, "gems", [archive], release_id="r1", effective_from=START).status == "loaded"
    assert seen and seen[0].is_relative_to(private_temp) and not seen[0].exists()
    assert list(private_temp.iterdir()) == []

    def interrupted(self, con, parts):
        raise KeyboardInterrupt

    monkeypatch.setattr(type(GEMS), "stage", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load(warehouse, "gems", [make_zip(tmp_path / "r2.zip", {"sample_I10gem.txt": I10})], release_id="r2",
             effective_from=date(2021, 10, 1))
    assert list(private_temp.iterdir()) == []


_STUCK_LOAD = """
import sys, tempfile, time
from datetime import date
from pathlib import Path

tempfile.tempdir = sys.argv[1]
from codesets.loaders.gems import LOADER
from codesets.warehouse.load import load
from codesets.warehouse.storage import Warehouse

def stage(self, con, parts):  # the members are unpacked and being read: say where, then wait to be killed
    print(next(iter(parts.values()))[0], flush=True)
    time.sleep(600)

type(LOADER).stage = stage
load(Warehouse(sys.argv[2]), "gems", [Path(sys.argv[3])], release_id="r1", effective_from=date(2020, 10, 1))
"""


def _stuck_load(tmp_path, private_temp, name):
    """A `codesets load` of a zip in another process, stopped while it reads the unpacked members."""
    import select
    import subprocess
    import sys

    archive = make_zip(tmp_path / f"{name}.zip", {"sample_I9gem.txt": I9})
    proc = subprocess.Popen([sys.executable, "-c", _STUCK_LOAD, str(private_temp), str(tmp_path / f"wh-{name}"),
                             str(archive)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 120)
    line = proc.stdout.readline().strip() if ready else ""
    if not line:
        proc.kill()
        proc.wait()
        pytest.fail(f"the load in another process did not reach its members: {proc.stderr.read()[-2000:]}")
    return proc, Path(line)


def test_a_load_killed_with_sigkill_leaves_its_members_to_the_next_unpacker_and_a_running_one_keeps_them(
    tmp_path, private_temp
):
    killed, killed_member = _stuck_load(tmp_path, private_temp, "killed")
    running, running_member = _stuck_load(tmp_path, private_temp, "running")
    try:
        killed.kill()  # SIGKILL: no cleanup runs
        killed.wait()
        assert killed_member.is_file() and killed_member.is_relative_to(private_temp)
        with archives.Unpacker():  # the next load of a zip, in any process
            pass
        assert not killed_member.exists()
        assert running_member.is_file()  # still being read by a live process: left alone
        assert len(list(private_temp.iterdir())) == 1
    finally:
        running.kill()
        running.wait()
        for proc in (killed, running):
            proc.stdout.close()
            proc.stderr.close()
    with archives.Unpacker():
        pass
    assert list(private_temp.iterdir()) == []


def test_only_abandoned_folders_of_codesets_are_removed(tmp_path, private_temp):
    import fcntl
    import os

    def folder(name, lock=True):
        path = private_temp / name
        (path / "a1" / "0" / "r1").mkdir(parents=True)
        (path / "a1" / "0" / "r1" / "sample_I9gem.txt").write_bytes(I9)
        if lock:
            (path / "codesets-unzip.lock").write_text("99999999\n")
        return path

    abandoned = folder("codesets-unzip-99999999-abcd1234")
    held = folder("codesets-unzip-1-heldlock")
    fd = os.open(held / "codesets-unzip.lock", os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as the live process holding it would
    kept = [
        held,
        folder("codesets-unzip-2-nolock", lock=False),  # not (yet) a folder codesets finished making
        folder("codesets-unzip-oldstyle", lock=False),  # codesets before the lock: not recognisable as ours
        folder("something-else"),  # the lock file's name alone is not enough
        folder("codesets-unzip-3-x.bak"),  # a name mkdtemp does not give
    ]
    piped = private_temp / "codesets-unzip-4-piped"
    piped.mkdir()
    os.mkfifo(piped / "codesets-unzip.lock")  # opening it must not hang the cleanup
    target = folder("target-of-a-link")
    (private_temp / "codesets-unzip-5-linked").symlink_to(target)
    (private_temp / "codesets-unzip-6-file").write_bytes(b"a file, not a folder")
    try:
        with archives.Unpacker() as outer:  # this process's own folder, in use by an outer load (refresh)
            member, = outer.unpack(make_zip(tmp_path / "r1.zip", {"sample_I9gem.txt": I9}))
            with archives.Unpacker():
                pass
            assert member.path.is_file()
        assert not abandoned.exists()
        others = [piped, target, private_temp / "codesets-unzip-5-linked", private_temp / "codesets-unzip-6-file"]
        for path in [*kept, *others]:
            assert path.exists(), path
        assert (target / "codesets-unzip.lock").exists() and (held / "a1" / "0" / "r1" / "sample_I9gem.txt").exists()
    finally:
        os.close(fd)
    assert archives.remove_abandoned() == [held]  # its process gone, its lock is free


def test_a_file_system_without_locks_still_unpacks(warehouse, tmp_path, private_temp, monkeypatch):
    import errno
    import fcntl
    import types

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(archives, "fcntl", types.SimpleNamespace(flock=no_locks, LOCK_EX=fcntl.LOCK_EX,
                                                                 LOCK_NB=fcntl.LOCK_NB))
    archive = make_zip(tmp_path / "r1.zip", {"sample_I9gem.txt": I9})
    assert load(warehouse, "gems", [archive], release_id="r1", effective_from=START).status == "loaded"
    assert list(private_temp.iterdir()) == []


# -- hostile archives -----------------------------------------------------------------------


def refused(warehouse, archive: Path, error=SourceError) -> str:
    with pytest.raises(error) as caught:
        load(warehouse, "gems", [archive], release_id="r1", effective_from=START)
    message = str(caught.value)
    assert "\n" not in message and str(archive) in message
    assert warehouse.current() is None
    return message


@pytest.mark.parametrize("name, why", [
    ("../escaped_I9gem.txt", "climbs out of its folder"),
    ("a/../../escaped_I9gem.txt", "climbs out of its folder"),
    ("..\\escaped_I9gem.txt", "climbs out of its folder"),
    ("/tmp/escaped_I9gem.txt", "absolute path"),
    ("C:\\escaped_I9gem.txt", "absolute path"),
    ("esc\x1b[2Japed_I9gem.txt", "control or invisible characters"),
    ("x" * 256 + ".txt", "too long"),
])
def test_member_names_that_could_escape_or_hide_are_refused(warehouse, tmp_path, private_temp, name, why):
    archive = make_zip(tmp_path / "evil.zip", {"sample_I10gem.txt": I10, name: I9})
    message = refused(warehouse, archive)
    assert why in message and "member" in message and "\x1b" not in message
    assert list(private_temp.iterdir()) == []  # refused before anything was written
    assert not list(tmp_path.rglob("escaped_I9gem.txt"))


def test_a_name_that_is_not_utf8_is_refused_shown_as_bytes(warehouse, tmp_path):
    archive = patched(make_zip(tmp_path / "latin.zip", {"caf_XX.txt": I9}), b"caf_XX", b"caf_\xe9X")
    assert "member caf_\\xe9X.txt: the name is not UTF-8" in refused(warehouse, archive)


def test_a_name_marked_utf8_that_is_not_is_refused(warehouse, tmp_path):
    archive = patched(make_zip(tmp_path / "liar.zip", {"caf\u00e9.txt": I9}), "caf\u00e9".encode(), b"caf\xc3\x28")
    assert "marked UTF-8 but is not" in refused(warehouse, archive)


def test_a_name_with_a_nul_is_refused(warehouse, tmp_path):
    archive = patched(make_zip(tmp_path / "nul.zip", {"evil.txtZ.pdf": I9}), b"evil.txtZ", b"evil.txt\x00")
    assert "control or invisible characters" in refused(warehouse, archive)


def special(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    return info


def test_symbolic_links_and_devices_are_refused(warehouse, tmp_path):
    link = tmp_path / "link.zip"
    with zipfile.ZipFile(link, "w") as zf:
        zf.writestr("sample_I9gem.txt", I9)
        zf.writestr(special("passwd_I10gem.txt", stat.S_IFLNK | 0o777), "/etc/passwd")
    assert "passwd_I10gem.txt is a symbolic link" in refused(warehouse, link)
    fifo = tmp_path / "fifo.zip"
    with zipfile.ZipFile(fifo, "w") as zf:
        zf.writestr(special("pipe", stat.S_IFIFO | 0o644), b"")
    assert "member pipe is a device, pipe or socket" in refused(warehouse, fifo)


def test_encrypted_members_are_refused(warehouse, tmp_path):
    archive = make_zip(tmp_path / "secret.zip", {"sample_I9gem.txt": I9}, zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local header, central directory
        at = data.index(signature) + flag_offset
        data[at] |= 0x1
    archive.write_bytes(bytes(data))
    assert "sample_I9gem.txt is encrypted" in refused(warehouse, archive)


def test_compression_other_than_deflate_is_refused(warehouse, tmp_path):
    archive = make_zip(tmp_path / "bz.zip", {"sample_I9gem.txt": I9}, zipfile.ZIP_BZIP2)
    assert "compressed with method 12" in refused(warehouse, archive)


def test_a_corrupt_or_truncated_zip_is_refused(warehouse, tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"this is no zip archive\n" * 10)
    assert "is not a readable zip archive" in refused(warehouse, junk)
    whole = make_zip(tmp_path / "whole.zip", {"sample_I9gem.txt": I9, "sample_I10gem.txt": I10}).read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole[: len(whole) // 2])
    assert "damaged or cut short; download it again" in refused(warehouse, cut)


def test_a_crc_error_names_the_member(warehouse, tmp_path, private_temp):
    archive = make_zip(tmp_path / "crc.zip", {"sample_I10gem.txt": I10, "sample_I9gem.txt": I9}, zipfile.ZIP_STORED)
    data = archive.read_bytes()
    at = data.index(I9[:19]) + 3
    archive.write_bytes(data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:])
    message = refused(warehouse, archive)
    assert "member sample_I9gem.txt is damaged (Bad CRC-32" in message
    assert list(private_temp.iterdir()) == []


def test_nested_zips_are_reported_not_followed(warehouse, tmp_path):
    inner = make_zip(tmp_path / "inner.zip", {"sample_I10gem.txt": I10}).read_bytes()
    archive = make_zip(tmp_path / "outer.zip", {"sample_I9gem.txt": I9, "inner.zip": inner, "disguised.txt": inner})
    result = load(warehouse, "gems", [archive], release_id="r1", effective_from=START)
    assert [p.part for p in result.parts] == ["icd9cm-icd10cm"]
    nested = [n for n in result.notes if "a zip inside the zip is not opened" in n]
    assert [n.split(": skipped ")[1].split(":")[0] for n in nested] == ["inner.zip", "disguised.txt"]
    only = make_zip(tmp_path / "only.zip", {"inner.zip": inner})
    with pytest.raises(SourceError, match="holds no gems file.*inner.zip"):
        load(warehouse, "gems", [only], release_id="r2", effective_from=START)


def test_a_member_declaring_a_zip_bomb_ratio_is_refused_before_writing(warehouse, tmp_path, private_temp):
    archive = make_zip(tmp_path / "bomb.zip", {"zeros.txt": bytes(2 << 20)})
    assert "more than 100 times its compressed size" in refused(warehouse, archive)
    assert list(private_temp.iterdir()) == []


def test_the_sizes_are_counted_again_while_unpacking(warehouse, tmp_path, private_temp, monkeypatch):
    """Declared sizes can lie: the ratio is checked again on the bytes really written, chunk by chunk."""
    real_plan = archives._plan

    def plan_then_tighten(*args):
        planned = real_plan(*args)  # the declared sizes passed; now the written bytes must pass a lower bar
        monkeypatch.setattr(archives, "MAX_RATIO", 2)
        return planned

    monkeypatch.setattr(archives, "MAX_RATIO", 5000)
    monkeypatch.setattr(archives, "_plan", plan_then_tighten)
    archive = make_zip(tmp_path / "zeros.zip", {"zeros.txt": bytes(3 << 20)})
    assert "zeros.txt unpacks to 2.0 MiB, more than 2 times its compressed size" in refused(warehouse, archive)
    assert list(private_temp.iterdir()) == []


def test_the_total_is_capped_declared_and_written(warehouse, tmp_path, monkeypatch):
    archive = make_zip(tmp_path / "big.zip", {"sample_I9gem.txt": I9, "sample_I10gem.txt": I10})
    monkeypatch.setattr(archives, "MAX_TOTAL_BYTES", len(I9) + 10)
    assert "the most codesets unpacks from one archive" in refused(warehouse, archive)

    real_plan = archives._plan

    def plan_then_tighten(*args):
        planned = real_plan(*args)
        monkeypatch.setattr(archives, "MAX_TOTAL_BYTES", len(I9) + 10)
        return planned

    monkeypatch.setattr(archives, "MAX_TOTAL_BYTES", 8 << 30)
    monkeypatch.setattr(archives, "_plan", plan_then_tighten)
    assert "the most codesets unpacks from one archive" in refused(warehouse, archive)


def test_no_room_to_unpack_is_an_os_problem(warehouse, tmp_path, monkeypatch):
    archive = make_zip(tmp_path / "r1.zip", {"sample_I9gem.txt": I9})
    monkeypatch.setattr(archives.shutil, "disk_usage", lambda path: type("Usage", (), {"free": 100})())
    message = refused(warehouse, archive, SystemFailure)
    assert "point TMPDIR at a folder with room" in message and SystemFailure.exit_code == 74


def test_too_many_members_are_refused(warehouse, tmp_path, monkeypatch):
    monkeypatch.setattr(archives, "MAX_MEMBERS", 2)
    archive = make_zip(tmp_path / "many.zip", {f"f{n}.txt": b"x" for n in range(3)})
    assert "holds 3 members, more than the 2" in refused(warehouse, archive)


def test_two_members_of_one_name_are_refused_naming_both(warehouse, tmp_path):
    archive = make_zip(tmp_path / "two.zip", {"a/sample_I9gem.txt": I9, "b/sample_I9gem.txt": I9})
    message = refused(warehouse, archive)
    assert f"{archive} member a/sample_I9gem.txt and {archive} member b/sample_I9gem.txt share the name" in message


def test_a_member_and_a_plain_file_of_one_name_are_refused_naming_both(warehouse, tmp_path):
    (tmp_path / "sample_I9gem.txt").write_bytes(I9)
    archive = make_zip(tmp_path / "r1.zip", {"sample_I9gem.txt": I9})
    with pytest.raises(SourceError) as caught:
        load(warehouse, "gems", [tmp_path / "sample_I9gem.txt", archive], release_id="r1", effective_from=START)
    assert f"{tmp_path / 'sample_I9gem.txt'} and {archive} member sample_I9gem.txt share the name" in str(caught.value)


# -- refresh --------------------------------------------------------------------------------


def test_refresh_opens_the_zips_it_finds_and_reports_every_member_it_skips(warehouse, tmp_path, private_temp):
    folder = tmp_path / "cms"
    folder.mkdir()
    inner = make_zip(tmp_path / "inner.zip", {"x.txt": b"x"}).read_bytes()
    archive = make_zip(folder / "2019-gems.zip", {
        "sample_I9gem.txt": I9, "pcs_2019/": b"", "pcs_2019/sample_gem_i9pcs.txt": PCS, "readme.txt": b"hi\n", "nested.zip": inner,
    })
    report = refresh(warehouse, folder)
    assert report.ok, report.failures
    assert {p.part for r in report.results for p in r.parts} == {"icd9cm-icd10cm", "icd9pcs-icd10pcs"}
    assert report.results[0].notes[0] == f"{archive}: read sample_I9gem.txt, pcs_2019/sample_gem_i9pcs.txt"
    assert sorted(why for path, why in report.skipped if path == archive) == [
        "member nested.zip: a zip inside the zip is not opened: unzip the outer one and give the inner zip",
        "member pcs_2019/: a folder (the files in it are read one by one)",
        "member readme.txt: not a known source format",
    ]
    assert list(private_temp.iterdir()) == []


def test_refresh_reads_a_zip_and_the_same_files_unzipped_beside_it_once(warehouse, tmp_path):
    folder = tmp_path / "cms"
    (folder / "2019-gems").mkdir(parents=True)
    archive = make_zip(folder / "2019-gems.zip", {"sample_I9gem.txt": I9})
    (folder / "2019-gems" / "sample_I9gem.txt").write_bytes(I9)
    report = refresh(warehouse, folder)
    assert report.ok, report.failures
    assert [p.status for r in report.results for p in r.parts] == ["loaded"]
    assert (archive, f"member sample_I9gem.txt: the same bytes as {folder / '2019-gems' / 'sample_I9gem.txt'}, read once") \
        in report.skipped

    (folder / "2019-gems" / "sample_I9gem.txt").write_bytes(I9.replace(b"00321", b"00322", 1))
    other = refresh(Warehouse(tmp_path / "other"), folder)
    (what, error), = other.failures
    assert what == "gems 2019" and "share the name sample_I9gem.txt" in str(error)


def test_refresh_reports_a_hostile_zip_and_loads_the_rest(warehouse, tmp_path):
    folder = tmp_path / "cms"
    folder.mkdir()
    make_zip(folder / "evil.zip", {"../escaped_I9gem.txt": I9})
    (folder / "2019_I9gem.txt").write_bytes(I9)
    report = refresh(warehouse, folder)
    (what, error), = report.failures
    assert what == "unzip" and isinstance(error, SourceError) and "climbs out of its folder" in str(error)
    assert [p.status for r in report.results for p in r.parts] == ["loaded"]
    assert not (tmp_path / "escaped_I9gem.txt").exists()


# -- the command line -----------------------------------------------------------------------


def test_codesets_load_a_zip_prints_what_it_loaded(tmp_path):
    archive = make_zip(tmp_path / "medicare-gems-2019.zip", {"sample_I9gem.txt": I9, "readme.pdf": b"%PDF\n"})
    result = CliRunner().invoke(app, ["--warehouse", str(tmp_path / "wh"), "load", "gems", str(archive)])
    assert result.exit_code == 0, result.output
    assert "gems 2019 icd9cm-icd10cm: loaded 48 rows from 1 file(s), effective 2018-10-01" in result.output
    assert f"note: {archive}: read sample_I9gem.txt" in result.output
    assert f"note: {archive}: skipped readme.pdf: not a gems file" in result.output


def test_codesets_load_a_hostile_zip_is_one_line_and_exit_65(tmp_path):
    archive = make_zip(tmp_path / "evil.zip", {"../../escaped_I9gem.txt": I9})
    result = CliRunner().invoke(app, ["--warehouse", str(tmp_path / "wh"), "load", "gems", str(archive),
                                      "--release", "r1", "--effective-from", "2020-10-01"])
    assert result.exit_code == 65
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert "escaped_I9gem.txt climbs out of its folder" in result.output


def test_is_archive_looks_at_names_and_content(tmp_path):
    (tmp_path / "a.ZIP").write_bytes(b"anything")
    make_zip(tmp_path / "disguised.txt", {"x": b"x"})
    (tmp_path / "plain.txt").write_bytes(b"PK but not a zip")
    assert archives.is_archive(tmp_path / "a.ZIP") and archives.is_archive(tmp_path / "disguised.txt")
    assert not archives.is_archive(tmp_path / "plain.txt")
