"""One base exception and a subclass per area; the CLI prints them without a traceback."""

from __future__ import annotations


class CodesetsError(Exception):
    """Base class of every error a user can act on. The message names the fix."""

    exit_code = 1


class ConfigError(CodesetsError):
    """A flag, environment variable or path is wrong."""

    exit_code = 2


class UsageError(CodesetsError):
    """The command was asked for something that cannot be: an unknown source, a missing file."""

    exit_code = 2


class SourceUnknown(UsageError):
    """No loader has that source name."""


class WarehouseError(CodesetsError):
    """The warehouse's files are damaged or cannot be used as they are."""

    exit_code = 74  # EX_IOERR: what is on disk is wrong, not what was asked


class NoWarehouse(UsageError):
    """The warehouse directory holds no warehouse yet."""


class WarehouseBusy(WarehouseError):
    """Another process is publishing a release right now."""

    exit_code = 75  # EX_TEMPFAIL: try again later


class SourceError(CodesetsError):
    """A file cannot be recognised or read as the source it claims to be."""

    exit_code = 65  # EX_DATAERR


class SystemFailure(CodesetsError):
    """The operating system refused: a file cannot be read, the disk is full, a folder is read-only."""

    exit_code = 74  # EX_IOERR


class LoadRejected(SourceError):
    """Rows failed the schema checks; nothing was published.

    ``rejects`` holds every failing row as a dict with file, line, column, value, rule.
    """

    def __init__(self, message: str, rejects: list[dict], rejects_path: str | None = None):
        super().__init__(message)
        self.rejects = rejects
        self.rejects_path = rejects_path


class QueryError(CodesetsError):
    """A query or translation request is malformed."""

    exit_code = 2


class QueryTimeout(QueryError):
    """A query ran past its time limit and was stopped."""
