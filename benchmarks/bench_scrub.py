"""Benchmark the scrub target of docs/ARCHITECTURE.md: codesets against a per-line dictionary engine.

Run from the repository root with the project's virtual environment:

    python benchmarks/bench_scrub.py [--workdir DIR] [--ptp-rows 4500000] [--claims 1000000] [--repeat 3]
    python benchmarks/bench_scrub.py --dict-only      # the dictionary engine alone

1. Generates a full NCCI quarter (8 PTP files, 3 MUE tables) and the claim lines with
   gen_ncci.py into DIR/quarter, or reuses them when DIR/quarter was made with the same options;
2. loads them into a fresh warehouse DIR/warehouse with the CLI
   (``codesets --warehouse W load ncci_ptp <8 files>``, then ``load ncci_mue <3 files>``);
3. in a fresh Python process per engine, so that the peak RSS is that engine's:
   codesets, ``scrub(claims, checks=("ptp", "mue"), warehouse=W)``: cold (import, read the
   claims, open, first result) and warm (the calls after the first, in the same process);
   the dictionary engine (dict_engine.py): build (read the raw files, build the dictionaries),
   cold (import to first result, build included) and warm;
4. compares the two findings tables, all columns, sorted in the order of docs/scrub-rules.md,
   and prints one table with the targets beside.

A 2-core machine is noisy: read the ratios between figures of the same run, not absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))  # gen_ncci and dict_engine sit next to this file

import dict_engine  # noqa: E402

DEFAULT_WORKDIR = Path(tempfile.gettempdir()) / "codesets-bench-scrub"
CHECKS = ("ptp", "mue")
MARKER = "bench_scrub.json"  # what the quarter in DIR/quarter was generated with

# The child programs. Each starts its clock at its first statement, measures inside, takes its
# own peak RSS before writing the findings, and prints one JSON line.
CODESETS_CHILD = """
import time
started = time.perf_counter()
import json, resource, statistics, sys
import pyarrow as pa
import pyarrow.parquet as pq
from codesets.scrub import scrub

warehouse, claims_path, out, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def as_table(result):
    if isinstance(result, pa.Table):
        return result
    for method in ("read_all", "to_arrow_table", "arrow"):
        if hasattr(result, method):
            return getattr(result, method)()
    return pa.Table.from_pandas(result, preserve_index=False)

claims = pq.read_table(claims_path)
findings = as_table(scrub(claims, checks=("ptp", "mue"), warehouse=warehouse))
cold = time.perf_counter() - started
warm, cpu = [], []
for _ in range(repeat):
    t0, c0 = time.perf_counter(), time.process_time()
    findings = as_table(scrub(claims, checks=("ptp", "mue"), warehouse=warehouse))
    warm.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
pq.write_table(findings, out)
print(json.dumps({"build": None, "cold": cold, "warm": warm, "cpu": cpu, "rss_mb": rss_mb,
                  "findings": findings.num_rows}))
"""

DICT_CHILD = """
import time
started = time.perf_counter()
import gc, json, resource, sys
import pyarrow.parquet as pq
sys.path.insert(0, sys.argv[5])
import dict_engine

folder, claims_path, out, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
t0 = time.perf_counter()
engine = dict_engine.DictEngine.from_folder(folder)
gc.freeze()  # the dictionaries live as long as the process: out of the collector's way
build = time.perf_counter() - t0
claims = pq.read_table(claims_path)
findings = engine.scrub(claims, checks=("ptp", "mue"))
cold = time.perf_counter() - started
warm, cpu = [], []
for _ in range(repeat):
    t0, c0 = time.perf_counter(), time.process_time()
    findings = engine.scrub(claims, checks=("ptp", "mue"))
    warm.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
pq.write_table(findings, out)
print(json.dumps({"build": build, "cold": cold, "warm": warm, "cpu": cpu, "rss_mb": rss_mb,
                  "findings": findings.num_rows}))
"""


def fail(message: str) -> None:
    sys.exit(f"bench_scrub: {message}")


def missing_in_codesets() -> str | None:
    """What codesets still lacks for this benchmark (scrub, the NCCI loaders), or None."""
    try:
        import codesets.scrub as scrubbing
    except Exception as error:  # noqa: BLE001 - any import failure is reported in one line
        return f"codesets does not import ({type(error).__name__}: {error})"
    lacking = []
    if not callable(getattr(scrubbing, "scrub", None)):
        lacking.append("codesets.scrub.scrub")
    try:
        from codesets.loaders import available
        sources = available()
    except Exception as error:  # noqa: BLE001
        return f"the codesets loaders do not load ({type(error).__name__}: {error})"
    lacking += [f"a loader for source {s}" for s in ("ncci_ptp", "ncci_mue") if s not in sources]
    return ", ".join(lacking) + " (not written yet?)" if lacking else None


def quarter(workdir: Path, options) -> tuple[list[Path], list[Path], Path]:
    """The quarter's PTP files, MUE tables and claims: generated, or reused when made with the same options."""
    folder = workdir / "quarter"
    wanted = {"quarter": options.quarter, "seed": options.seed, "ptp_rows": options.ptp_rows,
              "mue_rows": options.mue_rows, "claims": options.claims}
    marker = folder / MARKER
    ptp, mue = dict_engine.quarter_files(folder) if folder.is_dir() else ([], [])
    claims = folder / "claims.parquet"
    try:
        reusable = json.loads(marker.read_text()) == wanted and len(ptp) == 8 and len(mue) == 3 and claims.is_file()
    except (OSError, ValueError):
        reusable = False
    if reusable:
        print(f"reusing the quarter in {folder}", file=sys.stderr)
        return ptp, mue, claims
    from gen_ncci import generate

    print(f"generating {options.ptp_rows:,} PTP rows and {options.claims:,} claim lines into {folder} ...",
          file=sys.stderr)
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    generate(folder, options.quarter, seed=options.seed, ptp_rows=options.ptp_rows, mue_rows=options.mue_rows,
             claims=options.claims)
    marker.write_text(json.dumps(wanted))
    print(f"  generated in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    ptp, mue = dict_engine.quarter_files(folder)
    return ptp, mue, claims


def load(warehouse: Path, ptp: list[Path], mue: list[Path]) -> float:
    """Load the quarter with the CLI into a fresh warehouse; return the seconds both loads took."""
    shutil.rmtree(warehouse, ignore_errors=True)
    cli = Path(sys.executable).with_name("codesets")
    command = [str(cli)] if cli.is_file() else [sys.executable, "-m", "codesets.cli.app"]
    seconds = 0.0
    for source, files in (("ncci_ptp", ptp), ("ncci_mue", mue)):
        print(f"codesets load {source} ({len(files)} files) ...", file=sys.stderr)
        started = time.perf_counter()
        done = subprocess.run([*command, "--warehouse", str(warehouse), "load", source, *map(str, files)],
                              capture_output=True, text=True, cwd=ROOT)
        seconds += time.perf_counter() - started
        if done.returncode != 0:
            last = (done.stderr.strip() or done.stdout.strip() or "no message").splitlines()[-1]
            fail(f"`codesets load {source}` failed (exit {done.returncode}): {last[:300]}")
    return seconds


def run_child(program: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", program, *args], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        last = (done.stderr.strip() or "no message").splitlines()[-1]
        fail(f"a child process failed (exit {done.returncode}): {last[:300]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def normalised_rows(path: Path) -> tuple[list[tuple] | None, str]:
    """The findings as tuples of the doc's columns (text, integers), and a note on their shape."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    notes = []
    missing = [c for c in dict_engine.FINDING_COLUMNS if c not in table.column_names]
    if missing:
        return None, "missing columns: " + ", ".join(missing)
    if tuple(table.column_names) != dict_engine.FINDING_COLUMNS:
        notes.append("columns " + ", ".join(table.column_names))
    columns = []
    for name in dict_engine.FINDING_COLUMNS:
        column = table.column(name)
        wanted = pa.int64() if name in ("line_number", "related_line_number") else pa.string()
        columns.append(column.cast(wanted).to_pylist())
    rows = list(zip(*columns))
    if rows != sorted(rows, key=dict_engine._order):
        notes.append("not in the doc's order")
    return rows, "; ".join(notes)


def compare(ours: Path, theirs: Path, show: int = 5) -> tuple[bool, list[str]]:
    """Whether the codesets findings equal the dictionary engine's (all columns, sorted); the differences."""
    rows_a, note_a = normalised_rows(ours)
    rows_b, _ = normalised_rows(theirs)
    lines = [f"codesets findings: {note_a}"] if note_a else []
    if rows_a is None:
        return False, lines
    rows_a.sort(key=dict_engine._order)
    if rows_a == rows_b:
        return True, lines
    only_a = Counter(rows_a) - Counter(rows_b)
    only_b = Counter(rows_b) - Counter(rows_a)
    lines.append(f"{sum(only_a.values()):,} findings only from codesets, {sum(only_b.values()):,} only from the "
                 f"dictionary engine; the first {show} of each, with the other side's finding of the same key:")
    key = lambda row: (row[0], row[1], row[2], row[5], row[7])  # noqa: E731 - claim, line, check, related, reference
    by_key_a = {key(r): r for r in rows_a}
    by_key_b = {key(r): r for r in rows_b}
    names = dict_engine.FINDING_COLUMNS
    for label, extra, other in (("codesets", only_a, by_key_b), ("dict", only_b, by_key_a)):
        for row in sorted(extra, key=dict_engine._order)[:show]:
            twin = other.get(key(row))
            if twin is None:
                lines.append(f"  only {label}: {dict(zip(names, row))}")
            else:
                diff = {n: (a, b) for n, a, b in zip(names, row, twin) if a != b}
                lines.append(f"  {label} differs at {key(row)}: " + "; ".join(
                    f"{n}: {a!r} vs {b!r}" for n, (a, b) in diff.items()))
    return False, lines


def median_min(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} (min {min(values):.3f})" if values else "-"


def print_table(rows: list[tuple[str, ...]]) -> None:
    header = ("engine", "build s", "cold s", "warm s", "warm CPU s", "peak RSS MB", "findings")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR,
                        help=f"where the quarter, the warehouse and the findings go (default {DEFAULT_WORKDIR}); "
                             "a quarter generated there with the same options is reused")
    parser.add_argument("--ptp-rows", type=int, default=4_500_000, help="PTP rows of the quarter (default 4,500,000)")
    parser.add_argument("--claims", type=int, default=1_000_000, help="claim lines (default 1,000,000)")
    parser.add_argument("--mue-rows", type=int, default=30_000, help="MUE rows over the 3 tables (default 30,000)")
    parser.add_argument("--quarter", default="v322r0", help="NCCI version of the generated files (default v322r0)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="warm calls per engine after the first (default 3)")
    parser.add_argument("--dict-only", action="store_true", help="time the dictionary engine alone (no codesets)")
    options = parser.parse_args()
    if options.repeat < 1 or options.claims < 1 or options.ptp_rows < 8:
        parser.error("--repeat and --claims must be at least 1, --ptp-rows at least 8")

    if not options.dict_only:
        lacking = missing_in_codesets()
        if lacking:
            fail(f"codesets lacks {lacking}; run with --dict-only to time the dictionary engine alone")

    started = time.perf_counter()
    workdir = options.workdir.absolute()
    workdir.mkdir(parents=True, exist_ok=True)
    ptp, mue, claims = quarter(workdir, options)
    if len(ptp) != 8 or len(mue) != 3:
        fail(f"{workdir / 'quarter'} holds {len(ptp)} PTP files and {len(mue)} MUE tables, expected 8 and 3")
    ours_out, theirs_out = workdir / "findings-codesets.parquet", workdir / "findings-dict.parquet"

    results: dict[str, dict] = {}
    if not options.dict_only:
        warehouse = workdir / "warehouse"
        load_seconds = load(warehouse, ptp, mue)
        print(f"codesets scrub in a new process ({options.repeat} warm calls) ...", file=sys.stderr)
        results["codesets"] = run_child(CODESETS_CHILD, str(warehouse), str(claims), str(ours_out),
                                        str(options.repeat))
        results["codesets"]["build"] = load_seconds
    print(f"dictionary engine in a new process ({options.repeat} warm calls) ...", file=sys.stderr)
    results["dict"] = run_child(DICT_CHILD, str(claims.parent), str(claims), str(theirs_out), str(options.repeat),
                                str(BENCH))

    theirs = results["dict"]
    rows = [("dict engine", f"{theirs['build']:.1f}", f"{theirs['cold']:.2f}", median_min(theirs["warm"]),
             f"{statistics.median(theirs['cpu']):.2f}", f"{theirs['rss_mb']:,.0f}", f"{theirs['findings']:,}")]
    details: list[str] = []
    if "codesets" in results:
        ours = results["codesets"]
        identical, details = compare(ours_out, theirs_out)
        speedup = statistics.median(theirs["warm"]) / statistics.median(ours["warm"])
        memory = ours["rss_mb"] / theirs["rss_mb"]
        warm_ok = statistics.median(ours["warm"]) < 1.5 and speedup >= 10
        rows.insert(0, ("codesets", f"{ours['build']:.1f} (CLI load)", f"{ours['cold']:.2f}", median_min(ours["warm"]),
                        f"{statistics.median(ours['cpu']):.2f}", f"{ours['rss_mb']:,.0f}", f"{ours['findings']:,}"))
        rows += [
            ("target (codesets)", "", "< 1", "< 1.5, >= 10x faster", "", "< 1/4 of dict", "identical"),
            ("verdict", "", "ok" if ours["cold"] < 1 else "MISSED",
             f"{'ok' if warm_ok else 'MISSED'} ({speedup:.1f}x)", "", f"{'ok' if memory < 0.25 else 'MISSED'} "
             f"({memory:.2f}x)", "identical" if identical else "DIFFERENT"),
        ]
    print()
    print_table(rows)
    for line in details:
        print(line)
    print()
    print(f"{options.claims:,} claim lines, {options.ptp_rows:,} PTP rows ({options.quarter}, seed {options.seed}), "
          f"checks {', '.join(CHECKS)}; cores {os.cpu_count()}, Python {platform.python_version()}, "
          f"duckdb {metadata.version('duckdb')}, pyarrow {metadata.version('pyarrow')}")
    print(f"warm: wall seconds, median (min) of {options.repeat} calls; warm CPU: median CPU seconds of the "
          "process over a call, all threads (steadier than wall on a shared machine); cold: from the child's "
          "first statement (imports, build, reading the claims) to the first findings")
    print(f"whole run {time.perf_counter() - started:.0f} s; load average at the end "
          + "/".join(f"{x:.1f}" for x in os.getloadavg()) + " (1, 5, 15 min)")


if __name__ == "__main__":
    main()
