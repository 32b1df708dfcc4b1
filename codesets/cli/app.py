"""The `codesets` command: a global --warehouse option and one module per command group.

Each command parses its options, calls one library function and renders the result.
Domain errors (codesets.core.errors.CodesetsError) print one line and exit non-zero.
"""

from __future__ import annotations

from typing import Optional

import typer
from typer.core import TyperGroup

from codesets.cli import export, map as map_cmd, releases, scrub, sql, sources
from codesets.cli import code as code_cmd, diff as diff_cmd, snomed as snomed_cmd
from codesets.core.config import ENV_WAREHOUSE
from codesets.core.errors import CodesetsError, SystemFailure, WarehouseError



class _Codesets(TyperGroup):
    """Every failure a user can cause becomes one message and a documented exit code, never a traceback."""

    def invoke(self, ctx):
        import warnings

        warnings.showwarning = _one_line_warning
        try:
            return super().invoke(ctx)
        except CodesetsError as exc:
            typer.echo(f"codesets: {_printable(str(exc))}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as other tools do
            import os
            import sys

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        except OSError as exc:  # a file or folder the system refused: unreadable, read-only, disk full
            where = f" ({_printable(str(exc.filename))})" if exc.filename else ""
            typer.echo(f"codesets: {exc.strerror or exc}{where}", err=True)
            raise typer.Exit(SystemFailure.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("codesets: interrupted", err=True)
            raise typer.Exit(130) from None
        except Exception as exc:  # a bug of ours: still one line, the traceback on request
            if type(exc).__module__.split(".")[0] in ("typer", "click"):
                raise  # typer's own way out: --help, exit codes, usage errors (it vendors click)
            first = (str(exc).strip().splitlines() or [""])[0]
            if first.endswith("Query interrupted"):  # Ctrl-C reached DuckDB mid-query
                typer.echo("codesets: interrupted", err=True)
                raise typer.Exit(130) from None
            if "duckdb" in type(exc).__module__ and ".parquet" in first:
                typer.echo(
                    f"codesets: a data file of the warehouse cannot be read ({_printable(first)}); "
                    "`codesets drop` the release it belongs to and load it again",
                    err=True,
                )
                raise typer.Exit(WarehouseError.exit_code) from None
            if _debugging():
                raise
            # The exception's text can hold claim data (a value of a row, PHI): name only its
            # type and where it was raised. CODESETS_DEBUG=1 shows the whole traceback.
            typer.echo(
                f"codesets: unexpected error ({_where(exc)}); this is a bug: "
                "run again with CODESETS_DEBUG=1 for the traceback and report it",
                err=True,
            )
            raise typer.Exit(1) from None


def _debugging() -> bool:
    import os

    return os.environ.get("CODESETS_DEBUG", "").strip() not in ("", "0")


def _where(exc: BaseException) -> str:
    """``OverflowError in pyarrow.lib.to_pylist, from codesets.cli.common._write_table``: the
    exception's type, the function that raised it and the last of ours on the way, without
    the exception's text or any value."""
    name = type(exc).__qualname__
    module = type(exc).__module__
    kind = name if module in ("builtins", "__main__") else f"{module}.{name}"
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        frames.append(f"{tb.tb_frame.f_globals.get('__name__', '?')}.{getattr(code, 'co_qualname', code.co_name)}")
        tb = tb.tb_next
    if not frames:
        return kind
    text = f"{kind} in {frames[-1]}"
    ours = [f for f in frames if f.startswith("codesets.") and not f.startswith("codesets.cli.app.")]
    if ours and ours[-1] != frames[-1]:
        text += f", from {ours[-1]}"
    return _printable(text)


def _printable(text: str) -> str:
    """Messages may carry file names and values from files: no raw control characters reach the terminal."""
    from codesets.core.text import printable

    return printable(text)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    typer.echo(f"codesets: warning: {_printable(str(message))}", err=True)


def _print_version(value: bool) -> None:
    if value:
        from codesets import __version__

        typer.echo(f"codesets {__version__}")
        raise typer.Exit(0)


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
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
    ),
) -> None:
    """Global options."""


sources.register(app)
releases.register(app)
code_cmd.register(app)
snomed_cmd.register(app)
map_cmd.register(app)
sql.register(app)
scrub.register(app)
diff_cmd.register(app)
app.add_typer(export.app, name="export")


def main() -> None:
    """The console script. Usage errors, too, are one line (typer would draw a box around them)."""
    import sys

    from typer.main import get_command

    try:
        code = get_command(app).main(prog_name="codesets", standalone_mode=False)
    except Exception as exc:
        if type(exc).__module__.split(".")[0] not in ("typer", "click") or not hasattr(exc, "format_message"):
            raise
        command = getattr(getattr(exc, "ctx", None), "command_path", "codesets")
        if exc.format_message().strip():  # empty after the help that a bare `codesets` prints
            typer.echo(f"codesets: {_printable(exc.format_message())} (see `{command} --help`)", err=True)
        sys.exit(getattr(exc, "exit_code", 2))
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
