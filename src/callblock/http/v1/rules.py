"""`/v1/limits`: what a request may hold, from ``callblock.rules``, for clients that check a
form before sending it (the admin page)."""

from __future__ import annotations

from fastapi import APIRouter

from callblock.http import schemas
from callblock.http.v1 import examples
from callblock.http.v1.common import PREFIX

router = APIRouter(prefix=PREFIX, tags=["limits"])


# No credentials: the limits are the same for every account, and the OpenAPI document,
# public too, states them already.
@router.get(
    "/limits",
    operation_id="getLimits",
    summary="What a request may hold",
    description="Every limit the server enforces on a request, with the rule in words where "
    "it is more than a length: group names and descriptions, notes, numbers per add, remove "
    "and batch check, page sizes, filters. The same for every account, so no credentials are "
    "needed; a client (the admin page does) can say a limit before sending instead of "
    "learning it from a 422.",
    response_model=schemas.LimitsPublic,
    responses=examples.LIMITS,
)
def get_limits() -> schemas.LimitsPublic:
    return schemas.LIMITS
