"""Forms of the school year: an item, a policy answer, a comment, a new year, an own item."""

from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms_common import Form, strip, version_field
from ..validation import DatePolicy
from .models import ANSWER_STATUS_LABELS, ANSWER_STATUSES, STATUS_LABELS, STATUSES

NOTES_HINT = (
    "Working notes for the team. Do not record disclosures or case details about named children here."
)


class ItemForm(Form):
    version = version_field()
    status = SelectField("Status", choices=[(s, STATUS_LABELS[s]) for s in STATUSES])
    na_reason = TextAreaField(
        "Why it does not apply",
        filters=[strip],
        validators=[Length(max=2000)],
        description="Needed when the status is Not applicable.",
    )
    completed_on = DateField(
        "Completed on",
        validators=[Optional(), DatePolicy("happened")],
        description="Leave empty for today when you mark it done.",
    )
    owner = SelectField("Owner", choices=[], validate_choice=True)
    due_on = DateField("Due date", validators=[Optional(), DatePolicy("due")])
    notes = TextAreaField("Notes", filters=[strip], validators=[Length(max=10000)], description=NOTES_HINT)

    #: fields the item page shows only to leads and heads (templates/tracking/item.html)
    MANAGER_FIELDS = ("owner", "due_on")

    def __init__(self, *args, owner_choices=(), manage=False, **kwargs):
        """`manage`: the member is a lead or head. Otherwise the owner and due-date fields are removed from
        this form, so they are neither validated nor read from the request: a form checks only what its page
        shows."""
        super().__init__(*args, **kwargs)
        if manage:
            self.owner.choices = [("", "Nobody yet")] + list(owner_choices)
        else:
            for name in self.MANAGER_FIELDS:
                delattr(self, name)


class AnswerForm(Form):
    """A policy question's one form: the answer, where the school stands (the item's one status: "In place"
    marks it done), the review date and, for leads and heads, the owner and due date; notes for everyone."""

    version = version_field()
    answer = TextAreaField(
        "Your school's answer",
        filters=[strip],
        validators=[Length(max=20000)],
        description="Describe what is in place, where it is written down and who is responsible.",
        render_kw={"rows": 8, "data-autogrow": ""},
    )
    answer_status = SelectField(
        "Where the school stands",
        choices=[("", "Not assessed yet")] + [(s, ANSWER_STATUS_LABELS[s]) for s in ANSWER_STATUSES],
        description="In place marks the question done. Not applicable needs the answer to say why.",
    )
    review_on = DateField("Review by", validators=[Optional(), DatePolicy("due")])
    owner = SelectField("Owner", choices=[], validate_choice=True)
    due_on = DateField("Due date", validators=[Optional(), DatePolicy("due")])
    notes = TextAreaField("Notes", filters=[strip], validators=[Length(max=10000)], description=NOTES_HINT)

    MANAGER_FIELDS = ItemForm.MANAGER_FIELDS

    def __init__(self, *args, owner_choices=(), manage=False, **kwargs):
        """`manage` as for ItemForm: without it the owner and due-date fields are not part of the form."""
        super().__init__(*args, **kwargs)
        if manage:
            self.owner.choices = [("", "Nobody yet")] + list(owner_choices)
        else:
            for name in self.MANAGER_FIELDS:
                delattr(self, name)


class CommentForm(Form):
    body = TextAreaField(
        "Add a comment",
        filters=[strip],
        validators=[DataRequired("Write something first."), Length(max=5000)],
        description="Comments are kept with the item's history. No case details.",
    )


class StartYearForm(Form):
    start_year = IntegerField(
        "Calendar year in which the school year starts",
        validators=[InputRequired("Give a year."), NumberRange(2000, 2100, "Give a year such as 2026.")],
    )


class OwnItemForm(Form):
    title = StringField(
        "What needs doing",
        filters=[strip],
        validators=[DataRequired("Say what needs doing."), Length(max=300)],
    )
    due_on = DateField("Due date", validators=[InputRequired("Give a due date."), DatePolicy("due")])
    owner = SelectField("Owner", choices=[])
    notes = TextAreaField("Notes", filters=[strip], validators=[Length(max=10000)], description=NOTES_HINT)

    def __init__(self, *args, owner_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner.choices = [("", "Nobody yet")] + list(owner_choices)
