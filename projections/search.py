"""The search read model's contract: documents, queries, results, and the two ports that
every backend (PostgreSQL, OpenSearch) implements.

Documents are built from an aggregate's *state* at a version (never from one event alone),
and carry that version: a sink keeps a document only if its version is newer than the one it
has, so an old or replayed event can never overwrite a newer document (external versioning)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol
from uuid import UUID

import msgspec

from domain.actor import Actor, Role
from domain.errors import ValidationError

MAX_PAGE = 100
FREE_SLOT_DAYS = 14  # "free slots in the coming days" on provider documents and results
RATING_BANDS = ((Decimal(4), "4+"), (Decimal(3), "3+"), (Decimal(2), "2+"), (Decimal(0), "any"))
# The keys of ProviderResults.facets; each lists at most FACET_SIZE values, by count descending
# then value ascending (a backend may also list values counted 0). A provider counts once in
# every specialization and insurance it lists, and in the one band rating_band() gives it.
FACET_SPECIALIZATION = "specializations"
FACET_INSURANCE = "insurances"
FACET_RATING = "rating"
FACET_SIZE = 50
# ProviderHit.highlights keys are document field names ("name", "specializations", "bio",
# "education"); matched words are wrapped in these tags.
HIGHLIGHT_TAGS = ("<em>", "</em>")
MAX_SUGGESTIONS = 20


class GeoPoint(msgspec.Struct, frozen=True):
    lat: float
    lon: float


class ProviderDocument(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    version: int
    name: str
    specializations: list[str]
    bio: str
    education: str
    languages: list[str]
    location: GeoPoint | None
    address: str | None
    insurances: list[str]
    fee_amount: Decimal | None
    fee_currency: str | None
    rating: Decimal | None
    accepting_new_patients: bool
    time_zone: str


class SlotDocument(msgspec.Struct, frozen=True, kw_only=True):
    """A slot as search sees it; `free_seats` counts bookings and holds live when indexed."""

    id: UUID
    version: int
    provider_id: UUID
    start: datetime
    end: datetime
    appointment_types: list[str]
    location: str | None
    room: str | None
    status: str
    capacity: int
    free_seats: int


class NoteDocument(msgspec.Struct, frozen=True, kw_only=True):
    """Clinical notes of a completed visit (never the provider-only private notes)."""

    appointment_id: UUID
    version: int
    patient_id: UUID
    provider_id: UUID
    completed_at: datetime
    notes: str


class NotesErased(msgspec.Struct, frozen=True, kw_only=True):
    """Not a document but its removal: every note document of this patient goes (the patient
    was erased). A rebuild writes none for them in the first place."""

    patient_id: UUID


ProviderSort = Literal["relevance", "rating", "distance", "fee", "soonest"]


class ProviderQuery(msgspec.Struct, frozen=True, kw_only=True):
    q: str | None = None
    specializations: list[str] = msgspec.field(default_factory=list)
    insurances: list[str] = msgspec.field(default_factory=list)
    min_rating: Decimal | None = None
    accepting_new_patients: bool | None = None
    near: GeoPoint | None = None
    radius_km: float | None = None
    free_from: datetime | None = None
    free_to: datetime | None = None
    sort: ProviderSort = "relevance"
    limit: int = 20
    offset: int = 0

    def validate(self) -> ProviderQuery:
        """Refuse what cannot be answered, naming the parameter (a 422 at the edge)."""
        if self.sort == "distance" and self.near is None:
            raise ValidationError("sort=distance needs a point: pass lat and lon")
        if self.radius_km is not None and self.near is None:
            raise ValidationError("radius_km needs a point: pass lat and lon")
        if self.radius_km is not None and not 0 < self.radius_km <= 20_000:
            raise ValidationError("radius_km must be between 0 and 20000")
        if (self.free_from is None) != (self.free_to is None):
            raise ValidationError("free_from and free_to go together")
        if self.free_from and self.free_to and self.free_to <= self.free_from:
            raise ValidationError("free_to must be after free_from")
        if not 1 <= self.limit <= MAX_PAGE:
            raise ValidationError(f"limit must be between 1 and {MAX_PAGE}")
        if self.offset < 0 or self.offset > 10_000:
            raise ValidationError("offset must be between 0 and 10000")
        if self.q is not None and len(self.q) > 200:
            raise ValidationError("q must be at most 200 characters")
        return self


class Facet(msgspec.Struct, frozen=True):
    value: str
    count: int


class ProviderHit(msgspec.Struct, frozen=True, kw_only=True):
    provider: ProviderDocument
    score: float | None
    distance_km: float | None
    next_free_slot: datetime | None
    free_slots: int
    highlights: dict[str, list[str]]


class ProviderResults(msgspec.Struct, frozen=True, kw_only=True):
    """`facets` are computed with every filter except their own (post-filter semantics), so
    picking a specialization does not make the other specializations disappear."""

    hits: list[ProviderHit]
    total: int
    facets: dict[str, list[Facet]]
    limit: int
    offset: int


class SlotQuery(msgspec.Struct, frozen=True, kw_only=True):
    start_from: datetime
    start_to: datetime
    provider_id: UUID | None = None
    appointment_type: str | None = None
    location: str | None = None
    limit: int = 50
    offset: int = 0

    def validate(self) -> SlotQuery:
        """Refuse what cannot be answered, naming the parameter (a 422 at the edge)."""
        if self.start_to <= self.start_from:
            raise ValidationError("'to' must be after 'from'")
        if not 1 <= self.limit <= MAX_PAGE:
            raise ValidationError(f"limit must be between 1 and {MAX_PAGE}")
        if self.offset < 0 or self.offset > 10_000:
            raise ValidationError("offset must be between 0 and 10000")
        return self


class SlotResults(msgspec.Struct, frozen=True, kw_only=True):
    hits: list[SlotDocument]
    total: int
    limit: int
    offset: int


SuggestionKind = Literal["provider", "specialization"]


class Suggestion(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    kind: SuggestionKind
    provider_id: UUID | None


class NoteScope(msgspec.Struct, frozen=True, kw_only=True):
    """Whose notes a caller may search: a patient their own, a provider their patients'.
    Built from the token, never from the request."""

    patient_id: UUID | None = None
    provider_id: UUID | None = None


class NoteHit(msgspec.Struct, frozen=True, kw_only=True):
    appointment_id: UUID
    patient_id: UUID
    provider_id: UUID
    completed_at: datetime
    snippet: str


class SearchIndex(Protocol):
    """The write side of a search backend, fed by the search projection."""

    def put_providers(self, documents: Sequence[ProviderDocument]) -> None: ...

    def put_slots(self, documents: Sequence[SlotDocument]) -> None: ...

    def put_notes(self, documents: Sequence[NoteDocument]) -> None: ...

    def drop_notes_of(self, patient_id: UUID) -> None: ...


class SearchBackend(Protocol):
    """The read side. Both backends give the same results for what both support."""

    def providers(self, query: ProviderQuery, now: datetime) -> ProviderResults: ...

    def slots(self, query: SlotQuery, now: datetime) -> SlotResults: ...

    def autocomplete(self, prefix: str, limit: int) -> list[Suggestion]: ...

    def notes(self, text: str, scope: NoteScope, limit: int) -> list[NoteHit]: ...


def rating_band(rating: Decimal | None) -> str:
    if rating is None:
        return "unrated"
    return next(label for floor, label in RATING_BANDS if rating >= floor)


def note_scope(actor: Actor) -> NoteScope | None:
    """Whose notes `actor` may search: a patient their own, a provider those of their own
    patients' visits; nobody else any (None: an empty result, not an error)."""
    if actor.role is Role.PATIENT:
        return NoteScope(patient_id=actor.subject)
    if actor.role is Role.PROVIDER:
        return NoteScope(provider_id=actor.subject)
    return None
