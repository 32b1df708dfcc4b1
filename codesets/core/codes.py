"""Codes at the edge: canonical form, dotted display, and code selectors (ranges, prefixes).

The warehouse stores every code canonical: undotted, upper case (``25000``, ``R6521``,
``0016070``). People type ``250.00``, `` r65.21 `` or ``25000``; ``normalize`` turns all
of them into the stored form, and ``display`` puts the dot back where the code system
prints one.

A selector is what a user may ask ``codesets map`` for: one code, a prefix (``E11*``) or
a range (``I60-I66.1``). ``Selector.matches`` is the Python twin of the SQL predicate the
translation query uses (``gem_translate.sql``); tests hold the two to the same answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from codesets.core.errors import QueryError

GEM_SYSTEMS = ("icd9cm", "icd10cm", "icd9pcs", "icd10pcs")
CODE_SYSTEMS = ("icd9cm", "icd10cm", "icd9pcs", "icd10pcs", "hcpcs", "cpt", "snomedct")

# Which loader's releases list the codes of each code system is declared by the loaders
# (codesets.loaders.validity_systems), not here.

# Shapes of valid codes per system, canonical form. They describe the code systems, not
# any one release, so a code that fits may still be absent from a GEM. ASCII digits only:
# \d would also accept other scripts' digits.
PATTERNS = {
    "icd9cm": re.compile(r"(?:[0-9]{3,5}|V[0-9]{2,4}|E[0-9]{3,4})"),
    # a letter and a digit, or (FY2026's QA0 category) two letters and a digit; 3 to 7 characters
    "icd10cm": re.compile(r"[A-Z][0-9][0-9A-Z]{1,5}|[A-Z]{2}[0-9][0-9A-Z]{0,4}"),
    "icd9pcs": re.compile(r"[0-9]{2,4}"),
    "icd10pcs": re.compile(r"[0-9A-HJ-NP-Z]{7}"),  # PCS never uses the letters I and O
    "hcpcs": re.compile(r"[A-Z][0-9]{4}"),  # HCPCS Level II: a letter and four digits (A0021, J9999)
    "hcpcs_modifier": re.compile(r"[0-9A-Z]{2}"),  # HCPCS and CPT modifiers: two characters (25, LT, A1)
    # CPT Category I is five digits; Category II nnnnF, Category III nnnnT, PLA nnnnU, nnnnM (MAAA).
    "cpt": re.compile(r"[0-9]{4}[0-9FTUM]"),
}

_CANONICAL = re.compile(r"[0-9A-Z]+")


def normalize(code: str) -> str:
    """The canonical form of a code: surrounding blanks and one dot removed, upper case.

    Raises QueryError, naming the value, for an empty code or one with other characters.
    """
    if not isinstance(code, str):
        raise QueryError(f"code {code!r} is not text; pass codes as strings such as '250.00'")
    # Checked before upper(), which turns some non-ASCII letters into ASCII ('ß' -> 'SS').
    text = code.strip() if code.strip().isascii() else "\x00"
    text = text.upper()
    if text.count(".") > 1:
        raise QueryError(f"code {code!r} has more than one dot; write it like '250.00' or '25000'")
    text = text.replace(".", "")
    if not text:
        raise QueryError(f"code {code!r} is empty; give a code such as '250.00' or 'R65.21'")
    if not _CANONICAL.fullmatch(text):
        raise QueryError(
            f"code {code!r} has characters other than letters, digits and one dot; "
            "give a code such as '250.00' or 'R65.21'"
        )
    return text


def matches(code: str, system: str) -> bool:
    """Whether a canonical code has the shape of a code of ``system``."""
    return bool(PATTERNS[system].fullmatch(code))


def display(code: str | None, system: str) -> str | None:
    """A canonical code as the code system prints it: ``250.00``, ``V45.81``, ``E880.9``,
    ``R65.21``, ``00.01``; ICD-10-PCS has no dot. Unknown systems pass through."""
    if code is None:
        return None
    if system == "icd9cm":
        split = 4 if code.startswith("E") else 3
    elif system == "icd10cm":
        split = 3
    elif system == "icd9pcs":
        split = 2
    else:
        return code
    return code if len(code) <= split else f"{code[:split]}.{code[split:]}"



def dotted(table, systems: dict):
    """A pyarrow table with the codes of the columns named in ``systems`` as ``display`` prints them.

    ``systems`` maps a column to the code system of its codes, or to a list of systems, one per
    row. A column is text or a list of text; a value joining a combination's codes with '+'
    (``E1165+Z794``) is dotted code by code. The one place codes are dotted for display: the
    stored (and JSON) form stays undotted.
    """
    import itertools

    import pyarrow as pa

    def shown(value, system):
        if value is None or "+" not in value:
            return display(value, system)
        return " + ".join(display(part.strip(), system) for part in value.split("+"))

    for name, system in systems.items():
        if name not in table.column_names or system is None:
            continue
        per_row = itertools.repeat(system) if isinstance(system, str) else system
        kind = table.schema.field(name).type
        values = table.column(name).to_pylist()
        if pa.types.is_list(kind) or pa.types.is_large_list(kind):
            column = pa.array([None if v is None else [shown(x, s) for x in v] for v, s in zip(values, per_row)],
                              pa.list_(pa.string()))
        else:
            column = pa.array([shown(v, s) for v, s in zip(values, per_row)], pa.string())
        table = table.set_column(table.schema.get_field_index(name), name, column)
    return table


@dataclass(frozen=True)
class Selector:
    """What one input asks for. ``kind`` is 'code', 'prefix' or 'range'; ``low`` is the code,
    the prefix or the range start; ``high`` is the range end (else None). All canonical."""

    text: str
    kind: str
    low: str
    high: str | None = None

    def matches(self, code: str) -> bool:
        """The Python twin of the SQL selection in gem_translate.sql."""
        if self.kind == "code":
            return code == self.low
        if self.kind == "prefix":
            return code.startswith(self.low)
        return code[: len(self.low)] >= self.low and code[: len(self.high)] <= self.high


def parse_selector(text: str) -> Selector:
    """Read one input: ``E11*`` is a prefix, ``I60-I66.1`` a range, anything else one code.

    A range A-B takes every code whose first len(A) characters are >= A and whose first
    len(B) characters are <= B, so ``I60-I66.1`` holds I60.x through I66.1x but not I66.2.
    """
    if not isinstance(text, str):
        raise QueryError(f"code {text!r} is not text; pass codes as strings such as '250.00'")
    stripped = text.strip()
    if stripped.endswith("*"):
        return Selector(text, "prefix", normalize(stripped[:-1]))
    if "-" in stripped:
        start, sep, end = stripped.partition("-")
        if "-" in end:
            raise QueryError(f"range {text!r} has more than one '-'; write a range as 'I60-I66.1'")
        low, high = normalize(start), normalize(end)
        shared = min(len(low), len(high))
        if low[:shared] > high[:shared]:
            raise QueryError(f"range {text!r} starts after it ends; write the lower code first")
        return Selector(text, "range", low, high)
    return Selector(text, "code", normalize(stripped))
