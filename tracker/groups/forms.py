"""Forms of the group pages: a group item to publish; the operator's new group, school and group role."""

from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Regexp

from ..forms_common import Form, email_field, strip
from ..group_access import GROUP_ROLE_LABELS, GROUP_ROLES
from ..tenancy import HEAD, HR, LEAD, ROLE_LABELS
from ..validation import DatePolicy

OWNER_ROLES = (LEAD, HEAD, HR)


class GroupItemForm(Form):
    title = StringField("Title", filters=[strip], validators=[DataRequired(), Length(max=300)])
    section_title = StringField(
        "Section",
        filters=[strip],
        default="Group items",
        validators=[DataRequired(), Length(max=200)],
        description="Where the item appears on each school's list, e.g. “Group items”.",
    )
    due_on = DateField(
        "Due date",
        validators=[InputRequired("Give the due date."), DatePolicy("due")],
        description="It must fall within each school's current year; a school whose year does not hold it is "
        "skipped and named.",
    )
    owner_role = SelectField(
        "Owned by the school's", choices=[(r, ROLE_LABELS[r]) for r in OWNER_ROLES], validate_choice=True
    )


class NewGroupForm(Form):
    name = StringField("Group name", filters=[strip], validators=[DataRequired(), Length(max=200)])
    slug = StringField(
        "Short name for the address",
        filters=[strip],
        validators=[
            DataRequired(),
            Length(min=2, max=63),
            Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$", message="Use lower-case letters, digits and dashes."),
        ],
        description="The group dashboard will be at /g/<short name>/.",
    )


class AddSchoolForm(Form):
    school = StringField(
        "School's short name",
        filters=[strip],
        validators=[DataRequired(), Length(max=63)],
        description="As in the school's address /s/<short name>/.",
    )


class GroupRoleForm(Form):
    email = email_field("E-mail address of the person (they must have an account)")
    role = SelectField(
        "Group role", choices=[(r, GROUP_ROLE_LABELS[r]) for r in GROUP_ROLES], validate_choice=True
    )
