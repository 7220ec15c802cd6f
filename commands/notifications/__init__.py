"""Notifications capability: contact preferences, consent and push devices (issue 10)."""
