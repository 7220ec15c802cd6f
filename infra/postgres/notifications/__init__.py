"""Notifications on PostgreSQL: the plan view, the delivery records, the inbox, the outbox."""
