"""What a command runs with besides its own fields: who, and in which request chain."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID, uuid4

from domain.actor import Actor, EventMeta


@dataclass(frozen=True)
class CommandContext:
    actor: Actor
    correlation_id: UUID = field(default_factory=uuid4)
    causation_id: UUID | None = None
    idempotency_key: str | None = None
    # From If-Match: act only if the target aggregate is still at this version.
    expected_version: int | None = None

    def meta(self, command: str) -> EventMeta:
        return EventMeta(
            actor_id=self.actor.subject,
            actor_role=self.actor.role.value,
            correlation_id=self.correlation_id,
            # A request with no parent is its own cause.
            causation_id=self.causation_id or self.correlation_id,
            command=command,
        )
