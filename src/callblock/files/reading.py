"""Reading number lists and calling lists: text streams, gzip and zip, size limits, CSV rows.

A file is CSV or plain text (one number a line), optionally gzip-compressed, or a zip of such
files read whole (a registry's list per area code). Rows are read with their line numbers so
that every refusal can point at its line. What the rows mean (a header, which column holds the
numbers) is ``layout``'s to decide.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

Dialect = type[csv.Dialect] | csv.Dialect

_BLOCK_CHARS = 1 << 22
_SNIFF_CHARS = 16 * 1024
_DELIMITERS = ",;\t|"
csv.field_size_limit(1024 * 1024)


class FileProblem(ValueError):
    """The file cannot be read as a number list (bad column, not text, ...)."""


@dataclass(frozen=True, slots=True)
class Row:
    line: int  # 1-based line number in the file
    values: list[str]


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


_GZIP = b"\x1f\x8b"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # a zip's first member; an empty zip's directory
_BOM = b"\xef\xbb\xbf"


class _ZipMembers(io.RawIOBase):
    """A zip's member files read as one: in name order, each ending with a line end, the
    UTF-8 mark opening each dropped. A later member's first line that repeats the first
    member's, and has letters (a header, in every per-area-code file), is read as a blank
    line: skipped, yet counted, so line numbers run on through the members as through the
    concatenated text. Damage of any kind is a FileProblem."""

    def __init__(self, packed: IO[bytes]) -> None:
        try:
            self.zip = zipfile.ZipFile(packed)
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise FileProblem(f"the zip file is damaged ({exc})") from exc
        # Folders and the resource forks macOS's archiver adds hold no numbers.
        self.members = sorted(
            (i for i in infos if not i.is_dir() and not i.filename.startswith("__MACOSX/")),
            key=lambda i: i.filename,
        )
        self.current: IO[bytes] | None = None
        self.pending = b""
        self.header: bytes | None = None  # the first member's first line, when it has letters
        self.first = True
        self.ended_line = True

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._read(len(buffer))
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise FileProblem(f"the zip file is damaged ({exc})") from exc
        except RuntimeError as exc:  # an encrypted member
            raise FileProblem(f"the zip file cannot be read ({exc})") from exc
        buffer[: len(data)] = data
        return len(data)

    def _read(self, size: int) -> bytes:
        while True:
            if self.pending:
                data, self.pending = self.pending[:size], self.pending[size:]
                return data
            if self.current is not None:
                data = self.current.read(size)
                if data:
                    self.ended_line = data.endswith((b"\n", b"\r"))
                    return data
                self.current.close()
                self.current = None
                if not self.ended_line:
                    self.ended_line = True
                    return b"\n"
            if not self.members:
                return b""
            self._open(self.members.pop(0))

    def _open(self, member: zipfile.ZipInfo) -> None:
        self.current = self.zip.open(member)
        line = self.current.readline(_SNIFF_CHARS)
        line = line.removeprefix(_BOM)
        if self.first:
            self.first = False
            if any(chr(c).isalpha() for c in line):
                self.header = line.rstrip(b"\r\n")
        elif self.header is not None and line.rstrip(b"\r\n") == self.header:
            line = line[len(self.header) :]  # its line end alone: a blank line
        self.pending = line
        if line:
            self.ended_line = line.endswith((b"\n", b"\r"))


def unpacked(binary: IO[bytes], limit: int | None = None) -> IO[bytes]:
    """A seekable binary file's content: gunzipped when it is gzip, its members read whole
    when it is a zip (``_ZipMembers``); with ``limit``, content of more bytes than that is
    refused (``FileTooLarge``) as it is read, so a small archive cannot unpack to gigabytes."""
    peek = binary.read(4)
    binary.seek(0)
    raw: io.RawIOBase
    if peek[:2] == _GZIP:
        raw = _Unpacked(binary)
    elif peek in _ZIP:
        raw = _ZipMembers(binary)
    else:
        return binary
    content: IO[bytes] = io.BufferedReader(raw, 1 << 20)
    if limit is not None:
        content = io.BufferedReader(_Limited(content, limit), 1 << 20)
    return content


def text_stream(binary: IO[bytes], limit: int | None = None) -> io.TextIOWrapper:
    """A text view of a seekable binary stream, unpacked when it is gzip or zip (``unpacked``,
    which refuses content over ``limit``)."""
    return io.TextIOWrapper(
        unpacked(binary, limit), encoding="utf-8-sig", errors=ERRORS, newline=""
    )


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


def sniffed(text: IO[str]) -> tuple[str, Dialect]:
    """The file's first lines and the CSV dialect they show."""
    sample = text.read(_SNIFF_CHARS)
    sample += text.readline()  # end the sample on a line boundary
    if "\x00" in sample:
        raise FileProblem("this is not a text file (it holds NUL bytes)")
    dialect: Dialect
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


def value_rows(text: IO[str]) -> Iterator[list[str]]:
    """The file's rows as lists of cells, without line numbers (for speed, in scrubs)."""
    sample, dialect = sniffed(text)
    return value_rows_after(sample, text, dialect)


def value_rows_after(sample: str, text: IO[str], dialect: Dialect) -> Iterator[list[str]]:
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
                yield cells(line, dialect)
        block = text.read(_BLOCK_CHARS)
        block += text.readline()


def _needs_csv(block: str, dialect: Dialect) -> bool:
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


@dataclass(frozen=True, slots=True)
class RowBlock:
    """Rows of a file with their line numbers: plain text lines, or rows the csv module read."""

    lines: Sequence[int]
    texts: list[str] | None  # plain lines, not yet split
    split: bool  # whether the plain lines hold the delimiter at all
    rows: list[list[str]] | None  # cells read by the csv module

    def row(self, position: int, dialect: Dialect) -> list[str]:
        if self.rows is not None:
            return self.rows[position]
        assert self.texts is not None
        return cells(self.texts[position], dialect)


_ROWS_A_BLOCK = 100_000
# An empty or whitespace-only line (str.isspace and \\s agree on what whitespace is).
_BLANK_LINE = re.compile(r"^[^\S\n]*$", re.MULTILINE)


def row_blocks(
    sample: str,
    text: IO[str],
    dialect: Dialect,
    progress: Callable[[], None] | None,
) -> Iterator[RowBlock]:
    """The file's non-blank rows in blocks, read as ``value_rows`` reads them."""
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
        yield RowBlock(numbered, texts, delimiter in plain, None)
        before += len(lines)
        if progress is not None:
            progress()
        block = text.read(_BLOCK_CHARS)
        block += text.readline()


def _csv_blocks(reader: Any, before: int) -> Iterator[RowBlock]:
    lines: list[int] = []
    rows: list[list[str]] = []
    try:
        for values in reader:
            if values and (len(values) > 1 or values[0].strip()):
                lines.append(before + reader.line_num)
                rows.append(values)
                if len(rows) >= _ROWS_A_BLOCK:
                    yield RowBlock(lines, None, True, rows)
                    lines, rows = [], []
    except (csv.Error, UnicodeDecodeError) as exc:
        raise FileProblem(f"line {before + reader.line_num + 1}: {exc}") from exc
    yield RowBlock(lines, None, True, rows)


def cells(line: str, dialect: Dialect) -> list[str]:
    values = line.split(dialect.delimiter)
    return [v.lstrip(" ") for v in values] if dialect.skipinitialspace else values


def line_blocks(
    text: IO[str], progress: Callable[[], None] | None
) -> Iterator[tuple[Sequence[int], list[str]]]:
    """The file's non-blank lines, whole (no cells), with their line numbers, in blocks."""
    before = 0
    while block := text.read(_BLOCK_CHARS) + text.readline():
        if "\x00" in block:
            raise FileProblem("this is not a text file (it holds NUL bytes)")
        if "\r" in block:
            block = block.replace("\r\n", "\n").replace("\r", "\n")
        lines = block.split("\n")
        if lines[-1] == "":
            lines.pop()
        kept = [i for i, line in enumerate(lines) if line and not line.isspace()]
        yield [before + i + 1 for i in kept], [lines[i] for i in kept]
        before += len(lines)
        if progress is not None:
            progress()


def strict_csv() -> type[csv.Dialect]:
    """The comma-separated dialect, strict as ``sniffed``'s."""
    return type("Strict", (csv.excel,), {"strict": True})
