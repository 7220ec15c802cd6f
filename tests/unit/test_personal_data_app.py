"""Personal data through the application: encrypted on the way into the (in-memory) event store,
clear on the way out, the tombstone once the subject's key is destroyed. A tiny aggregate of the
test's own carries it, at the top level and nested in mappings and lists."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import MapperDeserialisationError

from commands.application import (
    DateAsISO,
    PersonalDataNotConfiguredError,
    SlotwiseApplication,
)
from domain.personal import PersonalData, SubjectErasedError, personal
from infra.crypto.transcoding import PersonalDataAsCiphertext, PersonalDataIntegrityError
from tests.builders import IN_MEMORY
from tests.charts import CLEAR_VALUES, Chart, open_chart
from tests.fakes import InMemoryKeyStore

GRACE = uuid4()


@pytest.fixture
def keys() -> InMemoryKeyStore:
    return InMemoryKeyStore()


@pytest.fixture
def app(keys: InMemoryKeyStore) -> SlotwiseApplication:
    return SlotwiseApplication(IN_MEMORY, personal_data=PersonalDataAsCiphertext(keys))


def stored_bytes(app: SlotwiseApplication) -> bytes:
    notifications = app.recorder.select_notifications(start=1, limit=1000)
    return b"".join(n.state for n in notifications)


def test_personal_data_is_stored_encrypted_and_read_back_clear(app: SlotwiseApplication) -> None:
    chart = open_chart(GRACE)
    app.save(chart)

    raw = stored_bytes(app)
    for value in CLEAR_VALUES:
        assert value.encode() not in raw
    assert b"Europe/Berlin" in raw  # what is not personal stays plain

    loaded: Chart = app.repository.get(chart.id)
    assert isinstance(loaded, Chart)
    assert loaded.name == PersonalData(GRACE, "Grace Hopper")
    assert loaded.details == chart.details
    assert loaded.notes == [PersonalData(GRACE, "allergic to penicillin")]


def test_after_the_key_is_destroyed_every_value_reads_as_erased(
    app: SlotwiseApplication, keys: InMemoryKeyStore
) -> None:
    other = open_chart(uuid4())
    chart = open_chart(GRACE)
    app.save(chart, other)

    keys.destroy(GRACE)

    loaded: Chart = app.repository.get(chart.id)
    erased = PersonalData.erased(GRACE)
    assert loaded.name == erased
    assert loaded.details["phone"] == erased
    assert loaded.details["symptoms"] == [erased]
    assert loaded.details["vitals"] == erased
    assert loaded.details["time_zone"] == "Europe/Berlin"
    assert loaded.notes == [erased]
    assert app.repository.get(other.id).name == other.name


def test_snapshots_go_through_the_same_encryption(keys: InMemoryKeyStore) -> None:
    snapshotting = SlotwiseApplication(
        {**IN_MEMORY, "IS_SNAPSHOTTING_ENABLED": "y"},
        personal_data=PersonalDataAsCiphertext(keys),
    )
    chart = open_chart(GRACE)
    snapshotting.save(chart)
    snapshotting.take_snapshot(chart.id)
    assert snapshotting.snapshots is not None
    snapshot = next(iter(snapshotting.snapshots.get(chart.id)))
    state = snapshotting.mapper.to_stored_event(snapshot).state
    assert b"Grace" not in state

    assert snapshotting.repository.get(chart.id).name == chart.name
    keys.destroy(GRACE)
    assert snapshotting.repository.get(chart.id).name == PersonalData.erased(GRACE)


def test_no_new_personal_data_is_saved_for_an_erased_subject(
    app: SlotwiseApplication, keys: InMemoryKeyStore
) -> None:
    keys.destroy(GRACE)
    with pytest.raises(SubjectErasedError):
        app.save(open_chart(GRACE))


def test_without_a_personal_data_transcoding_the_application_fails_closed() -> None:
    app = SlotwiseApplication(IN_MEMORY)
    with pytest.raises(PersonalDataNotConfiguredError):
        app.save(open_chart(GRACE))


def test_only_a_transcoding_of_personal_data_is_accepted() -> None:
    with pytest.raises(TypeError):
        SlotwiseApplication(IN_MEMORY, personal_data=DateAsISO())


def test_data_that_fails_authentication_stops_the_reader_rather_than_reading_as_erased(
    app: SlotwiseApplication, keys: InMemoryKeyStore
) -> None:
    chart = open_chart(GRACE)
    app.save(chart)
    keys.keys[GRACE] = bytes(32)  # not the key it was encrypted with: corruption, not erasure
    with pytest.raises(MapperDeserialisationError) as failure:
        app.repository.get(chart.id)
    assert isinstance(failure.value.__cause__, PersonalDataIntegrityError)
    assert "Grace" not in str(failure.value)


def test_events_written_with_plain_values_load_wrapped_through_an_upcaster(
    app: SlotwiseApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = Chart(GRACE, "Grace Hopper", {"phone": "+4930123456"})  # type: ignore[arg-type]
    app.save(old)

    def upcast_v1_v2(state: dict[str, Any]) -> None:
        subject = state["patient_id"]
        state["name"] = personal(subject, state["name"])
        state["details"] = {k: personal(subject, v) for k, v in state["details"].items()}

    monkeypatch.setattr(Chart.Opened, "class_version", 2, raising=False)
    monkeypatch.setattr(Chart.Opened, "upcast_v1_v2", staticmethod(upcast_v1_v2), raising=False)

    loaded: Chart = app.repository.get(old.id)
    assert loaded.name == PersonalData(GRACE, "Grace Hopper")
    assert loaded.details == {"phone": PersonalData(GRACE, "+4930123456")}
