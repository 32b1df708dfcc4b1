"""Load official files as one release: stage, check, publish atomically, record in the catalog."""

from __future__ import annotations

import csv
import time
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

from codesets import __version__, loaders
from codesets.errors import LoadRejected, SourceError
from codesets.text import aligned
from codesets.warehouse import catalog, checks, sqlfiles
from codesets.warehouse.catalog import LoadResult
from codesets.warehouse.storage import Warehouse

SHOWN_REJECTS = 20  # rows printed in the error; the rejects file has all of them


def load(
    warehouse: Warehouse,
    source: str,
    files,
    release_id: str | None = None,
    effective_from: date | None = None,
) -> LoadResult:
    """Load ``files`` of ``source`` as one release and publish it, or change nothing.

    Byte-identical files already loaded for the source are a no-op (status 'unchanged').
    Rows failing the loader's checks raise LoadRejected with every failing row; the
    published warehouse is untouched and a rejects CSV is written under PATH/rejects/.
    """
    started = time.perf_counter()
    loader = loaders.get(source)
    paths = _existing(files)
    digests = [catalog.file_sha256(p) for p in paths]
    content = catalog.content_sha256(digests)
    release = release_id or _release_of(loader, paths)
    start = effective_from or loader.effective_from(release)
    if start is None:
        raise SourceError(
            f"cannot tell when release {release!r} of {source} takes effect: pass --effective-from YYYY-MM-DD"
        )

    with warehouse.writer() as writer:
        existing = _already_loaded(warehouse, source, release, content)
        if existing is not None:
            return replace(existing, seconds=time.perf_counter() - started)
        with writer.new_generation() as con:
            sqlfiles.apply(con)
            infos = loader.stage(con, paths)
            rejects, quirks = checks.run(con, "staged", loader.model())
            if rejects:
                raise _rejected(warehouse, source, release, rejects)
            result = LoadResult(
                source=source,
                release_id=release,
                status="loaded",
                effective_from=start,
                row_count=loader.publish(con, release),
                files=[replace(info, sha256=digest) for info, digest in zip(infos, digests)],
                previous_release_id=catalog.previous(con, source, start),
            )
            result.notes = _summarise(quirks) + loader.notes(con, release)
            if result.previous_release_id is not None:
                result.rows_added, result.rows_removed = catalog.changes(
                    con, loader.TABLE, loader.DIFF_KEY, source, release, result.previous_release_id
                )
            catalog.record(con, result, content, __version__)
            con.execute("DROP VIEW IF EXISTS staged")
    result.seconds = time.perf_counter() - started
    return result


def _existing(files) -> list[Path]:
    paths = [Path(f) for f in files]
    if not paths:
        raise SourceError("no files given: name the files of the release to load")
    for path in paths:
        if not path.is_file():
            raise SourceError(f"{path}: no such file")
    if len({p.name for p in paths}) != len(paths):
        raise SourceError("two files share a name; rows are traced by file name, so rename one")
    return paths


def _release_of(loader, paths: list[Path]) -> str:
    ids = {loader.release_id(p) for p in paths}
    if len(ids) == 1 and None not in ids:
        return ids.pop()
    names = ", ".join(p.name for p in paths)
    raise SourceError(f"cannot tell the release of {names} from the file names: pass --release ID")


def _already_loaded(warehouse: Warehouse, source: str, release: str, content: str) -> LoadResult | None:
    if warehouse.current() is None:
        return None
    with warehouse.connect() as con:
        same_bytes = catalog.find(con, source, content=content)
        same_id = catalog.find(con, source, release_id=release)
    if same_bytes is not None:
        return LoadResult(
            source=source,
            release_id=same_bytes["release_id"],
            status="unchanged",
            effective_from=same_bytes["effective_from"],
            row_count=same_bytes["row_count"],
            files=[catalog.FileInfo(**f) for f in same_bytes["files"]],
        )
    if same_id is not None:
        raise SourceError(
            f"release {release} of {source} is already published with other files; published "
            "releases never change: load these files under a new --release ID"
        )
    return None


def _rejected(warehouse: Warehouse, source: str, release: str, rejects: list[tuple]) -> LoadRejected:
    warehouse.rejects_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = warehouse.rejects_dir / f"{source}-{release}-{stamp}.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(checks.REPORT_COLUMNS)
        writer.writerows(rejects)
    rows = [dict(zip(checks.REPORT_COLUMNS, r)) for r in rejects]
    lines = [f"{len(rows):,} row(s) failed the {source} checks; nothing was loaded."]
    lines.append(format_rejects(rows[:SHOWN_REJECTS]))
    if len(rows) > SHOWN_REJECTS:
        lines.append(f"... and {len(rows) - SHOWN_REJECTS:,} more.")
    lines.append(f"Every failing row is in {path}. Fix the file (or report it upstream) and load again.")
    return LoadRejected("\n".join(lines), rows, str(path))


def _summarise(quirks: list[tuple]) -> list[str]:
    """One line per file and quirk: how many rows, and the first line."""
    counted: dict[tuple[str, str], list[int]] = {}
    for file, line, _column, _value, rule in quirks:
        counted.setdefault((file, rule), []).append(line)
    return [
        f"{file}: {len(lines)} row(s) with a {rule}, first at line {min(lines)}"
        for (file, rule), lines in sorted(counted.items())
    ]


def format_rejects(rows: list[dict]) -> str:
    """A readable table of rejects: file, line, column, value, rule."""
    cells = [[str(r[c]) if r[c] is not None else "" for c in checks.REPORT_COLUMNS] for r in rows]
    return aligned(checks.REPORT_COLUMNS, cells)
