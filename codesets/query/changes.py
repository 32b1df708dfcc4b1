"""What changed between two releases of a source: `codesets diff SOURCE A B` and the change views.

Each source that can be compared declares it (``declares.diff``, a
``codesets.loaders.contract.Comparison``) and has one change view in ``sql/views`` (``gem_changes``,
``ptp_changes``, ``mue_changes``) comparing every release with the release it follows. Its
first CTE, ``pairs``, names the (part, release_id, previous_release_id) to compare. A diff of
any two releases runs the same view text with that CTE replaced by ``queries/diff_pairs.sql``,
the parts both releases have, so the command and the view cannot disagree on a rule.

A is the release compared from ("old"), B the one compared to ("new"), as given: ``added``
means in B and not in A whichever takes effect first (a note says so when A is the later one).
A part only one of them has (the FY2017 GEMs are diagnosis only) is not compared, and said so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from codesets.core.errors import SourceUnknown, UsageError
from codesets.core.text import escape
from codesets.core import sqlfiles
from codesets.loaders.contract import Comparison

if TYPE_CHECKING:
    import pyarrow as pa


def comparisons() -> dict[str, Comparison]:
    """source -> how its releases are compared, for every loader that declares a diff."""
    from codesets import loaders

    return {source: d.diff for source, d in loaders.declarations().items() if d.diff is not None}


@dataclass
class Diff:
    """The changes from release ``old`` to release ``new`` of ``source``, sorted, and what was compared."""

    source: str
    old: str
    new: str
    table: pa.Table  # a ``change`` column, then the view's columns but release_id and previous_release_id
    parts: list[str]  # the parts compared
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        """Rows per change type and part; every change type of the source is a key, {} when it has no rows."""
        comparison = comparison_of(self.source)
        found: dict[str, dict[str, int]] = {change: {} for change in comparison.changes}
        grouped = self.table.group_by(["change", *comparison.part_columns]).aggregate([([], "count_all")])
        for row in grouped.to_pylist():
            part = "-".join(row[name] for name in comparison.part_columns)
            found.setdefault(row["change"], {})[part] = row["count_all"]
        return found

    def summary(self) -> list[str]:
        """One line per change type, e.g. ``added: 796 GEM rows (icd10cm-icd9cm 486, icd9cm-icd10cm 310)``."""
        unit = comparison_of(self.source).unit
        lines = []
        for change, per_part in self.counts().items():
            total = sum(per_part.values())
            line = f"{self.source} {self.old} -> {self.new} {change}: {total:,} {unit}"
            if len(self.parts) > 1:
                line += " (" + ", ".join(f"{part} {per_part.get(part, 0):,}" for part in self.parts) + ")"
            lines.append(line)
        return lines


def compare(con, source: str, old: str, new: str) -> Diff:
    """What changed from release ``old`` to release ``new`` of ``source``, on an open connection.

    Raises SourceUnknown for a source that cannot be compared and UsageError for a release the
    warehouse does not hold or two releases with no part in common, each naming what there is.
    """
    comparison = comparison_of(source)
    releases = {
        release_id: (effective_from, parts)
        for release_id, effective_from, parts in con.execute(sqlfiles.query("diff_releases"), [source]).fetchall()
    }
    for release_id in (old, new):
        if release_id not in releases:
            known = ", ".join(releases) or "none yet (load one with `codesets load` or `codesets refresh`)"
            raise UsageError(f"no release {escape(release_id, 64)!r} of {source}; its releases: {known}")
    (old_from, old_parts), (new_from, new_parts) = releases[old], releases[new]
    parts = sorted(set(old_parts) & set(new_parts))
    if not parts:
        raise UsageError(
            f"releases {old} ({', '.join(old_parts)}) and {new} ({', '.join(new_parts)}) of {source} have no part "
            "in common; nothing to compare"
        )
    notes = []
    for release_id, mine, theirs in ((old, old_parts, new_parts), (new, new_parts, old_parts)):
        alone = [part for part in mine if part not in theirs]
        if alone:
            notes.append(f"{', '.join(alone)}: only in {release_id}; not compared")
    if old_from is not None and new_from is not None and old_from > new_from:
        notes.append(
            f"{old} takes effect after {new} ({old_from} > {new_from}): the changes read from {old} to {new}; "
            "give the older release first to see what the newer one changed"
        )
    sql = (
        f"SELECT * EXCLUDE (release_id, previous_release_id) FROM ({view_sql(comparison.view, comparison.sql)}) "
        f"ORDER BY {', '.join(comparison.order)}"
    )
    table = con.sql(sql, params=[source, old, new]).to_arrow_table()  # execute() would copy the rows once more
    return Diff(source=source, old=old, new=new, table=table, parts=parts, notes=notes)


def diff(warehouse, source: str, old: str, new: str) -> Diff:
    """``compare`` on a read-only connection to ``warehouse`` (a Warehouse)."""
    comparison_of(source)  # an unknown source is said before the warehouse is looked at
    with warehouse.connect() as con:
        return compare(con, source, old, new)


def comparison_of(source: str) -> Comparison:
    known = comparisons()
    comparison = known.get(source)
    if comparison is None:
        raise SourceUnknown(
            f"no diff for source {escape(source, 64)!r}; diff compares {', '.join(sorted(known))}"
        )
    return comparison


def view_sql(view: str, text: str | None = None) -> str:
    """The change view's text (``text``, else sql/views/VIEW.sql) with its CTE ``pairs`` replaced by
    the parameterised pairs of a diff."""
    if text is None:
        text = next(v.sql for v in sqlfiles.views() if v.name == view)
    start = text.index(_PAIRS_START)
    end = text.index(_PAIRS_END, start)  # the CTE's closing line
    pairs = "\n".join(line for line in sqlfiles.query("diff_pairs").splitlines() if not line.startswith("--"))
    return text[:start] + "WITH pairs AS (\n" + pairs.strip() + text[end:]


_PAIRS_START = "WITH pairs AS ("
_PAIRS_END = "\n),\n"
