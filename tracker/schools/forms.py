"""School forms: invitations, roles, settings and a new school."""

import zoneinfo
from calendar import month_name

from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ..forms_common import Form, email_field, strip
from ..tenancy import ACCREDITOR, LEAD, ROLE_LABELS, ROLES
from ..validation import DatePolicy

ROLE_CHOICES = [(r, ROLE_LABELS[r]) for r in ROLES]
MONTH_CHOICES = [(i, month_name[i]) for i in range(1, 13)]
TIMEZONE_CHOICES = sorted(zoneinfo.available_timezones())


class AccessUntilMixin:
    access_until = DateField(
        "Access ends on",
        validators=[Optional(), DatePolicy("access")],
        description="Required for accreditors: their access stops after this day. Optional for others.",
    )

    def __init__(self, *args, lead_allowed=True, latest_end=None, **kwargs):
        """`lead_allowed`: offer the lead role (only a lead may give it). `latest_end`: the last end of access
        an accreditor may be given today, shown in the hint (the service enforces it)."""
        super().__init__(*args, **kwargs)
        if not lead_allowed:
            self.role.choices = [c for c in self.role.choices if c[0] != LEAD]
            self.role.invalid_choice_message = (
                "Choose one of the roles listed. Only a safeguarding lead can make someone a lead."
            )
        if latest_end is not None:
            self.access_until.description = (
                f"Required for accreditors: their access stops after this day, "
                f"at the latest {latest_end:%-d %B %Y}. Optional for others."
            )

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        # Checked here, not in validate_access_until: Optional() ends the field's checks when it is empty.
        if self.role.data == ACCREDITOR and self.access_until.data is None and not self.access_until.errors:
            self.access_until.errors.append("Give the last day of the accreditor's access.")
            return False
        return valid


class InviteForm(AccessUntilMixin, Form):
    email = email_field("E-mail address of the person to invite")
    role = SelectField("Role", choices=ROLE_CHOICES, default="staff")


class RoleForm(AccessUntilMixin, Form):
    role = SelectField("Role", choices=ROLE_CHOICES)


class SchoolSettingsForm(Form):
    name = StringField(
        "School name", filters=[strip], validators=[DataRequired("Enter the school's name."), Length(max=200)]
    )
    country = StringField("Country", filters=[strip], validators=[Length(max=100)])
    timezone = SelectField(
        "Time zone",
        choices=TIMEZONE_CHOICES,
        default="UTC",
        description="Due dates and reminders follow the school's local time.",
    )
    year_start_month = SelectField("Academic year starts in", choices=MONTH_CHOICES, coerce=int, default=8)
    require_two_factor = BooleanField(
        "Require two-factor sign-in for leads, heads, HR and accreditors",
        default=True,
        description="They confirm each sign-in with a code from an authenticator app or a passkey; anyone "
        "without one is asked to set it up before they can open the school's pages. Staff are never asked.",
    )


class NewSchoolForm(SchoolSettingsForm):
    slug = StringField(
        "Web address",
        filters=[lambda v: v.strip().lower() if isinstance(v, str) else v],
        validators=[
            DataRequired("Choose a short web address."),
            Length(min=2, max=63),
            Regexp(
                r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$",
                message="Use lower-case letters, digits and dashes, e.g. riverside-intl.",
            ),
        ],
        description="Pages of the school live at /s/<address>/.",
    )
    lead_email = email_field("E-mail of the school's safeguarding lead")
