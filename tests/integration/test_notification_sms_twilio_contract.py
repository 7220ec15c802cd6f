"""The SMS and WhatsApp adapter with the real `twilio` SDK pointed at a local Messages API that
validates each request against Twilio's published OpenAPI description of API v2010
(tests/contracts/twilio) and answers like Twilio, errors with Twilio's codes included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import pytest

from commands.ports import DeliveryError, SmsSender, TextMessage
from infra.twilio.messaging import TwilioMessages
from tests.contracts.twilio_described import RefusedError, twilio_serving
from tests.contracts.twilio_messages import API, TwilioMessagesServer

ACCOUNT = "AC" + "1" * 32
KEY, SECRET = "SK" + "2" * 32, "twilio-api-key-secret-0123456789abcdef"
SERVICE = "MG" + "3" * 32
SMS_FROM, WHATSAPP_FROM = "+15005550006", "+14155238886"
PUBLIC = "https://slotwise.example.org/"
CALLBACK = "https://slotwise.example.org/v1/notifications/twilio/status"
KEY_OF_MESSAGE = "reminder:4f1c2b3a-0000-4000-8000-000000000001:24h"
PATIENT = "+34600111222"


def text(channel: Literal["sms", "whatsapp"] = "sms") -> TextMessage:
    return TextMessage(KEY_OF_MESSAGE, channel, PATIENT, "See you tomorrow")


@pytest.fixture
def server() -> Iterator[TwilioMessagesServer]:
    with twilio_serving(TwilioMessagesServer(ACCOUNT, KEY, SECRET)) as running:
        running.whatsapp_senders.add(f"whatsapp:{WHATSAPP_FROM}")
        yield running


def sender(
    server: TwilioMessagesServer, service: str | None = None, timeout: float = 10.0
) -> TwilioMessages:
    return TwilioMessages(
        ACCOUNT,
        (KEY, SECRET),
        sms_from=SMS_FROM,
        whatsapp_from=WHATSAPP_FROM,
        messaging_service_sid=service,
        public_base_url=PUBLIC,
        api_base_url=server.base_url,
        timeout=timeout,
    )


def test_an_sms_is_created_as_the_api_describes_and_its_sid_and_status_returned(
    server: TwilioMessagesServer,
) -> None:
    port: SmsSender = sender(server)
    accepted = port.send(text())
    assert server.refusals == []
    [(method, template, form)] = server.requests
    assert (method, template) == ("POST", "/2010-04-01/Accounts/{AccountSid}/Messages.json")
    assert form == {
        "To": [PATIENT],
        "From": [SMS_FROM],
        "Body": ["See you tomorrow"],
        "StatusCallback": [CALLBACK],
    }
    assert accepted.provider_id == server.messages[0]["sid"]
    assert accepted.provider_id is not None
    assert accepted.provider_id.startswith("SM")
    assert accepted.status == "queued"


def test_the_idempotency_key_is_never_sent(server: TwilioMessagesServer) -> None:
    sender(server).send(text())
    [(_, _, form)] = server.requests
    assert not any(KEY_OF_MESSAGE in value for values in form.values() for value in values)


def test_whatsapp_puts_the_prefix_on_both_numbers(server: TwilioMessagesServer) -> None:
    accepted = sender(server).send(text(channel="whatsapp"))
    [(_, _, form)] = server.requests
    assert form["To"] == [f"whatsapp:{PATIENT}"]
    assert form["From"] == [f"whatsapp:{WHATSAPP_FROM}"]
    assert server.refusals == []
    assert accepted.status == "queued"


def test_a_messaging_service_picks_the_sender_and_twilio_answers_accepted(
    server: TwilioMessagesServer,
) -> None:
    accepted = sender(server, SERVICE).send(text())
    [(_, _, form)] = server.requests
    assert form["MessagingServiceSid"] == [SERVICE]
    assert "From" not in form
    assert accepted.status == "accepted"


def test_without_a_public_url_no_status_callback_is_asked(server: TwilioMessagesServer) -> None:
    TwilioMessages(ACCOUNT, (KEY, SECRET), sms_from=SMS_FROM, api_base_url=server.base_url).send(
        text()
    )
    [(_, _, form)] = server.requests
    assert "StatusCallback" not in form


@pytest.mark.parametrize(
    ("roster", "code"), [("invalid", "21211"), ("opted_out", "21610")], ids=["invalid", "stop"]
)
def test_an_invalid_or_opted_out_number_is_a_permanent_error_with_twilios_code(
    server: TwilioMessagesServer, roster: str, code: str
) -> None:
    getattr(server, roster).add(PATIENT)
    with pytest.raises(DeliveryError) as raised:
        sender(server).send(text())
    assert (raised.value.permanent, raised.value.code) == (True, code)
    assert PATIENT not in str(raised.value)
    assert server.messages == []


def test_a_whatsapp_sender_twilio_does_not_know_is_permanent(
    server: TwilioMessagesServer,
) -> None:
    server.whatsapp_senders.clear()
    with pytest.raises(DeliveryError) as raised:
        sender(server).send(text(channel="whatsapp"))
    assert (raised.value.permanent, raised.value.code) == (True, "63007")


@pytest.mark.parametrize(("status", "code"), [(500, 20500), (503, 20503), (429, 20429)])
def test_server_errors_and_rate_limits_are_transient(
    server: TwilioMessagesServer, status: int, code: int
) -> None:
    server.failures.append((status, code))
    port = sender(server)
    with pytest.raises(DeliveryError) as raised:
        port.send(text())
    assert (raised.value.permanent, raised.value.code) == (False, str(code))
    assert port.send(text()).provider_id == server.messages[0]["sid"]  # the retry goes through


def test_a_timeout_is_transient_and_marked_as_possibly_sent(server: TwilioMessagesServer) -> None:
    server.delay = 1.0
    with pytest.raises(DeliveryError, match="may have been sent") as raised:
        sender(server, timeout=0.2).send(text())
    assert (raised.value.permanent, raised.value.code) == (False, "timeout")


def test_a_refused_connection_is_transient() -> None:
    with twilio_serving(TwilioMessagesServer(ACCOUNT, KEY, SECRET)) as gone:
        url = gone.base_url  # the port is closed once the server stops
    port = TwilioMessages(ACCOUNT, (KEY, SECRET), sms_from=SMS_FROM, api_base_url=url)
    with pytest.raises(DeliveryError, match="Twilio unreachable") as raised:
        port.send(text())
    assert (raised.value.permanent, raised.value.code) == (False, None)


def test_wrong_credentials_are_permanent_with_twilios_code(server: TwilioMessagesServer) -> None:
    port = TwilioMessages(ACCOUNT, (KEY, "wrong"), sms_from=SMS_FROM, api_base_url=server.base_url)
    with pytest.raises(DeliveryError, match="HTTP 401, code 20003") as raised:
        port.send(text())
    assert raised.value.permanent is True


def test_a_sender_is_required() -> None:
    with pytest.raises(ValueError, match="sender number or a messaging service"):
        TwilioMessages(ACCOUNT, (KEY, SECRET))


def test_the_local_server_refuses_what_the_description_refuses() -> None:
    form = "application/x-www-form-urlencoded"
    path = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    with pytest.raises(RefusedError, match="not described"):
        API.check_request("POST", path, form, b"To=%2B15551234567&Bogus=1")
    with pytest.raises(RefusedError, match="'To' is a required property"):
        API.check_request("POST", path, form, b"Body=hi")
    with pytest.raises(RefusedError, match="is not a 'phone-number'"):
        API.check_request("POST", path, form, b"To=555-1234&Body=hi")
    with pytest.raises(RefusedError, match="does not match"):
        API.check_request(
            "POST", path, form, b"To=%2B15551234567&MessagingServiceSid=MG" + b"z" * 32
        )
    with pytest.raises(RefusedError, match="is not a 'uri'"):
        API.check_request("POST", path, form, b"To=%2B15551234567&StatusCallback=nowhere")
    elsewhere = "/2010-04-01/Accounts/AC" + "z" * 32 + "/Messages.json"
    with pytest.raises(RefusedError, match="does not match"):
        API.check_request("POST", elsewhere, form, b"To=%2B15551234567")
    with pytest.raises(RefusedError, match="is not described"):
        API.check_request("PUT", path, form, b"")
