"""The fast readers of plain files read exactly the cells the csv module reads.

Plain files (no quoting, one row a line) are split as text; others, and the rest of a file
from its first block that is not plain, go through the csv module. These properties compare
both against the csv module itself, with tiny blocks so that files switch readers midway.
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from callblock import files
from callblock.files import reading

CELL = st.text(alphabet="0123456789+ ab,;\"'\r\n\t|", max_size=6)
ROWS = st.lists(st.lists(CELL, min_size=1, max_size=4), max_size=12)
ENDINGS = st.sampled_from(["\n", "\r\n"])


@pytest.fixture(autouse=True)
def tiny_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "_BLOCK_CHARS", 7)
    monkeypatch.setattr(reading, "_SNIFF_CHARS", 5)


def _content(rows: list[list[str]], ending: str, raw: bool) -> str:
    """Rows as a file: joined with commas as they are (often not valid CSV) or quoted."""
    if raw:
        return "".join(",".join(row) + ending for row in rows)
    out = io.StringIO()
    csv.writer(out, lineterminator=ending).writerows(rows)
    return out.getvalue()


def _csv_module_rows(content: str) -> list[list[str]] | None:
    """What the csv module reads, with the dialect the reader sniffs; None if it refuses."""
    _, dialect = reading.sniffed(io.StringIO(content, newline=""))
    try:
        rows = list(csv.reader(io.StringIO(content, newline=""), dialect))
    except csv.Error:
        return None
    return [r for r in rows if r and (len(r) > 1 or r[0].strip())]


@given(ROWS, ENDINGS, st.booleans())
def test_scrub_rows_are_the_csv_module_rows(rows: list[list[str]], ending: str, raw: bool) -> None:
    content = _content(rows, ending, raw)
    expected = _csv_module_rows(content)
    try:
        got = list(files.value_rows(io.StringIO(content, newline="")))
    except files.FileProblem:
        got = None
    assert got == expected


@given(st.lists(st.text(alphabet="0123456789+ ,;a", max_size=14), max_size=12), ENDINGS)
# Found by this test: "; " sniffed as the delimiter with skipinitialspace, and a later block
# with no delimiter at all kept its lines' leading spaces, which the csv module drops.
@example(lines=["000; ", " 0"], ending="\n")
def test_import_lines_are_the_csv_module_rows(lines: list[str], ending: str) -> None:
    content = "".join(line + ending for line in lines)
    blocks = list(files.import_lines(io.StringIO(content, newline=""), "IN", None, None))
    got = (
        [n for b in blocks for n in b.lines],
        [n for b in blocks for n in b.numbers],
    )
    assert got == _reference_import(content)


def _reference_import(content: str) -> tuple[list[int], list[str]]:
    """Line numbers and number cells as the csv module and ``files.layout`` give them."""
    _, dialect = reading.sniffed(io.StringIO(content, newline=""))
    reader = csv.reader(io.StringIO(content, newline=""), dialect)
    rows = [(reader.line_num, v) for v in reader if v and (len(v) > 1 or v[0].strip())]
    if not rows:
        return [], []
    first = files.Row(*rows[0])
    second = files.Row(*rows[1]) if len(rows) > 1 else None
    found = files.layout(first, "IN", None, None, second)
    data = rows[1:] if found.header is not None else rows
    at = found.number
    return [line for line, _ in data], [v[at] if at < len(v) else "" for _, v in data]


def test_a_quote_after_plain_blocks_switches_to_the_csv_module() -> None:
    content = "phone,name\n9876543210,a\n9123456780,b\n" + '9000000001,"x, y"\n' * 3
    assert list(files.value_rows(io.StringIO(content, newline=""))) == [
        ["phone", "name"],
        ["9876543210", "a"],
        ["9123456780", "b"],
        *[["9000000001", "x, y"]] * 3,
    ]
