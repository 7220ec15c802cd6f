"""An offer's answer time counts only while the patient is awake: their quiet hours come from
their contact preferences (issue 10), read in their zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from commands.application import SlotwiseApplication
from domain.contact_preferences import ContactPreferences, preferences_id
from domain.notification import QuietHours
from domain.patient import Patient
from domain.waitlist_rules import QuietHook, quiet_hook


def quiet_hours_of(app: SlotwiseApplication, patient: Patient, entry_zone: str) -> QuietHook | None:
    """The patient's quiet hours as the offer expiry's hook; None when they keep none. The
    zone is the patient's own (the notifications read it there too), else the entry's."""
    prefs = app.load_or_none(ContactPreferences, preferences_id(patient.id))
    if prefs is None or prefs.quiet is None:
        return None
    zone = patient.details.get("time_zone") or entry_zone
    return quiet_hook(QuietHours.parse(*prefs.quiet), ZoneInfo(str(zone)))
