"""Shared fixtures: the real files in ../shared/data and throwaway warehouses."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "data"

GEMS_2018 = {
    "2018_I9gem.txt": SHARED_DATA / "gems" / "2018" / "2018_I9gem.txt",
    "2018_I10gem.txt": SHARED_DATA / "gems" / "2018" / "2018_I10gem.txt",
    "gem_i9pcs.txt": SHARED_DATA / "gems" / "pcs_2018" / "gem_i9pcs.txt",
    "gem_pcsi9.txt": SHARED_DATA / "gems" / "pcs_2018" / "gem_pcsi9.txt",
}
GEMS_2017 = [SHARED_DATA / "gems" / "2017" / "2017_I9gem.txt", SHARED_DATA / "gems" / "2017" / "2017_I10gem.txt"]


def stage_gems(con, paths, part: str | None = None):
    """Stage GEM files as a load would: each file under the part (direction) it claims, or ``part``."""
    from codesets.loaders.gems import LOADER

    parts: dict[str, list[Path]] = {}
    for path in paths:
        parts.setdefault(part or LOADER.claim(Path(path)).part, []).append(Path(path))
    return LOADER.stage(con, parts)


def catalog_files(warehouse, release_id: str) -> dict[str, dict]:
    """The catalog's record of each file of a release, by file name."""
    with warehouse.connect() as con:
        rows = con.execute(
            "SELECT f FROM release_parts, UNNEST(files) AS t(f) WHERE release_id = ?", [release_id]
        ).fetchall()
    return {f["name"]: f for (f,) in rows}


def need_shared(*paths: Path) -> None:
    missing = [p for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"real CMS files not found ({missing[0]}); they live in ../shared/data beside the repo")


@pytest.fixture
def warehouse(tmp_path):
    from codesets.warehouse.storage import Warehouse

    return Warehouse(tmp_path / "wh")


@pytest.fixture(scope="session")
def real_2018(tmp_path_factory):
    """A warehouse holding the four real 2018 GEM files, loaded once per test session."""
    from codesets.warehouse.load import load
    from codesets.warehouse.storage import Warehouse

    need_shared(*GEMS_2018.values())
    wh = Warehouse(tmp_path_factory.mktemp("real") / "wh")
    result = load(wh, "gems", list(GEMS_2018.values()))
    return wh, result


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory):
    from codesets.warehouse.refresh import refresh
    from codesets.warehouse.storage import Warehouse

    wh = Warehouse(tmp_path_factory.mktemp("sample") / "wh")
    report = refresh(wh, sample=True)
    assert report.ok, report.failures
    return wh
