"""Email behind the `EmailSender` port, over SMTP with the standard library: STARTTLS, implicit
TLS or plain as the settings say, a login when credentials are given, one connection per
message. The message is multipart/alternative, plain text then HTML (the same template's two
renderings), with a Message-ID derived from the message's key, so a resent message is
recognisably the same one (and the key itself never leaves).

Errors: a recipient the server refuses with a 5xx reply is permanent, and so is a message it
refuses with one (too big, policy); 4xx replies, refused or dropped connections, timeouts, TLS
failures and a refused login (ours to fix, not the recipient's) are transient. The error text
holds the reply code only, never an address."""

from __future__ import annotations

import smtplib
import ssl
import uuid
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, parseaddr
from typing import Literal

from commands.ports import Accepted, DeliveryError, EmailMessage

Security = Literal["starttls", "tls", "plain"]
SECURITIES: tuple[Security, ...] = ("starttls", "tls", "plain")
DEFAULT_PORTS: dict[Security, int] = {"starttls": 587, "tls": 465, "plain": 25}
# Message-IDs are a UUIDv5 of the key in this namespace: stable per key, and not the key.
MESSAGE_IDS = uuid.UUID("5d3b8f0e-3c1a-4f7e-9a51-6c2f1e0b7d42")


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: Security
    sender: str  # the From address, `Slotwise <no-reply@clinic.example>` or a bare address
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0
    ca_file: str | None = None  # a private CA to trust besides the system's


class SmtpEmail:
    def __init__(self, server: SmtpServer) -> None:
        self._server = server
        self._tls = ssl.create_default_context(cafile=server.ca_file)
        self._from = _address(server.sender)

    def message_id(self, key: str) -> str:
        return f"<{uuid.uuid5(MESSAGE_IDS, key)}@{self._from.domain or 'slotwise.invalid'}>"

    def compose(self, message: EmailMessage) -> MimeMessage:
        mime = MimeMessage()
        mime["From"] = self._from
        mime["To"] = message.to
        mime["Subject"] = message.subject
        mime["Date"] = formatdate(localtime=False, usegmt=True)
        mime["Message-ID"] = self.message_id(message.key)
        mime["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
        mime.set_content(message.text)
        mime.add_alternative(message.html, subtype="html")
        return mime

    def send(self, message: EmailMessage) -> Accepted:
        try:
            mime = self.compose(message)
        except ValueError:  # a line break in the address or subject: refused, never folded in
            msg = "the message cannot be composed: a header holds a line break"
            raise DeliveryError(msg, permanent=True) from None
        try:
            with self._connect() as smtp:
                smtp.send_message(mime, from_addr=self._from.addr_spec, to_addrs=[message.to])
        except smtplib.SMTPRecipientsRefused as refused:
            codes = sorted({code for code, _ in refused.recipients.values()})
            raise _by_code("the server refused the recipient", codes[-1]) from None
        except smtplib.SMTPAuthenticationError as error:  # ours to fix; then retries go through
            reason = f"the SMTP server refused the login: SMTP {error.smtp_code}"
            raise DeliveryError(reason, permanent=False, code=str(error.smtp_code)) from None
        except smtplib.SMTPResponseException as error:  # sender or data refused
            raise _by_code("the server refused the message", error.smtp_code) from None
        except (smtplib.SMTPException, OSError) as error:  # ssl.SSLError is an OSError
            reason = f"SMTP failed ({type(error).__name__})"
            raise DeliveryError(reason, permanent=False) from None
        return Accepted(str(mime["Message-ID"]), "sent")

    def _connect(self) -> smtplib.SMTP:
        server = self._server
        smtp: smtplib.SMTP
        if server.security == "tls":
            smtp = smtplib.SMTP_SSL(
                server.host, server.port, timeout=server.timeout, context=self._tls
            )
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
        try:
            if server.security == "starttls":
                smtp.starttls(context=self._tls)  # refuses if the server does not offer it
            if server.username:
                smtp.login(server.username, server.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


def _address(sender: str) -> Address:
    name, addr = parseaddr(sender)
    if "@" not in addr:
        raise ValueError("the sender must be an email address")
    return Address(display_name=name, addr_spec=addr)


def _by_code(what: str, code: int) -> DeliveryError:
    return DeliveryError(f"{what}: SMTP {code}", permanent=code >= 500, code=str(code))
