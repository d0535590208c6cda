"""Number lists in and out: imports (whole or not at all) and exports."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

import numpy as np
from sqlalchemy import Connection

from callblock import metrics
from callblock.change import Draft, Keys, expiry_keys
from callblock.domain import (
    Action,
    Actor,
    Direction,
    FieldProblem,
    Group,
    GroupByName,
    GroupKind,
    GroupNotFound,
    GroupRef,
    GroupScope,
    ImportRejected,
    InvalidInput,
    NothingToImport,
    ProblemCode,
    TooManyRemovals,
    checked_file_name,
    checked_note,
    clean_group_name,
    group_name_problem,
    name_key,
)
from callblock.files.plan import ImportLines, plan_changes, plan_import
from callblock.store import Store
from callblock.store import accounts as account_rows
from callblock.store import entries as entry_rows
from callblock.store import groups as group_rows
from callblock.timestamps import NEVER
from callblock.usecases.groups import consistent_role, find_group, state_of
from callblock.usecases.results import GroupExport, ImportResult
from callblock.usecases.writes import Writer

# A replace that would remove more than this share of its group is refused unless forced.
DEFAULT_MAX_REMOVAL = 0.2
_NO_KEYS: Keys = np.zeros(0, np.int64)


class Imports:
    def __init__(self, store: Store, clock: Callable[[], datetime], writer: Writer) -> None:
        self._store = store
        self._clock = clock
        self._writer = writer

    def import_entries(
        self,
        actor: Actor,
        group_ref: GroupRef,
        lines: Iterable[ImportLines],
        *,
        create: bool = False,
        skip_invalid: bool = False,
        progress: Callable[[int, int], None] | None = None,
        kind: GroupKind = GroupKind.BLOCK,
        scope: GroupScope = GroupScope.GLOBAL,
        consent_overrides: bool = False,
        replace: bool = False,
        max_removal: float = DEFAULT_MAX_REMOVAL,
        file_name: str | None = None,
        note: str | None = None,
    ) -> ImportResult:
        """Import a number list's lines (in blocks) into a group, whole or not at all.

        Every line is read and checked before anything is written; then one transaction
        writes them all, so a crash, a kill or a database error leaves the group as it was.
        Invalid lines refuse the whole import (``ImportRejected``) unless ``skip_invalid``;
        a file without lines is refused (``NothingToImport``). With ``create``, a group named
        by ``GroupByName`` that does not exist is created, of ``kind`` and ``scope`` and with
        ``consent_overrides`` (an existing group keeps its own). ``progress`` gets (entries
        written, entries to write).

        With ``replace``, the group becomes exactly the file's entries: those not in it are
        removed in the same transaction (those in it keep their ``created_at``), and the
        change is one ``replace`` that every index applies whole. A replace that would remove
        more than ``max_removal`` of the group's entries (a share, 0 to 1; 1 forces it) is
        refused (``TooManyRemovals``) and writes nothing.

        Any import records itself as the group's refresh, in the same transaction: its time
        and ``file_name``, the file's name as the client says it (``FILE_NAME_RULE``;
        ``InvalidInput`` otherwise, before anything is read).

        ``note`` (``NOTE_RULE``) is set on every entry the file holds, as an add sets its
        note; without one, the entries already there keep theirs.
        """
        consistent_role(kind, consent_overrides)
        file_name = checked_file_name(file_name)
        note = checked_note(note)
        account = actor.account
        if not create:  # a missing group is answered before a long file is read
            with self._store.read() as conn:
                find_group(conn, account.id, group_ref)
        plan = plan_import(lines, account.region, account.timezone, self._clock())
        if not plan.lines:
            raise NothingToImport
        if plan.invalid and not skip_invalid:
            raise ImportRejected(plan.invalid)
        total = len(plan.keys)
        expiries = _expiry_array(plan.expiries, total)

        def work(conn: Connection, now: datetime) -> tuple[ImportResult, Draft]:
            written = 0

            def wrote(count: int) -> None:
                nonlocal written
                written += count
                if progress is not None:
                    progress(written, total)

            role = (kind, scope, consent_overrides)
            group, created = _group_to_fill(conn, account.id, group_ref, create, now, role)
            keys, stamps, gone = plan.keys, expiries, _NO_KEYS
            if not created:
                entry_rows.by_primary_key(conn)
            if replace and not created:
                present = entry_rows.group_keys(conn, group.id)
                gone = np.setdiff1d(present, plan.keys, assume_unique=True)
                if len(gone) > max_removal * len(present):
                    raise TooManyRemovals(len(gone), len(present), max_removal)
                if plan.expiries is None and note is None:
                    # A registry's full list, without expiries: its entries already there
                    # without one stay as they are (written again, they would change
                    # nothing but updated_at); the new ones are written, and those that had
                    # an expiry lose it. (With a note, every one is written: each gets it.)
                    dated = entry_rows.group_keys(conn, group.id, dated=True)
                    stale = np.union1d(
                        np.setdiff1d(plan.keys, present, assume_unique=True),
                        np.intersect1d(dated, plan.keys, assume_unique=True),
                    )
                    keys, stamps = stale, expiry_keys(len(stale))
            # Of the keys written, those already there (exact: the account's write lock keeps
            # other writers out until commit); into a new group, none.
            there = _NOTHING if created else _present_before(conn, group.id, keys)
            entry_rows.write_entries(
                conn,
                group_id=group.id,
                keys=keys,
                expiries=None if keys is not plan.keys else plan.expiries,
                source=actor.surface.value,
                now=now,
                note=note,
                new_group=created,
                progress=wrote,
            )
            added = len(keys) - there.after(conn)
            if len(gone):
                entry_rows.delete_group_keys(conn, group.id, gone)
            group_rows.mark_refreshed(conn, group.id, now, file_name)
            detail = {"added": added, "kept": total - added, "removed": len(gone)}
            draft = Draft(
                action=Action.REPLACE if replace else Action.IMPORT,
                group_id=group.id,
                group=state_of(group) if created else None,
                # The entries written: a replace leaves the others as they were.
                upserted=keys,
                expiries=stamps,
                added=added,
                removed=gone,
                note=note,
                detail=detail if replace else {},
            )
            result = ImportResult(
                group,
                created,
                added,
                total - added,
                plan.invalid,
                plan.repeats,
                plan.lines,
                removed=len(gone),
            )
            return result, draft

        result = self._writer.write(actor, work)
        metrics.IMPORT_ROWS.labels("written").inc(total)
        metrics.IMPORT_ROWS.labels("invalid").inc(len(plan.invalid))
        metrics.IMPORT_ROWS.labels("repeated").inc(plan.repeats)
        return result

    def apply_change_list(
        self,
        actor: Actor,
        group_ref: GroupRef,
        lines: Iterable[ImportLines],
        *,
        skip_invalid: bool = False,
        progress: Callable[[int, int], None] | None = None,
        file_name: str | None = None,
        note: str | None = None,
    ) -> ImportResult:
        """Apply a change list (each line adds or deletes a number) to a group, all or
        nothing, in the file's order: a number's last line decides. Invalid lines (a number
        or an operation that cannot be read) refuse it (``ImportRejected``) unless
        ``skip_invalid``. One ``change-list`` change, which every index applies whole.
        Recorded as the group's refresh from ``file_name``, as an import is; ``note`` is set
        on the entries it adds."""
        file_name = checked_file_name(file_name)
        note = checked_note(note)
        account = actor.account
        with self._store.read() as conn:  # a missing group is answered before the file is read
            find_group(conn, account.id, group_ref)
        plan = plan_changes(lines, account.region)
        if not plan.lines:
            raise NothingToImport
        if plan.invalid and not skip_invalid:
            raise ImportRejected(plan.invalid)
        total = len(plan.adds)

        def work(conn: Connection, now: datetime) -> tuple[ImportResult, Draft]:
            group = find_group(conn, account.id, group_ref)
            entry_rows.by_primary_key(conn)
            there = _present_before(conn, group.id, plan.adds)
            entry_rows.write_entries(
                conn,
                group_id=group.id,
                keys=plan.adds,
                expiries=None,
                source=actor.surface.value,
                now=now,
                note=note,
                progress=None if progress is None else (lambda done: progress(done, total)),
            )
            added = total - there.after(conn)
            gone = entry_rows.delete_group_keys(conn, group.id, plan.deletes)
            group_rows.mark_refreshed(conn, group.id, now, file_name)
            detail = {"added": added, "kept": total - added, "removed": len(gone)}
            draft = Draft(
                action=Action.CHANGE_LIST,
                group_id=group.id,
                upserted=plan.adds,
                expiries=expiry_keys(total),
                added=added,
                removed=gone,
                note=note,
                detail=detail,
            )
            result = ImportResult(
                group,
                False,
                added,
                total - added,
                plan.invalid,
                plan.repeats,
                plan.lines,
                removed=len(gone),
            )
            return result, draft

        return self._writer.write(actor, work)

    @contextmanager
    def exporting(self, actor: Actor, group_ref: GroupRef) -> Iterator[GroupExport]:
        """The group's entries in blocks (constant memory), all read in one snapshot, with
        the account's data version that snapshot holds: the change log's later versions are
        the changes since. GroupNotFound before anything is read."""
        at = self._clock()
        with self._store.snapshot() as conn:
            group = find_group(conn, actor.account.id, group_ref)
            version = account_rows.data_version(conn, actor.account.id) or 0
            yield GroupExport(group, version, at, entry_rows.entry_blocks(conn, group.id))


def _group_to_fill(
    conn: Connection,
    account_id: int,
    ref: GroupRef,
    create: bool,
    now: datetime,
    role: tuple[GroupKind, GroupScope, bool],
) -> tuple[Group, bool]:
    """The group to import into, and whether this import created it."""
    try:
        return find_group(conn, account_id, ref), False
    except GroupNotFound:
        if not (create and isinstance(ref, GroupByName)):
            raise
    name = clean_group_name(ref.name)
    if name is None:
        problem = group_name_problem(ref.name)
        raise InvalidInput([FieldProblem("group", ProblemCode.INVALID, ref.name, problem or "")])
    kind, scope, consent_overrides = role
    group = group_rows.insert_group(
        conn,
        account_id,
        name,
        name_key(name),
        "",
        now,
        Direction.BOTH,
        kind,
        scope,
        consent_overrides,
    )
    return group, True


def _expiry_array(expiries: list[int | None] | None, count: int) -> Keys:
    """The plan's expiries as stamps (NEVER for none)."""
    if expiries is None:
        return expiry_keys(count)
    return np.fromiter((NEVER if e is None else e for e in expiries), np.int64, count)


class _Present:
    """How many of the keys a write upserts were there before it: counted among the keys
    themselves when they are few (primary-key lookups), else as the group's growth over the
    write (two counts of the group, cheaper than millions of lookups)."""

    def __init__(self, conn: Connection, group_id: int, keys: Keys) -> None:
        self._group_id = group_id
        self._few = len(keys) <= _COUNTED_AMONG_KEYS
        self._keys = len(keys)
        if self._few:
            self._there = entry_rows.count_present(conn, group_id, keys)
        else:
            self._before = entry_rows.count_group_entries(conn, group_id)

    def after(self, conn: Connection) -> int:
        """Called once the keys are written: how many were there before."""
        if self._few:
            return self._there
        grown = entry_rows.count_group_entries(conn, self._group_id) - self._before
        return self._keys - grown


_COUNTED_AMONG_KEYS = 200_000


def _present_before(conn: Connection, group_id: int, keys: Keys) -> _Present | _Nothing:
    return _NOTHING if not len(keys) else _Present(conn, group_id, keys)


class _Nothing:
    @staticmethod
    def after(conn: Connection) -> int:
        return 0


_NOTHING = _Nothing()
