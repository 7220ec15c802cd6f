"""A local LiveKit RoomService and Egress service of the tests' own, speaking Twirp as the
server does: each call's admin JWT is verified (signature, issuer, expiry and the grant the
method needs), each body is decoded with the real request message of `livekit-protocol` and
refused if it carries a field the message does not define, and answers are real response
messages or Twirp JSON errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import jwt
from google.protobuf import unknown_fields
from google.protobuf.message import DecodeError, Message
from livekit.protocol import egress, models, room

from tests.contracts.local_server import serving

PREFIX = "/twirp/livekit."
# Service/Method → (request message, the video grant its token must carry).
METHODS: dict[str, tuple[type[Message], str]] = {
    "RoomService/CreateRoom": (room.CreateRoomRequest, "roomCreate"),
    "RoomService/DeleteRoom": (room.DeleteRoomRequest, "roomCreate"),
    "RoomService/ListParticipants": (room.ListParticipantsRequest, "roomAdmin"),
    "Egress/StartRoomCompositeEgress": (egress.RoomCompositeEgressRequest, "roomRecord"),
    "Egress/ListEgress": (egress.ListEgressRequest, "roomRecord"),
    "Egress/StopEgress": (egress.StopEgressRequest, "roomRecord"),
}
LIVE = (egress.EgressStatus.EGRESS_STARTING, egress.EgressStatus.EGRESS_ACTIVE)


class TwirpRefusalError(Exception):
    def __init__(self, status: int, code: str, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


@dataclass
class LiveKitServer:
    api_key: str
    api_secret: str
    url: str = ""
    rooms: dict[str, models.Room] = field(default_factory=dict)
    participants: dict[str, list[str]] = field(default_factory=dict)
    egresses: dict[str, egress.EgressInfo] = field(default_factory=dict)  # by egress id
    calls: list[tuple[str, Message]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    fail_next: str | None = None  # a Twirp code to answer the next call with

    def handle(self, method: str, headers: dict[str, str], body: bytes) -> Message:
        """`method` as `Service/Method` (a bare name is RoomService's); calls are recorded by
        the method's name."""
        method = method if "/" in method else f"RoomService/{method}"
        if method not in METHODS:
            raise TwirpRefusalError(404, "bad_route", "no such method")
        request_class, grant = METHODS[method]
        if headers.get("content-type") != "application/protobuf":
            raise TwirpRefusalError(400, "malformed", "not a protobuf body")
        request = request_class()
        try:
            request.ParseFromString(body)
        except DecodeError:
            raise TwirpRefusalError(400, "malformed", "undecodable body") from None
        if len(unknown_fields.UnknownFieldSet(request)):
            raise TwirpRefusalError(400, "malformed", "unknown fields in the request")
        claims = self._claims(headers.get("authorization", ""))
        video = claims.get("video", {})
        if not video.get(grant):
            raise TwirpRefusalError(403, "permission_denied", f"the token lacks {grant}")
        self.calls.append((method.split("/")[1], request))
        if self.fail_next is not None:
            code, self.fail_next = self.fail_next, None
            raise TwirpRefusalError(500 if code == "internal" else 400, code, "failing on purpose")
        answer: Callable[[Any], Message] = getattr(self, f"_{method.split('/')[1]}")
        reply: Message = answer(request)
        return reply

    def _claims(self, authorization: str) -> dict[str, Any]:
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or not token:
            raise TwirpRefusalError(401, "unauthenticated", "no bearer token")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.api_secret,
                algorithms=["HS256"],
                issuer=self.api_key,
                options={"require": ["exp", "iss"]},
            )
        except jwt.PyJWTError:
            raise TwirpRefusalError(401, "unauthenticated", "bad token") from None
        return claims

    def _CreateRoom(self, request: room.CreateRoomRequest) -> Message:  # noqa: N802
        # LiveKit answers an existing room's name with that room, unchanged.
        if request.name not in self.rooms:
            self.rooms[request.name] = models.Room(
                sid=f"RM_{len(self.calls):04d}",
                name=request.name,
                empty_timeout=request.empty_timeout,
                departure_timeout=request.departure_timeout,
                max_participants=request.max_participants,
            )
        created: Message = self.rooms[request.name]
        return created

    def _DeleteRoom(self, request: room.DeleteRoomRequest) -> Message:  # noqa: N802
        if self.rooms.pop(request.room, None) is None:
            raise TwirpRefusalError(404, "not_found", "requested room does not exist")
        for info in self.egresses.values():  # LiveKit ends a deleted room's egress
            if info.room_name == request.room and info.status in LIVE:
                info.status = egress.EgressStatus.EGRESS_COMPLETE
        return room.DeleteRoomResponse()

    def _StartRoomCompositeEgress(self, request: egress.RoomCompositeEgressRequest) -> Message:  # noqa: N802
        if request.room_name not in self.rooms:
            raise TwirpRefusalError(404, "not_found", "requested room does not exist")
        if not request.file_outputs or not request.file_outputs[0].filepath:
            raise TwirpRefusalError(400, "invalid_argument", "no output")
        info = egress.EgressInfo(
            egress_id=f"EG_{len(self.egresses):04d}",
            room_id=self.rooms[request.room_name].sid,
            room_name=request.room_name,
            status=egress.EgressStatus.EGRESS_STARTING,
            room_composite=request,
        )
        self.egresses[info.egress_id] = info
        return info

    def _ListEgress(self, request: egress.ListEgressRequest) -> Message:  # noqa: N802
        found = [
            info
            for info in self.egresses.values()
            if (not request.room_name or info.room_name == request.room_name)
            and (not request.active or info.status in LIVE)
        ]
        return egress.ListEgressResponse(items=found)

    def _StopEgress(self, request: egress.StopEgressRequest) -> Message:  # noqa: N802
        info = self.egresses.get(request.egress_id)
        if info is None:
            raise TwirpRefusalError(404, "not_found", "egress not found")
        if info.status not in LIVE:
            raise TwirpRefusalError(412, "failed_precondition", "egress is not active")
        info.status = egress.EgressStatus.EGRESS_COMPLETE
        return info

    def _ListParticipants(self, request: room.ListParticipantsRequest) -> Message:  # noqa: N802
        if request.room not in self.rooms:
            raise TwirpRefusalError(404, "not_found", "requested room does not exist")
        people = [
            models.ParticipantInfo(identity=i) for i in self.participants.get(request.room, [])
        ]
        return room.ListParticipantsResponse(participants=people)


@contextmanager
def livekit_server(api_key: str, api_secret: str) -> Iterator[LiveKitServer]:
    server = LiveKitServer(api_key, api_secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {key.lower(): value for key, value in self.headers.items()}
            if not self.path.startswith(PREFIX):
                self._error(TwirpRefusalError(404, "bad_route", "no such route"))
                return
            try:
                reply = server.handle(self.path[len(PREFIX) :], headers, body)
            except TwirpRefusalError as refusal:
                server.refusals.append(refusal.code)
                self._error(refusal)
                return
            payload = reply.SerializeToString()
            self.send_response(200)
            self.send_header("content-type", "application/protobuf")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _error(self, refusal: TwirpRefusalError) -> None:
            payload = json.dumps({"code": refusal.code, "msg": refusal.msg}).encode()
            self.send_response(refusal.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving(Handler) as url:
        server.url = url
        yield server
