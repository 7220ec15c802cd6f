"""The Scheduling application: every capability over one event store and one log."""

from __future__ import annotations

from commands.appointments.handlers import AppointmentCommands
from commands.directory.handlers import DirectoryCommands
from commands.notifications.handlers import NotificationCommands
from commands.slots.handlers import SlotCommands
from commands.telehealth.handlers import TelehealthCommands
from domain.log import APPLICATION_NAME


class Scheduling(
    AppointmentCommands,
    SlotCommands,
    DirectoryCommands,
    TelehealthCommands,
    NotificationCommands,
):
    name = APPLICATION_NAME
