"""The in-memory application the command tests run on, and the people and slot most start with."""

from __future__ import annotations

from uuid import UUID

import pytest

from commands.scheduling import Scheduling
from tests.builders import T0, create_slot, in_memory_app, patient_registers, register_provider
from tests.fakes import FixedClock


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def app(clock: FixedClock) -> Scheduling:
    return in_memory_app(clock)


@pytest.fixture
def provider_id(app: Scheduling) -> UUID:
    return register_provider(app)


@pytest.fixture
def patient_id(app: Scheduling) -> UUID:
    return patient_registers(app)


@pytest.fixture
def slot_id(app: Scheduling, provider_id: UUID) -> UUID:
    return create_slot(app, provider_id)
