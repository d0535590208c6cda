"""Campaigns: create, list, read, change (name, description, calling window), attach and
detach groups, delete. Each change goes through the one write path, so it is audited, logged
and reaches every process's index like a change of a group."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from callblock.calling_hours import CallingWindow
from callblock.campaign_rules import Campaign
from callblock.change import CampaignState, Draft
from callblock.domain import (
    Action,
    Actor,
    CampaignById,
    CampaignNotFound,
    CampaignRef,
    FieldProblem,
    GroupNotFound,
    InvalidInput,
    ProblemCode,
    name_key,
)
from callblock.rules import LARGEST_ID
from callblock.store import Store
from callblock.store import campaigns as campaign_rows
from callblock.store import groups as group_rows
from callblock.store.campaigns import window_text
from callblock.usecases.writes import Writer


class _Keep:
    """The calling window is left as it is (None would remove it)."""


KEEP = _Keep()


def find_campaign(conn: Connection, account_id: int, ref: CampaignRef) -> Campaign:
    if isinstance(ref, CampaignById) and not 0 < ref.id <= LARGEST_ID:
        raise CampaignNotFound  # no store can hold such an id
    if isinstance(ref, CampaignById):
        found = campaign_rows.campaigns_of_account(conn, account_id, campaign_id=ref.id)
    else:
        found = campaign_rows.campaigns_of_account(
            conn, account_id, name_key=name_key(ref.name.strip())
        )
    if not found:
        raise CampaignNotFound
    return found[0]


def state_of(campaign: Campaign) -> CampaignState:
    return CampaignState(
        campaign.id, campaign.name, campaign.description, campaign.window, campaign.group_ids
    )


def _account_groups(conn: Connection, account_id: int, group_ids: Sequence[int]) -> None:
    """Every id names a group of the account; otherwise the request is invalid."""
    known = {g.id for g in group_rows.groups_of_account(conn, account_id)}
    unknown = [g for g in dict.fromkeys(group_ids) if g not in known]
    if unknown:
        raise InvalidInput(
            [
                FieldProblem("group_ids", ProblemCode.INVALID, g, f"no group {g} in this account")
                for g in unknown
            ]
        )


def _described(campaign: Campaign, **more: Any) -> dict[str, Any]:
    """What a history entry of a campaign change says."""
    return {"campaign_id": campaign.id, "campaign_name": campaign.name, **more}


class Campaigns:
    def __init__(self, store: Store, clock: Callable[[], datetime], writer: Writer) -> None:
        self._store = store
        self._clock = clock
        self._writer = writer

    def create_campaign(
        self,
        actor: Actor,
        name: str,
        description: str,
        window: CallingWindow | None,
        group_ids: Sequence[int] = (),
    ) -> Campaign:
        account_id = actor.account.id

        def work(conn: Connection, now: datetime) -> tuple[Campaign, Draft]:
            _account_groups(conn, account_id, group_ids)
            campaign_id = campaign_rows.insert_campaign(
                conn, account_id, name, name_key(name), description, window, now
            )
            campaign_rows.attach(conn, campaign_id, dict.fromkeys(group_ids))
            campaign = find_campaign(conn, account_id, CampaignById(campaign_id))
            detail = _described(
                campaign,
                description=description,
                calling_window=None if window is None else window.to_wire(),
                group_ids=list(campaign.group_ids),
            )
            draft = Draft(
                action=Action.CAMPAIGN_CREATE,
                group_id=None,
                campaign=state_of(campaign),
                detail=detail,
            )
            return campaign, draft

        return self._writer.write(actor, work)

    def list_campaigns(self, actor: Actor) -> list[Campaign]:
        with self._store.read() as conn:
            return campaign_rows.campaigns_of_account(conn, actor.account.id)

    def campaign(self, actor: Actor, ref: CampaignRef) -> Campaign:
        with self._store.read() as conn:
            return find_campaign(conn, actor.account.id, ref)

    def update_campaign(
        self,
        actor: Actor,
        ref: CampaignRef,
        *,
        name: str | None = None,
        description: str | None = None,
        window: CallingWindow | _Keep | None = KEEP,
    ) -> Campaign:
        """Rename, redescribe, or set or remove (None) the calling window; each given field
        changes, the others stay."""
        account_id = actor.account.id

        def work(conn: Connection, now: datetime) -> tuple[Campaign, Draft | None]:
            campaign = find_campaign(conn, account_id, ref)
            values: dict[str, Any] = {}
            detail: dict[str, Any] = {}
            if name is not None and name != campaign.name:
                values.update(name=name, name_key=name_key(name))
                detail.update(name=name, previous_name=campaign.name)
            if description is not None and description != campaign.description:
                values["description"] = description
                detail["description"] = description
            if not isinstance(window, _Keep) and window != campaign.window:
                values["calling_window"] = window_text(window)
                detail["calling_window"] = None if window is None else window.to_wire()
            if not values:
                return campaign, None
            campaign_rows.update_campaign(conn, campaign, {**values, "updated_at": now})
            changed = find_campaign(conn, account_id, CampaignById(campaign.id))
            draft = Draft(
                action=Action.CAMPAIGN_UPDATE,
                group_id=None,
                campaign=state_of(changed),
                detail=_described(changed, **detail),
            )
            return changed, draft

        return self._writer.write(actor, work)

    def attach_groups(self, actor: Actor, ref: CampaignRef, group_ids: Sequence[int]) -> Campaign:
        """Attach groups to the campaign (those attached already stay as they are)."""
        return self._relink(actor, ref, group_ids, attach=True)

    def detach_groups(self, actor: Actor, ref: CampaignRef, group_ids: Sequence[int]) -> Campaign:
        """Detach groups from the campaign (those not attached are left alone)."""
        return self._relink(actor, ref, group_ids, attach=False)

    def _relink(
        self, actor: Actor, ref: CampaignRef, group_ids: Sequence[int], *, attach: bool
    ) -> Campaign:
        account_id = actor.account.id

        def work(conn: Connection, now: datetime) -> tuple[Campaign, Draft | None]:
            campaign = find_campaign(conn, account_id, ref)
            if attach:
                _account_groups(conn, account_id, group_ids)
            elif any(group_rows.group_of_account(conn, account_id, g) is None for g in group_ids):
                raise GroupNotFound  # detaching names groups one by one (a path's id)
            present = set(campaign.group_ids)
            if attach:
                moved = [g for g in dict.fromkeys(group_ids) if g not in present]
                campaign_rows.attach(conn, campaign.id, moved)
            else:
                moved = [g for g in dict.fromkeys(group_ids) if g in present]
                campaign_rows.detach(conn, campaign.id, moved)
            if not moved:
                return campaign, None
            campaign_rows.update_campaign(conn, campaign, {"updated_at": now})
            changed = find_campaign(conn, account_id, CampaignById(campaign.id))
            draft = Draft(
                action=Action.CAMPAIGN_ATTACH if attach else Action.CAMPAIGN_DETACH,
                group_id=moved[0] if len(moved) == 1 else None,
                campaign=state_of(changed),
                detail=_described(changed, group_ids=moved),
            )
            return changed, draft

        return self._writer.write(actor, work)

    def delete_campaign(self, actor: Actor, ref: CampaignRef) -> None:
        account_id = actor.account.id

        def work(conn: Connection, now: datetime) -> tuple[None, Draft]:
            campaign = find_campaign(conn, account_id, ref)
            campaign_rows.delete_campaign(conn, campaign.id)
            draft = Draft(
                action=Action.CAMPAIGN_DELETE,
                group_id=None,
                campaign=state_of(campaign),
                detail=_described(campaign),
            )
            return None, draft

        self._writer.write(actor, work)
