"""Campaigns and the groups attached to them.

Each query takes an open connection; the use cases own transactions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from callblock.calling_hours import CallingWindow, window_from_wire
from callblock.campaign_rules import Campaign
from callblock.domain import CampaignNameTaken, Group, storable
from callblock.store.rows import GROUP_COLUMNS, group_of_row
from callblock.store.tables import campaign_groups, campaigns, groups

_COLUMNS = (
    campaigns.c.id,
    campaigns.c.account_id,
    campaigns.c.name,
    campaigns.c.description,
    campaigns.c.calling_window,
    campaigns.c.created_at,
    campaigns.c.updated_at,
)


def window_text(window: CallingWindow | None) -> str | None:
    return None if window is None else json.dumps(window.to_wire())


def _campaigns_of_rows(conn: Connection, rows: list[Any]) -> list[Campaign]:
    if not rows:
        return []
    attached: dict[int, list[Group]] = {row.id: [] for row in rows}
    for link in conn.execute(
        select(campaign_groups.c.campaign_id, *GROUP_COLUMNS)
        .join(groups, groups.c.id == campaign_groups.c.group_id)
        .where(campaign_groups.c.campaign_id.in_(list(attached)))
        .order_by(campaign_groups.c.campaign_id, groups.c.id)
    ):
        attached[link.campaign_id].append(group_of_row(link))
    return [
        Campaign(
            id=row.id,
            account_id=row.account_id,
            name=row.name,
            description=row.description,
            window=None
            if row.calling_window is None
            else window_from_wire(json.loads(row.calling_window)),
            groups=tuple(attached[row.id]),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        for row in rows
    ]


def insert_campaign(
    conn: Connection,
    account_id: int,
    name: str,
    name_key: str,
    description: str,
    window: CallingWindow | None,
    now: datetime,
) -> int:
    try:
        campaign_id: int = conn.execute(
            campaigns.insert()
            .values(
                account_id=account_id,
                name=name,
                name_key=name_key,
                description=description,
                calling_window=window_text(window),
                created_at=now,
                updated_at=now,
            )
            .returning(campaigns.c.id)
        ).scalar_one()
    except IntegrityError as exc:
        raise CampaignNameTaken(name) from exc
    return campaign_id


def campaigns_of_account(
    conn: Connection,
    account_id: int,
    *,
    campaign_id: int | None = None,
    name_key: str | None = None,
) -> list[Campaign]:
    """The account's campaigns in id order (or the one named by id or name key)."""
    query = select(*_COLUMNS).where(campaigns.c.account_id == account_id).order_by(campaigns.c.id)
    if campaign_id is not None:
        query = query.where(campaigns.c.id == campaign_id)
    if name_key is not None:
        if not storable(name_key):
            return []
        query = query.where(campaigns.c.name_key == name_key)
    return _campaigns_of_rows(conn, list(conn.execute(query)))


def update_campaign(conn: Connection, campaign: Campaign, values: dict[str, Any]) -> None:
    try:
        conn.execute(update(campaigns).where(campaigns.c.id == campaign.id).values(**values))
    except IntegrityError as exc:
        raise CampaignNameTaken(str(values.get("name", campaign.name))) from exc


def attach(conn: Connection, campaign_id: int, group_ids: Iterable[int]) -> None:
    rows = [{"campaign_id": campaign_id, "group_id": g} for g in group_ids]
    if rows:
        conn.execute(campaign_groups.insert(), rows)


def detach(conn: Connection, campaign_id: int, group_ids: Iterable[int]) -> None:
    conn.execute(
        campaign_groups.delete().where(
            campaign_groups.c.campaign_id == campaign_id,
            campaign_groups.c.group_id.in_(list(group_ids)),
        )
    )


def delete_campaign(conn: Connection, campaign_id: int) -> None:
    conn.execute(campaign_groups.delete().where(campaign_groups.c.campaign_id == campaign_id))
    conn.execute(campaigns.delete().where(campaigns.c.id == campaign_id))
