"""Two-factor forms: an authenticator code, a recovery code, a confirmation (code or password)."""

from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..forms_common import Form, strip

_CODE_ATTRS = {"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}


class AppCodeForm(Form):
    code = StringField(
        "6-digit code from your authenticator app",
        filters=[strip],
        validators=[DataRequired("Enter the 6-digit code your app shows now."), Length(max=20)],
        render_kw=_CODE_ATTRS,
    )


class RecoveryCodeForm(Form):
    code = StringField(
        "Recovery code",
        filters=[strip],
        validators=[DataRequired("Enter one of your recovery codes."), Length(max=40)],
        description="One of the ten codes you saved when you set up two-factor sign-in, like abcde-fghjk.",
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


class ConfirmForm(Form):
    """Confirming it's you: a code (authenticator app or recovery code) or, without a second factor, the
    password. The label is set by the view (step_up.confirmation_kind)."""

    secret = PasswordField(
        "Your password",
        validators=[DataRequired("Enter it to confirm it's you."), Length(max=200)],
    )

    def __init__(self, *args, kind="password", **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        field = self.secret
        if kind == "password":
            field.label.text = "Your password"
            field.description = ""
            field.render_kw = {"autocomplete": "current-password"}
            field.validators = [DataRequired("Enter your password to confirm it's you."), Length(max=200)]
        elif kind == "app-off":
            field.label.text = "Code from your authenticator app, or your password"
            field.description = ""
            field.render_kw = {"autocomplete": "off", "spellcheck": "false"}
            message = "Enter a code from your app, or your password."
            field.validators = [DataRequired(message), Length(max=200)]
        else:
            with_app = "Code from your authenticator app, or a recovery code"
            field.label.text = with_app if kind == "code" else "A recovery code"
            field.description = "The 6-digit code your app shows now, or one of your unused recovery codes."
            field.render_kw = {"autocomplete": "one-time-code", "spellcheck": "false"}
            field.validators = [DataRequired("Enter the code to confirm it's you."), Length(max=200)]
