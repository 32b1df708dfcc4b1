"""Toy checks for the tests: a check module and its SQL file in a temporary folder, found by discovery.

Nothing central is edited: the folder is named by CODESETS_SCRUB_CHECKS, as a site's own checks would be.
"""

from __future__ import annotations

from pathlib import Path

from codesets.scrub import checks


def add_check(monkeypatch, folder: Path, name: str, sql: str, *, severity: str = "info", default: bool = False,
              order: int = 100, needs: tuple[str, ...] = ()) -> str:
    """Write check ``name`` (module and scrub_<name>.sql) into ``folder`` and let discovery see the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(
        f'"""Toy check {name}."""\n'
        "from codesets.scrub.checks import Check\n\n"
        f"CHECK = Check(name={name!r}, summary='toy check {name}', severity={severity!r}, default={default!r},\n"
        f"              order={order!r}, reads=('claim_lines',), needs={needs!r})\n"
    )
    (folder / f"scrub_{name}.sql").write_text(f"-- scrub_{name}: a toy check\n{sql}\n")
    extra = [str(folder)] + [f for f in checks.folders() if f != str(folder)]
    monkeypatch.setenv(checks.ENV, __import__("os").pathsep.join(extra))
    return name
