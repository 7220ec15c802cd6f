"""Writes to the PostgreSQL search tables (migration 0006): versioned upserts that keep a row
only when the incoming version is newer, so an old or replayed document never overwrites a
newer one, and the projection's sink that writes documents and its position in one
transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Tracking
from psycopg import Cursor
from psycopg.sql import SQL, Composed, Identifier

from infra.postgres.tracking import AnnouncedTracking
from projections.search import NoteDocument, NotesErased, ProviderDocument, SlotDocument
from projections.search_projection import SearchDocument, SearchSink

PROVIDER_COLUMNS = (
    "id",
    "version",
    "name",
    "specializations",
    "bio",
    "education",
    "languages",
    "lat",
    "lon",
    "address",
    "insurances",
    "fee_amount",
    "fee_currency",
    "rating",
    "accepting_new_patients",
    "time_zone",
    "name_key",
    "geo",
    "document",
)
SLOT_COLUMNS = (
    "id",
    "version",
    "provider_id",
    "start_at",
    "end_at",
    "appointment_types",
    "location",
    "room",
    "status",
    "capacity",
    "free_seats",
)
NOTE_COLUMNS = (
    "appointment_id",
    "version",
    "patient_id",
    "provider_id",
    "completed_at",
    "notes",
    "document",
)


def _upsert(table: str, key: str, columns: tuple[str, ...], values: str) -> Composed:
    name = Identifier(table)
    updates = SQL(", ").join(
        SQL("{0} = EXCLUDED.{0}").format(Identifier(c)) for c in columns if c != key
    )
    return SQL(
        "INSERT INTO {table} ({columns}) VALUES ({values}) "
        "ON CONFLICT ({key}) DO UPDATE SET {updates} "
        "WHERE {table}.version < EXCLUDED.version"
    ).format(
        table=name,
        columns=SQL(", ").join(map(Identifier, columns)),
        values=SQL(values),
        key=Identifier(key),
        updates=updates,
    )


UPSERT_PROVIDER = _upsert(
    "sr_providers",
    "id",
    PROVIDER_COLUMNS,
    "%(id)s, %(version)s, %(name)s, %(specializations)s, %(bio)s, %(education)s, "
    "%(languages)s, %(lat)s, %(lon)s, %(address)s, %(insurances)s, %(fee_amount)s, "
    "%(fee_currency)s, %(rating)s, %(accepting_new_patients)s, %(time_zone)s, "
    "lower(unaccent(%(name)s::text)), "
    "ll_to_earth(%(lat)s::float8, %(lon)s::float8), "
    "setweight(to_tsvector('slotwise_search', %(name)s::text), 'A') || "
    "setweight(to_tsvector('slotwise_search', array_to_string(%(specializations)s::text[], ' ')),"
    " 'B') || "
    "setweight(to_tsvector('slotwise_search', %(bio)s::text || ' ' || %(education)s::text), 'C')",
)
UPSERT_SLOT = _upsert(
    "sr_slots",
    "id",
    SLOT_COLUMNS,
    "%(id)s, %(version)s, %(provider_id)s, %(start_at)s, %(end_at)s, %(appointment_types)s, "
    "%(location)s, %(room)s, %(status)s, %(capacity)s, %(free_seats)s",
)
UPSERT_NOTE = _upsert(
    "sr_notes",
    "appointment_id",
    NOTE_COLUMNS,
    "%(appointment_id)s, %(version)s, %(patient_id)s, %(provider_id)s, %(completed_at)s, "
    "%(notes)s, to_tsvector('slotwise_search', %(notes)s::text)",
)


def _provider_row(doc: ProviderDocument) -> dict[str, Any]:
    return {
        "id": doc.id,
        "version": doc.version,
        "name": doc.name,
        "specializations": list(doc.specializations),
        "bio": doc.bio,
        "education": doc.education,
        "languages": list(doc.languages),
        "lat": doc.location.lat if doc.location else None,
        "lon": doc.location.lon if doc.location else None,
        "address": doc.address,
        "insurances": list(doc.insurances),
        "fee_amount": doc.fee_amount,
        "fee_currency": doc.fee_currency,
        "rating": doc.rating,
        "accepting_new_patients": doc.accepting_new_patients,
        "time_zone": doc.time_zone,
    }


def _slot_row(doc: SlotDocument) -> dict[str, Any]:
    return {
        "id": doc.id,
        "version": doc.version,
        "provider_id": doc.provider_id,
        "start_at": doc.start,
        "end_at": doc.end,
        "appointment_types": list(doc.appointment_types),
        "location": doc.location,
        "room": doc.room,
        "status": doc.status,
        "capacity": doc.capacity,
        "free_seats": doc.free_seats,
    }


def _note_row(doc: NoteDocument) -> dict[str, Any]:
    return {
        "appointment_id": doc.appointment_id,
        "version": doc.version,
        "patient_id": doc.patient_id,
        "provider_id": doc.provider_id,
        "completed_at": doc.completed_at,
        "notes": doc.notes,
    }


def put_providers(cur: Cursor[Any], documents: Sequence[ProviderDocument]) -> None:
    if documents:
        cur.executemany(UPSERT_PROVIDER, [_provider_row(d) for d in documents])


def put_slots(cur: Cursor[Any], documents: Sequence[SlotDocument]) -> None:
    if documents:
        cur.executemany(UPSERT_SLOT, [_slot_row(d) for d in documents])


def put_notes(cur: Cursor[Any], documents: Sequence[NoteDocument]) -> None:
    if documents:
        cur.executemany(UPSERT_NOTE, [_note_row(d) for d in documents])


def put_documents(cur: Cursor[Any], documents: Sequence[SearchDocument]) -> None:
    put_providers(cur, [d for d in documents if isinstance(d, ProviderDocument)])
    put_slots(cur, [d for d in documents if isinstance(d, SlotDocument)])
    put_notes(cur, [d for d in documents if isinstance(d, NoteDocument)])
    for erased in (d for d in documents if isinstance(d, NotesErased)):
        cur.execute("DELETE FROM sr_notes WHERE patient_id = %s", (erased.patient_id,))


class PostgresSearchView(AnnouncedTracking, SearchSink):
    """The search projection's sink on PostgreSQL: documents and position in one
    transaction."""

    def write(self, documents: Sequence[SearchDocument], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            put_documents(curs, documents)
            self._insert_tracking(curs, tracking)
