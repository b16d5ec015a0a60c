"""Reminder forms; every one carries a CSRF token."""

from wtforms import RadioField

from ..forms_common import Form
from .models import FREQUENCIES, FREQUENCY_LABELS


class FrequencyForm(Form):
    frequency = RadioField(
        "How often should reminder e-mails come?",
        choices=[(f, FREQUENCY_LABELS[f]) for f in FREQUENCIES],
        description="A digest is only sent when something of yours is coming up.",
    )


class ConfirmForm(Form):
    """A button with nothing to fill in (new calendar link, revoke, retry)."""
