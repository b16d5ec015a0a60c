"""The accreditor query form (a query or a reply)."""

from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ..forms_common import Form


class MessageForm(Form):
    body = TextAreaField(
        "Your message",
        validators=[DataRequired("Write the message."), Length(max=5000)],
        description="Plain text. Never include case details about named children.",
    )
