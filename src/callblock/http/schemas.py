"""`/v1` request and answer bodies, named by direction (``GroupCreate``, ``GroupPublic``).

Keys of answers may be added in future; none will be removed or renamed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
)

from callblock import rules
from callblock.domain import (
    RFC3339,
    Action,
    Direction,
    EntryStatus,
    GroupKind,
    GroupScope,
    ReasonCode,
    clean_description,
    clean_group_name,
    group_name_problem,
    storable,
)
from callblock.numbers import REGIONS

# Strict: a JSON true is not the number 1, nor 1.0 a phone number.
NumberInput = StrictStr | StrictInt


def _rfc3339_text(value: object) -> object:
    # pydantic alone would also read numbers and digit strings as Unix times.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not RFC3339.fullmatch(value):
        raise ValueError("an RFC 3339 date-time with an offset, e.g. 2030-01-31T18:00:00Z")
    return value


def _representable_in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # 9999-12-31T23:00:00-05:00 is past year 9999 in UTC
        raise ValueError("out of range: must fall between years 1 and 9999 in UTC") from exc


Instant = Annotated[
    AwareDatetime, BeforeValidator(_rfc3339_text), AfterValidator(_representable_in_utc)
]


class CheckDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- groups ------------------------------------------------------------------------------------


def _group_name(raw: str) -> str:
    name = clean_group_name(raw)
    if name is None:
        raise ValueError(group_name_problem(raw))
    return name


def _description(raw: str) -> str:
    text = clean_description(raw, minimum=0)
    if text is None:
        raise ValueError(rules.DESCRIPTION_RULE)
    return text


# The domain's rules, checked by the domain's functions (one message each, from ``rules``);
# the lengths are also declared in the schema (not enforced by pydantic, whose own message
# would be a second one). The ends' spaces are trimmed first, so a longer text with spaces
# around it is accepted too: the schema states what is always accepted.
GroupName = Annotated[
    str,
    AfterValidator(_group_name),
    Field(
        description=f"{rules.NAME_RULE[0].upper()}{rules.NAME_RULE[1:]}. "
        "Unique per account, ignoring case.",
        json_schema_extra={"minLength": rules.NAME_MIN, "maxLength": rules.NAME_MAX},
        examples=["Spam callers"],
    ),
]
GroupDescription = Annotated[
    str,
    AfterValidator(_description),
    Field(
        description=f"{rules.DESCRIPTION_RULE[0].upper()}{rules.DESCRIPTION_RULE[1:]}.",
        json_schema_extra={"maxLength": rules.DESCRIPTION_MAX, "pattern": "^[^\\u0000]*$"},
    ),
]


KIND = (
    "`block`: its entries must not be called; `allow`: consent or a relationship, which "
    "lifts the blocks of groups with `consent_overrides` in a campaign's checks."
)
SCOPE = (
    "`global`: counts in every check; `attached`: only in the checks of the campaigns it is "
    "attached to."
)
CONSENT_OVERRIDES = (
    "For a block group: whether an active allow entry lifts its blocks in a campaign's "
    "checks (true for a national registry; false for the company's own list and legal "
    "holds). Always false for an allow group."
)


class GroupCreate(_In):
    name: GroupName
    description: GroupDescription = ""
    direction: Direction = Field(
        Direction.BOTH, description="Which checks the group's entries count for."
    )
    kind: GroupKind = Field(GroupKind.BLOCK, description=KIND)
    scope: GroupScope = Field(GroupScope.GLOBAL, description=SCOPE)
    consent_overrides: StrictBool = Field(False, description=CONSENT_OVERRIDES)


class GroupUpdate(_In):
    name: GroupName | None = None
    description: GroupDescription | None = None
    direction: Direction | None = None
    kind: GroupKind | None = Field(None, description=KIND)
    scope: GroupScope | None = Field(None, description=SCOPE)
    consent_overrides: StrictBool | None = Field(None, description=CONSENT_OVERRIDES)


class GroupPublic(BaseModel):
    id: int
    name: str
    description: str
    direction: Direction
    kind: GroupKind = Field(description=KIND)
    scope: GroupScope = Field(description=SCOPE)
    consent_overrides: bool = Field(description=CONSENT_OVERRIDES)
    active_count: int = Field(description="Entries that block now.")
    expired_count: int = Field(description="Entries past their expiry, kept for the record.")
    created_at: datetime
    updated_at: datetime
    refreshed_at: datetime | None = Field(
        description="When an import of a file (any mode) last wrote the group: how fresh a "
        "registry copy is. Null when no file was ever imported into it."
    )
    refreshed_from: str | None = Field(
        description="The name of that file, as the import's `file_name` said it; null when "
        "it did not say, or when no file was ever imported."
    )


class GroupsPublic(BaseModel):
    data: list[GroupPublic]
    count: int = Field(description="How many groups match, over all pages.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


# --- entries -----------------------------------------------------------------------------------


class EntryPublic(BaseModel):
    number: str = Field(description="E.164 number, or E.164 prefix ending in `*`.")
    national: str = Field(
        description="The number as written in its own country, spaced as libphonenumber "
        "formats it (`098765 43210`); a prefix's digits after its country code, with the "
        "country's trunk prefix where its numbers are written with one (`0140*`). For "
        "reading: `number` is the entry's name.",
        examples=["098765 43210"],
    )
    international: str = Field(
        description="The number as written from abroad, spaced as libphonenumber formats it "
        "(`+91 98765 43210`); a prefix with its country code set apart (`+91 140*`).",
        examples=["+91 98765 43210"],
    )
    kind: Literal["number", "prefix"]
    status: Literal["active", "expired"]
    expires_at: datetime | None
    note: str | None
    source: str = Field(description="The surface that last wrote it: v1, compat-v2, cli...")
    created_at: datetime
    updated_at: datetime


class EntriesPublic(BaseModel):
    data: list[EntryPublic]
    count: int
    next_cursor: str | None


# Checked by ``NumbersAdd._storable_note``, with the rule's own message.
Note = Annotated[
    str,
    Field(
        description=f"{rules.NOTE_RULE[0].upper()}{rules.NOTE_RULE[1:]}.",
        json_schema_extra={"maxLength": rules.NOTE_MAX},
    ),
]


class NumbersAdd(_In):
    numbers: list[NumberInput] = Field(
        min_length=1,
        max_length=rules.NUMBERS_PER_CHANGE,
        description="Numbers in any common form, or prefixes ending in `*` (`+91140*`, `140*`).",
    )
    expires_at: Instant | None = Field(
        None, description="RFC 3339 instant, in the future; null: never expires."
    )
    note: Note | None = None

    @field_validator("note")
    @classmethod
    def _storable_note(cls, note: str | None) -> str | None:
        if note is not None and (len(note) > rules.NOTE_MAX or not storable(note)):
            raise ValueError(rules.NOTE_RULE)
        return note

    all_or_nothing: StrictBool = Field(
        False, description="When any input is invalid, add nothing and answer 422."
    )


class InvalidEntry(BaseModel):
    input: NumberInput | None
    reason: str


class NumbersAdded(BaseModel):
    added: int = Field(description="Entries that were not in the group before.")
    updated: int = Field(
        description="Entries already there: their expiry is set to this request's (none "
        "without `expires_at`), and their note replaced when one is given."
    )
    invalid: list[InvalidEntry]


class NumbersRemove(_In):
    numbers: list[NumberInput] = Field(min_length=1, max_length=rules.NUMBERS_PER_CHANGE)


class NumbersRemoved(BaseModel):
    removed: int
    not_found: list[NumberInput] = Field(description="Inputs that were not in the group.")
    invalid: list[InvalidEntry]


class PurgeStatus(StrEnum):
    """Which entries a removal without a body takes: the expired ones (the only kind)."""

    EXPIRED = "expired"


class NumbersPurged(BaseModel):
    removed: int = Field(description="How many expired entries were removed.")


class RejectedLinePublic(BaseModel):
    line: int
    input: str
    reason: str


class HeaderLine(BaseModel):
    line: int
    cells: list[str]


class ImportMode(StrEnum):
    ADD = "add"
    REPLACE = "replace"
    CHANGES = "changes"


class ImportSummary(BaseModel):
    header: HeaderLine | None = Field(
        None,
        description="The first row, when it was read as a header (column names) and so not "
        "imported; null when the first row was data.",
    )
    added: int = Field(description="Entries that were not in the group before.")
    updated: int = Field(description="Entries already there (their expiry set anew).")
    repeats: int = Field(description="Lines repeating a number of an earlier line.")
    removed: int = Field(
        0,
        description="Entries removed: those not in the file (`mode=replace`), or deleted by "
        "the change list (`mode=changes`); 0 for an add.",
    )
    invalid: list[RejectedLinePublic] = Field(
        description="Lines skipped (only with `skip_invalid=true`)."
    )


# --- checks ------------------------------------------------------------------------------------


class MatchPublic(BaseModel):
    group_id: int | None
    group_name: str | None
    pattern: str = Field(description="The entry that matched: a number, or a prefix with `*`.")
    expires_at: datetime | None
    rule: Literal["number", "prefix", "block_anonymous"]


class CheckPublic(BaseModel):
    number: str | None = Field(description="E.164 form of the input; null for a withheld caller.")
    blocked: bool
    matches: list[MatchPublic]


class ReasonPublic(BaseModel):
    code: ReasonCode = Field(
        description="`blocked`, `blocked_by_prefix`, `withheld_caller`: a block that stands; "
        "`consent_overrides_block`: a block lifted by an allow entry; "
        "`outside_calling_hours`: the callee's local time is outside the campaign's window."
    )
    group_id: int | None = Field(None, description="The block's group.")
    group_name: str | None = None
    pattern: str | None = Field(None, description="The entry that matched (or the caller ID).")
    expires_at: datetime | None = Field(None, description="The matching entry's expiry.")
    allowed_by: MatchPublic | None = Field(
        None, description="For `consent_overrides_block`: the allow entry that lifted it."
    )
    time_zones: list[str] | None = Field(
        None,
        description="For `outside_calling_hours`: the callee's time zones, each of which must "
        "be inside the window.",
    )


class CampaignNamed(BaseModel):
    id: int
    name: str


class CampaignCheckPublic(BaseModel):
    number: str | None = Field(description="E.164 form of the input; null for a withheld caller.")
    campaign: CampaignNamed
    callable: bool = Field(description="Whether the campaign may call the number now.")
    blocked: bool = Field(description="Whether a block stands (consent did not lift it).")
    matches: list[MatchPublic] = Field(description="The blocks that stand.")
    reasons: list[ReasonPublic] = Field(
        description="Why, in the order of the precedence table (docs/api.md)."
    )
    next_callable_at: datetime | None = Field(
        description="When only the calling window stands in the way: the earliest instant "
        "every time zone of the callee is inside it (within 7 days; null otherwise)."
    )


class CheckMany(_In):
    numbers: list[NumberInput | None] = Field(max_length=rules.NUMBERS_PER_CHECK)
    direction: CheckDirection | None = None
    campaign: Annotated[str, Field(min_length=1, max_length=rules.NAME_MAX)] | None = Field(
        None,
        description="A campaign's id or name: each result then says whether the campaign may "
        "call the number now (`callable`, `reasons`, `next_callable_at`).",
    )


class CheckManyResult(BaseModel):
    input: NumberInput | None
    number: str | None
    blocked: bool
    group_ids: list[int]
    error: str | None = None


class CheckManyPublic(BaseModel):
    results: list[CheckManyResult]


class BatchReasonPublic(BaseModel):
    code: ReasonCode
    group_id: int | None = Field(None, description="The block's group.")
    pattern: str | None = Field(None, description="The entry that matched.")
    allowed_by_group_id: int | None = Field(
        None, description="For `consent_overrides_block`: the allow entry's group."
    )


class CampaignCheckManyResult(BaseModel):
    input: NumberInput | None
    number: str | None
    callable: bool
    blocked: bool
    group_ids: list[int] = Field(description="The groups whose blocks stand.")
    reasons: list[BatchReasonPublic]
    next_callable_at: datetime | None
    error: str | None = None


class CampaignCheckManyPublic(BaseModel):
    campaign: CampaignNamed
    results: list[CampaignCheckManyResult]


# --- campaigns -----------------------------------------------------------------------------

_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# Declared for the document, checked by the domain (``calling_hours.clean_window``), whose
# words name what is accepted rather than a pattern.
Day = Annotated[str, Field(max_length=3, json_schema_extra={"enum": _DAYS})]
Clock = Annotated[
    str,
    Field(
        max_length=5,
        description="Local time as HH:MM; as an end, 24:00 (or 00:00) is midnight.",
        json_schema_extra={"pattern": "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"},
    ),
]


class CallingWindowPublic(BaseModel):
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        description="The days a window starts on; a window crossing midnight belongs to the "
        "day it starts on."
    )
    start: str = Field(description="Local time as HH:MM.")
    end: str = Field(
        description="Exclusive, HH:MM or 24:00. Earlier than `start`: the window crosses midnight."
    )


class CallingWindowIn(_In):
    days: list[Day] = Field(
        min_length=1,
        max_length=7,
        description="The days a window starts on, each once (a window crossing midnight "
        "belongs to the day it starts on).",
    )
    start: Clock
    end: Clock


GroupIds = Annotated[list[Annotated[int, Field(ge=1)]], Field(max_length=rules.GROUPS_PER_CAMPAIGN)]


class CampaignCreate(_In):
    name: GroupName
    description: GroupDescription = ""
    calling_window: CallingWindowIn | None = Field(
        None, description="When calls are allowed, in the callee's local time; null: any time."
    )
    group_ids: GroupIds = Field(
        default_factory=list, description="Groups to attach (block or allow groups)."
    )


class CampaignUpdate(_In):
    name: GroupName | None = None
    description: GroupDescription | None = None
    calling_window: CallingWindowIn | None = Field(
        None, description="A new window; null removes it; left out, it stays."
    )


class CampaignGroupsIn(_In):
    group_ids: GroupIds = Field(min_length=1)


class AttachedGroupPublic(BaseModel):
    id: int
    name: str
    scope: GroupScope
    consent_overrides: bool


class CampaignPublic(BaseModel):
    id: int
    name: str
    description: str
    calling_window: CallingWindowPublic | None
    block_groups: list[AttachedGroupPublic] = Field(
        description="Block groups attached (global block groups count as well)."
    )
    allow_groups: list[AttachedGroupPublic] = Field(
        description="Allow groups attached (global allow groups count as well)."
    )
    created_at: datetime
    updated_at: datetime


class CampaignsPublic(BaseModel):
    data: list[CampaignPublic]
    count: int


# --- API keys --------------------------------------------------------------------------------


class KeyCreate(_In):
    label: str = Field(
        "",
        description=f"Who or what holds the key, as the history names it: {rules.KEY_LABEL_RULE}.",
        json_schema_extra={
            "maxLength": rules.KEY_LABEL_MAX,
            "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$",
        },
    )
    scopes: list[Literal["check", "read", "write", "admin"]] = Field(
        description="What the key may do: one or more of `check` (checks and the change "
        "feed), `read` (everything that reads; includes check), `write` (changes, imports and "
        "the compat endpoints; includes read), `admin` (account settings and keys).",
        min_length=1,
        max_length=8,
    )


class KeyPublic(BaseModel):
    id: int
    label: str = Field(description='Who or what holds the key; "" for none.')
    scopes: list[str] = Field(description="The scopes the key was issued with, sorted.")
    prefix: str = Field(description="The key's first characters, to tell keys apart.")
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(
        None, description="When the key last authenticated a request (late by up to a minute)."
    )


class KeyIssued(KeyPublic):
    key: str = Field(description="The key itself: shown this once, never stored.")


class KeysPublic(BaseModel):
    data: list[KeyPublic]
    count: int


# --- audit, account, health -----------------------------------------------------------------


class AuditEventPublic(BaseModel):
    id: int
    at: datetime
    surface: str = Field(
        description="Where the change came from: `v1`, `page` (the admin page), `compat-v2`, "
        "`compat-ca-apis` or `cli`."
    )
    action: str
    group_id: int | None
    key_id: int | None = Field(description="The id of the API key used; null for the local CLI.")
    key_label: str | None = Field(
        None,
        description='The label of the API key used ("" for a key without one); null for the '
        "local CLI.",
    )
    count: int = Field(description="How many numbers the change touched.")
    numbers: list[str] = Field(description="Up to 100 of them.")
    detail: dict[str, object] | None


class AuditPublic(BaseModel):
    data: list[AuditEventPublic]
    count: int
    next_cursor: str | None


# --- the change feed -------------------------------------------------------------------------


class ChangedGroupPublic(BaseModel):
    id: int
    name: str
    description: str
    direction: Direction
    kind: GroupKind
    scope: GroupScope
    consent_overrides: bool


class ChangedCampaignPublic(BaseModel):
    id: int
    name: str
    description: str
    calling_window: CallingWindowPublic | None
    group_ids: list[int] = Field(description="The groups attached to it, in id order.")


class ChangedEntryPublic(BaseModel):
    number: str = Field(description="E.164 number, or E.164 prefix ending in `*`.")
    expires_at: datetime | None = Field(description="Its expiry now; null: it does not expire.")


class ChangePublic(BaseModel):
    version: int = Field(
        description="The account's version after this change: one more than the change "
        "before it, with no gaps."
    )
    at: datetime
    action: Action
    group_id: int | None = Field(
        description="The group changed; null for a removal from every group (`remove`) or "
        "an account setting (`settings`). For `delete`, the group gone with all its entries "
        "(they are not listed)."
    )
    group: ChangedGroupPublic | None = Field(
        description="The group as the change left it, where the change records it: `create`, "
        "`rename`, `update`, and an `import` that created its group."
    )
    campaign: ChangedCampaignPublic | None = Field(
        None,
        description="For the `campaign-*` actions: the campaign as the change left it (as it "
        "was, for `campaign-delete`).",
    )
    upserted: list[ChangedEntryPublic] = Field(
        description="Entries written (new, or already there with their expiry set again), "
        "each with the expiry it now has."
    )
    removed: list[str] = Field(
        description="Entries removed: from `group_id`, or from every group when it is null."
    )
    block_anonymous: bool | None = Field(
        description="The account's withheld-caller setting, when this change set it."
    )
    note: str | None = Field(
        description="The note the change wrote on its upserted entries; null: their notes "
        "stayed as they were."
    )
    continued: bool = Field(
        description="The change has more entries than this answer holds: the next answer "
        "goes on with it (the same `version`, the entries after these)."
    )
    token: str = Field(description="Resumes right after this change (or this part of it).")


RESET_DETAIL = (
    "The token is older than the change log keeps (CALLBLOCK_CHANGE_LOG_RETENTION_DAYS): the "
    "changes after it are gone. Keep `next`, copy the groups afresh (GET /v1/groups, then "
    "each group's numbers.csv), then follow from `next`."
)


class ChangesPublic(BaseModel):
    changes: list[ChangePublic] = Field(description="In version order.")
    next: str = Field(description="Pass as `since` next time.")
    more: bool = Field(description="More changes are waiting: ask again with `next` now.")
    reset: bool = Field(
        description="The token is older than the change log keeps: no changes can follow "
        "it. Start over: keep `next`, copy the groups afresh, then follow from `next`."
    )
    detail: str | None = Field(None, description="On a reset, what happened and what to do.")


class AccountPublic(BaseModel):
    username: str
    region: str
    timezone: str
    auth_mode: str
    block_anonymous: bool


class AccountUpdate(_In):
    block_anonymous: StrictBool | None = Field(
        None, description="Inbound checks of a withheld caller ID answer blocked."
    )
    region: StrictStr | None = Field(
        None,
        min_length=2,
        max_length=2,
        # Checked by the service (any case is read), listed here for the document.
        json_schema_extra={"enum": list(REGIONS)},
        description="The ISO 3166 region national numbers are read with (`IN`, `GB`; lower "
        "case is read too): one of those phone numbers are known for, else 422.",
    )
    timezone: StrictStr | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="The IANA time zone (`Asia/Kolkata`) an import's or a compat request's "
        "expiry without an offset is read in: one the server's time zone database holds, "
        "else 422.",
    )


class LimitsPublic(BaseModel):
    """What a request may hold, as the server enforces it (a form can say it before sending)."""

    name_min: int = Field(description="Fewest characters of a group's name.")
    name_max: int = Field(description="Most characters of a group's name.")
    name_rule: str = Field(description="The group-name rule, in words.")
    description_max: int = Field(description="Most characters of a group's description.")
    description_rule: str
    note_max: int = Field(description="Most characters of an entry's note.")
    note_rule: str
    numbers_per_change: int = Field(description="Most numbers one add or remove may hold.")
    numbers_per_check: int = Field(description="Most numbers one batch check may hold.")
    page_max: int = Field(description="Largest page of a listing (`limit`).")
    entry_filter_max: int = Field(description="Most characters of `q`, an entries filter.")
    column_max: int = Field(description="Most characters of an import's `column` parameters.")
    invalid_lines_shown: int = Field(
        description="Most invalid lines a refused import lists (`invalid_lines`)."
    )


LIMITS = LimitsPublic(
    name_min=rules.NAME_MIN,
    name_max=rules.NAME_MAX,
    name_rule=rules.NAME_RULE,
    description_max=rules.DESCRIPTION_MAX,
    description_rule=rules.DESCRIPTION_RULE,
    note_max=rules.NOTE_MAX,
    note_rule=rules.NOTE_RULE,
    numbers_per_change=rules.NUMBERS_PER_CHANGE,
    numbers_per_check=rules.NUMBERS_PER_CHECK,
    page_max=rules.PAGE_MAX,
    entry_filter_max=rules.ENTRY_FILTER_MAX,
    column_max=rules.COLUMN_MAX,
    invalid_lines_shown=rules.INVALID_LINES_SHOWN,
)


class Health(BaseModel):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)


STATUS_FILTER = EntryStatus


# --- insights -----------------------------------------------------------------------------------


class StatsPointPublic(BaseModel):
    start: datetime = Field(description="The bucket's start (UTC); it lasts one `bucket`.")
    checks: int = Field(description="Checks answered (single and batch; scrubs are not).")
    blocked: int = Field(description="Of them, blocked (for a campaign: not callable).")
    invalid: int = Field(description="Of them, not a number.")
    matched: int = Field(
        description="With `group_id`: the checks that group matched; else equal to `blocked`."
    )


class GroupMatchesPublic(BaseModel):
    group_id: int
    name: str
    matched: int = Field(description="Checks the group matched over the range.")


class TopEntryPublic(BaseModel):
    group_id: int
    group_name: str
    number: str = Field(description="The entry: E.164 number, or prefix ending in `*`.")
    international: str = Field(description="Spaced for reading (`+91 98765 43210`).")
    hits: int = Field(description="Single checks it matched on the range's days.")


class StatsPublic(BaseModel):
    bucket: Literal["minute", "hour", "day"]
    from_: datetime = Field(alias="from", description="The first bucket's start.")
    to: datetime = Field(description="The end of the last bucket (excluded).")
    group_id: int | None
    campaign_id: int | None
    checks: int = Field(description="Checks over the range.")
    blocked: int = Field(description="Blocked over the range.")
    series: list[StatsPointPublic] = Field(
        description="The buckets that hold checks, in time order (a bucket with none is left out)."
    )
    by_group: list[GroupMatchesPublic] = Field(
        description="Each group's matches over the range, most first (groups with none left out)."
    )
    top_entries: list[TopEntryPublic] = Field(
        description="The ten entries single checks matched most, on the UTC days the range touches."
    )

    model_config = {"populate_by_name": True}


class StaleEntryPublic(EntryPublic):
    last_matched_on: date | None = Field(
        description="The last UTC day a check matched it (before the range asked for), or "
        "null: never, as far as the kept days go."
    )


class StaleEntriesPublic(BaseModel):
    data: list[StaleEntryPublic]
    count: int
    next_cursor: str | None
