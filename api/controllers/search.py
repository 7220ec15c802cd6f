"""Search: providers (full text, filters, facets, sorts), free slots, autocomplete, and the
clinical notes of completed visits (only the caller's own, or their patients').

Any authenticated caller may search providers, slots and suggestions. Whose notes a caller may
search comes from the token, never from the request. `min_position` waits on the search
projection's own position."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from api.deps import Injected, MinPosition, Offset, optional_aware, reads
from api.openapi import QUERY, documented
from api.read_audit import audits_reads
from commands.appointments.messages import AppointmentType
from commands.ports import Clock
from domain.actor import Actor
from domain.errors import ValidationError
from projections.audit.access import Access
from projections.search import (
    MAX_PAGE,
    MAX_SUGGESTIONS,
    GeoPoint,
    NoteHit,
    ProviderQuery,
    ProviderResults,
    ProviderSort,
    SearchBackend,
    SlotQuery,
    SlotResults,
    Suggestion,
    note_scope,
)
from projections.search_projection import SearchProjection

SLOT_DAYS = timedelta(days=14)
MAX_SLOT_RANGE = timedelta(days=62)
MAX_TEXT = 200


class Suggestions(msgspec.Struct, frozen=True, kw_only=True):
    suggestions: list[Suggestion]


class NoteHits(msgspec.Struct, frozen=True, kw_only=True):
    hits: list[NoteHit]


def _point(lat: float | None, lon: float | None) -> GeoPoint | None:
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise ValidationError("lat and lon go together")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError("lat must be within -90..90 and lon within -180..180")
    return GeoPoint(lat=lat, lon=lon)


class SearchController(Controller):
    path = "/v1/search"
    tags = ["search"]
    dependencies = {"position": reads(SearchProjection.name)}

    @get(
        "/providers",
        sync_to_thread=True,
        summary="Find providers, with facets",
        **documented("searchProviders", *QUERY),
    )
    def providers(
        self,
        search: Injected[SearchBackend],
        clock: Injected[Clock],
        position: Injected[MinPosition],
        q: FromQuery[str | None] = None,
        specialization: FromQuery[list[str] | None] = None,
        insurance: FromQuery[list[str] | None] = None,
        min_rating: FromQuery[Decimal | None] = None,
        accepting_new_patients: FromQuery[bool | None] = None,
        lat: FromQuery[float | None] = None,
        lon: FromQuery[float | None] = None,
        radius_km: FromQuery[float | None] = None,
        free_from: FromQuery[datetime | None] = None,
        free_to: FromQuery[datetime | None] = None,
        sort: FromQuery[ProviderSort] = "relevance",
        limit: FromQuery[int] = 20,
        offset: Offset = 0,
    ) -> ProviderResults:
        """Full text over name, specializations, bio and education (typos in names are
        forgiven), filtered; `free_from`/`free_to` keep providers with a free slot starting in
        that range. Facets count with every filter except their own. `sort=distance` and
        `radius_km` need `lat` and `lon`."""
        query = ProviderQuery(
            q=q,
            specializations=specialization or [],
            insurances=insurance or [],
            min_rating=min_rating,
            accepting_new_patients=accepting_new_patients,
            near=_point(lat, lon),
            radius_km=radius_km,
            free_from=optional_aware(free_from, "free_from"),
            free_to=optional_aware(free_to, "free_to"),
            sort=sort,
            limit=limit,
            offset=offset,
        ).validate()
        return search.providers(query, clock.now())

    @get(
        "/slots",
        sync_to_thread=True,
        summary="Free slots, soonest first",
        **documented("searchSlots", *QUERY),
    )
    def slots(
        self,
        search: Injected[SearchBackend],
        clock: Injected[Clock],
        position: Injected[MinPosition],
        start_from: Annotated[datetime | None, QueryParameter(name="from")] = None,
        start_to: Annotated[datetime | None, QueryParameter(name="to")] = None,
        provider_id: FromQuery[UUID | None] = None,
        appointment_type: Annotated[AppointmentType | None, QueryParameter(name="type")] = None,
        location: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
        offset: Offset = 0,
    ) -> SlotResults:
        """Open slots with a free seat starting in [from, to) (default: the next 14 days),
        sorted by start."""
        now = clock.now()
        first = optional_aware(start_from, "from") or now
        last = optional_aware(start_to, "to") or first + SLOT_DAYS
        if last - first > MAX_SLOT_RANGE:
            raise ValidationError(f"'to' must be within {MAX_SLOT_RANGE.days} days of 'from'")
        query = SlotQuery(
            start_from=first,
            start_to=last,
            provider_id=provider_id,
            appointment_type=appointment_type,
            location=location,
            limit=limit,
            offset=offset,
        ).validate()
        return search.slots(query, now)

    @get(
        "/autocomplete",
        sync_to_thread=True,
        summary="Provider names and specialties",
        **documented("autocompleteProviders", *QUERY),
    )
    def autocomplete(
        self,
        search: Injected[SearchBackend],
        position: Injected[MinPosition],
        prefix: FromQuery[str],
        limit: FromQuery[int] = 10,
    ) -> Suggestions:
        """Suggestions whose words start with `prefix` (or nearly match it)."""
        if not prefix.strip() or len(prefix) > 100:
            raise ValidationError("prefix must be 1 to 100 characters")
        if not 1 <= limit <= MAX_SUGGESTIONS:
            raise ValidationError(f"limit must be between 1 and {MAX_SUGGESTIONS}")
        return Suggestions(suggestions=search.autocomplete(prefix, limit))

    @audits_reads("ClinicalNote")
    @get(
        "/notes",
        sync_to_thread=True,
        summary="Search clinical notes of completed visits",
        **documented("searchNotes", *QUERY),
    )
    def notes(
        self,
        search: Injected[SearchBackend],
        actor: Injected[Actor],
        position: Injected[MinPosition],
        access: Injected[Access],
        q: FromQuery[str],
        limit: FromQuery[int] = 20,
    ) -> NoteHits:
        """A patient searches their own visits' notes, a provider those of their visits;
        anyone else finds nothing."""
        if not q.strip() or len(q) > MAX_TEXT:
            raise ValidationError(f"q must be 1 to {MAX_TEXT} characters")
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationError(f"limit must be between 1 and {MAX_PAGE}")
        scope = note_scope(actor)
        if scope is None:
            return NoteHits(hits=[])
        hits = search.notes(q, scope, limit)
        access.saw(
            patients=[h.patient_id for h in hits], resources=[h.appointment_id for h in hits]
        )
        return NoteHits(hits=hits)
