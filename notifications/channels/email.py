"""E-mail over SMTP, plain text with an HTML alternative."""

from __future__ import annotations

import html
import smtplib
from email.message import EmailMessage

from . import Message, PermanentError, TransientError


class SmtpChannel:
    name = "email"

    def __init__(self, host: str, port: int, sender: str, user: str | None = None,
                 password: str = "") -> None:  # fmt: skip
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password = user, password

    def send(self, message: Message) -> None:
        mail = EmailMessage()
        mail["From"], mail["To"] = self.sender, message.to
        mail["Subject"] = message.subject or "文明直通车工单通知"
        mail["Message-ID"] = f"<outbox-{message.key}@hotline>"  # lets mail systems dedupe
        mail.set_content(message.text)
        mail.add_alternative(f"<p>{html.escape(message.text)}</p>", subtype="html")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
                if self.user:
                    smtp.starttls()
                    smtp.login(self.user, self.password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentError(f"收件人被拒绝：{exc}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
