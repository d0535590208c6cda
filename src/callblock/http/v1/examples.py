"""Example requests and answers of the `/v1` operations, for the OpenAPI document (and so for
`/docs` and `/redoc`). Each is a real one: tests/test_api_docs.py validates every example
against its schema, and sends every request example to the app and validates what it answers.

Kept here rather than on the models (``http/schemas.py``), so that an operation's examples
read together, named, as the documents show them.
"""

from __future__ import annotations

from typing import Any

from fastapi.openapi.models import Example

from callblock.http import schemas

# The story every example tells: an Indian contact centre's account `acme` (region IN), whose
# group 1 holds a number and a prefix that its agents must not dial.
_CREATED = "2026-06-01T12:00:00Z"
_CHANGED = "2026-06-01T12:05:00Z"

GROUP: dict[str, Any] = {
    "id": 1,
    "name": "Do not call",
    "description": "Asked not to be called",
    "direction": "outbound",
    "kind": "block",
    "scope": "global",
    "consent_overrides": False,
    "active_count": 2,
    "expired_count": 0,
    "created_at": _CREATED,
    "updated_at": _CHANGED,
    "refreshed_at": _CHANGED,
    "refreshed_from": "dnc-2026-06.csv",
}
_NEW_GROUP = {
    **GROUP,
    "active_count": 0,
    "updated_at": _CREATED,
    "refreshed_at": None,
    "refreshed_from": None,
}
_NUMBER_ENTRY = {
    "number": "+919876543210",
    "national": "098765 43210",
    "international": "+91 98765 43210",
    "kind": "number",
    "status": "active",
    "expires_at": "2030-01-31T12:30:00Z",
    "note": "Complaint 4411",
    "source": "v1",
    "created_at": _CHANGED,
    "updated_at": _CHANGED,
}
_PREFIX_ENTRY = {
    **_NUMBER_ENTRY,
    "number": "+91140*",
    "national": "0140*",
    "international": "+91 140*",
    "kind": "prefix",
    "expires_at": None,
    "note": None,
}


def body(**examples: tuple[str, Any]) -> dict[str, Example]:
    """``Body(openapi_examples=...)``: each example by name, with a one-line summary."""
    return {
        name: Example(summary=summary, value=value) for name, (summary, value) in examples.items()
    }


def answer(
    status: int, media_type: str = "application/json", **examples: tuple[str, Any]
) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses`` entry giving examples of its answer (merged by FastAPI with the
    answer's declared schema)."""
    return {status: {"content": {media_type: {"examples": body(**examples)}}}}


# --- groups --------------------------------------------------------------------------------------

LIST_GROUPS = answer(
    200, page=("One page of groups", {"data": [GROUP], "count": 1, "next_cursor": None})
)
CREATE_GROUP = body(
    outbound=(
        "A group for outbound checks",
        {"name": "Do not call", "description": "Asked not to be called", "direction": "outbound"},
    ),
    name_only=("Only a name: counts for both directions", {"name": "Spam callers"}),
    registry=(
        "A national registry: consent may override it in a campaign's checks",
        {"name": "National DNC", "consent_overrides": True},
    ),
    consent=(
        "Consent, counted only by the campaigns it is attached to",
        {"name": "Opted in", "kind": "allow", "scope": "attached"},
    ),
)
CREATED_GROUP = answer(201, created=("The new group, empty", _NEW_GROUP))
ONE_GROUP = answer(200, group=("A group with two entries", GROUP))
UPDATE_GROUP = body(
    rename=("A new name", {"name": "Do not dial"}),
    redirect=(
        "Count for inbound checks only, with a new description",
        {"direction": "inbound", "description": "Known scam callers"},
    ),
)
UPDATED_GROUP = answer(200, group=("The group as it now is", {**GROUP, "name": "Do not dial"}))

# --- numbers -------------------------------------------------------------------------------------

LIST_NUMBERS = answer(
    200,
    page=(
        "Prefixes first, then numbers",
        {"data": [_PREFIX_ENTRY, _NUMBER_ENTRY], "count": 2, "next_cursor": None},
    ),
)
ADD_NUMBERS = body(
    numbers=(
        "Numbers in any common form, with an expiry and a note",
        {
            "numbers": ["+91 98765 43210", "098765 43211"],
            "expires_at": "2030-01-31T18:00:00+05:30",
            "note": "Complaint 4411",
        },
    ),
    prefix=("A prefix: every number starting +91 140", {"numbers": ["+91140*"]}),
    all_or_nothing=(
        "All or nothing: with any invalid input, nothing is added (422)",
        {"numbers": ["+919876543210", "09876543211"], "all_or_nothing": True},
    ),
)
NUMBERS_ADDED = answer(
    200,
    added=("Both were new", {"added": 2, "updated": 0, "invalid": []}),
    some_invalid=(
        "One added, one invalid input listed",
        {
            "added": 1,
            "updated": 0,
            "invalid": [{"input": "12345", "reason": "not a valid phone number"}],
        },
    ),
)
REMOVE_NUMBERS = body(
    numbers=("A number and a prefix", {"numbers": ["+919876543210", "+91140*"]}),
)
NUMBERS_REMOVED = answer(
    200,
    removed=("Both were in the group", {"removed": 2, "not_found": [], "invalid": []}),
    not_found=(
        "One was not in the group",
        {"removed": 1, "not_found": ["+919876543299"], "invalid": []},
    ),
    purged=("status=expired: the group's expired entries went", {"removed": 3}),
)
PURGE = body(expired=("Remove every expired entry of the group", "expired"))

# --- files ---------------------------------------------------------------------------------------

IMPORT_FILE = "phone,name\n+919876543210,Asha\n098765 43211,Ravi\n"
IMPORTED = answer(
    200,
    imported=(
        "A header row, then two numbers",
        {
            "header": {"line": 1, "cells": ["phone", "name"]},
            "added": 2,
            "updated": 0,
            "repeats": 0,
            "invalid": [],
        },
    ),
)
EXPORTED = (
    "number,kind,status,expires_at,note,source,created_at,updated_at\n"
    "+91140*,prefix,active,,,v1,2026-06-01T12:05:00Z,2026-06-01T12:05:00Z\n"
    "+919876543210,number,active,2030-01-31T12:30:00Z,Complaint 4411,v1,"
    "2026-06-01T12:05:00Z,2026-06-01T12:05:00Z\n"
)
SCRUB_FILE = "name,phone\nAsha,+919876543210\nRavi,09812345678\nMeena,12\n"
SCRUBBED = (
    "name,phone,status,reason,reason_code,next_callable_at\n"
    "Asha,+919876543210,blocked,blocked by group 1 (Do not call),blocked,\n"
    "Ravi,09812345678,callable,,,\n"
    "Meena,12,invalid,not a valid phone number,,\n"
)

# --- checks --------------------------------------------------------------------------------------

_SPRING: dict[str, Any] = {"id": 1, "name": "Spring offers"}
_CONSENT_ANSWER = (
    "With `campaign`: on the registry, but the customer consented",
    {
        "number": "+919876543210",
        "campaign": _SPRING,
        "callable": True,
        "blocked": False,
        "matches": [],
        "reasons": [
            {
                "code": "consent_overrides_block",
                "group_id": 2,
                "group_name": "National DNC",
                "pattern": "+919876543210",
                "expires_at": None,
                "allowed_by": {
                    "group_id": 3,
                    "group_name": "Opted in",
                    "pattern": "+919876543210",
                    "expires_at": "2027-06-01T00:00:00Z",
                    "rule": "number",
                },
                "time_zones": None,
            }
        ],
        "next_callable_at": None,
    },
)
_OUTSIDE_ANSWER = (
    "With `campaign`: nothing blocks, but it is 22:10 for the callee",
    {
        "number": "+919812345678",
        "campaign": _SPRING,
        "callable": False,
        "blocked": False,
        "matches": [],
        "reasons": [
            {
                "code": "outside_calling_hours",
                "group_id": None,
                "group_name": None,
                "pattern": None,
                "expires_at": None,
                "allowed_by": None,
                "time_zones": ["Asia/Calcutta"],
            }
        ],
        "next_callable_at": "2026-06-02T03:30:00Z",
    },
)
CHECKED_MANY_FOR_CAMPAIGN = (
    "With `campaign`: may the campaign call each number now",
    {
        "campaign": _SPRING,
        "results": [
            {
                "input": "+919876543210",
                "number": "+919876543210",
                "callable": False,
                "blocked": True,
                "group_ids": [1],
                "reasons": [
                    {
                        "code": "blocked",
                        "group_id": 1,
                        "pattern": "+919876543210",
                        "allowed_by_group_id": None,
                    }
                ],
                "next_callable_at": None,
                "error": None,
            },
            {
                "input": "09812345678",
                "number": "+919812345678",
                "callable": True,
                "blocked": False,
                "group_ids": [],
                "reasons": [],
                "next_callable_at": None,
                "error": None,
            },
        ],
    },
)

CHECK_NUMBER = body(
    national=("A national form, read with the account's region", "09876543210"),
    international=("E.164", "+919876543210"),
)
CHECKED = answer(
    200,
    blocked=(
        "Blocked by a number of group 1",
        {
            "number": "+919876543210",
            "blocked": True,
            "matches": [
                {
                    "group_id": 1,
                    "group_name": "Do not call",
                    "pattern": "+919876543210",
                    "expires_at": "2030-01-31T12:30:00Z",
                    "rule": "number",
                }
            ],
        },
    ),
    not_blocked=(
        "Not blocked",
        {"number": "+919812345678", "blocked": False, "matches": []},
    ),
    callable_by_consent=_CONSENT_ANSWER,
    outside_hours=_OUTSIDE_ANSWER,
)
CHECK_NUMBERS = body(
    outbound=(
        "Numbers about to be dialled",
        {"numbers": ["+919876543210", "09812345678", "12", 919876543211], "direction": "outbound"},
    ),
    campaign=(
        "May this campaign call them now?",
        {"numbers": ["+919876543210", "09812345678"], "campaign": "Spring offers"},
    ),
)
CHECKED_MANY = answer(
    200,
    for_campaign=CHECKED_MANY_FOR_CAMPAIGN,
    results=(
        "Every input, in order",
        {
            "results": [
                {
                    "input": "+919876543210",
                    "number": "+919876543210",
                    "blocked": True,
                    "group_ids": [1],
                    "error": None,
                },
                {
                    "input": "09812345678",
                    "number": "+919812345678",
                    "blocked": False,
                    "group_ids": [],
                    "error": None,
                },
                {
                    "input": "12",
                    "number": None,
                    "blocked": False,
                    "group_ids": [],
                    "error": "not a valid phone number",
                },
                {
                    "input": 919876543211,
                    "number": "+919876543211",
                    "blocked": False,
                    "group_ids": [],
                    "error": None,
                },
            ]
        },
    ),
)

# --- campaigns -----------------------------------------------------------------------------------

_WINDOW = {"days": ["mon", "tue", "wed", "thu", "fri", "sat"], "start": "09:00", "end": "21:00"}
CAMPAIGN: dict[str, Any] = {
    "id": 1,
    "name": "Spring offers",
    "description": "Existing customers",
    "calling_window": _WINDOW,
    "block_groups": [
        {"id": 4, "name": "Spring DNC", "scope": "attached", "consent_overrides": False}
    ],
    "allow_groups": [
        {"id": 3, "name": "Opted in", "scope": "attached", "consent_overrides": False}
    ],
    "created_at": _CREATED,
    "updated_at": _CHANGED,
}
LIST_CAMPAIGNS = answer(200, campaigns=("Every campaign", {"data": [CAMPAIGN], "count": 1}))
CREATE_CAMPAIGN = body(
    window=(
        "Monday to Saturday 09:00-21:00, with consent and a list of its own",
        {
            "name": "Summer offers",
            "description": "Existing customers",
            "calling_window": _WINDOW,
            "group_ids": [3, 4],
        },
    ),
    overnight=(
        "A window crossing midnight, on Fridays",
        {
            "name": "Night shift",
            "calling_window": {"days": ["fri"], "start": "21:00", "end": "02:00"},
        },
    ),
)
CREATED_CAMPAIGN = answer(201, created=("The new campaign", {**CAMPAIGN, "updated_at": _CREATED}))
ONE_CAMPAIGN = answer(200, campaign=("A campaign", CAMPAIGN))
UPDATE_CAMPAIGN = body(
    hours=(
        "Weekdays only, until 20:00",
        {
            "calling_window": {
                "days": ["mon", "tue", "wed", "thu", "fri"],
                "start": "09:00",
                "end": "20:00",
            }
        },
    ),
    any_time=("No calling window", {"calling_window": None}),
)
UPDATED_CAMPAIGN = answer(200, campaign=("The campaign as it now is", CAMPAIGN))
ATTACH_GROUPS = body(two=("Attach two groups", {"group_ids": [3, 4]}))

# --- audit, account ------------------------------------------------------------------------------

AUDIT = answer(
    200,
    page=(
        "Newest first",
        {
            "data": [
                {
                    "id": 2,
                    "at": _CHANGED,
                    "surface": "v1",
                    "action": "add",
                    "group_id": 1,
                    "key_id": 1,
                    "key_label": "Supervisor page",
                    "count": 2,
                    "numbers": ["+919876543210", "+91140*"],
                    "detail": None,
                },
                {
                    "id": 1,
                    "at": _CREATED,
                    "surface": "v1",
                    "action": "create",
                    "group_id": 1,
                    "key_id": 1,
                    "key_label": "Supervisor page",
                    "count": 0,
                    "numbers": [],
                    "detail": None,
                },
            ],
            "count": 2,
            "next_cursor": None,
        },
    ),
)
# --- the change feed -----------------------------------------------------------------------------

# Tokens are opaque: these have the length and alphabet of real ones.
_TOKEN_6 = "AQAAAAAAAAAGAAAAAAAAAACfM1TQ3nWcX0k4b9rZ2vEa"
_TOKEN_7 = "AQAAAAAAAAAHAAAAAAAAAAAqXc2Rk8Jd0Pz7yLm4N1sB"
_TOKEN_8 = "AQAAAAAAAAAIAAAAAAAAAAC8wE5hT2uQ9aYf1jKc6dVo"
_TOKEN_8_PART = "AQAAAAAAAAAIAAAAAAAAJxBq4mFZ0xWc7Ne2Ru9bTl3s"
_CHANGE = {
    "at": _CREATED,
    "group_id": 1,
    "group": None,
    "upserted": [],
    "removed": [],
    "block_anonymous": None,
    "note": None,
    "continued": False,
}
CHANGES = answer(
    200,
    changes=(
        "A group made, then two entries added to it",
        {
            "changes": [
                {
                    **_CHANGE,
                    "version": 7,
                    "action": "create",
                    "group": {
                        "id": 1,
                        "name": "Do not call",
                        "description": "Asked not to be called",
                        "direction": "outbound",
                        "kind": "block",
                        "scope": "global",
                        "consent_overrides": False,
                    },
                    "token": _TOKEN_7,
                },
                {
                    **_CHANGE,
                    "version": 8,
                    "at": _CHANGED,
                    "action": "add",
                    "upserted": [
                        {"number": "+919876543210", "expires_at": "2030-01-31T12:30:00Z"},
                        {"number": "+91140*", "expires_at": "2030-01-31T12:30:00Z"},
                    ],
                    "note": "Complaint 4411",
                    "token": _TOKEN_8,
                },
            ],
            "next": _TOKEN_8,
            "more": False,
            "reset": False,
            "detail": None,
        },
    ),
    part=(
        "The first part of a big import: the next answer goes on with it",
        {
            "changes": [
                {
                    **_CHANGE,
                    "version": 9,
                    "at": _CHANGED,
                    "action": "import",
                    "upserted": [
                        {"number": "+919000000000", "expires_at": None},
                        {"number": "+919000000001", "expires_at": None},
                    ],
                    "continued": True,
                    "token": _TOKEN_8_PART,
                }
            ],
            "next": _TOKEN_8_PART,
            "more": True,
            "reset": False,
            "detail": None,
        },
    ),
    start=(
        "Without `since`: no changes, and the token of the account's current version",
        {"changes": [], "next": _TOKEN_6, "more": False, "reset": False, "detail": None},
    ),
    reset=(
        "A token older than the change log keeps: start over from `next`",
        {
            "changes": [],
            "next": _TOKEN_8,
            "more": False,
            "reset": True,
            "detail": schemas.RESET_DETAIL,
        },
    ),
)

_ACCOUNT = {
    "username": "acme",
    "region": "IN",
    "timezone": "Asia/Kolkata",
    "auth_mode": "BASIC_AUTH",
    "block_anonymous": False,
}
ACCOUNT = answer(200, account=("The calling account", _ACCOUNT))
UPDATE_ACCOUNT = body(
    block_anonymous=(
        "Inbound checks of a withheld caller answer blocked",
        {"block_anonymous": True},
    ),
    region=(
        "National numbers are read as Indian, expiries without an offset in India's time",
        {"region": "IN", "timezone": "Asia/Kolkata"},
    ),
)
UPDATED_ACCOUNT = answer(
    200,
    account=("The account as it now is", {**_ACCOUNT, "block_anonymous": True}),
    moved=(
        "An account moved to another region",
        {**_ACCOUNT, "region": "GB", "timezone": "Europe/London"},
    ),
)


# --- limits --------------------------------------------------------------------------------------

LIMITS = answer(
    200, limits=("The limits as this server enforces them", schemas.LIMITS.model_dump())
)


# --- keys ----------------------------------------------------------------------------------------

_KEY = {
    "id": 7,
    "label": "Dialer, floor 2",
    "scopes": ["check"],
    "prefix": "cbk_Q2hlY2tz",
    "created_at": _CREATED,
    "revoked_at": None,
    "last_used_at": _CHANGED,
}
LIST_KEYS = answer(200, keys=("Every key of the account", {"data": [_KEY], "count": 1}))
CREATE_KEY = body(
    dialer=("A key that can only check", {"label": "Dialer, floor 2", "scopes": ["check"]}),
    supervisor=(
        "A key for a supervisor's scripts",
        {"label": "Supervisor scripts", "scopes": ["write"]},
    ),
)
CREATED_KEY = answer(
    201,
    created=(
        "The new key, shown this once",
        {
            **_KEY,
            "last_used_at": None,
            "key": "cbk_Q2hlY2tzT25seUZvckRpYWxlcnNPbkZsb29yVHdvWFhYWFg",
        },
    ),
)


# --- insights ------------------------------------------------------------------------------------

STATS = answer(
    200,
    hour=(
        "Two minutes of checks",
        {
            "bucket": "minute",
            "from": "2026-06-01T12:00:00Z",
            "to": "2026-06-01T13:00:00Z",
            "group_id": None,
            "campaign_id": None,
            "checks": 1250,
            "blocked": 90,
            "series": [
                {
                    "start": "2026-06-01T12:04:00Z",
                    "checks": 600,
                    "blocked": 40,
                    "invalid": 2,
                    "matched": 40,
                },
                {
                    "start": "2026-06-01T12:05:00Z",
                    "checks": 650,
                    "blocked": 50,
                    "invalid": 0,
                    "matched": 50,
                },
            ],
            "by_group": [{"group_id": 1, "name": "Do not call", "matched": 90}],
            "top_entries": [
                {
                    "group_id": 1,
                    "group_name": "Do not call",
                    "number": "+919876543210",
                    "international": "+91 98765 43210",
                    "hits": 12,
                }
            ],
        },
    ),
)
STALE = answer(
    200,
    page=(
        "Entries no check matched in the last 30 days",
        {
            "data": [{**_NUMBER_ENTRY, "last_matched_on": "2026-04-02"}],
            "count": 1,
            "next_cursor": None,
        },
    ),
)
STALE_CSV = (
    "number,kind,status,expires_at,note,created_at,last_matched_on\n"
    "+919876543210,number,active,2030-01-31T12:30:00Z,Complaint 4411,"
    "2026-06-01T12:05:00Z,2026-04-02\n"
)
