"""Ports the applications depend on; adapters live in infra/ (and fakes in tests/)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class KeyStore(Protocol):
    """Each data subject's data key, for crypto-shredding: their personal data is encrypted with
    it, and destroying it erases that data everywhere at once. Adapters: infra/crypto."""

    def create(self, subject: UUID) -> bytes:
        """The subject's data key, made now if they have none (idempotent). Raises
        `domain.personal.SubjectErasedError` once the subject's key was destroyed."""
        ...

    def get(self, subject: UUID) -> bytes | None:
        """The subject's data key; None when it was destroyed (or never made)."""
        ...

    def destroy(self, subject: UUID) -> None:
        """Destroy the subject's key for good (idempotent); no key is ever made for them again."""
        ...
