"""Shared test builders: event metadata, actors and command contexts, the in-memory application,
and the steps most command tests start from (register, publish a slot, hold, book).

Unit tests pass an in-memory application, integration tests one on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

from api.deps import Services
from commands.appointments.messages import BookAppointment, HoldAppointment
from commands.context import CommandContext
from commands.directory.messages import (
    PatientDetails,
    ProviderProfile,
    RegisterPatient,
    RegisterProvider,
)
from commands.ports import Clock, KeyStore
from commands.scheduling import Scheduling
from commands.slots.messages import BlockWindow, CreateSlot, GenerateSlots, WorkingSession
from commands.structs import CommandResult
from domain.actor import Actor, EventMeta, Role
from domain.appointment import Appointment
from domain.slot import Slot
from infra.crypto.transcoding import PersonalDataAsCiphertext
from tests.fakes import (
    FixedClock,
    FixedPositions,
    InMemoryKeyStore,
    RecordingSearch,
    StillAnalytics,
    StillQueries,
)

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday, 09:00 in Berlin
TEN = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
HALF_HOUR = timedelta(minutes=30)

# For aggregates and projections built by hand, outside any command.
META = EventMeta(
    actor_id=uuid4(), actor_role="staff", correlation_id=uuid4(), causation_id=uuid4(), command="T"
)

STAFF = Actor(uuid4(), Role.STAFF)
SYSTEM = Actor(uuid4(), Role.SYSTEM)

# Ignore any persistence settings of the shell: the unit suite runs in memory.
IN_MEMORY = {
    "PERSISTENCE_MODULE": "eventsourcing.popo",
    "SLOTWISE_PERSISTENCE_MODULE": "eventsourcing.popo",
}


def in_memory_app(clock: Clock | None = None, keys: KeyStore | None = None) -> Scheduling:
    """Scheduling in memory, its personal data encrypted with keys in `keys` (a fresh
    `InMemoryKeyStore` unless given)."""
    return keyed(Scheduling, keys or InMemoryKeyStore())(IN_MEMORY, clock=clock)


def keyed(app_class: type[Scheduling], keys: KeyStore) -> type[Scheduling]:
    """`app_class` with personal data encrypted under `keys`, as every process wires it."""
    return app_class.with_personal_data(PersonalDataAsCiphertext(keys), keys)


def patient(patient_id: UUID) -> Actor:
    return Actor(patient_id, Role.PATIENT)


def provider(provider_id: UUID) -> Actor:
    return Actor(provider_id, Role.PROVIDER)


def as_(actor: Actor, key: str | None = None) -> CommandContext:
    return CommandContext(actor, idempotency_key=key)


def as_staff(key: str | None = None) -> CommandContext:
    return as_(STAFF, key)


def as_system() -> CommandContext:
    return as_(SYSTEM)


def as_patient(patient_id: UUID, key: str | None = None) -> CommandContext:
    return as_(patient(patient_id), key)


def register_provider(
    app: Scheduling, zone: str = "Europe/Berlin", name: str = "Dr Ada Lovelace"
) -> UUID:
    profile = ProviderProfile(name=name, time_zone=zone)
    return app.register_provider(RegisterProvider(profile=profile), as_staff()).id


def register_patient(app: Scheduling, name: str = "Grace Hopper") -> UUID:
    """A patient registered by staff."""
    details = PatientDetails(name=name, time_zone="Europe/Berlin")
    return app.register_patient(RegisterPatient(details=details), as_staff()).id


def patient_registers(app: Scheduling, name: str = "Grace Hopper") -> UUID:
    """A patient who registered themselves, under the id of their token."""
    patient_id = uuid4()
    details = PatientDetails(name=name, time_zone="Europe/Berlin")
    app.register_patient(RegisterPatient(details=details), as_patient(patient_id))
    return patient_id


def create_slot(
    app: Scheduling, provider_id: UUID, start: datetime = TEN, minutes: int = 30, **terms: Any
) -> UUID:
    end = start + timedelta(minutes=minutes)
    command = CreateSlot(provider_id=provider_id, start=start, end=end, **terms)
    return app.create_slot(command, as_staff()).id


def mornings(provider_id: UUID) -> GenerateSlots:
    """Tuesday mornings 09:00-12:00 in the provider's zone, for two weeks."""
    return GenerateSlots(
        provider_id=provider_id,
        first_day=date(2026, 11, 24),
        last_day=date(2026, 12, 1),
        sessions=[WorkingSession(weekday=2, start=time(9), end=time(12), slot_minutes=30)],
    )


def block(app: Scheduling, provider_id: UUID, start: datetime, end: datetime) -> None:
    """The provider blocks a window of their own schedule."""
    command = BlockWindow(provider_id=provider_id, start=start, end=end, reason="conference")
    app.block_window(command, as_(provider(provider_id)))


def book(app: Scheduling, slot_id: UUID, patient_id: UUID, **fields: Any) -> CommandResult:
    """Staff book a seat for the patient."""
    command = BookAppointment(slot_id=slot_id, patient_id=patient_id, **fields)
    return app.book(command, as_staff())


def hold(app: Scheduling, slot_id: UUID, patient_id: UUID, minutes: int = 10) -> CommandResult:
    """Staff hold a seat for the patient."""
    command = HoldAppointment(
        slot_id=slot_id, patient_id=patient_id, appointment_type="in_person", hold_minutes=minutes
    )
    return app.hold(command, as_staff())


def patient_books(app: Scheduling, patient_id: UUID, slot_id: UUID, **fields: Any) -> UUID:
    """The patient books a seat for themselves."""
    return app.book(BookAppointment(slot_id=slot_id, **fields), as_patient(patient_id)).id


def patient_holds(app: Scheduling, patient_id: UUID, slot_id: UUID, **fields: Any) -> UUID:
    """The patient holds a seat for themselves."""
    command = HoldAppointment(slot_id=slot_id, appointment_type="in_person", **fields)
    return app.hold(command, as_patient(patient_id)).id


def appointment_of(app: Scheduling, appointment_id: UUID) -> Appointment:
    return app.load(Appointment, appointment_id, "appointment")


def slot_of(app: Scheduling, slot_id: UUID) -> Slot:
    return app.load(Slot, slot_id, "slot")


def all_events(app: Scheduling, after: int = 0) -> list[Any]:
    notifications = app.recorder.select_notifications(start=after + 1, limit=100_000)
    return [app.mapper.to_domain_event(n) for n in notifications]


def events_between(app: Scheduling, after: int, upto: int) -> list[Any]:
    """The stored events with notification ids in (after, upto], as domain events."""
    notifications = app.recorder.select_notifications(
        start=after + 1, stop=upto, limit=max(upto - after, 1)
    )
    return [app.mapper.to_domain_event(n) for n in notifications]


def names(events: list[Any], originator_id: UUID | None = None) -> list[str]:
    """`Aggregate.Event` names of the events (of one originator, if given), in log order."""
    return [
        type(e).__qualname__
        for e in events
        if originator_id is None or e.originator_id == originator_id
    ]


def in_memory_services(clock: FixedClock, **parts: Any) -> Services:
    """The API's services in memory: the application on `clock`, read models standing still
    (scheduling at 5), a page size of 50; `parts` replaces or adds any of them."""
    defaults: dict[str, Any] = {
        "scheduling": in_memory_app(clock),
        "queries": StillQueries(position=5),
        "analytics": StillAnalytics(position=3),
        "search": RecordingSearch(),
        "positions": FixedPositions(head=10, scheduling=5, analytics=3, search=4),
        "clock": clock,
        "read_wait_seconds": 0.01,
        "max_page_size": 50,
    }
    return Services(**{**defaults, **parts})
