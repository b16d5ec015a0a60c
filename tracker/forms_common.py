"""Form pieces shared by every feature: the `Form` base class, trimmed strings, e-mail and password fields.

Every form of the tracker derives from `Form` (tests/test_text_fields.py checks it):
- on a submission (POST ...) its values come from the request only: `obj=` and `data=` are ignored, so a
  text field the request leaves out is empty, a select left out is "Not a valid choice" (browsers always send
  one), never the stored object's value nor a silently chosen default;
- every one-line text field gets `SingleLine()` and every text area `MultiLine()` (tracker/validation.py).
"""

from flask import has_request_context, request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, Regexp

from .passwords import MIN_LENGTH, StrongPassword
from .validation import MultiLine, SingleLine

SUBMIT_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _text_check(field):
    """The text validator a field needs (None for passwords: hashed, never shown or sent anywhere)."""
    if isinstance(field, TextAreaField):
        return MultiLine
    if isinstance(field, StringField) and not isinstance(field, PasswordField):
        return SingleLine
    return None


def _single_choice(field):
    return isinstance(field, SelectField) and not isinstance(field, SelectMultipleField)


class Form(FlaskForm):
    """The base of every form: values from the request on submission, text checked for control characters."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            check = _text_check(field)
            if check is not None and not any(type(v) is check for v in field.validators):
                field.validators = [*field.validators, check()]
            return field

    def __init__(self, formdata=_Auto, obj=None, prefix="", data=None, meta=None, **kwargs):
        if formdata is _Auto and has_request_context() and request.method in SUBMIT_METHODS:
            names = {name for name, _ in self._unbound_fields}
            obj, data = None, None
            kwargs = {k: v for k, v in kwargs.items() if k not in names}
        super().__init__(formdata, obj=obj, prefix=prefix, data=data, meta=meta, **kwargs)

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        submitted = formdata is _Auto and has_request_context() and request.method in SUBMIT_METHODS
        formdata = self.meta.wrap_formdata(self, formdata)
        if formdata is None and submitted:
            formdata = ImmutableMultiDict()  # a submission with no fields at all is still a submission
        super().process(formdata, obj, data=data, extra_filters=extra_filters, **kwargs)
        if formdata is not None:
            for field in self:
                if isinstance(field, StringField) and field.data is None:
                    field.data = ""  # a text field the request left out is empty text, as a browser sends it
                elif _single_choice(field) and not field.raw_data:
                    field.data = None  # a browser always sends a select: left out is "Not a valid choice",
                    # never the field's declared default chosen silently (a missing time zone is not UTC)


def strip(value):
    return value.strip() if isinstance(value, str) else value


def lower_strip(value):
    return value.strip().lower() if isinstance(value, str) else value


def version_field():
    """The hidden version of the row a page shows (optimistic locking): a whole number, else it is stale."""
    return HiddenField(
        validators=[
            InputRequired("This page is out of date. Reload it and make the change again."),
            Regexp(r"^\d{1,9}$", message="This page is out of date. Reload it and make the change again."),
        ]
    )


def email_field(label="E-mail address"):
    return EmailField(
        label,
        filters=[lower_strip],
        validators=[
            DataRequired("Enter an e-mail address."),
            Email("Enter a valid e-mail address."),
            Length(max=254),
        ],
        render_kw={"autocomplete": "email"},
    )


def new_password_fields():
    """Return (password, confirm) fields for choosing a password."""
    password = PasswordField(
        "New password",
        validators=[
            DataRequired("Choose a password."),
            Length(min=MIN_LENGTH, max=200, message=f"Use at least {MIN_LENGTH} characters."),
            StrongPassword(),
        ],
        description=f"At least {MIN_LENGTH} characters, hard to guess, and not your name or e-mail address. "
        "A short sentence is easy to remember and hard to guess.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired("Repeat the password."), EqualTo("password", "The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm
