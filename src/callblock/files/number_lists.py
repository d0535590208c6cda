"""A number list's lines, ready for an import plan: its layout found, its cells as columns.

A list is read in one of its line formats (``LineFormat``): CSV (a column of numbers, found
or named), plain (one number a line, the whole line), a registry's area code and number
(``416,1234567``: North American numbers, under +1 whatever the account's region) or the UK
TPS's fixed-width records (``01635 506160``, a UK number whatever the account's region).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import IO

from callblock.files.layout import Layout, layout
from callblock.files.plan import ImportLines
from callblock.files.reading import (
    Dialect,
    FileProblem,
    Row,
    RowBlock,
    cells,
    line_blocks,
    row_blocks,
    sniffed,
    strict_csv,
)


class LineFormat(StrEnum):
    """How a number list's lines are read (docs/api.md, "Files")."""

    AUTO = "auto"  # area-code-pair when its first data row shows it unambiguously, else csv
    CSV = "csv"  # a column of numbers: named, or found from the first rows (``layout``)
    PLAIN = "plain"  # one number a line: the whole line, commas and all
    AREA_CODE_PAIR = "area-code-pair"  # ``416,1234567``: a NANP area code, then the number
    TPS = "tps"  # the UK TPS file: 12 characters a line, a UK national number with its 0


# A first data row that shows an area code and number beyond doubt: a NANP area code and a
# seven-digit number whose exchange code is one (both start with 2 to 9), comma-separated.
_AREA_CODE_PAIR_ROW = re.compile(r"[2-9]\d\d,[2-9]\d{6}")
_TPS_WIDTH = 12


def format_conflict(
    line_format: LineFormat, column: str | None, expiry_column: str | None, ops: bool
) -> str | None:
    """Why options cannot go with a line format, or None: columns are CSV's to name, and a
    change list is CSV with its column of operations."""
    if line_format in (LineFormat.AUTO, LineFormat.CSV):
        return None
    if column is not None or expiry_column is not None:
        return f"columns are for CSV files: format {line_format.value} has none to name"
    if ops:
        return f"a change list is a CSV file with a column of operations, not {line_format.value}"
    return None


def import_lines(
    text: IO[str],
    region: str,
    column: str | None,
    expiry_column: str | None,
    progress: Callable[[], None] | None = None,
    on_header: Callable[[Row], None] | None = None,
    on_layout: Callable[[Layout], None] | None = None,
    *,
    ops: bool = False,
    op_column: str | None = None,
    line_format: LineFormat = LineFormat.AUTO,
) -> Iterator[ImportLines]:
    """A number list's data lines as columns, block by block (its layout decided from its
    first rows); nothing for a file without rows. ``progress`` is called after each block;
    ``on_header`` with the first row, when it is read as a header (and so not imported);
    ``on_layout`` with the layout once decided (which columns are read, for a report).
    With ``ops``, each line also carries a change list's operation (``op_column``, or one
    found: ``layout``).

    Most lists are plain: no quoting, one row a line. Those are split as text, which is
    several times faster than the csv module and reads the same cells; from the first block
    that is not plain on, the csv module reads the rest.

    ``line_format`` says how the lines are read (``LineFormat``); options it cannot go with
    (``format_conflict``) are a FileProblem.
    """
    conflict = format_conflict(line_format, column, expiry_column, ops)
    if conflict is not None:
        raise FileProblem(conflict)
    if line_format in (LineFormat.PLAIN, LineFormat.TPS):
        yield from _whole_lines(text, region, line_format, progress, on_header, on_layout)
        return
    sample, dialect = sniffed(text)
    if line_format is LineFormat.AREA_CODE_PAIR or (
        line_format is LineFormat.AUTO
        and column is None
        and expiry_column is None
        and not ops
        and _shows_area_code_pairs(sample)
    ):
        yield from _area_code_pairs(sample, text, progress, on_header, on_layout)
        return
    found: Layout | None = None
    for block in row_blocks(sample, text, dialect, progress):
        skip = 0
        if found is None:
            if not block.lines:
                continue
            first = Row(block.lines[0], block.row(0, dialect))
            second = Row(block.lines[1], block.row(1, dialect)) if len(block.lines) > 1 else None
            found = layout(
                first, region, column, expiry_column, second, ops=ops, op_column=op_column
            )
            skip = 0 if found.header is None else 1
            if on_layout is not None:
                on_layout(found)
            if skip and on_header is not None:
                on_header(first)
        yield _columns(block, found, dialect, skip)


def _columns(block: RowBlock, found: Layout, dialect: Dialect, skip: int) -> ImportLines:
    """A block's number (and expiry) cells, without its first ``skip`` rows (a header)."""
    lines = block.lines[skip:]
    if block.texts is not None and not block.split and found.op is None:  # one cell a row
        numbers = block.texts[skip:] if skip else block.texts
        if dialect.skipinitialspace:  # as the csv module reads a cell (``cells``)
            numbers = [n.lstrip(" ") for n in numbers]
        return ImportLines(lines, numbers, None if found.expiry is None else [""] * len(lines))
    rows = block.rows[skip:] if block.rows is not None else None
    if rows is None:
        assert block.texts is not None
        rows = [cells(t, dialect) for t in block.texts[skip:]]
    at, expiry_at, op_at = found.number, found.expiry, found.op
    numbers = [r[at] if at < len(r) else "" for r in rows]
    expiries = (
        None if expiry_at is None else [r[expiry_at] if expiry_at < len(r) else "" for r in rows]
    )
    ops = None if op_at is None else [r[op_at] if op_at < len(r) else "" for r in rows]
    return ImportLines(lines, numbers, expiries, ops)


def _shows_area_code_pairs(sample: str) -> bool:
    """Whether the file's first data row (after a header of words, if any) is an area code
    and a number, beyond doubt (``_AREA_CODE_PAIR_ROW``)."""
    lines = [line.strip() for line in sample.splitlines() if line.strip()]
    if lines and not any(c.isdigit() for c in lines[0]) and any(c.isalpha() for c in lines[0]):
        lines = lines[1:]
    return bool(lines) and _AREA_CODE_PAIR_ROW.fullmatch(lines[0]) is not None


def _area_code_pairs(
    sample: str,
    text: IO[str],
    progress: Callable[[], None] | None,
    on_header: Callable[[Row], None] | None,
    on_layout: Callable[[Layout], None] | None,
) -> Iterator[ImportLines]:
    """Rows of an area code and a number (``416,1234567``), each read as ``+1`` and its ten
    digits; a row of one ten-digit cell too (the US registry's other shape). Any other row is
    an invalid line, shown as the file has it. A first row with letters and no digit is a
    header."""
    dialect = strict_csv()
    first = True
    for block in row_blocks(sample, text, dialect, progress):
        rows = [block.row(p, dialect) for p in range(len(block.lines))]
        lines = block.lines
        if first and rows:
            first = False
            joined = "".join(rows[0])
            header = any(c.isalpha() for c in joined) and not any(c.isdigit() for c in joined)
            if on_layout is not None:
                on_layout(Layout(rows[0] if header else None, 0, None, 2, number_cells=2))
            if header:
                if on_header is not None:
                    on_header(Row(lines[0], rows[0]))
                rows, lines = rows[1:], lines[1:]
        yield ImportLines(
            lines, [_nanp(row) for row in rows], None, inputs=[",".join(row) for row in rows]
        )


def _nanp(row: list[str]) -> str:
    """A row's North American number in E.164, or nothing (an invalid line) if it is not
    an area code and a number."""
    digits = "".join(cell.strip() for cell in row)
    shape = [len(cell.strip()) for cell in row]
    if digits.isascii() and digits.isdigit() and shape in ([3, 7], [10]):
        return "+1" + digits
    return ""


def _whole_lines(
    text: IO[str],
    region: str,
    line_format: LineFormat,
    progress: Callable[[], None] | None,
    on_header: Callable[[Row], None] | None,
    on_layout: Callable[[Layout], None] | None,
) -> Iterator[ImportLines]:
    """Plain lists (each line's text is its number, read with the account's region; a first
    line that ``layout`` reads as a header is one) and TPS files (no header)."""
    first = True
    for lines, texts in line_blocks(text, progress):
        if first and texts:
            first = False
            found = Layout(None, 0, None, 1)
            if line_format is LineFormat.PLAIN:
                found = layout(Row(lines[0], [texts[0]]), region, None, None)
            if on_layout is not None:
                on_layout(found)
            if found.header is not None:
                if on_header is not None:
                    on_header(Row(lines[0], found.header))
                lines, texts = lines[1:], texts[1:]
        if line_format is LineFormat.TPS:
            yield ImportLines(lines, [_tps(t) for t in texts], None, inputs=texts)
        else:
            yield ImportLines(lines, [t.strip() for t in texts], None)


def _tps(record: str) -> str:
    """A TPS record's UK number in E.164, or nothing (an invalid line). A record is 12
    characters: the national number with its 0, its dialling code and the rest apart
    (``01635 506160``, ``0207 3787244``) or together and padded with spaces
    (``02073787244 ``); spaces at its end may be missing, as an editor trims them."""
    kept = record.rstrip()
    digits = kept.replace(" ", "")
    if len(kept) <= _TPS_WIDTH and digits.isascii() and digits.isdigit() and digits[:1] == "0":
        return "+44" + digits[1:]
    return ""
