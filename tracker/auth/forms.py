"""Sign-in, password and profile forms (on tracker.forms_common.Form)."""

from flask import current_app
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..forms_common import Form, email_field, new_password_fields, strip


class LoginForm(Form):
    email = email_field()
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password.")],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField("Keep me signed in on this device")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        days = current_app.config["REMEMBER_COOKIE_DURATION"].days  # follows TRACKER_SESSION_MAX_DAYS
        self.remember.label.text = f"Keep me signed in on this device for {days} days"


class ForgotPasswordForm(Form):
    email = email_field()


class ResetPasswordForm(Form):
    password, confirm = new_password_fields()


class AcceptInvitationForm(Form):
    name = StringField(
        "Your name",
        filters=[strip],
        validators=[DataRequired("Enter your name."), Length(max=200)],
        render_kw={"autocomplete": "name"},
    )
    password, confirm = new_password_fields()


class ProfileForm(Form):
    name = StringField(
        "Your name",
        filters=[strip],
        validators=[DataRequired("Enter your name."), Length(max=200)],
        render_kw={"autocomplete": "name"},
    )


class ChangePasswordForm(Form):
    current = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password.")],
        render_kw={"autocomplete": "current-password"},
    )
    password, confirm = new_password_fields()
