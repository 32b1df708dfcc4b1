"""ICD-10-PCS, the inpatient procedure codes: the CMS order file and code file.

Two renderings of one fiscal year's list, each a part of the release (the views prefer the
order file):

- ``order``: the order file (icd10pcs_order_2026.txt): the 3-character tables as headers
  (``001``: Central Nervous System and Cranial Nerves, Bypass) and the 7-character codes,
  short and long titles, in the same fixed-width layout as ICD-10-CM's (see _order.py);
- ``codes``: the code file (icd10pcs_codes_2026.txt): the codes and long titles only.

The kind and the code system come from the content (7-character codes of section 0 first,
never I or O; ICD-10-CM codes start with a letter); the release from the name, as ICD-10-CM's:
fiscal year Y is release ``Y``, effective October 1 of Y-1; an April 1 update ``Y-04``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from codesets.loaders import _order
from codesets.loaders.contract import Claim, Sample, StagedFile, bundled_sample
from codesets.loaders.contract import CodeSystem, Declaration, Period

_SAMPLE_EFFECTIVE_FROM = date(2023, 10, 1)  # FY2024, the year of the codes the sample holds


class Icd10pcsLoader:
    source = "icd10pcs"
    description = "ICD-10-PCS procedure codes (CMS order file or code file)"
    tables = ("code_rows",)
    declares = Declaration(
        code_systems=(CodeSystem("icd10pcs", validity=True),),
        whole_release=True,
        periods=(Period("fiscal_year", r"(19|20)[0-9]{2}(-04)?"),),  # the April update ends with its fiscal year
        renderings=("order", "tabular", "codes"),  # headers and short titles, headers, billable codes only
    )

    def claim(self, path: Path) -> Claim | None:
        sniffed = _order.sniff(path)
        if sniffed is None or sniffed.code_system != "icd10pcs":
            return None
        return Claim(part=sniffed.kind, release_id=_order.release_from_name(path.name))

    def effective_from(self, release_id: str) -> date | None:
        return _order.effective_from(release_id)

    def model(self):
        return model()

    def stage(self, con, parts: Mapping[str, Sequence[Path]]) -> list[StagedFile]:
        staged = _order.stage(con, parts, "icd10pcs")
        con.execute("CREATE OR REPLACE TEMP VIEW staged AS SELECT * FROM order_staged")
        return staged

    def fill(self, table: str) -> str:
        return _order.fill()

    def notes(self, con) -> list[str]:
        return _order.notes(con)

    def sample(self) -> Sample:
        return bundled_sample(self.source, ".txt", _SAMPLE_EFFECTIVE_FROM)


LOADER = Icd10pcsLoader()


def model():
    """The pandera model of a staged ICD-10-PCS line (see sql/queries/order_stage.sql for the columns)."""
    import pandera.pandas as pa

    from codesets.core.checks import register_sql_rules

    register_sql_rules()

    class Icd10pcsLine(pa.DataFrameModel):
        source_file: str
        line_no: int
        part: str = pa.Field(isin=["order", "codes"])

        class Config:
            strict = False  # the staged relation carries helper columns the rules read
            coerce = True
            sql_rules = {"rules": _order.rules("icd10pcs")}

    return Icd10pcsLine
