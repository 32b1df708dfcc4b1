"""Plain aligned text tables, for the CLI's output and for load errors."""

from __future__ import annotations


def aligned(names, rows) -> str:
    """Header, a rule of dashes, then the rows; cells are strings, columns padded to fit."""
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]
    lines = [
        "  ".join(n.ljust(w) for n, w in zip(names, widths)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)
