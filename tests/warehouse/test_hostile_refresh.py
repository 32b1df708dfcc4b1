"""`codesets refresh DIR` over a folder holding what is not a regular file: named pipes, devices,
symbolic link loops, broken links, folders linked into themselves. Each is listed as skipped with
its reason, none is opened (a pipe would block the refresh, a device never end), no loop is
followed, and the files around them still load. Links to files and folders elsewhere are followed,
as users link the files they downloaded in."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codesets.cli.app import app
from codesets.core.errors import SystemFailure, UsageError
from codesets.warehouse.refresh import refresh
from tests.conftest import ROOT

SAMPLES = ROOT / "codesets" / "samples" / "gems"
I9 = (SAMPLES / "sample_I9gem.txt").read_bytes()
I10 = (SAMPLES / "sample_I10gem.txt").read_bytes()

PIPE = "a named pipe (FIFO), not a regular file; not opened"
LINK_TO_DEVICE = "a symbolic link to a device, not a regular file; not opened"
LOOP = "a symbolic link loop; not followed"
FOLDER_LOOP = "a symbolic link loop (a link to a folder that holds it); not followed"
BROKEN = "a broken symbolic link (what it names does not exist)"


@pytest.fixture(autouse=True)
def never_blocks():
    """A refresh that opens a pipe waits for a writer forever: fail the test instead of hanging it."""
    def blocked(_signum, _frame):
        raise TimeoutError("refresh blocked (a named pipe or a device was opened?)")

    previous = signal.signal(signal.SIGALRM, blocked)
    signal.alarm(120)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def loaded_parts(report) -> set[tuple[str, str, str]]:
    return {(r.source, r.release_id, p.part) for r in report.results for p in r.parts if p.status == "loaded"}


def test_pipes_devices_and_link_loops_are_skipped_with_reasons_and_the_rest_loads(warehouse, tmp_path):
    folder = tmp_path / "cms"
    folder.mkdir()
    (folder / "2019_I9gem.txt").write_bytes(I9)
    os.mkfifo(folder / "2019_I10gem.txt")  # named as a GEM file: a name-based look would open it
    os.mkfifo(folder / "gems.zip")  # and as a zip
    (folder / "null_I10gem.txt").symlink_to("/dev/null")
    (folder / "zero.zip").symlink_to("/dev/zero")  # read, it never ends
    (folder / "self.txt").symlink_to("self.txt")
    (folder / "ping.txt").symlink_to("pong.txt")
    (folder / "pong.txt").symlink_to("ping.txt")
    (folder / "gone.txt").symlink_to(tmp_path / "nowhere.txt")

    report = refresh(warehouse, folder)

    assert report.ok, report.failures
    assert loaded_parts(report) == {("gems", "2019", "icd9cm-icd10cm")}
    assert report.skipped == [
        (folder / "2019_I10gem.txt", PIPE),
        (folder / "gems.zip", PIPE),
        (folder / "gone.txt", BROKEN),
        (folder / "null_I10gem.txt", LINK_TO_DEVICE),
        (folder / "ping.txt", LOOP),
        (folder / "pong.txt", LOOP),
        (folder / "self.txt", LOOP),
        (folder / "zero.zip", LINK_TO_DEVICE),
    ]


def test_a_pipe_in_a_nested_folder_is_skipped_in_name_order_with_the_other_skipped_files(warehouse, tmp_path):
    folder = tmp_path / "cms"
    (folder / "2019").mkdir(parents=True)
    (folder / "2019" / "2019_I9gem.txt").write_bytes(I9)
    (folder / "2019" / "notes.txt").write_text("not a GEM file\n")
    os.mkfifo(folder / "2019" / "b-pipe")
    report = refresh(warehouse, folder)
    assert report.ok, report.failures
    assert report.skipped == [
        (folder / "2019" / "b-pipe", PIPE),
        (folder / "2019" / "notes.txt", "not a known source format"),
    ]


def test_a_link_to_a_file_outside_the_folder_is_followed(warehouse, tmp_path):
    elsewhere = tmp_path / "downloads"
    elsewhere.mkdir()
    (elsewhere / "2019_I9gem.txt").write_bytes(I9)
    folder = tmp_path / "cms"
    folder.mkdir()
    (folder / "2019_I9gem.txt").symlink_to(elsewhere / "2019_I9gem.txt")
    report = refresh(warehouse, folder)
    assert report.ok and report.skipped == []
    assert loaded_parts(report) == {("gems", "2019", "icd9cm-icd10cm")}


def test_folder_links_are_followed_once_and_loops_in_nested_folders_are_not(warehouse, tmp_path):
    elsewhere = tmp_path / "downloads" / "2019"
    elsewhere.mkdir(parents=True)
    (elsewhere / "2019_I10gem.txt").write_bytes(I10)
    folder = tmp_path / "cms"
    (folder / "2019" / "deep").mkdir(parents=True)
    (folder / "2019" / "2019_I9gem.txt").write_bytes(I9)
    (folder / "2019" / "deep" / "top").symlink_to("../..")  # back to the folder refreshed
    (folder / "2019" / "deep" / "here").symlink_to(".")
    (folder / "2019" / "up").symlink_to("..")
    (folder / "linked").symlink_to(elsewhere)  # a folder linked in: read
    (folder / "same").symlink_to("linked")  # the same folder again: read once

    report = refresh(warehouse, folder)

    assert report.ok, report.failures
    assert loaded_parts(report) == {("gems", "2019", "icd9cm-icd10cm"), ("gems", "2019", "icd10cm-icd9cm")}
    assert report.skipped == [
        (folder / "2019" / "deep" / "here", FOLDER_LOOP),
        (folder / "2019" / "deep" / "top", FOLDER_LOOP),
        (folder / "2019" / "up", FOLDER_LOOP),
        (folder / "same", f"the same folder as {folder / 'linked'}, read once"),
    ]


def test_a_loop_through_a_folder_outside_is_stopped_where_it_comes_back(warehouse, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = tmp_path / "cms"
    folder.mkdir()
    (folder / "2019_I9gem.txt").write_bytes(I9)
    (folder / "out").symlink_to(outside)
    (outside / "back").symlink_to(folder)
    report = refresh(warehouse, folder)
    assert report.ok, report.failures
    assert report.skipped == [(folder / "out" / "back", FOLDER_LOOP)]
    assert loaded_parts(report) == {("gems", "2019", "icd9cm-icd10cm")}


def test_an_unreadable_folder_is_skipped_and_an_unreadable_refresh_folder_is_an_os_failure(
    warehouse, tmp_path, monkeypatch
):
    folder = tmp_path / "cms"
    (folder / "locked").mkdir(parents=True)
    (folder / "2019_I9gem.txt").write_bytes(I9)
    refused = {folder / "locked"}
    real_scandir = os.scandir

    def scandir(path="."):  # what a folder of mode 000 gives a user other than root (tests here may run as root)
        if isinstance(path, (str, os.PathLike)) and Path(path) in refused:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    report = refresh(warehouse, folder)
    assert report.ok and [path for path, _why in report.skipped] == [folder / "locked"]
    assert report.skipped[0][1].startswith("cannot read the folder")
    refused.add(folder)
    with pytest.raises(SystemFailure):
        refresh(warehouse, folder)


def test_codesets_refresh_prints_each_skipped_entry_and_exits_0(tmp_path):
    folder = tmp_path / "cms"
    (folder / "nested").mkdir(parents=True)
    (folder / "2019_I9gem.txt").write_bytes(I9)
    os.mkfifo(folder / "pipe.txt")
    (folder / "zero.txt").symlink_to("/dev/zero")
    (folder / "loop.txt").symlink_to("loop.txt")
    (folder / "nested" / "back").symlink_to("..")
    result = CliRunner().invoke(app, ["--warehouse", str(tmp_path / "wh"), "refresh", str(folder)])
    assert result.exit_code == 0, result.output
    for path, why in [("loop.txt", LOOP), ("nested/back", FOLDER_LOOP), ("pipe.txt", PIPE),
                      ("zero.txt", LINK_TO_DEVICE)]:
        assert f"skipped {folder / path}: {why}\n" in result.output
    assert "gems 2019 icd9cm-icd10cm: loaded" in result.output


def test_a_pipe_given_as_the_folder_is_a_usage_error(warehouse, tmp_path):
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(UsageError):
        refresh(warehouse, tmp_path / "pipe")


def test_ctrl_c_absorbed_after_a_publish_stops_the_refresh(tmp_path, monkeypatch):
    """A Ctrl-C that reaches a load after it published is noted there; the refresh must stop, not go on."""
    from codesets.warehouse import load as load_module
    from codesets.warehouse import refresh as refresh_module
    from codesets.warehouse.storage import Warehouse

    real = load_module.load
    calls = []

    def first_interrupted(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append(result.source)
        if len(calls) == 1:
            result.interrupted = True
        return result

    monkeypatch.setattr(refresh_module, "load", first_interrupted)
    report = refresh_module.refresh(Warehouse(tmp_path / "wh"), sample=True)
    assert report.interrupted and len(calls) == 1 and len(report.results) == 1
