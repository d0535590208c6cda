"""`/v1` request and answer bodies, named by direction (``GroupCreate``, ``GroupPublic``).

Keys of answers may be added in future; none will be removed or renamed.
"""

from __future__ import annotations

from datetime import UTC, datetime
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

from callblock.domain import RFC3339, Direction, EntryStatus, storable

MAX_ADD = 10_000
MAX_CHECK = 100_000

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


class GroupCreate(_In):
    name: str = Field(
        description="2 to 50 characters: letters and marks of any script, digits, space, "
        "`_`, `-`, `.`; starting with a letter or digit. Unique per account, ignoring case.",
        examples=["Spam callers"],
    )
    description: str = Field("", max_length=200, description="Up to 50 characters.")
    direction: Direction = Field(
        Direction.BOTH, description="Which checks the group's entries count for."
    )


class GroupUpdate(_In):
    name: str | None = None
    description: str | None = Field(None, max_length=200)
    direction: Direction | None = None


class GroupPublic(BaseModel):
    id: int
    name: str
    description: str
    direction: Direction
    active_count: int = Field(description="Entries that block now.")
    expired_count: int = Field(description="Entries past their expiry, kept for the record.")
    created_at: datetime
    updated_at: datetime


class GroupsPublic(BaseModel):
    data: list[GroupPublic]
    count: int = Field(description="How many groups match, over all pages.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


# --- entries -----------------------------------------------------------------------------------


class EntryPublic(BaseModel):
    number: str = Field(description="E.164 number, or E.164 prefix ending in `*`.")
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


class NumbersAdd(_In):
    numbers: list[NumberInput] = Field(
        min_length=1,
        max_length=MAX_ADD,
        description="Numbers in any common form, or prefixes ending in `*` (`+91140*`, `140*`).",
    )
    expires_at: Instant | None = Field(
        None, description="RFC 3339 instant, in the future; null: never expires."
    )
    note: str | None = Field(None, max_length=500)

    @field_validator("note")
    @classmethod
    def _storable_note(cls, note: str | None) -> str | None:
        if note is not None and not storable(note):
            raise ValueError("holds NUL or a lone surrogate, which cannot be stored")
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
    numbers: list[NumberInput] = Field(min_length=1, max_length=MAX_ADD)


class NumbersRemoved(BaseModel):
    removed: int
    not_found: list[NumberInput] = Field(description="Inputs that were not in the group.")
    invalid: list[InvalidEntry]


class RejectedLinePublic(BaseModel):
    line: int
    input: str
    reason: str


class HeaderLine(BaseModel):
    line: int
    cells: list[str]


class ImportSummary(BaseModel):
    header: HeaderLine | None = Field(
        None,
        description="The first row, when it was read as a header (column names) and so not "
        "imported; null when the first row was data.",
    )
    added: int = Field(description="Entries that were not in the group before.")
    updated: int = Field(description="Entries already there (their expiry set anew).")
    repeats: int = Field(description="Lines repeating a number of an earlier line.")
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


class CheckMany(_In):
    numbers: list[NumberInput | None] = Field(max_length=MAX_CHECK)
    direction: CheckDirection | None = None


class CheckManyResult(BaseModel):
    input: NumberInput | None
    number: str | None
    blocked: bool
    group_ids: list[int]
    error: str | None = None


class CheckManyPublic(BaseModel):
    results: list[CheckManyResult]


# --- audit, account, health -----------------------------------------------------------------


class AuditEventPublic(BaseModel):
    id: int
    at: datetime
    surface: str
    action: str
    group_id: int | None
    key_id: int | None = Field(description="The id of the API key used; null for the local CLI.")
    count: int = Field(description="How many numbers the change touched.")
    numbers: list[str] = Field(description="Up to 100 of them.")
    detail: dict[str, object] | None


class AuditPublic(BaseModel):
    data: list[AuditEventPublic]
    count: int
    next_cursor: str | None


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


class Health(BaseModel):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)


STATUS_FILTER = EntryStatus
