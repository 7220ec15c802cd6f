"""Pure readers of OpenSearch responses: search hits, aggregations and suggestions turned into
the search contract's results."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from math import asin, cos, radians, sin, sqrt
from typing import Any
from uuid import UUID

import msgspec

from infra.opensearch.queries import FUZZY_FROM
from projections.search import (
    FACET_RATING,
    HIGHLIGHT_TAGS,
    Facet,
    GeoPoint,
    NoteDocument,
    NoteHit,
    ProviderDocument,
    ProviderHit,
    SlotDocument,
    Suggestion,
)

EARTH_RADIUS_KM = 6371.0088  # the mean radius of OpenSearch's arc distance
SNIPPET_CHARS = 160
Availability = dict[str, tuple[datetime, int]]  # provider id -> (soonest free start, free slots)


def total(response: dict[str, Any]) -> int:
    return int(response["hits"]["total"]["value"])


def availability(groups: dict[str, Any]) -> Availability:
    """One page of the composite aggregation of free slots by provider."""
    found: Availability = {}
    for bucket in groups["buckets"]:
        soonest = datetime.fromtimestamp(bucket["soonest"]["value"] / 1000, UTC)
        found[bucket["key"]["provider_id"]] = (soonest, int(bucket["doc_count"]))
    return found


def provider_hit(
    hit: dict[str, Any], near: GeoPoint | None, soon: Availability, *, scored: bool
) -> ProviderHit:
    provider = msgspec.convert(hit["_source"], ProviderDocument)
    next_free, free_slots = soon.get(hit["_id"], (None, 0))
    score = hit.get("_score")
    highlights = {
        field: [f for f in fragments if HIGHLIGHT_TAGS[0] in f]
        for field, fragments in hit.get("highlight", {}).items()
    }
    return ProviderHit(
        provider=provider,
        score=float(score) if scored and score is not None else None,
        distance_km=distance_km(near, provider.location),
        next_free_slot=next_free,
        free_slots=free_slots,
        highlights={field: fragments for field, fragments in highlights.items() if fragments},
    )


def slot_hits(response: dict[str, Any]) -> list[SlotDocument]:
    return [msgspec.convert(hit["_source"], SlotDocument) for hit in response["hits"]["hits"]]


def note_hits(response: dict[str, Any]) -> list[NoteHit]:
    hits = []
    for hit in response["hits"]["hits"]:
        note = msgspec.convert(hit["_source"], NoteDocument)
        fragments = hit.get("highlight", {}).get("notes") or [note.notes[:SNIPPET_CHARS]]
        hits.append(
            NoteHit(
                appointment_id=note.appointment_id,
                patient_id=note.patient_id,
                provider_id=note.provider_id,
                completed_at=note.completed_at,
                snippet=" … ".join(fragments),
            )
        )
    return hits


def distance_km(near: GeoPoint | None, location: GeoPoint | None) -> float | None:
    if near is None or location is None:
        return None
    lat1, lon1, lat2, lon2 = map(radians, (near.lat, near.lon, location.lat, location.lon))
    a = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(a)))


def facets(aggregations: dict[str, Any]) -> dict[str, list[Facet]]:
    """Each facet's values, by count descending then value (terms arrive in that order)."""
    found: dict[str, list[Facet]] = {}
    for facet, counted in aggregations.items():
        buckets = counted["values"]["buckets"]
        if facet == FACET_RATING:
            bands = [(label, int(b["doc_count"])) for label, b in buckets.items() if b["doc_count"]]
            bands.sort(key=lambda band: (-band[1], band[0]))
            found[facet] = [Facet(label, count) for label, count in bands]
        else:
            found[facet] = [Facet(str(b["key"]), int(b["doc_count"])) for b in buckets]
    return found


def suggestions(response: dict[str, Any], words: str, limit: int) -> list[Suggestion]:
    """Provider hits and specialization buckets, ranked like the PostgreSQL backend: the text
    starting with the typed words, then a word of it starting so, then resemblance; then by
    text, kind and id."""
    key = fold(words)
    ranked: list[tuple[int, str, str, str, Suggestion]] = []
    for hit in response["hits"]["hits"]:
        name = str(hit["_source"]["name"])
        suggestion = Suggestion(text=name, kind="provider", provider_id=UUID(hit["_id"]))
        ranked.append((rank(key, name), name, "provider", hit["_id"], suggestion))
    for bucket in response["aggregations"]["specializations"]["values"]["buckets"]:
        value = str(bucket["key"])
        place = rank(key, value)
        if place < 2 or resembles(key, value):
            suggestion = Suggestion(text=value, kind="specialization", provider_id=None)
            ranked.append((place, value, "specialization", "", suggestion))
    ranked.sort(key=lambda entry: entry[:4])
    return [entry[4] for entry in ranked[:limit]]


def fold(text: str) -> str:
    """Lower case without accents, single-spaced (what `lower(unaccent())` compares)."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def rank(key: str, text: str) -> int:
    """0: the text starts with the typed words; 1: one of its words does; 2: neither."""
    folded = fold(text)
    if folded.startswith(key):
        return 0
    return 1 if f" {key}" in f" {folded}" else 2


def resembles(key: str, text: str) -> bool:
    """Every typed word is within OpenSearch's AUTO edit distance of the start of a word."""
    if len(key) < FUZZY_FROM:
        return False
    words = fold(text).split()
    return all(
        any(_edits(typed, word[: len(typed)]) <= _allowed(typed) for word in words)
        for typed in key.split()
    )


def _allowed(word: str) -> int:
    return 0 if len(word) <= 2 else 1 if len(word) <= 5 else 2


def _edits(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
