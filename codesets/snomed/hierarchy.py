"""The SNOMED CT is-a hierarchy in memory, for the map evaluator (codesets.snomed.evaluate).

``Hierarchy.read(con)`` reads the view snomed_hierarchy (every active is-a link in force) once;
``ancestors`` and ``nearest`` then answer from memory. Both walk up breadth first with a visited
set, so a cycle in a broken hierarchy ends the walk; ``nearest`` looks at most MAX_STEPS up. The SQL batch
(sql/queries/snomed_batch.sql) walks the same links with recursive CTEs and gives the same
answers (tests/snomed/test_hierarchy.py holds them to each other).
"""

from __future__ import annotations

from typing import Container, Mapping, Sequence

MAX_STEPS = 64  # SNOMED CT is about 30 is-a steps deep; sql/queries/snomed_batch.sql stops at the same depth
_PARENTS_SQL = "SELECT concept_id, list(parent_id ORDER BY parent_id) FROM snomed_hierarchy GROUP BY concept_id"


def sctid_order(concept: str) -> tuple[int, str]:
    """SCTIDs in numeric order (they are digits without leading zeros)."""
    return len(concept), concept


class Hierarchy:
    """Parents of each concept; empty when no relationship file is loaded."""

    def __init__(self, parents: Mapping[str, Sequence[str]]):
        self._parents = {child: tuple(ps) for child, ps in parents.items()}
        self._ancestors: dict[str, frozenset[str]] = {}

    @classmethod
    def read(cls, con) -> "Hierarchy":
        return cls(dict(con.execute(_PARENTS_SQL).fetchall()))

    def __bool__(self) -> bool:
        return bool(self._parents)

    def __len__(self) -> int:
        return len(self._parents)

    def parents(self, concept: str) -> tuple[str, ...]:
        return self._parents.get(concept, ())

    def ancestors(self, concept: str) -> frozenset[str]:
        """Every concept above ``concept`` (not itself)."""
        found = self._ancestors.get(concept)
        if found is None:
            seen: set[str] = set()
            frontier = list(self.parents(concept))
            while frontier:
                step = []
                for parent in frontier:
                    if parent not in seen:
                        seen.add(parent)
                        step.extend(self.parents(parent))
                frontier = step
            seen.discard(concept)  # a cycle through the concept itself
            found = self._ancestors[concept] = frozenset(seen)
        return found

    def present(self, concepts) -> frozenset[str]:
        """``concepts`` and all their ancestors: what an IFA clause finds on a problem list."""
        found = set(concepts)
        for concept in list(found):
            found |= self.ancestors(concept)
        return frozenset(found)

    def nearest(self, concept: str, mapped: Container[str]) -> list[str]:
        """The ancestors in ``mapped`` at the least number of is-a steps above ``concept`` (at most
        MAX_STEPS, as the SQL batch), in SCTID order."""
        seen = {concept}
        level = [p for p in self.parents(concept)]
        for _step in range(MAX_STEPS):
            if not level:
                break
            level = sorted(set(level) - seen, key=sctid_order)
            hits = [c for c in level if c in mapped]
            if hits:
                return hits
            seen.update(level)
            level = [p for c in level for p in self.parents(c)]
        return []
