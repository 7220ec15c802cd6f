"""Notifications (issue 10): the reminder policy, the delivery records and the inbox."""
