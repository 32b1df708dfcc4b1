"""A stand-in code-set loader for view and validity tests: rows written by hand, as CSV.

It reads ``code_system,code,description,billable,added,terminated`` files and fills the
code_rows shape as the real loaders do, so the rules of code_releases, code_history, codes
and code_validity.sql are tested on rows chosen to prove them, whatever the real files hold.
It poses as one of the code-set sources (``source``) so that the views serve it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from codesets.loaders.contract import Claim, Declaration, StagedFile


def _declares_as(source: str) -> Declaration:
    """The declaration of the real loader the fake poses as (its code systems, periods, diff)."""
    from codesets import loaders

    real = loaders.available().get(source)
    return real.declares if real is not None else Declaration()


@dataclass
class FakeCodeLoader:
    source: str = "icd10cm"
    description: str = "hand-made code rows for tests"
    tables: tuple = ("code_rows",)
    declares: Declaration = field(default=None)

    def __post_init__(self):
        if self.declares is None:
            self.declares = _declares_as(self.source)

    def claim(self, path: Path) -> Claim:
        return Claim(part=path.stem.split("-")[0], release_id=None)

    def effective_from(self, release_id: str):
        return None

    def model(self):
        import pandera.pandas as pa

        class Any(pa.DataFrameModel):
            class Config:
                strict = False

        return Any

    def stage(self, con, parts):
        staged, selects = [], []
        for part, paths in parts.items():
            for path in paths:
                selects.append(
                    f"SELECT '{part}' AS part, '{path.name}' AS source_file, "
                    f"CAST(row_number() OVER () + 1 AS INTEGER) AS line_no, * "
                    f"FROM read_csv('{path}', header = true, all_varchar = true)"
                )
                rows = sum(1 for _ in open(path)) - 1
                staged.append(StagedFile(path.name, part, rows, "test", "LF"))
        con.execute("CREATE OR REPLACE TEMP TABLE staged AS " + " UNION ALL ".join(selects))
        return staged

    def fill(self, table: str) -> str:
        return (
            "SELECT part, code_system, code, description, CAST(billable AS BOOLEAN) AS billable, "
            "CAST(added AS DATE) AS effective_from, CAST(terminated AS DATE) AS effective_to, "
            "source_file, line_no FROM staged"
        )

    def notes(self, con):
        return []

    def sample(self):
        return None


def write(folder: Path, name: str, rows: list[tuple]) -> Path:
    """A fake code file: rows of (code_system, code, description, billable[, added, terminated])."""
    import csv

    path = folder / name
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["code_system", "code", "description", "billable", "added", "terminated"])
        for row in rows:
            system, code, title, billable, *dates = row
            added, terminated = (list(dates) + [None, None])[:2]
            out.writerow([system, code, title, "true" if billable else "false", added or "", terminated or ""])
    return path


def install(monkeypatch, *fakes: FakeCodeLoader) -> None:
    """Make ``codesets.loaders.get`` find the fakes (besides the real loaders)."""
    from codesets import loaders

    found = dict(loaders.available())
    found.update({fake.source: fake for fake in fakes})
    monkeypatch.setattr(loaders, "available", lambda: found)


def load(warehouse, fake: FakeCodeLoader, path: Path, release: str, start: date):
    from codesets.warehouse.load import load as load_files

    return load_files(warehouse, fake.source, [path], release, start)
