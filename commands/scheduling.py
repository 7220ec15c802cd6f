"""The Scheduling application: every capability over one event store and one log."""

from __future__ import annotations

from commands.appointments.handlers import AppointmentCommands
from commands.directory.handlers import DirectoryCommands
from commands.feedback.handlers import FeedbackCommands
from commands.follow_ups.handlers import FollowUpCommands
from commands.notifications.handlers import NotificationCommands
from commands.payments.handlers import PaymentCommands
from commands.reports.handlers import ReportCommands
from commands.series.handlers import SeriesCommands
from commands.slots.handlers import SlotCommands
from commands.telehealth.handlers import TelehealthCommands
from commands.waitlist.handlers import WaitlistCommands
from domain.log import APPLICATION_NAME


# WaitlistCommands builds on AppointmentCommands, so it comes first.
class Scheduling(
    WaitlistCommands,
    SeriesCommands,
    FollowUpCommands,
    FeedbackCommands,
    AppointmentCommands,
    SlotCommands,
    DirectoryCommands,
    TelehealthCommands,
    PaymentCommands,  # issue 14
    ReportCommands,
    NotificationCommands,
):
    name = APPLICATION_NAME
