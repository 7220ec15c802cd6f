"""The Scheduling application: every capability over one event store and one log."""

from __future__ import annotations

from commands.appointments.handlers import AppointmentCommands
from commands.directory.handlers import DirectoryCommands
from commands.slots.handlers import SlotCommands
from domain.log import APPLICATION_NAME


class Scheduling(AppointmentCommands, SlotCommands, DirectoryCommands):
    name = APPLICATION_NAME
