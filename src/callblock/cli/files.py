"""Files of the bulk commands: reading with progress, writing all or nothing.

Progress bars (rich) go to stderr and only when it is a terminal; pipes stay quiet.
"""

from __future__ import annotations

import gc
import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from callblock import files

if TYPE_CHECKING:
    from rich.progress import Progress


def progress_bar(*columns: Any) -> Progress:
    """A progress display on stderr, shown only on a terminal. (rich is imported here, when a
    bulk command runs: at the top it would cost every other command's start.)"""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        *columns,
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not sys.stderr.isatty(),
        transient=False,
    )


def amount_column() -> Any:
    """A progress column that shows each task in its own unit: a task added with
    ``unit="bytes"`` in MB, with its speed (as a scrub's), any other as done/total."""
    from rich.progress import (
        DownloadColumn,
        MofNCompleteColumn,
        ProgressColumn,
        Task,
        TransferSpeedColumn,
    )
    from rich.text import Text

    class Amount(ProgressColumn):
        def __init__(self) -> None:
            super().__init__()
            self.size, self.speed = DownloadColumn(), TransferSpeedColumn()
            self.count = MofNCompleteColumn()

        def render(self, task: Task) -> Text:
            if task.fields.get("unit") == "bytes":
                return Text.assemble(self.size.render(task), " ", self.speed.render(task))
            return self.count.render(task)

    return Amount()


class Counting(io.RawIOBase):
    """A binary file that counts the bytes read from it (the progress of a read)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)

    # Seekable, as a zip is read from its directory at the end.
    def seekable(self) -> bool:
        return self.raw.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()


@contextmanager
def text_with_progress(path: Path) -> Iterator[tuple[IO[str], Counting]]:
    """The file as text (gunzipped, or a zip's members read whole: ``files.unpacked``) and a
    counter of the bytes read of it."""
    with open(path, "rb") as raw:
        counting = Counting(raw)
        source = files.unpacked(io.BufferedReader(counting, 1 << 20))
        text = io.TextIOWrapper(source, encoding="utf-8-sig", errors=files.ERRORS, newline="")
        yield text, counting


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Bulk commands make millions of strings and lists, and no reference cycles. Python's
    cycle collector would rescan all of them again and again as they pile up (several times
    the work itself: 1.4 s instead of 0.3 s to split a million CSV lines), so it is paused
    for the command."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def replacing(path: Path) -> Iterator[IO[str]]:
    """A file written beside ``path`` and moved onto it only when the block succeeds: a
    refused or failed command leaves an existing file as it was, and no half-written one."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        out = open(partial, "w", encoding="utf-8", errors=files.ERRORS, newline="")  # noqa: SIM115
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with out:
            yield out
        try:
            os.replace(partial, path)
        except OSError as exc:
            raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
