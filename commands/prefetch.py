"""One round trip for the aggregates a command names.

Before a command attempt runs its handler, the application reads, in one statement, the events
of every aggregate the command can name: its `*_id` fields, the actor (a patient booking for
themselves) and the idempotency record. The handler's loads then take these copies instead of
one checkout and one query each. Each copy is handed out once, in the attempt that read it, so
a second load of the same id (or a retry) reads the store again, as before.

This is not a cache: nothing outlives the attempt. Its one cost is that an id the handler does
not load is read anyway (an aggregate with a long history, named by a command that only checks
a read model, is read for nothing). The copies are the stored state when the attempt started,
like any load; a concurrent write after that makes the save fail on its version, and the
command's retry reads again."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import groupby
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.application import project_aggregate
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

from commands.structs import Command

if TYPE_CHECKING:
    from commands.application import SlotwiseApplication

# Marks an id the attempt looked for and found no aggregate under.
ABSENT = object()


@runtime_checkable
class ManyAggregatesReader(Protocol):
    """A recorder that reads the events of several aggregates in one statement
    (infra/postgres/eventstore.py)."""

    def select_events_of(self, originator_ids: Sequence[UUID]) -> Sequence[StoredEvent]: ...


def named_ids(command: Command, *also: UUID | None) -> list[UUID]:
    """The aggregate ids a command names in its `*_id` fields, and `also`."""
    ids = [getattr(command, f) for f in command.__struct_fields__ if f.endswith("_id")]
    return list(dict.fromkeys(i for i in (*ids, *also) if isinstance(i, UUID)))


class Prefetch:
    """The aggregates read at the start of the current attempt, per thread."""

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def attempt(self, app: SlotwiseApplication, ids: Iterable[UUID]) -> Iterator[None]:
        wanted = list(ids)
        recorder = app.recorder
        if (
            not wanted
            or app.snapshots is not None
            or not isinstance(recorder, ManyAggregatesReader)
        ):
            yield
            return
        self._local.found = self._read(app, recorder, wanted)
        try:
            yield
        finally:
            self._local.found = None

    @staticmethod
    def _read(
        app: SlotwiseApplication, recorder: ManyAggregatesReader, wanted: list[UUID]
    ) -> dict[UUID, object]:
        found: dict[UUID, object] = dict.fromkeys(wanted, ABSENT)
        stored = recorder.select_events_of(wanted)
        for aggregate_id, events in groupby(stored, key=lambda s: s.originator_id):
            aggregate: Aggregate | None = project_aggregate(
                None, (app.mapper.to_domain_event(s) for s in events)
            )
            found[UUID(str(aggregate_id))] = aggregate if aggregate is not None else ABSENT
        return found

    def more(self, app: SlotwiseApplication, ids: Iterable[UUID]) -> None:
        """Inside an attempt, read in one more statement the aggregates a handler learns it will
        load once it has loaded the first ones (a booking's provider, fee schedule and agenda
        days come from its slot). Ids read already in this attempt are not read again."""
        found: dict[UUID, object] | None = getattr(self._local, "found", None)
        recorder = app.recorder
        if found is None or not isinstance(recorder, ManyAggregatesReader):
            return
        wanted = [i for i in dict.fromkeys(ids) if i not in found]
        if wanted:
            found.update(self._read(app, recorder, wanted))

    def take(self, aggregate_id: UUID) -> object | None:
        """The aggregate read for this id in this attempt, `ABSENT` if it was looked for and not
        found, None if it was not read (or was handed out already)."""
        found: dict[UUID, object] | None = getattr(self._local, "found", None)
        if not found:
            return None
        return found.pop(aggregate_id, None)
