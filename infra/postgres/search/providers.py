"""Provider search on PostgreSQL: the SQL for filters, relevance, sorts, facets and highlights.

Every value from the request is a bound parameter; the SQL itself is composed only of the
constants below (psycopg.sql), chosen by which filters are present.

- Text: the weighted tsvector (name A, specializations B, bio and education C) matched by
  websearch_to_tsquery, or a typo-tolerant trigram match of the words against the name
  (pg_trgm word similarity). Relevance is ts_rank plus the name's word similarity.
- Facets: one query per facet with every filter except its own (post-filter semantics).
- Free slots: next_free_slot and free_slots are counted from sr_slots at query time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg.sql import SQL, Composable, Composed, Identifier

from projections.search import FREE_SLOT_DAYS, ProviderQuery, ProviderSort

NAME_SIMILARITY = 0.45  # word similarity of the query to part of a name: "lovlace" ~ 0.55

INPUT = SQL("""
WITH input AS (
    SELECT websearch_to_tsquery('slotwise_search', %(q)s::text) AS ts,
           lower(unaccent(%(q)s::text)) AS key,
           ll_to_earth(%(lat)s::float8, %(lon)s::float8) AS origin
)""")

FREE_SLOT = SQL("s.provider_id = p.id AND s.status = 'open' AND s.free_seats > 0")
FILTERS: dict[str, Composable] = {
    "q": SQL("(p.document @@ input.ts OR input.key <%% p.name_key)"),
    "specialization": SQL("p.specializations && %(specializations)s::text[]"),
    "insurance": SQL("p.insurances && %(insurances)s::text[]"),
    "rating": SQL("p.rating >= %(min_rating)s::numeric"),
    "accepting": SQL("p.accepting_new_patients = %(accepting)s::boolean"),
    "radius": SQL(
        "earth_box(input.origin, %(radius_m)s::float8) @> p.geo"
        " AND earth_distance(input.origin, p.geo) <= %(radius_m)s::float8"
    ),
    "free": SQL(
        "EXISTS (SELECT 1 FROM sr_slots s WHERE {} AND s.start_at > %(now)s"
        " AND s.start_at >= %(free_from)s AND s.start_at < %(free_to)s)"
    ).format(FREE_SLOT),
}

SCORE = SQL(
    "CASE WHEN input.key IS NULL THEN NULL ELSE ts_rank(p.document, input.ts) * 10"
    " + CASE WHEN input.key <%% p.name_key THEN 0.5 * word_similarity(input.key, p.name_key)"
    " ELSE 0 END END"
)
SORTS: dict[ProviderSort, Composable] = {
    "relevance": SQL("score DESC NULLS LAST, id"),
    "rating": SQL("rating DESC NULLS LAST, id"),
    "distance": SQL("distance_km ASC NULLS LAST, id"),
    "fee": SQL("fee_amount ASC NULLS LAST, id"),
    "soonest": SQL("next_free ASC NULLS LAST, id"),
}

PAGE = SQL("""
, page AS (
    SELECT p.id, p.version, p.name, p.specializations, p.bio, p.education, p.languages,
           p.lat, p.lon, p.address, p.insurances, p.fee_amount, p.fee_currency, p.rating,
           p.accepting_new_patients, p.time_zone,
           {score} AS score,
           earth_distance(input.origin, p.geo) / 1000.0 AS distance_km,
           free.next_free, free.free_slots
      FROM sr_providers p
     CROSS JOIN input
     CROSS JOIN LATERAL (
           SELECT min(s.start_at) AS next_free, count(*) AS free_slots
             FROM sr_slots s
            WHERE {free_slot} AND s.start_at > %(now)s AND s.start_at < %(horizon)s
     ) free
     WHERE {where}
     ORDER BY {order}
     LIMIT %(limit)s OFFSET %(offset)s
)
SELECT page.*{highlights}
  FROM page CROSS JOIN input
 ORDER BY {order}""")

SHORT = "StartSel=<em>, StopSel=</em>, HighlightAll=true"
LONG = (
    'StartSel=<em>, StopSel=</em>, MaxFragments=2, MinWords=5, MaxWords=20, FragmentDelimiter=" … "'
)
# Name words similar to some part of the query (typos included) or equal to a query word;
# the specializations, bio and education as ts_headline marks the query's words in them.
HIGHLIGHTS = SQL(r"""
, (SELECT string_agg(CASE WHEN (length(k.w) >= 3
                                AND word_similarity(k.w, input.key) >= %(similar)s::real)
                               OR k.w = ANY(regexp_split_to_array(input.key, '\s+'))
                          THEN '<em>' || t.w || '</em>' ELSE t.w END, ' ' ORDER BY t.n)
     FROM regexp_split_to_table(page.name, '\s+') WITH ORDINALITY AS t(w, n)
    CROSS JOIN LATERAL (SELECT lower(unaccent(t.w)) AS w) k) AS hl_name
, ARRAY(SELECT ts_headline('slotwise_search', s, input.ts, %(short)s)
          FROM unnest(page.specializations) s) AS hl_specializations
, ts_headline('slotwise_search', page.bio, input.ts, %(long)s) AS hl_bio
, ts_headline('slotwise_search', page.education, input.ts, %(long)s) AS hl_education""")

COUNT = SQL("SELECT count(*) AS total FROM sr_providers p CROSS JOIN input WHERE {where}")
LISTED_FACET = SQL("""
SELECT value, count(DISTINCT p.id) AS count
  FROM sr_providers p CROSS JOIN input CROSS JOIN unnest(p.{column}) AS value
 WHERE {where}
 GROUP BY value
 ORDER BY count DESC, value
 LIMIT %(facet_size)s""")
RATING_FACET = SQL("""
SELECT p.rating, count(*) AS count
  FROM sr_providers p CROSS JOIN input
 WHERE {where}
 GROUP BY p.rating""")


@dataclass(frozen=True)
class ProviderSql:
    """The statements that answer one provider query, and their parameters."""

    params: dict[str, Any]
    filters: tuple[str, ...]
    sort: ProviderSort
    highlight: bool

    def where(self, *, without: str | None = None) -> Composable:
        chosen = [FILTERS[name] for name in self.filters if name != without]
        return SQL(" AND ").join(chosen) if chosen else SQL("TRUE")

    def page(self) -> Composed:
        return INPUT + PAGE.format(
            score=SCORE,
            free_slot=FREE_SLOT,
            where=self.where(),
            order=SORTS[self.sort],
            highlights=HIGHLIGHTS if self.highlight else SQL(""),
        )

    def count(self) -> Composed:
        return INPUT + COUNT.format(where=self.where())

    def listed_facet(self, column: str, own_filter: str) -> Composed:
        where = self.where(without=own_filter)
        return INPUT + LISTED_FACET.format(column=Identifier(column), where=where)

    def rating_facet(self) -> Composed:
        return INPUT + RATING_FACET.format(where=self.where(without="rating"))


def provider_sql(query: ProviderQuery, now: datetime, facet_size: int) -> ProviderSql:
    text = (query.q or "").strip() or None
    present = {
        "q": text is not None,
        "specialization": bool(query.specializations),
        "insurance": bool(query.insurances),
        "rating": query.min_rating is not None,
        "accepting": query.accepting_new_patients is not None,
        "radius": query.radius_km is not None,
        "free": query.free_from is not None,
    }
    params: dict[str, Any] = {
        "q": text,
        "lat": query.near.lat if query.near else None,
        "lon": query.near.lon if query.near else None,
        "specializations": list(query.specializations),
        "insurances": list(query.insurances),
        "min_rating": query.min_rating,
        "accepting": query.accepting_new_patients,
        "radius_m": query.radius_km * 1000 if query.radius_km is not None else None,
        "free_from": query.free_from,
        "free_to": query.free_to,
        "now": now,
        "horizon": now + timedelta(days=FREE_SLOT_DAYS),
        "limit": query.limit,
        "offset": query.offset,
        "facet_size": facet_size,
        "short": SHORT,
        "long": LONG,
        "similar": NAME_SIMILARITY,
    }
    return ProviderSql(
        params=params,
        filters=tuple(name for name, on in present.items() if on),
        sort=query.sort,
        highlight=text is not None,
    )
