"""Snapshot files: an account's check index, written once and mapped by every worker of a node.

A node keeps one file per account in its index directory (``CALLBLOCK_INDEX_DIR``). Every
worker maps it read-only, so the operating system holds its pages once however many workers
read them. A file is written whole to a temporary name, flushed to disk and renamed over the
old one, so a reader sees the old file or the new one, never half of either.

Nothing in a file is trusted: its header names the format, the store and the account it
belongs to, and carries a CRC-32 of itself and of the arrays. A file that is cut short,
damaged, of another store (a node pointed at another database), of another account or of an
older format is refused (``Refused``), and the caller rebuilds it from the store.

Layout: 8 bytes of magic; the header's length and CRC-32 (two little-endian uint32); the
header, UTF-8 JSON; then each array, 64-byte aligned, in native byte order (the header says
which), at the offsets the header gives.
"""

from __future__ import annotations

import fcntl
import json
import mmap
import os
import struct
import sys
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"CBSNAP\x00\x01"
FORMAT = 2  # 2: groups carry kind, scope and consent override; campaigns
_PREAMBLE = struct.Struct("<8sII")
_ALIGN = 64
_CRC_BLOCK = 1 << 24  # checksummed in 16 MiB pieces, so no piece is copied whole


class Refused(Exception):
    """A snapshot file that must not be used; ``reason`` is one word for metrics."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: int
    arrays: Mapping[str, np.ndarray[Any, Any]]  # read-only views of the mapped file
    meta: Mapping[str, Any]
    size: int  # bytes of the file


def _aligned(offset: int) -> int:
    return -(-offset // _ALIGN) * _ALIGN


def _crc(buffer: memoryview, crc: int = 0) -> int:
    for start in range(0, len(buffer), _CRC_BLOCK):
        crc = zlib.crc32(buffer[start : start + _CRC_BLOCK], crc)
    return crc


def write(
    path: Path,
    identity: Mapping[str, Any],
    version: int,
    arrays: Mapping[str, np.ndarray[Any, Any]],
    meta: Mapping[str, Any],
) -> int:
    """Write a snapshot to ``path`` atomically (a temporary file renamed over it); returns
    its size in bytes."""
    contiguous = {name: np.ascontiguousarray(array) for name, array in arrays.items()}
    # The header's length decides where the arrays start, and the header names their offsets:
    # lay them out with room to spare for the offsets' digits.
    layout: list[list[Any]] = [
        [name, array.dtype.str, len(array), 0] for name, array in contiguous.items()
    ]
    header: dict[str, Any] = {
        "format": FORMAT,
        "byteorder": sys.byteorder,
        "identity": dict(identity),
        "version": version,
        "arrays": layout,
        "meta": dict(meta),
        "checksum": 0,
        "length": 0,
    }
    draft = json.dumps(header).encode()
    offset = _aligned(_PREAMBLE.size + len(draft) + 32 * (len(layout) + 2))
    first = offset
    checksum = 0
    for entry, array in zip(layout, contiguous.values(), strict=True):
        entry[3] = offset
        data = memoryview(array.data).cast("B")
        checksum = _crc(data, checksum)
        end = offset + len(data)
        padding = _aligned(end) - end
        checksum = zlib.crc32(bytes(padding), checksum)
        offset = end + padding
    header["checksum"] = checksum
    header["length"] = offset
    encoded = json.dumps(header).encode()
    if _PREAMBLE.size + len(encoded) > first:
        raise AssertionError("snapshot header outgrew its room")
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as out:
            out.write(_PREAMBLE.pack(MAGIC, len(encoded), zlib.crc32(encoded)))
            out.write(encoded)
            out.write(bytes(first - _PREAMBLE.size - len(encoded)))
            for array in contiguous.values():
                data = memoryview(array.data).cast("B")
                out.write(data)
                out.write(bytes(_aligned(len(data)) - len(data)))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    _sync_directory(path.parent)
    return offset


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read(path: Path, identity: Mapping[str, Any]) -> Snapshot:
    """Map the snapshot at ``path`` after checking it whole; raises ``Refused`` for a file
    that must not be used and ``FileNotFoundError`` when there is none."""
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size < _PREAMBLE.size:
            raise Refused("damaged", f"{path} is {size} bytes long")
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        return _checked(mapped, size, path, identity)
    except BaseException:
        mapped.close()
        raise


def _checked(mapped: mmap.mmap, size: int, path: Path, identity: Mapping[str, Any]) -> Snapshot:
    magic, length, header_crc = _PREAMBLE.unpack_from(mapped, 0)
    if magic != MAGIC:
        raise Refused("damaged", f"{path} is not a callblock snapshot")
    encoded = mapped[_PREAMBLE.size : _PREAMBLE.size + length]
    if len(encoded) != length or zlib.crc32(encoded) != header_crc:
        raise Refused("damaged", f"{path}: its header is damaged")
    header = json.loads(encoded)
    if header.get("format") != FORMAT or header.get("byteorder") != sys.byteorder:
        raise Refused("format", f"{path} is of another format or machine")
    if header.get("identity") != dict(identity):
        raise Refused("foreign", f"{path} belongs to {header.get('identity')}")
    if header["length"] != size:
        raise Refused("damaged", f"{path} is {size} bytes, not {header['length']}")
    first = min((entry[3] for entry in header["arrays"]), default=size)
    if mapped[_PREAMBLE.size + length : first].strip(b"\0"):
        raise Refused("damaged", f"{path}: its header's padding is damaged")
    view = memoryview(mapped)
    try:
        if _crc(view[first:size]) != header["checksum"]:
            raise Refused("damaged", f"{path}: its arrays fail their checksum")
    finally:
        view.release()
    arrays = {
        name: np.frombuffer(mapped, dtype=np.dtype(dtype), count=count, offset=offset)
        for name, dtype, count, offset in header["arrays"]
    }
    return Snapshot(header["version"], arrays, header["meta"], size)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the node-wide lock of the snapshot at ``path``: one worker builds or replaces
    it while the others wait, then map what it wrote."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            # Whoever wrote these was killed before renaming them: no writer holds the lock.
            for stale in path.parent.glob(f"{path.name}.*.tmp"):
                stale.unlink(missing_ok=True)
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
