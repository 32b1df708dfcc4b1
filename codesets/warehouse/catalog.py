"""The release catalog: what was loaded, from which bytes, and how it differs from before."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class FileInfo:
    name: str
    sha256: str
    bytes: int
    rows: int
    kind: str  # what the loader found inside, e.g. 'icd9cm>icd10cm'
    line_ending: str  # 'LF', 'CRLF', 'mixed' or 'none'


@dataclass
class LoadResult:
    source: str
    release_id: str
    status: str  # 'loaded' or 'unchanged'
    effective_from: date
    row_count: int
    files: list[FileInfo]
    previous_release_id: str | None = None
    rows_added: int | None = None
    rows_removed: int | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        if self.status == "unchanged":
            return (
                f"{self.source} {self.release_id}: unchanged (these files are already loaded "
                f"as release {self.release_id}); nothing to do"
            )
        text = f"{self.source} {self.release_id}: loaded {self.row_count:,} rows from {len(self.files)} file(s)"
        text += f", effective {self.effective_from.isoformat()}"
        if self.previous_release_id is not None:
            text += (
                f"; against {self.previous_release_id}: "
                f"+{self.rows_added:,} / -{self.rows_removed:,} rows"
            )
        return text


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_sha256(file_digests: list[str]) -> str:
    """Identity of a release's content: independent of file names and argument order."""
    return hashlib.sha256("\n".join(sorted(file_digests)).encode()).hexdigest()


def find(con, source: str, *, release_id: str | None = None, content: str | None = None):
    """The catalog row of a release by id or by content, as a dict, or None."""
    column, value = ("release_id", release_id) if release_id is not None else ("content_sha256", content)
    cursor = con.execute(
        f"SELECT release_id, content_sha256, effective_from, row_count, files FROM release_catalog "
        f"WHERE source = ? AND {column} = ?",
        [source, value],
    )
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip(("release_id", "content_sha256", "effective_from", "row_count", "files"), row))


def previous(con, source: str, effective_from: date) -> str | None:
    """The release of ``source`` that a release starting on ``effective_from`` follows."""
    row = con.execute(
        "SELECT release_id FROM release_catalog WHERE source = ? AND effective_from < ? "
        "ORDER BY effective_from DESC, loaded_at DESC LIMIT 1",
        [source, effective_from],
    ).fetchone()
    return row[0] if row else None


def changes(con, table: str, key: tuple[str, ...], source: str, new: str, old: str) -> tuple[int, int]:
    """Rows added and removed between two releases, compared on ``key`` (multiset)."""
    cols = ", ".join(f'"{c}"' for c in key)

    def side(a: str, b: str) -> int:
        return con.execute(
            f"SELECT COUNT(*) FROM (SELECT {cols} FROM {table} WHERE source = ? AND release_id = ? "
            f"EXCEPT ALL SELECT {cols} FROM {table} WHERE source = ? AND release_id = ?)",
            [source, a, source, b],
        ).fetchone()[0]

    return side(new, old), side(old, new)


def record(con, result: LoadResult, content: str, loader_version: str) -> None:
    con.execute(
        "INSERT INTO release_catalog VALUES (?, ?, ?, now() AT TIME ZONE 'UTC', ?, ?, ?, ?, ?, ?, ?)",
        [
            result.source,
            result.release_id,
            result.effective_from,
            result.row_count,
            content,
            loader_version,
            result.previous_release_id,
            result.rows_added,
            result.rows_removed,
            [f.__dict__ for f in result.files],
        ],
    )
