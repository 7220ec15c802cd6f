"""A local Twilio Messages API (API v2010) of the tests' own. Each request is checked against
Twilio's published OpenAPI description (`twilio/twilio_api_v2010.json`, vendored with its
provenance) by `twilio_described.py`, each answer against the described `201`; what the
description cannot say is answered with Twilio's own error codes: no sender (21603), no body
(21602), an invalid number (21211), a recipient who answered STOP (21610), a WhatsApp message
from a number that is not a WhatsApp sender (63007). A test can also queue failures
(`server.failures`) or hold answers past the client's timeout (`server.delay`)."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.contracts.twilio_described import Described, RefusedError

API = Described(Path(__file__).parent / "twilio" / "twilio_api_v2010.json", "Twilio API v2010")
CREATE = "/2010-04-01/Accounts/{AccountSid}/Messages.json"


@dataclass
class TwilioMessagesServer:
    account_sid: str
    username: str
    password: str
    invalid: set[str] = field(default_factory=set)  # numbers Twilio calls invalid
    opted_out: set[str] = field(default_factory=set)  # numbers that answered STOP
    whatsapp_senders: set[str] = field(default_factory=set)
    failures: list[tuple[int, int]] = field(default_factory=list)  # (status, code), in turn
    delay: float = 0.0
    base_url: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        if self.delay:
            time.sleep(self.delay)
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        if headers.get("authorization") != f"Basic {expected}":
            raise RefusedError(401, "Authenticate", 20003)
        path = urlsplit(target).path
        template = API.check_request(method, path, headers.get("content-type"), body)
        form = parse_qs(body.decode(), keep_blank_values=True)
        self.requests.append((method, template, form))
        if (method, template) != ("POST", CREATE) or path.split("/")[3] != self.account_sid:
            raise RefusedError(404, "The requested resource was not found", 20404)
        if self.failures:
            status, code = self.failures.pop(0)
            raise RefusedError(status, "queued failure", code)
        message = self._create({name: values[0] for name, values in form.items()})
        API.check_response(template, method, 201, message)
        self.messages.append(message)
        return 201, message

    def _create(self, form: dict[str, str]) -> dict[str, Any]:
        to, sender = form["To"], form.get("From")
        service = form.get("MessagingServiceSid")
        if not (sender or service):
            raise RefusedError(
                400, "A 'From' or 'MessagingServiceSid' parameter is required", 21603
            )
        if not form.get("Body"):
            raise RefusedError(400, "Message body is required", 21602)
        number = to.removeprefix("whatsapp:")
        if number in self.invalid:
            raise RefusedError(400, "The 'To' number is not a valid phone number", 21211)
        if number in self.opted_out:
            raise RefusedError(400, "Attempt to send to unsubscribed recipient", 21610)
        if (
            to.startswith("whatsapp:")
            and sender is not None
            and sender not in self.whatsapp_senders
        ):
            raise RefusedError(400, "Could not find a Channel with the From address", 63007)
        sid = "SM" + uuid.uuid4().hex
        now = format_datetime(datetime.now(UTC), usegmt=True)
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form["Body"],
            "to": to,
            "from": sender,
            "messaging_service_sid": service,
            "status": "accepted" if service and not sender else "queued",
            "direction": "outbound-api",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "num_segments": "1",
            "num_media": "0",
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
            },
        }
