"""Telehealth: video rooms of video visits (issue 13)."""
