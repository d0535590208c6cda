"""Python SDK of the callblock ``/v1`` API: :class:`Client` (sync) and :class:`AsyncClient`.

The two clients are mirror images: the same namespaces and methods with the same names and
signatures; the async ones are awaitable, and their listings are async iterators::

    from callblock.client import Client

    with Client("https://callblock.example", "cbk_...") as client:
        group = client.groups.create("Spam callers", direction="inbound")
        client.numbers.add(group.id, ["9876543210", "140*"], note="from the complaints desk")
        if client.check("+91 98765 43210", direction="inbound").blocked:
            ...
        if client.check("9876543210", "outbound", campaign="Spring").callable:
            ...
        for entry in client.numbers.list(group.id):  # follows next_cursor page by page
            print(entry.number, entry.expires_at)

Every error is a :class:`CallblockError`; the tree of its subclasses, and which status raises
which, is documented in ``_errors``. Everything public is imported from here; the modules
behind it are private and may move:

- ``_errors``: the exception tree.
- ``_models``: the argument types, ``DEFAULT_TIMEOUT`` and the result dataclasses.
- ``_parse``: JSON answers into results, error answers into exceptions.
- ``_operations``: each operation described once (method, path, query, JSON body, parser of
  the answer), the arguments checked before anything is sent, and what both clients share.
- ``_mirror``: the local copy a :class:`Mirror` keeps, and the check answered from it.
- ``_async``: :class:`AsyncClient`, the one hand-written client.
- ``_sync``: :class:`Client`, generated from ``_async`` by ``python tools/unasync_client.py``.
"""

from __future__ import annotations

from callblock.client._async import (
    AsyncAccountAPI,
    AsyncAuditAPI,
    AsyncCampaignsAPI,
    AsyncChanges,
    AsyncClient,
    AsyncGroupsAPI,
    AsyncKeysAPI,
    AsyncMirror,
    AsyncNumbersAPI,
    AsyncStatsAPI,
)
from callblock.client._errors import (
    AuthError,
    CallblockError,
    ChangesReset,
    Conflict,
    Forbidden,
    InvalidLines,
    NotFound,
    RateLimited,
    ServerError,
    TooManyRemovals,
    TransportError,
    ValidationError,
)
from callblock.client._models import (
    DEFAULT_TIMEOUT,
    KEEP,
    Account,
    AddResult,
    ApiKey,
    AttachedGroup,
    AuditEvent,
    BatchReason,
    BatchResult,
    BinaryFile,
    BinaryOutput,
    CallingWindow,
    CallingWindowInput,
    Campaign,
    CampaignBatchResult,
    CampaignCheckResult,
    CampaignRef,
    Change,
    ChangedCampaign,
    ChangedEntry,
    ChangedGroup,
    CheckDirection,
    CheckResult,
    Direction,
    Entry,
    EntryStatus,
    FileInput,
    FileOutput,
    Group,
    GroupKind,
    GroupMatches,
    GroupScope,
    HeaderLine,
    ImportMode,
    ImportResult,
    InvalidItem,
    InvalidLine,
    IssuedApiKey,
    Keep,
    KeyScope,
    LineFormat,
    Match,
    NumberInput,
    Reason,
    ReasonCode,
    RemoveResult,
    StaleEntry,
    Stats,
    StatsBucket,
    StatsPoint,
    TopEntry,
    Weekday,
)
from callblock.client._sync import (
    AccountAPI,
    AuditAPI,
    CampaignsAPI,
    Changes,
    Client,
    GroupsAPI,
    KeysAPI,
    Mirror,
    NumbersAPI,
    StatsAPI,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "KEEP",
    "Account",
    "AccountAPI",
    "AddResult",
    "ApiKey",
    "AsyncAccountAPI",
    "AsyncAuditAPI",
    "AsyncCampaignsAPI",
    "AsyncChanges",
    "AsyncClient",
    "AsyncGroupsAPI",
    "AsyncKeysAPI",
    "AsyncMirror",
    "AsyncNumbersAPI",
    "AsyncStatsAPI",
    "AttachedGroup",
    "AuditAPI",
    "AuditEvent",
    "AuthError",
    "BatchReason",
    "BatchResult",
    "BinaryFile",
    "BinaryOutput",
    "CallblockError",
    "CallingWindow",
    "CallingWindowInput",
    "Campaign",
    "CampaignBatchResult",
    "CampaignCheckResult",
    "CampaignRef",
    "CampaignsAPI",
    "Change",
    "ChangedCampaign",
    "ChangedEntry",
    "ChangedGroup",
    "Changes",
    "ChangesReset",
    "CheckDirection",
    "CheckResult",
    "Client",
    "Conflict",
    "Direction",
    "Entry",
    "EntryStatus",
    "FileInput",
    "FileOutput",
    "Forbidden",
    "Group",
    "GroupKind",
    "GroupMatches",
    "GroupScope",
    "GroupsAPI",
    "HeaderLine",
    "ImportMode",
    "ImportResult",
    "InvalidItem",
    "InvalidLine",
    "InvalidLines",
    "IssuedApiKey",
    "Keep",
    "KeyScope",
    "KeysAPI",
    "LineFormat",
    "Match",
    "Mirror",
    "NotFound",
    "NumberInput",
    "NumbersAPI",
    "RateLimited",
    "Reason",
    "ReasonCode",
    "RemoveResult",
    "ServerError",
    "StaleEntry",
    "Stats",
    "StatsAPI",
    "StatsBucket",
    "StatsPoint",
    "TooManyRemovals",
    "TopEntry",
    "TransportError",
    "ValidationError",
    "Weekday",
]
