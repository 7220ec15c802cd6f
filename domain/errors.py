"""Domain errors. They know nothing of HTTP: `api/problems.py` maps them to responses."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class ValidationError(DomainError):
    """The request is well-formed but breaks a rule about its own values."""


class NotFoundError(DomainError):
    """The thing named does not exist (or is not visible to the caller)."""


class ForbiddenError(DomainError):
    """The caller's role may not perform this action."""


class ConflictError(DomainError):
    """The action conflicts with the current state of an aggregate."""


class InvalidTransitionError(ConflictError):
    """The appointment's status does not allow this action."""


class SlotUnavailableError(ConflictError):
    """The slot is blocked, cancelled or does not offer this appointment type."""


class SlotFullError(ConflictError):
    """No seat is left on the slot (capacity plus any allowance the caller may use)."""


class SlotOverlapError(ConflictError):
    """The provider already has a slot overlapping this time."""


class AppointmentOverlapError(ConflictError):
    """The patient already has an active appointment overlapping this time."""


class HoldExpiredError(ConflictError):
    """The hold ran out before it was converted into a booking."""


class TooEarlyError(ConflictError):
    """The action is not allowed yet (check-in window, no-show grace)."""


class TooLateError(ConflictError):
    """The action is no longer allowed (check-in window closed)."""


class ConcurrencyError(ConflictError):
    """Another writer changed the same aggregate; retries were exhausted."""


class StaleVersionError(DomainError):
    """The caller's expected version (If-Match) is not the current one."""
