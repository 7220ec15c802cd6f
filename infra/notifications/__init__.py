"""Notifications wiring: settings, the recording channels of dev mode, the channel choice."""
