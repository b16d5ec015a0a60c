"""Forms for library documents: a school's own copy or translation, and the installation's copy."""

from wtforms import FileField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms_common import Form, strip
from ..library.vocabulary import LANGUAGES


def _web_address(form, field):
    if field.data and not field.data.lower().startswith(("https://", "http://")):
        raise ValidationError("Give a full web address starting with https:// (or http://).")


class _FileOrAddress(Form):
    file = FileField("File")
    url = StringField(
        "Or its web address",
        filters=[strip],
        validators=[Optional(), Length(max=1000), _web_address],
        render_kw={"inputmode": "url", "placeholder": "https://"},
    )

    def chosen_file(self):
        data = self.file.data
        return data if getattr(data, "filename", "") else None

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if ok and self.chosen_file() is None and not self.url.data:
            self.file.errors = [*self.file.errors, "Choose a file, or give the document's web address."]
            return False
        if ok and self.chosen_file() is not None and self.url.data:
            self.url.errors = [*self.url.errors, "Give a file or an address, not both."]
            return False
        return ok


class CopyForm(_FileOrAddress):
    """A school's own copy or translation of a resource."""

    label = StringField(
        "What it is",
        filters=[strip],
        validators=[DataRequired("Say what this copy is, e.g. “Thai translation”."), Length(max=200)],
        description="For example “Thai translation” or “Our annotated copy”.",
    )
    language = SelectField(
        "Language",
        choices=[("", "Not given")] + sorted(LANGUAGES.items(), key=lambda c: c[1]),
        validators=[Optional()],
    )


class InstallationCopyForm(_FileOrAddress):
    """The installation's copy of a shared resource: the publisher's document, or where it is published."""
