"""Tracking's error for a change that cannot be made (TrackingError)."""

from ..transactions import DomainError


class TrackingError(DomainError):
    """A change that cannot be made; the message is for the user."""
