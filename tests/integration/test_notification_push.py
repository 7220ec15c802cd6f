"""The web push adapter (`pywebpush`) against a local push service of the tests' own
(tests/contracts/push_service.py) that checks the VAPID JWT with PyJWT, decrypts the aes128gcm
payload with the browser's key, and answers 410 once for an expired subscription."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from commands.ports import DeliveryError, PushMessage, PushSender, PushSubscription
from infra.push.webpush import WebPush, topic
from tests.contracts.push_service import PushService, push_service, vapid_keys

SUBJECT = "mailto:ops@clinica-sol.example"
KEY = "reminder:4f1c2b3a-0000-4000-8000-000000000001:2h"
PRIVATE, PUBLIC = vapid_keys()


def message(subscription: PushSubscription, key: str = KEY) -> PushMessage:
    return PushMessage(
        key, subscription, "Appointment in 2 hours", "Today 10:30, Dr. Ruiz", "https://s.example/a"
    )


@pytest.fixture
def service() -> Iterator[PushService]:
    with push_service() as running:
        yield running


@pytest.fixture
def push() -> WebPush:
    return WebPush(PRIVATE, SUBJECT, ttl=3600, timeout=5)


def test_a_message_arrives_signed_encrypted_and_readable_by_the_browser(
    service: PushService, push: WebPush
) -> None:
    browser = service.subscribe(PUBLIC)
    port: PushSender = push
    accepted = port.send(message(browser.subscription))
    assert service.refusals == []
    [delivered] = service.delivered
    assert delivered.payload == {
        "title": "Appointment in 2 hours",
        "body": "Today 10:30, Dr. Ruiz",
        "url": "https://s.example/a",
    }
    assert delivered.claims["sub"] == SUBJECT
    assert delivered.claims["aud"] == service.base_url
    assert delivered.headers["ttl"] == "3600"
    assert accepted.status == "accepted"
    assert accepted.provider_id is not None
    assert accepted.provider_id.startswith(f"{service.base_url}/message/")


def test_the_topic_is_derived_from_the_key_so_a_retry_replaces_the_first_copy(
    service: PushService, push: WebPush
) -> None:
    browser = service.subscribe(PUBLIC)
    push.send(message(browser.subscription))
    push.send(message(browser.subscription))
    push.send(message(browser.subscription, key="another"))
    topics = [d.headers["topic"] for d in service.delivered]
    assert topics[0] == topics[1] == topic(KEY) != topics[2]
    assert len(topics[0]) == 32
    assert KEY not in topics[0]


def test_an_expired_subscription_is_gone_once_and_then_unknown(
    service: PushService, push: WebPush
) -> None:
    browser = service.subscribe(PUBLIC)
    service.expire(browser)
    for status in (410, 404):
        with pytest.raises(DeliveryError, match=f"gone: HTTP {status}") as raised:
            push.send(message(browser.subscription))
        assert (raised.value.permanent, raised.value.code) == (True, "gone")
    assert service.delivered == []


def test_a_subscription_made_for_another_vapid_key_is_refused_for_good(
    service: PushService, push: WebPush
) -> None:
    _, other_public = vapid_keys()
    browser = service.subscribe(other_public)
    with pytest.raises(DeliveryError) as raised:
        push.send(message(browser.subscription))
    assert (raised.value.permanent, raised.value.code) == (True, "403")
    assert service.refusals == ["the subscription was made for another key"]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_transient(
    service: PushService, push: WebPush, status: int
) -> None:
    browser = service.subscribe(PUBLIC)
    service.failures.append(status)
    with pytest.raises(DeliveryError) as raised:
        push.send(message(browser.subscription))
    assert (raised.value.permanent, raised.value.code) == (False, str(status))
    push.send(message(browser.subscription))
    assert len(service.delivered) == 1


def test_an_unreachable_push_service_is_transient(push: WebPush) -> None:
    with push_service() as gone:
        browser = gone.subscribe(PUBLIC)
    with pytest.raises(DeliveryError, match="unreachable") as raised:
        push.send(message(browser.subscription))
    assert raised.value.permanent is False


def test_a_subscription_with_unusable_keys_is_permanent(
    service: PushService, push: WebPush
) -> None:
    browser = service.subscribe(PUBLIC)
    keys = browser.subscription
    for broken, problem in (
        (PushSubscription(browser.endpoint, "not-a-key", keys.auth), "malformed"),
        (PushSubscription("push.example/abc", keys.p256dh, keys.auth), "not a URL"),
    ):
        with pytest.raises(DeliveryError, match=problem) as raised:
            push.send(message(broken))
        assert raised.value.permanent is True
    assert service.delivered == []


def test_bad_settings_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="VAPID private key"):
        WebPush("not a key", SUBJECT)
    with pytest.raises(ValueError, match="mailto: or https:"):
        WebPush(PRIVATE, "ops@clinica-sol.example")
