"""Appointment capability: hold, book, move through the visit, cancel, reschedule, no-show."""
