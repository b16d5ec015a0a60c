"""The forms of the training pages: recording or changing a session (its people picker is plain checkboxes,
templates/training/_people_picker.html), a member's own certificate, and verifying or rejecting one."""

from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional, ValidationError

from ..evidence.models import MAX_REASON_CHARS
from ..forms_common import Form, strip
from ..validation import DatePolicy


class PeopleField(SelectMultipleField):
    """The people who attended: ids of people the form offers (this school's register), nothing else."""

    def pre_validate(self, form):
        offered = {str(value) for value, _label in self.choices or []}
        if any(str(chosen) not in offered for chosen in self.data or []):
            raise ValidationError(
                "Someone chosen is not on this school's register any more. Reload the page and choose again."
            )


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
    people = PeopleField(
        "Who attended",
        choices=[],
        validators=[DataRequired("Choose who attended.")],
        description="Tick everyone who attended. Search by name, or tick a whole group at once.",
    )
    certificate = FileField("Certificate or attendance sheet (optional)")
    notes = TextAreaField("Notes", filters=[strip], validators=[Length(max=2000)])


class CertificateForm(Form):
    """A member's own training certificate: pending until HR or the safeguarding lead verifies it."""

    activity = SelectField("Training activity", choices=[])
    held_on = DateField(
        "Date of the training",
        validators=[InputRequired("Give the date of the training."), DatePolicy("happened")],
    )
    provider = StringField(
        "Provider",
        filters=[strip],
        validators=[Length(max=200)],
        description="Who delivered it, e.g. an external trainer or an online course.",
    )
    certificate = FileField("Certificate")


#: where a verification form sends the verifier back to: the "To verify" list, the item page or (evidence of a
#: recruitment check) the check's page
BACK_TO = ("list", "item", "check")


class ReviewForm(Form):
    """Verify an upload (nothing to fill in but where to go back to)."""

    back = HiddenField(validators=[Optional(), AnyOf(BACK_TO)])


class RejectForm(ReviewForm):
    reason = StringField(
        "Reason",
        filters=[strip],
        validators=[Length(max=MAX_REASON_CHARS)],
        description="The person who sent it sees this reason.",
    )
