"""A number list's lines, ready for an import plan: its layout found, its cells as columns."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO

from callblock.files.layout import Layout, layout
from callblock.files.plan import ImportLines
from callblock.files.reading import Dialect, Row, RowBlock, cells, row_blocks, sniffed


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
    """
    sample, dialect = sniffed(text)
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
