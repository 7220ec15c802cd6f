"""A local Twilio Video v1 of the tests' own. Every request is checked against Twilio's published
OpenAPI description (`twilio/twilio_video_v1.json`, vendored with its provenance): the path and
method must be described, the form body must hold only described parameters, with each value of
its described type and enum and every required one present; answers are validated against the
described response schema before they are sent, so the fake cannot drift from the real API."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema

from tests.contracts.local_server import serving

SPEC_PATH = Path(__file__).parent / "twilio" / "twilio_video_v1.json"
SPEC: dict[str, Any] = json.loads(SPEC_PATH.read_text())
FORM = "application/x-www-form-urlencoded"


class RefusedError(Exception):
    def __init__(self, status: int, message: str, code: int = 20001) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def resolve(node: Any) -> Any:
    """`node` with every `$ref` inlined and OpenAPI 3.0's `nullable` as JSON Schema's null."""
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[1]
            return resolve(SPEC["components"]["schemas"][name])
        out = {key: resolve(value) for key, value in node.items() if key != "nullable"}
        if node.get("nullable") and "type" in out:
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        return out
    if isinstance(node, list):
        return [resolve(item) for item in node]
    return node


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "([^/]+)", path) + "$")


ROUTES: list[tuple[re.Pattern[str], str]] = [(_template(path), path) for path in SPEC["paths"]]


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        try:
            return int(value)
        except ValueError:
            return value  # left as text: the schema check refuses it
    if kind == "boolean":
        return {"true": True, "false": False}.get(value, value)
    if kind == "object":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def check_request(method: str, path: str, content_type: str | None, body: bytes) -> str:
    """The described path template of a valid request; raises `RefusedError` otherwise."""
    template: str | None = next((t for pattern, t in ROUTES if pattern.match(path)), None)
    if template is None:
        raise RefusedError(404, f"{path} is not in Twilio Video v1", 20404)
    operation = SPEC["paths"][template].get(method.lower())
    if operation is None:
        raise RefusedError(405, f"{method} {template} is not described")
    described = operation.get("requestBody", {}).get("content", {})
    if not described:
        if body:
            raise RefusedError(400, f"{method} {template} takes no body")
        return template
    if content_type is None or content_type.split(";")[0].strip() != FORM or FORM not in described:
        raise RefusedError(400, f"{method} {template} takes {FORM}")
    schema = resolve(described[FORM]["schema"])
    properties: dict[str, Any] = schema.get("properties", {})
    form = parse_qs(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
    unknown = set(form) - set(properties)
    if unknown:
        raise RefusedError(400, f"parameters not described: {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, given in form.items():
        prop = properties[name]
        if prop.get("type") == "object":
            # Twilio describes its JSON-encoded parameters (e.g. RecordingRules' `Rules`, "a
            # JSON-encoded array") as `object`: the value must be JSON, of any shape.
            try:
                json.loads(given[0])
            except ValueError:
                raise RefusedError(400, f"{name} is not JSON") from None
            properties = {**properties, name: {k: v for k, v in prop.items() if k != "type"}}
            schema = {**schema, "properties": properties}
        if prop.get("type") == "array":
            values[name] = [_coerce(v, prop.get("items", {})) for v in given]
        elif len(given) != 1:
            raise RefusedError(400, f"{name} is given {len(given)} times")
        else:
            values[name] = _coerce(given[0], prop)
    try:
        jsonschema.validate(values, schema)
    except jsonschema.ValidationError as error:
        where = "/".join(map(str, error.path)) or "body"
        raise RefusedError(400, f"{where}: {error.message}") from None
    return template


def check_response(template: str, method: str, status: int, payload: dict[str, Any]) -> None:
    responses = SPEC["paths"][template][method.lower()]["responses"]
    described = responses.get(str(status))
    if described is None:
        raise AssertionError(f"{status} is not a described answer of {method} {template}")
    content = described.get("content", {}).get("application/json")
    if content is not None:
        jsonschema.validate(payload, resolve(content["schema"]))


@dataclass
class TwilioVideoServer:
    account_sid: str
    key_sid: str
    key_secret: str
    base_url: str = ""
    rooms: dict[str, dict[str, Any]] = field(default_factory=dict)  # by sid
    requests: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        path = urlsplit(target).path
        expected = base64.b64encode(f"{self.key_sid}:{self.key_secret}".encode()).decode()
        if headers.get("authorization") != f"Basic {expected}":
            raise RefusedError(401, "Authenticate", 20003)
        template = check_request(method, path, headers.get("content-type"), body)
        form = parse_qs(body.decode(), keep_blank_values=True)
        self.requests.append((method, template, form))
        status, payload = self._answer(method, template, path, form)
        check_response(template, method, status, payload)
        return status, payload

    def _find(self, sid_or_name: str) -> dict[str, Any]:
        for room in self.rooms.values():
            if room["sid"] == sid_or_name or (
                room["unique_name"] == sid_or_name and room["status"] == "in-progress"
            ):
                return room
        raise RefusedError(404, "The requested resource was not found", 20404)

    def _answer(
        self, method: str, template: str, path: str, form: dict[str, list[str]]
    ) -> tuple[int, dict[str, Any]]:
        def one(name: str, default: str | None = None) -> str | None:
            return form.get(name, [default])[0]

        if (method, template) == ("POST", "/v1/Rooms"):
            name = one("UniqueName") or ""
            if any(
                r["unique_name"] == name and r["status"] == "in-progress"
                for r in self.rooms.values()
            ):
                raise RefusedError(400, "Room exists", 53113)
            room = self._room(name, form)
            self.rooms[room["sid"]] = room
            return 201, room
        if template == "/v1/Rooms/{Sid}":
            room = self._find(path.rsplit("/", 1)[1])
            if method == "POST":
                if room["status"] != "in-progress":
                    raise RefusedError(404, "The requested resource was not found", 20404)
                room["status"] = one("Status")
                room["end_time"] = _now()
                return 202, room
            return 200, room
        if template == "/v1/Rooms/{RoomSid}/RecordingRules":
            room = self._find(path.split("/")[3])
            if not room["sid"] == path.split("/")[3]:
                raise RefusedError(404, "The requested resource was not found", 20404)
            if method == "POST":
                if room["status"] != "in-progress":
                    raise RefusedError(400, "Room is not in-progress", 53205)
                room["recording_rules"] = json.loads(one("Rules") or "[]")
            rules = {
                "room_sid": room["sid"],
                "rules": room.get("recording_rules", []),
                "date_created": room["date_created"],
                "date_updated": _now(),
            }
            return 200, rules
        raise RefusedError(405, f"{method} {template} is not served by this fake")

    def _room(self, name: str, form: dict[str, list[str]]) -> dict[str, Any]:
        sid = "RM" + uuid.uuid4().hex
        url = f"{self.base_url}/v1/Rooms/{sid}"

        def number(key: str, default: int) -> int:
            return int(form.get(key, [str(default)])[0])

        return {
            "sid": sid,
            "status": "in-progress",
            "date_created": _now(),
            "date_updated": _now(),
            "account_sid": self.account_sid,
            "enable_turn": True,
            "unique_name": name,
            "status_callback": form.get("StatusCallback", [None])[0],
            "status_callback_method": form.get("StatusCallbackMethod", ["POST"])[0],
            "end_time": None,
            "duration": None,
            "type": form.get("Type", ["group"])[0],
            "max_participants": number("MaxParticipants", 50),
            "max_participant_duration": number("MaxParticipantDuration", 14400),
            "max_concurrent_published_tracks": 170,
            "record_participants_on_connect": form.get("RecordParticipantsOnConnect", ["false"])[0]
            == "true",
            "video_codecs": ["VP8", "H264"],
            "media_region": "us1",
            "audio_only": False,
            "empty_room_timeout": number("EmptyRoomTimeout", 5),
            "unused_room_timeout": number("UnusedRoomTimeout", 5),
            "large_room": False,
            "url": url,
            "links": {"participants": f"{url}/Participants", "recordings": f"{url}/Recordings"},
        }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextmanager
def twilio_video_server(
    account_sid: str, key_sid: str, key_secret: str
) -> Iterator[TwilioVideoServer]:
    server = TwilioVideoServer(account_sid, key_sid, key_secret)

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {key.lower(): value for key, value in self.headers.items()}
            try:
                status, payload = server.handle(self.command, self.path, headers, body)
            except AssertionError as fault:  # the fake's own answer broke the description
                server.refusals.append(f"fake answered wrongly: {fault}")
                status, payload = 500, {"code": 20500, "message": "fake", "status": 500}
            except RefusedError as refused:
                server.refusals.append(refused.message)
                status = refused.status
                payload = {
                    "code": refused.code,
                    "message": refused.message,
                    "more_info": f"https://www.twilio.com/docs/errors/{refused.code}",
                    "status": refused.status,
                }
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve  # noqa: N815 - http.server's names

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving(Handler) as url:
        server.base_url = url
        yield server
