"""A typed client generated from the served OpenAPI document (openapi-python-client) builds
without warnings and drives the real API: a booking, and a refused booking parsed as a problem."""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from domain.actor import Role
from tests.conftest import Stack, token
from tests.scenario import patient, provider, slot

PACKAGE = "slotwise_client"
# No post-hooks: the generator would run ruff over the generated code, which says nothing here.
CONFIG = (
    f"project_name_override: slotwise-client\npackage_name_override: {PACKAGE}\npost_hooks: []\n"
)


@pytest.fixture(scope="module")
def generated(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    root = tmp_path_factory.mktemp("client")
    document = root / "openapi.json"
    document.write_bytes(httpx.get(f"{stack.base_url}/schema/openapi.json", timeout=10).content)
    (root / "config.yaml").write_text(CONFIG)
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "openapi-python-client"),
            "generate",
            f"--path={document}",
            f"--config={root / 'config.yaml'}",
            "--meta=none",
            f"--output-path={root / PACKAGE}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    said = run.stdout + run.stderr
    assert run.returncode == 0, said
    assert "warning" not in said.lower(), said
    assert "error" not in said.lower(), said
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def part(package: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


def test_a_generated_client_books_and_reads_a_refusal_as_a_problem(
    generated: ModuleType, client: httpx.Client, stack: Stack
) -> None:
    book = part(generated, "api.appointments.book_appointment")
    models = part(generated, "models")
    provider_id = provider(client)
    slot_id = slot(client, provider_id, capacity=1)
    first, _ = patient(client)
    second, _ = patient(client)

    def booking_by(patient_id: uuid.UUID) -> Any:
        caller = generated.AuthenticatedClient(
            base_url=stack.base_url, token=token(Role.PATIENT, patient_id)
        )
        with caller:
            return book.sync_detailed(
                client=caller,
                body=models.BookBookAppointmentRequestBody(slot_id=slot_id),
                idempotency_key=f"book-{patient_id}",
            )

    booked = booking_by(first)
    assert booked.status_code == 201, booked.content
    assert isinstance(booked.parsed, models.CommandResult)
    assert uuid.UUID(str(booked.parsed.id))
    assert booked.parsed.position >= 1

    refused = booking_by(second)
    assert refused.status_code == 409, refused.content
    assert isinstance(refused.parsed, models.Problem)
    assert refused.parsed.type_.endswith("/slot-full")
    assert refused.parsed.status == 409
    assert refused.parsed.title
