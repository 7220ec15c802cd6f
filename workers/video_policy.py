"""The room policy (issue 13): video rooms follow their appointments. It reads the `video`
projection's plans, which follow the Appointment's events, decides what each visit's room needs
now (`next_action`, pure), does it at the provider through the `VideoRooms` port, and records
what it did on the visit's VideoRoom (opened, moved, closed).

- A room opens `lead` before the start (at once for a visit booked inside the lead), never for
  an in-person or phone visit (they have no plan) nor for a hold.
- A reschedule moves it: a room that is open and no longer due is closed (`moved`) and opens
  again at the new time; one still due keeps going with the new times.
- Completed, cancelled (or an expired hold) and no-show close it; so does the end plus the grace.

Every step is idempotent: the provider finds a room by its name and closing a closed room does
nothing; the VideoRoom records nothing twice. The plans only nominate; the aggregates decide,
so a visit cancelled since the plan was read is left alone (and a room opened for it is closed
at once)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

import structlog

from commands.context import CommandContext
from commands.ports import Clock, RoomSpec, VideoRooms
from commands.scheduling import Scheduling
from commands.telehealth.messages import CloseReason, CloseVideoRoom, MoveVideoRoom, OpenVideoRoom
from domain.actor import Actor, Role
from domain.errors import ConflictError, NotFoundError
from domain.video_visit import VideoPolicy, room_name, room_should_be_open
from projections.video_queries import RoomPlan, VideoQueries

log = structlog.stdlib.get_logger("slotwise.video")

POLICY_ACTOR = Actor(UUID("00000000-0000-4000-8000-0000000f1de0"), Role.SYSTEM)
CLOSE_REASONS: dict[str, CloseReason] = {
    "completed": "completed",
    "cancelled": "cancelled",
    "no_show": "no_show",
}


@dataclass(frozen=True)
class Action:
    kind: Literal["open", "move", "close"]
    reason: CloseReason | None = None


def next_action(plan: RoomPlan, now: datetime, policy: VideoPolicy) -> Action | None:
    """What the visit's room needs now, if anything."""
    if plan.wanted == "closed":
        reason = CLOSE_REASONS.get(plan.close_reason or "", "ended")
        return Action("close", reason) if plan.room_open else None
    if plan.wanted != "open":
        return None  # a hold: no room until it is booked
    due = room_should_be_open(plan.start_at, plan.end_at, now, policy)
    if not plan.room_open:
        return Action("open") if due else None
    if (plan.room_start_at, plan.room_end_at) != (plan.start_at, plan.end_at):
        return Action("move") if due else Action("close", "moved")
    if now >= plan.end_at + policy.grace:
        return Action("close", "ended")
    return None


class RoomKeeper:
    def __init__(
        self,
        app: Scheduling,
        queries: VideoQueries,
        rooms: VideoRooms,
        clock: Clock,
        spec: RoomSpec,
    ) -> None:
        """`spec` gives the timeouts and capacity of every room (its name is replaced)."""
        self.app = app
        self.queries = queries
        self.rooms = rooms
        self.clock = clock
        self.spec = spec
        self.policy = app.policies.video

    def tick(self, batch: int = 100) -> int:
        """Act on every plan due now; returns how many rooms were opened, moved or closed."""
        now = self.clock.now()
        done = 0
        plans = self.queries.due_plans(now, self.policy.lead, self.policy.grace, batch)
        for plan in plans:
            action = next_action(plan, now, self.policy)
            if action is not None and self._act(plan.appointment_id, action):
                done += 1
        return done

    def _act(self, appointment_id: UUID, action: Action) -> bool:
        ctx = CommandContext(POLICY_ACTOR)
        name = room_name(appointment_id)
        try:
            if action.kind == "open":
                opened = self.rooms.open(_named(self.spec, name))
                try:
                    self.app.open_video_room(
                        OpenVideoRoom(
                            appointment_id=appointment_id,
                            provider=self.rooms.provider,
                            provider_room_id=opened.provider_room_id,
                        ),
                        ctx,
                    )
                except (ConflictError, NotFoundError):
                    self.rooms.close(name)  # the visit ended meanwhile: no room for it
                    raise
            elif action.kind == "move":
                self.app.move_video_room(MoveVideoRoom(appointment_id=appointment_id), ctx)
            else:
                self.rooms.close(name)
                reason = action.reason or "ended"
                self.app.close_video_room(
                    CloseVideoRoom(appointment_id=appointment_id, reason=reason), ctx
                )
        except (ConflictError, NotFoundError) as refused:
            log.info(
                "video room left as it is",
                appointment_id=str(appointment_id),
                action=action.kind,
                refused=type(refused).__name__,
            )
            return False
        log.info("video room", appointment_id=str(appointment_id), action=action.kind)
        return True


def _named(spec: RoomSpec, name: str) -> RoomSpec:
    return RoomSpec(name, spec.empty_timeout, spec.departure_timeout, spec.max_participants)


def run_room_keeper(keeper: RoomKeeper, stop: threading.Event, interval: float = 2.0) -> None:
    while not stop.is_set():
        try:
            keeper.tick()
        except Exception:
            # The provider or the database is away: nothing moved on, the next tick retries.
            log.exception("video room policy failed; retrying", interval_s=interval)
        stop.wait(interval)
