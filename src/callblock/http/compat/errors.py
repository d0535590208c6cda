"""Errors that exist only on the compat surface: they concern its request shape."""

from __future__ import annotations


class CompatError(Exception):
    """Base of the compat surface's own request errors."""


class MethodNotAllowed(CompatError):
    pass


class InvalidBody(CompatError):
    """The body is not valid JSON, not an object, or not a decodable form."""


class BodyTooLarge(CompatError):
    pass


class MissingParameters(CompatError):
    """A required key is absent (or null)."""


class MissingUsername(CompatError):
    """Token generation without a ``userName``."""
