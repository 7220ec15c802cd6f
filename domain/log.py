"""The one event log every aggregate is recorded in."""

# The event store's application name. Tracking rows are keyed by it, so the read side needs it
# too, without importing the write side.
APPLICATION_NAME = "Slotwise"
