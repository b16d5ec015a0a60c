"""Delivery of one-time links (invitations, password resets): they are written to the application log.

They do not go through the e-mail outbox (tracker/reminders/outbox.py), which carries the digests and the
anchor e-mail; whoever runs the installation passes them on. An invitation link is also shown to the person
who sent it.
"""

from flask import current_app


def deliver_link(to: str, subject: str, url: str) -> None:
    """Deliver `url` to `to`: write it to the application log, at warning level."""
    current_app.logger.warning("E-mail to %s: %s: %s", to, subject, url)
