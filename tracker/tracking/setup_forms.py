"""Forms of the first-year setup: the year, the role holders, what already happened, whom to invite."""

from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, InputRequired, Length, Optional

from ..forms_common import Form, lower_strip, strip
from ..tenancy import ROLE_LABELS
from ..validation import DatePolicy
from .holders import HOLDER_LABELS
from .setup import INVITE_ROLES, PAST_ACTIONS


class SetupYearForm(Form):
    start_year = RadioField(
        "Which school year are you starting?", choices=[], validators=[InputRequired("Choose a year.")]
    )

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.start_year.choices = [(str(y.start_year), y.label) for y in years]


class RoleHoldersForm(Form):
    holder_lead = SelectField(HOLDER_LABELS["lead"], choices=[])
    holder_head = SelectField(HOLDER_LABELS["head"], choices=[])
    holder_hr = SelectField(HOLDER_LABELS["hr"], choices=[])
    reassign = BooleanField(
        "Also give each holder the open items of their role that have no owner yet "
        "(or that the previous holder has)"
    )

    def __init__(self, *args, member_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        for role in HOLDER_LABELS:
            self[f"holder_{role}"].choices = [("", "Nobody yet")] + list(member_choices)


class PastItemsForm(Form):
    items = SelectMultipleField("Items", choices=[], validators=[InputRequired("Select at least one item.")])
    action = RadioField(
        "What about the selected items?",
        choices=list(PAST_ACTIONS.items()),
        validators=[InputRequired("Choose what happened to the selected items.")],
    )
    done_on = DateField(
        "Done on",
        validators=[Optional(), DatePolicy("happened")],
        description="Leave empty to use each item's planned date.",
    )
    reason = TextAreaField(
        "Why they do not apply", filters=[strip], validators=[Length(max=2000)], render_kw={"rows": 2}
    )
    catch_up_on = DateField("Catch up by", validators=[Optional(), DatePolicy("due")])

    def __init__(self, *args, item_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.items.choices = [(str(i), str(i)) for i in item_ids]


class InviteRowForm(Form):
    class Meta:
        csrf = False

    email = StringField(
        "E-mail address",
        filters=[lower_strip],
        validators=[Optional(), Email("Enter a valid e-mail address."), Length(max=254)],
        render_kw={"autocomplete": "off", "inputmode": "email"},
    )
    #: checked by the service for the rows that have an address (an empty row's role does not matter)
    role = SelectField("Role", choices=[(r, ROLE_LABELS[r]) for r in INVITE_ROLES], validate_choice=False)


class InviteTeamForm(Form):
    invites = FieldList(FormField(InviteRowForm), min_entries=5, max_entries=30)
