"""Recurring series: book every occurrence (all or nothing, or an explicit partial result),
cancel or reschedule one, "this and following" (the series splits) or all. Each command checks
every occurrence inside the write and saves every aggregate it touched in one atomic save."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import UUID, uuid4

from commands.access import patient_for, require_role, require_visible
from commands.application import Outcome, use_case
from commands.appointments.handlers import AppointmentCommands
from commands.context import CommandContext
from commands.series.messages import BookSeries, CancelSeries, RescheduleSeries
from commands.series.seats import Refusal, SeatFinder
from commands.workspace import Workspace
from domain.actor import Actor, EventMeta, Role
from domain.appointment import CANCELLABLE, RESCHEDULABLE, Appointment
from domain.errors import InvalidTransitionError, ValidationError
from domain.patient import Patient
from domain.provider import Provider
from domain.recurrence import RecurrenceError, expand, occurrence_shift, parse_rule, shifted
from domain.series import Series, SeriesConflictError, SeriesMode


def _conflict(verb: str, refusals: list[Refusal]) -> SeriesConflictError:
    when = ", ".join(r.recurrence_id.isoformat() for r in refusals)
    msg = f"{len(refusals)} occurrence(s) cannot be {verb}: {when}"
    return SeriesConflictError(msg, [r.as_record() for r in refusals])


class SeriesCommands(AppointmentCommands):
    def load_series(self, series_id: UUID, actor: Actor) -> tuple[Series, list[Appointment]]:
        """The series and its occurrences' appointments, if `actor` may see them (the patient,
        the provider, staff and auditors); else NotFoundError, as for anything not there."""
        series = self.load(Series, series_id, "series")
        require_visible(actor, series, "series")
        ids = [series.occurrences[r] for r in sorted(series.occurrences)]
        return series, [self.load(Appointment, a, "appointment") for a in ids]

    def _finder(self, ws: Workspace, actor: Actor, series: Series, now: datetime) -> SeatFinder:
        window = self.policies.booking if actor.role is Role.PATIENT else None
        return SeatFinder(
            ws, series.provider_id, series.appointment_type, series.patient_id, now, window
        )

    @use_case
    def book_series(
        self, cmd: BookSeries, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        patient = patient_for(ctx.actor, cmd.patient_id)
        ws = Workspace(self)
        ws.get(Patient, patient, "patient").require_not_erased()
        provider = ws.get(Provider, cmd.provider_id, "provider")
        rule = parse_rule(cmd.rrule)
        if cmd.first_start <= now:
            raise RecurrenceError("DTSTART", "first_start must be in the future")
        horizon = now + self.policies.series_horizon
        exdates = tuple(cmd.exdates)
        starts = expand(rule, cmd.first_start, provider.time_zone, horizon=horizon, exdates=exdates)
        window = self.policies.booking if ctx.actor.role is Role.PATIENT else None
        finder = SeatFinder(ws, provider.id, cmd.appointment_type, patient, now, window)
        series_id = uuid4()
        booked: dict[datetime, UUID] = {}
        refused: list[Refusal] = []
        for start in starts:
            appointment_id = uuid4()
            slot, refusal = finder.judge(appointment_id, start)
            if refusal is not None:
                refused.append(refusal)
                continue
            assert slot is not None  # noqa: S101 - judge gives one of the two
            booking = self._seat(ws, slot, appointment_id, patient, cmd, None, False, meta, now)
            booking.join_series(series_id, start, meta)
            booked[start] = appointment_id
        if refused and (SeriesMode(cmd.mode) is SeriesMode.ALL_OR_NOTHING or not booked):
            raise _conflict("booked", refused)
        series = Series(
            id=series_id,
            patient_id=patient,
            provider_id=provider.id,
            appointment_type=cmd.appointment_type,
            rule=rule.text,
            zone=provider.time_zone,
            first_start=starts[0],
            exdates=[e.astimezone(starts[0].tzinfo) for e in exdates],
            mode=cmd.mode,
            recurrence_ids=list(booked),
            appointment_ids=list(booked.values()),
            refused=[r.as_record() for r in refused],
            split_from=None,
            meta=meta,
        )
        ws.add(series)
        return Outcome(series_id, ws.touched(), {"series_id": series_id})

    def _targets(
        self,
        ws: Workspace,
        series: Series,
        scope: str,
        recurrence_id: datetime | None,
        meta: EventMeta,
    ) -> tuple[list[Appointment], datetime | None]:
        """The occurrences a scope names, and where the series splits (None: no split)."""
        if scope == "all":
            if recurrence_id is not None:
                raise ValidationError("scope all names no recurrence_id")
            chosen = dict(sorted(series.occurrences.items()))
            split_at = None
        elif recurrence_id is None:
            raise ValidationError(f"scope {scope} needs the occurrence's recurrence_id")
        elif scope == "one":
            chosen = {recurrence_id: series.appointment_at(recurrence_id)}
            split_at = None
        else:
            chosen = series.following(recurrence_id)
            first = min(series.occurrences)
            split_at = None if recurrence_id == first else recurrence_id
        return [ws.get(Appointment, a, "appointment") for a in chosen.values()], split_at

    def _split(self, ws: Workspace, series: Series, at: datetime, meta: EventMeta) -> UUID:
        following = series.following(at)
        child = Series(
            id=uuid4(),
            patient_id=series.patient_id,
            provider_id=series.provider_id,
            appointment_type=series.appointment_type,
            rule=series.rule,
            zone=series.zone,
            first_start=at,
            exdates=[e for e in series.exdates if e >= at],
            mode=series.mode.value,
            recurrence_ids=list(following),
            appointment_ids=list(following.values()),
            refused=[r for r in series.refused if datetime.fromisoformat(r["recurrence_id"]) >= at],
            split_from=series.id,
            meta=meta,
        )
        series.split(at, child.id, meta)
        for recurrence, appointment_id in following.items():
            ws.get(Appointment, appointment_id, "appointment").join_series(
                child.id, recurrence, meta
            )
        ws.add(child)
        return child.id

    def _acting_series(self, ws: Workspace, series_id: UUID, actor: Actor, *roles: Role) -> Series:
        series = ws.get(Series, series_id, "series")
        require_visible(actor, series, "series")
        require_role(actor, *roles)
        return series

    @use_case
    def cancel_series(
        self, cmd: CancelSeries, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws = Workspace(self)
        roles = (Role.PATIENT, Role.PROVIDER, Role.STAFF)
        series = self._acting_series(ws, cmd.series_id, ctx.actor, *roles)
        targets, split_at = self._targets(ws, series, cmd.scope, cmd.recurrence_id, meta)
        live = [a for a in targets if a.status in CANCELLABLE]
        if not live:
            raise InvalidTransitionError("no occurrence in that scope can be cancelled")
        policy = self.policies.cancellation
        for appointment in live:
            appointment.cancel(now, cmd.reason, policy, None, None, meta)
            self._release(ws, appointment, "appointment cancelled", meta)
        ids = {"series_id": series.id}
        if split_at is not None:
            ids["new_series_id"] = self._split(ws, series, split_at, meta)
        return Outcome(series.id, ws.touched(), ids)

    @use_case
    def reschedule_series(
        self, cmd: RescheduleSeries, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws = Workspace(self)
        series = self._acting_series(ws, cmd.series_id, ctx.actor, Role.PATIENT, Role.STAFF)
        targets, split_at = self._targets(ws, series, cmd.scope, cmd.recurrence_id, meta)
        movable = [a for a in targets if a.status in RESCHEDULABLE]
        if not movable:
            raise InvalidTransitionError("no occurrence in that scope can be rescheduled")
        shift = occurrence_shift(movable[0].start, cmd.new_start, series.zone)
        if not shift:
            raise ValidationError("new_start is the occurrence's current start")
        # Later ones first when moving later (earlier first when moving earlier), so a seat or
        # agenda time one occurrence leaves is free for the next.
        movable.sort(key=lambda a: a.start, reverse=shift.total_seconds() > 0)
        finder = self._finder(ws, ctx.actor, series, now)
        refused: list[Refusal] = []
        for appointment in movable:
            new_start = shifted(appointment.start, shift, series.zone)
            if new_start is None:
                detail = "the moved wall time does not exist that day (a DST gap)"
                refused.append(Refusal(appointment.start, "no-slot", detail))
                continue
            slot, refusal = finder.judge(appointment.id, new_start)
            if refusal is not None:
                recurrence = appointment.recurrence_id or appointment.start
                detail = f"to {new_start.isoformat()}: {refusal.detail}"
                refused.append(replace(refusal, recurrence_id=recurrence, detail=detail))
                continue
            assert slot is not None  # noqa: S101 - judge gives one of the two
            self._move(ws, appointment, slot, cmd.reason, meta, now)
        if refused:
            raise _conflict("moved", refused)
        ids = {"series_id": series.id}
        if split_at is not None:
            ids["new_series_id"] = self._split(ws, series, split_at, meta)
        return Outcome(series.id, ws.touched(), ids)
