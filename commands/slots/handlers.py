"""Slot capability: create one slot, generate many from weekly hours, block, unblock, cancel."""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from uuid import UUID, uuid4, uuid5

from commands.access import require_own_schedule
from commands.application import Outcome, SlotwiseApplication, use_case
from commands.context import CommandContext
from commands.slots.messages import (
    BlockWindow,
    CancelSlot,
    CreateSlot,
    GenerateSlots,
    UnblockWindow,
)
from commands.workspace import Workspace
from domain.actor import EventMeta
from domain.calendar import ProviderCalendar
from domain.errors import SlotOverlapError, ValidationError
from domain.limits import MAX_GENERATED_SLOTS, MAX_WINDOW
from domain.provider import Provider
from domain.schedule import GenerationRequest, Session, WeeklyHours, generate_slot_times
from domain.slot import Slot
from domain.timerange import TimeRange

GENERATED_SLOT_NAMESPACE = UUID("3c8e5f4a-1d2b-4e6f-9a7c-0b1d2e3f4a5b")


def generated_slot_id(provider_id: UUID, start: datetime) -> UUID:
    # Deterministic, so generating the same range twice names the same slots.
    return uuid5(GENERATED_SLOT_NAMESPACE, f"{provider_id}/{start.isoformat()}")


class SlotCommands(SlotwiseApplication):
    def _calendar(
        self, ws: Workspace, provider_id: UUID, day: date, meta: EventMeta
    ) -> ProviderCalendar:
        return ws.get_or_create(
            ProviderCalendar,
            ProviderCalendar.create_id(provider_id, day),
            partial(ProviderCalendar, provider_id=provider_id, day=day, meta=meta),
        )

    def _place(
        self,
        ws: Workspace,
        provider_id: UUID,
        slot_id: UUID,
        time: TimeRange,
        meta: EventMeta,
    ) -> bool:
        """Enter the slot in every calendar day it touches; False when it is already there, or
        was there and has been cancelled (generated ids are deterministic and never reused)."""
        calendars = [self._calendar(ws, provider_id, day, meta) for day in time.utc_days()]
        if all(c.has_exact(slot_id, time) for c in calendars):
            return False
        if any(c.was_removed(slot_id) for c in calendars):
            return False
        for calendar in calendars:
            calendar.place(slot_id, time, meta)
        return True

    def _new_slot(
        self,
        ws: Workspace,
        cmd: CreateSlot | GenerateSlots,
        slot_id: UUID,
        time: TimeRange,
        meta: EventMeta,
    ) -> Slot:
        """A slot on the command's terms (seats, allowance, types, place)."""
        slot = Slot.create(
            slot_id=slot_id,
            provider_id=cmd.provider_id,
            time=time,
            capacity=cmd.capacity,
            overbook_allowance=cmd.overbook_allowance,
            appointment_types=list(cmd.appointment_types),
            location=cmd.location,
            room=cmd.room,
            meta=meta,
        )
        return ws.add(slot)

    @use_case
    def create_slot(
        self, cmd: CreateSlot, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        require_own_schedule(ctx.actor, cmd.provider_id)
        ws = Workspace(self)
        ws.get(Provider, cmd.provider_id, "provider")
        time = TimeRange(cmd.start, cmd.end)
        if time.end <= now:
            raise ValidationError("a slot must end in the future")
        slot_id = uuid4()
        self._place(ws, cmd.provider_id, slot_id, time, meta)
        slot = self._new_slot(ws, cmd, slot_id, time, meta)
        return Outcome(slot.id, ws.touched())

    @use_case
    def generate_slots(
        self, cmd: GenerateSlots, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        require_own_schedule(ctx.actor, cmd.provider_id)
        ws = Workspace(self)
        provider = ws.get(Provider, cmd.provider_id, "provider")
        sessions: dict[int, list[Session]] = {}
        for s in cmd.sessions:
            sessions.setdefault(s.weekday, []).append(
                Session(s.start, s.end, s.slot_minutes, s.buffer_minutes)
            )
        request = GenerationRequest(
            zone=provider.time_zone,
            first_day=cmd.first_day,
            last_day=cmd.last_day,
            weekly=WeeklyHours(sessions),
            excluded_dates=frozenset(cmd.excluded_dates),
        )
        times = [TimeRange(s, e) for s, e in generate_slot_times(request) if e > now]
        if len(times) > MAX_GENERATED_SLOTS:
            msg = f"this would create {len(times)} slots; split it (at most {MAX_GENERATED_SLOTS})"
            raise ValidationError(msg)
        created = 0
        conflicts: list[str] = []
        for time in times:
            slot_id = generated_slot_id(cmd.provider_id, time.start)
            try:
                placed = self._place(ws, cmd.provider_id, slot_id, time, meta)
            except SlotOverlapError as error:
                conflicts.append(f"{time.start.isoformat()}: {error}")
                continue
            if placed:
                created += 1
                self._new_slot(ws, cmd, slot_id, time, meta)
        if conflicts:
            # All or nothing: nothing is saved when any generated slot clashes.
            shown = "; ".join(conflicts[:5])
            raise SlotOverlapError(f"{len(conflicts)} generated slots overlap others: {shown}")
        return Outcome(cmd.provider_id, ws.touched())

    def _slots_in(self, ws: Workspace, provider_id: UUID, window: TimeRange) -> list[Slot]:
        if window.duration > MAX_WINDOW:
            raise ValidationError(f"a window may span at most {MAX_WINDOW.days} days")
        found: dict[UUID, Slot] = {}
        for day in window.utc_days():
            calendar = self.load_or_none(
                ProviderCalendar, ProviderCalendar.create_id(provider_id, day)
            )
            if calendar is None:
                continue
            for slot_id, (start, end) in calendar.entries.items():
                # Every overlapping slot, including those starting or ending on the boundaries.
                if slot_id not in found and window.overlaps(TimeRange(start, end)):
                    found[slot_id] = ws.get(Slot, slot_id, "slot")
        return list(found.values())

    @use_case
    def block_window(
        self, cmd: BlockWindow, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        require_own_schedule(ctx.actor, cmd.provider_id)
        ws = Workspace(self)
        for slot in self._slots_in(ws, cmd.provider_id, TimeRange(cmd.start, cmd.end)):
            slot.block(cmd.reason, now, meta)
        return Outcome(cmd.provider_id, ws.touched())

    @use_case
    def unblock_window(
        self, cmd: UnblockWindow, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        require_own_schedule(ctx.actor, cmd.provider_id)
        ws = Workspace(self)
        for slot in self._slots_in(ws, cmd.provider_id, TimeRange(cmd.start, cmd.end)):
            slot.unblock(meta)
        return Outcome(cmd.provider_id, ws.touched())

    @use_case
    def cancel_slot(
        self, cmd: CancelSlot, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        ws = Workspace(self)
        slot = ws.get(Slot, cmd.slot_id, "slot")
        require_own_schedule(ctx.actor, slot.provider_id)
        slot.cancel(cmd.reason, now, meta)
        for day in slot.time.utc_days():
            self._calendar(ws, slot.provider_id, day, meta).remove(slot.id, meta)
        return Outcome(slot.id, ws.touched())
