"""The scrub's input stage and orchestration: every input rule, hostile files, typed inputs, the registry.

The NCCI checks have their own tests; here they run only where the orchestration is the point
(a warehouse without NCCI releases), and a fake check stands in where the test needs to see
``claim_lines`` or the order of findings from more than one check.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from codesets.core.errors import SourceError, UsageError
from codesets.scrub import checks
from codesets.scrub import engine as scrub
from codesets.scrub import scrub as scrub_lines
from tests.query.test_translate import build_gem_warehouse
from tests.scrub.toy import add_check

HEADER = "claim_id,line_number,date_of_service,procedure_code,modifier_1,modifier_2,units,setting"
FINDING_COLUMNS = ["claim_id", "line_number", "check", "severity", "code", "related_line_number", "reason",
                   "reference", "suggestion"]


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    """A warehouse holding GEMs only: no NCCI release at all."""
    return build_gem_warehouse(tmp_path_factory.mktemp("scrub") / "wh")


def write(tmp_path, text: str | bytes, name: str = "claims.csv"):
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def findings(wh, claims, checks=()):
    return scrub.scrub(wh, claims, checks).findings.to_pylist()


def reasons(rows):
    return [(r["claim_id"], r["line_number"], r["reason"]) for r in rows]


@pytest.fixture
def echo_check(monkeypatch, tmp_path_factory):
    """A fake check that reports every claim line as the checks see it, so tests can read claim_lines."""
    sql = """
        SELECT claim_id, line_number, 'echo' AS "check", 'info' AS severity, procedure_code AS code,
            NULL::INTEGER AS related_line_number,
            concat_ws('|', row_id, date_of_service, array_to_string(modifiers, ' '), units, setting,
                coalesce(member_id, '-'), coalesce(provider_id, '-')) AS reason,
            NULL AS reference, NULL AS suggestion
        FROM claim_lines
    """

    return (add_check(monkeypatch, tmp_path_factory.mktemp("checks"), "echo", sql),)


# --- each input rule -------------------------------------------------------------------------


def test_a_clean_file_has_no_findings_and_every_line_is_checked(wh, tmp_path):
    path = write(tmp_path, f"{HEADER}\nC1,1,2026-07-01,99213,,,1,practitioner\nC1,2,2026-07-01,97110,59,,2,\n")
    result = scrub.scrub(wh, path, ())
    assert result.findings.num_rows == 0
    assert (result.lines, result.checked) == (2, 2)
    assert result.findings.schema.names == FINDING_COLUMNS
    assert [str(t) for t in result.findings.schema.types] == [
        "string", "int32", "string", "string", "string", "int32", "string", "string", "string"]


@pytest.mark.parametrize("row, expected", [
    (",1,2026-07-01,99213,,,,", "claim_id is missing"),
    ("   ,1,2026-07-01,99213,,,,", "claim_id is blank"),
    ("C1,,2026-07-01,99213,,,,", "line_number is missing"),
    ("C1,0,2026-07-01,99213,,,,", "line_number is not an integer from 1 to 2147483647"),
    ("C1,-2,2026-07-01,99213,,,,", "line_number is not an integer from 1 to 2147483647"),
    ("C1,2.5,2026-07-01,99213,,,,", "line_number is not an integer from 1 to 2147483647"),
    ("C1,1e2,2026-07-01,99213,,,,", "line_number is not an integer from 1 to 2147483647"),
    ("C1,0x10,2026-07-01,99213,,,,", "line_number is not an integer from 1 to 2147483647"),
    ("C1,99999999999,2026-07-01,99213,,,,", "line_number is not an integer from 1 to 2147483647"),
    ("C1,1,,99213,,,,", "date_of_service is missing"),
    ("C1,1,07/01/2026,99213,,,,", "date_of_service is not written YYYY-MM-DD"),
    ("C1,1,2026-7-1,99213,,,,", "date_of_service is not written YYYY-MM-DD"),
    ("C1,1,2026-07-01T10:00,99213,,,,", "date_of_service is not written YYYY-MM-DD"),
    ("C1,1,2026-02-30,99213,,,,", "date_of_service is not a real date"),
    ("C1,1,0000-01-01,99213,,,,", "date_of_service is not a real date"),
    ("C1,1,infinity,99213,,,,", "date_of_service is not written YYYY-MM-DD"),
    ("C1,1,\"  \",99213,,,,", "date_of_service is blank"),
    ("C1,\" \",2026-07-01,99213,,,,", "line_number is blank"),
    ("C1,1,2026-07-01,,,,,", "procedure_code is missing"),
    ("C1,1,2026-07-01,\"  \",,,,", "procedure_code is blank"),
    ("C1,1,2026-07-01,99213,,,two,", "units is not a number"),
    ("C1,1,2026-07-01,99213,,,\"1,5\",", "units is not a number"),
    ("C1,1,2026-07-01,99213,,,nan,", "units is not a number"),
    ("C1,1,2026-07-01,99213,,,inf,", "units is not a number"),
    ("C1,1,2026-07-01,99213,,,0,", "units is not above 0"),
    ("C1,1,2026-07-01,99213,,,-1,", "units is not above 0"),
    ("C1,1,2026-07-01,99213,,,1e5,", "units is above 99,999, the most one line may bill"),
    ("C1,1,2026-07-01,99213,,,,office", "setting is not practitioner, outpatient_hospital or dme"),
])
def test_each_input_rule_is_one_finding_naming_column_never_value(wh, tmp_path, row, expected):
    rows = findings(wh, write(tmp_path, f"{HEADER}\n{row}\nC9,1,2026-07-01,99213,,,,\n"))
    assert [r["reason"] for r in rows] == [expected]
    (finding,) = rows
    assert (finding["check"], finding["severity"], finding["reference"], finding["related_line_number"]) == (
        "input", "error", None, None)
    assert finding["suggestion"]


def test_the_suggestions_say_what_to_fix(wh, tmp_path):
    rows = findings(wh, write(tmp_path, f"{HEADER}\n,0,x,,,,0,office\n"))
    assert [r["suggestion"] for r in rows] == [
        "give every line the id of its claim",
        "number the lines of each claim 1, 2, 3, ...",
        "write the date of service as YYYY-MM-DD, e.g. 2026-07-01",
        "give the CPT or HCPCS code of the service",
        "give the units billed as a number above 0 and at most 99,999 (no units means 1)",
        "use practitioner, outpatient_hospital or dme (no setting means practitioner)",
    ]


def test_a_line_breaking_several_rules_gets_one_finding_each_and_is_not_checked(wh, tmp_path, echo_check):
    rows = findings(wh, write(tmp_path, f"{HEADER}\nC1,1,2026-02-30,j1100,,,0,\nC1,2,2026-07-01,99213,,,,\n"),
                    echo_check)
    assert reasons(rows) == [
        ("C1", 1, "date_of_service is not a real date"),
        ("C1", 1, "units is not above 0"),
        ("C1", 2, "1|2026-07-01||1.0|practitioner|-|-"),
    ]
    assert rows[0]["code"] == "J1100"  # the code of the line, normalised


def test_values_in_range_pass(wh, tmp_path, echo_check):
    text = (f"{HEADER}\n"
            "C1, 2 ,2026-07-01 ,99213,,,2.5,\n"
            "C1,2147483647,2026-07-01,99213,,,.5,\n"
            "C1,007,2026-07-01,99213,,,1e1,DME\n"
            "C1,8,2026-07-01,99213,,,+3,  Outpatient_Hospital \n")
    rows = findings(wh, write(tmp_path, text), echo_check)
    assert [(r["line_number"], r["reason"]) for r in rows] == [
        (2, "0|2026-07-01||2.5|practitioner|-|-"),
        (7, "2|2026-07-01||10.0|dme|-|-"),
        (8, "3|2026-07-01||3.0|outpatient_hospital|-|-"),
        (2147483647, "1|2026-07-01||0.5|practitioner|-|-"),
    ]


def test_duplicate_lines_are_each_a_finding_and_neither_is_checked(wh, tmp_path, echo_check):
    text = f"{HEADER}\nC1,1,2026-07-01,99213,,,,\nC1,2,2026-07-01,97110,,,,\nC1,1,2026-07-01,99214,,,,\nC2,1,2026-07-01,99213,,,,\n"
    rows = findings(wh, write(tmp_path, text), echo_check)
    assert [(r["claim_id"], r["line_number"], r["check"], r["code"], r["reason"]) for r in rows] == [
        ("C1", 1, "input", "99213", "line_number 1 is given to 2 lines of this claim"),
        ("C1", 1, "input", "99214", "line_number 1 is given to 2 lines of this claim"),
        ("C1", 2, "echo", "97110", "1|2026-07-01||1.0|practitioner|-|-"),
        ("C2", 1, "echo", "99213", "3|2026-07-01||1.0|practitioner|-|-"),
    ]
    assert rows[0]["suggestion"] == "give each line of a claim its own line_number; no copy was checked"


def test_duplicates_are_found_in_sorted_and_unsorted_files(wh, tmp_path):
    sorted_rows = [f"C{c},{n},2026-07-01,99213,,,," for c in range(3) for n in (1, 2, 3)]
    for rows, (claim, line) in [
        (sorted_rows + ["C2,3,2026-07-01,99213,,,,"], ("C2", 3)),  # adjacent copies
        (["C2,3,2026-07-01,99213,,,,"] + sorted_rows, ("C2", 3)),  # far apart
        (sorted_rows[::-1] + sorted_rows[:1], ("C0", 1)),  # descending, then a copy of the last
    ]:
        found = findings(wh, write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"))
        assert reasons(found) == [(claim, line, f"line_number {line} is given to 2 lines of this claim")] * 2
    unsorted_unique = sorted_rows[4:] + sorted_rows[:4]
    assert findings(wh, write(tmp_path, HEADER + "\n" + "\n".join(unsorted_unique) + "\n")) == []


def test_lines_with_a_bad_key_are_not_duplicates_of_each_other(wh, tmp_path):
    rows = findings(wh, write(tmp_path, f"{HEADER}\nC1,x,2026-07-01,99213,,,,\nC1,x,2026-07-01,99213,,,,\n"))
    assert [r["reason"] for r in rows] == ["line_number is not an integer from 1 to 2147483647"] * 2


def test_claim_ids_are_kept_as_given(wh, tmp_path, echo_check):
    rows = findings(wh, write(tmp_path, f"{HEADER}\nC1,1,2026-07-01,99213,,,,\n C1,1,2026-07-01,99213,,,,\n"),
                    echo_check)
    assert [r["claim_id"] for r in rows] == [" C1", "C1"]  # two claims: no duplicate


# --- claim_lines, as the checks see it ----------------------------------------------------------


def test_claim_lines_hold_normalised_values(wh, tmp_path, echo_check):
    text = ("claim_id,line_number,date_of_service,procedure_code,modifier_1,modifier_2,modifier_3,modifier_4,"
            "units,setting,member_id,provider_id\n"
            "C1,1,2026-07-01, j1100 , lt ,,59,lt,,,M1,P1\n"
            "C1,2,2026-07-01,99213,,,,,3,DME,  ,P1\n")
    rows = findings(wh, write(tmp_path, text), echo_check)
    assert [(r["code"], r["reason"]) for r in rows] == [
        ("J1100", "0|2026-07-01|LT 59 LT|1.0|practitioner|M1|P1"),
        ("99213", "1|2026-07-01||3.0|dme|-|P1"),
    ]


def test_claim_lines_has_the_agreed_columns_and_types(wh, tmp_path, monkeypatch):
    add_check(monkeypatch, tmp_path / "checks", "describe", """SELECT 'x' AS claim_id, 1 AS line_number, 'describe' AS "check", 'info' AS severity,
                NULL AS code, NULL AS related_line_number,
                string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index) AS reason,
                NULL AS reference, NULL AS suggestion
                FROM duckdb_columns() WHERE table_name = 'claim_lines' AND database_name = 'temp'""")
    (row,) = findings(wh, write(tmp_path, f"{HEADER}\n"), ["describe"])
    assert row["reason"] == (
        "row_id BIGINT, claim_id VARCHAR, line_number INTEGER, date_of_service DATE, procedure_code VARCHAR, "
        "modifiers VARCHAR[], units DOUBLE, setting VARCHAR, member_id VARCHAR, provider_id VARCHAR, "
        "diagnosis_codes VARCHAR")


# --- hostile files --------------------------------------------------------------------------------


def test_control_characters_are_not_quoted_in_reasons_and_kept_in_claim_ids(wh, tmp_path):
    text = f'{HEADER}\n"C\x1b[31m1",1,2026-07-01\u2028,99213,,,,"\x1b]0;x\x07\\\u200b"\n'
    (date, setting) = findings(wh, write(tmp_path, text))
    assert date["claim_id"] == "C\x1b[31m1"  # the product's output: as given, to join back
    assert date["reason"] == "date_of_service is not written YYYY-MM-DD"
    assert setting["reason"] == "setting is not practitioner, outpatient_hospital or dme"


def test_a_10_mb_cell_is_not_quoted_and_harmless_elsewhere(wh, tmp_path, echo_check):
    big = "9" * 10_000_000
    text = (f"{HEADER},notes\n"
            f"C1,1,2026-07-01,99213,,,,,{'x' * 10_000_000}\n"
            f"C1,{big},2026-07-01,99213,,,,,\n")
    rows = findings(wh, write(tmp_path, text), echo_check)
    assert [r["check"] for r in rows] == ["echo", "input"]
    assert rows[1]["reason"] == "line_number is not an integer from 1 to 2147483647"


def test_an_empty_file_is_a_usage_error(wh, tmp_path):
    with pytest.raises(UsageError, match="claims.csv is empty; a claims CSV starts with a header row"):
        scrub.scrub(wh, write(tmp_path, b""), ())


def test_a_header_alone_is_no_lines_and_no_findings(wh, tmp_path):
    result = scrub.scrub(wh, write(tmp_path, HEADER + "\n"), ())
    assert (result.lines, result.checked, result.findings.num_rows) == (0, 0, 0)
    assert result.summary() == "scrub: 0 lines read, 0 checked (input); no findings"


def test_bom_and_crlf_are_read(wh, tmp_path, echo_check):
    text = ("\ufeff" + HEADER + "\r\nC1,1,2026-07-01,99213,,,,\r\nC1,2,2026-07-01,97110,,,,practitioner\r\n").encode()
    rows = findings(wh, write(tmp_path, text), echo_check)
    assert [(r["claim_id"], r["line_number"], r["check"]) for r in rows] == [("C1", 1, "echo"), ("C1", 2, "echo")]


def test_ragged_and_unreadable_rows_are_findings_with_their_line_in_the_file(wh, tmp_path, echo_check):
    lines = [HEADER,
             "C1,1,2026-07-01,99213,,,,",
             "C1,2,2026-07-01,99213,,,,,extra,more",  # line 3: too many fields
             "C1,3,2026-07-01",  # line 4: too few
             "C1,4,2026-07-01,99213,,,,",
             ]
    text = ("\n".join(lines) + "\n").encode() + b"C\xff5,1,2026-07-01,99213,,,,\n" + b'C6,1,2026-07-01,"99213\n'
    result = scrub.scrub(wh, write(tmp_path, text), echo_check)
    rows = result.findings.to_pylist()
    assert [r["check"] for r in rows[:2]] == ["echo", "echo"]
    unread = rows[2:]
    assert [(r["claim_id"], r["line_number"], r["code"]) for r in unread] == [(None, None, None)] * 4
    assert [r["reason"] for r in unread] == [  # the row's line, and its column where DuckDB names one; no text of it
        "CSV line 3 has 10 fields where the header has 8; the row was not read",
        "CSV line 4 has 3 fields where the header has 8; the row was not read",
        "CSV line 6 is not UTF-8 text (column claim_id); the row was not read",
        "CSV line 7 has a quote that is not closed, or a quote inside a value that is not quoted "
        "(column procedure_code); the row was not read",
    ]
    assert unread[0]["suggestion"].startswith("give the row the 8 fields of the header")
    assert unread[2]["suggestion"] == "save the file as UTF-8, then scrub the row again"
    assert (result.lines, result.checked) == (6, 2)


def test_a_header_that_is_not_utf8_is_one_error(wh, tmp_path):
    with pytest.raises(SourceError, match="the header row of claims.csv is not UTF-8 text"):
        scrub.scrub(wh, write(tmp_path, b"claim\xff_id,line_number\n"), ())


def test_required_columns_missing_from_the_file_are_a_usage_error_naming_them(wh, tmp_path):
    with pytest.raises(UsageError) as caught:
        scrub.scrub(wh, write(tmp_path, "claim_id,procedure_code,units\nC1,99213,1\n"), ())
    assert str(caught.value) == (
        "claims.csv lacks the columns line_number, date_of_service; claim lines need claim_id, line_number, "
        "date_of_service, procedure_code (see docs/scrub-rules.md)")


def test_a_file_without_header_names_no_value_from_it(wh, tmp_path):
    with pytest.raises(UsageError) as caught:
        scrub.scrub(wh, write(tmp_path, "SECRET-CLAIM,1,2026-07-01,99213\n"), ())
    assert "SECRET" not in str(caught.value)


def test_column_names_match_trimmed_and_in_any_case_and_twice_is_refused(wh, tmp_path):
    text = " Claim_ID ,LINE_NUMBER,Date_Of_Service,procedure_code\nC1,1,2026-07-01,99213\n"
    assert scrub.scrub(wh, write(tmp_path, text), ()).checked == 1
    with pytest.raises(UsageError, match="has two claim_id columns"):
        scrub.scrub(wh, write(tmp_path, "claim_id,CLAIM_ID,line_number,date_of_service,procedure_code\n"), ())


def test_unknown_columns_are_carried_and_never_fail_a_row(wh, tmp_path, echo_check):
    text = (f"{HEADER},diagnosis_codes,payer_id,,notes\n"
            'C1,1,2026-07-01,99213,,,,,I10|E119,PAYER1,,"anything, \x00 at all"\n')
    rows = findings(wh, write(tmp_path, text), echo_check)
    assert [(r["check"], r["line_number"]) for r in rows] == [("echo", 1)]
    assert set(rows[0]) == set(FINDING_COLUMNS)  # the findings hold no input column but the keys


def test_not_a_file(wh, tmp_path):
    with pytest.raises(UsageError, match="not found"):
        scrub.scrub(wh, tmp_path / "missing.csv", ())
    with pytest.raises(UsageError, match="is a folder"):
        scrub.scrub(wh, tmp_path, ())
    with pytest.raises(SourceError, match="not a Parquet file"):
        scrub.scrub(wh, write(tmp_path, b"claim_id\n", "claims.parquet"), ())
    with pytest.raises(UsageError, match="compressed"):
        scrub.scrub(wh, write(tmp_path, b"\x1f\x8b\x08\x00", "claims.csv.gz"), ())


def test_a_damaged_parquet_file_is_one_errorwithout_values(wh, tmp_path):
    table = pa.table({"claim_id": ["SECRET"], "line_number": [1], "date_of_service": ["2026-07-01"],
                      "procedure_code": ["99213"]})
    good = tmp_path / "good.parquet"
    pq.write_table(table, good)
    cut = write(tmp_path, good.read_bytes()[:-40], "cut.parquet")
    with pytest.raises(SourceError) as caught:
        scrub.scrub(wh, cut, ())
    assert str(caught.value).startswith("cannot read cut.parquet: ") and "SECRET" not in str(caught.value)


def test_duckdb_messages_lose_their_quoted_values():
    exc = RuntimeError("Conversion Error: Could not convert string 'JOHN DOE 1950' to INT32\nLINE 1: ...")
    assert scrub.without_values(exc) == "Conversion Error: Could not convert string '…' to INT32"


def test_duckdb_messages_lose_their_numbers_too():
    # DuckDB does not quote a number it cannot cast: it could be an SSN or a member id
    exc = RuntimeError("Conversion Error: Type DOUBLE with value 123456789 can't be cast to INT64; -1.5e+19 too")
    assert scrub.without_values(exc) == "Conversion Error: Type DOUBLE with value … can't be cast to INT64; … too"


def test_a_units_value_no_integer_holds_is_a_finding_without_its_value(wh, tmp_path, echo_check):
    text = (f"{HEADER}\nC1,1,2026-07-01,99213,,,12345678901234567890,\n"
            "C1,2,2026-07-01,99213,,,99999,\nC1,3,2026-07-01,99213,,,99999.01,\n")
    rows = findings(wh, write(tmp_path, text), echo_check)
    assert reasons(rows) == [
        ("C1", 1, "units is above 99,999, the most one line may bill"),
        ("C1", 2, "1|2026-07-01||99999.0|practitioner|-|-"),  # the most a line may bill: checked
        ("C1", 3, "units is above 99,999, the most one line may bill"),
    ]


def test_a_lone_cr_is_a_finding_for_its_row_and_the_copy_is_removed(wh, tmp_path, echo_check, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    text = f"{HEADER},notes\nC1,1,2026-07-01,99213,,,,,a\rb\nC1,2,2026-07-01,99213,,,,,\"c\rd\"\n".encode()
    result = scrub.scrub(wh, write(tmp_path, text), echo_check)
    assert reasons(result.findings.to_pylist()) == [
        ("C1", 2, "0|2026-07-01||1.0|practitioner|-|-"),  # a CR inside quotes is data
        (None, None, "CSV line 2 has a carriage return (CR) alone, outside quotes, where only a line ending may "
                     "be; the row was not read"),
    ]
    assert (result.lines, result.checked) == (2, 1)
    assert list((tmp_path / "tmp").iterdir()) == []
    with pytest.raises(UsageError, match="lacks the column"):  # refused after the scratch folder was made
        scrub.scrub(wh, write(tmp_path, "claim_id\nC1\n", "short.csv"), ())
    assert list((tmp_path / "tmp").iterdir()) == []


# --- typed inputs ------------------------------------------------------------------------------


def typed_table():
    return pa.table({
        "claim_id": ["C1", "C1", "C1", "C2", "C2", None],
        "line_number": pa.array([1.0, 2.0, 2.5, 1, None, 1], pa.float64()),
        "date_of_service": pa.array([dt.datetime(2026, 7, 1), dt.datetime(2026, 7, 1, 10, 30), dt.datetime(2026, 7, 2),
                                     dt.datetime(2026, 7, 1), dt.datetime(2026, 7, 1), None], pa.timestamp("us")),
        "procedure_code": [" 99213 ", "99214", "j1100", "", None, "97110"],
        "units": pa.array([1, 0, 2, None, 3, 1], pa.int32()),
        "modifier_1": ["59", None, " lt", None, None, None],
        "extra": pa.array([[1], [2], None, [], [5], [6]], pa.list_(pa.int64())),
    })


TYPED_FINDINGS = [
    ("C1", 2, "date_of_service is not written YYYY-MM-DD"),
    ("C1", 2, "units is not above 0"),
    ("C1", None, "line_number is not an integer from 1 to 2147483647"),
    ("C2", 1, "procedure_code is missing"),
    ("C2", None, "line_number is missing"),
    ("C2", None, "procedure_code is missing"),
    (None, 1, "claim_id is missing"),
    (None, 1, "date_of_service is missing"),
]


def test_parquet_typed_columns_are_taken_as_they_are(wh, tmp_path, echo_check):
    path = tmp_path / "claims.parquet"
    pq.write_table(typed_table(), path)
    rows = findings(wh, path, echo_check)
    assert reasons([r for r in rows if r["check"] == "input"]) == TYPED_FINDINGS
    assert [(r["code"], r["reason"]) for r in rows if r["check"] == "echo"] == [
        ("99213", "0|2026-07-01|59|1.0|practitioner|-|-")]


def test_parquet_with_date_and_integer_columns(wh, tmp_path, echo_check):
    path = tmp_path / "claims.parquet"
    pq.write_table(pa.table({
        "claim_id": ["C1", "C1", "C1"],
        "line_number": pa.array([1, 2, 0], pa.int16()),
        "date_of_service": pa.array([dt.date(2026, 7, 1)] * 3, pa.date32()),
        "procedure_code": ["99213", "97110", "99213"],
        "units": pa.array([2, 1, 1], pa.int64()),
        "setting": pa.array(["dme", "practitioner", "dme"]).dictionary_encode(),
        "file_row_number": [9, 9, 9],  # a column of the file with the name DuckDB would number rows by
    }), path)
    rows = findings(wh, path, echo_check)
    assert reasons(rows) == [
        ("C1", 1, "0|2026-07-01||2.0|dme|-|-"),
        ("C1", 2, "1|2026-07-01||1.0|practitioner|-|-"),
        ("C1", None, "line_number is not an integer from 1 to 2147483647"),
    ]


def test_arrow_and_pandas_through_the_query_layer(wh, echo_check):
    table = typed_table()
    from_arrow = scrub_lines(table, checks=echo_check, warehouse=wh)
    from_pandas = scrub_lines(table.to_pandas(), checks=echo_check, warehouse=wh)
    assert isinstance(from_arrow, pa.Table)
    assert from_arrow.to_pylist() == from_pandas.to_pylist()
    assert reasons([r for r in from_arrow.to_pylist() if r["check"] == "input"]) == TYPED_FINDINGS


def test_other_arrow_shapes_and_a_column_named_like_ours(wh, echo_check):
    table = pa.table({"claim_id": ["C1", "C1"], "line_number": [2, 1], "date_of_service": ["2026-07-01"] * 2,
                      "procedure_code": ["99213", "97110"], "__codesets_row_id": [7, 7]})
    expected = [(1, "1|2026-07-01||1.0|practitioner|-|-"), (2, "0|2026-07-01||1.0|practitioner|-|-")]
    for claims in (table, table.to_batches()[0], pa.RecordBatchReader.from_batches(table.schema, table.to_batches())):
        rows = findings(wh, claims, echo_check)
        assert [(r["line_number"], r["reason"]) for r in rows] == expected
    assert table.column("__codesets_row_id").to_pylist() == [7, 7]  # the caller's table is left as it was


def test_pandas_missing_values_and_mixed_columns(wh):
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({
        "claim_id": ["C1", "C1"], "line_number": [1, 2], "procedure_code": [99213, 97110],  # a number column
        "date_of_service": pd.to_datetime(["2026-07-01", "2026-07-02"]),
        "units": [1.0, np.nan],  # NaN: not given, so 1
        "notes": [1, "x"],  # mixed objects in a column nobody reads
    })
    result = scrub.scrub(wh, frame, ())
    assert (result.findings.num_rows, result.checked) == (0, 2)


def test_the_query_layer_finds_the_warehouse_from_the_environment(wh, tmp_path, monkeypatch):
    monkeypatch.setenv("CODESETS_WAREHOUSE", str(wh.path))
    path = write(tmp_path, f"{HEADER}\nC1,1,2026-07-01,99213,,,0,\n")
    assert [r["reason"] for r in scrub_lines(path, checks=()).to_pylist()] == ["units is not above 0"]
    assert [r["reason"] for r in scrub_lines(str(path), checks=[], warehouse=str(wh.path)).to_pylist()] == [
        "units is not above 0"]


def test_other_claims_objects_are_refused(wh):
    with pytest.raises(UsageError, match="claims must be a CSV or Parquet path"):
        scrub.scrub(wh, [{"claim_id": "C1"}], ())


# --- checks and orchestration -------------------------------------------------------------------


def test_check_names():
    assert scrub.check_names("ptp,mue") == ("ptp", "mue")
    assert scrub.check_names(" MUE , ptp,mue ") == ("mue", "ptp")
    assert scrub.check_names("input") == () == scrub.check_names("") == scrub.check_names([])
    with pytest.raises(UsageError, match="unknown check 'pdp'; the checks are validity, ptp, mue"):
        scrub.check_names("ptp,pdp")


def test_every_declared_check_has_its_sql_file():
    for check in checks.available().values():
        if check.name != "input":
            assert check.sql().lstrip().startswith("--"), check.name
    assert checks.default_names() == ("validity", "ptp", "mue")


def test_a_warehouse_without_ncci_releases_still_scrubs(wh, tmp_path):
    path = write(tmp_path, f"{HEADER}\nC1,1,2026-07-01,99213,,,,\nC1,2,2026-07-01,97110,,,0,\n")
    result = scrub.scrub(wh, path)
    assert result.checks == ("validity", "ptp", "mue") and (result.lines, result.checked) == (2, 1)
    # nothing to check against is said, not silent: a note per check, in the summary line too
    assert result.notes == ("validity: no icd10cm, hcpcs, cpt release in force", "ptp: no ncci_ptp release in force",
                            "mue: no ncci_mue release in force")
    assert result.summary().endswith(
        "; no release in force for validity (icd10cm, hcpcs, cpt), ptp (ncci_ptp), mue (ncci_mue)")
    rows = result.findings.to_pylist()
    assert ("C1", 2, "units is not above 0") in reasons(rows)
    assert {r["check"] for r in rows} <= {"input", "validity", "ptp", "mue"}
    assert not any(r["check"] == "ptp" for r in rows)  # no PTP edits loaded: nothing to fire


def test_findings_of_all_checks_are_sorted_together(wh, tmp_path, monkeypatch):
    add_check(monkeypatch, tmp_path / "checks", "aaa", """SELECT claim_id, line_number, 'aaa' AS "check", 'error' AS severity, procedure_code AS code,
                r AS related_line_number, 'pair' AS reason, 'ref ' || r AS reference, NULL AS suggestion
                FROM claim_lines, (VALUES (3), (NULL), (1)) AS t(r)  -- a trailing comment""")
    text = f"{HEADER}\nC2,1,2026-07-01,99213,,,,\nC1,1,2026-07-01,99213,,,0,\nC1,2,2026-07-01,99213,,,,\n"
    rows = findings(wh, write(tmp_path, text), ["aaa"])
    assert [(r["claim_id"], r["line_number"], r["check"], r["related_line_number"]) for r in rows] == [
        ("C1", 1, "input", None),
        ("C1", 2, "aaa", 1), ("C1", 2, "aaa", 3), ("C1", 2, "aaa", None),
        ("C2", 1, "aaa", 1), ("C2", 1, "aaa", 3), ("C2", 1, "aaa", None),
    ]


def test_summary_counts_by_check_and_severity(wh, tmp_path, echo_check):
    text = f"{HEADER}\nC1,1,2026-07-01,99213,,,0,\nC1,2,2026-07-01,99213,,,,\nC1,3,x,99213,,,,\n"
    result = scrub.scrub(wh, write(tmp_path, text), echo_check)
    assert result.summary() == "scrub: 3 lines read, 1 checked (input, echo); 3 findings: input 2 error; echo 1 info"


def test_write_findings_in_both_formats(wh, tmp_path):
    import pyarrow.csv as pacsv

    table = scrub.scrub(wh, write(tmp_path, f'{HEADER}\nC1,1,2026-07-01,99213,,,"0",\n'), ()).findings
    scrub.write_findings(table, tmp_path / "f.parquet")
    assert pq.read_table(tmp_path / "f.parquet").equals(table)
    scrub.write_findings(table, tmp_path / "f.csv")
    back = pacsv.read_csv(tmp_path / "f.csv").to_pylist()
    assert [r["reason"] for r in back] == ["units is not above 0"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary left
    with pytest.raises(UsageError, match="name a .parquet or a .csv file"):
        scrub.check_out(tmp_path / "f.json")
    for inside in (wh.path / "f.csv", wh.path / "data" / "f.parquet", wh.path / "generations" / "f.csv"):
        with pytest.raises(UsageError, match="is inside the warehouse .*; write the findings to a folder outside it"):
            scrub.check_out(inside, warehouse=wh)
        with pytest.raises(UsageError, match="is inside the warehouse"):
            scrub.write_findings(table, inside, warehouse=wh)
        assert not inside.exists()
    with pytest.raises(UsageError, match="does not exist"):
        scrub.check_out(tmp_path / "nowhere" / "f.csv")
    with pytest.raises(UsageError, match="the claims file itself"):
        scrub.check_out(tmp_path / "claims.csv", tmp_path / "claims.csv")


# --- values in input findings (docs/scrub-rules.md, "Values in findings") --------------------------


def test_an_input_reason_quotes_no_value_of_the_claim(wh, tmp_path):
    setting = "Jane\x1b" + "x" * 100
    text = (f"{HEADER}\n"
            f"C1,1,1950-02-30,99213,,,1234567890,\"{setting}\"\n"  # a birth date and an SSN-like number
            "C1,2,03/02/1950,99213,,,0,\n"
            "C1,1234567890123,2026-07-01,99213,,,,\n"
            "C2,1,1931-07-19,ZELDA,,,0,987-65-4329\n")  # a name and an SSN in code columns
    rows = findings(wh, write(tmp_path, text))
    assert reasons(rows) == [
        ("C1", 1, "date_of_service is not a real date"),
        ("C1", 1, "units is above 99,999, the most one line may bill"),
        ("C1", 1, "setting is not practitioner, outpatient_hospital or dme"),
        ("C1", 2, "date_of_service is not written YYYY-MM-DD"),
        ("C1", 2, "units is not above 0"),
        ("C1", None, "line_number is not an integer from 1 to 2147483647"),
        ("C2", 1, "units is not above 0"),
        ("C2", 1, "setting is not practitioner, outpatient_hospital or dme"),
    ]
    assert [r["code"] for r in rows] == ["99213"] * 6 + [None] * 2  # ZELDA has no code's shape: not named
    text = " ".join(r["reason"] + " " + r["suggestion"] + " " + str(r["code"]) for r in rows)
    for value in ("1950", "03/02", "1234567890", "Jane", "ZELDA", "987-65", "1931"):
        assert value not in text


def test_other_checks_name_only_codes_and_no_date_of_service(wh, tmp_path):
    """validity and mue (no release in force here): a value without a code's shape is not named, and
    the date of service is "the line's date of service"."""
    text = ("claim_id,line_number,date_of_service,procedure_code,diagnosis_codes\n"
            "C1,1,1931-07-19,987654329,A00.0|987-65-4329\n"
            "C1,2,1931-07-19,ZELDA,Jane Q Patient\n"
            "C1,3,1931-07-19,J1100,\n")
    rows = findings(wh, write(tmp_path, text), ["validity", "mue"])  # within a line: sorted by reason
    got = [(r["line_number"], r["check"], r["severity"], r["code"], r["reason"], r["suggestion"]) for r in rows]
    day = "the line's date of service"
    assert got == [
        (1, "mue", "info", None, f"no MUE release in force for practitioner on {day}",
         f"load the MUE tables of the quarter holding {day} (codesets load ncci_mue FILE...)"),
        (1, "validity", "error", None, "diagnosis 2 is not an ICD-10-CM code by its shape (like I10, E11.9 or "
         "S72.001A)", None),
        (1, "validity", "info", "A000",
         f"principal diagnosis A000 (icd10cm) cannot be checked: no icd10cm release in force on {day}",
         f"load the icd10cm release holding {day}"),
        (1, "validity", "error", None, "procedure code is neither a HCPCS Level II code (a letter and four digits) "
         "nor a CPT code (four digits and a digit or F, M, T, U)", None),
        (2, "mue", "info", None, f"no MUE release in force for practitioner on {day}",
         f"load the MUE tables of the quarter holding {day} (codesets load ncci_mue FILE...)"),
        (2, "validity", "error", None, "principal diagnosis is not an ICD-10-CM code by its shape (like I10, E11.9 "
         "or S72.001A)", None),
        (2, "validity", "error", None, "procedure code is neither a HCPCS Level II code (a letter and four digits) "
         "nor a CPT code (four digits and a digit or F, M, T, U)", None),
        (3, "mue", "info", "J1100", f"no MUE release in force for practitioner on {day}",
         f"load the MUE tables of the quarter holding {day} (codesets load ncci_mue FILE...)"),
        (3, "validity", "info", "J1100",
         f"procedure code J1100 (hcpcs) cannot be checked: no hcpcs release in force on {day}",
         f"load the hcpcs release holding {day}"),
    ]
    shown = repr(got)
    for value in ("1931", "987654329", "987-65", "ZELDA", "Jane", "Patient"):
        assert value not in shown


def test_a_typed_infinite_date_is_a_finding_without_its_value(wh, tmp_path):
    import duckdb

    path = tmp_path / "claims.parquet"
    duckdb.connect().execute(
        "COPY (SELECT * FROM (VALUES ('P1', 1, '-infinity'::DATE, '99213'), ('P2', 1, 'infinity'::DATE, '99213'), "
        "('P3', 1, DATE '2026-07-01', '99213')) AS t(claim_id, line_number, date_of_service, procedure_code)) "
        f"TO '{path}'")
    rows = findings(wh, path)
    assert reasons(rows) == [("P1", 1, "date_of_service is not a real date"),
                             ("P2", 1, "date_of_service is not a real date")]
