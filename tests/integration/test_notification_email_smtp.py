"""The SMTP adapter against a real SMTP server (`aiosmtpd`, tests/contracts/smtp_server.py):
plain, STARTTLS and implicit TLS with a self-signed certificate made by the test, a login, a
refused recipient, a deferred one, a dropped and a closed port."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from commands.ports import DeliveryError, EmailMessage, EmailSender
from infra.email.smtp import SmtpEmail, SmtpServer
from tests.contracts.smtp_server import Mailbox, self_signed, smtp_server

SENDER = "Clinica Sol <no-reply@clinica-sol.example>"
PATIENT = "ana@patients.example"
MESSAGE = EmailMessage(
    key="reminder:4f1c2b3a-0000-4000-8000-000000000001:24h",
    to=PATIENT,
    subject="Your appointment tomorrow",
    text="Tomorrow at 10:30 with Dr. Ruiz.",
    html="<p>Tomorrow at <b>10:30</b> with Dr. Ruiz.</p>",
)


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return self_signed(tmp_path_factory.mktemp("tls"))


def test_a_plain_server_receives_text_and_html_from_the_configured_sender(
    mailbox: Mailbox,
) -> None:
    with smtp_server(mailbox) as port:
        port_: EmailSender = SmtpEmail(SmtpServer("127.0.0.1", port, "plain", SENDER))
        accepted = port_.send(MESSAGE)
    [(mail_from, rcpt_tos, received)] = mailbox.received
    assert (mail_from, rcpt_tos) == ("no-reply@clinica-sol.example", [PATIENT])
    assert received["To"] == PATIENT
    assert received["From"] == SENDER
    assert received["Subject"] == MESSAGE.subject
    assert received["Auto-Submitted"] == "auto-generated"
    assert received.get_content_type() == "multipart/alternative"
    plain, html = received.iter_parts()
    assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert plain.get_content().strip() == MESSAGE.text
    assert html.get_content().strip() == MESSAGE.html
    assert (accepted.provider_id, accepted.status) == (received["Message-ID"], "sent")
    assert mailbox.secure == [False]


def test_the_message_id_is_derived_from_the_key_and_does_not_show_it(mailbox: Mailbox) -> None:
    with smtp_server(mailbox) as port:
        email = SmtpEmail(SmtpServer("127.0.0.1", port, "plain", SENDER))
        first, again = email.send(MESSAGE), email.send(MESSAGE)
        other = email.send(EmailMessage("another-key", PATIENT, "s", "t", "<p>t</p>"))
    assert first.provider_id == again.provider_id != other.provider_id
    assert first.provider_id is not None
    assert first.provider_id.endswith("@clinica-sol.example>")
    assert MESSAGE.key not in first.provider_id
    assert all(MESSAGE.key not in received.as_string() for _, _, received in mailbox.received)


def test_starttls_with_a_login_over_a_verified_certificate(mailbox: Mailbox, cert: Path) -> None:
    mailbox.login = ("clinic", "s3cret-password")
    with smtp_server(mailbox, "starttls", cert) as port:
        server = SmtpServer(
            "127.0.0.1",
            port,
            "starttls",
            SENDER,
            username="clinic",
            password="s3cret-password",
            ca_file=str(cert),
        )
        SmtpEmail(server).send(MESSAGE)
    assert mailbox.secure == [True]
    assert len(mailbox.received) == 1


def test_implicit_tls(mailbox: Mailbox, cert: Path) -> None:
    with smtp_server(mailbox, "tls", cert) as port:
        SmtpEmail(SmtpServer("127.0.0.1", port, "tls", SENDER, ca_file=str(cert))).send(MESSAGE)
    assert mailbox.secure == [True]


def test_a_certificate_not_trusted_is_transient_and_sends_nothing(
    mailbox: Mailbox, cert: Path
) -> None:
    with smtp_server(mailbox, "starttls", cert) as port:
        email = SmtpEmail(SmtpServer("127.0.0.1", port, "starttls", SENDER))  # system CAs only
        with pytest.raises(DeliveryError, match="SSLCertVerificationError") as raised:
            email.send(MESSAGE)
    assert raised.value.permanent is False
    assert mailbox.received == []


def test_starttls_is_never_silently_dropped_when_the_server_lacks_it(mailbox: Mailbox) -> None:
    with smtp_server(mailbox) as port:  # a plain server: no STARTTLS in its EHLO
        email = SmtpEmail(SmtpServer("127.0.0.1", port, "starttls", SENDER))
        with pytest.raises(DeliveryError, match="SMTPNotSupportedError") as raised:
            email.send(MESSAGE)
    assert raised.value.permanent is False
    assert mailbox.received == []


def test_a_wrong_password_is_transient_and_says_only_the_code(mailbox: Mailbox, cert: Path) -> None:
    mailbox.login = ("clinic", "s3cret-password")
    with smtp_server(mailbox, "starttls", cert) as port:
        server = SmtpServer(
            "127.0.0.1", port, "starttls", SENDER, "clinic", "wrong", ca_file=str(cert)
        )
        with pytest.raises(DeliveryError) as raised:
            SmtpEmail(server).send(MESSAGE)
    assert (raised.value.permanent, raised.value.code) == (False, "535")
    assert "wrong" not in str(raised.value)
    assert "wrong" not in repr(server)


@pytest.mark.parametrize(
    ("roster", "code", "permanent"),
    [("refused", "550", True), ("deferred", "450", False)],
    ids=["refused-for-good", "deferred"],
)
def test_a_refused_recipient_is_permanent_a_deferred_one_transient_neither_named(
    mailbox: Mailbox, roster: str, code: str, permanent: bool
) -> None:
    getattr(mailbox, roster).add(PATIENT)
    with smtp_server(mailbox) as port:
        email = SmtpEmail(SmtpServer("127.0.0.1", port, "plain", SENDER))
        with pytest.raises(DeliveryError) as raised:
            email.send(MESSAGE)
    assert (raised.value.permanent, raised.value.code) == (permanent, code)
    assert PATIENT not in str(raised.value)
    assert mailbox.received == []


@pytest.mark.parametrize("field", ["to", "subject"], ids=["address", "subject"])
def test_a_line_break_in_a_header_is_refused_for_good_and_nothing_sent(
    mailbox: Mailbox, field: str
) -> None:
    injected = replace(MESSAGE, **{field: f"{getattr(MESSAGE, field)}\r\nBcc: x@evil.example"})
    with smtp_server(mailbox) as port:
        email = SmtpEmail(SmtpServer("127.0.0.1", port, "plain", SENDER))
        with pytest.raises(DeliveryError, match="line break") as raised:
            email.send(injected)
    assert raised.value.permanent is True
    assert mailbox.received == []


def test_a_closed_port_is_transient() -> None:
    with smtp_server(Mailbox()) as port:
        pass
    email = SmtpEmail(SmtpServer("127.0.0.1", port, "plain", SENDER, timeout=2))
    with pytest.raises(DeliveryError, match="ConnectionRefusedError") as raised:
        email.send(MESSAGE)
    assert raised.value.permanent is False


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never greets."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_a_server_that_never_answers_times_out_as_transient(silent_port: int) -> None:
    email = SmtpEmail(SmtpServer("127.0.0.1", silent_port, "plain", SENDER, timeout=0.3))
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="SMTP failed") as raised:
        email.send(MESSAGE)  # smtplib reads the timeout as a dropped connection
    assert 0.3 <= time.monotonic() - started < 5
    assert raised.value.permanent is False
