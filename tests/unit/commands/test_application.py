"""The application every capability shares: its name, and the use-case pipeline."""

from __future__ import annotations

import inspect

import pytest

from commands.application import UseCase
from commands.appointments.handlers import AppointmentCommands
from commands.directory.handlers import DirectoryCommands
from commands.scheduling import Scheduling
from commands.slots.handlers import SlotCommands
from domain.log import APPLICATION_NAME

pytestmark = pytest.mark.unit


def test_the_log_is_named_by_the_constant_the_read_side_imports(app: Scheduling) -> None:
    # Tracking rows are keyed by this name; the read side must not import the write side for it.
    assert Scheduling.name == app.name == APPLICATION_NAME == "Slotwise"


@pytest.mark.parametrize("capability", [AppointmentCommands, SlotCommands, DirectoryCommands])
def test_every_public_method_of_a_capability_is_a_use_case(capability: type) -> None:
    # So no command can skip the pipeline (idempotency, retry, one atomic save).
    methods = {
        name: value
        for name, value in vars(capability).items()
        if not name.startswith("_") and (inspect.isfunction(value) or isinstance(value, UseCase))
    }
    assert methods
    assert {name for name, value in methods.items() if not isinstance(value, UseCase)} == set()
