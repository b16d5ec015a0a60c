from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..forms_common import email_field, new_password_fields, strip


class LoginForm(FlaskForm):
    email = email_field()
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField("Keep me signed in on this device for 14 days")


class ForgotPasswordForm(FlaskForm):
    email = email_field()


class ResetPasswordForm(FlaskForm):
    password, confirm = new_password_fields()


class AcceptInvitationForm(FlaskForm):
    name = StringField("Your name", filters=[strip],
                       validators=[DataRequired("Enter your name."), Length(max=200)],
                       render_kw={"autocomplete": "name"})
    password, confirm = new_password_fields()


class ProfileForm(FlaskForm):
    name = StringField("Your name", filters=[strip],
                       validators=[DataRequired("Enter your name."), Length(max=200)],
                       render_kw={"autocomplete": "name"})


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired("Enter your current password.")],
                            render_kw={"autocomplete": "current-password"})
    password, confirm = new_password_fields()
