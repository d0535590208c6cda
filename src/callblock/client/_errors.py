"""The SDK's exceptions, documented here once.

Every error answer of the API, and every failure to get an answer, raises a subclass of
:class:`CallblockError`. The class follows the HTTP status, whether or not the body is an
``application/problem+json`` document (a proxy's HTML 502 is still a :class:`ServerError`)::

    CallblockError          any error answer; .status .title .detail .errors .type
    ├── AuthError           401: no API key (.type ends authentication-required), or
    │                       one refused: wrong, revoked, of another username
    │                       (credentials-refused); .detail says which
    ├── Forbidden           403: the key is valid but lacks the scope the request needs;
    │                       .needed_scope names it (check, read, write or admin)
    ├── NotFound            404: no such group, campaign or API key (another account's
    │                       are not found)
    ├── Conflict            409: the account has a group or campaign of that name
    │   │                   (case-insensitive)
    │   └── TooManyRemovals a replace import that would remove more than max_removal of
    │                       its group; .removing .present .max_removal
    ├── ValidationError     400 malformed JSON, 413 body too large, 422 invalid input;
    │                       .errors maps each invalid field (dotted path) to its problem
    │   └── InvalidLines    an import refused for its invalid lines (nothing written);
    │                       .invalid_lines (the first 10,000) and .total
    ├── RateLimited         429: .retry_after is the Retry-After header in seconds, or None
    ├── ServerError         500-599: internal error, database unavailable (503)...
    ├── TransportError      no answer at all: connection refused, timeout, broken
    │                       connection; .status is None, __cause__ is the httpx error
    └── ChangesReset        a change feed token older than the change log keeps: no
                            change can follow it; .token is where to start over from

A subclass under a status class is raised for one problem type of that status (the
``type`` URN), read from the problem's own fields; whatever catches the status class catches
it too. Any other error status (405, 415...) and a success answer the SDK cannot read raise
:class:`CallblockError` itself. ``.type`` is the problem's type URN (for instance
``urn:callblock:problem:name-taken``) or None when the body is not a problem document;
``.errors`` is a dict, empty when the answer names no field.

Arguments the SDK can refuse without asking the API raise ``TypeError`` or ``ValueError``
before anything is sent: a naive datetime, a single string where a list of numbers (or of
a key's scopes) is expected, a group or key id that is not an int, an empty number to check,
a key with no scope.

Reading an error answer into one of these (which status raises which class) is
``_parse.error_answer``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from callblock.client._models import InvalidLine

__all__ = [
    "AuthError",
    "CallblockError",
    "ChangesReset",
    "Conflict",
    "Forbidden",
    "InvalidLines",
    "NotFound",
    "RateLimited",
    "ServerError",
    "TooManyRemovals",
    "TransportError",
    "ValidationError",
]


class CallblockError(Exception):
    """Base of every SDK error; see this module's docstring for the tree.

    ``status`` is the HTTP status (None when no answer came), ``title`` and ``detail`` the
    problem's text, ``errors`` what is wrong with each named field, ``type`` the problem's
    type URN (None when the body was not a problem document).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str = "",
        detail: str = "",
        errors: Mapping[str, str] | None = None,
        type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status: int | None = status
        self.title: str = title
        self.detail: str = detail
        self.errors: dict[str, str] = dict(errors or {})
        self.type: str | None = type

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the attributes across pickling (multiprocessing, task queues).
        return (self.__class__, self.args, self.__dict__)


class AuthError(CallblockError):
    """401: no API key was sent (``type`` ``urn:callblock:problem:authentication-required``),
    or the one sent was refused: wrong, revoked, or not a key of the username given
    (``urn:callblock:problem:credentials-refused``)."""


class Forbidden(CallblockError):
    """403: the API key is valid, but its scopes do not allow the request; ``needed_scope``
    is the scope it needs (``check``, ``read``, ``write`` or ``admin``), None when the answer
    does not say. An ``admin`` key issues keys with more scopes (``keys.create``)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str = "",
        detail: str = "",
        errors: Mapping[str, str] | None = None,
        type: str | None = None,
        needed_scope: str | None = None,
    ) -> None:
        super().__init__(
            message, status=status, title=title, detail=detail, errors=errors, type=type
        )
        self.needed_scope: str | None = needed_scope


class NotFound(CallblockError):
    """404: no such group, campaign or API key for this account, or no such route."""


class Conflict(CallblockError):
    """409: the account already has a group of that name (names ignore case), or a replace
    import was refused (:class:`TooManyRemovals`)."""


class ValidationError(CallblockError):
    """400, 413 or 422: the request was refused as it stands; ``errors`` names the fields."""


class TooManyRemovals(Conflict):
    """409 ``too-many-removals``: a replace import would remove ``removing`` of the group's
    ``present`` entries, a larger share than ``max_removal``; nothing was written. Check the
    file is whole (a truncated download must not wipe a registry), or import again with a
    higher ``max_removal`` (1 allows any replace)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str = "",
        detail: str = "",
        errors: Mapping[str, str] | None = None,
        type: str | None = None,
        removing: int = 0,
        present: int = 0,
        max_removal: float = 0.0,
    ) -> None:
        super().__init__(
            message, status=status, title=title, detail=detail, errors=errors, type=type
        )
        self.removing: int = removing
        self.present: int = present
        self.max_removal: float = max_removal


class InvalidLines(ValidationError):
    """422 ``invalid-lines``: the imported file has lines that are not numbers (or, in a
    change list, operations); nothing was written. ``invalid_lines`` lists the first of them
    (the API lists 10,000 at most), ``total`` counts them all. ``skip_invalid=True`` imports
    the others."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str = "",
        detail: str = "",
        errors: Mapping[str, str] | None = None,
        type: str | None = None,
        invalid_lines: Sequence[InvalidLine] = (),
        total: int | None = None,
    ) -> None:
        super().__init__(
            message, status=status, title=title, detail=detail, errors=errors, type=type
        )
        self.invalid_lines: tuple[InvalidLine, ...] = tuple(invalid_lines)
        self.total: int = len(self.invalid_lines) if total is None else total


class RateLimited(CallblockError):
    """429: too many requests; ``retry_after`` is how many seconds to wait, when known."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str = "",
        detail: str = "",
        errors: Mapping[str, str] | None = None,
        type: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message, status=status, title=title, detail=detail, errors=errors, type=type
        )
        self.retry_after: float | None = retry_after


class ServerError(CallblockError):
    """5xx: the service failed or is unavailable; trying again later may succeed."""


class TransportError(CallblockError):
    """No answer: the connection failed, timed out or broke. ``__cause__`` is httpx's error."""


class ChangesReset(CallblockError):
    """The change feed cannot go on from the token given: the changes after it are older than
    the change log keeps. Start over: keep ``token`` (the account's version now), copy the
    groups afresh, then follow the feed from ``token``. Not an error answer (the API answers
    200 with ``"reset": true``), raised so that a loop over the changes cannot miss it."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str = "",
        detail: str = "",
        errors: Mapping[str, str] | None = None,
        type: str | None = None,
        token: str = "",
    ) -> None:
        super().__init__(
            message, status=status, title=title, detail=detail, errors=errors, type=type
        )
        self.token: str = token


# Errors show in tracebacks and pickle as ``callblock.client.NotFound``..., the names users
# catch, whichever private module defines them (httpx does the same for its public classes).
for _error in (
    CallblockError,
    AuthError,
    Forbidden,
    NotFound,
    Conflict,
    ValidationError,
    RateLimited,
    ServerError,
    TransportError,
    ChangesReset,
    TooManyRemovals,
    InvalidLines,
):
    _error.__module__ = "callblock.client"
del _error
