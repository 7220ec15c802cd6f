"""The Appointment aggregate: one patient's visit and its whole lifecycle (DOMAIN.md §3).

It keeps its identity across reschedules. Seat and overlap rules live in Slot and
PatientAgenda; the application saves all three in one atomic write.

Free text about the patient (reason, symptoms, notes, private notes, vitals, and the reasons
given for cancelling, rescheduling or reverting a no-show) is recorded as the patient's
`PersonalData`; ids, times, statuses and codes stay clear. Events recorded before that hold
plain values: `Scheduled` is upcast (it names the patient), the others read as plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actor import EventMeta
from domain.errors import (
    HoldExpiredError,
    InvalidTransitionError,
    TooEarlyError,
    TooLateError,
)
from domain.limits import check_fields, check_reason
from domain.money import check_amount, check_currency
from domain.personal import PersonalData, personal
from domain.policies import (
    CancellationPolicy,
    CheckInWindow,
    NoShowPolicy,
    check_in_allowed,
    is_late_cancellation,
    no_show_allowed,
)


class Status(StrEnum):
    HELD = "held"
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


ACTIVE = frozenset(
    {Status.HELD, Status.BOOKED, Status.CONFIRMED, Status.CHECKED_IN, Status.IN_PROGRESS}
)
CANCELLABLE = frozenset({Status.HELD, Status.BOOKED, Status.CONFIRMED, Status.CHECKED_IN})
RESCHEDULABLE = frozenset({Status.BOOKED, Status.CONFIRMED})
EMPTY: tuple[Any, ...] = ("", [], {})
BOOKING_FEES = (
    "fee_amount",
    "fee_currency",
    "late_cancellation_fee",
    "no_show_fee",
    "policy_currency",
)


@dataclass(frozen=True)
class BookingFees:
    """The consultation fee and the fee policy in force when the appointment was scheduled."""

    fee_amount: Decimal | None = None
    fee_currency: str | None = None
    late_cancellation_fee: Decimal | None = None
    no_show_fee: Decimal | None = None
    policy_currency: str | None = None

    def as_event(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in BOOKING_FEES}


def tagged(subject: UUID, value: Any) -> Any:
    """`value` as the patient's `PersonalData`, unless it is empty: an empty text, list or
    mapping says nothing about anyone, stays plain, and so can still be recorded once the patient
    was erased (a staff cancellation without a reason, say)."""
    if isinstance(value, PersonalData) or value not in EMPTY:
        return personal(subject, value)
    return value


class Appointment(Aggregate):
    class Scheduled(Aggregate.Created):
        patient_id: UUID
        provider_id: UUID
        slot_id: UUID
        start: datetime
        end: datetime
        appointment_type: str
        reason: PersonalData | str  # str: empty (see `tagged`)
        symptoms: PersonalData | list[str]  # one value: the list of texts
        hold_expires_at: datetime | None
        overbooked: bool
        meta: EventMeta
        # The fees in force when it was scheduled (issue 14); None where there was none.
        fee_amount: Decimal | None
        fee_currency: str | None
        late_cancellation_fee: Decimal | None
        no_show_fee: Decimal | None
        policy_currency: str | None

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            subject = state["patient_id"]
            state["reason"] = tagged(subject, state["reason"])
            state["symptoms"] = tagged(subject, state["symptoms"])

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            # Recorded before fees were kept on the booking: what was charged then is unknown.
            for name in BOOKING_FEES:
                state[name] = None

    @event(Scheduled)
    def __init__(
        self,
        id: UUID,
        patient_id: UUID,
        provider_id: UUID,
        slot_id: UUID,
        start: datetime,
        end: datetime,
        appointment_type: str,
        reason: PersonalData | str,
        symptoms: PersonalData | list[str],
        hold_expires_at: datetime | None,
        overbooked: bool,
        meta: EventMeta,
        fee_amount: Decimal | None = None,
        fee_currency: str | None = None,
        late_cancellation_fee: Decimal | None = None,
        no_show_fee: Decimal | None = None,
        policy_currency: str | None = None,
    ) -> None:
        self.fees = BookingFees(
            fee_amount, fee_currency, late_cancellation_fee, no_show_fee, policy_currency
        )
        self.patient_id = patient_id
        self.provider_id = provider_id
        self.slot_id = slot_id
        self.start = start
        self.end = end
        self.appointment_type = appointment_type
        self.reason = reason
        self.symptoms = symptoms
        self.hold_expires_at = hold_expires_at
        self.overbooked = overbooked
        self.status = Status.HELD if hold_expires_at is not None else Status.BOOKED
        self.status_before_no_show: Status | None = None
        self.checked_in_at: datetime | None = None
        self.started_at: datetime | None = None
        self.completed_at: datetime | None = None
        self.reschedule_count = 0
        self.series_id: UUID | None = None
        self.recurrence_id: datetime | None = None
        self.follows_id: UUID | None = None
        self.cancellation_fee: tuple[Decimal, str] | None = None

    @classmethod
    def schedule(
        cls, appointment_id: UUID, reason: str, symptoms: list[str], **booking: Any
    ) -> Appointment:
        """A new appointment with its free text checked; `booking` holds the other fields of
        the Scheduled event (patient, provider, slot, times, type, hold, overbooked, meta)."""
        check_fields(
            {"reason": reason, "symptoms": symptoms}, {"reason": str, "symptoms": list}, "booking"
        )
        subject: UUID = booking["patient_id"]
        return cls(
            id=appointment_id,
            reason=tagged(subject, reason),
            symptoms=tagged(subject, list(symptoms)),
            **booking,
        )

    def _require(self, allowed: frozenset[Status] | set[Status], action: str) -> None:
        if self.status not in allowed:
            msg = f"cannot {action} an appointment that is {self.status.value}"
            raise InvalidTransitionError(msg)

    def is_hold_expired(self, now: datetime) -> bool:
        return (
            self.status is Status.HELD
            and self.hold_expires_at is not None
            and now >= self.hold_expires_at
        )

    def book_from_hold(self, now: datetime, meta: EventMeta) -> None:
        self._require({Status.HELD}, "book from a hold")
        if self.is_hold_expired(now):
            raise HoldExpiredError("the hold has expired; hold or book the slot again")
        self._booked_from_hold(meta)

    class BookedFromHold(Aggregate.Event):
        meta: EventMeta

    @event(BookedFromHold)
    def _booked_from_hold(self, meta: EventMeta) -> None:
        self.status = Status.BOOKED
        self.hold_expires_at = None

    def confirm(self, meta: EventMeta) -> None:
        self._require({Status.BOOKED}, "confirm")
        self._confirmed(meta)

    class Confirmed(Aggregate.Event):
        meta: EventMeta

    @event(Confirmed)
    def _confirmed(self, meta: EventMeta) -> None:
        self.status = Status.CONFIRMED

    def check_in(self, now: datetime, window: CheckInWindow, meta: EventMeta) -> None:
        self._require({Status.BOOKED, Status.CONFIRMED}, "check in")
        if not check_in_allowed(self.start, now, window):
            if now < self.start:
                raise TooEarlyError(f"check-in opens {window.before} before the start")
            raise TooLateError(f"check-in closed {window.after} after the start")
        self._checked_in(now, meta)

    class CheckedIn(Aggregate.Event):
        at: datetime
        meta: EventMeta

    @event(CheckedIn)
    def _checked_in(self, at: datetime, meta: EventMeta) -> None:
        self.status = Status.CHECKED_IN
        self.checked_in_at = at

    def begin(self, now: datetime, meta: EventMeta) -> None:
        self._require({Status.CHECKED_IN}, "start")
        assert self.checked_in_at is not None  # noqa: S101 - set by CheckedIn
        # Waiting counts from check-in, or from the scheduled start if the patient came early.
        wait = max(now - max(self.checked_in_at, self.start), timedelta(0))
        self._started(now, int(wait.total_seconds()), meta)

    class Started(Aggregate.Event):
        at: datetime
        wait_seconds: int
        meta: EventMeta

    @event(Started)
    def _started(self, at: datetime, wait_seconds: int, meta: EventMeta) -> None:
        self.status = Status.IN_PROGRESS
        self.started_at = at

    def complete(
        self,
        now: datetime,
        notes: str,
        private_notes: str,
        vitals: dict[str, Any],
        follow_up_requested: bool,
        meta: EventMeta,
    ) -> None:
        check_fields(
            {"notes": notes, "private_notes": private_notes, "vitals": vitals},
            {"notes": str, "private_notes": str, "vitals": dict},
            "completion",
        )
        self._require({Status.IN_PROGRESS}, "complete")
        assert self.started_at is not None  # noqa: S101 - set by Started
        duration = int((now - self.started_at).total_seconds())
        mine = self._personal
        self._completed(
            now, duration, mine(notes), mine(private_notes), mine(vitals), follow_up_requested, meta
        )

    def _personal(self, value: Any) -> Any:
        return tagged(self.patient_id, value)

    class Completed(Aggregate.Event):
        at: datetime
        duration_seconds: int
        notes: PersonalData | str  # str: recorded before personal data was wrapped
        private_notes: PersonalData | str
        vitals: PersonalData | dict[str, Any]
        follow_up_requested: bool
        meta: EventMeta

    @event(Completed)
    def _completed(
        self,
        at: datetime,
        duration_seconds: int,
        notes: PersonalData | str,
        private_notes: PersonalData | str,
        vitals: PersonalData | dict[str, Any],
        follow_up_requested: bool,
        meta: EventMeta,
    ) -> None:
        self.status = Status.COMPLETED
        self.completed_at = at
        # Searchable by the patient and their providers; private notes are not kept here.
        self.notes = notes

    def cancel(
        self,
        now: datetime,
        reason: str,
        policy: CancellationPolicy,
        fee: Decimal | None,
        currency: str | None,
        meta: EventMeta,
    ) -> bool:
        """Cancel; returns whether it was a late cancellation under the policy."""
        check_reason(reason)
        if fee is not None:
            check_amount("fee", fee)
        if currency is not None:
            check_currency("currency", currency)
        self._require(CANCELLABLE, "cancel")
        late = self.status is not Status.HELD and is_late_cancellation(self.start, now, policy)
        if fee is None and self.fees.late_cancellation_fee is not None:
            # The caller named no fee: the policy in force at scheduling applies.
            fee, currency = self.fees.late_cancellation_fee, self.fees.policy_currency
        charged = fee if late else None
        fee_currency = currency if charged is not None else None
        self._cancelled(now, self._personal(reason), late, charged, fee_currency, meta)
        return late

    class Cancelled(Aggregate.Event):
        at: datetime
        reason: PersonalData | str
        late: bool
        fee: Decimal | None
        currency: str | None
        meta: EventMeta

    @event(Cancelled)
    def _cancelled(
        self,
        at: datetime,
        reason: PersonalData | str,
        late: bool,
        fee: Decimal | None,
        currency: str | None,
        meta: EventMeta,
    ) -> None:
        self.status = Status.CANCELLED
        self.cancellation_fee = (fee, currency) if fee is not None and currency else None

    def expire_hold(self, now: datetime, meta: EventMeta) -> None:
        self._require({Status.HELD}, "expire the hold of")
        if not self.is_hold_expired(now):
            raise TooEarlyError("the hold has not expired yet")
        self._hold_expired(meta)

    class HoldExpired(Aggregate.Event):
        meta: EventMeta

    @event(HoldExpired)
    def _hold_expired(self, meta: EventMeta) -> None:
        self.status = Status.CANCELLED

    def reschedule(
        self,
        slot_id: UUID,
        start: datetime,
        end: datetime,
        reason: str,
        meta: EventMeta,
        *,
        provider_id: UUID | None = None,
        overbooked: bool = False,
    ) -> None:
        """Move to another slot. A confirmation is kept when only the time moves with the same
        provider (the patient confirmed attendance with them); a move to `provider_id` (staff
        only, checked by the caller) needs a new one. `overbooked` is that of the new seat."""
        check_reason(reason)
        self._require(RESCHEDULABLE, "reschedule")
        if slot_id == self.slot_id:
            raise InvalidTransitionError("the appointment is already in that slot")
        moves = provider_id is not None and provider_id != self.provider_id
        keeps = self.status is Status.CONFIRMED and not moves
        mine = self._personal(reason)
        self._rescheduled(
            self.slot_id,
            self.start,
            slot_id,
            start,
            end,
            mine,
            meta,
            provider_id if moves else None,
            overbooked,
            keeps,
        )

    class Rescheduled(Aggregate.Event):
        from_slot_id: UUID
        from_start: datetime
        slot_id: UUID
        start: datetime
        end: datetime
        reason: PersonalData | str
        meta: EventMeta
        provider_id: UUID | None  # set when staff moved the visit to another provider
        overbooked: bool | None  # the new seat's; None in events recorded before version 2
        confirmation_kept: bool

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["provider_id"] = None
            state["overbooked"] = None
            state["confirmation_kept"] = False

    @event(Rescheduled)
    def _rescheduled(
        self,
        from_slot_id: UUID,
        from_start: datetime,
        slot_id: UUID,
        start: datetime,
        end: datetime,
        reason: PersonalData | str,
        meta: EventMeta,
        provider_id: UUID | None,
        overbooked: bool | None,
        confirmation_kept: bool,
    ) -> None:
        self.slot_id = slot_id
        self.start = start
        self.end = end
        self.status = Status.CONFIRMED if confirmation_kept else Status.BOOKED
        self.reschedule_count += 1
        if provider_id is not None:
            self.provider_id = provider_id
        if overbooked is not None:
            self.overbooked = overbooked

    def join_series(self, series_id: UUID, recurrence_id: datetime, meta: EventMeta) -> None:
        """Belong to a series as its occurrence `recurrence_id` (at booking, or on a split)."""
        if self.series_id != series_id:
            self._joined_series(series_id, recurrence_id, meta)

    class JoinedSeries(Aggregate.Event):
        series_id: UUID
        recurrence_id: datetime
        meta: EventMeta

    @event(JoinedSeries)
    def _joined_series(self, series_id: UUID, recurrence_id: datetime, meta: EventMeta) -> None:
        self.series_id = series_id
        self.recurrence_id = recurrence_id

    def link_to_visit(self, follows_id: UUID, follow_up_id: UUID, meta: EventMeta) -> None:
        """Record that this appointment is the follow-up `follow_up_id` of visit `follows_id`."""
        self._linked_to_visit(follows_id, follow_up_id, meta)

    class LinkedToVisit(Aggregate.Event):
        follows_id: UUID
        follow_up_id: UUID
        meta: EventMeta

    @event(LinkedToVisit)
    def _linked_to_visit(self, follows_id: UUID, follow_up_id: UUID, meta: EventMeta) -> None:
        self.follows_id = follows_id

    def mark_no_show(self, now: datetime, policy: NoShowPolicy, meta: EventMeta) -> None:
        # A checked-in patient is present: they can't be a no-show (original defect 6).
        self._require({Status.BOOKED, Status.CONFIRMED}, "mark as no-show")
        if not no_show_allowed(self.start, now, policy):
            raise TooEarlyError(f"a no-show can be recorded {policy.grace} after the start")
        self._no_show(now, self.status.value, meta)

    class MarkedNoShow(Aggregate.Event):
        at: datetime
        previous_status: str
        meta: EventMeta

    @event(MarkedNoShow)
    def _no_show(self, at: datetime, previous_status: str, meta: EventMeta) -> None:
        self.status_before_no_show = Status(previous_status)
        self.status = Status.NO_SHOW

    def revert_no_show(self, reason: str, meta: EventMeta) -> None:
        check_reason(reason)
        self._require({Status.NO_SHOW}, "revert the no-show of")
        assert self.status_before_no_show is not None  # noqa: S101 - set by MarkedNoShow
        self._no_show_reverted(self._personal(reason), self.status_before_no_show.value, meta)

    class NoShowReverted(Aggregate.Event):
        reason: PersonalData | str
        restored_status: str
        meta: EventMeta

    @event(NoShowReverted)
    def _no_show_reverted(
        self, reason: PersonalData | str, restored_status: str, meta: EventMeta
    ) -> None:
        self.status = Status(restored_status)
        self.status_before_no_show = None
