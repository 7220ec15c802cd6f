"""Rebuilds the search documents from the event store into fresh indices, then swaps each
alias to its new index at once: readers see the old index until the swap (zero downtime).

Documents come from every Provider, Slot and Appointment's current state. Writes the live
projection makes meanwhile land in the old index, so after the swap the documents of every
aggregate changed since the rebuild began are written again through the aliases; external
versioning makes that replay harmless."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from commands.scheduling import Scheduling
from domain.appointment import Appointment
from domain.provider import Provider
from domain.slot import Slot
from projections.search import NoteDocument, ProviderDocument, SlotDocument
from projections.search_documents import note_document, provider_document, slot_document

KIND_OF_TOPIC = {
    "domain.provider:Provider": "providers",
    "domain.slot:Slot": "slots",
    "domain.appointment:Appointment": "notes",
}


class RebuildableIndex(Protocol):
    def rebuild(self, kind: Any, documents: Iterable[Any]) -> str: ...

    def put_providers(self, documents: Sequence[ProviderDocument]) -> None: ...

    def put_slots(self, documents: Sequence[SlotDocument]) -> None: ...

    def put_notes(self, documents: Sequence[NoteDocument]) -> None: ...


def _ids_by_kind(app: Scheduling, after: int, upto: int | None) -> dict[str, set[UUID]]:
    found: dict[str, set[UUID]] = {kind: set() for kind in KIND_OF_TOPIC.values()}
    position = after
    while True:
        batch = app.recorder.select_notifications(start=position + 1, limit=1000, stop=upto)
        if not batch:
            return found
        for n in batch:
            # "domain.slot:Slot.SeatTaken" → the aggregate's topic "domain.slot:Slot"
            kind = KIND_OF_TOPIC.get(n.topic.rsplit(".", 1)[0])
            if kind is not None:
                found[kind].add(UUID(str(n.originator_id)))
        position = batch[-1].id


def _documents(app: Scheduling, kind: str, ids: Iterable[UUID], now: datetime) -> list[Any]:
    out: list[Any] = []
    for aggregate_id in sorted(ids):
        aggregate: object = app.repository.get(aggregate_id)
        if kind == "providers" and isinstance(aggregate, Provider):
            out.append(provider_document(aggregate))
        elif kind == "slots" and isinstance(aggregate, Slot):
            out.append(slot_document(aggregate, now))
        elif kind == "notes" and isinstance(aggregate, Appointment):
            note = note_document(aggregate)
            if note is not None:
                out.append(note)
    return out


def rebuild_search(
    app: Scheduling,
    index: RebuildableIndex,
    now: Callable[[], datetime],
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, int]:
    """Rebuild every search index; returns the number of documents per kind."""
    started_at = app.head_position()
    counts: dict[str, int] = {}
    for kind, ids in _ids_by_kind(app, 0, started_at).items():
        documents = _documents(app, kind, ids, now())
        name = index.rebuild(kind, documents)
        counts[kind] = len(documents)
        progress(f"{kind}: {len(documents)} document(s) into {name}; alias swapped")
    changed = _ids_by_kind(app, started_at, None)
    index.put_providers(_documents(app, "providers", changed["providers"], now()))
    index.put_slots(_documents(app, "slots", changed["slots"], now()))
    index.put_notes(_documents(app, "notes", changed["notes"], now()))
    replayed = sum(len(ids) for ids in changed.values())
    progress(f"replayed {replayed} aggregate(s) changed during the rebuild")
    return counts
