"""Read-and-sign forms: publish a document, publish a new version, enter a sign sheet; the acknowledge and
withdraw buttons carry only their CSRF token."""

from flask_wtf.file import FileField
from wtforms import DateField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms_common import Form, strip
from ..people.models import CATEGORIES, CATEGORY_LABELS
from ..tenancy import HEAD, HR, LEAD, ROLE_LABELS, STAFF
from ..validation import DatePolicy
from .models import DEFAULT_BUTTON, KIND_LABELS, KINDS

CONTENT_HINT = "Upload the document (PDF, Word ...), or paste its text below: one or the other."


def _label_field():
    return StringField(
        "Version label",
        filters=[strip],
        validators=[DataRequired("Give the version a label, e.g. v3 or September 2026."), Length(max=60)],
        description="How people will recognise this version, e.g. v3 or September 2026.",
    )


def _deadline_field():
    return DateField(
        "Read and sign by",
        validators=[InputRequired("Give the date by which everyone should have signed."), DatePolicy("due")],
        description="New starters get 14 days from their start date when that is later.",
    )


class PublishForm(Form):
    title = StringField(
        "Title",
        filters=[strip],
        validators=[DataRequired("Give the document a title."), Length(max=200)],
        description="e.g. Child protection policy",
    )
    kind = SelectField("Kind of document", choices=[(k, KIND_LABELS[k]) for k in KINDS])
    roles = SelectMultipleField(
        "Members who must read it",
        choices=[(r, ROLE_LABELS[r]) for r in (LEAD, HEAD, HR, STAFF)],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    categories = SelectMultipleField(
        "People on the register who must read it",
        choices=[(c, CATEGORY_LABELS[c]) for c in CATEGORIES],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    label = _label_field()
    file = FileField("The document (file)")
    body = TextAreaField("Or the text of the document", filters=[strip], validators=[Length(max=200_000)])
    deadline = _deadline_field()
    button_text = StringField(
        "Button text",
        filters=[strip],
        default=DEFAULT_BUTTON,
        validators=[Optional(), Length(max=120)],
        description="What the reader presses to acknowledge it.",
    )


class VersionForm(Form):
    label = _label_field()
    material = RadioField(
        "Is the change material?",
        choices=[
            ("material", "Material: everyone must read and sign again"),
            ("minor", "Minor (wording, typos, layout): signatures already given still count"),
        ],
        validators=[InputRequired("Say whether the change is material.")],
    )
    change_note = TextAreaField(
        "What changed", filters=[strip], validators=[Length(max=2000)], description="Shown to the readers."
    )
    file = FileField("The new version (file)")
    body = TextAreaField("Or its text", filters=[strip], validators=[Length(max=200_000)])
    deadline = _deadline_field()


class SheetForm(Form):
    people = SelectMultipleField(
        "Who signed",
        choices=[],
        validators=[DataRequired("Choose who signed the sheet.")],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    signed_on = DateField(
        "Date on the sheet",
        validators=[InputRequired("Give the date they signed."), DatePolicy("happened")],
    )


class ButtonForm(Form):
    """A button that changes something: only the CSRF token."""
