"""The event-sourced application every capability shares: one event store, one log, and the
command pipeline (idempotency, bounded retry on version conflicts, one atomic save)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Generic, Self, TypeVar, overload
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from commands.context import CommandContext
from commands.idempotency import IdempotencyRecord, fingerprint, record_id
from commands.ports import Clock, KeyStore, SystemClock
from commands.prefetch import ABSENT, Prefetch, named_ids
from commands.structs import Command, CommandResult, encode
from domain.actor import EventMeta
from domain.errors import ConcurrencyError, DomainError, NotFoundError, ValidationError
from domain.log import APPLICATION_NAME
from domain.personal import PersonalData
from domain.policies import BookingWindow, CancellationPolicy, CheckInWindow, NoShowPolicy
from domain.video_visit import VideoPolicy
from domain.waitlist_rules import OfferTiming

TAggregate = TypeVar("TAggregate", bound=Aggregate)
TCommand = TypeVar("TCommand", bound=Command)
TApp = TypeVar("TApp", bound="SlotwiseApplication")


class IdempotencyKeyReusedError(ValidationError):
    """The Idempotency-Key was used before with a different request."""


@dataclass(frozen=True)
class Policies:
    check_in: CheckInWindow = field(default_factory=CheckInWindow)
    cancellation: CancellationPolicy = field(default_factory=CancellationPolicy)
    no_show: NoShowPolicy = field(default_factory=NoShowPolicy)
    booking: BookingWindow = field(default_factory=BookingWindow)
    hold: timedelta = timedelta(minutes=10)
    max_attempts: int = 8
    video: VideoPolicy = field(default_factory=VideoPolicy)
    # Recurring series: every occurrence starts within this time of the booking.
    series_horizon: timedelta = timedelta(days=366)
    waitlist: OfferTiming = field(default_factory=OfferTiming)


@dataclass
class Outcome:
    """What a handler decided: the ids to report and every aggregate it touched."""

    id: UUID
    aggregates: list[Aggregate]
    ids: dict[str, UUID] = field(default_factory=dict)
    # Done once the events are stored, never before (an erasure destroys the key after its
    # event is recorded); it must be safe to repeat, as a retried command repeats it.
    after_save: Callable[[], None] | None = None


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class EventMetaAsDict(Transcoding):
    type = EventMeta
    name = "event_meta"

    def encode(self, obj: EventMeta) -> dict[str, Any]:
        return {
            "actor_id": obj.actor_id,
            "actor_role": obj.actor_role,
            "correlation_id": obj.correlation_id,
            "causation_id": obj.causation_id,
            "command": obj.command,
        }

    def decode(self, data: dict[str, Any]) -> EventMeta:
        return EventMeta(**data)


class PersonalDataNotConfiguredError(RuntimeError):
    """Personal data reached storage, but the application was given no way to encrypt it."""


class PersonalDataRefused(Transcoding):
    """Stands in when no personal-data transcoding was injected: fails closed, so personal data
    is neither stored in clear nor read back as erased for want of keys."""

    type = PersonalData
    name = "personal"

    def encode(self, obj: PersonalData) -> Any:
        raise PersonalDataNotConfiguredError("no personal-data transcoding was configured")

    def decode(self, data: Any) -> PersonalData:
        raise PersonalDataNotConfiguredError("no personal-data transcoding was configured")


Handler = Callable[[TCommand, CommandContext, EventMeta, datetime], Outcome]


UseCaseHandler = Callable[[TApp, TCommand, CommandContext, EventMeta, datetime], Outcome]


def use_case(handler: UseCaseHandler[TApp, TCommand]) -> UseCase[TApp, TCommand]:
    """Make a handler method `(self, command, ctx, meta, now) -> Outcome` the application's
    public command method `app.<name>(command, ctx) -> CommandResult`, which runs the handler
    through the pipeline: idempotency, bounded retry on conflicts, one atomic save."""
    return UseCase(handler)


class UseCase(Generic[TApp, TCommand]):
    """A use case declared on an application class (see `use_case`)."""

    def __init__(self, handler: UseCaseHandler[TApp, TCommand]) -> None:
        self.handler = handler
        self.__doc__ = handler.__doc__

    @overload
    def __get__(self, app: None, owner: type[object]) -> UseCase[TApp, TCommand]: ...

    @overload
    def __get__(self, app: TApp, owner: type[object]) -> BoundUseCase[TApp, TCommand]: ...

    def __get__(
        self, app: TApp | None, owner: type[object]
    ) -> UseCase[TApp, TCommand] | BoundUseCase[TApp, TCommand]:
        if app is None:
            return self
        return BoundUseCase(app, self)


class BoundUseCase(Generic[TApp, TCommand]):
    """A use case of one application instance: call it with the command and its context."""

    __slots__ = ("_app", "_use_case")

    def __init__(self, app: TApp, use_case: UseCase[TApp, TCommand]) -> None:
        self._app = app
        self._use_case = use_case

    def __call__(self, command: TCommand, ctx: CommandContext) -> CommandResult:
        return self._app.run(command, ctx, self._handle)

    def _handle(
        self, command: TCommand, ctx: CommandContext, meta: EventMeta, now: datetime
    ) -> Outcome:
        return self._use_case.handler(self._app, command, ctx, meta, now)


class SlotwiseApplication(Application[UUID]):
    name = APPLICATION_NAME

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Clock | None = None,
        policies: Policies | None = None,
        personal_data: Transcoding | None = None,
        keys: KeyStore | None = None,
    ) -> None:
        """`personal_data` stores `domain.personal.PersonalData` values (infra/crypto's
        `PersonalDataAsCiphertext`), with the data keys in `keys` (the same store), which
        registration and erasure use; without them the application refuses to store or read
        any personal data."""
        if personal_data is not None and personal_data.type is not PersonalData:
            raise TypeError("personal_data must be a transcoding of PersonalData")
        # Set before the base class builds the mapper, which registers the transcodings.
        self._personal_data = personal_data or PersonalDataRefused()
        self._keys = keys
        super().__init__(env)
        self.clock: Clock = clock or SystemClock()
        self.policies = policies or Policies()
        self._prefetch = Prefetch()

    @classmethod
    def with_personal_data(cls, personal_data: Transcoding, keys: KeyStore) -> type[Self]:
        """This application class with personal data and keys bound, for code that constructs
        the application from its environment alone (eventsourcing's `ProjectionRunner`)."""
        base = cls

        class WithPersonalData(base):  # type: ignore[valid-type,misc]
            name = base.name  # eventsourcing names an application by its class otherwise

            def __init__(self, env: Mapping[str, str] | None = None, **options: Any) -> None:
                options.setdefault("personal_data", personal_data)
                options.setdefault("keys", keys)
                super().__init__(env, **options)

        WithPersonalData.__name__ = WithPersonalData.__qualname__ = cls.__name__
        return WithPersonalData

    @property
    def keys(self) -> KeyStore:
        """The data keys (crypto-shredding): made at registration, destroyed at erasure."""
        if self._keys is None:
            raise PersonalDataNotConfiguredError("no key store was configured")
        return self._keys

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(EventMetaAsDict())
        transcoder.register(self._personal_data)

    def read_ahead(self, ids: Iterable[UUID]) -> None:
        """Read these aggregates in one statement now, for loads later in this attempt."""
        self._prefetch.more(self, ids)

    def _get(self, aggregate_id: UUID) -> object:
        """The aggregate: the copy this attempt prefetched, else from the store."""
        found = self._prefetch.take(aggregate_id)
        if found is ABSENT:
            raise AggregateNotFoundError(aggregate_id)
        return found if found is not None else self.repository.get(aggregate_id)

    def load(self, cls: type[TAggregate], aggregate_id: UUID, what: str) -> TAggregate:
        try:
            aggregate: object = self._get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFoundError(f"{what} {aggregate_id} not found") from None
        if not isinstance(aggregate, cls):
            raise NotFoundError(f"{what} {aggregate_id} not found")
        return aggregate

    def load_or_none(self, cls: type[TAggregate], aggregate_id: UUID) -> TAggregate | None:
        try:
            found: object = self._get(aggregate_id)
        except AggregateNotFoundError:
            return None
        aggregate = found
        return aggregate if isinstance(aggregate, cls) else None

    def exists(self, aggregate_id: UUID) -> bool:
        """Whether any aggregate has this id (ids are shared by every aggregate type)."""
        try:
            self._get(aggregate_id)
        except AggregateNotFoundError:
            return False
        return True

    def run(
        self, command: TCommand, ctx: CommandContext, handler: Handler[TCommand]
    ) -> CommandResult:
        """Execute one command: replay a stored result for a repeated Idempotency-Key, else run
        the handler and save every aggregate it touched (and the idempotency record) at once,
        retrying a bounded number of times when another writer got there first."""
        retrying = Retrying(
            stop=stop_after_attempt(self.policies.max_attempts),
            wait=wait_random_exponential(multiplier=0.005, max=0.2),
            retry=retry_if_exception_type(IntegrityError),
            reraise=False,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._prefetched_attempt(command, ctx, handler)
        except RetryError:
            msg = "the resource was changed by concurrent requests; retry the command"
            raise ConcurrencyError(msg) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _prefetched_attempt(
        self, command: TCommand, ctx: CommandContext, handler: Handler[TCommand]
    ) -> CommandResult:
        """One attempt, with the aggregates the command names read in one round trip."""
        key = ctx.idempotency_key
        rid = record_id(ctx.actor.subject, key) if key is not None else None
        with self._prefetch.attempt(self, named_ids(command, ctx.actor.subject, rid)):
            return self._attempt(command, ctx, handler)

    def _attempt(
        self, command: TCommand, ctx: CommandContext, handler: Handler[TCommand]
    ) -> CommandResult:
        name = command.name()
        key = ctx.idempotency_key
        rid = record_id(ctx.actor.subject, key) if key is not None else None
        digest = fingerprint(name, encode(command))
        earlier = self._stored_result(rid, digest)
        if earlier is not None:
            return earlier
        meta = ctx.meta(name)
        try:
            outcome = handler(command, ctx, meta, self.clock.now())
        except DomainError:
            # A duplicate in flight may have committed between our read of the key and our
            # reads of the aggregates; its own effects then refuse us. Replay it instead.
            replay = self._stored_result(rid, digest)
            if replay is not None:
                return replay
            raise
        ids = {"id": outcome.id, **outcome.ids}
        aggregates = list(outcome.aggregates)
        if key is not None and rid is not None:
            aggregates.append(
                IdempotencyRecord(
                    key=key,
                    fingerprint=digest,
                    command=name,
                    result={k: str(v) for k, v in ids.items()},
                    meta=meta,
                    id=rid,
                )
            )
        recordings = self.save(*aggregates)
        if outcome.after_save is not None:
            outcome.after_save()
        positions = [r.notification.id for r in recordings]
        # Only a command that recorded nothing asks for the head (one more round trip).
        position = max(positions) if positions else self.head_position()
        return CommandResult(id=outcome.id, ids=outcome.ids, position=position)

    def _stored_result(self, rid: UUID | None, digest: str) -> CommandResult | None:
        if rid is None:
            return None
        stored = self.load_or_none(IdempotencyRecord, rid)
        if stored is None:
            return None
        if stored.fingerprint != digest:
            msg = "this Idempotency-Key was already used with a different request"
            raise IdempotencyKeyReusedError(msg)
        return self._replay(stored)

    def _replay(self, stored: IdempotencyRecord) -> CommandResult:
        ids = {k: UUID(v) for k, v in stored.result.items()}
        main = ids.pop("id")
        # The original position is at or before the head, so waiting for the head is safe.
        return CommandResult(id=main, ids=ids, position=self.head_position(), replayed=True)

    def head_position(self) -> int:
        return self.recorder.max_notification_id() or 0
