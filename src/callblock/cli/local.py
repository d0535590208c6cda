"""``Operations`` on the local database, as one account acting through the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from callblock import files
from callblock.cli.files import text_with_progress
from callblock.cli.operations import (
    CallDirection,
    GroupDirection,
    Imported,
    ImportOptions,
    NotANumber,
    Reading,
    Scrubbing,
    Writing,
)
from callblock.domain import (
    Actor,
    Direction,
    FieldProblem,
    GroupByName,
    InvalidInput,
    ProblemCode,
    clean_description,
    clean_group_name,
)
from callblock.rules import DESCRIPTION_RULE, NAME_RULE
from callblock.service import CheckResult, Service


@dataclass(frozen=True, slots=True)
class LocalGroup:
    id: int
    name: str
    direction: str
    active_count: int
    expired_count: int


class LocalGroups:
    def __init__(self, service: Service, actor: Actor) -> None:
        self._service = service
        self._actor = actor

    def list(self, name: str | None = None, page_size: int = 100) -> Iterator[LocalGroup]:
        after = None
        while True:
            page = self._service.list_groups(self._actor, name=name, after=after, limit=page_size)
            for d in page.items:
                yield LocalGroup(
                    d.group.id, d.group.name, d.group.direction.value, d.active, d.expired
                )
            if page.next_after is None:
                return
            after = page.next_after

    def create(
        self, name: str, description: str = "", direction: GroupDirection = "both"
    ) -> LocalGroup:
        clean = clean_group_name(name)
        text = clean_description(description, minimum=0)
        if clean is None or text is None:
            checked = (
                ("name", name, clean, NAME_RULE),
                ("description", description, text, DESCRIPTION_RULE),
            )
            raise InvalidInput(
                [
                    FieldProblem(field, ProblemCode.LENGTH, value, rule)
                    for field, value, cleaned, rule in checked
                    if cleaned is None
                ]
            )
        created = self._service.create_group(
            self._actor, clean, text, [], None, Direction(direction)
        )
        group = created.group
        return LocalGroup(group.id, group.name, group.direction.value, 0, 0)

    def delete(self, group_id: int) -> None:
        self._service.delete_group(self._actor, group_id)


class Local:
    def __init__(self, service: Service, actor: Actor) -> None:
        self._service = service
        self._actor = actor
        self.groups = LocalGroups(service, actor)

    def check(self, number: str, direction: CallDirection | None = None) -> CheckResult:
        wanted = None if direction is None else Direction(direction)
        result = self._service.check(self._actor, number, wanted)
        if result.error is not None:
            raise NotANumber(result.error)
        return result

    def import_file(
        self, group: str, file: Path, options: ImportOptions, reading: Reading, writing: Writing
    ) -> Imported:
        # The file is read (and checked) block by block while the import plans, then written.
        headers: list[files.Row] = []
        with text_with_progress(file) as (text, counting):
            blocks = files.import_lines(
                text,
                self._actor.account.region,
                options.column,
                options.expiry_column,
                progress=lambda: reading(counting.count),
                on_header=headers.append,
            )
            result = self._service.import_entries(
                self._actor,
                GroupByName(group),
                blocks,
                create=True,
                skip_invalid=options.skip_invalid,
                progress=writing,
            )
        return Imported(
            group_id=result.group.id,
            group_name=result.group.name,
            created_group=result.created_group,
            added=result.added,
            updated=result.updated,
            repeats=result.repeats,
            invalid=result.invalid,
            headers=headers,
            lines=result.lines,
        )

    def export_group(self, group: str, out: IO[str]) -> int:
        with self._service.exporting(self._actor, GroupByName(group)) as export:
            text = files.CsvExport(export.blocks, export.at)
            for block in text:  # the header once the group is known to exist
                out.write(block)
        return text.entries

    @contextmanager
    def scrub_file(
        self, file: Path, column: str | None, direction: CallDirection, reading: Reading
    ) -> Iterator[Scrubbing]:
        with text_with_progress(file) as (text, counting):
            found, rows = files.scrub_input(text, self._actor.account.region, column)
            if found is None:
                yield Scrubbing(None, iter(()))
                return

            def parts() -> Iterator[files.Scrubbed]:
                chunks = files.scrub_chunks(
                    self._service, self._actor, rows, found, Direction(direction)
                )
                for part in chunks:
                    reading(counting.count)
                    yield part

            yield Scrubbing(found, parts())
