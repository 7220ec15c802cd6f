"""Message templates per kind and locale (en, es), rendered in the patient's zone and language
with Babel. Minimum PHI: clinic, provider display name, date, time and a link; never a reason,
symptoms or notes (the context has no field for them).

A new kind (a waitlist offer, say) is one entry in `TEMPLATES`, per locale: a subject line and a
body, each a `string.Template` over the context's fields."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from string import Template
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

FALLBACK_LOCALE = "en"


@dataclass(frozen=True)
class MessageContext:
    clinic: str
    provider: str
    start: datetime | None
    link: str
    answer_by: datetime | None = None  # a waitlist offer's expiry: reply before it


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    short: str  # SMS, WhatsApp and push bodies


@dataclass(frozen=True)
class Entry:
    subject: str
    body: str


TEMPLATES: dict[str, dict[str, Entry]] = {
    "confirmation": {
        "en": Entry(
            "$clinic: appointment confirmed",
            "Your appointment with $provider is booked for $date at $time. Details: $link",
        ),
        "es": Entry(
            "$clinic: cita confirmada",
            "Su cita con $provider está reservada para el $date a las $time. Detalles: $link",
        ),
    },
    "reminder": {
        "en": Entry(
            "$clinic: appointment reminder",
            "Reminder: your appointment with $provider is on $date at $time. Details: $link",
        ),
        "es": Entry(
            "$clinic: recordatorio de cita",
            "Recordatorio: su cita con $provider es el $date a las $time. Detalles: $link",
        ),
    },
    "reschedule": {
        "en": Entry(
            "$clinic: appointment moved",
            "Your appointment with $provider was moved to $date at $time. Details: $link",
        ),
        "es": Entry(
            "$clinic: cita cambiada",
            "Su cita con $provider se cambió al $date a las $time. Detalles: $link",
        ),
    },
    "cancellation": {
        "en": Entry(
            "$clinic: appointment cancelled",
            "Your appointment with $provider on $date at $time was cancelled. Rebook: $link",
        ),
        "es": Entry(
            "$clinic: cita cancelada",
            "Su cita con $provider del $date a las $time fue cancelada. Reservar: $link",
        ),
    },
    "slot_blocked": {
        "en": Entry(
            "$clinic: please choose a new time",
            "$provider is not available on $date at $time. Please choose a new time: $link",
        ),
        "es": Entry(
            "$clinic: elija otra hora",
            "$provider no está disponible el $date a las $time. Elija otra hora: $link",
        ),
    },
    "check_in_open": {
        "en": Entry(
            "$clinic: check-in is open",
            "Check-in for your $time appointment with $provider is open: $link",
        ),
        "es": Entry(
            "$clinic: registro abierto",
            "Ya puede registrarse para su cita de las $time con $provider: $link",
        ),
    },
    "bulk_notice": {
        "en": Entry(
            "$clinic: about your appointment on $date",
            "A message from $clinic about your appointment with $provider on $date: $link",
        ),
        "es": Entry(
            "$clinic: sobre su cita del $date",
            "Un mensaje de $clinic sobre su cita con $provider del $date: $link",
        ),
    },
    # Block: waitlist offers (issue 11). The answer-by time is the offer's expiry.
    "waitlist_offer": {
        "en": Entry(
            "$clinic: a time with $provider is free",
            "A time with $provider is free on $date at $time and held for you. "
            "Reply by $answer_date at $answer_time: $link",
        ),
        "es": Entry(
            "$clinic: hay una hora libre con $provider",
            "Hay una hora libre con $provider el $date a las $time, reservada para usted. "
            "Responda antes del $answer_date a las $answer_time: $link",
        ),
    },
}


def template_kind(kind: str) -> str:
    """Every reminder offset shares the reminder template."""
    return "reminder" if kind.startswith("reminder_") else kind


def render(kind: str, locale: str, zone: ZoneInfo, context: MessageContext) -> Rendered:
    entries = TEMPLATES[template_kind(kind)]
    entry = entries.get(locale) or entries[FALLBACK_LOCALE]
    language = locale if locale in entries else FALLBACK_LOCALE
    date, time = _local(context.start, zone, language)
    answer_date, answer_time = _local(context.answer_by, zone, language)
    values = {
        "clinic": context.clinic,
        "provider": context.provider,
        "date": date,
        "time": time,
        "answer_date": answer_date,
        "answer_time": answer_time,
        "link": context.link,
    }
    subject = Template(entry.subject).safe_substitute(values)
    text = Template(entry.body).safe_substitute(values)
    escaped = {k: html.escape(v) for k, v in values.items()}
    body_html = Template(entry.body).safe_substitute(escaped)
    page = f"<html><body><p>{body_html}</p></body></html>"
    return Rendered(subject, text, page, text)


def _local(at: datetime | None, zone: ZoneInfo, language: str) -> tuple[str, str]:
    if at is None:
        return "", ""
    local = at.astimezone(zone)
    return (
        format_date(local, format="long", locale=language),
        format_time(local, format="short", locale=language),
    )
