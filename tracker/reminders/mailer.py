"""Delivery of one e-mail: over SMTP (TRACKER_SMTP_*) or, with no SMTP host set, into files (the default)."""

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from flask import current_app

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """Sending failed; `permanent` says whether trying again can help; `connection` that nothing can be
    sent."""

    def __init__(self, reason, permanent=False, connection=False):
        super().__init__(reason)
        self.reason, self.permanent, self.connection = reason, permanent, connection


def classify(exc) -> DeliveryError:
    """Map an SMTP or socket error to a delivery outcome: 5xx replies are permanent, the rest transient."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return DeliveryError(_reply(code, text), permanent=500 <= code < 600)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return DeliveryError(
            f"the SMTP server refused the sign-in ({_reply(exc.smtp_code, exc.smtp_error)}); "
            "check TRACKER_SMTP_USER and TRACKER_SMTP_PASSWORD",
            connection=True,
        )
    if isinstance(exc, smtplib.SMTPConnectError):
        return DeliveryError(
            f"the SMTP server refused the connection ({_reply(exc.smtp_code, exc.smtp_error)})",
            connection=True,
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return DeliveryError(_reply(exc.smtp_code, exc.smtp_error), permanent=500 <= exc.smtp_code < 600)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return DeliveryError(f"the SMTP server closed the connection ({exc})", connection=True)
    if isinstance(exc, (OSError, smtplib.SMTPException)):
        return DeliveryError(
            f"could not reach the SMTP server: {exc.__class__.__name__}: {exc}", connection=True
        )
    raise exc


def _reply(code, text):
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()


def build_email(message, sender) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = message.message_id
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    return email


@dataclass
class SMTPTransport:
    host: str
    port: int
    user: str
    password: str
    tls: str
    timeout: float
    conn: smtplib.SMTP | None = None

    def _connect(self):
        if self.tls == "ssl":
            conn = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.tls == "starttls":
                conn.starttls(context=ssl.create_default_context())
        if self.user:
            conn.login(self.user, self.password)
        self.conn = conn

    def send(self, email: EmailMessage):
        try:
            if self.conn is None:
                self._connect()
            self.conn.send_message(email)
        except Exception as exc:
            outcome = classify(exc)
            if outcome.connection:
                self.close()
            raise outcome from exc

    def close(self):
        if self.conn is not None:
            try:
                self.conn.quit()
            except Exception:  # already gone
                self.conn.close()
            self.conn = None


class FileTransport:
    """Writes each message as an .eml file and logs a line: the default when no SMTP server is set."""

    def __init__(self, folder):
        self.folder = Path(folder)

    def send(self, email: EmailMessage):
        self.folder.mkdir(parents=True, exist_ok=True)
        name = email["Message-ID"].strip("<>").replace("/", "_") + ".eml"
        (self.folder / name).write_bytes(bytes(email))
        log.warning("E-mail to %s: %s (saved to %s)", email["To"], email["Subject"], self.folder / name)

    def close(self):
        pass


def open_transport():
    """The transport the settings (tracker/config.py) describe: SMTP, or files when no SMTP host is set."""
    config = current_app.config
    host = config["TRACKER_SMTP_HOST"]
    if not host:
        return FileTransport(config["TRACKER_MAIL_DIR"])
    return SMTPTransport(
        host=host,
        port=int(config["TRACKER_SMTP_PORT"]),
        user=config["TRACKER_SMTP_USER"],
        password=config["TRACKER_SMTP_PASSWORD"],
        tls=str(config["TRACKER_SMTP_TLS"]).lower(),
        timeout=float(config["TRACKER_SMTP_TIMEOUT"]),
    )
