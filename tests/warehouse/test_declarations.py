"""Declarations instead of registries: a source declares its code systems, release periods, diff
and shared tables; publish writes them to the catalog, and the views and the query layer read them.

The proof is a toy source that lives in a temporary folder (made discoverable through
``codesets.loaders.register_path``, as ``CODESETS_LOADER_PATH`` would): with no edit to any file
of the package it shows up in releases, in release_parts windows (its own period rule), in
validity (its own code system) and in diffs (release_changes and ``codesets diff``).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from codesets import loaders
from codesets.core.errors import QueryError
from codesets.loaders import contract
from codesets.warehouse.load import load

TOY_LOADER = r'''
"""A toy source: ``TOY`` on the first line, then ``code,description`` lines (toy-YYYY.csv)."""

from datetime import date

from codesets.loaders.contract import Claim, CodeSystem, Comparison, Declaration, Period, StagedFile

CHANGES = """-- toy_changes: codes added and removed between two toy releases.
WITH pairs AS (
    SELECT part, release_id, previous_release_id FROM release_parts
    WHERE source = 'toy' AND previous_release_id IS NOT NULL
),
rows AS (
    SELECT part, release_id, code_system, code FROM code_rows WHERE source = 'toy'
)
SELECT 'added' AS change, p.release_id, p.previous_release_id, n.code_system, n.code
FROM pairs AS p INNER JOIN rows AS n ON n.part = p.part AND n.release_id = p.release_id
WHERE NOT EXISTS (SELECT 1 FROM rows AS o
                  WHERE o.part = p.part AND o.release_id = p.previous_release_id AND o.code = n.code)
UNION ALL
SELECT 'removed', p.release_id, p.previous_release_id, o.code_system, o.code
FROM pairs AS p INNER JOIN rows AS o ON o.part = p.part AND o.release_id = p.previous_release_id
WHERE NOT EXISTS (SELECT 1 FROM rows AS n
                  WHERE n.part = p.part AND n.release_id = p.release_id AND n.code = o.code)
"""


class ToyLoader:
    source = "toy"
    description = "a toy code list"
    tables = ("code_rows",)
    declares = Declaration(
        code_systems=(CodeSystem("toycode", validity=True, pattern="T[0-9]{3}"),),
        whole_release=True,
        periods=(Period("calendar_year", r"20[0-9]{2}"),),
        diff=Comparison(view="toy_changes", part_columns=("code_system",), changes=("added", "removed"),
                        order=("code_system", "code", "change"), unit="toy codes", sql=CHANGES),
    )

    def claim(self, path):
        with open(path) as handle:
            if handle.readline().strip() != "TOY":
                return None
        return Claim(part="list", release_id=path.stem.split("-")[-1])

    def effective_from(self, release_id):
        return date(int(release_id[:4]), 1, 1)

    def model(self):
        import pandera.pandas as pa

        class ToyRow(pa.DataFrameModel):
            class Config:
                strict = False

        return ToyRow

    def stage(self, con, parts):
        staged, selects = [], []
        for part, paths in parts.items():
            for path in paths:
                selects.append(
                    f"SELECT '{part}' AS part, '{path.name}' AS source_file, CAST(line_no AS INTEGER) AS line_no, "
                    "split_part(line, ',', 1) AS code, split_part(line, ',', 2) AS description "
                    f"FROM (SELECT column0 AS line, row_number() OVER () + 1 AS line_no FROM read_csv('{path}', "
                    "header = false, skip = 1, delim = '\t', columns = {'column0': 'VARCHAR'}))"
                )
                rows = sum(1 for _ in open(path)) - 1
                staged.append(StagedFile(path.name, part, rows, "toy", "LF"))
        con.execute("CREATE OR REPLACE TEMP TABLE staged AS " + " UNION ALL ".join(selects))
        return staged

    def fill(self, table):
        return ("SELECT part, 'toycode' AS code_system, code, description, true AS billable, "
                "source_file, line_no FROM staged")

    def notes(self, con):
        return []

    def sample(self):
        return None


LOADER = ToyLoader()
'''


@pytest.fixture
def toy(tmp_path):
    folder = tmp_path / "more_loaders"
    folder.mkdir()
    (folder / "toy.py").write_text(TOY_LOADER)
    loaders.register_path(folder)
    try:
        yield loaders.get("toy")
    finally:
        loaders.unregister_path(folder)


def toy_file(folder: Path, year: str, codes: list[str]) -> Path:
    path = folder / f"toy-{year}.csv"
    path.write_text("TOY\n" + "".join(f"{code},toy code {code}\n" for code in codes))
    return path


def test_a_source_from_a_folder_is_seen_everywhere(warehouse, tmp_path, toy):
    from codesets.query.changes import compare, comparisons
    from codesets.query.validity import CodeLookup, validity

    assert contract.check(toy) == []
    first = load(warehouse, "toy", [toy_file(tmp_path, "2023", ["T001", "T002"])], None)
    second = load(warehouse, "toy", [toy_file(tmp_path, "2024", ["T001", "T003", "T004"])], None)
    assert first.status == second.status == "loaded"
    assert "against 2023: +2 / -1 rows" in second.summary()
    with warehouse.connect() as con:
        assert con.execute("SELECT release_id, parts, effective_from FROM releases WHERE source = 'toy' "
                           "ORDER BY 1").fetchall() == [("2023", "list", date(2023, 1, 1)),
                                                        ("2024", "list", date(2024, 1, 1))]
        # windows: the next year takes over, and a calendar year ends on its own on December 31
        assert con.execute("SELECT release_id, effective_from, effective_to, previous_release_id FROM release_parts "
                           "WHERE source = 'toy' ORDER BY 2").fetchall() == [
            ("2023", date(2023, 1, 1), date(2023, 12, 31), None),
            ("2024", date(2024, 1, 1), date(2024, 12, 31), "2023"),
        ]
        assert con.execute("SELECT release_id, previous_release_id, rows_added, rows_removed FROM release_changes "
                           "WHERE source = 'toy'").fetchall() == [("2024", "2023", 2, 1)]
        assert con.execute("SELECT code_system, validity, pattern FROM source_code_systems WHERE source = 'toy'"
                           ).fetchall() == [("toycode", True, "T[0-9]{3}")]
        answers = validity(con, ["T002", "t3", "T003", "T003"], "toycode", date(2024, 6, 1)).to_pylist()
        assert [a["status"] for a in answers[:2]] == ["terminated", "unknown"]
        assert answers[2]["status"] == "billable" and answers[2]["release_id"] == "2024"
        assert validity(con, ["T001"], "toycode", date(2025, 1, 2)).to_pylist()[0]["status"] == "no release in force"
        lookup = CodeLookup(con)
        assert lookup("T003", "toycode", date(2024, 6, 1)).status == "billable"
        assert lookup("T9", "toycode", date(2024, 6, 1)).status == "unknown"
        assert "toy" in comparisons()
        diff = compare(con, "toy", "2023", "2024")
        assert diff.counts() == {"added": {"toycode": 2}, "removed": {"toycode": 1}}
        assert diff.summary() == ["toy 2023 -> 2024 added: 2 toy codes", "toy 2023 -> 2024 removed: 1 toy codes"]


def test_the_catalog_holds_what_the_loaders_declare(warehouse):
    load(warehouse, "gems", [Path(__file__).parents[1] / "data" / "gems" / "good_i9gem_lf.txt"], "r1",
         date(2020, 10, 1))
    with warehouse.connect() as con:
        declared = dict(con.execute("SELECT source, whole_release FROM source_declarations").fetchall())
        periods = con.execute("SELECT source, kind, release_ids FROM source_periods ORDER BY source, rule_no").fetchall()
        systems = dict(con.execute("SELECT code_system, source FROM source_code_systems WHERE validity").fetchall())
    assert {s for s, whole in declared.items() if whole} == {"icd10cm", "icd10pcs", "hcpcs", "icd9cm", "cpt"}
    assert [(s, k) for s, k, _ in periods] == [
        ("cpt", "calendar_year"), ("hcpcs", "calendar_year"), ("hcpcs", "quarter"),
        ("icd10cm", "fiscal_year"), ("icd10pcs", "fiscal_year"),
    ]
    assert all(r.startswith("^(?:") and r.endswith(")$") for _, _, r in periods)
    assert systems == {"icd10cm": "icd10cm", "icd10pcs": "icd10pcs", "hcpcs": "hcpcs", "hcpcs_modifier": "hcpcs",
                       "cpt": "cpt", "icd9cm": "icd9cm", "icd9pcs": "icd9cm"}


def test_a_bad_declaration_is_named_at_discovery():
    bad = contract.Declaration(
        code_systems=(contract.CodeSystem("nocode", validity=True),),
        periods=(contract.Period("fortnight", "x"), contract.Period("quarter", "(")),
    )
    problems = contract.check_declaration(bad)
    assert len(problems) == 3 and "has no pattern" in problems[0] and "fortnight" in problems[1]
    assert contract.check_declaration("not one") == ["declares 'not one' is not a codesets.loaders.contract.Declaration"]


def test_two_sources_answering_for_one_system_are_refused(monkeypatch):
    from codesets.core.errors import CodesetsError
    from codesets.loaders.icd10cm import LOADER as ICD10CM

    class Twin(type(ICD10CM)):
        source = "icd10cm_twin"

    monkeypatch.setattr(loaders, "available", lambda: {"icd10cm": ICD10CM, "icd10cm_twin": Twin()})
    with pytest.raises(CodesetsError, match="both answer validity for code system 'icd10cm'"):
        loaders.validity_systems()


def test_release_row_keys_covers_every_shape():
    """release_row_keys lists shapes, not sources: a new source filling a shared table needs no edit
    there. Each shape hashes content columns of its own (never provenance); a new shape must be added."""
    from codesets.core import sqlfiles
    from codesets.warehouse.storage import shape_columns

    text = next(v.sql for v in sqlfiles.views() if v.name == "release_row_keys")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    provenance = {"source", "part", "release_id", "source_file", "line_no"}
    tables = set()
    for select in text.split("UNION ALL"):
        table = re.search(r"FROM (\w+)", select).group(1)
        table = {"edits_published": "edits"}.get(table, table)
        tables.add(table)
        hashed = {c.strip() for c in re.search(r"hash\(([^)]*)\)", select).group(1).split(",")}
        assert hashed <= {n for n, _ in shape_columns()[table]} - provenance, table
    assert tables == set(contract.SHARED_TABLES)


def test_an_unknown_system_names_the_declared_ones():
    from codesets.query.validity import check_system

    with pytest.raises(QueryError, match="unknown code system 'toycode'; use one of cpt, hcpcs"):
        check_system("toycode")
