"""Entities, validation rules and domain errors.

Errors here carry meaning, never HTTP: each surface (compat endpoints, CLI, ...) maps them to
its own answer in one place. Validation functions return a value or record a ``FieldProblem``
so that a surface can report every invalid field of a request in one answer.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Generic, NamedTuple, TypeVar

from callblock.numbers import InvalidNumber, is_pattern, normalise, normalise_prefix
from callblock.rules import (
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    FILE_NAME_MAX,
    FILE_NAME_RULE,
    KEY_LABEL_MAX,
    KEY_LABEL_RULE,
    NAME_MAX,
    NAME_MIN,
    NAME_RULE,
    NOTE_MAX,
    NOTE_RULE,
    SCOPES_RULE,
    USERNAME_MAX,
)

T = TypeVar("T")

DEFAULT_REGION: Final = "IN"
DEFAULT_TIMEZONE: Final = "Asia/Kolkata"


class AuthMode(enum.StrEnum):
    BASIC_AUTH = "BASIC_AUTH"
    TOKEN_AUTH = "TOKEN_AUTH"


class Surface(enum.StrEnum):
    """Which door a change came through; recorded on entries and audit events."""

    COMPAT_V2 = "compat-v2"
    COMPAT_CA_APIS = "compat-ca-apis"
    V1 = "v1"
    CLI = "cli"
    PAGE = "page"  # the admin page: /v1 requests the page makes (it says so in a header)


class Action(enum.StrEnum):
    CREATE = "create"
    ADD = "add"
    EXPIRE_REFRESH = "expire-refresh"  # an add that only re-set expiries of present entries
    REMOVE = "remove"
    # A removal of the group's expired entries: the keys are listed like a removal's, but the
    # history says they went for having expired, not because someone named them.
    PURGE = "purge"
    RENAME = "rename"
    UPDATE = "update"  # description or direction changed
    DELETE = "delete"
    IMPORT = "import"
    # An import that made its group exactly the file's entries: added, kept and removed.
    REPLACE = "replace"
    # A change list applied: numbers added and deleted, line by line, all or nothing.
    CHANGE_LIST = "change-list"
    SETTINGS = "settings"  # an account setting that changes checks (block_anonymous)
    # Campaigns: which groups a campaign's checks obey, and its calling window.
    CAMPAIGN_CREATE = "campaign-create"
    CAMPAIGN_UPDATE = "campaign-update"  # name, description or calling window
    CAMPAIGN_ATTACH = "campaign-attach"
    CAMPAIGN_DETACH = "campaign-detach"
    CAMPAIGN_DELETE = "campaign-delete"
    # An API key issued or revoked over HTTP: audited, not a change of what checks answer.
    KEY_ISSUE = "key-issue"
    KEY_REVOKE = "key-revoke"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    BOTH = "both"


class GroupKind(enum.StrEnum):
    """What a group's entries mean: the number must not be called (``block``), or its owner
    consented or has a relationship with the company (``allow``), which overrides blocks of
    groups that allow it (``consent_overrides``) in a campaign's checks."""

    BLOCK = "block"
    ALLOW = "allow"


class GroupScope(enum.StrEnum):
    """Where a group applies: to every check (``global``), or only to the checks of the
    campaigns it is attached to (``attached``)."""

    GLOBAL = "global"
    ATTACHED = "attached"


class ReasonCode(enum.StrEnum):
    """Why a campaign check answers as it does (``docs/api.md``, "The campaign check")."""

    BLOCKED = "blocked"  # an exact entry of a block group
    BLOCKED_BY_PREFIX = "blocked_by_prefix"
    WITHHELD_CALLER = "withheld_caller"
    CONSENT_OVERRIDES_BLOCK = "consent_overrides_block"  # an allow entry lifted a block
    OUTSIDE_CALLING_HOURS = "outside_calling_hours"


class EntryStatus(enum.StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    ALL = "all"


# Instants as the API accepts them: RFC 3339 with an offset, or a wall-clock time of the
# account's zone (the compat endpoints' format).
RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
LOCAL_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")

# Caller IDs that mean "withheld"; an inbound check of one is blocked where the account says so.
WITHHELD_CALLER_IDS = frozenset({"", "anonymous", "private", "unknown", "withheld"})
# The reasons a check gives, the same on every surface and in a scrubbed list's rows.
WITHHELD_BLOCKED: Final = "withheld caller ID: blocked"
NOT_A_NUMBER: Final = "not a valid phone number"


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    username: str
    region: str
    timezone: str
    auth_mode: AuthMode
    created_at: datetime
    block_anonymous: bool = False


class Scope(enum.StrEnum):
    """What an API key may do. ``write`` includes ``read``, and ``read`` includes ``check``
    (changing lists means seeing them; reading them includes asking about a number);
    ``admin`` (account settings and keys) stands apart."""

    CHECK = "check"  # single and batch checks, and the change feed
    READ = "read"  # everything that reads
    WRITE = "write"  # changes, imports, and the compat endpoints
    ADMIN = "admin"  # account settings and keys


EVERY_SCOPE: Final = frozenset(Scope)
_INCLUDED = {Scope.WRITE: Scope.READ, Scope.READ: Scope.CHECK}


def granted(scopes: Iterable[Scope]) -> frozenset[Scope]:
    """The scopes a key holding ``scopes`` may act in: each with those it includes."""
    found = set(scopes)
    for scope in list(found):
        while scope in _INCLUDED:
            scope = _INCLUDED[scope]
            found.add(scope)
    return frozenset(found)


class KeyGrant(NamedTuple):
    """An active API key as authentication finds it: its id, label and scopes as issued."""

    key_id: int
    label: str
    scopes: frozenset[Scope]


def scopes_text(scopes: Iterable[Scope]) -> str:
    """Scopes as stored and as listed: sorted names, comma-separated."""
    return ",".join(sorted(s.value for s in scopes))


def scopes_from_text(text: str) -> frozenset[Scope]:
    return frozenset(Scope(name) for name in text.split(",") if name)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: the account, and the key that authenticated (None for the local CLI),
    with what that key may do (``granted``) and its label."""

    account: Account
    key_id: int | None
    surface: Surface
    scopes: frozenset[Scope] = EVERY_SCOPE
    key_label: str = ""

    @classmethod
    def with_key(cls, account: Account, grant: KeyGrant, surface: Surface) -> Actor:
        """The actor an API key authenticates: what it may do is its scopes and those they
        include (``granted``)."""
        return cls(account, grant.key_id, surface, granted(grant.scopes), grant.label)

    def require(self, scope: Scope) -> None:
        """ScopeMissing unless this actor's key may act in ``scope``."""
        if scope not in self.scopes:
            raise ScopeMissing(scope, self.scopes)


@dataclass(frozen=True, slots=True)
class Group:
    id: int
    account_id: int
    name: str
    description: str
    direction: Direction = Direction.BOTH
    kind: GroupKind = GroupKind.BLOCK
    scope: GroupScope = GroupScope.GLOBAL
    # A block group whose entries an active allow entry overrides (a national registry);
    # never an allow group.
    consent_overrides: bool = False

    @property
    def blocks_everywhere(self) -> bool:
        """Whether the group counts in a check without a campaign (every group did before
        campaigns, and groups made through the Cloud Agent endpoints still do)."""
        return self.kind is GroupKind.BLOCK and self.scope is GroupScope.GLOBAL


@dataclass(frozen=True, slots=True)
class GroupDetail:
    group: Group
    created_at: datetime
    updated_at: datetime
    active: int
    expired: int
    # When an import from a file last wrote the group, and the file's name (None when the
    # client did not say it): how fresh a registry is. None: never imported from a file.
    refreshed_at: datetime | None = None
    refreshed_from: str | None = None


class GroupRefresh(NamedTuple):
    """When an import from a file last wrote a group (for ``/metrics``)."""

    account: str  # the account's username
    group: str  # the group's name
    refreshed_at: datetime


@dataclass(frozen=True, slots=True)
class Entry:
    key: int  # its place in the group's listing (the store's key: prefixes, then numbers)
    group_id: int
    pattern: str  # E.164 number, or E.164 prefix ending in "*"
    expires_at: datetime | None
    note: str | None
    source: str
    created_at: datetime
    updated_at: datetime


class EntryFacts(NamedTuple):
    """Everything about an entry but its number, as stored (times in POSIX microseconds).
    The entries of one write share them, so a group of millions has few distinct ones."""

    prefix: bool
    expires_at: int | None
    note: str | None
    source: str
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class EntryBlock:
    """Consecutive entries of a group, in key order, as an export reads them.

    ``keys`` are their stored keys (``numbers.pattern_key``) as one comma-separated text,
    which the database builds far faster than it hands over rows one by one. Every entry
    has the ``common`` facts but those in ``others`` (key and facts, in key order).
    """

    keys: str
    count: int
    common: EntryFacts
    others: list[tuple[int, EntryFacts]]


@dataclass(frozen=True, slots=True)
class Match:
    """Why a number is blocked: an entry or prefix of a group, or an account rule."""

    group_id: int | None
    group_name: str | None
    pattern: str
    expires_at: datetime | None
    rule: str  # "number", "prefix" or "block_anonymous"


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason of a campaign check's answer: a block that stands (``blocked``,
    ``blocked_by_prefix``, ``withheld_caller``), a block lifted by consent
    (``consent_overrides_block``: ``match`` is the block, ``allowed_by`` the allow entry), or
    the calling window (``outside_calling_hours``: the callee's ``zones``)."""

    code: ReasonCode
    match: Match | None = None
    allowed_by: Match | None = None
    zones: tuple[str, ...] = ()


class BatchReason(NamedTuple):
    """A reason of a batch answer (tens of thousands of them): what the batch says of it,
    cheap to make, and shared by the numbers that have the same one. ``pattern`` is the
    prefix entry that matched, or the caller ID of a withheld one; None for an exact entry,
    which is the number itself."""

    code: ReasonCode
    group_id: int | None = None
    pattern: str | None = None
    allowed_by_group_id: int | None = None
    zones: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: datetime
    key_id: int | None
    surface: str
    action: str
    group_id: int | None
    count: int
    sample: list[str]
    detail: dict[str, object] | None
    key_label: str | None = None  # the key's label ("" for none); None without a key


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing: its items, the total matching, and where the next page starts."""

    items: list[T]
    total: int
    next_after: int | None


@dataclass(frozen=True, slots=True)
class GroupById:
    id: int


@dataclass(frozen=True, slots=True)
class GroupByName:
    """A group named case-insensitively, as ``name_key`` compares names."""

    name: str


GroupRef = GroupById | GroupByName


# Tuples, not dataclasses: a campaign check looks its plan up by them, and a tuple's hash and
# equality are native.
class CampaignById(NamedTuple):
    id: int


class CampaignByName(NamedTuple):
    name: str


CampaignRef = CampaignById | CampaignByName


def campaign_ref(raw: str) -> CampaignRef:
    """A campaign named in a request by id (all digits) or by name."""
    text = raw.strip()
    return CampaignById(int(text)) if text.isascii() and text.isdigit() else CampaignByName(text)


@dataclass(frozen=True, slots=True)
class RequestedNumber:
    """One number of a request: the input as the client sent it and its E.164 form."""

    raw: object
    e164: str


# --- errors -----------------------------------------------------------------------------


class DomainError(Exception):
    """Base of every error the service layer raises on purpose."""


class AuthenticationFailed(DomainError):
    """The credentials sent were refused: an unknown user, a wrong or revoked key, a key of
    another user, a malformed one. Never says which (whether a username exists is nobody's
    business). The compat surfaces raise it for missing credentials too: they answer every
    failure alike."""


class CredentialsMissing(AuthenticationFailed):
    """No credentials in the request, or none in a form the surface reads: nothing was tried,
    so nothing is counted. A surface that answers every failure alike (compat) need not tell
    it apart; `/v1` says how to send a key."""


class CredentialRetired(AuthenticationFailed):
    """A credential this service issued that no longer works: a revoked key, a superseded or
    revoked token. Answered as any failure, but not counted as a guess: nobody guesses a
    revoked key, and a dialer still using one must not lock out its neighbours' address."""


class ScopeMissing(DomainError):
    """The key is valid, but may not do this: it lacks ``needed``."""

    def __init__(self, needed: Scope, held: frozenset[Scope]) -> None:
        super().__init__(needed)
        self.needed = needed
        self.held = held


class TokenExpired(DomainError):
    """A genuine token of this account whose lifetime is over."""


class TokenAuthDisabled(DomainError):
    """Tokens asked for by an account that authenticates with API keys."""


class TokenLimitExceeded(DomainError):
    """The account has had its tokens for this rolling hour."""


class TooManyRequests(DomainError):
    """Refused for now: too many failed authentications from this client or for this user
    (``AuthThrottled``), or too many requests of this account (``RateLimited``)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = max(1, retry_after)  # whole seconds, as Retry-After says it


class AuthThrottled(TooManyRequests):
    """Too many failed authentications in the last minute for this username or address."""


class RateLimited(TooManyRequests):
    """The account sent requests faster than its configured rate."""


class KeyNotFound(DomainError):
    """No API key with this id belongs to the account."""

    def __init__(self, username: str, key_id: int) -> None:
        super().__init__(username, key_id)
        self.username = username
        self.key_id = key_id


class GroupNotFound(DomainError):
    """No such group for this account (a foreign group is indistinguishable from none)."""


class CampaignNotFound(DomainError):
    """No such campaign for this account."""


class GroupKindMismatch(DomainError):
    """A group property that its kind does not have (consent override of an allow group)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NameTaken(DomainError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class CampaignNameTaken(NameTaken):
    """Another campaign of the account has this name (ignoring case)."""


class UsernameTaken(DomainError):
    def __init__(self, username: str) -> None:
        super().__init__(username)
        self.username = username


class AccountNotFound(DomainError):
    def __init__(self, username: str) -> None:
        super().__init__(username)
        self.username = username


@dataclass(frozen=True, slots=True)
class RejectedLine:
    line: int
    input: str
    reason: str


@dataclass(slots=True)
class ImportRejected(DomainError):
    """Some lines of an import are invalid and skipping them was not asked for: nothing was
    written."""

    lines: list[RejectedLine]

    def __post_init__(self) -> None:
        Exception.__init__(
            self, f"{len(self.lines)} invalid line{'' if len(self.lines) == 1 else 's'}"
        )


class TooManyRemovals(DomainError):
    """A replace that would remove more of the group than its guard allows (a truncated
    download must not wipe a registry); nothing was written. Forcing it is the caller's."""

    def __init__(self, removing: int, present: int, limit: float) -> None:
        super().__init__(removing, present, limit)
        self.removing = removing
        self.present = present
        self.limit = limit


class NothingToImport(DomainError):
    """An import file without a single data line (empty, blank, or a header alone)."""


class InvalidCursor(DomainError):
    """A pagination cursor that this service did not hand out."""


class InvalidChangeToken(DomainError):
    """A change feed token that this service did not hand out to this account: malformed,
    altered, signed with another key, or another account's (never told apart)."""


class StoreUnavailable(DomainError):
    """The database cannot be reached or stayed locked past the busy timeout."""


class WriteConflict(StoreUnavailable):
    """The database refused a write as conflicting with another (a deadlock or a
    serialization failure). The write path retries it; only a conflict that outlasts every
    retry reaches a surface, answered like an unavailable store (try again)."""


class ProblemCode(enum.StrEnum):
    LENGTH = "length"  # name/description: their length (and allowed characters) in rules
    INVALID_NUMBERS = "invalid_numbers"
    TOO_MANY_NUMBERS = "too_many_numbers"
    NO_NUMBERS = "no_numbers"
    EXPIRY = "expiry"  # not a future instant in the expected format
    INVALID = "invalid"  # generic: wrong type or value


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    code: ProblemCode
    value: object = None
    detail: str = ""


@dataclass(slots=True)
class InvalidInput(DomainError):
    """One or more fields are invalid; nothing was written."""

    problems: list[FieldProblem]
    invalid_numbers: list[object] = field(default_factory=list)

    def __post_init__(self) -> None:
        Exception.__init__(self, [p.field for p in self.problems])


# --- validation ----------------------------------------------------------------------------


def _name_char_allowed(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LM" or category == "Nd" or char in " _-."


def clean_group_name(raw: object) -> str | None:
    """The trimmed group name, or None when it breaks the naming rule (``rules.NAME_RULE``)."""
    if not isinstance(raw, str):
        return None
    return None if _name_fault(raw.strip()) else raw.strip()


def _name_fault(name: str) -> str | None:
    """What is wrong with a trimmed group name, in a few words, or None when nothing is."""
    if len(name) < NAME_MIN:
        return f"Too short: at least {NAME_MIN} characters"
    if len(name) > NAME_MAX:
        return f"Too long: at most {NAME_MAX} characters, not {len(name)}"
    first = unicodedata.category(name[0])
    if not (first[0] == "L" or first == "Nd"):
        return f"Must start with a letter or digit, not {_shown(name[0])}"
    for char in name:
        if not _name_char_allowed(char):
            return f"Character not allowed: {_shown(char)}"
    return None


def _shown(char: str) -> str:
    """A character as an error names it: itself in quotes, or its code point when it cannot
    be seen (a control character, a space other than the plain one)."""
    if char.isprintable() and not char.isspace():
        return f"\u201c{char}\u201d"
    return f"U+{ord(char):04X}"


def group_name_problem(raw: object) -> str | None:
    """Why a group name breaks the naming rule, for a person to read: what is wrong first
    (``Too short: at least 2 characters``), then the rule itself; None when it keeps it
    (``clean_group_name`` then answers the name)."""
    fault = "Not text" if not isinstance(raw, str) else _name_fault(raw.strip())
    return None if fault is None else f"{fault}. A name is {NAME_RULE}"


def clean_description(raw: object, minimum: int = DESCRIPTION_MIN) -> str | None:
    """The trimmed description, or None when too short, too long or not storable text."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not minimum <= len(text) <= DESCRIPTION_MAX:
        return None
    return text if storable(text) else None


def checked_file_name(raw: str | None) -> str | None:
    """The file name an import records (None: not said); InvalidInput when it breaks
    ``FILE_NAME_RULE``."""
    if raw is None or (0 < len(raw) <= FILE_NAME_MAX and storable(raw)):
        return raw
    raise InvalidInput([FieldProblem("file_name", ProblemCode.INVALID, raw, FILE_NAME_RULE)])


def checked_key_label(raw: str) -> str:
    """A key's label, trimmed; InvalidInput when it breaks ``KEY_LABEL_RULE``."""
    label = raw.strip()
    control = any(unicodedata.category(c) == "Cc" for c in label)
    if len(label) <= KEY_LABEL_MAX and not control and storable(label):
        return label
    detail = "too long: " if len(label) > KEY_LABEL_MAX else "a character not allowed: "
    raise InvalidInput([FieldProblem("label", ProblemCode.INVALID, raw, detail + KEY_LABEL_RULE)])


def checked_scopes(raw: Iterable[str]) -> frozenset[Scope]:
    """The scopes named (``Scope`` values, case as written); InvalidInput for none or for a
    name that is not a scope."""
    names = list(raw)
    unknown = [n for n in names if n not in Scope._value2member_map_]
    if unknown or not names:
        detail = f"not a scope: {unknown[0]!r}; " if unknown else "none given; "
        raise InvalidInput(
            [FieldProblem("scopes", ProblemCode.INVALID, names, detail + SCOPES_RULE)]
        )
    return frozenset(Scope(n) for n in names)


def checked_note(raw: str | None) -> str | None:
    """The note a write gives its entries (None: none given, their notes stay); InvalidInput
    when it breaks ``NOTE_RULE``."""
    if raw is None or (len(raw) <= NOTE_MAX and storable(raw)):
        return raw
    raise InvalidInput([FieldProblem("note", ProblemCode.INVALID, raw, NOTE_RULE)])


def storable(text: str) -> bool:
    """Whether every engine can store and compare this text: PostgreSQL refuses NUL, and a
    lone surrogate has no UTF-8 form. Other control characters are kept."""
    return "\x00" not in text and not any(unicodedata.category(c) == "Cs" for c in text)


def name_key(name: str) -> str:
    """The form under which group names are unique per account (case-insensitive)."""
    return unicodedata.normalize("NFC", name).casefold()


def parse_numbers(
    items: Sequence[object], region: str, *, prefixes: bool = False
) -> tuple[list[RequestedNumber], list[object]]:
    """Normalise each item; return (valid numbers in order, offending inputs as sent).

    With ``prefixes``, an input ending in ``*`` is read as a prefix pattern.
    """
    valid: list[RequestedNumber] = []
    invalid: list[object] = []
    for item in items:
        text = number_text(item)
        if text is None:
            invalid.append(item)
            continue
        try:
            if prefixes and is_pattern(text):
                valid.append(RequestedNumber(raw=item, e164=normalise_prefix(text, region)))
            else:
                valid.append(RequestedNumber(raw=item, e164=normalise(text, region)))
        except InvalidNumber:
            invalid.append(item)
    return valid, invalid


def number_text(item: object) -> str | None:
    """The text of a number as sent: a string, or a JSON integer's digits."""
    if isinstance(item, str):
        return item
    # JSON integers are numbers as sent by many clients; booleans are ints in Python, not here.
    if isinstance(item, int) and not isinstance(item, bool) and item >= 0:
        return str(item)
    return None


def split_repeats(
    numbers: Iterable[RequestedNumber],
) -> tuple[list[RequestedNumber], list[RequestedNumber]]:
    """Split into (first occurrence of each E.164 number, later repeats), keeping order."""
    seen: set[str] = set()
    first: list[RequestedNumber] = []
    repeats: list[RequestedNumber] = []
    for number in numbers:
        (repeats if number.e164 in seen else first).append(number)
        seen.add(number.e164)
    return first, repeats


def clean_username(raw: str) -> str | None:
    name = raw.strip()
    if not 1 <= len(name) <= USERNAME_MAX or ":" in name:
        return None
    if any(unicodedata.category(c)[0] in "CZ" for c in name):
        return None
    return name
