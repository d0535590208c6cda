"""`/v1/limits`: what a request may hold, from ``callblock.rules``, for clients that check a
form before sending it (the admin page)."""

from __future__ import annotations

from fastapi import APIRouter

from callblock.http import schemas
from callblock.http.v1.common import PREFIX

router = APIRouter(prefix=PREFIX)


# No credentials: the limits are the same for every account, and the OpenAPI document,
# public too, states them already.
@router.get(
    "/limits",
    operation_id="getLimits",
    summary="What a request may hold",
    response_model=schemas.LimitsPublic,
)
def get_limits() -> schemas.LimitsPublic:
    return schemas.LIMITS
