"""Paths answered in a wire format of their own, instead of problem+json.

The shell answers some requests before any route does: a path no route matches (404), a
body that arrives too slowly (408). On the paths of a surface with a wire format of its own
(the compat endpoints), those answers must be in that format too. The surface describes its
format as a `WireFormat` and the app factory hands it to the shell, so that the shell's
middleware and error handlers import no surface, and each surface builds its own bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.responses import Response


@dataclass(frozen=True)
class WireFormat:
    prefixes: tuple[str, ...]
    """Every path under these is answered in this format, one that matches no route included."""
    not_found: Callable[[], Response]
    timed_out: Callable[[], Response]

    def owns(self, path: str) -> bool:
        return path.startswith(self.prefixes)


def owner(formats: tuple[WireFormat, ...], path: str) -> WireFormat | None:
    """The format that answers on this path, or None where problem+json does."""
    return next((f for f in formats if f.owns(path)), None)
