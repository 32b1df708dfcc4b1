"""Load official files as parts of a release: stage, check, write data files, publish atomically.

A release is made of parts (a GEM direction, an NCCI setting); a load may bring some of
them. For each part the files give:

- bytes already published, as this part or under another release: nothing to do (said so);
- a part the release already has, with other bytes: refused (a published part never changes);
- a new part: staged, checked and published together with the other new parts of the load.

Everything new in one load is published in one generation or not at all.
"""

from __future__ import annotations

import concurrent.futures
import time
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

from codesets import __version__, loaders
from codesets.core.errors import LoadRejected, SourceError, SystemFailure, UsageError
from codesets.loaders.contract import NAME, Claim, StagedFile
from codesets.core.text import aligned, shown
from codesets.warehouse import archives, catalog, publish, storage
from codesets.core import checks
from codesets.warehouse.catalog import LoadResult, PartResult
from codesets.warehouse.storage import Warehouse

SHOWN_REJECTS = 20  # rows printed in the error; the rejects file has all of them
SCRATCH_MEMORY = "300MB"  # the staging database spills to PATH/tmp beyond this
DIFF_MEMORY = "200MB"  # so does the comparison with the previous release, once the staging memory is gone


def load(
    warehouse: Warehouse,
    source: str,
    files,
    release_id: str | None = None,
    effective_from: date | None = None,
    *,
    sample: bool = False,
    allow_empty: bool = False,
) -> LoadResult:
    """Load ``files`` of ``source`` as parts of one release and publish what is new.

    Bytes already published are a no-op (status 'unchanged'). Rows failing the loader's
    checks raise LoadRejected with every failing row; nothing is published and a rejects
    CSV is written under PATH/rejects/. ``sample`` marks the bundled sample release, which
    never answers for a date once a real release of the same part is loaded. A file without a
    data row (a header alone, as a cut or failed export leaves it) is refused unless
    ``allow_empty``: published, it would end every row of the part it follows.

    A zip archive among ``files`` counts as the members the loader claims (see
    codesets.warehouse.archives); the others are noted, and the loader sees plain files.
    """
    started = time.perf_counter()
    loader = loaders.get(source)
    with archives.Unpacker() as unpacker, unpacker.naming_members():
        paths, notes = archives.read_given(unpacker, _existing(files), loader)
        result = _load(warehouse, source, loader, paths, release_id, effective_from, sample, started,
                       allow_empty=allow_empty)
    result.notes[:0] = notes
    return result


def _load(warehouse: Warehouse, source: str, loader, paths: list[Path], release_id: str | None,
          effective_from: date | None, sample: bool, started: float, *, allow_empty: bool = False) -> LoadResult:
    claims = {path: _claim(loader, path) for path in paths}
    release = release_id if release_id is not None else _release_of(paths, claims)
    if not NAME.fullmatch(release):
        raise UsageError(f"release id {release!r} must be letters, digits, '.', '_' or '-' (at most 64)")
    parts: dict[str, list[Path]] = {}
    for path in paths:
        parts.setdefault(claims[path].part, []).append(path)
    digests = {path: _sha256(path) for path in paths}

    with warehouse.writer() as writer:
        everything = writer.catalog()
        published = [row for row in everything if row["source"] == source]
        start = _effective_from(loader, release, effective_from, published)
        result = LoadResult(source=source, release_id=release, effective_from=start)
        new_parts = _plan(result, parts, digests, published, sample)
        if not new_parts:
            result.seconds = time.perf_counter() - started
            return result
        part_rows: dict[str, int] = {}
        con = _scratch(warehouse)
        # pandera takes half a second to import: let it while DuckDB reads the files
        pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="codesets-model")
        model = pool.submit(loader.model)
        pool.shutdown(wait=False)  # the one task runs on; the pool takes no other
        try:
            staged = loader.stage(con, {part: parts[part] for part in new_parts})
            _refuse_empty(staged, {path.name: path for path in paths}, allow_empty)
            outcome = checks.run(con, "staged", model.result())
            if outcome.failures:
                raise _rejected(con, warehouse, source, release, outcome.failures)
            result.notes = _summarise(outcome.notes) + _ending_notes(staged) + loader.notes(con)
            names = {part: [s.name for s in staged if s.part == part] for part in new_parts}
            written, part_rows, history = publish.write_parts(con, writer, loader, release, names, published, start)
            new_rows = [
                _catalog_row(source, release, part, start, sample, digests, staged, written[part], part_rows[part])
                for part in new_parts
            ]
            writer.publish(everything + new_rows)
        except BaseException as exc:
            # the writer removes the data files it created (leaving the unpublished load no trace);
            # ``written`` is not the list to delete: a cumulative part lists its base release's files
            failure = storage.os_failure(exc, warehouse.scratch)
            if failure is not None:
                raise failure from None
            raise
        finally:
            con.close()
        for part_result in result.parts:
            if part_result.status == "loaded":
                part_result.rows = part_rows[part_result.part]
        # still under the lock, so PATH/tmp is this load's to spill into
        try:
            with warehouse.connect(spill_memory=DIFF_MEMORY) as con:
                changes = catalog.changes(con, source, release, _known_changes(history))
        except BaseException as exc:  # published already: an interrupt here only cuts the report short
            if not isinstance(exc, KeyboardInterrupt) and not str(exc).strip().endswith("Query interrupted"):
                raise
            changes = {}
            result.interrupted = True
            result.notes.append("interrupted while comparing with the previous release; the release is "
                                "published (the view release_changes has the comparison)")
    for part_result in result.parts:
        if part_result.status == "loaded" and part_result.part in changes:
            part_result.previous_release_id, part_result.rows_added, part_result.rows_removed = changes[part_result.part]
            result.notes.extend(_shrunk(part_result))
    result.seconds = time.perf_counter() - started
    return result


def _refuse_empty(staged: list[StagedFile], paths: dict[str, Path], allow_empty: bool) -> None:
    """Refuse a file that staged no data row: a header alone (a cut download, an export that failed)
    would publish as a whole release with no rows, and every row of the release before it would
    end, silently (a code limited to 1 unit would pass with 5). ``allow_empty`` lets it through."""
    empty = [info for info in staged if info.rows == 0]
    if not empty or allow_empty:
        return
    names = "; ".join(f"{shown(paths.get(info.name, info.name))} (part {info.part})" for info in empty)
    raise SourceError(
        f"{names}: no data rows, only what comes before them (a header, a notice) or nothing at all; "
        "published, an empty part would end every row of the release before it. Is the file whole? "
        "Get it again, or pass --allow-empty if the file is meant to be empty; nothing was loaded"
    )


def drop(warehouse: Warehouse, source: str, release_id: str) -> int:
    """Remove every part of a release in a new generation; returns the rows it held.

    Readers that opened the old generation keep it, data files included, until they close.
    """
    loaders.get(source)
    if warehouse.current() is None:
        raise UsageError(f"no warehouse at {warehouse.path}: nothing to drop")
    with warehouse.writer() as writer:
        rows = writer.catalog()
        gone = [r for r in rows if r["source"] == source and r["release_id"] == release_id]
        if not gone:
            known = ", ".join(sorted({r["release_id"] for r in rows if r["source"] == source})) or "none"
            raise UsageError(f"no release {release_id!r} of {source} to drop; releases of {source}: {known}")
        try:
            writer.publish([r for r in rows if r not in gone])
        except Exception as exc:
            failure = storage.os_failure(exc)
            if failure is not None:
                raise failure from None
            raise
    return sum(r["row_count"] for r in gone)


def _plan(result: LoadResult, parts, digests, published: list[dict], sample: bool) -> list[str]:
    """Sort the parts into unchanged and new; refuse a changed part or a clashing date."""
    by_key = {(r["release_id"], r["part"]): r for r in published}
    by_content = {r["content_sha256"]: r for r in published}
    new = []
    for part, paths in sorted(parts.items()):
        content = catalog.content_sha256([digests[p] for p in paths])
        names = [p.name for p in paths]
        same_part = by_key.get((result.release_id, part))
        if same_part is not None:
            if same_part["content_sha256"] != content:
                raise SourceError(
                    f"part {part} of {result.source} release {result.release_id} is already published from other "
                    f"files ({', '.join(f['name'] for f in same_part['files'])}); a published part never changes: "
                    "load these files under a new --release ID, or `codesets drop` the release first"
                )
            result.parts.append(PartResult(part, "unchanged", same_part["row_count"], names, result.release_id))
            continue
        elsewhere = by_content.get(content)
        if elsewhere is not None:
            result.parts.append(PartResult(part, "unchanged", elsewhere["row_count"], names, elsewhere["release_id"]))
            continue
        clash = [
            r for r in published
            if r["part"] == part and r["effective_from"] == result.effective_from and r["is_sample"] == sample
        ]
        if clash:
            raise SourceError(
                f"release {clash[0]['release_id']} of {result.source} already serves {part} from "
                f"{result.effective_from.isoformat()}; two releases of a part cannot take effect the same day: "
                "give this one another --effective-from, or drop the other"
            )
        result.parts.append(PartResult(part, "loaded", 0, names, result.release_id))
        new.append(part)
    return new


def _effective_from(loader, release: str, given: date | None, published: list[dict]) -> date:
    """The release's first date of service: the parts of one release share it."""
    known = {r["effective_from"] for r in published if r["release_id"] == release}
    if known and given is not None and given not in known:
        raise SourceError(
            f"release {release} of {loader.source} takes effect {min(known).isoformat()}; its new parts cannot "
            f"start {given.isoformat()}: leave out --effective-from or load them as another release"
        )
    start = given or (min(known) if known else None) or loader.effective_from(release)
    if start is None:
        raise UsageError(
            f"cannot tell when release {release!r} of {loader.source} takes effect: pass --effective-from YYYY-MM-DD"
        )
    return start


def _shrunk(part) -> list[str]:
    """A loud note when a part keeps less than half the rows of the one it follows: a cut file loads
    as a whole release (nothing in it is wrong), and would end every row it lacks."""
    before = part.rows - part.rows_added + part.rows_removed
    if part.rows_removed is None or before <= 0 or part.rows * 2 >= before:
        return []
    return [f"WARNING: {part.part} of release {part.release_id} has {part.rows:,} rows where {part.previous_release_id} "
            f"had {before:,}; is every file whole? A cut file answers as the whole release: `codesets drop` it if so"]


def _known_changes(history: dict) -> dict[str, tuple[str, int, int]]:
    """Rows added and removed against the base release, from the matching a cumulative part did anyway."""
    return {
        part: (w.base_release_id, w.versions, max(w.base_rows - w.reused, 0))
        for part, w in history.items()
        if w.base_release_id is not None
    }


def _catalog_row(source, release, part, start, sample, digests, staged: list[StagedFile], files, rows: int) -> dict:
    by_name = {path.name: path for path in digests}
    records = [
        catalog.file_record(replace(info, sha256=digests[by_name[info.name]], bytes=by_name[info.name].stat().st_size))
        for info in staged
        if info.part == part
    ]
    return {
        "source": source,
        "release_id": release,
        "part": part,
        "effective_from": start,
        "is_sample": sample,
        "loaded_at": datetime.now(timezone.utc).replace(tzinfo=None),
        "loader_version": __version__,
        "row_count": rows,
        "content_sha256": catalog.content_sha256([r["sha256"] for r in records]),
        "files": records,
        "data_files": [{"table": f.table, "path": f.path, "rows": f.rows} for f in files],
    }


def _scratch(warehouse: Warehouse):
    """An in-memory DuckDB for staging, spilling to PATH/tmp, so a large file stays in bounds."""
    import duckdb

    con = duckdb.connect(config={
        "memory_limit": SCRATCH_MEMORY,
        "temp_directory": str(warehouse.scratch),
        "preserve_insertion_order": True,
    })
    con.execute("SET enable_progress_bar = false")
    return con


def _existing(files) -> list[Path]:
    paths = [Path(f) for f in files]
    if not paths:
        raise UsageError("no files given: name the files of the release to load")
    for path in paths:
        try:
            str(path).encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(f"{shown(path)}: the file name is not UTF-8; rename the file (rows are traced by name)") from None
        if not path.exists():
            raise UsageError(f"{shown(path)}: no such file")
        if not path.is_file():
            raise UsageError(f"{shown(path)}: not a file; name the files of the release, not a folder")
    seen: dict[str, Path] = {}
    for path in paths:
        if path.name in seen:
            raise UsageError(f"{shown(seen[path.name])} and {shown(path)} share a name; rows are traced by file name, so rename one")
        seen[path.name] = path
    return paths


def _claim(loader, path: Path) -> Claim:
    try:
        claim = loader.claim(path)
    except OSError as exc:
        raise SystemFailure(f"cannot read {shown(path)}: {exc.strerror}") from None
    if claim is None:
        raise SourceError(f"{shown(path)}: not a file of source {loader.source} ({loader.description}); "
                          "`codesets refresh DIR` finds each file's source by its content")
    return claim


def _sha256(path: Path) -> str:
    try:
        return catalog.file_sha256(path)
    except OSError as exc:
        raise SystemFailure(f"cannot read {shown(path)}: {exc.strerror}") from None


def _release_of(paths: list[Path], claims: dict[Path, Claim]) -> str:
    ids = {claims[p].release_id for p in paths}
    if len(ids) == 1 and None not in ids:
        return ids.pop()
    names = ", ".join(shown(p.name) for p in paths)
    raise UsageError(f"cannot tell the release of {names} from the file names: pass --release ID")


def _rejected(con, warehouse: Warehouse, source: str, release: str, count: int) -> LoadRejected:
    warehouse.rejects_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = warehouse.rejects_dir / f"{source}-{release}-{stamp}.csv"
    con.execute(
        f"COPY (SELECT {_sql_escaped('file')} AS file, line, \"column\", {_sql_escaped('value')} AS value, rule FROM check_results "
        f"WHERE NOT note ORDER BY file, line, \"column\", rule) TO '{_path(path)}' (HEADER, DELIMITER ',')"
    )
    shown = checks.report_rows(con, SHOWN_REJECTS)
    rows = [dict(zip(checks.REPORT_COLUMNS, r)) for r in shown]
    lines = [f"{count:,} row(s) failed the {source} checks; nothing was loaded."]
    lines.append(format_rejects(rows))
    if count > SHOWN_REJECTS:
        lines.append(f"... and {count - SHOWN_REJECTS:,} more.")
    lines.append(f"Every failing row is in {path}. Fix the file (or report it upstream) and load again.")
    return LoadRejected("\n".join(lines), rows, str(path))


def _ending_notes(staged: list[StagedFile]) -> list[str]:
    return [f"{s.name}: mixed CRLF and LF line endings (read as lines either way)" for s in staged if s.line_ending == "mixed"]


def _summarise(notes: list[tuple[str, str, int, int]]) -> list[str]:
    """One line per file and quirk: how many rows, and the first line."""
    return [f"{file}: {count} row(s) with a {rule}, first at line {first}" for file, rule, count, first in notes]


def format_rejects(rows: list[dict]) -> str:
    """A readable table of rejects: file, line, column, value, rule (values escaped and cut)."""
    cells = [[str(r[c]) if r[c] is not None else "" for c in checks.REPORT_COLUMNS] for r in rows]  # aligned() escapes
    return aligned(checks.REPORT_COLUMNS, cells)


def _sql_escaped(column: str) -> str:
    """SQL that shows control characters of ``column`` as \\xNN, as text.escape does in Python."""
    expression = f"replace({column}, '\\', '\\\\')"
    for code in [*range(0x00, 0x20), *range(0x7F, 0xA0)]:
        expression = f"replace({expression}, chr({code}), '\\x{code:02X}')"
    return expression


def _path(path: Path) -> str:
    return str(path).replace("'", "''")
