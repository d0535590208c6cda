"""callblock: a block-number service for contact centres.

The Python SDK is importable from here: ``from callblock import Client, AsyncClient``.
"""

from callblock._version import __version__
from callblock.client import (
    AsyncClient,
    AuthError,
    CallblockError,
    Client,
    Conflict,
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
    "NotFound",
    "RateLimited",
    "ServerError",
    "TransportError",
    "ValidationError",
    "__version__",
]
