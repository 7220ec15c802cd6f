"""The PostgreSQL search backend (the embedded default): both search ports over the tables of
migration 0006, which the search projection fills through PostgresSearchView.

Each search reads in one repeatable-read transaction, so hits, total and facets agree."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg import Cursor
from psycopg.rows import dict_row
from psycopg.sql import SQL
from psycopg_pool import ConnectionPool

from infra.postgres.search import writes
from infra.postgres.search.providers import NAME_SIMILARITY, ProviderSql, provider_sql
from projections.search import (
    FACET_INSURANCE,
    FACET_RATING,
    FACET_SIZE,
    FACET_SPECIALIZATION,
    HIGHLIGHT_TAGS,
    Facet,
    GeoPoint,
    NoteDocument,
    NoteHit,
    NoteScope,
    ProviderDocument,
    ProviderHit,
    ProviderQuery,
    ProviderResults,
    SlotDocument,
    SlotQuery,
    SlotResults,
    Suggestion,
    rating_band,
)

SLOT_WHERE = SQL("""
 WHERE status = 'open' AND free_seats > 0
   AND start_at >= %(from)s AND start_at < %(to)s AND start_at > %(now)s
   AND (%(provider_id)s::uuid IS NULL OR provider_id = %(provider_id)s::uuid)
   AND (%(type)s::text IS NULL OR %(type)s::text = ANY(appointment_types))
   AND (%(location)s::text IS NULL OR location = %(location)s::text)""")
SLOTS = SQL("""
SELECT id, version, provider_id, start_at, end_at, appointment_types, location, room, status,
       capacity, free_seats
  FROM sr_slots {where}
 ORDER BY start_at, id
 LIMIT %(limit)s OFFSET %(offset)s""").format(where=SLOT_WHERE)
SLOT_COUNT = SQL("SELECT count(*) AS total FROM sr_slots {where}").format(where=SLOT_WHERE)

# A suggestion matches where one of its words starts with the prefix (rank 0 at its very
# start), or, for three characters or more, by trigram word similarity (typos). The fields
# are fixed: provider names and their specializations.
AUTOCOMPLETE = """
WITH input AS (SELECT lower(unaccent(%(prefix)s::text)) AS key),
specializations AS (
    SELECT DISTINCT value AS text, lower(unaccent(value)) AS key
      FROM sr_providers CROSS JOIN unnest(specializations) AS value
),
candidates AS (
    SELECT p.name AS text, 'provider' AS kind, p.id AS provider_id, p.name_key AS key
      FROM sr_providers p
    UNION ALL
    SELECT text, 'specialization', NULL::uuid, key FROM specializations
)
SELECT c.text, c.kind, c.provider_id
  FROM candidates c CROSS JOIN input
 WHERE strpos(' ' || c.key, ' ' || input.key) > 0
    OR (length(input.key) >= 3 AND input.key <%% c.key)
 ORDER BY CASE WHEN starts_with(c.key, input.key) THEN 0
               WHEN strpos(' ' || c.key, ' ' || input.key) > 0 THEN 1 ELSE 2 END,
          word_similarity(input.key, c.key) DESC, c.text, c.kind, c.provider_id
 LIMIT %(limit)s"""

# Every scope field given must match; blank text lists the scope's notes, newest first.
NOTES = """
WITH input AS (SELECT websearch_to_tsquery('slotwise_search', %(text)s::text) AS ts)
SELECT n.appointment_id, n.patient_id, n.provider_id, n.completed_at,
       CASE WHEN %(text)s::text IS NULL THEN left(n.notes, 150)
            ELSE ts_headline('slotwise_search', n.notes, input.ts, %(options)s) END AS snippet
  FROM sr_notes n CROSS JOIN input
 WHERE (%(text)s::text IS NULL OR n.document @@ input.ts)
   AND (%(patient_id)s::uuid IS NULL OR n.patient_id = %(patient_id)s::uuid)
   AND (%(provider_id)s::uuid IS NULL OR n.provider_id = %(provider_id)s::uuid)
 ORDER BY ts_rank(n.document, input.ts) DESC NULLS LAST, n.completed_at DESC, n.appointment_id
 LIMIT %(limit)s"""
SNIPPET = (
    'StartSel=<em>, StopSel=</em>, MaxFragments=2, MinWords=5, MaxWords=25, FragmentDelimiter=" … "'
)

Row = dict[str, Any]


def _highlighted(fragments: Sequence[str | None]) -> list[str]:
    return [f for f in fragments if f and HIGHLIGHT_TAGS[0] in f]


def _highlights(row: Row) -> dict[str, list[str]]:
    found = {
        "name": _highlighted([row.get("hl_name")]),
        "specializations": _highlighted(row.get("hl_specializations") or []),
        "bio": _highlighted([row.get("hl_bio")]),
        "education": _highlighted([row.get("hl_education")]),
    }
    return {field: fragments for field, fragments in found.items() if fragments}


def _provider(row: Row) -> ProviderDocument:
    has_point = row["lat"] is not None and row["lon"] is not None
    return ProviderDocument(
        id=row["id"],
        version=row["version"],
        name=row["name"],
        specializations=list(row["specializations"]),
        bio=row["bio"],
        education=row["education"],
        languages=list(row["languages"]),
        location=GeoPoint(lat=row["lat"], lon=row["lon"]) if has_point else None,
        address=row["address"],
        insurances=list(row["insurances"]),
        fee_amount=row["fee_amount"],
        fee_currency=row["fee_currency"],
        rating=row["rating"],
        accepting_new_patients=row["accepting_new_patients"],
        time_zone=row["time_zone"],
    )


def _hit(row: Row) -> ProviderHit:
    score, distance = row["score"], row["distance_km"]
    return ProviderHit(
        provider=_provider(row),
        score=None if score is None else float(score),
        distance_km=None if distance is None else float(distance),
        next_free_slot=row["next_free"],
        free_slots=int(row["free_slots"]),
        highlights=_highlights(row),
    )


def _slot(row: Row) -> SlotDocument:
    return SlotDocument(
        id=row["id"],
        version=row["version"],
        provider_id=row["provider_id"],
        start=row["start_at"],
        end=row["end_at"],
        appointment_types=list(row["appointment_types"]),
        location=row["location"],
        room=row["room"],
        status=row["status"],
        capacity=row["capacity"],
        free_seats=row["free_seats"],
    )


def _rating_facet(rows: list[Row]) -> list[Facet]:
    bands: Counter[str] = Counter()
    for row in rows:
        rating: Decimal | None = row["rating"]
        bands[rating_band(rating)] += int(row["count"])
    ordered = sorted(bands.items(), key=lambda item: (-item[1], item[0]))
    return [Facet(value, count) for value, count in ordered[:FACET_SIZE]]


class PostgresSearch:
    """SearchIndex and SearchBackend over one connection pool."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self._pool = pool

    # --- SearchIndex -------------------------------------------------------------------------

    def put_providers(self, documents: Sequence[ProviderDocument]) -> None:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            writes.put_providers(cur, documents)

    def put_slots(self, documents: Sequence[SlotDocument]) -> None:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            writes.put_slots(cur, documents)

    def put_notes(self, documents: Sequence[NoteDocument]) -> None:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            writes.put_notes(cur, documents)

    # --- SearchBackend -----------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Cursor[Row]]:
        with self._pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cur.execute(
                "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
                (str(NAME_SIMILARITY),),
            )
            yield cur

    def providers(self, query: ProviderQuery, now: datetime) -> ProviderResults:
        query.validate()
        statements: ProviderSql = provider_sql(query, now, FACET_SIZE)
        params = statements.params
        with self._reading() as cur:
            hits = [_hit(row) for row in cur.execute(statements.page(), params).fetchall()]
            total = cur.execute(statements.count(), params).fetchone()
            specializations = cur.execute(
                statements.listed_facet("specializations", "specialization"), params
            ).fetchall()
            insurances = cur.execute(
                statements.listed_facet("insurances", "insurance"), params
            ).fetchall()
            ratings = cur.execute(statements.rating_facet(), params).fetchall()
        facets = {
            FACET_SPECIALIZATION: [Facet(r["value"], r["count"]) for r in specializations],
            FACET_INSURANCE: [Facet(r["value"], r["count"]) for r in insurances],
            FACET_RATING: _rating_facet(ratings),
        }
        return ProviderResults(
            hits=hits,
            total=int(total["total"]) if total else 0,
            facets=facets,
            limit=query.limit,
            offset=query.offset,
        )

    def slots(self, query: SlotQuery, now: datetime) -> SlotResults:
        query.validate()
        params = {
            "from": query.start_from,
            "to": query.start_to,
            "now": now,
            "provider_id": query.provider_id,
            "type": query.appointment_type,
            "location": query.location,
            "limit": query.limit,
            "offset": query.offset,
        }
        with self._reading() as cur:
            hits = [_slot(row) for row in cur.execute(SLOTS, params).fetchall()]
            total = cur.execute(SLOT_COUNT, params).fetchone()
        return SlotResults(
            hits=hits,
            total=int(total["total"]) if total else 0,
            limit=query.limit,
            offset=query.offset,
        )

    def autocomplete(self, prefix: str, limit: int) -> list[Suggestion]:
        words = " ".join(prefix.split())
        if not words:
            return []
        with self._reading() as cur:
            rows = cur.execute(AUTOCOMPLETE, {"prefix": words, "limit": limit}).fetchall()
        return [
            Suggestion(text=r["text"], kind=r["kind"], provider_id=r["provider_id"]) for r in rows
        ]

    def notes(self, text: str, scope: NoteScope, limit: int) -> list[NoteHit]:
        if scope.patient_id is None and scope.provider_id is None:
            return []
        params = {
            "text": text.strip() or None,
            "patient_id": scope.patient_id,
            "provider_id": scope.provider_id,
            "options": SNIPPET,
            "limit": limit,
        }
        with self._reading() as cur:
            rows = cur.execute(NOTES, params).fetchall()
        return [
            NoteHit(
                appointment_id=r["appointment_id"],
                patient_id=r["patient_id"],
                provider_id=r["provider_id"],
                completed_at=r["completed_at"],
                snippet=r["snippet"],
            )
            for r in rows
        ]
