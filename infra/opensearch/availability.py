"""Free slots in OpenSearch: the filters that say a slot can be booked, and the per-provider
aggregation of free slots (how many, and the soonest) that provider search ranks and shows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from projections.search import FREE_SLOT_DAYS

COMPOSITE_PAGE = 1_000
OPEN = "open"


def instant(at: datetime) -> str:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"search needs aware instants, got naive {at!r}")
    return at.isoformat()


def bookable_filters(now: datetime) -> list[dict[str, Any]]:
    """Open slots with a seat left that start after `now`."""
    return [
        {"term": {"status": OPEN}},
        {"range": {"free_seats": {"gt": 0}}},
        {"range": {"start": {"gt": instant(now)}}},
    ]


def free_between_filters(now: datetime, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Free slots starting in [start, end): the "has a free slot between" filter."""
    return [
        *bookable_filters(now),
        {"range": {"start": {"gte": instant(start), "lt": instant(end)}}},
    ]


def free_soon_filters(now: datetime) -> list[dict[str, Any]]:
    """Free slots of the coming FREE_SLOT_DAYS: a provider's availability and soonest slot."""
    horizon = now + timedelta(days=FREE_SLOT_DAYS)
    return [*bookable_filters(now), {"range": {"start": {"lte": instant(horizon)}}}]


def free_slots_by_provider_body(
    filters: Sequence[dict[str, Any]],
    *,
    provider_ids: Sequence[str] | None = None,
    after: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One page of (provider, number of free slots, soonest start) over the slots index."""
    chosen = list(filters)
    if provider_ids is not None:
        chosen.append({"terms": {"provider_id": list(provider_ids)}})
    composite: dict[str, Any] = {
        "size": COMPOSITE_PAGE,
        "sources": [{"provider_id": {"terms": {"field": "provider_id"}}}],
    }
    if after:
        composite["after"] = dict(after)
    return {
        "size": 0,
        "track_total_hits": False,
        "query": {"bool": {"filter": chosen}},
        "aggs": {
            "providers": {"composite": composite, "aggs": {"soonest": {"min": {"field": "start"}}}}
        },
    }
