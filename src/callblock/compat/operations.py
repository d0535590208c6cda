"""The three compat operations (create, add, remove) over the service layer.

Shared by every compat endpoint generation; each endpoint module only decides how the caller
is authenticated and how the group is named. These run in a worker thread (they call the
synchronous service).
"""

from __future__ import annotations

from starlette.responses import Response

from callblock.compat import wire
from callblock.compat.body import Fields
from callblock.compat.fields import (
    ID_FIELDS,
    NUMBERS_FIELDS,
    FieldCheck,
    first_present,
    numbers_as_sent,
    parse_group_id,
    require,
)
from callblock.domain import Actor, GroupNotFound
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


def add_by_id(service: Service, actor: Actor, fields: Fields) -> Response:
    require(fields, ID_FIELDS, NUMBERS_FIELDS)
    check = _check(service, actor)
    numbers_value = first_present(fields, NUMBERS_FIELDS)
    numbers = check.numbers(numbers_value)
    expires_at = check.expiry(fields.get("expiryDate"))
    check.done()
    group_id = parse_group_id(first_present(fields, ID_FIELDS))
    if group_id is None:
        raise GroupNotFound
    result = service.add_numbers(actor, group_id, numbers, expires_at)
    return wire.updated(numbers_as_sent(numbers_value), result)


def remove_by_id(service: Service, actor: Actor, fields: Fields) -> Response:
    require(fields, ID_FIELDS, NUMBERS_FIELDS)
    check = _check(service, actor)
    numbers_value = first_present(fields, NUMBERS_FIELDS)
    numbers = check.numbers(numbers_value)
    check.done()
    group_id = parse_group_id(first_present(fields, ID_FIELDS))
    if group_id is None:
        raise GroupNotFound
    result = service.remove_numbers(actor, group_id, numbers)
    return wire.deleted(numbers_as_sent(numbers_value), result)
