"""`codesets snomed` on the bundled sample map: every format, dotted display, bad options exit 2.

The tests build an app as codesets/cli/app.py does (the global --warehouse option, the one-line
error handling of codesets.cli.app._Codesets) around this one command.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Optional

import pytest
import typer
from typer.testing import CliRunner

from codesets.cli import snomed as snomed_cmd
from codesets.cli.app import _Codesets
from tests.query import code_fakes as fakes
from tests.snomed.test_eval import SAMPLE

runner = CliRunner()
ICD10 = fakes.FakeCodeLoader(source="icd10cm")


def make_app() -> typer.Typer:
    app = typer.Typer(cls=_Codesets, name="codesets", no_args_is_help=True, pretty_exceptions_enable=False,
                      add_completion=False)

    @app.callback()
    def main_options(warehouse: Optional[str] = typer.Option(None, "--warehouse", "-w")) -> None:
        """Global options."""

    snomed_cmd.register(app)
    return app


APP = make_app()


@pytest.fixture(scope="module")
def wh_path(tmp_path_factory):
    from codesets.warehouse.load import load
    from codesets.warehouse.storage import Warehouse

    folder = tmp_path_factory.mktemp("snomed_cli")
    warehouse = Warehouse(folder / "wh")
    load(warehouse, "snomed_icd10cm", [SAMPLE], sample=True)
    with pytest.MonkeyPatch.context() as monkeypatch:
        fakes.install(monkeypatch, ICD10)
        codes = fakes.write(folder, "order-2024.csv", [
            ("icd10cm", "T39091A", "initial encounter", True),
            ("icd10cm", "T39091D", "subsequent encounter", True),
        ])
        fakes.load(warehouse, ICD10, codes, "2024", date(2023, 10, 1))
    return str(folder / "wh")


def run(wh_path, *args):
    return runner.invoke(APP, ["--warehouse", wh_path, "snomed", *args])


def test_table_shows_dotted_targets_and_a_row_count(wh_path):
    result = run(wh_path, "237145004", "--sex", "F")
    assert result.exit_code == 0, result.output
    assert "N97.9" in result.output and "mapped" in result.output and "(1 row)" in result.output


def test_unknown_sex_says_context_needed(wh_path):
    result = run(wh_path, "237145004", "--format", "json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert (row["status"], row["needs"], row["target"], row["rule"]) == \
        ("context needed", ["sex"], None, "OTHERWISE TRUE")
    assert row["advice"] == "MAP IS CONTEXT DEPENDENT FOR GENDER" and row["category"] == "447638001"


@pytest.mark.parametrize("age, target", [("28d", "P92.6"), ("29d", "R62.51"), ("17y", "R62.51"), ("18y", "R62.7"),
                                         ("216m", "R62.7")])
def test_age_option(wh_path, age, target):
    result = run(wh_path, "36440009", "--age", age, "--format", "csv")
    assert result.exit_code == 0, result.output
    header, row = result.output.strip().splitlines()
    assert header.split(",")[:4] == ["concept", "map_group", "status", "target"]
    assert row.split(",")[3] == target


def test_problems_and_episode_of_care_completions(wh_path):
    result = run(wh_path, "7248001", "--problem", "290145004", "--problem", "73430006", "--on", "2024-05-01",
                 "--format", "ndjson")
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)
    assert (row["target"], row["status"], row["needs"]) == ("T39012?", "incomplete", ["episode_of_care"])
    default = json.loads(run(wh_path, "7248001", "--on", "2024-05-01", "--format", "ndjson").output)
    assert default["target"] == "T39091?" and default["completions"] == ["T39091A", "T39091D"]
    assert default["needs"] == ["problems", "episode_of_care"]
    table = run(wh_path, "7248001", "--on", "2024-05-01", "--format", "csv").output
    assert "T39.091?" in table and "T39.091A T39.091D" in table


def test_several_groups_and_no_map(wh_path):
    rows = json.loads(run(wh_path, "46113002", "--format", "json").output)
    assert [(r["map_group"], r["target"]) for r in rows] == [(1, "I110"), (2, "I509")]
    none = run(wh_path, "1234567009", "--format", "json")
    assert none.exit_code == 0
    assert [(r["status"], r["map_group"], r["target"]) for r in json.loads(none.output)] == \
        [("no map records", None, None)]


def test_inactive_record_never_shown(wh_path):
    (row,) = json.loads(run(wh_path, "66327008", "--format", "json").output)
    assert row["target"] == "M21949" and row["record_id"] == "4de417ee-f602-566c-863a-715670b9a834"


@pytest.mark.parametrize("args, message", [
    (["237145004", "--sex", "X"], "is not F or M"),
    (["36440009", "--age", "abc"], "is not an age"),
    (["aspirin"], "is not a SNOMED CT concept id"),
    (["7248001", "--problem", "x1"], "is not a SNOMED CT concept id"),
    (["6738009"], "concept '6738009' is not a SNOMED CT concept id: its check digit (the last) is wrong"),
    (["200099014"], "concept '200099014' is not a SNOMED CT concept id: its partition digits (01) say it is a "
                    "description id"),
    (["7248001", "--problem", "6738009"], "problem '6738009' is not a SNOMED CT concept id"),
    (["7248001", "--on", "May"], "is not a date"),
])
def test_bad_options_exit_2_with_one_line(wh_path, args, message):
    result = run(wh_path, *args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_batch_answers_a_file_of_problems_as_the_single_command_does(wh_path, tmp_path):
    problems = tmp_path / "problems.csv"
    problems.write_text("problem_id,concept,sex,age,problems\np1,237145004,F,,\np2,237145004,,,\n"
                        "p3,999999006,M,30y,\n")
    result = runner.invoke(APP, ["--warehouse", str(wh_path), "snomed", "--batch", str(problems), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {(r["problem_id"], r["status"], r["target"]) for r in json.loads(result.stdout)}
    single = json.loads(runner.invoke(APP, ["--warehouse", str(wh_path), "snomed", "237145004", "--sex", "F",
                                            "--format", "json"]).stdout)
    assert ("p1", single[0]["status"], single[0]["target"]) in rows
    assert ("p2", "context needed", None) in rows and ("p3", "no map records", None) in rows
    out = tmp_path / "answers.parquet"
    written = runner.invoke(APP, ["--warehouse", str(wh_path), "snomed", "--batch", str(problems), "--out", str(out)])
    assert written.exit_code == 0 and out.is_file()


@pytest.mark.parametrize("args, message", [
    (["237145004", "--batch", "x.csv"], "--batch takes the concepts and their context from the file"),
    (["--batch", "nope.csv"], "no such file"),
    (["237145004", "--out", "a.csv"], "--out goes with --batch"),
    (["--batch", "x.csv", "--on", "2024-01-01"], "--batch takes the concepts and their context from the file"),
    ([], "give a CONCEPT"),
])
def test_batch_usage_errors_exit_2_with_one_line(wh_path, tmp_path, args, message):
    result = runner.invoke(APP, ["--warehouse", str(wh_path), "snomed", *args])
    assert result.exit_code == 2 and message in result.output and len(result.output.strip().splitlines()) == 1


def test_batch_to_csv_writes_lists_as_text(wh_path, tmp_path):
    problems = tmp_path / "problems.csv"
    problems.write_text("problem_id,concept\np1,7248001\np2,237145004\n")
    out = tmp_path / "answers.csv"
    result = runner.invoke(APP, ["--warehouse", str(wh_path), "snomed", "--batch", str(problems), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "episode_of_care" in text and "problems|episode_of_care" in text


@pytest.mark.parametrize("content, where", [
    ("problem_id,concept,sex\np1,237145004,SECRETSEX\n", "row 1, column sex"),
    ("problem_id,concept,age\np1,237145004,\np2,237145004,-5y\n", "row 2, column age"),
    ("problem_id,concept,problems\np1,237145004,44054006|SECRETDX\n", "row 1, column problems"),
    ("problem_id,concept\np1,0237145004\n", "row 1, column concept"),
    ("problem_id,concept,on_date\np1,237145004,2024-02-30\n", "row 1, column on_date"),
])
def test_batch_input_errors_name_row_and_column_never_the_value(wh_path, tmp_path, content, where):
    problems = tmp_path / "problems.csv"
    problems.write_text(content)
    result = runner.invoke(APP, ["--warehouse", str(wh_path), "snomed", "--batch", str(problems)])
    assert result.exit_code != 0 and where in result.output
    assert not any(secret in result.output for secret in ("SECRET", "-5y", "0237145004", "2024-02-30"))
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("rows, column", [
    ("p1,237145004,\np2,6738009,\n", "concept"),
    ("p1,237145004,\np2,237145004,237145004|6738009\n", "problems"),
], ids=["concept", "problem-list-item"])
def test_a_batch_sctid_with_a_bad_check_digit_is_refused_by_row_and_column(wh_path, tmp_path, rows, column):
    """6738009 is 6738008 (a real concept) with its check digit flipped: refused, the value not shown."""
    problems = tmp_path / "bad.csv"
    problems.write_text("problem_id,concept,problems\n" + rows)
    result = runner.invoke(APP, ["--warehouse", str(wh_path), "snomed", "--batch", str(problems)])
    assert result.exit_code == 2
    assert "6738009" not in result.output and f"column {column}" in result.output
    assert len(result.output.strip().splitlines()) == 1
