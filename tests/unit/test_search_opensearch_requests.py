"""Every request the OpenSearch adapter sends conforms to the OpenSearch API specification.

No server: the client's transport hands each request to tests/opensearch_cluster.py, which
records it and answers from memory; the adapter runs unpatched. Bodies (and query parameters)
are validated against ../shared/opensearch-api-spec with tests/opensearch_spec.py."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from msgspec.structs import replace

from infra.opensearch.index import OpenSearchBackend, SearchIndexError
from infra.opensearch.queries import provider_search_body
from projections.search import (
    GeoPoint,
    NoteDocument,
    NoteScope,
    ProviderDocument,
    ProviderQuery,
    SlotDocument,
    SlotQuery,
)
from tests.opensearch_cluster import FakeCluster, Recorded, RecordingConnection
from tests.opensearch_spec import (
    SKIP_REASON,
    OpenSearchSpec,
    SpecViolationError,
    request_spec,
    response_spec,
    spec_available,
)

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
BERLIN = GeoPoint(lat=52.52, lon=13.405)
needs_spec = pytest.mark.skipif(not spec_available(), reason=SKIP_REASON)


def provider(name: str, version: int = 1, **fields: Any) -> ProviderDocument:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "specializations": ["Cardiology"],
        "bio": "Heart health for adults.",
        "education": "Charité Berlin",
        "languages": ["de", "en"],
        "location": BERLIN,
        "address": "Unter den Linden 1",
        "insurances": ["AOK", "TK"],
        "fee_amount": Decimal("80.00"),
        "fee_currency": "EUR",
        "rating": Decimal("4.5"),
        "accepting_new_patients": True,
        "time_zone": "Europe/Berlin",
        **fields,
    }
    return ProviderDocument(version=version, name=name, **values)


def slot(provider_id: uuid.UUID, start: datetime, version: int = 1) -> SlotDocument:
    return SlotDocument(
        id=uuid.uuid4(),
        version=version,
        provider_id=provider_id,
        start=start,
        end=start + timedelta(minutes=30),
        appointment_types=["in_person", "video"],
        location="Berlin",
        room="2.14",
        status="open",
        capacity=1,
        free_seats=1,
    )


class Directory:
    def __init__(self) -> None:
        self.ada = provider("Dr Ada Lovelace", version=3)
        self.grace = provider(
            "Dr Grace Hopper",
            specializations=["Dermatology", "Cardiac surgery"],
            insurances=["Barmer"],
            rating=None,
            fee_amount=None,
            fee_currency=None,
            location=None,
        )
        self.patient = uuid.uuid4()
        self.note = NoteDocument(
            appointment_id=uuid.uuid4(),
            version=6,
            patient_id=self.patient,
            provider_id=self.ada.id,
            completed_at=NOW - DAY,
            notes="Persistent cough; prescribed an inhaler.",
        )


@pytest.fixture
def cluster() -> FakeCluster:
    return FakeCluster()


@pytest.fixture
def backend(cluster: FakeCluster) -> OpenSearchBackend:
    return OpenSearchBackend.from_url(
        "http://opensearch.invalid:9200",
        prefix="slotwise",
        connection_class=RecordingConnection,
        cluster=cluster,
    )


@pytest.fixture
def directory(backend: OpenSearchBackend) -> Directory:
    """Indices with their aliases, then providers (one also in an older version), slots and a
    note, through the SearchIndex port."""
    backend.ensure_indices()
    people = Directory()
    backend.put_providers([people.ada, people.grace])
    backend.put_providers([replace(people.ada, version=2, name="Dr Ada Byron")])
    backend.put_slots([slot(people.ada.id, NOW + 2 * DAY), slot(people.grace.id, NOW + DAY)])
    backend.put_notes([people.note])
    return people


def _providers(**query: Any) -> Callable[[OpenSearchBackend, Directory], object]:
    return lambda backend, _: backend.providers(ProviderQuery(**query), NOW)


def _refresh_and_drop(backend: OpenSearchBackend, _: Directory) -> None:
    backend.refresh()
    backend.drop_indices()


SCENARIOS: dict[str, Callable[[OpenSearchBackend, Directory], object]] = {
    "seeding only": lambda backend, _: None,
    "providers: everyone": _providers(),
    "providers: text (fuzzy, boosted, highlighted)": _providers(q="Lovlace cardiology"),
    "providers: specialization filter": _providers(specializations=["Cardiology", "Neurology"]),
    "providers: insurance filter": _providers(insurances=["TK"]),
    "providers: minimum rating": _providers(min_rating=Decimal("3.5")),
    "providers: accepting new patients": _providers(accepting_new_patients=False),
    "providers: within a radius": _providers(near=BERLIN, radius_km=25.5),
    "providers: free slot between": _providers(free_from=NOW, free_to=NOW + 3 * DAY),
    "providers: radius and distance sort": _providers(near=BERLIN, radius_km=100, sort="distance"),
    "providers: every facet filter": _providers(
        specializations=["Cardiology"], insurances=["AOK"], min_rating=Decimal(4)
    ),
    "providers: sort by rating": _providers(sort="rating"),
    "providers: sort by fee": _providers(sort="fee", q="heart"),
    "providers: sort by distance": _providers(near=BERLIN, sort="distance"),
    "providers: sort by soonest": _providers(sort="soonest", q="cardiology"),
    "providers: a later page": _providers(limit=5, offset=10, sort="rating"),
    "providers: everything at once": _providers(
        q="heart",
        specializations=["Cardiology"],
        insurances=["AOK", "TK"],
        min_rating=Decimal("4.25"),
        accepting_new_patients=True,
        near=BERLIN,
        radius_km=10,
        free_from=NOW,
        free_to=NOW + 5 * DAY,
        sort="soonest",
        limit=100,
        offset=10_000,
    ),
    "slots: every filter": lambda backend, people: backend.slots(
        SlotQuery(
            start_from=NOW,
            start_to=NOW + 7 * DAY,
            provider_id=people.ada.id,
            appointment_type="video",
            location="Berlin",
            limit=10,
            offset=5,
        ),
        NOW,
    ),
    "slots: a window": lambda backend, _: backend.slots(
        SlotQuery(start_from=NOW - DAY, start_to=NOW + DAY), NOW
    ),
    "autocomplete: short prefix": lambda backend, _: backend.autocomplete("dr", 5),
    "autocomplete: long prefix": lambda backend, _: backend.autocomplete("  Cardi  surg ", 10),
    "notes: patient scope": lambda backend, people: backend.notes(
        "cough", NoteScope(patient_id=people.patient), 20
    ),
    "notes: provider scope": lambda backend, people: backend.notes(
        "inhaler cough", NoteScope(provider_id=people.ada.id), 5
    ),
    "rebuild and swap the alias": lambda backend, people: backend.rebuild(
        "providers", [people.ada, people.grace]
    ),
    "rebuild twice, keeping the old index": lambda backend, people: [
        backend.rebuild("slots", [slot(people.ada.id, NOW + DAY)], keep_old=True),
        backend.rebuild("slots", [slot(people.ada.id, NOW + DAY)]),
    ],
    "refresh and drop": _refresh_and_drop,
}


def assert_conforms(requests: list[Recorded], spec: OpenSearchSpec) -> None:
    for request in requests:
        spec.validate_params(request.method, request.path, request.params)
        if request.body is not None:
            spec.validate_body(request.method, request.path, request.body)


@needs_spec
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_request_the_adapter_sends_conforms_to_the_specification(
    scenario: str, backend: OpenSearchBackend, directory: Directory, cluster: FakeCluster
) -> None:
    seeded = 0 if scenario == "seeding only" else len(cluster.requests)
    SCENARIOS[scenario](backend, directory)

    assert len(cluster.requests) > seeded
    assert_conforms(cluster.requests[seeded:], request_spec())


@needs_spec
def test_the_scenarios_cover_every_operation_the_adapter_uses(
    backend: OpenSearchBackend, directory: Directory, cluster: FakeCluster
) -> None:
    for run in SCENARIOS.values():
        run(backend, directory)
    spec = request_spec()
    used = {(r.method, spec.operation(r.method, r.path).template) for r in cluster.requests}
    answers = {
        (r.method, spec.operation(r.method, r.path).template, r.status, _shape(r.response)): r
        for r in cluster.requests
    }
    for request in answers.values():  # and the fake answered as OpenSearch would
        response_spec().validate_response(
            request.method, request.path, request.status, request.response
        )
    assert used == {
        ("HEAD", "/_alias/{name}"),
        ("GET", "/_alias/{name}"),
        ("PUT", "/{index}"),
        ("POST", "/_aliases"),
        ("POST", "/_bulk"),
        ("POST", "/{index}/_search"),
        ("POST", "/{index}/_refresh"),
        ("DELETE", "/{index}"),
    }


def _shape(value: Any) -> str:
    """What a response looks like, whatever its values: one check per kind of answer."""

    def skeleton(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: skeleton(inner) for key, inner in sorted(node.items())}
        if isinstance(node, list):
            return [skeleton(node[0])] if node else []
        return type(node).__name__

    return json.dumps(skeleton(value))


# --- the validator is real -------------------------------------------------------------------


def _body_of(cluster: FakeCluster, method: str, path_end: str) -> Any:
    return next(
        r.body for r in cluster.requests if r.method == method and r.path.endswith(path_end)
    )


@needs_spec
def test_a_misspelled_query_clause_fails_validation() -> None:
    body = provider_search_body(ProviderQuery(q="heart", specializations=["Cardiology"]))
    request_spec().validate_body("POST", "/slotwise-providers/_search", body)
    clause = body["query"]["bool"]["must"][0]["bool"]["should"][0]
    clause["mulit_match"] = clause.pop("multi_match")

    with pytest.raises(SpecViolationError, match="mulit_match"):
        request_spec().validate_body("POST", "/slotwise-providers/_search", body)


@needs_spec
def test_the_published_schemas_alone_would_let_a_misspelled_clause_through() -> None:
    """Why the validator closes objects: the specification leaves them open."""
    body = {"query": {"bool": {"filtr": [{"term": {"id": "x"}}]}}}
    OpenSearchSpec(strict=False).validate_body("POST", "/i/_search", body)
    with pytest.raises(SpecViolationError, match="filtr"):
        request_spec().validate_body("POST", "/i/_search", body)


@needs_spec
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/i/_search", {"sort": [{"_geo_distance": {"location": [], "order": "up"}}]}),
        ("POST", "/i/_search", {"size": "ten"}),
        ("POST", "/i/_search", {"aggs": {"f": {"terms": {"feild": "specializations"}}}}),
        ("POST", "/i/_search", {"highlight": {"feilds": {"name": {}}}}),
        ("PUT", "/i", {"mappings": {"properties": {"id": {"type": "keyword", "normaliser": "x"}}}}),
        ("PUT", "/i", {"mappings": {"properties": {"id": {"type": "keywrd"}}}}),
        ("PUT", "/i", {"setings": {"number_of_shards": 1}}),
        ("POST", "/_aliases", {"actions": [{"swap": {"index": "a", "alias": "b"}}]}),
        ("POST", "/_bulk", '{"index": {"_id": "1", "version_type": "externel"}}\n{"a": 1}\n'),
        ("POST", "/_bulk", '{"indx": {"_id": "1"}}\n{"a": 1}\n'),
        ("POST", "/_bulk", '{"index": {"_id": "1"}}\n'),
        ("POST", "/_bulk", '{"index": {"_id": "1"}}\n{"a": 1}'),
    ],
)
def test_wrong_bodies_fail_validation(method: str, path: str, body: Any) -> None:
    with pytest.raises(SpecViolationError):
        request_spec().validate_body(method, path, body)


@needs_spec
def test_a_query_parameter_the_operation_does_not_take_fails_validation() -> None:
    request_spec().validate_params("POST", "/_bulk", {"refresh": "wait_for"})
    with pytest.raises(SpecViolationError, match="refresh_now"):
        request_spec().validate_params("POST", "/_bulk", {"refresh_now": "true"})
    with pytest.raises(SpecViolationError, match="refresh"):
        request_spec().validate_params("POST", "/_bulk", {"refresh": "sometimes"})


@needs_spec
def test_bulk_bodies_are_checked_line_by_line(
    backend: OpenSearchBackend, directory: Directory, cluster: FakeCluster
) -> None:
    text = _body_of(cluster, "POST", "/_bulk")
    request_spec().validate_body("POST", "/_bulk", text)
    broken = text.replace('"version_type":"external"', '"version_type":"newest"', 1)
    assert broken != text
    with pytest.raises(SpecViolationError, match="line 1"):
        request_spec().validate_body("POST", "/_bulk", broken)


# --- what the adapter does with the answers ---------------------------------------------------


def test_an_older_version_is_refused_quietly_and_the_newer_document_stays(
    backend: OpenSearchBackend, directory: Directory, cluster: FakeCluster
) -> None:
    bulks = [r for r in cluster.requests if r.path == "/_bulk"]
    older = bulks[1].response["items"][0]["index"]
    assert (older["status"], older["error"]["type"]) == (409, "version_conflict_engine_exception")
    version, source = cluster.documents("slotwise-providers")[str(directory.ada.id)]
    assert (version, source["name"]) == (3, "Dr Ada Lovelace")


def test_a_refused_document_for_any_other_reason_fails_the_write(
    backend: OpenSearchBackend, directory: Directory, cluster: FakeCluster
) -> None:
    cluster.refused.add(str(directory.grace.id))
    with pytest.raises(SearchIndexError, match="mapper_parsing_exception"):
        backend.put_providers([replace(directory.grace, version=9)])


def test_writes_need_the_alias_and_never_create_an_index(
    backend: OpenSearchBackend, cluster: FakeCluster
) -> None:
    with pytest.raises(SearchIndexError, match="index_not_found_exception"):
        backend.put_providers([provider("Dr Nobody")])
    assert cluster.indices == {}


def test_a_rebuild_swaps_the_alias_in_one_call_then_drops_the_old_index(
    backend: OpenSearchBackend, directory: Directory, cluster: FakeCluster
) -> None:
    (before,) = backend.indices_behind("providers")
    seen = len(cluster.requests)

    after = backend.rebuild("providers", [directory.ada])

    swaps = [r.body for r in cluster.requests[seen:] if r.path == "/_aliases"]
    assert swaps == [
        {
            "actions": [
                {"remove": {"index": before, "alias": "slotwise-providers"}},
                {"add": {"index": after, "alias": "slotwise-providers", "is_write_index": True}},
            ]
        }
    ]
    assert backend.indices_behind("providers") == [after]
    assert before not in cluster.indices
    assert list(cluster.documents("slotwise-providers")) == [str(directory.ada.id)]


def test_searches_parse_into_the_contract(backend: OpenSearchBackend, directory: Directory) -> None:
    found = backend.providers(ProviderQuery(q="heart", near=BERLIN), NOW)
    by_id = {hit.provider.id: hit for hit in found.hits}
    ada = by_id[directory.ada.id]
    assert ada.provider == directory.ada
    assert (ada.next_free_slot, ada.free_slots) == (NOW + 2 * DAY, 1)
    assert ada.distance_km == pytest.approx(0.0)
    assert ada.score is not None
    assert by_id[directory.grace.id].distance_km is None
    assert {f.value for f in found.facets["specializations"]} >= {"Cardiology", "Dermatology"}
    (hit,) = backend.notes("cough", NoteScope(patient_id=directory.patient), 5)
    assert (hit.appointment_id, hit.provider_id) == (
        directory.note.appointment_id,
        directory.ada.id,
    )


def test_soonest_ranks_providers_by_their_next_free_slot(
    backend: OpenSearchBackend, directory: Directory, cluster: FakeCluster
) -> None:
    backend.providers(ProviderQuery(sort="soonest"), NOW)

    body = cluster.requests[-1].body
    script = body["sort"][0]["_script"]["script"]
    assert script["params"] == {
        "ranks": {str(directory.grace.id): 0, str(directory.ada.id): 1},
        "unranked": 2,
    }
    assert body["sort"][1] == {"id": "asc"}


def test_nothing_is_sent_for_notes_without_a_scope_or_an_empty_prefix(
    backend: OpenSearchBackend, cluster: FakeCluster
) -> None:
    assert backend.notes("cough", NoteScope(), 20) == []
    assert backend.notes("  ", NoteScope(patient_id=uuid.uuid4()), 20) == []
    assert backend.autocomplete("   ", 10) == []
    assert cluster.requests == []


def test_autocomplete_reads_the_providers_alias_whatever_the_prefix(
    backend: OpenSearchBackend, directory: Directory, cluster: FakeCluster
) -> None:
    seen = len(cluster.requests)
    backend.autocomplete("slotwise-notes", 5)
    backend.autocomplete("_all", 5)
    assert {r.path for r in cluster.requests[seen:]} == {"/slotwise-providers/_search"}
