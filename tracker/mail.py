"""Outgoing links (invitations, password resets). Until the outbox exists they are written to the log."""
from flask import current_app


def deliver_link(to: str, subject: str, url: str) -> None:
    """Send `url` to `to`; for now the log is the delivery channel."""
    current_app.logger.warning("E-mail to %s: %s: %s", to, subject, url)
