"""The form for a school's own library resource."""

from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms_common import Form, strip


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _safe_url(form, field):
    value = (field.data or "").strip()
    if value and not value.lower().startswith(("https://", "http://")):
        raise ValidationError("Give a full web address starting with https:// (or http://).")


class ResourceForm(Form):
    """A school's own document or link. `section_choices` come from the library's sections."""

    title = StringField(
        "Title", filters=[strip], validators=[DataRequired("Give the resource a title."), Length(max=300)]
    )
    url = StringField(
        "Link",
        filters=[strip],
        validators=[Optional(), Length(max=1000), _safe_url],
        description="Where the document lives, e.g. your policy on the school's intranet.",
        render_kw={"inputmode": "url", "placeholder": "https://"},
    )
    publishers = StringField(
        "Publisher",
        filters=[strip],
        validators=[Length(max=300)],
        description="Who wrote it, e.g. your school or your local authority.",
    )
    published = StringField(
        "Date",
        filters=[strip],
        validators=[
            Optional(),
            Regexp(r"^\d{4}(-\d{2}(-\d{2})?)?$", message="Write the date as YYYY, YYYY-MM or YYYY-MM-DD."),
        ],
        description="YYYY, YYYY-MM or YYYY-MM-DD.",
    )
    summary = TextAreaField(
        "Summary",
        filters=[strip],
        validators=[Length(max=2000)],
        description="What it is and when to use it. No case details about named children.",
    )
    sections = CheckboxList("Sections", validators=[DataRequired("Choose at least one section.")])
    tags = StringField(
        "Tags",
        filters=[strip],
        validators=[Length(max=500)],
        description="Separate tags with commas, e.g. Child Protection, Reporting.",
    )

    def __init__(self, *args, section_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.sections.choices = list(section_choices)

    def tag_list(self):
        return sorted({t.strip()[:100] for t in (self.tags.data or "").split(",") if t.strip()})
