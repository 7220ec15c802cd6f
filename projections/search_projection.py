"""The search projection: keeps provider, slot and note documents up to date.

A document is built from its aggregate's *state* at the event's version (loaded from the event
store), never from the event alone, and carries that version; the sink keeps only the newest
version of each document. Every other event just advances the position, so a caller waiting
for a position is never left waiting on an event search ignores."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection

from domain.appointment import Appointment
from domain.patient import Patient
from domain.provider import Provider
from domain.slot import Slot
from projections.search import NoteDocument, NotesErased, ProviderDocument, SlotDocument
from projections.search_documents import note_document, provider_document, slot_document

SearchDocument = ProviderDocument | SlotDocument | NoteDocument | NotesErased
# Loads an aggregate as it was at a version: (aggregate id, version) -> aggregate.
AggregateAt = Callable[[UUID, int], object]
INDEXED = (Provider.Event, Slot.Event, Appointment.Event)


class SearchSink(TrackingRecorder, ABC):
    """Where the search projection writes: documents and the tracking position together."""

    @abstractmethod
    def write(self, documents: Sequence[SearchDocument], tracking: Tracking) -> None:
        """Store the documents (each only if newer than the stored version) and record
        `tracking`, atomically where the sink allows it."""


def documents_for(event: Any, load: AggregateAt) -> list[SearchDocument]:
    """The documents one event changes: that of its aggregate at the event's version."""
    if isinstance(event, Patient.Erased):
        return [NotesErased(patient_id=event.originator_id)]
    if not isinstance(event, INDEXED):
        return []
    aggregate = load(event.originator_id, event.originator_version)
    if isinstance(aggregate, Provider):
        return [provider_document(aggregate)]
    if isinstance(aggregate, Slot):
        # Seats are counted as of the event, so a rebuild writes the same documents; an
        # expiring hold is released by an event of its own.
        return [slot_document(aggregate, event.timestamp)]
    if isinstance(aggregate, Appointment):
        note = note_document(aggregate)
        return [note] if note is not None else []
    return []


class SearchProjection(Projection[SearchSink]):
    name = "search"

    def __init__(self, view: SearchSink, load: AggregateAt) -> None:
        super().__init__(view)
        self._load = load

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.write(documents_for(domain_event, self._load), tracking)


def search_projection(load: AggregateAt) -> type[SearchProjection]:
    """The projection class to give eventsourcing's ProjectionRunner (which constructs a
    projection from its view alone), bound to `load`."""

    class BoundSearchProjection(SearchProjection):
        name = SearchProjection.name

        def __init__(self, view: SearchSink) -> None:
            super().__init__(view, load)

    return BoundSearchProjection
