"""The real notification channels (issue 10): Twilio for SMS and WhatsApp, SMTP for email,
VAPID web push, built from the settings. Whatever is missing is named in one `SetupError`, by
its environment variable and never by its value, before anything is sent.

Only the channels the clinic uses are built (`SLOTWISE_CHANNELS_ENABLED`, default all): a
disabled channel needs no settings, its sender is `Disabled`, and the send job skips its
deliveries (`channel_disabled`) and falls back (SMS/WhatsApp → email → in-app)."""

from __future__ import annotations

from ipaddress import ip_address

from commands.ports import Accepted, Channels, DeliveryError
from infra.bootstrap.base import SetupError
from infra.email.smtp import SmtpEmail, SmtpServer
from infra.push.webpush import WebPush
from infra.settings import SENDING_CHANNELS, ChannelSettings, Settings
from infra.twilio.messaging import TwilioMessages


class Disabled:
    """The sender of a channel the clinic does not use: the send job never calls it (it skips
    the channel's deliveries first); if called anyway, it refuses permanently."""

    def send(self, message: object) -> Accepted:
        raise DeliveryError("channel disabled", permanent=True, code="channel_disabled")


def real_channels(settings: Settings) -> Channels:
    """The senders of the enabled channels, or a `SetupError` naming the variables to set."""
    given = settings.channels
    texts = bool(given.enabled & {"sms", "whatsapp"})
    email, push = "email" in given.enabled, "push" in given.enabled
    missing = [
        *(_twilio_missing(given) if texts else []),
        *(_email_missing(given) if email else []),
        *(_push_missing(given) if push else []),
    ]
    if missing:
        raise SetupError("the notification channels need settings: set " + ", ".join(missing))
    if email and given.smtp_security == "plain" and given.smtp_password and not _loopback(given):
        msg = "SLOTWISE_SMTP_SECURITY=plain would send the SMTP password in clear: "
        raise SetupError(msg + "set SLOTWISE_SMTP_SECURITY to starttls or tls")
    return Channels(
        sms=_sms(given) if texts else Disabled(),
        email=_email(given) if email else Disabled(),
        push=_push(given) if push else Disabled(),
        disabled=SENDING_CHANNELS - given.enabled,
    )


def _twilio_missing(given: ChannelSettings) -> list[str]:
    missing = [] if given.twilio_account_sid else ["TWILIO_ACCOUNT_SID"]
    key = given.twilio_api_key_sid, given.twilio_api_key_secret
    if any(key) and not all(key):
        missing.append("TWILIO_API_KEY_SECRET" if key[0] else "TWILIO_API_KEY_SID")
    elif not any(key) and not given.twilio_auth_token:
        missing.append("TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET (or TWILIO_AUTH_TOKEN)")
    if not (given.twilio_sms_from or given.twilio_messaging_service_sid):
        missing.append("TWILIO_SMS_FROM (or TWILIO_MESSAGING_SERVICE_SID)")
    if not given.public_base_url:
        missing.append("SLOTWISE_PUBLIC_BASE_URL (where Twilio posts status callbacks)")
    return missing


def _email_missing(given: ChannelSettings) -> list[str]:
    missing = [] if given.smtp_host else ["SLOTWISE_SMTP_HOST"]
    if not given.email_from:
        missing.append("SLOTWISE_EMAIL_FROM")
    if given.smtp_password and not given.smtp_username:
        missing.append("SLOTWISE_SMTP_USERNAME")
    return missing


def _push_missing(given: ChannelSettings) -> list[str]:
    missing = [] if given.vapid_private_key else ["SLOTWISE_VAPID_PRIVATE_KEY"]
    return missing + ([] if given.vapid_subject else ["SLOTWISE_VAPID_SUBJECT"])


def _loopback(given: ChannelSettings) -> bool:
    host = given.smtp_host or ""
    try:
        return host == "localhost" or ip_address(host).is_loopback
    except ValueError:
        return False


def _sms(given: ChannelSettings) -> TwilioMessages:
    account = given.twilio_account_sid or ""
    if given.twilio_api_key_sid and given.twilio_api_key_secret:
        auth = (given.twilio_api_key_sid, given.twilio_api_key_secret)
    else:
        auth = (account, given.twilio_auth_token or "")
    return TwilioMessages(
        account,
        auth,
        sms_from=given.twilio_sms_from,
        whatsapp_from=given.twilio_whatsapp_from,
        messaging_service_sid=given.twilio_messaging_service_sid,
        public_base_url=given.public_base_url,
        api_base_url=given.twilio_api_base_url,
        timeout=given.timeout_seconds,
    )


def _email(given: ChannelSettings) -> SmtpEmail:
    server = SmtpServer(
        given.smtp_host or "",
        given.smtp_port,
        given.smtp_security,
        given.email_from or "",
        username=given.smtp_username,
        password=given.smtp_password,
        timeout=given.timeout_seconds,
        ca_file=given.smtp_ca_file,
    )
    try:
        return SmtpEmail(server)
    except ValueError:
        raise SetupError("SLOTWISE_EMAIL_FROM is not an email address: set one") from None
    except OSError:
        raise SetupError("SLOTWISE_SMTP_CA_FILE cannot be read: set a PEM file's path") from None


def _push(given: ChannelSettings) -> WebPush:
    try:
        return WebPush(
            given.vapid_private_key or "",
            given.vapid_subject or "",
            ttl=given.push_ttl_seconds,
            timeout=given.timeout_seconds,
        )
    except ValueError as error:  # its text names the value's kind, never the value
        subject = "subject" in str(error)
        variable = "SLOTWISE_VAPID_SUBJECT" if subject else "SLOTWISE_VAPID_PRIVATE_KEY"
        raise SetupError(f"{variable} is not usable ({error}): set it anew") from None
