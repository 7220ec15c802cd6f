"""The notification channels' settings: read from the environment, secrets kept out of reprs
and errors, and `real_channels` refusing to build with a message that names what to set."""

from __future__ import annotations

import pytest

from commands.ports import DeliveryError, EmailMessage
from infra.bootstrap.base import SetupError
from infra.bootstrap.channels import Disabled, real_channels
from infra.email.smtp import SmtpEmail
from infra.push.webpush import WebPush
from infra.settings import Settings, SettingsError
from infra.twilio.messaging import TwilioMessages
from tests.contracts.push_service import vapid_keys

VAPID_PRIVATE, _ = vapid_keys()
SECRETS = {
    "TWILIO_AUTH_TOKEN": "auth-token-secret-value-0001",
    "TWILIO_API_KEY_SECRET": "api-key-secret-value-0002",
    "SLOTWISE_SMTP_PASSWORD": "smtp-password-secret-0003",
    "SLOTWISE_VAPID_PRIVATE_KEY": VAPID_PRIVATE,
}
COMPLETE = {
    "SLOTWISE_MODE": "test",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_API_KEY_SID": "SK" + "2" * 32,
    "TWILIO_SMS_FROM": "+15005550006",
    "TWILIO_WHATSAPP_FROM": "+14155238886",
    "SLOTWISE_PUBLIC_BASE_URL": "https://slotwise.example.org",
    "SLOTWISE_SMTP_HOST": "smtp.clinic.example",
    "SLOTWISE_SMTP_USERNAME": "clinic",
    "SLOTWISE_EMAIL_FROM": "Clinic <no-reply@clinic.example>",
    "SLOTWISE_VAPID_SUBJECT": "mailto:ops@clinic.example",
    **SECRETS,
}


def settings(**env: str) -> Settings:
    return Settings.from_env({k: v for k, v in {**COMPLETE, **env}.items() if v != "-"})


def test_complete_settings_build_the_three_real_adapters() -> None:
    channels = real_channels(settings())
    assert isinstance(channels.sms, TwilioMessages)
    assert isinstance(channels.email, SmtpEmail)
    assert isinstance(channels.push, WebPush)
    assert channels.sms.status_callback == (
        "https://slotwise.example.org/v1/notifications/twilio/status"
    )


@pytest.mark.parametrize(("security", "port"), [("starttls", 587), ("tls", 465), ("plain", 25)])
def test_the_smtp_security_is_chosen_by_settings_with_its_usual_port(
    security: str, port: int
) -> None:
    channels = settings(SLOTWISE_SMTP_SECURITY=security).channels
    assert (channels.smtp_security, channels.smtp_port) == (security, port)
    assert (
        settings(SLOTWISE_SMTP_SECURITY=security, SLOTWISE_SMTP_PORT="2525").channels.smtp_port
        == 2525
    )


def test_an_unknown_smtp_security_is_refused() -> None:
    with pytest.raises(SettingsError, match="SLOTWISE_SMTP_SECURITY must be one of"):
        settings(SLOTWISE_SMTP_SECURITY="ssl")


def test_no_secret_appears_in_the_settings_repr() -> None:
    shown = repr(settings())
    assert all(value not in shown for value in SECRETS.values())


def test_every_missing_setting_is_named_in_one_error_without_any_value() -> None:
    with pytest.raises(SetupError) as raised:
        real_channels(Settings.from_env({"SLOTWISE_MODE": "test", **SECRETS}))
    message = str(raised.value)
    for name in (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_API_KEY_SID",
        "TWILIO_SMS_FROM (or TWILIO_MESSAGING_SERVICE_SID)",
        "SLOTWISE_PUBLIC_BASE_URL",
        "SLOTWISE_SMTP_HOST",
        "SLOTWISE_EMAIL_FROM",
        "SLOTWISE_SMTP_USERNAME",
        "SLOTWISE_VAPID_SUBJECT",
    ):
        assert name in message
    assert all(value not in message for value in SECRETS.values())


@pytest.mark.parametrize(
    ("env", "named"),
    [
        (
            {"TWILIO_API_KEY_SID": "-", "TWILIO_API_KEY_SECRET": "-", "TWILIO_AUTH_TOKEN": "-"},
            "TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET (or TWILIO_AUTH_TOKEN)",
        ),
        ({"TWILIO_API_KEY_SECRET": "-"}, "TWILIO_API_KEY_SECRET"),
        ({"SLOTWISE_VAPID_PRIVATE_KEY": "-"}, "SLOTWISE_VAPID_PRIVATE_KEY"),
    ],
)
def test_a_missing_credential_is_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(SetupError, match="set ") as raised:
        real_channels(settings(**env))
    assert named in str(raised.value)


def test_the_auth_token_alone_is_enough_for_twilio() -> None:
    channels = real_channels(settings(TWILIO_API_KEY_SID="-", TWILIO_API_KEY_SECRET="-"))
    assert isinstance(channels.sms, TwilioMessages)


def test_a_messaging_service_replaces_the_sender_number() -> None:
    env = {"TWILIO_SMS_FROM": "-", "TWILIO_MESSAGING_SERVICE_SID": "MG" + "3" * 32}
    assert isinstance(real_channels(settings(**env)).sms, TwilioMessages)


def test_a_password_in_clear_is_refused_except_on_loopback() -> None:
    with pytest.raises(SetupError, match="set SLOTWISE_SMTP_SECURITY to starttls or tls"):
        real_channels(settings(SLOTWISE_SMTP_SECURITY="plain"))
    local = settings(SLOTWISE_SMTP_SECURITY="plain", SLOTWISE_SMTP_HOST="127.0.0.1")
    assert isinstance(real_channels(local).email, SmtpEmail)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SLOTWISE_VAPID_PRIVATE_KEY": "not-a-key"}, "SLOTWISE_VAPID_PRIVATE_KEY is not usable"),
        ({"SLOTWISE_VAPID_SUBJECT": "ops@clinic.example"}, "SLOTWISE_VAPID_SUBJECT is not usable"),
        ({"SLOTWISE_EMAIL_FROM": "nobody"}, "SLOTWISE_EMAIL_FROM is not an email address"),
        ({"SLOTWISE_SMTP_CA_FILE": "/nonexistent/ca.pem"}, "SLOTWISE_SMTP_CA_FILE cannot be read"),
    ],
)
def test_unusable_values_are_refused_by_name(env: dict[str, str], named: str) -> None:
    with pytest.raises(SetupError, match=named):
        real_channels(settings(**env))


# A clinic that uses only some channels (SLOTWISE_CHANNELS_ENABLED): only those are built.
ONLY_SMS = {
    "SLOTWISE_CHANNELS_ENABLED": "sms",
    "SLOTWISE_SMTP_HOST": "-",
    "SLOTWISE_SMTP_USERNAME": "-",
    "SLOTWISE_SMTP_PASSWORD": "-",
    "SLOTWISE_EMAIL_FROM": "-",
    "SLOTWISE_VAPID_PRIVATE_KEY": "-",
    "SLOTWISE_VAPID_SUBJECT": "-",
}


def test_only_the_enabled_channels_are_built_and_need_settings() -> None:
    channels = real_channels(settings(**ONLY_SMS))
    assert isinstance(channels.sms, TwilioMessages)
    assert isinstance(channels.email, Disabled)
    assert isinstance(channels.push, Disabled)
    assert channels.disabled == {"whatsapp", "email", "push"}
    assert real_channels(settings()).disabled == frozenset()


def test_a_disabled_sender_refuses_permanently_if_ever_called() -> None:
    channels = real_channels(settings(**ONLY_SMS))
    with pytest.raises(DeliveryError) as refused:
        channels.email.send(EmailMessage("k", "a@b.example", "s", "t", "<p>t</p>"))
    assert (refused.value.permanent, refused.value.code) == (True, "channel_disabled")


def test_an_enabled_channel_still_needs_its_settings() -> None:
    with pytest.raises(SetupError) as missing:
        real_channels(settings(**{**ONLY_SMS, "SLOTWISE_CHANNELS_ENABLED": "sms,email"}))
    assert "SLOTWISE_SMTP_HOST" in str(missing.value)
    assert "VAPID" not in str(missing.value)
    no_twilio = {"TWILIO_ACCOUNT_SID": "-", "SLOTWISE_CHANNELS_ENABLED": "email,push"}
    assert isinstance(real_channels(settings(**no_twilio)).sms, Disabled)


def test_an_unknown_channel_name_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="SLOTWISE_CHANNELS_ENABLED"):
        settings(SLOTWISE_CHANNELS_ENABLED="sms,fax")
