"""The pandera push-down: SQL predicates agree with pandera's own validation, row for row."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesets.loaders import gems
from codesets.core import checks
from tests.conftest import FIXTURES, stage_gems


def pandera_failing_lines(model, frame: pd.DataFrame) -> set[int]:
    """Lines pandera itself rejects, validating the pandas frame lazily."""
    try:
        model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        index = cases["index"].dropna().astype(int)
        return set(frame.loc[index, "line_no"])
    return set()


def pushdown_failing_lines(model, frame: pd.DataFrame) -> set[int]:
    con = duckdb.connect()
    con.register("staged", frame)
    return {line for _file, line, *_rest in checks.failing_rows(con, "staged", model)}


def staged_frame(lines: list[str]) -> pd.DataFrame:
    """Stage lines as the GEM loader would, then hand the staged rows to pandas."""
    con = duckdb.connect()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated_i9gem.txt"
        path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
        stage_gems(con, [path], part="icd9cm-icd10cm")
    return con.sql("SELECT * FROM staged ORDER BY line_no").df()


GOOD_LINES = (FIXTURES / "gems" / "good_i9gem_lf.txt").read_text().splitlines()


@st.composite
def damaged_files(draw):
    """The good fixture with a few characters overwritten or lines cut."""
    lines = list(GOOD_LINES)
    for _ in range(draw(st.integers(1, 3))):
        number = draw(st.integers(0, len(lines) - 1))
        line = lines[number]
        if draw(st.booleans()):
            position = draw(st.integers(0, len(line) - 1))
            char = draw(st.sampled_from(list("0129xX AZ.") + ["é"]))
            lines[number] = line[:position] + char + line[position + 1:]
        else:
            lines[number] = line[: draw(st.integers(1, len(line)))]
    return lines


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(damaged_files())
def test_pushdown_agrees_with_pandera(lines):
    model = gems.model()
    frame = staged_frame(lines)
    assert pushdown_failing_lines(model, frame) == pandera_failing_lines(model, frame)


def test_good_file_passes_both_ways():
    model = gems.model()
    frame = staged_frame(GOOD_LINES)
    assert pushdown_failing_lines(model, frame) == set()
    assert pandera_failing_lines(model, frame) == set()


def test_builtin_checks_translate():
    class Model(pa.DataFrameModel):
        source_file: str
        line_no: int
        code: str = pa.Field(str_matches=r"[A-Z][0-9]", str_length={"min_value": 2, "max_value": 3})
        kind: str = pa.Field(isin=["a", "b"], nullable=True)
        number: int = pa.Field(in_range={"min_value": 1, "max_value": 9}, unique=True)

    frame = pd.DataFrame(
        {
            "source_file": ["f"] * 5,
            "line_no": [1, 2, 3, 4, 5],
            "code": ["A1", "11", "A1234", "B2", None],
            "kind": ["a", "c", None, "b", "a"],
            "number": [1, 2, 3, 3, 10],
        }
    )
    con = duckdb.connect()
    con.register("staged", frame)
    failures = {(line, column) for _f, line, column, _v, _r in checks.failing_rows(con, "staged", Model)}
    assert failures == {
        (2, "code"), (2, "kind"), (3, "code"), (3, "number"), (4, "number"), (5, "code"), (5, "number")
    }


def test_unsupported_check_is_refused_loudly():
    class Model(pa.DataFrameModel):
        code: str = pa.Field(str_startswith="A")

    with pytest.raises(NotImplementedError, match="str_startswith"):
        checks.predicates(Model)
