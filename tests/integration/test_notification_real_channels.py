"""`real_channels` built from nothing but environment variables, each sender delivering to the
tests' own stand-in: the local Twilio Messages API, a real SMTP server over STARTTLS with a
login, and the local push service."""

from __future__ import annotations

from pathlib import Path

from commands.ports import EmailMessage, PushMessage, TextMessage
from infra.bootstrap.channels import real_channels
from infra.settings import Settings
from tests.contracts.push_service import push_service, vapid_keys
from tests.contracts.smtp_server import Mailbox, self_signed, smtp_server
from tests.contracts.twilio_described import twilio_serving
from tests.contracts.twilio_messages import TwilioMessagesServer

ACCOUNT, TOKEN = "AC" + "1" * 32, "twilio-auth-token-0123456789abcdef"
PATIENT = "+34600111222"


def test_real_channels_from_the_environment_reach_every_provider(tmp_path: Path) -> None:
    private, public = vapid_keys()
    cert = self_signed(tmp_path)
    mailbox = Mailbox(login=("clinic", "smtp-password"))
    twilio = TwilioMessagesServer(ACCOUNT, ACCOUNT, TOKEN)  # the auth token's Basic login
    with (
        twilio_serving(twilio) as sms_server,
        smtp_server(mailbox, "starttls", cert) as smtp_port,
        push_service() as push,
    ):
        env = {
            "SLOTWISE_MODE": "production",
            "SLOTWISE_JWT_SECRET": "x" * 40,
            "SLOTWISE_KEK": "A" * 43 + "=",
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_SMS_FROM": "+15005550006",
            "TWILIO_API_BASE_URL": sms_server.base_url,
            "SLOTWISE_PUBLIC_BASE_URL": "https://slotwise.example.org",
            "SLOTWISE_SMTP_HOST": "127.0.0.1",
            "SLOTWISE_SMTP_PORT": str(smtp_port),
            "SLOTWISE_SMTP_SECURITY": "starttls",
            "SLOTWISE_SMTP_USERNAME": "clinic",
            "SLOTWISE_SMTP_PASSWORD": "smtp-password",
            "SLOTWISE_SMTP_CA_FILE": str(cert),
            "SLOTWISE_EMAIL_FROM": "Clinic <no-reply@clinic.example>",
            "SLOTWISE_VAPID_PRIVATE_KEY": private,
            "SLOTWISE_VAPID_SUBJECT": "mailto:ops@clinic.example",
        }
        channels = real_channels(Settings.from_env(env))
        sms = channels.sms.send(TextMessage("k1", "sms", PATIENT, "Tomorrow 10:30"))
        email = channels.email.send(
            EmailMessage("k2", "ana@patients.example", "Tomorrow", "10:30", "<p>10:30</p>")
        )
        browser = push.subscribe(public)
        pushed = channels.push.send(PushMessage("k3", browser.subscription, "Soon", "10:30"))
    assert (twilio.refusals, push.refusals) == ([], [])
    assert sms.provider_id == twilio.messages[0]["sid"]
    assert twilio.messages[0]["to"] == PATIENT
    assert email.provider_id == mailbox.received[0][2]["Message-ID"]
    assert mailbox.secure == [True]
    assert push.delivered[0].payload == {"title": "Soon", "body": "10:30", "url": None}
    assert pushed.provider_id is not None
