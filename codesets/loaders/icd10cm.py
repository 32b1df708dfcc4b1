"""ICD-10-CM, the diagnosis codes: the CDC's order file, code file and Tabular List XML.

One fiscal year's list comes in three renderings, each a part of the release, so a release
may hold several and the views pick one (order, then tabular, then codes):

- ``order``: the order file (icd10cm-order-2026.txt): headers and billable codes, short and
  long titles, fixed width (see _order.py);
- ``codes``: the code file (icd10cm-codes-2024.txt): billable codes and long titles only;
- ``tabular``: the Tabular List XML (icd10cm-tabular-2026.xml): headers and billable codes
  derived from its tree of <diag> elements and 7th-character definitions (see _tabular.py).

The kind comes from the content (an order or code record on the first lines, with codes that
start with a letter; or an <ICD10CM.tabular> root), the release from the name: fiscal year Y
is release ``Y``, effective October 1 of Y-1; the April 1 update is ``Y-04`` (April in the
name), effective April 1 of Y. For the XML its <version> gives the year when the name does not.
ICD-10 files do not date single codes: a code is valid through its release's window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from codesets.loaders import _order, _tabular
from codesets.loaders.contract import Claim, Sample, StagedFile, bundled_sample
from codesets.loaders.contract import CodeSystem, Declaration, Period

_SAMPLE_EFFECTIVE_FROM = date(2025, 10, 1)  # FY2026: every sample row is valid in it


class Icd10cmLoader:
    source = "icd10cm"
    description = "ICD-10-CM diagnosis codes (CDC order file, code file or Tabular List XML)"
    tables = ("code_rows",)
    declares = Declaration(
        code_systems=(CodeSystem("icd10cm", validity=True),),
        whole_release=True,
        periods=(Period("fiscal_year", r"(19|20)[0-9]{2}(-04)?"),),  # the April update ends with its fiscal year
        renderings=("order", "tabular", "codes"),  # headers and short titles, headers, billable codes only
    )

    def claim(self, path: Path) -> Claim | None:
        if _tabular.root_of(path) == _tabular.ROOT:
            return Claim(part="tabular", release_id=_tabular_release(path))
        sniffed = _order.sniff(path)
        if sniffed is None or sniffed.code_system != "icd10cm":
            return None
        return Claim(part=sniffed.kind, release_id=_order.release_from_name(path.name))

    def effective_from(self, release_id: str) -> date | None:
        return _order.effective_from(release_id)

    def model(self):
        return model()

    def stage(self, con, parts: Mapping[str, Sequence[Path]]) -> list[StagedFile]:
        """Text parts through DuckDB's reader (``order_staged``), the XML through expat
        (``tabular_staged``); ``staged`` is the two side by side, by column name."""
        text = {part: paths for part, paths in parts.items() if part != "tabular"}
        staged = _order.stage(con, text, "icd10cm")
        staged += _tabular.stage(con, parts.get("tabular", ()))
        con.execute(
            "CREATE OR REPLACE TEMP VIEW staged AS "
            "SELECT * FROM order_staged UNION ALL BY NAME SELECT * FROM tabular_staged"
        )
        return staged

    def fill(self, table: str) -> str:
        return f"{_order.fill()}\nUNION ALL\n{_tabular.fill()}"

    def notes(self, con) -> list[str]:
        return _order.notes(con)

    def sample(self) -> Sample:
        return bundled_sample(self.source, ".txt", _SAMPLE_EFFECTIVE_FROM)


LOADER = Icd10cmLoader()


def model():
    """The pandera model of a staged ICD-10-CM row: a text line (order_stage.sql) or an XML element
    (icd10cm_tabular_stage.sql); the rules of each kind pass the rows of the other."""
    import pandera.pandas as pa

    from codesets.core.checks import register_sql_rules

    register_sql_rules()

    class Icd10cmRow(pa.DataFrameModel):
        source_file: str
        line_no: int
        part: str = pa.Field(isin=["order", "codes", "tabular"])

        class Config:
            strict = False  # the staged relation carries helper columns the rules read
            coerce = True
            sql_rules = {"rules": _order.rules("icd10cm") + _tabular.rules()}

    return Icd10cmRow


def _tabular_release(path: Path) -> str | None:
    """The name's year, else the <version> element's, with -04 when the name says April."""
    named = _order.release_from_name(path.name)
    version = _tabular.version_of(path)
    if version is None:
        return named
    from_version = version + ("-04" if "april" in path.name.lower() else "")
    return from_version if named in (None, from_version) else None
