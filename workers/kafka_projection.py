"""A projection fed from Kafka, with the event store as the source of truth.

Per batch of deliveries, in one PostgreSQL transaction: the row changes, each aggregate's
applied version, and the partitions' next offsets. Then:
- a delivery at or below an aggregate's applied version is a duplicate and is ignored;
- a delivery above the next version means events were lost in transit: the missing ones are
  read from the event store and applied first;
- the watermark (the position every earlier event is applied up to, which `min_position`
  waits on) advances over the log; if it stalls on an event that never arrives (a broker that
  lost its data, a truncated topic), the worker reads that event from the event store.
A poison event is retried, then dead-lettered; by default the projection stops there and, given
a stop flag, waits (up, and reporting itself stopped) until an operator skips the dead letter or
asks for a retry (`slotwise deadletters`). A transient error (the database or the broker away)
is not poison: the batch's transaction rolls back, the worker waits it out and rewinds to the
offsets it stored, so nothing is skipped and the applied versions keep anything from being
applied twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

import msgspec
import structlog

from commands.scheduling import Scheduling
from projections.changes import Change
from projections.delivery import Applicable, DeadLetter, ProjectionState, failure_summary
from projections.integration import Catalog, IntegrationEvent, event_id
from workers.resilience import Transient, keep_running, never

log = structlog.stdlib.get_logger("slotwise.kafka_projection")


class DeliveryLike(Protocol):
    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def value(self) -> bytes: ...


class Deliveries(Protocol):
    def poll(self, max_messages: int, timeout: float) -> Sequence[DeliveryLike]: ...

    def rewind(self) -> None:
        """Deliver again from the offsets the projection stored (its last committed batch)."""
        ...

    def close(self) -> None: ...


class PoisonEventError(RuntimeError):
    """An event could not be applied after bounded retries; the projection stops before it."""


@dataclass
class Counters:
    applied: int = 0
    duplicates: int = 0
    gap_filled: int = 0
    caught_up: int = 0
    dead_lettered: int = 0


@dataclass
class KafkaProjector:
    app: Scheduling
    changes_for: Callable[[Any], list[Change]]
    state: ProjectionState
    catalog: Catalog = field(default_factory=Catalog)
    skip_poison: bool = False
    max_attempts: int = 3
    catch_up_after: float = 2.0
    counters: Counters = field(default_factory=Counters)
    # Without it a dead letter ends the projection (PoisonEventError); with it the projection
    # waits there for an operator, until the flag is set.
    stop: threading.Event | None = None
    operator_poll: float = 1.0
    # Whether an error is an outage to wait out (raised as is) rather than a failing event.
    transient: Transient = never
    _stalled_since: float | None = None

    def _changes(self, event: Any) -> tuple[list[Change], str | None]:
        if event is None:
            return [], None
        error: Exception = RuntimeError("no attempt")
        for _ in range(self.max_attempts):
            try:
                return self.changes_for(event), None
            except Exception as failure:
                if self.transient(failure):
                    raise
                error = failure
        return [], failure_summary(error)

    def _applicable(self, event: Any, event_type: str, position: int | None) -> Applicable:
        changes, error = self._changes(event)
        return Applicable(
            event.originator_id, event.originator_version, event_type, position, changes, error
        )

    def _plan(self, events: Sequence[tuple[UUID, int, str, int | None, Any]]) -> list[Applicable]:
        """Order-preserving plan: drop duplicates, fill version gaps from the event store."""
        known = self.state.versions({e[0] for e in events})
        plan: list[Applicable] = []
        for aggregate_id, version, event_type, position, event in events:
            last = known.get(aggregate_id, 0)
            if version <= last:
                self.counters.duplicates += 1
                continue
            if version > last + 1:
                missing = list(self.app.events.get(aggregate_id, gt=last, lte=version - 1))
                self.counters.gap_filled += len(missing)
                plan.extend(self._applicable(m, type(m).__qualname__, None) for m in missing)
            changes, error = self._changes(event)
            plan.append(Applicable(aggregate_id, version, event_type, position, changes, error))
            known[aggregate_id] = version
        return plan

    def handle(self, deliveries: Sequence[DeliveryLike]) -> int:
        """Apply a batch of deliveries; returns the watermark after it."""
        if deliveries:
            events = []
            offsets: dict[tuple[str, int], int] = {}
            for delivery in deliveries:
                message = msgspec.json.decode(delivery.value, type=IntegrationEvent)
                events.append(
                    (
                        message.aggregate_id,
                        message.aggregate_version,
                        message.event_type,
                        message.position,
                        self._domain_event(message),
                    )
                )
                key = (delivery.topic, delivery.partition)
                offsets[key] = max(offsets.get(key, 0), delivery.offset + 1)
            self._apply(self._plan(events), offsets)
        return self.advance()

    def _domain_event(self, message: IntegrationEvent) -> Any | None:
        """The domain event; read from the event store when the message withheld personal
        data (the store decrypts it, or reads it as erased)."""
        if not message.personal_data_withheld:
            return self.catalog.decode(message)
        version = message.aggregate_version
        found = list(self.app.events.get(message.aggregate_id, gt=version - 1, lte=version))
        return found[0] if found else None

    def _apply(self, plan: list[Applicable], offsets: Mapping[tuple[str, int], int]) -> None:
        if not any(item.error for item in plan):
            try:
                self.counters.applied += self.state.apply(plan, offsets)
                return
            except Exception as failure:
                if self.transient(failure):
                    raise
                log.warning("batch failed; applying its events one at a time", exc_info=True)
        for item in plan:
            self._apply_one(item)
        self.state.apply([], offsets)

    def _apply_one(self, item: Applicable) -> None:
        error: Exception | None = None
        for _ in range(0 if item.error else self.max_attempts):
            try:
                self.counters.applied += self.state.apply([item], {})
                return
            except Exception as failure:
                if self.transient(failure):
                    raise
                error = failure
        letter = DeadLetter(
            event_id=event_id(item.aggregate_id, item.version),
            position=item.position or 0,
            aggregate_id=item.aggregate_id,
            aggregate_version=item.version,
            event_type=item.event_type,
            error=item.error or (failure_summary(error) if error else "unknown"),
            attempts=self.max_attempts,
            skipped=self.skip_poison,
            topic=self.catalog.topic_for(item.event_type),
        )
        state = self.state.dead_letter(letter)
        self.counters.dead_lettered += 1
        if state != "skipped":
            self.state.record_error(letter.error)
            log.error(
                "projection stopped on %s v%d (dead letter for event %s): %s",
                item.event_type,
                item.version,
                letter.event_id,
                letter.error,
            )
            if self._await_operator(letter) == "retry":
                self._apply_one(self._recomputed(item))
                return
        # Skipping is explicit and recorded: the version counts as applied, with no rows.
        self.state.apply(
            [Applicable(item.aggregate_id, item.version, item.event_type, item.position, [])], {}
        )
        self.state.record_error(None)

    def _await_operator(self, letter: DeadLetter) -> str:
        """Wait until the dead letter is skipped or to be retried; without a stop flag, or
        once it is set, end the projection instead."""
        while self.stop is not None and not self.stop.wait(self.operator_poll):
            state = self.state.letter_state(letter.event_id)
            if state in ("skipped", "retry"):
                log.info(
                    "dead letter resolved by an operator",
                    event_id=str(letter.event_id),
                    state=state,
                )
                return state
        raise PoisonEventError(
            f"{letter.event_type} v{letter.aggregate_version} of {letter.aggregate_id}: "
            f"{letter.error}"
        )

    def _recomputed(self, item: Applicable) -> Applicable:
        """The item's changes computed again from the stored event (a retry)."""
        event = next(
            iter(self.app.events.get(item.aggregate_id, gt=item.version - 1, lte=item.version))
        )
        changes, error = self._changes(event)
        return Applicable(
            item.aggregate_id, item.version, item.event_type, item.position, changes, error
        )

    def advance(self, batch: int = 1000) -> int:
        """Move the watermark over every log position already applied; catch up from the
        event store when it has been stuck on a missing event for too long."""
        mark = self.state.watermark()
        notifications = self.app.recorder.select_notifications(start=mark + 1, limit=batch)
        versions = self.state.versions({UUID(str(n.originator_id)) for n in notifications})
        pending: list[Any] = []
        for n in notifications:
            if versions.get(UUID(str(n.originator_id)), 0) >= n.originator_version:
                if not pending:
                    mark = n.id
                continue
            pending.append(n)
        if notifications and mark != self.state.watermark():
            self.state.set_watermark(mark)
        if not pending:
            self._stalled_since = None
            return mark
        now = time.monotonic()
        if self._stalled_since is None:
            self._stalled_since = now
        elif now - self._stalled_since >= self.catch_up_after:
            self._stalled_since = None
            self.catch_up(pending)
            return self.advance(batch)
        return mark

    def catch_up(self, notifications: Sequence[Any]) -> None:
        """Apply events straight from the event store (Kafka lost or has not delivered them)."""
        events = []
        for n in notifications:
            event = self.app.mapper.to_domain_event(n)
            events.append(
                (n.originator_id, n.originator_version, type(event).__qualname__, n.id, event)
            )
        plan = self._plan(events)
        self.counters.caught_up += len(plan)
        log.info("caught up from the event store", events=len(plan))
        self._apply(plan, {})


def run_kafka_projection(
    projector: KafkaProjector,
    deliveries: Deliveries,
    stop: threading.Event,
    max_messages: int = 500,
    what: str = "Kafka projection",
) -> None:
    """Consume and apply until stopped. A transient error is waited out, then the consumer
    rewinds to the stored offsets; a poison event (PoisonEventError) ends the loop."""

    def step() -> None:
        projector.handle(deliveries.poll(max_messages, 0.1))

    try:
        keep_running(
            step,
            stop,
            what=what,
            transient=projector.transient,
            recover=deliveries.rewind,
        )
    except PoisonEventError:
        if not stop.is_set():
            raise
    finally:
        deliveries.close()
