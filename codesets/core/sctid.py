"""SNOMED CT identifiers (SCTIDs): the Verhoeff check digit and the partition, in Python and in SQL.

An SCTID is 6 to 18 digits, no leading zero. Read from the right:

    digit 1        the check digit: Verhoeff's dihedral-group check over every digit before it
    digits 2-3     the partition: the first of them 0 (short format: no namespace) or 1 (long
                   format: a 7-digit namespace precedes the partition), the second the kind of
                   component: 0 concept, 1 description, 2 relationship
    the rest       the item identifier (and, long format, the namespace)

A one-digit slip (a bit flipped, a digit mistyped, two neighbours swapped) changes the check
digit, so an id that fails it is refused rather than loaded as another concept. The tables
below are the one definition: ``check_digit_ok`` reads them for one id (the tests' twin),
``check_digits_ok`` for an Arrow array of ids at once (what the loader's checks use), and
``sql_partition_ok`` is the partition rule in SQL.
"""

from __future__ import annotations

import re

# d(j, k): the multiplication table of the dihedral group D5
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
# p(i, k): the permutation applied to a digit i places from the right (it repeats every 8)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
# inv(j): the inverse of j in D5, which makes the check digit
_INVERSE = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)

SHAPE = r"[1-9][0-9]{5,17}"  # the digits of an SCTID, as a SQL and Python regular expression
# the partition's second digit, by the kind of component an id names
KINDS = {"concept": "0", "description": "1", "relationship": "2"}

_SHAPE = re.compile(SHAPE)


def _checksum(digits: str) -> int:
    """Verhoeff's running check over ``digits`` read from the right; 0 when the last is its check digit."""
    check = 0
    for place, char in enumerate(reversed(digits)):
        check = _D[check][_P[place % 8][int(char)]]
    return check


def check_digit(digits: str) -> str:
    """The Verhoeff check digit to append to ``digits`` (a string of decimal digits)."""
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"not a string of decimal digits: {digits!r}")
    return str(_INVERSE[_checksum(digits + "0")])


def make(item: str, kind: str = "concept") -> str:
    """The short-format SCTID of item identifier ``item`` for a ``kind`` of component: the item, the
    partition (0, then 0 concept, 1 description, 2 relationship), the check digit. For made-up ids."""
    body = f"{item}0{KINDS[kind]}"
    return body + check_digit(body)


def check_digit_ok(sctid: str) -> bool:
    """True when the last digit of ``sctid`` is the Verhoeff check digit of the digits before it."""
    return sctid.isascii() and sctid.isdigit() and len(sctid) >= 2 and _checksum(sctid) == 0


def partition_ok(sctid: str, kind: str) -> bool:
    """True when the partition digits of ``sctid`` say a ``kind`` ('concept', 'description', 'relationship')."""
    return len(sctid) >= 3 and sctid[-3] in "01" and sctid[-2] == KINDS[kind] and (sctid[-3] == "0" or len(sctid) >= 11)


def is_valid(sctid: str, kind: str = "concept") -> bool:
    """An SCTID of a ``kind`` of component: its shape, its partition and its check digit."""
    return _SHAPE.fullmatch(sctid) is not None and partition_ok(sctid, kind) and check_digit_ok(sctid)


def check_digits_ok(values):
    """For each SCTID of the Arrow array ``values`` (digits, at most 18), whether its check digit is right.

    The loader's checks run this once per distinct id of a file, vectorised: a relationship file
    holds millions of ids, so no Python object is made per id. Digit i from the right of every id
    is read at once; a shorter id reads 0 there, as if written with leading zeros, which Verhoeff
    counts, so the product is compared with what those zeros alone give (``_ZEROS``).
    """
    import numpy as np
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], pa.string())
    values = values.cast(pa.large_string())
    count = len(values)
    if count == 0:
        return np.zeros(0, dtype=bool)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[values.offset:values.offset + count + 1]
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)
    ends, lengths = offsets[1:], np.diff(offsets)
    if lengths.max() > 18 or lengths.min() < 1:
        raise ValueError("an SCTID has 1 to 18 digits")
    d, p = np.array(_D, dtype=np.intp).ravel(), np.array(_P, dtype=np.intp)
    check = np.zeros(count, dtype=np.intp)
    for place in range(18):
        present = lengths > place
        digit = (data.take(np.where(present, ends - 1 - place, 0)).astype(np.intp) - 48) * present
        check = d.take(10 * check + p[place % 8].take(digit))
    return check == np.array(_ZEROS, dtype=np.intp).take(lengths)


def _zeros_checksum(length: int) -> int:
    """Verhoeff's running check over 18 - ``length`` zeros in places ``length`` to 17 from the right."""
    check = 0
    for place in range(length, 18):
        check = _D[check][_P[place % 8][0]]
    return check


_ZEROS = tuple(_zeros_checksum(length) for length in range(19))


def sql_partition_ok(column: str, kind: str) -> str:
    """SQL that is TRUE when the partition digits of ``column`` (an SCTID's digits) say a ``kind``."""
    second = KINDS[kind]
    return (
        f"(substr({column}, -3, 2) = '0{second}' "
        f"OR (substr({column}, -3, 2) = '1{second}' AND length({column}) >= 11))"
    )
