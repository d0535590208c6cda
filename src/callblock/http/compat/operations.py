"""The three compat operations (create, add, remove) over the service layer.

Shared by every compat endpoint generation; each endpoint module only decides how the caller
is authenticated and how the group is named. These run in a worker thread (they call the
synchronous service).
"""

from __future__ import annotations

from starlette.responses import Response

from callblock.domain import Actor, GroupById, GroupByName, GroupNotFound, GroupRef
from callblock.http.compat import wire
from callblock.http.compat.body import Fields
from callblock.http.compat.fields import (
    GROUP_NAME_FIELD,
    ID_FIELDS,
    NUMBERS_FIELDS,
    FieldCheck,
    first_present,
    numbers_as_sent,
    parse_group_id,
    require,
)
from callblock.service import Service


def _check(service: Service, actor: Actor) -> FieldCheck:
    account = actor.account
    return FieldCheck.start(account.region, account.timezone, service.clock())


def create(service: Service, actor: Actor, fields: Fields) -> Response:
    require(fields, ("name",), ("description",), NUMBERS_FIELDS)
    check = _check(service, actor)
    name = check.name(fields["name"])
    description = check.description(fields["description"])
    numbers_value = first_present(fields, NUMBERS_FIELDS)
    numbers = check.numbers(numbers_value)
    expires_at = check.expiry(fields.get("expiryDate"))
    check.done()
    result = service.create_group(actor, name, description, numbers, expires_at)
    return wire.created(
        fields["name"], fields["description"], numbers_as_sent(numbers_value), result
    )


def _group_ref(fields: Fields, *, by_name: bool) -> GroupRef | None:
    """The group the request names, None if it names none; GroupNotFound if unusable."""
    if by_name and fields.get(GROUP_NAME_FIELD) is not None:
        name = fields[GROUP_NAME_FIELD]
        if isinstance(name, int) and not isinstance(name, bool):
            name = str(name)
        if not isinstance(name, str):
            raise GroupNotFound
        return GroupByName(name)
    raw_id = first_present(fields, ID_FIELDS)
    if raw_id is None:
        return None
    group_id = parse_group_id(raw_id)
    if group_id is None:
        raise GroupNotFound
    return GroupById(group_id)


def _group_keys(by_name: bool) -> tuple[str, ...]:
    return (GROUP_NAME_FIELD, *ID_FIELDS) if by_name else ID_FIELDS


def add(service: Service, actor: Actor, fields: Fields, *, by_name: bool = False) -> Response:
    """Add numbers to the group named by id (or, with ``by_name``, by ``groupName``)."""
    require(fields, _group_keys(by_name), NUMBERS_FIELDS)
    check = _check(service, actor)
    numbers_value = first_present(fields, NUMBERS_FIELDS)
    numbers = check.numbers(numbers_value)
    expires_at = check.expiry(fields.get("expiryDate"))
    check.done()
    group_ref = _group_ref(fields, by_name=by_name)
    if group_ref is None:
        raise GroupNotFound
    result = service.add_numbers(actor, group_ref, numbers, expires_at)
    return wire.updated(numbers_as_sent(numbers_value), result)


def remove(
    service: Service,
    actor: Actor,
    fields: Fields,
    *,
    by_name: bool = False,
    group_optional: bool = False,
) -> Response:
    """Remove numbers from the named group; with ``group_optional``, from every group when
    the request names none."""
    required = (NUMBERS_FIELDS,) if group_optional else (_group_keys(by_name), NUMBERS_FIELDS)
    require(fields, *required)
    check = _check(service, actor)
    numbers_value = first_present(fields, NUMBERS_FIELDS)
    numbers = check.numbers(numbers_value)
    check.done()
    group_ref = _group_ref(fields, by_name=by_name)
    if group_ref is None and not group_optional:
        raise GroupNotFound
    result = service.remove_numbers(actor, group_ref, numbers)
    return wire.deleted(numbers_as_sent(numbers_value), result)
