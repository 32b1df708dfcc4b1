"""What every command shares: the warehouse from the global option, and output rendering."""

from __future__ import annotations

import enum
import json
import sys

import typer

from codesets.config import warehouse_path
from codesets.text import aligned


class Format(str, enum.Enum):
    table = "table"
    csv = "csv"
    json = "json"


def warehouse(ctx: typer.Context):
    """The Warehouse named by --warehouse, CODESETS_WAREHOUSE or the default."""
    from codesets.warehouse.storage import Warehouse

    flag = ctx.find_root().params.get("warehouse") if ctx else None
    return Warehouse(warehouse_path(flag))


def render(table, fmt: Format = Format.table, out=None) -> None:
    """Print an Arrow table as an aligned text table, CSV (lists joined by spaces) or JSON."""
    out = out or sys.stdout
    if fmt is Format.csv:
        import csv

        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(table.column_names)
        for row in table.to_pylist():
            writer.writerow([_cell(v) for v in row.values()])
    elif fmt is Format.json:
        json.dump(table.to_pylist(), out, default=str, indent=1)
        out.write("\n")
    else:
        out.write(_text_table(table))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(_cell(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _text_table(table) -> str:
    rows = [[_cell(v) for v in row.values()] for row in table.to_pylist()]
    footer = f"({len(rows)} row{'s' if len(rows) != 1 else ''})"
    return aligned(table.column_names, rows) + "\n" + footer + "\n"
