"""``Operations`` on the local database, as one account acting through the CLI."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import IO

from callblock import files
from callblock.calling_hours import DAY_NAMES, CallingWindow, clean_window
from callblock.campaign_rules import Campaign
from callblock.cli.files import text_with_progress
from callblock.cli.operations import (
    CallDirection,
    Columns,
    GroupDirection,
    GroupKind,
    GroupScope,
    Imported,
    ImportOptions,
    NotANumber,
    Reading,
    Scrubbing,
    StatsBucket,
    Writing,
    recorded_file_name,
)
from callblock.domain import (
    Actor,
    CampaignById,
    Direction,
    Entry,
    FieldProblem,
    Group,
    GroupByName,
    GroupDetail,
    InvalidInput,
    Match,
    ProblemCode,
    clean_description,
    clean_group_name,
    group_name_problem,
)
from callblock.domain import GroupKind as Kind
from callblock.domain import GroupScope as Scope
from callblock.numbers import PREFIX_MARK, display_forms
from callblock.rules import DESCRIPTION_RULE
from callblock.service import CheckResult, Service
from callblock.usecases.insights import StatsPoint

_STALE_PAGE = 1000


@dataclass(frozen=True, slots=True)
class LocalGroup:
    id: int
    name: str
    direction: str
    kind: str
    scope: str
    consent_overrides: bool
    active_count: int
    expired_count: int
    refreshed_at: datetime | None = None
    refreshed_from: str | None = None

    @classmethod
    def of(cls, group: Group, active: int, expired: int) -> LocalGroup:
        return cls(
            group.id,
            group.name,
            group.direction.value,
            group.kind.value,
            group.scope.value,
            group.consent_overrides,
            active,
            expired,
        )

    @classmethod
    def of_detail(cls, detail: GroupDetail) -> LocalGroup:
        return replace(
            cls.of(detail.group, detail.active, detail.expired),
            refreshed_at=detail.refreshed_at,
            refreshed_from=detail.refreshed_from,
        )


def _named(name: str, description: str) -> tuple[str, str]:
    """A group's or a campaign's name and description as the domain keeps them; InvalidInput
    naming each that breaks its rule."""
    clean = clean_group_name(name)
    text = clean_description(description, minimum=0)
    if clean is None or text is None:
        checked = (
            ("name", name, clean, group_name_problem(name) or ""),
            ("description", description, text, DESCRIPTION_RULE),
        )
        raise InvalidInput(
            [
                FieldProblem(field, ProblemCode.LENGTH, value, rule)
                for field, value, cleaned, rule in checked
                if cleaned is None
            ]
        )
    return clean, text


class LocalGroups:
    def __init__(self, service: Service, actor: Actor) -> None:
        self._service = service
        self._actor = actor

    def list(self, name: str | None = None, page_size: int = 100) -> Iterator[LocalGroup]:
        after = None
        while True:
            page = self._service.list_groups(self._actor, name=name, after=after, limit=page_size)
            for d in page.items:
                yield LocalGroup.of_detail(d)
            if page.next_after is None:
                return
            after = page.next_after

    def create(
        self,
        name: str,
        description: str = "",
        direction: GroupDirection = "both",
        kind: GroupKind = "block",
        scope: GroupScope = "global",
        consent_overrides: bool = False,
    ) -> LocalGroup:
        clean, text = _named(name, description)
        created = self._service.create_group(
            self._actor,
            clean,
            text,
            [],
            None,
            Direction(direction),
            kind=Kind(kind),
            scope=Scope(scope),
            consent_overrides=consent_overrides,
        )
        return LocalGroup.of(created.group, 0, 0)

    def get(self, group_id: int) -> LocalGroup:
        return LocalGroup.of_detail(self._service.group_detail(self._actor, group_id))

    def delete(self, group_id: int) -> None:
        self._service.delete_group(self._actor, group_id)


@dataclass(frozen=True, slots=True)
class LocalWindow:
    days: tuple[str, ...]
    start: str
    end: str


@dataclass(frozen=True, slots=True)
class LocalAttached:
    id: int
    name: str
    scope: str
    consent_overrides: bool


@dataclass(frozen=True, slots=True)
class LocalCampaign:
    id: int
    name: str
    description: str
    calling_window: LocalWindow | None
    block_groups: tuple[LocalAttached, ...]
    allow_groups: tuple[LocalAttached, ...]

    @classmethod
    def of(cls, campaign: Campaign) -> LocalCampaign:
        window = campaign.window
        shown = None
        if window is not None:
            wire = window.to_wire()
            days = tuple(DAY_NAMES[day] for day in sorted(window.days))
            shown = LocalWindow(days, str(wire["start"]), str(wire["end"]))

        def attached(kind: Kind) -> tuple[LocalAttached, ...]:
            return tuple(
                LocalAttached(g.id, g.name, g.scope.value, g.consent_overrides)
                for g in campaign.groups
                if g.kind is kind
            )

        return cls(
            campaign.id,
            campaign.name,
            campaign.description,
            shown,
            attached(Kind.BLOCK),
            attached(Kind.ALLOW),
        )


def _window(wire: Mapping[str, object] | None) -> CallingWindow | None:
    if wire is None:
        return None
    problems: list[FieldProblem] = []
    window = clean_window(wire, problems)
    if window is None:
        raise InvalidInput(problems)
    return window


class LocalCampaigns:
    def __init__(self, service: Service, actor: Actor) -> None:
        self._service = service
        self._actor = actor

    def list(self) -> Iterator[LocalCampaign]:
        return iter([LocalCampaign.of(c) for c in self._service.list_campaigns(self._actor)])

    def create(
        self,
        name: str,
        description: str = "",
        calling_window: Mapping[str, object] | None = None,
        group_ids: Sequence[int] = (),
    ) -> LocalCampaign:
        clean, text = _named(name, description)
        created = self._service.create_campaign(
            self._actor, clean, text, _window(calling_window), group_ids
        )
        return LocalCampaign.of(created)

    def get(self, campaign_id: int) -> LocalCampaign:
        return LocalCampaign.of(self._service.campaign(self._actor, CampaignById(campaign_id)))

    def update(
        self, campaign_id: int, *, calling_window: Mapping[str, object] | None
    ) -> LocalCampaign:
        changed = self._service.update_campaign(
            self._actor, CampaignById(campaign_id), window=_window(calling_window)
        )
        return LocalCampaign.of(changed)

    def attach(self, campaign_id: int, group_ids: Sequence[int]) -> LocalCampaign:
        return LocalCampaign.of(
            self._service.attach_groups(self._actor, CampaignById(campaign_id), group_ids)
        )

    def detach(self, campaign_id: int, group_id: int) -> LocalCampaign:
        return LocalCampaign.of(
            self._service.detach_groups(self._actor, CampaignById(campaign_id), [group_id])
        )

    def delete(self, campaign_id: int) -> None:
        self._service.delete_campaign(self._actor, CampaignById(campaign_id))


@dataclass(frozen=True, slots=True)
class LocalReason:
    code: str
    group_id: int | None
    group_name: str | None
    pattern: str | None
    allowed_by: Match | None
    time_zones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LocalCampaignCheck:
    number: str | None
    campaign_name: str
    callable: bool
    blocked: bool
    reasons: tuple[LocalReason, ...]
    next_callable_at: datetime | None


@dataclass(frozen=True, slots=True)
class LocalGroupMatches:
    group_id: int
    name: str
    matched: int


@dataclass(frozen=True, slots=True)
class LocalTopEntry:
    group_id: int
    group_name: str
    number: str
    international: str
    hits: int


@dataclass(frozen=True, slots=True)
class LocalStats:
    bucket: str
    start: datetime
    end: datetime
    checks: int
    blocked: int
    series: tuple[StatsPoint, ...]
    by_group: tuple[LocalGroupMatches, ...]
    top_entries: tuple[LocalTopEntry, ...]


@dataclass(frozen=True, slots=True)
class LocalStaleEntry:
    number: str
    kind: str
    status: str
    expires_at: datetime | None
    note: str | None
    created_at: datetime
    last_matched_on: date | None

    @classmethod
    def of(cls, entry: Entry, now: datetime, last_matched: datetime | None) -> LocalStaleEntry:
        expired = entry.expires_at is not None and entry.expires_at <= now
        return cls(
            entry.pattern,
            "prefix" if entry.pattern.endswith(PREFIX_MARK) else "number",
            "expired" if expired else "active",
            entry.expires_at,
            entry.note,
            entry.created_at,
            None if last_matched is None else last_matched.date(),
        )

    def row(self) -> list[str]:
        """Its row of the stale entries' CSV, as the API writes it."""
        return files.stale_row(
            self.number,
            self.kind,
            self.status,
            self.expires_at,
            self.note,
            self.created_at,
            self.last_matched_on,
        )


class Local:
    def __init__(self, service: Service, actor: Actor) -> None:
        self._service = service
        self._actor = actor
        self.groups = LocalGroups(service, actor)
        self.campaigns = LocalCampaigns(service, actor)

    def check(self, number: str, direction: CallDirection | None = None) -> CheckResult:
        wanted = None if direction is None else Direction(direction)
        result = self._service.check(self._actor, number, wanted)
        if result.error is not None:
            raise NotANumber(result.error)
        return result

    def check_for_campaign(
        self, number: str, direction: CallDirection | None, campaign_id: int
    ) -> LocalCampaignCheck:
        wanted = None if direction is None else Direction(direction)
        result = self._service.check_for_campaign(
            self._actor, number, wanted, CampaignById(campaign_id)
        )
        if result.error is not None:
            raise NotANumber(result.error)
        reasons = tuple(
            LocalReason(
                r.code.value,
                None if r.match is None else r.match.group_id,
                None if r.match is None else r.match.group_name,
                None if r.match is None else r.match.pattern,
                r.allowed_by,
                r.zones,
            )
            for r in result.reasons
        )
        return LocalCampaignCheck(
            result.number,
            result.campaign_name,
            result.callable,
            result.blocked,
            reasons,
            result.next_callable_at,
        )

    def import_file(
        self,
        group: str,
        file: Path,
        options: ImportOptions,
        reading: Reading,
        writing: Writing,
        columns: Columns,
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
                on_layout=columns,
                ops=options.mode == "changes",
                op_column=options.op_column,
                line_format=options.line_format,
            )
            if options.mode == "changes":
                result = self._service.apply_change_list(
                    self._actor,
                    GroupByName(group),
                    blocks,
                    skip_invalid=options.skip_invalid,
                    progress=writing,
                    file_name=recorded_file_name(file),
                    note=options.note,
                )
            else:
                result = self._service.import_entries(
                    self._actor,
                    GroupByName(group),
                    blocks,
                    create=True,
                    skip_invalid=options.skip_invalid,
                    progress=writing,
                    kind=Kind(options.new_group.kind),
                    scope=Scope(options.new_group.scope),
                    consent_overrides=options.new_group.consent_overrides,
                    replace=options.mode == "replace",
                    max_removal=options.max_removal,
                    file_name=recorded_file_name(file),
                    note=options.note,
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
            removed=result.removed,
        )

    def purge_expired(self, group_id: int) -> int:
        return self._service.purge_expired(self._actor, group_id)

    def export_group(self, group: str, out: IO[str]) -> int:
        with self._service.exporting(self._actor, GroupByName(group)) as export:
            text = files.CsvExport(export.blocks, export.at)
            for block in text:  # the header once the group is known to exist
                out.write(block)
        return text.entries

    def stats(
        self,
        bucket: StatsBucket,
        start: datetime | None,
        end: datetime | None,
        group_id: int | None,
        campaign_id: int | None,
    ) -> LocalStats:
        stats = self._service.stats(
            self._actor,
            bucket=bucket,
            start=start,
            end=end,
            group_id=group_id,
            campaign=None if campaign_id is None else CampaignById(campaign_id),
        )
        return LocalStats(
            stats.bucket,
            stats.start,
            stats.end,
            stats.checks,
            stats.blocked,
            tuple(stats.series),
            tuple(LocalGroupMatches(g.group_id, g.name, g.matched) for g in stats.by_group),
            tuple(
                LocalTopEntry(
                    t.group_id, t.group_name, t.pattern, display_forms(t.pattern)[1], t.hits
                )
                for t in stats.top_entries
            ),
        )

    def stale_entries(self, group_id: int, days: int) -> Iterator[LocalStaleEntry]:
        after = None
        while True:
            page = self._service.stale_entries(
                self._actor, group_id, days=days, after=after, limit=_STALE_PAGE
            )
            now = self._service.clock()
            for entry in page.entries:
                yield LocalStaleEntry.of(entry, now, page.last_matched.get(entry.key))
            if page.next_after is None:
                return
            after = page.next_after

    def stale_csv(self, group_id: int, days: int, out: IO[str]) -> int:
        entries = self.stale_entries(group_id, days)
        first = next(entries, None)  # an unknown group is said before anything is written
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(files.STALE_HEADER)
        count = 0
        if first is not None:
            writer.writerow(first.row())
            count = 1
        for entry in entries:
            writer.writerow(entry.row())
            count += 1
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
        campaign = None if campaign_id is None else CampaignById(campaign_id)
        if campaign is not None:  # an unknown campaign is said before the file is read
            self._service.campaign_plan(self._actor, campaign, None)
        with text_with_progress(file) as (text, counting):
            found, rows = files.scrub_input(text, self._actor.account.region, column)
            if found is None:
                yield Scrubbing(None, iter(()))
                return

            def parts() -> Iterator[files.Scrubbed]:
                chunks = files.scrub_chunks(
                    self._service.scrub_checks,
                    self._actor,
                    rows,
                    found,
                    Direction(direction),
                    campaign,
                )
                for part in chunks:
                    reading(counting.count)
                    yield part

            yield Scrubbing(found, parts())
