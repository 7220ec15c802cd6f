"""Web push behind the `PushSender` port, with `pywebpush`: the payload encrypted for the
subscription (RFC 8291, `aes128gcm`), the request signed with the server's VAPID key (RFC 8292).

The message's key becomes the `Topic` header (a hash of it, never the key): a push service keeps
only the newest undelivered message of a topic, so a retried send replaces its first copy
instead of showing twice. `TTL` bounds how long the service holds a message for an offline
device: a reminder that arrives hours late is noise.

Errors: 404 and 410 mean the subscription is gone (`code="gone"`; the caller removes it); other
4xx (a malformed subscription, a payload too big, a subscription made for another VAPID key) are
permanent; 429, 5xx, timeouts and refused connections are transient."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import urlsplit

from py_vapid import Vapid, VapidException
from pywebpush import WebPushException, webpush

from commands.ports import Accepted, DeliveryError, PushMessage

GONE = frozenset({404, 410})
TRANSIENT_STATUSES = frozenset({408, 429})


def topic(key: str) -> str:
    """A push `Topic` for `key`: 32 characters of URL-safe base64, as RFC 8030 allows."""
    return base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()).decode()[:32]


class WebPush:
    """`private_key` is the VAPID key as `vapid --gen` and web-push's `generate-vapid-keys` print
    it (the raw key or DER, URL-safe base64); `subject` is `mailto:` or `https:` contact for
    the push services' operators."""

    def __init__(
        self, private_key: str, subject: str, *, ttl: int = 4 * 3600, timeout: float = 10.0
    ) -> None:
        try:
            self._vapid = Vapid.from_string(private_key)
        except (VapidException, ValueError) as error:
            raise ValueError("the VAPID private key is not a key in URL-safe base64") from error
        if not subject.startswith(("mailto:", "https:")):
            raise ValueError("the VAPID subject must be a mailto: or https: URL")
        self._subject = subject
        self._ttl = ttl
        self._timeout = timeout

    def send(self, message: PushMessage) -> Accepted:
        subscription = message.subscription
        endpoint = urlsplit(subscription.endpoint)
        if endpoint.scheme not in ("https", "http") or not endpoint.netloc:
            raise DeliveryError("the push subscription's endpoint is not a URL", permanent=True)
        payload = {"title": message.title, "body": message.body, "url": message.url}
        try:
            response = webpush(
                {
                    "endpoint": subscription.endpoint,
                    "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
                },
                json.dumps(payload),
                vapid_private_key=self._vapid,
                vapid_claims={"sub": self._subject},  # pywebpush adds aud and exp to this dict
                ttl=self._ttl,
                timeout=self._timeout,
                headers={"Topic": topic(message.key)},
            )
        except WebPushException as error:
            raise _refused(error) from None
        except OSError as error:  # requests' ConnectionError and Timeout are OSErrors
            reason = f"the push service is unreachable ({type(error).__name__})"
            raise DeliveryError(reason, permanent=False) from None
        except ValueError:  # pywebpush could not read the subscription's keys
            raise DeliveryError("the push subscription is malformed", permanent=True) from None
        location = None if isinstance(response, str) else response.headers.get("Location")
        return Accepted(location, "accepted")  # the push service's id of the message


def _refused(error: WebPushException) -> DeliveryError:
    status = error.response.status_code if error.response is not None else None
    if status is None:  # refused before sending: the subscription's keys are unusable
        return DeliveryError("the push subscription is malformed", permanent=True)
    if status in GONE:
        reason = f"the push subscription is gone: HTTP {status}"
        return DeliveryError(reason, permanent=True, code="gone")
    transient = status >= 500 or status in TRANSIENT_STATUSES
    return DeliveryError(
        f"the push service refused the message: HTTP {status}",
        permanent=not transient,
        code=str(status),
    )
