"""Where the warehouse lives: the flag, then CODESETS_WAREHOUSE, then the XDG data directory."""

from __future__ import annotations

import os
from pathlib import Path

ENV_WAREHOUSE = "CODESETS_WAREHOUSE"


def default_warehouse() -> Path:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "codesets" / "warehouse"


def warehouse_path(flag: str | os.PathLike | None = None) -> Path:
    """Resolve the warehouse directory: ``--warehouse``, else the environment, else the default."""
    if flag:
        return Path(flag).expanduser()
    env = os.environ.get(ENV_WAREHOUSE)
    if env:
        return Path(env).expanduser()
    return default_warehouse()
