"""Erasure through the real processes: a patient registers, books, is seen and has notes
written; staff erase them over HTTP (another over the CLI); every role then reads back the
marker, or nothing, where their personal data was, and no one else's data changes."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import timedelta
from typing import Any

import httpx

from domain.actor import Role
from domain.personal import ERASED
from tests.conftest import ROOT, Stack, auth, utcnow
from tests.scenario import STAFF, ok, provider, slot

ZARA = {
    "name": "Zara Obliviana-Fenwick",
    "phone": "+4930777000111",
    "email": "zara.obliviana@example.org",
}
REASON = "recurring migraine with aura"
NOTES = "trial of propranolol agreed"
CANCEL = "double-booked with the dentist"


def register(client: httpx.Client, details: dict[str, str]) -> tuple[uuid.UUID, dict[str, str]]:
    patient_id = uuid.uuid4()
    headers = auth(Role.PATIENT, patient_id)
    body = {"details": {**details, "time_zone": "Europe/Berlin"}}
    ok(client.post("/v1/patients", json=body, headers=headers), 201)
    return patient_id, headers


def seen_with_notes(
    client: httpx.Client, provider_id: uuid.UUID, me: dict[str, str], minutes: int
) -> dict[str, Any]:
    slot_id = slot(client, provider_id, utcnow() + timedelta(minutes=minutes))
    body = {"slot_id": str(slot_id), "reason": REASON, "symptoms": ["flashing lights"]}
    appointment = ok(client.post("/v1/appointments", json=body, headers=me), 201)["id"]
    care = auth(Role.PROVIDER, provider_id)
    ok(client.post(f"/v1/appointments/{appointment}/check-in", headers=me), 200)
    ok(client.post(f"/v1/appointments/{appointment}/start", headers=care), 200)
    done = {"notes": NOTES, "private_notes": "watch for overuse", "vitals": {"bp": "128/82"}}
    return ok(client.post(f"/v1/appointments/{appointment}/complete", json=done, headers=care), 200)


def read_as_everyone(
    client: httpx.Client, appointment: str, position: int, readers: dict[str, dict[str, str]]
) -> dict[str, str]:
    """Each reader's view of the appointment, the listing and the notes search, as text."""
    seen = {}
    wait = {"min_position": position}
    for who, headers in readers.items():
        one = client.get(f"/v1/appointments/{appointment}", params=wait, headers=headers)
        listing = client.get("/v1/appointments", params=wait, headers=headers)
        notes = client.get("/v1/search/notes", params={"q": "propranolol", **wait}, headers=headers)
        for response in (one, listing, notes):
            assert response.status_code in (200, 403, 404), response.text
        seen[who] = "\n".join(r.text for r in (one, listing, notes))
    return seen


def test_a_patient_erased_over_http_reads_back_as_erased_for_every_role(
    client: httpx.Client,
) -> None:
    provider_id = provider(client)
    patient_id, me = register(client, ZARA)
    done = seen_with_notes(client, provider_id, me, minutes=5)
    appointment = done["id"]
    readers = {
        "patient": me,
        "provider": auth(Role.PROVIDER, provider_id),
        "staff": STAFF,
        "auditor": auth(Role.AUDITOR),
    }
    before = read_as_everyone(client, appointment, done["position"], readers)
    assert REASON in before["patient"]
    assert "<em>propranolol</em>" in before["provider"]  # the note is found

    for role in (Role.PATIENT, Role.PROVIDER):
        refused = client.post(
            f"/v1/patients/{patient_id}/erase",
            json={"reason": "patient_request"},
            headers=auth(role, patient_id if role is Role.PATIENT else provider_id),
        )
        assert refused.status_code == 404
    erased = ok(
        client.post(
            f"/v1/patients/{patient_id}/erase", json={"reason": "patient_request"}, headers=STAFF
        ),
        200,
    )

    after = read_as_everyone(client, appointment, erased["position"], readers)
    for who, text in after.items():
        for value in (*ZARA.values(), REASON, "propranolol", "flashing lights", "128/82"):
            assert value not in text, (who, value)
    assert ERASED in after["patient"]
    assert ERASED in after["staff"]
    assert '"status":"completed"' in after["staff"].replace(" ", "")  # the visit stays


def test_an_operator_erases_over_the_cli_unless_a_legal_hold_is_set(
    client: httpx.Client, stack: Stack
) -> None:
    provider_id = provider(client)
    patient_id, me = register(client, {**ZARA, "name": "Quentin Forgetsworth"})
    done = seen_with_notes(client, provider_id, me, minutes=10)
    hold = {"held": True, "reason": "litigation hold 2026-17"}
    ok(client.post(f"/v1/patients/{patient_id}/legal-hold", json=hold, headers=STAFF), 200)

    held = cli(stack, "patients", "erase", str(patient_id), "--reason", "patient_request")
    assert held.returncode != 0
    assert "legal hold" in held.stderr
    assert "Quentin" not in held.stderr + held.stdout

    cli(stack, "patients", "legal-hold", str(patient_id), "--release").check_returncode()
    erased = cli(stack, "patients", "erase", str(patient_id), "--reason", "patient_request")
    assert erased.returncode == 0, erased.stderr

    read = client.get(
        f"/v1/appointments/{done['id']}",
        params={"min_position": done["position"] + 3},  # hold, release, erasure
        headers=STAFF,
    )
    assert REASON not in ok(read, 200).get("reason", "")
    assert ok(read, 200)["reason"] == ERASED


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        env=stack.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
