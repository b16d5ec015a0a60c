"""The form for recording or changing a training session."""

from flask_wtf.file import FileField
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from ..forms_common import Form, strip
from ..validation import DatePolicy


class SessionForm(Form):
    activity = SelectField("Training activity", choices=[])
    held_on = DateField(
        "Date", validators=[InputRequired("Give the date of the session."), DatePolicy("happened")]
    )
    provider = StringField(
        "Provider",
        filters=[strip],
        validators=[Length(max=200)],
        description="Who delivered it, e.g. the safeguarding lead or an external trainer.",
    )
    people = SelectMultipleField(
        "Who attended",
        choices=[],
        validators=[DataRequired("Choose who attended.")],
        description="Hold Ctrl (or Cmd) to choose several people.",
    )
    certificate = FileField("Certificate or attendance sheet (optional)")
    notes = TextAreaField("Notes", filters=[strip], validators=[Length(max=2000)])
