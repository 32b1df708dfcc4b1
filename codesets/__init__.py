"""codesets: a versioned, effective-dated warehouse of US billing code sets on DuckDB."""

__version__ = "0.1.0"
