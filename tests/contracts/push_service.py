"""A local web push service of the tests' own (RFC 8030), and a browser's side of a
subscription. The service refuses what a real one refuses: a missing or badly signed VAPID JWT
(RFC 8292: ES256 over `aud` = the endpoint's origin, an `exp` within 24 hours, a `sub` contact;
checked here with PyJWT, not the sender's library) or a key other than the one the subscription
was made for (403), a body that is not `aes128gcm` (RFC 8291) or does not decrypt with the
browser's key (400), no `TTL` (400). It answers 201 with the message's `Location`, 410 once for
a subscription the test expires, and any failures a test queues."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from commands.ports import PushSubscription
from tests.contracts.local_server import serving

UNCOMPRESSED = (serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vapid_keys() -> tuple[str, str]:
    """A server's VAPID key pair as web-push prints it: (private raw, public uncompressed)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return b64url(private), b64url(key.public_key().public_bytes(*UNCOMPRESSED))


@dataclass
class Browser:
    """One device's subscription: the keys the push service's messages are encrypted for."""

    endpoint: str
    application_server_key: str  # the VAPID public key it subscribed with
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def subscription(self) -> PushSubscription:
        p256dh = b64url(self.key.public_key().public_bytes(*UNCOMPRESSED))
        return PushSubscription(self.endpoint, p256dh, b64url(self.auth))

    def decrypt(self, body: bytes) -> bytes:
        plain: bytes = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        return plain


@dataclass
class Delivered:
    endpoint: str
    payload: dict[str, Any]
    headers: dict[str, str]
    claims: dict[str, Any]


class PushRefusedError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass
class PushService:
    base_url: str = ""
    browsers: dict[str, Browser] = field(default_factory=dict)  # by path
    expired: set[str] = field(default_factory=set)  # paths answering 410, once each
    failures: list[int] = field(default_factory=list)  # statuses to answer next, in turn
    delivered: list[Delivered] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    def subscribe(self, application_server_key: str) -> Browser:
        path = f"/push/{uuid.uuid4().hex}"
        browser = Browser(self.base_url + path, application_server_key)
        self.browsers[path] = browser
        return browser

    def expire(self, browser: Browser) -> None:
        self.expired.add(browser.endpoint.removeprefix(self.base_url))

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str | None]:
        if self.failures:
            return self.failures.pop(0), None
        if path in self.expired:
            self.expired.discard(path)
            del self.browsers[path]
            return 410, None
        browser = self.browsers.get(path)
        if browser is None:
            return 404, None
        claims = self._vapid(headers.get("authorization", ""), browser)
        if headers.get("content-encoding") != "aes128gcm":
            raise PushRefusedError(400, "the body is not aes128gcm")
        if not headers.get("ttl", "").isdigit():
            raise PushRefusedError(400, "no TTL")
        try:
            payload = json.loads(browser.decrypt(body))
        except Exception as error:
            raise PushRefusedError(400, f"the body does not decrypt: {error!r}") from None
        self.delivered.append(Delivered(browser.endpoint, payload, headers, claims))
        return 201, f"{self.base_url}/message/{uuid.uuid4().hex}"

    def _vapid(self, authorization: str, browser: Browser) -> dict[str, Any]:
        scheme, _, params = authorization.partition(" ")
        parts = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
        if scheme != "vapid" or set(parts) != {"t", "k"}:
            raise PushRefusedError(401, "no VAPID authorization")
        if parts["k"] != browser.application_server_key:
            raise PushRefusedError(403, "the subscription was made for another key")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
        try:
            claims: dict[str, Any] = jwt.decode(
                parts["t"], public, algorithms=["ES256"], audience=self.base_url
            )
        except jwt.InvalidTokenError as error:
            raise PushRefusedError(403, f"bad VAPID token: {error}") from None
        if not 0 < claims["exp"] - time.time() <= 24 * 3600:
            raise PushRefusedError(403, "VAPID exp is more than 24 hours away")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            raise PushRefusedError(403, "VAPID sub is not a contact")
        return claims


@contextmanager
def push_service() -> Iterator[PushService]:
    service = PushService()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {key.lower(): value for key, value in self.headers.items()}
            try:
                status, location = service.handle(self.path, headers, body)
            except PushRefusedError as refused:
                service.refusals.append(str(refused))
                status, location = refused.status, None
            self.send_response(status)
            if location is not None:
                self.send_header("location", location)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving(Handler) as url:
        service.base_url = url
        yield service
