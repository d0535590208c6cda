"""Generate the SDK's sync client (``_sync.py``) from its async source (``_async.py``).

    python tools/unasync_client.py            # write src/callblock/client/_sync.py
    python tools/unasync_client.py --check    # exit 1 if the committed file is stale

The approach of ``unasync`` (urllib3, httpcore) and ``unasyncd`` (advanced-alchemy): the async
client is the only hand-written one, and the sync one is derived from it token by token, so the
two cannot drift. Neither tool is used as a dependency: ``unasyncd`` pins ``rich~=13.6``, which
would hold back callblock's own ``rich`` in every test environment, and ``unasync`` imports
setuptools and keeps its in-memory transformation private. The whole transformation is this file:

1. The source is split into tokens with the standard library's ``tokenize``; every edit is made
   at a token's exact position, so strings, comments and layout stay as written.
2. The keywords ``async`` and ``await`` are removed with the space after them: ``async def``
   -> ``def``, ``await x`` -> ``x``, ``async for``/``async with`` -> ``for``/``with``.
3. Identifiers are renamed by :data:`NAMES`, an explicit table (``AsyncClient`` -> ``Client``,
   ``aclose`` -> ``close``, ``__aenter__`` -> ``__enter__``...). Docstrings and comments get the
   phrases of :data:`PROSE`, then the same renames as whole words. The module docstring is
   replaced by :data:`SYNC_DOCSTRING`.
4. Whatever still looks async (``async``, ``await``, ``Async...``, ``aclose``, ``__a...__``,
   in code or in prose) stops the generator with the name to add to a table: nothing async
   slips through unnoticed.
5. A header naming this command is put first. Then ruff, with the project's settings, tidies
   what the renames leave: it sorts imports and ``__all__`` again (``I``, ``RUF022``), turns
   ``for x in y: yield x`` into ``yield from y`` (``UP028``; an async generator cannot
   ``yield from``), and lays the result out (removing ``await`` can shorten a wrapped line).

``tests/test_sdk.py`` calls :func:`generate` and compares with the committed ``_sync.py``, so a
hand edit of it or a forgotten regeneration fails the tests.
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "callblock" / "client"
ASYNC_SOURCE = PACKAGE / "_async.py"
SYNC_TARGET = PACKAGE / "_sync.py"
COMMAND = "python tools/unasync_client.py"

NAMES: dict[str, str] = {
    # callblock's own classes
    "AsyncClient": "Client",  # also httpx.AsyncClient -> httpx.Client
    "AsyncGroupsAPI": "GroupsAPI",
    "AsyncNumbersAPI": "NumbersAPI",
    "AsyncCampaignsAPI": "CampaignsAPI",
    "AsyncAuditAPI": "AuditAPI",
    "AsyncAccountAPI": "AccountAPI",
    "AsyncKeysAPI": "KeysAPI",
    "AsyncStatsAPI": "StatsAPI",
    "AsyncChanges": "Changes",
    "AsyncMirror": "Mirror",
    # httpx
    "AsyncBaseTransport": "BaseTransport",
    "aclose": "close",
    "aread": "read",
    "aiter_text": "iter_text",
    "aiter_bytes": "iter_bytes",
    # the language and the standard library
    "AsyncIterator": "Iterator",
    "AsyncIterable": "Iterable",
    "AsyncGenerator": "Generator",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    "StopAsyncIteration": "StopIteration",
    "asynccontextmanager": "contextmanager",
}
"""Identifier renames, async -> sync, applied to whole names."""

PROSE: dict[str, str] = {
    "The async client": "The sync client",
    "an async context manager": "a context manager",
    "await :meth:`aclose`": "call :meth:`close`",
}
"""Phrases of docstrings and comments, applied before :data:`NAMES`."""

SYNC_DOCSTRING = (
    '"""The sync client, :class:`Client`, generated from ``_async.py``: edit that file, '
    f'then run\n``{COMMAND}``."""'
)

HEADER = (
    f"# Generated from _async.py by {COMMAND}: do not edit by hand.\n"
    "# Edit _async.py, then run that command; tests/test_sdk.py fails when this file is stale.\n"
)

_KEYWORDS = {"async", "await"}
_STILL_ASYNC = re.compile(
    r"\b[Aa]sync\b|\b[Aa]wait\b|\w*Async[A-Z]\w*|\baclose\b|\b__a(enter|exit|iter|next)__\b"
)
_WORDS = re.compile(r"\b(" + "|".join(re.escape(name) for name in NAMES) + r")\b")

_Position = tuple[int, int]
_Edit = tuple[_Position, _Position, str]


class GeneratorError(Exception):
    """The async source has something the tables do not say how to make sync."""


def _prose(text: str) -> str:
    for phrase, replacement in PROSE.items():
        text = text.replace(phrase, replacement)
    return _WORDS.sub(lambda match: NAMES[match.group(1)], text)


def _lines(source: str) -> list[str]:
    """The lines as tokenize reads them (split at ``\\n`` only), so positions agree."""
    return io.StringIO(source).readlines()


def _edits(source: str) -> list[_Edit]:
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    lines = _lines(source)
    edits: list[_Edit] = []
    docstring_seen = False
    for token in tokens:
        kind, text, start, end = token.type, token.string, token.start, token.end
        if kind == tokenize.NAME and text in _KEYWORDS:
            row, col = end
            after = lines[row - 1][col : col + 1]
            edits.append((start, (row, col + 1) if after == " " else end, ""))
        elif kind == tokenize.NAME and text in NAMES:
            edits.append((start, end, NAMES[text]))
        elif kind == tokenize.STRING and not docstring_seen:
            docstring_seen = True
            edits.append((start, end, SYNC_DOCSTRING))
        elif kind in (tokenize.STRING, tokenize.COMMENT):
            edits.append((start, end, _prose(text)))
        if kind not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.ENCODING):
            docstring_seen = True  # only a leading string is the module docstring
    return edits


def _apply(source: str, edits: list[_Edit]) -> str:
    offsets = [0]
    for line in _lines(source):
        offsets.append(offsets[-1] + len(line))
    text = source
    for (start_row, start_col), (end_row, end_col), replacement in sorted(edits, reverse=True):
        begin = offsets[start_row - 1] + start_col
        finish = offsets[end_row - 1] + end_col
        text = text[:begin] + replacement + text[finish:]
    return text


def _check_nothing_async(text: str) -> None:
    for row, line in enumerate(text.splitlines(), start=1):
        match = _STILL_ASYNC.search(line)
        if match:
            raise GeneratorError(
                f"{ASYNC_SOURCE.name}: {match.group(0)!r} has no sync form (output line {row}: "
                f"{line.strip()!r}); add it to NAMES or PROSE in tools/unasync_client.py"
            )


_RUFF_FIXES = "I,RUF022,UP028"


def _ruff(text: str, *arguments: str) -> str:
    """``ruff ARGUMENTS`` on ``text`` as if it were ``_sync.py``; the text ruff writes back."""
    command = [sys.executable, "-m", "ruff", *arguments, "--stdin-filename", str(SYNC_TARGET), "-"]
    done = subprocess.run(
        command, input=text, capture_output=True, text=True, cwd=ROOT, check=False
    )
    if done.returncode != 0:
        raise GeneratorError(f"{' '.join(command[2:])} failed: {done.stderr.strip()}")
    return done.stdout


def _tidy(text: str) -> str:
    fixed = _ruff(text, "check", "--fix-only", "--unsafe-fixes", "--select", _RUFF_FIXES)
    return _ruff(fixed, "format")


def generate(source: str | None = None) -> str:
    """The text of ``_sync.py`` for the async source (by default, the committed ``_async.py``)."""
    if source is None:
        source = ASYNC_SOURCE.read_text(encoding="utf-8")
    text = _apply(source, _edits(source))
    _check_nothing_async(text)
    return _tidy(HEADER + text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--check", action="store_true", help="do not write; exit 1 if _sync.py is stale"
    )
    args = parser.parse_args(argv)
    try:
        text = generate()
    except GeneratorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    current = SYNC_TARGET.read_text(encoding="utf-8") if SYNC_TARGET.exists() else None
    if args.check:
        if current != text:
            print(f"{SYNC_TARGET.relative_to(ROOT)} is stale: run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    if current != text:
        SYNC_TARGET.write_text(text, encoding="utf-8")
        print(f"wrote {SYNC_TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
