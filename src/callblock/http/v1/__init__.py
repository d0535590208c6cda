"""The native REST API, `/v1`: a thin skin over the service layer, one module per resource.

Each route parses its request shape (pydantic, plus the domain's own rules), calls the
service, and renders its answer shape; errors are rendered once, in ``http.problems``.
What the resources share (authentication, paging, cursors) is in ``common``.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.routing import BaseRoute

from callblock.http.v1 import (
    account,
    audit,
    campaigns,
    changes,
    checks,
    files,
    groups,
    keys,
    numbers,
    rules,
    stats,
)

# Each resource's router carries the `/v1` prefix itself (see ``common.PREFIX``).
router = APIRouter()
# In this order: the OpenAPI document lists the paths as they are included.
RESOURCES = (
    groups,
    numbers,
    campaigns,
    checks,
    stats,
    audit,
    changes,
    account,
    keys,
    files,
    rules,
)
for resource in RESOURCES:
    router.include_router(resource.router)
# Each operation's route as its module declared it (`router` holds them behind its includes).
ROUTES: list[BaseRoute] = [route for resource in RESOURCES for route in resource.router.routes]

# The document's tags: one a resource, each route module's router naming its own.
TAGS: list[dict[str, str]] = [
    {
        "name": "groups",
        "description": "Groups of numbers and prefixes, each counting for inbound checks, "
        "outbound checks or both. Every group belongs to the calling account.",
    },
    {
        "name": "numbers",
        "description": "A group's entries: numbers (stored in E.164) and prefixes ending in "
        "`*`, with an optional expiry and note.",
    },
    {
        "name": "campaigns",
        "description": "Campaigns: the groups each obeys on top of the global ones, and the "
        "hours its calls must fall in, in the callee's local time. A check with `campaign` "
        "answers whether that campaign may call the number now.",
    },
    {
        "name": "checks",
        "description": "Is a number blocked: one at call time, or up to 100,000 at once. "
        "Answered from memory; a write is seen within a second on every node.",
    },
    {
        "name": "insights",
        "description": "What the lists stopped: checks and blocked calls over time, by group "
        "and campaign, the entries matched most, and the entries no check matched for a while.",
    },
    {
        "name": "files",
        "description": "Files streamed both ways: import a number list into a group, export a "
        "group as CSV, scrub a calling list.",
    },
    {
        "name": "audit",
        "description": "The account's change history, through every surface.",
    },
    {
        "name": "changes",
        "description": "The change feed: every change of the account after a token, in order, "
        "for clients that keep their own copy of its groups and check locally.",
    },
    {
        "name": "account",
        "description": "The calling account and the settings it may change itself.",
    },
    {
        "name": "keys",
        "description": "The account's API keys, each with a label and scopes (`check`, `read`, "
        "`write`, `admin`), for keys with the `admin` scope.",
    },
    {
        "name": "limits",
        "description": "What a request may hold, as the server enforces it: for forms that "
        "say a limit before sending.",
    },
]

__all__ = ["ROUTES", "TAGS", "router"]
