"""Pure builders of the OpenSearch `_search` bodies of the search read model. Nothing here does
I/O: each function returns the dict that is sent, so tests check it against the specification.
Field names are constants of this module; a request only ever supplies values.

Semantics follow the PostgreSQL backend: a free slot is open, has a seat left and starts after
`now`; a provider's availability counts its free slots up to FREE_SLOT_DAYS ahead; filters and
facets compare specializations and insurances exactly; ties sort by id."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from infra.opensearch.availability import free_between_filters
from projections.search import (
    FACET_INSURANCE,
    FACET_RATING,
    FACET_SIZE,
    FACET_SPECIALIZATION,
    HIGHLIGHT_TAGS,
    RATING_BANDS,
    NoteScope,
    ProviderQuery,
    SlotQuery,
)

# name weighs more than specializations, which weigh more than bio and education
TEXT_FIELDS = ("name^3", "specializations^2", "bio", "education")
HIGHLIGHT_FIELDS = ("name", "specializations", "bio", "education")
# the only fields autocomplete reads, whatever the request says
AUTOCOMPLETE_NAME_FIELDS = ("name.prefixes", "name")
AUTOCOMPLETE_SPECIALIZATION_FIELDS = ("specializations.prefixes", "specializations")
AUTOCOMPLETE_FIELDS = frozenset(AUTOCOMPLETE_NAME_FIELDS + AUTOCOMPLETE_SPECIALIZATION_FIELDS)
SPECIALIZATION_CANDIDATES = 200
FUZZY_FROM = 3  # characters typed before autocomplete tolerates typos (as PostgreSQL's trigrams)
_SOONEST = (
    "def rank = params.ranks.get(doc['id'].value); return rank == null ? params.unranked : rank;"
)


def _text_query(q: str) -> dict[str, Any]:
    """Every word somewhere in the profile, or every word close to one in a single field."""
    fields = list(TEXT_FIELDS)
    return {
        "bool": {
            "should": [
                {
                    "multi_match": {
                        "query": q,
                        "fields": fields,
                        "type": "cross_fields",
                        "operator": "and",
                    }
                },
                {
                    "multi_match": {
                        "query": q,
                        "fields": fields,
                        "type": "best_fields",
                        "operator": "and",
                        "fuzziness": "AUTO",
                        "prefix_length": 1,
                    }
                },
            ],
            "minimum_should_match": 1,
        }
    }


def facet_filters(query: ProviderQuery) -> dict[str, dict[str, Any]]:
    """The filters that have a facet, by facet. They go in the post filter, so that each facet
    is counted with every filter but its own."""
    filters: dict[str, dict[str, Any]] = {}
    if query.specializations:
        filters[FACET_SPECIALIZATION] = {
            "terms": {"specializations.keyword": list(query.specializations)}
        }
    if query.insurances:
        filters[FACET_INSURANCE] = {"terms": {"insurances": list(query.insurances)}}
    if query.min_rating is not None:
        filters[FACET_RATING] = {"range": {"rating": {"gte": float(query.min_rating)}}}
    return filters


def _all_of(filters: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"bool": {"filter": list(filters)}} if filters else {"match_all": {}}


def _rating_bands() -> dict[str, Any]:
    """One bucket per band of rating_band(): [4, ∞), [3, 4), [2, 3), [0, 2), no rating."""
    bands: dict[str, Any] = {}
    ceiling: float | None = None
    for floor, label in RATING_BANDS:
        bounds: dict[str, Any] = {"gte": float(floor)}
        if ceiling is not None:
            bounds["lt"] = ceiling
        bands[label] = {"range": {"rating": bounds}}
        ceiling = float(floor)
    bands["unrated"] = {"bool": {"must_not": [{"exists": {"field": "rating"}}]}}
    return {"filters": {"filters": bands}}


def facet_aggs(filters: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    order = [{"_count": "desc"}, {"_key": "asc"}]
    counted = {
        FACET_SPECIALIZATION: {
            "terms": {"field": "specializations.keyword", "size": FACET_SIZE, "order": order}
        },
        FACET_INSURANCE: {"terms": {"field": "insurances", "size": FACET_SIZE, "order": order}},
        FACET_RATING: _rating_bands(),
    }
    return {
        facet: {
            "filter": _all_of([f for name, f in filters.items() if name != facet]),
            "aggs": {"values": values},
        }
        for facet, values in counted.items()
    }


def provider_sort(query: ProviderQuery, soonest_ranks: Mapping[str, int] | None) -> list[Any]:
    """The sort, ending with the id so pages never overlap or skip. Soonest availability is
    ranked by the adapter (from the slots index) and applied here by rank."""
    query.validate()
    if query.sort == "rating":
        primary: Any = {"rating": {"order": "desc", "missing": "_last"}}
    elif query.sort == "fee":
        primary = {"fee_amount": {"order": "asc", "missing": "_last"}}
    elif query.sort == "distance" and query.near is not None:
        point = {"lat": query.near.lat, "lon": query.near.lon}
        distance = {"location": [point], "order": "asc", "unit": "km", "distance_type": "arc"}
        primary = {"_geo_distance": distance}
    elif query.sort == "soonest":
        ranks = dict(soonest_ranks or {})
        params = {"ranks": ranks, "unranked": len(ranks)}
        script = {"lang": "painless", "source": _SOONEST, "params": params}
        primary = {"_script": {"type": "number", "order": "asc", "script": script}}
    else:
        primary = {"_score": "desc"}
    return [primary, {"id": "asc"}]


def provider_search_body(
    query: ProviderQuery,
    *,
    free_provider_ids: Sequence[str] | None = None,
    soonest_ranks: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The providers search. `free_provider_ids`: the providers with a free slot in the asked
    range (None: no such filter). `soonest_ranks`: provider id -> rank of its next free slot,
    for sort=soonest (providers without one come after, by id)."""
    query.validate()
    q = (query.q or "").strip()
    filters: list[dict[str, Any]] = []
    if query.accepting_new_patients is not None:
        filters.append({"term": {"accepting_new_patients": query.accepting_new_patients}})
    if query.radius_km is not None and query.near is not None:
        point = {"lat": query.near.lat, "lon": query.near.lon}
        filters.append({"geo_distance": {"distance": f"{query.radius_km}km", "location": point}})
    if free_provider_ids is not None:
        filters.append({"terms": {"id": list(free_provider_ids)}})
    faceted = facet_filters(query)
    body: dict[str, Any] = {
        "from": query.offset,
        "size": query.limit,
        "track_total_hits": True,
        "query": {"bool": {"must": [_text_query(q)] if q else [], "filter": filters}},
        "aggs": facet_aggs(faceted),
        "sort": provider_sort(query, soonest_ranks),
    }
    if faceted:
        body["post_filter"] = _all_of(list(faceted.values()))
    if q:
        body["track_scores"] = True
        body["highlight"] = {
            "pre_tags": [HIGHLIGHT_TAGS[0]],
            "post_tags": [HIGHLIGHT_TAGS[1]],
            "fields": {field: {} for field in HIGHLIGHT_FIELDS},
        }
    return body


def slot_search_body(query: SlotQuery, now: datetime) -> dict[str, Any]:
    """Free slots in [start_from, start_to), soonest first."""
    query.validate()
    filters = free_between_filters(now, query.start_from, query.start_to)
    if query.provider_id is not None:
        filters.append({"term": {"provider_id": str(query.provider_id)}})
    if query.appointment_type is not None:
        filters.append({"term": {"appointment_types": query.appointment_type}})
    if query.location is not None:
        filters.append({"term": {"location": query.location}})
    return {
        "from": query.offset,
        "size": query.limit,
        "track_total_hits": True,
        "query": {"bool": {"filter": filters}},
        "sort": [{"start": {"order": "asc"}}, {"id": "asc"}],
    }


def _words_match(field: str, words: str, *, fuzzy: bool) -> dict[str, Any]:
    match: dict[str, Any] = {"query": words, "operator": "and"}
    if fuzzy:
        match.update(fuzziness="AUTO", prefix_length=1)
    return {"match": {field: match}}


def _suggesting(fields: Sequence[str], words: str) -> dict[str, Any]:
    prefixes, whole = fields
    clauses = [_words_match(prefixes, words, fuzzy=False)]
    if len(words) >= FUZZY_FROM:
        clauses.append(_words_match(whole, words, fuzzy=True))
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def autocomplete_body(words: str, limit: int) -> dict[str, Any]:
    """Providers whose name words start with (or, typed long enough, resemble) the typed words,
    as hits; the specializations of providers whose specializations do, as buckets for the
    adapter to rank. Reads AUTOCOMPLETE_FIELDS only."""
    names = _suggesting(AUTOCOMPLETE_NAME_FIELDS, words)
    specializations = _suggesting(AUTOCOMPLETE_SPECIALIZATION_FIELDS, words)
    values = {"terms": {"field": "specializations.keyword", "size": SPECIALIZATION_CANDIDATES}}
    return {
        "size": limit,
        "_source": ["id", "name"],
        "query": {"bool": {"should": [names, specializations], "minimum_should_match": 1}},
        "post_filter": names,
        "sort": [{"_score": "desc"}, {"name.keyword": "asc"}, {"id": "asc"}],
        "aggs": {"specializations": {"filter": specializations, "aggs": {"values": values}}},
    }


def note_scope_filters(scope: NoteScope) -> list[dict[str, Any]]:
    """The notes a caller may see: a patient's own, a provider's patients' (both given: the
    notes of that patient with that provider). No scope, no filters: nothing may be seen."""
    filters: list[dict[str, Any]] = []
    if scope.patient_id is not None:
        filters.append({"term": {"patient_id": str(scope.patient_id)}})
    if scope.provider_id is not None:
        filters.append({"term": {"provider_id": str(scope.provider_id)}})
    return filters


def notes_body(text: str, scope: NoteScope, limit: int) -> dict[str, Any] | None:
    """Every word of `text` (stemmed) in the notes, always inside the caller's scope; None
    when there is nothing to search or nobody's notes to search in."""
    scoped = note_scope_filters(scope)
    words = text.strip()
    if not scoped or not words:
        return None
    return {
        "size": limit,
        "query": {
            "bool": {
                "must": [{"match": {"notes": {"query": words, "operator": "and"}}}],
                "filter": scoped,
            }
        },
        "highlight": {
            "pre_tags": [HIGHLIGHT_TAGS[0]],
            "post_tags": [HIGHLIGHT_TAGS[1]],
            "fields": {"notes": {"fragment_size": 160, "number_of_fragments": 2}},
        },
        "sort": [
            {"_score": "desc"},
            {"completed_at": {"order": "desc"}},
            {"appointment_id": "asc"},
        ],
    }
