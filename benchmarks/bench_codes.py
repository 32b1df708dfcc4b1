"""Benchmark the code-set loaders and validity answers on the real files in ../shared/data.

Run from the repository root with the project's virtual environment:

    python benchmarks/bench_codes.py [--repeat 3] [--pairs 1000000] [--workdir DIR]

It prints one table:

(a) each real release's `codesets load` in a fresh process, against DuckDB reading the same
    files as lines into a table of a database file (also a fresh process); medians of --repeat
    alternated runs, peak RSS of each. The XML has no DuckDB reader: its baseline is the same
    line read, so its ratio includes parsing the XML in Python.
(b) validity of --pairs (code, system, date) pairs in one batch (`validity(con, table)`): codes
    drawn from every loaded release (one in twenty made not a code), dated inside the window of
    the release they come from (as claims are), and again with dates spread over 2014-2027;
    first call on a fresh connection, then warm (median of --repeat).
(c) point lookups through `CodeLookup` on an open warehouse: the median of 20,000 billable
    codes (answered from memory), and of the answers that are not billable among 2,000 codes of
    every system asked as ICD-10-CM (unknown ones from memory; a code other releases list asks SQL).

A 2-core machine is noisy: read the ratios of figures from the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

RELEASES = [  # (label, source, release, files)
    ("ICD-10-CM 2021 order file", "icd10cm", "2021", ["icd10cm/fy2021_jan/icd10cm-order-Jan-2021.txt"]),
    ("ICD-10-CM 2021 tabular XML", "icd10cm", "2021", ["icd10cm/fy2021_jan/icd10cm_tabular_2021.xml"]),
    ("ICD-10-CM 2024 code file", "icd10cm", "2024", ["icd10cm/fy2024/icd10cm-codes-2024.txt"]),
    ("ICD-10-CM 2025-04 tabular XML", "icd10cm", "2025-04", ["icd10cm/fy2025_apr/icd10cm-tabular-April-2025.xml"]),
    ("ICD-10-CM 2026-04 tabular XML", "icd10cm", "2026-04", ["icd10cm/fy2026_apr/icd10c-tabular-April-1-2026.xml"]),
    ("ICD-10-PCS 2024 code file", "icd10pcs", "2024", ["icd10pcs/fy2024/icd10pcs-codes-2024.txt"]),
    ("HCPCS 2017 annual", "hcpcs", "2017", ["hcpcs/cms_annual_2017/HCPC17_CONTR_ANWEB.txt"]),
    ("HCPCS 2018 annual", "hcpcs", "2018", ["hcpcs/cms_annual_2018/HCPC2018_CONTR_ANWEB_disc.txt"]),
    ("HCPCS 2019 annual", "hcpcs", "2019", ["hcpcs/cms_annual_2019/HCPC2019_CONTR_ANWEB.txt"]),
    ("ICD-9-CM v32 (4 files)", "icd9cm", "v32", [f"icd9cm/v32/CMS32_DESC_{k}.txt" for k in
                                                ("LONG_DX", "SHORT_DX", "LONG_SG", "SHORT_SG")]),
]

READ_CHILD = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE lines AS SELECT * FROM read_csv(?, columns = {'raw': 'VARCHAR'}, header = false, "
            "auto_detect = false, delim = '\\\\x01', quote = '', escape = '', encoding = 'latin-1')", [sys.argv[2:]])
print(con.execute("SELECT COUNT(*) FROM lines").fetchone()[0])
"""


def run(argv: list[str], env=None) -> tuple[float, float]:
    """Run a command in a fresh process: (wall seconds, peak RSS in MiB)."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT, env=env)
        _pid, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            sys.exit(f"{' '.join(argv[:4])} failed:\n{err.read().decode(errors='replace').strip()[-2000:]}")
        return wall, usage.ru_maxrss / 1024


def bench_loads(work: Path, repeat: int) -> list[tuple]:
    codesets = [sys.executable, "-m", "codesets.cli.app"]
    rows = []
    for label, source, release, names in RELEASES:
        files = [str(DATA / n) for n in names]
        loads, reads = [], []
        for attempt in range(repeat):
            target = work / f"load-{attempt}"
            shutil.rmtree(target, ignore_errors=True)
            loads.append(run([*codesets, "--warehouse", str(target), "load", source, *files, "--release", release]))
            db = work / f"read-{attempt}.duckdb"
            db.unlink(missing_ok=True)
            reads.append(run([sys.executable, "-c", READ_CHILD, str(db), *files]))
        load_s, read_s = statistics.median(w for w, _ in loads), statistics.median(w for w, _ in reads)
        rows.append((label, load_s, read_s, load_s / read_s, max(m for _, m in loads), max(m for _, m in reads)))
    return rows


def build_warehouse(work: Path):
    from codesets.warehouse.load import load
    from codesets.warehouse.storage import Warehouse

    warehouse = Warehouse(work / "all")
    if warehouse.current() is None:
        for label, source, release, names in RELEASES:
            if label == "ICD-10-CM 2021 tabular XML":
                continue  # the same year as the order file: one rendering is enough here
            load(warehouse, source, [DATA / n for n in names], release)
    return warehouse


def make_batch(warehouse, pairs: int, spread: bool):
    """``pairs`` (code, system, date) rows: codes drawn from every loaded release (one in twenty made
    not a code). ``spread``: dates anywhere in 2014-2027, most of them outside any loaded release;
    otherwise a date inside the window of the release the code was drawn from, as a claim's date
    of service is inside the years a scrubber loads."""
    import pyarrow as pa

    with warehouse.connect() as con:
        known = con.execute(
            "SELECT code_system, code, release_effective_from, "
            "coalesce(release_effective_to, DATE '2027-12-31') FROM code_history"
        ).fetchall()
    rng = random.Random(7)
    first, span = date(2014, 1, 1).toordinal(), (date(2027, 12, 31) - date(2014, 1, 1)).days
    systems, codes, days = [], [], []
    for _ in range(pairs):
        system, code, start, end = known[rng.randrange(len(known))]
        if rng.random() < 0.05:
            code = code[:-1] + "Q" if len(code) > 3 else "ZZZZZ"
        systems.append(system)
        codes.append(code)
        if spread:
            days.append(date.fromordinal(first + rng.randrange(span)))
        else:
            days.append(date.fromordinal(start.toordinal() + rng.randrange((end - start).days + 1)))
    return pa.table({"code": codes, "code_system": systems, "on_date": pa.array(days, pa.date32())})


def bench_validity(warehouse, pairs: int, repeat: int, spread: bool):
    from codesets.query.validity import validity

    batch = make_batch(warehouse, pairs, spread)
    with warehouse.connect() as con:
        started = time.perf_counter()
        table = validity(con, batch)
        cold = time.perf_counter() - started
        warm = []
        for _ in range(repeat):
            started = time.perf_counter()
            validity(con, batch)
            warm.append(time.perf_counter() - started)
    statuses = table.group_by("status").aggregate([("status", "count")]).to_pylist()
    mix = ", ".join(f"{r['status']} {r['status_count']:,}" for r in sorted(statuses, key=lambda r: -r["status_count"]))
    return cold, statistics.median(warm), mix


def bench_lookups(warehouse) -> list[tuple]:
    from codesets.query.validity import CodeLookup, validity

    with warehouse.connect() as con:
        rows = con.execute(
            "SELECT code_system, code, release_effective_from FROM code_history WHERE billable "
            "AND code_system IN ('icd10cm', 'icd10pcs', 'hcpcs') USING SAMPLE 20000 ROWS"
        ).fetchall()
        lookup = CodeLookup(con)
        for system, code, day in rows[:50]:  # each release's rows read once, as a running scrubber has
            lookup(code, system, day)
        timings, other = [], []
        for system, code, day in rows:
            started = time.perf_counter()
            lookup(code, system, day)
            timings.append(time.perf_counter() - started)
        asked = validity(con, [c for _s, c, _d in rows[:2000]], "icd10cm", date(2026, 6, 1)).to_pylist()
        for answer in asked:
            if answer["status"] != "billable":
                started = time.perf_counter()
                lookup(answer["input"], "icd10cm", date(2026, 6, 1))
                other.append(time.perf_counter() - started)
    return [("billable codes (from memory)", statistics.median(timings), len(timings)),
            ("any other status (HCPCS, ICD-9 codes asked as ICD-10-CM: mostly unknown)",
             statistics.median(other) if other else float("nan"), len(other))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"the real files are not at {DATA}; they live in ../shared/data beside the repository")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-codes-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores; work folder {work}")
    print("\n(a) load and validate each release, fresh process, medians of", args.repeat)
    print(f"{'release':<32} {'load s':>7} {'read s':>7} {'ratio':>6} {'load MiB':>9} {'read MiB':>9}")
    for label, load_s, read_s, ratio, load_m, read_m in bench_loads(work, args.repeat):
        print(f"{label:<32} {load_s:7.2f} {read_s:7.2f} {ratio:6.1f} {load_m:9.0f} {read_m:9.0f}")
    warehouse = build_warehouse(work)
    print(f"\n(b) validity of {args.pairs:,} pairs in one batch (target: 1M under 0.5 s)")
    print(f"{'dates':<40} {'first call s':>12} {'warm s':>8}  statuses")
    for spread, label in ((False, "inside the loaded releases"), (True, "spread over 2014-2027")):
        cold, warm, mix = bench_validity(warehouse, args.pairs, args.repeat, spread)
        print(f"{label:<40} {cold:12.3f} {warm:8.3f}  {mix}")
    print("\n(c) point lookups on an open warehouse (target: median under 1 ms)")
    for label, seconds, count in bench_lookups(warehouse):
        print(f"{label:<40} median {seconds * 1000:9.3f} ms over {count:,}")


if __name__ == "__main__":
    main()
