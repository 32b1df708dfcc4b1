"""The `codesets` command: a global --warehouse option and one module per command group.

Each command parses its options, calls one library function and renders the result.
Domain errors (codesets.errors.CodesetsError) print one line and exit non-zero.
"""

from __future__ import annotations

from typing import Optional

import typer
from typer.core import TyperGroup

from codesets.cli import export, map as map_cmd, releases, sql, sources
from codesets.config import ENV_WAREHOUSE
from codesets.errors import CodesetsError



class _Codesets(TyperGroup):
    """Domain errors become one line on stderr and the error's exit code, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CodesetsError as exc:
            typer.echo(f"codesets: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    cls=_Codesets,
    name="codesets",
    help="A versioned, effective-dated warehouse of US billing code sets and GEM maps.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main_options(
    warehouse: Optional[str] = typer.Option(
        None,
        "--warehouse",
        "-w",
        envvar=ENV_WAREHOUSE,
        help="Warehouse directory (env CODESETS_WAREHOUSE; default ~/.local/share/codesets/warehouse).",
        show_envvar=False,
    ),
) -> None:
    """Global options."""


sources.register(app)
releases.register(app)
map_cmd.register(app)
sql.register(app)
app.add_typer(export.app, name="export")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
