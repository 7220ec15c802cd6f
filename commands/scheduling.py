"""The Scheduling application: every capability over one event store and one log."""

from __future__ import annotations

from commands.appointments import AppointmentCommands
from commands.directory import DirectoryCommands
from commands.slots import SlotCommands


class Scheduling(AppointmentCommands, SlotCommands, DirectoryCommands):
    name = "Slotwise"
