from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length


class MessageForm(FlaskForm):
    body = TextAreaField("Your message", validators=[DataRequired("Write the message."), Length(max=5000)],
                         description="Plain text. Never include case details about named children.")
