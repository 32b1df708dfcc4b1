"""Point lookups: one code's GEM entry as typed answers, in microseconds once warm.

``translate`` is built for batches: one statement that plans ranges, prefixes and four
methods, which costs tens of milliseconds whatever the batch size. A claim scrubber asking
about one code at a time needs less. A ``GemLookup`` reads the rows of one direction and
release once, on first use (one query, about 0.1 s and a few tens of MB for the largest GEM),
keeps them by source code, and assembles an entry's alternatives and combinations here. The
answers are the same as ``translate(..., method="forward")`` gives (a test holds the two
together). An ART index on maps(source_code) was measured instead: 1.2 to 2.5 ms a lookup,
and it slowed every load, so the warehouse carries no index.

A ``GemLookup`` is bound to one read-only connection, which sees one generation for its
whole life, so what it reads once stays true.
"""

from __future__ import annotations

import datetime as _dt
import itertools
from collections import defaultdict
from typing import NamedTuple

from codesets.core import codes
from codesets.core.errors import QueryError
from codesets.core import sqlfiles


class Answer(NamedTuple):
    source_code: str
    kind: str  # 'single', 'combination', 'no map' or 'not in GEM'
    target_codes: tuple[str, ...]
    approximate: bool | None
    scenario: int
    alternative: int | None
    choice_lists: int | None
    release_id: str | None


class GemLookup:
    """``GemLookup(con)("599.72", "icd9cm", "icd10cm")`` -> list of Answer."""

    def __init__(self, con):
        self.con = con
        self._windows = defaultdict(list)  # (from, to) -> [(release, start, end, is_current)]
        for src, tgt, release, start, end, current in con.execute(sqlfiles.query("gem_windows")).fetchall():
            self._windows[(src, tgt)].append((release, start, end, current))
        self._entries: dict[tuple[str, str, str], dict[str, list]] = {}

    def release_for(self, from_system: str, to_system: str, release: str | None = None,
                    as_of: _dt.date | None = None) -> str:
        windows = self._windows.get((from_system, to_system))
        if not windows:
            raise QueryError(
                f"the warehouse has no {from_system}>{to_system} GEM; load one with "
                "`codesets load gems FILE...` or `codesets refresh DIR`"
            )
        for name, start, end, current in windows:
            if release is not None:
                if name == release:
                    return name
            elif as_of is not None:
                if start is not None and start <= as_of and (end is None or as_of <= end):
                    return name
            elif current:
                return name
        wanted = f"release {release!r}" if release is not None else f"a release covering {as_of}"
        raise QueryError(f"no {from_system}>{to_system} GEM in {wanted}; `codesets releases` lists them")

    def __call__(self, code: str, from_system: str, to_system: str, release: str | None = None,
                 as_of: _dt.date | None = None) -> list[Answer]:
        chosen = self.release_for(from_system, to_system, release, as_of)
        source_code = codes.normalize(code)
        rows = self._entries_of(chosen, from_system, to_system).get(source_code)
        if not rows:
            return [Answer(source_code, "not in GEM", (), None, 0, None, None, chosen)]
        return _answers(source_code, rows, chosen)

    def _entries_of(self, release: str, from_system: str, to_system: str) -> dict[str, list]:
        key = (release, from_system, to_system)
        entries = self._entries.get(key)
        if entries is None:
            entries = self._entries[key] = defaultdict(list)
            for row in self.con.execute(sqlfiles.query("gem_direction_rows"), list(key)).fetchall():
                entries[row[0]].append(row[1:])  # in file order: the query sorts by line
        return entries


def _answers(source_code: str, rows, release: str) -> list[Answer]:
    """Single rows in file order, then each scenario's complete alternatives, as the views build them."""
    found, singles = [], 0
    scenarios = defaultdict(lambda: defaultdict(list))  # scenario -> choice list -> [(target, approx)]
    for target, approximate, no_map, scenario, choice_list in rows:
        if no_map:
            found.append(Answer(source_code, "no map", (), approximate, 0, 1, None, release))
        elif scenario > 0 and choice_list > 0:
            scenarios[scenario][choice_list].append((target, approximate))
        else:
            singles += 1
            found.append(Answer(source_code, "single", (target,), approximate, 0, singles, None, release))
    for scenario in sorted(scenarios):
        lists = [scenarios[scenario][number] for number in sorted(scenarios[scenario])]
        for alternative, combo in enumerate(itertools.product(*lists), start=1):
            found.append(
                Answer(source_code, "combination", tuple(t for t, _a in combo), any(a for _t, a in combo),
                       scenario, alternative, len(lists), release)
            )
    return found
