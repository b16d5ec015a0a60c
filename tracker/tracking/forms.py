from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms_common import strip
from .models import ANSWER_STATUS_LABELS, ANSWER_STATUSES, STATUS_LABELS, STATUSES

NOTES_HINT = "Working notes for the team. Do not record disclosures or case details about named children here."


class ItemForm(FlaskForm):
    version = HiddenField(validators=[InputRequired()])
    status = SelectField("Status", choices=[(s, STATUS_LABELS[s]) for s in STATUSES])
    na_reason = TextAreaField("Why it does not apply", filters=[strip], validators=[Length(max=2000)],
                              description="Needed when the status is Not applicable.")
    completed_on = DateField("Completed on", validators=[Optional()],
                             description="Leave empty for today when you mark it done.")
    owner = SelectField("Owner", choices=[], validate_choice=True)
    due_on = DateField("Due date", validators=[Optional()])
    notes = TextAreaField("Notes", filters=[strip], validators=[Length(max=10000)], description=NOTES_HINT)

    def __init__(self, *args, owner_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner.choices = [("", "Nobody yet")] + list(owner_choices)


class AnswerForm(FlaskForm):
    version = HiddenField(validators=[InputRequired()])
    answer = TextAreaField("Your school's answer", filters=[strip], validators=[Length(max=20000)],
                           description="Describe what is in place, where it is written down and who is responsible.")
    answer_status = SelectField("Where the school stands",
                                choices=[(s, ANSWER_STATUS_LABELS[s]) for s in ANSWER_STATUSES])
    review_on = DateField("Review by", validators=[Optional()])


class CommentForm(FlaskForm):
    body = TextAreaField("Add a comment", filters=[strip],
                         validators=[DataRequired("Write something first."), Length(max=5000)],
                         description="Comments are kept with the item's history. No case details.")


class StartYearForm(FlaskForm):
    start_year = IntegerField("Calendar year in which the school year starts",
                              validators=[InputRequired("Give a year."), NumberRange(2000, 2100, "Give a year such as 2026.")])


class OwnItemForm(FlaskForm):
    title = StringField("What needs doing", filters=[strip],
                        validators=[DataRequired("Say what needs doing."), Length(max=300)])
    due_on = DateField("Due date", validators=[InputRequired("Give a due date.")])
    owner = SelectField("Owner", choices=[])
    notes = TextAreaField("Notes", filters=[strip], validators=[Length(max=10000)], description=NOTES_HINT)

    def __init__(self, *args, owner_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner.choices = [("", "Nobody yet")] + list(owner_choices)
