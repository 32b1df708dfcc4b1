"""Export every table and view as Parquet, partitioned by source and release (Hive layout)."""

from __future__ import annotations

import shutil
from pathlib import Path

from codesets.warehouse.storage import Warehouse


def export_parquet(warehouse: Warehouse, directory: str | Path) -> list[tuple[str, int, str]]:
    """Write DIR/<relation>/ for each base table and view; return (relation, rows, layout).

    Relations with source and release_id columns are partitioned by both
    (``source=gems/release_id=2018/``), those with only release_id by it, the rest are one
    file. DuckDB, pyarrow and Spark read the folders with Hive partition discovery. Each
    relation is written to a temporary folder first and swapped in whole.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with warehouse.connect() as con:
        relations = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name"
        ).fetchall()
        for (name,) in relations:
            columns = {c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ?",
                [name],
            ).fetchall()}
            partition = [c for c in ("source", "release_id") if c in columns]
            target = out / name
            staging = out / f".{name}.tmp"
            shutil.rmtree(staging, ignore_errors=True)
            quoted = '"' + name.replace('"', '""') + '"'
            if partition:
                con.execute(
                    f"COPY (SELECT * FROM {quoted}) TO '{_path(staging)}' "
                    f"(FORMAT parquet, PARTITION_BY ({', '.join(partition)}))"
                )
            else:
                staging.mkdir()
                con.execute(f"COPY (SELECT * FROM {quoted}) TO '{_path(staging / 'data.parquet')}' (FORMAT parquet)")
            rows = con.execute(f"SELECT COUNT(*) FROM {quoted}").fetchone()[0]
            shutil.rmtree(target, ignore_errors=True)
            if staging.exists():
                staging.rename(target)
            else:  # an empty partitioned relation writes nothing
                target.mkdir()
            written.append((name, rows, "/".join(f"{c}=..." for c in partition) or "one file"))
    return written


def _path(path: Path) -> str:
    # COPY takes a literal path, not a parameter; it is ours (DIR from the user, names from the catalog).
    return str(path).replace("'", "''")
