"""Reminder forms; every one carries a CSRF token."""
from flask_wtf import FlaskForm
from wtforms import RadioField

from .models import FREQUENCIES, FREQUENCY_LABELS


class FrequencyForm(FlaskForm):
    frequency = RadioField("How often should reminder e-mails come?",
                           choices=[(f, FREQUENCY_LABELS[f]) for f in FREQUENCIES],
                           description="A digest is only sent when something of yours is coming up.")


class ConfirmForm(FlaskForm):
    """A button with nothing to fill in (new calendar link, revoke, retry)."""
