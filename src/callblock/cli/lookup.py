"""Groups and campaigns as a user names them on the command line: by name (compared as the
server compares names, ignoring case), or by id. A name wins over an id, so that a group named
``2024`` stays reachable; digits that name nothing are read as an id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

import click

from callblock.cli.operations import (
    CampaignOperations,
    CampaignView,
    GroupOperations,
    GroupView,
)
from callblock.domain import CampaignNotFound, GroupNotFound, clean_group_name, name_key
from callblock.rules import LARGEST_ID

_Named = TypeVar("_Named", GroupView, CampaignView)


def _same_name(items: Iterable[_Named], name: str) -> _Named | None:
    wanted = name_key(clean_group_name(name) or name.strip())
    return next((item for item in items if name_key(item.name) == wanted), None)


def _as_id(text: str) -> int | None:
    digits = text.strip()
    if digits.isascii() and digits.isdigit() and 1 <= int(digits) <= LARGEST_ID:
        return int(digits)
    return None


def group_named(groups: GroupOperations, name: str) -> GroupView | None:
    """The group of that name, or None."""
    return _same_name(groups.list(name=name.strip(), page_size=500), name)


def find_group(groups: GroupOperations, text: str) -> GroupView:
    """The group named ``text``, or of that id; a ``click.ClickException`` otherwise."""
    found = group_named(groups, text)
    if found is not None:
        return found
    group_id = _as_id(text)
    if group_id is not None:
        try:
            return groups.get(group_id)
        except Exception as exc:
            if not _not_found(exc):
                raise
    raise click.ClickException(f"no group named {text!r}" + _or_id(text))


def find_campaign(campaigns: CampaignOperations, text: str) -> CampaignView:
    """The campaign named ``text``, or of that id; a ``click.ClickException`` otherwise."""
    found = _same_name(campaigns.list(), text)
    if found is not None:
        return found
    campaign_id = _as_id(text)
    if campaign_id is not None:
        try:
            return campaigns.get(campaign_id)
        except Exception as exc:
            if not _not_found(exc):
                raise
    raise click.ClickException(f"no campaign named {text!r}" + _or_id(text))


def _or_id(text: str) -> str:
    return " or with that id" if _as_id(text) is not None else ""


def _not_found(exc: Exception) -> bool:
    """Whether ``exc`` is a target's "no such id": the domain's, or the SDK's ``NotFound``."""
    if isinstance(exc, GroupNotFound | CampaignNotFound):
        return True
    from callblock.client import NotFound  # only a remote target raises it

    return isinstance(exc, NotFound)
