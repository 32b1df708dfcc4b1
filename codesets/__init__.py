"""codesets: a versioned, effective-dated warehouse of US billing code sets on DuckDB."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """``codesets.connect()``: the default warehouse, read-only, in one line (imported on first use)."""
    if name == "connect":
        from codesets.query import connect

        return connect
    raise AttributeError(f"module 'codesets' has no attribute {name!r}")
