"""The Scheduling application: every capability over one event store and one log."""

from __future__ import annotations

from commands.appointments.handlers import AppointmentCommands
from commands.directory.handlers import DirectoryCommands
from commands.slots.handlers import SlotCommands


class Scheduling(AppointmentCommands, SlotCommands, DirectoryCommands):
    name = "Slotwise"
