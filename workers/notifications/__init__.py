"""Notifications (issue 10): the reminder policy, the scheduler and the send jobs."""
