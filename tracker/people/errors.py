"""The people register's error for a change that cannot be made (PeopleError)."""

from ..transactions import DomainError


class PeopleError(DomainError):
    """A change that cannot be made; the message is for the user."""
