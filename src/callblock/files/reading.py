"""Bulk work over files: number lists to import, groups to export, calling lists to scrub.

Shared by the CLI and the HTTP routes (each adds only its own input and output).

A file is CSV or plain text (one number a line), optionally gzip-compressed. A first row whose
number column does not read as a number, and that has letters, is a header. Rows are yielded
with their line numbers so that every refusal can point at its line.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import IO, TYPE_CHECKING, Any

from callblock.domain import NOT_A_NUMBER, WITHHELD_BLOCKED
from callblock.files.plan import ImportLines
from callblock.numbers import InvalidNumber, is_pattern, normalise, normalise_prefix

if TYPE_CHECKING:
    from callblock.domain import Actor, Direction
    from callblock.service import Service

SCRUB_CHUNK = 50_000
_BLOCK_CHARS = 1 << 22

# Column names, compared case-insensitively, that name the number column of a header.
NUMBER_COLUMNS = ("number", "phone", "phone_number", "msisdn", "mobile", "telephone", "tel")
EXPIRY_COLUMNS = ("expires_at", "expiry", "expiry_date", "expirydate", "expires")
_SNIFF_CHARS = 16 * 1024
_DELIMITERS = ",;\t|"
csv.field_size_limit(1024 * 1024)


class FileProblem(ValueError):
    """The file cannot be read as a number list (bad column, not text, ...)."""


@dataclass(frozen=True, slots=True)
class Row:
    line: int  # 1-based line number in the file
    values: list[str]


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the numbers (and expiries) are in a file's rows."""

    header: list[str] | None
    number: int
    expiry: int | None
    width: int  # cells of the first row: shorter rows are padded to it on output
    delimiter: str = ","  # the file's, which its scrubbed copies keep

    def padded(self, values: list[str]) -> list[str]:
        missing = self.width - len(values)
        return values + [""] * missing if missing > 0 else values


# Bytes that are not UTF-8 survive as lone surrogates: a number cell holding one is an invalid
# number on its own line, and a scrub writes the row back with the very same bytes.
ERRORS = "surrogateescape"


class FileTooLarge(FileProblem):
    """Unpacked, the file is larger than allowed (a small gzip can unpack to gigabytes)."""


class _Unpacked(io.RawIOBase):
    """A gzip stream whose damage is a FileProblem (zlib's own error is none of the usual
    I/O errors), however it shows: a bad header, a bad block, a missing end."""

    def __init__(self, packed: IO[bytes]) -> None:
        self.gzip = gzip.GzipFile(fileobj=packed, mode="rb")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self.gzip.read(len(buffer))
        except (zlib.error, EOFError, gzip.BadGzipFile) as exc:
            raise FileProblem(f"the gzip file is damaged ({exc})") from exc
        buffer[: len(data)] = data
        return len(data)


class _Limited(io.RawIOBase):
    """A binary stream that refuses to give more than ``limit`` bytes."""

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        self.raw = raw
        self.left = limit
        self.limit = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(min(len(buffer), self.left + 1))
        if len(data) > self.left:
            raise FileTooLarge(f"unpacked, the file has more than {self.limit} bytes")
        self.left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def text_stream(binary: IO[bytes], limit: int | None = None) -> io.TextIOWrapper:
    """A text view of a seekable binary stream, gunzipped when it is gzip; with ``limit``,
    a gzip that unpacks to more bytes than that is refused (``FileTooLarge``) as it is read."""
    peek = binary.read(2)
    binary.seek(0)
    if peek == b"\x1f\x8b":
        gunzipped: Any = io.BufferedReader(_Unpacked(binary), 1 << 20)
        if limit is not None:
            gunzipped = io.BufferedReader(_Limited(gunzipped, limit), 1 << 20)
        return io.TextIOWrapper(gunzipped, encoding="utf-8-sig", errors=ERRORS, newline="")
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors=ERRORS, newline="")


def check_readable(binary: IO[bytes], limit: int | None = None) -> None:
    """Read a seekable file through once, so that a bad file is refused before any answer
    starts (a streamed answer cannot change its status halfway); rewinds it."""
    text = text_stream(binary, limit)
    try:
        for _ in value_rows(text):
            pass
    finally:
        text.detach()
        binary.seek(0)


def _sniffed(text: IO[str]) -> tuple[str, type[csv.Dialect] | csv.Dialect]:
    """The file's first lines and the CSV dialect they show."""
    sample = text.read(_SNIFF_CHARS)
    sample += text.readline()  # end the sample on a line boundary
    if "\x00" in sample:
        raise FileProblem("this is not a text file (it holds NUL bytes)")
    dialect: type[csv.Dialect] | csv.Dialect
    if not any(delimiter in sample for delimiter in _DELIMITERS):
        # One column. The sniffer would say so too, after 0.2 s of trying every character.
        dialect = csv.excel
    else:
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS)
        except csv.Error:  # rows of unequal width defeat the sniffer: go by the first line
            dialect = _first_line_dialect(sample)
    # Strict: a quote left open to the end of the file, or text after a closing quote, is an
    # error to report, not rows silently merged.
    base = dialect if isinstance(dialect, type) else type(dialect)
    strict: type[csv.Dialect] = type("Strict", (base,), {"strict": True})
    return sample, strict


def _first_line_dialect(sample: str) -> type[csv.Dialect]:
    first = next((line for line in sample.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0 or best == ",":
        return csv.excel

    class FirstLine(csv.excel):
        delimiter = best

    return FirstLine


def _reader(text: IO[str]) -> Any:
    sample, dialect = _sniffed(text)
    return csv.reader(_chain(sample, text), dialect)


def value_rows(text: IO[str]) -> Iterator[list[str]]:
    """The file's rows as lists of cells, without line numbers (for speed, in scrubs)."""
    sample, dialect = _sniffed(text)
    return _value_rows(sample, text, dialect)


def _value_rows(
    sample: str, text: IO[str], dialect: type[csv.Dialect] | csv.Dialect
) -> Iterator[list[str]]:
    """Rows block by block: plain blocks (no quoting, one row a line) are split as text;
    from the first block that is not plain on, the csv module reads the rest. Both read the
    same cells, and switching at a line boundary after plain lines loses no state."""
    block = sample
    while block:
        plain = block.replace("\r\n", "\n") if "\r" in block else block
        if _needs_csv(plain, dialect):
            yield from _csv_rows(csv.reader(_chain(block, text), dialect))
            return
        lines = plain.split("\n")
        if lines[-1] == "":
            lines.pop()
        delimiter = dialect.delimiter
        for line in lines:
            if delimiter in line or (line and not line.isspace()):
                yield _cells(line, dialect)
        block = text.read(_BLOCK_CHARS)
        block += text.readline()


def _needs_csv(block: str, dialect: type[csv.Dialect] | csv.Dialect) -> bool:
    escape = dialect.escapechar
    return (
        (dialect.quotechar or '"') in block
        or (escape is not None and escape in block)
        or "\r" in block
        or "\x00" in block
    )


def _csv_rows(reader: Any) -> Iterator[list[str]]:
    try:
        for values in reader:
            if values and (len(values) > 1 or values[0].strip()):
                yield values
    except (csv.Error, UnicodeDecodeError) as exc:
        raise FileProblem(f"line {reader.line_num + 1}: {exc}") from exc


def _chain(sample: str, rest: IO[str]) -> Iterator[str]:
    yield from io.StringIO(sample, newline="")  # lines end at \r, \n or \r\n, as in the file
    # Not `yield from rest`: closing this generator must not close the caller's file.
    for line in rest:  # noqa: UP028
        yield line


def layout(
    first: Row,
    region: str,
    column: str | None,
    expiry_column: str | None,
    second: Row | None = None,
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
    return Layout(header, number, expiry, width)


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
            return position - 1 if 1 <= position <= 10_000 else None
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


def import_lines(
    text: IO[str],
    region: str,
    column: str | None,
    expiry_column: str | None,
    progress: Callable[[], None] | None = None,
    on_header: Callable[[Row], None] | None = None,
) -> Iterator[ImportLines]:
    """A number list's data lines as columns, block by block (its layout decided from its
    first rows); nothing for a file without rows. ``progress`` is called after each block;
    ``on_header`` with the first row, when it is read as a header (and so not imported).

    Most lists are plain: no quoting, one row a line. Those are split as text, which is
    several times faster than the csv module and reads the same cells; from the first block
    that is not plain on, the csv module reads the rest.
    """
    sample, dialect = _sniffed(text)
    found: Layout | None = None
    for block in _row_blocks(sample, text, dialect, progress):
        skip = 0
        if found is None:
            if not block.lines:
                continue
            first = Row(block.lines[0], block.row(0, dialect))
            second = Row(block.lines[1], block.row(1, dialect)) if len(block.lines) > 1 else None
            found = layout(first, region, column, expiry_column, second)
            skip = 0 if found.header is None else 1
            if skip and on_header is not None:
                on_header(first)
        yield block.columns(found, dialect, skip)


@dataclass(frozen=True, slots=True)
class _RowBlock:
    """Rows of a file with their line numbers: plain text lines, or rows the csv module read."""

    lines: Sequence[int]
    texts: list[str] | None  # plain lines, not yet split
    split: bool  # whether the plain lines hold the delimiter at all
    rows: list[list[str]] | None  # cells read by the csv module

    def row(self, position: int, dialect: type[csv.Dialect] | csv.Dialect) -> list[str]:
        if self.rows is not None:
            return self.rows[position]
        assert self.texts is not None
        return _cells(self.texts[position], dialect)

    def columns(
        self, found: Layout, dialect: type[csv.Dialect] | csv.Dialect, skip: int
    ) -> ImportLines:
        lines = self.lines[skip:]
        if self.texts is not None and not self.split:  # one cell a row: the lines themselves
            numbers = self.texts[skip:] if skip else self.texts
            return ImportLines(lines, numbers, None if found.expiry is None else [""] * len(lines))
        rows = self.rows[skip:] if self.rows is not None else None
        if rows is None:
            assert self.texts is not None
            rows = [_cells(t, dialect) for t in self.texts[skip:]]
        at, expiry_at = found.number, found.expiry
        numbers = [r[at] if at < len(r) else "" for r in rows]
        expiries = (
            None
            if expiry_at is None
            else [r[expiry_at] if expiry_at < len(r) else "" for r in rows]
        )
        return ImportLines(lines, numbers, expiries)


_ROWS_A_BLOCK = 100_000
# An empty or whitespace-only line (str.isspace and \\s agree on what whitespace is).
_BLANK_LINE = re.compile(r"^[^\S\n]*$", re.MULTILINE)


def _row_blocks(
    sample: str,
    text: IO[str],
    dialect: type[csv.Dialect] | csv.Dialect,
    progress: Callable[[], None] | None,
) -> Iterator[_RowBlock]:
    """The file's non-blank rows in blocks, read as ``_value_rows`` reads them."""
    delimiter = dialect.delimiter
    before = 0  # lines in the blocks already read
    block = sample
    while block:
        plain = block.replace("\r\n", "\n") if "\r" in block else block
        if _needs_csv(plain, dialect):
            yield from _csv_blocks(csv.reader(_chain(block, text), dialect), before)
            return
        lines = plain.split("\n")
        if lines[-1] == "":
            lines.pop()
        numbered: Sequence[int]
        if _BLANK_LINE.search(plain, 0, len(plain) - plain.endswith("\n")) is None:
            texts, numbered = lines, range(before + 1, before + len(lines) + 1)
        else:
            # A row as the csv module reads it: a blank line is none, a line of delimiters is.
            kept = [
                i
                for i, line in enumerate(lines)
                if (line and not line.isspace()) or delimiter in line
            ]
            texts, numbered = [lines[i] for i in kept], [before + i + 1 for i in kept]
        yield _RowBlock(numbered, texts, delimiter in plain, None)
        before += len(lines)
        if progress is not None:
            progress()
        block = text.read(_BLOCK_CHARS)
        block += text.readline()


def _csv_blocks(reader: Any, before: int) -> Iterator[_RowBlock]:
    lines: list[int] = []
    rows: list[list[str]] = []
    try:
        for values in reader:
            if values and (len(values) > 1 or values[0].strip()):
                lines.append(before + reader.line_num)
                rows.append(values)
                if len(rows) >= _ROWS_A_BLOCK:
                    yield _RowBlock(lines, None, True, rows)
                    lines, rows = [], []
    except (csv.Error, UnicodeDecodeError) as exc:
        raise FileProblem(f"line {before + reader.line_num + 1}: {exc}") from exc
    yield _RowBlock(lines, None, True, rows)


def _cells(line: str, dialect: type[csv.Dialect] | csv.Dialect) -> list[str]:
    values = line.split(dialect.delimiter)
    return [v.lstrip(" ") for v in values] if dialect.skipinitialspace else values


def scrub_input(
    text: IO[str], region: str, column: str | None
) -> tuple[Layout | None, Iterator[list[str]]]:
    """A calling list's layout (from its first row) and all its data rows."""
    sample, dialect = _sniffed(text)
    rows = _value_rows(sample, text, dialect)
    first = next(rows, None)
    if first is None:
        return None, iter(())
    second = next(rows, None)
    found = layout(Row(1, first), region, column, None, None if second is None else Row(2, second))
    found = replace(found, delimiter=dialect.delimiter)

    def data() -> Iterator[list[str]]:
        if found.header is None:
            yield first
        if second is not None:
            yield second
        yield from rows

    return found, data()


EXPORT_HEADER = [
    "number",
    "kind",
    "status",
    "expires_at",
    "note",
    "source",
    "created_at",
    "updated_at",
]


def export_row(entry: Any, now: Any) -> list[str]:
    expired = entry.expires_at is not None and entry.expires_at <= now
    return [
        entry.pattern,
        "prefix" if entry.pattern.endswith("*") else "number",
        "expired" if expired else "active",
        entry.expires_at.isoformat().replace("+00:00", "Z") if entry.expires_at else "",
        entry.note or "",
        entry.source,
        entry.created_at.isoformat().replace("+00:00", "Z"),
        entry.updated_at.isoformat().replace("+00:00", "Z"),
    ]


@dataclass(frozen=True, slots=True)
class Scrubbed:
    """One chunk of a scrubbed list: its rows, and each row's status and reason."""

    rows: list[list[str]]
    statuses: list[str]  # callable, blocked, invalid
    reasons: list[str]


def scrub_chunks(
    service: Service,
    actor: Actor,
    rows: Iterator[list[str]],
    found: Layout,
    direction: Direction | None,
) -> Iterator[Scrubbed]:
    """The rows in chunks, in input order, each with its status and reason."""
    names = service.group_names(actor)
    reasons: dict[tuple[int, ...], str] = {}  # one text per set of blocking groups
    while chunk := list(itertools.islice(rows, SCRUB_CHUNK)):
        yield _scrub(service, actor, chunk, found.number, direction, names, reasons)


def _scrub(
    service: Service,
    actor: Actor,
    chunk: list[list[str]],
    column: int,
    direction: Direction | None,
    names: dict[int, str],
    texts: dict[tuple[int, ...], str],
) -> Scrubbed:
    numbers = [values[column] if column < len(values) else "" for values in chunk]
    checked = service.check_many(actor, numbers, direction)
    statuses: list[str] = []
    reasons: list[str] = []
    for position, (groups, number) in enumerate(
        zip(checked.group_ids, checked.numbers, strict=True)
    ):
        if groups:
            statuses.append("blocked")
            key = tuple(groups)
            text = texts.get(key)
            if text is None:
                blockers = (f"group {g} ({names.get(g, '?')})" for g in groups)
                text = texts[key] = "blocked by " + ", ".join(blockers)
            reasons.append(text)
        elif position in checked.withheld:
            statuses.append("blocked")
            reasons.append(WITHHELD_BLOCKED)
        elif number is None:
            statuses.append("invalid")
            reasons.append(NOT_A_NUMBER)
        else:
            statuses.append("callable")
            reasons.append("")
    return Scrubbed(chunk, statuses, reasons)
