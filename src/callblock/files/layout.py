"""Where the numbers are in a file's rows: whether its first row is a header, and which
columns hold the numbers and their expiries.

A first row whose number column does not read as a number, and that has letters, is a header.
"""

from __future__ import annotations

from dataclasses import dataclass

from callblock.files.plan import ADD_OPS, DELETE_OPS
from callblock.files.reading import FileProblem, Row
from callblock.numbers import InvalidNumber, is_pattern, normalise, normalise_prefix
from callblock.rules import COLUMN_POSITION_MAX

# Column names, compared case-insensitively, that name the number column of a header.
NUMBER_COLUMNS = ("number", "phone", "phone_number", "msisdn", "mobile", "telephone", "tel")
EXPIRY_COLUMNS = ("expires_at", "expiry", "expiry_date", "expirydate", "expires")
OP_COLUMNS = ("op", "operation", "action", "change")


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the numbers (and expiries) are in a file's rows."""

    header: list[str] | None
    number: int
    expiry: int | None
    width: int  # cells of the first row: shorter rows are padded to it on output
    delimiter: str = ","  # the file's, which its scrubbed copies keep
    op: int | None = None  # a change list's add/delete column
    number_cells: int = 1  # cells from ``number`` on that make a number (an area code pair: 2)

    def padded(self, values: list[str]) -> list[str]:
        missing = self.width - len(values)
        return values + [""] * missing if missing > 0 else values


def layout(
    first: Row,
    region: str,
    column: str | None,
    expiry_column: str | None,
    second: Row | None = None,
    *,
    ops: bool = False,
    op_column: str | None = None,
) -> Layout:
    """Decide from the first rows whether there is a header, and which columns to read.

    A first row is a header when it names the wanted column, or when none of its cells reads
    as a number and it has letters. Without ``column``, the number column is one with a usual
    name (``phone``, ``number``...), else the first whose cell reads as a number.
    """
    names = [v.strip().lower() for v in first.values]
    width = len(first.values)
    if column is not None and not column.strip().isdigit():
        has_header = column.strip().lower() in names
    else:
        has_header = _looks_like_header(first.values, names, region)
    header = first.values if has_header else None
    if column is not None:
        number = _column(names if has_header else None, column, (), default=None)
        if number is None or number >= width:
            raise FileProblem(f"no column {column!r} (the first row has {width}: {first.values})")
    elif has_header:
        named = _column(names, None, NUMBER_COLUMNS, default=None)
        sample = second.values if second is not None else []
        number = named if named is not None else _first_number(sample, region)
    else:
        number = _first_number(first.values, region)
    expiry = None
    if expiry_column is not None:
        expiry = _column(names if has_header else None, expiry_column, (), default=None)
        if expiry is None or expiry >= width:
            raise FileProblem(f"no column {expiry_column!r} (the first row has {width})")
    elif has_header:
        expiry = next((names.index(n) for n in EXPIRY_COLUMNS if n in names), None)
    op = None
    if ops:
        data = first.values if header is None else ([] if second is None else second.values)
        op = _op_column(names if has_header else None, op_column, data, number, width)
    return Layout(header, number, expiry, width, op=op)


def _op_column(
    names: list[str] | None, wanted: str | None, data: list[str], number: int, width: int
) -> int:
    """A change list's add/delete column: the one asked for, one of a usual name, or the
    first cell of the first data row that reads as an operation."""
    if wanted is not None:
        found = _column(names, wanted, (), default=None)
        if found is None or found >= width:
            raise FileProblem(f"no column {wanted!r} (the first row has {width})")
        return found
    named = _column(names, None, OP_COLUMNS, default=None)
    if named is not None:
        return named
    for position, value in enumerate(data):
        if position != number and value.strip().lower() in ADD_OPS | DELETE_OPS:
            return position
    raise FileProblem(
        "no add/delete column: a change list needs one (A/D, add/delete or +/-), named "
        f"{'/'.join(OP_COLUMNS)} or given with op_column"
    )


def _looks_like_header(values: list[str], names: list[str], region: str) -> bool:
    """A first row is a header when it names a usual column, or when it has letters, no
    cell reads as a number and no cell has five digits or more: ``98765x43490`` is a
    damaged number, to be reported as an invalid line, not skipped as a header."""
    if any(name in NUMBER_COLUMNS or name in EXPIRY_COLUMNS for name in names):
        return True
    if not any(c.isalpha() for c in "".join(names)):
        return False
    if any(sum(c.isdigit() for c in v) >= 5 for v in values):
        return False
    return not any(_reads_as_number(v, region) for v in values)


def _first_number(values: list[str], region: str) -> int:
    return next((i for i, v in enumerate(values) if _reads_as_number(v, region)), 0)


def _column(
    names: list[str] | None, wanted: str | None, known: tuple[str, ...], default: int | None
) -> int | None:
    if wanted is not None:
        if wanted.strip().isdigit():  # 1-based position
            position = int(wanted.strip())
            return position - 1 if 1 <= position <= COLUMN_POSITION_MAX else None
        if names is None:
            return None
        return names.index(wanted.strip().lower()) if wanted.strip().lower() in names else None
    if names is not None:
        for name in known:
            if name in names:
                return names.index(name)
    return default


def _reads_as_number(text: str, region: str) -> bool:
    try:
        if is_pattern(text):
            normalise_prefix(text, region)
        else:
            normalise(text, region)
    except InvalidNumber:
        return False
    return True
