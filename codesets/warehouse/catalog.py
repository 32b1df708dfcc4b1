"""The release catalog: which parts of which releases are published, from which bytes.

The catalog stores facts fixed at load time (files, digests, rows, the declared effective
date). Everything that depends on other releases (effective windows, lineage, rows added
and removed) is derived by the views ``release_parts`` and ``releases``, so loading an
older release after a newer one gives the same answers as loading them in order.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from codesets.loaders.contract import StagedFile
from codesets.core import sqlfiles

COLUMNS = (
    "source", "release_id", "part", "effective_from", "is_sample", "loaded_at", "loader_version",
    "row_count", "content_sha256", "files", "data_files",
)


@dataclass
class PartResult:
    part: str
    status: str  # 'loaded' or 'unchanged'
    rows: int
    files: list[str]
    release_id: str  # where the bytes are published (another release for already-loaded bytes)
    previous_release_id: str | None = None
    rows_added: int | None = None
    rows_removed: int | None = None


@dataclass
class LoadResult:
    source: str
    release_id: str
    effective_from: date | None
    parts: list[PartResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False  # Ctrl-C came after the publish: the release is whole, the report cut short

    @property
    def status(self) -> str:
        return "loaded" if any(p.status == "loaded" for p in self.parts) else "unchanged"

    @property
    def row_count(self) -> int:
        return sum(p.rows for p in self.parts if p.status == "loaded")

    def summary(self) -> str:
        """One line per part: what was loaded, or why nothing was."""
        lines = []
        for p in self.parts:
            head = f"{self.source} {self.release_id} {p.part}"
            if p.status == "unchanged":
                where = "" if p.release_id == self.release_id else f" as release {p.release_id}"
                lines.append(f"{head}: unchanged ({', '.join(p.files)} already loaded{where}); nothing to do")
                continue
            text = f"{head}: loaded {p.rows:,} rows from {len(p.files)} file(s), effective {self.effective_from.isoformat()}"
            if p.previous_release_id is not None:
                text += f"; against {p.previous_release_id}: +{p.rows_added:,} / -{p.rows_removed:,} rows"
            lines.append(text)
        return "\n".join(lines)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_sha256(file_digests: list[str]) -> str:
    """Identity of a part's content: independent of file names and argument order."""
    return hashlib.sha256("\n".join(sorted(file_digests)).encode()).hexdigest()


def file_record(info: StagedFile) -> dict:
    return {
        "name": info.name, "sha256": info.sha256, "bytes": info.bytes, "rows": info.rows,
        "kind": info.kind, "line_ending": info.line_ending,
    }


def insert(con, rows: list[dict]) -> None:
    """Insert catalog rows (dicts with COLUMNS) into ``release_catalog``."""
    if not rows:
        return
    placeholders = ", ".join("?" for _ in COLUMNS)
    con.executemany(
        f"INSERT INTO release_catalog ({', '.join(COLUMNS)}) VALUES ({placeholders})",
        [[row[c] for c in COLUMNS] for row in rows],
    )


def insert_declarations(con, loaders: dict) -> None:
    """Write what each loader declares (source -> loader) into source_declarations,
    source_code_systems, source_periods and source_renderings (sql/schema.sql), for the views to read."""
    from codesets.core.codes import PATTERNS

    declared, systems, periods, renderings = [], [], [], []
    for source, loader in sorted(loaders.items()):
        d = loader.declares
        declared.append([source, d.whole_release, d.diff.view if d.diff else None, list(loader.tables)])
        for system in d.code_systems:
            pattern = system.pattern if system.pattern is not None else getattr(PATTERNS.get(system.name), "pattern", None)
            systems.append([source, system.name, system.validity, pattern])
        for rule_no, period in enumerate(d.periods, 1):
            periods.append([source, rule_no, period.kind, f"^(?:{period.release_ids})$"])
        renderings += [[source, part, rank] for rank, part in enumerate(d.renderings, 1)]
    for table, rows in (("source_declarations", declared), ("source_code_systems", systems),
                        ("source_periods", periods), ("source_renderings", renderings)):
        if rows:
            con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' for _ in rows[0])})", rows)


# The parts of one release that follow an earlier release of the same part, and that release:
# the pairs of the view release_changes (a part is compared with the same part only).
_PAIRS_SQL = """
SELECT part, previous_release_id FROM (
    SELECT source, release_id, part,
        LAG(release_id) OVER (PARTITION BY source, part ORDER BY effective_from) AS previous_release_id
    FROM release_parts
    WHERE serves AND source = ?
) AS p
WHERE release_id = ? AND previous_release_id IS NOT NULL
"""


def changes(con, source: str, release_id: str, known=None) -> dict[str, tuple[str | None, int | None, int | None]]:
    """Per part of a release: the latest earlier release of the same part, and the rows added and removed.

    The same comparison as the view release_changes, for one release: only the rows of the
    two releases of each part are read, so its cost does not grow with the history.
    ``known`` holds (compared release, added, removed) a load already counted for a part;
    it is used when the compared release is the one the part follows.
    """
    found = {}
    known = known or {}
    for part, previous in con.execute(_PAIRS_SQL, [source, release_id]).fetchall():
        if part in known and known[part][0] == previous:
            found[part] = known[part]
            continue
        added, removed = con.execute(sqlfiles.query("part_changes"), [source, part, release_id, previous]).fetchone()
        found[part] = (previous, added, removed)
    return found
