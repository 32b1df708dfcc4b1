"""Benchmark the storage foundation: the loader template at scale, and publish cost against history.

Run from the repository root with the project's virtual environment:

    python benchmarks/bench_foundation.py [--repeat N] [--lines N] [--history-mb N] [--max-rss-mb N]

It needs no data: GEM files are generated (gen_gems.py) in a temporary folder, removed at the
end. It measures, each several times, and prints one table:

1. load() of a generated --lines-line GEM into a new warehouse, next to DuckDB reading the same
   file as lines into a new database file, each in a fresh process per run: wall time from
   process start, time inside the process, peak RSS of the process (os.wait4);
2. publishing a 100-line release into an empty warehouse and into one holding about
   --history-mb MB of older releases; the warehouse's disk size against its Parquet files.

A 2-core machine is noisy: read the ratios between figures of the same run, not absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))  # gen_gems and bench_gems sit next to this file

from bench_gems import fmt, print_table, stats, verdict  # noqa: E402
from gen_gems import generate  # noqa: E402

RELEASE = "2090"  # the measured release; the history holds 2000, 2001, ...
SMALL_LINES = 100

# The two fresh-process programs of measure 1. Each prints the seconds its work took inside
# the process; the parent adds the wall time from spawn to exit and the peak RSS.
LOAD_CHILD = """
import json, sys, time
from codesets.warehouse.load import load
from codesets.warehouse.storage import Warehouse
started = time.perf_counter()
result = load(Warehouse(sys.argv[1]), "gems", [sys.argv[2]], release_id=sys.argv[3])
inside = time.perf_counter() - started
print(json.dumps({"inside": inside, "rows": result.row_count, "notes": result.notes}))
"""

READ_CHILD = """
import json, sys, time
import duckdb
started = time.perf_counter()
con = duckdb.connect(sys.argv[1])
con.execute(
    "CREATE TABLE lines AS SELECT * FROM read_csv(?, columns = {'raw': 'VARCHAR'}, header = false, "
    "delim = '\\x01', quote = '', escape = '', auto_detect = false)",
    [sys.argv[2]],
)
(rows,) = con.execute("SELECT count(*) FROM lines").fetchone()
con.close()
inside = time.perf_counter() - started
print(json.dumps({"inside": inside, "rows": rows, "notes": []}))
"""


def run_child(program: str, *args: str) -> dict:
    """Run ``program`` in a new Python process: wall seconds, inside seconds, peak RSS in MB."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", program, *args], stdout=out, stderr=err, cwd=ROOT)
        _pid, status, usage = os.wait4(child.pid, 0)  # this child's own rusage, not the max of all
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            err.seek(0)
            sys.exit(f"child process failed:\n{err.read().decode(errors='replace').strip()}")
        out.seek(0)
        report = json.loads(out.read().decode().strip().splitlines()[-1])
    return {**report, "wall": wall, "rss_mb": usage.ru_maxrss / 1024}  # ru_maxrss is in KiB on Linux


def bench_load(work: Path, big: Path, lines: int, repeat: int) -> dict[str, list[dict]]:
    """Measure 1: load() and DuckDB's read of the same file, alternating, in fresh processes."""
    sides = {
        "load": lambda target: run_child(LOAD_CHILD, str(target), str(big), RELEASE),
        "read": lambda target: run_child(READ_CHILD, str(target) + ".duckdb", str(big)),
    }
    runs: dict[str, list[dict]] = {name: [] for name in sides}
    for i in range(repeat + 1):  # the first round is unmeasured: it warms the page cache
        for name, run in sides.items():
            target = work / f"{name}{i}"
            report = run(target)
            if report["rows"] != lines or report["notes"]:
                sys.exit(f"{name} of {big} gave {report['rows']:,} rows (expected {lines:,}), notes {report['notes']}")
            shutil.rmtree(target, ignore_errors=True)
            Path(str(target) + ".duckdb").unlink(missing_ok=True)
            if i:
                runs[name].append(report)
    return runs


def build_history(work: Path, lines: int, megabytes: int, max_rss_mb: int) -> tuple[Path, int, float]:
    """A warehouse of about ``megabytes`` MB: releases 2000, 2001, ... of both directions, loaded here.

    Stops early, saying so, once this process's peak RSS passes ``max_rss_mb``.
    """
    from codesets.warehouse.load import load
    from codesets.warehouse.storage import Warehouse

    started = time.perf_counter()
    path = work / "history"
    releases = 0
    while disk_bytes(path) < megabytes * 1_000_000:
        if 2000 + releases >= int(RELEASE):  # the measured release must stay the newest
            sys.exit(f"{releases} releases of {lines:,} lines hold only {disk_bytes(path) / 1e6:,.0f} MB; raise --lines")
        direction = ("icd10cm-icd9cm", "icd9cm-icd10cm")[releases % 2]
        name = work / f"history{releases}_{'I10gem' if releases % 2 == 0 else 'I9gem'}.txt"
        generate(name, lines, seed=100 + releases, direction=direction)
        load_started = time.perf_counter()
        result = load(Warehouse(path), "gems", [name], release_id=str(2000 + releases))
        if result.status != "loaded" or result.notes:
            sys.exit(f"history release {2000 + releases} did not load cleanly: {result.summary()}")
        name.unlink()
        releases += 1
        peak = peak_rss_mb()
        print(f"  history: {releases} release(s), {disk_bytes(path) / 1e6:,.0f} MB; load "
              f"{time.perf_counter() - load_started:.0f} s, peak RSS {peak:,.0f} MB", file=sys.stderr)
        if peak > max_rss_mb:
            print(f"  stopping the history here: peak RSS passed --max-rss-mb {max_rss_mb:,}", file=sys.stderr)
            break
    return path, releases, time.perf_counter() - started


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def bench_publish(work: Path, history: Path, repeat: int) -> dict[str, list[float]]:
    """Measure 2: one small release into an empty warehouse and into the history, alternating.

    Times load() as a whole (in this process, imports warm) and, within it, Writer.publish:
    the new generation (catalog, views, fsyncs, garbage collection). The release is dropped
    from the history after each run, untimed, so every run meets the same history.
    """
    from codesets.warehouse import storage
    from codesets.warehouse.load import drop, load

    spans: list[float] = []
    original = storage.Writer.publish

    def timed_publish(self, catalog_rows):
        started = time.perf_counter()
        try:
            return original(self, catalog_rows)
        finally:
            spans.append(time.perf_counter() - started)

    storage.Writer.publish = timed_publish  # a stopwatch around the one method; restored below
    times: dict[str, list[float]] = {"empty": [], "history": [], "empty_publish": [], "history_publish": []}
    try:
        for i in range(repeat + 1):  # the first round is unmeasured
            small = generate(work / f"small{i}_I10gem.txt", SMALL_LINES, seed=1000 + i)
            for name, path in (("empty", work / f"empty{i}"), ("history", history)):
                spans.clear()
                started = time.perf_counter()
                result = load(storage.Warehouse(path), "gems", [small], release_id=RELEASE)
                seconds = time.perf_counter() - started
                if result.row_count != SMALL_LINES:
                    sys.exit(f"the {SMALL_LINES}-line release did not load into the {name} warehouse: {result.summary()}")
                if i:
                    times[name].append(seconds)
                    times[name + "_publish"].append(sum(spans))
            drop(storage.Warehouse(history), "gems", RELEASE)
            shutil.rmtree(work / f"empty{i}")
    finally:
        storage.Writer.publish = original
    return times


def disk_bytes(path: Path) -> int:
    """``du -sb``: apparent size of everything under ``path``, folders included."""
    if not path.exists():
        return 0
    return int(subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True).stdout.split()[0])


def contents(path: Path) -> tuple[int, int, int]:
    """Bytes and count of the Parquet data files, and the number of generations kept."""
    files = list((path / "data").rglob("*.parquet"))
    return sum(f.stat().st_size for f in files), len(files), len(list((path / "generations").glob("g*.duckdb")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timed measure (default 3)")
    parser.add_argument("--lines", type=int, default=4_500_000, help="lines of the large GEM files (default 4,500,000)")
    parser.add_argument("--history-mb", type=int, default=1000, help="size of the older releases (default 1000 MB)")
    parser.add_argument("--max-rss-mb", type=int, default=8000, help="stop building the history past this (default 8000)")
    options = parser.parse_args()

    print(
        f"cores {os.cpu_count()}, Python {platform.python_version()}, duckdb {metadata.version('duckdb')}, "
        f"codesets {metadata.version('codesets')}; {options.repeat} runs per timed measure; times are median (min)"
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_foundation-") as tmp:
        work = Path(tmp)
        print(f"generating {options.lines:,} GEM lines ...", file=sys.stderr)
        gen_started = time.perf_counter()
        big = generate(work / "big_I10gem.txt", options.lines, seed=1)
        gen_seconds = time.perf_counter() - gen_started
        print(f"loading and reading it {options.repeat + 1} times each, in new processes ...", file=sys.stderr)
        runs = bench_load(work, big, options.lines, options.repeat)
        big.unlink()
        print(f"building a history of about {options.history_mb:,} MB ...", file=sys.stderr)
        history, releases, build_seconds = build_history(work, options.lines, options.history_mb, options.max_rss_mb)
        print(f"publishing {SMALL_LINES}-line releases {options.repeat + 1} times each ...", file=sys.stderr)
        publish = bench_publish(work, history, options.repeat)
        disk = disk_bytes(history)
        data, data_files, generations = contents(history)

    load_wall, read_wall = (stats([r["wall"] for r in runs[n]]) for n in ("load", "read"))
    load_in, read_in = (stats([r["inside"] for r in runs[n]]) for n in ("load", "read"))
    load_rss, read_rss = (max(r["rss_mb"] for r in runs[n]) for n in ("load", "read"))
    empty_s, history_s = stats(publish["empty"]), stats(publish["history"])
    empty_p, history_p = stats(publish["empty_publish"]), stats(publish["history_publish"])
    wall_ratio, inside_ratio = load_wall[0] / read_wall[0], load_in[0] / read_in[0]
    publish_ratio, generation_ratio = history_s[0] / empty_s[0], history_p[0] / empty_p[0]

    rows = [
        (f"load {options.lines:,} lines, new process (wall)", fmt(load_wall), "DuckDB read: " + fmt(read_wall), "", ""),
        ("  load / DuckDB read, wall (medians)", f"{wall_ratio:.1f}x", "", "<= 4x", verdict(wall_ratio <= 4)),
        ("  load() inside the process", fmt(load_in), "DuckDB read: " + fmt(read_in), "", ""),
        ("  load / DuckDB read, inside (medians)", f"{inside_ratio:.1f}x", "", "<= 4x", verdict(inside_ratio <= 4)),
        ("  peak RSS (max of runs)", f"{load_rss:,.0f} MB", f"DuckDB read: {read_rss:,.0f} MB", "< 600 MB",
         verdict(load_rss < 600)),
        (f"publish {SMALL_LINES}-line release, empty warehouse", fmt(empty_s), "", "", ""),
        (f"publish {SMALL_LINES}-line release, {disk / 1e9:.2f} GB history", fmt(history_s), "", "", ""),
        ("  history / empty, load() (medians)", f"{publish_ratio:.2f}x", "", "~1x (<= 1.2x)", verdict(publish_ratio <= 1.2)),
        ("  Writer.publish within load()", "empty: " + fmt(empty_p), "history: " + fmt(history_p), "", ""),
        ("  history / empty, Writer.publish (medians)", f"{generation_ratio:.2f}x", "", "~1x (<= 1.2x)",
         verdict(generation_ratio <= 1.2)),
        ("  history held", f"{releases} releases, {data_files} Parquet files", f"{generations} generations", "", ""),
        ("warehouse on disk (du -sb) / Parquet data", f"{disk / data:.2f}x",
         f"{disk / 1e6:,.0f} MB / {data / 1e6:,.0f} MB", "<= 1.5x", verdict(disk / data <= 1.5)),
    ]
    print()
    print_table(rows)
    print()
    print(
        f"generating {options.lines:,} lines took {gen_seconds:.1f} s; building the history {build_seconds:.0f} s "
        f"({releases} loads of {options.lines:,} lines); peak RSS of this process {peak_rss_mb():,.0f} MB; "
        f"whole run {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
