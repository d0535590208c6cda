"""`/v1` routes that take or give files: import, CSV export and scrub, streamed both ways."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from typing import IO, Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from callblock import files
from callblock.domain import (
    Actor,
    CampaignRef,
    Direction,
    GroupById,
    ImportRejected,
    NothingToImport,
    TooManyRemovals,
    campaign_ref,
    checked_file_name,
    checked_note,
)
from callblock.http import schemas
from callblock.http.problems import problem, responses
from callblock.http.v1 import examples
from callblock.http.v1.common import PREFIX, GroupId, ReadingActorDep, ServiceDep, WritingActorDep
from callblock.rules import (
    COLUMN_MAX,
    FILE_NAME_MAX,
    FILE_NAME_RULE,
    INVALID_LINES_SHOWN,
    NAME_MAX,
    NOTE_MAX,
    NOTE_RULE,
)
from callblock.service import DEFAULT_MAX_REMOVAL, Service
from callblock.settings import Settings

router = APIRouter(prefix=PREFIX, tags=["files"])
# The account's version an export was read at (the change feed's numbering of changes).
VERSION_HEADER = "Callblock-Version"
_SPOOL_BYTES = 8 * 1024 * 1024


# An empty body is refused (400): the file holds at least one byte.
def _csv_body(example: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string", "minLength": 1}, "example": example},
                "text/plain": {"schema": {"type": "string", "minLength": 1}},
                "application/gzip": {
                    "schema": {"type": "string", "format": "binary", "minLength": 1}
                },
                "application/zip": {
                    "schema": {"type": "string", "format": "binary", "minLength": 1}
                },
            },
        }
    }


def _csv_answer(example: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {"text/csv": {"schema": {"type": "string"}, "example": example}}}}


def _exported(example: str) -> dict[int | str, dict[str, Any]]:
    answer = _csv_answer(example)
    answer[200]["headers"] = {
        VERSION_HEADER: {
            "description": "The account's version the export was read at (the change feed's "
            "`version`): the file holds every change up to it and none after.",
            "schema": {"type": "integer", "minimum": 0},
        }
    }
    return answer


async def _spool(request: Request) -> IO[bytes]:
    """The request body in a temporary file (memory first, disk past 8 MiB), size-limited."""
    settings: Settings = request.app.state.settings
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 (returned)
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > settings.max_import_bytes:
                spool.close()
                raise HTTPException(
                    413, f"The file may have at most {settings.max_import_bytes} bytes."
                )
            spool.write(chunk)
    except ClientDisconnect:  # nobody to answer; nothing was written
        spool.close()
        raise HTTPException(400, "The client went away before the end of the file.") from None
    if size == 0:
        spool.close()
        raise HTTPException(400, "The body is empty: send the file as the request body.")
    spool.seek(0)
    return spool


def _import(
    service: Service,
    actor: Actor,
    group_id: int,
    spool: IO[bytes],
    column: str | None,
    expiry_column: str | None,
    skip_invalid: bool,
    limit: int,
    mode: schemas.ImportMode,
    max_removal: float,
    op_column: str | None,
    line_format: files.LineFormat,
    file_name: str | None,
    note: str | None,
) -> schemas.ImportSummary:
    text = files.text_stream(spool, limit)
    headers: list[files.Row] = []
    changes = mode is schemas.ImportMode.CHANGES
    lines = files.import_lines(
        text,
        actor.account.region,
        column,
        expiry_column,
        on_header=headers.append,
        ops=changes,
        op_column=op_column,
        line_format=line_format,
    )
    if changes:
        result = service.apply_change_list(
            actor,
            GroupById(group_id),
            lines,
            skip_invalid=skip_invalid,
            file_name=file_name,
            note=note,
        )
    else:
        result = service.import_entries(
            actor,
            GroupById(group_id),
            lines,
            skip_invalid=skip_invalid,
            replace=mode is schemas.ImportMode.REPLACE,
            max_removal=max_removal,
            file_name=file_name,
            note=note,
        )
    return schemas.ImportSummary(
        header=schemas.HeaderLine(line=headers[0].line, cells=headers[0].values)
        if headers
        else None,
        added=result.added,
        updated=result.updated,
        repeats=result.repeats,
        removed=result.removed,
        invalid=[schemas.RejectedLinePublic(**vars_of(r)) for r in result.invalid],
    )


def vars_of(line: Any) -> dict[str, Any]:
    return {"line": line.line, "input": line.input, "reason": line.reason}


@router.post(
    "/groups/{group_id}/numbers:import",
    operation_id="importNumbers",
    summary="Import a CSV or text file of numbers into a group, all or nothing",
    description="The file is the request body (CSV with its delimiter sniffed, or one number a "
    "line; gzip too, or a zip of such files read whole, in name order), streamed; `format` "
    "reads a registry's own lines (area code and number, the UK TPS file). A first row of "
    "column names is read as a header; `column` picks the numbers' column, `expiry_column` "
    "one of expiries. With any invalid line nothing is imported: 422 with `invalid_lines`, "
    "unless `skip_invalid=true`, which imports the others and lists the skipped. A file "
    "without numbers is 422, an unreadable one (a damaged gzip or zip) 400, one over the size "
    "limit (unpacked, for a gzip or zip) 413. `mode=replace` makes the group exactly the "
    "file's entries, in one change every node applies whole (checks see the old list or the "
    "new one); the answer's `removed` counts the entries it removed. Every import, in any "
    "mode, records its time and `file_name` as the group's `refreshed_at` and "
    "`refreshed_from`. `note` is set on the file's entries (a change list: on those it "
    "adds), those already in the group too, as `addNumbers` sets one.",
    response_model=schemas.ImportSummary,
    responses={**examples.IMPORTED, **responses(400, 401, 404, 409, 413, 422, 503)},
    openapi_extra=_csv_body(examples.IMPORT_FILE),
)
async def import_numbers(
    group_id: GroupId,
    request: Request,
    actor: WritingActorDep,
    service: ServiceDep,
    column: Annotated[
        str | None, Query(max_length=COLUMN_MAX, description="Header name or 1-based position.")
    ] = None,
    expiry_column: Annotated[str | None, Query(max_length=COLUMN_MAX)] = None,
    skip_invalid: bool = False,
    mode: Annotated[
        schemas.ImportMode,
        Query(
            description="`add` (the default): the file's entries are added to the group. "
            "`replace`: the group becomes exactly the file's entries, atomically (those not "
            "in it are removed; those in it keep their `created_at`); refused with 409 "
            "`too-many-removals` when it would remove more than `max_removal` of the group. "
            "`changes`: a change list, each line adding or deleting its number (an operation "
            "column of `A`/`D`, `add`/`delete` or `+`/`-`), all or nothing, in the file's "
            "order."
        ),
    ] = schemas.ImportMode.ADD,
    op_column: Annotated[
        str | None,
        Query(
            max_length=COLUMN_MAX,
            description="For `changes`: the operation column (header name or 1-based "
            "position); else one named op, operation, action or change, or the first cell "
            "of the first data row that reads as an operation.",
        ),
    ] = None,
    max_removal: Annotated[
        float,
        Query(
            ge=0,
            le=1,
            description="For `replace`: the largest share of the group it may remove (0 to "
            "1; 1 forces any replace). A truncated download must not wipe a registry.",
        ),
    ] = DEFAULT_MAX_REMOVAL,
    line_format: Annotated[
        files.LineFormat,
        Query(
            alias="format",
            description="How the lines are read. `csv`: a column of numbers (`column`, or "
            "found). `plain`: one number a line, the whole line. `area-code-pair`: a North "
            "American registry's lines, `416,1234567` (area code, number; or ten digits "
            "alone), read under +1 whatever the account's region. `tps`: the UK TPS file, a "
            "12-character record a line (`01635 506160`, `02073787244`), read as UK numbers. "
            "`auto` (the default): `area-code-pair` when the first data row is one beyond "
            "doubt (`416,2345678`: comma, 3 and 7 digits, each starting 2 to 9), else `csv`. "
            "`column`, `expiry_column` and `mode=changes` are for `csv` and `auto`.",
        ),
    ] = files.LineFormat.AUTO,
    file_name: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=FILE_NAME_MAX,
            description="The file's name (its base name, e.g. `dnc-2026-12.zip`), recorded "
            "with the import's time as the group's `refreshed_from` and `refreshed_at`. "
            f"Optional: without it, `refreshed_from` is null. {FILE_NAME_RULE}.",
            json_schema_extra={"pattern": "^[^\\u0000]*$"},  # stated; the domain enforces it
        ),
    ] = None,
    note: Annotated[
        str | None,
        Query(
            description="A note set on the file's entries (on those a change list adds), as "
            "`addNumbers` sets one: those already in the group get it too. Without it, they "
            f"keep their own. {NOTE_RULE[0].upper()}{NOTE_RULE[1:]}.",
            # Stated; the domain enforces it, with the rule's own words.
            json_schema_extra={"maxLength": NOTE_MAX, "pattern": "^[^\\u0000]*$"},
        ),
    ] = None,
) -> Any:
    checked_file_name(file_name)  # refused before the body is read
    checked_note(note)
    conflict = files.format_conflict(
        line_format, column, expiry_column, mode is schemas.ImportMode.CHANGES
    )
    if conflict is not None:  # before the body is read: the request itself is wrong
        return problem(
            422, "Some fields are invalid.", kind="validation", errors={"format": conflict}
        )
    spool = await _spool(request)
    try:
        limit = request.app.state.settings.max_import_bytes
        return await run_in_threadpool(
            _import,
            service,
            actor,
            group_id,
            spool,
            column,
            expiry_column,
            skip_invalid,
            limit,
            mode,
            max_removal,
            op_column,
            line_format,
            file_name,
            note,
        )
    except files.FileTooLarge as exc:
        return problem(413, f"The file is too large: {exc}.")
    except NothingToImport:
        return problem(
            422, "The file holds no numbers: nothing was imported.", kind="nothing-to-import"
        )
    except TooManyRemovals as exc:
        return problem(
            409,
            f"The replace would remove {exc.removing} of the group's {exc.present} entries, "
            f"more than max_removal ({exc.limit:g}) allows: nothing was written. Check the "
            "file is whole; to replace anyway, raise max_removal (1 allows any).",
            kind="too-many-removals",
            extra={"removing": exc.removing, "present": exc.present, "max_removal": exc.limit},
        )
    except ImportRejected as exc:
        return problem(
            422,
            f"{len(exc.lines)} invalid line{'' if len(exc.lines) == 1 else 's'}: nothing was "
            "imported (skip_invalid=true imports "
            "the others).",
            kind="invalid-lines",
            extra={"invalid_lines": [vars_of(line) for line in exc.lines[:INVALID_LINES_SHOWN]]},
        )
    except (files.FileProblem, UnicodeDecodeError, EOFError, OSError) as exc:
        return problem(400, f"The file cannot be read: {exc}", kind="unreadable-file")
    finally:
        spool.close()


@router.get(
    "/groups/{group_id}/numbers.csv",
    operation_id="exportNumbers",
    summary="The group's entries as CSV, streamed",
    description="Every entry of the group, in the listing's order (prefixes first), as CSV "
    "with a header row: `number,kind,status,expires_at,note,source,created_at,updated_at`. "
    "Streamed, so a group of millions starts at once. All of it is read in one snapshot: "
    "the `Callblock-Version` header is the account's version there, as the change feed "
    "numbers changes (the file holds every change up to it, none after). 404 for an unknown "
    "group, before any line is sent.",
    response_class=StreamingResponse,
    responses={**_exported(examples.EXPORTED), **responses(401, 404, 422, 503)},
)
async def export_numbers(
    group_id: GroupId, actor: ReadingActorDep, service: ServiceDep
) -> Response:
    texts = _export_texts(service, actor, group_id)
    version = await run_in_threadpool(next, texts)  # the lookup (404) happens before streaming
    return _ClosingStream(
        _in_worker_threads(texts),
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="group-{group_id}.csv"',
            VERSION_HEADER: version,
        },
    )


def _export_texts(service: Service, actor: Actor, group_id: int) -> Generator[str, None, None]:
    """The version the export reads, first; then the CSV, a block of entries at a time."""
    with service.exporting(actor, GroupById(group_id)) as export:
        yield str(export.version)
        yield from files.CsvExport(export.blocks, export.at)


def _encoded(texts: Iterator[str]) -> bytes | None:
    # With the error handler of every file this module answers (see _chain).
    text = next(texts, None)
    return None if text is None else text.encode("utf-8", files.ERRORS)


async def _in_worker_threads(texts: Generator[str, None, None]) -> AsyncIterator[bytes]:
    """Each text read and encoded in a worker thread (the store blocks); and, however the
    stream ends (done, failed, or the client gone), the reader closed in one: its read
    transaction ends and its connection goes back to the pool then, not when the garbage
    collector gets to it."""
    try:
        while (block := await run_in_threadpool(_encoded, texts)) is not None:
            yield block
    finally:
        with anyio.CancelScope(shield=True):  # closing must run even in a cancelled task
            await run_in_threadpool(texts.close)


class _ClosingStream(StreamingResponse):
    """A streaming answer that closes its body when it ends: Starlette stops a stream whose
    client went away by cancelling it, which may leave the body suspended, unclosed."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            body = self.body_iterator
            if isinstance(body, AsyncGenerator):
                with anyio.CancelScope(shield=True):
                    await body.aclose()


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _chain(first: str, rest: Iterator[str]) -> Iterator[bytes]:
    # Encoded here: bytes that were not UTF-8 in the upload go back exactly as they came.
    yield first.encode("utf-8", files.ERRORS)
    for text in rest:
        yield text.encode("utf-8", files.ERRORS)


@router.post(
    "/scrub",
    operation_id="scrubList",
    summary="Scrub a calling list: every row back, in order, with its status and reason",
    description="The calling list is the request body (CSV or one number a line, gzip too). "
    "Every row comes back in order, in the input's delimiter, with `status` (`callable`, "
    "`blocked`, `invalid`, and `not_callable_now` for a row only a campaign's calling window "
    "stands against), `reason` (in words), `reason_code` (the check's reason codes, joined "
    "by `;`) and `next_callable_at` added; `campaign` scrubs for a campaign (404 if unknown); "
    "`column` picks the numbers' column, "
    "`direction` is outbound unless given. The file is read once before the answer starts, so "
    "an unreadable one is 400 and one over the size limit 413.",
    response_class=StreamingResponse,
    responses={**_csv_answer(examples.SCRUBBED), **responses(400, 401, 404, 413, 422, 503)},
    openapi_extra=_csv_body(examples.SCRUB_FILE),
)
async def scrub(
    request: Request,
    actor: ReadingActorDep,
    service: ServiceDep,
    column: Annotated[str | None, Query(max_length=COLUMN_MAX)] = None,
    direction: schemas.CheckDirection = schemas.CheckDirection.OUTBOUND,
    campaign: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=NAME_MAX,
            description="A campaign's id or name: scrub for that campaign, now.",
        ),
    ] = None,
) -> Response:
    ref = None if campaign is None else campaign_ref(campaign)
    if ref is not None:
        service.campaign_plan(actor, ref, None)  # an unknown campaign is 404, before reading
    spool = await _spool(request)
    settings: Settings = request.app.state.settings
    try:
        # The whole file is read once first: once the answer streams, its status is sent.
        await run_in_threadpool(files.check_readable, spool, settings.max_import_bytes)
        lines = _scrub_lines(service, actor, spool, column, Direction(direction.value), ref)
        first = await run_in_threadpool(next, lines)
    except files.FileTooLarge as exc:
        spool.close()
        return problem(413, f"The file is too large: {exc}.")
    except (files.FileProblem, UnicodeDecodeError, EOFError, OSError) as exc:
        spool.close()
        return problem(400, f"The file cannot be read: {exc}", kind="unreadable-file")
    return StreamingResponse(_chain(first, lines), media_type="text/csv")


def _scrub_lines(
    service: Service,
    actor: Actor,
    spool: IO[bytes],
    column: str | None,
    direction: Direction,
    campaign: CampaignRef | None,
) -> Iterator[str]:
    """The scrubbed CSV: each input row plus `status`, `reason`, `reason_code` and
    `next_callable_at` (``files.SCRUB_COLUMNS``)."""
    try:
        found, rows = files.scrub_input(files.text_stream(spool), actor.account.region, column)
        buffer = io.StringIO()
        if found is None:
            yield ""
            return
        writer = csv.writer(buffer, delimiter=found.delimiter, lineterminator="\n")
        if found.header is not None:
            writer.writerow([*found.padded(found.header), *files.SCRUB_COLUMNS])
        yield _drain(buffer)
        for part in files.scrub_chunks(
            service.scrub_checks, actor, rows, found, direction, campaign
        ):
            writer.writerows(
                [*found.padded(values), status, reason, code, next_at]
                for values, status, reason, code, next_at in zip(
                    part.rows,
                    part.statuses,
                    part.reasons,
                    part.codes,
                    part.next_callable,
                    strict=True,
                )
            )
            yield _drain(buffer)
    finally:
        spool.close()
