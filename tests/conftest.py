"""Shared fixtures: the real files in ../shared/data, throwaway warehouses, Hypothesis profiles.

The real CMS files live in ../shared/data beside the repository, which a fresh clone does not
have. Every test that reads them asks ``need_shared(path, ...)`` (or, at collection time, uses
``requires_shared(path, ...)`` as a mark) first: where a file is absent the test is skipped and
the skip names the file. Nothing else in tests/ looks at ../shared.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "data"

# Hypothesis: "ci" (CI=true) is derandomized, so a run is the same run every time and a failure
# in CI is reproduced by running the same test; "dev" (the default) explores new examples each
# run and keeps failures in .hypothesis/. Neither has a deadline: this 2-core machine is shared
# and one slow example is noise, not a finding. A test's own @settings(max_examples=...) wins
# over the profile's. HYPOTHESIS_PROFILE=ci|dev picks one by hand.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    max_examples=50,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev"))

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


def shared_missing(*paths: Path) -> str | None:
    """Why a test of these real files cannot run here (the first one absent), or None.

    A path is a file or a folder; no path at all means ../shared/data itself.
    """
    for path in paths or (SHARED_DATA,):
        if not Path(path).exists():
            return f"real CMS files not found ({path}); they live in ../shared/data beside the repository"
    return None


def need_shared(*paths: Path) -> None:
    """Skip the calling test, naming the file, unless every path (default: ../shared/data) exists."""
    reason = shared_missing(*paths)
    if reason:
        pytest.skip(reason)


def requires_shared(*paths: Path):
    """The same, as a mark for collection time: ``pytest.param(..., marks=requires_shared(path))``."""
    return pytest.mark.skipif(shared_missing(*paths) is not None, reason=shared_missing(*paths) or "")


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


def benchmark_module(name: str):
    """``benchmarks/<name>.py`` (a generator or the Python twin) imported as module ``name``.

    The benchmarks are scripts, not a package; the tests that check them share this one loader.
    """
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module
