"""Fee policies (issue 14): the late-cancellation and no-show fees a provider charges, per
appointment type, in one currency. A `FeeSchedule` aggregate per provider holds them; the
policy in force when an appointment is scheduled is copied onto its `Scheduled` event, so a
later change of policy never reprices a booking already made."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import EventMeta
from domain.errors import ValidationError
from domain.money import check_amount, check_currency

APPOINTMENT_TYPES = frozenset({"in_person", "video", "phone"})


class FeeKind(StrEnum):
    LATE_CANCELLATION = "late_cancellation"
    NO_SHOW = "no_show"


@dataclass(frozen=True)
class FeePolicy:
    """What one appointment type costs when it is cancelled late or not attended; None: free."""

    currency: str
    late_cancellation: Decimal | None = None
    no_show: Decimal | None = None

    def amount(self, kind: FeeKind) -> Decimal | None:
        return self.late_cancellation if kind is FeeKind.LATE_CANCELLATION else self.no_show


def schedule_id(provider_id: UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"slotwise:fee-schedule:{provider_id}")


def check_policy(appointment_type: str, policy: FeePolicy) -> None:
    if appointment_type not in APPOINTMENT_TYPES:
        raise ValidationError(f"appointment_type must be one of {sorted(APPOINTMENT_TYPES)}")
    check_currency("currency", policy.currency)
    for kind in FeeKind:
        amount = policy.amount(kind)
        if amount is not None:
            check_amount(f"{kind.value}_fee", amount)


class FeeSchedule(Aggregate):
    class Opened(Aggregate.Created):
        provider_id: UUID
        meta: EventMeta

    @event(Opened)
    def __init__(self, provider_id: UUID, meta: EventMeta) -> None:
        self.provider_id = provider_id
        self.policies: dict[str, FeePolicy] = {}

    @classmethod
    def open(cls, provider_id: UUID, meta: EventMeta) -> FeeSchedule:
        return cls._create(
            cls.Opened, id=schedule_id(provider_id), provider_id=provider_id, meta=meta
        )

    def policy(self, appointment_type: str) -> FeePolicy | None:
        return self.policies.get(appointment_type)

    def set_policy(self, appointment_type: str, policy: FeePolicy, meta: EventMeta) -> None:
        check_policy(appointment_type, policy)
        if self.policies.get(appointment_type) != policy:
            self._set(
                appointment_type, policy.currency, policy.late_cancellation, policy.no_show, meta
            )

    class PolicySet(Aggregate.Event):
        appointment_type: str
        currency: str
        late_cancellation: Decimal | None
        no_show: Decimal | None
        meta: EventMeta

    @event(PolicySet)
    def _set(
        self,
        appointment_type: str,
        currency: str,
        late_cancellation: Decimal | None,
        no_show: Decimal | None,
        meta: EventMeta,
    ) -> None:
        self.policies[appointment_type] = FeePolicy(currency, late_cancellation, no_show)
