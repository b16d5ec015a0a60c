"""Register forms: a person, a recruitment check, a risk assessment, a register import."""

from flask_wtf.file import FileField
from wtforms import (
    DateField,
    HiddenField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms_common import Form, strip, version_field
from ..validation import DatePolicy
from . import countries
from .models import (
    CATEGORIES,
    CATEGORY_LABELS,
    CHECK_STATUS_LABELS,
    CHECK_STATUSES,
    DOCUMENT_TYPE_LABELS,
    DOCUMENT_TYPES,
    GROUP_LABELS,
    GROUPS,
    LEAVE_REASON_LABELS,
    LEAVE_REASONS,
)

NOTES_HINT = "Only what the check needs: dates, references, who saw the document. No case details."


class PersonForm(Form):
    full_name = StringField(
        "Full name", filters=[strip], validators=[DataRequired("Enter the person's name."), Length(max=200)]
    )
    email = StringField(
        "E-mail address",
        filters=[lambda v: v.strip().lower() if isinstance(v, str) else v],
        validators=[Optional(), Length(max=254)],
        description="Optional. Used to match re-imports and to let them see their own record.",
    )
    category = SelectField("Works as", choices=[(c, CATEGORY_LABELS[c]) for c in CATEGORIES])
    groups = SelectMultipleField(
        "Also part of",
        choices=[(g, GROUP_LABELS[g]) for g in GROUPS],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    start_on = DateField(
        "Start date", validators=[InputRequired("Give the start date."), DatePolicy("start")]
    )
    leave_on = DateField("Leaving date", validators=[Optional(), DatePolicy("leave")])
    countries = StringField(
        "Countries lived or worked in",
        filters=[strip],
        validators=[Length(max=1000)],
        description="Separate with commas, e.g. Thailand, United Kingdom, Kenya. "
        "One police check is added for each.",
    )

    def validate_countries(self, field):
        _, unknown = countries.parse_list(field.data)
        if unknown:
            hints = [
                f"{name}: did you mean {hint}?"
                for name, hint in zip(unknown, map(countries.suggestion, unknown), strict=True)
                if hint
            ]
            raise ValidationError(
                f"Not a country we know: {', '.join(unknown)}"
                + (f" ({'; '.join(hints)})" if hints else "")
                + ". Use the country's name in English or its own language, or its two-letter code."
            )

    def validate_email(self, field):
        if field.data and ("@" not in field.data or " " in field.data):
            raise ValidationError("Enter a valid e-mail address.")

    def validate_leave_on(self, field):
        if field.data and self.start_on.data and field.data < self.start_on.data:
            raise ValidationError("The leaving date is before the start date.")

    def country_list(self):
        return countries.parse_list(self.countries.data)[0]


class CheckForm(Form):
    version = version_field()
    check_status = SelectField("Stage", choices=[(s, CHECK_STATUS_LABELS[s]) for s in CHECK_STATUSES])
    verified_on = DateField(
        "Verified on", validators=[Optional(), DatePolicy("happened")], description="Empty means today."
    )
    expires_on = DateField(
        "Valid until",
        validators=[Optional(), DatePolicy("expiry")],
        description="If the document has an expiry date.",
    )
    na_reason = StringField("Why not required", filters=[strip], validators=[Length(max=500)])
    notes = TextAreaField("Notes", filters=[strip], validators=[Length(max=2000)], description=NOTES_HINT)


class CheckPageForm(CheckForm):
    """The one page of a check: its stage and dates, the document seen, evidence files, notes."""

    document_type = SelectField(
        "Document seen",
        default="",
        choices=[(d, DOCUMENT_TYPE_LABELS[d]) for d in DOCUMENT_TYPES],
        description="The kind of document you saw. Keep only its type and reference, never a copy.",
    )
    document_reference = StringField(
        "Document reference",
        filters=[strip],
        validators=[Length(max=200)],
        description="E.g. the certificate number, or the last four digits of a passport number.",
    )
    covers = StringField(
        "What it covers",
        filters=[strip],
        validators=[Length(max=500)],
        description="For an agency's written confirmation: the checks it confirms and their dates.",
    )
    files = MultipleFileField("Evidence files", description="Optional. Added to the check's evidence.")

    def validate_na_reason(self, field):
        if self.check_status.data == "not_required" and not field.data:
            raise ValidationError("Say why this check is not required for this person.")

    def chosen_files(self):
        return [f for f in (self.files.data or []) if getattr(f, "filename", "")]


class LeaveForm(Form):
    left_on = DateField(
        "Leaving date", validators=[InputRequired("Give the leaving date."), DatePolicy("leave")]
    )
    leave_reason = SelectField(
        "Reason",
        choices=[("", "Choose a reason")] + [(r, LEAVE_REASON_LABELS[r]) for r in LEAVE_REASONS],
        validators=[InputRequired("Choose why they left.")],
    )
    leave_note = StringField(
        "In words",
        filters=[strip],
        validators=[Length(max=500)],
        description="Required for “Other”. No case details.",
    )

    def validate_leave_reason(self, field):
        if field.data not in LEAVE_REASONS:
            raise ValidationError("Choose why they left from the list.")

    def validate_leave_note(self, field):
        if self.leave_reason.data == "other" and not field.data:
            raise ValidationError("Say why they left.")


class RiskAssessmentForm(Form):
    summary = TextAreaField(
        "Risk assessment",
        filters=[strip],
        validators=[DataRequired("Summarise the assessment."), Length(max=5000)],
        description="Why the check cannot be obtained, what was done instead (e.g. a statement "
        "from the former school) and the safeguards in place. Attach the signed "
        "document as evidence on the check.",
    )


class ImportForm(Form):
    file = FileField("Register file (.csv or .xlsx)")


class ConfirmImportForm(Form):
    payload = HiddenField(validators=[InputRequired()])
    skip_bad = HiddenField()
