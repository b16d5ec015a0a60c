"""Retention forms: the school's periods, a hold (with its reason), lifting a hold, and erasing a person."""

from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..forms_common import Form, strip
from .models import RECORD_TYPES
from .rules import KINDS


class RulesForm(Form):
    """One whole number of months per kind of record (the limits are checked by the service: a clear 400)."""


for _key, _kind in KINDS.items():
    setattr(
        RulesForm,
        _key,
        IntegerField(
            f"{_kind.title} (months)",
            validators=[
                InputRequired(f"{_kind.title}: give a number of months."),
                NumberRange(min=0, max=1200, message="Give a whole number of months."),
            ],
            description=f"Counted from {_kind.counted_from}.",
        ),
    )


class HoldForm(Form):
    record_type = SelectField("Record", choices=[(t, t) for t in RECORD_TYPES])
    record_id = HiddenField(validators=[DataRequired("Choose the record to hold.")])
    reason = StringField(
        "Reason for the hold",
        filters=[strip],
        validators=[DataRequired("Give the reason for the hold."), Length(max=500)],
        description="e.g. an allegation under investigation, a legal request.",
    )


class ButtonForm(Form):
    """A button that carries only its CSRF token."""


class EraseForm(Form):
    confirm_name = StringField(
        "Type the person's name to confirm",
        filters=[strip],
        validators=[DataRequired("Type the person's name to confirm.")],
    )
    reason = TextAreaField(
        "Reason",
        filters=[strip],
        validators=[DataRequired("Give the reason for the erasure."), Length(max=500)],
        description="e.g. the erasure request it answers and when it was received.",
    )
