"""``Operations`` on a callblock server, over its ``/v1`` API.

Groups and campaigns are the SDK's ``Client.groups`` and ``Client.campaigns`` as they are.
``check`` and ``check_for_campaign`` are adapted only for their error: the SDK answers a
number that is not one with ``ValidationError``, the protocol with ``NotANumber``. The SDK
has no import, export or scrub yet, so those three speak the documented ``/v1`` file
endpoints (``numbers:import``, ``numbers.csv``, ``/v1/scrub``) here, with the same key; they
move to the SDK once it has them.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import itertools
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import httpx

from callblock import files
from callblock.cli.files import text_with_progress
from callblock.cli.lookup import group_named
from callblock.cli.operations import (
    CallDirection,
    CampaignCheckView,
    CampaignOperations,
    CheckView,
    Columns,
    GroupOperations,
    Imported,
    ImportOptions,
    NotANumber,
    PartlyListed,
    Reading,
    Scrubbing,
    StaleEntryView,
    StatsBucket,
    StatsView,
    Writing,
    recorded_file_name,
)
from callblock.client import CallblockError, Client, ServerError, ValidationError
from callblock.domain import (
    NOT_A_NUMBER,
    CampaignNotFound,
    GroupNotFound,
    ImportRejected,
    NothingToImport,
    RejectedLine,
    TooManyRemovals,
)

_CHUNK = 1 << 20
_PROBLEM = "urn:callblock:problem:"


class Remote:
    def __init__(self, base_url: str, api_key: str) -> None:
        self._client = Client(base_url, api_key)
        self.groups: GroupOperations = self._client.groups
        self.campaigns: CampaignOperations = self._client.campaigns
        # The file endpoints stream for as long as the file takes: no read timeout.
        self._files = httpx.Client(
            base_url=self._client.base_url,
            headers={"Authorization": f"Bearer {api_key.strip()}"},
            timeout=httpx.Timeout(self._client.timeout, read=None),
        )

    def close(self) -> None:
        self._client.close()
        self._files.close()

    def check(self, number: str, direction: CallDirection | None = None) -> CheckView:
        try:
            return self._client.check(number, direction)
        except (ValidationError, ValueError) as exc:  # ValueError: the SDK's, for a blank one
            raise NotANumber(NOT_A_NUMBER) from exc

    def check_for_campaign(
        self, number: str, direction: CallDirection | None, campaign_id: int
    ) -> CampaignCheckView:
        try:
            return self._client.check(number, direction, campaign=campaign_id)
        except ValidationError as exc:
            if "number" not in exc.errors:  # a refusal of something else: said as it is
                raise
            raise NotANumber(NOT_A_NUMBER) from exc
        except ValueError as exc:  # the SDK's, for a blank number
            raise NotANumber(NOT_A_NUMBER) from exc

    def import_file(
        self,
        group: str,
        file: Path,
        options: ImportOptions,
        reading: Reading,
        writing: Writing,
        columns: Columns,
    ) -> Imported:
        read = self._layout_of(file, options)
        found = group_named(self.groups, group)
        if found is None and options.mode == "changes":
            raise GroupNotFound()  # a change list changes a group that is there
        created = found is None
        role = options.new_group
        target = found or self.groups.create(
            group, kind=role.kind, scope=role.scope, consent_overrides=role.consent_overrides
        )
        params: dict[str, str | bool] = {"skip_invalid": options.skip_invalid}
        if options.column is not None:
            params["column"] = options.column
        if options.expiry_column is not None:
            params["expiry_column"] = options.expiry_column
        if options.mode != "add":
            params["mode"] = options.mode
        if options.mode == "replace":
            params["max_removal"] = str(options.max_removal)
        if options.op_column is not None:
            params["op_column"] = options.op_column
        if options.line_format is not files.LineFormat.AUTO:
            params["format"] = options.line_format.value
        file_name = recorded_file_name(file)
        if file_name is not None:
            params["file_name"] = file_name
        if options.note is not None:
            params["note"] = options.note
        try:
            body = self._json(
                "POST",
                f"/v1/groups/{target.id}/numbers:import",
                params=params,
                content=_sent(file, reading),
            )
        except BaseException as exc:
            if created:  # all or nothing, the new group included
                with contextlib.suppress(CallblockError):  # the first failure is the one to say
                    self.groups.delete(target.id)
            if isinstance(exc, ImportRejected) and read is not None:
                columns(read)
            raise
        try:
            header = body.get("header")
            if read is not None and (read.header is None) == (header is None):
                columns(read)  # else the server read the file otherwise: nothing to say of it
            return Imported(
                group_id=target.id,
                group_name=target.name,
                created_group=created,
                added=int(body["added"]),
                updated=int(body["updated"]),
                repeats=int(body["repeats"]),
                invalid=[_rejected(item) for item in body.get("invalid", [])],
                headers=[files.Row(int(header["line"]), list(header["cells"]))] if header else [],
                lines=None,
                removed=int(body.get("removed", 0)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise _unreadable("numbers:import", exc) from exc

    def _layout_of(self, file: Path, options: ImportOptions) -> files.Layout | None:
        """The layout the server will read ``file`` with, found here from its first rows as
        the server finds it (the same reading, with the account's region); None when both
        columns are named (nothing to report) or the file cannot be read here (the server's
        answer says why)."""
        if options.column is not None and options.expiry_column is not None:
            return None
        found: list[files.Layout] = []
        region = self._client.account.get().region
        try:
            with text_with_progress(file) as (text, _):
                blocks = files.import_lines(
                    text,
                    region,
                    options.column,
                    options.expiry_column,
                    on_layout=found.append,
                    ops=options.mode == "changes",
                    op_column=options.op_column,
                    line_format=options.line_format,
                )
                next(blocks, None)  # the first block decides the layout
        except (files.FileProblem, UnicodeDecodeError, EOFError, OSError):
            return None
        return found[0] if found else None

    def purge_expired(self, group_id: int) -> int:
        return self._client.numbers.purge_expired(group_id)

    def export_group(self, group: str, out: IO[str]) -> int:
        found = group_named(self.groups, group)
        if found is None:
            raise GroupNotFound()
        with self._stream("GET", f"/v1/groups/{found.id}/numbers.csv") as response:
            text = _passed_on(_decoded(response.iter_bytes()), out)
            return sum(1 for _ in csv.reader(_lines(text))) - 1  # the header is not an entry

    def stats(
        self,
        bucket: StatsBucket,
        start: datetime | None,
        end: datetime | None,
        group_id: int | None,
        campaign_id: int | None,
    ) -> StatsView:
        return self._client.stats.get(
            bucket, start=start, end=end, group_id=group_id, campaign=campaign_id
        )

    def stale_entries(self, group_id: int, days: int) -> Iterator[StaleEntryView]:
        return self._client.groups.stale(group_id, days, page_size=1000)

    def stale_csv(self, group_id: int, days: int, out: IO[str]) -> int:
        sink = _TextSink(out)
        count = self._client.groups.download_stale(group_id, sink, days=days)
        sink.close()
        return count

    @contextmanager
    def scrub_file(
        self,
        file: Path,
        column: str | None,
        direction: CallDirection,
        reading: Reading,
        campaign_id: int | None = None,
    ) -> Iterator[Scrubbing]:
        # The list is read here as the server reads it, for its layout and its rows as they
        # are; the server's answer gives each row's status and reason, in order.
        region = self._client.account.get().region
        with ExitStack() as stack:
            text, _ = stack.enter_context(text_with_progress(file))
            found, rows = files.scrub_input(text, region, column)
            if found is None:
                yield Scrubbing(None, iter(()))
                return
            params: dict[str, str] = {"direction": direction}
            if column is not None:
                params["column"] = column
            if campaign_id is not None:
                params["campaign"] = str(campaign_id)
            response = stack.enter_context(
                self._stream("POST", "/v1/scrub", params=params, content=_sent(file, reading))
            )
            answers = csv.reader(_lines(_decoded(response.iter_bytes())), delimiter=found.delimiter)
            if found.header is not None:
                next(answers, None)
            yield Scrubbing(found, _scrubbed(rows, answers))

    def _json(self, method: str, path: str, **request: Any) -> dict[str, Any]:
        with self._stream(method, path, **request) as response:
            response.read()
            try:
                body = response.json()
            except ValueError as exc:
                raise _unreadable(path, exc) from exc
            if not isinstance(body, dict):
                raise _unreadable(path, TypeError("not a JSON object"))
            return body

    @contextmanager
    def _stream(self, method: str, path: str, **request: Any) -> Iterator[httpx.Response]:
        try:
            with self._files.stream(method, path, **request) as response:
                if not response.is_success:
                    response.read()
                    raise _refusal(response)
                yield response
        except httpx.TransportError as exc:
            raise CallblockError(f"{method} {path}: no answer ({exc})") from exc


class _TextSink:
    """A binary file the SDK downloads into, passing the text on to ``out`` as it comes."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors=files.ERRORS)

    def write(self, data: bytes) -> int:
        self._out.write(self._decoder.decode(data))
        return len(data)

    def close(self) -> None:
        self._out.write(self._decoder.decode(b"", final=True))


def _sent(file: Path, reading: Reading) -> Iterator[bytes]:
    """The file's bytes as they are sent, telling ``reading`` how far it got."""
    done = 0
    with open(file, "rb") as raw:
        while chunk := raw.read(_CHUNK):
            done += len(chunk)
            reading(done)
            yield chunk


def _decoded(chunks: Iterator[bytes]) -> Iterator[str]:
    # Bytes that were not UTF-8 in the upload come back as they went, and stay so.
    decoder = codecs.getincrementaldecoder("utf-8")(errors=files.ERRORS)
    for chunk in chunks:
        yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)


def _passed_on(texts: Iterator[str], out: IO[str]) -> Iterator[str]:
    for text in texts:
        out.write(text)
        yield text


def _lines(texts: Iterator[str]) -> Iterator[str]:
    """The text split after each newline only (a CR inside a quoted field stays in it)."""
    pending = ""
    for text in texts:
        pending += text
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line + "\n"
    if pending:
        yield pending


def _scrubbed(rows: Iterator[list[str]], answers: Iterator[list[str]]) -> Iterator[files.Scrubbed]:
    while chunk := list(itertools.islice(rows, files.SCRUB_CHUNK)):
        answered = list(itertools.islice(answers, len(chunk)))
        added = len(files.SCRUB_COLUMNS)
        if len(answered) != len(chunk) or any(len(a) < added for a in answered):
            raise ServerError("the server's scrub answer does not match the list sent")
        columns = [[a[at - added] for a in answered] for at in range(added)]
        yield files.Scrubbed(chunk, *columns)


def _unreadable(path: str, exc: Exception) -> CallblockError:
    return CallblockError(f"{path}: an answer the CLI cannot read ({exc})", detail=str(exc))


def _rejected(item: Any) -> RejectedLine:
    return RejectedLine(int(item["line"]), str(item["input"]), str(item["reason"]))


def _refusal(response: httpx.Response) -> Exception:
    """The error for a refused file request: the domain's for the import's own refusals,
    else a ``CallblockError`` with the problem's text."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    kind = str(body.get("type", "")).removeprefix(_PROBLEM)
    detail = str(body.get("detail") or response.reason_phrase)
    if kind == "invalid-lines":
        listed = [_rejected(item) for item in body.get("invalid_lines", [])]
        counted = re.match(r"(\d[\d,]*) invalid line", detail)  # the total: more than listed?
        total = int(counted.group(1).replace(",", "")) if counted else len(listed)
        return PartlyListed(listed, total) if total > len(listed) else ImportRejected(listed)
    if kind == "nothing-to-import":
        return NothingToImport(detail)
    if kind == "too-many-removals":
        return TooManyRemovals(
            int(body.get("removing", 0)),
            int(body.get("present", 0)),
            float(body.get("max_removal", 0)),
        )
    if kind == "unreadable-file":
        return files.FileProblem(detail.removeprefix("The file cannot be read: "))
    if kind == "campaign-not-found":
        return CampaignNotFound()
    if response.status_code == 404:
        return GroupNotFound()
    return CallblockError(
        f"{response.status_code} {body.get('title') or response.reason_phrase}: {detail}",
        status=response.status_code,
        detail=detail,
    )
