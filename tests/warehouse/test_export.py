"""`export_parquet`: the layout reads back with string partition columns, and user files are never harmed.

The warehouse here is a stand-in: a small DuckDB file built by the tests, opened read-only
and sandboxed the way `Warehouse.connect(extra_directories=...)` is (external access off
except for the folders named), so these tests do not depend on the storage module.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

from codesets.core.errors import ConfigError, SystemFailure, WarehouseError
from codesets.warehouse import export, export_folder
from codesets.warehouse.export import MARKER, export_parquet
from tests.conftest import ROOT

PARTITIONED = {  # relation -> partition columns
    "maps": ("source", "release_id"),
    "only_2018": ("source", "release_id"),  # every release id looks like a number
    "no_rows": ("source", "release_id"),
    "by_release": ("release_id",),
    "current_2018": ("release_id",),
}
UNPARTITIONED = ("odd name", "systems")


class StandInWarehouse:
    """Opens the test database like the lead's Warehouse.connect: read-only, sandboxed."""

    def __init__(self, db: Path):
        self.db = db
        self.sandboxes: list[list[str]] = []

    def connect(self, extra_directories=()):
        con = duckdb.connect(str(self.db), read_only=True)
        con.execute("SET allowed_directories = ?", [list(extra_directories)])
        con.execute("SET enable_external_access = false")
        self.sandboxes.append(list(extra_directories))
        return con


def build_db(path: Path, *, second: bool = False) -> Path:
    """Tables and views of every layout; `second` is a later state (a release added, a table gone)."""
    releases = ["sample", "2017", "2018"] + (["2019"] if second else [])
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE maps (source VARCHAR, release_id VARCHAR, code VARCHAR, n INTEGER)")
        for i, release in enumerate(releases):
            con.execute("INSERT INTO maps VALUES ('gems', ?, ?, ?), ('gems', ?, ?, ?)",
                        [release, f"A{i}", i, release, f"B{i}", 10 + i])
        con.execute("INSERT INTO maps VALUES ('other', '2018', 'Z', 99)")
        if not second:
            con.execute("CREATE TABLE only_2018 AS SELECT 'gems' AS source, '2018' AS release_id, 'R65.21' AS code")
        con.execute("CREATE TABLE no_rows (source VARCHAR, release_id VARCHAR, code VARCHAR)")
        con.execute("CREATE VIEW by_release AS SELECT release_id, COUNT(*) AS n FROM maps GROUP BY release_id")
        con.execute("CREATE VIEW current_2018 AS SELECT release_id, code FROM maps WHERE release_id = '2018'")
        con.execute("CREATE TABLE systems AS SELECT * FROM (VALUES ('icd9cm', true), ('icd10pcs', false)) t(system, dotted)")
        con.execute('CREATE VIEW "odd name" AS SELECT * FROM systems')
        con.execute("CREATE SCHEMA other")
        con.execute("CREATE TABLE other.not_exported (x INTEGER)")
    return path


@pytest.fixture
def wh(tmp_path):
    return StandInWarehouse(build_db(tmp_path / "first.duckdb"))


@pytest.fixture
def wh2(tmp_path):
    return StandInWarehouse(build_db(tmp_path / "second.duckdb", second=True))


@pytest.fixture
def out(tmp_path):
    (tmp_path / "exports").mkdir()
    return tmp_path / "exports" / "parquet"


def snapshot(path: Path) -> dict[str, str]:
    """Every path under `path` (and itself) with its kind, mode and, for files, a sha256."""
    def entry(p: Path) -> str:
        st = p.lstat()
        if p.is_symlink():
            return f"link {os.readlink(p)}"
        if p.is_dir():
            return f"dir {oct(st.st_mode)}"
        return f"file {oct(st.st_mode)} {hashlib.sha256(p.read_bytes()).hexdigest()}"

    if not os.path.lexists(path):
        return {}
    found = {".": entry(path)}
    if path.is_dir() and not path.is_symlink():
        for p in sorted(path.rglob("*")):
            found[str(p.relative_to(path))] = entry(p)
    return found


def leftovers(out: Path) -> list[str]:
    return sorted(e for e in os.listdir(out.parent) if ".codesets-" in e)


def source_rows(wh: StandInWarehouse, relation: str) -> list[tuple]:
    with duckdb.connect(str(wh.db), read_only=True) as con:
        return sorted(con.execute(f'SELECT * FROM "{relation}"').fetchall(), key=repr)


# --- layout and types ----------------------------------------------------------------


def test_every_relation_of_main_is_written_with_its_layout(wh, out):
    result = export_parquet(wh, out)

    assert result.path == out
    by_name = {r.name: r for r in result.relations}
    assert set(by_name) == set(PARTITIONED) | set(UNPARTITIONED)
    assert sorted(os.listdir(out)) == sorted([MARKER, *PARTITIONED, *UNPARTITIONED])
    for name, partition in PARTITIONED.items():
        assert by_name[name].partition_by == partition
    assert by_name["maps"].layout == "one file per source and release_id"
    assert by_name["by_release"].layout == "one file per release_id"
    assert by_name["systems"].layout == "one file"
    assert by_name["maps"].rows == 7 and by_name["no_rows"].rows == 0
    assert not any("=" in str(p) for p in out.rglob("*")), "no Hive key=value folders: they retype release_id"


def test_each_partitioned_file_holds_one_source_and_release(wh, out):
    result = export_parquet(wh, out)

    maps = next(r for r in result.relations if r.name == "maps")
    pairs = sorted((f.partition["source"], f.partition["release_id"]) for f in maps.files)
    assert pairs == [("gems", "2017"), ("gems", "2018"), ("gems", "sample"), ("other", "2018")]
    with duckdb.connect() as con:
        for file in maps.files:
            distinct = con.execute(
                "SELECT DISTINCT source, release_id FROM read_parquet(?)", [str(out / file.path)]
            ).fetchall()
            assert distinct == [(file.partition["source"], file.partition["release_id"])]


def test_marker_lists_exactly_what_was_written(wh, out):
    export_parquet(wh, out)

    marker = json.loads((out / MARKER).read_text())
    assert marker["format"] == "codesets-export/1"
    assert marker["codesets_version"] and marker["written_at"]
    listed = {f["path"] for rel in marker["relations"] for f in rel["files"]}
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*.parquet")}
    assert listed == on_disk
    maps = next(rel for rel in marker["relations"] if rel["name"] == "maps")
    assert {c["name"]: c["type"] for c in maps["columns"]}["release_id"] == "VARCHAR"
    assert sum(f["rows"] for f in maps["files"]) == maps["rows"] == 7


def test_copy_writes_only_into_a_temporary_folder_beside_dir(wh, out):
    export_parquet(wh, out)

    [sandbox] = wh.sandboxes
    [folder] = sandbox
    assert Path(folder).parent == out.parent and Path(folder).name.startswith(".parquet.codesets-tmp-")
    assert not os.path.lexists(folder)
    assert leftovers(out) == []


@pytest.mark.parametrize("relation", sorted(PARTITIONED))
def test_partition_columns_read_back_as_strings_in_duckdb(wh, out, relation):
    export_parquet(wh, out)

    glob = str(out / relation / "**" / "*.parquet")
    with duckdb.connect() as con:
        types = dict(con.execute(
            "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = true))",
            [glob],
        ).fetchall())
        rows = con.execute("SELECT * FROM read_parquet(?, hive_partitioning = true)", [glob]).fetchall()
    assert {types[c] for c in PARTITIONED[relation]} == {"VARCHAR"}
    assert sorted(rows, key=repr) == source_rows(wh, relation)


@pytest.mark.parametrize("relation", sorted(PARTITIONED))
def test_partition_columns_read_back_as_strings_in_pyarrow(wh, out, relation):
    export_parquet(wh, out)

    dataset = ds.dataset(out / relation, format="parquet", partitioning="hive")
    for column in PARTITIONED[relation]:
        assert dataset.schema.field(column).type == pa.string()
    rows = [tuple(r.values()) for r in dataset.to_table().to_pylist()]
    assert sorted(rows, key=repr) == source_rows(wh, relation)


def test_pyarrow_filters_a_numeric_looking_release_as_a_string(wh, out):
    export_parquet(wh, out)

    table = ds.dataset(out / "maps", partitioning="hive").to_table(filter=ds.field("release_id") == "2018")
    assert sorted(table.column("code").to_pylist()) == ["A2", "B2", "Z"]


def test_an_empty_relation_is_one_readable_empty_file(wh, out):
    export_parquet(wh, out)

    assert os.listdir(out / "no_rows") == ["data_0.parquet"]
    table = ds.dataset(out / "no_rows", partitioning="hive").to_table()
    assert table.num_rows == 0
    assert table.schema.names == ["source", "release_id", "code"]
    assert table.schema.field("release_id").type == pa.string()


def test_unpartitioned_relations_are_one_file(wh, out):
    export_parquet(wh, out)

    for relation in UNPARTITIONED:
        assert os.listdir(out / relation) == ["data_0.parquet"]
        with duckdb.connect() as con:
            rows = con.execute("SELECT * FROM read_parquet(?)", [str(out / relation / "*.parquet")]).fetchall()
        assert sorted(rows, key=repr) == source_rows(wh, relation)


# --- where it may write --------------------------------------------------------------


def test_an_empty_existing_folder_is_replaced_keeping_its_permissions(wh, out):
    out.mkdir(mode=0o750)
    os.chmod(out, 0o750)

    export_parquet(wh, out)

    assert (out / MARKER).is_file()
    assert out.stat().st_mode & 0o777 == 0o750
    assert leftovers(out) == []


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2-exchange", "rename-aside"])
def test_a_previous_export_is_replaced_whole(wh, wh2, out, monkeypatch, exchange):
    export_parquet(wh, out)
    assert (out / "only_2018").is_dir()
    if not exchange:
        monkeypatch.setattr(export_folder, "_exchange", lambda a, b: False)

    result = export_parquet(wh2, out)

    assert not (out / "only_2018").exists(), "a relation gone from the warehouse leaves the export"
    assert sorted(os.listdir(out)) == sorted([MARKER, *(r.name for r in result.relations)])
    releases = ds.dataset(out / "maps", partitioning="hive").to_table().column("release_id").to_pylist()
    assert set(releases) == {"sample", "2017", "2018", "2019"}
    assert leftovers(out) == []


def test_a_foreign_file_in_dir_is_refused_and_untouched(wh, out):
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "mine").mkdir()
    (out / "mine" / "data.parquet").write_bytes(b"not yours")
    before = snapshot(out)

    with pytest.raises(ConfigError, match=r"cannot export to .*parquet.*notes\.txt"):
        export_parquet(wh, out)

    assert snapshot(out) == before
    assert leftovers(out) == []
    assert wh.sandboxes == [], "refused before connecting or writing anything"


@pytest.mark.parametrize("added", ["maps/notes.txt", "mine/x.parquet", "notes.txt"])
def test_a_file_added_to_a_previous_export_is_refused_and_untouched(wh, wh2, out, added):
    export_parquet(wh, out)
    (out / added).parent.mkdir(exist_ok=True)
    (out / added).write_text("mine")
    before = snapshot(out)

    with pytest.raises(ConfigError, match=r"files it did not write \(.*" + added.split("/")[0]):
        export_parquet(wh2, out)

    assert snapshot(out) == before
    assert leftovers(out) == []


def test_a_marker_naming_paths_outside_dir_is_refused(wh, out, tmp_path):
    victim = out.parent / "victim.txt"
    victim.write_text("keep me")
    out.mkdir()
    (out / MARKER).write_text(json.dumps({
        "format": "codesets-export/1",
        "relations": [{"name": "..", "files": [{"path": "../victim.txt"}]}],
    }))
    before = snapshot(out)

    with pytest.raises(ConfigError, match="is not a codesets export marker"):
        export_parquet(wh, out)

    assert victim.read_text() == "keep me"
    assert snapshot(out) == before


def test_dir_being_a_file_is_refused(wh, out):
    out.write_text("a file, not a folder")
    before = snapshot(out)

    with pytest.raises(ConfigError, match=r"it is a file, not a folder"):
        export_parquet(wh, out)

    assert snapshot(out) == before
    assert leftovers(out) == []


def test_a_mount_point_is_refused(wh, out, monkeypatch):
    out.mkdir()
    real_stat = Path.stat

    def stat(self, **kwargs):
        st = real_stat(self, **kwargs)
        if self == out:  # as if another filesystem were mounted on DIR
            return os.stat_result((st.st_mode, st.st_ino, st.st_dev + 1, *st[3:]))
        return st

    monkeypatch.setattr(Path, "stat", stat)

    with pytest.raises(ConfigError, match=r"is a mount point.*export into a folder inside it"):
        export_parquet(wh, out)
    assert os.listdir(out) == [] and leftovers(out) == []


def test_a_missing_parent_is_refused(wh, tmp_path):
    with pytest.raises(ConfigError, match=r"parent folder .*nowhere does not exist; create it"):
        export_parquet(wh, tmp_path / "nowhere" / "parquet")
    assert not (tmp_path / "nowhere").exists()


def test_a_read_only_parent_is_refused(wh, out, monkeypatch):
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == out.parent else real_access(p, mode))

    with pytest.raises(SystemFailure, match=r"no permission to create folders in") as caught:
        export_parquet(wh, out)
    assert caught.value.exit_code == 74  # the system refused: README's exit code for a read-only folder
    assert str(out) in str(caught.value) and "\n" not in str(caught.value)
    assert os.listdir(out.parent) == []


def test_a_read_only_filesystem_is_a_system_failure_naming_the_folder(wh, out, monkeypatch):
    """access() may say yes and mkdir still refuse (a read-only mount, an ACL): the same answer."""
    def refuse(path, *args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(os, "mkdir", refuse)
    with pytest.raises(SystemFailure, match=r"cannot export to .*Nothing was changed") as caught:
        export_parquet(wh, out)
    assert caught.value.exit_code == 74 and str(out) in str(caught.value)
    assert os.listdir(out.parent) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; the stand-ins above cover it")
def test_a_really_read_only_parent_is_a_system_failure(wh, tmp_path):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        with pytest.raises(SystemFailure, match="cannot export to"):
            export_parquet(wh, parent / "out")
    finally:
        parent.chmod(0o755)
    assert os.listdir(parent) == []


# --- failures leave DIR as it was ----------------------------------------------------


def test_an_exception_mid_export_leaves_dir_byte_identical(wh, wh2, out, monkeypatch):
    export_parquet(wh, out)
    before = snapshot(out)
    real = export._write_relation
    calls = []

    def failing(con, name, tmp):
        calls.append(name)
        if len(calls) == 3:
            raise RuntimeError("injected")
        return real(con, name, tmp)

    monkeypatch.setattr(export, "_write_relation", failing)

    with pytest.raises(RuntimeError, match="injected"):
        export_parquet(wh2, out)

    assert snapshot(out) == before
    assert leftovers(out) == []


def test_a_failing_rename_during_the_swap_leaves_dir_byte_identical(wh, wh2, out, monkeypatch):
    export_parquet(wh, out)
    before = snapshot(out)
    monkeypatch.setattr(export_folder, "_exchange", lambda a, b: False)
    real_rename = os.rename

    def rename(src, dst):
        if Path(dst) == out and ".codesets-tmp-" in str(src):
            raise OSError(errno.EIO, "injected I/O error", str(dst))
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)

    with pytest.raises(SystemFailure, match=r"injected I/O error.*was left as it was"):
        export_parquet(wh2, out)

    assert snapshot(out) == before
    assert leftovers(out) == []


def test_a_sandbox_without_the_temporary_folder_is_refused_and_dir_kept(wh, out, monkeypatch):
    export_parquet(wh, out)
    before = snapshot(out)
    real_connect = wh.connect
    monkeypatch.setattr(wh, "connect", lambda extra_directories=(): real_connect(extra_directories=[]))

    with pytest.raises(SystemFailure, match=r"failed while writing by_release: "):
        export_parquet(wh, out)

    assert snapshot(out) == before
    assert leftovers(out) == []


def test_a_view_that_fails_names_the_relation_and_leaves_dir_as_it_was(wh, out, tmp_path):
    export_parquet(wh, out)
    before = snapshot(out)
    with duckdb.connect(str(tmp_path / "broken.duckdb")) as con:
        con.execute("CREATE TABLE a AS SELECT 'gems' AS source, '2018' AS release_id")
        con.execute("CREATE VIEW b AS SELECT CAST(source AS INTEGER) AS n FROM a")

    with pytest.raises(WarehouseError, match=r"failed while writing b: "):
        export_parquet(StandInWarehouse(tmp_path / "broken.duckdb"), out)

    assert snapshot(out) == before
    assert leftovers(out) == []


def test_a_relation_whose_name_is_not_a_folder_name_is_refused(out, tmp_path):
    with duckdb.connect(str(tmp_path / "slash.duckdb")) as con:
        con.execute('CREATE TABLE "../up" AS SELECT 1 AS x')

    with pytest.raises(WarehouseError, match=r"relation '\.\./up' cannot be a folder name"):
        export_parquet(StandInWarehouse(tmp_path / "slash.duckdb"), out)

    assert not out.exists() and leftovers(out) == []


_KILLED_CHILD = """
import sys, time
from pathlib import Path
from codesets.warehouse import export
from tests.warehouse.test_export import StandInWarehouse

real = export._write_relation
def slow(con, name, tmp):
    result = real(con, name, tmp)
    Path(sys.argv[3]).write_text(name)  # one relation is on disk: kill me now
    time.sleep(60)
    return result
export._write_relation = slow
export.export_parquet(StandInWarehouse(Path(sys.argv[1])), sys.argv[2])
"""


def test_a_killed_export_leaves_dir_as_it_was_and_the_next_one_cleans_up(wh, wh2, out, tmp_path):
    export_parquet(wh, out)
    before = snapshot(out)
    ready = tmp_path / "ready"
    child = subprocess.Popen([sys.executable, "-c", _KILLED_CHILD, str(wh2.db), str(out), str(ready)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert child.poll() is None, "the export child ended before it was killed"
            assert time.monotonic() < deadline, "the export child never wrote a relation"
            time.sleep(0.05)
        assert leftovers(out), "the killed run is writing beside DIR"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()

    assert snapshot(out) == before
    export_parquet(wh2, out)
    assert leftovers(out) == []
    assert not (out / "only_2018").exists()


def test_a_temporary_folder_still_being_written_is_left_alone(wh, out):
    live = out.parent / ".parquet.codesets-tmp-0000live"
    live.mkdir()
    (live / "partial.parquet").write_bytes(b"being written")
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        export_parquet(wh, out)
    finally:
        os.close(fd)

    assert (live / "partial.parquet").read_bytes() == b"being written"
    assert leftovers(out) == [live.name]


def test_an_export_renamed_aside_by_a_killed_swap_is_put_back_first(wh, wh2, out, monkeypatch):
    export_parquet(wh, out)
    aside = out.parent / ".parquet.codesets-old-0000dead"
    os.rename(out, aside)  # the state a kill between the two renames of the fallback leaves
    monkeypatch.setattr(export, "_write_relation", lambda *a: (_ for _ in ()).throw(RuntimeError("injected")))

    with pytest.raises(RuntimeError, match="injected"):
        export_parquet(wh2, out)

    assert (out / "only_2018").is_dir(), "the previous export is back in DIR"
    assert leftovers(out) == []


# --- the command ---------------------------------------------------------------------


def test_the_command_prints_one_line_per_relation_and_the_path(wh, out, monkeypatch):
    from codesets.cli import export as cli_export
    from codesets.cli.app import app

    monkeypatch.setattr(cli_export, "warehouse", lambda ctx: wh)
    result = CliRunner().invoke(app, ["export", "parquet", str(out)])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "maps: 7 rows (one file per source and release_id)" in lines
    assert "by_release: 3 rows (one file per release_id)" in lines
    assert "no_rows: 0 rows (one file per source and release_id)" in lines
    assert "systems: 2 rows (one file)" in lines
    assert lines[-1] == f"export: {out}"
    assert len(lines) == len(PARTITIONED) + len(UNPARTITIONED) + 1


def test_the_command_refuses_foreign_content_with_exit_2_and_no_traceback(wh, out, monkeypatch):
    from codesets.cli import export as cli_export
    from codesets.cli.app import app

    monkeypatch.setattr(cli_export, "warehouse", lambda ctx: wh)
    out.mkdir()
    (out / "notes.txt").write_text("mine")

    result = CliRunner().invoke(app, ["export", "parquet", str(out)])

    assert result.exit_code == 2
    assert f"cannot export to {out}" in result.output
    assert "Traceback" not in result.output
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("refusal", ["access", "mkdir"])
def test_the_command_exits_74_for_a_read_only_folder(wh, out, monkeypatch, refusal):
    """README: 74 when the operating system refuses (a read-only folder), not 2."""
    from codesets.cli import export as cli_export
    from codesets.cli.app import app

    monkeypatch.setattr(cli_export, "warehouse", lambda ctx: wh)
    if refusal == "access":
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == out.parent else real_access(p, mode))
    else:
        def mkdir(path, *args, **kwargs):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

        monkeypatch.setattr(os, "mkdir", mkdir)

    result = CliRunner().invoke(app, ["export", "parquet", str(out)])

    assert result.exit_code == 74
    assert result.output.startswith(f"codesets: cannot export to {out}: ") and result.output.count("\n") == 1
    assert "choose a folder you can write to" in result.output
    assert os.listdir(out.parent) == []
