"""A real SMTP server of the tests' own (`aiosmtpd` on a loopback port): plain, STARTTLS
(required before MAIL) or implicit TLS with a self-signed certificate made here, a login when
asked for, recipients it refuses for good (550) or for now (450), and every accepted message
kept as the bytes that arrived."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Mailbox:
    refused: set[str] = field(default_factory=set)  # 550 5.1.1
    deferred: set[str] = field(default_factory=set)  # 450 4.2.1
    login: tuple[str, str] | None = None
    received: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    secure: list[bool] = field(default_factory=list)  # per message: did it come over TLS?

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook names
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 Recipient address rejected: no such user"
        if address in self.deferred:
            return "450 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        tls = server.transport.get_extra_info("ssl_object") is not None  # implicit TLS
        self.secure.append(tls or session.ssl is not None)  # or STARTTLS
        return "250 2.0.0 OK: queued"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.login == (
            data.login.decode(),
            data.password.decode(),
        )
        return AuthResult(success=ok, handled=False)


def self_signed(directory: Path) -> Path:
    """A certificate and key for 127.0.0.1 and localhost, in one PEM file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = directory / "smtp.pem"
    path.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_server(
    mailbox: Mailbox,
    security: Literal["starttls", "tls", "plain"] = "plain",
    cert: Path | None = None,
) -> Iterator[int]:
    """Serve `mailbox` until the `with` ends; yields the port."""
    context = None
    if cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert)
    options: dict[str, Any] = {"authenticator": mailbox.authenticate, "auth_require_tls": True}
    if security == "starttls":
        options |= {"tls_context": context, "require_starttls": True}
    elif security == "tls":
        options |= {"ssl_context": context}
    else:
        options = {}
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port(), **options)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()
