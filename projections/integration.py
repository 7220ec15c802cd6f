"""Integration events: the versioned, documented form in which domain events leave the log.

Each domain event type gets a msgspec Struct for its payload, derived from the event's own
fields, so its JSON Schema is generated rather than hand-kept (see `docs/events/`). The
envelope carries identity, order and causality; keys and headers carry no PHI.

Personal data never leaves in an integration event: each `PersonalData` value (a patient's name,
a visit's reason or notes...) is replaced by `{"subject": <patient id>}` and the envelope says
`personal_data_withheld`. Topics therefore hold no personal value to erase; a consumer that
needs one reads it through the API (or, inside Slotwise, from the event store).

Consumers turn an integration event back into the domain event it came from, so one
projection definition serves both sources: the event store directly, or Kafka (which reads an
event whose personal data was withheld from the event store instead)."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid5

import msgspec
from eventsourcing.domain import Aggregate

from domain.actor import EventMeta
from domain.agenda import PatientAgenda
from domain.appointment import Appointment
from domain.calendar import ProviderCalendar
from domain.fees import FeeSchedule
from domain.follow_up import FollowUp
from domain.patient import Patient
from domain.payment import Account
from domain.provider import Provider
from domain.saved_report import SavedReport
from domain.series import Series
from domain.slot import Slot
from domain.video_room import VideoRoom
from projections.withholding import PersonalDataWithheldError, Withheld, is_personal, withhold

# 2: personal values are withheld (they were clear text in 1).
SCHEMA_VERSION = 2
EVENT_NAMESPACE = UUID("5b0f7c7e-3a6d-4a3e-9c41-7d2f6f0b1e22")
BASE_FIELDS = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})

# Aggregate type → topic. Anything else (e.g. idempotency records) goes to the internal topic
# with an empty payload, so consumers still see every log position.
TOPICS: dict[str, str] = {
    "Appointment": "slotwise.appointment.v1",
    "Slot": "slotwise.slot.v1",
    "Provider": "slotwise.provider.v1",
    "Patient": "slotwise.patient.v1",
    "ProviderCalendar": "slotwise.calendar.v1",
    "PatientAgenda": "slotwise.agenda.v1",
    "FollowUp": "slotwise.follow_up.v1",
    "VideoRoom": "slotwise.video_room.v1",
    # issue 14: payments, refunds and fees; fee policies
    "Account": "slotwise.account.v1",
    "FeeSchedule": "slotwise.fee_schedule.v1",
    "SavedReport": "slotwise.saved_report.v1",
    # issue 11: recurring series (booked, split)
    "Series": "slotwise.series.v1",
}
INTERNAL_TOPIC = "slotwise.internal.v1"
ALL_TOPICS = (*TOPICS.values(), INTERNAL_TOPIC)
PUBLISHED_AGGREGATES: tuple[type[Aggregate], ...] = (
    Appointment,
    Slot,
    Provider,
    Patient,
    ProviderCalendar,
    PatientAgenda,
    FollowUp,
    VideoRoom,
    Account,  # issue 14
    FeeSchedule,
    SavedReport,
    Series,  # issue 11
)


class IntegrationEvent(msgspec.Struct, frozen=True, kw_only=True):
    """The envelope every published event has. `data` follows the schema of `event_type`."""

    event_id: UUID
    event_type: str
    schema_version: int
    position: int
    aggregate_type: str
    aggregate_id: UUID
    aggregate_version: int
    occurred_at: datetime
    correlation_id: UUID | None
    causation_id: UUID | None
    command: str | None
    actor_role: str | None
    actor_id: UUID | None
    data: dict[str, Any]
    personal_data_withheld: bool = False


def event_id(aggregate_id: UUID, version: int) -> UUID:
    """Event identity: the same for every delivery of one event."""
    return uuid5(EVENT_NAMESPACE, f"{aggregate_id}/{version}")


def _event_classes(aggregate: type[Aggregate]) -> Iterable[type[Any]]:
    for value in vars(aggregate).values():
        if (
            isinstance(value, type)
            and issubclass(value, Aggregate.Event)
            and value.__qualname__.startswith(aggregate.__name__ + ".")
        ):
            yield value


_DATETIME = typing.Annotated[datetime, msgspec.Meta(extra_json_schema={"format": "date-time"})]
_DATE = typing.Annotated[date, msgspec.Meta(extra_json_schema={"format": "date"})]


def _documented(hint: Any) -> Any:
    """The published type: annotated so the JSON Schema says which strings are times, and a
    personal value as its `Withheld` form."""
    if is_personal(hint):
        return Withheld
    if hint is datetime:
        return _DATETIME
    if hint is date:
        return _DATE
    if hint == datetime | None:
        return _DATETIME | None
    return hint


def _payload_struct(event_class: type[Any]) -> type[msgspec.Struct]:
    hints = typing.get_type_hints(event_class)
    fields = [
        (f.name, _documented(hints[f.name]))
        for f in dataclasses.fields(event_class)
        if f.name not in BASE_FIELDS and f.name != "meta"
    ]
    name = event_class.__qualname__.replace(".", "") + f"V{SCHEMA_VERSION}"
    return msgspec.defstruct(name, fields, kw_only=True, forbid_unknown_fields=True)


class Catalog:
    """Every published event type, its payload Struct and its topic."""

    def __init__(self, aggregates: Iterable[type[Aggregate]] = PUBLISHED_AGGREGATES) -> None:
        self.classes: dict[str, type[Any]] = {}
        self.payloads: dict[str, type[msgspec.Struct]] = {}
        self.personal_fields: dict[str, frozenset[str]] = {}
        for aggregate in aggregates:
            for event_class in _event_classes(aggregate):
                name = event_class.__qualname__
                self.classes[name] = event_class
                self.payloads[name] = _payload_struct(event_class)
                hints = typing.get_type_hints(event_class)
                self.personal_fields[name] = frozenset(
                    f for f, hint in hints.items() if is_personal(hint)
                )

    def topic_for(self, event_type: str) -> str:
        if event_type not in self.classes:
            return INTERNAL_TOPIC
        return TOPICS[event_type.split(".", 1)[0]]

    def encode(self, event: Any, position: int) -> IntegrationEvent:
        event_type = type(event).__qualname__
        payload = self.payloads.get(event_type)
        data: dict[str, Any] = {}
        withheld = False
        if payload is not None:
            fields = {}
            for name in payload.__struct_fields__:
                value, personal = withhold(getattr(event, name))
                if personal or (name in self.personal_fields[event_type]):
                    # A personal field recorded as plain text (before tagging): withheld too.
                    value = value if personal else Withheld(subject=None)
                    withheld = True
                fields[name] = value
            data = msgspec.to_builtins(payload(**fields))
        meta: EventMeta | None = getattr(event, "meta", None)
        return IntegrationEvent(
            event_id=event_id(event.originator_id, event.originator_version),
            event_type=event_type,
            schema_version=SCHEMA_VERSION,
            position=position,
            aggregate_type=event_type.split(".", 1)[0],
            aggregate_id=event.originator_id,
            aggregate_version=event.originator_version,
            occurred_at=event.timestamp,
            correlation_id=meta.correlation_id if meta else None,
            causation_id=meta.causation_id if meta else None,
            command=meta.command if meta else None,
            actor_role=meta.actor_role if meta else None,
            actor_id=meta.actor_id if meta else None,
            data=data if payload is not None else {},
            personal_data_withheld=withheld,
        )

    def decode(self, message: IntegrationEvent) -> Any | None:
        """The domain event an integration event came from; None for unpublished types."""
        event_class = self.classes.get(message.event_type)
        if event_class is None:
            return None
        if message.personal_data_withheld:
            msg = f"{message.event_type} {message.event_id} withheld its personal data"
            raise PersonalDataWithheldError(msg)
        payload = msgspec.convert(message.data, self.payloads[message.event_type], strict=False)
        fields = {name: getattr(payload, name) for name in payload.__struct_fields__}
        extra: dict[str, Any] = {}
        if "originator_topic" in {f.name for f in dataclasses.fields(event_class)}:
            aggregate_name = event_class.__qualname__.rsplit(".", 1)[0]
            extra["originator_topic"] = f"{event_class.__module__}:{aggregate_name}"
        if any(f.name == "meta" for f in dataclasses.fields(event_class)):
            if None in (message.actor_id, message.correlation_id, message.causation_id):
                raise ValueError(f"{message.event_type} {message.event_id} lacks its metadata")
            fields["meta"] = EventMeta(
                actor_id=typing.cast(UUID, message.actor_id),
                actor_role=message.actor_role or "",
                correlation_id=typing.cast(UUID, message.correlation_id),
                causation_id=typing.cast(UUID, message.causation_id),
                command=message.command or "",
            )
        return event_class(
            originator_id=message.aggregate_id,
            originator_version=message.aggregate_version,
            timestamp=message.occurred_at,
            **extra,
            **fields,
        )

    def json_schemas(self) -> dict[str, dict[str, Any]]:
        """One JSON Schema per event type: the envelope with its typed `data`."""
        out: dict[str, dict[str, Any]] = {}
        for event_type, payload in sorted(self.payloads.items()):
            envelope = msgspec.defstruct(
                event_type.replace(".", "") + f"EventV{SCHEMA_VERSION}",
                [
                    (f, _documented(t))
                    for f, t in typing.get_type_hints(IntegrationEvent).items()
                    if f != "data"
                ]
                + [("data", payload)],
                kw_only=True,
            )
            out[event_type] = msgspec.json.schema(envelope)
        return out


def message_key(event: IntegrationEvent) -> bytes:
    """Partition key: the aggregate id, so one aggregate's events stay in order."""
    return str(event.aggregate_id).encode()


def message_headers(event: IntegrationEvent) -> list[tuple[str, str | bytes | None]]:
    """Routing metadata only: identifiers and numbers, never PHI."""
    headers: list[tuple[str, str]] = [
        ("event_type", event.event_type),
        ("schema_version", str(event.schema_version)),
        ("position", str(event.position)),
        ("aggregate_version", str(event.aggregate_version)),
        ("event_id", str(event.event_id)),
    ]
    if event.correlation_id:
        headers.append(("correlation_id", str(event.correlation_id)))
    if event.causation_id:
        headers.append(("causation_id", str(event.causation_id)))
    return [(k, v.encode()) for k, v in headers]


def asyncapi_document(catalog: Catalog) -> dict[str, Any]:
    """An AsyncAPI 3.0 description of every topic and message the relay publishes."""
    header_schema = {
        "type": "object",
        "properties": {
            name: {"type": "string"}
            for name in (
                "event_type",
                "schema_version",
                "position",
                "aggregate_version",
                "event_id",
                "correlation_id",
                "causation_id",
            )
        },
        "required": ["event_type", "schema_version", "position", "aggregate_version", "event_id"],
    }
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    for event_type in sorted(catalog.payloads):
        name = event_type.replace(".", "")
        messages[name] = {
            "name": event_type,
            "title": f"{event_type} v{SCHEMA_VERSION}",
            "contentType": "application/json",
            "headers": header_schema,
            "payload": {"$ref": f"events/{event_type}.json"},
            "correlationId": {"location": "$message.header#/correlation_id"},
        }
        topic = catalog.topic_for(event_type)
        channel = channels.setdefault(
            topic.replace(".", "_"),
            {
                "address": topic,
                "description": "Keyed by aggregate id; events of one aggregate stay in order.",
                "messages": {},
            },
        )
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
    internal = INTERNAL_TOPIC.replace(".", "_")
    channels[internal] = {
        "address": INTERNAL_TOPIC,
        "description": "Events of internal aggregates (e.g. idempotency records) with an empty "
        "`data`, so consumers see every log position.",
        "messages": {},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Slotwise integration events",
            "version": f"{SCHEMA_VERSION}.0.0",
            "description": "Every event of the Slotwise event store, relayed in log order.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": {
            f"publish_{key}": {
                "action": "send",
                "channel": {"$ref": f"#/channels/{key}"},
            }
            for key in channels
        },
        "components": {"messages": messages},
    }


def documents(catalog: Catalog) -> dict[str, bytes]:
    """Every published document, by relative path: one JSON Schema per event type plus the
    AsyncAPI description. `slotwise events export` writes them under docs/."""
    out = {
        f"events/{event_type}.json": msgspec.json.format(msgspec.json.encode(schema), indent=2)
        for event_type, schema in catalog.json_schemas().items()
    }
    out["asyncapi.json"] = msgspec.json.format(
        msgspec.json.encode(asyncapi_document(catalog)), indent=2
    )
    return out
