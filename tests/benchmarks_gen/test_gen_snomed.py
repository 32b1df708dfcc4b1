"""benchmarks/gen_snomed.py at a small scale: the RF2 layouts, the rule mix, the problems, determinism,
and the SQL batch against the Python evaluator on what it writes."""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesets.core import sctid as _sctid
from tests.conftest import benchmark_module

SMALL = {"concepts": 1_500, "problems": 4_000}


def _load_gen():
    return benchmark_module("gen_snomed")


gen = _load_gen()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("snomed")
    gen.generate(out, seed=1, csv=True, **SMALL)
    return out


def lines(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n")
    rows = raw.decode("ascii").split("\r\n")[:-1]
    assert all("\n" not in row and "\r" not in row for row in rows), "bare CR or LF inside a line"
    return [row.split("\t") for row in rows]


def map_rows(files: Path) -> list[dict]:
    rows = lines(files / gen.MAP_NAME)
    assert tuple(rows[0]) == gen.MAP_HEADER
    return [dict(zip(gen.MAP_HEADER, row)) for row in rows[1:]]


def relationship_rows(files: Path) -> list[dict]:
    rows = lines(files / gen.RELATIONSHIP_NAME)
    assert tuple(rows[0]) == gen.RELATIONSHIP_HEADER
    return [dict(zip(gen.RELATIONSHIP_HEADER, row)) for row in rows[1:]]


@pytest.fixture(scope="module")
def verhoeff():
    con = duckdb.connect()
    con.execute(gen.VERHOEFF)
    yield con
    con.close()


@settings(max_examples=300, deadline=None)
@given(body=st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_the_sql_check_digit_is_pythons(verhoeff, body):
    """The generator's SQL macro gives _sctid.check_digit's digit for any string of digits (leading
    zeros, every length mod 8 and past 18 digits), and the id it makes passes the loader's check."""
    digit, made = verhoeff.execute("SELECT verhoeff($body), with_check($body)", {"body": body}).fetchone()
    assert digit == _sctid.check_digit(body)
    assert made == body + digit and _sctid.check_digit_ok(made)


def test_the_sql_check_digit_catches_what_verhoeff_catches(verhoeff):
    """A known id and its one-digit slips: the published example 404684003 (Clinical finding), a
    digit changed and two neighbours swapped each give another check digit."""
    assert verhoeff.execute("SELECT verhoeff('40468400')").fetchone()[0] == "3"
    slips = ["40468410", "40486400", "04468400", "40468404"]
    got = [row[0] for row in verhoeff.execute("SELECT verhoeff(unnest($slips))", {"slips": slips}).fetchall()]
    assert "3" not in got and got == [_sctid.check_digit(s) for s in slips]


def test_every_id_written_is_a_valid_sctid(files):
    for r in map_rows(files):
        for field in ("moduleId", "referencedComponentId", "correlationId", "mapCategoryId"):
            assert _sctid.is_valid(r[field]), (field, r[field])
        for named in re.findall(r"IFA ([0-9]+) ", r["mapRule"]):
            assert _sctid.is_valid(named), named
    for r in relationship_rows(files):
        assert _sctid.is_valid(r["id"], "relationship"), r["id"]
        for field in ("moduleId", "sourceId", "destinationId", "typeId", "characteristicTypeId", "modifierId"):
            assert _sctid.is_valid(r[field]), (field, r[field])
    problems = pq.read_table(files / gen.PROBLEMS_NAME).to_pylist()
    assert all(_sctid.is_valid(r["concept"]) for r in problems)
    assert all(_sctid.is_valid(c) for r in problems if r["problems"] for c in r["problems"].split("|"))


def test_writes_the_three_files(files):
    assert sorted(p.name for p in files.iterdir()) == sorted(
        [gen.MAP_NAME, gen.RELATIONSHIP_NAME, gen.PROBLEMS_NAME, gen.PROBLEMS_CSV])


def test_map_fields_are_rf2(files):
    rows = map_rows(files)
    assert 1.3 * SMALL["concepts"] < len(rows) < 1.8 * SMALL["concepts"]
    uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
    target = re.compile(r"[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?|[ST][0-9]{2}\.[0-9]{2}[0-9X]\?")
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert uuid.fullmatch(r["id"]), r
        assert re.fullmatch(r"20[0-9]{6}", r["effectiveTime"])
        assert (r["moduleId"], r["refsetId"], r["correlationId"]) == (gen.MODULE, gen.REFSET, gen.CORRELATION)
        assert re.fullmatch(r"[1-9][0-9]{5,17}", r["referencedComponentId"])
        assert r["mapGroup"] in ("1", "2", "3") and int(r["mapPriority"]) >= 1
        assert r["mapCategoryId"] in (gen.PROPERLY, gen.CANNOT, gen.CONTEXT)
        assert r["mapTarget"] == "" or target.fullmatch(r["mapTarget"]), r["mapTarget"]
        assert (r["mapTarget"] == "") == (r["mapCategoryId"] == gen.CANNOT)
    assert Counter(r["active"] for r in rows)["0"] > 0
    # priorities of a group are 1..n without gaps (the inactive record shares priority 1 with its successor)
    groups = defaultdict(list)
    for r in rows:
        if r["active"] == "1":
            groups[(r["referencedComponentId"], r["mapGroup"])].append(int(r["mapPriority"]))
    assert all(sorted(p) == list(range(1, len(p) + 1)) for p in groups.values())
    assert {g for _c, g in groups} == {"1", "2", "3"}


def test_rule_mix_holds_each_kind_in_the_real_forms(files):
    from codesets.core.snomed_rules import AllOf, parse

    rows = [r for r in map_rows(files) if r["active"] == "1"]
    for text in {r["mapRule"] for r in rows}:
        parse(text)  # every rule reads
    shapes = Counter()
    for r in rows:
        rule = re.sub(r"IFA [0-9]{11} \| Synthetic disorder [0-9]+ \(disorder\) \|", "IFA <concept>", r["mapRule"])
        shapes[rule] += 1
    age = "IFA 445518008 | Age at onset of clinical finding (observable entity) | "
    for shape in ("TRUE", "OTHERWISE TRUE", "IFA 248152002 | Female (finding) |", "IFA 248153007 | Male (finding) |",
                  age + "< 29.0 days", age + "< 18.0 years", age + ">= 18.0 years", "IFA <concept>",
                  "IFA <concept> AND " + age + "< 18.0 years"):
        assert shapes[shape] > 0, shape
    assert set(shapes) == {"TRUE", "OTHERWISE TRUE", "IFA 248152002 | Female (finding) |",
                           "IFA 248153007 | Male (finding) |", age + "< 29.0 days", age + "< 18.0 years",
                           age + ">= 18.0 years", "IFA <concept>", "IFA <concept> AND " + age + "< 18.0 years"}
    assert isinstance(parse(next(r["mapRule"] for r in rows if " AND " in r["mapRule"])), AllOf)
    by_concept = defaultdict(list)
    for r in rows:
        by_concept[r["referencedComponentId"]].append(r)
    assert len(by_concept) == SMALL["concepts"]
    single_true = sum(1 for rs in by_concept.values() if len(rs) == 1 and rs[0]["mapRule"] == "TRUE")
    assert 0.8 < single_true / len(by_concept) < 0.92
    assert any(r["mapTarget"].endswith("?") for r in rows) and any(r["mapTarget"] == "" for r in rows)
    # advice says what the rule says
    for r in rows:
        if r["mapRule"] == "TRUE" and r["mapTarget"]:
            assert r["mapAdvice"].startswith("ALWAYS " + r["mapTarget"])
        if r["mapTarget"].endswith("?"):
            assert r["mapAdvice"].endswith("EPISODE OF CARE INFORMATION NEEDED")


def test_relationships_are_a_dag_over_the_map(files):
    rows = relationship_rows(files)
    for r in rows:
        assert re.fullmatch(r"[1-9][0-9]{5,17}", r["id"])
        assert r["active"] in ("0", "1") and r["moduleId"] == gen.MODULE
        assert (r["characteristicTypeId"], r["modifierId"]) == (gen.INFERRED, gen.EXISTENTIAL)
        if r["typeId"] == gen.IS_A:
            assert r["relationshipGroup"] == "0"
        else:
            assert r["typeId"] == gen.FINDING_SITE and r["relationshipGroup"] == "1"
    assert len({r["id"] for r in rows}) == len(rows)
    kinds = Counter((r["typeId"], r["active"]) for r in rows)
    assert kinds[(gen.IS_A, "0")] > 0 and kinds[(gen.FINDING_SITE, "1")] > 0
    parents = defaultdict(set)
    for r in rows:
        if r["typeId"] == gen.IS_A and r["active"] == "1":
            parents[r["sourceId"]].add(r["destinationId"])
    assert len(parents) == 2 * SMALL["concepts"]  # the mapped concepts and as many unmapped
    assert sum(len(p) == 2 for p in parents.values()) > 0
    mapped = {r["referencedComponentId"] for r in map_rows(files)}
    assert mapped <= set(parents)
    # every concept reaches the root, and no path comes back to where it started
    done = {gen.ROOT_CONCEPT}

    def reach(concept, path=()):
        if concept in done:
            return
        assert concept not in path, "cycle"
        for parent in parents[concept]:
            reach(parent, path + (concept,))
        done.add(concept)

    for concept in parents:
        reach(concept)
    # the concepts exclusion rules name have descendants
    children = defaultdict(set)
    for child, ps in parents.items():
        for p in ps:
            children[p].add(child)
    named = {m.group(1) for r in map_rows(files) for m in re.finditer(r"IFA ([0-9]{11}) ", r["mapRule"])}
    assert named and all(children[c] for c in named)


def test_problems_have_the_columns_and_the_null_patterns(files):
    table = pq.read_table(files / gen.PROBLEMS_NAME)
    assert table.column_names == ["problem_id", "concept", "sex", "age", "problems"]
    assert all(str(t) == "string" for t in table.schema.types)
    rows = table.to_pylist()
    n = len(rows)
    assert n == SMALL["problems"] and len({r["problem_id"] for r in rows}) == n
    share = lambda test: sum(1 for r in rows if test(r)) / n  # noqa: E731
    assert 0.10 < share(lambda r: r["sex"] is None) < 0.20
    assert 0.15 < share(lambda r: r["age"] is None) < 0.25
    assert 0.30 < share(lambda r: r["problems"] is None) < 0.50
    assert {r["sex"] for r in rows} == {"F", "M", None}
    assert all(r["age"] is None or re.fullmatch(r"[0-9]+[dwmy]", r["age"]) for r in rows)
    assert {r["age"][-1] for r in rows if r["age"]} == set("dwmy")
    assert all(r["problems"] is None or re.fullmatch(r"[0-9]{9,11}(\|[0-9]{9,11})*", r["problems"]) for r in rows)
    mapped = {r["referencedComponentId"] for r in map_rows(files)}
    in_hierarchy = {r["sourceId"] for r in relationship_rows(files)}
    kinds = Counter("mapped" if r["concept"] in mapped else "hierarchy" if r["concept"] in in_hierarchy
                    else "unknown" for r in rows)
    assert 0.05 < kinds["hierarchy"] / n < 0.18 and 0 < kinds["unknown"] / n < 0.02
    # the rule concepts of exclusions reach problem lists; sex findings too when sex is missing
    named = {m.group(1) for r in map_rows(files) for m in re.finditer(r"IFA ([0-9]{11}) ", r["mapRule"])}
    listed = [set((r["problems"] or "").split("|")) for r in rows]
    assert any(items & named for items in listed)
    assert any({gen.FEMALE, gen.MALE} & items for r, items in zip(rows, listed) if r["sex"] is None)
    csv = duckdb.connect().execute(
        f"SELECT count(*) FROM (SELECT * FROM read_csv('{files / gen.PROBLEMS_CSV}', all_varchar = true) "
        f"EXCEPT ALL SELECT * FROM '{files / gen.PROBLEMS_NAME}')").fetchone()[0]
    assert csv == 0


def test_same_seed_same_files(files, tmp_path):
    gen.generate(tmp_path, seed=1, **SMALL)
    for name in (gen.MAP_NAME, gen.RELATIONSHIP_NAME):
        assert (tmp_path / name).read_bytes() == (files / name).read_bytes(), name
    assert pq.read_table(tmp_path / gen.PROBLEMS_NAME).equals(pq.read_table(files / gen.PROBLEMS_NAME))
    gen.generate(tmp_path / "seed2", seed=2, concepts=200, problems=10)
    gen.generate(tmp_path / "seed1", seed=1, concepts=200, problems=10)
    assert (tmp_path / "seed2" / gen.MAP_NAME).read_bytes() != (tmp_path / "seed1" / gen.MAP_NAME).read_bytes()


def test_lf_line_endings(tmp_path):
    gen.generate(tmp_path, seed=1, concepts=50, problems=0, crlf=False)
    raw = (tmp_path / gen.MAP_NAME).read_bytes()
    assert b"\r" not in raw and raw.count(b"\n") > 50


def test_map_loads_with_the_real_loader(files, warehouse):
    from codesets.warehouse.load import load

    result = load(warehouse, "snomed_icd10cm", [files / gen.MAP_NAME], release_id="20240301")
    assert [(p.part, p.status) for p in result.parts] == [("snapshot", "loaded")]
    rows = map_rows(files)
    with warehouse.connect() as con:
        in_force = con.execute("SELECT count(*), count(DISTINCT referenced_component_id) FROM snomed_icd10cm_map")
        assert in_force.fetchone() == (sum(r["active"] == "1" for r in rows), SMALL["concepts"])


def test_relationship_file_loads_when_the_loader_claims_it(files, warehouse):
    from codesets.loaders.snomed_icd10cm import LOADER
    from codesets.warehouse.load import load

    path = files / gen.RELATIONSHIP_NAME
    if LOADER.claim(path) is None:
        pytest.skip("the snomed_icd10cm loader does not claim RF2 relationship files yet")
    load(warehouse, "snomed_icd10cm", [files / gen.MAP_NAME], release_id="20240301")
    result = load(warehouse, "snomed_icd10cm", [path], release_id="20240301")
    assert [(p.part, p.status) for p in result.parts] == [("relationship", "loaded")]


def test_batch_agrees_with_the_python_evaluator(files, warehouse):
    from codesets.warehouse.load import load
    from codesets.snomed.batch import evaluate_batch
    from codesets.snomed.evaluate import SnomedLookup

    load(warehouse, "snomed_icd10cm", [files / gen.MAP_NAME], release_id="20240301")
    problems = pq.read_table(files / gen.PROBLEMS_NAME)
    with warehouse.connect() as con:
        answers = evaluate_batch(con, problems).to_pylist()
        lookup = SnomedLookup(con)
        by_problem = defaultdict(list)
        for row in answers:
            by_problem[row["problem_id"]].append(row)
        rows = problems.to_pylist()
        rng = random.Random(0)
        # half the sample among the concepts with context rules, where the two could disagree
        context = [r for r in rows if any(rec.map_rule != "TRUE" for rec in lookup.records(r["concept"]))]
        sample = rng.sample(context, 150) + rng.sample(rows, 150)
        statuses = Counter()
        for r in sample:
            python = lookup.lookup(r["concept"], sex=r["sex"], age=r["age"],
                                   problems=r["problems"].split("|") if r["problems"] else [])
            sql = by_problem[r["problem_id"]]
            if not python:
                assert [(a["status"], a["map_group"]) for a in sql] == [("no map records", None)], r
                statuses["no map records"] += 1
                continue
            assert [(a.map_group, a.status, a.target, a.record_id, list(a.needs)) for a in python] == \
                [(a["map_group"], a["status"], a["target"], a["record_id"], a["needs"]) for a in sql], r
            statuses.update(a.status for a in python)
    assert len(statuses) >= 5, statuses  # the sample meets most answers, not only 'mapped'
