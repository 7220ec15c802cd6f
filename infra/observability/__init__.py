"""Logs: one structlog setup for every process, with personal data kept out (redaction.py)."""
