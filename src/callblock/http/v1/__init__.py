"""The native REST API, `/v1`: a thin skin over the service layer, one module per resource.

Each route parses its request shape (pydantic, plus the domain's own rules), calls the
service, and renders its answer shape; errors are rendered once, in ``http.problems``.
What the resources share (authentication, paging, cursors) is in ``common``.
"""

from __future__ import annotations

from fastapi import APIRouter

from callblock.http.v1 import account, audit, checks, files, groups, numbers, rules

# Each resource's router carries the `/v1` prefix itself (see ``common.PREFIX``).
router = APIRouter()
# In this order: the OpenAPI document lists the paths as they are included.
for resource in (groups, numbers, checks, audit, account, files, rules):
    router.include_router(resource.router)

__all__ = ["router"]
