"""The series routes on in-memory persistence: booking in both modes, the conflict problem
listing every occurrence, a bad rule's part named, someone else's series a 404, and the ICS
export parsed back with icalendar and expanded again with dateutil."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from icalendar import Calendar
from litestar.testing import TestClient

from api.app import create_app
from api.deps import Services
from commands.appointments.messages import BookAppointment
from commands.scheduling import Scheduling
from domain.actor import Role
from tests.builders import T0, as_patient, create_slot, in_memory_app, patient_registers
from tests.builders import register_provider as provider_in
from tests.fakes import FixedClock, FixedPositions, RecordingSearch, StillAnalytics, StillQueries
from tests.unit.test_api_edges import assert_problem, bearer, settings

NEW_YORK = ZoneInfo("America/New_York")
FIRST = datetime(2026, 11, 24, 9, tzinfo=NEW_YORK)  # a Tuesday
WEEKS = 8


class Clinic:
    def __init__(self) -> None:
        self.clock = FixedClock(T0)
        self.app: Scheduling = in_memory_app(self.clock)
        self.provider_id = provider_in(self.app, zone="America/New_York")
        self.patient_id = patient_registers(self.app)
        self.slots = [
            create_slot(self.app, self.provider_id, (FIRST + timedelta(weeks=w)).astimezone(UTC))
            for w in range(WEEKS)
        ]

    def body(self, mode: str, **more: Any) -> dict[str, Any]:
        return {
            "provider_id": str(self.provider_id),
            "first_start": FIRST.isoformat(),
            "rrule": f"FREQ=WEEKLY;COUNT={WEEKS};BYDAY=TU",
            "mode": mode,
            **more,
        }

    def me(self) -> dict[str, str]:
        return bearer(Role.PATIENT, self.patient_id)


@pytest.fixture
def clinic() -> Clinic:
    return Clinic()


@pytest.fixture
def client(clinic: Clinic) -> Iterator[TestClient[Any]]:
    services = Services(
        scheduling=clinic.app,
        queries=StillQueries(position=5),
        analytics=StillAnalytics(position=3),
        search=RecordingSearch(),
        positions=FixedPositions(head=10, scheduling=5, analytics=3, search=4),
        clock=clinic.clock,
        read_wait_seconds=0.01,
        max_page_size=200,
    )
    with TestClient(create_app(settings(), services)) as c:
        yield c


def take(clinic: Clinic, week: int) -> None:
    other = patient_registers(clinic.app, "Someone Else")
    clinic.app.book(BookAppointment(slot_id=clinic.slots[week]), as_patient(other))


def test_all_or_nothing_answers_409_listing_the_conflict_and_books_nothing(
    client: TestClient[Any], clinic: Clinic
) -> None:
    take(clinic, 3)
    answer = client.post("/v1/series", json=clinic.body("all_or_nothing"), headers=clinic.me())
    problem = assert_problem(answer, 409, "series-conflict")
    (conflict,) = problem["errors"]
    assert conflict["reason"] == "slot-full"
    assert conflict["recurrence_id"] == (FIRST + timedelta(weeks=3)).astimezone(UTC).isoformat()
    again = client.post("/v1/series", json=clinic.body("partial"), headers=clinic.me())
    assert again.status_code == 201, again.text
    series = again.json()["series"]
    assert len(series["occurrences"]) == WEEKS - 1
    assert [r["reason"] for r in series["refused"]] == ["slot-full"]


def test_a_bad_rule_names_its_part(client: TestClient[Any], clinic: Clinic) -> None:
    body = clinic.body("partial", rrule="FREQ=WEEKLY;COUNT=3;BYDAY=XY")
    problem = assert_problem(
        client.post("/v1/series", json=body, headers=clinic.me()), 422, "invalid-recurrence"
    )
    assert problem["errors"][0]["part"] == "BYDAY"
    assert "BYDAY" in problem["detail"]


def test_someone_elses_series_is_a_404_for_every_role_but_staff(
    client: TestClient[Any], clinic: Clinic
) -> None:
    booked = client.post("/v1/series", json=clinic.body("partial"), headers=clinic.me())
    series_id = booked.json()["id"]
    assert client.get(f"/v1/series/{series_id}", headers=clinic.me()).status_code == 200
    for role in (Role.PATIENT, Role.PROVIDER, Role.ANALYST):
        assert_problem(
            client.get(f"/v1/series/{series_id}", headers=bearer(role)), 404, "not-found"
        )
    body = {"scope": "all", "reason": "moving away"}
    refused = client.post(f"/v1/series/{series_id}/cancel", json=body, headers=bearer(Role.PATIENT))
    assert_problem(refused, 404, "not-found")
    ics = f"/v1/patients/{uuid4()}/series/{series_id}/calendar.ics"
    assert_problem(client.get(ics, headers=bearer(Role.STAFF)), 404, "not-found")
    assert client.get(f"/v1/series/{series_id}", headers=bearer(Role.STAFF)).status_code == 200


def occurrences_of(document: bytes) -> tuple[list[datetime], list[datetime]]:
    """The series' occurrences as a calendar application computes them, and the overrides."""
    parsed = Calendar.from_ical(document)
    events: list[Any] = list(parsed.walk("VEVENT"))
    master = next(e for e in events if "RECURRENCE-ID" not in e)
    start = master.decoded("DTSTART")
    rule: Any = rrulestr(master["RRULE"].to_ical().decode(), dtstart=start, forceset=True)
    exdates: Any = master.get("EXDATE")
    for group in exdates if isinstance(exdates, list) else [exdates] if exdates else []:
        for when in group.dts:
            rule.exdate(when.dt)
    overrides = [e.decoded("RECURRENCE-ID") for e in events if "RECURRENCE-ID" in e]
    return [o.astimezone(UTC) for o in rule], [o.astimezone(UTC) for o in overrides]


def test_the_ics_export_parses_back_to_the_booked_occurrences(
    client: TestClient[Any], clinic: Clinic
) -> None:
    take(clinic, 2)
    booked = client.post("/v1/series", json=clinic.body("partial"), headers=clinic.me())
    series = booked.json()["series"]
    series_id = series["id"]
    third = series["occurrences"][3]["recurrence_id"]
    body = {"scope": "one", "recurrence_id": third, "reason": "away"}
    cancelled = client.post(f"/v1/series/{series_id}/cancel", json=body, headers=clinic.me())
    assert cancelled.status_code == 200, cancelled.text
    path = f"/v1/patients/{clinic.patient_id}/series/{series_id}/calendar.ics"
    answer = client.get(path, headers=clinic.me())
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/calendar")
    starts, overrides = occurrences_of(answer.content)
    live = [
        datetime.fromisoformat(o["recurrence_id"])
        for o in series["occurrences"]
        if o["recurrence_id"] != third
    ]
    assert starts == live
    assert overrides == []
    assert all(s.astimezone(NEW_YORK).hour == 9 for s in starts)  # across the DST change
    assert b"TZID:America/New_York" in answer.content
    assert str(clinic.patient_id).encode() not in answer.content


def test_a_split_series_exports_its_occurrences_as_rdates(
    client: TestClient[Any], clinic: Clinic
) -> None:
    booked = client.post("/v1/series", json=clinic.body("all_or_nothing"), headers=clinic.me())
    series = booked.json()["series"]
    at = series["occurrences"][5]["recurrence_id"]
    body = {"scope": "following", "recurrence_id": at, "reason": "done"}
    split = client.post(f"/v1/series/{series['id']}/cancel", json=body, headers=clinic.me())
    assert split.status_code == 200, split.text
    path = f"/v1/patients/{clinic.patient_id}/series/{series['id']}/calendar.ics"
    parsed = Calendar.from_ical(client.get(path, headers=clinic.me()).content)
    master: Any
    (master,) = parsed.walk("VEVENT")
    assert "RRULE" not in master
    groups: Any = master["RDATE"] if isinstance(master["RDATE"], list) else [master["RDATE"]]
    rdates = [p.dt for group in groups for p in group.dts]
    assert len(rdates) == 4  # five kept, the first is DTSTART
    child = UUID(split.json()["ids"]["new_series_id"])
    view = client.get(f"/v1/series/{child}", headers=clinic.me()).json()
    assert [o["status"] for o in view["occurrences"]] == ["cancelled"] * 3
    assert view["split_from"] == series["id"]
