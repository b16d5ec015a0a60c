"""Form pieces shared by every feature: trimmed strings, e-mail and password fields."""
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from .auth.passwords import MIN_LENGTH


def strip(value):
    return value.strip() if isinstance(value, str) else value


def lower_strip(value):
    return value.strip().lower() if isinstance(value, str) else value


def email_field(label="E-mail address"):
    return EmailField(
        label,
        filters=[lower_strip],
        validators=[DataRequired("Enter an e-mail address."), Email("Enter a valid e-mail address."),
                    Length(max=254)],
        render_kw={"autocomplete": "email"},
    )


def new_password_fields():
    """Return (password, confirm) fields for choosing a password."""
    password = PasswordField(
        "New password",
        validators=[DataRequired("Choose a password."),
                    Length(min=MIN_LENGTH, max=200, message=f"Use at least {MIN_LENGTH} characters.")],
        description=f"At least {MIN_LENGTH} characters. A short sentence is easy to remember and hard to guess.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired("Repeat the password."), EqualTo("password", "The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm
