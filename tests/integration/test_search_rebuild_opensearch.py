"""`slotwise search rebuild` on a recording OpenSearch cluster: fresh indices, one alias swap
per kind, the latest documents, and every request conforming to the OpenSearch API spec."""

from __future__ import annotations

import json
from contextlib import closing
from datetime import UTC, datetime, timedelta
from uuid import UUID

from commands.appointments.messages import CheckIn, CompleteAppointment, StartAppointment
from commands.directory.messages import ProviderProfile, UpdateProvider
from commands.scheduling import Scheduling
from infra.opensearch.index import OpenSearchBackend
from infra.opensearch.mappings import KINDS, Kind
from tests.builders import (
    T0,
    as_staff,
    book,
    create_slot,
    register_patient,
    register_provider,
)
from tests.fakes import FixedClock
from tests.opensearch_cluster import FakeCluster, RecordingConnection
from tests.opensearch_spec import request_spec, spec_available
from workers.search_rebuild import rebuild_search

TEN = T0 + timedelta(hours=2)


def test_a_rebuild_swaps_every_alias_to_a_fresh_index_holding_the_latest_documents(
    store_env: dict[str, str],
) -> None:
    clock = FixedClock(T0)
    cluster = FakeCluster()
    backend = OpenSearchBackend.from_url(
        "http://opensearch.invalid:9200", connection_class=RecordingConnection, cluster=cluster
    )
    backend.ensure_indices()
    before: dict[Kind, list[str]] = {kind: backend.indices_behind(kind) for kind in KINDS}
    with closing(Scheduling(store_env, clock=clock)) as app:
        provider_id = register_provider(app, name="Dr Grace Hopper")
        patient_id = register_patient(app)
        slot_id = create_slot(app, provider_id, TEN)
        visit = book(app, slot_id, patient_id).id
        clock.set(TEN - timedelta(minutes=5))
        app.check_in(CheckIn(appointment_id=visit), as_staff())
        clock.set(TEN)
        app.start(StartAppointment(appointment_id=visit), as_staff())
        app.complete(CompleteAppointment(appointment_id=visit, notes="All clear."), as_staff())
        app.update_provider(
            UpdateProvider(provider_id=provider_id, profile=ProviderProfile(name="Dr G. Hopper")),
            as_staff(),
        )
        counts = rebuild_search(app, backend, lambda: datetime.now(UTC))
        versions: dict[UUID, int] = {
            i: app.repository.get(i).version for i in (provider_id, slot_id, visit)
        }

    assert counts["providers"] >= 1
    assert counts["slots"] >= 1
    assert counts["notes"] >= 1
    for kind, old in before.items():
        behind = backend.indices_behind(kind)
        assert len(behind) == 1
        assert behind[0] not in old, f"{kind} still points at its old index"
    swaps = [r for r in cluster.requests if r.method == "POST" and r.path == "/_aliases"]
    assert len(swaps) == 3
    providers = cluster.documents(backend.names.alias("providers"))
    version, document = providers[str(provider_id)]
    assert (version, document["name"]) == (versions[provider_id], "Dr G. Hopper")
    assert cluster.documents(backend.names.alias("slots"))[str(slot_id)][0] == versions[slot_id]
    assert cluster.documents(backend.names.alias("notes"))[str(visit)][1]["notes"] == "All clear."
    if spec_available():
        spec = request_spec()
        for request in cluster.requests:
            body = request.body
            if isinstance(body, bytes | str) and not request.path.endswith("_bulk"):
                body = json.loads(body)
            if body is not None:
                spec.validate_body(request.method, request.path, body)
