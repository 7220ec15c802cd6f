"""The search projection run by eventsourcing's ProjectionRunner (as the worker starts it) with
the OpenSearch sink: documents go to OpenSearch by `_bulk` with external versions, the position
to PostgreSQL (`search_tracking`), and only after the bulk write succeeded.

No OpenSearch server: the backend's client hands every request to the in-memory cluster of
tests/opensearch_cluster.py, which records it. PostgreSQL is real, in a database of this
module's own."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.projection import ProjectionRunner

from commands.appointments.messages import CheckIn, CompleteAppointment, StartAppointment
from commands.directory.messages import (
    PatientDetails,
    ProviderProfile,
    RegisterPatient,
    RegisterProvider,
    UpdateProvider,
)
from commands.scheduling import Scheduling
from infra.opensearch.index import OpenSearchBackend, SearchIndexError
from infra.opensearch.mappings import Kind
from infra.opensearch.sink import OpenSearchSearchView, opensearch_search_view
from tests.builders import (
    T0,
    as_staff,
    book,
    create_slot,
    register_patient,
)
from tests.fakes import FixedClock
from tests.opensearch_cluster import FakeCluster, RecordingConnection
from tests.opensearch_spec import SKIP_REASON, request_spec, spec_available
from workers.projection_worker import search_runner

TEN = T0 + timedelta(hours=2)
WAIT = 15.0
NOTES = "Exercise-induced asthma; inhaler prescribed."


def fake_backend(cluster: FakeCluster) -> OpenSearchBackend:
    """A backend whose client talks to `cluster`, with its indices ensured (as the worker
    does before starting the projection)."""
    backend = OpenSearchBackend.from_url(
        "http://opensearch.invalid:9200", connection_class=RecordingConnection, cluster=cluster
    )
    backend.ensure_indices()
    return backend


@contextmanager
def running(
    backend: OpenSearchBackend, env: Mapping[str, str], app_class: type[Scheduling]
) -> Iterator[ProjectionRunner[Any, OpenSearchSearchView]]:
    with ExitStack() as stack:
        runner = search_runner(opensearch_search_view(backend), env, app_class)(stack)
        view = runner.view
        yield runner
    view.datastore.close()  # once the runner has stopped: it leaves its view's pool open


def position(view: OpenSearchSearchView) -> int:
    return view.max_tracking_id(Scheduling.name) or 0


@dataclass
class Fed:
    cluster: FakeCluster
    backend: OpenSearchBackend
    head: int
    tracked: int
    provider_id: UUID
    slots: dict[UUID, int]  # slot id -> free seats expected
    visit: UUID
    versions: dict[UUID, int]  # aggregate id -> its latest version


@pytest.fixture(scope="module")
def fed(store_env: dict[str, str], scheduling_class: type[Scheduling]) -> Fed:
    """A provider registered and renamed, two slots, one booked for a visit completed with
    notes, and a patient registered last (search ignores it): projected into a fake cluster."""
    clock = FixedClock(T0)
    cluster = FakeCluster()
    backend = fake_backend(cluster)
    with (
        closing(scheduling_class(store_env, clock=clock)) as app,
        running(backend, store_env, scheduling_class) as runner,
    ):
        profile = ProviderProfile(
            name="Dr Ada Lovelace", time_zone="Europe/Berlin", specializations=["Cardiology"]
        )
        provider_id = app.register_provider(RegisterProvider(profile=profile), as_staff()).id
        patient_id = register_patient(app)
        booked_slot = create_slot(app, provider_id, TEN)
        free_slot = create_slot(app, provider_id, TEN + timedelta(hours=1))
        visit = book(app, booked_slot, patient_id).id
        clock.set(TEN - timedelta(minutes=10))
        app.check_in(CheckIn(appointment_id=visit), as_staff())
        clock.set(TEN)
        app.start(StartAppointment(appointment_id=visit), as_staff())
        clock.set(TEN + timedelta(minutes=20))
        app.complete(CompleteAppointment(appointment_id=visit, notes=NOTES), as_staff())
        renamed = ProviderProfile(name="Dr Ada King")
        app.update_provider(UpdateProvider(provider_id=provider_id, profile=renamed), as_staff())
        details = PatientDetails(name="Alan Turing", time_zone="Europe/London")
        head = app.register_patient(RegisterPatient(details=details), as_staff()).position
        assert head is not None

        runner.wait(head, timeout=WAIT)

        ids = (provider_id, booked_slot, free_slot, visit)
        return Fed(
            cluster=cluster,
            backend=backend,
            head=head,
            tracked=position(runner.view),
            provider_id=provider_id,
            slots={booked_slot: 0, free_slot: 1},
            visit=visit,
            versions={i: app.repository.get(i).version for i in ids},
        )


def stored(fed: Fed, kind: Kind) -> dict[str, tuple[int, dict[str, Any]]]:
    return fed.cluster.documents(fed.backend.names.alias(kind))


def test_the_documents_reach_opensearch_at_their_latest_versions(fed: Fed) -> None:
    providers = stored(fed, "providers")
    version, provider = providers[str(fed.provider_id)]
    assert (version, provider["name"]) == (fed.versions[fed.provider_id], "Dr Ada King")
    assert version == 2
    slots = stored(fed, "slots")
    for slot_id, free_seats in fed.slots.items():
        version, slot = slots[str(slot_id)]
        assert (version, slot["free_seats"]) == (fed.versions[slot_id], free_seats)
    version, note = stored(fed, "notes")[str(fed.visit)]
    assert (version, note["notes"]) == (fed.versions[fed.visit], NOTES)


def test_the_position_in_postgres_reaches_the_head(fed: Fed) -> None:
    assert fed.tracked == fed.head


def test_documents_are_written_with_bulk_and_external_versions(fed: Fed) -> None:
    bulks = [r for r in fed.cluster.requests if r.path == "/_bulk"]
    assert bulks
    assert all('"version_type":"external"' in r.body.replace(" ", "") for r in bulks)


@pytest.mark.skipif(not spec_available(), reason=SKIP_REASON)
def test_every_request_the_sink_sends_conforms_to_the_specification(fed: Fed) -> None:
    spec = request_spec()
    assert fed.cluster.requests
    for request in fed.cluster.requests:
        spec.validate_params(request.method, request.path, request.params)
        if request.body is not None:
            spec.validate_body(request.method, request.path, request.body)


def test_a_refused_document_stops_the_projection_before_its_position(
    app: Scheduling, store_env: dict[str, str]
) -> None:
    cluster = FakeCluster()
    backend = fake_backend(cluster)
    before = register_and_position(app, "Before")
    profile = ProviderProfile(name="Dr Refused", time_zone="UTC")
    refused = app.register_provider(RegisterProvider(profile=profile), as_staff()).id
    head = register_and_position(app, "After")
    cluster.refused.add(str(refused))  # before the projection runs: no race with it

    with running(backend, store_env, type(app)) as runner:
        with pytest.raises(SearchIndexError, match="mapper_parsing_exception"):
            runner.wait(head, timeout=WAIT)
        assert position(runner.view) == before
    assert str(refused) not in stored_in(cluster, backend, "providers")

    cluster.refused.clear()  # the runner is restarted and tries the same event again
    with running(backend, store_env, type(app)) as runner:
        runner.wait(head, timeout=WAIT)
        assert position(runner.view) == head
    assert str(refused) in stored_in(cluster, backend, "providers")


def register_and_position(app: Scheduling, name: str) -> int:
    details = PatientDetails(name=name, time_zone="UTC")
    found = app.register_patient(RegisterPatient(details=details), as_staff()).position
    assert found is not None
    return found


def stored_in(cluster: FakeCluster, backend: OpenSearchBackend, kind: Kind) -> set[str]:
    return set(cluster.documents(backend.names.alias(kind)))
