"""The evidence form: files or a link, and the date the evidence applies to."""

from wtforms import DateField, MultipleFileField, StringField
from wtforms.validators import Length, Optional, ValidationError

from ..forms_common import Form, strip
from ..validation import DatePolicy


class EvidenceForm(Form):
    files = MultipleFileField("Files")
    url = StringField(
        "Or a link",
        filters=[strip],
        validators=[Optional(), Length(max=1000)],
        render_kw={"inputmode": "url", "placeholder": "https://"},
    )
    link_title = StringField("Title of the link", filters=[strip], validators=[Length(max=300)])
    applies_on = DateField(
        "Date the evidence applies to",
        validators=[Optional(), DatePolicy("happened")],
        description="For example the day of the training or the date the board approved the policy.",
    )

    def validate_url(self, field):
        if field.data and not field.data.lower().startswith(("https://", "http://")):
            raise ValidationError("Give a full web address starting with https:// (or http://).")

    def chosen_files(self):
        return [f for f in (self.files.data or []) if getattr(f, "filename", "")]
