"""The compat request fields: presence (step 1) and values (step 2) of the contract.

Every invalid field is collected and reported in one ``InvalidInput``; the field names in the
problems are the wire's own (``name``, ``description``, ``blockNumbers``, ``expiryDate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from callblock.domain import (
    LOCAL_TIME,
    FieldProblem,
    InvalidInput,
    ProblemCode,
    RequestedNumber,
    clean_description,
    clean_group_name,
    parse_numbers,
)
from callblock.http.compat.body import Fields
from callblock.http.compat.errors import MissingParameters
from callblock.rules import COMPAT_NUMBERS_PER_REQUEST, LARGEST_ID

NUMBERS_FIELDS = ("blockNumbers", "blockNumber")
ID_FIELDS = ("Id", "id")
GROUP_NAME_FIELD = "groupName"
_EXPIRY_SHAPE = LOCAL_TIME
_EXPIRY_FORMAT = "%Y-%m-%d %H:%M:%S"


def first_present(fields: Fields, names: tuple[str, ...]) -> Any:
    """The value of the first of ``names`` present and not null, else None."""
    for name in names:
        value = fields.get(name)
        if value is not None:
            return value
    return None


def require(fields: Fields, *groups_of_names: tuple[str, ...]) -> None:
    """Step 1: each group of alias names must have one present, non-null key."""
    for names in groups_of_names:
        if first_present(fields, names) is None:
            raise MissingParameters


def numbers_as_sent(value: Any) -> list[Any]:
    """The echo of the numbers field: as sent, a single value wrapped in a list."""
    return value if isinstance(value, list) else [value]


def _number_items(value: Any) -> list[Any]:
    """Each number of the field: lists flattened, comma-separated strings split."""
    items: list[Any] = []
    for element in numbers_as_sent(value):
        if not isinstance(element, str):
            items.append(element)
        elif "," in element:
            items.extend(piece.strip() for piece in element.split(",") if piece.strip())
        elif element.strip():
            items.append(element)
    return items


def parse_group_id(value: Any) -> int | None:
    """The group id as an integer, or None when it cannot be one (answered as not found)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _is_id_text(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if 1 <= number <= LARGEST_ID else None


def _is_id_text(text: str) -> bool:
    # Longer than any 64-bit id can be: answered as not found without converting.
    return text.isascii() and text.isdigit() and len(text) <= 19


def _text(value: Any) -> Any:
    # PHP reads a JSON integer name as its digits; so do we.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


@dataclass(slots=True)
class FieldCheck:
    """Step 2: validates field values, collecting every problem before raising once."""

    region: str
    timezone: str
    now: datetime
    problems: list[FieldProblem]
    invalid_numbers: list[Any]

    @classmethod
    def start(cls, region: str, timezone: str, now: datetime) -> FieldCheck:
        return cls(region, timezone, now, [], [])

    def name(self, value: Any) -> str:
        clean = clean_group_name(_text(value))
        if clean is None:
            self.problems.append(FieldProblem("name", ProblemCode.LENGTH, value))
        return clean or ""

    def description(self, value: Any) -> str:
        clean = clean_description(_text(value))
        if clean is None:
            self.problems.append(FieldProblem("description", ProblemCode.LENGTH, value))
        return clean or ""

    def numbers(self, value: Any) -> list[RequestedNumber]:
        items = _number_items(value)
        field = "blockNumbers"
        if not items:
            self.problems.append(FieldProblem(field, ProblemCode.NO_NUMBERS))
            return []
        if len(items) > COMPAT_NUMBERS_PER_REQUEST:
            self.problems.append(FieldProblem(field, ProblemCode.TOO_MANY_NUMBERS))
            return []
        valid, invalid = parse_numbers(items, self.region)
        if invalid:
            self.problems.append(FieldProblem(field, ProblemCode.INVALID_NUMBERS))
            self.invalid_numbers.extend(invalid)
        return valid

    def expiry(self, value: Any) -> datetime | None:
        """An optional future instant, ``YYYY-MM-DD HH:MM:SS`` in the account's time zone."""
        if value is None or value == "":
            return None
        instant = self._instant(value)
        if instant is None or instant <= self.now:
            self.problems.append(FieldProblem("expiryDate", ProblemCode.EXPIRY, value))
            return None
        return instant

    def _instant(self, value: Any) -> datetime | None:
        if not isinstance(value, str) or not _EXPIRY_SHAPE.fullmatch(value):
            return None
        try:
            local = datetime.strptime(value, _EXPIRY_FORMAT)
        except ValueError:
            return None
        try:
            return local.replace(tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)
        except OverflowError:
            # Late on 9999-12-31 west of UTC: past the last instant a datetime holds. Such an
            # expiry is "never, in practice"; the last representable instant stands for it.
            return datetime.max.replace(tzinfo=UTC)

    def done(self) -> None:
        if self.problems:
            raise InvalidInput(self.problems, self.invalid_numbers)
