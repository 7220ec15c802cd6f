"""What the Parquet export may hold: ids, codes, times and amounts, nothing else (issue 14).

Event payload columns come from each event class's type hints, default-deny: UUIDs, instants,
days, decimals, integers and booleans are exported; text only for the named code fields;
lists, mappings, personal data and free text never. Fact tables list their columns here."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

# Text fields that hold codes, not free text (reason is a code only on Account events).
CODES = frozenset(
    {
        "appointment_type",
        "previous_status",
        "restored_status",
        "method",
        "currency",
        "kind",
        "fee_currency",
        "policy_currency",
    }
)
CODES_BY_AGGREGATE = {"Account": frozenset({"reason"})}
BASE = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic", "meta"})

# (kind, SQL of a value extracted from the event's JSON `state`)
JSON_VALUE = "(j -> '{name}' ->> '_data_')"
PLAIN_VALUE = "(j ->> '{name}')"
KINDS: dict[type, tuple[str, str]] = {
    UUID: (JSON_VALUE, "::uuid::text"),
    datetime: (JSON_VALUE, "::timestamptz"),
    date: (JSON_VALUE, "::date"),
    Decimal: (JSON_VALUE, "::numeric::text"),
    bool: (PLAIN_VALUE, "::boolean"),
    int: (PLAIN_VALUE, "::bigint"),
    str: (PLAIN_VALUE, "::text"),
}
# A Decimal column is written as decimal128 with these digits: every amount fits
# (domain/limits.py: at most 99999999.99).
AMOUNT_PRECISION, AMOUNT_SCALE = 18, 2


def _single(hint: Any) -> type | None:
    """The one non-None type of `hint` (X or X | None), else None."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        return _single(members[0]) if len(members) == 1 else None
    return hint if isinstance(hint, type) else None


def event_columns(event_class: type[Any], aggregate: str) -> list[tuple[str, str, bool]]:
    """(column, SQL expression, is_amount) for each exportable payload field."""
    codes = CODES | CODES_BY_AGGREGATE.get(aggregate, frozenset())
    columns = []
    for name, hint in typing.get_type_hints(event_class).items():
        kind = _single(hint)
        if name in BASE or name.startswith("_") or kind is None or kind not in KINDS:
            continue
        if kind is str and name not in codes:
            continue
        template, cast = KINDS[kind]
        columns.append((name, template.format(name=name) + cast, kind is Decimal))
    return columns


def event_classes(aggregates: Iterable[type[Aggregate]]) -> dict[str, type[Any]]:
    """Stored topic → event class, for every event class nested in the aggregates."""
    found: dict[str, type[Any]] = {}
    for aggregate in aggregates:
        for value in vars(aggregate).values():
            if isinstance(value, type) and issubclass(value, Aggregate.Event):
                topic = f"{aggregate.__module__}:{aggregate.__qualname__}.{value.__name__}"
                found[topic] = value
    return found


# Fact tables: the column partitioned on, then each exported column and its kind.
FACTS: dict[str, tuple[str, dict[str, str]]] = {
    "an_appointments": (
        "start_at",
        {
            **dict.fromkeys(("id", "provider_id", "patient_id", "slot_id"), "id"),
            **dict.fromkeys(
                ("appointment_type", "status", "fee_currency", "policy_currency"), "code"
            ),
            **dict.fromkeys(
                (
                    "start_at",
                    "end_at",
                    "scheduled_at",
                    "booked_at",
                    "confirmed_at",
                    "checked_in_at",
                    "started_at",
                    "completed_at",
                    "cancelled_at",
                    "no_show_at",
                    "hold_expired_at",
                    "rescheduled_at",
                ),
                "time",
            ),
            **dict.fromkeys(("wait_seconds", "duration_seconds", "lead_time_seconds"), "int"),
            **dict.fromkeys(("overbooked", "late_cancellation", "follow_up_requested"), "bool"),
            **dict.fromkeys(("fee_amount", "late_cancellation_fee", "no_show_fee"), "amount"),
        },
    ),
    "an_slots": (
        "start_at",
        {
            "id": "id",
            "provider_id": "id",
            "start_at": "time",
            "end_at": "time",
            "capacity": "int",
            "status": "code",
        },
    ),
    "an_providers": (
        "updated_at",
        {
            "id": "id",
            "time_zone": "code",
            "specialty": "code",
            "fee_amount": "amount",
            "fee_currency": "code",
            "updated_at": "time",
        },
    ),
    "an_accounts": (
        "updated_at",
        {
            "id": "id",
            "appointment_id": "id",
            "patient_id": "id",
            "provider_id": "id",
            "appointment_type": "code",
            "updated_at": "time",
        },
    ),
    "an_payments": (
        "paid_at",
        {
            "id": "id",
            "account_id": "id",
            "amount": "amount",
            "currency": "code",
            "method": "code",
            "paid_at": "time",
        },
    ),
    "an_refunds": (
        "refunded_at",
        {
            "id": "id",
            "account_id": "id",
            "payment_id": "id",
            "amount": "amount",
            "currency": "code",
            "method": "code",
            "full_refund": "bool",
            "reason": "code",
            "refunded_at": "time",
        },
    ),
    "an_fees": (
        "charged_at",
        {
            "id": "id",
            "account_id": "id",
            "kind": "code",
            "amount": "amount",
            "currency": "code",
            "charged_at": "time",
            "waived_at": "time",
            "waiver_reason": "code",
        },
    ),
    "an_slot_status_history": (
        "at",
        {"slot_id": "id", "version": "int", "at": "time", "status": "code"},
    ),
    "an_seat_history": (
        "taken_at",
        {
            "slot_id": "id",
            "appointment_id": "id",
            "taken_at": "time",
            "booked_at": "time",
            "released_at": "time",
        },
    ),
}
FACT_CASTS = {
    "id": "::text",
    "code": "::text",
    "time": "",
    "int": "::bigint",
    "bool": "",
    "amount": "::text",
}
