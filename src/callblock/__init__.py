"""callblock: a block-number service for contact centres.

The Python SDK is importable from here: ``from callblock import Client, AsyncClient``.
It is imported on first use, so that the server and the CLI do not pay for an HTTP client
they do not use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from callblock._version import __version__

if TYPE_CHECKING:
    from callblock.client import (
        AsyncClient,
        AuthError,
        CallblockError,
        Client,
        Conflict,
        Forbidden,
        NotFound,
        RateLimited,
        ServerError,
        TransportError,
        ValidationError,
    )

__all__ = [
    "AsyncClient",
    "AuthError",
    "CallblockError",
    "Client",
    "Conflict",
    "Forbidden",
    "NotFound",
    "RateLimited",
    "ServerError",
    "TransportError",
    "ValidationError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("callblock.client"), name)
    raise AttributeError(f"module 'callblock' has no attribute {name!r}")
