"""The pure parts of the OpenSearch backend: request bodies, index definitions, and reading
responses. No client, no server, no specification needed."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import ValidationError
from infra.opensearch.availability import free_between_filters
from infra.opensearch.mappings import (
    IndexNames,
    bulk_lines,
    create_index_body,
    swap_alias_body,
)
from infra.opensearch.queries import (
    AUTOCOMPLETE_FIELDS,
    autocomplete_body,
    note_scope_filters,
    notes_body,
    provider_search_body,
)
from infra.opensearch.results import distance_km, facets, rank, resembles, suggestions
from projections.search import (
    FACET_INSURANCE,
    FACET_RATING,
    FACET_SPECIALIZATION,
    Facet,
    GeoPoint,
    NoteDocument,
    NoteScope,
    ProviderQuery,
    ProviderSort,
)

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
BERLIN = GeoPoint(lat=52.52, lon=13.405)
SORTS: tuple[ProviderSort, ...] = ("relevance", "rating", "distance", "fee", "soonest")


def fields_named(body: Any) -> set[str]:
    """Every field a body reads: query clause keys, `field` values, sort keys."""
    found: set[str] = set()
    clauses = {"match", "term", "terms", "range", "prefix", "exists"}
    if isinstance(body, dict):
        for key, value in body.items():
            if key in clauses and isinstance(value, dict) and "field" not in value:
                found |= set(value)  # a query clause: {"match": {field: ...}}
            if key == "field" and isinstance(value, str):
                found.add(value)
            if key == "fields" and isinstance(value, list):
                found |= {f.split("^")[0] for f in value}
            if key == "sort":
                found |= {next(iter(s)) for s in value}
            found |= fields_named(value)
    elif isinstance(body, list):
        for item in body:
            found |= fields_named(item)
    return found


# --- providers ----------------------------------------------------------------------------------


def test_a_distance_sort_needs_a_point() -> None:
    with pytest.raises(ValidationError, match="lat and lon"):
        ProviderQuery(sort="distance").validate()
    with pytest.raises(ValidationError, match="lat and lon"):
        provider_search_body(ProviderQuery(sort="distance"))


def test_a_distance_sort_measures_from_the_given_point() -> None:
    body = provider_search_body(ProviderQuery(sort="distance", near=BERLIN))

    distance = body["sort"][0]["_geo_distance"]
    assert distance["location"] == [{"lat": 52.52, "lon": 13.405}]
    assert (distance["order"], distance["unit"]) == ("asc", "km")


@pytest.mark.parametrize("sort", SORTS)
def test_every_sort_ends_with_the_id_so_pages_are_stable(sort: ProviderSort) -> None:
    body = provider_search_body(ProviderQuery(sort=sort, near=BERLIN))
    assert body["sort"][-1] == {"id": "asc"}


def test_each_facet_is_counted_with_every_filter_but_its_own() -> None:
    query = ProviderQuery(
        specializations=["Cardiology"],
        insurances=["AOK"],
        min_rating=Decimal(4),
        accepting_new_patients=True,
    )
    body = provider_search_body(query)
    own = {
        FACET_SPECIALIZATION: {"terms": {"specializations.keyword": ["Cardiology"]}},
        FACET_INSURANCE: {"terms": {"insurances": ["AOK"]}},
        FACET_RATING: {"range": {"rating": {"gte": 4.0}}},
    }

    assert body["post_filter"] == {"bool": {"filter": list(own.values())}}
    for facet, mine in own.items():
        counted = body["aggs"][facet]["filter"]["bool"]["filter"]
        assert mine not in counted
        assert counted == [f for name, f in own.items() if name != facet]
    # filters without a facet narrow everything, in the query itself
    assert body["query"]["bool"]["filter"] == [{"term": {"accepting_new_patients": True}}]


def test_without_facet_filters_there_is_no_post_filter_and_facets_count_everyone() -> None:
    body = provider_search_body(ProviderQuery(accepting_new_patients=False))
    assert "post_filter" not in body
    assert {body["aggs"][f]["filter"]["match_all"] == {} for f in body["aggs"]} == {True}


def test_rating_bands_are_those_of_rating_band() -> None:
    bands = provider_search_body(ProviderQuery())["aggs"][FACET_RATING]["aggs"]["values"]
    assert bands["filters"]["filters"] == {
        "4+": {"range": {"rating": {"gte": 4.0}}},
        "3+": {"range": {"rating": {"gte": 3.0, "lt": 4.0}}},
        "2+": {"range": {"rating": {"gte": 2.0, "lt": 3.0}}},
        "any": {"range": {"rating": {"gte": 0.0, "lt": 2.0}}},
        "unrated": {"bool": {"must_not": [{"exists": {"field": "rating"}}]}},
    }


def test_text_weighs_the_name_over_specializations_over_bio_and_education() -> None:
    body = provider_search_body(ProviderQuery(q="  Lovlace  "))
    (text,) = body["query"]["bool"]["must"]
    exact, fuzzy = text["bool"]["should"]
    for clause in (exact, fuzzy):
        fields = clause["multi_match"]["fields"]
        assert fields == ["name^3", "specializations^2", "bio", "education"]
        assert clause["multi_match"]["query"] == "Lovlace"
    assert fuzzy["multi_match"]["fuzziness"] == "AUTO"
    assert set(body["highlight"]["fields"]) == {"name", "specializations", "bio", "education"}
    assert body["track_scores"] is True


def test_without_text_nothing_is_scored_or_highlighted() -> None:
    body = provider_search_body(ProviderQuery())
    assert body["query"]["bool"]["must"] == []
    assert "highlight" not in body


def test_the_free_slot_filter_keeps_the_providers_found_in_the_slots_index() -> None:
    body = provider_search_body(ProviderQuery(), free_provider_ids=["b", "a"])
    assert {"terms": {"id": ["b", "a"]}} in body["query"]["bool"]["filter"]
    assert free_between_filters(NOW, NOW, NOW + timedelta(days=2)) == [
        {"term": {"status": "open"}},
        {"range": {"free_seats": {"gt": 0}}},
        {"range": {"start": {"gt": "2030-01-07T09:00:00+00:00"}}},
        {
            "range": {
                "start": {"gte": "2030-01-07T09:00:00+00:00", "lt": "2030-01-09T09:00:00+00:00"}
            }
        },
    ]


def test_radius_and_paging_reach_the_body() -> None:
    body = provider_search_body(ProviderQuery(near=BERLIN, radius_km=12.5, limit=7, offset=14))
    assert {"geo_distance": {"distance": "12.5km", "location": {"lat": 52.52, "lon": 13.405}}} in (
        body["query"]["bool"]["filter"]
    )
    assert (body["from"], body["size"], body["track_total_hits"]) == (14, 7, True)


# --- autocomplete -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prefix", ["card", "notes", "patient_id", "_all", "slotwise-notes", "*", "a b c"]
)
def test_autocomplete_reads_a_fixed_set_of_fields_whatever_the_prefix(prefix: str) -> None:
    body = autocomplete_body(prefix, 10)

    allowed = AUTOCOMPLETE_FIELDS | {"name.keyword", "specializations.keyword", "id", "_score"}
    assert fields_named(body) <= allowed
    assert prefix not in fields_named(body) or prefix in allowed
    assert body["_source"] == ["id", "name"]


def test_autocomplete_tolerates_typos_only_from_three_characters() -> None:
    short = json.dumps(autocomplete_body("ca", 5))
    long = json.dumps(autocomplete_body("car", 5))
    assert "fuzziness" not in short
    assert "fuzziness" in long


# --- notes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (NoteScope(patient_id=uuid.UUID(int=1)), [{"term": {"patient_id": str(uuid.UUID(int=1))}}]),
        (
            NoteScope(provider_id=uuid.UUID(int=2)),
            [{"term": {"provider_id": str(uuid.UUID(int=2))}}],
        ),
        (
            NoteScope(patient_id=uuid.UUID(int=1), provider_id=uuid.UUID(int=2)),
            [
                {"term": {"patient_id": str(uuid.UUID(int=1))}},
                {"term": {"provider_id": str(uuid.UUID(int=2))}},
            ],
        ),
    ],
)
def test_the_notes_query_always_carries_the_scope_filter(
    scope: NoteScope, expected: list[dict[str, Any]]
) -> None:
    body = notes_body("cough", scope, 10)
    assert body is not None
    assert body["query"]["bool"]["filter"] == expected
    assert note_scope_filters(scope) == expected


def test_no_scope_or_no_words_means_no_notes_query() -> None:
    assert notes_body("cough", NoteScope(), 10) is None
    assert notes_body("   ", NoteScope(patient_id=uuid.uuid4()), 10) is None


# --- indices and writes -------------------------------------------------------------------------


def test_indices_are_versioned_behind_stable_aliases() -> None:
    names = IndexNames("slotwise")
    assert names.alias("providers") == "slotwise-providers"
    assert names.index("providers", "20300107t090000-ab12") == (
        "slotwise-providers-v1-20300107t090000-ab12"
    )
    for bad in ("Slotwise", "slot wise", "../x", ""):
        with pytest.raises(ValueError, match="lowercase"):
            IndexNames(bad)


def test_the_provider_mapping_is_explicit() -> None:
    body = create_index_body("providers", replicas=0, alias="slotwise-providers")
    mapping = body["mappings"]["properties"]
    assert body["mappings"]["dynamic"] == "strict"
    assert mapping["location"] == {"type": "geo_point"}
    assert mapping["bio"]["analyzer"] == "english"
    assert mapping["name"]["fields"]["keyword"]["normalizer"] == "folded"
    assert mapping["name"]["fields"]["prefixes"]["analyzer"] == "prefixes"
    assert mapping["fee_amount"] == {"type": "scaled_float", "scaling_factor": 100}
    assert body["aliases"] == {"slotwise-providers": {"is_write_index": True}}
    assert body["settings"]["max_result_window"] >= 10_000 + 100


def test_bulk_writes_are_versioned_externally_by_the_aggregate_version() -> None:
    note = NoteDocument(
        appointment_id=uuid.uuid4(),
        version=7,
        patient_id=uuid.uuid4(),
        provider_id=uuid.uuid4(),
        completed_at=NOW,
        notes="Cough.",
    )
    action, source = bulk_lines("slotwise-notes", [note], require_alias=True)
    assert action == {
        "index": {
            "_index": "slotwise-notes",
            "_id": str(note.appointment_id),
            "version": 7,
            "version_type": "external",
            "require_alias": True,
        }
    }
    assert source["notes"] == "Cough."
    (rebuilt, _) = bulk_lines("slotwise-notes-v1-x", [note], require_alias=False)
    assert "require_alias" not in rebuilt["index"]


def test_an_alias_moves_in_one_atomic_call() -> None:
    assert swap_alias_body("slotwise-slots", "new", ["old-1", "old-2"]) == {
        "actions": [
            {"remove": {"index": "old-1", "alias": "slotwise-slots"}},
            {"remove": {"index": "old-2", "alias": "slotwise-slots"}},
            {"add": {"index": "new", "alias": "slotwise-slots", "is_write_index": True}},
        ]
    }


# --- reading responses --------------------------------------------------------------------------


def test_facets_read_in_count_order_and_empty_bands_are_left_out() -> None:
    aggregations = {
        FACET_SPECIALIZATION: {
            "doc_count": 3,
            "values": {"buckets": [{"key": "A", "doc_count": 2}]},
        },
        FACET_RATING: {
            "doc_count": 3,
            "values": {
                "buckets": {
                    "4+": {"doc_count": 1},
                    "3+": {"doc_count": 0},
                    "unrated": {"doc_count": 2},
                    "any": {"doc_count": 1},
                }
            },
        },
    }
    assert facets(aggregations) == {
        FACET_SPECIALIZATION: [Facet("A", 2)],
        FACET_RATING: [Facet("unrated", 2), Facet("4+", 1), Facet("any", 1)],
    }


def test_distances_are_great_circle_kilometres() -> None:
    potsdam = GeoPoint(lat=52.3906, lon=13.0645)
    assert distance_km(GeoPoint(lat=52.5163, lon=13.3777), potsdam) == pytest.approx(25.4, rel=0.02)
    assert distance_km(None, potsdam) is None
    assert distance_km(BERLIN, None) is None


def test_suggestions_rank_a_start_before_a_word_before_a_resemblance() -> None:
    assert [rank("card", t) for t in ("Cardiology", "Open cardiac care", "Dermatology")] == [
        0,
        1,
        2,
    ]
    assert rank("muller", "Dr Jürgen Müller") == 1
    assert resembles("lovlace", "Dr Ada Lovelace")
    assert not resembles("lo", "Dr Ada Lovelace")
    response = {
        "hits": {"hits": [{"_id": str(uuid.UUID(int=5)), "_source": {"name": "Dr Carl Card"}}]},
        "aggregations": {
            "specializations": {
                "values": {
                    "buckets": [
                        {"key": "Dermatology", "doc_count": 1},
                        {"key": "Cardiology", "doc_count": 1},
                    ]
                }
            }
        },
    }
    found = [(s.text, s.kind) for s in suggestions(response, "card", 10)]
    assert found == [("Cardiology", "specialization"), ("Dr Carl Card", "provider")]
