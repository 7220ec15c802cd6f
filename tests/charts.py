"""A tiny aggregate of the tests' own that carries personal data at the top level and nested in
mappings and lists, for the privacy tests (unit and integration) before real aggregates do."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.personal import PersonalData

# Every clear personal value `open_chart` records; none may show in stored bytes.
CLEAR_VALUES = ("Grace Hopper", "+4930123456", "cough", "pulse", "penicillin")


class Chart(Aggregate):
    class Opened(Aggregate.Created):
        patient_id: UUID
        name: PersonalData
        details: dict[str, Any]

    class Noted(Aggregate.Event):
        note: PersonalData

    @event(Opened)
    def __init__(self, patient_id: UUID, name: PersonalData, details: dict[str, Any]) -> None:
        self.patient_id = patient_id
        self.name = name
        self.details = details
        self.notes: list[PersonalData] = []

    @event(Noted)
    def note(self, note: PersonalData) -> None:
        self.notes.append(note)


def open_chart(subject: UUID) -> Chart:
    chart = Chart(
        subject,
        PersonalData(subject, "Grace Hopper"),
        {
            "phone": PersonalData(subject, "+4930123456"),
            "symptoms": [PersonalData(subject, ["cough", "fever"])],
            "vitals": PersonalData(subject, {"pulse": 72}),
            "time_zone": "Europe/Berlin",
        },
    )
    chart.note(PersonalData(subject, "allergic to penicillin"))
    return chart
